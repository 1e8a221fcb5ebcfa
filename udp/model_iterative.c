/* model_iterative.c - one datagram at a time, every peer on one socket: UDP's one model.
 *
 * Twin of tcp/model_iterative.c. As Stevens' udpserv01 does: there is no connection to hand
 * to a worker, so one loop serves everyone.
 *
 * While the server is quiet, each datagram costs one recvmsg and one sendmsg, the shortest
 * echo loop (and what every trace in the lessons shows). When many peers send at once the
 * server is busy: one recvmmsg takes every datagram queued (up to SOCK_BATCH_MAX) and one
 * sendmmsg sends their echoes, each from the address its request came to. */
#include "udp.h"

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "sock.h"

/* How long one blocking receive may last: a stop signal that lands just before the call
 * (so it cannot interrupt it) is noticed within this time. */
#define RECV_HEARTBEAT_MS 200

/* Busy: at least BUSY_DATAGRAMS datagrams within one window of BUSY_WINDOW_MS (1,600 a
 * second); a window with fewer, or none at all (a receive that waited past the window), makes
 * the server quiet again. So do SINGLES_MAX batches of one in a row (one client, answered as
 * fast as it asks: nothing waits, and a batch call costs more than a plain one); then the
 * server tries batches again only after SINGLES_BACKOFF_MS. */
#define BUSY_DATAGRAMS 16
#define BUSY_WINDOW_MS 10.0
#define SINGLES_MAX 8
#define SINGLES_BACKOFF_MS 100.0

/* The receiving side of the loop: the batch's datagrams, each with room bytes of its own, and
 * the rate that decides between one datagram and a batch per call. */
struct receiver {
    struct sock_dgram in[SOCK_BATCH_MAX];
    struct udp_echoes echoes; /* busy: the batch's echoes, queued */
    char *bufs;
    size_t room;
    bool busy;
    double window_start;
    unsigned window_count;
    unsigned singles;   /* busy: batches of one datagram in a row */
    double batch_again; /* quiet after too many of those: no batch before this time */
};

/* Count n datagrams received now, and decide whether the next call takes a batch. --once
 * and --tls (whose sessions send for themselves) are never busy. */
static void count_received(const struct udp_server *srv, struct receiver *r, int n)
{
    double now;

    if (srv->opt->once || srv->opt->tls_on)
        return;
    now = net_now_ms();
    if (now - r->window_start >= BUSY_WINDOW_MS) {
        r->busy = r->window_count >= BUSY_DATAGRAMS && now - r->window_start < 2 * BUSY_WINDOW_MS;
        r->window_start = now;
        r->window_count = 0;
    }
    r->window_count += (unsigned)n;
    if (r->window_count >= BUSY_DATAGRAMS)
        r->busy = true;
    if (r->busy && now < r->batch_again)
        r->busy = false;
}

/* Busy: a batch of n. Too many batches of one in a row: quiet for a while. */
static void count_batch(struct receiver *r, int n)
{
    r->singles = n == 1 ? r->singles + 1 : 0;
    if (r->singles < SINGLES_MAX)
        return;
    r->singles = 0;
    r->busy = false;
    r->batch_again = net_now_ms() + SINGLES_BACKOFF_MS;
}

/* Busy: every datagram queued, in one call, each checked and its echo queued; then the echoes,
 * in one call. Returns what recvmmsg returned. */
static int serve_batch(struct udp_server *srv, struct receiver *r)
{
    int n = sock_recvmmsg(srv->fd, r->in, SOCK_BATCH_MAX, r->room, srv->wildcard);

    if (n <= 0)
        return n;
    r->echoes.n = 0;
    srv->echoes = &r->echoes;
    for (int i = 0; i < n; i++)
        udp_echo_datagram(srv, r->in[i].buf, r->in[i].len, r->in[i].truncated, &r->in[i].peer,
                          r->in[i].peerlen, &r->in[i].local);
    srv->echoes = NULL;
    udp_send_batch(srv, r->echoes.out, r->echoes.n);
    return n;
}

/* Quiet: one datagram, and its echo at once. Returns 1 when it was served (what --once waits
 * for), 0 when not, -1 with errno when nothing was received. */
static int serve_one(struct udp_server *srv, struct receiver *r)
{
    struct sock_dgram *d = &r->in[0];
    ssize_t n;

    d->peerlen = sizeof d->peer;
    d->local = (struct sock_local){0};
    n = sock_recvmsg(srv->fd, d->buf, r->room, &d->peer, &d->peerlen, &d->truncated,
                     srv->wildcard ? &d->local : NULL);
    if (n < 0)
        return -1;
    count_received(srv, r, 1);
    return udp_echo_datagram(srv, d->buf, (size_t)n, d->truncated, &d->peer, d->peerlen, &d->local);
}

int udp_model_iterative(struct udp_server *srv, struct net_error *err)
{
    struct receiver r = {.window_start = net_now_ms()};
    int rc = 0;

    /* the busy server's batch; the quiet server receives into its first buffer */
    r.bufs = udp_batch_buffers(srv, r.in, SOCK_BATCH_MAX, &r.room);
    if (r.bufs == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the receive buffers");
    /* block in the receive call itself, as the shortest echo loop does: no poll() before each
     * datagram. A signal interrupts the call (EINTR); the receive timeout covers the rest */
    if (sock_recv_timeout(srv->fd, RECV_HEARTBEAT_MS) < 0) {
        free(r.bufs);
        return net_err_errno(err, errno, "cannot set up the server socket");
    }
    while (!udp_server_signalled(srv)) {
        int n;

        if (r.busy) {
            n = serve_batch(srv, &r);
            if (n >= 0) {
                count_received(srv, &r, n);
                count_batch(&r, n);
            }
        } else {
            n = serve_one(srv, &r);
            if (n > 0 && srv->opt->once)
                break;
        }
        if (n < 0) {
            /* a heartbeat, a signal, or an ICMP error for an earlier reply: none ends the
             * server */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                errno == ECONNREFUSED) {
                count_received(srv, &r, 0);
                continue;
            }
            rc = net_err_errno(err, errno, "cannot receive datagrams");
            break;
        }
    }
    free(r.bufs);
    return rc;
}
