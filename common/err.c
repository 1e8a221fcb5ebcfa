/* err.c - symbolic errno names and messages a beginner can act on. */
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "datagram.h"

static void set_what(struct net_error *err, const char *fmt, va_list ap)
{
    vsnprintf(err->what, sizeof err->what, fmt, ap);
    err->detail[0] = '\0';
    err->hint = NULL;
}

int net_err_errno(struct net_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_what(err, fmt, ap);
    va_end(ap);
    err->kind = NET_ERR_ERRNO;
    err->code = code;
    return -1;
}

int net_err_resolver(struct net_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_what(err, fmt, ap);
    va_end(ap);
    /* EAI_SYSTEM means the real cause is in errno */
    if (code == EAI_SYSTEM) {
        err->kind = NET_ERR_ERRNO;
        err->code = errno;
    } else {
        err->kind = NET_ERR_RESOLVER;
        err->code = code;
    }
    return -1;
}

int net_err_words(struct net_error *err, enum net_err_kind kind, const char *detail,
                  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_what(err, fmt, ap);
    va_end(ap);
    err->kind = kind;
    err->code = 0;
    snprintf(err->detail, sizeof err->detail, "%s", detail);
    return -1;
}

#define NAME(e)                                                                                    \
    case e:                                                                                        \
        return #e

const char *net_err_name(int code)
{
    switch (code) {
        NAME(EACCES);
        NAME(EADDRINUSE);
        NAME(EADDRNOTAVAIL);
        NAME(EAFNOSUPPORT);
        NAME(EAGAIN);
        NAME(EALREADY);
        NAME(EBADF);
        NAME(ECONNABORTED);
        NAME(ECONNREFUSED);
        NAME(ECONNRESET);
        NAME(EDESTADDRREQ);
        NAME(EFAULT);
        NAME(EHOSTUNREACH);
        NAME(EINPROGRESS);
        NAME(EINTR);
        NAME(EINVAL);
        NAME(EIO);
        NAME(EISCONN);
        NAME(EMFILE);
        NAME(EMSGSIZE);
        NAME(ENETDOWN);
        NAME(ENETUNREACH);
        NAME(ENFILE);
        NAME(ENOBUFS);
        NAME(ENOENT);
        NAME(ENOMEM);
        NAME(ENOSPC);
        NAME(ENOSYS);
        NAME(ENOTCONN);
        NAME(ENOTSOCK);
        NAME(EOPNOTSUPP);
        NAME(EPERM);
        NAME(EPIPE);
        NAME(EPROTONOSUPPORT);
        NAME(EPROTOTYPE);
        NAME(EROFS);
        NAME(ETIMEDOUT);
    default:
        return "E?";
    }
}

#undef NAME

/* Advice for the errno values a beginner meets first. */
static const char *errno_hint(int code)
{
    switch (code) {
    case EADDRINUSE:
        return "is another server running? try -p 0";
    case EADDRNOTAVAIL:
        return "that address does not belong to this machine; try -b 127.0.0.1";
    case EACCES:
        return "ports below 1024 need root; try a port above 1023";
    case ECONNREFUSED:
        return "is the server running, and on this port?";
    case ECONNRESET:
        return "the peer closed the connection abruptly";
    case ETIMEDOUT:
        return "no answer from the host; is it reachable?";
    case ENETUNREACH:
    case EHOSTUNREACH:
        return "no route to that address from here";
    case EMSGSIZE:
        return "too big for one datagram: " NET_DATAGRAM_MAX_V4_TEXT
               " bytes over IPv4, " NET_DATAGRAM_MAX_V6_TEXT " over IPv6";
    case EAFNOSUPPORT:
        return "this machine has no support for that address family";
    case EMFILE:
    case ENFILE:
        return "raise the limit with ulimit -n";
    case ENOSPC:
        return "the disk is full";
    default:
        return NULL;
    }
}

const char *net_err_hint(const struct net_error *err)
{
    if (err->hint != NULL)
        return err->hint;
    switch (err->kind) {
    case NET_ERR_ERRNO:
        return errno_hint(err->code);
    case NET_ERR_RESOLVER:
        if (err->code == EAI_NONAME)
            return "check the spelling, or use an address such as 127.0.0.1";
        if (err->code == EAI_SERVICE)
            return "give the port as a number from 1 to 65535";
        return NULL;
    default:
        return NULL;
    }
}

/* The reason in lower case, as it reads after a colon. */
static void reason(const struct net_error *err, char *buf, size_t size)
{
    switch (err->kind) {
    case NET_ERR_ERRNO:
        if (strerror_r(err->code, buf, size) != 0)
            snprintf(buf, size, "error %d", err->code);
        break;
    case NET_ERR_RESOLVER:
        snprintf(buf, size, "%s", gai_strerror(err->code));
        break;
    default:
        snprintf(buf, size, "%s", err->detail[0] ? err->detail : "failed");
        break;
    }
    buf[0] = (char)tolower((unsigned char)buf[0]);
}

/* Copy text into buf, control characters written as \n, \t, \r or \xHH, so a value
 * holding a newline cannot split the message into two lines. Cut at a whole character. */
static void escape_controls(const char *text, char *buf, size_t size)
{
    size_t len = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        char piece[8];
        int n;

        if (*p == '\n')
            n = snprintf(piece, sizeof piece, "\\n");
        else if (*p == '\t')
            n = snprintf(piece, sizeof piece, "\\t");
        else if (*p == '\r')
            n = snprintf(piece, sizeof piece, "\\r");
        else if (*p < 0x20 || *p == 0x7f)
            n = snprintf(piece, sizeof piece, "\\x%02x", *p);
        else
            n = snprintf(piece, sizeof piece, "%c", *p);
        if (len + (size_t)n >= size)
            break;
        memcpy(buf + len, piece, (size_t)n);
        len += (size_t)n;
    }
    buf[len] = '\0';
}

char *net_err_format(const struct net_error *err, char *buf, size_t size)
{
    char why[sizeof err->detail], line[sizeof err->what + sizeof why + 256];
    const char *hint = net_err_hint(err);

    if (size == 0)
        return buf;
    reason(err, why, sizeof why);
    if (err->kind == NET_ERR_ERRNO && hint)
        snprintf(line, sizeof line, "%s: %s (%s; %s)", err->what, why, net_err_name(err->code),
                 hint);
    else if (err->kind == NET_ERR_ERRNO)
        snprintf(line, sizeof line, "%s: %s (%s)", err->what, why, net_err_name(err->code));
    else if (hint)
        snprintf(line, sizeof line, "%s: %s (%s)", err->what, why, hint);
    else
        snprintf(line, sizeof line, "%s: %s", err->what, why);
    escape_controls(line, buf, size);
    return buf;
}
