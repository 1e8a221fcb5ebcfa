#!/usr/bin/env bash
# udp-batch: the UDP server, busy, takes what is queued in one recvmmsg and sends the echoes in
# one sendmmsg, each from the address its request was sent to; quiet, it makes one recvmsg
# and one sendmsg a datagram, as every lesson's trace shows.
#
# 200 datagrams from 40 sources (port 40701-40740, half of them writing to 127.0.0.1, half
# to 127.0.0.2) wait on the socket of a stopped server bound to 0.0.0.0 with --trace; once
# it runs again, 16 of them read one at a time make it busy, and the rest must go in batches.
# Then, after a pause, one client's exchange must be a plain recvmsg and sendmsg again.
set -euo pipefail
NAME=udp-batch
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup
cd "$tmp"

udp=${UDP_ECHO:?set by ctest}
py=$(command -v /usr/bin/python3 || command -v python3)

# the trace (stderr) apart from what the server prints
"$udp" server -p 0 -b 0.0.0.0 --trace >srv.out 2>srv.trace &
spid=$!
pids+=("$spid") servers+=("$spid:srv")
wait_for srv.out "^listening on 0\.0\.0\.0:"
port=$(sed -n 's/^listening on 0\.0\.0\.0:\([0-9]*\) .*/\1/p' srv.out)
kill -STOP "$spid"
"$py" - "$port" sent >burst.out <<'EOF' &
import socket, sys
port, ready = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(40):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 40701 + i))
    s.settimeout(20)
    to = ("127.0.0.1" if i % 2 == 0 else "127.0.0.2", port)
    for k in range(5):
        s.sendto(b"source %d, datagram %d" % (i, k), to)
    socks.append((s, to))
open(ready, "w").close()
for i, (s, to) in enumerate(socks):
    for k in range(5):
        data, src = s.recvfrom(100)
        if data != b"source %d, datagram %d" % (i, k) or src != to:
            sys.exit(f"source {i}: {data!r} from {src}, expected datagram {k} from {to}")
print("200 answered, each from the address it was sent to")
EOF
burst=$!
for _ in $(seq 400); do [[ -e sent ]] && break; sleep 0.05; done
[[ -e sent ]] || fail "the sources never sent: $(cat burst.out)"
kill -CONT "$spid"
wait "$burst" || fail "burst: $(cat burst.out)"

# the largest batch recvmmsg took, and every datagram accounted for
most=$(sed -n 's/^recvmmsg([0-9]*, 64 x [0-9]*) = \([0-9]*\) .*/\1/p' srv.trace | sort -n | tail -1)
[[ -n $most ]] || fail "no recvmmsg: the busy server took every datagram alone: $(grep -cE '^recvmsg\([0-9]+, [0-9]+\) = [0-9]+ ' srv.trace) recvmsg"
((most >= 2)) || fail "no recvmmsg took more than one datagram"
# (a heartbeat's recvmsg, every 200 ms, fails with EAGAIN: those are left out)
one=$(grep -cE '^recvmsg\([0-9]+, [0-9]+\) = [0-9]+ ' srv.trace || true)
batched=$(sed -n 's/^recvmmsg([0-9]*, 64 x [0-9]*) = \([0-9]*\) .*/\1/p' srv.trace | awk '{ s += $1 } END { print s + 0 }')
((one + batched == 200)) || fail "recvmsg took $one, recvmmsg $batched: not 200"
((one <= 16)) || fail "recvmsg took $one datagrams one at a time: at most 16 before the server is busy"
sent=$(sed -n 's/^sendmmsg([0-9]*, [0-9]* datagrams\{0,1\}) = \([0-9]*\) .*/\1/p' srv.trace | awk '{ s += $1 } END { print s + 0 }')
((sent == batched)) || fail "sendmmsg sent $sent echoes for $batched requests"
[[ $(grep -c '^ *1 datagram of [0-9]* bytes to 127\.0\.0\.1:407[0-4][0-9] ->$' srv.trace) == "$batched" ]] ||
    fail "one line per echo of a batch: $(grep -A3 '^sendmmsg' srv.trace | head)"

# quiet again: after a receive that waited past the window (the 200 ms heartbeat), one
# exchange is one recvmsg and one sendmsg
sleep 1
exchange_calls() { grep -E '^(recvmsg|sendmsg|recvmmsg|sendmmsg)\(.*\) = [0-9]+ ' srv.trace || true; }
before=$(exchange_calls | wc -l)
[[ $("$udp" client -p "$port" -m alone 127.0.0.1) == alone ]] || fail "the quiet exchange"
for _ in $(seq 100); do
    (($(exchange_calls | wc -l) >= before + 2)) && break
    sleep 0.05
done
calls=$(exchange_calls | tail -n +$((before + 1)) | sed 's/(.*//' | paste -sd' ')
[[ $calls == "recvmsg sendmsg" ]] || fail "quiet: the exchange took '$calls', not 'recvmsg sendmsg'"

stop_servers
s=$(grep '^summary:' srv.out)
[[ $s == "summary: 41 peers, 201 datagrams received, 201 sent, "*", 0 errors" ]] || fail "summary: $s"
echo "PASS $NAME: 200 queued datagrams: $one alone, $batched in batches (at most $most a call), each echo from the address written to; quiet again: recvmsg, sendmsg"
