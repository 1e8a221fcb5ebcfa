#!/usr/bin/env bash
# ladder-bad-input: files that are not a whole capture of TCP or UDP. Each gives one line
# "ladder: FILE: why" and exit 1, or (cut in the middle of a packet) the ladder up to there,
# a line saying so, and exit 3. Corrupted captures never crash it.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
ladder_test bad-input

# expect FILE STATUS WORDS: ladder exits STATUS, its one stderr line names FILE and says WORDS
expect() {
    local file=$1 want=$2 words=$3 status=0
    "$ladder" "$file" >"$tmp/out" 2>"$tmp/err" || status=$?
    [[ $status == "$want" ]] || fail "$file: exit status $status, not $want"
    [[ $(wc -l <"$tmp/err") == 1 ]] || fail "$file: $(wc -l <"$tmp/err") lines on stderr, not 1"
    grep -q "^ladder: $file: .*$words" "$tmp/err" ||
        fail "$file: stderr does not say '$words': $(cat "$tmp/err")"
}

cd "$tmp"
ref=$lessons/03-capture/reference.pcapng
editcap -F pcap "$ref" whole.pcap

echo "these are words, not packets" >text.txt
expect text.txt 1 "not a pcap or pcapng capture"
: >empty.pcap
expect empty.pcap 1 "the file is empty"
head -c 24 whole.pcap >header-only.pcap # a pcap file header, then no packet
expect header-only.pcap 1 "the capture holds no packets"
head -c 10 whole.pcap >short-header.pcap
expect short-header.pcap 1 "not a pcap or pcapng capture"
head -c 60 whole.pcap >first-cut.pcap # the header, then half of the first packet
expect first-cut.pcap 1 "ends inside its first packet"
expect /nonexistent/capture.pcap 1 "cannot open it"

# only ICMP echo (ping): packets, but no TCP or UDP
python3 - <<'EOF'
import struct
ping = bytes.fromhex("4500001c0001000040010000c0a80001c0a80002" "0800f7ff00000000")
with open("ping.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
    for t in range(2):
        f.write(struct.pack("<IIII", 1000 + t, 0, len(ping), len(ping)) + ping)
EOF
expect ping.pcap 1 "no TCP or UDP packet among 2"
# a link layer ladder does not read (802.11)
python3 - <<'EOF'
import struct
with open("wifi.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105))
EOF
expect wifi.pcap 1 "link type 105"

# a time no clock gives: lesson 03's second packet dated 1.67e19 nanoseconds (530 years)
# after 1970, as a 64-bit pcapng time can say. Drawn whole, that time held at 2106:
# no time in nanoseconds may overflow (the ASan and UBSan build fails here if one does)
python3 - "$ref" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
pos, packets = 0, 0
while pos < len(data):  # blocks: type, length; an Enhanced Packet Block (6) has its
    kind, length = struct.unpack_from("<II", data, pos)  # time's high and low words at 12
    if kind == 6:
        packets += 1
        if packets == 2:
            struct.pack_into("<II", data, pos + 12, 0xE8000000, 0)
            break
    pos += length
open("far-future.pcapng", "wb").write(bytes(data))
EOF
status=0
"$ladder" far-future.pcapng >far.out 2>far.err || status=$?
[[ $status == 0 ]] || fail "far-future.pcapng: exit status $status: $(head -3 far.err)"
rows=$(awk '$1 ~ /^[0-9]+\.[0-9]+$/ && $2 ~ /^[0-9]+$/' far.out | wc -l)
[[ $rows == 22 ]] || fail "far-future.pcapng: $rows packets drawn, not 22"

# cut in the middle of a packet: drawn up to there, and said so, pcap and pcapng alike
for cut in whole.pcap:700 "$ref":1000; do
    file=${cut%:*}
    head -c "${cut##*:}" "$file" >cut."${file##*.}"
    expect cut."${file##*.}" 3 "cut short after frame 7 .*drew what came before"
    arrows=$(awk '$1 ~ /^[0-9]+\.[0-9]+$/ && $2 ~ /^[0-9]+$/' "$tmp/out" | wc -l)
    [[ $arrows == 7 ]] || fail "cut.${file##*.}: $arrows arrows drawn, not the 7 whole packets"
    grep -q "^!!! capture cut short after frame 7 " "$tmp/out" ||
        fail "cut.${file##*.}: the ladder does not say the capture is cut"
done

# corrupted captures: any byte anywhere may be wrong; ladder draws, refuses or stops, but
# never crashes (exit status 0, 1 or 3, never a signal)
python3 - "$lessons/20-socket-options/reference.pcapng" <<'EOF'
import random, sys
data = open(sys.argv[1], "rb").read()
rng = random.Random(17)
for i in range(150):
    b = bytearray(data)
    for _ in range(rng.choice((1, 4, 32))):
        b[rng.randrange(len(b))] = rng.randrange(256)
    if i % 5 == 0:
        b = b[:rng.randrange(len(b))]
    open(f"corrupt{i}.pcapng", "wb").write(bytes(b))
EOF
for f in corrupt*.pcapng; do
    for format in text svg; do
        status=0
        "$ladder" --max 1000 --format "$format" "$f" >/dev/null 2>"$tmp/err" || status=$?
        [[ $status == 0 || $status == 1 || $status == 3 ]] ||
            fail "$f --format $format: exit status $status: $(head -2 "$tmp/err")"
    done
done

# usage errors are status 2
for args in "--max 0 $ref" "--max 100001 $ref" "--port 0 $ref" "--format png $ref" "" \
    "$ref $ref $ref"; do
    status=0
    # shellcheck disable=SC2086 # the words are the arguments
    "$ladder" $args >/dev/null 2>&1 || status=$?
    [[ $status == 2 ]] || fail "ladder $args: exit status $status, not 2"
done

finish "every bad file refused in one line or drawn in part; 150 corrupted, no crash"
