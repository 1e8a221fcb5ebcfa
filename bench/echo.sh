# shellcheck shell=bash
# bench/echo.sh - the echo and server-CPU tables of scripts/bench (sourced; uses bench/lib.sh).
#
# Echo: our TCP models epoll, poll and uring and our UDP server, each against ref-echo (the
# same protocol), at 64 B, 16 KiB, 64 KiB and 1 MiB, with 1 and 64 connections (or UDP
# sockets). The load client is ours on both sides. Runs alternate ours, reference, ours,
# reference ...: each pair gives a ratio ours / reference, and a row shows the median ratio
# with the pairs' lowest and highest, beside each side's median transactions/s. Goal: 0.95.
#
# CPU: the server's user + system time from /proc/PID/stat across each run, per
# transaction (microseconds, which is also CPU seconds per million transactions).

echo_sizes=(64 16384 65536 1048576)
# a UDP datagram carries at most 65,507 bytes over IPv4: UDP's "64 KiB" row sends that
udp_max=65507

# echo_servers: start the servers the echo rows compare, pinned to the server CPU, and set
# echo_port_NAME, echo_pid_NAME for NAME in epoll poll uring udp ref_tcp ref_udp; echo_models
# lists the models that started. Prints a line when the uring model cannot start (a kernel
# with io_uring turned off): its rows are left out.
echo_servers() {
    local model
    echo_models=()
    for model in epoll poll uring; do
        if ! start "${server_cpu[@]}" "$build/tcp/tcp-echo" server -p 0 -q --model "$model"; then
            [[ $model == uring ]] || exit 1
            echo "(uring: the server did not start, so its rows are left out; tcp-echo server --model uring says why)"
            continue
        fi
        echo_models+=("$model")
        printf -v "echo_port_$model" %s "$port"
        printf -v "echo_pid_$model" %s "$server_pid"
    done
    echo_models+=(udp)
    start "${server_cpu[@]}" "$build/udp/udp-echo" server -p 0 -q
    echo_port_udp=$port echo_pid_udp=$server_pid
    start "${server_cpu[@]}" "$build/bench/ref-echo" tcp 0
    echo_port_ref_tcp=$port echo_pid_ref_tcp=$server_pid
    start "${server_cpu[@]}" "$build/bench/ref-echo" udp 0
    echo_port_ref_udp=$port echo_pid_ref_udp=$server_pid
}

# echo_row MODEL PARALLEL SIZE: print one row of the echo table (runs its pairs first).
echo_row() {
    local model=$1 proto=tcp ours_port ours_pid ref_port ref_pid median
    [[ $model == udp ]] && proto=udp
    ours_port=echo_port_$model ours_pid=echo_pid_$model
    ref_port=echo_port_ref_$proto ref_pid=echo_pid_ref_$proto
    run_pairs "$proto" "$2" "$3" "${!ours_port}" "${!ours_pid}" "${!ref_port}" "${!ref_pid}"
    read -r median _ <<<"$(stats "${tps_ratio[@]}")"
    judge "$median" ">=" 0.95
    printf '%-6s %3s %8s | %10.0f %10.0f | %-19s | %7s %s\n' "$model" "$2" "$3" \
        "$(stats "${ours_tps[@]}" | cut -d' ' -f1)" "$(stats "${ref_tps[@]}" | cut -d' ' -f1)" \
        "$(spread "${tps_ratio[@]}")" ">= 0.95" "$verdict"
}

# bench_echo: print the echo table.
bench_echo() {
    local model parallel size
    echo_servers
    echo "echo: transactions/s, median of alternating pairs of $seconds s runs (ours, ref-echo; pairs: $pairs);"
    echo "ratio: ours / ref-echo, the median of the pairs' ratios (lowest-highest)"
    printf '%-6s %3s %8s | %10s %10s | %-19s | %7s %s\n' model P size "ours tx/s" "ref tx/s" \
        "ratio (min-max)" goal verdict
    for model in "${echo_models[@]}"; do
        for parallel in 1 64; do
            for size in "${echo_sizes[@]}"; do
                if [[ $model == udp ]] && ((size > udp_max)); then
                    ((size < 2 * udp_max)) || continue # 1 MiB: no datagram is that large
                    size=$udp_max
                fi
                echo_row "$model" "$parallel" "$size"
            done
        done
    done
    echo "(udp: no 1 MiB row, and $udp_max bytes for 64 KiB: the most one IPv4 datagram carries)"
}

# cpu_row LABEL PROTO PARALLEL OURS_PORT OURS_PID BASE_PORT BASE_PID GOAL: print one row of
# the CPU table: both servers' median CPU us per transaction and the ratio against GOAL.
cpu_row() {
    local median
    run_pairs "$2" "$3" 64 "$4" "$5" "$6" "$7"
    read -r median _ <<<"$(stats "${cpu_ratio[@]}")"
    judge "$median" "<=" "$8"
    printf '%-30s | %9.2f %9.2f | %-19s | %7s %s\n' "$1" \
        "$(stats "${ours_cpu[@]}" | cut -d' ' -f1)" "$(stats "${ref_cpu[@]}" | cut -d' ' -f1)" \
        "$(spread "${cpu_ratio[@]}")" "<= $8" "$verdict"
}

# bench_cpu: print the server CPU table (the echo servers must be running: bench_echo, or
# echo_servers).
bench_cpu() {
    local thread_port thread_pid fork_port fork_pid
    if [[ -z ${echo_pid_epoll:-} ]]; then echo_servers; fi
    start "${server_cpu[@]}" "$build/tcp/tcp-echo" server -p 0 -q --model thread
    thread_port=$port thread_pid=$server_pid
    start "${server_cpu[@]}" "$build/tcp/tcp-echo" server -p 0 -q --model fork
    fork_port=$port fork_pid=$server_pid
    echo
    echo "server CPU per 64-byte transaction, us (= CPU s per million), user + system from"
    echo "/proc/PID/stat; median of alternating pairs (pairs: $pairs); ratio: server / baseline"
    printf '%-30s | %9s %9s | %-19s | %7s %s\n' "server vs baseline" server baseline \
        "ratio (min-max)" goal verdict
    if [[ -n ${echo_pid_uring:-} ]]; then
        cpu_row "uring vs epoll, 64 conns" tcp 64 "$echo_port_uring" "$echo_pid_uring" \
            "$echo_port_epoll" "$echo_pid_epoll" 0.85
    fi
    cpu_row "udp vs ref-echo, 64 peers" udp 64 "$echo_port_udp" "$echo_pid_udp" \
        "$echo_port_ref_udp" "$echo_pid_ref_udp" 0.80
    cpu_row "thread vs ref-echo, 8 conns" tcp 8 "$thread_port" "$thread_pid" \
        "$echo_port_ref_tcp" "$echo_pid_ref_tcp" 1.40
    cpu_row "fork vs ref-echo, 8 conns" tcp 8 "$fork_port" "$fork_pid" \
        "$echo_port_ref_tcp" "$echo_pid_ref_tcp" 1.40
    stop "$thread_pid"
    stop "$fork_pid"
}
