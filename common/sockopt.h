/* sockopt.h - the socket options a user can turn (--rcvbuf, --linger, --ttl ...).
 *
 * Applied in one place, for every socket both programs open. */
#ifndef SOCKLAB_SOCKOPT_H
#define SOCKLAB_SOCKOPT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Keepalive probes this far apart by default (or --keepalive apart when it is shorter). */
#define NET_DEFAULT_KEEPALIVE_INTERVAL 10

/* What the command line asked for; a zero (or -1) field leaves the kernel's default. */
struct net_sockopts {
    size_t rcvbuf;               /* SO_RCVBUF bytes, 0: default */
    size_t sndbuf;               /* SO_SNDBUF bytes, 0: default */
    int linger;                  /* TCP: SO_LINGER seconds, -1: off (close returns at once) */
    unsigned keepalive;          /* TCP: seconds of silence before keepalive probes, 0: off */
    unsigned keepalive_interval; /* TCP: seconds between probes, 0: min(10, --keepalive) */
    unsigned keepalive_count;    /* TCP: unanswered probes before the connection is closed */
    int ttl;                     /* IP_TTL / IPV6_UNICAST_HOPS, 0: default */
    int tos;                     /* IP_TOS / IPV6_TCLASS byte (DSCP << 2 | ECN), -1: default */
    bool reuseaddr;              /* server: SO_REUSEADDR (TCP always sets it) */
    bool reuseport;              /* server: SO_REUSEPORT */
    bool dontfrag;               /* UDP: IP_MTU_DISCOVER = IP_PMTUDISC_DO, DF on every datagram */
    const char *congestion;      /* TCP: TCP_CONGESTION ("cubic", "bbr"), NULL: the system's */
};

/* Which socket the options are for; each takes the ones that act there. */
enum net_sockopt_role {
    NET_SO_LISTEN,   /* a server's socket, before bind: reuse, buffers, TTL, TOS, DF, and
                        the congestion control its connections inherit */
    NET_SO_ACCEPTED, /* a connection a TCP server accepted: linger, keepalive (the rest it
                        inherits from the listening socket) */
    NET_SO_CLIENT    /* a client's socket, before connect: all but reuse */
};

/* Apply every option so asks for that acts on role, each one traced with what the kernel
 * granted. Returns 0, or -1 with errno and err (which may be NULL) naming the option. */
int net_sockopt_apply(int fd, int family, int socktype, enum net_sockopt_role role,
                      const struct net_sockopts *so, struct net_error *err);

/* SO_REUSEPORT on fd when --reuseport asks for it (the socket a default server holds [::1]
 * with shares the port as its main socket does); -1 with errno on failure. */
int net_sockopt_share_port(int fd, const struct net_sockopts *so);

/* -v: report each option so asks for, as the socket fd now holds it (linger and keepalive
 * act on connections: a listening socket has neither, its accepted sockets get them). */
void net_sockopt_report(int fd, int family, int socktype, const struct net_sockopts *so);

/* The hint for EMSGSIZE on a connected UDP socket when a datagram of size bytes fits UDP but
 * not the path (--dontfrag, or an ICMP "fragmentation needed" come back): the path MTU and
 * what fits under it. NULL when the kernel knows no path MTU, or size is past the largest
 * datagram (err.c's own hint). Valid until the next call. */
const char *net_too_big_hint(int fd, size_t size);

#endif
