/* out.c - text and JSON output with one set of event names for both programs. */
#include "out.h"

#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "wait.h"

static struct {
    const char *prog;
    bool json, quiet;
    int verbose;
} out = {"socklab", false, false, 0};

const char *net_proto_name(enum net_proto proto)
{
    return proto == NET_TCP ? "tcp" : "udp";
}

void net_counters_add(struct net_counters *to, const struct net_counters *from)
{
    to->msgs_in += from->msgs_in;
    to->msgs_out += from->msgs_out;
    to->bytes_in += from->bytes_in;
    to->bytes_out += from->bytes_out;
    to->truncated += from->truncated;
    to->refused += from->refused;
    to->errors += from->errors;
}

void net_out_init(const char *prog, bool json, int verbose, bool quiet)
{
    out.prog = prog;
    out.json = json;
    out.verbose = verbose;
    out.quiet = quiet;
    /* line-buffered even into a pipe, so a script reading the first line gets it at once */
    setvbuf(stdout, NULL, _IOLBF, 0);
}

const char *net_out_prog(void)
{
    return out.prog;
}

bool net_out_json(void)
{
    return out.json;
}

int net_out_verbose(void)
{
    return out.verbose;
}

bool net_out_quiet(void)
{
    return out.quiet;
}

/* Make room for more bytes (and the terminating NUL); false when out of memory. */
static bool reserve(struct net_json *j, size_t more)
{
    size_t cap = j->cap;
    char *bigger;

    if (j->failed)
        return false;
    if (j->len + more + 1 <= j->cap)
        return true;
    while (cap < j->len + more + 1)
        cap *= 2;
    bigger = j->buf == j->small ? malloc(cap) : realloc(j->buf, cap);
    if (bigger == NULL) {
        j->failed = true;
        return false;
    }
    if (j->buf == j->small)
        memcpy(bigger, j->small, j->len + 1);
    j->buf = bigger;
    j->cap = cap;
    return true;
}

static void put(struct net_json *j, const char *text, size_t len)
{
    if (!reserve(j, len))
        return;
    memcpy(j->buf + j->len, text, len);
    j->len += len;
    j->buf[j->len] = '\0';
}

/* Append formatted text (numbers, short pieces), growing the buffer as needed. */
static void append(struct net_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(struct net_json *j, const char *fmt, ...)
{
    char piece[512]; /* room for any number, even %.3f of DBL_MAX */
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof piece) {
        j->failed = true; /* never cut: a piece this long is a bug, and the object is dropped */
        return;
    }
    put(j, piece, (size_t)n);
}

static void key(struct net_json *j, const char *name)
{
    bool first = j->len > 0 && j->buf[j->len - 1] == '{';

    if (!first)
        put(j, ",", 1);
    put(j, "\"", 1);
    put(j, name, strlen(name));
    put(j, "\":", 2);
}

/* Length of the valid UTF-8 sequence at s (at most left bytes), or 0 when it is not one:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_length(const unsigned char *s, size_t left)
{
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Escape bytes the way JSON strings require; see net_json_bytes for bytes >= 0x80. */
static void escaped(struct net_json *j, const unsigned char *s, size_t len)
{
    size_t i = 0;

    put(j, "\"", 1);
    while (i < len) {
        unsigned char c = s[i];
        size_t n = i;

        /* a run of plain characters, copied at once */
        while (n < len && s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"' && s[n] != '\\')
            n++;
        if (n > i) {
            put(j, (const char *)s + i, n - i);
            i = n;
            continue;
        }
        n = c >= 0x80 ? utf8_length(s + i, len - i) : 0;
        if (n > 0)
            put(j, (const char *)s + i, n); /* a whole UTF-8 character */
        else if (c == '"' || c == '\\')
            append(j, "\\%c", c);
        else if (c == '\n')
            put(j, "\\n", 2);
        else if (c == '\r')
            put(j, "\\r", 2);
        else if (c == '\t')
            put(j, "\\t", 2);
        else
            append(j, "\\u%04x", c); /* a control byte, or a byte that is not UTF-8 */
        i += n > 0 ? n : 1;
    }
    put(j, "\"", 1);
}

void net_json_begin(struct net_json *j)
{
    j->buf = j->small;
    j->cap = sizeof j->small;
    j->len = 0;
    j->failed = false;
    j->buf[0] = '\0';
    put(j, "{", 1);
}

void net_json_str(struct net_json *j, const char *name, const char *value)
{
    key(j, name);
    escaped(j, (const unsigned char *)value, strlen(value));
}

void net_json_bytes(struct net_json *j, const char *name, const void *data, size_t len)
{
    key(j, name);
    escaped(j, data, len);
}

void net_json_int(struct net_json *j, const char *name, long long value)
{
    key(j, name);
    append(j, "%lld", value);
}

void net_json_num(struct net_json *j, const char *name, double value, int decimals)
{
    key(j, name);
    append(j, "%.*f", decimals, value);
}

void net_json_bool(struct net_json *j, const char *name, bool value)
{
    key(j, name);
    append(j, "%s", value ? "true" : "false");
}

void net_json_object(struct net_json *j, const char *name)
{
    key(j, name);
    append(j, "{");
}

void net_json_close(struct net_json *j)
{
    append(j, "}");
}

void net_json_end(struct net_json *j, FILE *fp)
{
    put(j, "}\n", 2);
    if (!j->failed)
        fwrite(j->buf, 1, j->len, fp);
    if (j->buf != j->small)
        free(j->buf);
    j->buf = j->small;
}

/* Start a JSON event object that names the peer it is about. */
static void peer_json(struct net_json *j, const char *event, const struct sockaddr *peer,
                      socklen_t len)
{
    char host[NET_ADDRSTRLEN];

    net_json_begin(j);
    net_json_str(j, "event", event);
    if (peer != NULL) {
        net_json_str(j, "address", net_addr_host(peer, len, host, sizeof host));
        net_json_int(j, "port", net_addr_port(peer));
    }
}

void net_out_listening(enum net_proto proto, const struct sockaddr *sa, socklen_t len)
{
    char where[NET_ADDRSTRLEN];

    if (out.json) {
        struct net_json j;

        peer_json(&j, "listening", sa, len);
        net_json_str(&j, "proto", net_proto_name(proto));
        net_json_end(&j, stdout);
    } else {
        printf("listening on %s (%s)\n", net_addr_format(sa, len, where, sizeof where),
               net_proto_name(proto));
    }
    if (net_addr_is_wildcard(sa))
        net_out_warn("listening on every interface: any host that can reach this machine "
                     "can use this server");
}

static void peer_line(const char *event, const struct sockaddr *peer, socklen_t len,
                      const char *detail)
{
    char who[NET_ADDRSTRLEN];

    if (out.json) {
        struct net_json j;

        peer_json(&j, event, peer, len);
        if (detail != NULL)
            net_json_str(&j, "detail", detail);
        net_json_end(&j, stdout);
        return;
    }
    if (peer != NULL)
        printf("%s %s%s%s\n", event, net_addr_format(peer, len, who, sizeof who),
               detail ? ": " : "", detail ? detail : "");
    else
        printf("%s%s%s\n", event, detail ? ": " : "", detail ? detail : "");
}

void net_out_peer(const char *event, const struct sockaddr *peer, socklen_t len, const char *detail)
{
    if (out.verbose >= 1 && !out.quiet)
        peer_line(event, peer, len, detail);
}

/* Notices a flood can trigger (one per refused datagram, say) are limited the way the
 * kernel limits its log: at most NOTICE_BURST a second, then one line with how many were
 * left out. None may block: a server whose output nobody reads must go on serving. */
#define NOTICE_BURST 10

static struct {
    double since_ms; /* start of the current one-second window */
    unsigned long long shown, left_out;
} notices;

/* Would a line written to stdout now go out without blocking? (A pipe nobody reads fills.) */
static bool stdout_ready(void)
{
    struct pollfd pfd = {.fd = fileno(stdout), .events = POLLOUT};

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT);
}

void net_out_held(int fd)
{
    struct sockaddr_storage held;
    socklen_t len = sizeof held;

    if (fd >= 0 && getsockname(fd, (struct sockaddr *)&held, &len) == 0)
        net_out_peer("holding", (struct sockaddr *)&held, len,
                     "localhost may try it first, so no other program may take it; clients "
                     "there are refused and go on to 127.0.0.1");
}

void net_out_notice_flush(void)
{
    double now = net_now_ms();

    if (now - notices.since_ms < 1000)
        return;
    if (notices.left_out > 0) {
        if (!stdout_ready())
            return; /* say it when the reader catches up */
        if (out.json) {
            struct net_json j;

            net_json_begin(&j);
            net_json_str(&j, "event", "suppressed");
            net_json_int(&j, "count", (long long)notices.left_out);
            net_json_end(&j, stdout);
        } else {
            printf("suppressed: %llu more notices (the summary counts every datagram)\n",
                   notices.left_out);
        }
    }
    notices.since_ms = now;
    notices.shown = notices.left_out = 0;
}

void net_out_notice(const char *event, const struct sockaddr *peer, socklen_t len,
                    const char *detail)
{
    if (out.quiet)
        return;
    net_out_notice_flush();
    if (notices.shown >= NOTICE_BURST || !stdout_ready()) {
        notices.left_out++;
        return;
    }
    notices.shown++;
    peer_line(event, peer, len, detail);
}

void net_out_sockopt(const char *name, long requested, long granted)
{
    if (out.verbose < 1 || out.quiet)
        return;
    if (out.json) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", "option");
        net_json_str(&j, "name", name);
        net_json_int(&j, "requested", requested);
        net_json_int(&j, "granted", granted);
        net_json_end(&j, stdout);
        return;
    }
    printf("option %s %ld: the kernel grants %ld\n", name, requested, granted);
}

void net_out_warn(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: warning: ", out.prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void net_out_transfer(unsigned long long sent, unsigned long long received, double ms)
{
    if (out.json) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", "counters");
        net_json_int(&j, "bytes_sent", (long long)sent);
        net_json_int(&j, "bytes_received", (long long)received);
        net_json_num(&j, "time_ms", ms, 0);
        net_json_end(&j, stdout);
        return;
    }
    /* stdout carries the peer's bytes as they came: the line goes beside them, not into them */
    fflush(stdout);
    fprintf(stderr, "counters: %llu bytes sent, %llu bytes received, time %.0f ms\n", sent,
            received, ms);
}

void net_out_counters(enum net_proto proto, const char *event, const struct net_counters *c)
{
    if (out.json) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", event);
        net_json_str(&j, "proto", net_proto_name(proto));
        net_json_int(&j, "clients", (long long)c->clients);
        if (c->clients_at_least)
            net_json_bool(&j, "clients_at_least", true);
        net_json_int(&j, "messages_received", (long long)c->msgs_in);
        net_json_int(&j, "messages_sent", (long long)c->msgs_out);
        net_json_int(&j, "bytes_received", (long long)c->bytes_in);
        net_json_int(&j, "bytes_sent", (long long)c->bytes_out);
        net_json_int(&j, "truncated", (long long)c->truncated);
        net_json_int(&j, "refused", (long long)c->refused);
        net_json_int(&j, "errors", (long long)c->errors);
        net_json_end(&j, stdout);
        return;
    }
    printf("%s: %s%llu %s, %llu %s received, %llu sent, %llu bytes in, %llu bytes out, "
           "%llu truncated, %llu refused, %llu errors\n",
           event, c->clients_at_least ? "at least " : "", c->clients,
           proto == NET_TCP ? "clients" : "peers", c->msgs_in,
           proto == NET_TCP ? "messages" : "datagrams", c->msgs_out, c->bytes_in, c->bytes_out,
           c->truncated, c->refused, c->errors);
}
