#!/usr/bin/env bash
# ladder-lessons: the ladder of every lesson's reference capture against tshark's reading of
# the same file: the same packets, frame by frame; for TCP the same flags and relative
# seq/ack/len; retransmissions and keep-alives where tshark's analysis finds them; the
# handshake first and the FINs last; ICMP errors drawn back to the packet they answer.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
ladder_test lessons

# tshark's reading of a capture, one line per packet ladder draws:
# FRAME|ICMP|SYN|FIN|RST|PSH|ACK|SEQ|ACKNO|LEN|RETRANSMISSION|OUT_OF_ORDER|FAST|SPURIOUS|KEEPALIVE
# Without reassembly: ladder draws a fragmented datagram at its first fragment, where it
# starts on the wire and its UDP header is; tshark, reassembling, shows it at its last.
tshark_read() {
    tshark -o ip.defragment:FALSE -o ipv6.defragment:FALSE -r "$1" -Y 'tcp || udp || icmp || icmpv6' -T fields -E separator='|' \
        -e frame.number -e _ws.col.Protocol -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.reset \
        -e tcp.flags.push -e tcp.flags.ack -e tcp.seq -e tcp.ack -e tcp.len \
        -e tcp.analysis.retransmission -e tcp.analysis.out_of_order \
        -e tcp.analysis.fast_retransmission -e tcp.analysis.spurious_retransmission \
        -e tcp.analysis.keep_alive 2>/dev/null
}

# from tshark_read: "FRAME FLAGS seq=S [ack=A] len=L" for each TCP segment, in ladder's words
tcp_labels() {
    awk -F'|' 'function on(v) { return v == "1" || v == "True" }
               # a TCP segment, whatever tshark names its payload (TLS, say); not the TCP
               # header an ICMP error quotes
               $8 != "" && $2 !~ /^ICMP/ { f = ""; n = split("SYN FIN RST PSH ACK", name, " ")
                 for (i = 1; i <= n; i++) if (on($(i + 2))) f = f (f ? "," : "") name[i]
                 printf "%s %s seq=%s%s len=%s\n", $1, f, $8, on($7) ? " ack=" $9 : "", $10 }' "$1"
}

# from tshark_read: the frames where any of the given columns is set
marked() {
    local file=$1
    shift
    awk -F'|' -v cols="$*" 'BEGIN { n = split(cols, c, " ") }
        { for (i = 1; i <= n; i++) if ($(c[i]) != "") { print $1; break } }' "$file"
}

arrows() { # the frames of a text ladder's arrows
    awk '$1 ~ /^[0-9]+\.[0-9]+$/ && $2 ~ /^[0-9]+$/ { print $2 }'
}

check_lesson() {
    local cap=$1 name first last
    name=$(basename "$(dirname "$cap")")
    tshark_read "$cap" >"$tmp/tshark"
    "$ladder" --max 100000 --format svg "$cap" >"$tmp/l.svg" || fail "$name: exit status $?"
    python3 "$here/facts.py" svg "$tmp/l.svg" >"$tmp/facts" || fail "$name: SVG not well-formed"

    # one arrow per packet tshark shows for the same filter, the same frames in the same order
    cut -d'|' -f1 "$tmp/tshark" >"$tmp/want"
    awk '{ print $2 }' "$tmp/facts" >"$tmp/got"
    cmp -s "$tmp/want" "$tmp/got" ||
        fail "$name: $(wc -l <"$tmp/got") arrows, tshark shows $(wc -l <"$tmp/want") packets: $(diff "$tmp/want" "$tmp/got" | head -3 | tr '\n' ' ')"
    "$ladder" --max 100000 "$cap" | arrows >"$tmp/text"
    cmp -s "$tmp/want" "$tmp/text" || fail "$name: the text ladder draws other frames than tshark"

    # TCP: flags and relative numbers, segment by segment
    tcp_labels "$tmp/tshark" >"$tmp/want"
    awk '$5 != "icmp" && / seq=/ { l = $0; for (i = 1; i <= 5; i++) sub(/^[^ ]+ /, "", l)
                                       print $2, l }' "$tmp/facts" |
        sed -E 's/ (retransmission|keep-alive)$//' >"$tmp/got"
    cmp -s "$tmp/want" "$tmp/got" ||
        fail "$name: TCP labels differ from tshark's: $(diff "$tmp/want" "$tmp/got" | head -4 | tr '\n' ' ')"

    # a retransmission where tshark finds one; none where tshark sees new data
    awk '$5 == "rexmit" { print $2 }' "$tmp/facts" >"$tmp/got"
    marked "$tmp/tshark" 11 >"$tmp/want"
    sort -o "$tmp/got" "$tmp/got" # comm wants them in sort's order, not in numbers
    sort -o "$tmp/want" "$tmp/want"
    [[ -z $(comm -23 "$tmp/want" "$tmp/got") ]] ||
        fail "$name: retransmissions tshark finds and ladder does not: $(comm -23 "$tmp/want" "$tmp/got" | tr '\n' ' ')"
    marked "$tmp/tshark" 11 12 13 14 | sort >"$tmp/want"
    [[ -z $(comm -13 "$tmp/want" "$tmp/got") ]] ||
        fail "$name: marked as retransmissions, tshark sees new data: $(comm -13 "$tmp/want" "$tmp/got" | tr '\n' ' ')"
    marked "$tmp/tshark" 15 >"$tmp/want"
    awk '/ keep-alive$/ { print $2 }' "$tmp/facts" >"$tmp/got"
    cmp -s "$tmp/want" "$tmp/got" || fail "$name: keep-alives differ from tshark's"

    # the handshake opens the first connection, the last FIN closes the last one
    first=$(awk '$2 ~ /^SYN$/ { print $1; exit }' <(tcp_labels "$tmp/tshark"))
    [[ -z $first ]] || awk -v f="$first" '$2 == f && $6 == "SYN" && $7 == "seq=0" { ok = 1 }
        END { exit !ok }' "$tmp/facts" || fail "$name: frame $first is tshark's first SYN, not ladder's"
    last=$(awk '$2 ~ /FIN/ { f = $1 } END { print f }' <(tcp_labels "$tmp/tshark"))
    [[ -z $last ]] || awk -v f="$last" '$2 == f && $6 ~ /FIN/ { ok = 1 } END { exit !ok }' \
        "$tmp/facts" || fail "$name: frame $last is tshark's last FIN, not ladder's"
}

for cap in "$lessons"/*/reference.pcapng; do
    check_lesson "$cap"
done
# caught mid-connection, without the handshake: Wireshark's relative numbers start at 1
mkdir "$tmp/mid"
editcap -r "$lessons/07-loss-and-timeouts/reference.pcapng" "$tmp/mid/reference.pcapng" 44-107
check_lesson "$tmp/mid/reference.pcapng"

# the capture with loss: the one retransmission tshark names, drawn as one in the text ladder
"$ladder" --max 1000 "$lessons/07-loss-and-timeouts/reference.pcapng" >"$tmp/07"
grep -Eq '^ +8\.385870 +95 .*\|==PSH,ACK seq=1025 ack=1025 len=64 retransmission' "$tmp/07" ||
    fail "07: frame 95 is not drawn as a retransmission: $(grep ' 95 ' "$tmp/07")"

# nobody home: each datagram answered by a port unreachable, drawn back to its sender
"$ladder" "$lessons/06-nobody-home/reference.pcapng" >"$tmp/06"
grep -Eq '^ +4\.485058 +6 +45841 \|<~+ ICMP port unreachable, answers 5~~\| 34932$' "$tmp/06" ||
    fail "06: frame 6 is not an ICMP port unreachable answering 5"
grep -Eq ' 8 +52326 \|<~+ ICMPv6 port unreachable, answers 7~~\| 34932$' "$tmp/06" ||
    fail "06: frame 8 is not an ICMPv6 port unreachable answering 7"
# a router's time exceeded, answering the SYN it stopped
"$ladder" --max 1000 "$lessons/20-socket-options/reference.pcapng" >"$tmp/20"
grep -Eq ' 184 .*ICMP time exceeded from 10\.20\.1\.254, answers 183' "$tmp/20" ||
    fail "20: frame 184 is not a time exceeded from the router answering 183"

# --port: what tshark matches on that port, ICMP errors about it included
for lesson_port in 03-capture:41441 06-nobody-home:34932 20-socket-options:7005; do
    cap=$lessons/${lesson_port%%:*}/reference.pcapng port=${lesson_port##*:}
    want=$(tshark -r "$cap" -Y "tcp.port == $port || udp.port == $port" 2>/dev/null | wc -l)
    got=$("$ladder" --max 1000 --port "$port" "$cap" | arrows | wc -l)
    [[ $got == "$want" ]] || fail "--port $port on ${lesson_port%%:*}: $got arrows, tshark $want"
done

# the default cap: 200 arrows, then how many more
cap=$lessons/11-performance/reference.pcapng
all=$(tshark_read "$cap" | wc -l)
"$ladder" "$cap" >"$tmp/11"
got=$(arrows <"$tmp/11" | wc -l)
[[ $got == 200 ]] || fail "11: $got arrows by default, not 200"
grep -qx "\.\.\. $((all - 200)) more packets (--max 200)" "$tmp/11" ||
    fail "11: no '... $((all - 200)) more packets' line: $(tail -1 "$tmp/11")"

finish "$(ls "$lessons"/*/reference.pcapng | wc -l) captures drawn as tshark reads them"
