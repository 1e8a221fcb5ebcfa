/* stream.h - stream mode: streams that send for -t seconds and count what comes back. */
#ifndef SOCKLAB_STREAM_H
#define SOCKLAB_STREAM_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "measure.h"
#include "opt.h"
#include "pace.h"
#include "probe.h"
#include "stats.h"

/* What one stream has done, as of the last interval line. */
struct stream_mark {
    uint64_t bytes_out, bytes_in, sent, received, lost;
    unsigned retransmits;
};

/* One stream: a connected socket that sends without waiting for its echo. */
struct stream {
    int fd;
    struct net_pace pace;
    char *out;      /* the message being sent */
    size_t out_off; /* TCP: how much of it the socket has taken */
    char *in;       /* where echoes are read into */
    bool closed;    /* TCP: the server's FIN came, everything is back */
    /* UDP: every datagram's fate, its send time (ms into the run), the oldest unsettled */
    struct net_book *book;
    float *sent_at;
    uint32_t oldest;
    struct net_jitter jitter;
    uint64_t bytes_out, bytes_in;
    struct stream_mark mark;
};

struct stream_run {
    const struct net_options *opt;
    struct net_target *t;
    bool tcp;
    size_t size;    /* bytes per message (datagram, or TCP send) */
    unsigned n;     /* streams */
    double rate;    /* bits per second for all streams together; 0: as fast as it goes */
    double seconds; /* how long to send */
    double every;   /* seconds between interval lines */
    double start_ms, next_report_ms;
    bool shut; /* TCP: FIN sent on every stream */
    struct stream *streams;
    struct pollfd *pfds;
    struct net_stats rtt; /* UDP: every echo's round trip */
    uint64_t invalid;     /* echoes that were not a datagram this run sent */
};

int net_stream_open(struct stream_run *r, struct net_error *err);
void net_stream_close(struct stream_run *r);
/* Send for r->seconds, then wait (at most -W) for what is still coming back. */
int net_stream_run(struct stream_run *r, struct net_error *err);
/* TCP: half-close every stream; the echo of what is in flight still comes back. */
void net_stream_shut(struct stream_run *r);
/* Has everything come back, or been given up on? */
bool net_stream_settled(const struct stream_run *r);
/* Did anything come back at all? */
bool net_stream_echoed(const struct stream_run *r);
/* The run's summary, after elapsed_ms. */
void net_stream_summary(struct stream_run *r, double elapsed_ms);
/* One line per stream (and their sum) for the interval that ends now. */
void net_stream_report(struct stream_run *r, double now);

#endif
