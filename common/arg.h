/* arg.h - one value on the command line: a count, seconds, a size, a port, each in range.
 *
 * Each reads text given to flag (as the user typed it, "-p" or "--port") and, when it is not
 * a value in range, records a usage error that names the flag and the range. */
#ifndef SOCKLAB_ARG_H
#define SOCKLAB_ARG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "opt.h"

/* Record "FLAG: what is wrong" as a usage error; returns -1. */
int net_arg_error(struct net_error *err, const char *flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A whole number in [min, max]: digits only, nothing trailing, never clamped. */
int net_arg_count(const char *flag, const char *text, long min, long max, long *out,
                  struct net_error *err);
/* The same, for a socket option: any error names the whole valid range. */
int net_arg_ranged(const char *flag, const char *text, long min, long max, long *out,
                   struct net_error *err);
/* Seconds as a plain decimal number ("0.2", "5"), within [min, max]. */
int net_arg_seconds(const char *flag, const char *text, double min, double max, double *out,
                    struct net_error *err);
/* A size in bytes, within [min, max]. */
int net_arg_size(const char *flag, const char *text, long min, long max, size_t *out,
                 struct net_error *err);
/* Bytes for a buffer size, with an optional binary suffix: "4096", "64k", "4M". */
int net_arg_bytes(const char *flag, const char *text, size_t *out, struct net_error *err);
/* A rate in bits per second, as iperf3 reads one: digits with an optional fraction and an
 * optional k, M or G (powers of 1000): "500k", "10M", "1.5G"; 0 means "as fast as it goes". */
int net_arg_rate(const char *flag, const char *text, double *bps, struct net_error *err);
/* A port: 1-65535 for a client, 0 (any free port) too for a server. */
int net_arg_port(const char *flag, const char *text, enum net_role role, uint16_t *port,
                 struct net_error *err);
/* Keep a note for stderr ("--greeting: UDP has no connection ..."), up to NET_MAX_NOTES. */
void net_arg_note(struct net_options *opt, const char *text);

#endif
