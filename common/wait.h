/* wait.h - wait until a socket is ready, a signal wants attention, or time runs out. */
#ifndef SOCKLAB_WAIT_H
#define SOCKLAB_WAIT_H

/* Wait until fd is readable (or writable), a signal wants attention (see signal.h), or
 * timeout_ms passes (-1: no limit). Returns 1 when ready, 0 on timeout, -1 with errno EINTR
 * for a signal. */
int net_wait_readable(int fd, int timeout_ms);
int net_wait_writable(int fd, int timeout_ms);
/* Like net_wait_readable, and also watch other (-1: nothing) for readability: 2 when other
 * is readable and fd is not. */
int net_wait_either(int fd, int other, int timeout_ms);

#endif
