/* compare.c - two captures of one exchange, taken at its two ends: what one saw and not the other.
 *
 * A packet keeps its addresses, ports, sequence numbers, length and payload from one end of
 * its path to the other (a router changes the TTL and the checksums, not these), so the same
 * packet is found in both captures. One that a capture holds and the other does not, while
 * the other saw its flow's packets before and after it, was lost between the two capture
 * points. Captures of different exchanges (a TCP one and a UDP one) share no packet, and
 * nothing is marked. */
#include "ladder.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/* what names a packet at either end of its path; never 0 (0 marks a free slot) */
static uint64_t key(const struct ladder_pkt *p)
{
    uint64_t h = 14695981039346656037u;

    h = mix(h, &p->proto, sizeof p->proto);
    /* field by field: a struct's padding is nobody's bytes */
    for (const struct ladder_endpoint *e = &p->src;; e = &p->dst) {
        h = mix(h, &e->family, sizeof e->family);
        h = mix(h, e->addr, sizeof e->addr);
        h = mix(h, &e->port, sizeof e->port);
        if (e == &p->dst)
            break;
    }
    h = mix(h, &p->flags, sizeof p->flags);
    h = mix(h, &p->seq, sizeof p->seq);
    h = mix(h, &p->ack, sizeof p->ack);
    h = mix(h, &p->len, sizeof p->len);
    h = mix(h, p->text, p->text_len);
    return h ? h : 1;
}

/* how many of each packet a capture holds: open addressing, twice as many slots as arrows */
struct tally {
    uint64_t *keys;
    uint32_t *counts;
    size_t mask;
};

/* the count of packet k; a new one (count 0) only when add is set, else NULL if not there */
static uint32_t *count_of(struct tally *t, uint64_t k, int add)
{
    for (size_t i = k & t->mask;; i = (i + 1) & t->mask) {
        if (t->keys[i] == k)
            return &t->counts[i];
        if (t->keys[i] == 0) {
            if (!add)
                return NULL;
            t->keys[i] = k;
            return &t->counts[i];
        }
    }
}

static int tally_of(const struct ladder_exchange *ex, struct tally *t)
{
    size_t slots = 16;
    while (slots < 2 * ex->narrows)
        slots *= 2;
    t->keys = calloc(slots, sizeof *t->keys);
    t->counts = calloc(slots, sizeof *t->counts);
    t->mask = slots - 1;
    if (t->keys == NULL || t->counts == NULL)
        return -1;
    for (size_t i = 0; i < ex->narrows; i++)
        if (ex->arrows[i].pkt.proto != LADDER_ICMP)
            (*count_of(t, key(&ex->arrows[i].pkt), 1))++;
    return 0;
}

/* Mark mine's arrows the other capture never saw, between two it did see of the same flow. */
static int mark(struct ladder_exchange *mine, const struct ladder_exchange *other)
{
    struct tally t = {NULL, NULL, 0};
    uint8_t *seen = calloc(mine->narrows ? mine->narrows : 1, 1);
    uint8_t *began = calloc(mine->nflows ? mine->nflows : 1, 1);
    size_t *last = calloc(mine->nflows ? mine->nflows : 1, sizeof *last);
    int rc = -1;

    if (seen == NULL || began == NULL || last == NULL || tally_of(other, &t) != 0)
        goto out;
    /* last[flow]: one past the last arrow of the flow the other capture saw */
    for (size_t i = 0; i < mine->narrows; i++) {
        const struct ladder_arrow *a = &mine->arrows[i];
        uint32_t *n = a->pkt.proto == LADDER_ICMP ? NULL : count_of(&t, key(&a->pkt), 0);
        if (n && *n > 0) {
            (*n)--;
            seen[i] = 1;
            last[a->flow] = i + 1;
        }
    }
    /* an arrow not seen, with one of its flow seen before it and one after */
    for (size_t i = 0; i < mine->narrows; i++) {
        struct ladder_arrow *a = &mine->arrows[i];
        if (seen[i])
            began[a->flow] = 1;
        else if (a->pkt.proto != LADDER_ICMP && began[a->flow] && i < last[a->flow]) {
            a->unseen = 1;
            mine->unseen++;
        }
    }
    rc = 0;
out:
    free(t.keys);
    free(t.counts);
    free(seen);
    free(began);
    free(last);
    return rc;
}

int ladder_compare(struct ladder_exchange *a, struct ladder_exchange *b)
{
    return mark(a, b) == 0 && mark(b, a) == 0 ? 0 : -1;
}
