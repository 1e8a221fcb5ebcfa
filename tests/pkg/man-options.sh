#!/bin/sh
# man-options.sh PROGRAM MANPAGE - the options PROGRAM --help lists and the options the
# manual page documents must be the same set. Prints every option missing on either side.
set -u

prog=$1
page=$2
name=$(basename "$prog")
scratch=$(mktemp -d) || exit 1
trap 'rm -rf "$scratch"' EXIT

# --help: the usage lines ("tcp-echo --help | --version") and every line that starts with
# an option ("  -p, --port PORT   ..."), up to the first word that is not an option.
if ! "$prog" --help >"$scratch/help.txt"; then
    echo "FAIL: $name --help exited with status $?" >&2
    exit 1
fi
awk '
function option(w) {
    sub(/,$/, "", w)
    return w ~ /^--?[A-Za-z0-9][A-Za-z0-9-]*$/ ? w : ""
}
/^usage:/ || /^ +[a-z]+-echo / {
    for (i = 1; i <= NF; i++)
        if ((o = option($i)) != "")
            print o
    next
}
/^ +-/ {
    for (i = 1; i <= NF; i++) {
        if ((o = option($i)) == "")
            break
        print o
    }
}' "$scratch/help.txt" | sort -u >"$scratch/help.opts"

# The page: the tag line after each .TP in the OPTIONS section, with roff escapes
# (\- for a hyphen, \fB..\fP fonts, \% no-hyphenation) and quotes taken out.
awk '
/^\.SH/ { in_options = ($0 ~ /^\.SH +"?OPTIONS"? *$/); next }
!in_options { next }
/^\.TP/ { tag = 1; next }
tag {
    tag = 0
    line = $0
    gsub(/\\-/, "-", line)
    gsub(/\\f(\[[^]]*\]|\(..|.)/, " ", line)
    gsub(/\\[%&]/, "", line)
    gsub(/"/, " ", line)
    n = split(line, w, /[ \t]+/)
    for (i = 1; i <= n; i++) {
        sub(/,$/, "", w[i])
        if (w[i] ~ /^--?[A-Za-z0-9][A-Za-z0-9-]*$/)
            print w[i]
    }
}' "$page" | sort -u >"$scratch/man.opts"

if [ ! -s "$scratch/help.opts" ]; then
    echo "FAIL: found no options in $name --help" >&2
    exit 1
fi
if [ ! -s "$scratch/man.opts" ]; then
    echo "FAIL: found no options in the OPTIONS section of $page" >&2
    exit 1
fi

status=0
for o in $(comm -23 "$scratch/help.opts" "$scratch/man.opts"); do
    echo "FAIL: $o is in '$name --help' but not in the manual page $page" >&2
    status=1
done
for o in $(comm -13 "$scratch/help.opts" "$scratch/man.opts"); do
    echo "FAIL: $o is in the manual page $page but not in '$name --help'" >&2
    status=1
done
if [ $status -eq 0 ]; then
    echo "ok: $name --help and $(basename "$page") list the same $(wc -l <"$scratch/help.opts" | tr -d ' ') options:"
    tr '\n' ' ' <"$scratch/help.opts"
    echo
fi
exit $status
