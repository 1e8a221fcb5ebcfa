#!/usr/bin/env bash
# capture-owner: a capture made with sudo belongs to the user who ran sudo, so the analysis
# commands work in that user's own terminal. Runs in a network namespace of its own.
set -euo pipefail

if [[ ${1:-} != --inside ]]; then
    exec unshare --net -- "$0" --inside
fi
ip link set lo up
udp=${UDP_ECHO:?set by ctest}
capture="$(dirname "$0")/../../lessons/lab/capture"
tmp=$(mktemp -d)
chmod 755 "$tmp" # as /tmp/socklab-captures is: anyone may look inside
export SOCKLAB_CAPTURE_DIR=$tmp/captures
# tcpdump: it starts in a fraction of the time tshark needs, which on a busy machine was
# more than capture's 15 s; the owner is what this test is about, not the tool
export SOCKLAB_CAPTURE_TOOL=tcpdump
trap '"$capture" stop owner >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL capture-owner: $*" >&2
    exit 1
}

SUDO_UID=65534 SUDO_GID=65534 "$capture" start owner --filter "udp port 7009" >/dev/null
"$udp" client -p 7009 -m hello -W 0.2 >/dev/null 2>&1 || true # refused: one datagram, one ICMP
file=$(SUDO_UID=65534 SUDO_GID=65534 "$capture" stop owner)
[[ $(stat -c %u:%g "$file") == 65534:65534 ]] || fail "$file belongs to $(stat -c %u:%g "$file"), not 65534:65534"
packets=$({ setpriv --reuid=65534 --regid=65534 --clear-groups tshark -r "$file" 2>/dev/null || true; } | wc -l)
[[ $packets -ge 1 ]] || fail "user 65534 cannot read $file ($packets packets)"

# without sudo the file stays as the tool left it (tcpdump's own user, or root)
env -u SUDO_UID -u SUDO_GID "$capture" start plain --filter "udp port 7009" >/dev/null
file=$(env -u SUDO_UID -u SUDO_GID "$capture" stop plain)
[[ $(stat -c %u "$file") != 65534 ]] || fail "$file was handed to 65534 without SUDO_UID"
echo "PASS capture-owner"
