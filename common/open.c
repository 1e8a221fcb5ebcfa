/* open.c - opening sockets: a server's (listening or bound) and a client's (connected). */
#include "open.h"

#include <errno.h>
#include <netinet/in.h>

#include "addr.h"
#include "sock.h"

/* Connections the kernel may hold completed but not yet accepted: as many as it allows (it
 * caps the number at net.core.somaxconn, 4096 by default), so a burst of clients finds room
 * rather than a full queue and a SYN retransmitted a second later. */
#define BACKLOG SOMAXCONN
/* Kernel choices of port (-p 0) tried before giving up on one free on both loopbacks. */
#define HOLD_TRIES 8

/* TCP: socket, SO_REUSEADDR, the options, bind, listen. Returns the socket or -1. */
static int open_listening(const struct addrinfo *ai, const struct net_sockopts *so,
                          struct net_error *err)
{
    char where[NET_ADDRSTRLEN];
    int fd = sock_socket(ai->ai_family, SOCK_STREAM), granted;

    net_addr_format(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
    if (fd < 0)
        return net_err_errno(err, errno, "cannot create a socket for %s", where);
    if (sock_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1, &granted,
                    "a restarted server may bind its port while old connections sit in "
                    "TIME_WAIT") < 0)
        goto fail;
    /* before bind: SO_REUSEPORT decides whether bind may share the port */
    if (net_sockopt_apply(fd, ai->ai_family, SOCK_STREAM, NET_SO_LISTEN, so, err) < 0) {
        sock_close(fd);
        return -1;
    }
    if (sock_bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || sock_listen(fd, BACKLOG) < 0)
        goto fail;
    return fd;

fail:
    net_err_errno(err, errno, "cannot listen on %s", where);
    sock_close(fd);
    return -1;
}

/* UDP: socket, the options, bind, and nothing more: a datagram socket receives as soon as it
 * has an address. No SO_REUSEADDR: UDP has no TIME_WAIT, and there it would let two servers
 * share a port. Returns the socket or -1. */
static int open_bound(const struct addrinfo *ai, const struct net_sockopts *so,
                      struct net_error *err)
{
    char where[NET_ADDRSTRLEN];
    int fd = sock_socket(ai->ai_family, SOCK_DGRAM);

    net_addr_format(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
    if (fd < 0)
        return net_err_errno(err, errno, "cannot create a socket for %s", where);
    if (net_sockopt_apply(fd, ai->ai_family, SOCK_DGRAM, NET_SO_LISTEN, so, err) < 0) {
        sock_close(fd);
        return -1;
    }
    if (sock_bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        net_err_errno(err, errno, "cannot bind %s", where);
        sock_close(fd);
        return -1;
    }
    return fd;
}

/* The first result of ai that can be opened, and the address it really got. */
static int open_first(const struct addrinfo *ai, const struct net_sockopts *so,
                      struct sockaddr_storage *bound, socklen_t *boundlen, struct net_error *err)
{
    for (; ai != NULL; ai = ai->ai_next) {
        int fd =
            ai->ai_socktype == SOCK_STREAM ? open_listening(ai, so, err) : open_bound(ai, so, err);

        if (fd < 0)
            continue;
        /* port 0 asks the kernel to choose: getsockname() tells which */
        *boundlen = sizeof *bound;
        if (sock_getsockname(fd, bound, boundlen) < 0) {
            net_err_errno(err, errno, "cannot read the address of the new socket");
            sock_close(fd);
            return -1;
        }
        return fd;
    }
    return -1;
}

/* A socket on [::1]:port that nobody else can bind and that answers no one. TCP: bound but
 * not listening, so a connect is refused at once (RST). UDP: connected to itself, so a
 * datagram from anyone else finds no socket and draws an ICMP port unreachable. A client
 * takes either as "try the next address". No SO_REUSEADDR: it would let others share it.
 * With --reuseport it sets SO_REUSEPORT like the server's own socket, so a second server
 * with --reuseport can hold it too; the kernel shares such a port only between sockets of
 * the same user, so nobody else can. */
static int hold_one(int socktype, uint16_t port, const struct net_sockopts *so)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    int fd, saved;

    sin6.sin6_addr = in6addr_loopback;
    fd = sock_socket(AF_INET6, socktype);
    if (fd < 0)
        return -1;
    if (net_sockopt_share_port(fd, so) == 0 &&
        sock_bind(fd, (struct sockaddr *)&sin6, sizeof sin6) == 0 &&
        (socktype == SOCK_STREAM || sock_connect(fd, (struct sockaddr *)&sin6, sizeof sin6) == 0))
        return fd;
    saved = errno;
    sock_close(fd);
    errno = saved;
    return -1;
}

/* open_first, and [::1] held on the port it got. */
static int open_held(const struct addrinfo *ai, const struct net_sockopts *so,
                     struct sockaddr_storage *bound, socklen_t *boundlen, int *guard,
                     struct net_error *err)
{
    uint16_t asked = net_addr_port(ai->ai_addr), port;
    int saved;

    for (int try = 0; try < HOLD_TRIES; try++) {
        int fd = open_first(ai, so, bound, boundlen, err);

        if (fd < 0 || bound->ss_family != AF_INET)
            return fd;
        port = net_addr_port((struct sockaddr *)bound);
        *guard = hold_one(ai->ai_socktype, port, so);
        /* no ::1 on this machine (IPv6 off): nobody can take it either */
        if (*guard >= 0 || errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)
            return fd;
        saved = errno;
        sock_close(fd);
        net_err_errno(err, saved, "cannot hold [::1]:%u, the address localhost names first",
                      (unsigned)port);
        /* the kernel's choice is taken on ::1: ask it for another */
        if (asked != 0 || saved != EADDRINUSE)
            return -1;
    }
    return -1;
}

int net_open_server(const struct addrinfo *ai, const struct net_sockopts *so,
                    struct sockaddr_storage *bound, socklen_t *boundlen, int *guard,
                    struct net_error *err)
{
    if (guard == NULL)
        return open_first(ai, so, bound, boundlen, err);
    *guard = -1;
    return open_held(ai, so, bound, boundlen, guard, err);
}

/* Bind a client socket to the local address named by -b (port 0: the kernel picks). */
static int bind_local(int fd, int family, int socktype, const char *local, struct net_error *err)
{
    struct addrinfo *res, *ai;
    int rc = -1;

    if (net_addr_resolve(local, 0, family == AF_INET6 ? NET_V6 : NET_V4, socktype, true, &res,
                         err) < 0)
        return -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        rc = sock_bind(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc == 0)
            break;
    }
    if (rc < 0)
        net_err_errno(err, errno, "cannot send from %s", local);
    freeaddrinfo(res);
    return rc;
}

/* Both ways of opening a client's socket: connect() waits for the handshake, or (nonblock)
 * returns at once with it under way. */
static int open_connected(const struct sockaddr *sa, socklen_t len, int socktype, const char *local,
                          const struct net_sockopts *so, bool nonblock, struct net_error *err)
{
    char where[NET_ADDRSTRLEN];
    int fd;

    net_addr_format(sa, len, where, sizeof where);
    fd = sock_socket(sa->sa_family, socktype);
    if (fd < 0)
        return net_err_errno(err, errno, "cannot create a socket for %s", where);
    /* before connect: the SYN already carries the window scale the buffer allows */
    if (net_sockopt_apply(fd, sa->sa_family, socktype, NET_SO_CLIENT, so, err) < 0)
        goto fail;
    if (local != NULL && bind_local(fd, sa->sa_family, socktype, local, err) < 0)
        goto fail;
    if (nonblock && sock_nonblocking(fd) < 0) {
        net_err_errno(err, errno, "cannot make the socket non-blocking");
        goto fail;
    }
    if (sock_connect(fd, sa, len) < 0 && !(nonblock && errno == EINPROGRESS)) {
        net_err_errno(err, errno, "cannot connect to %s", where);
        if (err->code == ECONNREFUSED && socktype == SOCK_STREAM)
            err->hint = "nothing listens on that TCP port; is the server running? TCP and UDP "
                        "ports are separate";
        goto fail;
    }
    return fd;

fail:
    sock_close(fd);
    return -1;
}

int net_open_connected(const struct sockaddr *sa, socklen_t len, int socktype, const char *local,
                       const struct net_sockopts *so, struct net_error *err)
{
    return open_connected(sa, len, socktype, local, so, false, err);
}

int net_open_connecting(const struct sockaddr *sa, socklen_t len, const char *local,
                        const struct net_sockopts *so, struct net_error *err)
{
    return open_connected(sa, len, SOCK_STREAM, local, so, true, err);
}
