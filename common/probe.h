/* probe.h - probes: a readable header, and the bookkeeping of every fate a probe can meet.
 *
 * Answered, lost, duplicated, reordered, late. */
#ifndef SOCKLAB_PROBE_H
#define SOCKLAB_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The smallest probe: room for the largest header, "seq=4294967295 t=99999999999999 ". */
#define NET_PROBE_MIN 32

/* Encode probe seq, sent at t_us microseconds into the run, as size bytes: the text header
 * "seq=17 t=1234 " (readable in a capture), then filler that depends on seq, so a reply
 * can be checked byte for byte. -1 when size is smaller than the header. */
int net_probe_encode(char *buf, size_t size, uint32_t seq, uint64_t t_us);

/* Decode and verify a reply of size bytes: 0 with seq and t_us, or -1 when it is not a probe
 * this program sent (bad header, wrong filler: corrupted or misaligned). */
int net_probe_decode(const char *buf, size_t size, uint32_t *seq, uint64_t *t_us);

/* A peer's probes carry its id first, "from=3fa2b1c0 seq=17 t=1234 ", so that each of two
 * peers probing each other over one socket tells the echoes of its own probes from the
 * other's probes. The id is never 0: from 0 is a plain probe, as net_probe_encode writes. */
#define NET_PEER_PROBE_MIN (NET_PROBE_MIN + 14)
int net_probe_encode_from(char *buf, size_t size, uint32_t from, uint32_t seq, uint64_t t_us);
/* As net_probe_decode, for a probe with or without an id: *from is 0 when it has none. */
int net_probe_decode_from(const char *buf, size_t size, uint32_t *from, uint32_t *seq,
                          uint64_t *t_us);

/* How many probes the bookkeeping remembers; a reply to an older one counts as late. */
#define NET_BOOK_WINDOW 65536

/* What a reply turned out to be. */
enum net_verdict {
    NET_REPLY_OK,      /* first reply to a probe, in time */
    NET_REPLY_DUP,     /* a second reply to the same probe: counted, never a receipt */
    NET_REPLY_LATE,    /* first reply to a probe that had already timed out */
    NET_REPLY_UNKNOWN, /* a sequence number this run never sent (or too long ago) */
};

/* The state of every probe in flight or recently answered, one byte each in a ring, with
 * sequence numbers compared in serial arithmetic so a wrap past 2^32 changes nothing. */
struct net_book {
    uint32_t next;    /* the seq the next probe carries */
    uint32_t highest; /* highest seq answered so far, for reordering */
    bool any;         /* highest is valid */
    uint64_t sent, received, duplicates, reordered, late, unknown;
    uint8_t state[NET_BOOK_WINDOW];
};

void net_book_init(struct net_book *b, uint32_t first_seq);
/* Record that the next probe goes out; returns its seq. */
uint32_t net_book_send(struct net_book *b);
/* Classify a reply; *reordered is set when it overtook a later probe's reply. */
enum net_verdict net_book_reply(struct net_book *b, uint32_t seq, bool *reordered);
/* The timeout for seq passed: true when it was still unanswered (and is now lost). */
bool net_book_expire(struct net_book *b, uint32_t seq);
/* True while seq is sent, unanswered and not yet timed out. */
bool net_book_pending(const struct net_book *b, uint32_t seq);
/* Probes sent but not answered in time. */
uint64_t net_book_lost(const struct net_book *b);

#endif
