/* opt.c - the shared option parser: same flags, same checks, same errors for both programs. */
#include "opt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datagram.h"
#include "probe.h"

enum scope { BOTH, SERVER, CLIENT };

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
    F_LINGER,
    F_KEEPALIVE,
    F_KEEPALIVE_INTERVAL,
    F_KEEPALIVE_COUNT,
    /* server */
    F_MODEL,
    F_ONCE,
    F_GREETING,
    F_REPLY,
    F_RECV_SIZE,
    F_MAX_CLIENTS,
    F_IDLE_TIMEOUT,
    F_MIN_BYTES,
    F_RATE_LIMIT,
    F_LOOP_LIMIT,
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
};

/* Read one flag's argument (NULL for a flag that takes none) into opt: one function for each
 * group of flags. name is the flag as typed, for error messages. */
typedef int set_fn(enum flag_id id, const char *name, const char *arg, struct net_options *opt,
                   struct net_error *err);
static set_fn set_common, set_socket, set_connection, set_server, set_client;

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

static const struct flag flags[] = {
    /* short, long, takes a value, role, id, read by, why UDP ignores it, why TCP ignores it */
    {'p', "port", true, BOTH, F_PORT, set_common, NULL, NULL},
    {'b', "bind", true, BOTH, F_BIND, set_common, NULL, NULL},
    {'4', NULL, false, BOTH, F_V4, set_common, NULL, NULL},
    {'6', NULL, false, BOTH, F_V6, set_common, NULL, NULL},
    {'v', "verbose", false, BOTH, F_VERBOSE, set_common, NULL, NULL},
    {0, "trace", false, BOTH, F_TRACE, set_common, NULL, NULL},
    {0, "trace-time", false, BOTH, F_TRACE_TIME, set_common, NULL, NULL},
    {0, "json", false, BOTH, F_JSON, set_common, NULL, NULL},
    {'q', "quiet", false, BOTH, F_QUIET, set_common, NULL, NULL},
    {'h', "help", false, BOTH, F_HELP, set_common, NULL, NULL},
    {'V', "version", false, BOTH, F_VERSION, set_common, NULL, NULL},

    {0, "rcvbuf", true, BOTH, F_RCVBUF, set_socket, NULL, NULL},
    {0, "sndbuf", true, BOTH, F_SNDBUF, set_socket, NULL, NULL},
    {0, "ttl", true, BOTH, F_TTL, set_socket, NULL, NULL},
    {0, "tos", true, BOTH, F_TOS, set_socket, NULL, NULL},
    {0, "dontfrag", false, BOTH, F_DONTFRAG, set_socket, NULL,
     "--dontfrag: TCP always sets DF and cuts its segments to the path MTU; only a UDP sender "
     "chooses"},
    {0, "reuseaddr", false, SERVER, F_REUSEADDR, set_socket, NULL,
     "--reuseaddr: tcp-echo always sets SO_REUSEADDR on its listening socket, so a restart may "
     "take a port whose old connections wait in TIME_WAIT"},
    {0, "reuseport", false, SERVER, F_REUSEPORT, set_socket, NULL, NULL},

    {0, "nodelay", false, BOTH, F_NODELAY, set_connection,
     "--nodelay: UDP has no Nagle algorithm; every sendto() is one datagram on the wire at once",
     NULL},
    {0, "linger", true, BOTH, F_LINGER, set_connection,
     "--linger: UDP has no connection to end; close() puts nothing on the wire either way", NULL},
    {0, "keepalive", true, BOTH, F_KEEPALIVE, set_connection,
     "--keepalive: UDP has no connection to probe; a peer that vanished simply sends nothing more",
     NULL},
    {0, "keepalive-interval", true, BOTH, F_KEEPALIVE_INTERVAL, set_connection,
     "--keepalive-interval: UDP has no connection to probe", NULL},
    {0, "keepalive-count", true, BOTH, F_KEEPALIVE_COUNT, set_connection,
     "--keepalive-count: UDP has no connection to probe", NULL},

    /* --model: UDP notes every model but 'iterative' (parse_model) */
    {0, "model", true, SERVER, F_MODEL, set_server, NULL, NULL},
    {0, "once", false, SERVER, F_ONCE, set_server, NULL, NULL},
    {0, "greeting", true, SERVER, F_GREETING, set_server,
     "--greeting: UDP has no connection, so the server cannot speak first", NULL},
    {0, "reply", true, SERVER, F_REPLY, set_server, NULL, NULL},
    {0, "recv-size", true, SERVER, F_RECV_SIZE, set_server, NULL, NULL},
    {0, "max-clients", true, SERVER, F_MAX_CLIENTS, set_server,
     "--max-clients: UDP has no connections to count; every datagram is answered from one socket",
     NULL},
    {0, "idle-timeout", true, SERVER, F_IDLE_TIMEOUT, set_server,
     "--idle-timeout: UDP has no connection to close when a peer falls silent", NULL},
    {0, "min-bytes", true, SERVER, F_MIN_BYTES, set_server,
     "--min-bytes: UDP has no connection to close when a peer sends too little", NULL},
    {0, "rate-limit", true, SERVER, F_RATE_LIMIT, set_server, NULL,
     "--rate-limit: a TCP client is slowed by its own window and the server's reads, not counted "
     "per message; the limit applies to udp-echo"},
    {0, "loop-limit", true, SERVER, F_LOOP_LIMIT, set_server, NULL,
     "--loop-limit: a TCP connection needs a handshake both ends chose, so no forged packet can "
     "start two servers talking; the limit applies to udp-echo"},

    {'m', "message", true, CLIENT, F_MESSAGE, set_client, NULL, NULL},
    {'c', "count", true, CLIENT, F_COUNT, set_client, NULL, NULL},
    {'s', "size", true, CLIENT, F_SIZE, set_client, NULL, NULL},
    {'i', "interval", true, CLIENT, F_INTERVAL, set_client, NULL, NULL},
    {'W', "timeout", true, CLIENT, F_TIMEOUT, set_client, NULL, NULL},
    {'P', "parallel", true, CLIENT, F_PARALLEL, set_client, NULL, NULL},
    {'t', "time", true, CLIENT, F_TIME, set_client, NULL, NULL},
    {0, "csv", true, CLIENT, F_CSV, set_client, NULL, NULL},
    {0, "sweep", true, CLIENT, F_SWEEP, set_client, NULL, NULL},
};

static const char *const model_names[] = {"iterative", "fork", "thread", "poll", "epoll"};

/* The largest buffer size asked for; the kernel caps it lower (net.core.rmem_max). */
#define MAX_SOCKBUF (1L << 30)

/* How the user typed a flag, for error messages: "-p" or "--port". */
static void flag_text(const struct flag *f, bool as_long, char *buf, size_t size)
{
    if (as_long || f->shortname == 0)
        snprintf(buf, size, "--%s", f->longname);
    else
        snprintf(buf, size, "-%c", f->shortname);
}

static int usage_error(struct net_error *err, const char *flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int usage_error(struct net_error *err, const char *flag, const char *fmt, ...)
{
    char detail[sizeof err->detail];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return net_err_words(err, NET_ERR_USAGE, detail, "%s", flag);
}

/* A whole number in [min, max]: digits only, nothing trailing, never clamped. */
static int parse_count(const char *flag, const char *text, long min, long max, long *out,
                       struct net_error *err)
{
    long value = 0;
    const char *p = text;

    if (*p == '\0')
        return usage_error(err, flag, "needs a number");
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return usage_error(err, flag, "'%s' is not a whole number from %ld to %ld", text, min,
                               max);
        if (value > (max - (*p - '0')) / 10)
            return usage_error(err, flag, "%s is too large (at most %ld)", text, max);
        value = value * 10 + (*p - '0');
    }
    if (value < min)
        return usage_error(err, flag, "%s is too small (at least %ld)", text, min);
    *out = value;
    return 0;
}

/* A whole number for a socket option: any error names the whole valid range. */
static int parse_ranged(const char *flag, const char *text, long min, long max, long *out,
                        struct net_error *err)
{
    if (parse_count(flag, text, min, max, out, err) < 0)
        return usage_error(err, flag, "'%s' is out of range (a whole number from %ld to %ld)", text,
                           min, max);
    return 0;
}

/* True when text is a plain decimal number: digits with an optional fraction ("5", "0.2",
 * ".5", "5."), no sign, no exponent, no hex. */
static bool plain_decimal(const char *text)
{
    size_t digits = strspn(text, "0123456789");
    const char *p = text + digits;

    if (*p == '.') {
        size_t fraction = strspn(p + 1, "0123456789");

        digits += fraction;
        p += 1 + fraction;
    }
    return digits > 0 && *p == '\0';
}

/* Seconds as a plain decimal number ("0.2", "5"), within [min, max]. strtod alone would also
 * take "0x10" (16 s), "1e3" and "inf". */
static int parse_seconds(const char *flag, const char *text, double min, double max, double *out,
                         struct net_error *err)
{
    double value;

    if (!plain_decimal(text))
        return usage_error(err, flag,
                           "'%s' is not a number of seconds (digits, with an optional "
                           "fraction such as 0.5)",
                           text);
    errno = 0;
    value = strtod(text, NULL);
    if (errno != 0 || !isfinite(value))
        return usage_error(err, flag, "'%s' is not a number of seconds", text);
    if (value < min || value > max)
        return usage_error(err, flag, "%s is out of range (%g to %g seconds)", text, min, max);
    *out = value;
    return 0;
}

static int parse_size(const char *flag, const char *text, long min, long max, size_t *out,
                      struct net_error *err)
{
    long value;

    if (parse_count(flag, text, min, max, &value, err) < 0)
        return -1;
    *out = (size_t)value;
    return 0;
}

/* Bytes for a buffer size, with an optional binary suffix as iperf3 -w reads it: "4096",
 * "64k" (65,536), "4M" (4,194,304). */
static int parse_bytes(const char *flag, const char *text, size_t *out, struct net_error *err)
{
    size_t digits = strspn(text, "0123456789");
    const char *suffix = text + digits;
    long shift = 0, value;
    char number[24];

    if (*suffix == 'k' || *suffix == 'K')
        shift = 10;
    else if (*suffix == 'm' || *suffix == 'M')
        shift = 20;
    if (digits == 0 || digits >= sizeof number || (shift > 0 ? suffix[1] : suffix[0]) != '\0')
        return usage_error(err, flag, "'%s' is not a size (bytes, or with k or M: 64k, 4M)", text);
    memcpy(number, text, digits);
    number[digits] = '\0';
    if (parse_count(flag, number, 1, MAX_SOCKBUF >> shift, &value, err) < 0)
        return usage_error(err, flag, "%s is out of range (1 byte to 1G)", text);
    *out = (size_t)value << shift;
    return 0;
}

static int parse_port(const char *flag, const char *text, enum net_role role, uint16_t *port,
                      struct net_error *err)
{
    if (net_addr_parse_port(text, port) < 0)
        return usage_error(err, flag, "'%s' is not a port (use 1-65535%s)", text,
                           role == NET_ROLE_SERVER ? ", or 0 for any free port" : "");
    if (*port == 0 && role == NET_ROLE_CLIENT)
        return usage_error(err, flag, "a client must name the server's port (1-65535)");
    return 0;
}

static void note(struct net_options *opt, const char *text)
{
    if (opt->nnotes < NET_MAX_NOTES)
        opt->notes[opt->nnotes++] = text;
}

static int parse_model(const char *flag, const char *text, struct net_options *opt,
                       struct net_error *err)
{
    for (size_t i = 0; i < sizeof model_names / sizeof model_names[0]; i++) {
        if (strcmp(text, model_names[i]) != 0)
            continue;
        if (opt->proto == NET_UDP && i != NET_MODEL_ITERATIVE) {
            note(opt,
                 "--model: one UDP socket serves every peer; with no connections there is "
                 "nothing to hand to a process, thread or poll set, so udp-echo runs 'iterative'");
            opt->model = NET_MODEL_ITERATIVE;
            return 0;
        }
        opt->model = (enum net_model)i;
        return 0;
    }
    return usage_error(err, flag, "'%s' is not a model (iterative, fork, thread, poll, epoll)",
                       text);
}

/* "MIN..MAX" for --sweep. */
static int parse_sweep(const char *flag, const char *text, struct net_options *opt,
                       struct net_error *err)
{
    const char *dots = strstr(text, "..");
    char low[24];

    if (dots == NULL || (size_t)(dots - text) >= sizeof low || dots == text)
        return usage_error(err, flag, "'%s' is not a range like 16..65536", text);
    memcpy(low, text, (size_t)(dots - text));
    low[dots - text] = '\0';
    if (parse_size(flag, low, 0, 1 << 24, &opt->sweep_min, err) < 0 ||
        parse_size(flag, dots + 2, 1, 1 << 24, &opt->sweep_max, err) < 0)
        return -1;
    if (opt->sweep_min > opt->sweep_max)
        return usage_error(err, flag, "%s: the first size must not exceed the second", text);
    return 0;
}

/* Where to talk and what to print. */
static int set_common(enum flag_id id, const char *name, const char *arg, struct net_options *opt,
                      struct net_error *err)
{
    switch (id) {
    case F_PORT:
        opt->port_set = true;
        return parse_port(name, arg, opt->role, &opt->port, err);
    case F_BIND:
        /* the server copies it into a host name buffer: never cut it short there */
        if (strlen(arg) >= NET_HOSTLEN)
            return usage_error(err, name,
                               "longer than %d characters (give an address or a host "
                               "name)",
                               NET_HOSTLEN - 1);
        opt->bind = arg;
        return 0;
    case F_V4:
        opt->family = NET_V4;
        return 0;
    case F_V6:
        opt->family = NET_V6;
        return 0;
    case F_VERBOSE:
        opt->verbose++;
        if (opt->verbose >= 2)
            opt->trace = true;
        return 0;
    case F_TRACE:
        opt->trace = true;
        return 0;
    case F_TRACE_TIME:
        opt->trace = true;
        opt->trace_time = true;
        return 0;
    case F_JSON:
        opt->json = true;
        return 0;
    case F_QUIET:
        opt->quiet = true;
        return 0;
    case F_HELP:
        opt->role = NET_ROLE_HELP;
        return 0;
    case F_VERSION:
        opt->role = NET_ROLE_VERSION;
        return 0;
    default:
        return 0;
    }
}

/* Socket options any socket takes: buffers, IP header fields, sharing the address. */
static int set_socket(enum flag_id id, const char *name, const char *arg, struct net_options *opt,
                      struct net_error *err)
{
    long n;

    switch (id) {
    case F_RCVBUF:
        return parse_bytes(name, arg, &opt->so.rcvbuf, err);
    case F_SNDBUF:
        return parse_bytes(name, arg, &opt->so.sndbuf, err);
    case F_TTL:
        if (parse_ranged(name, arg, 1, 255, &n, err) < 0)
            return -1;
        opt->so.ttl = (int)n;
        return 0;
    case F_TOS:
        if (parse_ranged(name, arg, 0, 255, &n, err) < 0)
            return -1;
        opt->so.tos = (int)n;
        return 0;
    case F_DONTFRAG:
        opt->so.dontfrag = true;
        return 0;
    case F_REUSEADDR:
        opt->so.reuseaddr = true;
        return 0;
    case F_REUSEPORT:
        opt->so.reuseport = true;
        return 0;
    default:
        return 0;
    }
}

/* What a TCP connection keeps for its own end: Nagle, how close() ends it, keepalive. */
static int set_connection(enum flag_id id, const char *name, const char *arg,
                          struct net_options *opt, struct net_error *err)
{
    long n;

    switch (id) {
    case F_NODELAY:
        opt->nodelay = true;
        return 0;
    case F_LINGER:
        if (parse_ranged(name, arg, 0, 3600, &n, err) < 0)
            return -1;
        opt->so.linger = (int)n;
        return 0;
    case F_KEEPALIVE:
        if (parse_count(name, arg, 0, 32767, &n, err) < 0)
            return -1;
        opt->so.keepalive = (unsigned)n;
        opt->keepalive_set = true;
        return 0;
    case F_KEEPALIVE_INTERVAL:
        if (parse_ranged(name, arg, 1, 32767, &n, err) < 0)
            return -1;
        opt->so.keepalive_interval = (unsigned)n;
        return 0;
    case F_KEEPALIVE_COUNT:
        if (parse_ranged(name, arg, 1, 127, &n, err) < 0)
            return -1;
        opt->so.keepalive_count = (unsigned)n;
        return 0;
    default:
        return 0;
    }
}

/* What the server runs and how it treats its clients. */
static int set_server(enum flag_id id, const char *name, const char *arg, struct net_options *opt,
                      struct net_error *err)
{
    long n;

    switch (id) {
    case F_MODEL:
        return parse_model(name, arg, opt, err);
    case F_ONCE:
        opt->once = true;
        return 0;
    case F_GREETING:
        opt->greeting = arg;
        return 0;
    case F_REPLY:
        opt->reply = arg;
        return 0;
    case F_RECV_SIZE:
        return parse_size(name, arg, 1, 1 << 20, &opt->recv_size, err);
    case F_MAX_CLIENTS:
        if (parse_count(name, arg, 0, 1000000, &n, err) < 0)
            return -1;
        opt->max_clients = (unsigned)n;
        opt->max_clients_set = true;
        return 0;
    case F_IDLE_TIMEOUT:
        return parse_seconds(name, arg, 0, 86400, &opt->idle_timeout, err);
    case F_MIN_BYTES:
        return parse_size(name, arg, 1, 1 << 20, &opt->min_bytes, err);
    case F_RATE_LIMIT:
        if (parse_count(name, arg, 1, 10000000, &n, err) < 0)
            return -1;
        opt->rate_limit = (unsigned)n;
        return 0;
    case F_LOOP_LIMIT:
        if (parse_count(name, arg, 0, 10000000, &n, err) < 0)
            return -1;
        opt->loop_limit = (unsigned)n;
        return 0;
    default:
        return 0;
    }
}

/* What the client sends, how often, and where the results go. */
static int set_client(enum flag_id id, const char *name, const char *arg, struct net_options *opt,
                      struct net_error *err)
{
    long n;

    switch (id) {
    case F_MESSAGE:
        opt->message = arg;
        return 0;
    case F_COUNT:
        return parse_count(name, arg, 0, 100000000, &opt->count, err);
    case F_SIZE:
        opt->size_set = true;
        return parse_size(name, arg, 0, 1 << 24, &opt->size, err);
    case F_INTERVAL:
        opt->interval_set = true;
        return parse_seconds(name, arg, 0, 3600, &opt->interval, err);
    case F_TIMEOUT:
        opt->timeout_set = true;
        return parse_seconds(name, arg, 0.001, 3600, &opt->timeout, err);
    case F_PARALLEL:
        if (parse_count(name, arg, 1, 10000, &n, err) < 0)
            return -1;
        opt->parallel = (unsigned)n;
        return 0;
    case F_TIME:
        return parse_seconds(name, arg, 0.001, 86400, &opt->duration, err);
    case F_CSV:
        opt->csv = arg;
        return 0;
    case F_SWEEP:
        return parse_sweep(name, arg, opt, err);
    default:
        return 0;
    }
}

/* Apply one flag with its argument (NULL for flags that take none). A flag this protocol has
 * no use for is read into a copy of the options that is thrown away: its value is checked,
 * then dropped, with a note that says why. */
static int apply(const struct flag *f, const char *name, const char *arg, struct net_options *opt,
                 struct net_error *err)
{
    const char *ignored = opt->proto == NET_UDP ? f->udp_ignores : f->tcp_ignores;
    struct net_options dropped;

    if (ignored == NULL)
        return f->set(f->id, name, arg, opt, err);
    dropped = *opt;
    if (f->set(f->id, name, arg, &dropped, err) < 0)
        return -1;
    note(opt, ignored);
    return 0;
}

static const struct flag *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flags[i].longname && strlen(flags[i].longname) == len &&
            strncmp(flags[i].longname, name, len) == 0)
            return &flags[i];
    return NULL;
}

static const struct flag *find_short(char c)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flags[i].shortname == c)
            return &flags[i];
    return NULL;
}

/* A flag that belongs to the other role is a usage error, named as such. */
static int check_scope(const struct flag *f, const char *name, enum net_role role,
                       struct net_error *err)
{
    if (f->scope == SERVER && role == NET_ROLE_CLIENT)
        return usage_error(err, name, "is a server option (try: server %s ...)", name);
    if (f->scope == CLIENT && role == NET_ROLE_SERVER)
        return usage_error(err, name, "is a client option (try: client %s ...)", name);
    return 0;
}

/* Parse one "--name[=value]" argument; *i advances past a separate value. */
static int parse_long(int argc, char **argv, int *i, struct net_options *opt, struct net_error *err)
{
    const char *body = argv[*i] + 2, *eq = strchr(body, '=');
    size_t len = eq ? (size_t)(eq - body) : strlen(body);
    const struct flag *f = find_long(body, len);
    char name[40];
    const char *arg = NULL;

    if (f == NULL)
        return usage_error(err, argv[*i], "unknown option (see --help)");
    flag_text(f, true, name, sizeof name);
    if (check_scope(f, name, opt->role, err) < 0)
        return -1;
    if (f->has_arg && eq)
        arg = eq + 1;
    else if (f->has_arg && *i + 1 < argc)
        arg = argv[++*i];
    else if (f->has_arg)
        return usage_error(err, name, "needs a value");
    else if (eq)
        return usage_error(err, name, "takes no value");
    return apply(f, name, arg, opt, err);
}

/* Parse a group of short flags ("-4v", "-p0", "-p 0"); *i advances past a separate value. */
static int parse_short(int argc, char **argv, int *i, struct net_options *opt,
                       struct net_error *err)
{
    for (const char *p = argv[*i] + 1; *p != '\0'; p++) {
        const struct flag *f = find_short(*p);
        char name[40];

        if (f == NULL) {
            snprintf(name, sizeof name, "-%c", *p);
            return usage_error(err, name, "unknown option (see --help)");
        }
        flag_text(f, false, name, sizeof name);
        if (check_scope(f, name, opt->role, err) < 0)
            return -1;
        if (!f->has_arg) {
            if (apply(f, name, NULL, opt, err) < 0)
                return -1;
            continue;
        }
        if (p[1] != '\0')
            return apply(f, name, p + 1, opt, err);
        if (*i + 1 >= argc)
            return usage_error(err, name, "needs a value");
        return apply(f, name, argv[++*i], opt, err);
    }
    return 0;
}

/* The model a server runs when --model does not say: the event-driven one. */
static enum net_model default_model(enum net_proto proto)
{
    return proto == NET_TCP ? NET_MODEL_EPOLL : NET_MODEL_ITERATIVE;
}

/* Bytes per receive call when --recv-size does not say; UDP reads whole datagrams, so the
 * buffer must hold the largest one. */
static size_t default_recv_size(enum net_proto proto)
{
    return proto == NET_TCP ? NET_DEFAULT_TCP_RECV_SIZE : NET_DATAGRAM_RECV_SIZE;
}

static void set_defaults(enum net_proto proto, struct net_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->proto = proto;
    opt->port = NET_DEFAULT_PORT;
    opt->model = default_model(proto);
    opt->recv_size = default_recv_size(proto);
    opt->idle_timeout = NET_DEFAULT_IDLE_TIMEOUT;
    opt->min_bytes = NET_DEFAULT_MIN_BYTES;
    opt->so.keepalive = NET_DEFAULT_KEEPALIVE;
    opt->so.keepalive_count = NET_DEFAULT_KEEPALIVE_COUNT;
    opt->so.linger = -1;
    opt->so.tos = -1;
    opt->loop_limit = NET_DEFAULT_LOOP_LIMIT;
    opt->count = -1;
    opt->size = NET_DEFAULT_SIZE;
    opt->interval = NET_DEFAULT_INTERVAL;
    opt->timeout = NET_DEFAULT_TIMEOUT;
}

/* "::1:7007": an IPv6 address ending in a port-like group, without brackets. It is a valid
 * address (::1:7007), but far more often [::1]:7007 was meant: ask which. */
static bool ambiguous_v6(const char *text)
{
    const char *last = strrchr(text, ':');
    char head[INET6_ADDRSTRLEN];
    struct in6_addr addr;
    size_t digits = strspn(last ? last + 1 : "", "0123456789");

    if (text[0] == '[' || last == NULL || strchr(text, ':') == last)
        return false;
    if (digits == 0 || digits > 5 || last[1 + digits] != '\0' || atol(last + 1) > 65535)
        return false;
    if ((size_t)(last - text) >= sizeof head)
        return false;
    memcpy(head, text, (size_t)(last - text));
    head[last - text] = '\0';
    return inet_pton(AF_INET6, head, &addr) == 1;
}

/* Client HOST: "name", "name:port", "[v6]:port"; a port here and -p must agree. */
static int set_host(const char *text, struct net_options *opt, struct net_error *err)
{
    const char *scheme = strstr(text, "://");
    char port[16];
    uint16_t value;

    if (scheme != NULL) {
        int hostport = (int)strcspn(scheme + 3, "/");

        if (hostport == 0)
            return usage_error(err, text, "is a URL, not a host; give a host, e.g. localhost:7007");
        return usage_error(err, text, "is a URL, not a host; give the host and port alone: %.*s",
                           hostport, scheme + 3);
    }
    if (ambiguous_v6(text)) {
        const char *last = strrchr(text, ':');

        return usage_error(err, text,
                           "an IPv6 address with a port needs brackets: [%.*s]:%s "
                           "(the address alone: [%s])",
                           (int)(last - text), text, last + 1, text);
    }
    if (net_addr_split(text, opt->host, sizeof opt->host, port, sizeof port) < 0)
        return usage_error(err, text, "is not a host, host:port or [IPv6]:port");
    if (port[0] == '\0')
        return 0;
    if (parse_port(text, port, NET_ROLE_CLIENT, &value, err) < 0)
        return -1;
    if (opt->port_set && value != opt->port)
        return usage_error(err, text, "names port %u but -p says %u", (unsigned)value,
                           (unsigned)opt->port);
    opt->port = value;
    return 0;
}

/* Checks that need every flag: combinations that cannot work. */
static int check_combination(struct net_options *opt, struct net_error *err)
{
    if (opt->role == NET_ROLE_SERVER && opt->once && opt->proto == NET_TCP && opt->max_clients > 1)
        note(opt, "--max-clients: with --once the server serves one client and exits");
    if (opt->role != NET_ROLE_CLIENT)
        return 0;
    if (opt->message && (opt->count >= 0 || opt->parallel || opt->sweep_max))
        return usage_error(err, "-m",
                           "sends one message; it cannot be combined with -c, -P "
                           "or --sweep");
    if (opt->parallel && opt->sweep_max)
        return usage_error(err, "-P", "cannot be combined with --sweep");
    if ((opt->size_set || opt->count >= 0 || opt->parallel) && opt->size < NET_PROBE_MIN)
        return usage_error(err, "-s", "%zu bytes cannot hold a probe's header (at least %d)",
                           opt->size, NET_PROBE_MIN);
    if (opt->sweep_max && opt->sweep_min < NET_PROBE_MIN)
        return usage_error(err, "--sweep",
                           "%zu bytes cannot hold a probe's header (at least "
                           "%d)",
                           opt->sweep_min, NET_PROBE_MIN);
    if (opt->proto == NET_UDP && opt->size_set && opt->size > NET_DATAGRAM_MAX_V6 &&
        !opt->sweep_max)
        return usage_error(err, "-s",
                           "%zu bytes do not fit in one UDP datagram (at most "
                           "%d over IPv4, %d over IPv6)",
                           opt->size, NET_DATAGRAM_MAX_V4, NET_DATAGRAM_MAX_V6);
    return 0;
}

/* The first word: "server" or "client", or --help or --version alone. */
static int parse_command(int argc, char **argv, struct net_options *opt, struct net_error *err)
{
    if (argc < 2)
        return usage_error(err, "usage", "say 'server' or 'client' (see --help)");
    if (strcmp(argv[1], "server") == 0)
        opt->role = NET_ROLE_SERVER;
    else if (strcmp(argv[1], "client") == 0)
        opt->role = NET_ROLE_CLIENT;
    else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        opt->role = NET_ROLE_HELP;
    else if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        opt->role = NET_ROLE_VERSION;
    else
        return usage_error(err, argv[1], "is not a command; say 'server' or 'client'");
    return 0;
}

/* The words after the command: flags, and the client's one HOST (the word after "--" is
 * always a HOST). Stops at -h or -V, which answer at once. */
static int parse_words(int argc, char **argv, struct net_options *opt, const char **host,
                       struct net_error *err)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--") == 0 || a[0] != '-' || a[1] == '\0') {
            if (strcmp(a, "--") == 0 && ++i >= argc)
                break;
            if (opt->role == NET_ROLE_SERVER)
                return usage_error(err, argv[i], "the server takes no host; use -b ADDR");
            if (*host != NULL)
                return usage_error(err, argv[i], "only one host can be given (already: %s)", *host);
            *host = argv[i];
            continue;
        }
        if ((a[1] == '-' ? parse_long(argc, argv, &i, opt, err)
                         : parse_short(argc, argv, &i, opt, err)) < 0)
            return -1;
        if (opt->role == NET_ROLE_HELP || opt->role == NET_ROLE_VERSION)
            return 0;
    }
    return 0;
}

/* What follows from all the flags together: the address, keepalive, the caps. */
static int settle(struct net_options *opt, const char *host, struct net_error *err)
{
    if (opt->role == NET_ROLE_CLIENT) {
        if (set_host(host ? host : "localhost", opt, err) < 0)
            return -1;
    } else {
        /* the server listens on loopback unless told otherwise */
        snprintf(opt->host, sizeof opt->host, "%s",
                 opt->bind               ? opt->bind
                 : opt->family == NET_V6 ? NET_DEFAULT_BIND_V6
                                         : NET_DEFAULT_BIND_V4);
    }
    /* keepalive is a server's safety default; a client probes only when asked to */
    if (opt->role == NET_ROLE_CLIENT && !opt->keepalive_set)
        opt->so.keepalive = 0;
    if (opt->proto == NET_TCP && opt->so.keepalive == 0 &&
        (opt->so.keepalive_interval > 0 || opt->so.keepalive_count != NET_DEFAULT_KEEPALIVE_COUNT))
        note(opt, "--keepalive-interval, --keepalive-count: keepalive is off (turn it on with "
                  "--keepalive S)");
    if (check_combination(opt, err) < 0)
        return -1;
    /* a process or a thread per client: cap them unless told otherwise */
    if (opt->proto == NET_TCP && !opt->max_clients_set &&
        (opt->model == NET_MODEL_FORK || opt->model == NET_MODEL_THREAD))
        opt->max_clients = NET_DEFAULT_MAX_WORKERS;
    return 0;
}

int net_opt_parse(enum net_proto proto, int argc, char **argv, struct net_options *opt,
                  struct net_error *err)
{
    const char *host = NULL;

    set_defaults(proto, opt);
    if (parse_command(argc, argv, opt, err) < 0)
        return -1;
    if (opt->role == NET_ROLE_HELP || opt->role == NET_ROLE_VERSION)
        return 0;
    if (parse_words(argc, argv, opt, &host, err) < 0)
        return -1;
    if (opt->role == NET_ROLE_HELP || opt->role == NET_ROLE_VERSION)
        return 0;
    return settle(opt, host, err);
}

/* --keepalive-interval's default (10) is not a constant here: sockopt.c keeps it with the
 * other keepalive settings. */
static void usage_both(FILE *fp)
{
    fprintf(fp,
            "Options for both roles:\n"
            "  -p, --port PORT       port (default %d; server: 0 = any free port)\n"
            "  -b, --bind ADDR       server: address to listen on (default %s);\n"
            "                        client: local address to send from\n"
            "  -4, -6                use IPv4 / IPv6 only\n"
            "  -v, --verbose         lifecycle events (listening, peers, closed)\n"
            "  -vv, --trace          every socket call and what it put on the wire (stderr)\n"
            "      --trace-time      trace with milliseconds since start\n"
            "      --json            one JSON object per line\n"
            "      --nodelay         TCP: turn off Nagle's algorithm (TCP_NODELAY)\n"
            "      --rcvbuf SIZE     receive buffer (SO_RCVBUF), bytes or with k, M (64k);\n"
            "                        Linux grants twice the request\n"
            "      --sndbuf SIZE     send buffer (SO_SNDBUF), as --rcvbuf\n"
            "      --linger S        TCP: SO_LINGER; close() waits S seconds for the data to\n"
            "                        be acknowledged; 0: close sends RST instead of FIN\n"
            "      --keepalive S     TCP keepalive probes after S seconds of silence\n"
            "                        (server default %d; client default off; 0: off)\n"
            "      --keepalive-interval S  seconds between probes (default 10, or S if less)\n"
            "      --keepalive-count N     unanswered probes before closing (default %d)\n"
            "      --ttl N           IP TTL / IPv6 hop limit of every packet (1-255)\n"
            "      --tos N           IP TOS / IPv6 traffic class byte (0-255): DSCP << 2, so\n"
            "                        184 is DSCP 46 (EF)\n"
            "      --dontfrag        UDP: DF on every datagram; too big for the path: EMSGSIZE\n"
            "  -q, --quiet           only the summary and errors\n"
            "\n",
            NET_DEFAULT_PORT, NET_DEFAULT_BIND_V4, NET_DEFAULT_KEEPALIVE,
            NET_DEFAULT_KEEPALIVE_COUNT);
}

static void usage_server(enum net_proto proto, FILE *fp)
{
    fprintf(fp,
            "Server options:\n"
            "      --model MODEL     iterative, fork, thread, poll, epoll (default %s)\n"
            "      --once            serve one %s, then exit\n"
            "      --greeting TEXT   send TEXT when a client connects (TCP only)\n"
            "      --reply TEXT      answer every message with TEXT instead of echoing\n"
            "      --recv-size N     bytes per receive call (default %zu)\n"
            "      --max-clients N   at most N clients at once, the rest wait in the listen\n"
            "                        queue (fork, thread: default %d; 0: no limit)\n"
            "      --idle-timeout S  close a client that sends less than --min-bytes in S\n"
            "                        seconds (default %d; 0: never)\n"
            "      --min-bytes N     bytes a client must send per --idle-timeout (default %d)\n"
            "      --reuseaddr       SO_REUSEADDR (UDP: two servers may bind one address;\n"
            "                        tcp-echo always sets it)\n"
            "      --reuseport       SO_REUSEPORT: servers that all set it share the port\n"
            "      --rate-limit N    answer at most N datagrams per second per source (UDP)\n"
            "      --loop-limit N    answer at most N repeated datagrams in a row per source\n"
            "                        (UDP; default %d, 0: no limit)\n"
            "\n",
            model_names[default_model(proto)], proto == NET_TCP ? "client" : "datagram",
            default_recv_size(proto), NET_DEFAULT_MAX_WORKERS, NET_DEFAULT_IDLE_TIMEOUT,
            NET_DEFAULT_MIN_BYTES, NET_DEFAULT_LOOP_LIMIT);
}

static void usage_client(enum net_proto proto, FILE *fp)
{
    fprintf(fp,
            "Client options:\n"
            "  -m, --message TEXT    send TEXT once, print the reply, exit\n"
            "                        (without -m or -c: send each line of stdin, print echoes)\n"
            "  -c, --count N         send N probes (0: until Ctrl-C)\n"
            "  -s, --size BYTES      probe size (default %d)\n"
            "  -i, --interval S      seconds between probes (default %g)\n"
            "  -W, --timeout S       seconds to wait for a reply (default %g%s)\n"
            "  -P, --parallel N      load mode: N %s, one request in flight each\n"
            "  -t, --time S          load mode duration\n"
            "      --csv FILE        one row per probe\n"
            "      --sweep MIN..MAX  probe sizes from MIN to MAX, doubling\n"
            "\n",
            NET_DEFAULT_SIZE, NET_DEFAULT_INTERVAL, NET_DEFAULT_TIMEOUT,
            proto == NET_TCP ? "; -m: until the FIN" : "",
            proto == NET_TCP ? "connections" : "sockets");
}

void net_opt_usage(enum net_proto proto, FILE *fp)
{
    const char *p = proto == NET_TCP ? "tcp-echo" : "udp-echo";

    fprintf(fp,
            "usage: %s server [options]\n"
            "       %s client [options] [HOST[:PORT]]\n"
            "       %s --help | --version\n"
            "\n"
            "An echo server and client over %s, twin of %s.\n"
            "\n",
            p, p, p,
            proto == NET_TCP ? "TCP (a byte stream over a connection)"
                             : "UDP (single datagrams, no connection)",
            proto == NET_TCP ? "udp-echo" : "tcp-echo");
    usage_both(fp);
    usage_server(proto, fp);
    usage_client(proto, fp);
    fprintf(fp, "Other options:\n"
                "  -h, --help            this text\n"
                "  -V, --version         the version\n"
                "\n"
                "Exit status: 0 success, 1 network or runtime failure, 2 usage error.\n");
}
