/* addr.h - addresses as values: parse, resolve, format, and judge them. */
#ifndef SOCKLAB_ADDR_H
#define SOCKLAB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "err.h"

/* Room for "[ffff:...:255.255.255.255%ifname]:65535". */
#define NET_ADDRSTRLEN 80
/* Room for a host name or numeric address given on the command line. */
#define NET_HOSTLEN 256

/* Address family chosen by -4 / -6; NET_ANY tries whatever the name resolves to. */
enum net_family { NET_ANY = 0, NET_V4 = 4, NET_V6 = 6 };

/* Parse a port number 0..65535 (decimal digits only); -1 with errno EINVAL or ERANGE. */
int net_addr_parse_port(const char *text, uint16_t *port);

/* Split "host", "host:port", "[v6]:port", "[v6]" or a bare IPv6 address into host and port
 * text; port is "" when the text names none. -1 with errno EINVAL on malformed text. */
int net_addr_split(const char *text, char *host, size_t hostlen, char *port, size_t portlen);

/* Resolve host/port for a socket type with getaddrinfo; passive for a server's bind.
 * On success *res must be released with freeaddrinfo(). */
int net_addr_resolve(const char *host, uint16_t port, enum net_family family, int socktype,
                     bool passive, struct addrinfo **res, struct net_error *err);

/* Format any socket address as "127.0.0.1:7007" or "[::1]:7007" into buf; returns buf. */
char *net_addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* Format only the host part ("127.0.0.1", "::1") into buf; returns buf. */
char *net_addr_host(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* The port of an AF_INET or AF_INET6 address, 0 for anything else. */
uint16_t net_addr_port(const struct sockaddr *sa);

/* True for 0.0.0.0 and ::, the addresses that mean "every interface". */
bool net_addr_is_wildcard(const struct sockaddr *sa);

/* The IPv4 address (host order) in an IPv4-mapped IPv6 address, ::ffff:a.b.c.d: how a
 * dual-stack socket shows a client that came over IPv4. False for any other address. */
bool net_addr_mapped_v4(const struct in6_addr *a6, uint32_t *v4);

/* May a UDP server answer a datagram from src without risk of feeding a loop or a reflection
 * attack? False, with *why set, for source port 0, ports below 1024 (other services, such as
 * echo or chargen, answer too), the server's own port, and multicast, broadcast (with the
 * loopback network's 127.x.y.255), reserved (240.0.0.0/4) or unspecified (0.0.0.0/8, ::)
 * sources. IPv6 sources that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) are judged as that IPv4 address. */
bool net_addr_reflectable(const struct sockaddr *src, uint16_t own_port, const char **why);

#endif
