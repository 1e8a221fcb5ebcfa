/* server.c - udp-echo server: bind, hand the socket to the model, count.
 *
 * Twin of tcp/server.c. */
#include "udp.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>

#include "addr.h"
#include "allow.h"
#include "counters.h"
#include "datagram.h"
#include "open.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"

int udp_server_open(struct udp_server *srv, const struct net_options *opt, struct net_error *err)
{
    struct addrinfo *res;

    srv->opt = opt;
    srv->fd = -1;
    srv->guard_fd = -1;
    srv->dtls = NULL;
    srv->dtls_buf = NULL;
    srv->listener = NULL;
    srv->echoes = NULL;
    srv->counters = (struct net_counters){0};
    if (udp_peers_init(srv, err) < 0)
        return -1;
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

char *udp_batch_buffers(const struct udp_server *srv, struct sock_dgram *in, unsigned n,
                        size_t *room)
{
    size_t want = srv->opt->recv_size;
    char *bufs;

    *room = want < NET_DATAGRAM_RECV_SIZE ? want : NET_DATAGRAM_RECV_SIZE;
    bufs = malloc(n * *room);
    for (unsigned i = 0; bufs != NULL && i < n; i++)
        in[i].buf = bufs + i * *room;
    return bufs;
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

int udp_server_main(const struct net_options *opt, struct net_error *err)
{
    struct udp_server srv;
    int rc;

    /* the certificate first: a server that cannot say who it is should not listen */
    if (opt->tls_on && tls_server_ctx(&srv.tls, &opt->tls, err) < 0)
        return -1;
    if (udp_server_open(&srv, opt, err) < 0 || (opt->tls_on && udp_dtls_open(&srv, err) < 0)) {
        if (opt->tls_on) {
            udp_dtls_close(&srv);
            tls_ctx_free(&srv.tls);
        }
        udp_server_close(&srv);
        return -1;
    }
    net_out_listening(NET_UDP, (struct sockaddr *)&srv.addr, srv.addrlen, opt->discard,
                      opt->tls_on ? &srv.tls : NULL, NULL, NULL);
    net_out_held(srv.guard_fd);
    net_allow_report(&opt->allow);
    net_sockopt_report(srv.fd, srv.addr.ss_family, SOCK_DGRAM, &opt->so);
    rc = udp_model_iterative(&srv, err);
    net_counters_print(NET_UDP, "summary", &srv.counters);
    if (opt->tls_on) {
        udp_dtls_close(&srv);
        tls_ctx_free(&srv.tls);
    }
    udp_server_close(&srv);
    return rc;
}
