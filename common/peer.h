/* peer.h - the peer role: a server and a client at once, to one other peer.
 *
 * Two peers probe each other as probe mode does, and each answers the other's probes. They
 * start in either order: each waits for the other before its first probe (UDP knocks, TCP
 * connects again), and once its own probes are settled it goes on answering until the other
 * says it is done too (UDP: a "bye" datagram, or silence, as a datagram can be lost; TCP:
 * its FIN). How is the protocol's own: udp/peer.c does both directions on one socket,
 * tcp/peer.c needs two connections, one each way. This file has what they share: the wait
 * loops around the probe run, and the line that says what a peer answered. */
#ifndef SOCKLAB_PEER_H
#define SOCKLAB_PEER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "measure.h"
#include "opt.h"
#include "upstream.h"

/* Seconds a peer waits for the other to start (or, done itself, to connect at all). */
#define NET_PEER_WAIT_S 60
/* Milliseconds between knocks (UDP) or connection attempts (TCP) while it waits. */
#define NET_PEER_RETRY_MS 500
/* Poll slots a peer's own sockets may take beside the probing one. */
#define NET_PEER_SLOTS 3

/* How the other peer's side of the exchange ended. */
enum net_peer_end {
    NET_PEER_RUNNING,
    NET_PEER_BYE,         /* UDP: it said bye */
    NET_PEER_SILENT,      /* UDP: nothing from it for a while */
    NET_PEER_FIN,         /* TCP: it closed its connection */
    NET_PEER_RESET,       /* TCP: its connection was reset */
    NET_PEER_NEVER,       /* it never came */
    NET_PEER_INTERRUPTED, /* we were stopped first */
};

/* What a peer does besides probing, handed to the probe loop (net_measure_peer) and the
 * waits around it. */
struct net_peer_side {
    void *ctx;
    uint32_t id; /* the id its probes carry (net_probe_encode_from), never 0 */
    /* Its sockets to wait on besides the probing one: fills at most NET_PEER_SLOTS, returns
     * how many. */
    int (*fill)(void *ctx, struct pollfd *p);
    /* After poll(): serve the n slots fill filled. 0, or -1 with err. */
    int (*serve)(void *ctx, const struct pollfd *p, int n, struct net_error *err);
    /* A datagram on the probing socket that is no echo of this peer's probes: true when the
     * peer took it (the other's probe, knock or bye), false to count it invalid. NULL over
     * TCP, where the other's probes come on a connection of their own. */
    bool (*foreign)(void *ctx, const char *buf, size_t len);
    /* Every wake of a wait: knock or connect again when due. 0, or -1 with err. */
    int (*tick)(void *ctx, struct net_error *err);
    /* True when the wait is over (the other is there; the other is done). */
    bool (*over)(void *ctx);
};

/* A random id for a peer's probes, never 0. */
uint32_t net_peer_new_id(void);

/* A peer's own socket, opened as a server's on -b and -p (listening, for TCP), and the other
 * peer (--to) resolved into to; t gets the other's address and name. A peer bound to loopback
 * (no -b) reaches only peers on loopback: the error says to give -b. Returns the socket, with
 * its own address in own and ownlen, or -1 with err (nothing left open). */
int net_peer_open(const struct net_options *opt, int socktype, struct net_upstream_addr *to,
                  struct net_target *t, struct sockaddr_storage *own, socklen_t *ownlen,
                  struct net_error *err);

/* The error for a wait that ended before the other peer came (a stop, or NET_PEER_WAIT_S
 * seconds): -1 with err. */
int net_peer_never(const char *other, struct net_error *err);

/* Serve side until side->over() or deadline_ms (net_now_ms(); INFINITY: none), calling
 * side->tick at once and every NET_PEER_RETRY_MS. Returns 1 when over, 0 at the deadline or
 * on a stop signal, -1 with err. */
int net_peer_wait(const struct net_peer_side *side, double deadline_ms, struct net_error *err);

/* The last line: what this peer answered for the other, and how the other ended.
 * probes < 0: not counted (TCP, where probes are bytes in a stream). */
void net_peer_report(const struct net_options *opt, const char *other, long long probes,
                     unsigned long long bytes, enum net_peer_end end);

#endif
