/* arg.c - one value on the command line: a count, seconds, a size, a port, each in range. */
#include "arg.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest buffer size asked for; the kernel caps it lower (net.core.rmem_max). */
#define MAX_SOCKBUF (1L << 30)

int net_arg_error(struct net_error *err, const char *flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int net_arg_error(struct net_error *err, const char *flag, const char *fmt, ...)
{
    char detail[sizeof err->detail];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return net_err_words(err, NET_ERR_USAGE, detail, "%s", flag);
}

/* A whole number in [min, max]: digits only, nothing trailing, never clamped. */
int net_arg_count(const char *flag, const char *text, long min, long max, long *out,
                  struct net_error *err)
{
    long value = 0;
    const char *p = text;

    if (*p == '\0')
        return net_arg_error(err, flag, "needs a number");
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return net_arg_error(err, flag, "'%s' is not a whole number from %ld to %ld", text, min,
                                 max);
        if (value > (max - (*p - '0')) / 10)
            return net_arg_error(err, flag, "%s is too large (at most %ld)", text, max);
        value = value * 10 + (*p - '0');
    }
    if (value < min)
        return net_arg_error(err, flag, "%s is too small (at least %ld)", text, min);
    *out = value;
    return 0;
}

/* A whole number for a socket option: any error names the whole valid range. */
int net_arg_ranged(const char *flag, const char *text, long min, long max, long *out,
                   struct net_error *err)
{
    if (net_arg_count(flag, text, min, max, out, err) < 0)
        return net_arg_error(err, flag, "'%s' is out of range (a whole number from %ld to %ld)",
                             text, min, max);
    return 0;
}

/* True when text is a plain decimal number: digits with an optional fraction ("5", "0.2",
 * ".5", "5."), no sign, no exponent, no hex. */
static bool plain_decimal(const char *text)
{
    size_t digits = strspn(text, "0123456789");
    const char *p = text + digits;

    if (*p == '.') {
        size_t fraction = strspn(p + 1, "0123456789");

        digits += fraction;
        p += 1 + fraction;
    }
    return digits > 0 && *p == '\0';
}

/* Seconds as a plain decimal number ("0.2", "5"), within [min, max]. strtod alone would also
 * take "0x10" (16 s), "1e3" and "inf". */
int net_arg_seconds(const char *flag, const char *text, double min, double max, double *out,
                    struct net_error *err)
{
    double value;

    if (!plain_decimal(text))
        return net_arg_error(err, flag,
                             "'%s' is not a number of seconds (digits, with an optional "
                             "fraction such as 0.5)",
                             text);
    errno = 0;
    value = strtod(text, NULL);
    if (errno != 0 || !isfinite(value))
        return net_arg_error(err, flag, "'%s' is not a number of seconds", text);
    if (value < min || value > max)
        return net_arg_error(err, flag, "%s is out of range (%g to %g seconds)", text, min, max);
    *out = value;
    return 0;
}

int net_arg_size(const char *flag, const char *text, long min, long max, size_t *out,
                 struct net_error *err)
{
    long value;

    if (net_arg_count(flag, text, min, max, &value, err) < 0)
        return -1;
    *out = (size_t)value;
    return 0;
}

/* Bytes for a buffer size, with an optional binary suffix as iperf3 -w reads it: "4096",
 * "64k" (65,536), "4M" (4,194,304). */
int net_arg_bytes(const char *flag, const char *text, size_t *out, struct net_error *err)
{
    size_t digits = strspn(text, "0123456789");
    const char *suffix = text + digits;
    long shift = 0, value;
    char number[24];

    if (*suffix == 'k' || *suffix == 'K')
        shift = 10;
    else if (*suffix == 'm' || *suffix == 'M')
        shift = 20;
    if (digits == 0 || digits >= sizeof number || (shift > 0 ? suffix[1] : suffix[0]) != '\0')
        return net_arg_error(err, flag, "'%s' is not a size (bytes, or with k or M: 64k, 4M)",
                             text);
    memcpy(number, text, digits);
    number[digits] = '\0';
    if (net_arg_count(flag, number, 1, MAX_SOCKBUF >> shift, &value, err) < 0)
        return net_arg_error(err, flag, "%s is out of range (1 byte to 1G)", text);
    *out = (size_t)value << shift;
    return 0;
}

/* The largest rate asked for, in bits per second: 100 Gbit/s, past any link here. */
#define MAX_RATE 100e9

int net_arg_rate(const char *flag, const char *text, double *bps, struct net_error *err)
{
    static const struct {
        char suffix;
        double scale;
    } units[] = {{'k', 1e3}, {'K', 1e3}, {'m', 1e6}, {'M', 1e6}, {'g', 1e9}, {'G', 1e9}};
    char number[32];
    size_t len = strlen(text);
    double scale = 1, value;

    for (size_t i = 0; len > 0 && i < sizeof units / sizeof units[0]; i++)
        if (text[len - 1] == units[i].suffix) {
            scale = units[i].scale;
            len--;
            break;
        }
    if (len == 0 || len >= sizeof number)
        return net_arg_error(err, flag, "'%s' is not a rate (bits per second: 500k, 10M, 1.5G)",
                             text);
    memcpy(number, text, len);
    number[len] = '\0';
    if (!plain_decimal(number))
        return net_arg_error(err, flag, "'%s' is not a rate (bits per second: 500k, 10M, 1.5G)",
                             text);
    value = strtod(number, NULL) * scale;
    if (value > MAX_RATE)
        return net_arg_error(err, flag, "%s is too fast (at most 100G)", text);
    *bps = value;
    return 0;
}

int net_arg_port(const char *flag, const char *text, enum net_role role, uint16_t *port,
                 struct net_error *err)
{
    if (net_addr_parse_port(text, port) < 0)
        return net_arg_error(err, flag, "'%s' is not a port (use 1-65535%s)", text,
                             role != NET_ROLE_CLIENT ? ", or 0 for any free port" : "");
    if (*port == 0 && role == NET_ROLE_CLIENT)
        return net_arg_error(err, flag, "a client must name the server's port (1-65535)");
    return 0;
}

void net_arg_note(struct net_options *opt, const char *text)
{
    if (opt->nnotes < NET_MAX_NOTES)
        opt->notes[opt->nnotes++] = text;
}
