/* err.h - one error contract for socklab: library code fills a net_error, main prints it. */
#ifndef SOCKLAB_ERR_H
#define SOCKLAB_ERR_H

#include <stddef.h>

/* Where an error code comes from: errno values and resolver codes never mix. */
enum net_err_kind {
    NET_ERR_NONE = 0,
    NET_ERR_ERRNO,    /* code is an errno value (ECONNREFUSED ...) */
    NET_ERR_RESOLVER, /* code is a getaddrinfo() EAI_* value */
    NET_ERR_TIMEOUT,  /* nothing came back in time; code is unused */
    NET_ERR_PROTOCOL, /* the peer broke the echo contract; detail says how */
    NET_ERR_USAGE,    /* bad command line; detail says what */
    NET_ERR_OUTPUT,   /* our own output could not be written; detail says how */
};

/* What was tried, and why it failed. */
struct net_error {
    enum net_err_kind kind;
    int code;
    char what[192];   /* "cannot listen on 127.0.0.1:7007" */
    char detail[192]; /* for TIMEOUT, PROTOCOL and USAGE: the reason in words */
    const char *hint; /* advice that says more than the errno's usual one, or NULL */
};

/* Record an errno failure of the action named by fmt; returns -1 for tail calls. */
int net_err_errno(struct net_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Record a getaddrinfo() failure; returns -1. */
int net_err_resolver(struct net_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Record a failure described in words (kind TIMEOUT, PROTOCOL or USAGE); returns -1. */
int net_err_words(struct net_error *err, enum net_err_kind kind, const char *detail,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Symbolic name of an errno value ("EADDRINUSE"), or "E?" when unknown. */
const char *net_err_name(int code);

/* Advice a beginner can act on for this error, or NULL when there is none to give. */
const char *net_err_hint(const struct net_error *err);

/* Format "what: reason (ENAME; hint)" into buf; returns buf. */
char *net_err_format(const struct net_error *err, char *buf, size_t size);

#endif
