# shellcheck shell=bash
# bench/probe.sh - the probe table of scripts/bench (sourced; uses bench/lib.sh): 20,000
# probes at -i 0 (2,000 with --quick), each after the last one's echo, in a network namespace
# of its own with a capture on its loopback (bench/netns-probe). A client that sleeps until
# the reply uses well under a core, and reports an RTT close to what the wire shows. Goals:
# client CPU under 60% of one core; reported p50 at most 15 us above the wire's median.

# bench_probe: print the probe table.
bench_probe() {
    local count=20000 line cpu p50 wire received dropped gap
    ((quick)) && count=2000
    echo
    need_root "probe" || return 0
    line=$(timeout 180 unshare --net bench/netns-probe "$build" "$count") || line="0 - - 0 0"
    read -r cpu p50 wire received dropped <<<"$line"
    ((received == count)) || status=1
    echo "probe -i 0: $count probes, $received answered, in their own network namespace; wire: a"
    echo "capture on its loopback ($dropped packets dropped), median request-to-echo gap"
    printf '%-28s | %10s | %-10s %s\n' figure value goal verdict
    judge "$cpu" "<" 60
    printf '%-28s | %9s%% | %-10s %s\n' "client CPU, % of one core" "$cpu" "< 60%" "$verdict"
    gap=-
    if [[ $p50 != - && $wire != - ]]; then
        gap=$(awk -v p="$p50" -v w="$wire" 'BEGIN { printf "%.1f", (p - w) * 1000 }')
    fi
    if [[ $gap == - ]]; then
        verdict=missed status=1
    else
        judge "$gap" "<=" 15
    fi
    printf '%-28s | %10s |\n' "reported p50, ms" "$p50"
    printf '%-28s | %10s |\n' "wire median, ms" "$wire"
    printf '%-28s | %10s | %-10s %s\n' "p50 above the wire, us" "$gap" "<= 15 us" "$verdict"
}
