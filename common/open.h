/* open.h - opening sockets: a server's (listening or bound) and a client's (connected). */
#ifndef SOCKLAB_OPEN_H
#define SOCKLAB_OPEN_H

#include <netdb.h>
#include <sys/socket.h>

#include "err.h"
#include "sockopt.h"

/* Open a server's socket on the first result of ai that works, with the options so asks for
 * (or NULL). TCP: socket, SO_REUSEADDR, bind, listen. UDP: socket and bind only, for a
 * datagram socket receives as soon as it has an address. The address really bound (with
 * port 0, the kernel's choice) goes to *bound. Returns the socket or -1 with err set.
 *
 * guard non-NULL is for a default server, on 127.0.0.1: `localhost` is ::1 first on many
 * systems, so whoever bound [::1] on the same port would get a default client's traffic.
 * *guard is then a second socket holding [::1]:PORT that answers nobody, so a client there
 * is refused at once and goes on to 127.0.0.1. With port 0 it tries other kernel choices
 * when one is taken on ::1; without ::1 (IPv6 off) *guard is -1 and that is all. */
int net_open_server(const struct addrinfo *ai, const struct net_sockopts *so,
                    struct sockaddr_storage *bound, socklen_t *boundlen, int *guard,
                    struct net_error *err);

/* Open a client's socket to sa: socket, the options so asks for (or NULL), bind to local
 * (-b, or NULL), connect. TCP's connect is the handshake; UDP's only fixes the peer, so the
 * kernel can report an ICMP "port unreachable" for it. Returns the socket or -1 with err. */
int net_open_connected(const struct sockaddr *sa, socklen_t len, int socktype, const char *local,
                       const struct net_sockopts *so, struct net_error *err);

/* As net_open_connected for TCP, without waiting: the socket is non-blocking and its
 * handshake under way (or done). It is writable once the handshake ends; SO_ERROR then says
 * how. Returns the socket or -1 with err (a refusal known at once, on loopback). */
int net_open_connecting(const struct sockaddr *sa, socklen_t len, const char *local,
                        const struct net_sockopts *so, struct net_error *err);

#endif
