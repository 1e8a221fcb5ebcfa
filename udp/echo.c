/* echo.c - what a UDP echo server does with one datagram: check it, then echo it.
 *
 * Twin of tcp/echo.c. A datagram from a source --allow does not name is dropped first, with
 * --discard too (TCP refuses such a client in tcp/accept.c, as it connects). The rest is
 * answered only if answering is safe: not to a source that could turn it into a reflection
 * or an echo loop, and within --rate-limit. With --discard none is answered, so none of
 * those checks applies. */
#include "udp.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "allow.h"
#include "out.h"
#include "sock.h"

/* Leave a datagram unanswered: count it, and say why (a notice, at most ten a second). */
static int drop(struct udp_server *srv, const char *event, const struct sockaddr *peer,
                socklen_t len, const char *why)
{
    srv->counters.refused++;
    net_out_notice(event, peer, len, why);
    return 0;
}

/* A datagram longer than --recv-size arrived cut: the rest is gone, and an echo now would be
 * short, so none is sent. It still counts as served. */
static int cut_short(struct udp_server *srv, const struct sockaddr *peer, socklen_t len)
{
    char detail[112];

    srv->counters.truncated++;
    snprintf(detail, sizeof detail, "longer than --recv-size %zu bytes; not echoed",
             srv->opt->recv_size);
    net_out_notice("truncated datagram from", peer, len, detail);
    return 1;
}

/* Count a peer (address and port) the first time it sends, and say so (-v). */
static void note_peer(struct udp_server *srv, const struct udp_peer_key *key, uint64_t h,
                      const struct sockaddr *peer, socklen_t len)
{
    if (!udp_peer_first(srv, key, h))
        return;
    srv->counters.clients++;
    net_out_peer("first datagram from", peer, len, NULL);
}

/* The discard service (--discard, RFC 863): the datagram is read and counted, and nothing
 * goes back. With no answer there is no reflection or echo loop to guard against, so no
 * source is refused; a datagram cut short is still counted as such. */
static int discard(struct udp_server *srv, bool truncated, const struct sockaddr *peer,
                   socklen_t len)
{
    struct udp_peer_key key;
    uint64_t h = udp_peer_hash(srv, peer, &key);

    note_peer(srv, &key, h, peer, len);
    return truncated ? cut_short(srv, peer, len) : 1;
}

/* Send the echo (or --reply) from the address the request came to; when the server is busy,
 * queue it for the batch's one sendmmsg (counted as it goes). */
static int send_echo(struct udp_server *srv, const char *buf, size_t len,
                     const struct sockaddr *peer, socklen_t peerlen, const struct sock_local *to)
{
    if (srv->opt->reply) {
        buf = srv->opt->reply;
        len = strlen(buf);
    }
    if (srv->echoes != NULL) {
        struct sock_dgram *d = &srv->echoes->out[srv->echoes->n++];

        d->buf = (char *)buf;
        d->len = len;
        memcpy(&d->peer, peer, peerlen);
        d->peerlen = peerlen;
        d->local = to != NULL ? *to : (struct sock_local){0};
        return 1;
    }
    /* a 0-byte datagram is a real message, and its echo is a 0-byte datagram too */
    if (sock_sendmsg(srv->fd, buf, len, peer, peerlen, to) < 0) {
        srv->counters.errors++;
        return 0;
    }
    srv->counters.msgs_out++;
    srv->counters.bytes_out += len;
    return 1;
}

int udp_echo_datagram(struct udp_server *srv, const char *buf, size_t len, bool truncated,
                      const struct sockaddr_storage *from, socklen_t fromlen,
                      const struct sock_local *to)
{
    const struct sockaddr *peer = (const struct sockaddr *)from;
    const char *why;
    char detail[112];
    struct udp_peer_key key;
    struct udp_source *src;
    bool owner;
    double quiet_ms;
    uint64_t h;
    bool reflectable;

    /* --allow: an outsider's datagram is counted as refused only, as TCP never reads from an
     * outsider's connection; it gets no answer, not even an ICMP error */
    if (!net_allow_permits(&srv->opt->allow, peer))
        return drop(srv, "refused", peer, fromlen, NET_ALLOW_REFUSED);
    /* answering could feed an echo loop or a reflection attack */
    reflectable = net_addr_reflectable(peer, net_addr_port((struct sockaddr *)&srv->addr), &why);
    /* --tls: the datagram belongs to the peer's DTLS session (which counts the messages);
     * a handshake answers too, so the same sources are refused */
    if (srv->opt->tls_on)
        return reflectable ? udp_dtls_datagram(srv, buf, len, from, fromlen)
                           : drop(srv, "refused", peer, fromlen, why);
    srv->counters.msgs_in++;
    srv->counters.bytes_in += len;
    if (srv->opt->discard)
        return discard(srv, truncated, peer, fromlen);
    if (!reflectable)
        return drop(srv, "refused", peer, fromlen, why);
    h = udp_peer_hash(srv, peer, &key);
    src = udp_source_of(srv, &key, h, &owner, &quiet_ms);
    if (!udp_source_within_rate(srv, src, quiet_ms))
        return drop(srv, "rate-limited", peer, fromlen, "over --rate-limit; not echoed");
    note_peer(srv, &key, h, peer, fromlen);
    if (truncated)
        return cut_short(srv, peer, fromlen);
    /* the peer answers us as we answer it: an echo loop; this drop ends it */
    if (owner && udp_source_looping(srv, src, buf, len, quiet_ms)) {
        snprintf(detail, sizeof detail,
                 "sent a recent datagram again, %u times in a row: an echo loop? (--loop-limit)",
                 srv->opt->loop_limit + 1);
        return drop(srv, "refused", peer, fromlen, detail);
    }
    return send_echo(srv, buf, len, peer, fromlen, to);
}

unsigned udp_send_batch(struct udp_server *srv, const struct sock_dgram *out, unsigned n)
{
    unsigned done = 0, went = 0;

    while (done < n) {
        int sent = sock_sendmmsg(srv->fd, &out[done], n - done);

        if (sent <= 0) {
            srv->counters.errors++;
            done++;
            continue;
        }
        for (unsigned i = done; i < done + (unsigned)sent; i++) {
            srv->counters.msgs_out++;
            srv->counters.bytes_out += out[i].len;
        }
        done += (unsigned)sent;
        went += (unsigned)sent;
    }
    return went;
}
