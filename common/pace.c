/* pace.c - sending at a steady rate: when the next message may go. */
#include "pace.h"

void net_pace_start(struct net_pace *p, double bps, double now_ms)
{
    p->bps = bps;
    p->next_ms = now_ms;
}

double net_pace_wait(const struct net_pace *p, double now_ms)
{
    if (p->bps <= 0 || p->next_ms <= now_ms)
        return 0;
    return p->next_ms - now_ms;
}

void net_pace_sent(struct net_pace *p, size_t len, double now_ms)
{
    if (p->bps <= 0)
        return;
    /* behind by more than a burst: forgive the rest, so the catch-up stays one burst */
    if (p->next_ms < now_ms - NET_PACE_BURST_MS)
        p->next_ms = now_ms - NET_PACE_BURST_MS;
    p->next_ms += (double)len * 8 * 1000 / p->bps;
}
