/* sock.c - one system call per function, and a trace line that says what it did on the wire. */
#define _GNU_SOURCE /* struct tcp_info, struct in6_pktinfo (Linux) */
#include "sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "out.h"

static struct {
    bool on, json, with_time;
    struct timespec start;
} trace;

void sock_trace_init(bool on, bool json, bool with_time)
{
    trace.on = on;
    trace.json = json;
    trace.with_time = with_time;
    clock_gettime(CLOCK_MONOTONIC, &trace.start);
}

static const char *family_name(int family)
{
    return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_?";
}

static int socket_type(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return 0;
    return type;
}

/* "1 byte", "2 bytes". */
static const char *bytes(long long n)
{
    return n == 1 ? "byte" : "bytes";
}

/* A non-blocking receive that finds nothing, or a receive timeout, puts nothing on the wire
 * and tells nothing: it is left out of the trace. */
static bool nothing_happened(ssize_t n, int saved)
{
    return n < 0 && (saved == EAGAIN || saved == EWOULDBLOCK);
}

static bool is_stream(int fd)
{
    return socket_type(fd) == SOCK_STREAM;
}

/* Write one trace line: call(args) = result, then the note on what reached the wire. */
static void emit(const char *call, int fd, const char *args, long result, int saved_errno,
                 const char *wire)
{
    double ms = 0;

    if (trace.with_time) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (double)(now.tv_sec - trace.start.tv_sec) * 1e3 +
             (double)(now.tv_nsec - trace.start.tv_nsec) / 1e6;
    }
    if (trace.json) {
        struct net_json j;

        net_json_begin(&j);
        if (trace.with_time)
            net_json_num(&j, "time_ms", ms, 3);
        net_json_str(&j, "call", call);
        if (fd >= 0)
            net_json_int(&j, "fd", fd);
        net_json_str(&j, "args", args);
        net_json_int(&j, "result", result);
        if (result < 0)
            net_json_str(&j, "errno", net_err_name(saved_errno));
        net_json_str(&j, "wire", wire);
        net_json_end(&j, stderr);
        return;
    }

    char head[256];
    int n;

    if (result < 0)
        n = snprintf(head, sizeof head, "%s(%s) = -1 %s", call, args, net_err_name(saved_errno));
    else
        n = snprintf(head, sizeof head, "%s(%s) = %ld", call, args, result);
    if (trace.with_time)
        fprintf(stderr, "[%9.3f] %s%*s%s\n", ms, head, n < 40 ? 40 - n : 2, "", wire);
    else
        fprintf(stderr, "%s%*s%s\n", head, n < 40 ? 40 - n : 2, "", wire);
}

int sock_socket(int family, int type)
{
    int fd = socket(family, type, 0);

    if (trace.on) {
        int saved = errno;
        char args[64];

        snprintf(args, sizeof args, "%s, %s", family_name(family),
                 type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM");
        emit("socket", -1, args, fd, saved,
             type == SOCK_STREAM ? "a TCP endpoint; nothing on the wire yet"
                                 : "a UDP endpoint; nothing on the wire yet");
        errno = saved;
    }
    return fd;
}

int sock_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    int rc = bind(fd, addr, len);

    if (trace.on) {
        int saved = errno;
        char args[NET_ADDRSTRLEN + 16], where[NET_ADDRSTRLEN];

        net_addr_format(addr, len, where, sizeof where);
        snprintf(args, sizeof args, "%d, %s", fd, where);
        emit("bind", fd, args, rc, saved,
             rc == 0 ? "claims the address; nothing on the wire" : "address refused");
        errno = saved;
    }
    return rc;
}

int sock_listen(int fd, int backlog)
{
    int rc = listen(fd, backlog);

    if (trace.on) {
        int saved = errno;
        char args[32];

        snprintf(args, sizeof args, "%d, %d", fd, backlog);
        emit("listen", fd, args, rc, saved, "the kernel now answers SYNs; nothing on the wire");
        errno = saved;
    }
    return rc;
}

int sock_accept(int fd, struct sockaddr_storage *peer, socklen_t *len)
{
    int rc;

    *len = sizeof *peer;
    rc = accept(fd, (struct sockaddr *)peer, len);
    if (trace.on) {
        int saved = errno;
        char args[NET_ADDRSTRLEN + 16], from[NET_ADDRSTRLEN];

        if (rc >= 0)
            snprintf(args, sizeof args, "%d, %s", fd,
                     net_addr_format((struct sockaddr *)peer, *len, from, sizeof from));
        else
            snprintf(args, sizeof args, "%d", fd);
        emit("accept", fd, args, rc, saved,
             rc >= 0 ? "a connection the kernel already completed" : "no connection taken");
        errno = saved;
    }
    return rc;
}

int sock_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int rc = connect(fd, addr, len);

    if (trace.on) {
        int saved = errno;
        char args[NET_ADDRSTRLEN + 16], where[NET_ADDRSTRLEN];
        const char *wire;

        net_addr_format(addr, len, where, sizeof where);
        snprintf(args, sizeof args, "%d, %s", fd, where);
        if (!is_stream(fd))
            wire = "no packet: only sets the default peer";
        else if (rc == 0)
            wire = "3-way handshake: SYN ->, <- SYN-ACK, ACK ->";
        else if (saved == ECONNREFUSED)
            wire = "SYN ->, <- RST: nothing listens on that port";
        else if (saved == EINPROGRESS)
            wire = "SYN ->; the handshake completes in the background";
        else
            wire = "SYN ->, no answer";
        emit("connect", fd, args, rc, saved, wire);
        errno = saved;
    }
    return rc;
}

ssize_t sock_send(int fd, const void *buf, size_t len)
{
    /* MSG_NOSIGNAL: a peer that has gone away gives EPIPE, not a fatal SIGPIPE */
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

    if (trace.on) {
        int saved = errno;
        char args[48], wire[96];

        snprintf(args, sizeof args, "%d, %zu %s", fd, len, bytes((long long)len));
        if (n < 0)
            snprintf(wire, sizeof wire, "%s", "nothing sent");
        else if (is_stream(fd))
            snprintf(wire, sizeof wire, "%zd %s into the stream ->", n, bytes(n));
        else
            snprintf(wire, sizeof wire, "1 datagram of %zd %s ->", n, bytes(n));
        emit("send", fd, args, n, saved, wire);
        errno = saved;
    }
    return n;
}

ssize_t sock_recv(int fd, void *buf, size_t len)
{
    ssize_t n = recv(fd, buf, len, 0);

    if (trace.on && !nothing_happened(n, errno)) {
        int saved = errno;
        char args[32], wire[96];
        bool stream = is_stream(fd);

        snprintf(args, sizeof args, "%d, %zu", fd, len);
        if (n < 0 && saved == ECONNREFUSED && !stream)
            snprintf(wire, sizeof wire, "%s", "<- ICMP port unreachable: no server on that port");
        else if (n < 0 && saved == ECONNRESET)
            snprintf(wire, sizeof wire, "%s", "<- RST: the peer aborted the connection");
        else if (n < 0)
            snprintf(wire, sizeof wire, "%s", "nothing received");
        else if (n == 0 && stream)
            snprintf(wire, sizeof wire, "%s", "<- FIN: the peer will send no more");
        else if (stream)
            snprintf(wire, sizeof wire, "<- %zd %s (may be fewer or more than one send)", n,
                     bytes(n));
        else
            snprintf(wire, sizeof wire, "<- 1 datagram of %zd %s", n, bytes(n));
        emit("recv", fd, args, n, saved, wire);
        errno = saved;
    }
    return n;
}

/* Control data that names the local address a datagram goes from (IP_PKTINFO). */
union pktinfo_buf {
    char v4[CMSG_SPACE(sizeof(struct in_pktinfo))];
    char v6[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
};

/* Put one control message (level, type, data) into msg's control buffer. */
static void put_cmsg(struct msghdr *msg, int level, int type, const void *data, size_t len)
{
    struct cmsghdr *c;

    msg->msg_controllen = CMSG_SPACE(len);
    c = CMSG_FIRSTHDR(msg);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(c), data, len);
}

/* Ask for a reply to leave from the address the request arrived at. */
static void put_local(struct msghdr *msg, union pktinfo_buf *cbuf, const struct sock_local *from)
{
    memset(cbuf, 0, sizeof *cbuf);
    msg->msg_control = cbuf;
    if (from->family == AF_INET) {
        struct in_pktinfo pi = {.ipi_ifindex = 0};

        memcpy(&pi.ipi_spec_dst, from->addr, 4);
        put_cmsg(msg, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
    } else {
        struct in6_pktinfo pi = {.ipi6_ifindex = 0};

        memcpy(&pi.ipi6_addr, from->addr, 16);
        put_cmsg(msg, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
    }
}

/* The local address a datagram arrived at, from its IP_PKTINFO / IPV6_PKTINFO. */
static void get_local(struct msghdr *msg, struct sock_local *to)
{
    to->family = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            to->family = AF_INET;
            memcpy(to->addr, &pi.ipi_addr, 4);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            to->family = AF_INET6;
            memcpy(to->addr, &pi.ipi6_addr, 16);
        }
    }
}

int sock_want_local(int fd, int family)
{
    int one = 1;

    if (family == AF_INET6)
        return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
}

ssize_t sock_sendto(int fd, const void *buf, size_t len, const struct sockaddr *addr,
                    socklen_t addrlen, const struct sock_local *from)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg;
    union pktinfo_buf cbuf;
    ssize_t n;

    memset(&msg, 0, sizeof msg);
    msg.msg_name = (void *)addr;
    msg.msg_namelen = addr ? addrlen : 0;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (from != NULL && from->family != 0)
        put_local(&msg, &cbuf, from);
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (trace.on) {
        int saved = errno;
        char args[NET_ADDRSTRLEN + 48], to[NET_ADDRSTRLEN];

        if (addr != NULL)
            snprintf(args, sizeof args, "%d, %zu %s, %s", fd, len, bytes((long long)len),
                     net_addr_format(addr, addrlen, to, sizeof to));
        else
            snprintf(args, sizeof args, "%d, %zu %s", fd, len, bytes((long long)len));
        emit("sendto", fd, args, n, saved,
             n >= 0                  ? "1 datagram ->"
             : saved == EMSGSIZE     ? "nothing sent: too big for one datagram"
             : saved == ECONNREFUSED ? "nothing sent: an earlier ICMP port unreachable"
                                     : "nothing sent");
        errno = saved;
    }
    return n;
}

ssize_t sock_recvfrom(int fd, void *buf, size_t len, struct sockaddr_storage *from,
                      socklen_t *fromlen, bool *truncated, struct sock_local *to)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    union pktinfo_buf cbuf;
    struct msghdr msg;
    ssize_t n;

    memset(&msg, 0, sizeof msg);
    msg.msg_name = from;
    msg.msg_namelen = sizeof *from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (to != NULL) {
        msg.msg_control = &cbuf;
        msg.msg_controllen = sizeof cbuf;
    }
    /* recvmsg, not recvfrom: only msg_flags can tell a datagram was cut to fit */
    n = recvmsg(fd, &msg, 0);
    *fromlen = msg.msg_namelen;
    *truncated = n >= 0 && (msg.msg_flags & MSG_TRUNC);
    if (to != NULL && n >= 0)
        get_local(&msg, to);
    if (trace.on && !nothing_happened(n, errno)) {
        int saved = errno;
        char args[32], wire[NET_ADDRSTRLEN + 96], peer[NET_ADDRSTRLEN];

        snprintf(args, sizeof args, "%d, %zu", fd, len);
        if (n >= 0)
            net_addr_format((struct sockaddr *)from, *fromlen, peer, sizeof peer);
        if (n < 0 && saved == ECONNREFUSED)
            snprintf(wire, sizeof wire, "%s", "<- ICMP port unreachable: no server on that port");
        else if (n < 0)
            snprintf(wire, sizeof wire, "%s", "nothing received");
        else if (*truncated)
            snprintf(wire, sizeof wire, "<- 1 datagram from %s, cut to %zd %s", peer, n, bytes(n));
        else
            snprintf(wire, sizeof wire, "<- 1 datagram from %s", peer);
        emit("recvfrom", fd, args, n, saved, wire);
        errno = saved;
    }
    return n;
}

int sock_shutdown(int fd, int how)
{
    int rc = shutdown(fd, how);

    if (trace.on) {
        int saved = errno;
        char args[32];

        snprintf(args, sizeof args, "%d, %s", fd,
                 how == SHUT_WR   ? "SHUT_WR"
                 : how == SHUT_RD ? "SHUT_RD"
                                  : "SHUT_RDWR");
        emit("shutdown", fd, args, rc, saved,
             how == SHUT_RD ? "nothing on the wire: only stops this side reading"
                            : "FIN ->: no more from this side (half-close)");
        errno = saved;
    }
    return rc;
}

int sock_nodelay(int fd)
{
    int one = 1;
    int rc = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    if (trace.on) {
        int saved = errno;
        char args[48];

        snprintf(args, sizeof args, "%d, TCP_NODELAY", fd);
        emit("setsockopt", fd, args, rc, saved,
             "Nagle off: a small write goes out at once, not after the last ACK");
        errno = saved;
    }
    return rc;
}

/* "SOL_SOCKET, SO_RCVBUF" for the trace. */
static const char *option_name(int level, int name)
{
    static const struct {
        int level, name;
        const char *text;
    } names[] = {
        {SOL_SOCKET, SO_RCVBUF, "SOL_SOCKET, SO_RCVBUF"},
        {SOL_SOCKET, SO_SNDBUF, "SOL_SOCKET, SO_SNDBUF"},
        {SOL_SOCKET, SO_REUSEADDR, "SOL_SOCKET, SO_REUSEADDR"},
        {SOL_SOCKET, SO_REUSEPORT, "SOL_SOCKET, SO_REUSEPORT"},
        {SOL_SOCKET, SO_KEEPALIVE, "SOL_SOCKET, SO_KEEPALIVE"},
        {IPPROTO_TCP, TCP_KEEPIDLE, "IPPROTO_TCP, TCP_KEEPIDLE"},
        {IPPROTO_TCP, TCP_KEEPINTVL, "IPPROTO_TCP, TCP_KEEPINTVL"},
        {IPPROTO_TCP, TCP_KEEPCNT, "IPPROTO_TCP, TCP_KEEPCNT"},
        {IPPROTO_IP, IP_TTL, "IPPROTO_IP, IP_TTL"},
        {IPPROTO_IP, IP_TOS, "IPPROTO_IP, IP_TOS"},
        {IPPROTO_IP, IP_MTU_DISCOVER, "IPPROTO_IP, IP_MTU_DISCOVER"},
        {IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPPROTO_IPV6, IPV6_UNICAST_HOPS"},
        {IPPROTO_IPV6, IPV6_TCLASS, "IPPROTO_IPV6, IPV6_TCLASS"},
        {IPPROTO_IPV6, IPV6_MTU_DISCOVER, "IPPROTO_IPV6, IPV6_MTU_DISCOVER"},
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].level == level && names[i].name == name)
            return names[i].text;
    return "?, ?";
}

int sock_setopt(int fd, int level, int name, int value, int *granted, const char *note)
{
    socklen_t len = sizeof *granted;
    int rc = setsockopt(fd, level, name, &value, sizeof value);

    if (rc == 0)
        rc = getsockopt(fd, level, name, granted, &len);
    if (trace.on) {
        int saved = errno;
        char args[80], wire[320];

        snprintf(args, sizeof args, "%d, %s, %d", fd, option_name(level, name), value);
        snprintf(wire, sizeof wire, "the kernel grants %d: %s", rc == 0 ? *granted : 0, note);
        emit("setsockopt", fd, args, rc, saved, rc == 0 ? wire : "refused");
        errno = saved;
    }
    return rc;
}

int sock_linger(int fd, int seconds)
{
    struct linger lg = {.l_onoff = 1, .l_linger = seconds};
    int rc = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);

    if (trace.on) {
        int saved = errno;
        char args[64];

        snprintf(args, sizeof args, "%d, SOL_SOCKET, SO_LINGER, {on, %d s}", fd, seconds);
        emit("setsockopt", fd, args, rc, saved,
             seconds == 0 ? "close() will abort: RST instead of FIN, unsent data discarded"
                          : "close() waits until the data is acknowledged (or the time is up)");
        errno = saved;
    }
    return rc;
}

/* What close() will put on the wire, from the connection's state just before it. */
static const char *close_note(int fd)
{
    struct tcp_info info;
    struct linger lg;
    socklen_t len = sizeof info, lglen = sizeof lg;
    int unread = 0;

    if (!is_stream(fd))
        return "nothing on the wire: UDP has no connection to end";
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
        return "the descriptor is released";
    /* SO_LINGER on with a zero timeout: close() aborts instead of ending the connection */
    if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &lglen) == 0 && lg.l_onoff && lg.l_linger == 0 &&
        (info.tcpi_state == TCP_ESTABLISHED || info.tcpi_state == TCP_CLOSE_WAIT))
        return "RST ->: SO_LINGER 0 aborts the connection, no FIN";
    /* closing with unread data makes TCP abort with RST instead of FIN */
    if (ioctl(fd, FIONREAD, &unread) == 0 && unread > 0 &&
        (info.tcpi_state == TCP_ESTABLISHED || info.tcpi_state == TCP_CLOSE_WAIT))
        return "RST ->: unread data discarded, connection aborted";
    switch (info.tcpi_state) {
    case TCP_ESTABLISHED:
        return "FIN ->: this side is done sending";
    case TCP_CLOSE_WAIT:
        return "FIN ->: the peer already sent its FIN, now both are closed";
    case TCP_FIN_WAIT1:
    case TCP_FIN_WAIT2:
    case TCP_LAST_ACK:
    case TCP_CLOSING:
        return "nothing new: shutdown() already sent the FIN";
    case TCP_TIME_WAIT:
        return "nothing on the wire: both FINs already exchanged (TIME_WAIT)";
    case TCP_LISTEN:
        return "nothing on the wire: stops listening";
    default:
        return "nothing on the wire: no connection left to end";
    }
}

int sock_close(int fd)
{
    const char *note = trace.on ? close_note(fd) : NULL;
    int rc = close(fd);

    if (trace.on) {
        int saved = errno;
        char args[16];

        snprintf(args, sizeof args, "%d", fd);
        emit("close", fd, args, rc, saved, note);
        errno = saved;
    }
    return rc;
}
