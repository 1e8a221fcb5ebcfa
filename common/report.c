/* report.c - the output of probe and sweep runs: ping-style lines, summaries, sweep rows, CSV. */
#include "json.h"
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* A probe larger than the segments loopback advertises (MTU 65536: ss -ti shows
 * advmss:65483) crosses it in more than one TCP segment. */
#define LOOPBACK_SEGMENT 65483

const char *net_report_title(enum net_proto proto)
{
    return proto == NET_TCP ? "TCP-ECHO" : "UDP-ECHO";
}

void net_report_json_head(struct net_json *j, const char *event, const struct net_options *opt,
                          const struct net_target *t)
{
    net_json_begin(j);
    net_json_str(j, "event", event);
    net_json_str(j, "proto", net_proto_name(opt->proto));
    net_json_str(j, "target", t->name);
}

void net_report_rtt_json(struct net_json *j, const struct net_rtt *rtt)
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

void net_report_rtt_lines(const struct net_rtt *rtt)
{
    if (rtt->n == 0)
        return;
    printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", rtt->min, rtt->avg, rtt->max,
           rtt->mdev);
    printf("rtt p50/p90/p99 = %.3f/%.3f/%.3f ms\n", rtt->p50, rtt->p90, rtt->p99);
}

/* ---- probe mode ------------------------------------------------------------------------ */

void net_report_start(const struct net_options *opt, const struct net_target *t, long count)
{
    if (net_out_json()) {
        struct net_json j;

        net_report_json_head(&j, "start", opt, t);
        net_json_int(&j, "count", count);
        net_json_int(&j, "size", (long long)opt->size);
        net_json_num(&j, "interval_s", opt->interval, 3);
        net_json_num(&j, "timeout_s", opt->timeout, 3);
        net_json_end(&j, stdout);
        return;
    }
    if (net_out_quiet())
        return;
    if (count > 0)
        printf("%s %s: %ld probes of %zu bytes\n", net_report_title(opt->proto), t->name, count,
               opt->size);
    else
        printf("%s %s: probes of %zu bytes until interrupted\n", net_report_title(opt->proto),
               t->name, opt->size);
}

/* What happened to one probe: "64 bytes from X: seq=1 time=0.052 ms (DUP!)". */
void net_report_probe(const struct net_target *t, size_t size, uint32_t seq, const char *status,
                      double rtt, bool reordered)
{
    if (net_out_quiet())
        return;
    if (net_out_json()) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", "probe");
        net_json_int(&j, "seq", seq);
        net_json_int(&j, "bytes", (long long)size);
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
    printf("%zu bytes from %s: seq=%lu time=%.3f ms%s%s\n", size, t->name, (unsigned long)seq, rtt,
           strcmp(status, "dup") == 0    ? " (DUP!)"
           : strcmp(status, "late") == 0 ? " (LATE)"
                                         : "",
           reordered ? " (reordered)" : "");
}

/* UDP: an ICMP "port unreachable" after the server had answered (the run goes on). */
void net_report_unreachable(const struct net_target *t)
{
    if (!net_out_quiet() && !net_out_json())
        printf("from %s: ICMP port unreachable (no server there right now)\n", t->name);
}

/* A TCP peer: the other closed the connection the probes go on (the run ends). */
void net_report_closed(const struct net_target *t)
{
    if (!net_out_quiet() && !net_out_json())
        printf("from %s: connection closed (the other peer stopped); no more probes\n", t->name);
}

void net_report_not_a_probe(const struct net_target *t, size_t len)
{
    if (!net_out_quiet() && !net_out_json())
        printf("%zu bytes from %s: not a probe of this run\n", len, t->name);
}

static double loss_percent(const struct net_book *b)
{
    return b->sent ? 100.0 * (double)net_book_lost(b) / (double)b->sent : 0;
}

/* SIGUSR1: the counters so far on one line, as the summary names them, and the run goes
 * on. Probes still within their -W are in flight, not lost. */
/* What the counters and the summary both end with: every fate but loss, the time, the RTTs. */
static void json_fates(struct net_json *j, const struct net_tally *tally)
{
    const struct net_book *b = tally->book;

    net_json_int(j, "duplicates", (long long)b->duplicates);
    net_json_int(j, "out_of_order", (long long)b->reordered);
    net_json_int(j, "late", (long long)b->late);
    net_json_int(j, "invalid", (long long)tally->invalid);
    net_json_num(j, "time_ms", tally->elapsed_ms, 0);
    net_report_rtt_json(j, &tally->rtt);
}

void net_report_counters(const struct net_options *opt, const struct net_target *t,
                         const struct net_tally *tally, uint64_t in_flight)
{
    const struct net_book *b = tally->book;
    uint64_t lost = net_book_lost(b) - in_flight;

    if (net_out_json()) {
        struct net_json j;

        net_report_json_head(&j, "counters", opt, t);
        net_json_int(&j, "size", (long long)tally->size);
        net_json_int(&j, "transmitted", (long long)b->sent);
        net_json_int(&j, "received", (long long)b->received);
        net_json_int(&j, "in_flight", (long long)in_flight);
        net_json_int(&j, "lost", (long long)lost);
        json_fates(&j, tally);
        net_json_end(&j, stdout);
        return;
    }
    printf("counters: %llu sent, %llu received, %llu in flight, %llu lost, %llu duplicated, "
           "%llu reordered, %llu late, time %.0f ms",
           (unsigned long long)b->sent, (unsigned long long)b->received,
           (unsigned long long)in_flight, (unsigned long long)lost,
           (unsigned long long)b->duplicates, (unsigned long long)b->reordered,
           (unsigned long long)b->late, tally->elapsed_ms);
    if (tally->rtt.n > 0)
        printf(", rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms", tally->rtt.min, tally->rtt.avg,
               tally->rtt.max, tally->rtt.mdev);
    putchar('\n');
}

void net_report_summary(const struct net_options *opt, const struct net_target *t,
                        const struct net_tally *tally)
{
    const struct net_book *b = tally->book;

    if (net_out_json()) {
        struct net_json j;

        net_report_json_head(&j, "summary", opt, t);
        net_json_int(&j, "size", (long long)tally->size);
        net_json_int(&j, "transmitted", (long long)b->sent);
        net_json_int(&j, "received", (long long)b->received);
        net_json_int(&j, "lost", (long long)net_book_lost(b));
        net_json_num(&j, "loss_percent", loss_percent(b), 1);
        json_fates(&j, tally);
        net_json_end(&j, stdout);
        return;
    }
    printf("--- %s %s statistics ---\n", t->name, net_out_prog());
    printf("%llu sent, %llu received, %llu lost (%.1f%%), %llu duplicated, %llu reordered",
           (unsigned long long)b->sent, (unsigned long long)b->received,
           (unsigned long long)net_book_lost(b), loss_percent(b), (unsigned long long)b->duplicates,
           (unsigned long long)b->reordered);
    if (b->late)
        printf(", %llu late", (unsigned long long)b->late);
    if (tally->invalid)
        printf(", %llu invalid", (unsigned long long)tally->invalid);
    printf(", time %.0f ms\n", tally->elapsed_ms);
    net_report_rtt_lines(&tally->rtt);
}

/* ---- sweep mode ------------------------------------------------------------------------ */

void net_report_sweep_start(const struct net_options *opt, const struct net_target *t, long count)
{
    if (net_out_json() || net_out_quiet())
        return;
    printf("%s %s: sweep %zu..%zu bytes, %ld probes per size\n", net_report_title(opt->proto),
           t->name, opt->sweep_min, opt->sweep_max, count);
    printf("%9s %6s %6s %6s %12s   %s\n", "size", "sent", "recv", "lost", "rtt avg ms", "note");
}

void net_report_sweep_row(const struct net_options *opt, const struct net_tally *tally,
                          const struct net_error *failed)
{
    const struct net_book *b = tally->book;
    char why[160] = "";

    if (failed)
        snprintf(why, sizeof why, "%s: %s", net_err_name(failed->code),
                 failed->code == EMSGSIZE ? "too big for one datagram, nothing sent"
                                          : "the probe failed");
    if (net_out_json()) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", "sweep");
        net_json_int(&j, "size", (long long)tally->size);
        net_json_int(&j, "transmitted", failed ? 0 : (long long)b->sent);
        net_json_int(&j, "received", (long long)b->received);
        net_json_int(&j, "lost", failed ? 0 : (long long)net_book_lost(b));
        if (failed)
            net_json_str(&j, "error", net_err_name(failed->code));
        else
            net_report_rtt_json(&j, &tally->rtt);
        net_json_end(&j, stdout);
        return;
    }
    if (failed)
        printf("%9zu %6s %6s %6s %12s   %s\n", tally->size, "-", "-", "-", "-", why);
    else
        printf("%9zu %6llu %6llu %6llu %12.3f   %s\n", tally->size, (unsigned long long)b->sent,
               (unsigned long long)b->received, (unsigned long long)net_book_lost(b),
               tally->rtt.avg,
               opt->proto == NET_TCP && tally->size > LOOPBACK_SEGMENT
                   ? "more than one segment on loopback"
                   : "");
}

/* ---- --csv ----------------------------------------------------------------------------- */

const char *const net_probe_csv_header = "seq,size,sent_ms,rtt_ms,status";

int net_csv_open(struct net_csv *csv, const char *path, const char *header, struct net_error *err)
{
    csv->fp = NULL;
    csv->path = path;
    csv->error = 0;
    if (path == NULL)
        return 0;
    csv->fp = fopen(path, "w");
    if (csv->fp == NULL)
        return net_err_errno(err, errno, "cannot write %s", path);
    fprintf(csv->fp, "%s\n", header);
    return 0;
}

void net_csv_printf(struct net_csv *csv, const char *fmt, ...)
{
    va_list ap;
    int rc;

    if (csv->fp == NULL)
        return;
    va_start(ap, fmt);
    rc = vfprintf(csv->fp, fmt, ap);
    va_end(ap);
    if (rc < 0 && csv->error == 0)
        csv->error = errno;
}

void net_csv_row(struct net_csv *csv, uint32_t seq, size_t size, double sent_ms, double rtt,
                 const char *status)
{
    if (csv->fp == NULL)
        return;
    fprintf(csv->fp, "%lu,%zu,%.3f,", (unsigned long)seq, size, sent_ms);
    if (rtt >= 0)
        fprintf(csv->fp, "%.3f", rtt);
    if (fprintf(csv->fp, ",%s\n", status) < 0 && csv->error == 0)
        csv->error = errno;
}

int net_csv_close(struct net_csv *csv, struct net_error *err)
{
    int code;

    if (csv->fp == NULL)
        return 0;
    code = csv->error != 0 ? csv->error : ferror(csv->fp) ? EIO : 0;
    /* rows wait in stdio's buffer: the last ones reach the file only now */
    if (fclose(csv->fp) != 0 && code == 0)
        code = errno;
    csv->fp = NULL;
    if (code != 0)
        return net_err_errno(err, code, "cannot write %s", csv->path);
    return 0;
}
