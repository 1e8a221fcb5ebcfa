/* sock.h - the socket calls both programs make, traced when -vv/--trace asks for it.
 *
 * Each sock_ function makes one system call, named as the function is, and returns its
 * result with errno untouched; then, when tracing is on, trace.c writes one line to stderr:
 * the call, its arguments, its result (or errno name) and what the call put on the wire. */
#ifndef SOCKLAB_SOCK_H
#define SOCKLAB_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

int sock_socket(int family, int type);
int sock_bind(int fd, const struct sockaddr *addr, socklen_t len);
/* The address fd is bound to; *len is the room in addr, as for getsockname(). */
int sock_getsockname(int fd, struct sockaddr_storage *addr, socklen_t *len);
int sock_listen(int fd, int backlog);
/* *len is the room in peer on the way in, the peer's length on the way out, as for accept(). */
int sock_accept(int fd, struct sockaddr_storage *peer, socklen_t *len);
int sock_connect(int fd, const struct sockaddr *addr, socklen_t len);
/* The error pending on fd (SO_ERROR; reading it clears it), 0 for none: how a non-blocking
 * connect() ended once fd is writable, or why a connection is gone (a reset). */
int sock_pending_error(int fd);
ssize_t sock_send(int fd, const void *buf, size_t len);
ssize_t sock_recv(int fd, void *buf, size_t len);
int sock_shutdown(int fd, int how);
int sock_close(int fd);

/* The local address a datagram arrived at (family 0: unknown). A server bound to a
 * wildcard address replies from it, or the kernel would pick a source by route and the
 * client, expecting the address it wrote to, would drop the reply. */
struct sock_local {
    int family;
    unsigned char addr[16];
};

/* setsockopt(IP_PKTINFO / IPV6_RECVPKTINFO): have sock_recvmsg report each datagram's
 * local address. */
int sock_want_local(int fd, int family);
/* sendmsg() of one datagram to to (NULL on a connected socket); from (or NULL) names the
 * local address to send from. */
ssize_t sock_sendmsg(int fd, const void *buf, size_t len, const struct sockaddr *to,
                     socklen_t tolen, const struct sock_local *from);
/* recvmsg() of one datagram into buf; *fromlen is the room in from on the way in, as for
 * recvfrom(); *truncated tells whether the datagram was longer than len; to (or NULL)
 * receives the local address it was sent to, after sock_want_local. */
ssize_t sock_recvmsg(int fd, void *buf, size_t len, struct sockaddr_storage *from,
                     socklen_t *fromlen, bool *truncated, struct sock_local *to);

/* One datagram of a batch (sock_recvmmsg, sock_sendmmsg): its bytes, the peer it came from
 * or goes to, and the local address it came to or goes from (wildcard binds). */
struct sock_dgram {
    char *buf;
    size_t len; /* bytes received, or to send */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    struct sock_local local; /* family 0: unknown, or the kernel picks by route */
    bool truncated;          /* received longer than the room given, and cut */
};

/* Datagrams one batch call takes at most. */
#define SOCK_BATCH_MAX 64

/* recvmmsg() of up to n datagrams (at most SOCK_BATCH_MAX) in one call, each into its own
 * d[i].buf with room bytes: it waits for the first only (MSG_WAITFORONE, and not at all on a
 * non-blocking socket), then takes what is queued. Returns how many, or -1 with errno.
 * want_local fills each d[i].local, after sock_want_local. */
int sock_recvmmsg(int fd, struct sock_dgram *d, unsigned n, size_t room, bool want_local);
/* sendmmsg() of d[0] to d[n - 1] (n at most SOCK_BATCH_MAX), each to its peer, in one call.
 * Returns how many went, in order: fewer than n when d[sent] could not go (a call that
 * starts with it reports why), -1 with errno when not even d[0] could. */
int sock_sendmmsg(int fd, const struct sock_dgram *d, unsigned n);

/* fcntl(F_SETFL, O_NONBLOCK): a call that would wait fails with EAGAIN instead. */
int sock_nonblocking(int fd);
/* setsockopt(TCP_NODELAY): turn off Nagle's algorithm on a TCP socket. */
int sock_nodelay(int fd);
/* setsockopt(SO_OOBINLINE): an urgent byte stays in the stream, in its place. */
int sock_oobinline(int fd);
/* setsockopt(SO_RCVTIMEO): a blocking receive gives up after ms (EAGAIN). */
int sock_recv_timeout(int fd, int ms);
/* setsockopt(SO_SNDTIMEO): a blocking send waits at most ms for room, then returns what it
 * took, or fails with EAGAIN when it took nothing. */
int sock_send_timeout(int fd, int ms);
/* setsockopt() of one int option, then getsockopt() of it into *granted: what the kernel
 * really holds (it doubles SO_RCVBUF and SO_SNDBUF, and clamps them to its limits). The trace
 * line shows both and note, what the option changes. */
int sock_setopt(int fd, int level, int name, int value, int *granted, const char *note);
/* setsockopt() of an option whose value is a name (TCP_CONGESTION: "cubic"). */
int sock_setopt_name(int fd, int level, int name, const char *value, const char *note);
/* setsockopt(SO_LINGER) on, with a timeout of seconds: 0 makes close() send RST. */
int sock_linger(int fd, int seconds);
/* The path MTU the kernel knows to a connected UDP socket's peer (IP_MTU, IPV6_MTU): the
 * largest IP packet, headers included; 0 when it does not know. *v6: an IPv6 socket. */
int sock_path_mtu(int fd, bool *v6);

#endif
