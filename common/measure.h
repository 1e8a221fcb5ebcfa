/* measure.h - probe, sweep and load modes: one measuring engine for both protocols. */

/* The engine only ever sends and receives on connected sockets. Over TCP the replies form a
 * byte stream that it cuts back into probes by size; over UDP each reply is one datagram.
 * Everything else - sequence numbers, timeouts, loss, duplicates, reordering, statistics and
 * output - is the same code, so the two programs measure exactly the same things.
 * measure.c runs probes (probe and sweep modes), report.c prints what they find, and load.c
 * runs load mode. */
#ifndef SOCKLAB_MEASURE_H
#define SOCKLAB_MEASURE_H

#include <sys/socket.h>

#include "err.h"
#include "opt.h"
#include "tls.h"

/* The server being measured and the first connected socket to it. */
struct net_target {
    int fd;
    SSL *tls;                /* --tls: the session on fd, or NULL */
    struct tls_ctx *tls_ctx; /* --tls: for more sessions (load, stream), or NULL */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    char name[80]; /* "127.0.0.1:7007" */
};

/* Which mode the options ask for. */
enum net_mode {
    NET_MODE_MESSAGE,
    NET_MODE_STDIN,
    NET_MODE_PROBE,
    NET_MODE_SWEEP,
    NET_MODE_LOAD,
    NET_MODE_STREAM,
    NET_MODE_SETUP
};
enum net_mode net_measure_mode(const struct net_options *opt);

/* Probe mode (-c, -s, -i, -W): ping-style lines and a summary. Returns 0 when at least one
 * reply came back, 1 when none did, -1 with err on a failure that ended the run. */
int net_measure_probes(const struct net_options *opt, struct net_target *t, struct net_error *err);
/* Probe mode for a peer (peer.h): the probes carry side->id, and the loop serves side's
 * sockets and hands it the datagrams that are not echoes of its own probes. */
struct net_peer_side;
int net_measure_peer(const struct net_options *opt, struct net_target *t,
                     const struct net_peer_side *side, struct net_error *err);
/* --sweep MIN..MAX: a few probes at each size, doubling, one row per size. */
int net_measure_sweep(const struct net_options *opt, struct net_target *t, struct net_error *err);
/* Load mode (-P, -t), in load.c: PARALLEL sockets to t's peer, each with one request in
 * flight. */
int net_measure_load(const struct net_options *opt, struct net_target *t, struct net_error *err);

/* Stream mode (--stream, -t, -P, -s, --rate): PARALLEL streams that send for -t seconds
 * without waiting for their echoes, a line every --every seconds, then a summary. Returns 0
 * when anything came back, 1 when nothing did, -1 with err. */
int net_measure_stream(const struct net_options *opt, struct net_target *t, struct net_error *err);

/* Set-up mode (--connect-each), in setup.c: -c probes (default 10), each on a new
 * connection, and with --tls a new session: the connect, the handshake and the echo's
 * round trip timed apart. Returns 0 when every probe was answered, 1 when some were not,
 * -1 with err. */
int net_measure_setup(const struct net_options *opt, struct net_target *t, struct net_error *err);

#endif
