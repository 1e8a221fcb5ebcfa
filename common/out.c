/* out.c - text and JSON output with one set of event names for both programs. */
#include "out.h"

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "json.h"
#include "wait.h"

static struct {
    const char *prog;
    bool json, quiet;
    int verbose;
} out = {"socklab", false, false, 0};

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

void net_out_listening(enum net_proto proto, const struct sockaddr *sa, socklen_t len, bool discard,
                       const struct tls_ctx *tls, const char *relay_to, const char *peer_of)
{
    const char *secured = tls == NULL ? NULL : tls->datagram ? "DTLS" : "TLS";
    char where[NET_ADDRSTRLEN];

    if (out.json) {
        struct net_json j;

        peer_json(&j, "listening", sa, len);
        net_json_str(&j, "proto", net_proto_name(proto));
        if (discard)
            net_json_bool(&j, "discard", true);
        if (relay_to != NULL)
            net_json_str(&j, "relay_to", relay_to);
        if (peer_of != NULL)
            net_json_str(&j, "peer_of", peer_of);
        if (tls != NULL) {
            net_json_str(&j, "tls", secured);
            net_json_str(&j, "fingerprint", tls->fingerprint);
            net_json_bool(&j, "self_signed", tls->self_signed);
            net_json_bool(&j, "client_certificates", tls->clients_verified);
        }
        net_json_end(&j, stdout);
    } else {
        printf("listening on %s (%s%s", net_addr_format(sa, len, where, sizeof where),
               net_proto_name(proto), discard ? ", discard" : "");
        if (relay_to != NULL)
            printf(", relay to %s", relay_to);
        if (peer_of != NULL)
            printf(", peer of %s", peer_of);
        if (tls != NULL)
            printf(", %s, %scertificate %s%s", secured, tls->self_signed ? "self-signed " : "",
                   tls->fingerprint, tls->clients_verified ? ", client certificates required" : "");
        printf(")\n");
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

void net_out_secured(const struct sockaddr *peer, socklen_t len, const struct tls_facts *f)
{
    char line[400];
    struct net_json j;

    if (out.verbose < 1 || out.quiet)
        return;
    if (!out.json) {
        tls_describe(f, line, sizeof line);
        peer_line("secured", peer, len, line);
        return;
    }
    peer_json(&j, "secured", peer, len);
    net_json_str(&j, "version", f->version);
    net_json_str(&j, "cipher", f->cipher);
    if (f->fingerprint[0] != '\0')
        net_json_str(&j, "fingerprint", f->fingerprint);
    if (f->checked != NULL)
        net_json_str(&j, "checked", f->checked);
    if (f->name[0] != '\0')
        net_json_str(&j, "client", f->name);
    net_json_end(&j, stdout);
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

/* The thread model's workers notice too (a refused TLS client): one at a time. */
static pthread_mutex_t notices_lock = PTHREAD_MUTEX_INITIALIZER;

static void notice_flush_locked(void)
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
            printf("suppressed: %llu more notices (the summary counts them all)\n",
                   notices.left_out);
        }
    }
    notices.since_ms = now;
    notices.shown = notices.left_out = 0;
}

void net_out_notice_flush(void)
{
    pthread_mutex_lock(&notices_lock);
    notice_flush_locked();
    pthread_mutex_unlock(&notices_lock);
}

void net_out_notice(const char *event, const struct sockaddr *peer, socklen_t len,
                    const char *detail)
{
    bool shown;

    if (out.quiet)
        return;
    pthread_mutex_lock(&notices_lock);
    notice_flush_locked();
    shown = notices.shown < NOTICE_BURST && stdout_ready();
    if (shown)
        notices.shown++;
    else
        notices.left_out++;
    pthread_mutex_unlock(&notices_lock);
    if (shown)
        peer_line(event, peer, len, detail);
}

void net_out_allowing(const char *const *prefixes, unsigned n)
{
    if (out.verbose < 1 || out.quiet)
        return;
    if (out.json) {
        struct net_json j;

        net_json_begin(&j);
        net_json_str(&j, "event", "allowing");
        net_json_array(&j, "prefixes");
        for (unsigned i = 0; i < n; i++)
            net_json_item(&j, prefixes[i]);
        net_json_array_close(&j);
        net_json_end(&j, stdout);
        return;
    }
    printf("allowing");
    for (unsigned i = 0; i < n; i++)
        printf("%s %s", i == 0 ? "" : ",", prefixes[i]);
    printf("; any other source is refused\n");
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
