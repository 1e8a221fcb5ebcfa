/* echo.c - what a TCP echo server does with one connection, shared by every model.
 *
 * Twin of udp/echo.c.
 * The blocking form serves a connection start to finish (iterative, fork, thread). The
 * non-blocking form does one step whenever the socket is ready (poll, epoll); the uring
 * model, whose kernel receives and sends by itself, uses the bookkeeping half of those steps.
 * Both greet, echo every byte (or answer with --reply, or with --discard count it and answer
 * nothing), and on the client's FIN finish the echo and then close. */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "clock.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"
#include "wait.h"

/* The reply to n received bytes: the bytes themselves, --reply's text, or NULL for none:
 * the discard service (--discard, RFC 863) reads and counts every byte and sends nothing. */
static const char *reply_for(const struct tcp_server *srv, const char *buf, size_t *len)
{
    if (srv->opt->discard)
        return NULL;
    if (srv->opt->reply == NULL)
        return buf;
    *len = strlen(srv->opt->reply);
    return srv->opt->reply;
}

void tcp_idle_start(struct tcp_idle *idle)
{
    idle->since = net_now_ms();
    idle->heard = 0;
}

void tcp_idle_heard(const struct tcp_server *srv, struct tcp_idle *idle, size_t n)
{
    idle->heard += n;
    if (idle->heard >= srv->opt->min_bytes)
        tcp_idle_start(idle);
}

int tcp_idle_left(const struct tcp_server *srv, const struct tcp_idle *idle)
{
    double left = srv->opt->idle_timeout * 1000 - (net_now_ms() - idle->since);

    if (srv->opt->idle_timeout <= 0)
        return -1;
    return left > 0 ? (int)left + 1 : 0;
}

void tcp_idle_notice(const struct tcp_peer *peer, const struct tcp_idle *idle)
{
    net_out_peer("idle", (const struct sockaddr *)&peer->addr, peer->len,
                 idle->heard == 0 ? "closing a client silent for --idle-timeout"
                                  : "closing a client that sent less than --min-bytes in "
                                    "--idle-timeout");
}

/* A wait bounded by SO_RCVTIMEO or SO_SNDTIMEO is set again only once the idle deadline has
 * come this much nearer than the bound already set: a client that keeps restarting the timer
 * costs no call, and an idle client is closed at most this late. */
#define BOUND_SLACK_MS 10

/* One connection of a blocking model (iterative, fork, thread), served start to finish. */
struct blocking {
    int fd;
    const struct tcp_peer *peer;
    SSL *tls; /* --tls: the session, or NULL */
    struct tcp_idle idle;
    bool told_queue; /* iterative: -v said that another client waits behind this one */
    /* fork and thread, without --tls: recv() and send() wait by themselves, bounded by the
     * idle limit, with no poll() before them; a stop wakes them with shutdown() */
    bool calls_wait;
    int bound_ms[2]; /* the receive and send bounds set on the socket; -1: set one */
};

/* The iterative model serves one client at a time: say so (-v) when another one arrives. */
static void tell_queue(struct blocking *c)
{
    net_out_peer("waiting", NULL, 0,
                 "another client waits in the listen queue until this one leaves "
                 "(--model iterative serves one client at a time)");
    c->told_queue = true;
}

/* Wait until the client's socket is readable (or, for_write, has room to send); 1 ready,
 * 0 the client is idle (--idle-timeout), -1 stop or error. The iterative model's
 * listening socket is watched too, until a waiting client has been mentioned. */
static int wait_for_client(struct tcp_server *srv, struct blocking *c, bool for_write)
{
    for (;;) {
        int left = tcp_idle_left(srv, &c->idle);
        int queue = !for_write && !c->told_queue ? srv->listen_fd : -1;
        int rc;

        if (left == 0)
            return 0;
        rc = for_write ? net_wait_writable(c->fd, left) : net_wait_either(c->fd, queue, left);
        if (rc == 2)
            tell_queue(c);
        else if (rc == 1)
            return 1;
        else if (rc < 0 && (errno != EINTR || tcp_server_signalled(srv)))
            return -1;
    }
}

/* calls_wait: bound the next recv() (or, for_write, send()) by the idle deadline, setting
 * SO_RCVTIMEO or SO_SNDTIMEO only when the deadline has come nearer than the bound set. 0, or
 * -1 when the client is idle now. A bound that ran out before the deadline (the timer
 * restarted meanwhile) is marked -1 by the caller and set again here. */
static int bound_call(struct tcp_server *srv, struct blocking *c, bool for_write)
{
    int left = tcp_idle_left(srv, &c->idle);
    int *bound = &c->bound_ms[for_write];

    if (left == 0)
        return -1;
    if (left < 0 || (*bound >= 0 && left + BOUND_SLACK_MS >= *bound))
        return 0; /* no limit (a socket waits for ever unless told), or near enough */
    if ((for_write ? sock_send_timeout(c->fd, left) : sock_recv_timeout(c->fd, left)) < 0)
        return -1;
    *bound = left;
    return 0;
}

/* Wait until the next call may go: with calls_wait the call itself waits, bounded by the idle
 * limit (1, or 0 when idle now); otherwise as wait_for_client. */
static int before_call(struct tcp_server *srv, struct blocking *c, bool for_write)
{
    if (!c->calls_wait)
        return wait_for_client(srv, c, for_write);
    if (net_signal_stopping())
        return -1;
    return bound_call(srv, c, for_write) < 0 ? 0 : 1;
}

/* A call failed with EAGAIN: with calls_wait, its bound ran out (idle now, or the timer
 * restarted since the bound was set: set it again); otherwise nothing was ready yet. */
static void bound_ran_out(struct blocking *c, bool for_write)
{
    if (c->calls_wait)
        c->bound_ms[for_write] = -1;
}

/* Send all of buf: send() may take less than asked (a signal, a full send buffer). When the
 * client stops reading, its receive window closes and the send buffer fills; this waits for
 * room instead of buffering more, so the client is throttled by its own window. Room made
 * by the client's reading counts as activity for --idle-timeout. */
static int send_all(struct tcp_server *srv, struct blocking *c, const char *buf, size_t len)
{
    bool waited = false;

    while (len > 0) {
        ssize_t n;

        if (c->calls_wait && before_call(srv, c, true) <= 0)
            return -1;
        n = net_send(c->fd, c->tls, buf, len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            bound_ran_out(c, true);
            if (!c->calls_wait && wait_for_client(srv, c, true) <= 0)
                return -1;
            waited = true;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            if (tcp_server_signalled(srv))
                return -1;
            continue;
        }
        if (n < 0)
            return -1;
        /* a blocking send() that took part of buf waited for room, and ran out of time */
        if (waited || (c->calls_wait && (size_t)n < len))
            tcp_idle_start(&c->idle);
        buf += n;
        len -= (size_t)n;
        srv->counters.bytes_out += (unsigned long long)n;
    }
    return 0;
}

/* Ready a new connection: non-blocking unless its calls wait (otherwise waits happen in
 * poll() with the signal pipe, so a stop request is never missed), urgent data inline, the
 * socket options it does not inherit
 * and, unless --nagle, Nagle's algorithm off: an echo goes out in pieces as it is read, and
 * Nagle would hold each small piece until the last was acknowledged, which a client's delayed
 * ACK makes up to 40 ms. A byte the client sends with MSG_OOB ("urgent") would otherwise wait
 * apart for a recv(MSG_OOB) and vanish from the echo; SO_OOBINLINE keeps it in its place in
 * the stream, so it is echoed like every other byte. */
static int prepare(const struct tcp_server *srv, int fd, bool calls_wait)
{
    if ((!calls_wait && sock_nonblocking(fd) < 0) || sock_oobinline(fd) < 0)
        return -1;
    /* keepalive and --linger; buffers, TTL and TOS came with it from the listening socket */
    if (net_sockopt_apply(fd, srv->addr.ss_family, SOCK_STREAM, NET_SO_ACCEPTED, &srv->opt->so,
                          NULL) < 0)
        return -1;
    return srv->opt->nagle ? 0 : sock_nodelay(fd);
}

/* --tls: the handshake is over; -v says how the connection is secured and, when the server
 * asks for client certificates, who the client is. */
static void tls_secured(const struct tcp_peer *peer, SSL *tls)
{
    struct tls_facts f;

    if (net_out_verbose() < 1)
        return;
    tls_facts_of(tls, &f);
    net_out_secured((const struct sockaddr *)&peer->addr, peer->len, &f);
}

/* --tls: the handshake failed (a client that does not speak TLS, has no certificate, or
 * does not believe ours): the client is refused, counted and noticed. */
static void tls_refused(struct tcp_server *srv, const struct tcp_peer *peer,
                        const struct net_error *err)
{
    char detail[sizeof err->what + sizeof err->detail + 8];

    srv->counters.refused++;
    snprintf(detail, sizeof detail, "%s: %s", err->what,
             err->kind == NET_ERR_ERRNO ? net_err_name(err->code) : err->detail);
    net_out_notice("refused", (const struct sockaddr *)&peer->addr, peer->len, detail);
}

/* --tls on a blocking connection: the whole handshake, waiting as the echo does (a client
 * that stalls in it is idle, and --idle-timeout closes it). 0, or -1 when it failed. */
static int secure_blocking(struct tcp_server *srv, struct blocking *c)
{
    struct net_error err = {0};

    if ((c->tls = tls_session(&srv->tls, c->fd, NULL, &err)) == NULL)
        return -1;
    for (;;) {
        bool want_write = false;
        int rc = tls_handshake_step(c->tls, &want_write, &err);

        if (rc == 1) {
            tls_secured(c->peer, c->tls);
            return 0;
        }
        if (rc < 0) {
            tls_refused(srv, c->peer, &err);
            return -1;
        }
        rc = wait_for_client(srv, c, want_write);
        if (rc == 0)
            tcp_idle_notice(c->peer, &c->idle);
        if (rc <= 0)
            return -1;
    }
}

/* End a session: close_notify (when the handshake had finished), then free it. */
static void tls_end(SSL *tls)
{
    if (tls == NULL)
        return;
    tls_close_notify(tls);
    tls_session_free(tls);
}

void tcp_echo_blocking(struct tcp_server *srv, int fd, const struct tcp_peer *peer, char *buf)
{
    const char *greeting = srv->opt->greeting;
    struct blocking c = {.fd = fd,
                         .peer = peer,
                         .calls_wait = srv->calls_wait && !srv->opt->tls_on,
                         .bound_ms = {-1, -1}};
    int rc = 0;

    tcp_idle_start(&c.idle);
    if (prepare(srv, fd, c.calls_wait) < 0)
        goto out;
    if (srv->opt->tls_on && secure_blocking(srv, &c) < 0)
        goto out;
    if (greeting && send_all(srv, &c, greeting, strlen(greeting)) < 0)
        goto out;
    for (;;) {
        ssize_t n;
        size_t len;
        const char *reply;

        rc = before_call(srv, &c, false);
        if (rc == 0)
            tcp_idle_notice(peer, &c.idle);
        if (rc <= 0)
            break;
        n = net_recv(fd, c.tls, buf, srv->opt->recv_size);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            bound_ran_out(&c, false);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            if (c.calls_wait && tcp_server_signalled(srv))
                break;
            continue;
        }
        if (n < 0) {
            srv->counters.errors++;
            break;
        }
        /* 0 is the client's FIN: everything it sent has been echoed (or discarded) already */
        if (n == 0)
            break;
        tcp_idle_heard(srv, &c.idle, (size_t)n);
        srv->counters.msgs_in++;
        srv->counters.bytes_in += (unsigned long long)n;
        len = (size_t)n;
        reply = reply_for(srv, buf, &len);
        if (reply == NULL)
            continue;
        if (send_all(srv, &c, reply, len) < 0) {
            srv->counters.errors++;
            break;
        }
        srv->counters.msgs_out++;
    }
out:
    tls_end(c.tls);
}

/* Keep the bytes the kernel did not take; the connection stops reading until they go. */
static enum tcp_step keep_pending(struct tcp_conn *conn, const char *rest, size_t len)
{
    conn->pending = malloc(len);
    if (conn->pending == NULL)
        return TCP_CLOSE;
    memcpy(conn->pending, rest, len);
    conn->pending_len = len;
    conn->pending_off = 0;
    return TCP_KEEP;
}

enum tcp_step tcp_conn_sent(struct tcp_server *srv, struct tcp_conn *conn, const char *buf,
                            size_t len, ssize_t n)
{
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        n = 0;
    if (n < 0) {
        srv->counters.errors++;
        return TCP_CLOSE;
    }
    srv->counters.bytes_out += (unsigned long long)n;
    if ((size_t)n < len)
        return keep_pending(conn, buf + n, len - (size_t)n);
    return TCP_KEEP;
}

/* Send without blocking; whatever the kernel refuses becomes the connection's pending output. */
static enum tcp_step send_some(struct tcp_server *srv, struct tcp_conn *conn, const char *buf,
                               size_t len)
{
    return tcp_conn_sent(srv, conn, buf, len, net_send(conn->fd, conn->tls, buf, len));
}

/* The connection is ready for the echo: greet the client, if the server does. */
static enum tcp_step conn_ready_to_echo(struct tcp_server *srv, struct tcp_conn *conn)
{
    if (srv->opt->greeting)
        return send_some(srv, conn, srv->opt->greeting, strlen(srv->opt->greeting));
    return TCP_KEEP;
}

/* --tls: one step of the handshake, as far as the socket allows now; once it is over, the
 * echo can begin. */
static enum tcp_step conn_handshake(struct tcp_server *srv, struct tcp_conn *conn)
{
    struct net_error err = {0};
    int rc = tls_handshake_step(conn->tls, &conn->hs_write, &err);

    if (rc == 0)
        return TCP_KEEP;
    conn->handshaking = conn->hs_write = false;
    if (rc < 0) {
        tls_refused(srv, &conn->peer, &err);
        return TCP_CLOSE;
    }
    tls_secured(&conn->peer, conn->tls);
    return conn_ready_to_echo(srv, conn);
}

enum tcp_step tcp_conn_open(struct tcp_server *srv, struct tcp_conn *conn, int fd,
                            const struct tcp_peer *peer)
{
    struct net_error err = {0};

    memset(conn, 0, sizeof *conn);
    conn->fd = fd;
    conn->peer = *peer;
    tcp_idle_start(&conn->idle);
    if (prepare(srv, fd, false) < 0)
        return TCP_CLOSE;
    if (!srv->opt->tls_on)
        return conn_ready_to_echo(srv, conn);
    if ((conn->tls = tls_session(&srv->tls, fd, NULL, &err)) == NULL)
        return TCP_CLOSE;
    conn->handshaking = true;
    return conn_handshake(srv, conn);
}

bool tcp_conn_wants_write(const struct tcp_conn *conn)
{
    return conn->pending != NULL || (conn->handshaking && conn->hs_write);
}

const char *tcp_conn_heard(struct tcp_server *srv, struct tcp_conn *conn, const char *buf, size_t n,
                           size_t *len)
{
    tcp_idle_heard(srv, &conn->idle, n);
    srv->counters.msgs_in++;
    srv->counters.bytes_in += (unsigned long long)n;
    *len = n;
    return reply_for(srv, buf, len);
}

enum tcp_step tcp_conn_readable(struct tcp_server *srv, struct tcp_conn *conn, char *buf)
{
    ssize_t n;
    const char *reply;
    size_t len;

    if (conn->handshaking)
        return conn_handshake(srv, conn);
    n = net_recv(conn->fd, conn->tls, buf, srv->opt->recv_size);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return TCP_KEEP;
    if (n < 0) {
        srv->counters.errors++;
        return TCP_CLOSE;
    }
    if (n == 0) {
        /* the client's FIN: close once the echo of everything before it has gone */
        conn->peer_closed = true;
        return conn->pending ? TCP_KEEP : TCP_CLOSE;
    }
    reply = tcp_conn_heard(srv, conn, buf, (size_t)n, &len);
    if (reply == NULL)
        return TCP_KEEP;
    /* counted once the kernel has it, or the rest waits as pending: as the blocking models */
    if (send_some(srv, conn, reply, len) == TCP_CLOSE)
        return TCP_CLOSE;
    srv->counters.msgs_out++;
    return TCP_KEEP;
}

enum tcp_step tcp_conn_writable(struct tcp_server *srv, struct tcp_conn *conn)
{
    if (conn->handshaking)
        return conn_handshake(srv, conn);
    return tcp_conn_flushed(srv, conn,
                            net_send(conn->fd, conn->tls, conn->pending + conn->pending_off,
                                     conn->pending_len - conn->pending_off));
}

enum tcp_step tcp_conn_flushed(struct tcp_server *srv, struct tcp_conn *conn, ssize_t n)
{
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return TCP_KEEP;
    if (n < 0) {
        srv->counters.errors++;
        return TCP_CLOSE;
    }
    srv->counters.bytes_out += (unsigned long long)n;
    tcp_idle_start(&conn->idle); /* the client made room: it is reading */
    conn->pending_off += (size_t)n;
    if (conn->pending_off < conn->pending_len)
        return TCP_KEEP;
    free(conn->pending);
    conn->pending = NULL;
    return conn->peer_closed ? TCP_CLOSE : TCP_KEEP;
}

void tcp_conn_close(struct tcp_conn *conn)
{
    tls_end(conn->tls);
    conn->tls = NULL;
    free(conn->pending);
    conn->pending = NULL;
    sock_close(conn->fd);
    conn->fd = -1;
}

void tcp_conns_append(struct tcp_conns *list, struct tcp_conn *conn)
{
    conn->prev = list->newest;
    conn->next = NULL;
    if (list->newest)
        list->newest->next = conn;
    else
        list->oldest = conn;
    list->newest = conn;
}

void tcp_conns_remove(struct tcp_conns *list, struct tcp_conn *conn)
{
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        list->oldest = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    else
        list->newest = conn->prev;
    conn->prev = conn->next = NULL;
}

void tcp_conns_touched(struct tcp_conns *list, struct tcp_conn *conn, double since)
{
    if (conn->idle.since == since)
        return;
    tcp_conns_remove(list, conn);
    tcp_conns_append(list, conn);
}
