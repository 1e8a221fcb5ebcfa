/* intervals.c - what a stream run prints: a line per stream each interval, then a summary.
 *
 * Each interval becomes one record (struct interval) written three ways: a text line, a JSON
 * "interval" object, a CSV row. A UDP interval counts datagrams and their fates; a TCP one
 * samples the sender's TCP_INFO as the interval ends. */
#include "stream.h"

#include <errno.h>
#include <stdio.h>

#include "json.h"
#include "out.h"
#include "report.h"
#include "tcpinfo.h"

/* ssthresh before the first loss: Linux's "infinite" (TCP_INFINITE_SSTHRESH). */
#define SSTHRESH_UNSET 0x7fffffffu

const char *const net_stream_csv_header =
    "proto,stream,from_s,to_s,bytes_sent,bytes_echoed,sent_bps,echoed_bps,"
    "sent,echoed,lost,duplicates,out_of_order,jitter_ms,"
    "cwnd,ssthresh,srtt_ms,rttvar_ms,retransmits,in_flight_bytes,delivery_bps,bytes_acked";

/* One stream's interval (stream 0: the sum of all). */
struct interval {
    unsigned stream;
    double from_s, to_s;
    struct stream_mark d; /* what happened in it */
    double jitter_ms;     /* UDP: the running estimate as it ends */
    bool have_tcp;        /* TCP: ti holds the sender's view as it ends */
    struct net_tcpinfo ti;
};

/* "9.53 Mbit/s": bits per second the way iperf3 scales them (powers of 1000). */
static const char *rate_text(double bps, char *buf, size_t size)
{
    if (bps >= 1e9)
        snprintf(buf, size, "%.2f Gbit/s", bps / 1e9);
    else if (bps >= 1e6)
        snprintf(buf, size, "%.2f Mbit/s", bps / 1e6);
    else if (bps >= 1e3)
        snprintf(buf, size, "%.2f kbit/s", bps / 1e3);
    else
        snprintf(buf, size, "%.0f bit/s", bps);
    return buf;
}

static double bps(uint64_t bytes, double seconds)
{
    return seconds > 0 ? (double)bytes * 8 / seconds : 0;
}

/* The figures of one stream now, as a mark; for TCP, *ti holds the TCP_INFO they were taken
 * from and *have_tcp says whether it could be read. */
static struct stream_mark mark_of(const struct stream_run *r, const struct stream *s,
                                  struct net_tcpinfo *ti, bool *have_tcp)
{
    struct stream_mark m = {.bytes_out = s->bytes_out, .bytes_in = s->bytes_in};

    *have_tcp = r->tcp && net_tcpinfo_read(s->fd, ti) == 0;
    if (!r->tcp) {
        m.sent = s->book->sent;
        m.received = s->book->received;
        m.lost = s->lost;
        m.duplicates = s->book->duplicates;
        m.reordered = s->book->reordered;
    } else if (*have_tcp) {
        m.retransmits = ti->retransmits;
        /* the SYN and the FIN are acknowledged too, a byte each: count data alone */
        m.bytes_acked = ti->bytes_acked > 0 ? ti->bytes_acked - 1 : 0;
        m.bytes_acked = m.bytes_acked < s->bytes_out ? m.bytes_acked : s->bytes_out;
    }
    return m;
}

static void mark_add(struct stream_mark *sum, const struct stream_mark *m)
{
    sum->bytes_out += m->bytes_out, sum->bytes_in += m->bytes_in;
    sum->sent += m->sent, sum->received += m->received, sum->lost += m->lost;
    sum->duplicates += m->duplicates, sum->reordered += m->reordered;
    sum->retransmits += m->retransmits, sum->bytes_acked += m->bytes_acked;
}

/* The difference between two marks: what happened in one interval. */
static struct stream_mark delta(const struct stream_mark *now, const struct stream_mark *then)
{
    return (struct stream_mark){.bytes_out = now->bytes_out - then->bytes_out,
                                .bytes_in = now->bytes_in - then->bytes_in,
                                .sent = now->sent - then->sent,
                                .received = now->received - then->received,
                                .lost = now->lost - then->lost,
                                .duplicates = now->duplicates - then->duplicates,
                                .reordered = now->reordered - then->reordered,
                                .retransmits = now->retransmits - then->retransmits,
                                .bytes_acked = now->bytes_acked - then->bytes_acked};
}

/* "  0.00-1.00   s  sent 20.00 Mbit/s  echoed 10.01 Mbit/s", then the protocol's part. With
 * --one-way nothing is echoed: TCP says what the receiver acknowledged, UDP cannot know. */
static void interval_line(const struct stream_run *r, const struct interval *iv)
{
    char who[16] = "", out[32], in[32];
    double secs = iv->to_s - iv->from_s;
    const struct stream_mark *d = &iv->d;

    if (r->n > 1 && iv->stream == 0)
        snprintf(who, sizeof who, "[SUM] ");
    else if (r->n > 1)
        snprintf(who, sizeof who, "[%3u] ", iv->stream);
    printf("%s%6.2f-%-6.2f s  sent %s", who, iv->from_s, iv->to_s,
           rate_text(bps(d->bytes_out, secs), out, sizeof out));
    if (!r->one_way)
        printf("  echoed %s", rate_text(bps(d->bytes_in, secs), in, sizeof in));
    else if (r->tcp)
        printf("  acked %s", rate_text(bps(d->bytes_acked, secs), in, sizeof in));
    if (!r->tcp && !r->one_way) {
        uint64_t settled = d->received + d->lost;

        printf("  lost %llu/%llu (%.1f%%)", (unsigned long long)d->lost,
               (unsigned long long)settled,
               settled > 0 ? 100.0 * (double)d->lost / (double)settled : 0.0);
        if (iv->stream > 0)
            printf("  jitter %.3f ms", iv->jitter_ms);
    } else if (iv->have_tcp) {
        printf("  cwnd %u", iv->ti.cwnd);
        if (iv->ti.ssthresh < SSTHRESH_UNSET)
            printf("  ssthresh %u", iv->ti.ssthresh);
        printf("  srtt %.1f ms  resent %u  in flight %u", iv->ti.srtt_ms, d->retransmits,
               iv->ti.in_flight);
    } else if (r->tcp) {
        printf("  resent %u", d->retransmits);
    }
    putchar('\n');
}

static void interval_json(const struct stream_run *r, const struct interval *iv)
{
    double secs = iv->to_s - iv->from_s;
    struct net_json j;

    net_json_begin(&j);
    net_json_str(&j, "event", "interval");
    net_json_int(&j, "stream", iv->stream);
    net_json_num(&j, "from_s", iv->from_s, 3);
    net_json_num(&j, "to_s", iv->to_s, 3);
    net_json_int(&j, "bytes_sent", (long long)iv->d.bytes_out);
    net_json_int(&j, "bytes_echoed", (long long)iv->d.bytes_in);
    net_json_num(&j, "sent_bps", bps(iv->d.bytes_out, secs), 0);
    net_json_num(&j, "echoed_bps", bps(iv->d.bytes_in, secs), 0);
    if (!r->tcp) {
        net_json_int(&j, "sent", (long long)iv->d.sent);
        net_json_int(&j, "echoed", (long long)iv->d.received);
        net_json_int(&j, "lost", (long long)iv->d.lost);
        net_json_int(&j, "duplicates", (long long)iv->d.duplicates);
        net_json_int(&j, "out_of_order", (long long)iv->d.reordered);
        if (iv->stream > 0)
            net_json_num(&j, "jitter_ms", iv->jitter_ms, 3);
    } else {
        net_json_int(&j, "bytes_acked", (long long)iv->d.bytes_acked);
        net_json_int(&j, "retransmits", iv->d.retransmits);
    }
    if (iv->have_tcp) {
        net_json_object(&j, "tcp_info");
        net_json_int(&j, "cwnd", iv->ti.cwnd);
        if (iv->ti.ssthresh < SSTHRESH_UNSET)
            net_json_int(&j, "ssthresh", iv->ti.ssthresh);
        net_json_num(&j, "srtt_ms", iv->ti.srtt_ms, 3);
        net_json_num(&j, "rttvar_ms", iv->ti.rttvar_ms, 3);
        net_json_int(&j, "in_flight_bytes", (long long)iv->ti.in_flight * iv->ti.mss);
        if (iv->ti.have_delivery_rate)
            net_json_num(&j, "delivery_bps", iv->ti.delivery_bps, 0);
        net_json_close(&j);
    }
    net_json_end(&j, stdout);
}

/* A CSV row: the columns of net_stream_csv_header; a protocol's columns stay empty in the
 * other's rows, as does what a row for the sum does not have. */
static void interval_csv(struct stream_run *r, const struct interval *iv)
{
    double secs = iv->to_s - iv->from_s;
    const struct stream_mark *d = &iv->d;
    char stream[16] = "sum";

    if (iv->stream > 0)
        snprintf(stream, sizeof stream, "%u", iv->stream);
    net_csv_printf(&r->csv, "%s,%s,%.3f,%.3f,%llu,%llu,%.0f,%.0f,", r->tcp ? "tcp" : "udp", stream,
                   iv->from_s, iv->to_s, (unsigned long long)d->bytes_out,
                   (unsigned long long)d->bytes_in, bps(d->bytes_out, secs),
                   bps(d->bytes_in, secs));
    if (!r->tcp)
        net_csv_printf(&r->csv, "%llu,%llu,%llu,%llu,%llu,", (unsigned long long)d->sent,
                       (unsigned long long)d->received, (unsigned long long)d->lost,
                       (unsigned long long)d->duplicates, (unsigned long long)d->reordered);
    else
        net_csv_printf(&r->csv, ",,,,,");
    if (!r->tcp && iv->stream > 0)
        net_csv_printf(&r->csv, "%.3f", iv->jitter_ms);
    net_csv_printf(&r->csv, ",");
    if (iv->have_tcp && iv->ti.ssthresh < SSTHRESH_UNSET)
        net_csv_printf(&r->csv, "%u,%u,", iv->ti.cwnd, iv->ti.ssthresh);
    else if (iv->have_tcp)
        net_csv_printf(&r->csv, "%u,,", iv->ti.cwnd);
    else
        net_csv_printf(&r->csv, ",,");
    if (iv->have_tcp)
        net_csv_printf(&r->csv, "%.3f,%.3f,%u,%llu,%.0f,", iv->ti.srtt_ms, iv->ti.rttvar_ms,
                       d->retransmits, (unsigned long long)iv->ti.in_flight * iv->ti.mss,
                       iv->ti.have_delivery_rate ? iv->ti.delivery_bps : 0);
    else if (r->tcp)
        net_csv_printf(&r->csv, ",,%u,,,", d->retransmits);
    else
        net_csv_printf(&r->csv, ",,,,,");
    if (r->tcp)
        net_csv_printf(&r->csv, "%llu", (unsigned long long)d->bytes_acked);
    net_csv_printf(&r->csv, "\n");
}

static void interval_out(struct stream_run *r, const struct interval *iv)
{
    if (net_out_json())
        interval_json(r, iv);
    else if (!net_out_quiet())
        interval_line(r, iv);
    interval_csv(r, iv);
}

void net_stream_report(struct stream_run *r, double now)
{
    double to_s = (now - r->start_ms) / 1000;
    struct interval sum = {.from_s = r->reported_s, .to_s = to_s};

    for (unsigned i = 0; i < r->n; i++) {
        struct stream *s = &r->streams[i];
        struct interval iv = {.stream = i + 1, .from_s = r->reported_s, .to_s = to_s};
        struct stream_mark m = mark_of(r, s, &iv.ti, &iv.have_tcp);

        iv.d = delta(&m, &s->mark);
        iv.jitter_ms = s->jitter.ms;
        s->mark = m;
        mark_add(&sum.d, &iv.d);
        interval_out(r, &iv);
    }
    if (r->n > 1)
        interval_out(r, &sum);
    r->reported_s = to_s;
}

/* Seconds over which what came back came: from the start to the last echo (or
 * acknowledgement), when that is after the end of sending, as a receiver would time it. */
static double back_secs(const struct stream_run *r, double sent_secs)
{
    double last = (r->last_progress_ms - r->start_ms) / 1000;

    return last > sent_secs ? last : sent_secs;
}

/* Every stream's figures added up. */
static struct stream_mark total(const struct stream_run *r, double *worst_jitter_ms)
{
    struct stream_mark sum = {0};

    *worst_jitter_ms = 0;
    for (unsigned i = 0; i < r->n; i++) {
        struct net_tcpinfo ti;
        bool have_tcp;
        struct stream_mark m = mark_of(r, &r->streams[i], &ti, &have_tcp);

        mark_add(&sum, &m);
        if (r->streams[i].jitter.ms > *worst_jitter_ms)
            *worst_jitter_ms = r->streams[i].jitter.ms;
    }
    return sum;
}

static void summary_json(struct stream_run *r, const char *event, const struct stream_mark *sum,
                         double jitter_ms, double secs)
{
    struct net_json j;
    struct net_rtt rtt;

    net_report_json_head(&j, event, r->opt, r->t);
    net_json_int(&j, "streams", r->n);
    net_json_int(&j, "size", (long long)r->size);
    net_json_num(&j, "seconds", secs, 3);
    net_json_int(&j, "bytes_sent", (long long)sum->bytes_out);
    net_json_int(&j, "bytes_echoed", (long long)sum->bytes_in);
    net_json_num(&j, "sent_bps", bps(sum->bytes_out, secs), 0);
    net_json_num(&j, "echoed_bps", bps(sum->bytes_in, back_secs(r, secs)), 0);
    if (r->tcp) {
        net_json_int(&j, "bytes_acked", (long long)sum->bytes_acked);
        net_json_int(&j, "retransmits", sum->retransmits);
    } else {
        net_json_int(&j, "sent", (long long)sum->sent);
        net_json_int(&j, "echoed", (long long)sum->received);
        net_json_int(&j, "lost", (long long)sum->lost);
        net_json_int(&j, "duplicates", (long long)sum->duplicates);
        net_json_int(&j, "out_of_order", (long long)sum->reordered);
        net_json_int(&j, "invalid", (long long)r->invalid);
        net_json_num(&j, "jitter_ms", jitter_ms, 3);
        net_stats_summary(&r->rtt, &rtt);
        if (rtt.n > 0)
            net_report_rtt_json(&j, &rtt);
    }
    net_json_end(&j, stdout);
}

static void summary_text(struct stream_run *r, const struct stream_mark *sum, double jitter_ms,
                         double secs)
{
    char out[32], in[32];
    struct net_rtt rtt;

    printf("%llu bytes sent (%s), ", (unsigned long long)sum->bytes_out,
           rate_text(bps(sum->bytes_out, secs), out, sizeof out));
    if (!r->one_way)
        printf("%llu echoed (%s), ", (unsigned long long)sum->bytes_in,
               rate_text(bps(sum->bytes_in, back_secs(r, secs)), in, sizeof in));
    else if (r->tcp)
        printf("%llu acknowledged by the receiver (%s), ", (unsigned long long)sum->bytes_acked,
               rate_text(bps(sum->bytes_acked, back_secs(r, secs)), in, sizeof in));
    printf("time %.0f ms\n", secs * 1000);
    if (r->tcp && !r->one_way && sum->bytes_in < sum->bytes_out) {
        printf("TCP resent %u segments; %llu bytes had not come back when the client stopped "
               "waiting (-W %g s without an echo)\n",
               sum->retransmits, (unsigned long long)(sum->bytes_out - sum->bytes_in),
               r->opt->timeout);
        return;
    }
    if (r->tcp) {
        printf("TCP resent %u segments; the application lost nothing\n", sum->retransmits);
        return;
    }
    if (r->one_way) {
        printf("%llu datagrams sent; what arrived only the server can say (its summary, or "
               "kill -USR1)\n",
               (unsigned long long)sum->sent);
        return;
    }
    printf("%llu sent, %llu echoed, %llu lost (%.1f%%), %llu duplicated, %llu out of order, "
           "jitter %.3f ms (RFC 3550, round trip)\n",
           (unsigned long long)sum->sent, (unsigned long long)sum->received,
           (unsigned long long)sum->lost,
           sum->sent > 0 ? 100.0 * (double)sum->lost / (double)sum->sent : 0.0,
           (unsigned long long)sum->duplicates, (unsigned long long)sum->reordered, jitter_ms);
    net_stats_summary(&r->rtt, &rtt);
    if (rtt.n > 0)
        printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", rtt.min, rtt.avg, rtt.max,
               rtt.mdev);
}

void net_stream_start(const struct stream_run *r)
{
    char rate[32], cc[32] = "";

    if (r->tcp)
        net_tcpinfo_congestion(r->streams[0].fd, cc, sizeof cc);
    if (net_out_json()) {
        struct net_json j;

        net_report_json_head(&j, "start", r->opt, r->t);
        net_json_int(&j, "streams", r->n);
        net_json_int(&j, "size", (long long)r->size);
        net_json_num(&j, "rate_bps", r->rate, 0);
        net_json_num(&j, "seconds", r->seconds, 3);
        net_json_num(&j, "every_s", r->every, 3);
        if (cc[0] != '\0')
            net_json_str(&j, "congestion", cc);
        net_json_end(&j, stdout);
        return;
    }
    if (net_out_quiet())
        return;
    printf("%s %s: %u stream%s of %zu-byte %s for %g s, %s", net_report_title(r->opt->proto),
           r->t->name, r->n, r->n == 1 ? "" : "s", r->size, r->tcp ? "writes" : "datagrams",
           r->seconds, r->rate > 0 ? rate_text(r->rate, rate, sizeof rate) : "as fast as TCP goes");
    if (cc[0] != '\0')
        printf(", congestion control %s", cc);
    putchar('\n');
}

void net_stream_summary(struct stream_run *r, double elapsed_ms)
{
    double jitter_ms;
    struct stream_mark sum = total(r, &jitter_ms);

    if (net_out_json()) {
        summary_json(r, "summary", &sum, jitter_ms, elapsed_ms / 1000);
        return;
    }
    printf("--- %s %s stream statistics ---\n", r->t->name, net_out_prog());
    summary_text(r, &sum, jitter_ms, elapsed_ms / 1000);
}

void net_stream_counters(struct stream_run *r, double now)
{
    double jitter_ms;
    struct stream_mark sum = total(r, &jitter_ms);

    if (net_out_json()) {
        summary_json(r, "counters", &sum, jitter_ms, (now - r->start_ms) / 1000);
        return;
    }
    printf("counters: ");
    summary_text(r, &sum, jitter_ms, (now - r->start_ms) / 1000);
}
