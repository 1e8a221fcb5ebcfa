/* echo.c - what a TCP echo server does with one connection, shared by every model.
 *
 * The blocking form serves a connection start to finish (iterative, fork, thread). The
 * non-blocking form does one step whenever the socket is ready (poll, epoll). Both greet,
 * echo every byte (or answer with --reply), and on the client's FIN finish the echo and
 * then close. */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sock.h"
#include "wait.h"

/* The reply to n received bytes: the bytes themselves, or --reply's text. */
static const char *reply_for(const struct tcp_server *srv, const char *buf, size_t *len)
{
    if (srv->opt->reply == NULL)
        return buf;
    *len = strlen(srv->opt->reply);
    return srv->opt->reply;
}

static int idle_ms(const struct tcp_server *srv)
{
    return srv->opt->idle_timeout > 0 ? (int)(srv->opt->idle_timeout * 1000) : -1;
}

/* Wait until the client's socket is readable (or, for_write, has room to send); 1 ready,
 * 0 nothing happened for --idle-timeout, -1 stop or error. */
static int wait_for_client(struct tcp_server *srv, int fd, bool for_write)
{
    for (;;) {
        int rc =
            for_write ? net_wait_writable(fd, idle_ms(srv)) : net_wait_readable(fd, idle_ms(srv));

        if (rc >= 0)
            return rc;
        if (errno != EINTR || tcp_server_signalled(srv))
            return -1;
    }
}

/* Send all of buf: send() may take less than asked (a signal, a full send buffer). When the
 * client stops reading, its receive window closes and the send buffer fills; this waits for
 * room instead of buffering more, so the client is throttled by its own window. */
static int send_all(struct tcp_server *srv, int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = sock_send(fd, buf, len);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_for_client(srv, fd, true) <= 0)
                return -1;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            if (tcp_server_signalled(srv))
                return -1;
            continue;
        }
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
        srv->counters.bytes_out += (unsigned long long)n;
    }
    return 0;
}

/* Ready a new connection: non-blocking (waits happen in poll() with the signal pipe, so a
 * stop request is never missed), urgent data inline and, with --nodelay, Nagle's algorithm
 * off. A byte the client sends with MSG_OOB ("urgent") would otherwise wait apart for a
 * recv(MSG_OOB) and vanish from the echo; SO_OOBINLINE keeps it in its place in the stream,
 * so it is echoed like every other byte. */
static int prepare(const struct tcp_server *srv, int fd)
{
    int one = 1;

    if (net_set_nonblocking(fd) < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one) < 0)
        return -1;
    return srv->opt->nodelay ? sock_nodelay(fd) : 0;
}

int tcp_echo_blocking(struct tcp_server *srv, int fd, char *buf)
{
    const char *greeting = srv->opt->greeting;
    int rc = 0;

    if (prepare(srv, fd) < 0)
        goto out_close;
    if (greeting && send_all(srv, fd, greeting, strlen(greeting)) < 0)
        goto out_close;
    for (;;) {
        ssize_t n;
        size_t len;
        const char *reply;

        rc = wait_for_client(srv, fd, false);
        if (rc == 0)
            net_out_peer("idle", NULL, 0, "closing a client silent for --idle-timeout");
        if (rc <= 0)
            break;
        n = sock_recv(fd, buf, srv->opt->recv_size);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n < 0) {
            srv->counters.errors++;
            break;
        }
        /* 0 is the client's FIN: everything it sent has been echoed already */
        if (n == 0)
            break;
        srv->counters.msgs_in++;
        srv->counters.bytes_in += (unsigned long long)n;
        len = (size_t)n;
        reply = reply_for(srv, buf, &len);
        if (send_all(srv, fd, reply, len) < 0) {
            srv->counters.errors++;
            break;
        }
        srv->counters.msgs_out++;
    }
out_close:
    sock_close(fd);
    return 0;
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

/* Send without blocking; whatever the kernel refuses becomes the connection's pending output. */
static enum tcp_step send_some(struct tcp_server *srv, struct tcp_conn *conn, const char *buf,
                               size_t len)
{
    ssize_t n = sock_send(conn->fd, buf, len);

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

enum tcp_step tcp_conn_open(struct tcp_server *srv, struct tcp_conn *conn, int fd)
{
    memset(conn, 0, sizeof *conn);
    conn->fd = fd;
    conn->last_active = net_now_ms();
    if (prepare(srv, fd) < 0)
        return TCP_CLOSE;
    if (srv->opt->greeting)
        return send_some(srv, conn, srv->opt->greeting, strlen(srv->opt->greeting));
    return TCP_KEEP;
}

enum tcp_step tcp_conn_readable(struct tcp_server *srv, struct tcp_conn *conn, char *buf)
{
    ssize_t n = sock_recv(conn->fd, buf, srv->opt->recv_size);
    const char *reply;
    size_t len;

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return TCP_KEEP;
    if (n < 0) {
        srv->counters.errors++;
        return TCP_CLOSE;
    }
    conn->last_active = net_now_ms();
    if (n == 0) {
        /* the client's FIN: close once the echo of everything before it has gone */
        conn->peer_closed = true;
        return conn->pending ? TCP_KEEP : TCP_CLOSE;
    }
    srv->counters.msgs_in++;
    srv->counters.bytes_in += (unsigned long long)n;
    srv->counters.msgs_out++;
    len = (size_t)n;
    reply = reply_for(srv, buf, &len);
    return send_some(srv, conn, reply, len);
}

enum tcp_step tcp_conn_writable(struct tcp_server *srv, struct tcp_conn *conn)
{
    ssize_t n = sock_send(conn->fd, conn->pending + conn->pending_off,
                          conn->pending_len - conn->pending_off);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return TCP_KEEP;
    if (n < 0) {
        srv->counters.errors++;
        return TCP_CLOSE;
    }
    srv->counters.bytes_out += (unsigned long long)n;
    conn->last_active = net_now_ms();
    conn->pending_off += (size_t)n;
    if (conn->pending_off < conn->pending_len)
        return TCP_KEEP;
    free(conn->pending);
    conn->pending = NULL;
    return conn->peer_closed ? TCP_CLOSE : TCP_KEEP;
}

void tcp_conn_close(struct tcp_server *srv, struct tcp_conn *conn)
{
    (void)srv;
    free(conn->pending);
    conn->pending = NULL;
    sock_close(conn->fd);
    conn->fd = -1;
}
