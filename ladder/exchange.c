/* exchange.c - the model of an exchange: who spoke first, relative seq/ack, retransmissions. */
#include "ladder.h"

#include <stdlib.h>
#include <string.h>

enum { ANSWER_LOOKBACK = 1000 }; /* arrows an ICMP error looks back for what it answers */

/* Start an empty exchange of the capture at path; -1 if there is no memory for it. */
int ladder_exchange_init(struct ladder_exchange *ex, const char *path, size_t max, int port,
                         struct ladder_error *err)
{
    memset(ex, 0, sizeof *ex);
    ex->path = path;
    ex->max = max;
    ex->port = port;
    ex->only = -1;
    ex->origin_ns = -1;
    /* a flow is born only with an arrow: twice max slots keep the hash table half empty */
    ex->nslots = 16;
    while (ex->nslots < 2 * max)
        ex->nslots *= 2;
    ex->slots = calloc(ex->nslots, sizeof *ex->slots);
    if (ex->slots == NULL) {
        snprintf(err->msg, sizeof err->msg, "out of memory for %zu arrows", max);
        return -1;
    }
    return 0;
}

void ladder_exchange_free(struct ladder_exchange *ex)
{
    free(ex->arrows);
    free(ex->flows);
    free(ex->slots);
    memset(ex, 0, sizeof *ex);
}

static int same_endpoint(const struct ladder_endpoint *a, const struct ladder_endpoint *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static uint32_t endpoint_hash(const struct ladder_endpoint *e)
{
    uint32_t h = 2166136261u ^ e->family;
    for (size_t i = 0; i < sizeof e->addr; i++)
        h = (h ^ e->addr[i]) * 16777619u;
    return ((h ^ e->port) * 16777619u) ^ (e->port >> 8);
}

/* the slot where the flow of these two endpoints is, or the free slot where it would go */
static uint32_t *flow_slot(struct ladder_exchange *ex, enum ladder_proto proto,
                           const struct ladder_endpoint *a, const struct ladder_endpoint *b)
{
    /* a sum, so that both directions of a conversation find the same flow */
    size_t i = (endpoint_hash(a) + endpoint_hash(b) + proto) & (ex->nslots - 1);
    for (;; i = (i + 1) & (ex->nslots - 1)) {
        uint32_t *slot = &ex->slots[i];
        if (*slot == 0)
            return slot;
        const struct ladder_flow *f = &ex->flows[*slot - 1];
        if (f->proto == proto && ((same_endpoint(&f->left, a) && same_endpoint(&f->right, b)) ||
                                  (same_endpoint(&f->left, b) && same_endpoint(&f->right, a))))
            return slot;
    }
}

/* room for one more of n elements of size, up to max: 16 first, then twice as many */
static void *room(void *array, size_t n, size_t size, size_t max)
{
    size_t want = n == 0 ? 16 : 2 * n;
    if (n != 0 && (n < 16 || (n & (n - 1)) != 0))
        return array; /* the last growth left room */
    return realloc(array, (want < max ? want : max) * size);
}

/* The flow from src to dst, made on first sight with src on the left; index, or -1. */
static long find_flow(struct ladder_exchange *ex, enum ladder_proto proto,
                      const struct ladder_endpoint *src, const struct ladder_endpoint *dst)
{
    uint32_t *slot = flow_slot(ex, proto, src, dst);
    if (*slot)
        return *slot - 1;
    struct ladder_flow *flows = room(ex->flows, ex->nflows, sizeof *flows, ex->max);
    if (flows == NULL)
        return -1;
    ex->flows = flows;
    memset(&flows[ex->nflows], 0, sizeof *flows);
    flows[ex->nflows].proto = proto;
    flows[ex->nflows].left = *src;
    flows[ex->nflows].right = *dst;
    *slot = (uint32_t)++ex->nflows;
    return (long)ex->nflows - 1;
}

/* Relative numbers as Wireshark shows them, and what the sequence numbers say of a segment:
 * one that starts below what this side already sent is sent again. */
static void tcp_seq(struct ladder_flow *f, struct ladder_arrow *a)
{
    const struct ladder_pkt *p = &a->pkt;
    struct ladder_seqspace *me = &f->dir[a->to_left], *peer = &f->dir[!a->to_left];
    uint32_t span = p->len + !!(p->flags & LADDER_SYN) + !!(p->flags & LADDER_FIN);

    /* a new SYN with another initial sequence number: a new connection on the same ports */
    if ((p->flags & (LADDER_SYN | LADDER_ACK)) == LADDER_SYN && me->known && p->seq != me->base)
        memset(f->dir, 0, sizeof f->dir);
    if (!me->known) /* caught mid-connection: Wireshark calls the first byte seen 1 */
        *me = (struct ladder_seqspace){p->flags & LADDER_SYN ? p->seq : p->seq - 1, p->seq, 1};
    if ((p->flags & LADDER_ACK) && !peer->known)
        *peer = (struct ladder_seqspace){p->ack - 1, p->ack, 1};

    a->rel_seq = p->seq - me->base;
    a->rel_ack = p->flags & LADDER_ACK ? p->ack - peer->base : 0;
    int32_t behind = (int32_t)(me->next - p->seq);
    if (p->len <= 1 && !(p->flags & (LADDER_SYN | LADDER_FIN)) && behind == 1)
        a->mark = LADDER_KEEPALIVE; /* one byte before the next: only asks "still there?" */
    else if (span > 0 && behind > 0)
        a->mark = LADDER_RETRANSMISSION;
    if ((int32_t)(p->seq + span - me->next) > 0)
        me->next = p->seq + span;
}

/* the last arrow of flow going the way the quoted packet went: what an ICMP error answers */
static uint64_t answered(const struct ladder_exchange *ex, uint32_t flow, int quoted_to_left)
{
    size_t stop = ex->narrows > ANSWER_LOOKBACK ? ex->narrows - ANSWER_LOOKBACK : 0;
    for (size_t i = ex->narrows; i-- > stop;) {
        const struct ladder_arrow *a = &ex->arrows[i];
        if (a->flow == flow && a->to_left == quoted_to_left && a->pkt.proto != LADDER_ICMP)
            return a->pkt.frame;
    }
    return 0;
}

/* where an arrow goes: into its flow, which way, and what it says of the flow */
static int place(struct ladder_exchange *ex, struct ladder_arrow *a)
{
    const struct ladder_pkt *p = &a->pkt;
    long flow;

    if (p->icmp_error) { /* drawn in the flow of the packet it quotes, back to its sender */
        flow = find_flow(ex, p->quoted_proto, &p->quoted_src, &p->quoted_dst);
        if (flow < 0)
            return -1;
        int quoted_to_left = !same_endpoint(&ex->flows[flow].left, &p->quoted_src);
        a->to_left = !quoted_to_left;
        a->answers = answered(ex, (uint32_t)flow, quoted_to_left);
    } else {
        /* a SYN-ACK seen first: its receiver sent the SYN, and belongs on the left */
        int reply = p->proto == LADDER_TCP &&
                    (p->flags & (LADDER_SYN | LADDER_ACK)) == (LADDER_SYN | LADDER_ACK);
        flow = reply ? find_flow(ex, p->proto, &p->dst, &p->src)
                     : find_flow(ex, p->proto, &p->src, &p->dst);
        if (flow < 0)
            return -1;
        a->to_left = !same_endpoint(&ex->flows[flow].left, &p->src);
        if (p->proto == LADDER_TCP)
            tcp_seq(&ex->flows[flow], a);
    }
    a->flow = (uint32_t)flow;
    return 0;
}

/* --port: a TCP or UDP packet to or from it, or an ICMP error about one; --apart: a packet
 * of the one protocol, or an ICMP error about one */
static int wanted(const struct ladder_exchange *ex, const struct ladder_pkt *p)
{
    if (ex->only >= 0 &&
        (p->proto == LADDER_ICMP ? !p->icmp_error || (int)p->quoted_proto != ex->only
                                 : (int)p->proto != ex->only))
        return 0;
    if (ex->port == 0)
        return 1;
    if (p->proto == LADDER_ICMP)
        return p->icmp_error && (p->quoted_src.port == ex->port || p->quoted_dst.port == ex->port);
    return p->src.port == ex->port || p->dst.port == ex->port;
}

/* Add one packet: an arrow while there is room for one, else only counted. */
void ladder_exchange_add(struct ladder_exchange *ex, const struct ladder_pkt *pkt)
{
    if (!wanted(ex, pkt))
        return;
    ex->tcp += pkt->proto == LADDER_TCP;
    ex->udp += pkt->proto == LADDER_UDP;
    ex->icmp += pkt->proto == LADDER_ICMP;
    if (ex->narrows >= ex->max) {
        ex->more++;
        return;
    }
    struct ladder_arrow *arrows = room(ex->arrows, ex->narrows, sizeof *arrows, ex->max);
    if (arrows == NULL) {
        ex->more++;
        return;
    }
    ex->arrows = arrows;
    struct ladder_arrow *a = &arrows[ex->narrows];
    memset(a, 0, sizeof *a);
    a->pkt = *pkt;
    if (ex->only >= 0) { /* --apart: each protocol's exchange starts at 0 */
        if (ex->origin_ns < 0)
            ex->origin_ns = pkt->time_ns;
        a->pkt.time_ns -= ex->origin_ns;
    }
    if (place(ex, a) != 0) {
        ex->more++;
        return;
    }
    ex->narrows++;
}

void ladder_walk_start(struct ladder_walk *w, struct ladder_exchange *const *ex, int count)
{
    memset(w, 0, sizeof *w);
    w->ex = ex;
    w->count = count;
}

/* The next arrow in time, whichever capture it is from: that capture's index, -1 at the end. */
int ladder_walk_next(struct ladder_walk *w, const struct ladder_arrow **arrow)
{
    int best = -1;
    for (int i = 0; i < w->count; i++) {
        if (w->next[i] >= w->ex[i]->narrows)
            continue;
        const struct ladder_arrow *a = &w->ex[i]->arrows[w->next[i]];
        if (best < 0 || a->pkt.time_ns < (*arrow)->pkt.time_ns) {
            best = i;
            *arrow = a;
        }
    }
    if (best >= 0)
        w->next[best]++;
    return best;
}
