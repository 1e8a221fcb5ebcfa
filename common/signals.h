/* signals.h - signals as events every loop can wait for.
 *
 * SIGINT, SIGTERM and SIGHUP ask a program to stop, SIGUSR1 asks for its counters. The
 * handlers only set a flag and write a byte to a pipe (the self-pipe trick), so a loop
 * waiting in poll() or epoll_wait() on that pipe wakes up at once and without a race. */
#ifndef SOCKLAB_SIGNALS_H
#define SOCKLAB_SIGNALS_H

#include <stdbool.h>

/* Install the handlers and ignore SIGPIPE; -1 with errno on failure. */
int net_signal_install(void);
/* The read end of the self-pipe, to add to a poll or epoll set (in a thread that hears of
 * stops only, the pipe only a stop writes to). */
int net_signal_fd(void);
/* True once SIGINT, SIGTERM or SIGHUP has arrived. */
bool net_signal_stopping(void);
/* True when a signal this thread answers has arrived and not been taken yet. */
bool net_signal_pending(void);
/* True (once) when SIGUSR1 arrived since the last call; drains the pipe. */
bool net_signal_take_usr1(void);

/* Also wake the waiters when a child process ends (SIGCHLD), for a server that forks. */
int net_signal_watch_children(void);
/* True (once) when a child ended since the last call; drains the pipe. */
bool net_signal_take_child(void);
/* In a child just forked: a self-pipe of its own, so parent and child wake separately. */
int net_signal_after_fork(void);
/* A stop also shuts down socket fd (both ways), from the handler itself: a recv() or send()
 * waiting on it returns at once, however close to the call the signal came, where EINTR alone
 * could be lost between a check and the call. -1: none. */
void net_signal_shutdown_on_stop(int fd);

/* For a program whose other threads wait as well (the thread model): call once, before
 * starting them, to open a pipe that only a stop writes to. */
int net_signal_share_stops(void);
/* In such a thread (with every signal blocked): its waits wake for a stop only, so SIGUSR1,
 * which the main thread answers, does not wake it at all. */
void net_signal_stops_only(void);

#endif
