#!/usr/bin/env bash
# grade-selftest: lab/grade on a made-up class. Reports built from what each student's
# numbers decide (lab/student --json) pass; one edited by hand, one with another student's
# numbers, one of a lesson not graded, a second report of a lesson, a run without --student,
# broken JSON and a roster with a repeated id each get their own line in the gradebook.
set -euo pipefail

lab=$(cd "$(dirname "$0")/../../lessons/lab" && pwd)
root=$(dirname "$(dirname "$lab")")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL grade-selftest: $*" >&2
    exit 1
}

L07=07-loss-and-timeouts
# check07 ID [JQ]: a passing lesson-07 --json of student ID, as the check prints it, then JQ
check07() {
    "$lab/student" --json --lesson "$L07" "$1" | jq -c --arg id "$1" --arg l "$L07" "
        .lessons[\$l] | {lesson: \$l, student: \$id, params, passed: true,
        checks: [{name: \"udp: the summary\", passed: true, detail: \"\"}], facts} | ${2:-.}"
}
# report ID [JQ]: the sample capstone report made student ID's, then JQ
report() {
    local facts
    facts=$("$lab/student" --json --lesson 14-capstone "$1" | jq -c '.lessons["14-capstone"].facts')
    jq --arg id "$1" --argjson f "$facts" '
        .config.student = $id | reduce ($f | to_entries[]) as $e (.;
            setpath($e.key | ltrimstr(".") | split("."); $e.value | tonumber)) | '"${2:-.}" \
        "$root/lessons/14-capstone/sample/report.json"
}

c=$tmp/class
mkdir -p "$c"/{ana,ben,cleo,dev,eve,fay}
check07 ana >"$c/ana/07.json"
report ana >"$c/ana/report.json"
check07 ben '.facts.udp_summary |= sub(" [0-9]+ lost"; " 0 lost")' >"$c/ben/07.json"
report ben '.probe.udp.lost -= 1' >"$c/ben/report.json"
check07 ana >"$c/cleo/07.json"                  # ana's report in cleo's folder
check07 cleo '.params = '"$("$lab/student" --json --lesson "$L07" ana | jq -c ".lessons[\"$L07\"].params")" >"$c/cleo/07-again.json"
check07 dev '.lesson = "04-streams-and-datagrams" | .params = {} | .facts = {}' >"$c/dev/04.json"
check07 dev '.student = null' >"$c/dev/07.json"
check07 eve >"$c/eve/07.json"
check07 eve >"$c/eve/07-copy.json"
printf '{"lesson": "%s", "checks": [' "$L07" >"$c/fay/07.json"
check07 fay '.checks[0].passed = false' >"$c/fay/07-failed-but-says-passed.json"
printf 'ana\nben\ncleo\ndev\neve\nfay\ngus\nana  # again\nnot an id\n' >"$tmp/roster"

out=$("$lab/grade" --roster "$tmp/roster" --lessons "$L07,capstone-report" --out "$tmp/out" "$c") ||
    fail "grade exited $?: $out"
[[ $out == "graded 12 files of 7 students: 2 pass, 0 fail, 9 flagged, 6 missing, 3 error; "* ]] ||
    fail "the totals: $out"
book=$tmp/out/gradebook.csv
# row STUDENT LESSON: the result and the note of that student's line for LESSON
row() { python3 -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["student"] == sys.argv[2] and r["lesson"] == sys.argv[3] and (len(sys.argv) < 5 or r["file"] == sys.argv[4]):
        print(r["result"] + ": " + r["note"])' "$book" "$@"; }
expect() {
    local want=$1 got
    shift
    got=$(row "$@")
    [[ $got == $want ]] || fail "$*: expected '$want', got '$got'"
}
expect "pass: " ana "$L07"
expect "pass: " ana "14-capstone report"
expect "flagged: udp_summary is '* 0 lost', the student's numbers give '* [1-9] lost'" ben "$L07"
expect "flagged: .probe.udp.lost is '*', the student's numbers give '*'; udp: * sent, * received, but * lost" \
    ben "14-capstone report"
expect "flagged: in cleo's folder but names student ana" cleo "$L07" cleo/07.json
expect "flagged: parameters * are not cleo's *" cleo "$L07" cleo/07-again.json
expect "flagged: a report of 04-streams-and-datagrams, which is not graded here" dev 04-streams-and-datagrams
expect "flagged: run without --student: the page's numbers, not a student's" dev "$L07"
expect "flagged: a second report of $L07 for eve (the first: eve/07-copy.json)" eve "$L07" eve/07.json
expect "flagged: eve handed in two reports of $L07 (the other: eve/07.json)" eve "$L07" eve/07-copy.json
expect "error: not JSON: Expecting value (line 1)" fay "?"
expect "flagged: says passed true with 0/1 checks passed" fay "$L07"
expect "missing: no report" gus "$L07"
expect "missing: no report" cleo "14-capstone report"
expect "error: line 8: ana is listed twice" ana roster
expect "error: line 9: not a student id (*" "not an id" roster
grep -q '<td class="pass">pass complete</td>' "$tmp/out/summary.html" || fail "summary.html has no passed capstone cell"
grep -q '<li class="flagged">ben, 14-capstone report: flagged: .probe.udp.lost is' "$tmp/out/summary.html" ||
    fail "summary.html does not list ben's edited report"

# Bad command lines: one line each, exit 2.
for args in "" "--lessons 99-nothing $c" "$tmp/nowhere" "--bogus $c"; do
    status=0
    # shellcheck disable=SC2086 # the arguments are split on purpose
    msg=$("$lab/grade" $args 2>&1) || status=$?
    [[ $status == 2 && $(wc -l <<<"$msg") == 1 && $msg == "grade: "* ]] ||
        fail "grade $args: exit $status, '$msg'"
done
echo "PASS grade-selftest"
