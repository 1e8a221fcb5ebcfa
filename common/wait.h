/* wait.h - signals, waiting for a socket, and the clock, shared by every loop.
 *
 * SIGINT, SIGTERM and SIGHUP ask a program to stop, SIGUSR1 asks a server for its counters. The
 * handlers only set a flag and write a byte to a pipe (the self-pipe trick), so a loop
 * waiting in poll() or epoll_wait() on that pipe wakes up at once and without a race. */
#ifndef SOCKLAB_WAIT_H
#define SOCKLAB_WAIT_H

#include <stdbool.h>

/* Install the handlers and ignore SIGPIPE; -1 with errno on failure. */
int net_wait_install(void);
/* The read end of the self-pipe, to add to a poll or epoll set. */
int net_wait_fd(void);
/* True once SIGINT, SIGTERM or SIGHUP has arrived. */
bool net_wait_stopping(void);
/* True (once) when SIGUSR1 arrived since the last call; drains the pipe. */
bool net_wait_take_usr1(void);

/* Also wake the waiters when a child process ends (SIGCHLD), for a server that forks. */
int net_wait_watch_children(void);
/* True (once) when a child ended since the last call; drains the pipe. */
bool net_wait_take_child(void);
/* In a child just forked: a self-pipe of its own, so parent and child wake separately. */
int net_wait_after_fork(void);

/* For a program whose other threads wait as well (the thread model): call once, before
 * starting them, to open a pipe that only a stop writes to. */
int net_wait_share_stops(void);
/* In such a thread (with every signal blocked): its waits wake for a stop only, so SIGUSR1,
 * which the main thread answers, does not wake it at all. */
void net_wait_stops_only(void);

/* Wait until fd is readable (or writable), a signal wants attention, or timeout_ms passes
 * (-1: no limit). Returns 1 when ready, 0 on timeout, -1 with errno EINTR for a signal. */
int net_wait_readable(int fd, int timeout_ms);
int net_wait_writable(int fd, int timeout_ms);
/* Like net_wait_readable, and also watch other (-1: nothing) for readability: 2 when other
 * is readable and fd is not. */
int net_wait_either(int fd, int other, int timeout_ms);

/* Monotonic time in milliseconds, for timeouts and RTTs. */
double net_now_ms(void);

/* Put fd in non-blocking mode; -1 with errno on failure. */
int net_set_nonblocking(int fd);

#endif
