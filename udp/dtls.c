/* dtls.c - udp-echo --tls: a DTLS session per peer on the one socket, after a cookie. */
#include "udp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "out.h"

/* One peer's session, kept until the peer says close_notify, its handshake fails, or a new
 * peer needs the slot of the one heard from least recently. */
struct udp_dtls {
    struct udp_peer_key key;
    SSL *ssl;
    double last_ms;
    bool secured;
};

int udp_dtls_open(struct udp_server *srv, struct net_error *err)
{
    srv->dtls = calloc(UDP_DTLS_SESSIONS, sizeof *srv->dtls);
    srv->dtls_buf = malloc(UDP_DTLS_RECORD_MAX);
    if (srv->dtls == NULL || srv->dtls_buf == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the DTLS sessions");
    srv->listener = tls_session_shared(&srv->tls, srv->fd, err);
    return srv->listener == NULL ? -1 : 0;
}

void udp_dtls_close(struct udp_server *srv)
{
    for (unsigned i = 0; srv->dtls != NULL && i < UDP_DTLS_SESSIONS; i++)
        tls_session_free(srv->dtls[i].ssl);
    tls_session_free(srv->listener);
    free(srv->dtls);
    free(srv->dtls_buf);
    srv->dtls = NULL;
    srv->dtls_buf = NULL;
    srv->listener = NULL;
}

static struct udp_dtls *find(struct udp_server *srv, const struct udp_peer_key *key)
{
    for (unsigned i = 0; i < UDP_DTLS_SESSIONS; i++)
        if (srv->dtls[i].ssl != NULL && memcmp(&srv->dtls[i].key, key, sizeof *key) == 0)
            return &srv->dtls[i];
    return NULL;
}

static void forget(struct udp_dtls *d)
{
    tls_session_free(d->ssl);
    memset(d, 0, sizeof *d);
}

/* A slot for a new session: a free one, or the one heard from least recently. */
static struct udp_dtls *slot(struct udp_server *srv)
{
    struct udp_dtls *oldest = &srv->dtls[0];

    for (unsigned i = 0; i < UDP_DTLS_SESSIONS; i++) {
        if (srv->dtls[i].ssl == NULL)
            return &srv->dtls[i];
        if (srv->dtls[i].last_ms < oldest->last_ms)
            oldest = &srv->dtls[i];
    }
    forget(oldest);
    return oldest;
}

/* A first datagram from a peer with no session: DTLS's cookie exchange, which keeps
 * nothing until the peer has proved its address; then the listener becomes its session. */
static struct udp_dtls *admit(struct udp_server *srv, const struct udp_peer_key *key)
{
    struct net_error err = {0};
    struct udp_dtls *d;
    SSL *next;

    if (!tls_listen(srv->listener))
        return NULL;
    if ((next = tls_session_shared(&srv->tls, srv->fd, &err)) == NULL)
        return NULL;
    d = slot(srv);
    d->key = *key;
    d->ssl = srv->listener;
    srv->listener = next;
    return d;
}

/* The handshake went as far as this datagram takes it: 1 on, 0 when the peer was refused. */
static int handshake(struct udp_server *srv, struct udp_dtls *d, const struct sockaddr *peer,
                     socklen_t len)
{
    struct net_error err = {0};
    bool want_write;
    char detail[sizeof err.what + sizeof err.detail + 8];
    struct tls_facts f;
    int rc = tls_handshake_step(d->ssl, &want_write, &err);

    if (rc == 0)
        return 1;
    if (rc < 0) {
        srv->counters.refused++;
        snprintf(detail, sizeof detail, "%s: %s", err.what, err.detail);
        net_out_notice("refused", peer, len, detail);
        forget(d);
        return 0;
    }
    d->secured = true;
    tls_facts_of(d->ssl, &f);
    net_out_secured(peer, len, &f);
    return 1;
}

/* Every message of the user's the datagram held: counted, and echoed (or --reply). Returns
 * how many there were. */
static int echo_messages(struct udp_server *srv, struct udp_dtls *d)
{
    int served = 0;

    for (;;) {
        ssize_t n = tls_recv(d->ssl, srv->dtls_buf, UDP_DTLS_RECORD_MAX);
        const char *reply = srv->opt->reply ? srv->opt->reply : srv->dtls_buf;
        size_t len = srv->opt->reply ? strlen(srv->opt->reply) : (size_t)n;

        if (n < 0 && errno == EAGAIN)
            return served;
        if (n <= 0) { /* close_notify, or a session broken */
            forget(d);
            return served;
        }
        served++;
        srv->counters.msgs_in++;
        srv->counters.bytes_in += (unsigned long long)n;
        if (srv->opt->discard)
            continue;
        if (tls_send(d->ssl, reply, len) < 0) {
            srv->counters.errors++;
            continue;
        }
        srv->counters.msgs_out++;
        srv->counters.bytes_out += len;
    }
}

/* A ClientHello at epoch 0: a record of type handshake (22) whose epoch is 0 and whose
 * message, after the record's 13-byte header, is a ClientHello (1). */
static bool client_hello(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;

    return len > 13 && p[0] == 22 && p[3] == 0 && p[4] == 0 && p[13] == 1;
}

/* A peer with a session sends a ClientHello: it has started again (a client that died
 * without close_notify, and a new socket the kernel gave the same port). As RFC 6347 (4.2.8)
 * asks, the cookie exchange comes first, and the old session is forgotten only once the
 * peer has proved its address; until then both stand. */
static struct udp_dtls *restart(struct udp_server *srv, struct udp_dtls *old,
                                const struct udp_peer_key *key)
{
    struct udp_dtls *fresh = admit(srv, key);

    if (fresh != NULL && fresh != old) /* (admit may have taken the old one's own slot) */
        forget(old);
    return fresh;
}

int udp_dtls_datagram(struct udp_server *srv, const char *buf, size_t len,
                      const struct sockaddr_storage *from, socklen_t fromlen)
{
    const struct sockaddr *peer = (const struct sockaddr *)from;
    struct udp_peer_key key;
    uint64_t h = udp_peer_hash(srv, peer, &key);
    struct udp_dtls *d = find(srv, &key);

    if (d != NULL && d->secured && client_hello(buf, len)) {
        tls_feed(srv->listener, buf, len, from, fromlen);
        if ((d = restart(srv, d, &key)) == NULL)
            return 0;
    } else if (d != NULL) {
        tls_feed(d->ssl, buf, len, from, fromlen);
    } else {
        tls_feed(srv->listener, buf, len, from, fromlen);
        if ((d = admit(srv, &key)) == NULL)
            return 0;
        if (udp_peer_first(srv, &key, h)) {
            srv->counters.clients++;
            net_out_peer("first datagram from", peer, fromlen, NULL);
        }
    }
    d->last_ms = net_now_ms();
    if (!d->secured && (!handshake(srv, d, peer, fromlen) || !d->secured))
        return 0;
    /* a datagram of the handshake serves no message: --once waits for the first that does */
    return echo_messages(srv, d) > 0;
}
