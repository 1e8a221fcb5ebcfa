/* decode.c - IPv4, IPv6, TCP, UDP and ICMP headers, read into one packet record. */
#include "ladder.h"

#include <string.h>

enum { PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17, PROTO_ICMPV6 = 58 };

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An IP header, whichever version: where its payload starts and what it carries. */
struct ip_view {
    uint8_t family;
    uint8_t proto;
    const uint8_t *src, *dst;
    size_t hdr;         /* bytes of IP header (with IPv6 extension headers) */
    size_t payload;     /* bytes the header says follow it */
    int later_fragment; /* not the first fragment: no transport header here */
};

static int ipv4_view(const uint8_t *p, size_t n, struct ip_view *v)
{
    if (n < 20 || (p[0] & 0x0f) < 5 || (size_t)(p[0] & 0x0f) * 4 > n)
        return -1;
    v->family = 4;
    v->hdr = (size_t)(p[0] & 0x0f) * 4;
    v->proto = p[9];
    v->src = p + 12;
    v->dst = p + 16;
    /* the total length, not the frame: Ethernet pads short frames */
    v->payload = be16(p + 2) > v->hdr ? be16(p + 2) - v->hdr : 0;
    v->later_fragment = (be16(p + 6) & 0x1fff) != 0;
    return 0;
}

static int ipv6_view(const uint8_t *p, size_t n, struct ip_view *v)
{
    if (n < 40)
        return -1;
    v->family = 6;
    v->src = p + 8;
    v->dst = p + 24;
    v->proto = p[6];
    v->hdr = 40;
    v->payload = be16(p + 4);
    v->later_fragment = 0;
    /* hop-by-hop, routing, fragment and destination options come before the transport */
    while ((v->proto == 0 || v->proto == 43 || v->proto == 44 || v->proto == 60) &&
           v->hdr + 8 <= n) {
        const uint8_t *x = p + v->hdr;
        size_t len = v->proto == 44 ? 8 : ((size_t)x[1] + 1) * 8;
        if (v->proto == 44 && (be16(x + 2) & 0xfff8) != 0)
            v->later_fragment = 1;
        v->proto = x[0];
        v->hdr += len;
        v->payload = v->payload > len ? v->payload - len : 0;
    }
    return v->hdr <= n ? 0 : -1;
}

static int ip_view(const uint8_t *p, size_t n, struct ip_view *v)
{
    if (n < 1)
        return -1;
    if (p[0] >> 4 == 4)
        return ipv4_view(p, n, v);
    if (p[0] >> 4 == 6)
        return ipv6_view(p, n, v);
    return -1;
}

static void endpoint(struct ladder_endpoint *e, const struct ip_view *v, const uint8_t *addr,
                     unsigned port)
{
    e->family = v->family;
    memset(e->addr, 0, sizeof e->addr);
    memcpy(e->addr, addr, v->family == 4 ? 4 : 16);
    e->port = (uint16_t)port;
}

static void keep_text(struct ladder_pkt *pkt, const uint8_t *payload, size_t have)
{
    size_t n = have < pkt->len ? have : pkt->len;
    if (n > LADDER_TEXT_MAX)
        n = LADDER_TEXT_MAX;
    memcpy(pkt->text, payload, n);
    pkt->text_len = (uint8_t)n;
}

static int tcp(const uint8_t *p, size_t n, const struct ip_view *v, struct ladder_pkt *pkt)
{
    size_t off = (size_t)(p[12] >> 4) * 4;
    if (n < 20 || off < 20)
        return -1;
    pkt->proto = LADDER_TCP;
    endpoint(&pkt->src, v, v->src, be16(p));
    endpoint(&pkt->dst, v, v->dst, be16(p + 2));
    pkt->seq = be32(p + 4);
    pkt->ack = be32(p + 8);
    pkt->flags = p[13] & 0x1f;
    pkt->len = v->payload > off ? (uint32_t)(v->payload - off) : 0;
    if (off < n)
        keep_text(pkt, p + off, n - off);
    return 0;
}

static int udp(const uint8_t *p, size_t n, const struct ip_view *v, struct ladder_pkt *pkt)
{
    if (n < 8)
        return -1;
    pkt->proto = LADDER_UDP;
    endpoint(&pkt->src, v, v->src, be16(p));
    endpoint(&pkt->dst, v, v->dst, be16(p + 2));
    pkt->len = be16(p + 4) > 8 ? be16(p + 4) - 8 : 0;
    keep_text(pkt, p + 8, n - 8);
    return 0;
}

/* ICMP errors that quote the packet they answer: unreachable, too big, time exceeded, ... */
static int quotes(int family, unsigned type)
{
    if (family == 4)
        return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    return type >= 1 && type <= 4;
}

/* the packet an ICMP error quotes: its IP header and at least 8 bytes of what followed */
static void quoted(const uint8_t *p, size_t n, struct ladder_pkt *pkt)
{
    struct ip_view v;
    if (ip_view(p, n, &v) != 0 || v.hdr + 4 > n)
        return;
    if (v.proto != PROTO_TCP && v.proto != PROTO_UDP)
        return;
    pkt->icmp_error = 1;
    pkt->quoted_proto = v.proto == PROTO_TCP ? LADDER_TCP : LADDER_UDP;
    endpoint(&pkt->quoted_src, &v, v.src, be16(p + v.hdr));
    endpoint(&pkt->quoted_dst, &v, v.dst, be16(p + v.hdr + 2));
}

static int icmp(const uint8_t *p, size_t n, const struct ip_view *v, struct ladder_pkt *pkt)
{
    if (n < 8)
        return -1;
    pkt->proto = LADDER_ICMP;
    endpoint(&pkt->src, v, v->src, 0);
    endpoint(&pkt->dst, v, v->dst, 0);
    pkt->icmp_type = p[0];
    pkt->icmp_code = p[1];
    if (quotes(v->family, p[0]))
        quoted(p + 8, n - 8, pkt);
    return 0;
}

/* Decode what starts at an IP header; -1 when it is neither TCP, UDP nor ICMP. */
int ladder_decode_ip(const uint8_t *p, size_t n, struct ladder_pkt *pkt)
{
    struct ip_view v;

    if (ip_view(p, n, &v) != 0 || v.later_fragment)
        return -1;
    p += v.hdr;
    n -= v.hdr;
    switch (v.proto) {
    case PROTO_TCP:
        return tcp(p, n, &v, pkt);
    case PROTO_UDP:
        return udp(p, n, &v, pkt);
    case PROTO_ICMP:
        return v.family == 4 ? icmp(p, n, &v, pkt) : -1;
    case PROTO_ICMPV6:
        return v.family == 6 ? icmp(p, n, &v, pkt) : -1;
    default:
        return -1;
    }
}
