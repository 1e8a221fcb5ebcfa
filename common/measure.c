/* measure.c - the probe engine: probe and sweep modes, shared by tcp-echo and udp-echo. */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "datagram.h"
#include "peer.h"
#include "probe.h"
#include "report.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"
#include "stats.h"
#include "wait.h"

/* Probes per size in a sweep when -c does not say. */
#define SWEEP_COUNT 3
/* TCP sweep: how many times -W the missing echoes of a size may keep the stream silent. */
#define ECHO_GRACE 10
/* UDP: most replies read at one wake-up (a socket's default buffer holds about 280 small ones) */
#define RECV_BURST 256

enum net_mode net_measure_mode(const struct net_options *opt)
{
    if (opt->stream)
        return NET_MODE_STREAM;
    if (opt->connect_each)
        return NET_MODE_SETUP;
    if (opt->parallel > 0 || opt->duration > 0)
        return NET_MODE_LOAD;
    if (opt->sweep_max > 0)
        return NET_MODE_SWEEP;
    if (opt->count >= 0 || opt->interval_set)
        return NET_MODE_PROBE;
    return opt->message ? NET_MODE_MESSAGE : NET_MODE_STDIN;
}

/* ---- one run of probes at one size ---------------------------------------------------- */

/* What was sent, what came back, and when. */
struct probe_run {
    const struct net_options *opt;
    struct net_target *t;
    bool stream; /* TCP: replies are a byte stream, cut back into probes by size */
    bool lines;  /* a line per probe (probe mode), or only the totals (sweep) */
    size_t size;
    double start_ms; /* time zero of the run, for the t= in each header */
    double timeout_ms;
    struct net_book book;
    struct net_stats stats;
    double sent_at[NET_BOOK_WINDOW]; /* send time of each seq still remembered */
    uint32_t oldest;                 /* no seq before this one is still waiting for its reply */
    char *out;                       /* the probe being sent */
    size_t out_len, out_off;         /* its length, and how much of it the kernel has taken */
    char *expect;                    /* the probe a reply should be, to compare byte for byte */
    char *in;                        /* bytes received; over TCP a partial probe waits here */
    size_t in_len, in_cap;
    struct net_csv csv;               /* --csv: one row per probe */
    uint64_t invalid;                 /* replies that were not probes of this run */
    uint64_t cut;                     /* TCP: replies cut from the stream so far */
    bool stopped;                     /* SIGINT or SIGTERM: send no more */
    const struct net_peer_side *side; /* a peer: what it serves meanwhile, or NULL */
    bool closed;                      /* TCP peer: the other closed the connection */
    uint32_t id;                      /* a peer's id, carried by its probes; 0 for a client */
    bool wait_for_echo; /* TCP sweep: end a size only once every echo is back in the stream */
};

static int run_start(struct probe_run *r, const struct net_options *opt, struct net_target *t,
                     size_t size, struct net_error *err)
{
    r->opt = opt;
    r->t = t;
    r->stream = opt->proto == NET_TCP;
    r->size = size;
    r->timeout_ms = opt->timeout * 1000;
    r->start_ms = net_now_ms();
    net_book_init(&r->book, 1);
    r->oldest = r->book.next;
    r->in_len = 0;
    r->out_len = r->out_off = 0;
    r->invalid = 0;
    r->cut = 0;
    r->stopped = false;
    /* TCP: room for a partial probe and one more read; UDP: for any datagram */
    r->in_cap = r->stream ? size + NET_CLIENT_RECV_SIZE : NET_CLIENT_RECV_SIZE;
    r->out = malloc(size ? size : 1);
    r->expect = malloc(size ? size : 1);
    r->in = malloc(r->in_cap);
    if (r->out == NULL || r->expect == NULL || r->in == NULL || net_stats_init(&r->stats) < 0)
        return net_err_errno(err, ENOMEM, "cannot allocate probe buffers of %zu bytes", size);
    /* one poll() waits for room to send, replies and signals: no call may block */
    if (sock_nonblocking(t->fd) < 0)
        return net_err_errno(err, errno, "cannot make the socket non-blocking");
    return 0;
}

/* Free what run_start allocated, whether or not it got that far. */
static void run_end(struct probe_run *r)
{
    free(r->out);
    free(r->expect);
    free(r->in);
    r->out = r->expect = r->in = NULL;
    net_stats_free(&r->stats);
}

/* Record what happened to one probe: a CSV row, and in probe mode a line as ping prints it. */
static void probe_fate(struct probe_run *r, uint32_t seq, const char *status, double rtt,
                       bool reordered)
{
    net_csv_row(&r->csv, seq, r->size, r->sent_at[seq % NET_BOOK_WINDOW] - r->start_ms, rtt,
                status);
    if (r->lines)
        net_report_probe(r->t, r->size, seq, status, rtt, reordered);
}

/* UDP: an ICMP "port unreachable" comes back as ECONNREFUSED on the next call. Before any
 * reply it means nobody is there (and the caller may try the server's next address); once
 * the server has answered, it means the server went away for a while: say so, and go on,
 * as ping does, since a datagram service may well come back. */
static bool refusal_to_ride_out(struct probe_run *r, int code)
{
    /* a peer has heard the other already, or it would not be probing */
    if (r->stream || code != ECONNREFUSED ||
        (r->side == NULL && r->book.received + r->book.late == 0))
        return false;
    if (r->lines)
        net_report_unreachable(r->t);
    return true;
}

/* UDP: an ICMP "fragmentation needed" for a probe sent with DF (Linux sets it on a datagram
 * that fits the first link, to learn the path MTU) comes back as EMSGSIZE on the next call.
 * That probe is lost; the kernel now knows the path and fragments the next ones. */
static bool too_big_to_ride_out(struct probe_run *r, int code)
{
    bool v6;

    if (r->stream || code != EMSGSIZE)
        return false;
    if (r->lines)
        net_report_too_big(r->t, sock_path_mtu(r->t->fd, &v6));
    return true;
}

static uint64_t t_us(const struct probe_run *r, double when)
{
    return (uint64_t)((when - r->start_ms) * 1000.0);
}

/* Hand the probe being sent to the kernel, as much as it takes without blocking. It is
 * booked as sent once the kernel has taken its first byte (a probe refused with EMSGSIZE
 * never reached the wire, so it cannot be lost). */
static int push_probe(struct probe_run *r, struct net_error *err)
{
    while (r->out_off < r->out_len) {
        ssize_t n = net_send(r->t->fd, r->t->tls, r->out + r->out_off, r->out_len - r->out_off);

        /* a full socket buffer: poll() says when there is room again */
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        /* the refusal was for an earlier probe; this one has not gone yet: send it again */
        if (n < 0 && refusal_to_ride_out(r, errno))
            continue;
        if (n < 0) {
            net_err_errno(err, errno, "cannot send a %zu-byte probe to %s", r->size, r->t->name);
            if (err->code == EMSGSIZE && !r->stream)
                err->hint = net_too_big_hint(r->t->fd, r->size);
            return -1;
        }
        if (r->out_off == 0)
            net_book_send(&r->book);
        r->out_off += (size_t)n;
    }
    return 0;
}

/* Write the next probe and send what the kernel takes of it now. */
static int start_probe(struct probe_run *r, double now, struct net_error *err)
{
    uint32_t seq = r->book.next;

    r->sent_at[seq % NET_BOOK_WINDOW] = now;
    net_probe_encode_from(r->out, r->size, r->id, seq, t_us(r, now));
    r->out_len = r->size;
    r->out_off = 0;
    return push_probe(r, err);
}

static void expire_due(struct probe_run *r, double now);

/* Classify one reply of exactly r->size bytes. Returns -1 when it is not a probe of ours. */
static int on_reply(struct probe_run *r, const char *buf)
{
    double now = net_now_ms();
    enum net_verdict v;
    bool reordered;
    uint32_t from, seq;
    uint64_t t;
    double rtt;

    /* a peer's probes carry its id: a probe with another is the other peer's */
    if (net_probe_decode_from(buf, r->size, &from, &seq, &t) < 0 || from != r->id)
        return -1;
    /* an echo is the probe byte for byte: "seq=017" is not the echo of "seq=17", nor a
     * header with another run's t= */
    net_probe_encode_from(r->expect, r->size, r->id, seq,
                          t_us(r, r->sent_at[seq % NET_BOOK_WINDOW]));
    if (memcmp(buf, r->expect, r->size) != 0)
        return -1;
    /* -W is a deadline from the send: a reply read after it is late, however it was held */
    expire_due(r, now);
    v = net_book_reply(&r->book, seq, &reordered);
    if (v == NET_REPLY_UNKNOWN)
        return -1;
    rtt = now - r->sent_at[seq % NET_BOOK_WINDOW];
    if (v == NET_REPLY_OK)
        net_stats_add(&r->stats, rtt);
    probe_fate(r, seq,
               v == NET_REPLY_OK    ? "ok"
               : v == NET_REPLY_DUP ? "dup"
                                    : "late",
               rtt, reordered);
    return 0;
}

static void not_a_probe(struct probe_run *r, size_t len)
{
    r->invalid++;
    if (r->lines)
        net_report_not_a_probe(r->t, len);
}

/* UDP: one datagram is one reply, and it must be exactly one probe. Returns 1 when a
 * datagram was read, 0 when none was waiting (or an error the run rides out), -1 with err. */
static int receive_datagram(struct probe_run *r, struct net_error *err)
{
    bool truncated;
    ssize_t n = net_recv_datagram(r->t->fd, r->t->tls, r->in, r->in_cap, &truncated);

    if (n < 0 && (errno == EINTR || errno == EAGAIN || refusal_to_ride_out(r, errno) ||
                  too_big_to_ride_out(r, errno)))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "no server answers at %s", r->t->name);
    if ((size_t)n == r->size && !truncated && on_reply(r, r->in) == 0)
        return 1;
    /* a peer's socket also brings the other peer's probes, to answer */
    if (r->side != NULL && !truncated && r->side->foreign(r->side->ctx, r->in, (size_t)n))
        return 1;
    not_a_probe(r, (size_t)n);
    return 1;
}

/* UDP: every reply waiting, up to RECV_BURST. One a wake-up would not do in a flood, where
 * a probe goes out between wake-ups: replies the server sent in a burst would stay queued,
 * and those the socket had no room for would be dropped there and counted as lost. */
static int receive_datagrams(struct probe_run *r, struct net_error *err)
{
    int rc = 1;

    for (int i = 0; i < RECV_BURST && rc == 1; i++)
        rc = receive_datagram(r, err);
    return rc < 0 ? -1 : 0;
}

/* TCP: the echo is a byte stream with no boundaries; cut it into probes of r->size bytes.
 * Anything that does not decode means the stream is corrupted or out of step. */
static int receive_stream(struct probe_run *r, struct net_error *err)
{
    ssize_t n = net_recv(r->t->fd, r->t->tls, r->in + r->in_len, r->in_cap - r->in_len);
    size_t off = 0;

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "cannot receive from %s", r->t->name);
    /* a peer's other end closing is the other peer stopping or gone: no probe can come
     * back any more, and the run ends as after Ctrl-C, with what it has counted */
    if (n == 0 && r->side != NULL) {
        r->closed = r->stopped = true;
        r->out_len = r->out_off = 0;
        if (r->lines)
            net_report_closed(r->t);
        return 0;
    }
    if (n == 0)
        return net_err_words(err, NET_ERR_PROTOCOL, "the server closed the connection",
                             "probing %s", r->t->name);
    r->in_len += (size_t)n;
    for (; r->in_len - off >= r->size; off += r->size, r->cut++) {
        if (on_reply(r, r->in + off) < 0) {
            r->invalid++;
            return net_err_words(err, NET_ERR_PROTOCOL,
                                 "the echo is corrupted or out of step with the probes sent",
                                 "probing %s", r->t->name);
        }
    }
    memmove(r->in, r->in + off, r->in_len - off);
    r->in_len -= off;
    return 0;
}

/* Time out every probe whose wait is over, oldest first; the deadlines come in send order. */
static void expire_due(struct probe_run *r, double now)
{
    while (r->oldest != r->book.next) {
        uint32_t seq = r->oldest;

        if (net_book_pending(&r->book, seq)) {
            if (r->sent_at[seq % NET_BOOK_WINDOW] + r->timeout_ms > now)
                return;
            net_book_expire(&r->book, seq);
            probe_fate(r, seq, "timeout", -1, false);
        }
        r->oldest++;
    }
}

static bool all_settled(struct probe_run *r)
{
    while (r->oldest != r->book.next && !net_book_pending(&r->book, r->oldest))
        r->oldest++;
    return r->oldest == r->book.next;
}

/* Milliseconds to wait (-1: no deadline): until the next send, if one is waiting only for
 * its time, or the oldest probe's deadline. A send that waits for a reply or for room in the
 * bookkeeping is no deadline: the reply that allows it ends the wait. */
static double wait_ms(struct probe_run *r, bool send_due, double next_send, double now)
{
    double until = INFINITY;

    if (!all_settled(r))
        until = r->sent_at[r->oldest % NET_BOOK_WINDOW] + r->timeout_ms;
    if (send_due && next_send < until)
        until = next_send;
    if (until == INFINITY)
        return -1;
    return until <= now ? 0 : until - now;
}

/* Room for one more probe: the bookkeeping remembers NET_BOOK_WINDOW of them, and over
 * TCP every probe sent stays in the stream until its echo is cut out of it. */
static bool room_for_another(struct probe_run *r)
{
    all_settled(r);
    return r->book.next - r->oldest < NET_BOOK_WINDOW / 2 &&
           (!r->stream || r->book.sent - r->cut < NET_BOOK_WINDOW / 2);
}

/* TCP sweep: every echo is back, so the next size starts in step with the stream. */
static bool echoes_in(const struct probe_run *r)
{
    return !r->wait_for_echo || r->stopped || r->cut == r->book.sent;
}

/* What the run has counted so far, for the counters, the summary or a sweep row. */
static struct net_tally tally(struct probe_run *r)
{
    struct net_tally so_far = {.size = r->size,
                               .book = &r->book,
                               .invalid = r->invalid,
                               .elapsed_ms = net_now_ms() - r->start_ms};

    net_stats_summary(&r->stats, &so_far.rtt);
    return so_far;
}

/* Probes sent and still waiting for their reply within -W. */
static uint64_t in_flight(const struct probe_run *r)
{
    uint64_t n = 0;

    for (uint32_t seq = r->oldest; seq != r->book.next; seq++)
        n += net_book_pending(&r->book, seq);
    return n;
}

/* Poll slots of the probe loop; a peer's own sockets follow them. */
enum { POLL_SOCKET, POLL_SIGNALS, POLL_SLOTS };

/* Look at the signals: SIGUSR1 prints the counters so far; SIGINT or SIGTERM stops sending,
 * but the probes in flight get their -W to come back, so a reply that was on its way is
 * not counted as lost. A probe not yet started is dropped; one half sent over TCP is
 * finished, so its echo can come back whole. */
static void take_signals(struct probe_run *r)
{
    if (net_signal_take_usr1()) {
        struct net_tally so_far = tally(r);

        net_report_counters(r->opt, r->t, &so_far, in_flight(r));
    }
    if (!net_signal_stopping() || r->stopped)
        return;
    r->stopped = true;
    if (r->out_off == 0)
        r->out_len = 0;
}

/* Send count probes (0: until interrupted) every interval seconds (0: each as soon as the
 * one before is settled) and settle them all. One poll() waits for room to send, for
 * replies and for signals together, so neither a full socket buffer nor the shortest
 * interval keeps the client from reading replies or seeing Ctrl-C. Returns 0, or -1 with
 * err. */
static int run_probes(struct probe_run *r, long count, double interval, struct net_error *err)
{
    double next_send = net_now_ms();

    for (;;) {
        double now = net_now_ms();
        bool more = !r->stopped && (count == 0 || r->book.sent < (uint64_t)count);
        bool sending = r->out_off < r->out_len;
        struct pollfd p[POLL_SLOTS + NET_PEER_SLOTS];
        double timeout;
        bool send_due;
        int rc, side_slots = 0;

        /* time out what is due first, so lines come out in the order things happened */
        expire_due(r, now);
        /* the next probe may go once its time comes (at -i 0, once the last is settled) */
        send_due = more && !sending && (interval > 0 || all_settled(r)) && room_for_another(r);
        if (send_due && now >= next_send) {
            if (start_probe(r, now, err) < 0)
                return -1;
            /* keep the schedule, but never burst to catch up after a stall */
            next_send = fmax(next_send + interval * 1000, now);
            sending = r->out_off < r->out_len;
            /* look for replies and signals before the next probe, without waiting: a flood
             * that only sent would overflow its own receive buffer with the replies, and
             * count those the kernel dropped there as lost */
            timeout = 0;
        } else if (!more && all_settled(r) && echoes_in(r)) {
            /* a probe still half sent is booked, so settled too: a server that stopped
             * reading cannot hold the run at its end */
            return 0;
        } else {
            timeout = wait_ms(r, send_due, next_send, now);
            if (timeout < 0 && !echoes_in(r))
                timeout = r->timeout_ms * ECHO_GRACE;
        }
        /* a closed connection stays readable: leave it out, the probes in flight expire */
        p[POLL_SOCKET] = (struct pollfd){.fd = r->closed ? -1 : r->t->fd,
                                         .events = (short)(POLLIN | (sending ? POLLOUT : 0))};
        /* once stopping, the pipe stays readable: leave it out, or poll() would spin */
        p[POLL_SIGNALS] =
            (struct pollfd){.fd = r->stopped ? -1 : net_signal_fd(), .events = POLLIN};
        if (r->side != NULL)
            side_slots = r->side->fill(r->side->ctx, p + POLL_SLOTS);
        rc = net_poll_ms(p, POLL_SLOTS + side_slots, timeout);
        if (rc < 0 && errno != EINTR)
            return net_err_errno(err, errno, "cannot wait for replies from %s", r->t->name);
        take_signals(r);
        if (rc == 0 && !more && all_settled(r) && !echoes_in(r))
            return net_err_words(err, NET_ERR_PROTOCOL,
                                 "the server stopped echoing: the stream is out of step",
                                 "probing %s", r->t->name);
        if (rc <= 0)
            continue;
        if ((p[POLL_SOCKET].revents & POLLOUT) && push_probe(r, err) < 0)
            return -1;
        if ((p[POLL_SOCKET].revents & (POLLIN | POLLERR | POLLHUP)) &&
            (r->stream ? receive_stream(r, err) : receive_datagrams(r, err)) < 0)
            return -1;
        if (side_slots > 0 && r->side->serve(r->side->ctx, p + POLL_SLOTS, side_slots, err) < 0)
            return -1;
    }
}

/* ---- probe mode ------------------------------------------------------------------------ */

/* Probe mode, for a client (side NULL) or a peer. */
static int probes(const struct net_options *opt, struct net_target *t,
                  const struct net_peer_side *side, struct net_error *err)
{
    struct probe_run *r = calloc(1, sizeof *r);
    long count = opt->count >= 0 ? opt->count : 0;
    struct net_error csv_err;
    int rc = -1;

    if (r == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the probe run");
    r->lines = true;
    r->side = side;
    r->id = side != NULL ? side->id : 0;
    if (net_csv_open(&r->csv, opt->csv, net_probe_csv_header, err) < 0)
        goto out_free;
    if (run_start(r, opt, t, opt->size, err) < 0)
        goto out_end;
    net_report_start(opt, t, count);
    rc = run_probes(r, count, opt->interval, err);
    if (rc == 0 || r->book.sent > 0) {
        struct net_tally summary = tally(r);

        net_report_summary(opt, t, &summary);
    }
    if (rc == 0 && r->book.received == 0)
        rc = 1; /* as ping: no reply at all is a failure */
out_end:
    run_end(r);
    /* a failure of the run itself comes first */
    if (net_csv_close(&r->csv, &csv_err) < 0 && rc >= 0) {
        *err = csv_err;
        rc = -1;
    }
out_free:
    free(r);
    return rc;
}

int net_measure_probes(const struct net_options *opt, struct net_target *t, struct net_error *err)
{
    return probes(opt, t, NULL, err);
}

int net_measure_peer(const struct net_options *opt, struct net_target *t,
                     const struct net_peer_side *side, struct net_error *err)
{
    return probes(opt, t, side, err);
}

/* ---- sweep mode ------------------------------------------------------------------------ */

int net_measure_sweep(const struct net_options *opt, struct net_target *t, struct net_error *err)
{
    long count = opt->count > 0 ? opt->count : SWEEP_COUNT;
    size_t size = opt->sweep_min;
    uint64_t received = 0;
    int rc = 0;

    net_report_sweep_start(opt, t, count);
    for (;;) {
        struct probe_run *r = calloc(1, sizeof *r);
        struct net_error failed = {0};
        struct net_tally row;

        if (r == NULL)
            return net_err_errno(err, ENOMEM, "cannot allocate the probe run");
        if (run_start(r, opt, t, size, err) < 0) {
            run_end(r);
            free(r);
            return -1;
        }
        /* TCP: a reply slower than -W still comes; wait for it, or the next size's probes
         * would be cut out of the stream at the wrong places */
        r->wait_for_echo = r->stream;
        /* one size at a time, each probe as soon as the one before is settled */
        if (run_probes(r, count, 0, &failed) < 0 && failed.kind != NET_ERR_ERRNO)
            rc = -1;
        row = tally(r);
        net_report_sweep_row(opt, &row, failed.kind == NET_ERR_ERRNO ? &failed : NULL);
        if (failed.kind != NET_ERR_NONE && failed.code != EMSGSIZE) {
            *err = failed;
            rc = -1;
        }
        received += r->book.received;
        run_end(r);
        free(r);
        if (rc < 0)
            return rc;
        /* as in probe mode (and ping): no reply at all is a failure */
        if (net_signal_stopping() || size >= opt->sweep_max)
            return received > 0 ? 0 : 1;
        size = size * 2 > opt->sweep_max ? opt->sweep_max : size * 2;
    }
}
