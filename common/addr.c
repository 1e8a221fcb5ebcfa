/* addr.c - addresses as values; all of them come from getaddrinfo, for IPv4 and IPv6 alike. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int net_addr_parse_port(const char *text, uint16_t *port)
{
    unsigned long value = 0;
    const char *p;

    if (text == NULL || *text == '\0') {
        errno = EINVAL;
        return -1;
    }
    /* digits only: no sign, no spaces, no hex, nothing trailing */
    for (p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            errno = EINVAL;
            return -1;
        }
        value = value * 10 + (unsigned long)(*p - '0');
        if (value > 65535) {
            errno = ERANGE;
            return -1;
        }
    }
    *port = (uint16_t)value;
    return 0;
}

static int copy_part(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size) {
        errno = EINVAL;
        return -1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

int net_addr_split(const char *text, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;

    if (text == NULL || *text == '\0') {
        errno = EINVAL;
        return -1;
    }
    if (text[0] == '[') {
        const char *close = strchr(text, ']');

        if (close == NULL || close == text + 1)
            return errno = EINVAL, -1;
        if (close[1] != '\0' && close[1] != ':')
            return errno = EINVAL, -1;
        if (copy_part(host, hostlen, text + 1, (size_t)(close - text - 1)) < 0)
            return -1;
        return copy_part(port, portlen, close[1] ? close + 2 : "",
                         close[1] ? strlen(close + 2) : 0);
    }
    colon = strchr(text, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
        /* two or more colons and no brackets: a bare IPv6 address, no port */
        if (copy_part(host, hostlen, text, strlen(text)) < 0)
            return -1;
        return copy_part(port, portlen, "", 0);
    }
    if (colon == text)
        return errno = EINVAL, -1;
    if (colon == NULL) {
        if (copy_part(host, hostlen, text, strlen(text)) < 0)
            return -1;
        return copy_part(port, portlen, "", 0);
    }
    if (copy_part(host, hostlen, text, (size_t)(colon - text)) < 0)
        return -1;
    return copy_part(port, portlen, colon + 1, strlen(colon + 1));
}

int net_addr_resolve(const char *host, uint16_t port, enum net_family family, int socktype,
                     bool passive, struct addrinfo **res, struct net_error *err)
{
    struct addrinfo hints;
    char service[8];
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = family == NET_V4 ? AF_INET : family == NET_V6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    snprintf(service, sizeof service, "%u", (unsigned)port);
    /* localhost is the loopback (RFC 6761) even where /etc/hosts names it for one family
     * only: with -4 or -6 ask for that family's loopback directly */
    if (strcasecmp(host, "localhost") == 0 && family != NET_ANY)
        host = family == NET_V4 ? "127.0.0.1" : "::1";
    rc = getaddrinfo(host, service, &hints, res);
    if (rc != 0)
        return net_err_resolver(err, rc, "cannot resolve %s%s", host,
                                family == NET_V4   ? " as IPv4"
                                : family == NET_V6 ? " as IPv6"
                                                   : "");
    return 0;
}

char *net_addr_host(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
    (void)len;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)size);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)size);
    } else {
        snprintf(buf, size, "(family %d)", sa->sa_family);
    }
    return buf;
}

char *net_addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN];

    net_addr_host(sa, len, host, sizeof host);
    if (sa->sa_family == AF_INET6)
        snprintf(buf, size, "[%s]:%u", host, (unsigned)net_addr_port(sa));
    else if (sa->sa_family == AF_INET)
        snprintf(buf, size, "%s:%u", host, (unsigned)net_addr_port(sa));
    else
        snprintf(buf, size, "%s", host);
    return buf;
}

uint16_t net_addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return 0;
}

bool net_addr_is_wildcard(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

/* The four bytes at b as an IPv4 address, host order. */
static uint32_t v4_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

bool net_addr_mapped_v4(const struct in6_addr *a6, uint32_t *v4)
{
    if (!IN6_IS_ADDR_V4MAPPED(a6))
        return false;
    *v4 = v4_at(a6->s6_addr + 12);
    return true;
}

/* The IPv4 address an IPv6 address carries, host order: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::/48). A
 * reply to such an address ends up at the IPv4 address, so it is judged as that. */
static bool embedded_v4(const struct in6_addr *a6, uint32_t *v4)
{
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    const uint8_t *b = a6->s6_addr;

    if (net_addr_mapped_v4(a6, v4))
        return true;
    if (IN6_IS_ADDR_V4COMPAT(a6) || memcmp(b, nat64, 12) == 0)
        *v4 = v4_at(b + 12);
    else if (b[0] == 0x20 && b[1] == 0x02)
        *v4 = v4_at(b + 2);
    else
        return false;
    return true;
}

static bool v4_reflectable(uint32_t a, const char **why)
{
    if (a >> 24 == 0)
        *why = "unspecified source address (0.0.0.0/8)";
    else if (a >> 28 == 0xe)
        *why = "multicast source address";
    else if (a == 0xffffffffu)
        *why = "broadcast source address";
    else if (a >> 28 == 0xf)
        *why = "reserved source address (240.0.0.0/4)";
    else if (a >> 24 == 127 && (a & 0xff) == 0xff)
        /* 127.255.255.255 is the loopback network's broadcast; a .255 anywhere in 127/8
         * looks like one, and no test needs to be answered from it */
        *why = "broadcast-looking loopback source address";
    else
        return true;
    return false;
}

bool net_addr_reflectable(const struct sockaddr *src, uint16_t own_port, const char **why)
{
    uint16_t port = net_addr_port(src);
    uint32_t v4;

    if (port == 0) {
        *why = "source port 0";
        return false;
    }
    if (port < 1024) {
        *why = "source port below 1024 (another service, such as echo, would answer back)";
        return false;
    }
    if (port == own_port) {
        *why = "source port is this server's own port (another echo server?)";
        return false;
    }
    if (src->sa_family == AF_INET)
        return v4_reflectable(ntohl(((const struct sockaddr_in *)src)->sin_addr.s_addr), why);
    if (src->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)src;

        if (embedded_v4(&sin6->sin6_addr, &v4))
            return v4_reflectable(v4, why);
        if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
            *why = "unspecified source address";
            return false;
        }
        if (IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr)) {
            *why = "multicast source address";
            return false;
        }
        return true;
    }
    *why = "not an IP address";
    return false;
}
