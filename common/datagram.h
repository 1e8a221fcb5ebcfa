/* datagram.h - how big one UDP datagram can be, and the buffers that receive one. */
#ifndef SOCKLAB_DATAGRAM_H
#define SOCKLAB_DATAGRAM_H

/* The largest UDP payload. An IP packet is at most 65535 bytes (a 16-bit length field).
 * IPv4's length counts its own header: 65535 - 20 (IPv4 header) - 8 (UDP header) = 65507.
 * IPv6's payload length leaves out its 40-byte header: 65535 - 8 (UDP header) = 65527. */
#define NET_DATAGRAM_MAX_V4 65507
#define NET_DATAGRAM_MAX_V6 65527

/* A server's receive buffer: the largest datagram plus one byte, so a longer one shows
 * (recvfrom() fills the buffer and reports the datagram as truncated). */
#define NET_DATAGRAM_RECV_SIZE (NET_DATAGRAM_MAX_V6 + 1)

/* What a client asks of one receive call: 64 KiB, more than the largest datagram, so any
 * reply fits whole. --trace prints it: recvfrom(3, 65536). */
#define NET_CLIENT_RECV_SIZE 65536

/* The same two limits as text, for messages written at compile time. NET_QUOTE expands its
 * argument first, so NET_QUOTE(NET_DATAGRAM_MAX_V4) is "65507", not "NET_DATAGRAM_MAX_V4". */
#define NET_DATAGRAM_MAX_V4_TEXT NET_QUOTE(NET_DATAGRAM_MAX_V4)
#define NET_DATAGRAM_MAX_V6_TEXT NET_QUOTE(NET_DATAGRAM_MAX_V6)
#define NET_QUOTE(x) NET_QUOTE_TOKENS(x)
#define NET_QUOTE_TOKENS(x) #x

#endif
