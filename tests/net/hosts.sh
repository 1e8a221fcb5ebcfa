# hosts.sh - what the tests over two network namespaces share: hosts of their own, torn down
# at exit, a server in host b, and one way to fail. Sourced by a test that sets TEST (its
# name) first; needs TCP_ECHO and UDP_ECHO from ctest.
# shellcheck shell=bash

tcp=${TCP_ECHO:?set by ctest} udp=${UDP_ECHO:?set by ctest}
twohosts="$(dirname "${BASH_SOURCE[0]}")/../../lessons/lab/twohosts"
export SOCKLAB_NS_PREFIX=sl-$TEST-$$-
tmp=$(mktemp -d)
trap '"$twohosts" down >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL $TEST: $*" >&2
    exit 1
}

# serve PROTO-BIN NAME [ARGS...]: start a server in host b, print its port
serve() {
    "$twohosts" run b "$1" server -b 10.77.0.2 -p 0 "${@:3}" >"$tmp/$2.out" 2>&1 &
    for _ in $(seq 100); do
        [[ -s $tmp/$2.out ]] && break
        sleep 0.05
    done
    sed -n '1s/^listening on 10\.77\.0\.2:\([0-9]*\) .*/\1/p' "$tmp/$2.out"
}
