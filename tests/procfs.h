/* procfs.h - what a server process costs, read from /proc: descriptors, memory, CPU,
 * children. Linux only, like the tests that use it. */
#ifndef SOCKLAB_PROCFS_H
#define SOCKLAB_PROCFS_H

#include <sys/types.h>

/* Open descriptors of pid (entries in /proc/PID/fd); -1 when unreadable. */
long p_fd_count(pid_t pid);
/* Resident memory of pid in KiB (VmRSS); -1 when unreadable. */
long p_rss_kb(pid_t pid);
/* CPU time pid has used (user + system) in milliseconds; -1 when unreadable. */
double p_cpu_ms(pid_t pid);
/* Up to max children of pid into kids; returns how many. */
int p_children(pid_t pid, pid_t *kids, int max);
/* 1 while pid runs: it exists and has not ended (a zombie has, though its parent has not
 * reaped it yet, and kill(pid, 0) still finds it); 0 otherwise. */
int p_running(pid_t pid);
/* Children of pid that are zombies (state Z). */
int p_zombies(pid_t pid);
/* The same sums over pid and its children (the fork model's processes). */
long p_rss_kb_tree(pid_t pid);
double p_cpu_ms_tree(pid_t pid);
/* Wait up to timeout_ms until pid catches signal sig (its handler is in place, per SigCgt in
 * /proc/PID/status): a signal sent earlier would meet the default action. 0, or -1. */
int p_wait_catches(pid_t pid, int sig, int timeout_ms);
/* Sleep ms milliseconds. */
void p_sleep_ms(int ms);

#endif
