/* relay.c - udp-echo relay: the middle tier of three, between clients and a server.
 *
 * Twin of tcp/relay.c.
 * UDP has no connection to end and open again, so the relay does what a NAT or a UDP load
 * balancer does: it keeps a mapping per client source (address and port), and each mapping
 * has a socket of its own, connect()ed to the upstream (--to). A client's datagram goes out
 * on its mapping's socket, so the server sees each client as one of the relay's ports; what
 * comes back on that socket can only be the upstream's (a connected socket takes no one
 * else's), and goes back to that client from the listening socket. An ICMP port unreachable
 * for a datagram sent upstream comes back on the mapping's socket as ECONNREFUSED: it is
 * counted, and the mapping kept, as the server may come back.
 *
 * The mappings live in a bounded, expiring table, as a NAT's do (relaymap.c). One thread,
 * one epoll set: the listening socket, the signal pipe, and every mapping's socket.
 *
 * A relayed exchange takes four socket calls where the server makes two, so the listening
 * socket's are batched: one recvmmsg takes every client's request queued (up to
 * UDP_RELAY_BATCH), and the answers read in one wake go back in one sendmmsg. A mapping's
 * socket carries one client's exchange, so it is sent to and read from one datagram at a
 * time. */
#include "relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "addr.h"
#include "allow.h"
#include "clock.h"
#include "datagram.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"

#define MAX_EVENTS 128
/* Bytes past one largest answer in the buffer answers are queued in: answers of 64 bytes,
 * a batch of them fits many times over. */
#define ANSWERS_SPARE 65536
/* Descriptors besides the mappings' sockets: standard input, output and error, the
 * listening socket, the one holding [::1], the epoll set, the signal pipe, and room to
 * spare. */
#define FDS_BESIDES_MAPPINGS 16

static char listen_mark, signal_mark;

/* Leave a client's datagram unrelayed: count it, and say why (a notice, ten a second). */
static void refuse(struct udp_relay *r, const struct sockaddr *peer, socklen_t len, const char *why)
{
    r->srv->counters.refused++;
    net_out_notice("refused", peer, len, why);
}

/* A datagram longer than --recv-size arrived cut: the rest is gone, and passing on the
 * part would be passing on something nobody sent. */
static void cut_short(struct udp_relay *r, const struct sockaddr *peer, socklen_t len)
{
    char detail[112];

    r->srv->counters.truncated++;
    snprintf(detail, sizeof detail, "longer than --recv-size %zu bytes; not relayed",
             r->srv->opt->recv_size);
    net_out_notice("truncated datagram from", peer, len, detail);
}

/* The upstream could not be sent a datagram, or refused one (an ICMP error, reported on
 * the mapping's socket because it is connected). The mapping stays: UDP has no connection
 * to lose, and a server that comes back is reached on the same socket. */
static void upstream_failed(struct udp_relay *r, const struct udp_relay_map *m, int code)
{
    char detail[NET_ADDRSTRLEN + 128];

    r->srv->counters.up.failed++;
    if (code == ECONNREFUSED)
        snprintf(detail, sizeof detail,
                 "%s refused a datagram from port %u (ICMP port unreachable: is the server "
                 "running?)",
                 r->to.text, (unsigned)m->up_port);
    else
        snprintf(detail, sizeof detail, "cannot send to %s from port %u: %s (%s)", r->to.text,
                 (unsigned)m->up_port, strerror(code), net_err_name(code));
    net_out_notice("upstream", (const struct sockaddr *)&m->client, m->client_len, detail);
}

/* A socket of its own for a new mapping, connected to the upstream. Out of descriptors,
 * the mapping heard from least recently gives its up, and the call is tried once more. */
static int upstream_socket(struct udp_relay *r, struct sockaddr_storage *local, socklen_t *len)
{
    const struct sockaddr *to = (const struct sockaddr *)&r->to.addr;
    int fd = sock_socket(to->sa_family, SOCK_DGRAM);
    int saved;

    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && r->oldest != NULL) {
        udp_relay_evict_oldest(r);
        fd = sock_socket(to->sa_family, SOCK_DGRAM);
    }
    if (fd < 0)
        return -1;
    /* connect() sends nothing: it picks the local port, and the one peer heard from */
    if (sock_nonblocking(fd) == 0 &&
        net_sockopt_apply(fd, to->sa_family, SOCK_DGRAM, NET_SO_CLIENT, &r->srv->opt->so, NULL) ==
            0 &&
        sock_connect(fd, to, r->to.len) == 0 && sock_getsockname(fd, local, len) == 0)
        return fd;
    saved = errno;
    sock_close(fd);
    errno = saved;
    return -1;
}

/* -v: a new mapping, with the address the server will see for this client, so a student
 * can match the two flows in a capture. */
static void mapped_notice(const struct udp_relay *r, const struct udp_relay_map *m,
                          const struct sockaddr_storage *local, socklen_t len)
{
    char detail[2 * NET_ADDRSTRLEN + 16], as[NET_ADDRSTRLEN];

    if (net_out_verbose() < 1)
        return;
    snprintf(detail, sizeof detail, "to %s from %s", r->to.text,
             net_addr_format((const struct sockaddr *)local, len, as, sizeof as));
    net_out_peer("mapped", (const struct sockaddr *)&m->client, m->client_len, detail);
}

/* No mapping could be made for a source (no descriptor, say): its datagram is dropped and
 * counted. */
static void cannot_map(struct udp_relay *r, const struct sockaddr *peer, socklen_t len, int code)
{
    char detail[128];

    r->srv->counters.errors++;
    snprintf(detail, sizeof detail, "no mapping for it: %s (%s); dropped", strerror(code),
             net_err_name(code));
    net_out_notice("dropped datagram from", peer, len, detail);
}

/* A first datagram from a source: a mapping for it, with a socket of its own in the epoll
 * set. NULL when none could be made (counted, and the datagram dropped). */
static struct udp_relay_map *map_open(struct udp_relay *r, const struct udp_peer_key *key,
                                      uint64_t h, const struct sockaddr *peer, socklen_t peerlen)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    struct udp_relay_map *m;
    struct epoll_event e = {.events = EPOLLIN};
    int fd;

    if (r->nmaps == r->srv->opt->max_clients)
        udp_relay_evict_oldest(r);
    fd = upstream_socket(r, &local, &len);
    if (fd < 0) {
        cannot_map(r, peer, peerlen, errno);
        return NULL;
    }
    m = udp_relay_slot_take(r);
    e.data.ptr = m;
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
        cannot_map(r, peer, peerlen, errno);
        sock_close(fd);
        udp_relay_slot_give(r, m);
        return NULL;
    }
    *m = (struct udp_relay_map){.key = *key, .hash = h, .client_len = peerlen, .fd = fd};
    memcpy(&m->client, peer, peerlen);
    m->up_port = net_addr_port((const struct sockaddr *)&local);
    udp_relay_insert(r, m);
    r->srv->counters.up.opened++;
    if (udp_peer_first(r->srv, key, h))
        r->srv->counters.clients++;
    mapped_notice(r, m, &local, len);
    return m;
}

/* Send a client's datagram out on its mapping's socket. An ICMP error that came back for an
 * earlier one is reported by this send (ECONNREFUSED) instead of sending it: that one is
 * counted, and this one sent again. */
static void to_upstream(struct udp_relay *r, struct udp_relay_map *m, const char *buf, size_t len)
{
    struct net_counters *c = &r->srv->counters;
    ssize_t n = sock_send(m->fd, buf, len);

    if (n < 0 && errno == ECONNREFUSED) {
        upstream_failed(r, m, errno);
        n = sock_send(m->fd, buf, len);
    }
    if (n < 0) {
        upstream_failed(r, m, errno);
        return;
    }
    c->up.msgs_out++;
    c->up.bytes_out += len;
}

/* Send the answers queued in this wake back to their clients, in one sendmmsg on the
 * listening socket (udp_send_batch). */
static void flush_answers(struct udp_relay *r)
{
    if (udp_send_batch(r->srv, r->out, r->nout) > 0)
        r->replied = true;
    r->nout = 0;
    r->out_used = 0;
}

/* Queue the upstream's answer, read into out_buf, for m's client: it goes back from the
 * listening socket and the address the client wrote to, where the client expects its answers
 * from, with the wake's other answers. */
static void queue_answer(struct udp_relay *r, const struct udp_relay_map *m, size_t len)
{
    struct sock_dgram *d = &r->out[r->nout++];

    /* a 0-byte datagram is a real message, and is passed on as one */
    d->buf = r->out_buf + r->out_used;
    d->len = len;
    memcpy(&d->peer, &m->client, m->client_len);
    d->peerlen = m->client_len;
    d->local = r->srv->wildcard ? m->local : (struct sock_local){0};
    r->out_used += len;
    /* --once: the first answer goes at once, and is the last */
    if (r->nout == UDP_RELAY_BATCH || r->srv->opt->once)
        flush_answers(r);
}

/* One datagram from a client: checked as the server checks a request (the server's answer
 * goes back to this source, so the same sources are refused), then sent on. */
static void client_datagram(struct udp_relay *r, const struct sock_dgram *d)
{
    struct udp_server *srv = r->srv;
    const struct sockaddr *peer = (const struct sockaddr *)&d->peer;
    socklen_t fromlen = d->peerlen;
    struct udp_peer_key key;
    struct udp_relay_map *m;
    const char *why;
    uint64_t h;

    if (!net_allow_permits(&srv->opt->allow, peer)) {
        refuse(r, peer, fromlen, NET_ALLOW_REFUSED);
        return;
    }
    srv->counters.msgs_in++;
    srv->counters.bytes_in += d->len;
    if (!net_addr_reflectable(peer, net_addr_port((struct sockaddr *)&srv->addr), &why)) {
        refuse(r, peer, fromlen, why);
        return;
    }
    if (d->truncated) {
        cut_short(r, peer, fromlen);
        return;
    }
    h = udp_peer_hash(srv, peer, &key);
    m = udp_relay_find(r, &key, h);
    if (m == NULL && (m = map_open(r, &key, h, peer, fromlen)) == NULL)
        return;
    m->local = d->local;
    udp_relay_heard(r, m);
    to_upstream(r, m, d->buf, d->len);
}

static bool finished(const struct udp_relay *r)
{
    return r->srv->opt->once && r->replied;
}

/* Datagrams from clients, on the listening socket: every one queued, up to UDP_RELAY_BATCH,
 * in one call, each sent on at once; -1 with err when receiving fails. */
static int listen_ready(struct udp_relay *r, struct net_error *err)
{
    struct udp_server *srv = r->srv;
    int n = sock_recvmmsg(srv->fd, r->in, UDP_RELAY_BATCH, r->room, srv->wildcard);

    if (n < 0) {
        /* none after all, a signal, or an ICMP error for an earlier answer: none ends the
         * relay, and the set, level-triggered, wakes the loop again for what is queued */
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED)
            return 0;
        return net_err_errno(err, errno, "cannot receive datagrams");
    }
    for (int i = 0; i < n; i++)
        client_datagram(r, &r->in[i]);
    return 0;
}

/* A datagram on a mapping's socket: the upstream's answer (no one else's reaches a connected
 * socket), queued for the mapping's client; or an ICMP error for one sent. One per wake: a
 * mapping has one client's exchange on it, and the set is level-triggered, so a second
 * datagram wakes the loop again; reading on until EAGAIN would cost every answer a second
 * receive call that finds nothing. */
static void upstream_ready(struct udp_relay *r, struct udp_relay_map *m)
{
    struct net_counters *c = &r->srv->counters;
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    bool truncated;
    ssize_t n;

    if (m->fd < 0 || finished(r))
        return;
    /* no room left for the largest answer: the queued ones go first */
    if (r->out_size - r->out_used < r->room)
        flush_answers(r);
    n = sock_recvmsg(m->fd, r->out_buf + r->out_used, r->room, &from, &fromlen, &truncated, NULL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            upstream_failed(r, m, errno);
        return;
    }
    c->up.msgs_in++;
    c->up.bytes_in += (size_t)n;
    udp_relay_heard(r, m);
    if (truncated)
        cut_short(r, (const struct sockaddr *)&from, fromlen);
    else
        queue_answer(r, m, (size_t)n);
}

static int relay_loop(struct udp_relay *r, struct net_error *err)
{
    struct epoll_event events[MAX_EVENTS];
    struct epoll_event lst = {.events = EPOLLIN, .data.ptr = &listen_mark};
    struct epoll_event sig = {.events = EPOLLIN, .data.ptr = &signal_mark};

    if (sock_nonblocking(r->srv->fd) < 0 || epoll_ctl(r->ep, EPOLL_CTL_ADD, r->srv->fd, &lst) < 0 ||
        epoll_ctl(r->ep, EPOLL_CTL_ADD, net_signal_fd(), &sig) < 0)
        return net_err_errno(err, errno, "cannot set up the relay's epoll set");
    while (!finished(r)) {
        int n = epoll_wait(r->ep, events, MAX_EVENTS, udp_relay_expire(r));

        if (n < 0 && errno != EINTR)
            return net_err_errno(err, errno, "epoll_wait failed");
        r->now_ms = net_now_ms();
        for (int i = 0; i < n && !finished(r); i++) {
            void *ptr = events[i].data.ptr;

            if (ptr == &listen_mark) {
                if (listen_ready(r, err) < 0)
                    return -1;
            } else if (ptr != &signal_mark) {
                upstream_ready(r, ptr);
            }
        }
        flush_answers(r);
        if (udp_server_signalled(r->srv))
            break;
    }
    return 0;
}

/* Room for a socket per mapping: raise the soft limit on descriptors (ulimit -n) as far as
 * --max-clients needs, within the hard limit; -1 with err when even that is too low. */
static int fds_budget(const struct net_options *opt, struct net_error *err)
{
    rlim_t need = (rlim_t)opt->max_clients + FDS_BESIDES_MAPPINGS;
    struct rlimit lim;

    if (opt->max_clients == 0)
        return net_err_words(err, NET_ERR_USAGE,
                             "a UDP relay keeps a socket per client source, so it needs room "
                             "for at least one (default " NET_QUOTE(NET_DEFAULT_RELAY_MAPPINGS) ")",
                             "--max-clients 0");
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0)
        return net_err_errno(err, errno, "cannot read the limit on open descriptors");
    if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= need)
        return 0;
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need) {
        net_err_errno(err, EMFILE,
                      "cannot keep --max-clients %u mappings: they need %llu descriptors (a "
                      "socket each, and %d besides), and ulimit -n allows %llu",
                      opt->max_clients, (unsigned long long)need, FDS_BESIDES_MAPPINGS,
                      (unsigned long long)lim.rlim_max);
        err->hint = "lower --max-clients, or raise the hard limit with ulimit -Hn";
        return -1;
    }
    lim.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
        return net_err_errno(err, errno, "cannot raise the limit on open descriptors to %llu",
                             (unsigned long long)need);
    return 0;
}

/* The batches' buffers, taken once: room bytes for each datagram one recvmmsg can take
 * (udp_batch_buffers), and a buffer that holds a wake's answers. */
static int buffers_alloc(struct udp_relay *r)
{
    r->in_bufs = udp_batch_buffers(r->srv, r->in, UDP_RELAY_BATCH, &r->room);
    r->out_size = r->room + ANSWERS_SPARE;
    r->out_buf = malloc(r->out_size);
    return r->in_bufs != NULL && r->out_buf != NULL ? 0 : -1;
}

int udp_relay_main(const struct net_options *opt, struct net_error *err)
{
    struct udp_server srv;
    struct udp_relay r = {.srv = &srv, .ep = -1};
    int rc = -1;

    if (fds_budget(opt, err) < 0 || udp_server_open(&srv, opt, err) < 0)
        return -1;
    srv.counters.relay = true;
    if (net_upstream_resolve(opt, SOCK_DGRAM, &srv.addr, srv.guard_fd >= 0, &r.to, err) < 0)
        goto out;
    if (buffers_alloc(&r) < 0 || udp_relay_table_alloc(&r) < 0) {
        net_err_errno(err, ENOMEM, "cannot set up the relay's table of mappings and buffers");
        goto out;
    }
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    if (r.ep < 0) {
        net_err_errno(err, errno, "cannot set up the relay's epoll set");
        goto out;
    }
    net_out_listening(NET_UDP, (struct sockaddr *)&srv.addr, srv.addrlen, false, NULL, r.to.text,
                      NULL);
    net_out_held(srv.guard_fd);
    net_allow_report(&opt->allow);
    net_sockopt_report(srv.fd, srv.addr.ss_family, SOCK_DGRAM, &opt->so);
    rc = relay_loop(&r, err);
    /* a loop that failed part way through a wake may have answers queued */
    flush_answers(&r);
    while (r.oldest != NULL)
        udp_relay_close(&r, r.oldest, NULL, NULL);
    net_counters_print(NET_UDP, "summary", &srv.counters);
out:
    if (r.ep >= 0)
        close(r.ep);
    free(r.in_bufs);
    free(r.out_buf);
    udp_relay_table_free(&r);
    udp_server_close(&srv);
    return rc;
}
