/* clock.h - the one clock every timeout and RTT is measured with. */
#ifndef SOCKLAB_CLOCK_H
#define SOCKLAB_CLOCK_H

/* Monotonic time in milliseconds (a wall-clock step cannot shorten a timeout). */
double net_now_ms(void);
/* Milliseconds from now until deadline (INFINITY: none), as poll() takes them: -1 for none,
 * 0 once it has passed, rounded up so a wait never ends before it. */
int net_ms_until(double deadline);

struct pollfd;
/* poll() with a timeout finer than a millisecond (ppoll): wait_ms < 0 waits for as long as it
 * takes, 0 only looks. Returns what poll() returns (-1 with errno EINTR on a signal). */
int net_poll_ms(struct pollfd *fds, unsigned long n, double wait_ms);

#endif
