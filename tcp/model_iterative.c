/* model_iterative.c - one client at a time, as the simplest servers do.
 *
 * Twin of udp/model_iterative.c. The next client waits in the listen backlog, its handshake
 * already done by the kernel, until this one leaves. */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>

#include "signals.h"
#include "sock.h"
#include "wait.h"

/* How long to back off when accept() runs out of descriptors, instead of spinning. */
#define EMFILE_BACKOFF_MS 100

/* Take the next connection; -1 with errno EINTR when a signal or a passing error says to
 * look again, -1 with another errno for a failure that ends the server. */
static int next_client(struct tcp_server *srv, struct tcp_peer *peer)
{
    int fd;

    if (net_wait_readable(srv->listen_fd, -1) < 0)
        return -1;
    fd = tcp_server_accept(srv, peer);
    if (fd >= 0)
        return fd;
    if (errno == EMFILE || errno == ENFILE) {
        /* the connection stays queued; wait (signals still wake us) and try again */
        net_wait_readable(net_signal_fd(), EMFILE_BACKOFF_MS);
        errno = EINTR;
    } else if (errno == ECONNABORTED || errno == EAGAIN || errno == EPROTO || errno == EACCES) {
        /* gone before we took it, or refused (--allow): the next one waits */
        errno = EINTR;
    }
    return -1;
}

int tcp_model_iterative(struct tcp_server *srv, struct net_error *err)
{
    char *buf = malloc(srv->opt->recv_size);
    int rc = 0;

    if (buf == NULL)
        return net_err_errno(err, ENOMEM, "cannot allocate the receive buffer");
    while (!tcp_server_signalled(srv)) {
        struct tcp_peer peer;
        int fd = next_client(srv, &peer);

        if (fd < 0 && errno == EINTR)
            continue;
        if (fd < 0) {
            rc = net_err_errno(err, errno, "cannot accept connections");
            break;
        }
        srv->counters.clients++;
        net_out_peer("accepted", (struct sockaddr *)&peer.addr, peer.len, NULL);
        tcp_echo_blocking(srv, fd, &peer, buf);
        sock_close(fd);
        net_out_peer("closed", (struct sockaddr *)&peer.addr, peer.len, NULL);
        if (srv->opt->once)
            break;
    }
    free(buf);
    return rc;
}
