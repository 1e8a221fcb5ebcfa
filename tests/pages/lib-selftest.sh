#!/usr/bin/env bash
# lib-selftest: the lab library the checks share (lessons/lab/lib.sh). A server started
# under another command (SL_SERVER_IN: a host of twohosts, a namespace) that takes its time
# to start is waited for, its port learnt, and it is stopped with its summary; one that
# never says "listening" fails the check by name instead of ending the script half way.
set -euo pipefail

lab=$(cd "$(dirname "$0")/../../lessons/lab" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() {
    echo "FAIL lib-selftest: $*" >&2
    exit 1
}

# a check of its own, run as the lessons run theirs
check() {
    bash -c '
        set -euo pipefail
        source "$1/lib.sh"
        sl_init 99-lib-selftest
        '"$1"'
        sl_finish
    ' lib-selftest "$lab"
}

# the server's own output file appears only when the slow wrapper gets to exec it
check 'SL_SERVER_IN=(sh -c "sleep 0.5; exec \"\$@\"" slow)
       sl_server_start slow udp
       SL_SERVER_IN=()
       sl_expect_match "the slow server'"'"'s port" "^[0-9]+$" "$SL_PORT"
       sl_server_stop slow
       sl_expect_match "its summary" "^summary: 0 peers" "$(grep ^summary "$SL_TMP/slow.out")"' \
    >"$out" 2>&1 || fail "a server slow to start: $(cat "$out")"
grep -q '^PASS 99-lib-selftest (2 checks)$' "$out" || fail "slow server: $(cat "$out")"

status=0
check 'SL_SERVER_IN=(sh -c "exec sleep 30" never)
       sl_server_start never tcp' >"$out" 2>&1 || status=$?
[[ $status == 1 ]] || fail "a server that never listens: exit $status, expected 1: $(cat "$out")"
grep -q "^FAIL 99-lib-selftest: never starts: no 'listening on' line" "$out" ||
    fail "a server that never listens is not named: $(cat "$out")"
echo "PASS lib-selftest"
