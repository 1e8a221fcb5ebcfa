/* sock.c - the socket calls both programs make: one call each, then one trace line. */
#define _GNU_SOURCE /* struct in6_pktinfo, IP_MTU (Linux) */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "trace.h"

int sock_socket(int family, int type)
{
    int fd = socket(family, type, 0);

    trace_socket(family, type, fd);
    return fd;
}

int sock_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    int rc = bind(fd, addr, len);

    trace_bind(fd, addr, len, rc);
    return rc;
}

int sock_getsockname(int fd, struct sockaddr_storage *addr, socklen_t *len)
{
    int rc = getsockname(fd, (struct sockaddr *)addr, len);

    trace_getsockname(fd, (struct sockaddr *)addr, *len, rc);
    return rc;
}

int sock_listen(int fd, int backlog)
{
    int rc = listen(fd, backlog);

    trace_listen(fd, backlog, rc);
    return rc;
}

int sock_accept(int fd, struct sockaddr_storage *peer, socklen_t *len)
{
    int rc = accept(fd, (struct sockaddr *)peer, len);

    trace_accept(fd, (struct sockaddr *)peer, *len, rc);
    return rc;
}

int sock_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int rc = connect(fd, addr, len);

    trace_connect(fd, addr, len, rc);
    return rc;
}

int sock_pending_error(int fd)
{
    int code = 0;
    socklen_t len = sizeof code;

    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &len) < 0 ? errno : code;
}

ssize_t sock_send(int fd, const void *buf, size_t len)
{
    /* MSG_NOSIGNAL: a peer that has gone away gives EPIPE, not a fatal SIGPIPE */
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

    trace_send(fd, len, n);
    return n;
}

ssize_t sock_recv(int fd, void *buf, size_t len)
{
    ssize_t n = recv(fd, buf, len, 0);

    trace_recv(fd, len, n);
    return n;
}

/* Control data that names the local address a datagram goes from or came to (IP_PKTINFO),
 * aligned as a control message header must be (by _Alignas: struct cmsghdr ends in a
 * flexible array, so a member of that type would keep the batch calls from holding an array
 * of these). */
union pktinfo_buf {
    _Alignas(struct cmsghdr) char v4[CMSG_SPACE(sizeof(struct in_pktinfo))];
    _Alignas(struct cmsghdr) char v6[CMSG_SPACE(sizeof(struct in6_pktinfo))];
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

/* What IP_PKTINFO / IPV6_RECVPKTINFO changes. */
#define LOCAL_NOTE "each datagram now says which local address it came to; nothing on the wire"

/* setsockopt() of an on/off option to on, traced with what it changes. */
static int switch_on(int fd, int level, int name, const char *note)
{
    int one = 1;
    int rc = setsockopt(fd, level, name, &one, sizeof one);

    trace_setopt(fd, level, name, "1", rc, note);
    return rc;
}

int sock_want_local(int fd, int family)
{
    if (family == AF_INET6)
        return switch_on(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, LOCAL_NOTE);
    return switch_on(fd, IPPROTO_IP, IP_PKTINFO, LOCAL_NOTE);
}

ssize_t sock_sendmsg(int fd, const void *buf, size_t len, const struct sockaddr *to,
                     socklen_t tolen, const struct sock_local *from)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {
        .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1};
    union pktinfo_buf cbuf;
    ssize_t n;

    if (from != NULL && from->family != 0)
        put_local(&msg, &cbuf, from);
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    trace_sendmsg(fd, len, to, tolen, n);
    return n;
}

ssize_t sock_recvmsg(int fd, void *buf, size_t len, struct sockaddr_storage *from,
                     socklen_t *fromlen, bool *truncated, struct sock_local *to)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {
        .msg_name = from, .msg_namelen = *fromlen, .msg_iov = &iov, .msg_iovlen = 1};
    union pktinfo_buf cbuf;
    ssize_t n;

    if (to != NULL) {
        msg.msg_control = &cbuf;
        msg.msg_controllen = sizeof cbuf;
    }
    n = recvmsg(fd, &msg, 0);
    *fromlen = msg.msg_namelen;
    /* only msg_flags can tell that a datagram was cut to fit */
    *truncated = n >= 0 && (msg.msg_flags & MSG_TRUNC);
    if (to != NULL && n >= 0)
        get_local(&msg, to);
    trace_recvmsg(fd, len, (struct sockaddr *)from, *fromlen, *truncated, n);
    return n;
}

int sock_recvmmsg(int fd, struct sock_dgram *d, unsigned n, size_t room, bool want_local)
{
    struct mmsghdr msgs[SOCK_BATCH_MAX];
    struct iovec iov[SOCK_BATCH_MAX];
    union pktinfo_buf cbuf[SOCK_BATCH_MAX];
    int got;

    if (n > SOCK_BATCH_MAX)
        n = SOCK_BATCH_MAX;
    for (unsigned i = 0; i < n; i++) {
        iov[i] = (struct iovec){.iov_base = d[i].buf, .iov_len = room};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = &d[i].peer,
                                          .msg_namelen = sizeof d[i].peer,
                                          .msg_iov = &iov[i],
                                          .msg_iovlen = 1};
        if (want_local) {
            msgs[i].msg_hdr.msg_control = &cbuf[i];
            msgs[i].msg_hdr.msg_controllen = sizeof cbuf[i];
        }
    }
    got = recvmmsg(fd, msgs, n, MSG_WAITFORONE, NULL);
    for (int i = 0; i < got; i++) {
        d[i].len = msgs[i].msg_len;
        d[i].peerlen = msgs[i].msg_hdr.msg_namelen;
        /* only msg_flags can tell that a datagram was cut to fit */
        d[i].truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        d[i].local.family = 0;
        if (want_local)
            get_local(&msgs[i].msg_hdr, &d[i].local);
    }
    trace_recvmmsg(fd, n, room, d, got);
    return got;
}

int sock_sendmmsg(int fd, const struct sock_dgram *d, unsigned n)
{
    struct mmsghdr msgs[SOCK_BATCH_MAX];
    struct iovec iov[SOCK_BATCH_MAX];
    union pktinfo_buf cbuf[SOCK_BATCH_MAX];
    int sent;

    if (n > SOCK_BATCH_MAX)
        n = SOCK_BATCH_MAX;
    for (unsigned i = 0; i < n; i++) {
        iov[i] = (struct iovec){.iov_base = d[i].buf, .iov_len = d[i].len};
        msgs[i].msg_hdr = (struct msghdr){.msg_name = (void *)&d[i].peer,
                                          .msg_namelen = d[i].peerlen,
                                          .msg_iov = &iov[i],
                                          .msg_iovlen = 1};
        if (d[i].local.family != 0)
            put_local(&msgs[i].msg_hdr, &cbuf[i], &d[i].local);
    }
    sent = sendmmsg(fd, msgs, n, MSG_NOSIGNAL);
    trace_sendmmsg(fd, d, n, sent);
    return sent;
}

int sock_shutdown(int fd, int how)
{
    int rc = shutdown(fd, how);

    trace_shutdown(fd, how, rc);
    return rc;
}

int sock_nonblocking(int fd)
{
    /* F_GETFL only reads the flags: the call that changes something is the one traced */
    int flags = fcntl(fd, F_GETFL);
    int rc = flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);

    trace_nonblocking(fd, rc);
    return rc;
}

int sock_nodelay(int fd)
{
    return switch_on(fd, IPPROTO_TCP, TCP_NODELAY,
                     "Nagle off: a small write goes out at once, not after the last ACK");
}

int sock_oobinline(int fd)
{
    return switch_on(fd, SOL_SOCKET, SO_OOBINLINE,
                     "an urgent byte (MSG_OOB) is read in its place in the stream");
}

/* SO_RCVTIMEO or SO_SNDTIMEO: how long a blocking call may wait, in ms. */
static int call_timeout(int fd, int name, int ms, const char *note)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    char value[32];
    int rc = setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv);

    snprintf(value, sizeof value, "%d ms", ms);
    trace_setopt(fd, SOL_SOCKET, name, value, rc, note);
    return rc;
}

int sock_recv_timeout(int fd, int ms)
{
    return call_timeout(fd, SO_RCVTIMEO, ms,
                        "a receive waits at most this long, then fails with EAGAIN");
}

int sock_send_timeout(int fd, int ms)
{
    return call_timeout(fd, SO_SNDTIMEO, ms,
                        "a send waits at most this long for room, then returns what it took "
                        "(EAGAIN if nothing)");
}

int sock_setopt(int fd, int level, int name, int value, int *granted, const char *note)
{
    socklen_t len = sizeof *granted;
    int rc = setsockopt(fd, level, name, &value, sizeof value);

    /* what the kernel really holds: it doubles buffer sizes and clamps them to its limits */
    if (rc == 0)
        rc = getsockopt(fd, level, name, granted, &len);
    trace_setopt_granted(fd, level, name, value, rc == 0 ? *granted : 0, rc, note);
    return rc;
}

int sock_setopt_name(int fd, int level, int name, const char *value, const char *note)
{
    int rc = setsockopt(fd, level, name, value, (socklen_t)strlen(value));

    trace_setopt(fd, level, name, value, rc, note);
    return rc;
}

int sock_linger(int fd, int seconds)
{
    struct linger lg = {.l_onoff = 1, .l_linger = seconds};
    char value[32];
    int rc = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);

    snprintf(value, sizeof value, "{on, %d s}", seconds);
    trace_setopt(fd, SOL_SOCKET, SO_LINGER, value, rc,
                 seconds == 0 ? "close() will abort: RST instead of FIN, unsent data discarded"
                              : "close() waits until the data is acknowledged (or the time is "
                                "up)");
    return rc;
}

int sock_close(int fd)
{
    const char *note = trace_close_note(fd);
    int rc = close(fd);

    trace_close(fd, rc, note);
    return rc;
}

int sock_path_mtu(int fd, bool *v6)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int mtu = 0;
    socklen_t mlen = sizeof mtu;

    *v6 = false;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    *v6 = ss.ss_family == AF_INET6;
    if (getsockopt(fd, *v6 ? IPPROTO_IPV6 : IPPROTO_IP, *v6 ? IPV6_MTU : IP_MTU, &mtu, &mlen) < 0)
        return 0;
    return mtu;
}
