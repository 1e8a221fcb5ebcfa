# shellcheck shell=bash
# bench/ladder.sh - the ladder row of scripts/bench (sourced; uses bench/lib.sh). A capture
# of 100,000 packets (a TCP transfer, written by bench/transfer-pcap.py, so the row needs no
# capture privileges) drawn as SVG by ladder, all of it (--max 100000), against tshark
# reading the same file to one line per packet. Target: under 2 s.

# wall_seconds COMMAND...: the wall-clock seconds it took, its output thrown away
wall_seconds() {
    local t0=$EPOCHREALTIME
    timeout 120 "$@" >/dev/null 2>&1 || true
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}

# bench_ladder: print the ladder table and its target.
bench_ladder() {
    local pcap=$tmp_dir/transfer.pcap packets lad_o=() lad_t=() round lm
    python3 bench/transfer-pcap.py "$pcap"
    packets=$(python3 -c 'import os, sys; print((os.path.getsize(sys.argv[1]) - 24) // 56)' "$pcap")
    for ((round = 0; round < stream_rounds; round++)); do
        lad_o+=("$(wall_seconds "$build/ladder/ladder" --format svg --max 100000 "$pcap")")
        lad_t+=("$(wall_seconds tshark -n -r "$pcap")")
    done
    echo
    printf '%-28s %-26s %-26s %6s\n' "ladder (median, min-max)" ours tshark ratio
    row "$packets packets to SVG, s" 1 "%.2f" "${lad_o[@]}" -- "${lad_t[@]}"
    read -r lm _ <<<"$(stats "${lad_o[@]}")"
    # a quick run (one round, on any build: the suite runs it under ASan too) judges no target
    if ((rounds == 1)); then
        echo "ladder target: under 2 s for $packets packets: $lm s in one quick run, not judged"
    elif awk -v m="$lm" 'BEGIN { exit !(m < 2) }'; then
        echo "ladder target: under 2 s for $packets packets: met ($lm s)"
    else
        echo "ladder target: under 2 s for $packets packets: NOT met ($lm s)"
        status=1
    fi
}
