/* peer.c - udp-echo peer: probes the other peer and answers its probes, on one socket.
 *
 * Twin of tcp/peer.c; common/peer.c has what the two share. One socket, bound to -b and -p
 * and connect()ed to the other peer (--to), does everything: this peer's probes and its
 * echoes of the other's go out on it, and the kernel hands it datagrams from the other
 * peer's address and port only. What a datagram is, is written in it: a probe carries its
 * sender's id ("from=3fa2b1c0 seq=1 t=0 ..."), so a probe with this peer's id is the echo of
 * one of its own, and a probe with another id is the other's, to be echoed, once.
 *
 * Two datagrams are never answered at all, so no two programs can keep one going between
 * them: "knock from=ID", sent every NET_PEER_RETRY_MS until the other peer is heard (whoever
 * starts second is heard at once), and "bye from=ID", sent once this peer's probes are
 * settled. A bye can be lost like any datagram, so a peer that is done also stops once the
 * other has been silent for a while. */
#include "udp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "datagram.h"
#include "open.h"
#include "out.h"
#include "peer.h"
#include "probe.h"
#include "signals.h"
#include "sock.h"
#include "upstream.h"

/* The other's probes remembered as answered, in a ring by sequence number: a copy that
 * comes back (a duplicate, or a forged probe going round between two peers) is not
 * answered again while the slot still holds it. */
#define ANSWERED_RING 4096
/* Datagrams read per wake, while the probe loop is not the one reading. */
#define DATAGRAMS_PER_WAKE 64
/* A peer that is done stops once the other has been silent this many times its -i or -W
 * (whichever is longer), and at least this many seconds. */
#define SILENCE_INTERVALS 3
#define SILENCE_MIN_S 2.0

enum phase { KNOCKING, PROBING, FINISHING };

struct peering {
    const struct net_options *opt;
    struct net_target t; /* the socket, and the other peer's address */
    uint32_t id;
    enum phase phase;
    bool heard;        /* the other peer has been heard */
    bool refused_said; /* -v: "nobody there yet" said once */
    double heard_ms;   /* when it was heard last */
    double silence_ms; /* FINISHING: this long without a word from it ends the wait */
    enum net_peer_end end;
    long long probes; /* the other's probes answered */
    unsigned long long bytes;
    struct {
        uint32_t from, seq;
    } answered[ANSWERED_RING];
    char buf[NET_CLIENT_RECV_SIZE];
};

/* "knock from=3fa2b1c0\n": true when buf is the note word of some peer, with its id. */
static bool is_note(const char *buf, size_t len, const char *word, uint32_t *from)
{
    char text[32];
    unsigned long id;
    int n;

    if (len >= sizeof text)
        return false;
    memcpy(text, buf, len);
    text[len] = '\0';
    n = 0;
    if (strncmp(text, word, strlen(word)) != 0 ||
        sscanf(text + strlen(word), " from=%8lx\n%n", &id, &n) != 1 ||
        strlen(word) + (size_t)n != len || id == 0)
        return false;
    *from = (uint32_t)id;
    return true;
}

/* Send a note (knock or bye). The other may not be there yet (ICMP port unreachable comes
 * back as ECONNREFUSED on a later call) or the buffer may be full: a note is worth one try. */
static void send_note(struct peering *p, const char *word)
{
    char note[32];
    int n = snprintf(note, sizeof note, "%s from=%08lx\n", word, (unsigned long)p->id);

    (void)sock_send(p->t.fd, note, (size_t)n);
}

static void heard(struct peering *p, const char *what)
{
    p->heard_ms = net_now_ms();
    if (p->heard)
        return;
    p->heard = true;
    net_out_peer("heard", (struct sockaddr *)&p->t.peer, p->t.peerlen, what);
}

/* The other's probe: echo it, unless this very probe was answered already. */
static void answer(struct peering *p, const char *buf, size_t len, uint32_t from, uint32_t seq)
{
    size_t slot = seq % ANSWERED_RING;

    heard(p, "its first probe");
    if (p->answered[slot].from == from && p->answered[slot].seq == seq)
        return; /* a copy coming round: answering it would echo it back and forth */
    if (sock_send(p->t.fd, buf, len) < 0)
        return; /* a full buffer: lost, as on the wire; the other's -W says so */
    p->answered[slot].from = from;
    p->answered[slot].seq = seq;
    p->probes++;
    p->bytes += len;
}

/* A datagram that is no echo of this peer's own probes (common/peer.h). */
static bool foreign(void *ctx, const char *buf, size_t len)
{
    struct peering *p = ctx;
    uint32_t from, seq;
    uint64_t t;

    if (is_note(buf, len, "knock", &from)) {
        if (from != p->id)
            heard(p, "its knock");
        return true;
    }
    if (is_note(buf, len, "bye", &from)) {
        if (from == p->id)
            return true;
        heard(p, "its bye");
        p->end = NET_PEER_BYE;
        net_out_peer("bye from", (struct sockaddr *)&p->t.peer, p->t.peerlen, NULL);
        return true;
    }
    if (net_probe_decode_from(buf, len, &from, &seq, &t) < 0 || from == 0 || from == p->id)
        return false;
    answer(p, buf, len, from, seq);
    return true;
}

/* The socket is read here only while the probe loop is not running. */
static int fill(void *ctx, struct pollfd *slots)
{
    struct peering *p = ctx;

    if (p->phase == PROBING)
        return 0;
    slots[0] = (struct pollfd){.fd = p->t.fd, .events = POLLIN};
    return 1;
}

/* Read what came, a few datagrams at a time. Outside the probe run, the echo of one of this
 * peer's own probes is a late one: dropped. */
static int serve(void *ctx, const struct pollfd *slots, int n, struct net_error *err)
{
    struct peering *p = ctx;

    (void)err;
    if (n < 1 || !(slots[0].revents & (POLLIN | POLLERR)))
        return 0;
    for (int i = 0; i < DATAGRAMS_PER_WAKE; i++) {
        bool truncated;
        ssize_t got = net_recv_datagram(p->t.fd, NULL, p->buf, sizeof p->buf, &truncated);

        if (got < 0 && errno == ECONNREFUSED && !p->refused_said) {
            p->refused_said = true;
            net_out_peer("nobody at", (struct sockaddr *)&p->t.peer, p->t.peerlen,
                         "ICMP port unreachable; knocking until it starts");
        }
        if (got < 0)
            return 0; /* EAGAIN, or a refusal: knocks go on */
        if (!truncated)
            foreign(p, p->buf, (size_t)got);
    }
    return 0;
}

/* Knock until heard; once done, notice the other's silence. */
static int tick(void *ctx, struct net_error *err)
{
    struct peering *p = ctx;

    (void)err;
    if (p->phase == KNOCKING)
        send_note(p, "knock");
    if (p->phase == FINISHING && net_now_ms() - p->heard_ms > p->silence_ms)
        p->end = NET_PEER_SILENT;
    return 0;
}

static bool over(void *ctx)
{
    struct peering *p = ctx;

    return p->phase == KNOCKING ? p->heard : p->end != NET_PEER_RUNNING;
}

/* The socket: bound where -b and -p say, connected to the other peer. */
static int open_peer(struct peering *p, struct net_upstream_addr *to, struct net_error *err)
{
    struct sockaddr_storage own;
    socklen_t ownlen;

    p->t.fd = net_peer_open(p->opt, SOCK_DGRAM, to, &p->t, &own, &ownlen, err);
    if (p->t.fd < 0)
        return -1;
    if (sock_connect(p->t.fd, (struct sockaddr *)&to->addr, to->len) < 0)
        return net_err_errno(err, errno, "cannot set %s as the other peer", to->text);
    if (sock_nonblocking(p->t.fd) < 0)
        return net_err_errno(err, errno, "cannot make the socket non-blocking");
    net_out_listening(NET_UDP, (struct sockaddr *)&own, ownlen, false, NULL, NULL, to->text);
    net_sockopt_report(p->t.fd, own.ss_family, SOCK_DGRAM, &p->opt->so);
    return 0;
}

/* Probe the other while answering it, then answer on until it is done too. */
static int run(struct peering *p, const struct net_peer_side *side, struct net_error *err)
{
    int rc = net_peer_wait(side, net_now_ms() + NET_PEER_WAIT_S * 1000.0, err);

    if (rc <= 0) {
        p->end = NET_PEER_NEVER;
        if (rc == 0)
            rc = net_peer_never(p->t.name, err);
        return rc;
    }
    p->phase = PROBING;
    rc = net_measure_peer(p->opt, &p->t, side, err);
    if (rc < 0)
        return rc;
    p->phase = FINISHING;
    send_note(p, "bye");
    if (p->end == NET_PEER_RUNNING && net_peer_wait(side, INFINITY, err) < 0)
        return -1;
    if (p->end == NET_PEER_RUNNING)
        p->end = NET_PEER_INTERRUPTED;
    return rc;
}

int udp_peer_main(const struct net_options *opt, struct net_error *err)
{
    struct peering *p = calloc(1, sizeof *p);
    struct net_upstream_addr to;
    struct net_peer_side side = {
        .fill = fill, .serve = serve, .foreign = foreign, .tick = tick, .over = over};
    int rc;

    if (p == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the peer");
    p->opt = opt;
    p->t.fd = -1;
    p->id = side.id = net_peer_new_id();
    p->silence_ms =
        1000 * fmax(SILENCE_MIN_S, SILENCE_INTERVALS * fmax(opt->interval, opt->timeout));
    side.ctx = p;
    rc = open_peer(p, &to, err);
    if (rc == 0)
        rc = run(p, &side, err);
    if (p->heard)
        net_peer_report(opt, p->t.name, p->probes, p->bytes, p->end);
    if (p->t.fd >= 0)
        sock_close(p->t.fd);
    free(p);
    return rc;
}
