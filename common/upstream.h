/* upstream.h - where a relay sends its clients' messages: the server named by --to. */
#ifndef SOCKLAB_UPSTREAM_H
#define SOCKLAB_UPSTREAM_H

#include <stdbool.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"
#include "opt.h"

/* The upstream server, resolved once at start: every client goes to the same address. */
struct net_upstream_addr {
    struct sockaddr_storage addr;
    socklen_t len;
    char text[NET_ADDRSTRLEN]; /* "127.0.0.1:7008", for the listening line and notices */
};

/* Resolve --to for socktype (the first address it names, as -4 or -6 allow), and refuse an
 * upstream that is the relay itself: its own address own (bound, so with the port the kernel
 * chose for -p 0), or [::1] on its port when it holds that too (guard). Each client would
 * otherwise be relayed to the relay, again and again, until descriptors or memory ran out.
 * Returns 0, or -1 with err set. */
int net_upstream_resolve(const struct net_options *opt, int socktype,
                         const struct sockaddr_storage *own, bool guard,
                         struct net_upstream_addr *up, struct net_error *err);

#endif
