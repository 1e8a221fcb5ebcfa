/* client.c - tcp-echo client: one message, or stdin as a stream, over one connection.
 *
 * Twin of udp/client.c: common/client.c does the rest, the same for both. */
#include "tcp.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "signals.h"
#include "sock.h"
#include "wait.h"

/* What one read takes from the stream: any size works, TCP keeps no message boundaries. */
#define IO_CHUNK 65536

/* A send or receive on the connection failed with errno code: the error, or with --tls the
 * alert the server ended the session with (a refusal, named as such). */
static int io_failed(struct net_client *cl, int code, const char *doing, struct net_error *err)
{
    char why[160];

    if (cl->t.tls != NULL && tls_refusal(cl->t.tls, why, sizeof why)) {
        net_err_words(err, NET_ERR_PROTOCOL, why, "refused by %s", cl->t.name);
        if (strstr(why, "client certificate") != NULL)
            err->hint = "give one with --client-cert and --client-key";
        return -1;
    }
    return net_err_errno(err, code, "%s %s", doing, cl->t.name);
}

/* Send every byte on a blocking socket, looping over short sends. */
static int send_all(struct net_client *cl, const char *buf, size_t len, struct net_error *err)
{
    while (len > 0) {
        ssize_t n = net_send(cl->t.fd, cl->t.tls, buf, len);

        if (n < 0 && errno == EINTR && net_signal_stopping())
            return net_client_interrupted(cl, err);
        if (n < 0 && errno == EINTR) {
            net_client_take_usr1(cl);
            continue;
        }
        if (n < 0)
            return io_failed(cl, errno, "cannot send to", err);
        buf += n;
        len -= (size_t)n;
        cl->bytes_out += (unsigned long long)n;
    }
    return 0;
}

/* -W passed before the server closed: say whether nothing came or the reply never ended. */
static int past_deadline(struct net_client *cl, const struct net_reply *r, struct net_error *err)
{
    char detail[160];

    if (r->total == 0)
        return net_err_words(err, NET_ERR_TIMEOUT,
                             "nothing came back within -W, though the connection is up "
                             "(a busy server?)",
                             "no reply from %s", cl->t.name);
    net_reply_end_line(r);
    snprintf(detail, sizeof detail,
             "still coming after -W %g s (%zu bytes so far): the server did not close the "
             "connection",
             cl->opt->timeout, r->total);
    return net_err_words(err, NET_ERR_TIMEOUT, detail, "reply from %s", cl->t.name);
}

/* Without --tls, a reply that starts with a TLS alert comes from a --tls server that could
 * not read our bytes: say so, rather than print the alert as if it were the echo. */
static bool plain_met_tls(struct net_client *cl, const char *buf, size_t n, struct net_error *err)
{
    if (cl->t.tls != NULL || !tls_is_alert(buf, n))
        return false;
    net_err_words(err, NET_ERR_PROTOCOL, "the server answered with a TLS alert: it speaks TLS",
                  "no echo from %s", cl->t.name);
    err->hint = "add --tls, with --fingerprint or --ca to check who answers";
    return true;
}

/* Read the reply until the server closes (0), into r; -1 with err. TCP delivers or reports
 * a failure: it waits as long as it takes, unless -W sets a deadline for the whole reply. */
static int await_reply(struct net_client *cl, struct net_reply *r, char *buf, struct net_error *err)
{
    double deadline = cl->opt->timeout_set ? r->start_ms + cl->opt->timeout * 1000 : INFINITY;

    for (;;) {
        int rc = net_wait_readable(cl->t.fd, net_ms_until(deadline));
        ssize_t n;

        if (rc < 0 && errno == EINTR && net_signal_stopping())
            return net_client_interrupted(cl, err);
        if (rc < 0 && errno == EINTR) {
            net_client_take_usr1(cl);
            continue;
        }
        if (rc < 0)
            return net_err_errno(err, errno, "cannot wait for %s", cl->t.name);
        /* a reply read after the deadline is too late, however it was held up */
        if (rc == 0 || net_now_ms() > deadline)
            return past_deadline(cl, r, err);
        n = net_recv(cl->t.fd, cl->t.tls, buf, IO_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return io_failed(cl, errno, "cannot receive from", err);
        if (n == 0)
            return 0;
        if (r->total == 0 && plain_met_tls(cl, buf, (size_t)n, err))
            return -1;
        cl->bytes_in += (unsigned long long)n;
        net_reply_add(r, buf, (size_t)n);
    }
}

/* -m: send the text, half-close (FIN: "that was all"), then print everything the server
 * sends until it closes too. A greeting, the echo or a --reply all arrive this way. */
static int send_message(struct net_client *cl, struct net_error *err)
{
    const char *msg = cl->opt->message;
    size_t len = strlen(msg);
    char *buf = malloc(IO_CHUNK);
    struct net_reply r;
    int rc;

    if (buf == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the reply buffer");
    if (net_reply_start(&r, net_now_ms(), err) < 0) {
        free(buf);
        return -1;
    }
    if (send_all(cl, msg, len, err) < 0)
        rc = -1;
    else if (net_shutdown_write(cl->t.fd, cl->t.tls) < 0)
        rc = io_failed(cl, errno, "cannot half-close the connection to", err);
    else
        rc = await_reply(cl, &r, buf, err);
    /* an empty message has an empty echo; anything else deserves a reply */
    if (rc == 0 && r.total == 0 && len > 0)
        rc = net_err_words(err, NET_ERR_PROTOCOL,
                           "the server closed the connection without replying", "no reply from %s",
                           cl->t.name);
    if (rc == 0)
        net_reply_finish(&r, cl);
    else
        net_reply_end_line(&r);
    net_reply_free(&r);
    free(buf);
    return rc;
}

/* Write all of buf to stdout (a pipe may take it in pieces). */
static int write_stdout(const char *buf, size_t len, struct net_error *err)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return net_err_errno(err, errno, "cannot write to standard output");
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Bytes read from stdin and not yet taken by the socket. */
struct outbox {
    char *data;
    size_t len, off;
    bool stdin_open;
};

/* Move stdin to the socket, one chunk at a time; at EOF half-close (FIN). */
static int stdin_step(struct net_client *cl, struct outbox *box, struct net_error *err)
{
    ssize_t n;

    if (box->off == box->len) {
        n = read(STDIN_FILENO, box->data, IO_CHUNK);
        if (n < 0 && errno == EINTR)
            return 0;
        if (n < 0)
            return net_err_errno(err, errno, "cannot read standard input");
        if (n == 0) {
            box->stdin_open = false;
            /* FIN: the server echoes what is in flight, then closes its side */
            if (net_shutdown_write(cl->t.fd, cl->t.tls) < 0)
                return io_failed(cl, errno, "cannot half-close", err);
            return 0;
        }
        box->len = (size_t)n;
        box->off = 0;
    }
    n = net_send(cl->t.fd, cl->t.tls, box->data + box->off, box->len - box->off);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "cannot send to %s", cl->t.name);
    box->off += (size_t)n;
    cl->bytes_out += (unsigned long long)n;
    return 0;
}

/* Take what the server sent and pass it to stdout: 1 at its FIN, 0 to go on, -1 with err. */
static int echo_step(struct net_client *cl, char *buf, struct net_error *err)
{
    ssize_t n = net_recv(cl->t.fd, cl->t.tls, buf, IO_CHUNK);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "cannot receive from %s", cl->t.name);
    if (n == 0)
        return 1; /* the server's FIN: every echo has arrived */
    cl->bytes_in += (unsigned long long)n;
    return write_stdout(buf, (size_t)n, err);
}

/* stdin mode: like nc, bytes in both directions at once. Reading the echo while still
 * writing matters: a client that only writes would fill both directions' buffers and
 * deadlock against a server that is blocked sending it the echo. */
static int move_stdin(struct net_client *cl, struct outbox *box, char *buf, struct net_error *err)
{
    enum { POLL_NET, POLL_STDIN, POLL_SIGNALS, POLL_SLOTS };
    int rc = 0;

    while (rc == 0) {
        bool have_output = box->off < box->len;
        struct pollfd p[POLL_SLOTS] = {
            [POLL_NET] = {.fd = cl->t.fd, .events = (short)(POLLIN | (have_output ? POLLOUT : 0))},
            [POLL_STDIN] = {.fd = box->stdin_open && !have_output ? STDIN_FILENO : -1,
                            .events = POLLIN},
            [POLL_SIGNALS] = {.fd = net_signal_fd(), .events = POLLIN},
        };

        if (poll(p, POLL_SLOTS, -1) < 0 && errno != EINTR)
            return net_err_errno(err, errno, "poll failed");
        if (net_signal_stopping())
            return net_client_interrupted(cl, err);
        net_client_take_usr1(cl);
        if ((p[POLL_STDIN].revents || (p[POLL_NET].revents & POLLOUT)) &&
            stdin_step(cl, box, err) < 0)
            return -1;
        if (p[POLL_NET].revents & (POLLIN | POLLHUP | POLLERR))
            rc = echo_step(cl, buf, err);
    }
    return rc < 0 ? -1 : 0;
}

static int send_stdin(struct net_client *cl, struct net_error *err)
{
    struct outbox box = {.data = malloc(IO_CHUNK), .stdin_open = true};
    char *buf = malloc(IO_CHUNK);
    int rc;

    if (box.data == NULL || buf == NULL)
        rc = net_err_errno(err, ENOMEM, "cannot allocate the stdin and echo buffers");
    else if (sock_nonblocking(cl->t.fd) < 0)
        rc = net_err_errno(err, errno, "cannot make the socket non-blocking");
    else
        rc = move_stdin(cl, &box, buf, err);
    free(box.data);
    free(buf);
    return rc;
}

int tcp_client_main(const struct net_options *opt, struct net_error *err)
{
    static const struct net_client_ops tcp = {SOCK_STREAM, send_message, send_stdin};

    return net_client_main(opt, &tcp, err);
}
