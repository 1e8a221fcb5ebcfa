# shellcheck shell=bash
# bench/relay.sh - the relay tables of scripts/bench (sourced; uses bench/lib.sh).
#
# The same load (64 bytes, 1 and 64 clients) through a relay to our server, against the
# server reached directly, alternating; the median of each and the ratio's min-max over the
# pairs. Goal: at least 0.45 (a relay is one more hop's work). Two layouts of the relay tier:
#   1 relay   one relay process, placed by the scheduler on either CPU. The client and the
#             server are pinned one to each CPU, so wherever the relay runs its CPU carries
#             the relay's work and another's (it reads and writes on both sides: the UDP
#             relay's CPU per exchange is 1.6 times the server's), while the other CPU
#             waits for it.
#   2 relays  one relay per CPU, both with --reuseport on one port: the kernel spreads the
#             clients between them by a hash of the source (TCP per connection, UDP per
#             source address and port, so a client's mapping stays in one relay), and each
#             CPU carries half the relay tier's work. This is how a relay tier is run on a
#             machine with more than one CPU, and the layout the goal is held to.
#
# Then a relay's memory and descriptors with up to 10,000 idle clients.

# relay_row PROTO PARALLEL LAYOUT DIRECT_PORT RELAY_PORT: one row of the table; a row whose
# goal is missed says so and sets status to 1
relay_row() {
    local d=() v=() q=() round dt vt dm dmin dmax vm vmin vmax qmin qmax r goal
    for ((round = 0; round < rounds; round++)); do
        read -r dt _ <<<"$(load "$1" "$4" "$2" 64)"
        read -r vt _ <<<"$(load "$1" "$5" "$2" 64)"
        d+=("$dt") v+=("$vt") q+=("$(ratio "$vt" "$dt")")
        [[ $dt -gt 0 && $vt -gt 0 ]] || status=1
    done
    read -r dm dmin dmax <<<"$(stats "${d[@]}")"
    read -r vm vmin vmax <<<"$(stats "${v[@]}")"
    read -r _ qmin qmax <<<"$(stats "${q[@]}")"
    r=$(ratio "$vm" "$dm")
    goal=$(verdict "$3" "$r")
    printf '%-5s %4s %-9s | %22s %22s | %18s | %s\n' "$1" "$2" "$3" \
        "$(printf '%.0f (%.0f-%.0f)' "$dm" "$dmin" "$dmax")" \
        "$(printf '%.0f (%.0f-%.0f)' "$vm" "$vmin" "$vmax")" "$r ($qmin-$qmax)" "$goal"
    if [[ $goal == *missed ]]; then
        echo "relay target: at least 0.45 of direct: NOT met ($1, -P $2: $r)"
        status=1
    fi
}

# verdict LAYOUT RATIO: the goal column: judged for the 2-relay rows of a full run
verdict() {
    [[ $1 == "2 relays" ]] && ((rounds > 1)) || { echo "-"; return; }
    awk -v r="$2" 'BEGIN { print (r >= 0.45 ? ">= 0.45 met" : ">= 0.45 missed") }'
}

# relay_table: print the direct-against-relayed table, for both layouts.
relay_table() {
    local proto parallel layout to direct_port relay_port
    for proto in tcp udp; do
        to=ours_$proto
        start "$build/$proto/$proto-echo" relay -p 0 -q --to "127.0.0.1:${!to}"
        printf -v "relay1_$proto" '%s' "$port"
        start "${server_cpu[@]}" "$build/$proto/$proto-echo" relay -p 0 -q --reuseport --to "127.0.0.1:${!to}"
        start "${client_cpu[@]}" "$build/$proto/$proto-echo" relay -p "$port" -q --reuseport --to "127.0.0.1:${!to}"
        printf -v "relay2_$proto" '%s' "$port"
    done
    echo
    printf '%-5s %4s %-9s | %22s %22s | %18s | %s\n' proto P layout "direct tx/s" "relayed tx/s" "ratio (min-max)" goal
    for proto in tcp udp; do
        for parallel in 1 64; do
            for layout in "1 relay" "2 relays"; do
                direct_port=ours_$proto relay_port=relay${layout%% *}_$proto
                relay_row "$proto" "$parallel" "$layout" "${!direct_port}" "${!relay_port}"
            done
        done
    done
}

# idle_rss PROTO PORT N: the relay's RSS (kB) and descriptors with N idle clients (TCP: N
# connections held open; UDP: N sources that sent one datagram each), all answered first
idle_rss() {
    local pid
    # TCP: no cap on pairs (as the epoll server); UDP: a table with room for every source
    start "$build/$1/$1-echo" relay -p 0 -q --max-clients "$([[ $1 == tcp ]] && echo 0 || echo "$3")" \
        --idle-timeout 0 --to "127.0.0.1:$2"
    pid=$server_pid
    timeout 300 python3 bench/idle-clients.py "$1" "$port" "$3" "$pid" || echo "0 0"
    stop "$pid"
}

# idle_table: print the relay's memory with idle clients. A relay of N TCP clients holds 2N
# descriptors (its server N more): as many as the hard limit allows, up to 10,000, with a
# few kept back for the relay's own sockets. The raised limit stays for the rest of the
# bench: this table comes last.
idle_table() {
    local idle_n idle_tcp idle_udp proto idle_port kb fds
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    idle_n=$(($(ulimit -n) / 2 - 16))
    ((idle_n <= 10000)) || idle_n=10000
    ((rounds > 1)) || idle_n=1000
    start "${server_cpu[@]}" "$build/tcp/tcp-echo" server -p 0 -q --max-clients 0 --idle-timeout 0
    idle_tcp=$port
    start "${server_cpu[@]}" "$build/udp/udp-echo" server -p 0 -q
    idle_udp=$port
    echo
    printf '%-34s | %10s | %11s\n' "relay with idle clients" "RSS" descriptors
    for proto in tcp udp; do
        idle_port=idle_$proto
        read -r kb fds <<<"$(idle_rss "$proto" "${!idle_port}" "$idle_n")"
        ((kb > 0)) || status=1
        printf '%-34s | %7.1f MB | %11s\n' "$proto, $idle_n clients" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')" "$fds"
        if ((rounds > 1)) && [[ $proto == tcp ]] && ((kb >= 32 * 1024)); then
            echo "relay target: under 32 MB with $idle_n idle TCP clients: NOT met"
            status=1
        fi
    done
    ((rounds == 1 || idle_n == 10000)) ||
        echo "(10,000 idle TCP clients need 20,016 descriptors; this machine allows $(ulimit -Hn) per process)"
}

# bench_relay: print both relay tables.
bench_relay() {
    relay_table
    idle_table
}
