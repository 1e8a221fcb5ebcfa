#!/usr/bin/env bash
# shape: the code stays the shape a reader can follow.
#   - no C file over 600 lines, no function over 60 (opening brace to closing brace);
#   - every C file opens with a line that names it and says what it is, whole on that line:
#     "/* name.c - what it is." and README's Layout lists every .c file with that line;
#   - no cycle among common/'s files: read from the library's objects (nm), which file
#     defines each symbol another file uses, and look for a file that reaches itself.
# Usage: shape.sh SOURCE_DIR LIBSOCKLAB_COMMON.a
set -euo pipefail

src=${1:?source directory} lib=${2:?libsocklab_common.a}
max_file=600 max_func=60
failures=0
fail() {
    echo "FAIL shape: $*" >&2
    failures=$((failures + 1))
}

cd "$src"
files=$(ls common/*.[ch] tcp/*.[ch] udp/*.[ch] ladder/*.[ch])

for f in $files; do
    n=$(wc -l <"$f")
    ((n <= max_file)) || fail "$f has $n lines (at most $max_file)"
    name=$(basename "$f")
    first=$(head -1 "$f")
    [[ $first == "/* $name - "* ]] || fail "$f does not open with \"/* $name - what it is\""
    [[ $first == *"*/" || $first == *. ]] || fail "$f: its first line is not whole: $first"
done

# README's Layout: "  name.c   what it is" for every .c file, as its first line says
layout=$("$(dirname "$0")/layout.sh" .)
while IFS= read -r line; do
    [[ $line == "  "* ]] || continue
    grep -qxF -- "$line" README.md || fail "README.md's Layout lacks the line: $line"
done <<<"$layout"

# a function body runs from a "{" alone at the start of a line to the next "}" there
for f in $(ls common/*.c tcp/*.c udp/*.c ladder/*.c); do
    awk -v max="$max_func" -v file="$f" '
        /^[A-Za-z_].*\(/ { head = $0 }
        /^\{/ { start = FNR; name = head }
        /^\}/ && start { n = FNR - start - 1
                         if (n > max) printf "%s:%d: %d lines: %s\n", file, start, n, name
                         start = 0 }' "$f"
done >"${TMPDIR:-/tmp}/shape.$$"
while read -r line; do
    fail "function over $max_func lines: $line"
done <"${TMPDIR:-/tmp}/shape.$$"
rm -f "${TMPDIR:-/tmp}/shape.$$"

# file -> files whose functions it calls, from the objects' defined and undefined symbols
declare -A defines uses
while read -r member kind sym; do
    member=${member%.c.o:}
    case $kind in
    U) uses[$member]+=" $sym" ;;
    T | D | B | R) defines[$sym]=$member ;;
    esac
done < <(nm -A "$lib" 2>/dev/null | sed -E 's/^[^:]*:([^:]+\.c\.o:) *[0-9a-f]* /\1 /')

declare -A edges
for member in "${!uses[@]}"; do
    for sym in ${uses[$member]}; do
        to=${defines[$sym]:-}
        [[ -n $to && $to != "$member" ]] && edges[$member]+=" $to"
    done
done

# depth-first search from every file; a file met again on the current path closes a cycle
declare -A state # 1: on the path, 2: done
cycle=""
visit() {
    local f=$1 to
    state[$f]=1
    for to in $(tr ' ' '\n' <<<"${edges[$f]:-}" | sort -u); do
        if [[ ${state[$to]:-0} == 1 ]]; then
            cycle="$f -> $to"
            return 1
        fi
        [[ ${state[$to]:-0} == 0 ]] && { visit "$to" || return 1; }
    done
    state[$f]=2
}
# README lists common/'s files bottom layer first: each may use only the files above it
declare -A pos
n=0
while read -r name; do
    pos[${name%.c}]=$((n++))
done < <(sed -n '/^common\//,/^tcp\//{ /^  [a-z_]*\.c /{ s/^  \([a-z_]*\.c\) .*/\1/p } }' README.md)
((n > 5)) || fail "README.md's Layout lists too few common/ files ($n)"
declare -A told
for member in "${!edges[@]}"; do
    for to in ${edges[$member]}; do
        [[ -z ${told[$member.$to]:-} ]] || continue
        told[$member.$to]=1
        [[ -n ${pos[$member]:-} && -n ${pos[$to]:-} ]] || continue
        ((pos[$to] < pos[$member])) ||
            fail "common/$member.c uses common/$to.c, which README's Layout lists below it"
    done
done
((${#uses[@]} > 5)) || fail "read too few objects from $lib (${#uses[@]}): is it the library?"
for member in "${!uses[@]}"; do
    [[ ${state[$member]:-0} == 0 ]] || continue
    visit "$member" || {
        fail "common/ has a call cycle through $cycle"
        break
    }
done

if ((failures > 0)); then
    echo "shape: $failures problem(s)" >&2
    exit 1
fi
echo "shape: $(wc -w <<<"$files") files, none over $max_file lines, no function over" \
    "$max_func, ${#uses[@]} common/ objects with no call cycle"
