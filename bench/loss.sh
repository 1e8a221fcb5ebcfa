# shellcheck shell=bash
# bench/loss.sh - the UDP-with-loss table of scripts/bench (sourced; uses bench/lib.sh): UDP
# load -P 8 between two hosts (lessons/lab/twohosts, inside lessons/lab/isolated), with no
# loss and with 1% of the datagrams lost each way, in alternating pairs (bench/netns-loss).
# A client that retransmits after about one RTO loses a little; one that waits its whole -W
# for every loss idles most of the run. Goal: with loss, at least 0.8 of the no-loss rate.

# bench_loss: print the loss table.
bench_loss() {
    local clean=() lossy=() ratios=() lost=() c l n median
    echo
    need_root "loss" || return 0
    while read -r c l n; do
        clean+=("$c") lossy+=("$l") lost+=("$n") ratios+=("$(ratio "$l" "$c")")
        awk -v c="$c" -v l="$l" 'BEGIN { exit !(c > 0 && l > 0) }' || status=1
    done < <(timeout 600 lessons/lab/isolated bench/netns-loss "$build" "$loss_seconds" "$pairs" || true)
    if ((${#clean[@]} == 0)); then
        echo "loss: no run completed (lessons/lab/isolated or twohosts failed)"
        status=1
        return 0
    fi
    read -r median _ <<<"$(stats "${ratios[@]}")"
    judge "$median" ">=" 0.8
    echo "loss: udp -P 8 between two namespaces, 1% of datagrams lost each way; median of alternating"
    echo "pairs of $loss_seconds s runs (pairs: ${#clean[@]}); lost: requests the client gave up on, median"
    printf '%-10s | %10s %10s %6s | %-19s | %7s %s\n' "" "no loss" "1% loss" lost "ratio (min-max)" goal verdict
    printf '%-10s | %10.0f %10.0f %6s | %-19s | %7s %s\n' "tx/s" "$(stats "${clean[@]}" | cut -d' ' -f1)" \
        "$(stats "${lossy[@]}" | cut -d' ' -f1)" "$(stats "${lost[@]}" | cut -d' ' -f1)" \
        "$(spread "${ratios[@]}")" ">= 0.80" "$verdict"
}
