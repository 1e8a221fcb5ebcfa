#!/usr/bin/env bash
# tls-abuse: a TLS server that garbage, silence and a thousand failed handshakes do not hurt,
# in every model that takes more than one client at once (and the iterative one, which
# serves the next client once the idle limit has closed the stalled one). A garbled
# ClientHello is refused, and so is a client that resets its connection half way (the notice
# still names it); a client that stops half way through its ClientHello is closed
# by --idle-timeout while others are served; 1,000 failed handshakes leave the server's
# descriptors as they were and its memory within 2 MiB. Every server ends cleanly at SIGINT,
# with nothing leaked under ASan.
set -euo pipefail

tcp=${TCP_ECHO:?set by ctest}

NAME=tls-abuse
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup
cd "$tmp"

# echo_ok WHAT: a real client is served now
echo_ok() {
    [[ $(timeout 10 "$tcp" client --tls --fingerprint "$fp" -p "$port" -m alive 127.0.0.1) == alive ]] ||
        fail "$1: a client was not served"
}

# A raw client, in Python: what no TLS library would send.
raw() {
    python3 - "$port" "$@" <<'EOF'
import socket, sys, time
port, what = int(sys.argv[1]), sys.argv[2]
def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=10)
if what == "garbled":
    # a handshake record whose body is no ClientHello
    s = conn(); s.sendall(b"\x16\x03\x01\x00\x10" + b"\x01" + b"\xff" * 15)
    s.settimeout(5); print(s.recv(100).hex()); s.close()
elif what == "stall":
    # the first 20 bytes of a ClientHello, then silence: held open until the server closes
    s = conn(); s.sendall(b"\x16\x03\x01\x01\x00\x01\x00\x00\xfc\x03\x03" + b"\x00" * 9)
    s.settimeout(30); t = time.time(); s.recv(100)
    print("closed after %.1f s" % (time.time() - t))
elif what == "reset":
    # half a ClientHello, then a reset (SO_LINGER 0): the server's notice still names us
    s = conn(); s.sendall(b"\x16\x03\x01\x01\x00\x01\x00\x00\xfc\x03\x03")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    time.sleep(0.1); s.close()
elif what == "many":
    for i in range(int(sys.argv[3])):
        s = conn(); s.sendall(b"not tls at all\n"); s.shutdown(socket.SHUT_WR)
        while s.recv(100):
            pass
        s.close()
EOF
}

fds() { ls "/proc/$pid/fd" | wc -l; }
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status"; }

for model in epoll uring poll thread fork; do
    serve "$tcp" "$model" --tls -v --model "$model" --idle-timeout 1
    out=$(raw garbled) || fail "$model: garbled ClientHello: the server did not answer or close"
    echo_ok "$model, after a garbled ClientHello"
    raw stall >stall.out &
    stall=$!
    sleep 0.3
    echo_ok "$model, while another client stalls in its handshake"
    wait "$stall" || fail "$model: the stalled client was not closed: $(cat stall.out)"
    grep -q "closed after" stall.out || fail "$model: stalled: $(cat stall.out)"
    raw reset >/dev/null
    echo_ok "$model, after a client reset its connection mid-handshake"
    grep -q "^refused .*TLS handshake" "$model.out" || fail "$model: no refusal noticed: $(cat "$model.out")"
    # every notice names its client, the one that reset its connection too
    [[ $(grep -c "^refused 127\.0\.0\.1:[0-9]*: TLS handshake" "$model.out") == 2 ]] ||
        fail "$model: a refusal without its client's address: $(cat "$model.out")"
    grep -q "^idle " "$model.out" || fail "$model: the stalled client was not closed as idle: $(cat "$model.out")"
done

# the iterative model: the stalled client holds it until --idle-timeout, then the next is served
serve "$tcp" iterative --tls -v --model iterative --idle-timeout 1
raw stall >stall.out &
stall=$!
sleep 0.3
echo_ok "iterative, once the stalled client was closed"
wait "$stall" || fail "iterative: the stalled client was not closed: $(cat stall.out)"

# a thousand failed handshakes: no descriptor, and no memory to speak of, left behind (under
# ASan, with no quarantine: freed memory held back to catch its use would look like growth)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" serve "$tcp" many --tls -v --idle-timeout 5 -q
raw many 50 # warm up: OpenSSL's tables, the allocator's arenas
before_fds=$(fds) before_rss=$(rss_kb)
raw many 1000
after_fds=$(fds) after_rss=$(rss_kb)
[[ $after_fds == "$before_fds" ]] || fail "descriptors: $before_fds before 1000 failed handshakes, $after_fds after"
((after_rss - before_rss < 2048)) ||
    fail "memory: $before_rss kB before 1000 failed handshakes, $after_rss kB after"
echo_ok "after 1000 failed handshakes"
# every server of this test ends cleanly (and, under ASan, with nothing leaked)
stop_servers
grep -q "1050 refused" many.out || fail "the failed handshakes were not counted refused: $(tail -1 many.out)"
echo "PASS tls-abuse (fds $before_fds -> $after_fds, rss $before_rss -> $after_rss kB)"
