# lib.sh - what the tests in tests/net share: a network namespace of the test's own, a
# scratch directory, servers started on port 0, and one way to fail.
#
# A test sets NAME, sources this, and calls net_inside "$@" first: the test runs again in a
# network namespace of its own (inside a user namespace for an ordinary user), where nothing
# it sends can leave, and net_setup gives it loopback and a scratch directory.

# Unless already inside, run this test again in a network namespace of its own.
net_inside() {
    [[ ${1:-} == --inside ]] && net_private=1 && return 0
    if [[ $EUID -eq 0 ]]; then
        exec unshare --net "$0" --inside
    fi
    exec unshare --user --map-root-user --net "$0" --inside
}

# Loopback up, a scratch directory $tmp (kept, and named, with KEEP=1), and every server
# started with serve stopped when the test ends. The namespace's ephemeral ports start at
# 50000: a port the kernel picks (a server on port 0, a relay's upstream socket) can never be
# one a test binds by number below that (40601 was once taken that way: EADDRINUSE).
net_setup() {
    [[ -z ${net_private:-} ]] || echo "50000 60999" >/proc/sys/net/ipv4/ip_local_port_range
    tmp=$(mktemp -d)
    [[ -z ${KEEP:-} ]] || echo "tmp: $tmp"
    pids=()
    servers=()
    trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [[ -n ${KEEP:-} ]] || rm -rf "$tmp"' EXIT
    ip link set lo up
}

fail() {
    echo "FAIL $NAME: $*" >&2
    exit 1
}

# wait_for FILE PATTERN: the pattern turns up in FILE (relative to the scratch directory, or
# absolute) within 20 s, or the test fails with what FILE holds
wait_for() {
    for _ in $(seq 400); do grep -qs -- "$2" "$1" && return 0; sleep 0.05; done
    fail "'$2' never showed in $1: $(cat "$1" 2>/dev/null)"
}

# serve BIN NAME ARGS...: a server on port 0, its output in $tmp/NAME.out; once it listens,
# $port, $pid, and with --tls $fp, its certificate's fingerprint. ROLE=relay starts a relay
# instead (ARGS hold its --to); stop_servers stops both.
serve() {
    local bin=$1 name=$2
    shift 2
    "$bin" "${ROLE:-server}" -p 0 "$@" >"$tmp/$name.out" 2>&1 &
    pid=$!
    pids+=("$pid")
    servers+=("$pid:$name")
    for _ in $(seq 100); do
        [[ -s $tmp/$name.out ]] && break
        sleep 0.05
    done
    port=$(sed -n '1s/^listening on [^ ]*:\([0-9]*\) .*/\1/p' "$tmp/$name.out")
    fp=$(sed -n '1s/.*certificate \(SHA256:[0-9A-F:]*\).*/\1/p' "$tmp/$name.out")
    [[ -n $port ]] || fail "$name did not start: $(cat "$tmp/$name.out")"
}

# stop_servers: every server serve started, stopped as Ctrl-C stops it (SIGINT), must end
# with status 0 within 10 s: a crash, a hang, or (under ASan) LeakSanitizer finding memory
# never freed fails the test, with the end of what the server printed.
stop_servers() {
    local entry p name rc
    for entry in "${servers[@]}"; do kill -INT "${entry%%:*}" 2>/dev/null || true; done
    for entry in "${servers[@]}"; do
        p=${entry%%:*} name=${entry#*:}
        for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        kill -0 "$p" 2>/dev/null && fail "$name: still running 10 s after SIGINT"
        rc=0
        wait "$p" || rc=$?
        ((rc == 0)) || fail "$name: exit status $rc after SIGINT: $(tail -c 1500 "$tmp/$name.out")"
    done
    servers=()
}
