/* model_iterative.c - one datagram at a time, every peer on one socket: UDP's one model.
 *
 * Twin of tcp/model_iterative.c. As Stevens' udpserv01 does: there is no connection to hand
 * to a worker, so one loop serves everyone. */
#include "udp.h"

#include <errno.h>
#include <stdlib.h>

#include "sock.h"

/* How long one blocking receive may last: a stop signal that lands just before the call
 * (so it cannot interrupt it) is noticed within this time. */
#define RECV_HEARTBEAT_MS 200

int udp_model_iterative(struct udp_server *srv, struct net_error *err)
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
        if (udp_echo_datagram(srv, buf, (size_t)n, truncated, &from, fromlen, &to) &&
            srv->opt->once)
            break;
    }
    free(buf);
    return rc;
}
