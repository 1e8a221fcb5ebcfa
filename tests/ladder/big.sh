#!/usr/bin/env bash
# ladder-big: a 1 GB capture (17.9 million packets) is read to its end in bounded time and
# memory: the first --max packets drawn, and the rest counted and said ("... N more").
set -euo pipefail

ladder=${LADDER:?set by ctest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL ladder-big: $*" >&2
    exit 1
}

# one TCP segment after another, 56 bytes a packet (16 of record header, 40 of IPv4 and
# TCP headers), written a megabyte at a time
python3 - "$tmp/big.pcap" <<'PY'
import struct, sys
ip = bytes.fromhex("450000280000400040060000" "0a000001" "0a000002")
block = bytearray()
for i in range(18724):  # 18724 packets of 56 bytes: 1 MB and a little
    tcp = struct.pack("!HHIIBBHHH", 40000, 5001, 1000 + 1448 * i, 1, 0x50, 0x10, 65535, 0, 0)
    block += struct.pack("<IIII", 1700000000, i * 50, 40, 1488) + ip + tcp
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 40, 101))
    for _ in range(955):
        out.write(block)
PY
size=$(stat -c %s "$tmp/big.pcap")
packets=$(((size - 24) / 56))
((size >= 1000000000)) || fail "the capture is $size bytes, not 1 GB"

# the time and the peak memory of the reading, as the kernel counted them
python3 - "$ladder" "$tmp/big.pcap" >"$tmp/usage" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
with open("/dev/null", "w") as null:
    status = subprocess.run([sys.argv[1], "--format", "svg", sys.argv[2]], stdout=null,
                            stderr=subprocess.PIPE, text=True)
took = time.monotonic() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(status.returncode, f"{took:.1f}", peak_kb, status.stderr.strip().replace("\n", " | "))
PY
read -r status took peak_kb err <"$tmp/usage"
[[ $status == 0 ]] || fail "exit status $status: $err"
awk -v t="$took" 'BEGIN { exit !(t < 120) }' || fail "took $took s to read $size bytes"
((peak_kb < 65536)) || fail "peak memory $peak_kb kB for a $size-byte capture: not streamed"
"$ladder" "$tmp/big.pcap" >"$tmp/text" || fail "text: exit status $?"
grep -qx "\.\.\. $((packets - 200)) more packets (--max 200)" "$tmp/text" ||
    fail "the packets past --max are not counted: $(tail -1 "$tmp/text")"
echo "PASS ladder-big: $size bytes, $packets packets read in $took s, peak memory $peak_kb kB"
