/* server.c - udp-echo server: bind, then answer each datagram with one datagram. */
#include "udp.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>

#include "addr.h"
#include "clock.h"
#include "counters.h"
#include "open.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"
#include "wait.h"

int udp_server_open(struct udp_server *srv, const struct net_options *opt, struct net_error *err)
{
    struct addrinfo *res;

    srv->opt = opt;
    srv->guard_fd = -1;
    srv->counters = (struct net_counters){0};
    memset(srv->peers, 0, sizeof srv->peers);
    memset(srv->sources, 0, sizeof srv->sources);
    /* a fresh random key per process: where a source lands in the tables below cannot be
     * computed from outside, so no sender can aim at another's slot */
    if (getrandom(srv->hash_key, sizeof srv->hash_key, 0) != (ssize_t)sizeof srv->hash_key)
        return net_err_errno(err, errno, "cannot read random bytes for the peer tables");
    if (net_addr_resolve(opt->host, opt->port, opt->family, SOCK_DGRAM, true, &res, err) < 0)
        return -1;
    /* a default server also holds [::1] on its port, where localhost points first */
    srv->fd =
        net_open_server(res, &opt->so, &srv->addr, &srv->addrlen,
                        opt->bind == NULL && opt->family == NET_ANY ? &srv->guard_fd : NULL, err);
    freeaddrinfo(res);
    if (srv->fd < 0)
        return -1;
    /* on a wildcard address, learn where each datagram was sent, to reply from there */
    srv->wildcard = net_addr_is_wildcard((struct sockaddr *)&srv->addr);
    if (srv->wildcard && sock_want_local(srv->fd, srv->addr.ss_family) < 0) {
        net_err_errno(err, errno, "cannot ask for each datagram's local address");
        udp_server_close(srv);
        return -1;
    }
    return 0;
}

void udp_server_close(struct udp_server *srv)
{
    if (srv->fd >= 0)
        sock_close(srv->fd);
    srv->fd = -1;
    if (srv->guard_fd >= 0)
        sock_close(srv->guard_fd);
    srv->guard_fd = -1;
}

bool udp_server_signalled(struct udp_server *srv)
{
    net_out_notice_flush();
    if (net_signal_take_usr1())
        net_counters_print(NET_UDP, "counters", &srv->counters);
    return net_signal_stopping();
}

static void peer_key(const struct sockaddr *sa, struct udp_peer_key *key)
{
    memset(key, 0, sizeof *key);
    key->family = (uint16_t)sa->sa_family;
    key->port = net_addr_port(sa);
    if (sa->sa_family == AF_INET)
        memcpy(key->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    else if (sa->sa_family == AF_INET6)
        memcpy(key->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static uint64_t rotl(uint64_t x, int bits)
{
    return x << bits | x >> (64 - bits);
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t x = 0;

    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
    v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
    v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
    v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

/* SipHash-2-4 of len bytes under a 128-bit key: without the key, nobody can tell which
 * inputs share a hash, so nobody can choose a source that lands in another's slot. */
static uint64_t siphash(const uint64_t key[2], const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t v[4] = {key[0] ^ 0x736f6d6570736575u, key[1] ^ 0x646f72616e646f6du,
                     key[0] ^ 0x6c7967656e657261u, key[1] ^ 0x7465646279746573u};
    uint64_t last = (uint64_t)len << 56;
    size_t i;

    for (i = 0; i + 8 <= len; i += 8) {
        uint64_t m = load_le64(p + i);

        v[3] ^= m;
        sip_round(v);
        sip_round(v);
        v[0] ^= m;
    }
    for (size_t j = 0; i + j < len; j++)
        last |= (uint64_t)p[i + j] << (8 * j);
    v[3] ^= last;
    sip_round(v);
    sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint64_t key_hash(const struct udp_server *srv, const struct udp_peer_key *key)
{
    return siphash(srv->hash_key, key, sizeof *key);
}

/* Remember a peer; true the first time it is seen. Probing on from its keyed hash ends at
 * the peer or at an empty slot, and one is always near: the table is never filled past 3/4.
 * Past that a new peer is still served, but the count of peers is only a lower bound. */
static bool first_from(struct udp_server *srv, const struct udp_peer_key *key, uint64_t h)
{
    for (size_t slot = h % UDP_PEERS_SLOTS;; slot = (slot + 1) % UDP_PEERS_SLOTS) {
        struct udp_peer_key *seen = &srv->peers[slot];

        if (seen->family == 0) {
            if (srv->counters.clients == UDP_PEERS_MAX) {
                srv->counters.clients_at_least = true;
                return false;
            }
            *seen = *key;
            return true;
        }
        if (memcmp(seen, key, sizeof *key) == 0)
            return false;
    }
}

/* The slot of a recent source, and how long it has been quiet (*quiet_ms). A slot changes
 * hands only after its source has been quiet for a second; until then a colliding source
 * shares it (*owner false): it shares the budget, which can only drop more, never answer
 * more, and its datagrams are not taken for the owner's. */
static struct udp_source *source_of(struct udp_server *srv, const struct udp_peer_key *key,
                                    uint64_t h, bool *owner, double *quiet_ms)
{
    struct udp_source *src = &srv->sources[h % UDP_SOURCE_SLOTS];
    double now = net_now_ms();

    *owner = memcmp(&src->key, key, sizeof *key) == 0;
    if (!*owner && (src->last_ms == 0 || now - src->last_ms >= 1000)) {
        memset(src, 0, sizeof *src);
        src->key = *key;
        src->tokens = srv->opt->rate_limit;
        src->last_ms = now;
        *owner = true;
    }
    *quiet_ms = now - src->last_ms;
    src->last_ms = now;
    return src;
}

/* --rate-limit: may this source have one more answer now? UDP has no flow control, so this
 * is the only brake on a peer that sends faster than it should. */
static bool within_rate(const struct udp_server *srv, struct udp_source *src, double quiet_ms)
{
    double rate = srv->opt->rate_limit;

    if (rate <= 0)
        return true;
    src->tokens += quiet_ms * rate / 1000;
    if (src->tokens > rate)
        src->tokens = rate;
    if (src->tokens < 1)
        return false;
    src->tokens -= 1;
    return true;
}

/* Bytes of a datagram its digest covers, with its length: enough to tell requests apart. */
#define DIGEST_BYTES 512

static uint32_t digest(const struct udp_server *srv, const char *buf, size_t len)
{
    uint64_t h = siphash(srv->hash_key, buf, len < DIGEST_BYTES ? len : DIGEST_BYTES);

    return (uint32_t)(h ^ h >> 32) ^ (uint32_t)len;
}

/* --loop-limit: is this datagram going round an echo loop? Two echo-like servers that answer
 * each other pass the same bytes back and forth for ever, whatever their ports; a client asks
 * something new each time (a probe carries its sequence number). So a source that sends,
 * more than N times in a row without a second's pause, a datagram it sent among its last few
 * is not answered until it pauses or says something new: one unanswered datagram ends a
 * loop. */
static bool looping(const struct udp_server *srv, struct udp_source *src, const char *buf,
                    size_t len, double quiet_ms)
{
    uint32_t d;
    bool repeat = false;

    if (srv->opt->loop_limit == 0)
        return false;
    d = digest(srv, buf, len);
    for (size_t i = 0; i < UDP_LOOP_HISTORY; i++)
        repeat = repeat || src->recent[i] == d;
    if (quiet_ms >= 1000)
        src->repeats = 0; /* a pause: a person typing, not a loop */
    src->repeats = repeat ? src->repeats + 1 : 0;
    src->recent[src->next] = d;
    src->next = (src->next + 1) % UDP_LOOP_HISTORY;
    return src->repeats > srv->opt->loop_limit;
}

/* Decide about one datagram: answer it, or drop and count it. Returns 1 when it was served
 * (echoed, or counted as too long to echo): what --once waits for. */
static int answer(struct udp_server *srv, const char *buf, size_t len, bool truncated,
                  const struct sockaddr_storage *from, socklen_t fromlen,
                  const struct sock_local *to)
{
    const struct sockaddr *peer = (const struct sockaddr *)from;
    const char *why, *reply = buf;
    char detail[112];
    struct udp_peer_key key;
    struct udp_source *src;
    bool owner;
    double quiet_ms;
    uint64_t h;

    srv->counters.msgs_in++;
    srv->counters.bytes_in += len;
    if (!net_addr_reflectable(peer, net_addr_port((struct sockaddr *)&srv->addr), &why)) {
        /* answering could feed an echo loop or a reflection attack: drop, count, say so */
        srv->counters.refused++;
        net_out_notice("refused", peer, fromlen, why);
        return 0;
    }
    peer_key(peer, &key);
    h = key_hash(srv, &key);
    src = source_of(srv, &key, h, &owner, &quiet_ms);
    if (!within_rate(srv, src, quiet_ms)) {
        srv->counters.refused++;
        if (net_out_verbose() >= 1)
            net_out_notice("rate-limited", peer, fromlen, "over --rate-limit; not echoed");
        return 0;
    }
    if (first_from(srv, &key, h)) {
        srv->counters.clients++;
        net_out_peer("first datagram from", peer, fromlen, NULL);
    }
    if (truncated) {
        /* the rest of the datagram is gone: an echo now would be short, so send none */
        srv->counters.truncated++;
        snprintf(detail, sizeof detail, "longer than --recv-size %zu bytes; not echoed",
                 srv->opt->recv_size);
        net_out_notice("truncated datagram from", peer, fromlen, detail);
        return 1;
    }
    if (owner && looping(srv, src, buf, len, quiet_ms)) {
        /* the peer answers us as we answer it: an echo loop; this drop ends it */
        srv->counters.refused++;
        snprintf(detail, sizeof detail,
                 "sent a recent datagram again, %u times in a row: an echo loop? (--loop-limit)",
                 srv->opt->loop_limit + 1);
        net_out_notice("refused", peer, fromlen, detail);
        return 0;
    }
    if (srv->opt->reply) {
        reply = srv->opt->reply;
        len = strlen(reply);
    }
    /* a 0-byte datagram is a real message, and its echo is a 0-byte datagram too */
    if (sock_sendmsg(srv->fd, reply, len, peer, fromlen, to) < 0) {
        srv->counters.errors++;
        return 0;
    }
    srv->counters.msgs_out++;
    srv->counters.bytes_out += len;
    return 1;
}

/* How long one blocking receive may last: a stop signal that lands just before the call
 * (so it cannot interrupt it) is noticed within this time. */
#define RECV_HEARTBEAT_MS 200

int udp_serve(struct udp_server *srv, struct net_error *err)
{
    char *buf = malloc(srv->opt->recv_size);
    int rc = 0;

    if (buf == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the receive buffer");
    /* block in the receive call itself, as the shortest echo loop does: no poll() before each
     * datagram. A signal interrupts the call (EINTR); the receive timeout covers the rest */
    if (sock_recv_timeout(srv->fd, RECV_HEARTBEAT_MS) < 0) {
        free(buf);
        return net_err_errno(err, errno, "cannot set up the server socket");
    }
    while (!udp_server_signalled(srv)) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        struct sock_local to = {0};
        bool truncated;
        ssize_t n = sock_recvmsg(srv->fd, buf, srv->opt->recv_size, &from, &fromlen, &truncated,
                                 srv->wildcard ? &to : NULL);

        if (n < 0) {
            /* a heartbeat, a signal, or an ICMP error for an earlier reply: none ends the
             * server */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED)
                continue;
            rc = net_err_errno(err, errno, "cannot receive datagrams");
            break;
        }
        if (answer(srv, buf, (size_t)n, truncated, &from, fromlen, &to) && srv->opt->once)
            break;
    }
    free(buf);
    return rc;
}

int udp_server_main(const struct net_options *opt, struct net_error *err)
{
    struct udp_server srv;
    int rc;

    if (udp_server_open(&srv, opt, err) < 0)
        return -1;
    net_out_listening(NET_UDP, (struct sockaddr *)&srv.addr, srv.addrlen);
    net_out_held(srv.guard_fd);
    net_sockopt_report(srv.fd, srv.addr.ss_family, SOCK_DGRAM, &opt->so);
    rc = udp_serve(&srv, err);
    net_counters_print(NET_UDP, "summary", &srv.counters);
    udp_server_close(&srv);
    return rc;
}
