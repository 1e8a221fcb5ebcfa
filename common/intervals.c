/* intervals.c - what a stream run prints: a line per stream each interval, then a summary. */
#include "stream.h"

#include <stdio.h>

#include "json.h"
#include "out.h"
#include "tcpinfo.h"

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

/* The figures of one stream now, as a mark. */
static struct stream_mark mark_of(const struct stream_run *r, const struct stream *s)
{
    struct stream_mark m = {.bytes_out = s->bytes_out, .bytes_in = s->bytes_in};
    struct net_tcpinfo ti;

    if (!r->tcp) {
        m.sent = s->book->sent;
        m.received = s->book->received;
        m.lost = net_book_lost(s->book);
    } else if (net_tcpinfo_read(s->fd, &ti) == 0) {
        m.retransmits = ti.retransmits;
    }
    return m;
}

static void line_udp(const char *who, double from_s, double to_s, const struct stream_mark *d,
                     double jitter_ms)
{
    char out[32], in[32];
    double secs = to_s - from_s;
    double settled = (double)(d->received + d->lost);

    printf("%s%6.2f-%-6.2f s  sent %s  echoed %s  lost %llu/%llu (%.1f%%)  jitter %.3f ms\n", who,
           from_s, to_s, rate_text((double)d->bytes_out * 8 / secs, out, sizeof out),
           rate_text((double)d->bytes_in * 8 / secs, in, sizeof in), (unsigned long long)d->lost,
           (unsigned long long)(d->received + d->lost),
           settled > 0 ? 100.0 * (double)d->lost / settled : 0.0, jitter_ms);
}

static void line_tcp(const char *who, double from_s, double to_s, const struct stream_mark *d,
                     int fd)
{
    char out[32], in[32];
    double secs = to_s - from_s;
    struct net_tcpinfo ti = {0};

    printf("%s%6.2f-%-6.2f s  sent %s  echoed %s", who, from_s, to_s,
           rate_text((double)d->bytes_out * 8 / secs, out, sizeof out),
           rate_text((double)d->bytes_in * 8 / secs, in, sizeof in));
    if (fd >= 0 && net_tcpinfo_read(fd, &ti) == 0)
        printf("  cwnd %u  srtt %.2f ms  resent %u  in flight %u", ti.cwnd, ti.srtt_ms,
               d->retransmits, ti.unacked);
    putchar('\n');
}

/* The difference between two marks: what happened in one interval. */
static struct stream_mark delta(const struct stream_mark *now, const struct stream_mark *then)
{
    return (struct stream_mark){.bytes_out = now->bytes_out - then->bytes_out,
                                .bytes_in = now->bytes_in - then->bytes_in,
                                .sent = now->sent - then->sent,
                                .received = now->received - then->received,
                                .lost = now->lost - then->lost,
                                .retransmits = now->retransmits - then->retransmits};
}

void net_stream_report(struct stream_run *r, double now)
{
    double to_s = (now - r->start_ms) / 1000, from_s = to_s - r->every;
    struct stream_mark sum = {0};
    char who[16] = "";

    if (net_out_json())
        return; /* the JSON interval objects come with the output of stream mode */
    from_s = from_s < 0 ? 0 : from_s;
    for (unsigned i = 0; i < r->n; i++) {
        struct stream *s = &r->streams[i];
        struct stream_mark m = mark_of(r, s), d = delta(&m, &s->mark);

        s->mark = m;
        sum.bytes_out += d.bytes_out, sum.bytes_in += d.bytes_in, sum.sent += d.sent;
        sum.received += d.received, sum.lost += d.lost, sum.retransmits += d.retransmits;
        if (r->n > 1)
            snprintf(who, sizeof who, "[%2u] ", i + 1);
        if (r->tcp)
            line_tcp(who, from_s, to_s, &d, s->fd);
        else
            line_udp(who, from_s, to_s, &d, s->jitter.ms);
    }
    if (r->n > 1 && r->tcp)
        line_tcp("[SUM] ", from_s, to_s, &sum, -1);
    else if (r->n > 1)
        line_udp("[SUM] ", from_s, to_s, &sum, 0);
}

/* The whole run: what each direction carried, what was lost, the round trips. */
void net_stream_summary(struct stream_run *r, double elapsed_ms)
{
    struct stream_mark sum = {0};
    struct net_jitter worst = {0};
    struct net_rtt rtt;
    char out[32], in[32];
    double secs = elapsed_ms / 1000;

    for (unsigned i = 0; i < r->n; i++) {
        struct stream_mark m = mark_of(r, &r->streams[i]);

        sum.bytes_out += m.bytes_out, sum.bytes_in += m.bytes_in, sum.sent += m.sent;
        sum.received += m.received, sum.lost += m.lost, sum.retransmits += m.retransmits;
        if (r->streams[i].jitter.ms > worst.ms)
            worst = r->streams[i].jitter;
    }
    printf("--- %s %s stream statistics ---\n", r->t->name, net_out_prog());
    printf("%llu bytes sent (%s), %llu echoed (%s), time %.0f ms\n",
           (unsigned long long)sum.bytes_out,
           rate_text((double)sum.bytes_out * 8 / secs, out, sizeof out),
           (unsigned long long)sum.bytes_in,
           rate_text((double)sum.bytes_in * 8 / secs, in, sizeof in), elapsed_ms);
    if (r->tcp) {
        printf("TCP resent %u segments; none of it was lost to the application\n", sum.retransmits);
        return;
    }
    printf("%llu sent, %llu echoed, %llu lost (%.1f%%), jitter %.3f ms (RFC 3550, round trip)\n",
           (unsigned long long)sum.sent, (unsigned long long)sum.received,
           (unsigned long long)sum.lost,
           sum.sent > 0 ? 100.0 * (double)sum.lost / (double)sum.sent : 0.0, worst.ms);
    net_stats_summary(&r->rtt, &rtt);
    if (rtt.n > 0)
        printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", rtt.min, rtt.avg, rtt.max,
               rtt.mdev);
}
