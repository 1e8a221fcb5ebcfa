/* allow.h - who may use a server (--allow): address prefixes, and a source judged by them.
 *
 * A server with no prefix serves everyone who can reach its address. With prefixes, a
 * source outside all of them is refused: TCP closes its connection at once, UDP drops its
 * datagrams. A client that came over IPv4 to a dual-stack socket shows as an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) and is judged as the IPv4 address it is. */
#ifndef SOCKLAB_ALLOW_H
#define SOCKLAB_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "err.h"

/* At most this many --allow prefixes: a server checks every one for each client. */
#define NET_ALLOW_MAX 64
/* Room for "ffff:...:255.255.255.255/128". */
#define NET_PREFIXSTRLEN 64
/* The detail of a "refused" notice for a source outside every prefix. */
#define NET_ALLOW_REFUSED "not in --allow"

/* One prefix: the first bits of addr (4 bytes for AF_INET, 16 for AF_INET6), the rest 0. */
struct net_prefix {
    int family;
    unsigned char addr[16];
    unsigned bits;
};

/* The prefixes --allow gave, in the order given; n == 0: everyone is allowed. */
struct net_allow {
    struct net_prefix prefix[NET_ALLOW_MAX];
    unsigned n;
};

/* Read "10.0.0.0/8", "2001:db8::/32" or a bare address (/32 or /128) into *p; an
 * IPv4-mapped prefix (::ffff:10.0.0.0/104) becomes the IPv4 one (10.0.0.0/8). Returns 0,
 * or -1 with err (kind NET_ERR_USAGE, named after flag) saying what is wrong: not an
 * address, a host name, a length out of range, or host bits set past the length. */
int net_prefix_parse(const char *flag, const char *text, struct net_prefix *p,
                     struct net_error *err);
/* Write p as "10.0.0.0/8" into buf; returns buf. */
char *net_prefix_format(const struct net_prefix *p, char *buf, size_t size);

/* Parse text and add it to a; -1 with err as net_prefix_parse, or when a is full. */
int net_allow_add(struct net_allow *a, const char *flag, const char *text, struct net_error *err);
/* -v: say which prefixes are allowed (nothing when a is empty: everyone is). */
void net_allow_report(const struct net_allow *a);
/* Does a let src (AF_INET or AF_INET6) in? True when a is empty or a prefix covers src. */
bool net_allow_permits(const struct net_allow *a, const struct sockaddr *src);

#endif
