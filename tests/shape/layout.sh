#!/usr/bin/env bash
# layout: README's Layout lines for common/, tcp/, udp/ and ladder/, from each .c file's first line.
# Usage: layout.sh SOURCE_DIR
set -euo pipefail
cd "${1:?source directory}"
for dir in common tcp udp ladder; do
    echo "$dir/"
    for f in "$dir"/*.c; do
        sed -E '1!d; s#^/\* [^ ]+ - ##; s# *\*/$##' "$f" |
            awk -v n="$(basename "$f")" '{ printf "  %-19s %s\n", n, $0 }'
    done
done
