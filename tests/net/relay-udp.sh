#!/usr/bin/env bash
# relay-udp: udp-echo relay between real clients and a real udp-echo server, in a network
# namespace of this test's own. Probes through the relay, counted exactly on both sides; two
# clients at once on two mappings, each answered only with its own; datagrams from several
# sources taken in one call, and their answers sent in one; a mapping that expires
# after --idle-timeout and a new one (a new upstream port) for the same source; a full table
# (--max-clients 3) that evicts the source heard from least recently; sources refused as the
# server refuses them, and datagrams cut short by --recv-size, either way; an upstream that is
# not there yet (ICMP port unreachable, counted) and one that dies mid-session; descriptors that
# run out at run time; a flood of 100,000 sources against --max-clients 500, with the relay's
# memory and descriptors measured; and the command lines a relay refuses.
set -euo pipefail

udp=${UDP_ECHO:?set by ctest}

NAME=relay-udp
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup
cd "$tmp"
py=$(command -v /usr/bin/python3 || command -v python3)

summary() { grep "^summary: " "$1" || fail "$1: no summary: $(cat "$1")"; }
counters() { grep "^counters: " "$1" | tail -1; }
# field TEXT WORDS: the number before WORDS in a summary or counters line
field() { sed -n "s/.*[^0-9]\([0-9][0-9]*\) $2.*/\1/p" <<<"$1"; }
up() { field " ${1#*upstream: }" "$2"; }
fds() { ls "/proc/$1/fd" | wc -l; }
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
# from ADDR:PORT MESSAGE: send MESSAGE to the relay ($rport) from that source and print the
# answer; exit 1 when none comes within $WAIT s (10)
from() {
    "$py" - "$1" "$2" "$rport" "${WAIT:-10}" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, int(port)))
s.settimeout(float(sys.argv[4]))
s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[3])))
try:
    print(s.recv(65535).decode())
except socket.timeout:
    sys.exit(1)
EOF
}
# via SOURCE MESSAGE [WHAT]: from SOURCE, MESSAGE must come back
via() { [[ $(from "$1" "$2") == "$2" ]] || fail "${3:-$1}: '$2' did not come back through the relay"; }
# mapped_from RELAY_OUT SOURCE: the upstream ports the relay mapped SOURCE to, one a line
mapped_from() { sed -n "s/^mapped $2: to [^ ]* from 127\.0\.0\.1:\([0-9]*\)$/\1/p" "$1"; }

# --- 1. probes through the relay, every datagram counted on each side --------------------
serve "$udp" srv1 -v
sport=$port
ROLE=relay serve "$udp" relay1 -v --to "127.0.0.1:$sport"
rport=$port rpid=$pid
[[ $(head -1 relay1.out) == "listening on 127.0.0.1:$rport (udp, relay to 127.0.0.1:$sport)" ]] ||
    fail "listening line: $(head -1 relay1.out)"
"$udp" client -c 20 -i 0.01 -W 5 -p "$rport" 127.0.0.1 >probes1.out || fail "probes: $(cat probes1.out)"
grep -q "^20 sent, 20 received, 0 lost (0.0%), 0 duplicated, 0 reordered" probes1.out ||
    fail "probes through the relay: $(cat probes1.out)"
# the server saw the client as the relay's upstream socket, the one the relay said it mapped
uport=$(grep "^mapped 127\.0\.0\.1:" relay1.out | sed -n 's/.* from 127\.0\.0\.1:\([0-9]*\)$/\1/p')
[[ -n $uport ]] || fail "no mapped line: $(cat relay1.out)"
grep -q "^first datagram from 127\.0\.0\.1:$uport$" srv1.out || fail "the server saw: $(cat srv1.out)"
stop_servers
want="summary: 1 peers, 20 datagrams received, 20 sent, 1280 bytes in, 1280 bytes out, 0 truncated, 0 refused, 0 errors; upstream: 1 sockets, 0 failed, 20 datagrams sent, 20 received, 1280 bytes out, 1280 bytes in, 0 expired, 0 evicted"
[[ $(summary relay1.out) == "$want" ]] || fail "relay's summary: $(summary relay1.out)"
[[ $(summary srv1.out) == "summary: 1 peers, 20 datagrams received, 20 sent, 1280 bytes in, 1280 bytes out, 0 truncated, 0 refused, 0 errors" ]] ||
    fail "server's summary: $(summary srv1.out)"
echo "1. probes: 20/20 through the relay; upstream port $uport"

# --once and --json: the relay ends after the first answer it passes back
serve "$udp" srv1b
"$udp" relay -p 7110 --once --json --to "127.0.0.1:$port" >relay1b.out 2>&1 &
rpid=$! rport=7110
pids+=("$rpid")
wait_for relay1b.out '"event":"listening","address":"127.0.0.1","port":7110,"proto":"udp","relay_to":"127.0.0.1:'
via 127.0.0.1:40100 once "--once"
for _ in $(seq 100); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$rpid" 2>/dev/null && fail "--once: the relay still runs after an answer"
rc=0
wait "$rpid" || rc=$?
((rc == 0)) || fail "--once: exit status $rc: $(cat relay1b.out)"
grep -q '^{"event":"summary","proto":"udp","clients":1,"messages_received":1,"messages_sent":1,.*"upstream_opened":1,"upstream_failed":0,"upstream_messages_sent":1,"upstream_messages_received":1,.*"upstream_expired":0,"upstream_evicted":0}$' relay1b.out ||
    fail "--once --json: $(cat relay1b.out)"
stop_servers

# --- 2. two clients at once: a mapping each, and each hears only its own answers ---------
serve "$udp" srv2 -v
ROLE=relay serve "$udp" relay2 -v --to "127.0.0.1:$port"
rport=$port
"$udp" client -c 30 -i 0.01 -W 5 -p "$rport" 127.0.0.1 >a.out &
a=$!
"$udp" client -c 30 -i 0.01 -W 5 -s 200 -p "$rport" 127.0.0.1 >b.out &
b=$!
wait "$a" || fail "client a: $(cat a.out)"
wait "$b" || fail "client b: $(cat b.out)"
grep -q "^30 sent, 30 received, 0 lost (0.0%), 0 duplicated" a.out || fail "client a: $(cat a.out)"
grep -q "^30 sent, 30 received, 0 lost (0.0%), 0 duplicated" b.out || fail "client b: $(cat b.out)"
# two sources, sending in turn, each message named for its sender
"$py" - "$rport" >interleaved.out <<'EOF' || fail "interleaved: $(cat interleaved.out)"
import socket, sys
rport = int(sys.argv[1])
socks = {}
for name, port in (("alpha", 40201), ("beta", 40202)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(5)
    socks[name] = s
for i in range(10):
    for name, s in socks.items():
        s.sendto(f"{name}-{i}".encode(), ("127.0.0.1", rport))
for name, s in socks.items():
    got = [s.recv(100).decode() for _ in range(10)]
    s.settimeout(0.3)
    try:
        got.append(s.recv(100).decode())
    except socket.timeout:
        pass
    if sorted(got) != sorted(f"{name}-{i}" for i in range(10)):
        sys.exit(f"{name} heard {got}")
print("each heard its own 10")
EOF
a_up=$(mapped_from relay2.out 127.0.0.1:40201) b_up=$(mapped_from relay2.out 127.0.0.1:40202)
[[ -n $a_up && -n $b_up && $a_up != "$b_up" ]] || fail "two sources, ports '$a_up' '$b_up': $(cat relay2.out)"
grep -q "^first datagram from 127\.0\.0\.1:$a_up$" srv2.out || fail "the server did not see $a_up: $(cat srv2.out)"
grep -q "^first datagram from 127\.0\.0\.1:$b_up$" srv2.out || fail "the server did not see $b_up: $(cat srv2.out)"
[[ $(grep -c "^first datagram from" srv2.out) == 4 ]] || fail "the server saw: $(cat srv2.out)"
stop_servers
s=$(summary relay2.out)
[[ $(field "$s" peers) == 4 && $(field "$s" "datagrams received") == 80 && $(field "$s" sent) == 80 ]] ||
    fail "relay's summary: $s"
[[ $(up "$s" sockets) == 4 && $(up "$s" evicted) == 0 ]] || fail "relay's summary: $s"
echo "2. two at once: 30/30 each; alpha as port $a_up, beta as port $b_up, each heard its own"

# --- 2b. batches: clients' datagrams taken in one recvmmsg, answers sent in one sendmmsg ---
# Five sources send while the relay is stopped, so all five wait on its listening socket; the
# server is stopped while the relay passes them on, and the relay while the server answers, so
# all five answers wait on the mappings' sockets. A relay bound to the wildcard address, with
# three sources writing to 127.0.0.1 and two to 127.0.0.2: each answer must come back from
# the address its source wrote to.
serve "$udp" srv2b
spid=$pid sport=$port
"$udp" relay -p 0 -b 0.0.0.0 --trace --to "127.0.0.1:$sport" >relay2b.out 2>&1 &
rpid=$!
pids+=("$rpid") servers+=("$rpid:relay2b")
wait_for relay2b.out "^listening on 0\.0\.0\.0:"
rport=$(sed -n 's/^listening on 0\.0\.0\.0:\([0-9]*\) .*/\1/p' relay2b.out)
kill -STOP "$spid" "$rpid"
"$py" - "$rport" batch.sent >batch.out <<'EOF2' &
import socket, sys
rport, ready = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 40601 + i))
    s.settimeout(20)
    to = ("127.0.0.1" if i < 3 else "127.0.0.2", rport)
    s.sendto(b"batch %d" % i, to)
    socks.append((s, to))
open(ready, "w").close()
for i, (s, to) in enumerate(socks):
    data, src = s.recvfrom(100)
    if data != b"batch %d" % i or src != to:
        sys.exit(f"source {i}: {data!r} from {src}, expected from {to}")
print("5 answered, each from the address it was sent to")
EOF2
batch=$!
for _ in $(seq 400); do [[ -e batch.sent ]] && break; sleep 0.05; done
[[ -e batch.sent ]] || fail "the five sources never sent: $(cat batch.out)"
kill -CONT "$rpid"
for _ in $(seq 400); do (($(grep -c "^send(" relay2b.out) == 5)) && break; sleep 0.05; done
(($(grep -c "^send(" relay2b.out) == 5)) || fail "the relay did not pass five on: $(cat relay2b.out)"
kill -STOP "$rpid"
kill -CONT "$spid"
# the five answers queued on the relay's five mapping sockets (its other sockets read all)
"$py" - <<'EOF2' || fail "the answers never queued at the relay: $(cat relay2b.out)"
import sys, time
for _ in range(400):
    queued = sum(1 for line in open("/proc/net/udp").readlines()[1:]
                 if int(line.split()[4].split(":")[1], 16) > 0)
    if queued >= 5:
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
EOF2
kill -CONT "$rpid"
wait "$batch" || fail "batch: $(cat batch.out)"
stop_servers
grep -q "^recvmmsg([0-9]*, 64 x [0-9]*) = 5 *<- 5 datagrams in one call$" relay2b.out ||
    fail "five requests, not one recvmmsg: $(grep mmsg relay2b.out)"
grep -q "^sendmmsg([0-9]*, 5 datagrams) = 5 *5 datagrams in one call ->$" relay2b.out ||
    fail "five answers, not one sendmmsg: $(grep mmsg relay2b.out)"
[[ $(grep -c "^ *<- 1 datagram of 7 bytes from 127\.0\.0\.1:4060[1-5]$" relay2b.out) == 5 &&
    $(grep -c "^ *1 datagram of 7 bytes to 127\.0\.0\.1:4060[1-5] ->$" relay2b.out) == 5 ]] ||
    fail "the batches' datagrams, one line each: $(grep -A5 mmsg relay2b.out)"
s=$(summary relay2b.out)
[[ $(field "$s" "datagrams received") == 5 && $(field "$s" sent) == 5 && $(field "$s" errors) == 0 &&
    $(up "$s" "datagrams sent") == 5 && $(up "$s" received) == 5 ]] || fail "relay2b's summary: $s"
echo "2b. batches: 5 requests in one recvmmsg, 5 answers in one sendmmsg, each from the address written to"

# --- 2c. two relays on one port (--reuseport): each source stays with one of them --------
# the kernel picks a relay by a hash of the source, so every datagram of a source meets the
# relay that holds its mapping: 20 sources, 3 datagrams each, make 20 mappings in all
serve "$udp" srv2c
sport=$port
ROLE=relay serve "$udp" relay2c1 -v --reuseport --to "127.0.0.1:$sport"
rport=$port
# the second on the first's port: a later -p overrides serve's -p 0
ROLE=relay serve "$udp" relay2c2 -v --reuseport -p "$rport" --to "127.0.0.1:$sport"
[[ $port == "$rport" ]] || fail "the second relay listens on $port, not $rport"
for round in 1 2 3; do
    for i in $(seq 40901 40920); do via "127.0.0.1:$i" "r$round from $i"; done
done
m1=$(grep -c "^mapped 127\.0\.0\.1:409" relay2c1.out || true)
m2=$(grep -c "^mapped 127\.0\.0\.1:409" relay2c2.out || true)
((m1 + m2 == 20 && m1 > 0 && m2 > 0)) ||
    fail "two relays on one port: $m1 and $m2 mappings (20 in all, some in each)"
stop_servers
echo "2c. two relays on one port: 60 datagrams from 20 sources answered, mapped $m1 and $m2 times"

# --- 3. idle expiry, and a new mapping for the same source -------------------------------
serve "$udp" srv3 -v
ROLE=relay serve "$udp" relay3 -v --idle-timeout 1 --to "127.0.0.1:$port"
rport=$port rpid=$pid
cpu() { awk '{print $14 + $15}' "/proc/$rpid/stat"; }
cpu0=$(cpu) t0=$(date +%s%N)
via 127.0.0.1:40301 one
wait_for relay3.out "^expired 127.0.0.1:40301: unused for --idle-timeout 1 s"
t1=$(date +%s%N)
# then no mapping left: a relay with nothing to expire sleeps (no timer, no spin); CPU in
# clock ticks (1/100 s) from the first datagram to 2 s after the expiry
sleep 2
cpu1=$(cpu)
((cpu1 - cpu0 <= 5)) || fail "a relay with one client used $((cpu1 - cpu0)) ticks of CPU in 3 s"
via 127.0.0.1:40301 two
ports=$(mapped_from relay3.out 127.0.0.1:40301 | tr '\n' ' ')
read -r first second <<<"$ports"
# (the kernel picks each socket's port at random: the same one twice is a 1 in 28,000 chance)
[[ -n ${second:-} && $first != "$second" ]] || fail "one source, mappings from ports: $ports"
grep -q "^first datagram from 127\.0\.0\.1:$second$" srv3.out || fail "the server saw: $(cat srv3.out)"
wait_for relay3.out "^expired 127.0.0.1:40301: .*port $second$"
stop_servers
s=$(summary relay3.out)
[[ $(up "$s" sockets) == 2 && $(up "$s" expired) == 2 && $(up "$s" evicted) == 0 && $(field "$s" peers) == 1 ]] ||
    fail "relay's summary: $s"
ms=$(((t1 - t0) / 1000000))
((ms >= 1000 && ms < 10000)) || fail "expired after $ms ms (--idle-timeout 1)"
echo "3. expiry: after $ms ms (--idle-timeout 1); ports $first then $second; CPU $((cpu1 - cpu0)) ticks"

# --- 4. a full table: the source heard from least recently makes room ---------------------
serve "$udp" srv4
ROLE=relay serve "$udp" relay4 -v --max-clients 3 --to "127.0.0.1:$port"
rport=$port
via 127.0.0.1:40401 s1
via 127.0.0.1:40402 s2
via 127.0.0.1:40403 s3
via 127.0.0.1:40401 s1 # heard again: now 40402 is the one heard from least recently
via 127.0.0.1:40404 s4
grep -q "^evicted 127.0.0.1:40402: heard from least recently of 3 (--max-clients)" relay4.out ||
    fail "40402 was not evicted: $(cat relay4.out)"
[[ $(grep -c "^evicted " relay4.out) == 1 ]] || fail "evicted: $(grep "^evicted " relay4.out)"
via 127.0.0.1:40401 s1
via 127.0.0.1:40403 s3
via 127.0.0.1:40404 s4
[[ $(grep -c "^mapped " relay4.out) == 4 ]] || fail "the others lost their mappings: $(cat relay4.out)"
via 127.0.0.1:40402 s2 # back: 40401 is now the one heard from least recently
grep -q "^evicted 127.0.0.1:40401: " relay4.out || fail "40401 was not evicted: $(cat relay4.out)"
stop_servers
want="summary: 4 peers, 9 datagrams received, 9 sent, 18 bytes in, 18 bytes out, 0 truncated, 0 refused, 0 errors; upstream: 5 sockets, 0 failed, 9 datagrams sent, 9 received, 18 bytes out, 18 bytes in, 0 expired, 2 evicted"
[[ $(summary relay4.out) == "$want" ]] || fail "relay's summary: $(summary relay4.out)"
echo "4. full table: 5 mappings for 4 sources, 2 evicted, least recently heard first"

# --- 4b. sources the relay refuses, as the server would, and datagrams too long -----------
serve "$udp" srv4b
ROLE=relay serve "$udp" relay4b -v --allow 127.0.0.1/32 --recv-size 16 --to "127.0.0.1:$port"
rport=$port
WAIT=1 from 127.0.0.2:40801 outsider >/dev/null && fail "a source outside --allow was relayed"
WAIT=1 from 127.0.0.1:1000 low >/dev/null && fail "a source port below 1024 was relayed"
WAIT=1 from 127.0.0.1:40802 "longer than sixteen bytes" >/dev/null && fail "a cut datagram was relayed"
via 127.0.0.1:40803 short
wait_for relay4b.out "^refused 127.0.0.2:40801: not in --allow$"
wait_for relay4b.out "^refused 127.0.0.1:1000: source port below 1024"
wait_for relay4b.out "^truncated datagram from 127.0.0.1:40802: longer than --recv-size 16 bytes; not relayed$"
# an answer too long for --recv-size is not passed back either
serve "$udp" srv4c --reply "an answer of 27 bytes, cut"
sport=$port
ROLE=relay serve "$udp" relay4c -v --recv-size 16 --to "127.0.0.1:$sport"
rport=$port
WAIT=1 from 127.0.0.1:40804 x >/dev/null && fail "a cut answer was passed back"
wait_for relay4c.out "^truncated datagram from 127.0.0.1:$sport: longer than --recv-size 16 bytes; not relayed$"
stop_servers
want="summary: 1 peers, 3 datagrams received, 1 sent, 24 bytes in, 5 bytes out, 1 truncated, 2 refused, 0 errors; upstream: 1 sockets, 0 failed, 1 datagrams sent, 1 received, 5 bytes out, 5 bytes in, 0 expired, 0 evicted"
[[ $(summary relay4b.out) == "$want" ]] || fail "relay4b's summary: $(summary relay4b.out)"
want="summary: 1 peers, 1 datagrams received, 0 sent, 1 bytes in, 0 bytes out, 1 truncated, 0 refused, 0 errors; upstream: 1 sockets, 0 failed, 1 datagrams sent, 1 received, 1 bytes out, 16 bytes in, 0 expired, 0 evicted"
[[ $(summary relay4c.out) == "$want" ]] || fail "relay4c's summary: $(summary relay4c.out)"
echo "4b. refused: outside --allow, port 1000; cut short: a request and an answer"

# --- 5. the upstream is not there yet ----------------------------------------------------
later=7105
ROLE=relay serve "$udp" relay5 -v --to "127.0.0.1:$later"
rport=$port rpid=$pid
rc=0
"$udp" client -c 3 -i 0.2 -W 0.5 -p "$rport" 127.0.0.1 >probes5.out 2>&1 || rc=$?
((rc == 1)) || fail "probes to no upstream: exit $rc: $(cat probes5.out)"
grep -q "^3 sent, 0 received, 3 lost (100.0%)" probes5.out || fail "probes to no upstream: $(cat probes5.out)"
WAIT=1 from 127.0.0.1:40501 early >/dev/null && fail "an answer came with no upstream"
wait_for relay5.out "^upstream 127.0.0.1:40501: 127.0.0.1:$later refused a datagram from port [0-9]* (ICMP port unreachable"
kill -USR1 "$rpid"
wait_for relay5.out "^counters: "
c=$(counters relay5.out)
failed5=$(up "$c" failed)
((failed5 >= 1)) || fail "no upstream failure counted: $c"
[[ $(up "$c" "datagrams sent") == 4 && $(up "$c" received) == 0 ]] || fail "counters: $c"
# the server starts: the same relay, and the same mapping, reach it
"$udp" server -p "$later" -v >srv5.out 2>&1 &
pids+=($!) servers+=("$!:srv5")
wait_for srv5.out "^listening on 127.0.0.1:$later "
via 127.0.0.1:40501 later "the same source, once the server is up"
[[ $(mapped_from relay5.out 127.0.0.1:40501 | wc -l) == 1 ]] || fail "the mapping was not kept: $(cat relay5.out)"
"$udp" client -c 3 -i 0.05 -W 5 -p "$rport" 127.0.0.1 >probes5b.out || fail "probes: $(cat probes5b.out)"
grep -q "^3 sent, 3 received, 0 lost" probes5b.out || fail "probes, server up: $(cat probes5b.out)"
stop_servers
s=$(summary relay5.out)
[[ $(up "$s" sockets) == 3 && $(up "$s" "datagrams sent") == 8 && $(up "$s" received) == 4 ]] ||
    fail "relay's summary: $s"
echo "5. no upstream: client lost 3/3, relay counted $failed5 failed; then reached without a restart"

# --- 6. the upstream dies mid-session -----------------------------------------------------
serve "$udp" srv6
spid=$pid
ROLE=relay serve "$udp" relay6 -v --to "127.0.0.1:$port"
rport=$port rpid=$pid
"$udp" client -c 40 -i 0.05 -W 4 -p "$rport" 127.0.0.1 >probes6.out 2>&1 &
c6=$!
for _ in $(seq 200); do [[ $(grep -c "bytes from" probes6.out) -ge 5 ]] && break; sleep 0.05; done
kill -INT "$spid"
wait "$spid" || fail "the server's exit status: $?"
servers=("${servers[@]:1}")
rc=0
wait "$c6" || rc=$?
# (as ping does, the client fails only when nothing at all came back)
((rc == 0)) || fail "the client, upstream gone: exit $rc: $(cat probes6.out)"
line=$(grep "^40 sent, " probes6.out) || fail "no statistics: $(cat probes6.out)"
got=$(field "$line" received) lost=$(field "$line" lost)
((got >= 5 && lost >= 1)) || fail "the client: $line"
kill -0 "$rpid" || fail "the relay died with its upstream"
stop_servers
s=$(summary relay6.out)
((got == $(field "$s" sent) && got == $(up "$s" received))) || fail "client got $got; relay: $s"
[[ $(field "$s" "datagrams received") == 40 && $(up "$s" "datagrams sent") == 40 ]] || fail "relay: $s"
failed6=$(up "$s" failed)
((failed6 >= 1 && failed6 <= lost)) || fail "relay counted $failed6 failed for $lost lost: $s"
echo "6. upstream gone: client $got received, $lost lost; relay counted $failed6 failed, stayed up"

# --- 7. out of descriptors at run time: the oldest mapping gives its socket up -------------
serve "$udp" srv7
sport=$port
ROLE=relay serve "$udp" relay7 -v --to "127.0.0.1:$sport"
rport=$port rpid=$pid
soft=$(prlimit --pid "$rpid" --nofile --noheadings --output SOFT)
# the soft limit set so that exactly two more descriptors can be opened
open_fds=" $(ls "/proc/$rpid/fd" | tr '\n' ' ') "
limit=0 free=0
while ((free < 2)); do
    [[ $open_fds == *" $limit "* ]] || free=$((free + 1))
    limit=$((limit + 1))
done
prlimit --pid "$rpid" --nofile="$limit:"
via 127.0.0.1:40701 d1
via 127.0.0.1:40702 d2
via 127.0.0.1:40703 d3 "out of descriptors"
grep -q "^evicted 127.0.0.1:40701: " relay7.out || fail "no eviction for a descriptor: $(cat relay7.out)"
# with one descriptor fewer and no mapping left to give one up, a source is dropped
prlimit --pid "$rpid" --nofile="$soft:"
ROLE=relay serve "$udp" relay7b -v --to "127.0.0.1:$sport"
rport=$port rpid=$pid
open_fds=" $(ls "/proc/$rpid/fd" | tr '\n' ' ') "
limit=0
while [[ $open_fds == *" $limit "* ]]; do limit=$((limit + 1)); done
prlimit --pid "$rpid" --nofile="$limit:"
WAIT=1 from 127.0.0.1:40704 none >/dev/null && fail "a datagram was relayed with no descriptor to spare"
wait_for relay7b.out "^dropped datagram from 127.0.0.1:40704: no mapping for it: .* (EMFILE); dropped$"
# (LeakSanitizer, at exit, needs a descriptor or two of its own)
prlimit --pid "$rpid" --nofile="$soft:"
stop_servers
s=$(summary relay7.out)
[[ $(up "$s" sockets) == 3 && $(up "$s" evicted) == 1 && $(field "$s" errors) == 0 ]] || fail "relay7: $s"
s=$(summary relay7b.out)
[[ $(up "$s" sockets) == 0 && $(field "$s" errors) == 1 && $(field "$s" "datagrams received") == 1 ]] ||
    fail "relay7b: $s"
echo "7. out of descriptors: the oldest evicted for the third source; none to evict: dropped, counted"

# --- 8. a flood of 100,000 sources against --max-clients 500 -------------------------------
serve "$udp" srv8 -q
# ASan, with no quarantine: freed memory held back to catch its use would look like growth
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
    ROLE=relay serve "$udp" relay8 --max-clients 500 --idle-timeout 0 --to "127.0.0.1:$port"
rport=$port rpid=$pid
"$udp" client -c 3 -i 0.05 -W 5 -p "$rport" 127.0.0.1 >probes8.out || fail "before the flood: $(cat probes8.out)"
fds_before=$(fds "$rpid") rss_before=$(rss_kb "$rpid")
# descriptors, watched while the flood lasts
(
    max=0
    while [[ ! -e flood.done ]]; do
        n=$(fds "$rpid" 2>/dev/null || echo 0)
        ((n > max)) && max=$n
        echo "$max" >fds.max
        sleep 0.02
    done
) &
pids+=($!)
watcher=$!
t0=$(date +%s%N)
# 100,000 sources, 128 at a time: each a new address in 127/8 (and many ports) that sends one
# datagram and waits for its echo, until none has come for half a second, so the flood goes
# as fast as the relay and the server answer, and a datagram the kernel drops costs a wait.
# Their ports stay below the ephemeral range (32768 up): an upstream socket the relay opens
# holds its port on the wildcard address for a moment as it connects, and a source bound to
# that port then found it in use (EADDRINUSE).
timeout 150 "$py" - "$rport" 100000 >flood.out <<'EOF' || fail "the flood: $(cat flood.out)"
import select, socket, sys, time
rport, total, window = int(sys.argv[1]), int(sys.argv[2]), 128
def sources():
    i = 0
    while True:
        i += 1
        a, b, c = 1 + (i >> 16), (i >> 8) & 255, i & 255
        if c != 0 and c != 255:
            yield (f"127.{a}.{b}.{c}", 1024 + i % 31000)
src = sources()
sent = answered = 0
deadline = time.monotonic() + 120
while sent < total and time.monotonic() < deadline:
    socks = []
    for _ in range(min(window, total - sent)):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(next(src))
        s.setblocking(False)
        s.sendto(b"flood %d" % sent, ("127.0.0.1", rport))
        socks.append(s)
        sent += 1
    waiting = set(socks)
    while waiting:
        ready, _, _ = select.select(list(waiting), [], [], 0.5)
        if not ready:
            break
        for s in ready:
            s.recv(100)
            waiting.discard(s)
            answered += 1
    for s in socks:
        s.close()
print(sent, answered)
EOF
t1=$(date +%s%N)
sleep 0.5
touch flood.done
wait "$watcher" || true
fds_max=$(cat fds.max) fds_after=$(fds "$rpid") rss_after=$(rss_kb "$rpid")
"$udp" client -c 3 -i 0.05 -W 5 -p "$rport" 127.0.0.1 >probes8b.out || fail "after the flood: $(cat probes8b.out)"
grep -q "^3 sent, 3 received, 0 lost" probes8b.out || fail "after the flood: $(cat probes8b.out)"
stop_servers
s=$(summary relay8.out)
opened=$(up "$s" sockets) evicted=$(up "$s" evicted) in=$(field "$s" "datagrams received")
refused=$(field "$s" refused)
# every datagram from a new source opened a mapping (but from a source on the relay's own
# port, refused), and all but the last 500 were evicted; the real client's two runs sent 6
((opened == in - refused - 4 && evicted == opened - 500)) || fail "flood: $s"
read -r flood_sent flood_answered <flood.out
((flood_sent == 100000 && flood_answered >= 90000)) ||
    fail "the flood: $flood_answered of $flood_sent sources answered; relay: $s"
[[ $(up "$s" expired) == 0 && $(field "$s" errors) == 0 ]] || fail "flood: $s"
# a socket per mapping, and the few the relay holds besides (before: 1 mapping)
((fds_max <= fds_before - 1 + 500 && fds_after == fds_before - 1 + 500)) ||
    fail "descriptors: $fds_before before, at most $fds_max during, $fds_after after"
# every table was made at start, at its full size: a flood recycles them and grows nothing
((rss_after - rss_before < 1024)) || fail "memory: $rss_before kB before the flood, $rss_after kB after"
echo "8. flood: $flood_answered of 100000 sources answered, $opened mappings opened in $(((t1 - t0) / 1000000)) ms, $evicted evicted;" \
    "fds $fds_before -> max $fds_max -> $fds_after; rss $rss_before -> $rss_after kB"

# --- 9. command lines a relay refuses ----------------------------------------------------
# usage WHAT TEXT ARGS...: udp-echo relay ARGS exits 2 with the one line TEXT
usage() {
    local what=$1 text=$2 rc=0
    shift 2
    timeout 10 "$udp" relay "$@" >out 2>err || rc=$?
    ((rc == 2)) || fail "$what: exit $rc, expected 2 ($(cat err))"
    [[ $(cat err) == "$text" ]] || fail "$what: got: $(cat err)"
}
usage "no --to" "udp-echo: relay: needs --to HOST[:PORT], the server it relays to (the port defaults to 7007)"
usage "--to itself" "udp-echo: cannot relay to 127.0.0.1:7300: it is the relay's own address, and every client would be relayed to the relay again (give the server's port, or another -p)" \
    -p 7300 --to 127.0.0.1:7300
usage "--to the [::1] it holds" "udp-echo: cannot relay to [::1]:7300: it is the relay's own address, and every client would be relayed to the relay again (give the server's port, or another -p)" \
    -p 7300 --to "[::1]:7300"
usage "--reply" "udp-echo: --reply: a relay passes the server's answers through and makes none of its own: give --reply to the server" \
    --reply hi --to 127.0.0.1:7301
usage "--tls" "udp-echo: --tls: a relay passes DTLS through unread: give --tls to the client and the server, and the relay carries records it cannot read" \
    --tls --to 127.0.0.1:7301
usage "--max-clients 0" "udp-echo: --max-clients 0: a UDP relay keeps a socket per client source, so it needs room for at least one (default 1000)" \
    --max-clients 0 --to 127.0.0.1:7301
# a hard limit too low for --max-clients: exit 1, one line; a soft one is raised
rc=0
(ulimit -n 64 && exec timeout 10 "$udp" relay --max-clients 100 --to 127.0.0.1:7301) >out 2>err || rc=$?
[[ $rc == 1 && $(cat err) == "udp-echo: cannot keep --max-clients 100 mappings: they need 116 descriptors (a socket each, and 16 besides), and ulimit -n allows 64: too many open files (EMFILE; lower --max-clients, or raise the hard limit with ulimit -Hn)" ]] ||
    fail "hard limit too low: exit $rc: $(cat err)"
(ulimit -Sn 64 && exec "$udp" relay -p 7302 --max-clients 100 --to 127.0.0.1:7301) >soft.out 2>&1 &
pids+=($!) servers+=("$!:soft")
wait_for soft.out "^listening on 127.0.0.1:7302 "
grep -q "^Max open files *116 " "/proc/${servers[0]%%:*}/limits" ||
    fail "soft limit not raised: $(grep "open files" "/proc/${servers[0]%%:*}/limits")"
stop_servers
echo "9. refused: no --to, --to itself (twice), --reply, --tls, --max-clients 0; ulimit -n 64: exit 1"

echo "PASS $NAME"
