/* clock.h - the one clock every timeout and RTT is measured with. */
#ifndef SOCKLAB_CLOCK_H
#define SOCKLAB_CLOCK_H

/* Monotonic time in milliseconds (a wall-clock step cannot shorten a timeout). */
double net_now_ms(void);

#endif
