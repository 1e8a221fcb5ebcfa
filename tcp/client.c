/* client.c - tcp-echo client: connect, then send one message or stream stdin. Twin of
 * udp/client.c. */
#include "tcp.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
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

#define IO_CHUNK 65536
/* How much of a -m reply is kept for --json; the text output streams all of it. */
#define REPLY_KEEP 65536

/* Connect to the first address of HOST that accepts: "localhost" can name both ::1 and
 * 127.0.0.1, and a server may listen on only one of them. */
static int connect_any(const struct net_options *opt, struct net_target *cl, struct net_error *err)
{
    struct addrinfo *res, *ai;

    if (net_addr_resolve(opt->host, opt->port, opt->family, SOCK_STREAM, false, &res, err) < 0)
        return -1;
    cl->fd = -1;
    for (ai = res; ai != NULL && cl->fd < 0; ai = ai->ai_next) {
        cl->fd = net_open_connected(ai->ai_addr, ai->ai_addrlen, ai->ai_socktype, opt->bind,
                                    &opt->so, err);
        if (cl->fd >= 0) {
            memcpy(&cl->peer, ai->ai_addr, ai->ai_addrlen);
            cl->peerlen = ai->ai_addrlen;
        }
    }
    freeaddrinfo(res);
    if (cl->fd < 0)
        return -1;
    if (opt->nodelay && sock_nodelay(cl->fd) < 0) {
        net_err_errno(err, errno, "cannot set TCP_NODELAY");
        sock_close(cl->fd);
        return -1;
    }
    net_addr_format((struct sockaddr *)&cl->peer, cl->peerlen, cl->name, sizeof cl->name);
    net_out_peer("connected", (struct sockaddr *)&cl->peer, cl->peerlen, NULL);
    net_sockopt_report(cl->fd, cl->peer.ss_family, SOCK_STREAM, &opt->so);
    return 0;
}

/* Send every byte on a blocking socket, looping over short sends. */
static int send_all(const struct net_target *cl, const char *buf, size_t len, struct net_error *err)
{
    while (len > 0) {
        ssize_t n = sock_send(cl->fd, buf, len);

        if (n < 0 && errno == EINTR && !net_signal_stopping())
            continue;
        if (n < 0)
            return net_err_errno(err, errno, "cannot send to %s", cl->name);
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void print_reply(const struct net_target *cl, const char *kept, size_t kept_len,
                        size_t total, double rtt_ms)
{
    struct net_json j;

    if (!net_out_json())
        return;
    net_json_begin(&j);
    net_json_str(&j, "event", "reply");
    net_json_str(&j, "from", cl->name);
    net_json_int(&j, "bytes", (long long)total);
    net_json_num(&j, "rtt_ms", rtt_ms, 3);
    net_json_bytes(&j, "data", kept, kept_len);
    net_json_end(&j, stdout);
}

/* Milliseconds left until deadline (INFINITY: none), as poll() takes them. */
static int ms_until(double deadline)
{
    double left = deadline - net_now_ms();

    if (deadline == INFINITY)
        return -1;
    return left <= 0 ? 0 : (int)ceil(left);
}

/* The end of -m's reply, however it ended: the part already printed gets its line ending
 * and reaches the terminal ahead of any error line, not after it at exit. */
static void end_reply_line(size_t total, bool newline)
{
    if (!net_out_json() && total > 0 && !newline)
        putchar('\n');
    fflush(stdout);
}

/* -W passed before the server closed: say whether nothing came or the reply never ended. */
static int past_deadline(const struct net_options *opt, const struct net_target *cl, size_t total,
                         bool newline, struct net_error *err)
{
    char detail[160];

    if (total == 0)
        return net_err_words(err, NET_ERR_TIMEOUT,
                             "nothing came back within -W, though the connection is up "
                             "(a busy server?)",
                             "no reply from %s", cl->name);
    end_reply_line(total, newline);
    snprintf(detail, sizeof detail,
             "still coming after -W %g s (%zu bytes so far): the server did not close the "
             "connection",
             opt->timeout, total);
    return net_err_words(err, NET_ERR_TIMEOUT, detail, "reply from %s", cl->name);
}

/* -m: send the text, half-close (FIN: "that was all"), then print everything the server
 * sends until it closes too. A greeting, the echo or a --reply all arrive this way. */
static int send_message(const struct net_options *opt, struct net_target *cl, struct net_error *err)
{
    char buf[IO_CHUNK], kept[REPLY_KEEP];
    size_t total = 0, kept_len = 0, len = strlen(opt->message);
    double start = net_now_ms(), rtt = -1;
    /* TCP delivers or reports a failure: wait as long as it takes, unless -W sets a
     * deadline for the whole reply */
    double deadline = opt->timeout_set ? start + opt->timeout * 1000 : INFINITY;
    bool newline = true;

    if (send_all(cl, opt->message, len, err) < 0)
        return -1;
    if (sock_shutdown(cl->fd, SHUT_WR) < 0)
        return net_err_errno(err, errno, "cannot half-close the connection to %s", cl->name);
    for (;;) {
        int rc = net_wait_readable(cl->fd, ms_until(deadline));
        ssize_t n;

        if (rc < 0 && errno == EINTR && net_signal_stopping()) {
            end_reply_line(total, newline);
            return net_err_errno(err, EINTR, "interrupted while waiting for %s", cl->name);
        }
        if (rc < 0 && errno == EINTR) {
            if (net_signal_take_usr1())
                net_out_transfer(len, total, net_now_ms() - start);
            continue;
        }
        if (rc < 0)
            return net_err_errno(err, errno, "cannot wait for %s", cl->name);
        /* a reply read after the deadline is too late, however it was held up */
        if (rc == 0 || net_now_ms() > deadline)
            return past_deadline(opt, cl, total, newline, err);
        n = sock_recv(cl->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int code = errno;

            end_reply_line(total, newline);
            return net_err_errno(err, code, "cannot receive from %s", cl->name);
        }
        if (n == 0)
            break;
        if (rtt < 0)
            rtt = net_now_ms() - start;
        if (!net_out_json())
            fwrite(buf, 1, (size_t)n, stdout);
        newline = buf[n - 1] == '\n';
        if (kept_len < sizeof kept) {
            size_t take = (size_t)n < sizeof kept - kept_len ? (size_t)n : sizeof kept - kept_len;

            memcpy(kept + kept_len, buf, take);
            kept_len += take;
        }
        total += (size_t)n;
    }
    /* an empty message has an empty echo; anything else deserves a reply */
    if (total == 0 && len > 0)
        return net_err_words(err, NET_ERR_PROTOCOL,
                             "the server closed the connection without replying",
                             "no reply from %s", cl->name);
    end_reply_line(total, newline);
    print_reply(cl, kept, kept_len, total, rtt < 0 ? 0 : rtt);
    return 0;
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
    char data[IO_CHUNK];
    size_t len, off;
    unsigned long long sent; /* bytes the socket has taken, in all */
};

/* Move stdin to the socket, one chunk at a time; at EOF half-close (FIN). */
static int stdin_step(struct net_target *cl, struct outbox *box, bool *stdin_open,
                      struct net_error *err)
{
    ssize_t n;

    if (box->off == box->len) {
        n = read(STDIN_FILENO, box->data, sizeof box->data);
        if (n < 0 && errno == EINTR)
            return 0;
        if (n < 0)
            return net_err_errno(err, errno, "cannot read standard input");
        if (n == 0) {
            *stdin_open = false;
            /* FIN: the server echoes what is in flight, then closes its side */
            if (sock_shutdown(cl->fd, SHUT_WR) < 0)
                return net_err_errno(err, errno, "cannot half-close %s", cl->name);
            return 0;
        }
        box->len = (size_t)n;
        box->off = 0;
    }
    n = sock_send(cl->fd, box->data + box->off, box->len - box->off);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n < 0)
        return net_err_errno(err, errno, "cannot send to %s", cl->name);
    box->off += (size_t)n;
    box->sent += (unsigned long long)n;
    return 0;
}

/* stdin mode: like nc, bytes in both directions at once. Reading the echo while still
 * writing matters: a client that only writes would fill both directions' buffers and
 * deadlock against a server that is blocked sending it the echo. */
static int stream_stdin(struct net_target *cl, struct net_error *err)
{
    static struct outbox box;
    char buf[IO_CHUNK];
    bool stdin_open = true;
    unsigned long long received = 0;
    double start = net_now_ms();

    if (sock_nonblocking(cl->fd) < 0)
        return net_err_errno(err, errno, "cannot make the socket non-blocking");
    for (;;) {
        bool have_output = box.off < box.len;
        struct pollfd p[3] = {
            {.fd = cl->fd, .events = (short)(POLLIN | (have_output ? POLLOUT : 0))},
            {.fd = stdin_open && !have_output ? STDIN_FILENO : -1, .events = POLLIN},
            {.fd = net_signal_fd(), .events = POLLIN},
        };
        ssize_t n;

        if (poll(p, 3, -1) < 0 && errno != EINTR)
            return net_err_errno(err, errno, "poll failed");
        if (net_signal_stopping())
            return 0;
        if (net_signal_take_usr1())
            net_out_transfer(box.sent, received, net_now_ms() - start);
        if ((p[1].revents || (p[0].revents & POLLOUT)) &&
            stdin_step(cl, &box, &stdin_open, err) < 0)
            return -1;
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        n = sock_recv(cl->fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (n < 0)
            return net_err_errno(err, errno, "cannot receive from %s", cl->name);
        if (n == 0)
            return 0; /* the server's FIN: every echo has arrived */
        received += (unsigned long long)n;
        if (write_stdout(buf, (size_t)n, err) < 0)
            return -1;
    }
}

int tcp_client_main(const struct net_options *opt, struct net_error *err)
{
    struct net_target cl;
    int rc;

    if (connect_any(opt, &cl, err) < 0)
        return -1;
    switch (net_measure_mode(opt)) {
    case NET_MODE_MESSAGE:
        rc = send_message(opt, &cl, err);
        break;
    case NET_MODE_STDIN:
        rc = stream_stdin(&cl, err);
        break;
    case NET_MODE_PROBE:
        rc = net_measure_probes(opt, &cl, err);
        break;
    case NET_MODE_SWEEP:
        rc = net_measure_sweep(opt, &cl, err);
        break;
    default:
        rc = net_measure_load(opt, &cl, err);
        break;
    }
    sock_close(cl.fd);
    return rc;
}
