#!/usr/bin/env bash
# ladder-capture: lessons/lab/capture stop --ladder draws the capture it stops beside the
# file: a TCP and a UDP exchange, each an arrow per packet tshark counts, TCP beside UDP.
# A name that is not a capture, or a stray word, is refused with one line, and the capture
# still running is left running.
set -euo pipefail

ladder=${LADDER:?set by ctest}
lab=$(cd "$(dirname "$0")/../../lessons/lab" && pwd)
bin=$(cd "$(dirname "$ladder")/.." && pwd)
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL ladder-capture: $*" >&2
    exit 1
}
export SOCKLAB_CAPTURE_DIR=$tmp/cap SOCKLAB_BIN_DIR=$bin

# serve BIN: a server on a free port of 127.0.0.1; its port in $port
serve() {
    "$1" server -p 0 >"$tmp/$2.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        # (the file is not there until the background shell has opened it)
        port=$(sed -n '1s/^listening on .*:\([0-9]*\) .*/\1/p' "$tmp/$2.out" 2>/dev/null || true)
        [[ -z $port ]] || return 0
        sleep 0.05
    done
    fail "$2 server did not start: $(cat "$tmp/$2.out")"
}
serve "$bin/tcp/tcp-echo" tcp
tport=$port
serve "$bin/udp/udp-echo" udp
uport=$port

"$lab/capture" start both --filter "port $tport or port $uport" >/dev/null
"$bin/tcp/tcp-echo" client -p "$tport" -m hello >/dev/null
"$bin/udp/udp-echo" client -p "$uport" -m hello >/dev/null

# refused: a stray word; the capture goes on and stops cleanly afterwards
if "$lab/capture" stop both --ladders 2>"$tmp/err"; then fail "stop accepted --ladders"; fi
grep -qx "capture: stop takes NAME and --ladder only (got '--ladders')" "$tmp/err" ||
    fail "stray word: $(cat "$tmp/err")"

pcap=$("$lab/capture" stop both --ladder)
html=$tmp/cap/both.html
[[ -s $html ]] || fail "no ladder beside $pcap"
want_tcp=$(tshark -r "$pcap" -Y tcp 2>/dev/null | wc -l)
want_udp=$(tshark -r "$pcap" -Y udp 2>/dev/null | wc -l)
got_tcp=$(grep -c 'class="pkt tcp" id="c0-' "$html" || true)
got_udp=$(grep -c 'class="pkt udp" id="c1-' "$html" || true)
[[ $want_tcp -ge 7 && $got_tcp == "$want_tcp" ]] || fail "TCP side: $got_tcp arrows, tshark counts $want_tcp"
[[ $want_udp == 2 && $got_udp == 2 ]] || fail "UDP side: $got_udp arrows, tshark counts $want_udp"
echo "PASS ladder-capture: $got_tcp TCP and $got_udp UDP arrows beside $(basename "$pcap")"
