/* signals.c - signals as events: the self-pipe trick lets a loop wait on sockets and signals. */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Atomic, not just volatile: in the thread model a flag set by the handler in one thread is
 * read by every other thread. */
static atomic_int stop_flag;
static atomic_int usr1_flag;
static atomic_int child_flag;
static int pipe_fds[2] = {-1, -1};
/* For threads that only need to hear of a stop: written once on SIGINT, SIGTERM or SIGHUP
 * and never drained, so it wakes every such thread once, and SIGUSR1 wakes none of them. */
static int stop_fds[2] = {-1, -1};
static _Thread_local bool stops_only;
/* A socket a stop shuts down (net_signal_shutdown_on_stop), or -1. */
static atomic_int shutdown_fd = -1;

static void on_signal(int signo)
{
    int saved = errno;
    char byte = 1;

    if (signo == SIGUSR1)
        usr1_flag = 1;
    else if (signo == SIGCHLD)
        child_flag = 1;
    else
        stop_flag = 1;
    /* a full pipe already wakes every waiter; the lost byte does not matter */
    if (write(pipe_fds[1], &byte, 1) < 0) {
    }
    if (stop_flag && stop_fds[1] >= 0 && write(stop_fds[1], &byte, 1) < 0) {
    }
    /* shutdown() is async-signal-safe; a socket already gone fails with EBADF, harmlessly */
    if (stop_flag && shutdown_fd >= 0)
        shutdown(shutdown_fd, SHUT_RDWR);
    errno = saved;
}

/* Move a descriptor of ours out of the way (to 64 or above, close-on-exec), so the first
 * socket a program opens is descriptor 3, as in every textbook trace. */
static int move_high(int *fd)
{
    int high = fcntl(*fd, F_DUPFD_CLOEXEC, 64);

    /* under a descriptor limit of 64 or less (ulimit -n) there is no room up there:
     * stay where we are */
    if (high < 0 && (errno == EINVAL || errno == EMFILE))
        return fcntl(*fd, F_SETFD, FD_CLOEXEC);
    if (high < 0)
        return -1;
    close(*fd);
    *fd = high;
    return 0;
}

/* The pipe's ends never block: a full pipe must not stop a handler, an empty one a drain. */
static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int open_pipe(int fds[2])
{
    if (pipe(fds) < 0 || move_high(&fds[0]) < 0 || move_high(&fds[1]) < 0)
        return -1;
    if (set_nonblocking(fds[0]) < 0 || set_nonblocking(fds[1]) < 0)
        return -1;
    return 0;
}

int net_signal_install(void)
{
    struct sigaction sa;

    if (pipe_fds[0] < 0 && open_pipe(pipe_fds) < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocked call returns EINTR and the loop looks */
    /* SIGHUP: the terminal went away; stop as cleanly as for SIGTERM, summary included */
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGHUP, &sa, NULL) < 0 || sigaction(SIGUSR1, &sa, NULL) < 0)
        return -1;
    /* a write to a closed connection must fail with EPIPE, not kill the process */
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

int net_signal_fd(void)
{
    return stops_only ? stop_fds[0] : pipe_fds[0];
}

bool net_signal_pending(void)
{
    return stop_flag || (!stops_only && (usr1_flag || child_flag));
}

bool net_signal_stopping(void)
{
    return stop_flag != 0;
}

/* Empty the pipe, unless a stop is pending: that wake-up must reach every waiter. */
static void drain_pipe(void)
{
    char drain[64];

    if (!stop_flag)
        while (read(pipe_fds[0], drain, sizeof drain) > 0) {
        }
}

bool net_signal_take_usr1(void)
{
    if (!usr1_flag)
        return false;
    usr1_flag = 0;
    drain_pipe();
    return true;
}

int net_signal_watch_children(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NOCLDSTOP;
    return sigaction(SIGCHLD, &sa, NULL);
}

bool net_signal_take_child(void)
{
    if (!child_flag)
        return false;
    child_flag = 0;
    drain_pipe();
    return true;
}

int net_signal_after_fork(void)
{
    struct sigaction sa;

    /* the parent's pipe is shared with it: a wake-up meant for one would reach both */
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    usr1_flag = 0;
    child_flag = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) < 0)
        return -1;
    return open_pipe(pipe_fds);
}

void net_signal_shutdown_on_stop(int fd)
{
    shutdown_fd = fd;
    /* a stop that came before: the handler has run already */
    if (fd >= 0 && stop_flag)
        shutdown(fd, SHUT_RDWR);
}

int net_signal_share_stops(void)
{
    if (stop_fds[0] >= 0)
        return 0;
    if (open_pipe(stop_fds) < 0)
        return -1;
    /* a stop that came before the pipe existed must still wake the threads */
    if (stop_flag && write(stop_fds[1], "", 1) < 0)
        return -1;
    return 0;
}

void net_signal_stops_only(void)
{
    stops_only = true;
}
