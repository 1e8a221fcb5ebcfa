/* clock.c - the one clock every timeout and RTT is measured with. */
#include "clock.h"

#include <math.h>
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
