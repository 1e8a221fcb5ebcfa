/* label.c - what an arrow says: the same words in every format. */
#include "ladder.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* the ICMP messages a student meets; the others by number */
static const char *icmp_name(int family, unsigned type, unsigned code, char *buf, size_t size)
{
    if (family == 4) {
        if (type == 3)
            return code == 3   ? "port unreachable"
                   : code == 4 ? "fragmentation needed"
                               : "destination unreachable";
        if (type == 11)
            return "time exceeded";
        if (type == 8 || type == 0)
            return type == 8 ? "echo request" : "echo reply";
    } else {
        if (type == 1)
            return code == 4 ? "port unreachable" : "destination unreachable";
        if (type == 2 || type == 3)
            return type == 2 ? "packet too big" : "time exceeded";
        if (type == 128 || type == 129)
            return type == 128 ? "echo request" : "echo reply";
        if (type >= 133 && type <= 136) {
            static const char *nd[] = {"router solicitation", "router advertisement",
                                       "neighbor solicitation", "neighbor advertisement"};
            return nd[type - 133];
        }
    }
    snprintf(buf, size, "type %u code %u", type, code);
    return buf;
}

static void tcp_flags(uint8_t flags, char *buf, size_t size)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {{LADDER_SYN, "SYN"},
                 {LADDER_FIN, "FIN"},
                 {LADDER_RST, "RST"},
                 {LADDER_PSH, "PSH"},
                 {LADDER_ACK, "ACK"}};
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((flags & names[i].bit) && used < size)
            used +=
                (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "", names[i].name);
    if (used == 0)
        snprintf(buf, size, "no flags");
}

static void icmp_label(const struct ladder_arrow *a, char *buf, size_t size)
{
    const struct ladder_pkt *p = &a->pkt;
    char num[32], from[64] = "", answers[40] = "";
    const char *name = icmp_name(p->src.family, p->icmp_type, p->icmp_code, num, sizeof num);

    if (p->icmp_error) {
        /* a router on the way answers for the destination: say who it is */
        if (memcmp(p->src.addr, p->quoted_dst.addr, sizeof p->src.addr) != 0) {
            char addr[INET6_ADDRSTRLEN];
            ladder_label_addr(&p->src, addr, sizeof addr);
            snprintf(from, sizeof from, " from %s", addr);
        }
        if (a->answers)
            snprintf(answers, sizeof answers, ", answers %llu", (unsigned long long)a->answers);
    }
    snprintf(buf, size, "%s %s%s%s", p->src.family == 4 ? "ICMP" : "ICMPv6", name, from, answers);
}

/* The arrow's label: flags, relative seq/ack and length (TCP), length (UDP), the ICMP message. */
void ladder_label(const struct ladder_arrow *a, char *buf, size_t size)
{
    const struct ladder_pkt *p = &a->pkt;
    char flags[32];

    if (p->proto == LADDER_UDP) {
        snprintf(buf, size, "UDP len=%u", p->len);
    } else if (p->proto == LADDER_ICMP) {
        icmp_label(a, buf, size);
    } else {
        tcp_flags(p->flags, flags, sizeof flags);
        if (p->flags & LADDER_ACK)
            snprintf(buf, size, "%s seq=%u ack=%u len=%u%s", flags, a->rel_seq, a->rel_ack, p->len,
                     a->mark == LADDER_RETRANSMISSION ? " retransmission"
                     : a->mark == LADDER_KEEPALIVE    ? " keep-alive"
                                                      : "");
        else
            snprintf(buf, size, "%s seq=%u len=%u%s", flags, a->rel_seq, p->len,
                     a->mark == LADDER_RETRANSMISSION ? " retransmission" : "");
    }
    size_t used = strlen(buf);
    if (a->unseen && used < size)
        snprintf(buf + used, size - used, " LOST");
}

/* The first payload bytes as text in quotes, "" when there are none: line ends and tabs
 * written as \n \r \t, anything else not printable as a dot. */
void ladder_label_text(const struct ladder_arrow *a, char *buf, size_t size)
{
    const struct ladder_pkt *p = &a->pkt;
    size_t used = 0;

    buf[0] = '\0';
    if (p->text_len == 0 || size < 8)
        return;
    buf[used++] = '"';
    for (size_t i = 0; i < p->text_len && used + 6 < size; i++) {
        unsigned char c = (unsigned char)p->text[i];
        const char *esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (esc) {
            memcpy(buf + used, esc, 2);
            used += 2;
        } else {
            buf[used++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
        }
    }
    buf[used++] = '"';
    if (p->len > p->text_len && used + 3 < size) {
        memcpy(buf + used, "...", 3);
        used += 3;
    }
    buf[used] = '\0';
}

void ladder_label_addr(const struct ladder_endpoint *e, char *buf, size_t size)
{
    if (inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, buf, (socklen_t)size) == NULL)
        snprintf(buf, size, "?");
}

/* address:port, [v6]:port, or the address alone for ICMP */
void ladder_label_endpoint(const struct ladder_endpoint *e, char *buf, size_t size)
{
    char addr[INET6_ADDRSTRLEN];

    ladder_label_addr(e, addr, sizeof addr);
    if (e->port == 0)
        snprintf(buf, size, "%s", addr);
    else if (e->family == 6)
        snprintf(buf, size, "[%s]:%u", addr, e->port);
    else
        snprintf(buf, size, "%s:%u", addr, e->port);
}

/* what a capture carries, to name it: "TCP", "UDP" or "TCP and UDP" */
const char *ladder_label_proto(const struct ladder_exchange *ex)
{
    if (ex->tcp && ex->udp)
        return "TCP and UDP";
    return ex->tcp ? "TCP" : "UDP";
}

/* "22 packets (20 TCP, 2 UDP, 0 ICMP)", and how many of them are drawn when not all */
void ladder_label_summary(const struct ladder_exchange *ex, char *buf, size_t size)
{
    unsigned long long all = ex->tcp + ex->udp + ex->icmp;
    int n = snprintf(buf, size, "%llu packets (%llu TCP, %llu UDP, %llu ICMP)", all,
                     (unsigned long long)ex->tcp, (unsigned long long)ex->udp,
                     (unsigned long long)ex->icmp);
    if (ex->more && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, ", the first %zu drawn", ex->narrows);
    if (ex->unseen && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n,
                 ", %llu LOST: not in the other capture, lost between the two",
                 (unsigned long long)ex->unseen);
}

/* Do two flows join the same two hosts, on the same sides? */
int ladder_same_hosts(const struct ladder_flow *a, const struct ladder_flow *b)
{
    return a->left.family == b->left.family && a->right.family == b->right.family &&
           memcmp(a->left.addr, b->left.addr, 16) == 0 &&
           memcmp(a->right.addr, b->right.addr, 16) == 0;
}
