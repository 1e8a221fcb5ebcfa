/* conn.c - a connected socket's bytes, through its TLS or DTLS session when it has one.
 *
 * Every mode of both clients, and the TCP server, sends and receives with these: the plain
 * socket call, or the same through the session, with the same return values. */
#include "tls.h"

#include <errno.h>
#include <sys/socket.h>

#include "sock.h"

ssize_t net_send(int fd, SSL *tls, const void *buf, size_t len)
{
    return tls != NULL ? tls_send(tls, buf, len) : sock_send(fd, buf, len);
}

ssize_t net_recv(int fd, SSL *tls, void *buf, size_t len)
{
    return tls != NULL ? tls_recv(tls, buf, len) : sock_recv(fd, buf, len);
}

ssize_t net_recv_datagram(int fd, SSL *tls, void *buf, size_t len, bool *truncated)
{
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;

    *truncated = false;
    if (tls != NULL)
        return tls_recv(tls, buf, len);
    return sock_recvmsg(fd, buf, len, &from, &fromlen, truncated, NULL);
}

int net_shutdown_write(int fd, SSL *tls)
{
    int pending;

    if (tls != NULL)
        tls_close_notify(tls); /* TLS's own "that was all", which a FIN alone cannot prove */
    if (sock_shutdown(fd, SHUT_WR) == 0)
        return 0;
    if (errno == ENOTCONN && (pending = sock_pending_error(fd)) != 0)
        errno = pending;
    return -1;
}
