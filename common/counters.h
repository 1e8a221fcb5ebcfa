/* counters.h - what a server counts, printed on exit and on SIGUSR1. */
#ifndef SOCKLAB_COUNTERS_H
#define SOCKLAB_COUNTERS_H

#include <stdbool.h>

#include "proto.h"

/* What a server counts. */
struct net_counters {
    unsigned long long clients;  /* connections accepted, or distinct datagram sources */
    unsigned long long msgs_in;  /* receive calls that returned data (TCP), datagrams (UDP) */
    unsigned long long msgs_out; /* replies sent */
    unsigned long long bytes_in;
    unsigned long long bytes_out;
    unsigned long long truncated; /* datagrams longer than --recv-size, dropped */
    unsigned long long refused;   /* sources refused: TCP connections and UDP datagrams from
                                     outside --allow; UDP datagrams the reflection and loop
                                     checks dropped */
    unsigned long long errors;    /* connections ended by an error (reset, ...) */
    bool clients_at_least;        /* UDP: more sources than the server can remember */

    /* a relay: its side of the upstream, as the fields above count its clients' side */
    bool relay;
    struct net_upstream {
        unsigned long long opened;   /* TCP: connections made; UDP: sockets (mappings) opened */
        unsigned long long failed;   /* TCP: connections refused or timed out; UDP: datagrams
                                        the upstream could not be sent, or refused (ICMP) */
        unsigned long long msgs_out; /* send calls (TCP), datagrams (UDP) to the upstream */
        unsigned long long msgs_in;  /* receive calls that returned data, datagrams from it */
        unsigned long long bytes_out;
        unsigned long long bytes_in;
        unsigned long long expired; /* UDP: mappings closed after --idle-timeout unused */
        unsigned long long evicted; /* UDP: mappings closed to make room (--max-clients) */
    } up;
};

/* Add one worker's counters (a thread's, a child process's) to the server's; clients are
 * counted where connections are accepted, so they are not added. */
void net_counters_add(struct net_counters *to, const struct net_counters *from);

/* The counters as one line: the summary on exit (event "summary"), or on SIGUSR1
 * ("counters"). */
void net_counters_print(enum net_proto proto, const char *event, const struct net_counters *c);

#endif
