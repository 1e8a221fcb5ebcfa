/* rto.h - a retransmission timer from measured round trips (RFC 6298). */
#ifndef SOCKLAB_RTO_H
#define SOCKLAB_RTO_H

#include <stdbool.h>

/* For requests that UDP leaves to the program to send again. RFC 6298's estimator: a
 * smoothed RTT and its mean deviation. The timeout is srtt + max(G, 4 * rttvar), with a
 * clock granularity G of 1 ms (the RFC's 1 s floor is for TCP across the Internet; a
 * program that measures its own RTT needs no such floor), and never more than a bound
 * given at the start (the run's -W). */
struct net_rto {
    double srtt, rttvar; /* ms, once measured */
    double rto;          /* ms: the current timeout */
    double max_ms;
    bool measured;
};

/* The timer before any measurement: initial_ms (RFC 6298 says 1 s), at most max_ms. */
void net_rto_init(struct net_rto *r, double initial_ms, double max_ms);
/* One round trip of a request sent once (Karn: an answer to a resent request could belong to
 * either copy, so it is never a sample). */
void net_rto_sample(struct net_rto *r, double rtt_ms);
/* The timeout for a request already resent `resends` times: doubled each time (RFC 6298
 * 5.5), at most the bound. */
double net_rto_for(const struct net_rto *r, unsigned resends);

#endif
