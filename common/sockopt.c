/* sockopt.c - every socket option the command line can turn, set in one place.
 *
 * Each option is set with one traced setsockopt() and read back, so a student sees what the
 * kernel really granted (Linux doubles a buffer size: half of it is for its own
 * bookkeeping); -v reports them once more, read back from the socket in use. */
#define _GNU_SOURCE /* SO_REUSEPORT (Linux) */
#include "sockopt.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "datagram.h"
#include "out.h"
#include "sock.h"

/* Set one int option; the trace shows what the kernel granted. */
static int set(int fd, int level, int name, const char *what, int value, const char *note,
               struct net_error *err)
{
    int granted = 0;

    if (sock_setopt(fd, level, name, value, &granted, note) < 0) {
        if (err != NULL)
            net_err_errno(err, errno, "cannot set %s to %d", what, value);
        return -1;
    }
    return 0;
}

/* What a buffer size the kernel granted means for the protocol. */
static const char *buffer_note(int name, int socktype)
{
    if (name == SO_RCVBUF)
        return socktype == SOCK_STREAM
                   ? "Linux doubles the request; TCP's advertised window grows to at most half"
                   : "Linux doubles the request; a datagram that does not fit is dropped "
                     "(RcvbufErrors)";
    return socktype == SOCK_STREAM
               ? "Linux doubles the request; bytes sent but not yet acknowledged wait in it"
               : "Linux doubles the request; datagrams wait in it for the device";
}

static int buffers(int fd, int socktype, const struct net_sockopts *so, struct net_error *err)
{
    if (so->rcvbuf > 0 && set(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", (int)so->rcvbuf,
                              buffer_note(SO_RCVBUF, socktype), err) < 0)
        return -1;
    if (so->sndbuf > 0 && set(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", (int)so->sndbuf,
                              buffer_note(SO_SNDBUF, socktype), err) < 0)
        return -1;
    return 0;
}

/* TTL, TOS and don't-fragment: fields of every IP header this socket sends. */
static int ip_header(int fd, int family, int socktype, const struct net_sockopts *so,
                     struct net_error *err)
{
    bool v6 = family == AF_INET6;

    if (so->ttl > 0 &&
        set(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL,
            v6 ? "IPV6_UNICAST_HOPS" : "IP_TTL", so->ttl,
            "each packet may cross this many routers; the one that would send it on with 0 "
            "drops it and answers ICMP time exceeded",
            err) < 0)
        return -1;
    if (so->tos >= 0 &&
        set(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS,
            v6 ? "IPV6_TCLASS" : "IP_TOS", so->tos,
            socktype == SOCK_STREAM ? "the DSCP (top 6 bits) of every segment; TCP sets the 2 ECN "
                                      "bits itself"
                                    : "the DSCP (top 6 bits) and ECN (low 2) of every datagram",
            err) < 0)
        return -1;
    /* TCP always sets DF and sizes its segments to the path; only UDP has a choice */
    if (so->dontfrag && socktype == SOCK_DGRAM &&
        set(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER,
            v6 ? "IPV6_MTU_DISCOVER" : "IP_MTU_DISCOVER", v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO,
            "DF on every datagram: one larger than the path MTU fails with EMSGSIZE instead "
            "of leaving in fragments",
            err) < 0)
        return -1;
    return 0;
}

/* Keepalive: after so->keepalive seconds of silence the kernel sends an empty segment the
 * peer must acknowledge, keepalive_count times keepalive_interval apart, and closes the
 * connection (ETIMEDOUT) when none is, so a peer that vanished without FIN or RST is found. */
static int keepalive(int fd, const struct net_sockopts *so, struct net_error *err)
{
    int idle = (int)so->keepalive;
    int interval = so->keepalive_interval > 0              ? (int)so->keepalive_interval
                   : idle < NET_DEFAULT_KEEPALIVE_INTERVAL ? idle
                                                           : NET_DEFAULT_KEEPALIVE_INTERVAL;

    if (set(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 1,
            "nothing yet: probes only after the connection falls silent", err) < 0 ||
        set(fd, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", idle,
            "seconds of silence before the first probe (an empty segment, one byte back)",
            err) < 0 ||
        set(fd, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", interval,
            "seconds between unanswered probes", err) < 0)
        return -1;
    return set(fd, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", (int)so->keepalive_count,
               "unanswered probes before the connection is closed (ETIMEDOUT)", err);
}

/* What a TCP connection keeps for its own end: how close() ends it, keepalive. */
static int connection(int fd, const struct net_sockopts *so, struct net_error *err)
{
    if (so->linger >= 0 && sock_linger(fd, so->linger) < 0) {
        if (err != NULL)
            net_err_errno(err, errno, "cannot set SO_LINGER to %d", so->linger);
        return -1;
    }
    return so->keepalive > 0 ? keepalive(fd, so, err) : 0;
}

/* TCP's congestion control: how the sender grows its window and what it takes for a sign of
 * congestion (cubic and reno: loss; bbr: the bandwidth and round trip it measures). */
static int congestion(int fd, const struct net_sockopts *so, struct net_error *err)
{
    char offered[256] = "";
    FILE *fp;
    int code;

    if (so->congestion == NULL ||
        sock_setopt_name(fd, IPPROTO_TCP, TCP_CONGESTION, so->congestion,
                         "how this sender grows its window, and what slows it down") == 0)
        return 0;
    code = errno;
    if (err != NULL)
        net_err_errno(err, code, "cannot set TCP_CONGESTION to %s", so->congestion);
    /* ENOENT: no such algorithm in this kernel; say which ones it has */
    fp = code == ENOENT ? fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "r") : NULL;
    if (err != NULL && fp != NULL && fgets(offered, sizeof offered, fp) != NULL) {
        offered[strcspn(offered, "\n")] = '\0';
        net_err_errno(err, code, "cannot set TCP_CONGESTION to %s (this kernel offers %s)",
                      so->congestion, offered);
    }
    if (fp != NULL)
        fclose(fp);
    errno = code;
    return -1;
}

/* Sharing the address: SO_REUSEADDR (UDP: two sockets on one address, the newest gets the
 * datagrams; TCP: a restart despite TIME_WAIT, which tcp-echo always sets) and SO_REUSEPORT
 * (sockets that all set it share the port: new connections, or datagrams by source, are
 * spread across them by a hash). */
static int reuse(int fd, int socktype, const struct net_sockopts *so, struct net_error *err)
{
    if (so->reuseaddr && socktype == SOCK_DGRAM &&
        set(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1,
            "another socket that sets it may bind this address too", err) < 0)
        return -1;
    if (so->reuseport &&
        set(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", 1,
            socktype == SOCK_STREAM
                ? "servers that all set it share the port; each new connection goes to one"
                : "servers that all set it share the port; each source goes to one, by hash",
            err) < 0)
        return -1;
    return 0;
}

int net_sockopt_share_port(int fd, const struct net_sockopts *so)
{
    int granted;

    if (!so->reuseport)
        return 0;
    return sock_setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1, &granted,
                       "other --reuseport servers of this user may hold it too");
}

int net_sockopt_apply(int fd, int family, int socktype, enum net_sockopt_role role,
                      const struct net_sockopts *so, struct net_error *err)
{
    if (so == NULL)
        return 0;
    switch (role) {
    case NET_SO_LISTEN:
        if (reuse(fd, socktype, so, err) < 0 || buffers(fd, socktype, so, err) < 0 ||
            (socktype == SOCK_STREAM && congestion(fd, so, err) < 0))
            return -1;
        return ip_header(fd, family, socktype, so, err);
    case NET_SO_ACCEPTED:
        return connection(fd, so, err);
    case NET_SO_CLIENT:
        if (buffers(fd, socktype, so, err) < 0 || ip_header(fd, family, socktype, so, err) < 0)
            return -1;
        if (socktype == SOCK_STREAM && congestion(fd, so, err) < 0)
            return -1;
        return socktype == SOCK_STREAM ? connection(fd, so, err) : 0;
    }
    return 0;
}

/* -v: one line per option asked for, with what the socket holds now. */
static void report(int fd, int level, int name, const char *what, int requested)
{
    int held = 0;
    socklen_t len = sizeof held;

    if (getsockopt(fd, level, name, &held, &len) == 0)
        net_out_sockopt(what, requested, held);
}

void net_sockopt_report(int fd, int family, int socktype, const struct net_sockopts *so)
{
    bool v6 = family == AF_INET6;
    struct linger lg;
    int listening = 0;
    socklen_t len;

    if (so->rcvbuf > 0)
        report(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", (int)so->rcvbuf);
    if (so->sndbuf > 0)
        report(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", (int)so->sndbuf);
    if (so->ttl > 0)
        report(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL,
               v6 ? "IPV6_UNICAST_HOPS" : "IP_TTL", so->ttl);
    if (so->tos >= 0)
        report(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS,
               v6 ? "IPV6_TCLASS" : "IP_TOS", so->tos);
    if (so->dontfrag && socktype == SOCK_DGRAM)
        report(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER,
               v6 ? "IPV6_MTU_DISCOVER" : "IP_MTU_DISCOVER",
               v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO);
    if (so->reuseaddr && socktype == SOCK_DGRAM)
        report(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1);
    if (so->reuseport)
        report(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", 1);
    /* a listening socket's connections get linger and keepalive when accepted (--trace) */
    len = sizeof listening;
    if (socktype != SOCK_STREAM ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || listening)
        return;
    len = sizeof lg;
    if (so->linger >= 0 && getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0)
        net_out_sockopt("SO_LINGER", so->linger, lg.l_onoff ? lg.l_linger : -1);
    if (so->keepalive > 0)
        report(fd, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", (int)so->keepalive);
}

const char *net_too_big_hint(int fd, size_t size)
{
    static char hint[160];
    bool v6;
    int mtu = sock_path_mtu(fd, &v6);

    /* past the largest datagram, err.c's hint says so already */
    if (mtu <= 0 || size > NET_DATAGRAM_MAX_V4)
        return NULL;
    snprintf(hint, sizeof hint,
             "larger than the path MTU to that host, %d bytes: at most %d bytes of data fit "
             "one packet",
             mtu, mtu - (v6 ? 48 : 28));
    return hint;
}
