/* tcpinfo.h - TCP's own view of a connection (TCP_INFO): window, RTT, resends, pace. */
#ifndef SOCKLAB_TCPINFO_H
#define SOCKLAB_TCPINFO_H

#include <stdbool.h>
#include <stddef.h>

/* What the sender's kernel says of one connection, as ss -ti shows it. */
struct net_tcpinfo {
    unsigned cwnd;        /* congestion window, in segments */
    unsigned ssthresh;    /* slow-start threshold, in segments (huge until the first loss) */
    unsigned mss;         /* bytes per segment */
    double srtt_ms;       /* smoothed round-trip time */
    double rttvar_ms;     /* its mean deviation */
    unsigned unacked;     /* segments sent and not yet acknowledged */
    unsigned in_flight;   /* of those, the ones still on their way: the kernel's count, less
                             the ones the receiver has selectively acknowledged (SACK) or
                             that are taken for lost, plus their retransmissions */
    unsigned retransmits; /* segments sent again, over the connection's life */
    unsigned long long bytes_acked; /* bytes the receiver has acknowledged (Linux 4.1+) */
    bool have_delivery_rate;
    double delivery_bps; /* the rate the last acknowledgements came back at (Linux 4.9+) */
};

/* Read fd's TCP_INFO; -1 with errno when the socket is not TCP. */
int net_tcpinfo_read(int fd, struct net_tcpinfo *ti);
/* The name of fd's congestion control ("cubic"), into name; -1 with errno when not TCP. */
int net_tcpinfo_congestion(int fd, char *name, size_t size);

#endif
