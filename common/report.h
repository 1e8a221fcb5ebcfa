/* report.h - what probe and sweep runs print: text, JSON or CSV (load mode shares the RTT part). */
#ifndef SOCKLAB_REPORT_H
#define SOCKLAB_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "json.h"
#include "measure.h"
#include "out.h"
#include "probe.h"
#include "stats.h"

/* What a run of probes at one size has counted so far. */
struct net_tally {
    size_t size;                 /* bytes per probe */
    const struct net_book *book; /* sent, received, lost, duplicated, reordered, late */
    struct net_rtt rtt;          /* the round-trip times so far */
    uint64_t invalid;            /* replies that were not probes of this run */
    double elapsed_ms;           /* since the run started */
};

/* "TCP-ECHO" or "UDP-ECHO": the first line of a run names the program as ping does. */
const char *net_report_title(enum net_proto proto);
/* Start a JSON event about a run against t: event, proto, target. */
void net_report_json_head(struct net_json *j, const char *event, const struct net_options *opt,
                          const struct net_target *t);
/* The RTT summary: "rtt_ms": {min, avg, max, mdev, p50, p90, p99}, or the two lines ping
 * would print under a summary (none without replies). */
void net_report_rtt_json(struct net_json *j, const struct net_rtt *rtt);
void net_report_rtt_lines(const struct net_rtt *rtt);

/* Probe mode: the first line, one line per probe, the counters on SIGUSR1 (in_flight: probes
 * still within their -W), the summary. */
void net_report_start(const struct net_options *opt, const struct net_target *t, long count);
void net_report_probe(const struct net_target *t, size_t size, uint32_t seq, const char *status,
                      double rtt, bool reordered);
void net_report_unreachable(const struct net_target *t);
/* A TCP peer: the other closed the connection the probes go on; the run ends. */
void net_report_closed(const struct net_target *t);
void net_report_not_a_probe(const struct net_target *t, size_t len);
void net_report_counters(const struct net_options *opt, const struct net_target *t,
                         const struct net_tally *tally, uint64_t in_flight);
void net_report_summary(const struct net_options *opt, const struct net_target *t,
                        const struct net_tally *tally);

/* Sweep mode: the heading, then one row per size (failed: the system call error that ended
 * that size, such as EMSGSIZE, or NULL). */
void net_report_sweep_start(const struct net_options *opt, const struct net_target *t, long count);
void net_report_sweep_row(const struct net_options *opt, const struct net_tally *tally,
                          const struct net_error *failed);

/* --csv FILE: one row per probe (a stream run: one per stream per interval). */
struct net_csv {
    FILE *fp; /* NULL: no CSV file */
    const char *path;
    int error; /* the first failed write, or 0 */
};

/* The header row of probe mode's file. */
extern const char *const net_probe_csv_header;

/* Open path (NULL: no file) and write header, the row of column names. -1 with err when it
 * cannot. */
int net_csv_open(struct net_csv *csv, const char *path, const char *header, struct net_error *err);
/* A row, or part of one: the first failed write is kept for net_csv_close. */
void net_csv_printf(struct net_csv *csv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* seq, size, sent time (ms into the run), rtt (ms; none when negative), status. */
void net_csv_row(struct net_csv *csv, uint32_t seq, size_t size, double sent_ms, double rtt,
                 const char *status);
/* Close the file: -1 with err when a row could not be written (a full disk ...). */
int net_csv_close(struct net_csv *csv, struct net_error *err);

#endif
