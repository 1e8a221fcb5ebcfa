/* upstream.c - a relay's upstream or a peer's other: resolved once, and never itself. */
#include "upstream.h"

#include <string.h>
#include <netinet/in.h>

/* Is a the address b names, or an address on every interface of b's port (a wildcard own)? */
static bool same_endpoint(const struct sockaddr *up, const struct sockaddr *own)
{
    if (up->sa_family != own->sa_family || net_addr_port(up) != net_addr_port(own))
        return false;
    if (net_addr_is_wildcard(own))
        return true;
    if (up->sa_family == AF_INET)
        return ((const struct sockaddr_in *)up)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)own)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)up)->sin6_addr,
                  &((const struct sockaddr_in6 *)own)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

int net_upstream_resolve(const struct net_options *opt, int socktype,
                         const struct sockaddr_storage *own, bool guard,
                         struct net_upstream_addr *up, struct net_error *err)
{
    struct addrinfo *res;
    struct sockaddr_in6 held = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool peer = opt->role == NET_ROLE_PEER;
    /* a peer sends from the socket it listens on: the other must be of its family */
    enum net_family family = !peer ? opt->family : own->ss_family == AF_INET ? NET_V4 : NET_V6;

    if (net_addr_resolve(opt->to_host, opt->to_port, family, socktype, false, &res, err) < 0)
        return -1;
    memcpy(&up->addr, res->ai_addr, res->ai_addrlen);
    up->len = res->ai_addrlen;
    freeaddrinfo(res);
    net_addr_format((const struct sockaddr *)&up->addr, up->len, up->text, sizeof up->text);
    held.sin6_port = htons(net_addr_port((const struct sockaddr *)own));
    if (!peer && (same_endpoint((const struct sockaddr *)&up->addr, (const struct sockaddr *)own) ||
                  (guard && same_endpoint((const struct sockaddr *)&up->addr,
                                          (const struct sockaddr *)&held))))
        return net_err_words(err, NET_ERR_USAGE,
                             "it is the relay's own address, and every client would be relayed "
                             "to the relay again (give the server's port, or another -p)",
                             "cannot relay to %s", up->text);
    if (peer && same_endpoint((const struct sockaddr *)&up->addr, (const struct sockaddr *)own))
        return net_err_words(err, NET_ERR_USAGE,
                             "it is this peer's own address (give the other peer's port, or "
                             "another -p)",
                             "cannot be a peer of %s", up->text);
    return 0;
}
