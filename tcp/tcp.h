/* tcp.h - tcp-echo: a connection-oriented echo server and client. Twin of udp/udp.h. */
#ifndef SOCKLAB_TCP_H
#define SOCKLAB_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "counters.h"
#include "err.h"
#include "opt.h"
#include "out.h"
#include "tls.h"

/* A listening server and what it has counted. */
struct tcp_server {
    const struct net_options *opt;
    int listen_fd;
    int guard_fd;                 /* holds [::1] on the same port (default server), or -1 */
    struct sockaddr_storage addr; /* the address really bound */
    socklen_t addrlen;
    struct net_counters counters;
    bool worker; /* a thread of the thread model: SIGUSR1 is the main thread's to answer */
    /* fork and thread: a connection's recv() and send() wait by themselves (bounded by the
     * idle limit), with no poll() first; a stop ends them with shutdown() */
    bool calls_wait;
    /* out of descriptors with none in reserve: accept nothing until then (poll, epoll) */
    double rest_until;
    int rest_ms;        /* the last rest, doubled each time in a row */
    struct tls_ctx tls; /* --tls: the server's certificate, and whom it serves */
};

/* A client's address, as accept() gave it: every -v line about the connection names it
 * (getpeername() fails once the client has reset the connection). */
struct tcp_peer {
    struct sockaddr_storage addr;
    socklen_t len;
};

/* How long a connection has been idle. --idle-timeout counts from `since`, which moves on
 * only once the client has sent --min-bytes more bytes (or taken echo it had left waiting),
 * so a byte now and then, a trickle, does not keep a connection for ever. */
struct tcp_idle {
    double since;
    size_t heard; /* bytes received since `since` */
};

/* One client connection of the event-driven models (poll, epoll). There is no receive
 * buffer here: every connection reads into the model's one shared buffer, and output is
 * kept only when the kernel would not take all of it at once. */
struct tcp_conn {
    int fd;
    struct tcp_peer peer;
    SSL *tls;         /* --tls: the session, or NULL */
    bool handshaking; /* --tls: the handshake has not finished */
    bool hs_write;    /* ... and waits for room to send */
    bool peer_closed; /* the client half-closed (FIN): finish, then close */
    char *pending;    /* echo the kernel has not taken yet, or NULL */
    size_t pending_len, pending_off;
    struct tcp_idle idle;         /* for --idle-timeout */
    struct tcp_conn *prev, *next; /* in a struct tcp_conns (epoll, uring) */
};

/* An event-driven model's connections in order of idle.since, oldest first (epoll, uring):
 * the next one --idle-timeout closes is always the first. */
struct tcp_conns {
    struct tcp_conn *oldest, *newest;
};

/* What an event-driven model should do with a connection after a step. */
enum tcp_step { TCP_KEEP, TCP_CLOSE };

/* server.c */
int tcp_server_main(const struct net_options *opt, struct net_error *err);
int tcp_server_open(struct tcp_server *srv, const struct net_options *opt, struct net_error *err);
void tcp_server_close(struct tcp_server *srv);
/* Handle SIGUSR1 (print counters); true when the server should stop. */
bool tcp_server_signalled(struct tcp_server *srv);
/* accept.c: taking connections from the listen queue */
/* A descriptor held in reserve (/dev/null), or -1, for tcp_server_shed. */
int tcp_server_reserve(void);
/* Out of descriptors (EMFILE/ENFILE): spend the reserve to accept one queued client and
 * close it at once, so the client hears a clean close and a level-triggered listening
 * socket does not wake the loop forever. */
void tcp_server_shed(struct tcp_server *srv, int *reserve_fd);
/* accept() one connection from the listen queue, as sock_accept does, and refuse a client --allow
 * does not name: its connection is reset at once, counted refused and noticed, and the call returns
 * -1 with errno EACCES. */
int tcp_server_accept(struct tcp_server *srv, struct tcp_peer *peer);
/* The --allow half of tcp_server_accept, for a connection fd from peer that the kernel
 * accepted on its own (uring): fd, or -1 with errno EACCES when it was refused. */
int tcp_server_admit(struct tcp_server *srv, int fd, const struct tcp_peer *peer);
/* accept() failed, with errno: when for want of descriptors, shed one queued client with the
 * reserve (or, with none, rest the listening socket); when for want of memory, rest it. Other
 * errors (the client gave up first) need nothing. */
void tcp_server_accept_failed(struct tcp_server *srv, int *reserve_fd);
/* Take one waiting connection from a non-blocking listening socket: its descriptor, or -1
 * when there is none to take now (the queue is empty, or a client was refused by --allow, or
 * descriptors ran out and one client was shed with the reserve, or with no reserve the
 * listening socket now rests, so the queue does not wake the loop forever). */
int tcp_server_take(struct tcp_server *srv, struct tcp_peer *peer, int *reserve_fd);
/* Milliseconds until the listening socket may be watched again (0: now). When accept()
 * fails for want of descriptors and there is none in reserve to shed a client with, the
 * queued client cannot be taken and the socket stays readable: watching it would spin. */
int tcp_server_resting(const struct tcp_server *srv);
/* An event loop's timeout: the sooner of idle_ms (-1: none) and the end of a rest. */
int tcp_server_timeout(const struct tcp_server *srv, int idle_ms);

/* echo.c: the per-connection echo logic every model shares */
void tcp_idle_start(struct tcp_idle *idle);
void tcp_idle_heard(const struct tcp_server *srv, struct tcp_idle *idle, size_t n);
/* Milliseconds left before the connection counts as idle: 0 now, -1 never (no limit). */
int tcp_idle_left(const struct tcp_server *srv, const struct tcp_idle *idle);
/* -v: say why the idle connection with peer is being closed. */
void tcp_idle_notice(const struct tcp_peer *peer, const struct tcp_idle *idle);
/* Serve connection fd (from peer) start to finish (iterative, fork, thread); the caller
 * closes it. */
void tcp_echo_blocking(struct tcp_server *srv, int fd, const struct tcp_peer *peer, char *buf);
enum tcp_step tcp_conn_open(struct tcp_server *srv, struct tcp_conn *conn, int fd,
                            const struct tcp_peer *peer);
enum tcp_step tcp_conn_readable(struct tcp_server *srv, struct tcp_conn *conn, char *buf);
enum tcp_step tcp_conn_writable(struct tcp_server *srv, struct tcp_conn *conn);
/* The pieces of the two steps above, for a model whose kernel does the reading and the
 * sending itself (uring) and reports what came of it. n bytes arrived in buf: count them (and
 * restart the idle timer once --min-bytes have come); the answer, *len bytes (the bytes
 * themselves, --reply's text), or NULL when there is none to send (--discard). */
const char *tcp_conn_heard(struct tcp_server *srv, struct tcp_conn *conn, const char *buf, size_t n,
                           size_t *len);
/* A send of the answer buf (len bytes) took n of them (-1 with errno: none, or the connection
 * failed); what it did not take becomes pending output. */
enum tcp_step tcp_conn_sent(struct tcp_server *srv, struct tcp_conn *conn, const char *buf,
                            size_t len, ssize_t n);
/* A send of pending output took n bytes (-1 with errno: as above); TCP_CLOSE when the
 * connection failed, or its last echo has gone after the client's FIN. */
enum tcp_step tcp_conn_flushed(struct tcp_server *srv, struct tcp_conn *conn, ssize_t n);
/* What the connection waits for: room to send (output pending, or a handshake that must
 * write), or else more from the client. */
bool tcp_conn_wants_write(const struct tcp_conn *conn);
void tcp_conn_close(struct tcp_conn *conn);
void tcp_conns_append(struct tcp_conns *list, struct tcp_conn *conn);
void tcp_conns_remove(struct tcp_conns *list, struct tcp_conn *conn);
/* After a step: a connection whose idle timer restarted (it was since) moves last. */
void tcp_conns_touched(struct tcp_conns *list, struct tcp_conn *conn, double since);

/* one file per concurrency model */
int tcp_model_iterative(struct tcp_server *srv, struct net_error *err);
int tcp_model_fork(struct tcp_server *srv, struct net_error *err);
int tcp_model_thread(struct tcp_server *srv, struct net_error *err);
int tcp_model_poll(struct tcp_server *srv, struct net_error *err);
int tcp_model_epoll(struct tcp_server *srv, struct net_error *err);
int tcp_model_uring(struct tcp_server *srv, struct net_error *err);
/* 0 when the kernel lets this process set up an io_uring; -1 with err saying why not (turned
 * off, forbidden by a seccomp filter) and which model to run instead. */
int tcp_uring_available(struct net_error *err);

/* client.c */
int tcp_client_main(const struct net_options *opt, struct net_error *err);

/* relay.c: the middle tier, between clients and the server --to names */
int tcp_relay_main(const struct net_options *opt, struct net_error *err);

/* peer.c: probes the other peer (--to) on the connection it opens, and echoes the other's
 * probes on the connection the other opens */
int tcp_peer_main(const struct net_options *opt, struct net_error *err);

#endif
