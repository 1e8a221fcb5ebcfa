/* peer.c - tcp-echo peer: probes the other peer and answers its probes, on two connections.
 *
 * Twin of udp/peer.c; common/peer.c has what the two share. A TCP connection is made by
 * one side's connect() meeting the other's listen(), so each peer does both: it listens on
 * -b and -p, and connects to the other (--to). That makes two connections, one each way:
 * on the one it opened, a peer sends its probes and reads their echoes, exactly as a client
 * in probe mode; on the one it accepted, it echoes the other's probes, as a server. (TCP
 * also allows a simultaneous open, two connect()s from fixed ports meeting halfway into one
 * connection, but only when both SYNs cross in flight: a peer cannot count on it.)
 *
 * Whoever starts first finds nobody listening and connects again every NET_PEER_RETRY_MS.
 * The end is TCP's own: a peer whose probes are settled shuts its connection down for
 * writing (FIN), and goes on echoing until the other's FIN arrives on the other one. Only a
 * connection from the other peer's address is accepted, and only one. */
#include "tcp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "open.h"
#include "out.h"
#include "peer.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"
#include "upstream.h"

enum phase { CONNECTING, PROBING, FINISHING };

struct peering {
    const struct net_options *opt;
    struct net_target t; /* the connection this peer opened: its probes and their echoes */
    bool connecting;     /* t.fd's handshake is under way */
    struct net_upstream_addr to;
    int listen_fd;
    int in_fd;         /* the connection the other opened: its probes, echoed; -1 before */
    bool accepted;     /* in_fd has been accepted (and may be closed since) */
    bool refused_said; /* -v: "nobody at" said once */
    enum phase phase;
    enum net_peer_end end;
    char *buf; /* an echo the other is not reading yet */
    size_t len, off;
    unsigned long long bytes; /* echoed to the other */
};

/* ---- the connection the other opened: echo it ------------------------------------------ */

/* Take a connection: the other peer's first, from its address. Anyone else, and a second
 * one, is closed at once. */
static void accept_other(struct peering *p)
{
    struct sockaddr_storage from;
    socklen_t len = sizeof from;
    int fd = sock_accept(p->listen_fd, &from, &len);
    struct sockaddr_storage want = p->to.addr;
    const char *why = NULL;

    if (fd < 0)
        return; /* gone before accept(), or EAGAIN: nothing to take */
    /* the other's address, whatever port its connect() came from */
    if (want.ss_family == AF_INET)
        ((struct sockaddr_in *)&want)->sin_port = ((struct sockaddr_in *)&from)->sin_port;
    else
        ((struct sockaddr_in6 *)&want)->sin6_port = ((struct sockaddr_in6 *)&from)->sin6_port;
    if (from.ss_family != want.ss_family ||
        memcmp(&from, &want, len < p->to.len ? len : p->to.len) != 0)
        why = "not the other peer's address; closed";
    else if (p->accepted)
        why = "the other peer is connected already; closed";
    if (why != NULL || sock_nonblocking(fd) < 0 || (!p->opt->nagle && sock_nodelay(fd) < 0)) {
        net_out_peer("refused", (struct sockaddr *)&from, len, why);
        sock_close(fd);
        return;
    }
    p->in_fd = fd;
    p->accepted = true;
    net_out_peer("accepted", (struct sockaddr *)&from, len, "the other peer's probes come here");
}

/* The other's connection ended: its FIN (shut down our side too, then close) or an error. */
static void other_ended(struct peering *p, enum net_peer_end end)
{
    if (end == NET_PEER_FIN)
        sock_shutdown(p->in_fd, SHUT_WR);
    sock_close(p->in_fd);
    p->in_fd = -1;
    p->end = end;
    net_out_peer("closed", (struct sockaddr *)&p->to.addr, p->to.len,
                 end == NET_PEER_FIN ? "the other peer is done (FIN)" : "reset");
}

/* Echo what the other sent: send what is waiting first, and read only once it has gone,
 * so a peer that does not read its echoes holds at most one read here. */
static void echo_other(struct peering *p)
{
    ssize_t n;

    while (p->off < p->len) {
        n = sock_send(p->in_fd, p->buf + p->off, p->len - p->off);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0) {
            other_ended(p, NET_PEER_RESET);
            return;
        }
        p->off += (size_t)n;
        p->bytes += (size_t)n;
    }
    n = sock_recv(p->in_fd, p->buf, p->opt->recv_size);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        other_ended(p, n == 0 ? NET_PEER_FIN : NET_PEER_RESET);
        return;
    }
    p->len = (size_t)n;
    p->off = 0;
    echo_other(p);
}

/* ---- the connection this peer opens ---------------------------------------------------- */

static void say_nobody(struct peering *p, int code)
{
    char detail[120];

    if (p->refused_said)
        return;
    p->refused_said = true;
    snprintf(detail, sizeof detail, "%s (%s); trying again every %d ms", strerror(code),
             net_err_name(code), NET_PEER_RETRY_MS);
    net_out_peer("nobody at", (struct sockaddr *)&p->to.addr, p->to.len, detail);
}

/* A refusal, or no answer, means the other has not started yet; anything else is a failure. */
static bool worth_again(int code)
{
    return code == ECONNREFUSED || code == ETIMEDOUT || code == EHOSTUNREACH ||
           code == ENETUNREACH || code == ECONNRESET;
}

static int start_connect(struct peering *p, struct net_error *err)
{
    p->t.fd = net_open_connecting((struct sockaddr *)&p->to.addr, p->to.len, p->opt->bind,
                                  &p->opt->so, err);
    if (p->t.fd < 0 && worth_again(err->code)) {
        say_nobody(p, err->code);
        *err = (struct net_error){0};
        return 0;
    }
    p->connecting = p->t.fd >= 0;
    return p->t.fd < 0 ? -1 : 0;
}

/* The handshake ended, one way or the other (SO_ERROR says which). */
static int finish_connect(struct peering *p, struct net_error *err)
{
    int code = sock_pending_error(p->t.fd);

    if (code != 0) {
        sock_close(p->t.fd);
        p->t.fd = -1;
        p->connecting = false;
        if (worth_again(code)) {
            say_nobody(p, code);
            return 0;
        }
        return net_err_errno(err, code, "cannot connect to %s", p->to.text);
    }
    p->connecting = false;
    if (!p->opt->nagle && sock_nodelay(p->t.fd) < 0)
        return net_err_errno(err, errno, "cannot set TCP_NODELAY");
    net_out_peer("connected", (struct sockaddr *)&p->to.addr, p->to.len,
                 "this peer's probes go here");
    net_sockopt_report(p->t.fd, p->to.addr.ss_family, SOCK_STREAM, &p->opt->so);
    return 0;
}

/* ---- what the probe loop and the waits ask of a peer (common/peer.h) ------------------- */

/* After this peer's FIN, on a connection the other never answered by connecting back: echoes
 * too late to count are read and dropped, and the other's FIN (or a reset) means it is gone. */
static void discard_late(struct peering *p)
{
    char late[4096];
    ssize_t n;

    while ((n = recv(p->t.fd, late, sizeof late, MSG_DONTWAIT)) > 0)
        ;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        p->end = NET_PEER_NEVER;
}

enum { SLOT_LISTEN, SLOT_OTHER, SLOT_CONNECT };

static int fill(void *ctx, struct pollfd *slots)
{
    struct peering *p = ctx;

    slots[SLOT_LISTEN] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
    slots[SLOT_OTHER] =
        (struct pollfd){.fd = p->in_fd, .events = (short)(p->off < p->len ? POLLOUT : POLLIN)};
    if (p->connecting)
        slots[SLOT_CONNECT] = (struct pollfd){.fd = p->t.fd, .events = POLLOUT};
    else if (p->phase == FINISHING && !p->accepted)
        slots[SLOT_CONNECT] = (struct pollfd){.fd = p->t.fd, .events = POLLIN};
    else
        return 2;
    return 3;
}

static int serve(void *ctx, const struct pollfd *slots, int n, struct net_error *err)
{
    struct peering *p = ctx;

    if (slots[SLOT_LISTEN].revents & POLLIN)
        accept_other(p);
    if (p->in_fd >= 0 && slots[SLOT_OTHER].fd == p->in_fd && slots[SLOT_OTHER].revents != 0)
        echo_other(p);
    if (n > SLOT_CONNECT && slots[SLOT_CONNECT].revents != 0) {
        if (p->connecting)
            return finish_connect(p, err);
        discard_late(p);
    }
    return 0;
}

/* While connecting: a new attempt when the last one failed. */
static int tick(void *ctx, struct net_error *err)
{
    struct peering *p = ctx;

    if (p->phase == CONNECTING && p->t.fd < 0)
        return start_connect(p, err);
    return 0;
}

static bool over(void *ctx)
{
    struct peering *p = ctx;

    if (p->phase == CONNECTING)
        return p->t.fd >= 0 && !p->connecting;
    return p->end != NET_PEER_RUNNING;
}

/* ---- the role ------------------------------------------------------------------------- */

static int open_peer(struct peering *p, struct net_error *err)
{
    struct sockaddr_storage own;
    socklen_t ownlen;

    p->listen_fd = net_peer_open(p->opt, SOCK_STREAM, &p->to, &p->t, &own, &ownlen, err);
    if (p->listen_fd < 0)
        return -1;
    if (sock_nonblocking(p->listen_fd) < 0)
        return net_err_errno(err, errno, "cannot make the listening socket non-blocking");
    net_out_listening(NET_TCP, (struct sockaddr *)&own, ownlen, false, NULL, NULL, p->to.text);
    return 0;
}

/* Connect, probe while echoing, then echo on until the other's FIN. */
static int run(struct peering *p, const struct net_peer_side *side, struct net_error *err)
{
    int rc = net_peer_wait(side, net_now_ms() + NET_PEER_WAIT_S * 1000.0, err);

    if (rc <= 0) {
        p->end = NET_PEER_NEVER;
        return rc == 0 ? net_peer_never(p->t.name, err) : rc;
    }
    p->phase = PROBING;
    rc = net_measure_peer(p->opt, &p->t, side, err);
    if (rc < 0)
        return rc;
    p->phase = FINISHING;
    /* this peer is done: its FIN, after the last probe. Until the other connects back, its
     * FIN on this connection says it is gone (fill() watches for it). */
    sock_shutdown(p->t.fd, SHUT_WR);
    if (p->end == NET_PEER_RUNNING &&
        net_peer_wait(side, p->accepted ? INFINITY : net_now_ms() + NET_PEER_WAIT_S * 1000.0, err) <
            0)
        return -1;
    if (p->end == NET_PEER_RUNNING)
        p->end = p->accepted ? NET_PEER_INTERRUPTED : NET_PEER_NEVER;
    return rc;
}

int tcp_peer_main(const struct net_options *opt, struct net_error *err)
{
    struct peering p = {.opt = opt, .t.fd = -1, .listen_fd = -1, .in_fd = -1};
    struct net_peer_side side = {.ctx = &p,
                                 .id = net_peer_new_id(),
                                 .fill = fill,
                                 .serve = serve,
                                 .tick = tick,
                                 .over = over};
    int rc;

    p.buf = malloc(opt->recv_size);
    if (p.buf == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the echo buffer");
    rc = open_peer(&p, err);
    if (rc == 0)
        rc = run(&p, &side, err);
    if (p.phase != CONNECTING)
        net_peer_report(opt, p.t.name, -1, p.bytes, p.end);
    if (p.in_fd >= 0)
        sock_close(p.in_fd);
    if (p.t.fd >= 0)
        sock_close(p.t.fd);
    if (p.listen_fd >= 0)
        sock_close(p.listen_fd);
    free(p.buf);
    return rc;
}
