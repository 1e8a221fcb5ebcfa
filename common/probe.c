/* probe.c - probe payloads and probe bookkeeping, the same for TCP and UDP. */
#include "probe.h"

#include <stdio.h>
#include <string.h>

/* The filler byte at offset i of probe seq: printable, and different for each probe. */
static char filler(uint32_t seq, size_t i)
{
    return (char)('a' + (seq + i) % 26);
}

/* The filler repeats every 26 bytes: write one period, then double it with memcpy, so a
 * 64 KiB probe costs a few copies rather than a loop per byte. */
static void fill(char *buf, size_t from, size_t size, uint32_t seq)
{
    size_t period = 26, have;

    for (size_t i = from; i < size && i < from + period; i++)
        buf[i] = filler(seq, i);
    for (have = period; from + have < size; have *= 2) {
        size_t take = size - from - have < have ? size - from - have : have;

        memcpy(buf + from + have, buf + from, take);
    }
}

/* Check the filler: one period byte by byte, the rest as "equal to itself 26 bytes on". */
static bool filled(const char *buf, size_t from, size_t size, uint32_t seq)
{
    for (size_t i = from; i < size && i < from + 26; i++)
        if (buf[i] != filler(seq, i))
            return false;
    return size <= from + 26 || memcmp(buf + from + 26, buf + from, size - from - 26) == 0;
}

int net_probe_encode_from(char *buf, size_t size, uint32_t from, uint32_t seq, uint64_t t_us)
{
    char head[NET_PEER_PROBE_MIN + 8];
    int n = from == 0 ? snprintf(head, sizeof head, "seq=%lu t=%llu ", (unsigned long)seq,
                                 (unsigned long long)t_us)
                      : snprintf(head, sizeof head, "from=%08lx seq=%lu t=%llu ",
                                 (unsigned long)from, (unsigned long)seq, (unsigned long long)t_us);

    if (n < 0 || (size_t)n > size)
        return -1;
    memcpy(buf, head, (size_t)n);
    fill(buf, (size_t)n, size, seq);
    return 0;
}

int net_probe_encode(char *buf, size_t size, uint32_t seq, uint64_t t_us)
{
    return net_probe_encode_from(buf, size, 0, seq, t_us);
}

/* Read decimal digits at *p into *value, advancing *p; -1 when there are none or too many. */
static int digits(const char **p, const char *end, uint64_t max, uint64_t *value)
{
    const char *start = *p;

    *value = 0;
    while (*p < end && **p >= '0' && **p <= '9') {
        uint64_t d = (uint64_t)(**p - '0');

        if (*value > (max - d) / 10)
            return -1;
        *value = *value * 10 + d;
        (*p)++;
    }
    return *p > start ? 0 : -1;
}

/* The eight hex digits of a peer's id at *p into *from, advancing *p; -1 when they are not. */
static int peer_id(const char **p, const char *end, uint32_t *from)
{
    uint32_t id = 0;

    if (end - *p < 9)
        return -1;
    for (int i = 0; i < 8; i++) {
        char c = (*p)[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

        if (d < 0)
            return -1;
        id = id << 4 | (uint32_t)d;
    }
    if ((*p)[8] != ' ' || id == 0)
        return -1;
    *p += 9;
    *from = id;
    return 0;
}

int net_probe_decode_from(const char *buf, size_t size, uint32_t *from, uint32_t *seq,
                          uint64_t *t_us)
{
    const char *p = buf, *end = buf + size;
    uint64_t s, t;

    *from = 0;
    if (size >= 5 && memcmp(p, "from=", 5) == 0) {
        p += 5;
        if (peer_id(&p, end, from) < 0)
            return -1;
    }
    if (end - p < 4 || memcmp(p, "seq=", 4) != 0)
        return -1;
    p += 4;
    if (digits(&p, end, UINT32_MAX, &s) < 0 || end - p < 3 || memcmp(p, " t=", 3) != 0)
        return -1;
    p += 3;
    if (digits(&p, end, UINT64_MAX, &t) < 0 || p >= end || *p != ' ')
        return -1;
    if (!filled(buf, (size_t)(p + 1 - buf), size, (uint32_t)s))
        return -1;
    *seq = (uint32_t)s;
    *t_us = t;
    return 0;
}

int net_probe_decode(const char *buf, size_t size, uint32_t *seq, uint64_t *t_us)
{
    uint32_t from;

    return net_probe_decode_from(buf, size, &from, seq, t_us) < 0 || from != 0 ? -1 : 0;
}

enum { FREE, SENT, ANSWERED, EXPIRED, ANSWERED_LATE };

void net_book_init(struct net_book *b, uint32_t first_seq)
{
    memset(b, 0, sizeof *b);
    b->next = first_seq;
}

/* True when seq was sent and is still inside the window. */
static bool in_window(const struct net_book *b, uint32_t seq)
{
    uint32_t age = b->next - seq; /* serial arithmetic: wraps cleanly */

    return age >= 1 && age <= NET_BOOK_WINDOW && age <= b->sent;
}

uint32_t net_book_send(struct net_book *b)
{
    uint32_t seq = b->next++;

    b->state[seq % NET_BOOK_WINDOW] = SENT;
    b->sent++;
    return seq;
}

enum net_verdict net_book_reply(struct net_book *b, uint32_t seq, bool *reordered)
{
    uint8_t *st;

    *reordered = false;
    if (!in_window(b, seq)) {
        b->unknown++;
        return NET_REPLY_UNKNOWN;
    }
    st = &b->state[seq % NET_BOOK_WINDOW];
    if (*st == ANSWERED || *st == ANSWERED_LATE) {
        b->duplicates++;
        return NET_REPLY_DUP;
    }
    if (*st == EXPIRED) {
        *st = ANSWERED_LATE;
        b->late++;
        return NET_REPLY_LATE;
    }
    *st = ANSWERED;
    b->received++;
    /* a reply for an earlier probe than one already answered arrived out of order */
    if (b->any && (int32_t)(seq - b->highest) < 0) {
        *reordered = true;
        b->reordered++;
    } else {
        b->highest = seq;
        b->any = true;
    }
    return NET_REPLY_OK;
}

bool net_book_expire(struct net_book *b, uint32_t seq)
{
    uint8_t *st;

    if (!in_window(b, seq))
        return false;
    st = &b->state[seq % NET_BOOK_WINDOW];
    if (*st != SENT)
        return false;
    *st = EXPIRED;
    return true;
}

bool net_book_pending(const struct net_book *b, uint32_t seq)
{
    return in_window(b, seq) && b->state[seq % NET_BOOK_WINDOW] == SENT;
}

uint64_t net_book_lost(const struct net_book *b)
{
    return b->sent - b->received;
}
