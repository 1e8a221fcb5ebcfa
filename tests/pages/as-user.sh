#!/usr/bin/env bash
# as-user: run one of the lab's commands as an ordinary user (nobody), as a student without
# sudo would, so that the suite holds the lessons to working that way too.
#
# Usage: as-user.sh PATH [ARG...]   (PATH relative to the source tree: lessons/lab/pages)
# SOCKLAB_BIN_DIR names the programs. Run by root, the command runs as SOCKLAB_TEST_USER
# (default nobody) with a home of its own; where that user cannot read this tree or the
# programs (a clone under /root), it gets a copy of the tree and of the programs in /tmp.
# Run by anyone else, the command just runs.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bindir=${SOCKLAB_BIN_DIR:?SOCKLAB_BIN_DIR names the build directory}
cmd=${1:?name a command, relative to the source tree}
shift
((EUID == 0)) || exec env SOCKLAB_BIN_DIR="$bindir" "$root/$cmd" "$@"

user=${SOCKLAB_TEST_USER:-nobody}
as=(setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --clear-groups)
tmp=$(mktemp -d /tmp/socklab-as-user.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir "$tmp/home"
chown "$user" "$tmp/home"
if ! "${as[@]}" test -r "$root/lessons/lab/lib.sh" -a -x "$bindir/tcp/tcp-echo" -a -x "$bindir/udp/udp-echo"; then
    # the tree without its builds and history (pages run scripts/ and bench/ too), and the
    # build's programs where they were (tcp/tcp-echo, bench/ref-echo, ...)
    mkdir -p "$tmp/src" "$tmp/bin"
    tar -C "$root" --exclude=./build --exclude=./.git -cf - . | tar -C "$tmp/src" -xf -
    (cd "$bindir" && find . -mindepth 2 -maxdepth 2 -type f -perm -u+x -not -path './CMakeFiles/*') |
        while read -r p; do
            mkdir -p "$tmp/bin/$(dirname "$p")"
            cp "$bindir/$p" "$tmp/bin/$p"
        done
    chmod -R a+rX "$tmp/src" "$tmp/bin"
    root=$tmp/src bindir=$tmp/bin
fi
# not exec: the trap removes the copy afterwards
status=0
(cd "$tmp/home" && "${as[@]}" env HOME="$tmp/home" SOCKLAB_BIN_DIR="$bindir" "$root/$cmd" "$@") || status=$?
exit $status
