/* client.c - udp-echo client: one message, or each line of stdin, as one datagram each.
 *
 * Twin of tcp/client.c: common/client.c does the rest, the same for both. */
#include "udp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "datagram.h"
#include "out.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"
#include "wait.h"

/* Wait for one datagram until -W after start_ms, the send; its length, or -1 with errno
 * (ETIMEDOUT when none came in time). */
static ssize_t await_reply(struct net_client *cl, double start_ms, char *reply, size_t cap,
                           bool *truncated)
{
    double deadline = start_ms + cl->opt->timeout * 1000;

    for (;;) {
        int rc = net_wait_readable(cl->t.fd, net_ms_until(deadline));
        ssize_t n;

        if (rc < 0 && errno == EINTR && !net_signal_stopping()) {
            net_client_take_usr1(cl);
            continue;
        }
        if (rc < 0)
            return -1;
        /* a datagram read after the deadline is too late, however it was held up */
        if (rc == 0 || net_now_ms() > deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        n = net_recv_datagram(cl->t.fd, cl->t.tls, reply, cap, truncated);
        /* DTLS: the datagram held no message of the user's (a handshake retransmission) */
        if (n < 0 && errno == EAGAIN)
            continue;
        return n;
    }
}

static int no_reply(struct net_client *cl, struct net_error *err)
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
 * the server is on 127.0.0.1. Returns the reply's length, with *sent_ms the time of the
 * send it answers, or -1 with err set. */
static ssize_t exchange(struct net_client *cl, const char *msg, size_t len, char *reply,
                        double *sent_ms, struct net_error *err)
{
    for (;;) {
        double start = *sent_ms = net_now_ms();
        bool truncated = false;
        ssize_t n;
        int code;

        if (net_send(cl->t.fd, cl->t.tls, msg, len) < 0) {
            n = -1;
        } else {
            cl->bytes_out += len;
            n = await_reply(cl, start, reply, NET_CLIENT_RECV_SIZE, &truncated);
        }
        if (n >= 0)
            cl->bytes_in += (unsigned long long)n;
        if (n >= 0 && truncated)
            return net_err_words(err, NET_ERR_PROTOCOL, "longer than the largest datagram",
                                 "reply from %s", cl->t.name);
        if (n >= 0)
            return n;
        code = errno; /* before formatting the message, which may change errno */
        /* Ctrl-C: the caller decides, from what came back so far */
        if (code == EINTR && net_signal_stopping())
            return net_err_errno(err, code, "no reply from %s", cl->t.name);
        if (code == ETIMEDOUT)
            return no_reply(cl, err);
        /* the path is narrower than the datagram: refused at the send (--dontfrag), or lost
         * at a router, whose ICMP "fragmentation needed" comes back on the next call */
        if (code == EMSGSIZE) {
            net_err_errno(err, code, "no %zu-byte datagram can reach %s", len, cl->t.name);
            err->hint = net_too_big_hint(cl->t.fd, len);
            return -1;
        }
        net_err_errno(err, code, "no server answers at %s", cl->t.name);
        if (code == ECONNREFUSED)
            err->hint = "ICMP port unreachable: nothing receives on that UDP port; TCP and UDP "
                        "ports are separate";
        if (code != ECONNREFUSED || net_client_next(cl, err) < 0)
            return -1;
    }
}

/* -m: one datagram out, one datagram back. */
static int send_message(struct net_client *cl, struct net_error *err)
{
    const char *msg = cl->opt->message;
    char *buf = malloc(NET_CLIENT_RECV_SIZE);
    struct net_reply r;
    ssize_t n;

    if (buf == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the reply buffer");
    if (net_reply_start(&r, net_now_ms(), err) < 0) {
        free(buf);
        return -1;
    }
    n = exchange(cl, msg, strlen(msg), buf, &r.start_ms, err);
    if (n >= 0) {
        net_reply_add(&r, buf, (size_t)n);
        net_reply_finish(&r, cl);
    } else if (net_signal_stopping()) {
        net_client_interrupted(cl, err);
    }
    net_reply_free(&r);
    free(buf);
    return n < 0 ? -1 : 0;
}

/* Lines of stdin, read with read(2) rather than stdio: a signal that interrupts a read
 * takes nothing with it, so what was typed before the signal stays here until its line is
 * whole. A line longer than the largest datagram is handed on as it is, for send() to
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

/* Send one line and print its echo as it came: 0, 1 when it was lost (and said so), -1 with
 * err (Ctrl-C included). */
static int line_step(struct net_client *cl, const char *line, size_t len, char *reply,
                     unsigned long lineno, struct net_error *err)
{
    double sent;
    ssize_t n = exchange(cl, line, len, reply, &sent, err);

    if (n >= 0) {
        fwrite(reply, 1, (size_t)n, stdout);
        fflush(stdout);
        return 0;
    }
    if (err->kind != NET_ERR_TIMEOUT)
        return -1;
    fprintf(stderr, "%s: line %lu: no reply within %g s (UDP does not retransmit)\n",
            net_out_prog(), lineno, cl->opt->timeout);
    return 1;
}

/* stdin mode: each line (newline included) is one datagram, and each echo is printed as it
 * came. A lost datagram is reported and the next line goes on: UDP never retransmits. */
static int move_stdin(struct net_client *cl, struct line_reader *lr, char *reply,
                      struct net_error *err)
{
    unsigned long lineno = 0, lost = 0;
    int rc = 0;

    while (rc >= 0 && !net_signal_stopping()) {
        const char *line;
        size_t len;
        int got = next_line(lr, &line, &len);

        /* a signal while waiting for the rest of a line is not the end of the input */
        if (got < 0 && errno == EINTR) {
            net_client_take_usr1(cl);
            continue;
        }
        if (got < 0)
            return net_err_errno(err, errno, "cannot read standard input");
        if (got == 0)
            break;
        rc = line_step(cl, line, len, reply, ++lineno, err);
        lost += rc == 1;
    }
    if (net_signal_stopping())
        return net_client_interrupted(cl, err);
    return rc < 0 ? -1 : lost > 0;
}

static int send_stdin(struct net_client *cl, struct net_error *err)
{
    /* room for the largest datagram and one byte more, so a longer line is seen as such */
    struct line_reader lr = {.buf = malloc(NET_CLIENT_RECV_SIZE + 1),
                             .cap = NET_CLIENT_RECV_SIZE + 1};
    char *reply = malloc(NET_CLIENT_RECV_SIZE);
    int rc;

    if (lr.buf == NULL || reply == NULL)
        rc = net_err_errno(err, ENOMEM, "cannot allocate the line and reply buffers");
    else
        rc = move_stdin(cl, &lr, reply, err);
    free(lr.buf);
    free(reply);
    return rc;
}

int udp_client_main(const struct net_options *opt, struct net_error *err)
{
    static const struct net_client_ops udp = {SOCK_DGRAM, send_message, send_stdin};

    return net_client_main(opt, &udp, err);
}
