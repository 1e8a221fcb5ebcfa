/* load.c - load mode: PARALLEL sockets to one server, each with one request in flight. */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "datagram.h"
#include "json.h"
#include "open.h"
#include "probe.h"
#include "report.h"
#include "rto.h"
#include "signals.h"
#include "sock.h"
#include "stats.h"
#include "wait.h"

/* Load mode's duration when -t does not say. */
#define LOAD_SECONDS 5.0

/* Poll slots: the signal pipe, then one per socket of the load. */
enum { POLL_SIGNALS, POLL_FIRST_SOCKET };

/* One socket of the load, with its one request in flight. */
struct load_conn {
    int fd;
    SSL *tls; /* --tls: the session on fd, or NULL */
    uint32_t seq;
    double first_at;  /* when the request was first sent: its transaction's RTT counts from here */
    double sent_at;   /* when it was last sent */
    unsigned resends; /* UDP: times the request went again, its reply overdue */
    size_t sent, got; /* bytes of the request sent, of the reply received */
    bool busy;        /* a request is in flight */
    char *req, *resp;
};

struct load_run {
    const struct net_options *opt;
    struct net_target *t;
    bool stream;
    size_t size;
    unsigned n;
    struct load_conn *conns;
    struct pollfd *pfds; /* POLL_SIGNALS, then conns[i] at POLL_FIRST_SOCKET + i */
    struct net_stats stats;
    double start_ms;
    uint64_t transactions, errors, lost;
    uint64_t stale;     /* UDP: replies to requests already answered or given up on */
    uint64_t resent;    /* UDP: requests sent again after their timeout */
    struct net_rto rto; /* UDP: when an unanswered request goes again */
};

/* Another connected socket to the same server, non-blocking, with its own session (--tls). */
static int open_conn(struct load_run *lr, struct load_conn *c, struct net_error *err)
{
    int fd =
        net_open_connected((struct sockaddr *)&lr->t->peer, lr->t->peerlen,
                           lr->stream ? SOCK_STREAM : SOCK_DGRAM, lr->opt->bind, &lr->opt->so, err);

    if (fd < 0)
        return -1;
    if (sock_nonblocking(fd) < 0 || (lr->stream && !lr->opt->nagle && sock_nodelay(fd) < 0)) {
        net_err_errno(err, errno, "cannot set up a load connection");
        sock_close(fd);
        return -1;
    }
    if (lr->t->tls_ctx != NULL &&
        (c->tls = tls_connect(lr->t->tls_ctx, fd, lr->opt->host, lr->t->name,
                              net_opt_handshake_ms(lr->opt), err)) == NULL) {
        sock_close(fd);
        return -1;
    }
    return fd;
}

/* Put a fresh request in flight on c; push_request sends it. */
static void start_request(struct load_run *lr, struct load_conn *c, uint32_t seq)
{
    c->seq = seq;
    c->sent = c->got = 0;
    c->busy = true;
    c->resends = 0;
    c->first_at = c->sent_at = net_now_ms();
    net_probe_encode(c->req, lr->size, seq, (uint64_t)((c->sent_at - lr->start_ms) * 1000));
}

static int push_request(struct load_run *lr, struct load_conn *c, struct net_error *err)
{
    while (c->sent < lr->size) {
        ssize_t n = net_send(c->fd, c->tls, c->req + c->sent, lr->size - c->sent);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n < 0)
            return net_err_errno(err, errno, "cannot send to %s", lr->t->name);
        c->sent += (size_t)n;
        if (!lr->stream)
            break;
    }
    return 0;
}

/* UDP: one datagram for c. A probe of this run with another sequence number is a copy of
 * an earlier reply, or one that came after its -W: stale, counted and dropped, so one
 * duplicate or late reply cannot knock the socket out of step. Anything else that is not
 * the request, byte for byte, is an error. 1 when it is c's reply, 0 when not. */
static int pull_datagram(struct load_run *lr, struct load_conn *c, struct net_error *err)
{
    bool truncated;
    uint32_t seq;
    uint64_t t;
    ssize_t n = net_recv_datagram(c->fd, c->tls, c->resp, NET_CLIENT_RECV_SIZE, &truncated);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "cannot receive from %s", lr->t->name);
    if ((size_t)n == lr->size && !truncated && memcmp(c->req, c->resp, lr->size) == 0) {
        c->got = lr->size;
        return 1;
    }
    if ((size_t)n == lr->size && !truncated && net_probe_decode(c->resp, lr->size, &seq, &t) == 0 &&
        seq != c->seq)
        lr->stale++;
    else
        lr->errors++;
    return 0;
}

/* Read what has arrived for c; 1 when its reply is complete, 0 when not yet, -1 on error. */
static int pull_reply(struct load_run *lr, struct load_conn *c, struct net_error *err)
{
    ssize_t n;

    if (!lr->stream)
        return pull_datagram(lr, c, err);
    n = net_recv(c->fd, c->tls, c->resp + c->got, lr->size - c->got);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "cannot receive from %s", lr->t->name);
    if (n == 0)
        return net_err_words(err, NET_ERR_PROTOCOL, "the server closed a connection", "load on %s",
                             lr->t->name);
    c->got += (size_t)n;
    return c->got >= lr->size ? 1 : 0;
}

static void finish_reply(struct load_run *lr, struct load_conn *c)
{
    double now = net_now_ms();

    /* every reply is checked byte for byte against the request it answers */
    if (memcmp(c->req, c->resp, lr->size) != 0) {
        lr->errors++;
    } else {
        lr->transactions++;
        net_stats_add(&lr->stats, now - c->first_at);
        if (!lr->stream && c->resends == 0)
            net_rto_sample(&lr->rto, now - c->sent_at);
    }
    c->busy = false;
}

/* UDP: when c's request goes again (its reply overdue by the measured RTT: net_rto), and
 * when it is given up on (-W after it first went). */
static double resend_at(const struct load_run *lr, const struct load_conn *c)
{
    return c->sent_at + net_rto_for(&lr->rto, c->resends);
}

static double give_up_at(const struct load_run *lr, const struct load_conn *c)
{
    return c->first_at + lr->opt->timeout * 1000;
}

/* UDP: a request whose reply is overdue goes again, so one lost datagram stalls its socket
 * for about one round trip, not for -W; unanswered for -W, it is lost and the socket moves
 * on. Returns 0, or -1 with err. */
static int overdue(struct load_run *lr, struct load_conn *c, double now, struct net_error *err)
{
    if (now > give_up_at(lr, c)) {
        lr->lost++;
        c->busy = false;
        return 0;
    }
    if (now < resend_at(lr, c))
        return 0;
    c->resends++;
    c->sent_at = now;
    c->sent = 0;
    lr->resent++;
    return push_request(lr, c, err);
}

/* UDP: when the next busy socket's timer runs out (INFINITY: none busy). */
static double next_timer(const struct load_run *lr)
{
    double soonest = INFINITY;

    for (unsigned i = 0; !lr->stream && i < lr->n; i++) {
        const struct load_conn *c = &lr->conns[i];

        if (c->busy)
            soonest = fmin(soonest, fmin(resend_at(lr, c), give_up_at(lr, c)));
    }
    return soonest;
}

static int load_open(struct load_run *lr, struct net_error *err)
{
    lr->conns = calloc(lr->n, sizeof *lr->conns);
    lr->pfds = calloc(POLL_FIRST_SOCKET + lr->n, sizeof *lr->pfds);
    if (lr->conns == NULL || lr->pfds == NULL || net_stats_init(&lr->stats) < 0)
        return net_err_errno(err, ENOMEM, "cannot allocate %u connections", lr->n);
    /* none open yet: a failure part way must close only what was opened (0 is stdin) */
    for (unsigned i = 0; i < lr->n; i++)
        lr->conns[i].fd = -1;
    for (unsigned i = 0; i < lr->n; i++) {
        struct load_conn *c = &lr->conns[i];

        c->req = malloc(lr->size);
        c->resp = malloc(lr->stream ? lr->size : NET_CLIENT_RECV_SIZE);
        if (c->req == NULL || c->resp == NULL)
            return net_err_errno(err, ENOMEM, "cannot allocate request buffers");
        c->fd = i == 0 ? lr->t->fd : open_conn(lr, c, err);
        if (c->fd < 0)
            return -1;
        if (i == 0)
            c->tls = lr->t->tls; /* the client's own, as the socket is */
        if (i == 0 && sock_nonblocking(c->fd) < 0)
            return net_err_errno(err, errno, "cannot make a socket non-blocking");
    }
    return 0;
}

static void load_close(struct load_run *lr)
{
    for (unsigned i = 0; lr->conns && i < lr->n; i++) {
        if (i > 0 && lr->conns[i].fd >= 0) {
            tls_session_free(lr->conns[i].tls);
            sock_close(lr->conns[i].fd);
        }
        free(lr->conns[i].req);
        free(lr->conns[i].resp);
    }
    free(lr->conns);
    free(lr->pfds);
    net_stats_free(&lr->stats);
}

/* One pass over the sockets poll() found ready. */
static int load_step(struct load_run *lr, bool sending, uint32_t *seq, struct net_error *err)
{
    double now = net_now_ms();

    for (unsigned i = 0; i < lr->n; i++) {
        struct load_conn *c = &lr->conns[i];
        short ev = lr->pfds[POLL_FIRST_SOCKET + i].revents;
        int rc;

        if (c->busy && (ev & POLLOUT) && push_request(lr, c, err) < 0)
            return -1;
        if (c->busy && (ev & (POLLIN | POLLERR | POLLHUP))) {
            rc = pull_reply(lr, c, err);
            if (rc < 0)
                return -1;
            if (rc == 1)
                finish_reply(lr, c);
        }
        if (c->busy && !lr->stream && overdue(lr, c, now, err) < 0)
            return -1;
        if (!c->busy && sending) {
            start_request(lr, c, (*seq)++);
            if (push_request(lr, c, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* What poll() waits for: replies and room to send on the busy sockets, and signals.
 * Returns how many sockets have a request in flight. */
static unsigned load_poll_set(struct load_run *lr)
{
    unsigned busy = 0;

    /* once stopping, the pipe stays readable: leave it out, or poll() would spin */
    lr->pfds[POLL_SIGNALS].fd = net_signal_stopping() ? -1 : net_signal_fd();
    lr->pfds[POLL_SIGNALS].events = POLLIN;
    for (unsigned i = 0; i < lr->n; i++) {
        struct load_conn *c = &lr->conns[i];
        struct pollfd *p = &lr->pfds[POLL_FIRST_SOCKET + i];

        p->fd = c->fd;
        p->events = (short)(c->busy ? POLLIN : 0);
        if (c->busy && c->sent < lr->size)
            p->events |= POLLOUT;
        p->revents = 0;
        busy += c->busy;
    }
    return busy;
}

static void load_report(struct load_run *lr, double seconds)
{
    struct net_rtt rtt;
    double tps = seconds > 0 ? (double)lr->transactions / seconds : 0;
    double bps = tps * (double)lr->size * 8;

    net_stats_summary(&lr->stats, &rtt);
    if (net_out_json()) {
        struct net_json j;

        net_report_json_head(&j, "load", lr->opt, lr->t);
        net_json_int(&j, "parallel", lr->n);
        net_json_int(&j, "size", (long long)lr->size);
        net_json_num(&j, "seconds", seconds, 3);
        net_json_int(&j, "transactions", (long long)lr->transactions);
        net_json_num(&j, "transactions_per_second", tps, 1);
        net_json_num(&j, "bits_per_second", bps, 0);
        net_json_int(&j, "errors", (long long)lr->errors);
        net_json_int(&j, "lost", (long long)lr->lost);
        net_json_int(&j, "stale", (long long)lr->stale);
        if (!lr->stream)
            net_json_int(&j, "resent", (long long)lr->resent);
        net_report_rtt_json(&j, &rtt);
        net_json_end(&j, stdout);
        return;
    }
    printf("--- %s %s load ---\n", lr->t->name, net_out_prog());
    printf("%llu transactions in %.3f s: %.0f transactions/s, %.2f Mbit/s each way, "
           "%llu lost, %llu errors",
           (unsigned long long)lr->transactions, seconds, tps, bps / 1e6,
           (unsigned long long)lr->lost, (unsigned long long)lr->errors);
    if (lr->stale)
        printf(", %llu stale", (unsigned long long)lr->stale);
    if (lr->resent)
        printf(", %llu resent", (unsigned long long)lr->resent);
    putchar('\n');
    net_report_rtt_lines(&rtt);
}

/* SIGUSR1: the load's counters so far on one line, and the run goes on. */
static void load_counters(struct load_run *lr)
{
    if (net_out_json()) {
        struct net_json j;

        net_report_json_head(&j, "counters", lr->opt, lr->t);
        net_json_int(&j, "transactions", (long long)lr->transactions);
        net_json_int(&j, "errors", (long long)lr->errors);
        net_json_int(&j, "lost", (long long)lr->lost);
        net_json_int(&j, "stale", (long long)lr->stale);
        net_json_num(&j, "time_ms", net_now_ms() - lr->start_ms, 0);
        net_json_end(&j, stdout);
        return;
    }
    printf("counters: %llu transactions, %llu lost, %llu errors, %llu stale, time %.0f ms\n",
           (unsigned long long)lr->transactions, (unsigned long long)lr->lost,
           (unsigned long long)lr->errors, (unsigned long long)lr->stale,
           net_now_ms() - lr->start_ms);
}

int net_measure_load(const struct net_options *opt, struct net_target *t, struct net_error *err)
{
    struct load_run lr = {.opt = opt,
                          .t = t,
                          .stream = opt->proto == NET_TCP,
                          .size = opt->size,
                          .n = opt->parallel ? opt->parallel : 1};
    double seconds = opt->duration > 0 ? opt->duration : LOAD_SECONDS, end, stopped_at;
    uint32_t seq = 1;
    int rc = -1;

    if (load_open(&lr, err) < 0)
        goto out;
    if (!net_out_json() && !net_out_quiet())
        printf("%s %s: load, %u %s, %zu bytes, %.1f s\n", net_report_title(opt->proto), t->name,
               lr.n, lr.stream ? "connections" : "sockets", lr.size, seconds);
    /* RFC 6298's first timeout, 1 s, or -W if shorter */
    net_rto_init(&lr.rto, fmin(1000, opt->timeout * 1000), opt->timeout * 1000);
    lr.start_ms = net_now_ms();
    end = lr.start_ms + seconds * 1000;
    stopped_at = end;
    for (;;) {
        double now = net_now_ms();
        bool sending = now < end && !net_signal_stopping();
        double wake;
        unsigned busy;

        if (!sending && stopped_at > now)
            stopped_at = now;
        if (net_signal_take_usr1())
            load_counters(&lr);
        if (load_step(&lr, sending, &seq, err) < 0)
            goto out;
        busy = load_poll_set(&lr);
        /* after the last request, wait at most -W for what is still in flight */
        if (busy == 0 || (!sending && now - stopped_at > opt->timeout * 1000))
            break;
        /* wake for replies, for the end of the run or of its last wait, and for a UDP
         * request's timer */
        wake = fmin(next_timer(&lr), sending ? end : stopped_at + opt->timeout * 1000);
        if (net_poll_ms(lr.pfds, POLL_FIRST_SOCKET + lr.n, fmax(wake - now, 0)) < 0 &&
            errno != EINTR) {
            net_err_errno(err, errno, "poll failed");
            goto out;
        }
    }
    load_report(&lr, (stopped_at - lr.start_ms) / 1000);
    rc = lr.transactions > 0 && lr.errors == 0 ? 0 : 1;
out:
    load_close(&lr);
    return rc;
}
