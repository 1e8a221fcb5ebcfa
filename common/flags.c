/* flags.c - every flag both programs take, and what each one sets. */
#include "flags.h"

#include <stdio.h>
#include <string.h>

#include "arg.h"
#include "datagram.h"
#include "probe.h"

static set_fn set_common, set_socket, set_connection, set_server, set_client, set_tls;

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
    {0, "nagle", false, BOTH, F_NAGLE, set_connection,
     "--nagle: UDP has no Nagle algorithm; every sendto() is one datagram on the wire at once",
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
    {0, "congestion", true, BOTH, F_CONGESTION, set_connection,
     "--congestion: UDP has no congestion control; a UDP sender goes as fast as its application "
     "sends",
     NULL},

    /* --model: UDP notes every model but 'iterative' (parse_model) */
    {0, "model", true, SERVER, F_MODEL, set_server, NULL, NULL},
    {0, "once", false, SERVER, F_ONCE, set_server, NULL, NULL},
    {0, "greeting", true, SERVER, F_GREETING, set_server,
     "--greeting: UDP has no connection, so the server cannot speak first", NULL},
    {0, "reply", true, SERVER, F_REPLY, set_server, NULL, NULL},
    {0, "discard", false, SERVER, F_DISCARD, set_server, NULL, NULL},
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
    {0, "allow", true, SERVER, F_ALLOW, set_server, NULL, NULL},
    {0, "to", true, RELAY, F_TO, set_server, NULL, NULL},

    {'m', "message", true, CLIENT, F_MESSAGE, set_client, NULL, NULL},
    {'c', "count", true, CLIENT, F_COUNT, set_client, NULL, NULL},
    {'s', "size", true, CLIENT, F_SIZE, set_client, NULL, NULL},
    {'i', "interval", true, CLIENT, F_INTERVAL, set_client, NULL, NULL},
    {'W', "timeout", true, CLIENT, F_TIMEOUT, set_client, NULL, NULL},
    {'P', "parallel", true, CLIENT, F_PARALLEL, set_client, NULL, NULL},
    {'t', "time", true, CLIENT, F_TIME, set_client, NULL, NULL},
    {0, "csv", true, CLIENT, F_CSV, set_client, NULL, NULL},
    {0, "sweep", true, CLIENT, F_SWEEP, set_client, NULL, NULL},
    {0, "stream", false, CLIENT, F_STREAM, set_client, NULL, NULL},
    {0, "rate", true, CLIENT, F_RATE, set_client, NULL, NULL},
    {0, "every", true, CLIENT, F_EVERY, set_client, NULL, NULL},
    {0, "one-way", false, CLIENT, F_ONE_WAY, set_client, NULL, NULL},
    {0, "connect-each", false, CLIENT, F_CONNECT_EACH, set_client, NULL, NULL},
    {0, "resume", false, CLIENT, F_RESUME, set_tls, NULL, NULL},

    /* --tls means TLS to tcp-echo and DTLS to udp-echo: the same flags for both */
    {0, "tls", false, BOTH, F_TLS, set_tls, NULL, NULL},
    {0, "cert", true, SERVER, F_CERT, set_tls, NULL, NULL},
    {0, "key", true, SERVER, F_KEY, set_tls, NULL, NULL},
    {0, "client-ca", true, SERVER, F_CLIENT_CA, set_tls, NULL, NULL},
    {0, "ca", true, CLIENT, F_CA, set_tls, NULL, NULL},
    {0, "fingerprint", true, CLIENT, F_FINGERPRINT, set_tls, NULL, NULL},
    {0, "insecure", false, CLIENT, F_INSECURE, set_tls, NULL, NULL},
    {0, "client-cert", true, CLIENT, F_CLIENT_CERT, set_tls, NULL, NULL},
    {0, "client-key", true, CLIENT, F_CLIENT_KEY, set_tls, NULL, NULL},
};

static const char *const model_names[] = {"iterative", "fork", "thread", "poll", "epoll", "uring"};

const char *net_opt_model_name(enum net_model model)
{
    return model_names[model];
}

static int parse_model(const char *flag, const char *text, struct net_options *opt,
                       struct net_error *err)
{
    for (size_t i = 0; i < sizeof model_names / sizeof model_names[0]; i++) {
        if (strcmp(text, model_names[i]) != 0)
            continue;
        if (opt->proto == NET_UDP && i != NET_MODEL_ITERATIVE) {
            net_arg_note(
                opt,
                "--model: one UDP socket serves every peer; with no connections there is "
                "nothing to hand to a process, thread or poll set, so udp-echo runs 'iterative'");
            opt->model = NET_MODEL_ITERATIVE;
            return 0;
        }
        opt->model = (enum net_model)i;
        return 0;
    }
    return net_arg_error(err, flag,
                         "'%s' is not a model (iterative, fork, thread, poll, epoll, uring)", text);
}

/* "MIN..MAX" for --sweep. */
static int parse_sweep(const char *flag, const char *text, struct net_options *opt,
                       struct net_error *err)
{
    const char *dots = strstr(text, "..");
    char low[24];

    if (dots == NULL || (size_t)(dots - text) >= sizeof low || dots == text)
        return net_arg_error(err, flag, "'%s' is not a range like 16..65536", text);
    memcpy(low, text, (size_t)(dots - text));
    low[dots - text] = '\0';
    if (net_arg_size(flag, low, 0, 1 << 24, &opt->sweep_min, err) < 0 ||
        net_arg_size(flag, dots + 2, 1, 1 << 24, &opt->sweep_max, err) < 0)
        return -1;
    if (opt->sweep_min > opt->sweep_max)
        return net_arg_error(err, flag, "%s: the first size must not exceed the second", text);
    return 0;
}

/* Where to talk and what to print. */
static int set_common(enum flag_id id, const char *name, const char *arg, struct net_options *opt,
                      struct net_error *err)
{
    switch (id) {
    case F_PORT:
        opt->port_set = true;
        return net_arg_port(name, arg, opt->role, &opt->port, err);
    case F_BIND:
        /* the server copies it into a host name buffer: never cut it short there */
        if (strlen(arg) >= NET_HOSTLEN)
            return net_arg_error(err, name,
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
        return net_arg_bytes(name, arg, &opt->so.rcvbuf, err);
    case F_SNDBUF:
        return net_arg_bytes(name, arg, &opt->so.sndbuf, err);
    case F_TTL:
        if (net_arg_ranged(name, arg, 1, 255, &n, err) < 0)
            return -1;
        opt->so.ttl = (int)n;
        return 0;
    case F_TOS:
        if (net_arg_ranged(name, arg, 0, 255, &n, err) < 0)
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
    case F_NAGLE:
        opt->nagle = true;
        return 0;
    case F_LINGER:
        if (net_arg_ranged(name, arg, 0, 3600, &n, err) < 0)
            return -1;
        opt->so.linger = (int)n;
        return 0;
    case F_KEEPALIVE:
        if (net_arg_count(name, arg, 0, 32767, &n, err) < 0)
            return -1;
        opt->so.keepalive = (unsigned)n;
        opt->keepalive_set = true;
        return 0;
    case F_KEEPALIVE_INTERVAL:
        if (net_arg_ranged(name, arg, 1, 32767, &n, err) < 0)
            return -1;
        opt->so.keepalive_interval = (unsigned)n;
        return 0;
    case F_KEEPALIVE_COUNT:
        if (net_arg_ranged(name, arg, 1, 127, &n, err) < 0)
            return -1;
        opt->so.keepalive_count = (unsigned)n;
        return 0;
    case F_CONGESTION:
        /* Linux names them in at most 15 characters (TCP_CA_NAME_MAX) */
        if (arg[0] == '\0' || strlen(arg) > 15 ||
            arg[strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_")] != '\0')
            return net_arg_error(
                err, name, "'%s' is not the name of a congestion control (cubic, reno, bbr ...)",
                arg);
        opt->so.congestion = arg;
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
    case F_DISCARD:
        opt->discard = true;
        return 0;
    case F_RECV_SIZE:
        opt->recv_size_set = true;
        return net_arg_size(name, arg, 1, 1 << 20, &opt->recv_size, err);
    case F_MAX_CLIENTS:
        if (net_arg_count(name, arg, 0, 1000000, &n, err) < 0)
            return -1;
        opt->max_clients = (unsigned)n;
        opt->max_clients_set = true;
        return 0;
    case F_IDLE_TIMEOUT:
        return net_arg_seconds(name, arg, 0, 86400, &opt->idle_timeout, err);
    case F_MIN_BYTES:
        return net_arg_size(name, arg, 1, 1 << 20, &opt->min_bytes, err);
    case F_RATE_LIMIT:
        if (net_arg_count(name, arg, 1, 10000000, &n, err) < 0)
            return -1;
        opt->rate_limit = (unsigned)n;
        return 0;
    case F_LOOP_LIMIT:
        if (net_arg_count(name, arg, 0, 10000000, &n, err) < 0)
            return -1;
        opt->loop_limit = (unsigned)n;
        return 0;
    case F_ALLOW:
        return net_allow_add(&opt->allow, name, arg, err);
    case F_TO:
        opt->to = arg;
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
        return net_arg_count(name, arg, 0, 100000000, &opt->count, err);
    case F_SIZE:
        opt->size_set = true;
        return net_arg_size(name, arg, 0, 1 << 24, &opt->size, err);
    case F_INTERVAL:
        opt->interval_set = true;
        return net_arg_seconds(name, arg, 0, 3600, &opt->interval, err);
    case F_TIMEOUT:
        opt->timeout_set = true;
        return net_arg_seconds(name, arg, 0.001, 3600, &opt->timeout, err);
    case F_PARALLEL:
        if (net_arg_count(name, arg, 1, 10000, &n, err) < 0)
            return -1;
        opt->parallel = (unsigned)n;
        return 0;
    case F_TIME:
        return net_arg_seconds(name, arg, 0.001, 86400, &opt->duration, err);
    case F_CSV:
        opt->csv = arg;
        return 0;
    case F_SWEEP:
        return parse_sweep(name, arg, opt, err);
    case F_STREAM:
        opt->stream = true;
        return 0;
    case F_RATE:
        opt->rate_set = true;
        return net_arg_rate(name, arg, &opt->rate, err);
    case F_EVERY:
        opt->every_set = true;
        return net_arg_seconds(name, arg, 0.1, 3600, &opt->every, err);
    case F_ONE_WAY:
        opt->one_way = true;
        return 0;
    case F_CONNECT_EACH:
        opt->connect_each = true;
        return 0;
    default:
        return 0;
    }
}

/* TLS and DTLS: who the server is, how the client checks it, who the client is. File names
 * are kept as given; tls.c opens them when the program starts, and says which one failed. */
static int set_tls(enum flag_id id, const char *name, const char *arg, struct net_options *opt,
                   struct net_error *err)
{
    struct tls_config *t = &opt->tls;

    (void)name;
    (void)err;
    switch (id) {
    case F_TLS:
        opt->tls_on = true;
        return 0;
    case F_CERT:
        t->cert = arg;
        return 0;
    case F_KEY:
        t->key = arg;
        return 0;
    case F_CLIENT_CA:
        t->client_ca = arg;
        return 0;
    case F_CA:
        t->ca = arg;
        return 0;
    case F_FINGERPRINT:
        t->fingerprint = arg;
        return 0;
    case F_INSECURE:
        t->insecure = true;
        return 0;
    case F_CLIENT_CERT:
        t->client_cert = arg;
        return 0;
    case F_CLIENT_KEY:
        t->client_key = arg;
        return 0;
    case F_RESUME:
        opt->resume = true;
        return 0;
    default:
        return 0;
    }
}

/* Apply one flag with its argument (NULL for flags that take none). A flag this protocol has
 * no use for is read into a copy of the options that is thrown away: its value is checked,
 * then dropped, with a note that says why. */
int net_flag_apply(const struct flag *f, const char *name, const char *arg, struct net_options *opt,
                   struct net_error *err)
{
    const char *ignored = opt->proto == NET_UDP ? f->udp_ignores : f->tcp_ignores;
    struct net_options dropped;

    /* a UDP relay does keep something per source: a socket, in a bounded, expiring table */
    if (opt->role == NET_ROLE_RELAY && (f->id == F_MAX_CLIENTS || f->id == F_IDLE_TIMEOUT))
        ignored = NULL;
    if (opt->role == NET_ROLE_RELAY && f->id == F_LOOP_LIMIT)
        ignored = "--loop-limit: a relay answers no one itself; the server it relays to limits "
                  "loops";

    if (ignored == NULL)
        return f->set(f->id, name, arg, opt, err);
    dropped = *opt;
    if (f->set(f->id, name, arg, &dropped, err) < 0)
        return -1;
    net_arg_note(opt, ignored);
    return 0;
}

const struct flag *net_flag_long(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flags[i].longname && strlen(flags[i].longname) == len &&
            strncmp(flags[i].longname, name, len) == 0)
            return &flags[i];
    return NULL;
}

const struct flag *net_flag_short(char c)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flags[i].shortname == c)
            return &flags[i];
    return NULL;
}
