#!/usr/bin/env bash
# trace-golden: run each program with --trace through a full exchange and compare the
# calls and their wire notes with the golden files, once ports, descriptors of accepted
# connections and times are normalised. Run with --update to rewrite the golden files.
set -euo pipefail

tcp=${TCP_ECHO:?set by ctest} udp=${UDP_ECHO:?set by ctest}
# start the programs with only stdin, stdout and stderr open, as from a fresh shell, so the
# descriptor numbers in a trace are the ones a student sees (a test runner may leak more)
for fd in $(ls /proc/$$/fd); do
    ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null || true
done
golden="$(dirname "$0")/golden"
update=false
[[ ${1:-} == --update ]] && update=true
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
failures=0

# normalise: ports become PORT, descriptors past the first socket FD (the server model
# decides which it gets), repeated blanks one blank (columns depend on lengths)
normalise() {
    sed -E 's/(127\.0\.0\.1|\]):[0-9]+/\1:PORT/g; s/"port":[0-9]+/"port":PORT/g
            s/\(([4-9]|[1-9][0-9]+)([,)])/(FD\2/g; s/^(accept\(.*\) = )[0-9]+/\1FD/; s/ +/ /g'
}

check() { # NAME FILE
    normalise <"$2" >"$tmp/$1.got"
    if $update; then
        cp "$tmp/$1.got" "$golden/$1.txt"
    elif ! diff -u "$golden/$1.txt" "$tmp/$1.got"; then
        echo "FAIL trace-golden: $1 differs from $golden/$1.txt" >&2
        failures=$((failures + 1))
    fi
}

# server BIN NAME ARGS...: start a --once server with --trace, wait for its port
server() {
    local bin=$1 name=$2
    shift 2
    "$bin" server -p 0 --once --trace "$@" >"$tmp/$name.out" 2>"$tmp/$name.trace" &
    pids+=($!)
    for _ in $(seq 100); do
        [[ -s $tmp/$name.out ]] && break
        sleep 0.05
    done
    port=$(sed -n '1s/.*:\([0-9]*\) (.*)$/\1/p' "$tmp/$name.out")
}

for proto in tcp udp; do
    bin=${!proto}
    server "$bin" "$proto-server"
    "$bin" client -p "$port" 127.0.0.1 --trace -m hi >/dev/null 2>"$tmp/$proto-client.trace"
    wait "${pids[-1]}"
    check "$proto-client" "$tmp/$proto-client.trace"
    check "$proto-server" "$tmp/$proto-server.trace"
    # nobody home: the port a server just left
    "$bin" client -p "$port" 127.0.0.1 --trace -m hi >/dev/null 2>"$tmp/$proto-refused.trace" || true
    grep -v "^$proto-echo: " "$tmp/$proto-refused.trace" >"$tmp/$proto-refused.calls"
    check "$proto-refused" "$tmp/$proto-refused.calls"
done

# the same events as JSON objects
server "$tcp" json-server
"$tcp" client -p "$port" 127.0.0.1 --trace --json -m hi >/dev/null 2>"$tmp/tcp-client-json.trace"
wait "${pids[-1]}"
check tcp-client-json "$tmp/tcp-client-json.trace"

# socket options: each setsockopt with what the kernel granted, where each role sets it
server "$tcp" tcp-options-server --rcvbuf 4k --linger 5 --ttl 9 --tos 184 --keepalive 5 \
    --keepalive-interval 2 --keepalive-count 4
"$tcp" client -p "$port" 127.0.0.1 --trace --sndbuf 8k --linger 0 --ttl 9 --tos 184 \
    --keepalive 30 -m hi >/dev/null 2>"$tmp/tcp-options-client.trace"
wait "${pids[-1]}"
check tcp-options-client "$tmp/tcp-options-client.trace"
check tcp-options-server "$tmp/tcp-options-server.trace"
server "$udp" udp-options-server -b 127.0.0.1 --rcvbuf 4k --sndbuf 4k --ttl 9 --tos 184 \
    --dontfrag --reuseaddr --reuseport
"$udp" client -p "$port" 127.0.0.1 --trace --rcvbuf 4k --ttl 9 --tos 184 --dontfrag \
    -m hi >/dev/null 2>"$tmp/udp-options-client.trace"
wait "${pids[-1]}"
check udp-options-client "$tmp/udp-options-client.trace"
check udp-options-server "$tmp/udp-options-server.trace"

# --trace-time: every line starts with milliseconds since the program started
server "$udp" time-server
"$udp" client -p "$port" 127.0.0.1 --trace-time -m hi >/dev/null 2>"$tmp/time.trace"
wait "${pids[-1]}"
if grep -Evq '^\[ *[0-9]+\.[0-9]{3}\] [a-z]+\(' "$tmp/time.trace"; then
    echo "FAIL trace-golden: --trace-time lines without a [ms] prefix:" >&2
    cat "$tmp/time.trace" >&2
    failures=$((failures + 1))
fi

if ((failures)); then
    exit 1
fi
$update && echo "golden files rewritten in $golden" || echo "PASS trace-golden: 13 traces as expected"
