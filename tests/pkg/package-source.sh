#!/bin/sh
# package-source.sh CPACK_SOURCE_CONFIG SCRATCH VERSION - build the source tarball with
# cpack into SCRATCH and check it holds the sources but no build tree and no .git.
set -u

config=$1
scratch=$2
version=$3
status=0
name=socklab-$version

rm -rf "$scratch"
mkdir -p "$scratch" || exit 1
if ! cpack --config "$config" -B "$scratch" >"$scratch/cpack.log" 2>&1; then
    cat "$scratch/cpack.log" >&2
    echo "FAIL: cpack (source) failed (log above)" >&2
    exit 1
fi
tarball=$scratch/$name.tar.gz
if [ ! -f "$tarball" ]; then
    echo "FAIL: no $name.tar.gz in $scratch" >&2
    ls "$scratch" >&2
    exit 1
fi
tar -tzf "$tarball" >"$scratch/list.txt" || { echo "FAIL: cannot list $tarball" >&2; exit 1; }
echo "built $name.tar.gz, $(wc -l <"$scratch/list.txt" | tr -d ' ') entries"

for f in CMakeLists.txt man/socklab-echo.1.in completion/socklab-echo.bash \
    cmake/SocklabPackaging.cmake common/opt.c tcp/main.c udp/main.c; do
    if grep -qx "$name/$f" "$scratch/list.txt"; then
        echo "ok: $f is in the tarball"
    else
        echo "FAIL: $f is missing from the tarball" >&2
        status=1
    fi
done
if grep -q -e "^$name/build/" -e "/\.git/" -e "/\.git\$" "$scratch/list.txt"; then
    echo "FAIL: the tarball holds build or .git files:" >&2
    grep -e "^$name/build/" -e "/\.git/" -e "/\.git\$" "$scratch/list.txt" | head >&2
    status=1
else
    echo "ok: no build/ and no .git/ in the tarball"
fi
exit $status
