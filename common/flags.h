/* flags.h - every flag both programs take, and what each one sets (for opt.c). */
#ifndef SOCKLAB_FLAGS_H
#define SOCKLAB_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "opt.h"

/* Which role takes a flag. */
/* Who takes a flag: SERVER flags are the relay's too, RELAY ones are its alone. */
enum scope { BOTH, SERVER, CLIENT, RELAY };

enum flag_id {
    /* where to talk, what to print */
    F_PORT,
    F_BIND,
    F_V4,
    F_V6,
    F_VERBOSE,
    F_TRACE,
    F_TRACE_TIME,
    F_JSON,
    F_QUIET,
    F_HELP,
    F_VERSION,
    /* socket options for every socket */
    F_RCVBUF,
    F_SNDBUF,
    F_TTL,
    F_TOS,
    F_DONTFRAG,
    F_REUSEADDR,
    F_REUSEPORT,
    /* what a TCP connection keeps for its own end */
    F_NODELAY,
    F_NAGLE,
    F_LINGER,
    F_KEEPALIVE,
    F_KEEPALIVE_INTERVAL,
    F_KEEPALIVE_COUNT,
    F_CONGESTION,
    /* server */
    F_MODEL,
    F_ONCE,
    F_GREETING,
    F_REPLY,
    F_DISCARD,
    F_RECV_SIZE,
    F_MAX_CLIENTS,
    F_IDLE_TIMEOUT,
    F_MIN_BYTES,
    F_RATE_LIMIT,
    F_LOOP_LIMIT,
    F_ALLOW,
    F_TO,
    /* client */
    F_MESSAGE,
    F_COUNT,
    F_SIZE,
    F_INTERVAL,
    F_TIMEOUT,
    F_PARALLEL,
    F_TIME,
    F_CSV,
    F_SWEEP,
    F_STREAM,
    F_RATE,
    F_EVERY,
    F_ONE_WAY,
    F_CONNECT_EACH,
    F_RESUME,
    /* TLS (tcp-echo) and DTLS (udp-echo) */
    F_TLS,
    F_CERT,
    F_KEY,
    F_CLIENT_CA,
    F_CA,
    F_FINGERPRINT,
    F_INSECURE,
    F_CLIENT_CERT,
    F_CLIENT_KEY,
};

/* Read one flag's argument (NULL for a flag that takes none) into opt: one function for each
 * group of flags. name is the flag as typed, for error messages. */
typedef int set_fn(enum flag_id id, const char *name, const char *arg, struct net_options *opt,
                   struct net_error *err);
/* Every flag: how it is typed, which role takes it, the function that reads it, and for a
 * protocol that has no use for it, the note that says why. That protocol still checks the
 * value, so a bad one is the same error in both programs, then drops it. */
struct flag {
    char shortname;
    const char *longname;
    bool has_arg;
    enum scope scope;
    enum flag_id id;
    set_fn *set;
    const char *udp_ignores; /* why UDP has no use for the flag, or NULL */
    const char *tcp_ignores; /* why TCP has no use for it, or NULL */
};

/* The flag typed as --name (len bytes of it), or as -c; NULL when there is none. */
const struct flag *net_flag_long(const char *name, size_t len);
const struct flag *net_flag_short(char c);
/* Apply one flag, typed as name, with its argument (NULL for a flag that takes none). */
int net_flag_apply(const struct flag *f, const char *name, const char *arg, struct net_options *opt,
                   struct net_error *err);

#endif
