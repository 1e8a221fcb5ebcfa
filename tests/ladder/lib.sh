# shellcheck shell=bash
# lib.sh - what the ladder tests share: the program under test, the lessons, a scratch
# directory removed on exit, failures counted (fail) and the one closing line (finish).
#
#   source "$(dirname "$0")/lib.sh"
#   ladder_test formats             # sets ladder (unless told NO_LADDER), here, lessons, tmp
#   ... fail "what went wrong" ...
#   finish "what was checked"

ladder_test() {
    TEST_NAME=ladder-$1
    [[ ${2:-} == NO_LADDER ]] || ladder=${LADDER:?set by ctest}
    here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
    lessons=$here/../../lessons
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    failures=0
}

fail() {
    echo "FAIL $TEST_NAME: $*" >&2
    failures=$((failures + 1))
}

# finish SUMMARY: exit 1 with the count of failures, or print the summary and exit 0
finish() {
    if ((failures > 0)); then
        echo "$TEST_NAME: $failures failure(s)" >&2
        exit 1
    fi
    echo "$TEST_NAME: $*"
    exit 0
}
