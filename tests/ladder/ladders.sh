#!/usr/bin/env bash
# ladder-ladders: lessons/lab/ladders --check passes a lesson whose page shows the drawing of
# its capture, and fails one whose drawing has drifted from the capture or is not shown.
set -euo pipefail

ladder=${LADDER:?set by ctest}
src=$(cd "$(dirname "$0")/../../lessons" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL ladder-ladders: $*" >&2
    exit 1
}

mkdir -p "$tmp/lessons/bin/ladder"
cp -r "$src/lab" "$src/03-capture" "$tmp/lessons/"
ln -s "$ladder" "$tmp/lessons/bin/ladder/ladder"
ladders=$tmp/lessons/lab/ladders
svg=$tmp/lessons/03-capture/ladder.svg
export SOCKLAB_BIN_DIR=$tmp/lessons/bin

expect() { # expect STATUS WHAT: run ladders --check on lesson 03, its status must be STATUS
    local got=0
    "$ladders" --check 03-capture >"$tmp/out" 2>&1 || got=$?
    [[ $got == "$1" ]] || fail "$2: exit $got, expected $1: $(cat "$tmp/out")"
}

expect 0 "the lesson as it is"
[[ $(cat "$tmp/out") == "PASS 03-capture ladder" ]] || fail "pass line: $(cat "$tmp/out")"

cp "$svg" "$tmp/kept.svg"
sed -i '0,/SYN seq=0/s//SYN seq=1/' "$svg"
expect 1 "one label changed by hand"
grep -q "not the drawing of reference.pcapng" "$tmp/out" || fail "drift not named: $(cat "$tmp/out")"
cmp -s "$svg" "$tmp/kept.svg" && fail "the hand-changed drawing was not what was checked"

"$ladders" 03-capture >/dev/null
cmp -s "$svg" "$tmp/kept.svg" || fail "drawing again did not give back the drawing of the capture"
expect 0 "the lesson drawn again"

sed -i '/](ladder\.svg)/d' "$tmp/lessons/03-capture/README.md"
expect 1 "a page that does not show its drawing"
grep -q "does not show ladder.svg and link ladder.html" "$tmp/out" || fail "missing picture not named: $(cat "$tmp/out")"
echo "PASS ladder-ladders"
