/* model_poll.c - one thread, one poll() array, every connection (plain POSIX).
 *
 * The same event loop as the epoll model, with the portable call: poll() is handed the whole
 * array on every wake-up, so its cost grows with the number of connections, where epoll's
 * grows with the number that are ready. Connections share one receive buffer; a connection
 * with pending output is watched for POLLOUT only, so a client that never reads is
 * throttled by its own window. */
#include "tcp.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "signals.h"
#include "sock.h"
#include "wait.h"

/* a wake drains the listen queue: as many as it can hold (common/open.c asks for SOMAXCONN) */
#define ACCEPTS_PER_WAKE SOMAXCONN
/* fds[0] is the signal pipe, fds[1] the listening socket, the rest are clients. */
#define FIRST_CONN 2

struct poll_model {
    struct tcp_server *srv;
    char *buf; /* the one receive buffer every connection shares */
    struct pollfd *fds;
    struct tcp_conn **conns; /* conns[i] is the connection of fds[i] */
    size_t n, cap;
    unsigned long long accepted;
    int reserve_fd; /* for tcp_server_shed when descriptors run out */
};

static bool may_accept(const struct poll_model *m)
{
    const struct net_options *opt = m->srv->opt;

    if (opt->once && m->accepted >= 1)
        return false;
    if (tcp_server_resting(m->srv) > 0)
        return false;
    return opt->max_clients == 0 || m->n - FIRST_CONN < opt->max_clients;
}

static bool grow(struct poll_model *m)
{
    size_t cap = m->cap * 2;
    struct pollfd *fds = realloc(m->fds, cap * sizeof *fds);
    struct tcp_conn **conns;

    if (fds == NULL)
        return false;
    m->fds = fds;
    conns = realloc(m->conns, cap * sizeof *conns);
    if (conns == NULL)
        return false;
    m->conns = conns;
    m->cap = cap;
    return true;
}

static short events_for(const struct tcp_conn *c)
{
    return tcp_conn_wants_write(c) ? POLLOUT : POLLIN;
}

/* Close slot i; the last slot moves into its place. */
static void drop_conn(struct poll_model *m, size_t i)
{
    net_out_peer("closed", (const struct sockaddr *)&m->conns[i]->peer.addr, m->conns[i]->peer.len,
                 NULL);
    tcp_conn_close(m->conns[i]);
    free(m->conns[i]);
    m->n--;
    m->fds[i] = m->fds[m->n];
    m->conns[i] = m->conns[m->n];
}

static void add_conn(struct poll_model *m, int fd, const struct tcp_peer *peer)
{
    struct tcp_conn *c = malloc(sizeof *c);

    if (c == NULL || (m->n == m->cap && !grow(m))) {
        free(c);
        sock_close(fd);
        return;
    }
    m->srv->counters.clients++;
    m->accepted++;
    net_out_peer("accepted", (const struct sockaddr *)&peer->addr, peer->len, NULL);
    if (tcp_conn_open(m->srv, c, fd, peer) == TCP_CLOSE) {
        tcp_conn_close(c);
        free(c);
        return;
    }
    m->conns[m->n] = c;
    m->fds[m->n] = (struct pollfd){.fd = fd, .events = events_for(c)};
    m->n++;
}

static void accept_ready(struct poll_model *m)
{
    for (int i = 0; i < ACCEPTS_PER_WAKE && may_accept(m); i++) {
        struct tcp_peer peer;
        int fd = tcp_server_take(m->srv, &peer, &m->reserve_fd);

        if (fd < 0)
            break;
        add_conn(m, fd, &peer);
    }
}

/* One readiness event on slot i: read and echo, or flush what is pending. False when the
 * connection was closed (and slot i now holds another one). */
static bool conn_ready(struct poll_model *m, size_t i)
{
    struct tcp_conn *c = m->conns[i];
    short revents = m->fds[i].revents;
    enum tcp_step step = TCP_KEEP;

    if (!tcp_conn_wants_write(c) && (revents & (POLLIN | POLLHUP | POLLERR)))
        step = tcp_conn_readable(m->srv, c, m->buf);
    else if (tcp_conn_wants_write(c) && (revents & (POLLOUT | POLLHUP | POLLERR)))
        step = tcp_conn_writable(m->srv, c);
    if (step == TCP_CLOSE) {
        drop_conn(m, i);
        return false;
    }
    m->fds[i].events = events_for(c);
    return true;
}

/* Close connections idle for --idle-timeout; returns ms until the next one is due, or -1
 * when there is none to wait for. */
static int expire_idle(struct poll_model *m)
{
    int next = -1;

    for (size_t i = FIRST_CONN; i < m->n;) {
        int left = tcp_idle_left(m->srv, &m->conns[i]->idle);

        if (left < 0)
            return -1; /* no --idle-timeout */
        if (left == 0) {
            tcp_idle_notice(&m->conns[i]->peer, &m->conns[i]->idle);
            drop_conn(m, i);
            continue;
        }
        if (next < 0 || left < next)
            next = left;
        i++;
    }
    return next;
}

static bool finished(const struct poll_model *m)
{
    return m->srv->opt->once && m->accepted >= 1 && m->n == FIRST_CONN;
}

/* One pass over the array after poll() returned. */
static void dispatch(struct poll_model *m)
{
    /* connections first, as accept_ready appends to the array; when a connection closes,
     * the last slot moves into its place with its own revents, so slot i is looked at again */
    for (size_t i = FIRST_CONN; i < m->n;)
        if (m->fds[i].revents == 0 || conn_ready(m, i))
            i++;
    if (m->fds[1].revents)
        accept_ready(m);
}

static int setup(struct poll_model *m, struct net_error *err)
{
    m->cap = 64;
    m->buf = malloc(m->srv->opt->recv_size);
    m->fds = malloc(m->cap * sizeof *m->fds);
    m->conns = malloc(m->cap * sizeof *m->conns);
    if (m->buf == NULL || m->fds == NULL || m->conns == NULL)
        return net_err_errno(err, ENOMEM, "cannot set up the poll model");
    if (sock_nonblocking(m->srv->listen_fd) < 0)
        return net_err_errno(err, errno, "cannot set up the poll model");
    m->fds[0] = (struct pollfd){.fd = net_signal_fd(), .events = POLLIN};
    m->fds[1] = (struct pollfd){.fd = m->srv->listen_fd, .events = POLLIN};
    m->n = FIRST_CONN;
    m->reserve_fd = tcp_server_reserve();
    return 0;
}

int tcp_model_poll(struct tcp_server *srv, struct net_error *err)
{
    struct poll_model m = {.srv = srv, .reserve_fd = -1};
    int rc = setup(&m, err);

    while (rc == 0 && !finished(&m)) {
        int timeout = tcp_server_timeout(srv, expire_idle(&m));
        int n;

        /* a negative descriptor is skipped: that is how poll() stops accepting */
        m.fds[1].fd = may_accept(&m) ? srv->listen_fd : -1;
        n = poll(m.fds, m.n, timeout);
        if (n < 0 && errno != EINTR) {
            rc = net_err_errno(err, errno, "poll failed");
            break;
        }
        if (n > 0)
            dispatch(&m);
        if (tcp_server_signalled(srv))
            break;
    }
    while (m.n > FIRST_CONN)
        drop_conn(&m, FIRST_CONN);
    if (m.reserve_fd >= 0)
        close(m.reserve_fd);
    free(m.conns);
    free(m.fds);
    free(m.buf);
    return rc;
}
