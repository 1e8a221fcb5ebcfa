#!/bin/sh
# package-deb.sh CPACK_CONFIG SCRATCH VERSION - build the .deb with cpack into SCRATCH,
# unpack it into SCRATCH/root as dpkg would install it, and check that the programs run
# from there and that the manual pages, completion and lessons came along.
# Exits 77 (skipped) where there is no dpkg-deb.
set -u

config=$1
scratch=$2
version=$3
status=0

fail()
{
    echo "FAIL: $*" >&2
    status=1
}

if ! command -v dpkg-deb >/dev/null 2>&1; then
    echo "skipped: dpkg-deb is not installed"
    exit 77
fi
rm -rf "$scratch"
mkdir -p "$scratch/out" "$scratch/root" || exit 1

if ! cpack --config "$config" -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1; then
    cat "$scratch/cpack.log" >&2
    echo "FAIL: cpack -G DEB failed (log above)" >&2
    exit 1
fi
set -- "$scratch"/out/*.deb
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "FAIL: expected one .deb in $scratch/out, found: $*" >&2
    exit 1
fi
deb=$1
echo "built $(basename "$deb")"
dpkg-deb -x "$deb" "$scratch/root" || { echo "FAIL: dpkg-deb -x $deb" >&2; exit 1; }
root=$scratch/root

# control fields
field()
{
    dpkg-deb -f "$deb" "$1"
}
[ "$(field Package)" = socklab ] || fail "Package is '$(field Package)', expected socklab"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', expected $version"
[ "$(field Section)" = net ] || fail "Section is '$(field Section)', expected net"
[ -n "$(field Maintainer)" ] || fail "no Maintainer field"
[ -n "$(field Description)" ] || fail "no Description field"
case $(field Depends) in
*libc6*) ;;
*) fail "Depends '$(field Depends)' does not name libc6" ;;
esac

# the programs run from where the package puts them
for prog in tcp-echo udp-echo ladder; do
    exe=$root/usr/bin/$prog
    if [ ! -x "$exe" ]; then
        fail "$prog is not in /usr/bin of the package"
        continue
    fi
    got=$("$exe" --version) || fail "$exe --version exited with status $?"
    if [ "$got" = "$prog (socklab) $version" ]; then
        echo "ok: /usr/bin/$prog --version -> $got"
    else
        fail "/usr/bin/$prog --version printed '$got', expected '$prog (socklab) $version'"
    fi
done

# manual pages (compressed or not), completion, lessons
for prog in tcp-echo udp-echo ladder; do
    if [ -f "$root/usr/share/man/man1/$prog.1.gz" ] || [ -f "$root/usr/share/man/man1/$prog.1" ]; then
        echo "ok: /usr/share/man/man1/$prog.1 is in the package"
    else
        fail "no manual page $prog.1 in /usr/share/man/man1 of the package"
    fi
done
for prog in tcp-echo udp-echo; do
    if [ -f "$root/usr/share/bash-completion/completions/$prog" ]; then
        echo "ok: /usr/share/bash-completion/completions/$prog is in the package"
    else
        fail "no bash completion for $prog in /usr/share/bash-completion/completions"
    fi
done
if [ -d "$root/usr/share/socklab/lessons" ]; then
    echo "ok: /usr/share/socklab/lessons is in the package"
else
    fail "no /usr/share/socklab/lessons in the package"
fi
if [ -e "$root/usr/share/socklab/lessons/CMakeLists.txt" ]; then
    fail "lessons/CMakeLists.txt (a build file) was packaged"
fi

# the installed lessons find the installed programs on PATH: a check, and a page replayed
lessons=$root/usr/share/socklab/lessons
got=$(env -u SOCKLAB_BIN_DIR -u SOCKLAB_TCP_ECHO -u SOCKLAB_UDP_ECHO PATH="$root/usr/bin:$PATH" \
    "$lessons/01-first-contact/check" 2>&1)
if [ "$got" = "PASS 01-first-contact (14 checks)" ]; then
    echo "ok: the installed lesson 01 check runs the installed programs"
else
    fail "the installed lesson 01 check printed: $got"
fi
got=$(env -u SOCKLAB_BIN_DIR -u SOCKLAB_TCP_ECHO -u SOCKLAB_UDP_ECHO PATH="$root/usr/bin:$PATH" \
    "$lessons/lab/pages" 01-first-contact 2>&1)
if [ "$got" = "PASS 01-first-contact page" ]; then
    echo "ok: the installed lesson 01 page replays against the installed programs"
else
    fail "the installed lesson 01 page: $got"
fi

# nothing outside /usr
for top in "$root"/*; do
    [ "$top" = "$root/usr" ] || fail "the package installs $(basename "$top") outside /usr"
done
exit $status
