/* model_epoll.c - one thread, one epoll set, every connection (Linux). The default model.
 *
 * epoll is level-triggered here: a socket stays "ready" while it has data, so a single recv
 * per wake-up can never strand bytes (the classic edge-triggered stall). A connection reads
 * into the one shared buffer; only when the kernel will not take a whole echo does it get
 * pending output, and while it has any it is watched for writing only: a client that sends
 * but never reads is throttled by its own full window, never buffered without end. */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "signals.h"
#include "sock.h"
#include "wait.h"

#define MAX_EVENTS 128
/* a wake drains the listen queue: as many as it can hold (common/open.c asks for SOMAXCONN) */
#define ACCEPTS_PER_WAKE SOMAXCONN

struct epoll_model {
    struct tcp_server *srv;
    int ep;
    char *buf;              /* the one receive buffer every connection shares */
    struct tcp_conns conns; /* by idle.since, for --idle-timeout */
    unsigned nconns;
    unsigned long long accepted;
    bool accepting;
    int reserve_fd; /* held back so accept() can still shed a client when descriptors run out */
};

/* Markers for the two descriptors that are not connections. */
static char listen_mark, signal_mark;

static int watch(struct epoll_model *m, int op, int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};

    return epoll_ctl(m->ep, op, fd, &ev);
}

/* Stop or resume taking new connections (for --max-clients, --once and a rest when
 * descriptors ran out); -1 with errno when the set could not be changed. */
static int set_accepting(struct epoll_model *m, bool on)
{
    int op = on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL;

    if (m->accepting == on)
        return 0;
    if (watch(m, op, m->srv->listen_fd, EPOLLIN, &listen_mark) < 0)
        return -1;
    m->accepting = on;
    return 0;
}

static bool may_accept(const struct epoll_model *m)
{
    const struct net_options *opt = m->srv->opt;

    if (opt->once && m->accepted >= 1)
        return false;
    if (tcp_server_resting(m->srv) > 0)
        return false;
    return opt->max_clients == 0 || m->nconns < opt->max_clients;
}

static void drop_conn(struct epoll_model *m, struct tcp_conn *c)
{
    net_out_peer("closed", (const struct sockaddr *)&c->peer.addr, c->peer.len, NULL);
    tcp_conns_remove(&m->conns, c);
    tcp_conn_close(c);
    free(c);
    m->nconns--;
}

static void add_conn(struct epoll_model *m, int fd, const struct tcp_peer *peer)
{
    struct tcp_conn *c = malloc(sizeof *c);

    if (c == NULL) {
        sock_close(fd);
        return;
    }
    m->srv->counters.clients++;
    m->accepted++;
    m->nconns++;
    net_out_peer("accepted", (const struct sockaddr *)&peer->addr, peer->len, NULL);
    if (tcp_conn_open(m->srv, c, fd, peer) == TCP_CLOSE ||
        watch(m, EPOLL_CTL_ADD, fd, tcp_conn_wants_write(c) ? EPOLLOUT : EPOLLIN, c) < 0) {
        tcp_conn_close(c);
        free(c);
        m->nconns--;
        return;
    }
    tcp_conns_append(&m->conns, c);
}

static void accept_ready(struct epoll_model *m)
{
    for (int i = 0; i < ACCEPTS_PER_WAKE && may_accept(m); i++) {
        struct tcp_peer peer;
        int fd = tcp_server_take(m->srv, &peer, &m->reserve_fd);

        if (fd < 0)
            break;
        add_conn(m, fd, &peer);
    }
}

/* One readiness event on a connection: read and echo, or flush what is pending. */
static void conn_ready(struct epoll_model *m, struct tcp_conn *c, uint32_t events)
{
    bool was_pending = tcp_conn_wants_write(c);
    double since = c->idle.since;
    enum tcp_step step = TCP_KEEP;

    if (!was_pending && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        step = tcp_conn_readable(m->srv, c, m->buf);
    else if (was_pending && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
        step = tcp_conn_writable(m->srv, c);
    if (step == TCP_CLOSE) {
        drop_conn(m, c);
        return;
    }
    /* with output pending, watch for room to send; without, for input: if the set cannot
     * be changed the connection would be woken for the wrong thing for ever, so it goes */
    if (tcp_conn_wants_write(c) != was_pending &&
        watch(m, EPOLL_CTL_MOD, c->fd, tcp_conn_wants_write(c) ? EPOLLOUT : EPOLLIN, c) < 0) {
        m->srv->counters.errors++;
        drop_conn(m, c);
        return;
    }
    tcp_conns_touched(&m->conns, c, since);
}

/* Close connections idle for --idle-timeout, oldest first; returns ms until the next one
 * is due, or -1 when there is none to wait for. */
static int expire_idle(struct epoll_model *m)
{
    while (m->conns.oldest && tcp_idle_left(m->srv, &m->conns.oldest->idle) == 0) {
        tcp_idle_notice(&m->conns.oldest->peer, &m->conns.oldest->idle);
        drop_conn(m, m->conns.oldest);
    }
    return m->conns.oldest ? tcp_idle_left(m->srv, &m->conns.oldest->idle) : -1;
}

static void close_all(struct epoll_model *m)
{
    while (m->conns.oldest)
        drop_conn(m, m->conns.oldest);
}

static bool finished(const struct epoll_model *m)
{
    return m->srv->opt->once && m->accepted >= 1 && m->nconns == 0;
}

int tcp_model_epoll(struct tcp_server *srv, struct net_error *err)
{
    struct epoll_model m = {.srv = srv, .reserve_fd = -1};
    struct epoll_event events[MAX_EVENTS];
    int rc = 0;

    m.buf = malloc(srv->opt->recv_size);
    m.ep = epoll_create1(EPOLL_CLOEXEC);
    if (m.buf == NULL || m.ep < 0) {
        rc = net_err_errno(err, m.buf ? errno : ENOMEM, "cannot set up the epoll model");
        goto out;
    }
    m.reserve_fd = tcp_server_reserve();
    if (sock_nonblocking(srv->listen_fd) < 0 ||
        watch(&m, EPOLL_CTL_ADD, net_signal_fd(), EPOLLIN, &signal_mark) < 0) {
        rc = net_err_errno(err, errno, "cannot set up the epoll model");
        goto out;
    }

    while (!finished(&m)) {
        int timeout = tcp_server_timeout(srv, expire_idle(&m));
        int n;

        if (set_accepting(&m, may_accept(&m)) < 0) {
            rc = net_err_errno(err, errno, "cannot watch the listening socket");
            break;
        }
        n = epoll_wait(m.ep, events, MAX_EVENTS, timeout);

        if (n < 0 && errno == EINTR)
            n = 0;
        if (n < 0) {
            rc = net_err_errno(err, errno, "epoll_wait failed");
            break;
        }
        for (int i = 0; i < n; i++) {
            void *ptr = events[i].data.ptr;

            if (ptr == &listen_mark)
                accept_ready(&m);
            else if (ptr != &signal_mark)
                conn_ready(&m, ptr, events[i].events);
        }
        if (tcp_server_signalled(srv))
            break;
    }
    close_all(&m);
out:
    if (m.reserve_fd >= 0)
        close(m.reserve_fd);
    if (m.ep >= 0)
        close(m.ep);
    free(m.buf);
    return rc;
}
