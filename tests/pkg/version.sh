#!/bin/sh
# version.sh PROGRAM VERSION - "PROGRAM --version" (and -V) print exactly
# "NAME (socklab) VERSION", with VERSION the one CMake's project() declares.
set -u

prog=$1
version=$2
name=$(basename "$prog")
want="$name (socklab) $version"
status=0
for flag in --version -V; do
    got=$("$prog" $flag)
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: $name $flag exited with status $rc" >&2
        status=1
    elif [ "$got" != "$want" ]; then
        echo "FAIL: $name $flag printed '$got', expected '$want'" >&2
        status=1
    else
        echo "ok: $name $flag -> $got"
    fi
done
exit $status
