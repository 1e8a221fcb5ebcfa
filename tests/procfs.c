/* procfs.c - read a process's costs from /proc. */
#include "procfs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long p_fd_count(pid_t pid)
{
    char path[64];
    struct dirent *e;
    long n = 0;
    DIR *d;

    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

long p_rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *fp;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(fp);
    return kb;
}

int p_wait_catches(pid_t pid, int sig, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        char path[64], line[256];
        unsigned long long mask = 0;
        FILE *fp;

        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        fp = fopen(path, "r");
        if (fp == NULL)
            return -1;
        while (fgets(line, sizeof line, fp))
            if (sscanf(line, "SigCgt: %llx", &mask) == 1)
                break;
        fclose(fp);
        if (mask & 1ULL << (sig - 1))
            return 0;
        p_sleep_ms(10);
    }
    return -1;
}

/* Fields of /proc/PID/stat after the command name: state is field 3, utime 14, stime 15. */
static int read_stat(pid_t pid, char *state, unsigned long *ticks)
{
    char path[64], buf[1024], *p;
    unsigned long utime, stime;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fp = fopen(path, "r");
    if (fp == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", state,
                            &utime, &stime) != 3)
        return -1;
    *ticks = utime + stime;
    return 0;
}

double p_cpu_ms(pid_t pid)
{
    unsigned long ticks;
    char state;

    if (read_stat(pid, &state, &ticks) < 0)
        return -1;
    return (double)ticks * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

int p_children(pid_t pid, pid_t *kids, int max)
{
    char path[96];
    int n = 0, kid;
    FILE *fp;

    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    while (n < max && fscanf(fp, "%d", &kid) == 1)
        kids[n++] = (pid_t)kid;
    fclose(fp);
    return n;
}

int p_running(pid_t pid)
{
    unsigned long ticks;
    char state;

    return read_stat(pid, &state, &ticks) == 0 && state != 'Z';
}

int p_zombies(pid_t pid)
{
    pid_t kids[4096];
    int n = p_children(pid, kids, 4096), z = 0;

    for (int i = 0; i < n; i++) {
        unsigned long ticks;
        char state;

        if (read_stat(kids[i], &state, &ticks) == 0 && state == 'Z')
            z++;
    }
    return z;
}

long p_rss_kb_tree(pid_t pid)
{
    pid_t kids[4096];
    int n = p_children(pid, kids, 4096);
    long sum = p_rss_kb(pid);

    for (int i = 0; i < n; i++) {
        long kb = p_rss_kb(kids[i]);

        sum += kb > 0 ? kb : 0;
    }
    return sum;
}

double p_cpu_ms_tree(pid_t pid)
{
    pid_t kids[4096];
    int n = p_children(pid, kids, 4096);
    double sum = p_cpu_ms(pid);

    for (int i = 0; i < n; i++) {
        double ms = p_cpu_ms(kids[i]);

        sum += ms > 0 ? ms : 0;
    }
    return sum;
}

void p_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}
