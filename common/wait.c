/* wait.c - wait until a socket is ready, a signal wants attention, or time runs out. */
#include "wait.h"

#include <errno.h>
#include <poll.h>

#include "signals.h"

/* Wait for events on fd, or readability of other (-1: none), or a signal: 1 fd is ready,
 * 2 only other is readable, 0 timeout, -1 with errno EINTR for a signal. */
static int wait_for(int fd, short events, int other, int timeout_ms)
{
    enum { FD, OTHER, WAKE };
    struct pollfd p[3] = {[FD] = {.fd = fd, .events = events},
                          [OTHER] = {.fd = other, .events = POLLIN},
                          [WAKE] = {.fd = net_signal_fd(), .events = POLLIN}};
    int n;

    if (net_signal_pending()) {
        errno = EINTR;
        return -1;
    }
    n = poll(p, 3, timeout_ms);
    if (n < 0)
        return -1;
    if (n == 0)
        return 0;
    if (p[FD].revents != 0 && !net_signal_stopping())
        return 1;
    if (p[OTHER].revents != 0 && p[WAKE].revents == 0)
        return 2;
    /* only the pipe woke us: a signal wants the caller's attention */
    errno = EINTR;
    return -1;
}

int net_wait_readable(int fd, int timeout_ms)
{
    return wait_for(fd, POLLIN, -1, timeout_ms);
}

int net_wait_writable(int fd, int timeout_ms)
{
    return wait_for(fd, POLLOUT, -1, timeout_ms);
}

int net_wait_either(int fd, int other, int timeout_ms)
{
    return wait_for(fd, POLLIN, other, timeout_ms);
}
