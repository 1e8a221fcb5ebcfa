/* stream.c - stream mode: streams that send for -t seconds and count what comes back.
 *
 * Every other mode keeps one message in flight, so nothing ever fills a queue. Here each of
 * -P streams sends without waiting for its echo: UDP at a paced rate (--rate, 1 Mbit/s by
 * default), TCP as fast as the connection takes (or paced). The network, not the program,
 * becomes the limit: a UDP stream over a slower link loses what does not fit; a TCP stream
 * slows down to the link's rate, and TCP_INFO shows how (cwnd, resends, RTT). */
#include "stream.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "datagram.h"
#include "open.h"
#include "probe.h"
#include "signals.h"
#include "sock.h"
#include "tcpinfo.h"

/* Poll slots: the signal pipe, then one per stream. */
enum { POLL_SIGNALS, POLL_FIRST_STREAM };

static double ms_since(const struct stream_run *r, double now)
{
    return now - r->start_ms;
}

/* Another connected socket to the same server (the first stream uses t's), non-blocking. */
static int open_stream(struct stream_run *r, struct stream *s, unsigned i, struct net_error *err)
{
    int fd = i == 0 ? r->t->fd
                    : net_open_connected((struct sockaddr *)&r->t->peer, r->t->peerlen,
                                         r->tcp ? SOCK_STREAM : SOCK_DGRAM, r->opt->bind,
                                         &r->opt->so, err);

    if (fd < 0)
        return -1;
    if (sock_nonblocking(fd) < 0) {
        net_err_errno(err, errno, "cannot make a stream's socket non-blocking");
        if (i > 0)
            sock_close(fd);
        return -1;
    }
    /* --tls: the first stream has the client's session, each other one its own */
    if (i == 0)
        s->tls = r->t->tls;
    else if (r->t->tls_ctx != NULL &&
             (s->tls = tls_connect(r->t->tls_ctx, fd, r->opt->host, r->t->name,
                                   net_opt_handshake_ms(r->opt), err)) == NULL) {
        sock_close(fd);
        return -1;
    }
    return fd;
}

static int stream_alloc(struct stream_run *r, struct stream *s, struct net_error *err)
{
    s->out = malloc(r->size);
    s->in = malloc(r->tcp ? r->size : NET_CLIENT_RECV_SIZE);
    if (!r->tcp) {
        s->book = malloc(sizeof *s->book);
        s->sent_at = calloc(NET_BOOK_WINDOW, sizeof *s->sent_at);
    }
    if (s->out == NULL || s->in == NULL || (!r->tcp && (s->book == NULL || s->sent_at == NULL)))
        return net_err_errno(err, ENOMEM, "cannot allocate a stream's buffers");
    if (r->tcp)
        memset(s->out, 'x', r->size);
    else
        net_book_init(s->book, 0);
    return 0;
}

int net_stream_open(struct stream_run *r, struct net_error *err)
{
    r->streams = calloc(r->n, sizeof *r->streams);
    r->pfds = calloc(POLL_FIRST_STREAM + r->n, sizeof *r->pfds);
    if (r->streams == NULL || r->pfds == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate %u streams", r->n);
    for (unsigned i = 0; i < r->n; i++)
        r->streams[i].fd = -1;
    for (unsigned i = 0; i < r->n; i++) {
        struct stream *s = &r->streams[i];

        if (stream_alloc(r, s, err) < 0 || (s->fd = open_stream(r, s, i, err)) < 0)
            return -1;
    }
    return 0;
}

void net_stream_close(struct stream_run *r)
{
    for (unsigned i = 0; r->streams != NULL && i < r->n; i++) {
        struct stream *s = &r->streams[i];

        /* the first stream's socket is the client's, closed by its owner */
        if (i > 0 && s->fd >= 0) {
            tls_session_free(s->tls);
            sock_close(s->fd);
        }
        free(s->out);
        free(s->in);
        free(s->book);
        free(s->sent_at);
    }
    free(r->streams);
    free(r->pfds);
    r->streams = NULL;
    r->pfds = NULL;
}

/* UDP: send every datagram the pacing allows now. Each carries its sequence number and send
 * time, so its echo tells which it was and how long the round trip took. */
static int send_datagrams(struct stream_run *r, struct stream *s, double now, struct net_error *err)
{
    while (net_pace_wait(&s->pace, now) == 0) {
        uint32_t seq = s->book->next;
        ssize_t n;

        net_probe_encode(s->out, r->size, seq, (uint64_t)(ms_since(r, now) * 1000));
        n = net_send(s->fd, s->tls, s->out, r->size);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 1; /* the socket buffer is full: wait until poll() says there is room */
        /* an earlier datagram drew an ICMP port unreachable: this one was not sent */
        if (n < 0 && errno == ECONNREFUSED)
            continue;
        if (n < 0)
            return net_err_errno(err, errno, "cannot send a %zu-byte datagram to %s", r->size,
                                 r->t->name);
        net_book_send(s->book);
        s->sent_at[seq % NET_BOOK_WINDOW] = (float)ms_since(r, now);
        s->bytes_out += (uint64_t)n;
        net_pace_sent(&s->pace, r->size, now);
    }
    return 0;
}

/* TCP: hand the socket what the pacing allows, a message of -s bytes at a time. */
static int send_bytes(struct stream_run *r, struct stream *s, double now, struct net_error *err)
{
    for (;;) {
        ssize_t n;

        if (s->out_off == 0 && net_pace_wait(&s->pace, now) > 0)
            return 0;
        n = net_send(s->fd, s->tls, s->out + s->out_off, r->size - s->out_off);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 1;
        if (n < 0)
            return net_err_errno(err, errno, "cannot send to %s", r->t->name);
        if (s->out_off == 0)
            net_pace_sent(&s->pace, r->size, now);
        s->out_off = (s->out_off + (size_t)n) % r->size;
        s->bytes_out += (uint64_t)n;
    }
}

/* UDP: take one echo. Its header says which datagram it answers and when that left. */
static void take_echo(struct stream_run *r, struct stream *s, size_t len, double now)
{
    uint32_t seq;
    uint64_t t_us;
    bool reordered;
    double rtt;

    if (len != r->size || net_probe_decode(s->in, len, &seq, &t_us) < 0) {
        r->invalid++;
        return;
    }
    s->bytes_in += len;
    if (net_book_reply(s->book, seq, &reordered) != NET_REPLY_OK)
        return;
    rtt = ms_since(r, now) - (double)t_us / 1000;
    net_stats_add(&r->rtt, rtt);
    net_jitter_add(&s->jitter, rtt);
}

/* Read everything that has come back; -1 with err on a failure that ends the run. */
static int receive(struct stream_run *r, struct stream *s, struct net_error *err)
{
    for (;;) {
        bool truncated = false;
        ssize_t n = r->tcp
                        ? net_recv(s->fd, s->tls, s->in, r->size)
                        : net_recv_datagram(s->fd, s->tls, s->in, NET_CLIENT_RECV_SIZE, &truncated);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        /* UDP: the port unreachable of one datagram; the next may find the server back */
        if (n < 0 && errno == ECONNREFUSED && !r->tcp)
            continue;
        if (n < 0)
            return net_err_errno(err, errno, "cannot receive from %s", r->t->name);
        if (n == 0 && r->tcp) {
            s->closed = true; /* the server's FIN: everything has come back */
            return 0;
        }
        r->last_progress_ms = net_now_ms();
        if (r->tcp)
            s->bytes_in += (uint64_t)n;
        else
            take_echo(r, s, (size_t)n, net_now_ms());
    }
}

/* UDP: a datagram whose echo has not come within -W (or before a whole window of later ones
 * was sent) is lost. Returns ms until the oldest pending one is due (-1: none pending). */
static double expire(struct stream_run *r, struct stream *s, double now)
{
    double wait_ms = r->opt->timeout * 1000;

    while (s->oldest != s->book->next) {
        double due = s->sent_at[s->oldest % NET_BOOK_WINDOW] + wait_ms;
        bool window_full = s->book->next - s->oldest >= NET_BOOK_WINDOW - 1;

        /* answered already: settled, nothing to wait for */
        if (!net_book_pending(s->book, s->oldest)) {
            s->oldest++;
            continue;
        }
        if (due > ms_since(r, now) && !window_full)
            return due - ms_since(r, now);
        if (net_book_expire(s->book, s->oldest))
            s->lost++;
        s->oldest++;
    }
    return -1;
}

/* The sooner of two waits (-1: none). */
static double sooner(double a, double b)
{
    return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* Send and take what each stream can now; returns ms until something is due. */
static int step(struct stream_run *r, double now, bool sending, double *wait_ms,
                struct net_error *err)
{
    *wait_ms = -1;
    for (unsigned i = 0; i < r->n; i++) {
        struct stream *s = &r->streams[i];
        struct pollfd *p = &r->pfds[POLL_FIRST_STREAM + i];
        int full = 0;

        if ((p->revents & (POLLIN | POLLERR | POLLHUP)) && receive(r, s, err) < 0)
            return -1;
        if (sending && !s->closed)
            full = r->tcp ? send_bytes(r, s, now, err) : send_datagrams(r, s, now, err);
        if (full < 0)
            return -1;
        p->fd = s->closed ? -1 : s->fd;
        p->events = (short)(POLLIN | (full ? POLLOUT : 0));
        if (sending && !full)
            *wait_ms = sooner(*wait_ms, net_pace_wait(&s->pace, now));
        if (!r->tcp && !r->one_way)
            *wait_ms = sooner(*wait_ms, expire(r, s, now));
    }
    return 0;
}

/* Wait, to a fraction of a millisecond: pacing at a high rate needs it. */
static int wait_ready(struct stream_run *r, double wait_ms)
{
    r->pfds[POLL_SIGNALS] = (struct pollfd){.fd = net_signal_fd(), .events = POLLIN};
    for (unsigned i = 0; i < r->n; i++)
        r->pfds[POLL_FIRST_STREAM + i].revents = 0;
    if (net_poll_ms(r->pfds, POLL_FIRST_STREAM + r->n, wait_ms) < 0 && errno != EINTR)
        return -1;
    return 0;
}

/* --one-way TCP: nothing comes back, but the acknowledgements say the data is moving. */
static void watch_acks(struct stream_run *r, double now)
{
    uint64_t acked = 0;
    struct net_tcpinfo ti;

    for (unsigned i = 0; i < r->n; i++)
        if (net_tcpinfo_read(r->streams[i].fd, &ti) == 0)
            acked += ti.bytes_acked;
    if (acked > r->acked)
        r->last_progress_ms = now;
    r->acked = acked;
}

/* Sending has stopped (-t is up, or Ctrl-C): the interval that ends here, then TCP's FIN. */
static void stop_sending(struct stream_run *r, double now)
{
    if (ms_since(r, now) / 1000 - r->reported_s >= 0.01)
        net_stream_report(r, now);
    r->sent_ms = ms_since(r, now);
    r->sending = false;
    if (r->tcp)
        net_stream_shut(r);
}

int net_stream_run(struct stream_run *r, struct net_error *err)
{
    double end, drain_end;

    r->start_ms = net_now_ms();
    r->next_report_ms = r->start_ms + r->every * 1000;
    end = r->start_ms + r->seconds * 1000;
    drain_end = end + r->opt->timeout * 1000;
    for (unsigned i = 0; i < r->n; i++)
        net_pace_start(&r->streams[i].pace, r->rate / r->n, r->start_ms);
    r->sending = true;
    for (;;) {
        double now = net_now_ms(), wait_ms;

        if (r->sending && (now >= end || net_signal_stopping()))
            stop_sending(r, now);
        if (step(r, now, r->sending, &wait_ms, err) < 0)
            return -1;
        if (r->sending && now >= r->next_report_ms) {
            net_stream_report(r, now);
            /* held up past a whole interval: that line covered it, and the next one comes
             * on the schedule again, after at least half an interval */
            while (r->next_report_ms < now + r->every * 500)
                r->next_report_ms += r->every * 1000;
        }
        /* TCP's echoes (or acknowledgements) queue behind everything sent: wait while they
         * keep coming */
        if (r->tcp && r->one_way && !r->sending)
            watch_acks(r, now);
        if (r->tcp && r->last_progress_ms + r->opt->timeout * 1000 > drain_end)
            drain_end = r->last_progress_ms + r->opt->timeout * 1000;
        if (!r->sending && (net_stream_settled(r) || now >= drain_end || net_signal_stopping()))
            return 0;
        if (r->sending)
            wait_ms = sooner(sooner(wait_ms, r->next_report_ms - now), end - now);
        else
            wait_ms = sooner(wait_ms, r->tcp && r->one_way ? 100 : drain_end - now);
        if (wait_ready(r, wait_ms < 0 ? 0 : wait_ms) < 0)
            return net_err_errno(err, errno, "poll failed");
        if (net_signal_take_usr1())
            net_stream_counters(r, net_now_ms());
    }
}

void net_stream_shut(struct stream_run *r)
{
    /* FIN: that was all; the server echoes what is in flight, then closes its side */
    for (unsigned i = 0; i < r->n; i++)
        if (!r->streams[i].closed)
            net_shutdown_write(r->streams[i].fd, r->streams[i].tls);
    r->shut = true;
}

bool net_stream_echoed(const struct stream_run *r)
{
    for (unsigned i = 0; i < r->n; i++)
        if (r->streams[i].bytes_in > 0)
            return true;
    return false;
}

bool net_stream_settled(const struct stream_run *r)
{
    for (unsigned i = 0; i < r->n; i++) {
        const struct stream *s = &r->streams[i];

        if (r->tcp ? !s->closed : !r->one_way && s->oldest != s->book->next)
            return false;
    }
    return true;
}

/* Bytes per message when -s does not say. A paced TCP stream writes at least 100 times a
 * second, so its rate holds over an interval: at 10 Mbit/s, 12,500 bytes at a time. */
static size_t message_size(const struct net_options *opt)
{
    size_t paced;

    if (opt->size_set)
        return opt->size;
    if (opt->proto == NET_UDP)
        return NET_DEFAULT_UDP_STREAM_SIZE;
    paced = (size_t)(opt->rate / 8 / 100);
    if (!opt->rate_set || opt->rate <= 0 || paced >= NET_DEFAULT_TCP_STREAM_SIZE)
        return NET_DEFAULT_TCP_STREAM_SIZE;
    return paced > NET_DEFAULT_SIZE ? paced : NET_DEFAULT_SIZE;
}

int net_measure_stream(const struct net_options *opt, struct net_target *t, struct net_error *err)
{
    bool tcp = opt->proto == NET_TCP;
    struct stream_run r = {
        .opt = opt,
        .t = t,
        .tcp = tcp,
        .size = message_size(opt),
        .n = opt->parallel > 0 ? opt->parallel : 1,
        .rate = opt->rate_set ? opt->rate
                : tcp         ? 0
                              : NET_DEFAULT_UDP_RATE,
        .seconds = opt->duration > 0 ? opt->duration : NET_DEFAULT_STREAM_SECONDS,
        .every = opt->every,
        .one_way = opt->one_way,
    };
    struct net_error csv_err;
    int rc;

    if (net_stats_init(&r.rtt) < 0)
        return net_err_errno(err, ENOMEM, "cannot allocate the RTT statistics");
    rc = net_csv_open(&r.csv, opt->csv, net_stream_csv_header, err);
    if (rc == 0)
        rc = net_stream_open(&r, err);
    if (rc == 0) {
        net_stream_start(&r);
        rc = net_stream_run(&r, err);
    }
    if (rc == 0) {
        /* rates are over the time spent sending, as iperf3 gives them */
        net_stream_summary(&r, r.sent_ms);
        rc = r.one_way || net_stream_echoed(&r) ? 0 : 1;
    }
    if (net_csv_close(&r.csv, &csv_err) < 0 && rc >= 0) {
        *err = csv_err;
        rc = -1;
    }
    net_stream_close(&r);
    net_stats_free(&r.rtt);
    return rc;
}
