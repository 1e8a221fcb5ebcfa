/* peers.c - what a UDP server remembers of its peers, having no connection to hold it.
 *
 * Who has been seen, each recent source's --rate-limit budget, and its last datagrams, to
 * spot an echo loop: fixed tables, hashed with a per-process key. */
#include "udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>

#include "addr.h"
#include "clock.h"

int udp_peers_init(struct udp_server *srv, struct net_error *err)
{
    memset(srv->peers, 0, sizeof srv->peers);
    memset(srv->sources, 0, sizeof srv->sources);
    /* a fresh random key per process: where a source lands in the tables cannot be
     * computed from outside, so no sender can aim at another's slot */
    if (getrandom(srv->hash_key, sizeof srv->hash_key, 0) != (ssize_t)sizeof srv->hash_key)
        return net_err_errno(err, errno, "cannot read random bytes for the peer tables");
    return 0;
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

uint64_t udp_peer_hash(const struct udp_server *srv, const struct sockaddr *sa,
                       struct udp_peer_key *key)
{
    peer_key(sa, key);
    return siphash(srv->hash_key, key, sizeof *key);
}

/* Remember a peer; true the first time it is seen. Probing on from its keyed hash ends at
 * the peer or at an empty slot, and one is always near: the table is never filled past 3/4.
 * Past that a new peer is still served, but the count of peers is only a lower bound. */
bool udp_peer_first(struct udp_server *srv, const struct udp_peer_key *key, uint64_t h)
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
struct udp_source *udp_source_of(struct udp_server *srv, const struct udp_peer_key *key, uint64_t h,
                                 bool *owner, double *quiet_ms)
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
bool udp_source_within_rate(const struct udp_server *srv, struct udp_source *src, double quiet_ms)
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
bool udp_source_looping(const struct udp_server *srv, struct udp_source *src, const char *buf,
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
