#!/usr/bin/env bash
# ladder-formats: each output read back. Mermaid is a sequenceDiagram of known shapes, SVG
# well-formed XML, the HTML page balanced with its SVG inline, one arrow per packet in each;
# two captures side by side share one time axis, and the text ladder draws both; --apart
# draws one capture's two protocols as the two captures split from it.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
ladder_test formats
facts() { # FORMAT FILE: one line per arrow, or a failure
    python3 "$here/facts.py" "$1" "$2" || fail "$2 is not a well-formed $1 ladder"
}

cd "$tmp"
# lesson 03 holds a TCP exchange, a UDP one, then TCP again: split it into the two captures
ref=$lessons/03-capture/reference.pcapng
tshark -r "$ref" -Y tcp -w tcp.pcapng 2>/dev/null
tshark -r "$ref" -Y udp -w udp.pcapng 2>/dev/null
want_tcp=20 want_udp=2

for format in mermaid svg html; do
    "$ladder" --format "$format" "$ref" >one.$format
    n=$(facts "$format" one.$format | wc -l)
    [[ $n == 22 ]] || fail "$format of lesson 03: $n arrows, not 22"
    "$ladder" --format "$format" tcp.pcapng udp.pcapng >two.$format
    facts "$format" two.$format >two.facts
    tcp=$(awk '$1 == 0' two.facts | wc -l) udp=$(awk '$1 == 1' two.facts | wc -l)
    [[ $tcp == "$want_tcp" && $udp == "$want_udp" ]] ||
        fail "$format side by side: $tcp TCP and $udp UDP arrows, not $want_tcp and $want_udp"
done

# HTML: every arrow an element of class "pkt", counted without a parser too
n=$(grep -o 'class="pkt[ "]' two.html | wc -l)
[[ $n == 22 ]] || fail "two.html: $n elements of class pkt, not 22"
grep -q '<script>' two.html || fail "two.html has no script to show a packet's detail"
# one time axis: a later packet, whichever capture, is lower on the page (SVG y grows down)
facts svg two.svg | sort -k3,3g -k4,4n | awk '$3 > t && $4 <= y { print; bad = 1 }
    { t = $3; y = $4 } END { exit bad }' >/dev/null || fail "two.svg: a later packet is drawn higher"

# --apart: one capture of both protocols, drawn as the two captures split from it are (each
# side timed from its own first packet), its frames numbered as in the capture
"$ladder" --format svg --apart "$ref" >apart.svg
facts svg apart.svg | awk '{ $2 = ""; print }' >apart.facts
facts svg two.svg | awk '{ $2 = ""; print }' >two.nofr
diff two.nofr apart.facts >/dev/null || fail "--apart differs from the two captures split from it: $(diff two.nofr apart.facts | head -4)"
[[ $(facts svg apart.svg | awk '$1 == 1 { print $2; exit }') == 11 ]] ||
    fail "--apart: the first UDP arrow is not frame 11 of the capture"
"$ladder" --apart tcp.pcapng >/dev/null 2>apart.err && fail "--apart of a capture with no UDP drew something"
grep -qx 'ladder: tcp.pcapng, UDP part: no UDP packet among 20' apart.err ||
    fail "--apart with no UDP: $(cat apart.err)"
status=0
"$ladder" --apart tcp.pcapng udp.pcapng >/dev/null 2>apart.err || status=$?
[[ $status == 2 ]] && grep -q 'apart draws one capture' apart.err ||
    fail "--apart with two captures: exit $status, $(cat apart.err)"

# two captures of one exchange, its two ends: the packets one holds and the other lost on
# the way (frames 5 and 7 taken out) are marked LOST in every format, on the side that saw
# them; a packet missing before the other capture's first (frame 1) or captures of two
# different exchanges mark nothing
editcap "$ref" far.pcapng 5 7
editcap "$ref" late.pcapng 1
"$ladder" "$ref" far.pcapng >lost.txt
grep -q "^left: .*, 2 LOST: not in the other capture, lost between the two$" lost.txt ||
    fail "two ends: the summary does not count 2 lost: $(head -2 lost.txt)"
[[ $(awk '$1 ~ /^[0-9]+\.[0-9]+$/ && / LOST/ { print $2 }' lost.txt | paste -sd' ' -) == "5 7" ]] ||
    fail "two ends: not frames 5 and 7 marked LOST: $(grep LOST lost.txt)"
"$ladder" --format svg "$ref" far.pcapng >lost.svg
[[ $(facts svg lost.svg | awk '$5 == "lost" { print $1 ":" $2 }' | paste -sd' ' -) == "0:5 0:7" ]] ||
    fail "two ends: the SVG's lost arrows: $(facts svg lost.svg | awk '$5 == "lost"')"
"$ladder" --format mermaid "$ref" far.pcapng >lost.mermaid
[[ $(grep -c -- '-x' lost.mermaid) == 2 ]] || fail "two ends: Mermaid has not 2 -x arrows"
for pair in "$ref late.pcapng" "tcp.pcapng udp.pcapng"; do
    # shellcheck disable=SC2086 # two captures
    ! "$ladder" $pair | grep -q LOST || fail "$pair: marked LOST"
done

# Mermaid: each capture's messages in a box of its own, TCP then UDP
grep -c '^    box ' two.mermaid | grep -qx 2 || fail "two.mermaid: not one box per capture"
grep -q '^    A->>B: 1 at 0.000000 s, 127.0.0.1:33376 to 127.0.0.1:36745, SYN seq=0 len=0$' \
    one.mermaid || fail "one.mermaid: the first message is not the SYN: $(sed -n 4p one.mermaid)"

# text, side by side: one row per packet, its arrow in the half of its capture
"$ladder" tcp.pcapng udp.pcapng >two.txt
rows=$(awk '$1 ~ /^[0-9]+\.[0-9]+$/' two.txt | wc -l)
[[ $rows == 22 ]] || fail "two.txt: $rows rows, not 22"
right=$(awk '$1 ~ /^[0-9]+\.[0-9]+$/ && $2 == "|"' two.txt | wc -l)
[[ $right == "$want_udp" ]] || fail "two.txt: $right arrows in the right half, not $want_udp"
grep -q '^left: tcp.pcapng: 20 packets' two.txt || fail "two.txt does not name its left capture"

# the cap: "... N more packets" in every format
for format in text mermaid svg html; do
    "$ladder" --max 5 --format "$format" "$ref" >cap.$format
    grep -q '\.\.\. 17 more packets' cap.$format || fail "--max 5 --format $format: no '... 17 more'"
done
n=$(facts svg cap.svg | wc -l)
[[ $n == 5 ]] || fail "--max 5: $n arrows in the SVG, not 5"

finish "mermaid, svg, html and text read back, one and two captures"
