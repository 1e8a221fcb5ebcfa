"""multihost - lab networks of three hosts and more on one Linux box, built with Mininet.

`multihost up TOPO` starts a small process of its own (the keeper) that builds the network
with Mininet's Python API and holds it until `multihost down`: hosts and routers are network
namespaces, each with a Mininet shell; switches are Linux bridges, each in a namespace of its
own; links are veth pairs whose two ends both sit in lab namespaces. Nothing of the lab lives
in the machine's own namespace, so two labs (a student's and a check's) never share a name.
The keeper also names every namespace PREFIX + node (`ip netns attach`), so that later
commands reach it as twohosts' hosts: `multihost run client ...` is `ip netns exec
slm-client ...`, and `ip netns list`, `ip -n slm-router ...` and `capture --netns` work too.

Run with the system's python3 (/usr/bin/python3): Debian's `mininet` package installs its
module there. See `multihost --help` for the topologies and their addresses.
"""

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
MARK = "socklab multihost"  # the start of every lab namespace's loopback alias

# A cable between two nodes: interface name and address (CIDR) at each end; a switch's end
# has no address. mtu: both ends' MTU, None for Linux's default of 1500.
Cable = namedtuple("Cable", "a a_if a_addr b b_if b_addr mtu", defaults=(None,))


class Plan:
    """One topology: its nodes, cables, static routes and the rules only it has."""

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
        """The node's interfaces and addresses, in cable order: [(ifname, cidr)]."""
        found = []
        for c in self.cables:
            if c.a == node and c.a_addr:
                found.append((c.a_if, c.a_addr))
            if c.b == node and c.b_addr:
                found.append((c.b_if, c.b_addr))
        return found

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
        "The third number of an address is its tier. The client can reach the server",
        "straight (two tiers) or through `tcp-echo relay -b 10.0.2.2 --to 10.0.3.2:7008`",
        "on the relay (three tiers): the server sees 10.0.1.2 or 10.0.2.2.",
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
        "Two routers, so that both ends can send 9000-byte packets and the narrow link is",
        "in the middle: TCP then sends segments r1 cannot forward, and r1 answers with ICMP",
        "\"fragmentation needed\" (path MTU discovery). With one router the server's own",
        "1500 link would hold TCP's MSS to 1460 from the handshake on, and no ICMP would",
        "ever be needed. A 65507-byte UDP datagram leaves the client as 8 fragments, which",
        "r1 cuts again into 51 for the 1500 link; the counters say so. Every host counts the",
        "fragments it receives before its kernel reassembles them (nft prerouting), and the",
        "routers count the \"fragmentation needed\" they send.",
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
        "The router masquerades what leaves eth1 (nft masquerade: the public side sees",
        "203.0.113.1 for both clients) and drops what the public side starts towards the",
        "LAN, as a home router does; server and rendezvous have no route to 192.168.1.0/24",
        "at all. `multihost run router conntrack -L` shows the mappings.",
    ),
)

PLANS = {p.name: p for p in (THREETIER, MTU, NAT)}
ALL_NODES = sorted({n for p in PLANS.values() for n in p.nodes()})


class Usage(Exception):
    """Bad input: one line on stderr, exit 2."""


class Failure(Exception):
    """Something could not be done: one line on stderr, exit 1."""


def prefix():
    p = os.environ.get("SOCKLAB_NS_PREFIX") or DEFAULT_PREFIX
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", p):
        raise Usage(f"SOCKLAB_NS_PREFIX '{p}' must be letters, digits, '.', '_' or '-' (at most 64)")
    return p


def me():
    """Who asked: the user behind sudo, else whoever runs this."""
    return os.environ.get("SUDO_UID") or str(os.getuid())


def user_name(uid):
    try:
        return pwd.getpwuid(int(uid)).pw_name
    except (KeyError, ValueError):
        return str(uid)


def need_root(verb):
    if os.geteuid() != 0:
        raise Failure(f"needs root to create and enter network namespaces (try: sudo {PROG} {verb} ...)")


def sh(*argv, check=True, stdin=None):
    """Run a command; its standard output. A failure raises Failure with its stderr."""
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and r.returncode != 0:
        msg = (r.stderr.strip() or r.stdout.strip()).splitlines()
        raise Failure(f"{' '.join(argv)}: {msg[0] if msg else f'exit status {r.returncode}'}")
    return r.stdout


def ns_exists(ns):
    return os.path.exists(f"/run/netns/{ns}")


def mark_of(ns):
    """The lab's mark on a namespace, from its loopback's alias: {"topo", "owner", "pid"},
    {} for a namespace without one (not multihost's), None when it does not exist."""
    if not ns_exists(ns):
        return None
    out = sh("ip", "-n", ns, "-o", "link", "show", "lo", check=False)
    m = re.search(MARK + r" (\S+) owner (\d+) pid (\d+)", out)
    return {"topo": m[1], "owner": m[2], "pid": int(m[3])} if m else {}


class Lab:
    """What exists under one prefix: our namespaces and the mark they carry."""

    def __init__(self, pfx):
        self.prefix = pfx
        self.ours = []  # [(node, ns)] with multihost's mark
        self.foreign = []  # namespaces with one of our names, not made by multihost
        self.mark = {}
        for node in ALL_NODES:
            ns = pfx + node
            mark = mark_of(ns)
            if mark:
                self.ours.append((node, ns))
                self.mark = self.mark or mark
            elif mark == {}:
                self.foreign.append(ns)
        self.plan = PLANS.get(self.mark.get("topo"))

    def up(self):
        return bool(self.ours)

    def check_owner(self):
        """Refuse to touch another user's lab (down --force does anyway)."""
        owner = self.mark.get("owner")
        if owner and owner != me():
            raise Failure(
                f"the {self.prefix} lab belongs to {user_name(owner)} (uid {owner}), not to you: leaving "
                f"it alone (your own: SOCKLAB_NS_PREFIX={DEFAULT_PREFIX}{user_name(me())}- {PROG} ...; "
                f"remove theirs anyway: {PROG} down --force)"
            )


# --- nftables rules and queues ------------------------------------------------------------


def loss_rules(every, random_pct, proto):
    """The nftables rules for the chosen loss, as twohosts writes them (one per protocol for
    --loss-every, so each counts its own packets)."""
    rules = []
    if every:
        for p in ("tcp", "udp"):
            if proto in ("all", p):
                rules.append(
                    f'meta l4proto {p} numgen inc mod {every} == {every - 1} counter drop comment "every {every} ({p})"'
                )
    elif random_pct is not None:
        p = "{ tcp, udp }" if proto == "all" else proto
        rules.append(f'meta l4proto {p} numgen random mod 100 < {random_pct} counter drop comment "random {random_pct}%"')
    return rules


# Fragments carry MF (0x2000) or an offset (0x1fff): first, middle and last alike.
FRAGMENT = "ip frag-off & 0x3fff != 0"
# Before the kernel reassembles fragments (conntrack's defrag hook runs at -400).
BEFORE_DEFRAG = -450


def node_chains(plan, node, opts):
    """The chains of the node's `table inet socklab`: {chain: (hook line, [rules])}."""
    chains = {}
    loss = loss_rules(opts["loss_every"], opts["loss_random"], opts["loss_proto"])
    if loss and node == opts["loss_on"]:
        if plan.kind(node) == "router":
            chains["forward"] = ["type filter hook forward priority filter; policy accept;", list(loss)]
        else:
            # only packets off the cables count: a host's own loopback traffic must not
            # shift "every Nth"
            chains["input"] = ["type filter hook input priority filter; policy accept;", ['iifname "lo" accept'] + loss]
    if plan is MTU:
        rules = []
        ifs = [i for i, _ in plan.addresses(node)]
        if plan.kind(node) == "router":
            for i in ifs:
                peer = [c for c in plan.cables if (c.a, c.a_if) == (node, i) or (c.b, c.b_if) == (node, i)][0]
                other = peer.b if peer.a == node else peer.a
                rules.append(f'iifname "{i}" {FRAGMENT} counter comment "fragments in from {other}"')
        else:
            rules.append(f'{FRAGMENT} counter comment "fragments in"')
        if node == "server" and opts["drop_fragment"]:
            k = opts["drop_fragment"]
            # numgen inc counts the fragments that reach it, from 0; with this modulus it
            # does not come round again for 4 billion fragments: the Kth one only
            rules.append(f'{FRAGMENT} numgen inc mod 4294967295 == {k - 1} counter drop comment "fragment {k}, once"')
        chains["prerouting"] = [f"type filter hook prerouting priority {BEFORE_DEFRAG}; policy accept;", rules]
        if plan.kind(node) == "router":
            chains["output"] = [
                "type filter hook output priority filter; policy accept;",
                ['icmp type destination-unreachable icmp code frag-needed counter comment "fragmentation needed, sent"'],
            ]
    if plan is NAT and node == "router":
        chains["postrouting"] = [
            "type nat hook postrouting priority srcnat; policy accept;",
            ['oifname "eth1" counter masquerade comment "LAN to public: the router\'s address"'],
        ]
        fwd = chains.setdefault("forward", ["type filter hook forward priority filter; policy accept;", []])
        fwd[1].insert(0, 'iifname "eth1" ct state new counter drop comment "started from the public side"')
    return chains


def ruleset(chains):
    lines = ["table inet socklab {"]
    for name, (hook, rules) in chains.items():
        lines += [f"    chain {name} {{", f"        {hook}"] + [f"        {r}" for r in rules] + ["    }"]
    return "\n".join(lines + ["}"]) + "\n"


def rate_ends(plan, opts):
    """The two (node, interface) ends of the link that --rate limits."""
    if not opts["rate"]:
        return []
    c = plan.find_link(opts["rate_link"])
    return [(c.a, c.a_if), (c.b, c.b_if)]


# --- building (in the keeper) -------------------------------------------------------------


def mac(n, cidr):
    """A fixed, locally administered MAC: 02:00 and the IPv4 address (02:00:0a:00:01:02 for
    10.0.1.2), or 02:01:00:00 and a switch port's number, so captures show the same every run."""
    if cidr:
        return "02:00:" + ":".join(f"{int(o):02x}" for o in cidr.split("/")[0].split("."))
    return f"02:01:00:00:{n >> 8:02x}:{n & 0xFF:02x}"


def build_network(plan):
    """The plan as a Mininet network, started: every name, address and MAC fixed. No
    controller and no Open vSwitch: routers are hosts that forward, switches Linux bridges."""
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
            self.cmd("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
            super().start(controllers)

    class LabTopo(Topo):
        """The plan as Mininet's nodes and links."""

        def build(self, plan):
            for h in plan.hosts:
                default = [r[len("default ") :] for r in plan.routes.get(h, ()) if r.startswith("default ")]
                self.addHost(h, ip=None, defaultRoute=default[0] if default else None)
            for r in plan.routers:
                self.addHost(r, cls=Router, ip=None)
            for n, s in enumerate(plan.switches, 1):
                self.addSwitch(s, cls=NsBridge, dpid=str(n), inNamespace=True)
            for n, c in enumerate(plan.cables, 1):
                self.addLink(
                    c.a, c.b, intfName1=c.a_if, intfName2=c.b_if,
                    addr1=mac(2 * n, c.a_addr), addr2=mac(2 * n + 1, c.b_addr),
                    params1={"ip": c.a_addr} if c.a_addr else {},
                    params2={"ip": c.b_addr} if c.b_addr else {},
                )

    # Mininet's one-time set-up raises system-wide limits (fs.file-max, kernel.pty.max, the
    # machine's TCP buffer sizes ...) for networks of hundreds of nodes; a lab of six needs
    # none of it, and a student's machine should not change under them
    Mininet.inited = True
    setLogLevel(os.environ.get("SOCKLAB_MININET_LOG", "warning"))
    net = Mininet(topo=LabTopo(plan), switch=NsBridge, controller=None, build=False, autoSetMacs=False)
    try:
        net.build()
        net.start()
    except BaseException:
        net.stop()
        raise
    return net


def configure(plan, opts, pfx, owner):
    """Name, mark and set up every node of a running network: sysctls, MTUs, routes,
    nftables rules, queues. Runs in the keeper, after the namespaces got their names."""
    nodes = plan.nodes()
    for node in nodes:
        ns = pfx + node
        sh("ip", "-n", ns, "link", "set", "lo", "alias", f"{MARK} {plan.name} owner {owner} pid {os.getpid()}")
        if node in plan.switches:
            continue
        ifs = [i for i, _ in plan.addresses(node)]
        sysctls = ["net.ipv4.tcp_no_metrics_save=1"]
        # IPv4 only: without IPv6 the cables carry no router solicitations, MLD reports or
        # duplicate address probes, so a capture shows only what a lesson sent
        sysctls += [f"net.ipv6.conf.{i}.disable_ipv6=1" for i in ifs]
        if os.environ.get("SOCKLAB_PORT_RANGE"):
            sysctls.append("net.ipv4.ip_local_port_range=" + os.environ["SOCKLAB_PORT_RANGE"])
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", *sysctls)
    for c in plan.cables:
        if c.mtu:
            sh("ip", "-n", pfx + c.a, "link", "set", "dev", c.a_if, "mtu", str(c.mtu))
            sh("ip", "-n", pfx + c.b, "link", "set", "dev", c.b_if, "mtu", str(c.mtu))
    for node, routes in plan.routes.items():
        for r in routes:
            if not r.startswith("default ") or node in plan.routers:
                sh("ip", "-n", pfx + node, "route", "replace", *r.split())
    for node in nodes:
        chains = node_chains(plan, node, opts)
        if chains:
            sh("ip", "netns", "exec", pfx + node, "nft", "-f", "-", stdin=ruleset(chains))
    if plan is NAT and opts["udp_timeout"]:
        t = opts["udp_timeout"]
        sh("ip", "netns", "exec", pfx + "router", "sysctl", "-qw",
           f"net.netfilter.nf_conntrack_udp_timeout={t}", f"net.netfilter.nf_conntrack_udp_timeout_stream={t}")
    for node, i in rate_ends(plan, opts):
        # 64 KB: well under a UDP socket's send buffer, so a sender faster than the link
        # fills the queue and loses the rest, as in twohosts
        sh("tc", "-n", pfx + node, "qdisc", "add", "dev", i, "root", "tbf",
           "rate", opts["rate"], "burst", "32kbit", "limit", "64kb")


def stop_processes(namespaces, keep=()):
    """Stop what still runs in the namespaces (servers a student left), but the pids in
    keep: SIGTERM, then SIGKILL for what is left after 2 s."""
    pids = set()
    for ns in namespaces:
        if ns_exists(ns):
            pids |= {int(p) for p in sh("ip", "netns", "pids", ns, check=False).split()}
    pids -= set(keep)
    pids.discard(os.getpid())
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
    for ns in namespaces:
        if ns_exists(ns):
            sh("ip", "netns", "delete", ns, check=False)


class Stopped(Exception):
    pass


def cmd_keep(argv):
    """The keeper: build the network, say "ready" on standard output (a pipe to `up`), then
    hold the network until SIGTERM, SIGINT or SIGHUP, and take it all down."""
    pfx, plan, opts = argv[0], PLANS[argv[1]], parse_up_options(PLANS[argv[1]], argv[2:])
    owner = os.environ.get("SOCKLAB_OWNER", me())
    attached = []  # only these are removed on the way out: another lab may hold the rest
    asked = []

    def note(signum, _frame):
        asked.append(signum)

    def leave(_signum, _frame):
        raise Stopped()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, note)
    net = None
    try:
        net = build_network(plan)
        for node in plan.nodes():
            sh("ip", "netns", "attach", pfx + node, str(net[node].pid))
            attached.append(pfx + node)
        configure(plan, opts, pfx, owner)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
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
    except Exception as e:  # Mininet's own failures: say what, not where
        print(f"{PROG}: Mininet could not build {plan.name}: {e}", flush=True)
    finally:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, note)
        shells = [n.pid for n in net.hosts + net.switches] if net else []
        stop_processes(attached, keep=shells)
        if net:
            net.stop()
        remove_names(attached)
    return 0


# --- the commands -------------------------------------------------------------------------


def parse_number(opt, text, lo, hi=None):
    if not re.fullmatch(r"[0-9]+", text or "") or int(text) < lo or (hi is not None and int(text) > hi):
        bound = f"{lo}-{hi}" if hi is not None else f">= {lo}"
        raise Usage(f"{opt} needs a whole number {bound}, not '{text or ''}'")
    return int(text)


def parse_up_options(plan, args):
    opts = {
        "loss_every": None, "loss_random": None, "loss_proto": "udp", "loss_on": "server",
        "rate": None, "rate_link": None, "drop_fragment": None, "udp_timeout": None,
    }
    i = 0
    while i < len(args):
        opt = args[i]
        if not opt.startswith("--"):
            raise Usage(f"up takes one topology; '{opt}' is not an option (see --help)")
        if opt not in ("--loss-every", "--loss-random", "--loss-proto", "--loss-on", "--rate", "--rate-link",
                       "--drop-fragment", "--udp-timeout"):
            raise Usage(f"unknown option '{opt}' (see --help)")
        if i + 1 >= len(args):
            raise Usage(f"{opt} needs a value (see --help)")
        val = args[i + 1]
        i += 2
        if opt == "--loss-every":
            opts["loss_every"] = parse_number(opt, val, 2)
        elif opt == "--loss-random":
            opts["loss_random"] = parse_number(opt, val, 0, 100)
        elif opt == "--loss-proto":
            if val not in ("udp", "tcp", "all"):
                raise Usage("--loss-proto is udp, tcp or all")
            opts["loss_proto"] = val
        elif opt == "--loss-on":
            if val not in plan.hosts + plan.routers:
                raise Usage(f"--loss-on: {plan.name} has no host or router '{val}' ({', '.join(plan.hosts + plan.routers)})")
            opts["loss_on"] = val
        elif opt == "--rate":
            if not re.fullmatch(r"[0-9]+[kmg]?(bit|bps)", val):
                raise Usage("--rate looks like 1mbit or 500kbit")
            opts["rate"] = val
        elif opt == "--rate-link":
            if not plan.find_link(val):
                raise Usage(f"--rate-link: {plan.name} has no link '{val}' ({', '.join(map(plan.link_name, plan.cables))})")
            opts["rate_link"] = val
        elif opt == "--drop-fragment":
            if plan is not MTU:
                raise Usage("--drop-fragment belongs to the mtu topology")
            opts["drop_fragment"] = parse_number(opt, val, 1)
        elif opt == "--udp-timeout":
            if plan is not NAT:
                raise Usage("--udp-timeout belongs to the nat topology")
            opts["udp_timeout"] = parse_number(opt, val, 1, 86400)
    if opts["loss_every"] and opts["loss_random"] is not None:
        raise Usage("choose --loss-every or --loss-random, not both")
    if opts["rate_link"] and not opts["rate"]:
        raise Usage("--rate-link names where --rate applies: give --rate too")
    if opts["rate"] and not opts["rate_link"]:
        opts["rate_link"] = [plan.link_name(c) for c in plan.cables if "server" in (c.a, c.b)][0]
    return opts


def missing_tools(plan, opts):
    need = ["mnexec", "ifconfig", "ip", "nft"]
    if plan.switches:
        need.append("brctl")
    if opts["rate"]:
        need.append("tc")
    return [t for t in need if not shutil.which(t)]


def cmd_up(args):
    if not args or args[0].startswith("-"):
        raise Usage(f"up needs a topology: {', '.join(PLANS)} (see --help)")
    plan = PLANS.get(args[0])
    if not plan:
        raise Usage(f"no topology '{args[0]}': choose {', '.join(PLANS)} (see --help)")
    opts = parse_up_options(plan, args[1:])
    pfx = prefix()
    need_root("up")
    try:
        import mininet  # noqa: F401 (only to say clearly that it is missing)
    except ImportError:
        raise Failure("needs Mininet's Python module for /usr/bin/python3 (Debian, Ubuntu: apt-get install mininet)")
    missing = missing_tools(plan, opts)
    if missing:
        raise Failure(f"needs {', '.join(missing)} on PATH (Debian, Ubuntu: apt-get install mininet bridge-utils nftables iproute2)")
    lab = Lab(pfx)
    lab.check_owner()
    if lab.up():
        raise Failure(f"{lab.mark['topo']} is already up under the prefix {pfx} ({PROG} down first)")
    if find_keepers(pfx):
        raise Failure(f"a lab is being built or taken down under the prefix {pfx} (wait, or {PROG} down)")
    if lab.foreign:
        raise Failure(f"{lab.foreign[0]} exists and multihost did not make it: choose other names with SOCKLAB_NS_PREFIX")

    env = dict(os.environ, SOCKLAB_OWNER=me())
    keeper = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "keep", pfx, plan.name] + args[1:],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, env=env,
    )
    said = []
    try:
        for line in keeper.stdout:
            if line == "ready\n":
                break
            said.append(line.rstrip("\n"))
        else:
            keeper.wait()
            ours = [s for s in said if s.startswith(PROG + ": ")]
            raise Failure((ours[-1][len(PROG) + 2 :] if ours else " ".join(said[-3:])) or "the network could not be built")
    except KeyboardInterrupt:
        keeper.terminate()
        keeper.wait()
        raise
    keeper.stdout.close()
    for line in said:  # what Mininet said while building, if anything
        print(f"{PROG}: mininet: {line}", file=sys.stderr)
    print_up(plan, opts, pfx)


def print_up(plan, opts, pfx):
    print(f"up: {plan.name} (prefix {pfx}): {plan.summary}")
    for node in plan.hosts + plan.routers:
        addrs = " ".join(f"{i} {a}" for i, a in plan.addresses(node))
        print(f"  {node:<11} {pfx + node:<{len(pfx) + 11}} {addrs}")
    rules = loss_rules(opts["loss_every"], opts["loss_random"], opts["loss_proto"])
    where = "forward" if plan.kind(opts["loss_on"]) == "router" else "input"
    for r in rules:
        print(f"loss: {r} ({where} of {opts['loss_on']})")
    if opts["rate"]:
        print(f"rate: {opts['rate']} each way on {opts['rate_link']}")
    if opts["drop_fragment"]:
        print(f"drop: fragment {opts['drop_fragment']} to arrive at server, once")
    if opts["udp_timeout"]:
        print(f"conntrack: UDP mappings of router expire after {opts['udp_timeout']} s idle")
    print(f"next: {PROG} run {plan.hosts[0]} CMD...; {PROG} status; {PROG} down")


def cmd_down(args):
    if args not in ([], ["--force"]):
        raise Usage("down takes only --force")
    pfx = prefix()
    need_root("down")
    lab = Lab(pfx)
    if not args:
        lab.check_owner()
    names = [ns for _, ns in lab.ours]
    for ns in names:
        pids = [p for p in sh("ip", "netns", "pids", ns, check=False).split() if not is_shell(p)]
        if pids:
            print(f"{PROG}: stopping what still runs in {ns}: {' '.join(pids)}", file=sys.stderr)
    keepers = find_keepers(pfx)
    for pid in keepers:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 15
    while any(os.path.exists(f"/proc/{p}") for p in keepers) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in keepers:  # a keeper that hangs: the sweep below does its work
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # what a keeper that died (or was killed) left: names, and what runs in them
    left = [ns for ns in names if ns_exists(ns)]
    stop_processes(left)
    remove_names(left)
    if names:
        print(f"down: {' '.join(names)} removed")
    else:
        print(f"down: nothing to remove under the prefix {pfx}")


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
    """The keeper processes of this prefix, found by their command line."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        argv = cmdline(d)
        if len(argv) > 3 and argv[1].endswith(b"/multihost.py") and argv[2] == b"keep" and argv[3] == pfx.encode():
            found.append(int(d))
    return found


def cmd_run(args):
    pfx = prefix()
    if not args:
        raise Usage("run needs a host and a command: run HOST CMD...")
    node, cmd = args[0], args[1:]
    if node not in ALL_NODES:
        raise Usage(f"no host '{node}' in any topology ({', '.join(ALL_NODES)})")
    if not cmd:
        raise Usage(f"run {node} needs a command")
    need_root("run")
    mark = mark_of(pfx + node)
    if not mark or mark["topo"] not in PLANS or node not in PLANS[mark["topo"]].nodes():
        lab = Lab(pfx)
        if not lab.up():
            raise Failure(f"nothing is up under the prefix {pfx} ({PROG} up TOPO first)")
        raise Usage(f"{lab.plan.name} has no host '{node}': {', '.join(lab.plan.nodes())}")
    os.execvp("ip", ["ip", "netns", "exec", pfx + node] + cmd)


def cmd_status(args):
    if args:
        raise Usage("status takes no arguments")
    pfx = prefix()
    need_root("status")
    lab = Lab(pfx)
    if not lab.up():
        print(f"down: nothing is up under the prefix {pfx}")
        return
    plan, mark = lab.plan, lab.mark
    alive = os.path.exists(f"/proc/{mark['pid']}")
    print(f"{plan.name} (prefix {pfx}), owner uid {mark['owner']}, kept by pid {mark['pid']}"
          + ("" if alive else " (gone: multihost down removes what is left)"))
    rows, rules, queues = [], [], []
    for node in plan.nodes():
        ns = pfx + node
        if not ns_exists(ns):
            rows.append((node, ns, "missing", ""))
            continue
        if node in plan.switches:
            ports = sh("ip", "-n", ns, "-o", "link", "show", "master", node, check=False)
            rows.append((node, ns, "bridge " + " ".join(sorted(re.findall(r"^\d+: ([^@:]+)", ports, re.M))), ""))
        else:
            addrs = []
            for line in sh("ip", "-n", ns, "-o", "-4", "addr", "show", check=False).splitlines():
                f = line.split()
                if f[1] != "lo":
                    addrs.append(f"{f[1]} {f[3]}")
            addrs.sort()
            for line in sh("ip", "-n", ns, "-o", "link", "show", check=False).splitlines():
                m = re.match(r"\d+: ([^@:]+).* mtu (\d+)", line)
                if m and m[2] != "1500" and m[1] != "lo":
                    addrs = [a + f" mtu {m[2]}" if a.startswith(m[1] + " ") else a for a in addrs]
            routes = [r for r in sh("ip", "-n", ns, "-4", "route", "show", check=False).splitlines()
                      if "proto kernel" not in r]
            routes = [re.sub(r" dev \S+| proto \S+| metric \d+| onlink", "", r).strip() for r in routes]
            fwd = "forwards" if node in plan.routers else ""
            rows.append((node, ns, ", ".join(addrs), "; ".join(routes + ([fwd] if fwd else []))))
        chain = ""
        for line in sh("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "socklab", check=False).splitlines():
            line = line.strip()
            if line.startswith("chain "):
                chain = line.split()[1]
            elif "counter" in line:
                rules.append(f"  {node:<11} {chain:<11} {line}")
        tc = sh("tc", "-n", ns, "-s", "qdisc", "show", check=False)
        for m in re.finditer(r"^qdisc tbf \S+ dev (\S+) .*?(rate .*?)\s*\n\s*Sent (.*?\))", tc, re.M):
            queues.append(f"  {node:<11} {m[1]:<11} tbf {m[2]}; sent {m[3]}")
    w = max(len(r[1]) for r in rows)
    print(f"{'node':<11} {'namespace':<{w}} addresses (routes)")
    for node, ns, addrs, routes in rows:
        print(f"{node:<11} {ns:<{w}} {addrs}" + (f"  ({routes})" if routes else ""))
    if rules:
        print("rules (nft list table inet socklab, with counters):")
        print("\n".join(rules))
    if queues:
        print("queues:")
        print("\n".join(queues))
    if plan is NAT and ns_exists(pfx + "router") and not shutil.which("conntrack"):
        print("conntrack (router): the conntrack program is not installed (apt-get install conntrack)")
    elif plan is NAT and ns_exists(pfx + "router"):
        timeout = sh("ip", "netns", "exec", pfx + "router", "sysctl", "-n",
                     "net.netfilter.nf_conntrack_udp_timeout", check=False).strip()
        flows = sh("ip", "netns", "exec", pfx + "router", "conntrack", "-L", check=False).splitlines()
        print(f"conntrack (router): {len(flows)} mappings, UDP ones expire after {timeout or '?'} s idle "
              f"({PROG} run router conntrack -L)")


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
        "  --loss-every N     drop every Nth packet (TCP and UDP counted apart) that arrives at",
        "                     the --loss-on node: deterministic, as twohosts",
        "  --loss-random PCT  drop each arriving packet with probability PCT percent",
        "  --loss-proto P     udp (default), tcp or all; ICMP and ARP are never dropped",
        "  --loss-on HOST     where (default server): a host's input, or what a router forwards",
        "  --rate RATE        limit the link --rate-link (default: the server's) to RATE each",
        "                     way (tc syntax: 1mbit), tbf with a 64 KB queue at each end",
        "  --drop-fragment K  mtu: drop the Kth IP fragment to arrive at the server, once",
        "  --udp-timeout SEC  nat: the router forgets an idle UDP mapping after SEC seconds",
        "                     (conntrack's udp_timeout and udp_timeout_stream, default 30/120)",
        "run     run CMD in a host, router or switch (ip netns exec PREFIX+HOST CMD)",
        "status  hosts, addresses, routes, rules with their counters, queues",
        "down    stop what runs in the lab's namespaces, the lab and its keeper; fine to run",
        "        twice. A lab another user made (sudo records who) is left alone without --force",
        "",
        "Topologies (addresses are fixed; cables named A-B for --rate-link):",
    ]
    for plan in PLANS.values():
        lines.append(f"{plan.name}: {plan.summary}")
        for node in plan.hosts + plan.routers:
            addrs = ", ".join(f"{i} {a}" for i, a in plan.addresses(node))
            routes = "; ".join(plan.routes.get(node, ()))
            lines.append(f"  {node:<11} {addrs}" + (f"  ({routes})" if routes else ""))
        if plan.switches:
            lines.append(f"  switches    {', '.join(plan.switches)} (Linux bridges)")
        mtus = [f"{plan.link_name(c)} {c.mtu}" for c in plan.cables if c.mtu]
        lines.append(f"  links       {', '.join(plan.link_name(c) for c in plan.cables)}"
                     + (f"; MTU {', '.join(mtus)}" if mtus else ""))
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
    try:
        if verb in ("-h", "--help", "help"):
            usage()
        elif verb == "up":
            cmd_up(args)
        elif verb == "down":
            cmd_down(args)
        elif verb == "run":
            cmd_run(args)
        elif verb == "status":
            cmd_status(args)
        elif verb == "keep":
            return cmd_keep(args)
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
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stopped `up` removes what it built
    sys.exit(main(sys.argv[1:]))
