"""multihost - lab networks of three hosts and more on one Linux box, built with Mininet.

`multihost up TOPO` starts a small process of its own, the keeper, which builds the network
with Mininet's Python API and holds it until `multihost down`: hosts and routers are network
namespaces, each with a Mininet shell; switches are Linux bridges, each in a namespace of its
own; cables are veth pairs whose two ends both sit in lab namespaces. Nothing of the lab lives
in the machine's own namespace, so two labs (a student's and a check's) never share a name.
The keeper names every namespace PREFIX + node (`ip netns attach`), so that later commands
reach it as they reach twohosts' hosts: `multihost run client CMD` is `ip netns exec
slm-client CMD`, and `ip netns list`, `ip -n slm-router ...` and `capture --netns` work too.

Runs with the system's python3 (/usr/bin/python3, through the `multihost` script): Debian's
`mininet` package installs its module there. `multihost --help` lists the topologies.
"""

import importlib.util
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple

PROG = "multihost"
DEFAULT_PREFIX = "slm-"
MARK = "socklab multihost"  # how every lab namespace's loopback alias begins
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

# A cable between two nodes: the interface and address (CIDR) at each end, None at a
# switch's end; mtu: both ends' MTU, None for Linux's 1500.
Cable = namedtuple("Cable", "a a_if a_addr b b_if b_addr mtu", defaults=(None,))


class Plan:
    """One topology: its nodes, cables and static routes, and what it says about itself."""

    def __init__(self, name, summary, hosts, routers, switches, cables, routes, notes):
        self.name = name
        self.summary = summary
        self.hosts = hosts
        self.routers = routers
        self.switches = switches
        self.cables = cables
        self.routes = routes
        self.notes = notes

    def nodes(self):
        return self.hosts + self.routers + self.switches

    def kind(self, node):
        if node in self.routers:
            return "router"
        return "switch" if node in self.switches else "host"

    def addresses(self, node):
        """The node's interfaces and their addresses, in cable order: [(ifname, cidr)]."""
        found = []
        for c in self.cables:
            if c.a == node and c.a_addr:
                found.append((c.a_if, c.a_addr))
            if c.b == node and c.b_addr:
                found.append((c.b_if, c.b_addr))
        return found

    def neighbour(self, node, ifname):
        """The node at the other end of node's interface ifname."""
        for c in self.cables:
            if (c.a, c.a_if) == (node, ifname):
                return c.b
            if (c.b, c.b_if) == (node, ifname):
                return c.a
        return None

    def link_name(self, cable):
        return f"{cable.a}-{cable.b}"

    def find_link(self, name):
        """The cable called A-B (or B-A), or None."""
        for c in self.cables:
            if name in (f"{c.a}-{c.b}", f"{c.b}-{c.a}"):
                return c
        return None


THREETIER = Plan(
    "threetier",
    "client, relay and server on three subnets, one router between them",
    hosts=("client", "relay", "server"),
    routers=("router",),
    switches=(),
    cables=(
        Cable("client", "eth0", "10.0.1.2/24", "router", "eth0", "10.0.1.1/24"),
        Cable("relay", "eth0", "10.0.2.2/24", "router", "eth1", "10.0.2.1/24"),
        Cable("server", "eth0", "10.0.3.2/24", "router", "eth2", "10.0.3.1/24"),
    ),
    routes={
        "client": ("default via 10.0.1.1",),
        "relay": ("default via 10.0.2.1",),
        "server": ("default via 10.0.3.1",),
    },
    notes=(
        "The third number of an address is its tier. The client reaches the server",
        "straight (two tiers), or through `tcp-echo relay -b 10.0.2.2 --to 10.0.3.2:7008`",
        "on the relay (three tiers): the server sees 10.0.1.2, or 10.0.2.2.",
    ),
)

MTU = Plan(
    "mtu",
    "client -- r1 -- r2 -- server: MTU 9000 at the ends, 1500 between r1 and r2",
    hosts=("client", "server"),
    routers=("r1", "r2"),
    switches=(),
    cables=(
        Cable("client", "eth0", "10.0.1.2/24", "r1", "eth0", "10.0.1.1/24", 9000),
        Cable("r1", "eth1", "10.0.2.1/24", "r2", "eth0", "10.0.2.2/24", 1500),
        Cable("r2", "eth1", "10.0.3.1/24", "server", "eth0", "10.0.3.2/24", 9000),
    ),
    routes={
        "client": ("default via 10.0.1.1",),
        "r1": ("10.0.3.0/24 via 10.0.2.2",),
        "r2": ("10.0.1.0/24 via 10.0.2.1",),
        "server": ("default via 10.0.3.1",),
    },
    notes=(
        "Two routers, so that both ends send 9000-byte packets and the narrow link is in",
        "the middle: TCP then sends segments r1 cannot forward, and r1 answers with ICMP",
        '"fragmentation needed" (path MTU discovery). With one router the server\'s own 1500',
        "link would hold TCP's MSS to 1460 from the handshake on: no ICMP, nothing to see.",
        "A 65507-byte UDP datagram leaves the client as 8 fragments, which r1 cuts again",
        "into 51 for the 1500 link. Every host counts the fragments it receives before its",
        "kernel reassembles them (nft prerouting), routers per interface; routers also",
        'count the "fragmentation needed" they send. The hosts send one TCP segment per',
        "packet (gso_max_segs 1), so a capture shows the segments a cable would carry.",
    ),
)

NAT = Plan(
    "nat",
    "client1 and client2 behind a masquerading router; server and rendezvous outside",
    hosts=("client1", "client2", "server", "rendezvous"),
    routers=("router",),
    switches=("lan", "internet"),
    cables=(
        Cable("client1", "eth0", "192.168.1.2/24", "lan", "lan-eth1", None),
        Cable("client2", "eth0", "192.168.1.3/24", "lan", "lan-eth2", None),
        Cable("router", "eth0", "192.168.1.1/24", "lan", "lan-eth3", None),
        Cable("router", "eth1", "203.0.113.1/24", "internet", "internet-eth1", None),
        Cable("server", "eth0", "203.0.113.2/24", "internet", "internet-eth2", None),
        Cable("rendezvous", "eth0", "203.0.113.3/24", "internet", "internet-eth3", None),
    ),
    routes={
        "client1": ("default via 192.168.1.1",),
        "client2": ("default via 192.168.1.1",),
    },
    notes=(
        "The router masquerades what leaves eth1 (the public side sees 203.0.113.1 for",
        "both clients) and drops whatever the public side starts, towards the LAN or the",
        "router itself, as a home router does (one counter, in prerouting); server and",
        "rendezvous have no route to 192.168.1.0/24 at all.",
        "`multihost run router conntrack -L` shows the mappings.",
    ),
)

PLANS = {p.name: p for p in (THREETIER, MTU, NAT)}
ALL_NODES = sorted({n for p in PLANS.values() for n in p.nodes()})


class Usage(Exception):
    """Bad input: one line on stderr, exit 2."""


class Failure(Exception):
    """Something could not be done: one line on stderr, exit 1."""


class Stopped(Exception):
    """The keeper was asked to stop."""


# --- small helpers ----------------------------------------------------------------------


def prefix():
    p = os.environ.get("SOCKLAB_NS_PREFIX") or DEFAULT_PREFIX
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", p):
        raise Usage(f"SOCKLAB_NS_PREFIX '{p}': letters, digits, '.', '_' and '-' only (64 at most)")
    return p


def me():
    """Who asked: the user behind sudo, else whoever runs this."""
    return os.environ.get("SUDO_UID") or str(os.getuid())


def user_name(uid):
    try:
        return pwd.getpwuid(int(uid)).pw_name
    except (KeyError, ValueError):
        return str(uid)


def need_root():
    if os.geteuid() != 0:
        again = " ".join([PROG] + sys.argv[1:])
        raise Failure(f"needs root to make and enter network namespaces: run it in a lab shell of your own (lessons/lab/labshell), or as root (sudo {again})")


def sh(*argv, check=True, stdin=None):
    """Run a command and return its output; when it fails, raise Failure with its message."""
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and r.returncode != 0:
        said = (r.stderr.strip() or r.stdout.strip()).splitlines()
        raise Failure(f"{' '.join(argv)}: {said[0] if said else f'exit status {r.returncode}'}")
    return r.stdout


def ns_exists(ns):
    return os.path.exists(f"/run/netns/{ns}")


def mark_of(ns):
    """The lab's mark on a namespace, read from its loopback's alias: {topo, owner, pid};
    {} for a namespace without one (not multihost's); None when there is no namespace."""
    if not ns_exists(ns):
        return None
    out = sh("ip", "-n", ns, "-o", "link", "show", "lo", check=False)
    m = re.search(MARK + r" (\S+) owner (\d+) pid (\d+)", out)
    return {"topo": m[1], "owner": m[2], "pid": int(m[3])} if m else {}


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().rstrip(b"\0").split(b"\0")
    except OSError:
        return []


def is_shell(pid):
    """A node's own Mininet shell (bash ... -is mininet:NODE), which the keeper stops."""
    return any(a.startswith(b"mininet:") for a in cmdline(pid)[-1:])


def find_keepers(pfx):
    """The keeper processes of a prefix, found by their command line."""
    found = []
    for d in os.listdir("/proc"):
        argv = cmdline(d) if d.isdigit() else []
        ours = argv[2:4] == [b"keep", pfx.encode()]
        if ours and argv[1].endswith(b"/multihost.py"):
            found.append(int(d))
    return found


class Lab:
    """What exists under one prefix: the namespaces with multihost's mark, and those that
    have one of its names but not its mark."""

    def __init__(self, pfx):
        self.prefix = pfx
        self.ours = []  # [(node, namespace)]
        self.foreign = []
        self.mark = {}
        for node in ALL_NODES:
            mark = mark_of(pfx + node)
            if mark:
                self.ours.append((node, pfx + node))
                self.mark = self.mark or mark
            elif mark == {}:
                self.foreign.append(pfx + node)
        self.plan = PLANS.get(self.mark.get("topo"))

    def up(self):
        return bool(self.ours)

    def check_owner(self):
        """Refuse to touch another user's lab (down --force does anyway)."""
        owner = self.mark.get("owner")
        if owner and owner != me():
            raise Failure(
                f"the {self.prefix} lab belongs to {user_name(owner)} (uid {owner}), not to you: "
                f"leaving it alone (your own: SOCKLAB_NS_PREFIX={DEFAULT_PREFIX}{user_name(me())}- "
                f"{PROG} ...; remove theirs anyway: {PROG} down --force)"
            )


# --- nftables rules and queues ------------------------------------------------------------

# A fragment has MF (0x2000) or an offset (0x1fff) set: first, middle and last alike.
FRAGMENT = "ip frag-off & 0x3fff != 0"
# Before the kernel reassembles fragments (conntrack's defragmentation hook runs at -400).
BEFORE_DEFRAG = -450
FILTER = "type filter hook {} priority filter; policy accept;"


def loss_rules(every, random_pct, proto):
    """The nftables rules for the chosen loss, as twohosts writes them: for --loss-every one
    rule per protocol, so that each counts its own packets."""
    rules = []
    if every:
        for p in ("tcp", "udp"):
            if proto in ("all", p):
                rules.append(f"meta l4proto {p} numgen inc mod {every} == {every - 1} counter drop"
                             f' comment "every {every} ({p})"')
    elif random_pct is not None:
        p = "{ tcp, udp }" if proto == "all" else proto
        rules.append(f"meta l4proto {p} numgen random mod 100 < {random_pct} counter drop"
                     f' comment "random {random_pct}%"')
    return rules


def node_chains(plan, node, opts):
    """The chains of the node's `table inet socklab`: {chain: [hook line, [rules]]}."""
    chains = {}
    loss = loss_rules(opts["loss_every"], opts["loss_random"], opts["loss_proto"])
    if loss and node == opts["loss_on"]:
        if plan.kind(node) == "router":
            chains["forward"] = [FILTER.format("forward"), list(loss)]
        else:
            # only packets off the cables count: a host's own loopback traffic must not
            # shift "every Nth"
            chains["input"] = [FILTER.format("input"), ['iifname "lo" accept'] + loss]
    if plan is MTU:
        add_fragment_chains(chains, plan, node, opts["drop_fragment"])
    if plan is NAT and node == "router":
        add_nat_chains(chains)
    return chains


def add_fragment_chains(chains, plan, node, drop):
    """mtu: count the fragments that arrive (a router per interface), before the kernel
    reassembles them; drop the server's Kth; count a router's "fragmentation needed"."""
    if plan.kind(node) == "router":
        rules = [f'iifname "{i}" {FRAGMENT} counter comment "fragments in from '
                 f'{plan.neighbour(node, i)}"' for i, _ in plan.addresses(node)]
    else:
        rules = [f'{FRAGMENT} counter comment "fragments in"']
    if node == "server" and drop:
        # numgen inc counts the fragments that reach it, from 0; with this modulus it does
        # not come round again for 4 billion fragments: the Kth one, only
        rules.append(f"{FRAGMENT} numgen inc mod 4294967295 == {drop - 1} counter drop"
                     f' comment "fragment {drop}, once"')
    hook = f"type filter hook prerouting priority {BEFORE_DEFRAG}; policy accept;"
    chains["prerouting"] = [hook, rules]
    if plan.kind(node) == "router":
        chains["output"] = [FILTER.format("output"), [
            "icmp type destination-unreachable icmp code frag-needed counter"
            ' comment "fragmentation needed, sent"']]


def add_nat_chains(chains):
    """nat: the router gives what leaves for the public side its own address (masquerade:
    conntrack keeps each mapping and turns the replies back), and drops whatever the public
    side starts, as a home router does: towards the LAN, and towards the router itself. A
    packet for the router's address that no mapping expects would otherwise reach its own
    stack, which answers it (ICMP port unreachable, RST), and the conntrack entry this left
    would hold that address and port: the next LAN host to send from that port would be
    mapped to another one. Dropped before routing, the packet leaves no entry behind. Only
    packets sent to the router (pkttype host) count: the IGMP reports a host multicasts as
    its interface comes up are not the start of anything."""
    chains["prerouting"] = [FILTER.format("prerouting"), [
        'iifname "eth1" meta pkttype host ct state new counter drop'
        ' comment "started from the public side"']]
    chains["postrouting"] = ["type nat hook postrouting priority srcnat; policy accept;", [
        'oifname "eth1" counter masquerade comment "LAN to public: the router\'s address"']]


def ruleset(chains):
    lines = ["table inet socklab {"]
    for name, (hook, rules) in chains.items():
        lines += [f"    chain {name} {{", f"        {hook}"]
        lines += [f"        {r}" for r in rules] + ["    }"]
    return "\n".join(lines + ["}"]) + "\n"


def rate_ends(plan, opts):
    """The two (node, interface) ends of the link --rate limits, or none."""
    if not opts["rate"]:
        return []
    c = plan.find_link(opts["rate_link"])
    return [(c.a, c.a_if), (c.b, c.b_if)]


# --- building (in the keeper) -------------------------------------------------------------


def mac(n, cidr):
    """A fixed, locally administered MAC, so that captures look the same every run: 02:00
    and the IPv4 address (02:00:0a:00:01:02 for 10.0.1.2), or 02:01:00:00 and a number."""
    if cidr:
        return "02:00:" + ":".join(f"{int(o):02x}" for o in cidr.split("/")[0].split("."))
    return f"02:01:00:00:{n >> 8:02x}:{n & 0xFF:02x}"


def build_network(plan):
    """The plan as a started Mininet network, every name, address and MAC fixed. No
    controller and no Open vSwitch: routers are hosts that forward, switches Linux bridges.
    (Mininet is imported here: run, status and down do without it, and start faster.)"""
    from mininet.log import setLogLevel
    from mininet.moduledeps import pathCheck
    from mininet.net import Mininet
    from mininet.node import Host
    from mininet.nodelib import LinuxBridge
    from mininet.topo import Topo

    class Router(Host):
        """A host that forwards IPv4 packets between its interfaces."""

        def config(self, **params):
            result = super().config(**params)
            self.cmd("sysctl -qw net.ipv4.ip_forward=1")
            return result

    class NsBridge(LinuxBridge):
        """A Linux bridge in a network namespace of its own."""

        @classmethod
        def setup(cls):
            # LinuxBridge.setup warns when the machine's own namespace passes bridged
            # packets to iptables (br_netfilter): this bridge is not in that namespace, and
            # start() turns that off in its own
            pathCheck("brctl", moduleName="bridge-utils")

        def start(self, controllers):
            for table in ("arp", "ip", "ip6"):
                self.cmd(f"sysctl -qw net.bridge.bridge-nf-call-{table}tables=0 2>/dev/null")
            # no IPv6 on the bridge: it would announce itself on the LAN it joins
            self.cmd("sysctl -qw net.ipv6.conf.all.disable_ipv6=1"
                     " net.ipv6.conf.default.disable_ipv6=1")
            super().start(controllers)

    class LabTopo(Topo):
        """The plan as Mininet's nodes and links."""

        def build(self, plan):
            for h in plan.hosts:
                routes = plan.routes.get(h, ())
                via = [r.split(" ", 1)[1] for r in routes if r.startswith("default ")]
                self.addHost(h, ip=None, defaultRoute=via[0] if via else None)
            for r in plan.routers:
                self.addHost(r, cls=Router, ip=None)
            for n, s in enumerate(plan.switches, 1):
                self.addSwitch(s, cls=NsBridge, dpid=str(n), inNamespace=True)
            for n, c in enumerate(plan.cables, 1):
                self.addLink(c.a, c.b, intfName1=c.a_if, intfName2=c.b_if,
                             addr1=mac(2 * n, c.a_addr), addr2=mac(2 * n + 1, c.b_addr),
                             params1={"ip": c.a_addr} if c.a_addr else {},
                             params2={"ip": c.b_addr} if c.b_addr else {})

    # Mininet's one-time set-up raises machine-wide limits (fs.file-max, kernel.pty.max, the
    # machine's TCP buffer sizes ...) for networks of hundreds of nodes; a lab of seven needs
    # none of it, and a student's machine should not change under them
    Mininet.inited = True
    setLogLevel(os.environ.get("SOCKLAB_MININET_LOG", "warning"))
    net = Mininet(topo=LabTopo(plan), switch=NsBridge, controller=None, build=False)
    try:
        net.build()
        net.start()
    except BaseException:
        net.stop()
        raise
    return net


def configure(plan, opts, pfx, owner):
    """Mark and set up every node of the running network: sysctls, MTUs, routes, nftables
    rules, queues. Runs in the keeper, once the namespaces have their names."""
    for node in plan.nodes():
        alias = f"{MARK} {plan.name} owner {owner} pid {os.getpid()}"
        sh("ip", "-n", pfx + node, "link", "set", "lo", "alias", alias)
        if node not in plan.switches:
            sh("ip", "netns", "exec", pfx + node, "sysctl", "-qw", *host_sysctls(plan, node))
    for c in plan.cables:
        if c.mtu:
            sh("ip", "-n", pfx + c.a, "link", "set", "dev", c.a_if, "mtu", str(c.mtu))
            sh("ip", "-n", pfx + c.b, "link", "set", "dev", c.b_if, "mtu", str(c.mtu))
    if plan is MTU:
        # one TCP segment per packet, as a real NIC puts them on the wire: a veth passes
        # TCP's 64 KB GSO packets whole, through the routers too, and a capture would show
        # segments of 26,844 bytes that no cable carries (and r1 refusing them whole)
        for h in plan.hosts:
            for i, _ in plan.addresses(h):
                sh("ip", "-n", pfx + h, "link", "set", "dev", i, "gso_max_segs", "1")
    for node, routes in plan.routes.items():
        for r in routes:
            # Mininet has set the hosts' default routes
            if not r.startswith("default ") or node in plan.routers:
                sh("ip", "-n", pfx + node, "route", "replace", *r.split())
    for node in plan.nodes():
        chains = node_chains(plan, node, opts)
        if chains:
            sh("ip", "netns", "exec", pfx + node, "nft", "-f", "-", stdin=ruleset(chains))
    if opts["udp_timeout"]:
        t = opts["udp_timeout"]
        sh("ip", "netns", "exec", pfx + "router", "sysctl", "-qw",
           f"net.netfilter.nf_conntrack_udp_timeout={t}",
           f"net.netfilter.nf_conntrack_udp_timeout_stream={t}")
    for node, i in rate_ends(plan, opts):
        # 64 KB: well under a UDP socket's send buffer, so a sender faster than the link
        # fills the queue and loses the rest, as in twohosts
        sh("tc", "-n", pfx + node, "qdisc", "add", "dev", i, "root", "tbf",
           "rate", opts["rate"], "burst", "32kbit", "limit", "64kb")


def host_sysctls(plan, node):
    """What every host and router sets in its namespace, as twohosts' hosts do."""
    # each TCP connection starts afresh, not from what an earlier one learnt of the path
    sysctls = ["net.ipv4.tcp_no_metrics_save=1"]
    # IPv4 only: without IPv6 the cables carry no router solicitations, MLD reports or
    # duplicate address probes, and a capture shows only what a lesson sent
    sysctls += [f"net.ipv6.conf.{i}.disable_ipv6=1" for i, _ in plan.addresses(node)]
    # SOCKLAB_PORT_RANGE (set by lab/isolated): clients' ports from that range
    if os.environ.get("SOCKLAB_PORT_RANGE"):
        sysctls.append("net.ipv4.ip_local_port_range=" + os.environ["SOCKLAB_PORT_RANGE"])
    return sysctls


# --- taking down --------------------------------------------------------------------------


def stop_processes(namespaces, keep=()):
    """Stop what still runs in the namespaces (servers a student left), except the pids in
    keep: SIGTERM, and SIGKILL for what is still there 2 s later."""
    pids = set()
    for ns in namespaces:
        if ns_exists(ns):
            pids |= {int(p) for p in sh("ip", "netns", "pids", ns, check=False).split()}
    pids -= set(keep) | {os.getpid()}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in list(pids):
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pids.discard(p)
        deadline = time.monotonic() + 2
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = {p for p in pids if os.path.exists(f"/proc/{p}")}
        if not pids:
            return


def remove_names(namespaces):
    """Remove the namespaces' names; with nothing left running in them, they go."""
    for ns in namespaces:
        if ns_exists(ns):
            sh("ip", "netns", "delete", ns, check=False)


def cmd_keep(argv):
    """The keeper: build the network, say "ready" on standard output (a pipe to `up`), hold
    the network until SIGTERM, SIGINT or SIGHUP, then take all of it down."""
    pfx, plan = argv[0], PLANS[argv[1]]
    opts = parse_up_options(plan, argv[2:])
    owner = os.environ.get("SOCKLAB_OWNER", me())
    attached = []  # only these are removed on the way out: another lab may hold the rest
    asked = []

    def note(signum, _frame):
        asked.append(signum)

    def leave(_signum, _frame):
        raise Stopped()

    # while building, a stop request waits: the network is taken down whole, afterwards
    for s in STOP_SIGNALS:
        signal.signal(s, note)
    net, status = None, 0
    try:
        net = build_network(plan)
        for node in plan.nodes():
            sh("ip", "netns", "attach", pfx + node, str(net[node].pid))
            attached.append(pfx + node)
        configure(plan, opts, pfx, owner)
        for s in STOP_SIGNALS:
            signal.signal(s, leave)
        if asked:
            raise Stopped()
        print("ready", flush=True)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        while True:
            signal.pause()
    except Stopped:
        pass
    except Failure as e:
        print(f"{PROG}: {e}", flush=True)
        status = 1
    except Exception as e:  # Mininet's own failures: say what, not where
        print(f"{PROG}: Mininet could not build {plan.name}: {e}", flush=True)
        status = 1
    finally:
        for s in STOP_SIGNALS:
            signal.signal(s, note)
        shells = [n.pid for n in net.hosts + net.switches] if net else []
        stop_processes(attached, keep=shells)
        if net:
            net.stop()
        remove_names(attached)
    return status


# --- options ------------------------------------------------------------------------------

UP_OPTIONS = ("--loss-every", "--loss-random", "--loss-proto", "--loss-on", "--rate",
              "--rate-link", "--drop-fragment", "--udp-timeout")


def parse_number(opt, text, lo, hi=None):
    if not re.fullmatch(r"[0-9]+", text) or int(text) < lo or (hi is not None and int(text) > hi):
        bounds = f"{lo}-{hi}" if hi is not None else f">= {lo}"
        raise Usage(f"{opt} needs a whole number {bounds}, not '{text}'")
    return int(text)


def parse_up_options(plan, args):
    """up's options as a dict; Usage for anything wrong."""
    opts = {"loss_every": None, "loss_random": None, "loss_proto": "udp", "loss_on": "server",
            "rate": None, "rate_link": None, "drop_fragment": None, "udp_timeout": None}
    for i in range(0, len(args), 2):
        opt = args[i]
        if not opt.startswith("--"):
            raise Usage(f"up takes one topology; '{opt}' is not an option (see --help)")
        if opt not in UP_OPTIONS:
            raise Usage(f"unknown option '{opt}' (see --help)")
        if i + 1 >= len(args):
            raise Usage(f"{opt} needs a value (see --help)")
        opts[opt[2:].replace("-", "_")] = option_value(plan, opt, args[i + 1])
    if opts["loss_every"] and opts["loss_random"] is not None:
        raise Usage("choose --loss-every or --loss-random, not both")
    if opts["rate_link"] and not opts["rate"]:
        raise Usage("--rate-link names where --rate applies: give --rate too")
    if opts["rate"] and not opts["rate_link"]:
        opts["rate_link"] = [plan.link_name(c) for c in plan.cables if "server" in (c.a, c.b)][0]
    return opts


def option_value(plan, opt, val):
    """The value of one of up's options, checked."""
    if opt == "--loss-every":
        return parse_number(opt, val, 2)
    if opt == "--loss-random":
        return parse_number(opt, val, 0, 100)
    if opt == "--loss-proto":
        if val not in ("udp", "tcp", "all"):
            raise Usage("--loss-proto is udp, tcp or all")
    elif opt == "--loss-on":
        if val not in plan.hosts + plan.routers:
            names = ", ".join(plan.hosts + plan.routers)
            raise Usage(f"--loss-on: {plan.name} has no host or router '{val}' ({names})")
    elif opt == "--rate":
        if not re.fullmatch(r"[0-9]+[kmg]?(bit|bps)", val):
            raise Usage("--rate looks like 1mbit or 500kbit")
    elif opt == "--rate-link":
        if not plan.find_link(val):
            names = ", ".join(map(plan.link_name, plan.cables))
            raise Usage(f"--rate-link: {plan.name} has no link '{val}' ({names})")
    elif opt == "--drop-fragment":
        if plan is not MTU:
            raise Usage("--drop-fragment belongs to the mtu topology")
        return parse_number(opt, val, 1)
    elif opt == "--udp-timeout":
        if plan is not NAT:
            raise Usage("--udp-timeout belongs to the nat topology")
        return parse_number(opt, val, 1, 86400)
    return val


# --- the commands -------------------------------------------------------------------------


def cmd_up(args):
    if not args or args[0].startswith("-"):
        raise Usage(f"up needs a topology: {', '.join(PLANS)} (see --help)")
    plan = PLANS.get(args[0])
    if not plan:
        raise Usage(f"no topology '{args[0]}': choose {', '.join(PLANS)} (see --help)")
    opts = parse_up_options(plan, args[1:])
    pfx = prefix()
    need_root()
    check_tools(plan, opts)
    lab = Lab(pfx)
    lab.check_owner()
    if lab.up():
        raise Failure(f"{lab.mark['topo']} is already up under the prefix {pfx}"
                      f" ({PROG} down first)")
    if find_keepers(pfx):
        raise Failure(f"a lab under the prefix {pfx} is being built or taken down"
                      f" (wait, or {PROG} down)")
    if lab.foreign:
        raise Failure(f"{lab.foreign[0]} exists and multihost did not make it: "
                      "choose other names with SOCKLAB_NS_PREFIX")
    said = start_keeper(pfx, plan, args[1:])
    for line in said:  # what Mininet said while building, if anything
        print(f"{PROG}: mininet: {line}", file=sys.stderr)
    print_up(plan, opts, pfx)


def check_tools(plan, opts):
    if not importlib.util.find_spec("mininet"):
        raise Failure("needs Mininet's Python module for /usr/bin/python3"
                      " (Debian, Ubuntu: apt-get install mininet)")
    need = ["mnexec", "ifconfig", "ip", "nft"]
    need += ["brctl"] if plan.switches else []
    need += ["tc"] if opts["rate"] else []
    missing = [t for t in need if not shutil.which(t)]
    if missing:
        raise Failure(f"needs {', '.join(missing)} (Debian, Ubuntu: apt-get install mininet"
                      " bridge-utils nftables iproute2)")


def start_keeper(pfx, plan, options):
    """Start the keeper in a session of its own (Ctrl-C in the student's terminal must not
    reach it) and wait until it says "ready"; what else it said. A keeper that fails has
    taken down what it built: raise Failure with its reason."""
    keeper = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "keep", pfx, plan.name] + options,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, env=dict(os.environ, SOCKLAB_OWNER=me()))
    said = []
    try:
        for line in keeper.stdout:
            if line == "ready\n":
                keeper.stdout.close()
                return said
            said.append(line.rstrip("\n"))
        keeper.wait()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while building: take it down
        keeper.terminate()
        keeper.wait()
        print(f"{PROG}: up stopped; what it had built is removed", file=sys.stderr)
        raise
    ours = [s[len(PROG) + 2:] for s in said if s.startswith(PROG + ": ")]
    raise Failure(ours[-1] if ours else " ".join(said[-3:]) or "the network could not be built")


def print_up(plan, opts, pfx):
    print(f"up: {plan.name} (prefix {pfx}): {plan.summary}")
    for node in plan.hosts + plan.routers:
        addrs = " ".join(f"{i} {a}" for i, a in plan.addresses(node))
        print(f"  {node:<11} {pfx + node:<{len(pfx) + 11}} {addrs}")
    where = "forward" if plan.kind(opts["loss_on"]) == "router" else "input"
    for r in loss_rules(opts["loss_every"], opts["loss_random"], opts["loss_proto"]):
        print(f"loss: {r} ({where} of {opts['loss_on']})")
    if opts["rate"]:
        print(f"rate: {opts['rate']} each way on {opts['rate_link']}")
    if opts["drop_fragment"]:
        print(f"drop: fragment {opts['drop_fragment']} to arrive at the server, once")
    if opts["udp_timeout"]:
        print(f"conntrack: the router forgets a UDP mapping after {opts['udp_timeout']} s idle")
    print(f"next: {PROG} run {plan.hosts[0]} CMD...; {PROG} status; {PROG} down")


def cmd_down(args):
    if args not in ([], ["--force"]):
        raise Usage("down takes only --force")
    pfx = prefix()
    need_root()
    lab = Lab(pfx)
    if not args:
        lab.check_owner()
    names = [ns for _, ns in lab.ours]
    for ns in names:
        pids = [p for p in sh("ip", "netns", "pids", ns, check=False).split() if not is_shell(p)]
        if pids:
            print(f"{PROG}: stopping what still runs in {ns}: {' '.join(pids)}", file=sys.stderr)
    # the keeper takes its network down; one that is gone (killed) or hangs leaves the
    # rest to the sweep below
    keepers = find_keepers(pfx)
    for pid in keepers:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in keepers):
        time.sleep(0.05)
    for pid in keepers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    left = [ns for ns in names if ns_exists(ns)]
    stop_processes(left)
    remove_names(left)
    if names:
        print(f"down: {' '.join(names)} removed")
    else:
        print(f"down: nothing to remove under the prefix {pfx}")


def cmd_run(args):
    pfx = prefix()
    if not args:
        raise Usage("run needs a host and a command: run HOST CMD...")
    node, cmd = args[0], args[1:]
    if node not in ALL_NODES:
        raise Usage(f"no host '{node}' in any topology ({', '.join(ALL_NODES)})")
    if not cmd:
        raise Usage(f"run {node} needs a command")
    need_root()
    mark = mark_of(pfx + node)
    if not mark or node not in PLANS.get(mark["topo"], THREETIER).nodes():
        lab = Lab(pfx)
        if not lab.up():
            raise Failure(f"nothing is up under the prefix {pfx} ({PROG} up TOPO first)")
        nodes = ", ".join(lab.plan.nodes()) if lab.plan else "?"
        raise Usage(f"{lab.mark['topo']} has no host '{node}': {nodes}")
    os.execvp("ip", ["ip", "netns", "exec", pfx + node] + cmd)


def cmd_status(args):
    if args:
        raise Usage("status takes no arguments")
    pfx = prefix()
    need_root()
    lab = Lab(pfx)
    if not lab.up():
        print(f"down: nothing is up under the prefix {pfx}")
        return
    plan, mark = lab.plan, lab.mark
    keeper = f"kept by pid {mark['pid']}"
    if not os.path.exists(f"/proc/{mark['pid']}"):
        keeper += f" (gone: {PROG} down removes the rest)"
    print(f"{plan.name} (prefix {pfx}), owner {user_name(mark['owner'])}, {keeper}")
    rows, rules, queues = [], [], []
    for node in plan.nodes():
        ns = pfx + node
        if not ns_exists(ns):
            rows.append((node, ns, "missing"))
            continue
        rows.append((node, ns, status_switch(ns, node) if node in plan.switches
                     else status_host(ns, node in plan.routers)))
        rules += [f"  {node:<11} {r}" for r in status_rules(ns)]
        queues += [f"  {node:<11} {q}" for q in status_queues(ns)]
    width = max(len(ns) for _, ns, _ in rows)
    print(f"{'node':<11} {'namespace':<{width}} addresses (routes)")
    for node, ns, text in rows:
        print(f"{node:<11} {ns:<{width}} {text}")
    if rules:
        print("rules (nft list table inet socklab, with counters):", *rules, sep="\n")
    if queues:
        print("queues:", *queues, sep="\n")
    if plan is NAT and ns_exists(pfx + "router"):
        print(status_conntrack(pfx + "router"))


def status_host(ns, router):
    """A host's or router's addresses (with MTUs other than 1500) and routes, on one line."""
    mtus = {}
    for line in sh("ip", "-n", ns, "-o", "link", "show", check=False).splitlines():
        m = re.match(r"\d+: ([^@:]+).* mtu (\d+)", line)
        if m and m[2] != "1500" and m[1] != "lo":
            mtus[m[1]] = f" mtu {m[2]}"
    addrs = sorted(f"{f[1]} {f[3]}{mtus.get(f[1], '')}"
                   for f in map(str.split, sh("ip", "-n", ns, "-o", "-4", "addr", "show",
                                              check=False).splitlines()) if f[1] != "lo")
    routes = [re.sub(r" dev \S+| proto \S+| metric \d+| onlink", "", r).strip()
              for r in sh("ip", "-n", ns, "-4", "route", "show", check=False).splitlines()
              if "proto kernel" not in r]
    routes += ["forwards"] if router else []
    return ", ".join(addrs) + (f"  ({'; '.join(routes)})" if routes else "")


def status_switch(ns, node):
    ports = sh("ip", "-n", ns, "-o", "link", "show", "master", node, check=False)
    return "bridge " + " ".join(sorted(re.findall(r"^\d+: ([^@:]+)", ports, re.M)))


def status_rules(ns):
    """The namespace's rules that count, each with its chain: "input    RULE"."""
    found, chain = [], ""
    table = sh("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "socklab", check=False)
    for line in map(str.strip, table.splitlines()):
        if line.startswith("chain "):
            chain = line.split()[1]
        elif "counter" in line:
            found.append(f"{chain:<11} {line}")
    return found


def status_queues(ns):
    """The namespace's tbf queues: "eth0  tbf rate ...; sent ... (dropped ...)"."""
    tc = sh("tc", "-n", ns, "-s", "qdisc", "show", check=False)
    tbf = r"^qdisc tbf \S+ dev (\S+) .*?(rate .*?)\s*\n\s*Sent (.*?\))"
    return [f"{m[1]:<13} tbf {m[2]}; sent {m[3]}" for m in re.finditer(tbf, tc, re.M)]


def status_conntrack(ns):
    if not shutil.which("conntrack"):
        return "conntrack (router): the conntrack program is missing (apt-get install conntrack)"
    timeout = sh("ip", "netns", "exec", ns, "sysctl", "-n",
                 "net.netfilter.nf_conntrack_udp_timeout", check=False).strip()
    flows = sh("ip", "netns", "exec", ns, "conntrack", "-L", check=False).splitlines()
    return (f"conntrack (router): {len(flows)} mappings; UDP ones expire after {timeout or '?'} s"
            f" idle ({PROG} run router conntrack -L)")


def usage():
    lines = [
        f"usage: {PROG} up TOPO [--loss-every N | --loss-random PCT] [--loss-proto udp|tcp|all]",
        "                     [--loss-on HOST] [--rate RATE [--rate-link A-B]]",
        "                     [--drop-fragment K (mtu)] [--udp-timeout SEC (nat)]",
        f"       {PROG} run HOST CMD...",
        f"       {PROG} status",
        f"       {PROG} down [--force]",
        f"       {PROG} --help",
        "",
        "Lab networks of three hosts and more on this machine, built with Mininet: every host",
        "and router is a network namespace named PREFIX+NAME (slm-client ...), every switch a",
        "Linux bridge in a namespace of its own, every cable a veth pair; no controller, no",
        "Open vSwitch. IPv4 only. Routers are hosts with ip_forward=1.",
        "",
        "up      build TOPO and keep it (a background process holds it) until down",
        "  --loss-every N     drop every Nth packet (TCP and UDP counted apart) that arrives",
        "                     at the --loss-on node: deterministic, as in twohosts",
        "  --loss-random PCT  drop each arriving packet with probability PCT percent",
        "  --loss-proto P     udp (default), tcp or all; ICMP and ARP are never dropped",
        "  --loss-on HOST     a host's input (default: server), or what a router forwards",
        "  --rate RATE        limit the link --rate-link (default: the server's) to RATE each",
        "                     way (tc syntax: 1mbit), tbf with a 64 KB queue at each end",
        "  --drop-fragment K  mtu: drop the Kth IP fragment to arrive at the server, once",
        "  --udp-timeout SEC  nat: the router forgets an idle UDP mapping after SEC seconds",
        "                     (conntrack's udp_timeout and udp_timeout_stream; 30 and 120)",
        "run     run CMD in a host, router or switch (ip netns exec PREFIX+HOST CMD)",
        "status  hosts, addresses, routes, rules with their counters, queues",
        "down    stop what runs in the lab's namespaces, then the lab and its keeper; fine to",
        "        run twice. A lab another user made (sudo records who) is left alone, unless",
        "        --force",
        "",
        "Topologies (fixed addresses; links are named A-B for --rate-link):",
    ]
    for plan in PLANS.values():
        lines.append(f"{plan.name}: {plan.summary}")
        for node in plan.hosts + plan.routers:
            addrs = ", ".join(f"{i} {a}" for i, a in plan.addresses(node))
            routes = "; ".join(plan.routes.get(node, ()))
            lines.append(f"  {node:<11} {addrs}" + (f"  ({routes})" if routes else ""))
        if plan.switches:
            lines.append(f"  switches    {', '.join(plan.switches)} (Linux bridges)")
        lines.append(f"  links       {', '.join(map(plan.link_name, plan.cables))}")
        lines += [f"  {n}" for n in plan.notes]
    lines += [
        "",
        "Needs root, Mininet (apt-get install mininet bridge-utils), nftables and iproute2.",
        "SOCKLAB_NS_PREFIX changes the names (default slm-); SOCKLAB_MININET_LOG=info shows",
        "what Mininet does while it builds.",
    ]
    print("\n".join(lines))


def main(argv):
    verb, args = (argv[0], argv[1:]) if argv else ("", [])
    commands = {"up": cmd_up, "down": cmd_down, "run": cmd_run, "status": cmd_status,
                "keep": cmd_keep}
    try:
        if verb in ("-h", "--help", "help"):
            usage()
        elif verb in commands:
            return commands[verb](args) or 0
        elif verb == "":
            raise Usage("name a command: up, down, run or status (see --help)")
        else:
            raise Usage(f"'{verb}' is not a command: up, down, run or status (see --help)")
    except Usage as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except Failure as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    # SIGTERM as Ctrl-C: an `up` stopped by either takes down what its keeper built
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main(sys.argv[1:]))
