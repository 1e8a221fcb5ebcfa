/* clock.c - the one clock every timeout and RTT is measured with. */
#include "clock.h"

#include <time.h>

double net_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
