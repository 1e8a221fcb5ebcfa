#!/usr/bin/env bash
# sockopt-wire: socket options seen where lesson 20 does not look, in a network namespace of
# this test's own: IPv6's hop limit and traffic class in the packets' headers (TCP and UDP),
# --dontfrag refusing a datagram larger than the path MTU where a plain send is fragmented,
# two TCP servers sharing a port with --reuseport, and UDP's --reuseaddr (newest socket wins).
set -euo pipefail

tcp=${TCP_ECHO:?set by ctest} udp=${UDP_ECHO:?set by ctest}

NAME=sockopt-wire
# shellcheck source=tests/net/lib.sh
source "$(dirname "$0")/lib.sh"
net_inside "$@"
net_setup

# capture NAME FILTER: dumpcap (tshark's capture engine) on lo until stop_capture
capture() {
    dumpcap -i lo -q -w "$tmp/$1.pcap" -f "$2" 2>"$tmp/$1.dumpcap" &
    cap=$!
    for _ in $(seq 100); do
        # dumpcap says so a moment before it really records: the traffic below lasts a
        # second, so what it misses at first does not matter
        grep -q 'Capturing on' "$tmp/$1.dumpcap" 2>/dev/null && sleep 0.3 && return 0
        sleep 0.05
    done
    fail "dumpcap did not start: $(cat "$tmp/$1.dumpcap")"
}
stop_capture() {
    sleep 0.2
    kill -INT "$cap"
    wait "$cap" || true
}

# 1. IPv6: --ttl sets the hop limit, --tos the traffic class (DSCP 46 = 184 = 0xb8)
for p in tcp udp; do
    bin=$tcp
    [[ $p == udp ]] && bin=$udp
    serve "$bin" "v6-$p" -6 -b ::1
    capture "v6-$p" "$p dst port $port"
    "$bin" client -6 -p "$port" --ttl 3 --tos 184 -c 5 -i 0.2 ::1 >"$tmp/v6-$p.client" 2>&1 ||
        fail "$p client over ::1: $(cat "$tmp/v6-$p.client")"
    stop_capture
    # the segments the socket itself sends: SYN and data. The last ACK may come after the
    # client closed, from the kernel's TIME-WAIT entry, which keeps the traffic class but
    # not the hop limit (64, the default: seen under load)
    own="udp"
    [[ $p == tcp ]] && own="tcp.flags.syn == 1 or tcp.len > 0"
    got=$(tshark -r "$tmp/v6-$p.pcap" -Y "$own" -T fields -e ipv6.hlim -e ipv6.tclass 2>/dev/null | sort -u)
    n=$(tshark -r "$tmp/v6-$p.pcap" 2>/dev/null | wc -l)
    ((n >= 3)) || fail "$p over IPv6: only $n packets captured"
    [[ $got == $'3\t0x000000b8' || $got == $'3\t0xb8' ]] ||
        fail "$p over IPv6: every SYN, data segment or datagram to the server should leave with hop limit 3 and traffic class 0xb8, got: $got"
    echo "ok: $p over IPv6: --ttl 3 --tos 184 put hop limit 3 and traffic class 0xb8 in every SYN, data segment or datagram to the server ($n packets)"
done

# 2. --dontfrag: a 2000-byte datagram on a 1500-byte MTU is refused (EMSGSIZE) instead of
# fragmented; without the flag it is fragmented and echoed.
ip link set lo mtu 1500
serve "$udp" df -4 -b 127.0.0.1
if "$udp" client -4 -p "$port" -s 2000 -c 1 -W 1 --dontfrag 127.0.0.1 >"$tmp/df.client" 2>&1; then
    fail "--dontfrag: a 2000-byte datagram over a 1500-byte MTU was sent: $(cat "$tmp/df.client")"
fi
grep -qF 'cannot send a 2000-byte probe to 127.0.0.1:'"$port"': message too long (EMSGSIZE; larger than the path MTU to that host, 1500 bytes: at most 1472 bytes of data fit one packet)' "$tmp/df.client" ||
    fail "--dontfrag: no EMSGSIZE naming the path MTU in: $(cat "$tmp/df.client")"
# -m says the same, and 1472 bytes (a full 1500-byte packet) still cross
if "$udp" client -4 -p "$port" -W 1 --dontfrag -m "$(head -c 1473 /dev/zero | tr '\0' x)" 127.0.0.1 >"$tmp/df-m.client" 2>&1; then
    fail "--dontfrag: a 1473-byte message over a 1500-byte MTU was sent: $(cat "$tmp/df-m.client")"
fi
grep -qF 'no 1473-byte datagram can reach 127.0.0.1:'"$port"': message too long (EMSGSIZE; larger than the path MTU to that host, 1500 bytes: at most 1472 bytes of data fit one packet)' "$tmp/df-m.client" ||
    fail "--dontfrag -m: $(cat "$tmp/df-m.client")"
"$udp" client -4 -p "$port" -W 1 --dontfrag -m "$(head -c 1472 /dev/zero | tr '\0' x)" 127.0.0.1 >/dev/null ||
    fail "--dontfrag: a 1472-byte message over a 1500-byte MTU got no echo"
"$udp" client -4 -p "$port" -s 2000 -c 1 -W 1 127.0.0.1 >"$tmp/frag.client" 2>&1 ||
    fail "without --dontfrag the 2000-byte datagram should be fragmented and echoed: $(cat "$tmp/frag.client")"
grep -q '^1 sent, 1 received' "$tmp/frag.client" || fail "without --dontfrag: $(cat "$tmp/frag.client")"
echo "ok: udp: 2000 bytes over a 1500-byte MTU: EMSGSIZE with --dontfrag, fragmented and echoed without"

# 3. --reuseport for TCP: two servers on one port, connections spread across both
serve "$tcp" rp1 -4 -b 127.0.0.1 --reuseport
"$tcp" server -4 -b 127.0.0.1 -p "$port" --reuseport >"$tmp/rp2.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/rp2.out ]] && break; sleep 0.05; done
grep -q '^listening on' "$tmp/rp2.out" || fail "a second --reuseport server on $port: $(cat "$tmp/rp2.out")"
for i in $(seq 40); do
    "$tcp" client -4 -p "$port" -m "c$i" 127.0.0.1 >/dev/null || fail "client $i"
done
kill -INT "${pids[-2]}" "${pids[-1]}"
wait "${pids[-2]}" "${pids[-1]}" || true
a=$(sed -n 's/^summary: \([0-9]*\) clients.*/\1/p' "$tmp/rp1.out")
b=$(sed -n 's/^summary: \([0-9]*\) clients.*/\1/p' "$tmp/rp2.out")
[[ $((a + b)) -eq 40 && $a -gt 0 && $b -gt 0 ]] ||
    fail "--reuseport: 40 connections should be spread over both servers, got $a and $b"
echo "ok: tcp --reuseport: 40 connections spread $a / $b over two servers"
# 4. --reuseaddr for UDP: without it a second server cannot bind the port; with it on both,
# it can, and the newest socket gets the datagrams
serve "$udp" ra1 -4 -b 127.0.0.1 --reuseaddr
if "$udp" server -4 -b 127.0.0.1 -p "$port" >"$tmp/ra-no.out" 2>&1; then
    fail "a second UDP server without --reuseaddr bound port $port"
fi
grep -q 'address already in use' "$tmp/ra-no.out" || fail "without --reuseaddr: $(cat "$tmp/ra-no.out")"
"$udp" server -4 -b 127.0.0.1 -p "$port" --reuseaddr >"$tmp/ra2.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/ra2.out ]] && break; sleep 0.05; done
grep -q '^listening on' "$tmp/ra2.out" || fail "a second --reuseaddr server on $port: $(cat "$tmp/ra2.out")"
for i in $(seq 10); do
    "$udp" client -4 -p "$port" -m "d$i" -W 2 127.0.0.1 >/dev/null || fail "datagram $i got no answer"
done
kill -INT "${pids[-2]}" "${pids[-1]}"
wait "${pids[-2]}" "${pids[-1]}" || true
a=$(sed -n 's/^summary: [0-9]* peers, \([0-9]*\) datagrams received.*/\1/p' "$tmp/ra1.out")
b=$(sed -n 's/^summary: [0-9]* peers, \([0-9]*\) datagrams received.*/\1/p' "$tmp/ra2.out")
[[ $a == 0 && $b == 10 ]] ||
    fail "--reuseaddr: the newest UDP socket should get all 10 datagrams, got first $a, newest $b"
echo "ok: udp --reuseaddr: a second server binds the port, and the newest gets all 10 datagrams"
echo "PASS sockopt-wire"
