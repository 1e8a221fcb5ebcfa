/* trace.h - the trace (-vv, --trace): one line per socket call, with what it put on the wire.
 *
 * sock.c makes each call, then hands its arguments and result here.
 *
 * Every trace_ function writes nothing unless tracing is on, and leaves errno as it found it,
 * so a caller can trace a failed call and then read errno. */
#ifndef SOCKLAB_TRACE_H
#define SOCKLAB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Turn tracing on or off; json writes objects instead of text, with_time prefixes each
 * line with milliseconds since tracing started. */
void net_trace_init(bool on, bool json, bool with_time);
bool net_trace_on(void);

void trace_socket(int family, int type, int fd);
void trace_bind(int fd, const struct sockaddr *addr, socklen_t len, int rc);
void trace_getsockname(int fd, const struct sockaddr *addr, socklen_t len, int rc);
void trace_listen(int fd, int backlog, int rc);
void trace_accept(int fd, const struct sockaddr *peer, socklen_t len, int rc);
void trace_connect(int fd, const struct sockaddr *addr, socklen_t len, int rc);
void trace_send(int fd, size_t len, ssize_t n);
void trace_recv(int fd, size_t len, ssize_t n);
/* to NULL: a connected socket's peer. */
void trace_sendmsg(int fd, size_t len, const struct sockaddr *to, socklen_t tolen, ssize_t n);
void trace_recvmsg(int fd, size_t len, const struct sockaddr *from, socklen_t fromlen,
                   bool truncated, ssize_t n);
/* A batch receive (recvmmsg) of up to n datagrams with room bytes each, got of them taken
 * into d: one line for the call, then one under it for each datagram. */
struct sock_dgram;
void trace_recvmmsg(int fd, unsigned n, size_t room, const struct sock_dgram *d, int got);
/* A batch send (sendmmsg) of n datagrams, sent of them gone: one line for the call, then one
 * under it for each datagram sent. */
void trace_sendmmsg(int fd, const struct sock_dgram *d, unsigned n, int sent);
/* A TLS or DTLS message the session on fd sent or took ("TLS ClientHello"): a line of its
 * own, above the send() or under the recv() that carries it. */
void trace_tls(int fd, bool sent, const char *what);
void trace_shutdown(int fd, int how, int rc);
void trace_nonblocking(int fd, int rc);
/* setsockopt(fd, level, name, value): value as text ("1", "{on, 0 s}"), note what it does. */
void trace_setopt(int fd, int level, int name, const char *value, int rc, const char *note);
/* The same for an option read back: what the kernel granted, then the note. */
void trace_setopt_granted(int fd, int level, int name, int value, int granted, int rc,
                          const char *note);
/* What close(fd) is about to put on the wire (NULL when tracing is off): asked before the
 * call, while the connection still exists. */
const char *trace_close_note(int fd);
void trace_close(int fd, int rc, const char *note);

#endif
