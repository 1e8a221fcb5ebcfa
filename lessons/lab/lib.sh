# shellcheck shell=bash
# lib.sh - helpers for the lessons' check scripts: find the programs, start a server on a
# free port, run a client with a time limit, capture, compare, and report one result.
#
# A check script does:
#   source "$(dirname "$0")/../lab/lib.sh"
#   sl_init 01-first-contact "$@"
#   sl_server_start srv tcp --once          # sets SL_PORT
#   sl_run cli tcp client -p "$SL_PORT" -m hi 127.0.0.1
#   sl_expect_eq "client prints the echo" "hi" "$(sl_out cli)"
#   sl_finish
#
# Everything the script started (servers, captures) is stopped on exit, also on Ctrl-C.

SL_LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SL_LESSONS=$(dirname "$SL_LAB")
SL_ROOT=$(dirname "$SL_LESSONS")

SL_LESSON=""
SL_DIR=""
SL_TMP=""
SL_JSON=0
SL_RECORD=0
SL_VERBOSE=0
SL_KEEP=0
SL_PORT=""
SL_RC=0
SL_PCAP=""
SL_TCP=""
SL_UDP=""
SL_RUN_TIMEOUT=10
SL_STUDENT=""      # --student ID: this student's own numbers (lab/student)
SL_PARAMS_JSON="{}"
declare -A SL_WANT=() # what a run with those numbers must show, by fact name

SL_CHECK_NAMES=()
SL_CHECK_PASSED=()
SL_CHECK_DETAILS=()
SL_FACT_NAMES=()   # what the run measured that its numbers decide, for --json
declare -A SL_FACT=()
SL_CAPTURES=()     # names of captures started, for cleanup
SL_PCAPS=()        # files they produced, for --record
declare -A SL_SERVER_PID=()

sl_usage() {
    cat <<EOF
usage: $SL_LESSON/check [--student ID] [--json] [--record] [-v] [--keep]

Runs this lesson's steps for real and checks what the README claims.
Prints one line: PASS $SL_LESSON (N checks), or FAIL with what differed.

  --student ID  run with student ID's own numbers (lab/student ID lists them), not the
             page's; without it, the numbers the page shows
  --json     print one JSON object instead: {"lesson", "student", "params", "passed",
             "checks": [...], "facts": {...}} (what lab/grade reads)
  --record   also capture the traffic and save it as $SL_LESSON/reference.pcapng
             (needs capture rights: root, or dumpcap's capabilities)
  -v         print every check as it is made
  --keep     keep the temporary directory with outputs and captures

Environment: SOCKLAB_TCP_ECHO, SOCKLAB_UDP_ECHO (the programs), or SOCKLAB_BIN_DIR (a
build directory); otherwise the newest build/*/ of this repository, or else the programs
on PATH (installed lessons).
Exit status: 0 all checks passed, 1 a check failed, 77 skipped (cannot capture).
EOF
}

# sl_bin tcp|udp|ladder: find one program (tcp-echo, udp-echo or ladder): SOCKLAB_TCP_ECHO,
# SOCKLAB_UDP_ECHO or SOCKLAB_LADDER; else in SOCKLAB_BIN_DIR; else the newest build here;
# else on PATH.
sl_bin() {
    local name=$1-echo var dir candidate newest=""
    [[ $1 == ladder ]] && name=ladder
    var=SOCKLAB_$(tr '[:lower:]-' '[:upper:]_' <<<"$name")
    if [[ -n ${!var:-} ]]; then
        echo "${!var}"
        return 0
    fi
    if [[ -n ${SOCKLAB_BIN_DIR:-} ]]; then
        for candidate in "$SOCKLAB_BIN_DIR/$name" "$SOCKLAB_BIN_DIR/$1/$name"; do
            [[ -f $candidate && -x $candidate ]] && { echo "$candidate"; return 0; }
        done
        return 1
    fi
    for dir in "$SL_ROOT"/build/*/; do
        candidate=$dir$1/$name
        [[ -x $candidate ]] || continue
        if [[ -z $newest || $candidate -nt $newest ]]; then newest=$candidate; fi
    done
    # installed lessons (share/socklab/lessons) have no build next to them: use PATH
    [[ -n $newest ]] || newest=$(command -v "$name") || return 1
    echo "$newest"
}

# sl_draw LADDER FORMAT CAPTURE: the capture drawn by the ladder program LADDER on standard
# output, its TCP beside its UDP (--apart) when it holds both, else whole; ladder's status
sl_draw() {
    local rc=0
    # --apart refuses a capture without both protocols (status 1), before drawing anything
    "$1" --format "$2" --apart "$3" 2>/dev/null || rc=$?
    ((rc == 1)) || return "$rc"
    "$1" --format "$2" "$3"
}

# sl_own_hosts TAG: namespace names of this run's own (sl-TAG-PID-a ...), unless the caller
# chose some: two checks side by side, or a check beside a student's sl-a and sl-b, never
# meet, and a check removes only the hosts it made.
sl_own_hosts() {
    export SOCKLAB_NS_PREFIX=${SOCKLAB_NS_PREFIX:-sl-$1-$$-}
}

sl_log() {
    if ((SL_VERBOSE)); then echo "$*" >&2; fi
    return 0
}

sl_init() {
    SL_LESSON=$1
    shift
    local -a argv=("$@")
    SL_DIR=$SL_LESSONS/$SL_LESSON
    while (($#)); do
        case $1 in
        --json) SL_JSON=1 ;;
        --record) SL_RECORD=1 ;;
        -v | --verbose) SL_VERBOSE=1 ;;
        --keep) SL_KEEP=1 ;;
        --student)
            [[ -n ${2:-} ]] || { echo "$SL_LESSON/check: --student needs an id" >&2; exit 2; }
            SL_STUDENT=$2
            shift
            ;;
        -h | --help) sl_usage; exit 0 ;;
        *) echo "$SL_LESSON/check: unknown option '$1' (see --help)" >&2; exit 2 ;;
        esac
        shift
    done
    # An ordinary user's check runs in namespaces of its own (lab/isolated), as their root:
    # there it may make hosts, add loss rules and capture on its own loopback. Where this
    # user may not, isolated says why in one line and the check goes on as it is (the steps
    # that need root then say so).
    if ((EUID != 0)) && [[ -f $0 ]] && "$SL_LAB/isolated" --check; then
        exec "$SL_LAB/isolated" "$0" "${argv[@]}"
    fi
    # SL_P_NAME for each of the lesson's numbers, SL_WANT, SL_PARAMS_JSON (a bad id: exit 2)
    local numbers
    numbers=$("$SL_LAB/student" --shell --lesson "$SL_LESSON" ${SL_STUDENT:+"$SL_STUDENT"}) || exit 2
    eval "$numbers"
    SL_TCP=$(sl_bin tcp) || SL_TCP=""
    SL_UDP=$(sl_bin udp) || SL_UDP=""
    if [[ -z $SL_TCP || -z $SL_UDP ]]; then
        echo "FAIL $SL_LESSON: cannot find tcp-echo and udp-echo (build first, or set SOCKLAB_BIN_DIR)" >&2
        exit 1
    fi
    # where the check is, line by line, for a page replay that overruns to say (lab/pages)
    # (not from the handlers of a stop or of the exit: SL_AT_DONE, set as they begin; their
    # first command comes as line 1 with the command they interrupted)
    if [[ -n ${SOCKLAB_CHECK_AT:-} ]]; then
        set -o functrace
        # one line: a trap of two would move LINENO by one
        trap '[[ -n ${SL_AT_DONE:-} || $LINENO == 1 ]] || printf "%s:%s: %s\n" "${BASH_SOURCE[0]#"$SL_ROOT"/}" "$LINENO" "$BASH_COMMAND" >"$SOCKLAB_CHECK_AT"' DEBUG
    fi
    # /tmp: tshark running as root will not write into every directory
    SL_TMP=$(mktemp -d "/tmp/socklab-$SL_LESSON.XXXXXX")
    trap 'SL_AT_DONE=1; sl_cleanup' EXIT
    trap 'SL_AT_DONE=1; exit 130' INT
    trap 'SL_AT_DONE=1; exit 143' TERM
    sl_log "using $SL_TCP and $SL_UDP; files in $SL_TMP"
}

# Stop everything still running: servers first, then captures.
sl_cleanup() {
    local id pid name
    for id in "${!SL_SERVER_PID[@]}"; do
        pid=${SL_SERVER_PID[$id]}
        kill -TERM "$pid" 2>/dev/null || true
    done
    for id in "${!SL_SERVER_PID[@]}"; do
        wait "${SL_SERVER_PID[$id]}" 2>/dev/null || true
    done
    for name in "${SL_CAPTURES[@]}"; do
        if [[ -e $SL_TMP/cap/$name.pid ]]; then
            SOCKLAB_CAPTURE_DIR=$SL_TMP/cap "$SL_LAB/capture" stop "$name" >/dev/null 2>&1 || true
        fi
    done
    if ((SL_KEEP)); then
        echo "kept $SL_TMP" >&2
    elif [[ -n $SL_TMP && -d $SL_TMP ]]; then
        rm -rf "$SL_TMP"
    fi
}

# sl_server_start ID tcp|udp ARGS...: start "PROTO-echo server -p 0 ARGS" in the background
# and read its first line to learn the port (SL_PORT). Output: $SL_TMP/ID.out and ID.err.
# SL_SERVER_IN, when set, is the command the server runs under, as an array: a host of
# twohosts ("$TWOHOSTS" run b) or a namespace (ip netns exec NS); it must exec the server,
# so that SL_SERVER_PID is the server's.
SL_SERVER_IN=()
sl_server_start() {
    local id=$1 proto=$2 bin line="" deadline
    shift 2
    bin=$SL_TCP
    [[ $proto == udp ]] && bin=$SL_UDP
    # the file exists before the loop below reads it: the background job creates it only
    # when it gets to run
    : >"$SL_TMP/$id.out"
    "${SL_SERVER_IN[@]}" "$bin" "${SL_ROLE:-server}" -p 0 "$@" >"$SL_TMP/$id.out" 2>"$SL_TMP/$id.err" </dev/null &
    SL_SERVER_PID[$id]=$!
    deadline=$((SECONDS + 5))
    SL_PORT=""
    while ((SECONDS < deadline)); do
        IFS= read -r line <"$SL_TMP/$id.out" || true
        if [[ $line =~ ^listening\ on\ .*:([0-9]+)\ \((tcp|udp)(,|\)) ]]; then
            SL_PORT=${BASH_REMATCH[1]}
            break
        elif [[ $line =~ \"event\":\"listening\".*\"port\":([0-9]+) ]]; then
            SL_PORT=${BASH_REMATCH[1]}
            break
        fi
        if ! kill -0 "${SL_SERVER_PID[$id]}" 2>/dev/null; then
            break
        fi
        sleep 0.02
    done
    if [[ -z $SL_PORT ]]; then
        sl_check "$id starts" 1 "no 'listening on' line from $proto-echo ${SL_ROLE:-server} $*: $(head -c 300 "$SL_TMP/$id.err")"
        sl_finish
    fi
    sl_log "$id: $proto-echo ${SL_ROLE:-server} $* on port $SL_PORT (pid ${SL_SERVER_PID[$id]})"
}

# sl_relay_start ID PROTO UPSTREAM ARGS...: a relay on port 0 to UPSTREAM (HOST:PORT, or a
# port on 127.0.0.1), as sl_server_start starts a server (SL_PORT, SL_SERVER_PID[ID];
# sl_server_stop stops it).
sl_relay_start() {
    local id=$1 proto=$2 up=$3
    shift 3
    [[ $up == *:* ]] || up=127.0.0.1:$up
    SL_ROLE=relay sl_server_start "$id" "$proto" --to "$up" "$@"
}

# Wait for a server to exit by itself (--once); SL_RC (and sl_rc ID) its exit status,
# 124 if it had to be stopped.
sl_server_wait() {
    local id=$1 secs=${2:-5} pid deadline
    pid=${SL_SERVER_PID[$id]:-}
    [[ -n $pid ]] || return 0
    deadline=$((SECONDS + secs))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.02
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        SL_RC=124
    else
        SL_RC=0
        wait "$pid" || SL_RC=$?
    fi
    echo "$SL_RC" >"$SL_TMP/$id.rc"
    unset "SL_SERVER_PID[$id]"
}

# Stop a server as Ctrl-C would (SIGINT): it prints its summary and exits.
sl_server_stop() {
    local id=$1
    kill -INT "${SL_SERVER_PID[$id]:-0}" 2>/dev/null || true
    sl_server_wait "$id" 5
}

# sl_run ID CMD...: run a command with a time limit; $SL_TMP/ID.out, ID.err, SL_RC.
# "tcp" and "udp" as the command name stand for the two programs.
sl_run() {
    local id=$1
    shift
    case $1 in
    tcp) set -- "$SL_TCP" "${@:2}" ;;
    udp) set -- "$SL_UDP" "${@:2}" ;;
    esac
    SL_RC=0
    timeout "$SL_RUN_TIMEOUT" "$@" >"$SL_TMP/$id.out" 2>"$SL_TMP/$id.err" </dev/null || SL_RC=$?
    echo "$SL_RC" >"$SL_TMP/$id.rc"
    sl_log "$id: $* -> exit $SL_RC"
}

# Same, with the given text as standard input.
sl_run_stdin() {
    local id=$1 input=$2
    shift 2
    case $1 in
    tcp) set -- "$SL_TCP" "${@:2}" ;;
    udp) set -- "$SL_UDP" "${@:2}" ;;
    esac
    SL_RC=0
    printf '%s' "$input" | timeout "$SL_RUN_TIMEOUT" "$@" >"$SL_TMP/$id.out" 2>"$SL_TMP/$id.err" || SL_RC=$?
    echo "$SL_RC" >"$SL_TMP/$id.rc"
    sl_log "$id: $* (stdin) -> exit $SL_RC"
}

sl_out() { cat "$SL_TMP/$1.out"; }
sl_rc() { cat "$SL_TMP/$1.rc" 2>/dev/null || echo "not run"; }
sl_err() { cat "$SL_TMP/$1.err"; }

# The socket calls of a --trace, in order, one word each: "socket bind listen ...".
# Calls that returned EAGAIN are left out: they are a server checking for work that was
# not there yet (a timed wake-up, or an event-driven accept() finding no more clients), and
# how many there are depends on timing. So are the calls on the socket a default server
# keeps on [::1] beside 127.0.0.1 (lesson 13): it never carries a byte. And so are
# setsockopt() calls: they set up a socket (keepalive on each accepted connection, lesson
# 20's options) and put nothing on the wire themselves.
sl_trace_calls() {
    local guard skip='^$'
    guard=$(sl_trace_guard "$1")
    [[ -n $guard ]] && skip="^[a-z_]+\\(${guard}[,)]|^socket\\(.*\\) = ${guard}( |\$)"
    grep -v ' = -1 EAGAIN' "$SL_TMP/$1.err" | sed -E 's/^\[[^]]*\] //' | grep -vE "$skip" |
        grep -v '^setsockopt(' |
        grep -oE '^[a-z_]+\(' | sed -E 's/\($//' | paste -sd' ' -
}

# The descriptor of the socket a default server holds [::1] with, if its trace shows one:
# the one bound to [::1] after the server bound 127.0.0.1.
sl_trace_guard() {
    sed -E 's/^\[[^]]*\] //' "$SL_TMP/$1.err" |
        awk '/^bind\([0-9]+, 127\.0\.0\.1:/ { v4 = 1; next }
             v4 && match($0, /^bind\([0-9]+, \[::1\]:/) { print substr($0, 6, RLENGTH - 13); exit }'
}

# --- checks -------------------------------------------------------------------------

# sl_check NAME FAILED(0 pass, 1 fail) DETAIL: record one check.
sl_check() {
    SL_CHECK_NAMES+=("$1")
    SL_CHECK_PASSED+=("$((!$2))")
    SL_CHECK_DETAILS+=("$3")
    if (($2)); then
        sl_log "  fail: $1: $3"
    else
        sl_log "  ok:   $1: $3"
    fi
    return 0
}

# Show text on one line for a detail: newlines as \n, long text cut.
sl_show() {
    local s=$1
    s=${s//$'\n'/\\n}
    ((${#s} <= 160)) || s="${s:0:157}..."
    printf '"%s"' "$s"
}

sl_expect_eq() {
    local name=$1 want=$2 got=$3
    if [[ $got == "$want" ]]; then
        sl_check "$name" 0 "$(sl_show "$got")"
    else
        sl_check "$name" 1 "expected $(sl_show "$want"), got $(sl_show "$got")"
    fi
}

# The text matches an extended regular expression.
sl_expect_match() {
    local name=$1 re=$2 got=$3
    if [[ $got =~ $re ]]; then
        sl_check "$name" 0 "$(sl_show "$got")"
    else
        sl_check "$name" 1 "expected to match /$re/, got $(sl_show "$got")"
    fi
}

# A number within [min, max].
sl_expect_range() {
    local name=$1 min=$2 max=$3 got=$4
    if [[ $got =~ ^-?[0-9]+$ ]] && ((got >= min && got <= max)); then
        sl_check "$name" 0 "$got (expected $min..$max)"
    else
        sl_check "$name" 1 "expected $min..$max, got $(sl_show "$got")"
    fi
}

# A file contains a line with this fixed text.
sl_expect_line() {
    local name=$1 want=$2 file=$3
    if grep -qxF -- "$want" "$file"; then
        sl_check "$name" 0 "$(sl_show "$want")"
    else
        sl_check "$name" 1 "no line $(sl_show "$want") in $(sl_show "$(head -c 400 "$file")")"
    fi
}

# sl_fact NAME VALUE: record something measured that the student's numbers decide (--json
# shows it; lab/grade recomputes what it must be).
sl_fact() {
    [[ -n ${SL_FACT[$1]+set} ]] || SL_FACT_NAMES+=("$1")
    SL_FACT[$1]=$2
}

# sl_expect_fact NAME DESCRIPTION VALUE: VALUE must be what the numbers decide (SL_WANT[NAME]).
sl_expect_fact() {
    sl_fact "$1" "$3"
    sl_expect_eq "$2" "${SL_WANT[$1]:-(no value for $1)}" "$3"
}

# --- captures -----------------------------------------------------------------------

# True when this process may capture on loopback: a capture tool, and root or a dumpcap
# with the capture capability.
sl_can_capture() {
    command -v tshark >/dev/null || command -v tcpdump >/dev/null || return 1
    [[ $EUID -eq 0 ]] && return 0
    command -v tshark >/dev/null && getcap "$(command -v dumpcap)" 2>/dev/null | grep -q cap_net_raw
}

# Lessons about captures cannot run without them: say so and exit 77 (skipped). In CI
# (CI set), where scripts/test has installed the tools and runs as root, that is a failure.
sl_need_capture() {
    if ! sl_can_capture; then
        if [[ -n ${CI:-} ]]; then
            echo "FAIL $SL_LESSON: cannot capture on loopback (tshark or tcpdump missing, or not root)"
            exit 1
        fi
        echo "SKIP $SL_LESSON: needs tshark or tcpdump, and root (or dumpcap with capture rights) to capture on loopback"
        exit 77
    fi
}

# sl_capture_start NAME BPF [ARGS...]: capture loopback traffic matching BPF; ARGS go to
# capture start (--netns NS: in a host of twohosts instead).
sl_capture_start() {
    local name=$1 filter=$2
    shift 2
    SL_CAPTURES+=("$name")
    if ! SOCKLAB_CAPTURE_DIR=$SL_TMP/cap "$SL_LAB/capture" start "$name" --filter "$filter" "$@" \
        >"$SL_TMP/cap-$name.log" 2>&1; then
        sl_check "capture $name starts" 1 "$(cat "$SL_TMP/cap-$name.log")"
        sl_finish
    fi
}

# Stop capture NAME; SL_PCAP is its file.
sl_capture_stop() {
    local name=$1
    if ! SL_PCAP=$(SOCKLAB_CAPTURE_DIR=$SL_TMP/cap "$SL_LAB/capture" stop "$name" 2>&1); then
        sl_check "capture $name stops" 1 "$SL_PCAP"
        sl_finish
    fi
    SL_PCAPS+=("$SL_PCAP")
}

# Start a capture only for --record (lessons whose checks need no capture).
sl_record_start() {
    if ((SL_RECORD)); then sl_need_capture; sl_capture_start "$@"; fi
    return 0
}

sl_record_stop() {
    if ((SL_RECORD)); then sl_capture_stop "$@"; fi
    return 0
}

# sl_tshark FILE ARGS...: read a capture, without tshark's note about running as root.
# SL_DECODE_AS (such as "udp.port==7003,dtls"): read that port as that protocol. tshark
# otherwise guesses, and encrypted bytes on a port another protocol owns are sometimes taken
# for that protocol.
sl_tshark() {
    local file=$1
    shift
    local -a decode=()
    [[ -z ${SL_DECODE_AS:-} ]] || decode=(-d "$SL_DECODE_AS")
    tshark -n -r "$file" "${decode[@]}" "$@" 2> >(grep -v 'Running as user' >&2)
}

# How many packets of FILE match a display filter.
sl_pcap_count() {
    sl_tshark "$1" -Y "$2" -T fields -e frame.number | grep -c . || true
}

# One field of every packet matching a display filter, one line each.
sl_pcap_fields() {
    local file=$1 filter=$2
    shift 2
    local -a args=()
    local f
    for f in "$@"; do args+=(-e "$f"); done
    sl_tshark "$file" -Y "$filter" -T fields -E separator=' ' "${args[@]}"
}

# --- result -------------------------------------------------------------------------

sl_json_string() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    s=$(printf '%s' "$s" | tr -d '\000-\010\013\014\016-\037')
    printf '"%s"' "$s"
}

# Save the lesson's captures as its reference.pcapng (with --record, all checks passed).
sl_save_reference() {
    local out=$SL_DIR/reference.pcapng
    ((${#SL_PCAPS[@]})) || return 0
    if ((${#SL_PCAPS[@]} == 1)); then
        editcap -F pcapng "${SL_PCAPS[0]}" "$out" 2>/dev/null || cp "${SL_PCAPS[0]}" "$out"
    else
        mergecap -F pcapng -w "$out" "${SL_PCAPS[@]}"
    fi
    echo "recorded $out ($(stat -c %s "$out") bytes)" >&2
}

# Print the result (one line, or one JSON object) and exit: 0 all passed, 1 otherwise.
sl_finish() {
    local i n=${#SL_CHECK_NAMES[@]} failed=0 first="" sep="" name
    for ((i = 0; i < n; i++)); do
        if ((!SL_CHECK_PASSED[i])); then
            failed=$((failed + 1))
            [[ -n $first ]] || first="${SL_CHECK_NAMES[i]}: ${SL_CHECK_DETAILS[i]}"
        fi
    done
    if ((SL_JSON)); then
        printf '{"lesson":%s,"student":%s,"params":%s,"passed":%s,"checks":[' \
            "$(sl_json_string "$SL_LESSON")" \
            "$([[ -n $SL_STUDENT ]] && sl_json_string "$SL_STUDENT" || echo null)" \
            "$SL_PARAMS_JSON" "$( ((failed == 0 && n > 0)) && echo true || echo false)"
        for ((i = 0; i < n; i++)); do
            printf '%s{"name":%s,"passed":%s,"detail":%s}' "$sep" \
                "$(sl_json_string "${SL_CHECK_NAMES[i]}")" \
                "$( ((SL_CHECK_PASSED[i])) && echo true || echo false)" \
                "$(sl_json_string "${SL_CHECK_DETAILS[i]}")"
            sep=,
        done
        printf '],"facts":{'
        sep=""
        for name in "${SL_FACT_NAMES[@]}"; do
            printf '%s%s:%s' "$sep" "$(sl_json_string "$name")" "$(sl_json_string "${SL_FACT[$name]}")"
            sep=,
        done
        printf '}}\n'
    else
        for ((i = 0; i < n; i++)); do
            ((SL_CHECK_PASSED[i])) || echo "  failed: ${SL_CHECK_NAMES[i]}: ${SL_CHECK_DETAILS[i]}" >&2
        done
        if ((failed == 0 && n > 0)); then
            echo "PASS $SL_LESSON ($n checks)"
        elif ((n == 0)); then
            echo "FAIL $SL_LESSON: no checks were made"
        else
            echo "FAIL $SL_LESSON: $first ($failed of $n checks failed)"
        fi
    fi
    if ((failed == 0 && n > 0 && SL_RECORD)); then sl_save_reference; fi
    ((failed == 0 && n > 0)) && exit 0
    exit 1
}
