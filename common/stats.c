/* stats.c - RTT statistics: ping's four numbers plus the percentiles that show the tail. */
#include "stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Bucket i holds values in [1us * 1.01^i, 1us * 1.01^(i+1)). */
static size_t bucket_of(double ms)
{
    double us = ms * 1000.0;
    double i;

    if (us <= 1.0)
        return 0;
    i = floor(log(us) / log(1.01));
    return i >= NET_STATS_BUCKETS ? NET_STATS_BUCKETS - 1 : (size_t)i;
}

/* The middle of a bucket, in milliseconds. */
static double bucket_value(size_t i)
{
    return pow(1.01, (double)i + 0.5) / 1000.0;
}

int net_stats_init(struct net_stats *s)
{
    memset(s, 0, sizeof *s);
    s->samples = malloc(NET_STATS_EXACT * sizeof *s->samples);
    return s->samples ? 0 : -1;
}

void net_stats_free(struct net_stats *s)
{
    free(s->samples);
    s->samples = NULL;
}

void net_stats_add(struct net_stats *s, double ms)
{
    if (s->n == 0 || ms < s->min)
        s->min = ms;
    if (s->n == 0 || ms > s->max)
        s->max = ms;
    s->n++;
    s->sum += ms;
    s->sumsq += ms * ms;
    s->bucket[bucket_of(ms)]++;
    if (s->samples && s->kept < NET_STATS_EXACT)
        s->samples[s->kept++] = ms;
}

void net_stats_merge(struct net_stats *s, const struct net_stats *other)
{
    if (other->n == 0)
        return;
    if (s->n == 0 || other->min < s->min)
        s->min = other->min;
    if (s->n == 0 || other->max > s->max)
        s->max = other->max;
    s->n += other->n;
    s->sum += other->sum;
    s->sumsq += other->sumsq;
    for (size_t i = 0; i < NET_STATS_BUCKETS; i++)
        s->bucket[i] += other->bucket[i];
    for (size_t i = 0; i < other->kept && s->samples && s->kept < NET_STATS_EXACT; i++)
        s->samples[s->kept++] = other->samples[i];
}

double net_stats_percentile(const double *sorted, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return 0;
    rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return sorted[(rank > n ? n : rank) - 1];
}

/* The same nearest-rank percentile, read from the histogram. */
static double hist_percentile(const struct net_stats *s, double p)
{
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)s->n), seen = 0;

    for (size_t i = 0; i < NET_STATS_BUCKETS; i++) {
        seen += s->bucket[i];
        if (seen >= rank) {
            double v = bucket_value(i);

            return v < s->min ? s->min : v > s->max ? s->max : v;
        }
    }
    return s->max;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

void net_stats_summary(struct net_stats *s, struct net_rtt *out)
{
    static const double ps[] = {50, 90, 99};
    double *dst[] = {&out->p50, &out->p90, &out->p99};
    bool exact = s->samples != NULL && s->kept == s->n;
    double mean, var;

    memset(out, 0, sizeof *out);
    out->n = s->n;
    if (s->n == 0)
        return;
    mean = s->sum / (double)s->n;
    /* ping's mdev: the standard deviation, sqrt(E[x^2] - E[x]^2) */
    var = s->sumsq / (double)s->n - mean * mean;
    out->min = s->min;
    out->max = s->max;
    out->avg = mean;
    out->mdev = var > 0 ? sqrt(var) : 0;
    if (exact)
        qsort(s->samples, s->kept, sizeof *s->samples, compare);
    for (size_t i = 0; i < 3; i++)
        *dst[i] =
            exact ? net_stats_percentile(s->samples, s->kept, ps[i]) : hist_percentile(s, ps[i]);
}

void net_jitter_add(struct net_jitter *j, double transit_ms)
{
    if (j->any)
        j->ms += (fabs(transit_ms - j->last_transit_ms) - j->ms) / 16;
    j->last_transit_ms = transit_ms;
    j->any = true;
}
