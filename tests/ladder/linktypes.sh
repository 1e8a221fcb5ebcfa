#!/usr/bin/env bash
# ladder-linktypes: the same packets behind every link layer ladder reads (raw IP, BSD null
# and OpenBSD loop, Linux cooked v1 and v2 as `dumpcap -i any` writes, Ethernet with a VLAN
# tag), as classic pcap: each draws exactly the ladder of the Ethernet or Linux cooked pcap
# it came from (that one, not the pcapng: pcap keeps microseconds, pcapng nanoseconds).
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
ladder_test linktypes

# Ethernet (IPv4 and IPv6, ICMP errors) and Linux cooked v1 (loss, retransmission)
for lesson in 06-nobody-home 12-ipv6 07-loss-and-timeouts; do
    cap=$lessons/$lesson/reference.pcapng
    editcap -F pcap "$cap" "$tmp/$lesson.pcap"
    "$ladder" --max 1000 "$tmp/$lesson.pcap" | tail -n +2 >"$tmp/want"
    [[ $(wc -l <"$tmp/want") -gt 5 ]] || fail "$lesson: the original draws almost nothing"
    for kind in raw null loop sll sll2 vlan; do
        python3 "$here/relink.py" "$tmp/$lesson.pcap" "$tmp/$kind.pcap" "$kind"
        "$ladder" --max 1000 "$tmp/$kind.pcap" | tail -n +2 >"$tmp/got" ||
            fail "$lesson as $kind: exit status $?"
        cmp -s "$tmp/want" "$tmp/got" ||
            fail "$lesson as $kind: $(diff "$tmp/want" "$tmp/got" | head -3 | tr '\n' ' ')"
    done
done

finish "raw, null, loop, sll, sll2 and vlan draw as the originals"
