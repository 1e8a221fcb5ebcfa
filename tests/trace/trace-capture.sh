#!/usr/bin/env bash
# trace-capture: what the trace says went on the wire, a capture of loopback must show.
# TCP: the handshake (SYN, SYN-ACK, ACK) on connect(), a FIN from each side, the data;
# UDP: no packet for connect(), exactly one datagram each way; a closed port: RST for TCP,
# ICMP port unreachable for UDP. Needs root for the capture (as in CI).
set -euo pipefail

tcp=${TCP_ECHO:?set by ctest} udp=${UDP_ECHO:?set by ctest}
# start the programs with only stdin, stdout and stderr open, as from a fresh shell, so the
# descriptor numbers in a trace are the ones a student sees (a test runner may leak more)
for fd in $(ls /proc/$$/fd); do
    ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null || true
done
tmp=$(mktemp -d)
kit="$(dirname "$0")/../../lessons/lab"
export SOCKLAB_CAPTURE_DIR="$tmp/captures" SOCKLAB_CAPTURE_TOOL=tcpdump
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
checks=0

fail() {
    echo "FAIL trace-capture: $*" >&2
    exit 1
}

expect() { # WHAT GOT WANT
    checks=$((checks + 1))
    [[ $2 == "$3" ]] || fail "$1: the capture shows $2, the trace says $3"
}

# server BIN NAME: a --once server on a free port, its output in NAME.out (a file of its own:
# the server before may still be writing its summary); sets $port and $spid
server() {
    "$1" server -p 0 --once >"$tmp/$2.out" 2>&1 &
    spid=$!
    pids+=($spid)
    for _ in $(seq 100); do
        port=$(sed -n '1s/.*:\([0-9]*\) (.*)$/\1/p' "$tmp/$2.out" 2>/dev/null || true)
        [[ -z $port ]] || return 0
        sleep 0.05
    done
    fail "$2 server did not start: $(cat "$tmp/$2.out" 2>/dev/null)"
}

# capture NAME FILTER CMD...: capture loopback while CMD runs; its stderr (the trace) is kept.
# The lab kit's capture returns only once packets are really being recorded.
capture() {
    local name=$1 filter=$2
    shift 2
    "$kit/capture" start "$name" --filter "$filter" >/dev/null
    "$@" >/dev/null 2>"$tmp/$name.trace" || true
    file=$("$kit/capture" stop "$name")
    mv "$file" "$tmp/$name.pcapng"
}

# count NAME FILTER: packets in the capture that match a display filter
count() { tshark -r "$tmp/$1.pcapng" -Y "$2" 2>/dev/null | wc -l | tr -d ' '; }
# traced NAME PATTERN: how many trace lines match
traced() { grep -Ec "$2" "$tmp/$1.trace" || true; }

# TCP: a full exchange with half-close
server "$tcp" tcp-server
capture tcp "tcp port $port" "$tcp" client -p "$port" 127.0.0.1 --trace -m hi
cport=$(tshark -r "$tmp/tcp.pcapng" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" -T fields -e tcp.srcport 2>/dev/null | head -n 1)
[[ $(traced tcp 'connect\(.*= 0 .*SYN ->, <- SYN-ACK, ACK ->') == 1 ]] || fail "trace: no handshake note on connect"
expect "SYN from the client" "$(count tcp "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.srcport == $cport")" 1
expect "SYN-ACK from the server" "$(count tcp "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.srcport == $port")" 1
expect "third packet: the client's ACK" "$(tshark -r "$tmp/tcp.pcapng" -Y "frame.number == 3 && tcp.srcport == $cport && tcp.flags == 0x010" 2>/dev/null | wc -l | tr -d ' ')" 1
[[ $(traced tcp 'shutdown\(.*FIN ->') == 1 ]] || fail "trace: no FIN note on shutdown"
expect "FIN from the client (shutdown)" "$(count tcp "tcp.flags.fin == 1 && tcp.srcport == $cport")" 1
expect "FIN from the server (its close)" "$(count tcp "tcp.flags.fin == 1 && tcp.srcport == $port")" 1
expect "data from the client (send 2 bytes)" "$(count tcp "tcp.len == 2 && tcp.srcport == $cport")" 1
expect "data from the server (recv 2 bytes)" "$(count tcp "tcp.len == 2 && tcp.srcport == $port")" 1
expect "no reset" "$(count tcp "tcp.flags.reset == 1")" 0

# UDP: connect() sends nothing, one datagram out, one back
server "$udp" udp-server
capture udp "udp port $port" "$udp" client -p "$port" 127.0.0.1 --trace -m hi
[[ $(traced udp 'connect\(.*no packet') == 1 ]] || fail "trace: UDP connect should claim no packet"
expect "datagrams to the server (send: 1 datagram)" "$(count udp "udp.dstport == $port")" "$(traced udp '^send\(.*1 datagram of [0-9]+ bytes? ->')"
expect "datagrams from the server (recvmsg: 1 datagram)" "$(count udp "udp.srcport == $port")" "$(traced udp '^recvmsg\(.*<- 1 datagram')"
expect "packets in all (nothing else on the wire)" "$(count udp "udp")" 2

# nobody home: the port the UDP server just left (once it has gone: --once ends after one
# exchange)
wait "$spid" || fail "the UDP server ended with $?: $(cat "$tmp/udp-server.out")"
capture tcp-refused "tcp port $port" "$tcp" client -p "$port" 127.0.0.1 --trace -m hi
[[ $(traced tcp-refused 'ECONNREFUSED +SYN ->, <- RST') == 1 ]] || fail "trace: no RST note on the refused connect"
expect "SYN to the closed port" "$(count tcp-refused "tcp.flags.syn == 1 && tcp.dstport == $port")" 1
expect "RST from the closed port" "$(count tcp-refused "tcp.flags.reset == 1 && tcp.srcport == $port")" 1
capture udp-refused "udp port $port or icmp" "$udp" client -p "$port" 127.0.0.1 --trace -m hi
[[ $(traced udp-refused 'ECONNREFUSED +<- ICMP port unreachable') == 1 ]] || fail "trace: no ICMP note on ECONNREFUSED"
expect "ICMP port unreachable" "$(count udp-refused "icmp.type == 3 && icmp.code == 3")" 1
expect "datagrams sent (one, never retransmitted)" "$(count udp-refused "udp.dstport == $port && !icmp")" 1

echo "PASS trace-capture: $checks packet counts agree with the trace"
