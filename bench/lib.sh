# shellcheck shell=bash
# bench/lib.sh - what every section of scripts/bench shares: starting servers on free ports,
# one load run and the server CPU it cost, medians, and the goal verdicts. Sourced by
# scripts/bench, which sets $build, $quick and $status first.

pids=()
tmp_dir=$(mktemp -d /tmp/socklab-bench.XXXXXX)

# cleanup: print nothing; stop every server this run started and remove its files (the EXIT
# trap: a section that fails or a Ctrl-C leaves nothing behind)
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp_dir"
}
trap cleanup EXIT

# servers on one CPU, clients on another: every run sees the same placement, instead of
# the scheduler's luck deciding whether a wake-up crosses CPUs (a 10x difference for one
# client on a virtual machine)
server_cpu=() client_cpu=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi

# start COMMAND...: print nothing; run a server, read the port from its first line into
# $port (a --tls server's fingerprint into $fp) and its process id into $server_pid. A server
# that prints no port is a failure (status 1, with a message; under set -e, the bench's end).
start() {
    local out
    out=$(mktemp -p "$tmp_dir")
    "$@" >"$out" 2>/dev/null &
    server_pid=$!
    pids+=("$server_pid")
    for _ in $(seq 100); do
        [[ -s $out ]] && break
        sleep 0.05
    done
    port=$(head -1 "$out" | sed -n 's/.*:\([0-9]*\) (\(tcp\|udp\)[,)].*/\1/p')
    fp=$(head -1 "$out" | grep -o 'SHA256:[0-9A-F:]*' || true)
    rm -f "$out"
    [[ -n $port ]] || {
        echo "bench: '$*' printed no port" >&2
        return 1
    }
}

# stop PID: print nothing; stop one server started with start, wait for it, and forget it.
stop() {
    local p kept=()
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    for p in "${pids[@]}"; do
        [[ $p == "$1" ]] || kept+=("$p")
    done
    pids=("${kept[@]}")
}

# json_field NAME LINE: the number after "NAME": in one JSON line (empty when absent).
json_field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }

# load PROTO PORT PARALLEL SIZE [ARGS...]: "tps p50 p99 transactions" from the client's last
# JSON line (0 - - 0 when the client printed nothing: the caller sees a failed run).
load() {
    local line
    line=$(timeout $((${seconds%.*} + 30)) "${client_cpu[@]}" "$build/$1/$1-echo" client -P "$3" \
        -t "$seconds" -s "$4" --json 127.0.0.1 -p "$2" "${@:5}" | tail -1) || true
    [[ -n $(json_field transactions_per_second "$line") ]] || { echo "0 - - 0"; return; }
    printf '%.0f %s %s %s\n' "$(json_field transactions_per_second "$line")" \
        "$(json_field p50 "$line")" "$(json_field p99 "$line")" "$(json_field transactions "$line")"
}

clock_ticks=$(getconf CLK_TCK)

# server_ticks PID: the CPU clock ticks (user + system) a server has used, its reaped child
# processes included. A fork-model server's children exit when their client closes: wait
# (2 s at most) until none is left, so that each one's CPU is in the parent's count.
server_ticks() {
    local children
    for _ in $(seq 100); do
        children=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
        [[ -z ${children// /} ]] && break
        sleep 0.02
    done
    # fields 14-17 of /proc/PID/stat: utime, stime, and the reaped children's cutime, cstime;
    # the command name (field 2) may hold spaces, so count from the ")" that closes it
    sed 's/.*) //' /proc/"$1"/stat | awk '{ print $12 + $13 + $14 + $15 }'
}

# measure PROTO PORT PID PARALLEL SIZE: "tps cpu_us" of one load run against the server with
# process id PID: transactions per second, and the server's CPU microseconds per transaction
# (- when no transaction completed).
measure() {
    local before after tps n
    before=$(server_ticks "$3")
    read -r tps _ _ n <<<"$(load "$1" "$2" "$4" "$5")"
    after=$(server_ticks "$3")
    awk -v t="$tps" -v n="$n" -v b="$before" -v a="$after" -v hz="$clock_ticks" 'BEGIN {
        printf "%s %s\n", t, (n > 0 ? sprintf("%.2f", (a - b) / hz * 1e6 / n) : "-") }'
}

# run_pairs PROTO PARALLEL SIZE OURS_PORT OURS_PID REF_PORT REF_PID: print nothing; run $pairs
# alternating pairs (ours, then the reference) and fill the arrays ours_tps, ref_tps,
# ours_cpu, ref_cpu (CPU us per transaction) and the per-pair ratios tps_ratio (ours / ref)
# and cpu_ratio (ours / ref). A run with no transaction sets status to 1.
run_pairs() {
    local round ot oc rt rc
    ours_tps=() ref_tps=() ours_cpu=() ref_cpu=() tps_ratio=() cpu_ratio=()
    for ((round = 0; round < pairs; round++)); do
        read -r ot oc <<<"$(measure "$1" "$4" "$5" "$2" "$3")"
        read -r rt rc <<<"$(measure "$1" "$6" "$7" "$2" "$3")"
        ((ot > 0 && rt > 0)) || status=1
        ours_tps+=("$ot") ref_tps+=("$rt") ours_cpu+=("$oc") ref_cpu+=("$rc")
        tps_ratio+=("$(ratio "$ot" "$rt")") cpu_ratio+=("$(ratio "$oc" "$rc")")
    done
}

# ratio A B: A / B to two places (0 when B is not a positive number).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b + 0 > 0 ? a / b : 0) }'; }

# stats VALUES...: "median min max"
stats() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}

# spread VALUES...: "median (min-max)", as the tables print it, to two places
spread() {
    local m lo hi
    read -r m lo hi <<<"$(stats "$@")"
    printf '%.2f (%.2f-%.2f)\n' "$m" "$lo" "$hi"
}

# judge VALUE OP GOAL: print nothing; set $verdict to "met" or "missed" for VALUE OP GOAL
# (OP: >=, <=, <, ==). A full run that misses sets status to 1; a quick one is too short to
# judge, and says so.
judge() {
    verdict=missed
    if awk -v v="$1" -v g="$3" -v op="$2" 'BEGIN {
        exit !((op == ">=" && v >= g) || (op == "<=" && v <= g) || (op == "<" && v < g) || (op == "==" && v == g)) }'; then
        verdict=met
    elif ((!quick)); then
        status=1
    fi
    if ((quick)); then verdict="$verdict, not judged"; fi
}

# need_root SECTION: true when this run may make network namespaces; otherwise prints the
# line that says the section is skipped, and is false.
need_root() {
    ((EUID == 0)) && command -v unshare >/dev/null && return 0
    echo "$1: skipped (network namespaces need root)"
    return 1
}

# cpu_of COMMAND...: run it on the client's CPU; its output on stdout, then one line with
# the user + system CPU seconds it used ("cpu SECONDS").
cpu_of() {
    "${client_cpu[@]}" "$@" || true
    # the builtin, in this (command substitution's) shell: its only child was the command
    times >"$tmp_dir/times"
    awk 'END { split($0, a, /[ ms]+/); print "cpu", a[1] * 60 + a[2] + a[3] * 60 + a[4] }' "$tmp_dir/times"
}

# row LABEL SCALE FORMAT OURS-VALUES -- THEIR-VALUES: one line of a table of medians with
# min-max, ours against another tool's, and the ratio of the medians
row() {
    local label=$1 scale=$2 fmt=$3 ours=() theirs=() om olo ohi tm tlo thi
    shift 3
    while [[ $1 != -- ]]; do
        ours+=("$1")
        shift
    done
    shift
    theirs=("$@")
    read -r om olo ohi <<<"$(stats "${ours[@]}")"
    read -r tm tlo thi <<<"$(stats "${theirs[@]}")"
    awk -v l="$label" -v s="$scale" -v f="$fmt" -v om="$om" -v olo="$olo" -v ohi="$ohi" \
        -v tm="$tm" -v tlo="$tlo" -v thi="$thi" 'BEGIN {
            o = sprintf(f " (" f "-" f ")", om / s, olo / s, ohi / s)
            t = sprintf(f " (" f "-" f ")", tm / s, tlo / s, thi / s)
            printf "%-28s %-26s %-26s %6.2f\n", l, o, t, (tm > 0 ? om / tm : 0) }'
}
