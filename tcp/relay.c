/* relay.c - tcp-echo relay: the middle tier of three, between clients and a server.
 *
 * Twin of udp/relay.c.
 * TCP relays by ending each connection and opening another: every client the relay accepts
 * gets a connection of its own to the upstream (--to), and the two are one pair, opened and
 * closed together. Bytes go each way as they come, in the order they came; a half-close (FIN)
 * is passed on once what came before it is, and a reset is passed on as a reset.
 *
 * One thread, one epoll set, as the epoll server model. Backpressure runs end to end: the
 * relay reads from one side only while the other has taken everything read before, so a slow
 * upstream fills the relay's receive window with the client, then the client's send buffer,
 * and the client waits; the relay never holds more than one read (--recv-size) per direction,
 * and only while the far side is not taking it. */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "allow.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"
#include "upstream.h"

#define MAX_EVENTS 128
#define ACCEPTS_PER_WAKE 64

struct relay_pair;

/* One end of a pair: the client's connection or the upstream's. */
struct relay_side {
    int fd;
    struct relay_pair *pair;
    bool eof;       /* this side sent its FIN: nothing more will come from it */
    bool shut;      /* the other side's FIN has been passed on to this one (shutdown) */
    uint32_t watch; /* what the epoll set watches fd for; 0: not in the set */
    char *pending;  /* read from the other side, not yet taken by this one, or NULL */
    size_t pending_len, pending_off;
};

/* A client and the relay's connection to the upstream on its behalf. */
struct relay_pair {
    struct relay_side client, up;
    struct tcp_peer peer; /* the client's address, for -v */
    bool connecting;      /* the upstream's handshake has not finished */
    bool refusing;        /* the upstream could not be reached: the client is being closed */
    struct tcp_idle idle; /* for --idle-timeout: bytes either way keep a pair alive */
    struct relay_pair *prev, *next; /* earliest idle.since first */
};

struct relay {
    struct tcp_server *srv;
    struct net_upstream_addr to;
    int ep;
    char *buf; /* the one receive buffer every pair shares */
    struct relay_pair *oldest, *newest;
    unsigned npairs;
    unsigned long long accepted;
    bool accepting;
    int reserve_fd;
};

static char listen_mark, signal_mark;

static struct relay_side *other(struct relay_side *s)
{
    return s == &s->pair->client ? &s->pair->up : &s->pair->client;
}

static bool is_client(const struct relay_side *s)
{
    return s == &s->pair->client;
}

static void lru_unlink(struct relay *r, struct relay_pair *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        r->oldest = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        r->newest = p->prev;
    p->prev = p->next = NULL;
}

static void lru_append(struct relay *r, struct relay_pair *p)
{
    p->prev = r->newest;
    p->next = NULL;
    if (r->newest)
        r->newest->next = p;
    else
        r->oldest = p;
    r->newest = p;
}

/* What side s waits for now: room to send what it has pending (or, upstream, the end of its
 * handshake); more to read, while the far side has taken all it was given. */
static uint32_t wanted(const struct relay_side *s)
{
    const struct relay_pair *p = s->pair;
    const struct relay_side *far = s == &p->client ? &p->up : &p->client;
    uint32_t ev = 0;

    if (s->fd < 0)
        return 0;
    if (p->connecting)
        return s == &p->up ? EPOLLOUT : 0;
    if (s->pending != NULL)
        ev |= EPOLLOUT;
    if (!s->eof && (far->pending == NULL || p->refusing))
        ev |= EPOLLIN;
    return ev;
}

/* Bring the epoll set in line with what s waits for. A side that waits for nothing leaves
 * the set: a socket whose peer has closed would otherwise report its hang-up for ever. */
static int rewatch(struct relay *r, struct relay_side *s)
{
    uint32_t ev = wanted(s);
    struct epoll_event e = {.events = ev, .data.ptr = s};
    int op = s->watch == 0 ? EPOLL_CTL_ADD : ev == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

    if (ev == s->watch)
        return 0;
    if (epoll_ctl(r->ep, op, s->fd, &e) < 0)
        return -1;
    s->watch = ev;
    return 0;
}

static void side_close(struct relay_side *s, bool reset)
{
    if (s->fd >= 0) {
        if (reset)
            sock_linger(s->fd, 0);
        sock_close(s->fd); /* closing leaves the epoll set too */
    }
    s->fd = -1;
    s->watch = 0;
    free(s->pending);
    s->pending = NULL;
}

/* End a pair; reset passes an abort on as one (RST), instead of a FIN. */
static void drop_pair(struct relay *r, struct relay_pair *p, bool reset)
{
    net_out_peer("closed", (const struct sockaddr *)&p->peer.addr, p->peer.len, NULL);
    lru_unlink(r, p);
    side_close(&p->client, reset);
    side_close(&p->up, reset);
    free(p);
    r->npairs--;
}

/* What happened to a client's pair, and what the relay does about it: said even without -v
 * (at most a few lines a second), as a server's refusals are. */
static void pair_notice(const struct relay_pair *p, const char *event, const char *detail)
{
    net_out_notice(event, (const struct sockaddr *)&p->peer.addr, p->peer.len, detail);
}

static void count_in(struct relay *r, const struct relay_side *from, size_t n)
{
    struct net_counters *c = &r->srv->counters;

    if (is_client(from)) {
        c->msgs_in++;
        c->bytes_in += n;
    } else {
        c->up.msgs_in++;
        c->up.bytes_in += n;
    }
}

static void count_out(struct relay *r, const struct relay_side *to, size_t n)
{
    struct net_counters *c = &r->srv->counters;

    if (is_client(to)) {
        c->msgs_out++;
        c->bytes_out += n;
    } else {
        c->up.msgs_out++;
        c->up.bytes_out += n;
    }
}

/* The far side has said all it will (FIN) and to has taken all of it: pass the FIN on. */
static void pass_fin(struct relay_side *to)
{
    if (other(to)->eof && to->pending == NULL && !to->shut && to->fd >= 0) {
        sock_shutdown(to->fd, SHUT_WR);
        to->shut = true;
    }
}

/* Give to as much of buf as it takes now and keep the rest; -1 when to has failed. */
static int pass(struct relay *r, struct relay_side *to, const char *buf, size_t len)
{
    ssize_t n = sock_send(to->fd, buf, len);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        n = 0;
    if (n < 0)
        return -1;
    if (n > 0)
        count_out(r, to, (size_t)n);
    if ((size_t)n == len)
        return 0;
    to->pending = malloc(len - (size_t)n);
    if (to->pending == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(to->pending, buf + n, len - (size_t)n);
    to->pending_len = len - (size_t)n;
    to->pending_off = 0;
    return 0;
}

/* Send what to has pending; -1 when to has failed. */
static int flush(struct relay *r, struct relay_side *to)
{
    ssize_t n = sock_send(to->fd, to->pending + to->pending_off, to->pending_len - to->pending_off);

    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    count_out(r, to, (size_t)n);
    tcp_idle_heard(r->srv, &to->pair->idle, (size_t)n);
    to->pending_off += (size_t)n;
    if (to->pending_off == to->pending_len) {
        free(to->pending);
        to->pending = NULL;
        pass_fin(to);
    }
    return 0;
}

/* Read once from from and pass it on; -1 when a side has failed (*failed says which). */
static int forward(struct relay *r, struct relay_side *from, struct relay_side **failed)
{
    struct relay_pair *p = from->pair;
    ssize_t n = sock_recv(from->fd, r->buf, r->srv->opt->recv_size);

    *failed = from;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    if (n == 0) {
        from->eof = true;
        pass_fin(other(from));
        return 0;
    }
    count_in(r, from, (size_t)n);
    tcp_idle_heard(r->srv, &p->idle, (size_t)n);
    if (p->refusing)
        return 0; /* no upstream to give it to: read and dropped, so the close is clean */
    *failed = other(from);
    return pass(r, other(from), r->buf, (size_t)n);
}

/* The upstream could not be reached: the client hears a FIN, and what it sent in the
 * meantime is read and dropped until it closes too (closing with its bytes unread would
 * reset the connection instead). */
static void refuse(struct relay *r, struct relay_pair *p, int code)
{
    char detail[NET_ADDRSTRLEN + 96];

    r->srv->counters.up.failed++;
    snprintf(detail, sizeof detail, "cannot connect to %s: %s (%s); closing the client", r->to.text,
             strerror(code), net_err_name(code));
    pair_notice(p, "upstream", detail);
    side_close(&p->up, false);
    p->connecting = false;
    p->refusing = true;
    p->up.eof = true;
    pass_fin(&p->client);
}

/* -v: the upstream connection made for a client, and the relay's address on it (its port is
 * how a capture of the upstream's side tells one client's connection from another's). */
static void upstream_notice(const struct relay *r, const struct relay_pair *p)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    char from[NET_ADDRSTRLEN], detail[2 * NET_ADDRSTRLEN + 24];

    if (net_out_verbose() < 1)
        return;
    if (getsockname(p->up.fd, (struct sockaddr *)&local, &len) < 0)
        return;
    snprintf(detail, sizeof detail, "connected to %s from %s", r->to.text,
             net_addr_format((const struct sockaddr *)&local, len, from, sizeof from));
    net_out_peer("upstream", (const struct sockaddr *)&p->peer.addr, p->peer.len, detail);
}

/* The upstream's handshake has ended, one way or the other. */
static void connected(struct relay *r, struct relay_pair *p)
{
    int code = sock_pending_error(p->up.fd);

    if (code != 0) {
        refuse(r, p, code);
        return;
    }
    p->connecting = false;
    r->srv->counters.up.opened++;
    upstream_notice(r, p);
}

/* Open the upstream connection of a new pair; its handshake ends in connected(). */
static void connect_upstream(struct relay *r, struct relay_pair *p)
{
    const struct sockaddr *to = (const struct sockaddr *)&r->to.addr;
    int fd = sock_socket(to->sa_family, SOCK_STREAM);

    if (fd < 0) {
        refuse(r, p, errno);
        return;
    }
    p->up.fd = fd;
    if (sock_nonblocking(fd) < 0 ||
        net_sockopt_apply(fd, to->sa_family, SOCK_STREAM, NET_SO_CLIENT, &r->srv->opt->so, NULL) <
            0 ||
        (!r->srv->opt->nagle && sock_nodelay(fd) < 0)) {
        refuse(r, p, errno);
        return;
    }
    if (sock_connect(fd, to, r->to.len) == 0)
        connected(r, p);
    else if (errno == EINPROGRESS)
        p->connecting = true;
    else
        refuse(r, p, errno);
}

/* A side failed with errno code (reset, or an error sending): the other hears a reset too,
 * and the pair ends. */
static void abort_pair(struct relay *r, struct relay_pair *p, struct relay_side *failed, int code)
{
    const char *side = is_client(failed) ? "client" : "upstream";
    char detail[128];

    r->srv->counters.errors++;
    snprintf(detail, sizeof detail, "the %s's connection %s; resetting the %s's", side,
             code == ECONNRESET ? "was reset" : net_err_name(code),
             is_client(failed) ? "upstream" : "client");
    net_out_peer("reset", (const struct sockaddr *)&p->peer.addr, p->peer.len, detail);
    drop_pair(r, p, true);
}

static bool pair_done(const struct relay_pair *p)
{
    return p->client.eof && p->up.eof && p->client.pending == NULL && p->up.pending == NULL;
}

/* One readiness event on side s. */
static void side_ready(struct relay *r, struct relay_side *s, uint32_t events)
{
    struct relay_pair *p = s->pair;
    struct relay_side *failed = NULL;
    double since = p->idle.since;

    if (p->connecting) {
        connected(r, p);
    } else if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && s->pending && flush(r, s) < 0) {
        failed = s;
    } else if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (s->watch & EPOLLIN) &&
               forward(r, s, &failed) == 0) {
        failed = NULL;
    }
    if (failed != NULL) {
        abort_pair(r, p, failed, errno);
        return;
    }
    if (pair_done(p)) {
        drop_pair(r, p, false);
        return;
    }
    if (rewatch(r, &p->client) < 0 || rewatch(r, &p->up) < 0) {
        r->srv->counters.errors++;
        drop_pair(r, p, false);
        return;
    }
    if (p->idle.since != since) {
        lru_unlink(r, p);
        lru_append(r, p);
    }
}

static bool may_accept(const struct relay *r)
{
    const struct net_options *opt = r->srv->opt;

    if (opt->once && r->accepted >= 1)
        return false;
    if (tcp_server_resting(r->srv) > 0)
        return false;
    return opt->max_clients == 0 || r->npairs < opt->max_clients;
}

static int set_accepting(struct relay *r, bool on)
{
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &listen_mark};

    if (r->accepting == on)
        return 0;
    if (epoll_ctl(r->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, r->srv->listen_fd, &e) < 0)
        return -1;
    r->accepting = on;
    return 0;
}

/* A new client: its pair, and the upstream connection started for it. */
static void add_pair(struct relay *r, int fd, const struct tcp_peer *peer)
{
    struct relay_pair *p = calloc(1, sizeof *p);

    if (p == NULL || sock_nonblocking(fd) < 0 ||
        net_sockopt_apply(fd, r->srv->addr.ss_family, SOCK_STREAM, NET_SO_ACCEPTED,
                          &r->srv->opt->so, NULL) < 0 ||
        (!r->srv->opt->nagle && sock_nodelay(fd) < 0)) {
        r->srv->counters.errors++;
        sock_close(fd);
        free(p);
        return;
    }
    r->srv->counters.clients++;
    r->accepted++;
    r->npairs++;
    net_out_peer("accepted", (const struct sockaddr *)&peer->addr, peer->len, NULL);
    p->peer = *peer;
    p->client = (struct relay_side){.fd = fd, .pair = p};
    p->up = (struct relay_side){.fd = -1, .pair = p};
    tcp_idle_start(&p->idle);
    lru_append(r, p);
    connect_upstream(r, p);
    if (rewatch(r, &p->client) < 0 || rewatch(r, &p->up) < 0) {
        r->srv->counters.errors++;
        drop_pair(r, p, false);
    }
}

static void accept_ready(struct relay *r)
{
    for (int i = 0; i < ACCEPTS_PER_WAKE && may_accept(r); i++) {
        struct tcp_peer peer;
        int fd = tcp_server_take(r->srv, &peer, &r->reserve_fd);

        if (fd < 0)
            break;
        add_pair(r, fd, &peer);
    }
}

/* Close pairs idle for --idle-timeout, oldest first; ms until the next is due, or -1. */
static int expire_idle(struct relay *r)
{
    while (r->oldest && tcp_idle_left(r->srv, &r->oldest->idle) == 0) {
        tcp_idle_notice(&r->oldest->peer, &r->oldest->idle);
        drop_pair(r, r->oldest, false);
    }
    return r->oldest ? tcp_idle_left(r->srv, &r->oldest->idle) : -1;
}

static bool finished(const struct relay *r)
{
    return r->srv->opt->once && r->accepted >= 1 && r->npairs == 0;
}

static int relay_loop(struct relay *r, struct net_error *err)
{
    struct epoll_event events[MAX_EVENTS];
    struct epoll_event sig = {.events = EPOLLIN, .data.ptr = &signal_mark};

    if (sock_nonblocking(r->srv->listen_fd) < 0 ||
        epoll_ctl(r->ep, EPOLL_CTL_ADD, net_signal_fd(), &sig) < 0)
        return net_err_errno(err, errno, "cannot set up the relay's epoll set");
    while (!finished(r)) {
        int timeout = tcp_server_timeout(r->srv, expire_idle(r));
        int n;

        if (set_accepting(r, may_accept(r)) < 0)
            return net_err_errno(err, errno, "cannot watch the listening socket");
        n = epoll_wait(r->ep, events, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR)
            return net_err_errno(err, errno, "epoll_wait failed");
        for (int i = 0; i < n; i++) {
            void *ptr = events[i].data.ptr;

            if (ptr == &listen_mark)
                accept_ready(r);
            else if (ptr != &signal_mark)
                side_ready(r, ptr, events[i].events);
        }
        if (tcp_server_signalled(r->srv))
            break;
    }
    return 0;
}

int tcp_relay_main(const struct net_options *opt, struct net_error *err)
{
    struct tcp_server srv;
    struct relay r = {.srv = &srv, .ep = -1, .reserve_fd = -1};
    int rc = -1;

    if (tcp_server_open(&srv, opt, err) < 0)
        return -1;
    srv.counters.relay = true;
    if (net_upstream_resolve(opt, SOCK_STREAM, &srv.addr, srv.guard_fd >= 0, &r.to, err) < 0)
        goto out;
    r.buf = malloc(opt->recv_size);
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    if (r.buf == NULL || r.ep < 0) {
        net_err_errno(err, r.buf ? errno : ENOMEM, "cannot set up the relay");
        goto out;
    }
    r.reserve_fd = tcp_server_reserve();
    net_out_listening(NET_TCP, (struct sockaddr *)&srv.addr, srv.addrlen, false, NULL, r.to.text,
                      NULL);
    net_out_held(srv.guard_fd);
    net_allow_report(&opt->allow);
    net_sockopt_report(srv.listen_fd, srv.addr.ss_family, SOCK_STREAM, &opt->so);
    rc = relay_loop(&r, err);
    while (r.oldest)
        drop_pair(&r, r.oldest, false);
    net_counters_print(NET_TCP, "summary", &srv.counters);
out:
    if (r.reserve_fd >= 0)
        close(r.reserve_fd);
    if (r.ep >= 0)
        close(r.ep);
    free(r.buf);
    tcp_server_close(&srv);
    return rc;
}
