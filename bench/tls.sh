# shellcheck shell=bash
# bench/tls.sh - the TLS and DTLS tables of scripts/bench (sourced; uses bench/lib.sh): the
# same load (64 bytes, 1 and 64 clients) over --tls as a ratio of plain on the same servers,
# and the cost of setting up: connections (and sessions) per second with --connect-each, one
# at a time, and the handshake's mean time, for TCP, TCP+TLS, UDP and UDP+DTLS, full and
# resumed (--resume).

# best OF TWO RESULTS: the one with more transactions/s.
best() { if ((${1%% *} >= ${2%% *})); then echo "$1"; else echo "$2"; fi; }

# bench_tls: print the plain-against-TLS table (each figure the best of $rounds runs), then
# the set-up table.
bench_tls() {
    local proto word parallel plain_port tls_port fp_of tls_args o t ot tt round
    start "${server_cpu[@]}" "$build/tcp/tcp-echo" server -p 0 -q --tls
    tls_tcp=$port fp_tcp=$fp
    start "${server_cpu[@]}" "$build/udp/udp-echo" server -p 0 -q --tls
    tls_udp=$port fp_udp=$fp

    echo
    printf '%-9s %4s %6s | %12s %12s | %6s\n' proto P size "plain tx/s" "tls tx/s" ratio
    for proto in tcp udp; do
        word=tls
        [[ $proto == udp ]] && word=dtls
        for parallel in 1 64; do
            plain_port=ours_$proto tls_port=tls_$proto fp_of=fp_$proto
            tls_args=(--tls --fingerprint "${!fp_of}")
            o=$(load "$proto" "${!plain_port}" "$parallel" 64)
            t=$(load "$proto" "${!tls_port}" "$parallel" 64 "${tls_args[@]}")
            for ((round = 1; round < rounds; round++)); do
                o=$(best "$o" "$(load "$proto" "${!plain_port}" "$parallel" 64)")
                t=$(best "$t" "$(load "$proto" "${!tls_port}" "$parallel" 64 "${tls_args[@]}")")
            done
            read -r ot _ <<<"$o"
            read -r tt _ <<<"$t"
            printf '%-9s %4s %6s | %12s %12s | %6s\n' "$proto+$word" "$parallel" 64 "$ot" "$tt" \
                "$(ratio "$tt" "$ot")"
            [[ $ot -gt 0 && $tt -gt 0 ]] || status=1
        done
    done
    setup_table
}

# setup PROTO PORT ARGS...: "set-ups/s handshake_ms": --connect-each probes back to back, a
# new connection or socket (and session) each, timed as a whole; the handshake's mean
setup() {
    local proto=$1 port=$2 line t0 t1
    shift 2
    t0=$EPOCHREALTIME
    line=$(timeout 120 "${client_cpu[@]}" "$build/$proto/$proto-echo" client --connect-each -c "$setups" \
        -i 0 --json -p "$port" "$@" 127.0.0.1 | tail -1) || true
    t1=$EPOCHREALTIME
    [[ $line == *"\"answered\":$setups,"* ]] || {
        echo "0 -"
        return
    }
    awk -v n="$setups" -v a="$t0" -v b="$t1" -v h="$(sed -n 's/.*"handshake_ms":{[^}]*"avg":\([0-9.]*\).*/\1/p' <<<"$line")" \
        'BEGIN { printf "%.0f %s\n", n / (b - a), h == "" ? "-" : h }'
}

# setup_table: print the set-up table (the TLS servers of bench_tls must be running).
setup_table() {
    local combo proto args port_of fp_of rates hs round r h rm rmin rmax
    setups=1000
    ((rounds > 1)) || setups=50
    echo
    printf '%-22s | %22s | %18s\n' "set-up per probe" "set-ups/s (min-max)" "handshake ms"
    for combo in tcp tcp+tls tcp+tls+resume udp udp+dtls udp+dtls+resume; do
        proto=${combo%%+*}
        args=()
        port_of=ours_$proto
        if [[ $combo == *+*ls* ]]; then
            port_of=tls_$proto fp_of=fp_$proto
            args=(--tls --fingerprint "${!fp_of}")
            [[ $combo == *resume ]] && args+=(--resume)
        fi
        rates=() hs=()
        for ((round = 0; round < rounds; round++)); do
            read -r r h <<<"$(setup "$proto" "${!port_of}" "${args[@]}")"
            rates+=("$r") hs+=("$h")
            [[ $r -gt 0 ]] || status=1
        done
        read -r rm rmin rmax <<<"$(stats "${rates[@]}")"
        h=-
        [[ ${hs[0]} == - ]] || h=$(stats "${hs[@]}" | awk '{ printf "%.3f", $1 }')
        printf '%-22s | %22s | %18s\n' "$combo" "$(printf '%.0f (%.0f-%.0f)' "$rm" "$rmin" "$rmax")" "$h"
    done
}
