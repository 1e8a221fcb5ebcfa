/* model_thread.c - one thread per client: the main thread accepts, a thread serves.
 *
 * Each connection gets a thread that runs the blocking echo (as Stevens' tcpserv01 does with
 * pthread_create).
 *
 * Threads share one address space, so each keeps its own counters and adds them to the
 * server's under a lock when its client leaves. Signals go to the main thread only. A
 * worker waits in recv() and send() themselves, with no poll() before them (two system
 * calls per echo); on a stop the main thread shuts down every worker's connection, which
 * ends those calls. (With --tls a worker waits in poll(), on a pipe that only a stop writes
 * to, so SIGUSR1 never wakes it.) */
#define _GNU_SOURCE /* pipe2 */
#include "tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "counters.h"
#include "signals.h"
#include "sock.h"
#include "wait.h"

/* How long to back off when accept() or pthread_create() runs out of resources. */
#define BACKOFF_MS 100
/* A worker needs little stack: the receive buffer is on the heap. */
#define WORKER_STACK (256 * 1024)

struct thread_model {
    struct tcp_server *srv;
    pthread_mutex_t lock; /* guards active and srv->counters */
    pthread_cond_t left;  /* signalled each time a worker ends */
    unsigned active;
    int done[2];            /* a worker writes a byte here as it ends, waking the acceptor */
    struct worker *workers; /* every worker whose connection is open (under lock) */
};

/* What a new thread needs: its connection and its own view of the server. */
struct worker {
    struct thread_model *m;
    struct tcp_server srv;
    int fd;
    struct tcp_peer peer;
    struct worker *prev, *next; /* in m->workers while fd is open */
};

/* Link or unlink a worker in m->workers; the caller holds m->lock. */
static void link_worker(struct thread_model *m, struct worker *w)
{
    w->prev = NULL;
    w->next = m->workers;
    if (m->workers != NULL)
        m->workers->prev = w;
    m->workers = w;
}

static void unlink_worker(struct thread_model *m, struct worker *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        m->workers = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
}

/* A worker: serve one client to the end, hand in the counters, wake the acceptor. */
static void *serve_client(void *arg)
{
    struct worker *w = arg;
    struct thread_model *m = w->m;
    char *buf = malloc(w->srv.opt->recv_size);
    char byte = 1;

    net_signal_stops_only();
    if (buf != NULL)
        tcp_echo_blocking(&w->srv, w->fd, &w->peer, buf);
    /* unlinked before the close: a stop never shuts down a descriptor reused by then */
    pthread_mutex_lock(&m->lock);
    unlink_worker(m, w);
    pthread_mutex_unlock(&m->lock);
    sock_close(w->fd);
    net_out_peer("closed", (struct sockaddr *)&w->peer.addr, w->peer.len, NULL);
    free(buf);
    pthread_mutex_lock(&m->lock);
    net_counters_add(&m->srv->counters, &w->srv.counters);
    /* under the lock: once active reaches 0 the main thread may close the pipe */
    if (write(m->done[1], &byte, 1) < 0) {
        /* a full pipe already wakes the acceptor */
    }
    m->active--;
    pthread_cond_signal(&m->left);
    pthread_mutex_unlock(&m->lock);
    free(w);
    return NULL;
}

/* Start a detached worker for fd with every signal blocked, so signals reach only the
 * main thread; -1 with errno when no thread could be made. */
static int start_worker(struct thread_model *m, int fd, const struct tcp_peer *peer)
{
    struct worker *w = malloc(sizeof *w);
    sigset_t all, old;
    pthread_attr_t attr;
    pthread_t tid;
    int rc;

    if (w == NULL)
        return -1;
    *w = (struct worker){.m = m, .fd = fd, .peer = *peer};
    w->srv.opt = m->srv->opt;
    w->srv.tls = m->srv->tls; /* --tls: one SSL_CTX for every thread's sessions */
    w->srv.listen_fd = -1;
    w->srv.worker = true;
    w->srv.calls_wait = true;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_mutex_lock(&m->lock);
    rc = pthread_create(&tid, &attr, serve_client, w);
    if (rc == 0) {
        link_worker(m, w);
        m->active++;
        m->srv->counters.clients++;
    }
    pthread_mutex_unlock(&m->lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(w);
        errno = rc;
        return -1;
    }
    return 0;
}

static unsigned active_now(struct thread_model *m)
{
    unsigned n;

    pthread_mutex_lock(&m->lock);
    n = m->active;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static bool may_accept(struct thread_model *m)
{
    unsigned max = m->srv->opt->max_clients;

    return max == 0 || active_now(m) < max;
}

/* Wait for a connection to accept (when listening), a worker to end, or a signal. */
static void wait_main(struct thread_model *m, bool listening, int timeout_ms)
{
    enum { POLL_SIGNALS, POLL_DONE, POLL_LISTEN, POLL_SLOTS };
    struct pollfd p[POLL_SLOTS] = {
        [POLL_SIGNALS] = {.fd = net_signal_fd(), .events = POLLIN},
        [POLL_DONE] = {.fd = m->done[0], .events = POLLIN},
        [POLL_LISTEN] = {.fd = listening ? m->srv->listen_fd : -1, .events = POLLIN}};
    char drain[64];

    if (poll(p, POLL_SLOTS, timeout_ms) > 0 && p[POLL_DONE].revents)
        while (read(m->done[0], drain, sizeof drain) > 0) {
        }
}

/* Accept one client and give it a thread; false when nothing was accepted. */
static bool accept_one(struct thread_model *m)
{
    struct tcp_peer peer;
    int fd;

    /* a refusal (--allow) counts in srv->counters, which workers add to as they end */
    pthread_mutex_lock(&m->lock);
    fd = tcp_server_accept(m->srv, &peer);
    pthread_mutex_unlock(&m->lock);
    if (fd < 0) {
        /* out of descriptors: the client stays queued; back off instead of spinning */
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            wait_main(m, false, BACKOFF_MS);
        return false;
    }
    net_out_peer("accepted", (struct sockaddr *)&peer.addr, peer.len, NULL);
    if (start_worker(m, fd, &peer) < 0) {
        net_out_notice("shed", (struct sockaddr *)&peer.addr, peer.len,
                       "no thread could be started");
        sock_close(fd);
        wait_main(m, false, BACKOFF_MS);
        return false;
    }
    return true;
}

/* A stop: shut down every worker's connection, which ends the recv() or send() it waits in
 * (shutdown() wakes a call in another thread; a signal could come just before the call). */
static void wake_workers(struct thread_model *m)
{
    pthread_mutex_lock(&m->lock);
    for (struct worker *w = m->workers; w != NULL; w = w->next)
        shutdown(w->fd, SHUT_RDWR);
    pthread_mutex_unlock(&m->lock);
}

/* Wait until every worker has ended. */
static void join_all(struct thread_model *m)
{
    pthread_mutex_lock(&m->lock);
    while (m->active > 0)
        pthread_cond_wait(&m->left, &m->lock);
    pthread_mutex_unlock(&m->lock);
}

int tcp_model_thread(struct tcp_server *srv, struct net_error *err)
{
    struct thread_model m = {.srv = srv};
    int rc = 0;

    /* the pipe workers wake the acceptor through */
    if (pipe2(m.done, O_NONBLOCK | O_CLOEXEC) < 0)
        return net_err_errno(err, errno, "cannot set up the thread model");
    if (net_signal_share_stops() < 0 || sock_nonblocking(srv->listen_fd) < 0) {
        rc = net_err_errno(err, errno, "cannot set up the thread model");
        goto out_close;
    }
    pthread_mutex_init(&m.lock, NULL);
    pthread_cond_init(&m.left, NULL);
    while (!tcp_server_signalled(srv)) {
        bool room = may_accept(&m);

        wait_main(&m, room, -1);
        if (room && !net_signal_stopping() && accept_one(&m) && srv->opt->once)
            break;
    }
    /* --once: the one client is served to its end, unless a stop comes first */
    while (active_now(&m) > 0 && !tcp_server_signalled(srv))
        wait_main(&m, false, -1);
    if (net_signal_stopping())
        wake_workers(&m);
    join_all(&m);
    pthread_cond_destroy(&m.left);
    pthread_mutex_destroy(&m.lock);
out_close:
    close(m.done[0]);
    close(m.done[1]);
    return rc;
}
