/* accept.c - taking connections from the listen queue, even when descriptors run out.
 *
 * Every model takes its connections through tcp_server_accept, so --allow is decided here,
 * once for all of them.
 *
 * accept() fails with EMFILE when the process has no descriptor left for the new
 * connection, and the client stays queued: a level-triggered listening socket then wakes the
 * loop again at once, for ever. A descriptor kept in reserve lets the server take that client
 * and close it (it hears a clean close); with no reserve, the listening socket rests. */
#include "tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "allow.h"
#include "clock.h"
#include "out.h"
#include "sock.h"

/* How long the listening socket rests when no descriptor can be had at all: 100 ms, doubling
 * while it lasts, up to 1 s. */
#define REST_MIN_MS 100
#define REST_MAX_MS 1000

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

/* Turn away a client --allow does not name. SO_LINGER 0 makes close() send RST: closing a
 * connection whose data we have not read sends RST anyway (RFC 2525, 2.17), so a plain close
 * would end in FIN or RST depending on whether the client's first bytes had arrived; this way
 * every refused client sees the same thing, and the server keeps no TIME_WAIT for it. */
static void refuse(struct tcp_server *srv, int fd, const struct tcp_peer *peer)
{
    sock_linger(fd, 0);
    sock_close(fd);
    srv->counters.refused++;
    net_out_notice("refused", (const struct sockaddr *)&peer->addr, peer->len, NET_ALLOW_REFUSED);
}

int tcp_server_admit(struct tcp_server *srv, int fd, const struct tcp_peer *peer)
{
    if (net_allow_permits(&srv->opt->allow, (const struct sockaddr *)&peer->addr))
        return fd;
    refuse(srv, fd, peer);
    errno = EACCES;
    return -1;
}

int tcp_server_accept(struct tcp_server *srv, struct tcp_peer *peer)
{
    int fd;

    peer->len = sizeof peer->addr;
    fd = sock_accept(srv->listen_fd, &peer->addr, &peer->len);
    return fd < 0 ? -1 : tcp_server_admit(srv, fd, peer);
}

void tcp_server_accept_failed(struct tcp_server *srv, int *reserve_fd)
{
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
}

int tcp_server_take(struct tcp_server *srv, struct tcp_peer *peer, int *reserve_fd)
{
    for (;;) {
        int fd = tcp_server_accept(srv, peer);

        if (fd >= 0) {
            srv->rest_ms = 0;
            return fd;
        }
        /* one refusal per wake: a crowd of outsiders cannot keep the loop from the others */
        if (errno == EACCES)
            return -1;
        /* the client gave up before we took it, or a signal came: the next one waits */
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        tcp_server_accept_failed(srv, reserve_fd);
        return -1;
    }
}
