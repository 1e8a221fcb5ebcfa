/* client.c - the client both programs run: find the server, then send what the user asked. */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "json.h"
#include "open.h"
#include "out.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"

/* --tls: the handshake on the connected socket, in which the server proves who it is. */
static int secure(struct net_client *cl, struct net_error *err)
{
    struct tls_facts f;

    cl->t.tls = tls_connect(&cl->tls, cl->t.fd, cl->opt->host, cl->t.name,
                            net_opt_handshake_ms(cl->opt), err);
    if (cl->t.tls == NULL)
        return -1;
    cl->t.tls_ctx = &cl->tls;
    /* DTLS: a datagram may hold no message of the user's (a retransmitted handshake
     * message), and a read must then give up rather than wait for the next one */
    if (cl->opt->proto == NET_UDP && sock_nonblocking(cl->t.fd) < 0)
        return net_err_errno(err, errno, "cannot make the socket non-blocking");
    tls_facts_of(cl->t.tls, &f);
    net_out_secured((struct sockaddr *)&cl->t.peer, cl->t.peerlen, &f);
    return 0;
}

/* Close the socket in use (and its session). */
static void disconnect(struct net_client *cl)
{
    tls_session_free(cl->t.tls);
    cl->t.tls = NULL;
    if (cl->t.fd >= 0)
        sock_close(cl->t.fd);
    cl->t.fd = -1;
}

int net_client_next(struct net_client *cl, struct net_error *err)
{
    const struct net_options *opt = cl->opt;
    int socktype = SOCK_STREAM;

    disconnect(cl);
    while (cl->untried != NULL && cl->t.fd < 0) {
        struct addrinfo *ai = cl->untried;

        cl->untried = ai->ai_next;
        socktype = ai->ai_socktype;
        cl->t.fd =
            net_open_connected(ai->ai_addr, ai->ai_addrlen, socktype, opt->bind, &opt->so, err);
        if (cl->t.fd >= 0) {
            memcpy(&cl->t.peer, ai->ai_addr, ai->ai_addrlen);
            cl->t.peerlen = ai->ai_addrlen;
        }
    }
    if (cl->t.fd < 0)
        return -1;
    /* Nagle's algorithm is TCP's: it holds back small writes until the last is acknowledged */
    if (socktype == SOCK_STREAM && !opt->nagle && sock_nodelay(cl->t.fd) < 0)
        return net_err_errno(err, errno, "cannot set TCP_NODELAY");
    net_addr_format((struct sockaddr *)&cl->t.peer, cl->t.peerlen, cl->t.name, sizeof cl->t.name);
    net_out_peer("connected", (struct sockaddr *)&cl->t.peer, cl->t.peerlen,
                 socktype == SOCK_STREAM ? NULL : "UDP: default peer set, nothing sent yet");
    net_sockopt_report(cl->t.fd, cl->t.peer.ss_family, socktype, &opt->so);
    return opt->tls_on ? secure(cl, err) : 0;
}

/* Connect to the first address of HOST that accepts: "localhost" can name both ::1 and
 * 127.0.0.1, and a server may be on only one of them. */
static int connect_any(struct net_client *cl, int socktype, struct net_error *err)
{
    const struct net_options *opt = cl->opt;

    if (net_addr_resolve(opt->host, opt->port, opt->family, socktype, false, &cl->res, err) < 0)
        return -1;
    cl->untried = cl->res;
    return net_client_next(cl, err);
}

/* Probe, sweep or load. As with a single message, an ICMP "port unreachable" from the first
 * address (UDP: a TCP connection would have been refused already) moves the run to the next
 * one (localhost: ::1, then 127.0.0.1). */
static int measure(struct net_client *cl, enum net_mode mode, struct net_error *err)
{
    for (;;) {
        int rc = mode == NET_MODE_PROBE    ? net_measure_probes(cl->opt, &cl->t, err)
                 : mode == NET_MODE_SWEEP  ? net_measure_sweep(cl->opt, &cl->t, err)
                 : mode == NET_MODE_STREAM ? net_measure_stream(cl->opt, &cl->t, err)
                 : mode == NET_MODE_SETUP  ? net_measure_setup(cl->opt, &cl->t, err)
                                           : net_measure_load(cl->opt, &cl->t, err);

        if (rc >= 0 || err->kind != NET_ERR_ERRNO || err->code != ECONNREFUSED ||
            cl->untried == NULL)
            return rc;
        if (net_client_next(cl, err) < 0)
            return -1;
    }
}

int net_client_main(const struct net_options *opt, const struct net_client_ops *ops,
                    struct net_error *err)
{
    struct net_client cl = {.opt = opt, .t.fd = -1, .start_ms = net_now_ms()};
    enum net_mode mode = net_measure_mode(opt);
    int rc = 0;

    if (opt->tls_on) {
        if (tls_client_ctx(&cl.tls, &opt->tls, err) < 0)
            return -1;
        if (opt->tls.insecure)
            net_out_warn("--insecure: the server's certificate is not checked, so anyone on "
                         "the path can pose as the server and read and change everything");
    }
    rc = connect_any(&cl, ops->socktype, err);

    if (rc == 0 && mode == NET_MODE_MESSAGE)
        rc = ops->message(&cl, err);
    else if (rc == 0 && mode == NET_MODE_STDIN)
        rc = ops->stdin_mode(&cl, err);
    else if (rc == 0)
        rc = measure(&cl, mode, err);
    disconnect(&cl);
    if (cl.res != NULL)
        freeaddrinfo(cl.res);
    if (opt->tls_on)
        tls_ctx_free(&cl.tls);
    return rc;
}

void net_client_take_usr1(struct net_client *cl)
{
    if (net_signal_take_usr1())
        net_out_transfer(cl->bytes_out, cl->bytes_in, net_now_ms() - cl->start_ms);
}

int net_client_interrupted(struct net_client *cl, struct net_error *err)
{
    if (cl->bytes_in > 0)
        return 0;
    return net_err_words(err, NET_ERR_TIMEOUT, "interrupted before anything came back",
                         "no reply from %s", cl->t.name);
}

int net_reply_start(struct net_reply *r, double start_ms, struct net_error *err)
{
    *r = (struct net_reply){.newline = true, .start_ms = start_ms, .rtt_ms = -1};
    if (net_out_json() && (r->kept = malloc(NET_REPLY_KEEP)) == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate room for the reply");
    return 0;
}

void net_reply_add(struct net_reply *r, const char *data, size_t n)
{
    if (r->rtt_ms < 0)
        r->rtt_ms = net_now_ms() - r->start_ms;
    r->total += n;
    if (n == 0) {
        r->newline = false; /* an empty datagram still came back: it gets its (empty) line */
        return;
    }
    if (!net_out_json()) {
        fwrite(data, 1, n, stdout);
        r->newline = data[n - 1] == '\n';
        return;
    }
    if (n > NET_REPLY_KEEP - r->kept_len)
        n = NET_REPLY_KEEP - r->kept_len;
    memcpy(r->kept + r->kept_len, data, n);
    r->kept_len += n;
}

void net_reply_end_line(const struct net_reply *r)
{
    if (!net_out_json() && !r->newline)
        putchar('\n');
    fflush(stdout);
}

void net_reply_finish(const struct net_reply *r, const struct net_client *cl)
{
    struct net_json j;

    net_reply_end_line(r);
    if (net_out_json()) {
        net_json_begin(&j);
        net_json_str(&j, "event", "reply");
        net_json_str(&j, "from", cl->t.name);
        net_json_int(&j, "bytes", (long long)r->total);
        net_json_num(&j, "rtt_ms", r->rtt_ms < 0 ? 0 : r->rtt_ms, 3);
        net_json_bytes(&j, "data", r->kept, r->kept_len);
        net_json_end(&j, stdout);
    }
}

void net_reply_free(struct net_reply *r)
{
    free(r->kept);
    r->kept = NULL;
}
