#!/usr/bin/env bash
# pages-selftest: lessons/lab/pages on a page made for the purpose. A page that matches
# passes; one changed word, a missing exit status or a page with nothing to replay fails,
# naming the page's line (and an overrun names the command that never ended); --regen rewrites
# what drifted and keeps patterns that still match; what a page started and left is reaped;
# a lesson's page must run its check.
set -euo pipefail

src=$(cd "$(dirname "$0")/../../lessons" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lessons/99-selftest"
cp -r "$src/lab" "$tmp/lessons/lab"
pages=$tmp/lessons/lab/pages
page=$tmp/lessons/99-selftest/README.md

fail() {
    echo "FAIL pages-selftest: $*" >&2
    exit 1
}

# write_page LINE...: a page whose one console block holds LINE...
write_page() {
    { echo "# 99 — self test"; echo; echo '```console'; printf '%s\n' "$@"; echo '```'; echo; } >"$page"
}

expect() { # expect STATUS WHAT: run pages, its status must be STATUS
    local want=$1 what=$2 got=0
    "$pages" 99-selftest >"$tmp/out" 2>&1 || got=$?
    [[ $got == "$want" ]] || fail "$what: exit $got, expected $want: $(cat "$tmp/out")"
}

write_page '$ udp-echo server --once > server.out &' '$ waitport udp 7007' \
    '$ udp-echo client -m "hello there"' 'hello there' '$ wait; cat server.out' \
    'listening on 127.0.0.1:7007 (udp)' \
    'summary: * peers, 1 datagrams received, 1 sent, 11 bytes in, 11 bytes out, 0 truncated, 0 refused, 0 errors (glob)'
expect 0 "a page that matches"
[[ $(cat "$tmp/out") == "PASS 99-selftest page" ]] || fail "pass line: $(cat "$tmp/out")"

sed -i 's/^hello there$/hello here/' "$page"
expect 1 "one changed word"
grep -q '^-hello here$' "$tmp/out" || fail "the diff does not show the page's line: $(cat "$tmp/out")"
grep -q '^+hello there$' "$tmp/out" || fail "the diff does not show the run's line: $(cat "$tmp/out")"
grep -q '^@@ -4,' "$tmp/out" || fail "the diff is not numbered in the page's lines (hello is line 7: 3 lines of context before it): $(cat "$tmp/out")"

"$pages" --regen 99-selftest >/dev/null 2>&1 || true
grep -qx 'hello there' "$page" || fail "--regen did not rewrite the drifted line"
grep -q ' (glob)$' "$page" || fail "--regen dropped a pattern that still matches"
expect 0 "the page --regen wrote"

write_page '$ udp-echo client -p 1 -m x -W 0.2 2>/dev/null'
expect 1 "a failing command without its [1]"
write_page '$ udp-echo client -p 1 -m x -W 0.2 2>/dev/null' '[1]'
expect 0 "a failing command with its [1]"

# a page that never ends is stopped at its time limit, with everything it started (the limit
# leaves the page time to reach its last command on a busy machine: under two CPU hogs and
# five other tests, 2 s found it still one line short)
write_page '$ sleep 4243 &' '$ sleep 4242'
SOCKLAB_PAGE_TIME_LIMIT=15 expect 1 "a page that never ends"
grep -q "still running after 15 s" "$tmp/out" || fail "overrun not named: $(cat "$tmp/out")"
grep -q "still running: lessons/99-selftest/README.md:5: \\$ sleep 4242$" "$tmp/out" ||
    fail "the command that never ended is not named with its page line: $(cat "$tmp/out")"
! pgrep -f "sleep 424[23]" >/dev/null || fail "the overrunning page left its processes behind"

# a check (lib.sh) that never ends: the overrun names the check's own line too
printf '#!/usr/bin/env bash\nset -euo pipefail\nsource "$(dirname "$0")/../lab/lib.sh"\nsl_init 99-selftest\nsleep 4244\n' \
    >"$tmp/lessons/99-selftest/check"
chmod +x "$tmp/lessons/99-selftest/check"
write_page '$ lessons/99-selftest/check'
SOCKLAB_PAGE_TIME_LIMIT=15 expect 1 "a check that never ends"
grep -q "the check was at: lessons/99-selftest/check:5: sleep 4244$" "$tmp/out" ||
    fail "the check's line is not named: $(cat "$tmp/out")"

# a lesson with a check whose page does not run it fails: the suite runs checks only there
write_page '$ echo no check here' 'no check here'
expect 1 "a page that leaves out its check"
grep -q "its check (lessons/99-selftest/check) is not among its commands" "$tmp/out" ||
    fail "a page without its check: $(cat "$tmp/out")"
rm "$tmp/lessons/99-selftest/check"

# a process whose starter has exited is reaped when it ends (lab/isolated's process 1 stays a
# shell): a capture stop waits for exactly that
write_page "\$ bash -c 'sleep 4245 </dev/null >/dev/null 2>&1 & echo \$! > orphan.pid'" \
    '$ kill $(cat orphan.pid); sleep 0.5; kill -0 $(cat orphan.pid) 2>/dev/null || echo gone' 'gone'
expect 0 "an orphan that ended"

# lab/isolated passes the command's exit status through (77: a check that skips)
got=0
"$tmp/lessons/lab/isolated" sh -c 'exit 77' || got=$?
[[ $got == 77 ]] || fail "isolated: exit $got from a command that exited 77"

printf '# 99\n\n```sh\necho not replayed\n```\n' >"$page"
expect 1 "a page with no console block"
echo "PASS pages-selftest"
