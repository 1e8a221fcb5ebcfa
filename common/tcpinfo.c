/* tcpinfo.c - TCP's own view of a connection (TCP_INFO): window, RTT, resends, pace. */
#include "tcpinfo.h"

#include <linux/tcp.h> /* the kernel's struct tcp_info: glibc's lacks the delivery rate */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

int net_tcpinfo_read(int fd, struct net_tcpinfo *ti)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    unsigned out, gone;

    memset(&info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
        return -1;
    ti->cwnd = info.tcpi_snd_cwnd;
    ti->ssthresh = info.tcpi_snd_ssthresh;
    ti->mss = info.tcpi_snd_mss;
    ti->srtt_ms = info.tcpi_rtt / 1000.0;
    ti->rttvar_ms = info.tcpi_rttvar / 1000.0;
    ti->unacked = info.tcpi_unacked;
    /* as Linux counts packets in flight (tcp_packets_in_flight) */
    out = info.tcpi_unacked + info.tcpi_retrans;
    gone = info.tcpi_sacked + info.tcpi_lost;
    ti->in_flight = out > gone ? out - gone : 0;
    ti->retransmits = info.tcpi_total_retrans;
    /* an older kernel fills less of the structure: len says how much */
    ti->bytes_acked =
        len >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked
            ? info.tcpi_bytes_acked
            : 0;
    ti->have_delivery_rate =
        len >= offsetof(struct tcp_info, tcpi_delivery_rate) + sizeof info.tcpi_delivery_rate;
    ti->delivery_bps = ti->have_delivery_rate ? (double)info.tcpi_delivery_rate * 8 : 0;
    return 0;
}

int net_tcpinfo_congestion(int fd, char *name, size_t size)
{
    socklen_t len = (socklen_t)(size - 1);

    memset(name, 0, size);
    return getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len);
}
