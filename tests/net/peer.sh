#!/usr/bin/env bash
# peer: tcp-echo peer and udp-echo peer against each other, in a network namespace of this
# test's own. Two peers started in either order each probe the other and answer it, every
# probe counted on both sides; each stops when the other says it is done (UDP's bye, TCP's
# FIN), or, over UDP, once the other falls silent. A UDP peer answers each of the other's
# probes once (a copy going round is not answered again); a TCP peer takes one connection,
# from the other peer's address. Bad command lines are one line and exit 2.
set -euo pipefail

tcp=${TCP_ECHO:?set by ctest}
udp=${UDP_ECHO:?set by ctest}

NAME=peer
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup
cd "$tmp"
py=/usr/bin/python3

# peer BIN NAME PORT OTHER ARGS...: a peer on 127.0.0.1:PORT for 127.0.0.1:OTHER, in the
# background, its output in NAME.out; its pid in $pid
peer() {
    local bin=$1 name=$2 port=$3 other=$4
    shift 4
    "$bin" peer -p "$port" --to "127.0.0.1:$other" "$@" >"$name.out" 2>&1 &
    pid=$!
    pids+=("$pid")
}

# finished NAME PID STATUS: the peer ended by itself within 30 s, with STATUS
finished() {
    local rc=0
    for _ in $(seq 300); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$2" 2>/dev/null && fail "$1 still running after 30 s: $(tail -3 "$1.out")"
    wait "$2" || rc=$?
    ((rc == $3)) || fail "$1 exited $rc, expected $3: $(tail -5 "$1.out")"
}

# has NAME TEXT: NAME's output has a line with TEXT
has() {
    grep -qF -- "$2" "$1.out" || fail "$1: no '$2' in: $(cat "$1.out")"
}

expect_usage() {
    local bin=$1 text=$2 rc=0
    shift 2
    "$bin" peer "$@" >out 2>err || rc=$?
    [[ $rc == 2 && $(wc -l <err) == 1 ]] || fail "peer $*: exit $rc, expected 2 and one line: $(cat err)"
    grep -qF -- "$text" err || fail "peer $*: '$text' not in: $(cat err)"
}

# --- bad command lines: exit 2, one line ------------------------------------------------
for bin in "$tcp" "$udp"; do
    expect_usage "$bin" "needs --to HOST[:PORT]"
    expect_usage "$bin" "cannot hold a peer's probe header (at least 46)" --to 127.0.0.1:7 -s 45
    expect_usage "$bin" "-m: is not a peer option" --to 127.0.0.1:7 -m hi
    expect_usage "$bin" "--model: is not a peer option" --to 127.0.0.1:7 --model fork
    expect_usage "$bin" "a peer speaks plain" --to 127.0.0.1:7 --tls
    expect_usage "$bin" "the peer takes no host" 127.0.0.1
    expect_usage "$bin" "it is this peer's own address" -p 7300 --to 127.0.0.1:7300
    expect_usage "$bin" "give -b with this host's address" --to 192.0.2.1:7
    expect_usage "$bin" "name the other peer's port" -p 0 --to 127.0.0.1
done

# --- either order, both protocols: every probe answered, counted on both sides ----------
# A first (B 1 s later, so A waits: knocks, connects again), then B first; A's probes are
# bigger, so each side's count of what it answered is the other's size times 20
for proto in tcp udp; do
    bin=${!proto}
    for first in a b; do
        if [[ $first == a ]]; then
            peer "$bin" a 7001 7002 -c 20 -i 0.05 -s 100 -v
            apid=$pid
            sleep 1
            peer "$bin" b 7002 7001 -c 20 -i 0.05 -v
            bpid=$pid
        else
            peer "$bin" b 7002 7001 -c 20 -i 0.05 -v
            bpid=$pid
            sleep 1
            peer "$bin" a 7001 7002 -c 20 -i 0.05 -s 100 -v
            apid=$pid
        fi
        finished a "$apid" 0
        finished b "$bpid" 0
        has a "listening on 127.0.0.1:7001 ($proto, peer of 127.0.0.1:7002)"
        has a "20 sent, 20 received, 0 lost (0.0%)"
        has b "20 sent, 20 received, 0 lost (0.0%)"
        if [[ $proto == udp ]]; then
            has a "answered 127.0.0.1:7002: 20 probes, 1280 bytes; it said bye"
            has b "answered 127.0.0.1:7001: 20 probes, 2000 bytes; it said bye"
            has "$first" "nobody at 127.0.0.1:700"
        else
            has a "answered 127.0.0.1:7002: 1280 bytes on its connection; it closed its connection"
            has b "answered 127.0.0.1:7001: 2000 bytes on its connection; it closed its connection"
            has "$first" "Connection refused (ECONNREFUSED); trying again every 500 ms"
        fi
    done
done

# --- UDP: the other's probe answered once; knocks and byes never answered -----------------
# The other peer is played by this script, on the port the peer is given as --to.
cat >fake.py <<'EOF'
import socket, sys, time
mine, theirs = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", mine))
s.connect(("127.0.0.1", theirs))
s.settimeout(0.5)

def probe(seq, size=64):
    head = b"from=0000c0de seq=%d t=1 " % seq
    return head + bytes(ord("a") + (seq + i) % 26 for i in range(len(head), size))

def heard(want, wait=3.0):
    """Datagrams equal to want that come back within wait s (the peer's own probes aside)."""
    n, end = 0, time.time() + wait
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        n += d == want
    return n

def ask(what, data, wait):
    s.send(data)
    print(what, heard(data, wait))

s.send(b"knock from=0000c0de\n")       # the peer hears us, and starts probing
ask("first", probe(7), 1.0)
ask("again", probe(7), 1.5)            # a copy of a probe answered already: not answered
ask("next", probe(8), 1.5)
ask("knock", b"knock from=0000c0de\n", 1.0)
s.send(b"bye from=0000c0de\n")
EOF
peer "$udp" p 7011 7012 -c 3 -i 0.2 -W 0.5 -v
ppid=$pid
"$py" fake.py 7012 7011 >fake.out 2>&1 || fail "the fake peer failed: $(cat fake.out)"
[[ $(tr '\n' ' ' <fake.out) == "first 1 again 0 next 1 knock 0 " ]] ||
    fail "udp: answers to a probe, its copy, the next one and a knock: $(tr '\n' ' ' <fake.out), expected 1 0 1 0"
# its own probes went unanswered (the fake does not echo): exit 1, as ping with no reply
finished p "$ppid" 1
has p "answered 127.0.0.1:7012: 2 probes, 128 bytes; it said bye"
has p "3 sent, 0 received, 3 lost (100.0%)"

# --- UDP: no bye (lost, or never sent) - the other's silence ends the wait ---------------
"$py" - 7022 7021 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.connect(("127.0.0.1", int(sys.argv[2])))
time.sleep(0.5)
s.send(b"knock from=0000beef\n")
time.sleep(8)
EOF
fpid=$!
pids+=("$fpid")
peer "$udp" s 7021 7022 -c 2 -i 0.1 -W 0.3
start=$SECONDS
finished s "$pid" 1
has s "answered 127.0.0.1:7022: 0 probes, 0 bytes; it fell silent"
((SECONDS - start < 8)) || fail "udp: the silent peer's wait took $((SECONDS - start)) s"

# --- TCP: one connection, from the other peer's address only --------------------------------
peer "$tcp" t 7031 7032 -c 0 -i 0.2 -v
tpid=$pid
peer "$tcp" u 7032 7031 -c 0 -i 0.2 -v
upid=$pid
for _ in $(seq 100); do grep -q '^64 bytes' t.out && grep -q '^64 bytes' u.out && break; sleep 0.1; done
"$py" - <<'EOF' || fail "tcp: a stranger or a second connection was kept"
import socket
for src in ("127.0.0.2", "127.0.0.1"):      # another address; the peer's, but a second time
    c = socket.create_connection(("127.0.0.1", 7031), timeout=5, source_address=(src, 0))
    c.settimeout(5)
    c.sendall(b"from=0000c0de seq=1 t=1 abcdefghijklmnopqrstuvwxyz")
    try:
        got = c.recv(100)
    except ConnectionResetError:
        got = b""
    assert got == b"", got                   # closed, nothing echoed
EOF
has t "refused 127.0.0.2:"
has t "not the other peer's address; closed"
has t "the other peer is connected already; closed"
# Ctrl-C ends both: what was measured is printed, and both say they were interrupted
kill -INT "$tpid" "$upid"
finished t "$tpid" 0
finished u "$upid" 0
has t "answered 127.0.0.1:7032: "
grep -qE "^[0-9]+ sent, [0-9]+ received, 0 lost" t.out || fail "tcp: t lost probes: $(cat t.out)"

# --- TCP: the other is killed mid-run --------------------------------------------------------
peer "$tcp" v 7041 7042 -c 0 -i 0.1
vpid=$pid
peer "$tcp" w 7042 7041 -c 0 -i 0.1
wpid=$pid
for _ in $(seq 100); do grep -q '^64 bytes' v.out && grep -q '^64 bytes' w.out && break; sleep 0.1; done
kill -KILL "$wpid"
# the kernel closes what the killed peer held: both connections end with a FIN, so v's run
# ends as after Ctrl-C, with what it counted (exit 0: replies came back)
finished v "$vpid" 0
has v "from 127.0.0.1:7042: connection closed (the other peer stopped); no more probes"
has v "answered 127.0.0.1:7042: "
has v "; it closed its connection"

# --- TCP: the other never connects back, but closes ours: this peer stops at once --------
# x waits for someone else (7079) and answers y (same address); y's probes done, its FIN
# brings x's, which must end y's wait however soon after y's own FIN it comes
for round in 1 2 3; do
    peer "$tcp" x 7072 7079 -c 1
    xpid=$pid
    start=$SECONDS
    peer "$tcp" y 7071 7072 -c 3 -i 0.1
    finished y "$pid" 0
    ((SECONDS - start < 8)) || fail "tcp: round $round: y waited $((SECONDS - start)) s after x's FIN"
    has y "answered 127.0.0.1:7072: 0 bytes on its connection; it never came"
    kill -INT "$xpid"
    finished x "$xpid" 1
done

# --- never there: Ctrl-C ends the wait with one line -------------------------------------
for bin in "$tcp" "$udp"; do
    peer "$bin" n 7051 7052 -c 1
    sleep 0.5
    kill -INT "$pid"
    finished n "$pid" 1
    has n "no peer at 127.0.0.1:7052: interrupted before it came"
done

# --- JSON: the listening line and the last line as objects -------------------------------
peer "$udp" j 7061 7062 -c 2 -i 0.1 --json
jpid=$pid
peer "$udp" k 7062 7061 -c 2 -i 0.1
finished j "$jpid" 0
finished k "$pid" 0
has j '"event":"listening"'
has j '"peer_of":"127.0.0.1:7062"'
has j '"event":"answered","proto":"udp","peer":"127.0.0.1:7062","probes":2,"bytes":128,"end":"it said bye"'

echo "PASS $NAME"
