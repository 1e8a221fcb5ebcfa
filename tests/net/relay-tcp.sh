#!/usr/bin/env bash
# relay-tcp: tcp-echo relay between real clients and a real server, in a network namespace
# of this test's own. Every byte gets through both ways, counted on both sides; a half-close
# is passed on after the data before it; a slow upstream and a client that never reads are
# slowed by their own windows while the relay's memory stays put; an upstream that is down,
# that dies, and a client that resets each end the way TCP says they should.
set -euo pipefail

tcp=${TCP_ECHO:?set by ctest}

NAME=relay-tcp
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup
cd "$tmp"
py=/usr/bin/python3

# relay_to UPORT NAME ARGS...: a relay to 127.0.0.1:UPORT; its port in $rport, pid in $rpid
relay_to() {
    local up=$1 name=$2
    shift 2
    ROLE=relay serve "$tcp" "$name" --to "127.0.0.1:$up" "$@"
    rport=$port rpid=$pid
}

# stop NAME PID: SIGINT, exit 0, and the summary it printed in $summary
stop() {
    local keep=() e rc=0
    kill -INT "$2"
    wait "$2" || rc=$?
    ((rc == 0)) || fail "$1 exited $rc after SIGINT: $(tail -3 "$1.out")"
    for e in "${servers[@]}"; do [[ ${e%%:*} == "$2" ]] || keep+=("$e"); done
    servers=("${keep[@]}")
    summary=$(grep '^summary: ' "$1.out") || fail "$1 printed no summary: $(tail -3 "$1.out")"
}

# counted NAME PID TEXT: wait (up to 10 s) until SIGUSR1's counters line holds TEXT
counted() {
    for _ in $(seq 100); do
        kill -USR1 "$2"
        sleep 0.1
        grep -q "^counters: .*$3" "$1.out" && return 0
    done
    fail "$1 never counted '$3': $(grep '^counters: ' "$1.out" | tail -1)"
}

expect_usage() {
    local text=$1 rc=0
    shift
    "$tcp" relay "$@" >out 2>err || rc=$?
    [[ $rc == 2 && $(wc -l <err) == 1 ]] || fail "relay $*: exit $rc, expected 2 and one line: $(cat err)"
    grep -qF -- "$text" err || fail "relay $*: '$text' not in: $(cat err)"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# --- bad command lines: exit 2, one line ------------------------------------------------
expect_usage "needs --to HOST[:PORT]"
expect_usage "makes none of its own: give --reply to the server" --to localhost:7008 --reply hi
expect_usage "passes TLS through unread" --to localhost:7008 --tls
expect_usage "runs one model, epoll" --to localhost:7008 --model thread
expect_usage "is a client option" --to localhost:7008 -c 3
expect_usage "the relay takes no host" --to localhost:7008 somehost
expect_usage "is the relay's own address" -p 7010 --to 127.0.0.1:7010

# --- probes and a stream through the relay, every byte counted on both sides -------------
serve "$tcp" echo -v
sport=$port spid=$pid
relay_to "$sport" relay -v
grep -qx "listening on 127.0.0.1:$rport (tcp, relay to 127.0.0.1:$sport)" relay.out ||
    fail "listening line: $(head -1 relay.out)"
"$tcp" client -c 20 -i 0.01 -p "$rport" 127.0.0.1 >probes || fail "probes: $(cat probes)"
grep -q "^20 sent, 20 received, 0 lost" probes || fail "probes: $(cat probes)"
# the server saw the relay, from the port the relay says it used
up_port=$(sed -n 's/^upstream .*: connected to 127.0.0.1:[0-9]* from 127.0.0.1:\([0-9]*\)$/\1/p' relay.out)
[[ -n $up_port ]] || fail "no 'upstream ... from 127.0.0.1:PORT' line: $(cat relay.out)"
grep -q "^accepted 127.0.0.1:$up_port\$" echo.out || fail "the server did not see port $up_port: $(cat echo.out)"

# 3 MB in through stdin; the client half-closes at the end and waits for the server's FIN,
# which comes only once the relay has passed the client's FIN on and the echo back
head -c 3000000 /dev/urandom >big
"$tcp" client -p "$rport" 127.0.0.1 <big >big.echo || fail "stream through the relay failed"
cmp -s big big.echo || fail "the echo through the relay differs from what was sent"
stop relay "$rpid"
bytes=$((20 * 64 + 3000000))
[[ $summary == "summary: 2 clients, "*" $bytes bytes in, $bytes bytes out, 0 truncated, 0 refused, 0 errors; upstream: 2 connections, 0 failed, "*" $bytes bytes out, $bytes bytes in" ]] ||
    fail "relay summary: $summary"

# --- two relays on one port (--reuseport): the kernel spreads the connections -------------
relay_to "$sport" pair1 -v --reuseport
pair1=$rpid
# the second on the first's port: a later -p overrides serve's -p 0
relay_to "$sport" pair2 -v --reuseport -p "$rport"
for i in $(seq 20); do
    [[ $("$tcp" client -m "c$i" -p "$rport" 127.0.0.1) == "c$i" ]] || fail "two relays: c$i did not come back"
done
stop pair1 "$pair1"
a1=$(grep -c "^accepted " pair1.out || true)
stop pair2 "$rpid"
a2=$(grep -c "^accepted " pair2.out || true)
((a1 + a2 == 20 && a1 > 0 && a2 > 0)) ||
    fail "two relays on one port: $a1 and $a2 connections (20 in all, some in each)"

# --- a slow upstream slows the client; the relay's memory stays put ----------------------
# an upstream that accepts and never reads, and a client that sends until it cannot
"$py" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
time.sleep(30)
' >sink.port &
sinkpid=$!
pids+=("$sinkpid")
for _ in $(seq 100); do [[ -s sink.port ]] && break; sleep 0.05; done
relay_to "$(cat sink.port)" slow
rss0=$(rss_kb "$rpid")
# send: bytes the kernel took before it would take no more for 1 s, or -1 if it never stopped
send_until_blocked() {
    "$py" -c '
import socket, select, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.setblocking(False)
chunk, sent, end = b"x" * 65536, 0, time.time() + 20
while time.time() < end:
    _, w, _ = select.select([], [c], [], 1.0)
    if not w:
        print(sent); sys.exit(0)
    try:
        sent += c.send(chunk)
    except BlockingIOError:
        pass
print(-1)
' "$1"
}
sent=$(send_until_blocked "$rport")
((sent > 0)) || fail "a client of a never-reading upstream was never held back"
# what it got out were the kernel's buffers (client, relay both ways, upstream): a few MB
((sent < 64 * 1024 * 1024)) || fail "a client of a never-reading upstream sent $sent bytes"
rss1=$(rss_kb "$rpid")
((rss1 - rss0 < 1024)) || fail "the relay grew from $rss0 kB to $rss1 kB holding a stalled stream"
echo "slow upstream: the client sent $sent bytes before it was held; relay RSS $rss0 -> $rss1 kB"
stop slow "$rpid"
kill "$sinkpid" 2>/dev/null || true

# --- a client that never reads: the echo backs up to it, and it is held the same way ------
relay_to "$sport" noread
rss0=$(rss_kb "$rpid")
sent=$(send_until_blocked "$rport")
((sent > 0)) || fail "a client that never reads was never held back"
rss1=$(rss_kb "$rpid")
((rss1 - rss0 < 1024)) || fail "the relay grew from $rss0 kB to $rss1 kB for a client that never reads"
echo "never-reading client: sent $sent bytes before it was held; relay RSS $rss0 -> $rss1 kB"
stop noread "$rpid"

# --- a client that resets: the server hears a reset too ----------------------------------
serve "$tcp" echo2
epid=$pid
relay_to "$port" reset
"$py" -c '
import socket, struct, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"r" * 1000)
time.sleep(0.5)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
' "$rport"
counted reset "$rpid" "1 errors; upstream: 1 connections"
counted echo2 "$epid" " 1000 bytes in, .* 1 errors"
stop reset "$rpid"
stop echo2 "$epid"

# --- an upstream that is down: each client hears a close; up again, no restart needed ----
serve "$tcp" probe
free_port=$port
stop probe "$pid"
relay_to "$free_port" down
rc=0
"$tcp" client -m hello -p "$rport" 127.0.0.1 >out 2>err || rc=$?
[[ $rc == 1 ]] && grep -q "closed the connection" err || fail "a client of a relay whose upstream is down: exit $rc, $(cat err)"
grep -q "^upstream 127.0.0.1:[0-9]*: cannot connect to 127.0.0.1:$free_port: Connection refused (ECONNREFUSED); closing the client\$" down.out ||
    fail "no notice of the refused upstream: $(cat down.out)"
"$tcp" server -p "$free_port" >late.out 2>&1 &
latepid=$!
pids+=("$latepid")
for _ in $(seq 100); do [[ -s late.out ]] && break; sleep 0.05; done
[[ $("$tcp" client -m again -p "$rport" 127.0.0.1) == again ]] || fail "the relay did not reach the upstream once it was up"

# --- the upstream dies mid-session: its FIN reaches the client ---------------------------
mkfifo feed
"$tcp" client -p "$rport" 127.0.0.1 <feed >died.out 2>died.err &
cpid=$!
exec 3>feed
echo before >&3
for _ in $(seq 100); do grep -q before died.out && break; sleep 0.05; done
kill -KILL "$latepid"
wait "$latepid" 2>/dev/null || true # reaped here, without bash's "Killed" line
rc=0
wait "$cpid" || rc=$?
exec 3>&-
grep -qx before died.out || fail "the echo before the upstream died was lost: $(cat died.out)"
((rc == 0 || rc == 1)) || fail "the client of a dead upstream exited $rc"
[[ $rc == 0 ]] || grep -q "closed the connection" died.err || fail "client of a dead upstream: $(cat died.err)"
stop down "$rpid"
[[ $summary == *"; upstream: 2 connections, 1 failed, "* ]] || fail "relay summary: $summary"

stop_servers
echo "relay-tcp: ok"
