#!/usr/bin/env bash
# probe-wait: probe mode sleeps until something is due, at -i 0 as at -i 1. Against echo
# servers that answer 20 ms late (played by the test), 20 probes at -i 0 may make only a few
# waits each, where a busy loop makes thousands; at -i 0.0005 the waits between probes are
# shorter than a millisecond, not rounded up to one.
set -euo pipefail

tcp=${TCP_ECHO:?set by ctest}
udp=${UDP_ECHO:?set by ctest}

NAME=probe-wait
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup
cd "$tmp"

# the slow echo servers: UDP on 7101, TCP on 7102, each reply 20 ms after its request
/usr/bin/python3 - <<'PY' &
import socket, threading, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 7101))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 7102))
t.listen()
def udp():
    while True:
        data, peer = u.recvfrom(65536)
        time.sleep(0.02)
        u.sendto(data, peer)
def tcp():
    while True:
        c, _ = t.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while (data := c.recv(65536)):
            time.sleep(0.02)
            c.sendall(data)
        c.close()
threading.Thread(target=udp, daemon=True).start()
tcp()
PY
pids+=($!)
for _ in $(seq 50); do ss -ltn | grep -q ':7102 ' && break; sleep 0.1; done

# waits PROG: how many poll()/ppoll() calls strace counted in PROG's run
waits() {
    strace -f -c -e trace=poll,ppoll -o "$1.strace" "${@:2}" >"$1.out" 2>&1 ||
        fail "$1: $(tail -3 "$1.out")"
    awk '$NF ~ /^p?poll$/ { n += $(NF - 1) } END { print n + 0 }' "$1.strace"
}

for proto in udp tcp; do
    bin=${!proto}
    port=$([[ $proto == udp ]] && echo 7101 || echo 7102)
    n=$(waits "$proto-i0" "$bin" client -c 20 -i 0 -p "$port" 127.0.0.1)
    grep -q "^20 sent, 20 received" "$proto-i0.out" || fail "$proto -i 0: $(cat "$proto-i0.out")"
    # one wait per reply, a few more at the start and the end
    ((n <= 60)) || fail "$proto -i 0: $n waits for 20 probes answered 20 ms late: a busy loop"

    strace -f -e trace=ppoll -o "$proto-fine.strace" "$bin" client -c 50 -i 0.0005 -W 0.5 \
        -p "$port" 127.0.0.1 >"$proto-fine.out" 2>&1 || fail "$proto -i 0.0005: $(tail -3 "$proto-fine.out")"
    grep -qE 'ppoll\(.*\{tv_sec=0, tv_nsec=[1-9][0-9]{0,5}\}' "$proto-fine.strace" ||
        fail "$proto -i 0.0005: no wait shorter than a millisecond: $(grep -m3 ppoll "$proto-fine.strace")"
done

echo "PASS $NAME"
