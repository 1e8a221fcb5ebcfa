/* sock.h - the socket calls both programs make, traced when -vv/--trace asks for it.
 *
 * Each sock_ function makes exactly one system call and returns its result, with errno
 * untouched. When tracing is on it also writes one line to stderr: the call, its arguments,
 * its result (or errno name) and what the call put on the wire. */
#ifndef SOCKLAB_SOCK_H
#define SOCKLAB_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Turn tracing on or off; json writes objects instead of text, with_time prefixes each
 * line with milliseconds since tracing started. */
void sock_trace_init(bool on, bool json, bool with_time);

int sock_socket(int family, int type);
int sock_bind(int fd, const struct sockaddr *addr, socklen_t len);
int sock_listen(int fd, int backlog);
int sock_accept(int fd, struct sockaddr_storage *peer, socklen_t *len);
int sock_connect(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t sock_send(int fd, const void *buf, size_t len);
ssize_t sock_recv(int fd, void *buf, size_t len);
/* The local address a datagram arrived at (family 0: unknown). A server bound to a
 * wildcard address replies from it, or the kernel would pick a source by route and the
 * client, expecting the address it wrote to, would drop the reply. */
struct sock_local {
    int family;
    unsigned char addr[16];
};

/* Have recvfrom report each datagram's local address (IP_PKTINFO / IPV6_RECVPKTINFO). */
int sock_want_local(int fd, int family);
/* sendto() of one datagram; addr NULL on a connected socket; from (or NULL) names the
 * local address to send from. */
ssize_t sock_sendto(int fd, const void *buf, size_t len, const struct sockaddr *addr,
                    socklen_t addrlen, const struct sock_local *from);
/* recvfrom() of one datagram; *truncated tells whether it was longer than len; to (or NULL)
 * receives the local address it was sent to, after sock_want_local. */
ssize_t sock_recvfrom(int fd, void *buf, size_t len, struct sockaddr_storage *from,
                      socklen_t *fromlen, bool *truncated, struct sock_local *to);
int sock_shutdown(int fd, int how);
/* setsockopt(TCP_NODELAY): turn off Nagle's algorithm on a TCP socket. */
int sock_nodelay(int fd);
/* setsockopt() of one int option, then getsockopt() of it into *granted: what the kernel
 * really holds (it doubles SO_RCVBUF and SO_SNDBUF, and clamps them to its limits). The trace
 * line shows both and note, what the option changes. */
int sock_setopt(int fd, int level, int name, int value, int *granted, const char *note);
/* setsockopt(SO_LINGER) on, with a timeout of seconds: 0 makes close() send RST. */
int sock_linger(int fd, int seconds);
int sock_close(int fd);

#endif
