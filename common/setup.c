/* setup.c - what setting up costs: a new connection, and session, for every probe.
 *
 * netperf's TCP_CRR and echoping's model: each probe opens a socket, connects (TCP's
 * three-way handshake; for UDP a local call that sends nothing), with --tls runs a TLS or
 * DTLS handshake, sends one probe, waits for its echo and closes. The three are timed
 * apart, so a student can say what share of a short exchange is set-up. --resume offers
 * the last session to the next connection, and the server may skip the certificate and the
 * key exchange. */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "datagram.h"
#include "json.h"
#include "open.h"
#include "probe.h"
#include "report.h"
#include "signals.h"
#include "sock.h"
#include "stats.h"
#include "wait.h"

/* Probes when -c does not say. */
#define SETUP_COUNT 10

struct setup_run {
    const struct net_options *opt;
    struct net_target *t;
    bool tls, stream;
    char *out, *in;
    struct net_stats connect, handshake, rtt;
    SSL_SESSION *offer; /* --resume: the session to offer next */
    uint64_t sent, answered, resumed;
    double start_ms;
};

/* The echo of the probe in r->out, whole, by the deadline: 0, or -1 with errno. */
static int await_echo(struct setup_run *r, int fd, SSL *tls, double deadline)
{
    size_t got = 0;

    while (got < r->opt->size) {
        bool truncated = false;
        ssize_t n;

        if ((tls == NULL || !tls_pending(tls)) &&
            net_wait_readable(fd, net_ms_until(deadline)) <= 0) {
            if (errno != EINTR)
                errno = ETIMEDOUT;
            return -1;
        }
        n = r->stream ? net_recv(fd, tls, r->in + got, r->opt->size - got)
                      : net_recv_datagram(fd, tls, r->in, NET_CLIENT_RECV_SIZE, &truncated);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return n == 0 ? (errno = ECONNRESET, -1) : -1;
        got = r->stream ? got + (size_t)n : (size_t)n;
    }
    return memcmp(r->in, r->out, r->opt->size) == 0 ? 0 : (errno = EPROTO, -1);
}

/* One probe on a socket of its own: its three times in ms (handshake -1 without --tls). */
static int one_probe(struct setup_run *r, uint32_t seq, double ms[3], bool *resumed,
                     struct net_error *err)
{
    double t0 = net_now_ms(), t1, t2;
    SSL *tls = NULL;
    int fd =
        net_open_connected((struct sockaddr *)&r->t->peer, r->t->peerlen,
                           r->stream ? SOCK_STREAM : SOCK_DGRAM, r->opt->bind, &r->opt->so, err);
    int rc = -1;

    if (fd < 0)
        return -1;
    t1 = net_now_ms();
    if (r->tls) {
        tls = tls_connect_offering(r->t->tls_ctx, fd, r->opt->host, r->t->name,
                                   net_opt_handshake_ms(r->opt), r->offer, err);
        if (tls == NULL)
            goto out;
        *resumed = tls_resumed(tls);
        /* a datagram without a message of the user's must not hold a read */
        if (!r->stream && sock_nonblocking(fd) < 0)
            goto out;
    }
    t2 = net_now_ms();
    net_probe_encode(r->out, r->opt->size, seq, (uint64_t)((t2 - r->start_ms) * 1000));
    for (size_t off = 0; off < r->opt->size;) {
        ssize_t n = net_send(fd, tls, r->out + off, r->opt->size - off);

        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            net_err_errno(err, errno, "cannot send to %s", r->t->name);
            goto out;
        }
        off += n > 0 ? (size_t)n : 0;
    }
    rc = await_echo(r, fd, tls, t2 + r->opt->timeout * 1000);
    ms[0] = t1 - t0;
    ms[1] = tls != NULL ? t2 - t1 : -1;
    ms[2] = net_now_ms() - t2;
    if (rc < 0)
        net_err_errno(err, errno, "no echo from %s", r->t->name);
    if (rc == 0 && r->opt->resume) {
        tls_offer_free(r->offer);
        r->offer = tls_offer_of(tls); /* its tickets came before the echo */
    }
out:
    if (tls != NULL) {
        tls_close_notify(tls);
        tls_session_free(tls);
    }
    sock_close(fd);
    return rc;
}

static void report_probe(const struct setup_run *r, uint32_t seq, const double ms[3], bool resumed)
{
    struct net_json j;

    if (net_out_json()) {
        net_report_json_head(&j, "setup", r->opt, r->t);
        net_json_int(&j, "seq", seq);
        net_json_num(&j, "connect_ms", ms[0], 3);
        if (ms[1] >= 0) {
            net_json_num(&j, "handshake_ms", ms[1], 3);
            net_json_bool(&j, "resumed", resumed);
        }
        net_json_num(&j, "rtt_ms", ms[2], 3);
        net_json_end(&j, stdout);
    } else if (ms[1] >= 0) {
        printf("seq=%u connect=%.3f ms handshake=%.3f ms%s rtt=%.3f ms\n", seq, ms[0], ms[1],
               resumed ? " (resumed)" : "", ms[2]);
    } else {
        printf("seq=%u connect=%.3f ms rtt=%.3f ms\n", seq, ms[0], ms[2]);
    }
}

/* min/avg/max/mdev of one of the three, as ping prints an RTT. */
static void line_of(const char *name, struct net_stats *s)
{
    struct net_rtt v;

    net_stats_summary(s, &v);
    printf("%-9s min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", name, v.min, v.avg, v.max, v.mdev);
}

static void json_of(struct net_json *j, const char *key, struct net_stats *s)
{
    struct net_rtt v;

    net_stats_summary(s, &v);
    net_json_object(j, key);
    net_json_num(j, "min", v.min, 3);
    net_json_num(j, "avg", v.avg, 3);
    net_json_num(j, "max", v.max, 3);
    net_json_num(j, "mdev", v.mdev, 3);
    net_json_close(j);
}

/* The summary: how many, and each of the three; set-up's share of the whole exchange. */
static void report_summary(struct setup_run *r)
{
    double setup = r->connect.sum + r->handshake.sum, all = setup + r->rtt.sum;
    double share = all > 0 ? 100 * setup / all : 0;
    struct net_json j;

    if (net_out_json()) {
        net_report_json_head(&j, "summary", r->opt, r->t);
        net_json_int(&j, "probes", (long long)r->sent);
        net_json_int(&j, "answered", (long long)r->answered);
        if (r->tls)
            net_json_int(&j, "resumed", (long long)r->resumed);
        json_of(&j, "connect_ms", &r->connect);
        if (r->tls)
            json_of(&j, "handshake_ms", &r->handshake);
        json_of(&j, "rtt_ms", &r->rtt);
        net_json_num(&j, "setup_share_pct", share, 1);
        net_json_end(&j, stdout);
        return;
    }
    printf("--- %s %s set-up statistics ---\n", r->t->name,
           r->opt->proto == NET_UDP ? "udp-echo" : "tcp-echo");
    printf("%llu probes, %llu answered", (unsigned long long)r->sent,
           (unsigned long long)r->answered);
    if (r->tls)
        printf(", %llu sessions resumed", (unsigned long long)r->resumed);
    printf("\n");
    if (r->answered == 0)
        return;
    line_of("connect", &r->connect);
    if (r->tls)
        line_of("handshake", &r->handshake);
    line_of("rtt", &r->rtt);
    printf("set-up is %.1f%% of the time, the echo %.1f%%\n", share, 100 - share);
}

static int setup_init(struct setup_run *r, const struct net_options *opt, struct net_target *t,
                      struct net_error *err)
{
    memset(r, 0, sizeof *r);
    r->opt = opt;
    r->t = t;
    r->tls = t->tls_ctx != NULL;
    r->stream = opt->proto == NET_TCP;
    r->start_ms = net_now_ms();
    r->out = malloc(opt->size);
    r->in = malloc(NET_CLIENT_RECV_SIZE > opt->size ? NET_CLIENT_RECV_SIZE : opt->size);
    if (r->out == NULL || r->in == NULL || net_stats_init(&r->connect) < 0 ||
        net_stats_init(&r->handshake) < 0 || net_stats_init(&r->rtt) < 0)
        return net_err_errno(err, ENOMEM, "cannot allocate the set-up run");
    return 0;
}

static void setup_free(struct setup_run *r)
{
    free(r->out);
    free(r->in);
    net_stats_free(&r->connect);
    net_stats_free(&r->handshake);
    net_stats_free(&r->rtt);
    tls_offer_free(r->offer);
}

int net_measure_setup(const struct net_options *opt, struct net_target *t, struct net_error *err)
{
    long count = opt->count > 0 ? opt->count : SETUP_COUNT;
    struct setup_run r;
    int rc = setup_init(&r, opt, t, err);

    if (rc == 0 && !net_out_json())
        printf("%s %s: a new %s for each of %ld probes of %zu bytes\n",
               net_report_title(opt->proto), t->name,
               r.tls ? (r.stream ? "connection and TLS session" : "socket and DTLS session")
                     : (r.stream ? "connection" : "socket"),
               count, opt->size);
    for (long i = 0; rc == 0 && i < count && !net_signal_stopping(); i++) {
        double ms[3], next = net_now_ms() + opt->interval * 1000;
        bool resumed = false;

        r.sent++;
        if (one_probe(&r, (uint32_t)i + 1, ms, &resumed, err) < 0) {
            /* a lost echo is a result; a failed connect or handshake ends the run */
            if (err->code != ETIMEDOUT || err->kind != NET_ERR_ERRNO)
                rc = -1;
            else if (!net_out_json())
                printf("seq=%ld no echo within %g s\n", i + 1, opt->timeout);
        } else {
            r.answered++;
            r.resumed += resumed;
            net_stats_add(&r.connect, ms[0]);
            if (ms[1] >= 0)
                net_stats_add(&r.handshake, ms[1]);
            net_stats_add(&r.rtt, ms[2]);
            report_probe(&r, (uint32_t)i + 1, ms, resumed);
        }
        while (i + 1 < count && net_ms_until(next) > 0 && !net_signal_stopping())
            net_wait_readable(net_signal_fd(), net_ms_until(next));
        net_signal_take_usr1();
    }
    if (rc == 0 || r.sent > 0)
        report_summary(&r);
    setup_free(&r);
    return rc < 0 ? -1 : r.answered < r.sent;
}
