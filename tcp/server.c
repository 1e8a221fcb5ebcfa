/* server.c - tcp-echo server: listen, hand the socket to the chosen model, count.
 *
 * Twin of udp/server.c. */
#include "tcp.h"

#include <errno.h>
#include <netdb.h>

#include "addr.h"
#include "allow.h"
#include "counters.h"
#include "open.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"

int tcp_server_open(struct tcp_server *srv, const struct net_options *opt, struct net_error *err)
{
    struct addrinfo *res;

    srv->opt = opt;
    srv->guard_fd = -1;
    srv->counters = (struct net_counters){0};
    srv->worker = false;
    srv->calls_wait = false;
    srv->rest_until = 0;
    srv->rest_ms = 0;
    if (net_addr_resolve(opt->host, opt->port, opt->family, SOCK_STREAM, true, &res, err) < 0)
        return -1;
    /* a default server also holds [::1] on its port, where localhost points first */
    srv->listen_fd =
        net_open_server(res, &opt->so, &srv->addr, &srv->addrlen,
                        opt->bind == NULL && opt->family == NET_ANY ? &srv->guard_fd : NULL, err);
    freeaddrinfo(res);
    return srv->listen_fd < 0 ? -1 : 0;
}

void tcp_server_close(struct tcp_server *srv)
{
    if (srv->listen_fd >= 0)
        sock_close(srv->listen_fd);
    srv->listen_fd = -1;
    if (srv->guard_fd >= 0)
        sock_close(srv->guard_fd);
    srv->guard_fd = -1;
}

bool tcp_server_signalled(struct tcp_server *srv)
{
    if (srv->worker)
        return net_signal_stopping();
    /* "suppressed: N more notices" once their second is over (refused, shed) */
    net_out_notice_flush();
    if (net_signal_take_usr1())
        net_counters_print(NET_TCP, "counters", &srv->counters);
    return net_signal_stopping();
}

typedef int (*tcp_model_fn)(struct tcp_server *srv, struct net_error *err);

static tcp_model_fn model_for(enum net_model model)
{
    switch (model) {
    case NET_MODEL_ITERATIVE:
        return tcp_model_iterative;
    case NET_MODEL_FORK:
        return tcp_model_fork;
    case NET_MODEL_THREAD:
        return tcp_model_thread;
    case NET_MODEL_POLL:
        return tcp_model_poll;
    case NET_MODEL_URING:
        return tcp_model_uring;
    default:
        return tcp_model_epoll;
    }
}

int tcp_server_main(const struct net_options *opt, struct net_error *err)
{
    struct tcp_server srv;
    int rc;

    /* what the server needs first: one that cannot serve (its kernel refuses io_uring) or
     * cannot say who it is (no certificate) should not listen */
    if (opt->model == NET_MODEL_URING && tcp_uring_available(err) < 0)
        return -1;
    if (opt->tls_on && tls_server_ctx(&srv.tls, &opt->tls, err) < 0)
        return -1;
    if (tcp_server_open(&srv, opt, err) < 0) {
        if (opt->tls_on)
            tls_ctx_free(&srv.tls);
        return -1;
    }
    net_out_listening(NET_TCP, (struct sockaddr *)&srv.addr, srv.addrlen, opt->discard,
                      opt->tls_on ? &srv.tls : NULL, NULL, NULL);
    net_out_held(srv.guard_fd);
    net_allow_report(&opt->allow);
    net_sockopt_report(srv.listen_fd, srv.addr.ss_family, SOCK_STREAM, &opt->so);
    rc = model_for(opt->model)(&srv, err);
    net_counters_print(NET_TCP, "summary", &srv.counters);
    tcp_server_close(&srv);
    if (opt->tls_on)
        tls_ctx_free(&srv.tls);
    return rc;
}
