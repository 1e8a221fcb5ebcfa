/* allow.c - who may use a server (--allow): address prefixes, and a source judged by them. */
#include "allow.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "arg.h"
#include "out.h"

/* Bytes of an address of family: 4 for IPv4, 16 for IPv6. */
static size_t addr_size(int family)
{
    return family == AF_INET ? 4 : 16;
}

/* Clear every bit of addr past the first bits. */
static void keep_bits(unsigned char *addr, size_t size, unsigned bits)
{
    for (size_t i = 0; i < size; i++) {
        unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * (unsigned)i : 0;

        addr[i] &= (unsigned char)(0xff00u >> keep);
    }
}

/* The len bytes at text, with a letter and no colon, are a host name, never an address. */
static bool looks_like_name(const char *text, size_t len)
{
    if (memchr(text, ':', len) != NULL)
        return false;
    for (size_t i = 0; i < len; i++)
        if (isalpha((unsigned char)text[i]))
            return true;
    return false;
}

/* The prefix length after "/": digits only, at most max (32 for IPv4, 128 for IPv6). */
static int parse_length(const char *flag, const char *text, const char *digits, unsigned max,
                        unsigned *bits, struct net_error *err)
{
    if (*digits == '\0' || strlen(digits) > 3 || digits[strspn(digits, "0123456789")] != '\0')
        return net_arg_error(err, flag, "'%s': the length after / must be a number from 0 to %u",
                             text, max);
    *bits = (unsigned)atoi(digits);
    if (*bits > max)
        return net_arg_error(err, flag, "'%s': an %s prefix is at most /%u long", text,
                             max == 32 ? "IPv4" : "IPv6", max);
    return 0;
}

/* An IPv4-mapped prefix (::ffff:10.0.0.0/104) is the IPv4 prefix it carries (10.0.0.0/8):
 * a client that came over IPv4 is judged by IPv4 prefixes, whichever way it was written. */
static void unmap(struct net_prefix *p)
{
    struct in6_addr a6;
    uint32_t v4;

    memcpy(&a6, p->addr, sizeof a6);
    if (p->family != AF_INET6 || p->bits < 96 || !net_addr_mapped_v4(&a6, &v4))
        return;
    v4 = htonl(v4);
    memset(p->addr, 0, sizeof p->addr);
    memcpy(p->addr, &v4, 4);
    p->family = AF_INET;
    p->bits -= 96;
}

int net_prefix_parse(const char *flag, const char *text, struct net_prefix *p,
                     struct net_error *err)
{
    char host[NET_PREFIXSTRLEN];
    unsigned char given[sizeof p->addr];
    const char *slash = strchr(text, '/');
    size_t hostlen = slash ? (size_t)(slash - text) : strlen(text);
    unsigned max;

    if (hostlen == 0)
        return net_arg_error(err, flag, "needs an address or a prefix, such as 10.0.0.0/8 or ::1");
    if (looks_like_name(text, hostlen))
        return net_arg_error(err, flag,
                             "'%s' is a host name; give an address or a prefix, such as "
                             "10.0.0.0/8 or ::1",
                             text);
    *p = (struct net_prefix){.family = memchr(text, ':', hostlen) ? AF_INET6 : AF_INET};
    if (hostlen >= sizeof host)
        return net_arg_error(err, flag, "'%s' is not an IPv4 or IPv6 address", text);
    memcpy(host, text, hostlen);
    host[hostlen] = '\0';
    if (inet_pton(p->family, host, p->addr) != 1)
        return net_arg_error(err, flag, "'%s' is not an IPv4 or IPv6 address", host);
    max = (unsigned)addr_size(p->family) * 8;
    p->bits = max;
    if (slash != NULL && parse_length(flag, text, slash + 1, max, &p->bits, err) < 0)
        return -1;
    /* as ip route does, refuse 10.1.2.3/8: did the user mean the network or the host? */
    memcpy(given, p->addr, sizeof p->addr);
    keep_bits(p->addr, addr_size(p->family), p->bits);
    if (memcmp(given, p->addr, addr_size(p->family)) != 0)
        return net_arg_error(err, flag, "'%s' has host bits set past /%u; did you mean %s?", text,
                             p->bits, net_prefix_format(p, host, sizeof host));
    unmap(p);
    return 0;
}

char *net_prefix_format(const struct net_prefix *p, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN];

    if (inet_ntop(p->family, p->addr, host, sizeof host) == NULL)
        snprintf(host, sizeof host, "?");
    snprintf(buf, size, "%s/%u", host, p->bits);
    return buf;
}

int net_allow_add(struct net_allow *a, const char *flag, const char *text, struct net_error *err)
{
    struct net_prefix p;

    if (net_prefix_parse(flag, text, &p, err) < 0)
        return -1;
    if (a->n >= NET_ALLOW_MAX)
        return net_arg_error(err, flag,
                             "at most %d prefixes; join neighbours into a shorter prefix "
                             "(10.0.0.0/8 rather than each 10.x.0.0/16)",
                             NET_ALLOW_MAX);
    a->prefix[a->n++] = p;
    return 0;
}

void net_allow_report(const struct net_allow *a)
{
    char text[NET_ALLOW_MAX][NET_PREFIXSTRLEN];
    const char *prefixes[NET_ALLOW_MAX];

    if (a->n == 0)
        return;
    for (unsigned i = 0; i < a->n; i++)
        prefixes[i] = net_prefix_format(&a->prefix[i], text[i], sizeof text[i]);
    net_out_allowing(prefixes, a->n);
}

/* Does p cover the address addr of family? */
static bool covers(const struct net_prefix *p, int family, const unsigned char *addr)
{
    unsigned whole = p->bits / 8, rest = p->bits % 8;

    if (p->family != family || memcmp(p->addr, addr, whole) != 0)
        return false;
    return rest == 0 || ((p->addr[whole] ^ addr[whole]) & (0xff00u >> rest) & 0xff) == 0;
}

bool net_allow_permits(const struct net_allow *a, const struct sockaddr *src)
{
    unsigned char addr[16];
    int family = src->sa_family;
    uint32_t v4;

    if (a->n == 0)
        return true;
    if (family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)src)->sin_addr, 4);
    } else if (family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)src)->sin6_addr;

        /* a client that came over IPv4 to a dual-stack socket: judged as IPv4 */
        if (net_addr_mapped_v4(a6, &v4)) {
            family = AF_INET;
            v4 = htonl(v4);
            memcpy(addr, &v4, 4);
        } else {
            memcpy(addr, a6, 16);
        }
    } else {
        return false;
    }
    for (unsigned i = 0; i < a->n; i++)
        if (covers(&a->prefix[i], family, addr))
            return true;
    return false;
}
