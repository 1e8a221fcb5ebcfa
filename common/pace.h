/* pace.h - sending at a steady rate: when the next message may go.
 *
 * Each message books its time on the link, len * 8 / rate, on a schedule; a message may go
 * once its slot has come. A sender that falls behind (a busy machine, a full socket buffer)
 * catches up, but by at most NET_PACE_BURST_MS of data at once: past that the schedule
 * moves forward, so a stall never turns into a flood. */
#ifndef SOCKLAB_PACE_H
#define SOCKLAB_PACE_H

#include <stdbool.h>
#include <stddef.h>

/* The most a sender may catch up in one go, in milliseconds of data at the asked rate (at
 * 10 Mbit/s, 6,250 bytes; a message larger than that still goes, alone). */
#define NET_PACE_BURST_MS 5.0

struct net_pace {
    double bps;     /* bits per second; 0: no pacing, every message may go at once */
    double next_ms; /* when the next message's slot comes */
};

void net_pace_start(struct net_pace *p, double bps, double now_ms);
/* Milliseconds until a message may go (0: now). */
double net_pace_wait(const struct net_pace *p, double now_ms);
/* Book a message of len bytes sent at now_ms. */
void net_pace_sent(struct net_pace *p, size_t len, double now_ms);

#endif
