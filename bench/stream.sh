# shellcheck shell=bash
# bench/stream.sh - the stream table of scripts/bench (sourced; uses bench/lib.sh): stream
# mode against iperf3 (Debian's iperf3, run in the same invocation): one TCP stream's goodput
# to a discarding server and the CPU the client spends per gigabit, and paced UDP at 1, 100
# and 1000 Mbit/s (the rate the client really sent, against the rate asked). Ours and iperf3
# alternate; each figure is the median of the runs, with min-max.

# stream_servers: print nothing; start the discarding servers and iperf3, and set sink_tcp,
# sink_udp and iperf_port.
stream_servers() {
    start "${server_cpu[@]}" "$build/tcp/tcp-echo" server -p 0 -q --discard
    sink_tcp=$port
    start "${server_cpu[@]}" "$build/udp/udp-echo" server -p 0 -q --discard
    sink_udp=$port
    iperf_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${server_cpu[@]}" iperf3 -s -B 127.0.0.1 -p "$iperf_port" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        ss -Hltn "sport = :$iperf_port" | grep -q . && break
        sleep 0.05
    done
}

# tcp_ours / tcp_iperf: "bits_per_second cpu_seconds_per_gigabit" of one TCP stream
tcp_ours() {
    local out bps cpu
    out=$(cpu_of timeout $((stream_seconds + 30)) "$build/tcp/tcp-echo" client -p "$sink_tcp" 127.0.0.1 \
        --stream --one-way -t "$stream_seconds" --json)
    bps=$(sed '/^cpu /d' <<<"$out" | jq -r 'select(.event == "summary") | .bytes_acked * 8 / .seconds')
    cpu=$(awk '$1 == "cpu" { print $2 }' <<<"$out")
    awk -v b="$bps" -v c="$cpu" -v t="$stream_seconds" 'BEGIN { printf "%.0f %.4f\n", b, (b > 0 ? c / (b * t / 1e9) : 0) }'
}
tcp_iperf() {
    local out bps cpu
    out=$(cpu_of timeout $((stream_seconds + 30)) iperf3 -c 127.0.0.1 -p "$iperf_port" -t "$stream_seconds" -J)
    bps=$(sed '/^cpu /d' <<<"$out" | jq -r '.end.sum_received.bits_per_second')
    cpu=$(awk '$1 == "cpu" { print $2 }' <<<"$out")
    awk -v b="$bps" -v c="$cpu" -v t="$stream_seconds" 'BEGIN { printf "%.0f %.4f\n", b, (b > 0 ? c / (b * t / 1e9) : 0) }'
}
# udp_ours RATE / udp_iperf RATE: the bits per second the client sent, 1400-byte datagrams
udp_ours() {
    timeout $((stream_seconds + 30)) "${client_cpu[@]}" "$build/udp/udp-echo" client -p "$sink_udp" \
        127.0.0.1 --stream --one-way --rate "$1" -t "$stream_seconds" --json |
        jq -r 'select(.event == "summary") | .sent_bps'
}
udp_iperf() {
    timeout $((stream_seconds + 30)) "${client_cpu[@]}" iperf3 -c 127.0.0.1 -p "$iperf_port" -u \
        -b "$1" -l 1400 -t "$stream_seconds" -J | jq -r '.end.sum.bits_per_second'
}

# bench_stream: print the stream table.
bench_stream() {
    local tcp_o=() tcp_i=() cpu_o=() cpu_i=() udp_o=() udp_i=() round b c rate asked om tm v
    stream_servers
    echo
    printf '%-28s %-26s %-26s %6s\n' "stream (median, min-max)" ours iperf3 ratio
    for ((round = 0; round < stream_rounds; round++)); do
        read -r b c <<<"$(tcp_ours)"
        tcp_o+=("$b") cpu_o+=("$c")
        read -r b c <<<"$(tcp_iperf)"
        tcp_i+=("$b") cpu_i+=("$c")
    done
    row "tcp 1 stream, Gbit/s" 1e9 "%.2f" "${tcp_o[@]}" -- "${tcp_i[@]}"
    row "tcp client CPU s per Gbit" 1 "%.3f" "${cpu_o[@]}" -- "${cpu_i[@]}"
    for rate in 1M 100M 1000M; do
        asked=$(awk -v r="${rate%M}" 'BEGIN { print r * 1e6 }')
        udp_o=() udp_i=()
        for ((round = 0; round < stream_rounds; round++)); do
            udp_o+=("$(udp_ours "$rate")")
            udp_i+=("$(udp_iperf "$rate")")
        done
        row "udp at $rate, Mbit/s sent" 1e6 "%.3f" "${udp_o[@]}" -- "${udp_i[@]}"
        read -r om _ <<<"$(stats "${udp_o[@]}")"
        read -r tm _ <<<"$(stats "${udp_i[@]}")"
        awk -v o="$om" -v t="$tm" -v a="$asked" -v r="$rate" 'BEGIN {
            printf "%-28s %-26s %s\n", "  off the asked " r, sprintf("%+.2f%%", (o - a) / a * 100),
                sprintf("%+.2f%%", (t - a) / a * 100) }'
    done
    for v in "${tcp_o[@]}" "${tcp_i[@]}"; do
        awk -v v="$v" 'BEGIN { exit !(v > 0) }' || status=1
    done
}
