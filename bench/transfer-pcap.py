#!/usr/bin/env python3
"""transfer-pcap.py FILE: write a capture of 100,000 packets of one TCP transfer (1448-byte
segments, an ACK for every other one) for the ladder row of scripts/bench."""
import struct, sys

def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF

def packet(src, dst, sport, dport, seq, ack, flags, length):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + length, 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp  # the payload is not captured (snap length 40): as tcpdump -s 40

a, b = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 40, 101))  # raw IPv4
t, seq, ack, n = 0, 1000, 5000, 0
def put(p, length):
    global t, n
    t += 7
    out.write(struct.pack("<IIII", 1700000000 + t // 1000000, t % 1000000, len(p), len(p) + length))
    out.write(p)
    n += 1
put(packet(a, b, 40000, 5001, seq, 0, 0x02, 0), 0)
put(packet(b, a, 5001, 40000, ack, seq + 1, 0x12, 0), 0)
seq += 1; ack += 1
put(packet(a, b, 40000, 5001, seq, ack, 0x10, 0), 0)
while n < 100000:
    for _ in range(2):
        put(packet(a, b, 40000, 5001, seq, ack, 0x18, 1448), 1448)
        seq = (seq + 1448) & 0xFFFFFFFF
    put(packet(b, a, 5001, 40000, ack, seq, 0x10, 0), 0)
