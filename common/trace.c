/* trace.c - the trace (-vv, --trace): one line per socket call, with what it put on the wire. */
#define _GNU_SOURCE /* struct tcp_info (Linux) */
#include "trace.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>

#include "addr.h"
#include "datagram.h"
#include "err.h"
#include "json.h"
#include "sock.h"

static struct {
    bool on, json, with_time;
    struct timespec start;
} trace;

void net_trace_init(bool on, bool json, bool with_time)
{
    trace.on = on;
    trace.json = json;
    trace.with_time = with_time;
    clock_gettime(CLOCK_MONOTONIC, &trace.start);
}

bool net_trace_on(void)
{
    return trace.on;
}

static const char *family_name(int family)
{
    return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_?";
}

static bool is_stream(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;

    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
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

static double elapsed_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - trace.start.tv_sec) * 1e3 +
           (double)(now.tv_nsec - trace.start.tv_nsec) / 1e6;
}

/* One datagram of a batch call, as a line under the call's. */
#define UNDER_LEN (NET_ADDRSTRLEN + 64)

static void emit_json(const char *call, int fd, const char *args, long result, int saved_errno,
                      const char *wire, double ms, const char (*under)[UNDER_LEN], unsigned nunder)
{
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
    if (nunder > 0) {
        net_json_array(&j, "datagrams");
        for (unsigned i = 0; i < nunder; i++)
            net_json_item(&j, under[i]);
        net_json_array_close(&j);
    }
    net_json_end(&j, stderr);
}

/* A line under the call it belongs to (one datagram of a batch, a TLS message), starting
 * where the notes on the wire start. */
static void emit_under(const char *wire)
{
    if (trace.with_time)
        fprintf(stderr, "[%9.3f] %40s%s\n", elapsed_ms(), "", wire);
    else
        fprintf(stderr, "%40s%s\n", "", wire);
}

/* Write one trace line, call(args) = result, then the note on what reached the wire, and the
 * nunder lines under it (a batch call's datagrams; in JSON, an array "datagrams"); a call
 * that moved one datagram says it in one line. errno is left as the call left it. */
static void emit_batch(const char *call, int fd, const char *args, long result, int saved_errno,
                       const char *wire, const char (*under)[UNDER_LEN], unsigned nunder)
{
    double ms = trace.with_time ? elapsed_ms() : 0;
    char head[256];
    int n;

    if (result == 1 && nunder == 1) {
        wire = under[0];
        nunder = 0;
    }
    if (trace.json) {
        emit_json(call, fd, args, result, saved_errno, wire, ms, under, nunder);
        errno = saved_errno;
        return;
    }
    if (result < 0)
        n = snprintf(head, sizeof head, "%s(%s) = -1 %s", call, args, net_err_name(saved_errno));
    else
        n = snprintf(head, sizeof head, "%s(%s) = %ld", call, args, result);
    if (trace.with_time)
        fprintf(stderr, "[%9.3f] %s%*s%s\n", ms, head, n < 40 ? 40 - n : 2, "", wire);
    else
        fprintf(stderr, "%s%*s%s\n", head, n < 40 ? 40 - n : 2, "", wire);
    for (unsigned i = 0; i < nunder; i++)
        emit_under(under[i]);
    errno = saved_errno;
}

static void emit(const char *call, int fd, const char *args, long result, int saved_errno,
                 const char *wire)
{
    emit_batch(call, fd, args, result, saved_errno, wire, NULL, 0);
}

void trace_socket(int family, int type, int fd)
{
    int saved = errno;
    char args[64];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%s, %s", family_name(family),
             type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM");
    emit("socket", -1, args, fd, saved,
         type == SOCK_STREAM ? "a TCP endpoint; nothing on the wire yet"
                             : "a UDP endpoint; nothing on the wire yet");
}

void trace_bind(int fd, const struct sockaddr *addr, socklen_t len, int rc)
{
    int saved = errno;
    char args[NET_ADDRSTRLEN + 16], where[NET_ADDRSTRLEN];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d, %s", fd, net_addr_format(addr, len, where, sizeof where));
    emit("bind", fd, args, rc, saved,
         rc == 0 ? "claims the address; nothing on the wire" : "address refused");
}

void trace_getsockname(int fd, const struct sockaddr *addr, socklen_t len, int rc)
{
    int saved = errno;
    char args[16], wire[NET_ADDRSTRLEN + 32], where[NET_ADDRSTRLEN];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d", fd);
    if (rc == 0)
        snprintf(wire, sizeof wire, "bound to %s; nothing on the wire",
                 net_addr_format(addr, len, where, sizeof where));
    emit("getsockname", fd, args, rc, saved, rc == 0 ? wire : "no address");
}

void trace_listen(int fd, int backlog, int rc)
{
    int saved = errno;
    char args[32];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d, %d", fd, backlog);
    emit("listen", fd, args, rc, saved, "the kernel now answers SYNs; nothing on the wire");
}

void trace_accept(int fd, const struct sockaddr *peer, socklen_t len, int rc)
{
    int saved = errno;
    char args[NET_ADDRSTRLEN + 16], from[NET_ADDRSTRLEN];

    if (!trace.on)
        return;
    if (rc >= 0)
        snprintf(args, sizeof args, "%d, %s", fd, net_addr_format(peer, len, from, sizeof from));
    else
        snprintf(args, sizeof args, "%d", fd);
    emit("accept", fd, args, rc, saved,
         rc >= 0 ? "a connection the kernel already completed" : "no connection taken");
}

void trace_connect(int fd, const struct sockaddr *addr, socklen_t len, int rc)
{
    int saved = errno;
    char args[NET_ADDRSTRLEN + 16], where[NET_ADDRSTRLEN];
    const char *wire;

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d, %s", fd, net_addr_format(addr, len, where, sizeof where));
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
}

/* Why a send put nothing on the wire. */
static const char *send_failure(bool stream, int saved, size_t len)
{
    if (!stream && saved == EMSGSIZE && len > NET_DATAGRAM_MAX_V4)
        return "nothing sent: too big for one datagram";
    if (!stream && saved == EMSGSIZE)
        return "nothing sent: larger than the path MTU";
    if (!stream && saved == ECONNREFUSED)
        return "nothing sent: an earlier ICMP port unreachable";
    return "nothing sent";
}

void trace_send(int fd, size_t len, ssize_t n)
{
    int saved = errno;
    char args[48], wire[96];
    bool stream;

    if (!trace.on)
        return;
    stream = is_stream(fd);
    snprintf(args, sizeof args, "%d, %zu %s", fd, len, bytes((long long)len));
    if (n < 0)
        snprintf(wire, sizeof wire, "%s", send_failure(stream, saved, len));
    else if (stream)
        snprintf(wire, sizeof wire, "%zd %s into the stream ->", n, bytes(n));
    else
        snprintf(wire, sizeof wire, "1 datagram of %zd %s ->", n, bytes(n));
    emit("send", fd, args, n, saved, wire);
}

void trace_recv(int fd, size_t len, ssize_t n)
{
    int saved = errno;
    char args[32], wire[96];
    bool stream;

    if (!trace.on || nothing_happened(n, saved))
        return;
    stream = is_stream(fd);
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
        snprintf(wire, sizeof wire, "<- %zd %s (may be fewer or more than one send)", n, bytes(n));
    else
        snprintf(wire, sizeof wire, "<- 1 datagram of %zd %s", n, bytes(n));
    emit("recv", fd, args, n, saved, wire);
}

void trace_sendmsg(int fd, size_t len, const struct sockaddr *to, socklen_t tolen, ssize_t n)
{
    int saved = errno;
    char args[NET_ADDRSTRLEN + 48], where[NET_ADDRSTRLEN], wire[96];

    if (!trace.on)
        return;
    if (to != NULL)
        snprintf(args, sizeof args, "%d, %zu %s, %s", fd, len, bytes((long long)len),
                 net_addr_format(to, tolen, where, sizeof where));
    else
        snprintf(args, sizeof args, "%d, %zu %s", fd, len, bytes((long long)len));
    if (n < 0)
        snprintf(wire, sizeof wire, "%s", send_failure(false, saved, len));
    else
        snprintf(wire, sizeof wire, "1 datagram of %zd %s ->", n, bytes(n));
    emit("sendmsg", fd, args, n, saved, wire);
}

void trace_recvmsg(int fd, size_t len, const struct sockaddr *from, socklen_t fromlen,
                   bool truncated, ssize_t n)
{
    int saved = errno;
    char args[32], wire[NET_ADDRSTRLEN + 96], peer[NET_ADDRSTRLEN];

    if (!trace.on || nothing_happened(n, saved))
        return;
    snprintf(args, sizeof args, "%d, %zu", fd, len);
    if (n >= 0)
        net_addr_format(from, fromlen, peer, sizeof peer);
    if (n < 0 && saved == ECONNREFUSED)
        snprintf(wire, sizeof wire, "%s", "<- ICMP port unreachable: no server on that port");
    else if (n < 0)
        snprintf(wire, sizeof wire, "%s", "nothing received");
    else if (truncated)
        snprintf(wire, sizeof wire, "<- 1 datagram from %s, cut to %zd %s", peer, n, bytes(n));
    else
        snprintf(wire, sizeof wire, "<- 1 datagram from %s", peer);
    emit("recvmsg", fd, args, n, saved, wire);
}

/* "1 datagram", "3 datagrams". */
static const char *datagrams(long long n)
{
    return n == 1 ? "datagram" : "datagrams";
}

void trace_recvmmsg(int fd, unsigned n, size_t room, const struct sock_dgram *d, int got)
{
    int saved = errno;
    char args[48], wire[96], under[SOCK_BATCH_MAX][UNDER_LEN], peer[NET_ADDRSTRLEN];

    if (!trace.on || nothing_happened(got, saved))
        return;
    snprintf(args, sizeof args, "%d, %u x %zu", fd, n, room);
    if (got < 0 && saved == ECONNREFUSED)
        snprintf(wire, sizeof wire, "%s", "<- ICMP port unreachable: no server on that port");
    else if (got < 0)
        snprintf(wire, sizeof wire, "%s", "nothing received");
    else
        snprintf(wire, sizeof wire, "<- %d %s in one call", got, datagrams(got));
    for (int i = 0; i < got && i < SOCK_BATCH_MAX; i++) {
        net_addr_format((const struct sockaddr *)&d[i].peer, d[i].peerlen, peer, sizeof peer);
        if (d[i].truncated)
            snprintf(under[i], UNDER_LEN, "<- 1 datagram from %s, cut to %zu %s", peer, d[i].len,
                     bytes((long long)d[i].len));
        else
            snprintf(under[i], UNDER_LEN, "<- 1 datagram of %zu %s from %s", d[i].len,
                     bytes((long long)d[i].len), peer);
    }
    emit_batch("recvmmsg", fd, args, got, saved, wire, (const char(*)[UNDER_LEN])under,
               got > 0 ? (unsigned)got : 0);
}

void trace_sendmmsg(int fd, const struct sock_dgram *d, unsigned n, int sent)
{
    int saved = errno;
    char args[48], wire[96], under[SOCK_BATCH_MAX][UNDER_LEN], peer[NET_ADDRSTRLEN];
    /* sent, or when none could go, the one that could not */
    unsigned lines = sent > 0 ? (unsigned)sent : 1;

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d, %u %s", fd, n, datagrams(n));
    if (sent < 0)
        snprintf(wire, sizeof wire, "%s", send_failure(false, saved, d[0].len));
    else if ((unsigned)sent == n)
        snprintf(wire, sizeof wire, "%d %s in one call ->", sent, datagrams(sent));
    else
        snprintf(wire, sizeof wire, "%d %s in one call ->; the next could not go", sent,
                 datagrams(sent));
    for (unsigned i = 0; i < lines && i < SOCK_BATCH_MAX; i++) {
        net_addr_format((const struct sockaddr *)&d[i].peer, d[i].peerlen, peer, sizeof peer);
        snprintf(under[i], UNDER_LEN, "1 datagram of %zu %s to %s %s", d[i].len,
                 bytes((long long)d[i].len), peer, sent < 0 ? "not sent" : "->");
    }
    emit_batch("sendmmsg", fd, args, sent, saved, wire, (const char(*)[UNDER_LEN])under,
               lines < SOCK_BATCH_MAX ? lines : SOCK_BATCH_MAX);
}

void trace_tls(int fd, bool sent, const char *what)
{
    int saved = errno;
    char wire[192];

    if (!trace.on)
        return;
    snprintf(wire, sizeof wire, sent ? "%s ->" : "<- %s", what);
    if (trace.json) {
        struct net_json j;

        net_json_begin(&j);
        if (trace.with_time)
            net_json_num(&j, "time_ms", elapsed_ms(), 3);
        net_json_str(&j, "call", "tls");
        net_json_int(&j, "fd", fd);
        net_json_str(&j, "wire", wire);
        net_json_end(&j, stderr);
    } else {
        emit_under(wire);
    }
    errno = saved;
}

void trace_shutdown(int fd, int how, int rc)
{
    int saved = errno;
    char args[32];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d, %s", fd,
             how == SHUT_WR   ? "SHUT_WR"
             : how == SHUT_RD ? "SHUT_RD"
                              : "SHUT_RDWR");
    emit("shutdown", fd, args, rc, saved,
         how == SHUT_RD ? "nothing on the wire: only stops this side reading"
                        : "FIN ->: no more from this side (half-close)");
}

void trace_nonblocking(int fd, int rc)
{
    int saved = errno;
    char args[32];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d, F_SETFL, O_NONBLOCK", fd);
    emit("fcntl", fd, args, rc, saved,
         "calls that would wait now fail with EAGAIN instead; nothing on the wire");
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
        {SOL_SOCKET, SO_OOBINLINE, "SOL_SOCKET, SO_OOBINLINE"},
        {SOL_SOCKET, SO_LINGER, "SOL_SOCKET, SO_LINGER"},
        {SOL_SOCKET, SO_RCVTIMEO, "SOL_SOCKET, SO_RCVTIMEO"},
        {SOL_SOCKET, SO_SNDTIMEO, "SOL_SOCKET, SO_SNDTIMEO"},
        {IPPROTO_TCP, TCP_NODELAY, "IPPROTO_TCP, TCP_NODELAY"},
        {IPPROTO_TCP, TCP_KEEPIDLE, "IPPROTO_TCP, TCP_KEEPIDLE"},
        {IPPROTO_TCP, TCP_KEEPINTVL, "IPPROTO_TCP, TCP_KEEPINTVL"},
        {IPPROTO_TCP, TCP_KEEPCNT, "IPPROTO_TCP, TCP_KEEPCNT"},
        {IPPROTO_TCP, TCP_CONGESTION, "IPPROTO_TCP, TCP_CONGESTION"},
        {IPPROTO_IP, IP_TTL, "IPPROTO_IP, IP_TTL"},
        {IPPROTO_IP, IP_TOS, "IPPROTO_IP, IP_TOS"},
        {IPPROTO_IP, IP_MTU_DISCOVER, "IPPROTO_IP, IP_MTU_DISCOVER"},
        {IPPROTO_IP, IP_PKTINFO, "IPPROTO_IP, IP_PKTINFO"},
        {IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPPROTO_IPV6, IPV6_UNICAST_HOPS"},
        {IPPROTO_IPV6, IPV6_TCLASS, "IPPROTO_IPV6, IPV6_TCLASS"},
        {IPPROTO_IPV6, IPV6_MTU_DISCOVER, "IPPROTO_IPV6, IPV6_MTU_DISCOVER"},
        {IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPPROTO_IPV6, IPV6_RECVPKTINFO"},
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].level == level && names[i].name == name)
            return names[i].text;
    return "?, ?";
}

void trace_setopt(int fd, int level, int name, const char *value, int rc, const char *note)
{
    int saved = errno;
    char args[96];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d, %s%s%s", fd, option_name(level, name), value ? ", " : "",
             value ? value : "");
    emit("setsockopt", fd, args, rc, saved, rc == 0 ? note : "refused");
}

void trace_setopt_granted(int fd, int level, int name, int value, int granted, int rc,
                          const char *note)
{
    int saved = errno;
    char args[96], wire[320];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d, %s, %d", fd, option_name(level, name), value);
    snprintf(wire, sizeof wire, "the kernel grants %d: %s", rc == 0 ? granted : 0, note);
    emit("setsockopt", fd, args, rc, saved, rc == 0 ? wire : "refused");
}

/* What close() will put on the wire, from the state of a TCP connection just before it. */
static const char *tcp_close_note(int fd)
{
    struct tcp_info info;
    struct linger lg;
    socklen_t len = sizeof info, lglen = sizeof lg;
    int unread = 0;
    bool open;

    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
        return "the descriptor is released";
    open = info.tcpi_state == TCP_ESTABLISHED || info.tcpi_state == TCP_CLOSE_WAIT;
    /* SO_LINGER on with a zero timeout: close() aborts instead of ending the connection */
    if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &lglen) == 0 && lg.l_onoff && lg.l_linger == 0 &&
        open)
        return "RST ->: SO_LINGER 0 aborts the connection, no FIN";
    /* closing with unread data makes TCP abort with RST instead of FIN */
    if (ioctl(fd, FIONREAD, &unread) == 0 && unread > 0 && open)
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

const char *trace_close_note(int fd)
{
    if (!trace.on)
        return NULL;
    if (!is_stream(fd))
        return "nothing on the wire: UDP has no connection to end";
    return tcp_close_note(fd);
}

void trace_close(int fd, int rc, const char *note)
{
    int saved = errno;
    char args[16];

    if (!trace.on)
        return;
    snprintf(args, sizeof args, "%d", fd);
    emit("close", fd, args, rc, saved, note);
}
