/* clock.c - the one clock every timeout and RTT is measured with. */
#define _GNU_SOURCE /* ppoll */
#include "clock.h"

#include <math.h>
#include <poll.h>
#include <time.h>

double net_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int net_ms_until(double deadline)
{
    double left = deadline - net_now_ms();

    if (deadline == INFINITY)
        return -1;
    return left <= 0 ? 0 : (int)ceil(left);
}

int net_poll_ms(struct pollfd *fds, unsigned long n, double wait_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(wait_ms / 1000),
                          .tv_nsec = (long)(fmod(wait_ms, 1000) * 1e6)};

    return ppoll(fds, (nfds_t)n, wait_ms < 0 ? NULL : &ts, NULL);
}
