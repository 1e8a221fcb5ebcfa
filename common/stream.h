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
#include "report.h"
#include "stats.h"

/* What one stream has done, as of the last interval line. */
struct stream_mark {
    uint64_t bytes_out, bytes_in;
    uint64_t sent, received, lost, duplicates, reordered; /* UDP: datagrams */
    unsigned retransmits;                                 /* TCP: segments sent again */
    uint64_t bytes_acked;                                 /* TCP: bytes the receiver acknowledged */
};

/* One stream: a connected socket that sends without waiting for its echo. */
struct stream {
    int fd;
    SSL *tls; /* --tls: the session on fd, or NULL */
    struct net_pace pace;
    char *out;      /* the message being sent */
    size_t out_off; /* TCP: how much of it the socket has taken */
    char *in;       /* where echoes are read into */
    bool closed;    /* TCP: the server's FIN came, everything is back */
    /* UDP: every datagram's fate, its send time (ms into the run), the oldest unsettled */
    struct net_book *book;
    float *sent_at;
    uint32_t oldest;
    uint64_t lost; /* given up on: no echo within -W */
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
    bool one_way;   /* --one-way: the server discards, no echo is waited for */
    double start_ms, next_report_ms;
    double reported_s;       /* where the next interval starts, in seconds into the run */
    bool sending;            /* -t is not up yet, nor has Ctrl-C come */
    double sent_ms;          /* how long it sent for */
    uint64_t acked;          /* --one-way TCP: bytes acknowledged, as last seen */
    double last_progress_ms; /* when anything last came back (or, --one-way, was acknowledged) */
    bool shut;               /* TCP: FIN sent on every stream */
    struct stream *streams;
    struct pollfd *pfds;
    struct net_stats rtt; /* UDP: every echo's round trip */
    uint64_t invalid;     /* echoes that were not a datagram this run sent */
    struct net_csv csv;   /* --csv: one row per stream per interval */
};

/* The CSV file's first row: the names of its columns. */
extern const char *const net_stream_csv_header;

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
/* The first line: what the run will do. */
void net_stream_start(const struct stream_run *r);
/* One line per stream (and their sum) for the interval from r->reported_s to now. */
void net_stream_report(struct stream_run *r, double now);
/* SIGUSR1: the summary's figures so far, and the run goes on. */
void net_stream_counters(struct stream_run *r, double now);
/* The run's summary, over elapsed_ms of sending. */
void net_stream_summary(struct stream_run *r, double elapsed_ms);

#endif
