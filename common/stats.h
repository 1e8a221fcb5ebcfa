/* stats.h - round-trip times: min/avg/max/mdev as ping prints them, and percentiles. */
#ifndef SOCKLAB_STATS_H
#define SOCKLAB_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Samples kept exactly; past this many, percentiles come from the histogram. */
#define NET_STATS_EXACT 100000
/* Histogram buckets, each 1% wider than the last, from 1 microsecond to about 10 minutes. */
#define NET_STATS_BUCKETS 2100

/* Every RTT of a run. min, max, avg and mdev are always exact; percentiles are exact up to
 * NET_STATS_EXACT samples and within 1% beyond, so an endless run uses bounded memory. */
struct net_stats {
    uint64_t n;
    double min, max, sum, sumsq;
    double *samples; /* the first NET_STATS_EXACT samples, or NULL if allocation failed */
    size_t kept;
    uint32_t bucket[NET_STATS_BUCKETS];
};

/* A summary as printed: all in milliseconds. */
struct net_rtt {
    uint64_t n;
    double min, avg, max, mdev, p50, p90, p99;
};

int net_stats_init(struct net_stats *s);
void net_stats_free(struct net_stats *s);
void net_stats_add(struct net_stats *s, double ms);
/* Fold another set of samples into s, as if each had been added to it. (Load mode adds every
 * connection's samples to one set, so only the tests call this.) */
void net_stats_merge(struct net_stats *s, const struct net_stats *other);
/* Summarise; sorts the kept samples in place. All zero when there are none. */
void net_stats_summary(struct net_stats *s, struct net_rtt *out);

/* The nearest-rank percentile (0 < p <= 100) of n sorted values: the smallest value with at
 * least p% of the values at or below it. */
double net_stats_percentile(const double *sorted, size_t n, double p);

/* Jitter as RFC 3550 (section 6.4.1) estimates it: J += (|D| - J) / 16, where D is how much
 * one message's transit time differs from the one before it. Here a message's transit is its
 * round trip, so this is the jitter of the path there and back. */
struct net_jitter {
    double ms; /* the running estimate */
    double last_transit_ms;
    bool any; /* last_transit_ms holds a value */
};

void net_jitter_add(struct net_jitter *j, double transit_ms);

#endif
