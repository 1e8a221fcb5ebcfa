/* relay.h - udp-echo relay's parts: the relay, its mappings, and the table that holds them.
 *
 * relay.c moves the datagrams; relaymap.c keeps the table (a keyed hash for lookups, a list
 * least recently heard first for eviction and expiry). Neither is used outside the relay. */
#ifndef SOCKLAB_UDP_RELAY_H
#define SOCKLAB_UDP_RELAY_H

#include "udp.h"

#include "upstream.h"

/* One client source and the socket that speaks for it upstream. */
struct udp_relay_map {
    struct udp_peer_key key; /* the client's address and port, as the table hashes it */
    uint64_t hash;
    struct sockaddr_storage client; /* where the upstream's datagrams go back to */
    socklen_t client_len;
    struct sock_local local;     /* the relay's address the client wrote to (wildcard bind) */
    int fd;                      /* connected to the upstream; -1: a free slot */
    uint16_t up_port;            /* its local port: the client's source, as the server sees it */
    double heard_ms;             /* the last datagram either way */
    struct udp_relay_map *chain; /* the next mapping in its hash bucket */
    struct udp_relay_map *prev, *next; /* least recently heard first; next chains free slots */
};

/* Datagrams one call moves on the listening socket: many clients' requests in one recvmmsg,
 * and as many answers in one sendmmsg. A bound, too, so a busy client cannot starve the
 * mappings' answers. */
#define UDP_RELAY_BATCH SOCK_BATCH_MAX

struct udp_relay {
    struct udp_server *srv;
    struct net_upstream_addr to;
    int ep;
    double now_ms; /* the clock, read once per wake: every datagram of a wake is heard then */
    size_t room;   /* bytes per receive: --recv-size, or what the largest datagram needs */
    /* clients' datagrams: one recvmmsg fills up to UDP_RELAY_BATCH, each into its own room
     * bytes of in_bufs */
    struct sock_dgram in[UDP_RELAY_BATCH];
    char *in_bufs;
    /* answers for clients, read one after another into out_buf, and sent back together at
     * the end of a wake */
    struct sock_dgram out[UDP_RELAY_BATCH];
    unsigned nout;
    char *out_buf;
    size_t out_used, out_size;
    /* the table: --max-clients slots, taken in order, then reused from the free list */
    struct udp_relay_map *maps, *free;
    unsigned fresh; /* maps[fresh] onwards never used yet */
    struct udp_relay_map **buckets;
    size_t mask; /* buckets - 1: a power of two, twice the slots */
    struct udp_relay_map *oldest, *newest;
    unsigned nmaps;
    bool replied; /* a datagram has gone back to a client (--once) */
};

/* relaymap.c */
/* The table, sized once for --max-clients; -1 when there is no memory for it. */
int udp_relay_table_alloc(struct udp_relay *r);
void udp_relay_table_free(struct udp_relay *r);
/* The mapping for a client's key and hash, or NULL. */
struct udp_relay_map *udp_relay_find(struct udp_relay *r, const struct udp_peer_key *key,
                                     uint64_t h);
/* A slot for a new mapping (the table must not be full), and a slot given back unused. */
struct udp_relay_map *udp_relay_slot_take(struct udp_relay *r);
void udp_relay_slot_give(struct udp_relay *r, struct udp_relay_map *m);
/* A new mapping, its slot filled in, into the hash and at the recent end of the list. */
void udp_relay_insert(struct udp_relay *r, struct udp_relay_map *m);
/* A datagram either way: m is in use, and goes to the recent end of the list. */
void udp_relay_heard(struct udp_relay *r, struct udp_relay_map *m);
/* Close a mapping: its socket and its place in the table; event and detail (or NULL) say why,
 * with -v. */
void udp_relay_close(struct udp_relay *r, struct udp_relay_map *m, const char *event,
                     const char *detail);
/* The table is full, or descriptors ran out: the mapping heard from least recently goes. */
void udp_relay_evict_oldest(struct udp_relay *r);
/* Close the mappings unused for --idle-timeout; ms until the next one is due, or -1. */
int udp_relay_expire(struct udp_relay *r);

#endif
