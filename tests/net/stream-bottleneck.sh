#!/usr/bin/env bash
# stream-bottleneck: streams over a real 10 Mbit/s link between two network namespaces
# (lessons/lab/twohosts --rate: a tbf with a 64 KB queue at each end). A UDP stream at
# 20 Mbit/s must lose what the arithmetic says; a TCP stream must lose nothing, slow itself
# to the link's rate, and show the retransmissions its congestion control made.
set -euo pipefail

TEST=stream-bottleneck
# shellcheck source=hosts.sh
source "$(dirname "$0")/hosts.sh"

# summary JSON FIELD: a value of the summary object
summary() { jq -r "select(.event == \"summary\") | .$2" <<<"$1"; }

# within VALUE LOW HIGH: LOW <= VALUE <= HIGH
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

"$twohosts" up --rate 10mbit >/dev/null

# UDP: 1400-byte datagrams are 1442 bytes on the link (UDP 8, IP 20, Ethernet 14), so
# 10 Mbit/s carries 866.8 a second, and 20 Mbit/s of them is 1785.7 a second: the link
# passes 48.5% and the rest, 51.5%, is dropped once the 64 KB queue (45 datagrams) is
# full. Over 4 s: 866.8 * 4 + 45 echoed, give or take the token bucket's 4 KB.
port=$(serve "$udp" udp)
[[ -n $port ]] || fail "udp-echo server did not start in host b"
out=$("$twohosts" run a "$udp" client 10.77.0.2 -p "$port" --stream --rate 20M -t 4 --json) ||
    fail "udp stream failed: $out"
sent=$(summary "$out" sent) echoed=$(summary "$out" echoed) lost=$(summary "$out" lost)
expected=$(awk -v s="$sent" 'BEGIN { printf "%.0f", s - (866.8 * 4 + 45) }')
[[ $((sent)) -ge 6900 ]] || fail "udp: sent $sent datagrams in 4 s at 20 Mbit/s, expected about 7143"
[[ $((echoed + lost)) -eq $((sent)) ]] || fail "udp: $echoed echoed + $lost lost is not the $sent sent"
within "$lost" "$((expected - 150))" "$((expected + 150))" ||
    fail "udp: lost $lost of $sent, the link's arithmetic says $expected (within 150)"

# TCP (cubic, whose window grows until the queue overflows): every byte comes back, at the
# link's rate less headers (1448 of every 1514 bytes, 9.56 Mbit/s) once slow start is over,
# and the kernel resent what the full queue dropped.
# the echoes are a TCP flow of their own, from b to a: cubic too
port=$(serve "$tcp" tcp --congestion cubic)
[[ -n $port ]] || fail "tcp-echo server did not start in host b"
out=$("$twohosts" run a "$tcp" client 10.77.0.2 -p "$port" --stream -t 5 --congestion cubic \
    --json) || fail "tcp stream failed: $out"
bytes_sent=$(summary "$out" bytes_sent) bytes_echoed=$(summary "$out" bytes_echoed)
resent=$(summary "$out" retransmits)
# the rate once TCP has found it: the intervals from 2 s on (the first second is slow start)
rate=$(jq -s '[.[] | select(.event == "interval" and .from_s >= 2) | .echoed_bps] | add / length | floor' <<<"$out")
[[ $bytes_echoed == "$bytes_sent" ]] || fail "tcp: $bytes_echoed of $bytes_sent bytes came back"
[[ $resent -gt 0 ]] || fail "tcp: no retransmissions over a link that drops what its queue cannot hold"
within "$rate" 8000000 10000000 || fail "tcp: echoed $rate bit/s (from 2 s on) over a 10 Mbit/s link"
cwnds=$(jq -r 'select(.event == "interval") | .tcp_info.cwnd' <<<"$out" | sort -un | wc -l)
[[ $cwnds -ge 2 ]] || fail "tcp: the window never changed: $(jq -c 'select(.event == "interval") | .tcp_info' <<<"$out")"
echo "PASS stream-bottleneck: udp lost $lost of $sent (arithmetic: $expected), tcp resent $resent segments and echoed all $bytes_sent bytes at $rate bit/s"
