/* client.c - udp-echo client: send one message or each line of stdin, one datagram each,
 * and wait for each echo. Twin of tcp/client.c. */
#include "udp.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "json.h"
#include "measure.h"
#include "open.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"
#include "wait.h"

/* The largest datagram a reply can be, plus one byte to notice a longer one. */
#define REPLY_MAX 65536

/* A connected UDP socket, the server it names, and the addresses not tried yet. */
struct udp_client {
    const struct net_options *opt;
    struct net_target t;
    struct addrinfo *res, *untried;
    unsigned long long bytes_out, bytes_in; /* for SIGUSR1's counters */
    double start_ms;
};

/* Connect to the next address of HOST. connect() on UDP sends nothing: it fixes the peer,
 * so the kernel can report an ICMP "port unreachable" for it as ECONNREFUSED. */
static int connect_next(struct udp_client *cl, struct net_error *err)
{
    if (cl->t.fd >= 0)
        sock_close(cl->t.fd);
    cl->t.fd = -1;
    while (cl->untried != NULL && cl->t.fd < 0) {
        struct addrinfo *ai = cl->untried;

        cl->untried = ai->ai_next;
        cl->t.fd = net_open_connected(ai->ai_addr, ai->ai_addrlen, ai->ai_socktype, cl->opt->bind,
                                      &cl->opt->so, err);
        if (cl->t.fd >= 0) {
            memcpy(&cl->t.peer, ai->ai_addr, ai->ai_addrlen);
            cl->t.peerlen = ai->ai_addrlen;
        }
    }
    if (cl->t.fd < 0)
        return -1;
    net_addr_format((struct sockaddr *)&cl->t.peer, cl->t.peerlen, cl->t.name, sizeof cl->t.name);
    net_out_peer("connected", (struct sockaddr *)&cl->t.peer, cl->t.peerlen,
                 "UDP: default peer set, nothing sent yet");
    net_sockopt_report(cl->t.fd, cl->t.peer.ss_family, SOCK_DGRAM, &cl->opt->so);
    return 0;
}

static int connect_any(const struct net_options *opt, struct udp_client *cl, struct net_error *err)
{
    cl->opt = opt;
    cl->t.fd = -1;
    cl->start_ms = net_now_ms();
    if (net_addr_resolve(opt->host, opt->port, opt->family, SOCK_DGRAM, false, &cl->res, err) < 0)
        return -1;
    cl->untried = cl->res;
    return connect_next(cl, err);
}

static void udp_client_close(struct udp_client *cl)
{
    if (cl->t.fd >= 0)
        sock_close(cl->t.fd);
    freeaddrinfo(cl->res);
}

/* Wait for one datagram until -W after start_ms, the send; its length, or -1 with errno
 * (ETIMEDOUT when none came in time). */
static ssize_t await_reply(struct udp_client *cl, double start_ms, char *reply, size_t cap,
                           bool *truncated)
{
    double deadline = start_ms + cl->opt->timeout * 1000;

    for (;;) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        double left = deadline - net_now_ms();
        int rc = net_wait_readable(cl->t.fd, left <= 0 ? 0 : (int)ceil(left));

        if (rc < 0 && errno == EINTR && !net_signal_stopping()) {
            if (net_signal_take_usr1())
                net_out_transfer(cl->bytes_out, cl->bytes_in, net_now_ms() - cl->start_ms);
            continue;
        }
        if (rc < 0)
            return -1;
        /* a datagram read after the deadline is too late, however it was held up */
        if (rc == 0 || net_now_ms() > deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        return sock_recvmsg(cl->t.fd, reply, cap, &from, &fromlen, truncated, NULL);
    }
}

static int no_reply(struct udp_client *cl, struct net_error *err)
{
    char detail[160];

    snprintf(detail, sizeof detail,
             "nothing came back within %g s (UDP does not retransmit: the datagram or its echo "
             "was lost, or no server answers)",
             cl->opt->timeout);
    return net_err_words(err, NET_ERR_TIMEOUT, detail, "no reply from %s", cl->t.name);
}

/* Send one datagram and wait for its echo. When the first address answers with ICMP "port
 * unreachable" (connection refused), try the next one: localhost may name ::1 first while
 * the server is on 127.0.0.1. Returns the reply's length, or -1 with err set. */
static ssize_t exchange(struct udp_client *cl, const char *msg, size_t len, char *reply,
                        double *rtt_ms, struct net_error *err)
{
    for (;;) {
        double start = net_now_ms();
        bool truncated = false;
        ssize_t n;
        int code;

        if (sock_send(cl->t.fd, msg, len) < 0) {
            n = -1;
        } else {
            cl->bytes_out += len;
            n = await_reply(cl, start, reply, REPLY_MAX, &truncated);
        }
        *rtt_ms = net_now_ms() - start;
        if (n >= 0)
            cl->bytes_in += (unsigned long long)n;
        if (n >= 0 && truncated)
            return net_err_words(err, NET_ERR_PROTOCOL, "longer than the largest datagram",
                                 "reply from %s", cl->t.name);
        if (n >= 0)
            return n;
        code = errno; /* before formatting the message, which may change errno */
        if (code == ETIMEDOUT)
            return no_reply(cl, err);
        net_err_errno(err, code, "no server answers at %s", cl->t.name);
        if (code == ECONNREFUSED)
            err->hint = "ICMP port unreachable: nothing receives on that UDP port; TCP and UDP "
                        "ports are separate";
        if (code != ECONNREFUSED || connect_next(cl, err) < 0)
            return -1;
    }
}

static void print_reply(const struct udp_client *cl, const char *reply, size_t len, double rtt_ms)
{
    struct net_json j;

    if (!net_out_json()) {
        fwrite(reply, 1, len, stdout);
        if (len == 0 || reply[len - 1] != '\n')
            putchar('\n');
        return;
    }
    net_json_begin(&j);
    net_json_str(&j, "event", "reply");
    net_json_str(&j, "from", cl->t.name);
    net_json_int(&j, "bytes", (long long)len);
    net_json_num(&j, "rtt_ms", rtt_ms, 3);
    net_json_bytes(&j, "data", reply, len);
    net_json_end(&j, stdout);
}

/* -m: one datagram out, one datagram back. */
static int send_message(struct udp_client *cl, struct net_error *err)
{
    char *reply = malloc(REPLY_MAX);
    double rtt;
    ssize_t n;

    if (reply == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the reply buffer");
    n = exchange(cl, cl->opt->message, strlen(cl->opt->message), reply, &rtt, err);
    if (n >= 0)
        print_reply(cl, reply, (size_t)n, rtt);
    free(reply);
    return n < 0 ? -1 : 0;
}

/* Lines of stdin, read with read(2) rather than stdio: a signal that interrupts a read
 * takes nothing with it, so what was typed before the signal stays here until its line is
 * whole. A line longer than the largest datagram is handed on as it is, for sendto() to
 * refuse with EMSGSIZE. */
struct line_reader {
    char *buf;
    size_t len, cap;
    size_t taken; /* bytes of the line handed out last time, dropped at the next call */
    bool eof;
};

/* The next line (newline included, or the last bytes before end of input) into *line and
 * *len, valid until the next call: 1, 0 at end of input, -1 with errno (EINTR: a signal,
 * nothing lost). */
static int next_line(struct line_reader *lr, const char **line, size_t *len)
{
    memmove(lr->buf, lr->buf + lr->taken, lr->len - lr->taken);
    lr->len -= lr->taken;
    lr->taken = 0;
    for (;;) {
        char *nl = memchr(lr->buf, '\n', lr->len);
        ssize_t n;

        if (nl != NULL || (lr->eof && lr->len > 0) || lr->len == lr->cap) {
            lr->taken = nl != NULL ? (size_t)(nl - lr->buf) + 1 : lr->len;
            *line = lr->buf;
            *len = lr->taken;
            return 1;
        }
        if (lr->eof)
            return 0;
        n = read(STDIN_FILENO, lr->buf + lr->len, lr->cap - lr->len);
        if (n < 0)
            return -1;
        if (n == 0)
            lr->eof = true;
        lr->len += (size_t)n;
    }
}

/* stdin mode: each line (newline included) is one datagram, and each echo is printed as it
 * came. A lost datagram is reported and the next line goes on: UDP never retransmits. */
static int send_lines(struct udp_client *cl, struct net_error *err)
{
    /* room for the largest datagram and one byte more, so a longer line is seen as such */
    struct line_reader lr = {.buf = malloc(REPLY_MAX + 1), .cap = REPLY_MAX + 1};
    char *reply = malloc(REPLY_MAX);
    unsigned long lineno = 0, lost = 0;
    int rc = 0;

    if (reply == NULL || lr.buf == NULL) {
        free(lr.buf);
        free(reply);
        return net_err_errno(err, ENOMEM, "cannot allocate the line and reply buffers");
    }
    while (!net_signal_stopping()) {
        const char *line;
        size_t len;
        double rtt;
        ssize_t n;
        int got = next_line(&lr, &line, &len);

        /* a signal while waiting for the rest of a line is not the end of the input */
        if (got < 0 && errno == EINTR) {
            if (net_signal_take_usr1())
                net_out_transfer(cl->bytes_out, cl->bytes_in, net_now_ms() - cl->start_ms);
            continue;
        }
        if (got < 0) {
            rc = net_err_errno(err, errno, "cannot read standard input");
            break;
        }
        if (got == 0)
            break;
        lineno++;
        n = exchange(cl, line, len, reply, &rtt, err);
        if (n >= 0) {
            fwrite(reply, 1, (size_t)n, stdout);
            fflush(stdout);
            continue;
        }
        if (err->kind != NET_ERR_TIMEOUT) {
            rc = -1;
            break;
        }
        lost++;
        fprintf(stderr, "%s: line %lu: no reply within %g s (UDP does not retransmit)\n",
                net_out_prog(), lineno, cl->opt->timeout);
    }
    free(lr.buf);
    free(reply);
    if (rc == 0 && lost > 0)
        return 1;
    return rc;
}

/* Probe, sweep or load. As with a single message, an ICMP "port unreachable" from the first
 * address moves the run to the next one (localhost: ::1, then 127.0.0.1). */
static int measure(struct udp_client *cl, enum net_mode mode, struct net_error *err)
{
    for (;;) {
        int rc = mode == NET_MODE_PROBE   ? net_measure_probes(cl->opt, &cl->t, err)
                 : mode == NET_MODE_SWEEP ? net_measure_sweep(cl->opt, &cl->t, err)
                                          : net_measure_load(cl->opt, &cl->t, err);

        if (rc >= 0 || err->kind != NET_ERR_ERRNO || err->code != ECONNREFUSED ||
            cl->untried == NULL)
            return rc;
        if (connect_next(cl, err) < 0)
            return -1;
    }
}

int udp_client_main(const struct net_options *opt, struct net_error *err)
{
    struct udp_client cl = {.res = NULL};
    enum net_mode mode = net_measure_mode(opt);
    int rc;

    if (connect_any(opt, &cl, err) < 0) {
        if (cl.res)
            freeaddrinfo(cl.res);
        return -1;
    }
    if (mode == NET_MODE_MESSAGE)
        rc = send_message(&cl, err);
    else if (mode == NET_MODE_STDIN)
        rc = send_lines(&cl, err);
    else
        rc = measure(&cl, mode, err);
    udp_client_close(&cl);
    return rc;
}
