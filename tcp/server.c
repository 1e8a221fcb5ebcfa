/* server.c - tcp-echo server: listen, hand the socket to the chosen model, count.
 *
 * Twin of udp/server.c. */
#include "tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "counters.h"
#include "open.h"
#include "signals.h"
#include "sock.h"
#include "sockopt.h"
#include "wait.h"

/* How long the listening socket rests when no descriptor can be had at all: 100 ms, doubling
 * while it lasts, up to 1 s. */
#define REST_MIN_MS 100
#define REST_MAX_MS 1000

int tcp_server_open(struct tcp_server *srv, const struct net_options *opt, struct net_error *err)
{
    struct addrinfo *res;

    srv->opt = opt;
    srv->guard_fd = -1;
    srv->counters = (struct net_counters){0};
    srv->worker = false;
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
    if (net_signal_take_usr1())
        net_counters_print(NET_TCP, "counters", &srv->counters);
    return net_signal_stopping();
}

int tcp_server_reserve(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void tcp_server_shed(struct tcp_server *srv, int *reserve_fd)
{
    struct sockaddr_storage peer;
    socklen_t len;
    int fd;

    if (*reserve_fd < 0)
        return;
    close(*reserve_fd);
    len = sizeof peer;
    fd = sock_accept(srv->listen_fd, &peer, &len);
    if (fd >= 0) {
        net_out_notice("shed", (struct sockaddr *)&peer, len, "out of file descriptors");
        sock_close(fd);
    }
    *reserve_fd = tcp_server_reserve();
}

/* The queued client cannot be taken (no descriptor, nor a reserve to shed it with; or no
 * memory): stop watching the listening socket for a while; the client waits in the queue. */
static void rest(struct tcp_server *srv, const char *why)
{
    if (srv->rest_ms == 0)
        net_out_warn("cannot accept connections: %s; new clients wait in the listen queue", why);
    srv->rest_ms = srv->rest_ms == 0 ? REST_MIN_MS : srv->rest_ms * 2;
    if (srv->rest_ms > REST_MAX_MS)
        srv->rest_ms = REST_MAX_MS;
    srv->rest_until = net_now_ms() + srv->rest_ms;
}

int tcp_server_resting(const struct tcp_server *srv)
{
    double left = srv->rest_until - net_now_ms();

    return left > 0 ? (int)left + 1 : 0;
}

int tcp_server_timeout(const struct tcp_server *srv, int idle_ms)
{
    int rest_ms = tcp_server_resting(srv);

    if (rest_ms > 0 && (idle_ms < 0 || rest_ms < idle_ms))
        return rest_ms;
    return idle_ms;
}

int tcp_server_take(struct tcp_server *srv, struct sockaddr_storage *peer, socklen_t *len,
                    int *reserve_fd)
{
    for (;;) {
        int fd;

        *len = sizeof *peer;
        fd = sock_accept(srv->listen_fd, peer, len);

        if (fd >= 0) {
            srv->rest_ms = 0;
            return fd;
        }
        /* the client gave up before we took it, or a signal came: the next one waits */
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE) {
            /* a descriptor may have been freed since the reserve was last tried */
            if (*reserve_fd < 0)
                *reserve_fd = tcp_server_reserve();
            if (*reserve_fd >= 0)
                tcp_server_shed(srv, reserve_fd);
            else
                rest(srv, "out of file descriptors, none in reserve (raise the limit with "
                          "ulimit -n)");
        } else if (errno == ENOBUFS || errno == ENOMEM) {
            rest(srv, "out of memory");
        }
        return -1;
    }
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
    default:
        return tcp_model_epoll;
    }
}

int tcp_server_main(const struct net_options *opt, struct net_error *err)
{
    struct tcp_server srv;
    int rc;

    if (tcp_server_open(&srv, opt, err) < 0)
        return -1;
    net_out_listening(NET_TCP, (struct sockaddr *)&srv.addr, srv.addrlen);
    net_out_held(srv.guard_fd);
    net_sockopt_report(srv.listen_fd, srv.addr.ss_family, SOCK_STREAM, &opt->so);
    rc = model_for(opt->model)(&srv, err);
    net_counters_print(NET_TCP, "summary", &srv.counters);
    tcp_server_close(&srv);
    return rc;
}
