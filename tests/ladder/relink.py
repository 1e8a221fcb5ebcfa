#!/usr/bin/env python3
"""relink: the same packets under another link layer, to test ladder's readers of each.

Usage: relink.py IN.pcap OUT.pcap raw|null|loop|sll|sll2|vlan

IN is a classic pcap (editcap -F pcap) of Ethernet or Linux cooked (v1) frames; OUT holds
the same IP packets, with the same times, behind the link header named.
"""
import struct
import sys

ETHERNET, SLL, SLL2, NULL, LOOP, RAW = 1, 113, 276, 0, 108, 101
LINKTYPE = {"raw": RAW, "null": NULL, "loop": LOOP, "sll": SLL, "sll2": SLL2, "vlan": ETHERNET}


def ip_of(linktype, frame):
    if linktype == ETHERNET:
        return frame[14:]
    if linktype == SLL:
        return frame[16:]
    sys.exit(f"relink: link type {linktype} is not one this script reads")


def header(kind, ip):
    v6 = ip[0] >> 4 == 6
    proto = b"\x86\xdd" if v6 else b"\x08\x00"
    if kind == "raw":
        return b""
    if kind == "null":  # the capturing host's byte order; 30 is AF_INET6 on macOS
        return struct.pack("<I", 30 if v6 else 2)
    if kind == "loop":  # network byte order, as OpenBSD writes it
        return struct.pack(">I", 24 if v6 else 2)
    if kind == "sll":  # packet type, ARPHRD_LOOPBACK, address length, address, protocol
        return struct.pack(">HHH8s", 0, 772, 6, b"\0" * 8) + proto
    if kind == "sll2":  # protocol, reserved, ifindex, ARPHRD, packet type, address
        return proto + struct.pack(">HIHBB8s", 0, 1, 772, 0, 6, b"\0" * 8)
    # Ethernet with an 802.1Q tag (VLAN 7) between the addresses and the type
    return b"\x02" * 6 + b"\x04" * 6 + b"\x81\x00\x00\x07" + proto


def main():
    src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(src, "rb") as f:
        data = f.read()
    magic, major, minor, zone, sigfigs, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit("relink: not a little-endian classic pcap")
    out = [struct.pack("<IHHiIII", magic, major, minor, zone, sigfigs, 262144, LINKTYPE[kind])]
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, length = struct.unpack("<IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        ip = ip_of(linktype, frame)
        new = header(kind, ip) + ip
        out.append(struct.pack("<IIII", sec, frac, len(new), len(new)) + new)
    with open(dst, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    main()
