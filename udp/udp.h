/* udp.h - udp-echo: a connectionless echo server and client. Twin of tcp/tcp.h. */
#ifndef SOCKLAB_UDP_H
#define SOCKLAB_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "counters.h"
#include "err.h"
#include "sock.h"
#include "opt.h"
#include "out.h"
#include "tls.h"

/* Slots in the table of peers seen, to say "first datagram from" once each and count them.
 * It is never filled past 3/4, so a lookup soon meets the peer or an empty slot; once
 * UDP_PEERS_MAX peers are in, the count becomes a lower bound and the summary says so. */
#define UDP_PEERS_SLOTS 16384
#define UDP_PEERS_MAX (UDP_PEERS_SLOTS / 4 * 3)

/* One peer seen, as a compact key: address, port, family. It is hashed and compared as
 * bytes, so every byte must belong to a field: no padding the compiler could leave unset. */
struct udp_peer_key {
    uint8_t addr[16];
    uint16_t port;
    uint16_t family;
};
_Static_assert(sizeof(struct udp_peer_key) == 16 + sizeof(uint16_t) + sizeof(uint16_t),
               "struct udp_peer_key must have no padding");

/* Slots in the table of recent sources: a fixed size, so a flood from many sources costs no
 * memory; sources whose keyed hashes collide share a slot, by chance, never by choice. */
#define UDP_SOURCE_SLOTS 4096
/* How many of a source's last datagrams are remembered, as digests, to spot a repeat. */
#define UDP_LOOP_HISTORY 8

/* What the server keeps of one recent source: its --rate-limit budget (a token bucket that
 * refills at N per second), and digests of its last datagrams, to tell an echo loop (the
 * same datagrams going round and round) from a client (which asks something new). */
struct udp_source {
    struct udp_peer_key key;
    double last_ms; /* 0: slot never used */
    double tokens;
    uint32_t recent[UDP_LOOP_HISTORY];
    unsigned next;    /* where the next digest goes in recent */
    unsigned repeats; /* datagrams in a row that repeated a recent one */
};

/* --tls: DTLS sessions kept at once (the one heard from least recently makes room), and the
 * largest message one record holds. */
#define UDP_DTLS_SESSIONS 256
#define UDP_DTLS_RECORD_MAX 16384
struct udp_dtls;

/* A bound server and what it has counted. There are no connections: one socket serves
 * every peer, and the only per-peer memory is this fixed table of who has been seen. */
struct udp_server {
    const struct net_options *opt;
    int fd;
    int guard_fd;                 /* holds [::1] on the same port (default server), or -1 */
    struct sockaddr_storage addr; /* the address really bound */
    socklen_t addrlen;
    bool wildcard; /* bound to 0.0.0.0 or ::: reply from each request's address */
    struct net_counters counters;
    uint64_t hash_key[2]; /* random per process: the tables' slots cannot be predicted */
    struct udp_peer_key peers[UDP_PEERS_SLOTS]; /* family 0: an empty slot */
    struct udp_source sources[UDP_SOURCE_SLOTS];
    /* busy: the echoes of one recvmmsg, queued to go in one sendmmsg; NULL: each goes at
     * once, in its own sendmsg */
    struct udp_echoes *echoes;
    /* --tls */
    struct tls_ctx tls;
    SSL *listener;         /* takes first datagrams: the cookie exchange */
    struct udp_dtls *dtls; /* UDP_DTLS_SESSIONS, one per peer with a session */
    char *dtls_buf;
};

/* server.c */
int udp_server_main(const struct net_options *opt, struct net_error *err);
int udp_server_open(struct udp_server *srv, const struct net_options *opt, struct net_error *err);
void udp_server_close(struct udp_server *srv);
/* The buffers one recvmmsg of n datagrams fills: *room bytes for each (--recv-size, but no
 * more than the largest datagram needs to show whole: past that, no datagram would ever fill
 * it), in one allocation whose pages cost no memory until the kernel writes to them; each
 * in[i].buf set. The allocation, to free, or NULL. */
char *udp_batch_buffers(const struct udp_server *srv, struct sock_dgram *in, unsigned n,
                        size_t *room);
/* Handle SIGUSR1 (print counters); true when the server should stop. */
bool udp_server_signalled(struct udp_server *srv);

/* dtls.c: --tls, a DTLS session per peer on the one socket */
int udp_dtls_open(struct udp_server *srv, struct net_error *err);
void udp_dtls_close(struct udp_server *srv);
/* A datagram from a peer of a --tls server: its handshake, or its messages echoed. Returns 1
 * when it held a message (what --once waits for). */
int udp_dtls_datagram(struct udp_server *srv, const char *buf, size_t len,
                      const struct sockaddr_storage *from, socklen_t fromlen);

/* peers.c: the tables of peers seen and recent sources */
/* Empty tables under a fresh random key; -1 with err when no random bytes can be had. */
int udp_peers_init(struct udp_server *srv, struct net_error *err);
/* The tables' key for a peer address, and its keyed hash. */
uint64_t udp_peer_hash(const struct udp_server *srv, const struct sockaddr *sa,
                       struct udp_peer_key *key);
/* Remember a peer; true the first time it is seen. */
bool udp_peer_first(struct udp_server *srv, const struct udp_peer_key *key, uint64_t h);
/* The slot of a recent source (*owner false: shared with another, by chance), and how long
 * it had been quiet. */
struct udp_source *udp_source_of(struct udp_server *srv, const struct udp_peer_key *key, uint64_t h,
                                 bool *owner, double *quiet_ms);
/* --rate-limit: may this source have one more answer now? */
bool udp_source_within_rate(const struct udp_server *srv, struct udp_source *src, double quiet_ms);
/* --loop-limit: is this datagram going round an echo loop? */
bool udp_source_looping(const struct udp_server *srv, struct udp_source *src, const char *buf,
                        size_t len, double quiet_ms);

/* Echoes queued while the server is busy (model_iterative.c): they point into the batch of
 * requests they answer, which stays put until they have gone. */
struct udp_echoes {
    struct sock_dgram out[SOCK_BATCH_MAX];
    unsigned n;
};

/* echo.c: datagrams out[0] to out[n - 1] on the server's socket, in as few sendmmsg calls as
 * they allow, each counted as sent; one that cannot go (a full send buffer, say) is counted
 * as an error and left out, and the rest go in another call. Returns how many went. */
unsigned udp_send_batch(struct udp_server *srv, const struct sock_dgram *out, unsigned n);

/* echo.c: one datagram, checked, then echoed (or dropped and counted). Returns 1 when it was
 * served (echoed, discarded, or counted as too long to echo): what --once waits for. */
int udp_echo_datagram(struct udp_server *srv, const char *buf, size_t len, bool truncated,
                      const struct sockaddr_storage *from, socklen_t fromlen,
                      const struct sock_local *to);

/* the one model: every datagram from one socket, in turn, until stopped (or, with --once,
 * until one is served) */
int udp_model_iterative(struct udp_server *srv, struct net_error *err);

/* client.c */
int udp_client_main(const struct net_options *opt, struct net_error *err);

/* relay.c: the middle tier, between clients and the server --to names: a socket connected
 * to it for each client source, in a table of --max-clients that forgets a source after
 * --idle-timeout, or when room is needed for another */
int udp_relay_main(const struct net_options *opt, struct net_error *err);

/* peer.c: probes the other peer (--to) and answers its probes, both on one socket */
int udp_peer_main(const struct net_options *opt, struct net_error *err);

#endif
