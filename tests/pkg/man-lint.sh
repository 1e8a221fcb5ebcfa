#!/bin/sh
# man-lint.sh MANPAGE... - each page must format with no warning at all (groff -ww).
# Exits 77 (skipped) when groff is not installed.
set -u

if ! command -v groff >/dev/null 2>&1; then
    echo "skipped: groff is not installed"
    exit 77
fi
status=0
for page in "$@"; do
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    if [ -n "$warnings" ]; then
        echo "FAIL: $page formats with warnings:" >&2
        echo "$warnings" >&2
        status=1
    else
        echo "ok: $page formats cleanly"
    fi
done
exit $status
