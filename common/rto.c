/* rto.c - a retransmission timer from measured round trips (RFC 6298). */
#include "rto.h"

#include <math.h>

#define GRANULARITY_MS 1.0

static double bounded(const struct net_rto *r, double ms)
{
    return fmin(fmax(ms, GRANULARITY_MS), r->max_ms);
}

void net_rto_init(struct net_rto *r, double initial_ms, double max_ms)
{
    *r = (struct net_rto){.max_ms = max_ms};
    r->rto = bounded(r, initial_ms);
}

void net_rto_sample(struct net_rto *r, double rtt_ms)
{
    if (!r->measured) {
        /* RFC 6298 2.2: the first measurement */
        r->srtt = rtt_ms;
        r->rttvar = rtt_ms / 2;
        r->measured = true;
    } else {
        /* 2.3, with alpha 1/8 and beta 1/4; rttvar first, from the old srtt */
        r->rttvar = 0.75 * r->rttvar + 0.25 * fabs(r->srtt - rtt_ms);
        r->srtt = 0.875 * r->srtt + 0.125 * rtt_ms;
    }
    r->rto = bounded(r, r->srtt + fmax(GRANULARITY_MS, 4 * r->rttvar));
}

double net_rto_for(const struct net_rto *r, unsigned resends)
{
    return bounded(r, ldexp(r->rto, (int)(resends < 30 ? resends : 30)));
}
