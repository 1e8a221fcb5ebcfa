# shellcheck shell=bash
# bench/burst.sh - the connection-burst table of scripts/bench (sourced; uses bench/lib.sh).
# N connections (10,000; 1,000 with --quick) opened at once against the epoll and poll
# servers, each round in a network namespace of its own (bench/netns-burst): the time until
# the server has accepted them all, and how many the listen queue overflowed with. Goal:
# all accepted, no overflow.

# bench_burst: print the burst table.
bench_burst() {
    local n=10000 model round line times overflows accepted worst c a t o
    ((quick)) && n=1000
    echo
    need_root "burst" || return 0
    echo "burst: $n connections at once, each round in a network namespace of its own (rounds: $burst_rounds);"
    echo "seconds from the first connect until the server accepted them all, median (lowest-highest);"
    echo "accepted: the fewest in a round; overflows: TcpExtListenOverflows, all rounds together"
    printf '%-6s | %13s | %-19s | %9s | %-26s %s\n' model accepted "seconds (min-max)" overflows goal verdict
    for model in epoll poll; do
        times=() overflows=0 worst=$n
        for ((round = 0; round < burst_rounds; round++)); do
            line=$(timeout 120 unshare --net bench/netns-burst "$build" "$model" "$n") || {
                line="0 0 0 0"
                status=1
            }
            read -r c a t o <<<"$line"
            times+=("$t") overflows=$((overflows + o))
            ((a >= worst)) || worst=$a
            ((c == n)) || worst=$((c < worst ? c : worst))
        done
        accepted="$worst/$n"
        judge "$(((worst == n) && (overflows == 0)))" == 1
        printf '%-6s | %13s | %-19s | %9s | %-26s %s\n' "$model" "$accepted" "$(spread "${times[@]}")" \
            "$overflows" "all accepted, 0 overflows" "$verdict"
    done
}
