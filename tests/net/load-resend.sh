#!/usr/bin/env bash
# load-resend: UDP load mode sends a request again when its reply is overdue, after a timeout
# from the measured RTT (RFC 6298), instead of idling its socket for -W. Against an echo
# server played by the test that drops every 10th request: nothing is lost, every dropped
# request was sent again, and the run keeps its pace (with -W 1 and two sockets, waiting -W
# on each drop would allow about 40 transactions in 2 s).
set -euo pipefail

udp=${UDP_ECHO:?set by ctest}

NAME=load-resend
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup
cd "$tmp"

# the server: echoes requests, drops every 10th, and writes how many it dropped on SIGTERM
/usr/bin/python3 - <<'PY' &
import signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 7201))
n = dropped = 0
def stop(*_):
    open("dropped", "w").write(f"{dropped}\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open("ready", "w").close()
while True:
    data, peer = s.recvfrom(65536)
    n += 1
    if n % 10 == 0:
        dropped += 1
        continue
    s.sendto(data, peer)
PY
server=$!
pids+=("$server")
for _ in $(seq 50); do [[ -e ready ]] && break; sleep 0.1; done

"$udp" client -p 7201 -P 2 -t 2 -W 1 --json 127.0.0.1 >load.json 2>load.err ||
    fail "load run failed: $(cat load.err)"
kill -TERM "$server"
wait "$server" || true
field() { jq -r "select(.event == \"load\") | .$1" load.json; }
[[ $(field lost) == 0 ]] || fail "lost $(field lost), expected 0: every dropped request is sent again"
[[ $(field errors) == 0 ]] || fail "errors $(field errors)"
dropped=$(cat dropped)
((dropped >= 10)) || fail "the server dropped only $dropped requests"
(($(field resent) >= dropped)) || fail "resent $(field resent), but the server dropped $dropped"
# of every 10 requests the server sees, 9 are answered (fewer when a resend was needless:
# its second answer is stale); a socket that idled on each drop would see far fewer
(($(field transactions) >= 5 * dropped)) ||
    fail "$(field transactions) transactions for $dropped drops: the sockets stalled"
echo "PASS $NAME: $(field transactions) transactions, $dropped dropped, $(field resent) resent, 0 lost"
