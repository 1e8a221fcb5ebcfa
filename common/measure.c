/* measure.c - probe, sweep and load modes, shared by tcp-echo and udp-echo. */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "json.h"
#include "open.h"
#include "out.h"
#include "probe.h"
#include "signals.h"
#include "sock.h"
#include "stats.h"
#include "wait.h"

/* Room for the largest datagram, plus one byte to notice a longer one. */
#define DATAGRAM_MAX 65536
/* Probes per size in a sweep when -c does not say. */
#define SWEEP_COUNT 3
/* TCP sweep: how many times -W the missing echoes of a size may keep the stream silent. */
#define ECHO_GRACE 10
/* Load mode's duration when -t does not say. */
#define LOAD_SECONDS 5.0

enum net_mode net_measure_mode(const struct net_options *opt)
{
    if (opt->parallel > 0 || opt->duration > 0)
        return NET_MODE_LOAD;
    if (opt->sweep_max > 0)
        return NET_MODE_SWEEP;
    if (opt->count >= 0 || opt->interval_set)
        return NET_MODE_PROBE;
    return opt->message ? NET_MODE_MESSAGE : NET_MODE_STDIN;
}

static bool is_stream(const struct net_options *opt)
{
    return opt->proto == NET_TCP;
}

static const char *upper_name(const struct net_options *opt)
{
    return opt->proto == NET_TCP ? "TCP-ECHO" : "UDP-ECHO";
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
    FILE *csv;
    int csv_errno;      /* the first failed write to the CSV file, or 0 */
    uint64_t invalid;   /* replies that were not probes of this run */
    uint64_t cut;       /* TCP: replies cut from the stream so far */
    bool stopped;       /* SIGINT or SIGTERM: send no more */
    bool wait_for_echo; /* TCP sweep: end a size only once every echo is back in the stream */
};

static int run_start(struct probe_run *r, const struct net_options *opt, struct net_target *t,
                     size_t size, struct net_error *err)
{
    r->opt = opt;
    r->t = t;
    r->stream = is_stream(opt);
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
    r->in_cap = r->stream ? size + 65536 : DATAGRAM_MAX;
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

/* One CSV row: seq, size, sent time (ms into the run), rtt (ms, empty if none), status. */
static void csv_row(struct probe_run *r, uint32_t seq, double rtt, const char *status)
{
    if (r->csv == NULL)
        return;
    fprintf(r->csv, "%lu,%zu,%.3f,", (unsigned long)seq, r->size,
            r->sent_at[seq % NET_BOOK_WINDOW] - r->start_ms);
    if (rtt >= 0)
        fprintf(r->csv, "%.3f", rtt);
    if (fprintf(r->csv, ",%s\n", status) < 0 && r->csv_errno == 0)
        r->csv_errno = errno;
}

/* Close the CSV file: -1 with err when a row could not be written (a full disk ...). */
static int close_csv(struct probe_run *r, struct net_error *err)
{
    int code = r->csv_errno != 0 ? r->csv_errno : ferror(r->csv) ? EIO : 0;

    /* rows wait in stdio's buffer: the last ones reach the file only now */
    if (fclose(r->csv) != 0 && code == 0)
        code = errno;
    r->csv = NULL;
    if (code != 0)
        return net_err_errno(err, code, "cannot write %s", r->opt->csv);
    return 0;
}

/* Say what happened to one probe: "64 bytes from X: seq=1 time=0.052 ms (DUP!)". */
static void probe_line(struct probe_run *r, uint32_t seq, const char *status, double rtt,
                       bool reordered)
{
    csv_row(r, seq, rtt, status);
    if (!r->lines || net_out_quiet())
        return;
    if (net_out_json()) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", "probe");
        net_json_int(&j, "seq", seq);
        net_json_int(&j, "bytes", (long long)r->size);
        net_json_str(&j, "status", status);
        if (rtt >= 0)
            net_json_num(&j, "rtt_ms", rtt, 3);
        net_json_bool(&j, "reordered", reordered);
        net_json_end(&j, stdout);
        return;
    }
    if (rtt < 0) {
        printf("seq=%lu %s\n", (unsigned long)seq, status);
        return;
    }
    printf("%zu bytes from %s: seq=%lu time=%.3f ms%s%s\n", r->size, r->t->name, (unsigned long)seq,
           rtt,
           strcmp(status, "dup") == 0    ? " (DUP!)"
           : strcmp(status, "late") == 0 ? " (LATE)"
                                         : "",
           reordered ? " (reordered)" : "");
}

/* UDP: an ICMP "port unreachable" comes back as ECONNREFUSED on the next call. Before any
 * reply it means nobody is there (and the caller may try the server's next address); once
 * the server has answered, it means the server went away for a while: say so, and go on,
 * as ping does, since a datagram service may well come back. */
static bool refusal_to_ride_out(struct probe_run *r, int code)
{
    if (r->stream || code != ECONNREFUSED || r->book.received + r->book.late == 0)
        return false;
    if (r->lines && !net_out_quiet() && !net_out_json())
        printf("from %s: ICMP port unreachable (no server there right now)\n", r->t->name);
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
        ssize_t n = sock_send(r->t->fd, r->out + r->out_off, r->out_len - r->out_off);

        /* a full socket buffer: poll() says when there is room again */
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        /* the refusal was for an earlier probe; this one has not gone yet: send it again */
        if (n < 0 && refusal_to_ride_out(r, errno))
            continue;
        if (n < 0)
            return net_err_errno(err, errno, "cannot send a %zu-byte probe to %s", r->size,
                                 r->t->name);
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
    net_probe_encode(r->out, r->size, seq, t_us(r, now));
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
    uint32_t seq;
    uint64_t t;
    double rtt;

    if (net_probe_decode(buf, r->size, &seq, &t) < 0)
        return -1;
    /* an echo is the probe byte for byte: "seq=017" is not the echo of "seq=17", nor a
     * header with another run's t= */
    net_probe_encode(r->expect, r->size, seq, t_us(r, r->sent_at[seq % NET_BOOK_WINDOW]));
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
    probe_line(r, seq,
               v == NET_REPLY_OK    ? "ok"
               : v == NET_REPLY_DUP ? "dup"
                                    : "late",
               rtt, reordered);
    return 0;
}

static void not_a_probe(struct probe_run *r, size_t len)
{
    r->invalid++;
    if (r->lines && !net_out_quiet() && !net_out_json())
        printf("%zu bytes from %s: not a probe of this run\n", len, r->t->name);
}

/* UDP: one datagram is one reply, and it must be exactly one probe. */
static int receive_datagram(struct probe_run *r, struct net_error *err)
{
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    bool truncated;
    ssize_t n = sock_recvmsg(r->t->fd, r->in, r->in_cap, &from, &fromlen, &truncated, NULL);

    if (n < 0 && (errno == EINTR || errno == EAGAIN || refusal_to_ride_out(r, errno)))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "no server answers at %s", r->t->name);
    if ((size_t)n != r->size || truncated || on_reply(r, r->in) < 0)
        not_a_probe(r, (size_t)n);
    return 0;
}

/* TCP: the echo is a byte stream with no boundaries; cut it into probes of r->size bytes.
 * Anything that does not decode means the stream is corrupted or out of step. */
static int receive_stream(struct probe_run *r, struct net_error *err)
{
    ssize_t n = sock_recv(r->t->fd, r->in + r->in_len, r->in_cap - r->in_len);
    size_t off = 0;

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "cannot receive from %s", r->t->name);
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
            probe_line(r, seq, "timeout", -1, false);
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

/* Milliseconds to wait: until the next send or the oldest probe's deadline. */
static int wait_ms(struct probe_run *r, bool more, double next_send, double now)
{
    double until = INFINITY;

    if (!all_settled(r))
        until = r->sent_at[r->oldest % NET_BOOK_WINDOW] + r->timeout_ms;
    if (more && next_send < until)
        until = next_send;
    if (until == INFINITY)
        return -1;
    return until <= now ? 0 : (int)ceil(until - now);
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

static void print_counters(struct probe_run *r);

/* Poll slots of the probe loop. */
enum { POLL_SOCKET, POLL_SIGNALS, POLL_SLOTS };

/* Look at the signals: SIGUSR1 prints the counters so far; SIGINT or SIGTERM stops sending,
 * but the probes in flight get their -W to come back, so a reply that was on its way is
 * not counted as lost. A probe not yet started is dropped; one half sent over TCP is
 * finished, so its echo can come back whole. */
static void take_signals(struct probe_run *r)
{
    if (net_signal_take_usr1())
        print_counters(r);
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
        struct pollfd p[POLL_SLOTS];
        int timeout, rc;

        /* time out what is due first, so lines come out in the order things happened */
        expire_due(r, now);
        if (more && !sending && now >= next_send && (interval > 0 || all_settled(r)) &&
            room_for_another(r)) {
            if (start_probe(r, now, err) < 0)
                return -1;
            /* keep the schedule, but never burst to catch up after a stall */
            next_send = fmax(next_send + interval * 1000, now);
            sending = r->out_off < r->out_len;
        }
        /* a probe still half sent is booked, so settled too: a server that stopped reading
         * cannot hold the run at its end */
        if (!more && all_settled(r) && echoes_in(r))
            return 0;
        p[POLL_SOCKET] =
            (struct pollfd){.fd = r->t->fd, .events = (short)(POLLIN | (sending ? POLLOUT : 0))};
        /* once stopping, the pipe stays readable: leave it out, or poll() would spin */
        p[POLL_SIGNALS] =
            (struct pollfd){.fd = r->stopped ? -1 : net_signal_fd(), .events = POLLIN};
        timeout = wait_ms(r, more && !sending, next_send, now);
        if (timeout < 0 && !echoes_in(r))
            timeout = (int)ceil(r->timeout_ms * ECHO_GRACE);
        rc = poll(p, POLL_SLOTS, timeout);
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
            (r->stream ? receive_stream(r, err) : receive_datagram(r, err)) < 0)
            return -1;
    }
}

/* ---- probe mode ------------------------------------------------------------------------ */

/* Start a JSON event about a run against t: event, proto, target. */
static void json_head(struct net_json *j, const char *event, const struct net_options *opt,
                      const struct net_target *t)
{
    net_json_begin(j);
    net_json_str(j, "event", event);
    net_json_str(j, "proto", net_proto_name(opt->proto));
    net_json_str(j, "target", t->name);
}

/* The two RTT lines under a summary, as ping prints the first; none without replies. */
static void print_rtt(const struct net_rtt *rtt)
{
    if (rtt->n == 0)
        return;
    printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", rtt->min, rtt->avg, rtt->max,
           rtt->mdev);
    printf("rtt p50/p90/p99 = %.3f/%.3f/%.3f ms\n", rtt->p50, rtt->p90, rtt->p99);
}

static void json_rtt(struct net_json *j, const struct net_rtt *rtt)
{
    net_json_object(j, "rtt_ms");
    net_json_num(j, "min", rtt->min, 3);
    net_json_num(j, "avg", rtt->avg, 3);
    net_json_num(j, "max", rtt->max, 3);
    net_json_num(j, "mdev", rtt->mdev, 3);
    net_json_num(j, "p50", rtt->p50, 3);
    net_json_num(j, "p90", rtt->p90, 3);
    net_json_num(j, "p99", rtt->p99, 3);
    net_json_close(j);
}

static double loss_percent(const struct net_book *b)
{
    return b->sent ? 100.0 * (double)net_book_lost(b) / (double)b->sent : 0;
}

/* Probes sent and still waiting for their reply within -W. */
static uint64_t in_flight(const struct probe_run *r)
{
    uint64_t n = 0;

    for (uint32_t seq = r->oldest; seq != r->book.next; seq++)
        n += net_book_pending(&r->book, seq);
    return n;
}

/* SIGUSR1: the counters so far on one line, as the summary names them, and the run goes
 * on. Probes still within their -W are in flight, not lost. */
static void print_counters(struct probe_run *r)
{
    const struct net_book *b = &r->book;
    uint64_t flying = in_flight(r), lost = net_book_lost(b) - flying;
    double elapsed_ms = net_now_ms() - r->start_ms;
    struct net_rtt rtt;

    net_stats_summary(&r->stats, &rtt);
    if (net_out_json()) {
        struct net_json j;

        json_head(&j, "counters", r->opt, r->t);
        net_json_int(&j, "size", (long long)r->size);
        net_json_int(&j, "transmitted", (long long)b->sent);
        net_json_int(&j, "received", (long long)b->received);
        net_json_int(&j, "in_flight", (long long)flying);
        net_json_int(&j, "lost", (long long)lost);
        net_json_int(&j, "duplicates", (long long)b->duplicates);
        net_json_int(&j, "out_of_order", (long long)b->reordered);
        net_json_int(&j, "late", (long long)b->late);
        net_json_int(&j, "invalid", (long long)r->invalid);
        net_json_num(&j, "time_ms", elapsed_ms, 0);
        json_rtt(&j, &rtt);
        net_json_end(&j, stdout);
        return;
    }
    printf("counters: %llu sent, %llu received, %llu in flight, %llu lost, %llu duplicated, "
           "%llu reordered, %llu late, time %.0f ms",
           (unsigned long long)b->sent, (unsigned long long)b->received, (unsigned long long)flying,
           (unsigned long long)lost, (unsigned long long)b->duplicates,
           (unsigned long long)b->reordered, (unsigned long long)b->late, elapsed_ms);
    if (rtt.n > 0)
        printf(", rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms", rtt.min, rtt.avg, rtt.max,
               rtt.mdev);
    putchar('\n');
}

static void print_summary(struct probe_run *r, double elapsed_ms)
{
    const struct net_book *b = &r->book;
    struct net_rtt rtt;

    net_stats_summary(&r->stats, &rtt);
    if (net_out_json()) {
        struct net_json j;

        json_head(&j, "summary", r->opt, r->t);
        net_json_int(&j, "size", (long long)r->size);
        net_json_int(&j, "transmitted", (long long)b->sent);
        net_json_int(&j, "received", (long long)b->received);
        net_json_int(&j, "lost", (long long)net_book_lost(b));
        net_json_num(&j, "loss_percent", loss_percent(b), 1);
        net_json_int(&j, "duplicates", (long long)b->duplicates);
        net_json_int(&j, "out_of_order", (long long)b->reordered);
        net_json_int(&j, "late", (long long)b->late);
        net_json_int(&j, "invalid", (long long)r->invalid);
        net_json_num(&j, "time_ms", elapsed_ms, 0);
        json_rtt(&j, &rtt);
        net_json_end(&j, stdout);
        return;
    }
    printf("--- %s %s statistics ---\n", r->t->name, net_out_prog());
    printf("%llu sent, %llu received, %llu lost (%.1f%%), %llu duplicated, %llu reordered",
           (unsigned long long)b->sent, (unsigned long long)b->received,
           (unsigned long long)net_book_lost(b), loss_percent(b), (unsigned long long)b->duplicates,
           (unsigned long long)b->reordered);
    if (b->late)
        printf(", %llu late", (unsigned long long)b->late);
    if (r->invalid)
        printf(", %llu invalid", (unsigned long long)r->invalid);
    printf(", time %.0f ms\n", elapsed_ms);
    print_rtt(&rtt);
}

static void print_start(const struct net_options *opt, const struct net_target *t, long count,
                        size_t size)
{
    if (net_out_json()) {
        struct net_json j;

        json_head(&j, "start", opt, t);
        net_json_int(&j, "count", count);
        net_json_int(&j, "size", (long long)size);
        net_json_num(&j, "interval_s", opt->interval, 3);
        net_json_num(&j, "timeout_s", opt->timeout, 3);
        net_json_end(&j, stdout);
        return;
    }
    if (net_out_quiet())
        return;
    if (count > 0)
        printf("%s %s: %ld probes of %zu bytes\n", upper_name(opt), t->name, count, size);
    else
        printf("%s %s: probes of %zu bytes until interrupted\n", upper_name(opt), t->name, size);
}

static FILE *open_csv(const struct net_options *opt, struct net_error *err)
{
    FILE *fp;

    if (opt->csv == NULL)
        return NULL;
    fp = fopen(opt->csv, "w");
    if (fp == NULL) {
        net_err_errno(err, errno, "cannot write %s", opt->csv);
        return NULL;
    }
    fprintf(fp, "seq,size,sent_ms,rtt_ms,status\n");
    return fp;
}

int net_measure_probes(const struct net_options *opt, struct net_target *t, struct net_error *err)
{
    struct probe_run *r = calloc(1, sizeof *r);
    long count = opt->count >= 0 ? opt->count : 0;
    int rc = -1;

    if (r == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the probe run");
    r->lines = true;
    r->csv = open_csv(opt, err);
    if (opt->csv && r->csv == NULL)
        goto out_free;
    if (run_start(r, opt, t, opt->size, err) < 0)
        goto out_end;
    print_start(opt, t, count, opt->size);
    rc = run_probes(r, count, opt->interval, err);
    if (rc == 0 || r->book.sent > 0)
        print_summary(r, net_now_ms() - r->start_ms);
    if (rc == 0 && r->book.received == 0)
        rc = 1; /* as ping: no reply at all is a failure */
out_end:
    run_end(r);
    if (r->csv) {
        struct net_error csv_err;

        /* a failure of the run itself comes first */
        if (close_csv(r, &csv_err) < 0 && rc >= 0) {
            *err = csv_err;
            rc = -1;
        }
    }
out_free:
    free(r);
    return rc;
}

/* ---- sweep mode ------------------------------------------------------------------------ */

static void sweep_row(const struct probe_run *r, size_t size, struct net_rtt *rtt,
                      const struct net_error *failed)
{
    const struct net_book *b = &r->book;
    char why[160] = "";

    if (failed)
        snprintf(why, sizeof why, "%s: %s", net_err_name(failed->code),
                 failed->code == EMSGSIZE ? "too big for one datagram, nothing sent"
                                          : "the probe failed");
    if (net_out_json()) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", "sweep");
        net_json_int(&j, "size", (long long)size);
        net_json_int(&j, "transmitted", failed ? 0 : (long long)b->sent);
        net_json_int(&j, "received", (long long)b->received);
        net_json_int(&j, "lost", failed ? 0 : (long long)net_book_lost(b));
        if (failed)
            net_json_str(&j, "error", net_err_name(failed->code));
        else
            json_rtt(&j, rtt);
        net_json_end(&j, stdout);
        return;
    }
    if (failed)
        printf("%9zu %6s %6s %6s %12s   %s\n", size, "-", "-", "-", "-", why);
    else
        printf("%9zu %6llu %6llu %6llu %12.3f   %s\n", size, (unsigned long long)b->sent,
               (unsigned long long)b->received, (unsigned long long)net_book_lost(b), rtt->avg,
               r->stream && size > 65483 ? "more than one segment on loopback" : "");
}

int net_measure_sweep(const struct net_options *opt, struct net_target *t, struct net_error *err)
{
    long count = opt->count > 0 ? opt->count : SWEEP_COUNT;
    size_t size = opt->sweep_min;
    uint64_t received = 0;
    int rc = 0;

    if (!net_out_json() && !net_out_quiet()) {
        printf("%s %s: sweep %zu..%zu bytes, %ld probes per size\n", upper_name(opt), t->name,
               opt->sweep_min, opt->sweep_max, count);
        printf("%9s %6s %6s %6s %12s   %s\n", "size", "sent", "recv", "lost", "rtt avg ms", "note");
    }
    for (;;) {
        struct probe_run *r = calloc(1, sizeof *r);
        struct net_error failed = {0};
        struct net_rtt rtt;

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
        net_stats_summary(&r->stats, &rtt);
        sweep_row(r, size, &rtt, failed.kind == NET_ERR_ERRNO ? &failed : NULL);
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

/* ---- load mode ------------------------------------------------------------------------- */

/* One socket of the load, with its one request in flight. */
struct load_conn {
    int fd;
    uint32_t seq;
    double sent_at;
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
    struct pollfd *pfds;
    struct net_stats stats;
    double start_ms;
    uint64_t transactions, errors, lost;
    uint64_t stale; /* UDP: replies to requests already answered or given up on */
};

/* Another connected socket to the same server, non-blocking. */
static int open_conn(struct load_run *lr, struct net_error *err)
{
    int fd =
        net_open_connected((struct sockaddr *)&lr->t->peer, lr->t->peerlen,
                           lr->stream ? SOCK_STREAM : SOCK_DGRAM, lr->opt->bind, &lr->opt->so, err);

    if (fd >= 0 &&
        (sock_nonblocking(fd) < 0 || (lr->stream && lr->opt->nodelay && sock_nodelay(fd) < 0))) {
        net_err_errno(err, errno, "cannot set up a load connection");
        sock_close(fd);
        return -1;
    }
    return fd;
}

/* Put a fresh request in flight on c and send as much of it as the kernel takes. */
static int start_request(struct load_run *lr, struct load_conn *c, uint32_t seq)
{
    c->seq = seq;
    c->sent = c->got = 0;
    c->busy = true;
    c->sent_at = net_now_ms();
    net_probe_encode(c->req, lr->size, seq, (uint64_t)((c->sent_at - lr->start_ms) * 1000));
    return 0;
}

static int push_request(struct load_run *lr, struct load_conn *c, struct net_error *err)
{
    while (c->sent < lr->size) {
        ssize_t n = sock_send(c->fd, c->req + c->sent, lr->size - c->sent);

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
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    bool truncated;
    uint32_t seq;
    uint64_t t;
    ssize_t n = sock_recvmsg(c->fd, c->resp, DATAGRAM_MAX, &from, &fromlen, &truncated, NULL);

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
    n = sock_recv(c->fd, c->resp + c->got, lr->size - c->got);
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
    /* every reply is checked byte for byte against the request it answers */
    if (memcmp(c->req, c->resp, lr->size) != 0) {
        lr->errors++;
    } else {
        lr->transactions++;
        net_stats_add(&lr->stats, net_now_ms() - c->sent_at);
    }
    c->busy = false;
}

static int load_open(struct load_run *lr, struct net_error *err)
{
    lr->conns = calloc(lr->n, sizeof *lr->conns);
    lr->pfds = calloc(lr->n + 1, sizeof *lr->pfds);
    if (lr->conns == NULL || lr->pfds == NULL || net_stats_init(&lr->stats) < 0)
        return net_err_errno(err, ENOMEM, "cannot allocate %u connections", lr->n);
    /* none open yet: a failure part way must close only what was opened (0 is stdin) */
    for (unsigned i = 0; i < lr->n; i++)
        lr->conns[i].fd = -1;
    for (unsigned i = 0; i < lr->n; i++) {
        struct load_conn *c = &lr->conns[i];

        c->req = malloc(lr->size);
        c->resp = malloc(lr->stream ? lr->size : DATAGRAM_MAX);
        if (c->req == NULL || c->resp == NULL)
            return net_err_errno(err, ENOMEM, "cannot allocate request buffers");
        c->fd = i == 0 ? lr->t->fd : open_conn(lr, err);
        if (c->fd < 0)
            return -1;
        if (i == 0 && sock_nonblocking(c->fd) < 0)
            return net_err_errno(err, errno, "cannot make a socket non-blocking");
    }
    return 0;
}

static void load_close(struct load_run *lr)
{
    for (unsigned i = 0; lr->conns && i < lr->n; i++) {
        if (i > 0 && lr->conns[i].fd >= 0)
            sock_close(lr->conns[i].fd);
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
        short ev = lr->pfds[i].revents;
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
        /* UDP: a request unanswered for -W is lost; the socket moves on, never stalls */
        if (c->busy && !lr->stream && now - c->sent_at > lr->opt->timeout * 1000) {
            lr->lost++;
            c->busy = false;
        }
        if (!c->busy && sending) {
            start_request(lr, c, (*seq)++);
            if (push_request(lr, c, err) < 0)
                return -1;
        }
    }
    return 0;
}

static unsigned load_poll_set(struct load_run *lr)
{
    unsigned busy = 0;

    for (unsigned i = 0; i < lr->n; i++) {
        struct load_conn *c = &lr->conns[i];

        lr->pfds[i].fd = c->fd;
        lr->pfds[i].events = (short)(c->busy ? POLLIN : 0);
        if (c->busy && c->sent < lr->size)
            lr->pfds[i].events |= POLLOUT;
        lr->pfds[i].revents = 0;
        busy += c->busy;
    }
    /* once stopping, the pipe stays readable: leave it out, or poll() would spin */
    lr->pfds[lr->n].fd = net_signal_stopping() ? -1 : net_signal_fd();
    lr->pfds[lr->n].events = POLLIN;
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

        json_head(&j, "load", lr->opt, lr->t);
        net_json_int(&j, "parallel", lr->n);
        net_json_int(&j, "size", (long long)lr->size);
        net_json_num(&j, "seconds", seconds, 3);
        net_json_int(&j, "transactions", (long long)lr->transactions);
        net_json_num(&j, "transactions_per_second", tps, 1);
        net_json_num(&j, "bits_per_second", bps, 0);
        net_json_int(&j, "errors", (long long)lr->errors);
        net_json_int(&j, "lost", (long long)lr->lost);
        net_json_int(&j, "stale", (long long)lr->stale);
        json_rtt(&j, &rtt);
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
    putchar('\n');
    print_rtt(&rtt);
}

/* SIGUSR1: the load's counters so far on one line, and the run goes on. */
static void load_counters(struct load_run *lr)
{
    if (net_out_json()) {
        struct net_json j;

        json_head(&j, "counters", lr->opt, lr->t);
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
                          .stream = is_stream(opt),
                          .size = opt->size,
                          .n = opt->parallel ? opt->parallel : 1};
    double seconds = opt->duration > 0 ? opt->duration : LOAD_SECONDS, end, stopped_at;
    uint32_t seq = 1;
    int rc = -1;

    if (load_open(&lr, err) < 0)
        goto out;
    if (!net_out_json() && !net_out_quiet())
        printf("%s %s: load, %u %s, %zu bytes, %.1f s\n", upper_name(opt), t->name, lr.n,
               lr.stream ? "connections" : "sockets", lr.size, seconds);
    lr.start_ms = net_now_ms();
    end = lr.start_ms + seconds * 1000;
    stopped_at = end;
    for (;;) {
        double now = net_now_ms();
        bool sending = now < end && !net_signal_stopping();
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
        /* wake for the end of the run, and often enough to see a UDP request time out */
        if (poll(lr.pfds, lr.n + 1,
                 sending ? (int)ceil(fmin(end - now, opt->timeout * 1000)) : 10) < 0 &&
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
