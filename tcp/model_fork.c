/* model_fork.c - one process per client, as the classic Unix servers do.
 *
 * As Stevens' tcpserv01: the parent accepts, a child serves the connection and exits.
 *
 * After fork() both processes hold the connection and the listening socket; each closes the
 * one it does not own, or the connection would never see a FIN. The parent reaps every child
 * when SIGCHLD wakes it, so none lingers as a zombie. Processes share no memory, so each
 * child hands its counters to the parent through a pipe as it exits, and dies with the
 * parent however the parent dies. */
#define _GNU_SOURCE /* pipe2 */
#include "tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "counters.h"
#include "signals.h"
#include "sock.h"
#include "wait.h"

/* How long to back off when accept() or fork() runs out of resources. */
#define BACKOFF_MS 100
/* How long children get to finish after a stop, before they are killed. */
#define STOP_GRACE_MS 3000

struct fork_model {
    struct tcp_server *srv;
    pid_t *kids; /* children still running, so a stop can be passed on to them */
    unsigned nkids, cap;
    int tally[2]; /* each child writes its counters here as it ends */
};

static bool track(struct fork_model *m, pid_t pid)
{
    if (m->nkids == m->cap) {
        unsigned cap = m->cap ? m->cap * 2 : 64;
        pid_t *kids = realloc(m->kids, cap * sizeof *kids);

        if (kids == NULL)
            return false;
        m->kids = kids;
        m->cap = cap;
    }
    m->kids[m->nkids++] = pid;
    return true;
}

static void forget(struct fork_model *m, pid_t pid)
{
    for (unsigned i = 0; i < m->nkids; i++)
        if (m->kids[i] == pid) {
            m->kids[i] = m->kids[--m->nkids];
            return;
        }
}

/* Add up the counters the children have handed in. Each record is one write() smaller
 * than PIPE_BUF, so records never interleave. */
static void collect_tallies(struct fork_model *m)
{
    struct net_counters c;

    while (read(m->tally[0], &c, sizeof c) == (ssize_t)sizeof c)
        net_counters_add(&m->srv->counters, &c);
}

/* Collect every child that has ended, without blocking, and what it counted. */
static void reap(struct fork_model *m)
{
    pid_t pid;

    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
        forget(m, pid);
    collect_tallies(m);
}

/* Ask for SIGTERM when the parent dies, however it dies (even SIGKILL), so no child goes on
 * serving with nobody to stop it; a parent that died before the request was made is seen
 * in getppid(). */
static void die_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
        _exit(1);
}

/* The child's whole life: its own signal pipe, only its own descriptors, one client. */
static void serve_in_child(struct fork_model *m, int fd, const struct tcp_peer *peer, pid_t parent)
{
    struct tcp_server *srv = m->srv;
    char *buf;
    int status = 1;

    die_with_parent(parent);
    buf = malloc(srv->opt->recv_size);
    tcp_server_close(srv); /* the listening socket, and the one holding [::1] */
    close(m->tally[0]);
    srv->counters = (struct net_counters){0};
    srv->calls_wait = true;
    if (net_signal_after_fork() == 0 && buf != NULL) {
        /* the parent passes a stop on with SIGTERM: it wakes the waiting call too */
        net_signal_shutdown_on_stop(fd);
        tcp_echo_blocking(srv, fd, peer, buf);
        net_signal_shutdown_on_stop(-1);
        sock_close(fd);
        net_out_peer("closed", (const struct sockaddr *)&peer->addr, peer->len, NULL);
        status = 0;
    } else {
        sock_close(fd);
    }
    /* hand in the counters; if the parent's pipe is full they are lost, never waited on */
    if (write(m->tally[1], &srv->counters, sizeof srv->counters) < 0)
        status = 1;
    free(buf);
    fflush(stdout);
    _exit(status);
}

/* Wait for a connection (when listening), a child's end, or a signal. */
static void wait_parent(struct fork_model *m, bool listening, int timeout_ms)
{
    enum { POLL_SIGNALS, POLL_LISTEN, POLL_SLOTS };
    struct pollfd p[POLL_SLOTS] = {
        [POLL_SIGNALS] = {.fd = net_signal_fd(), .events = POLLIN},
        [POLL_LISTEN] = {.fd = listening ? m->srv->listen_fd : -1, .events = POLLIN}};

    poll(p, POLL_SLOTS, timeout_ms);
    if (net_signal_take_child())
        reap(m);
}

/* Accept one client and fork a child for it; false when nobody was served. */
static bool accept_one(struct fork_model *m)
{
    struct tcp_peer peer;
    int fd = tcp_server_accept(m->srv, &peer);
    pid_t parent, pid;

    if (fd < 0) {
        /* out of descriptors: the client stays queued; back off instead of spinning */
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            wait_parent(m, false, BACKOFF_MS);
        return false;
    }
    net_out_peer("accepted", (struct sockaddr *)&peer.addr, peer.len, NULL);
    fflush(stdout); /* nothing buffered may be written twice, once by each process */
    parent = getpid();
    pid = fork();
    if (pid == 0)
        serve_in_child(m, fd, &peer, parent);
    /* the parent does not own the connection: only the child's close may end it */
    sock_close(fd);
    if (pid < 0 || !track(m, pid)) {
        net_out_notice("shed", (struct sockaddr *)&peer.addr, peer.len,
                       "no process could be started");
        wait_parent(m, false, BACKOFF_MS);
        return false;
    }
    m->srv->counters.clients++;
    return true;
}

/* Pass a stop on to every child, wait for them to close their clients, then reap them. */
static void stop_children(struct fork_model *m)
{
    double deadline = net_now_ms() + STOP_GRACE_MS;

    for (unsigned i = 0; i < m->nkids; i++)
        kill(m->kids[i], SIGTERM);
    while (m->nkids > 0 && net_now_ms() < deadline) {
        poll(NULL, 0, 10);
        reap(m);
    }
    for (unsigned i = 0; i < m->nkids; i++)
        kill(m->kids[i], SIGKILL);
    while (m->nkids > 0 && waitpid(m->kids[m->nkids - 1], NULL, 0) >= 0)
        m->nkids--;
}

int tcp_model_fork(struct tcp_server *srv, struct net_error *err)
{
    struct fork_model m = {.srv = srv};
    int rc = 0;

    if (pipe2(m.tally, O_NONBLOCK | O_CLOEXEC) < 0)
        return net_err_errno(err, errno, "cannot set up the fork model");
    if (net_signal_watch_children() < 0 || sock_nonblocking(srv->listen_fd) < 0) {
        rc = net_err_errno(err, errno, "cannot set up the fork model");
        goto out_close;
    }
    while (!tcp_server_signalled(srv)) {
        unsigned max = srv->opt->max_clients;
        bool room = max == 0 || m.nkids < max;

        wait_parent(&m, room, -1);
        if (room && !net_signal_stopping() && accept_one(&m) && srv->opt->once)
            break;
    }
    /* --once: let the one child finish, unless a stop comes first */
    while (m.nkids > 0 && !tcp_server_signalled(srv))
        wait_parent(&m, false, -1);
    stop_children(&m);
    collect_tallies(&m);
    free(m.kids);
out_close:
    close(m.tally[0]);
    close(m.tally[1]);
    return rc;
}
