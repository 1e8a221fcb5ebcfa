/* opt.c - one command line for both programs: the words, the flags, then what follows. */
#include "opt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arg.h"
#include "datagram.h"
#include "flags.h"
#include "probe.h"

/* How the user typed a flag, for error messages: "-p" or "--port". */
static void flag_text(const struct flag *f, bool as_long, char *buf, size_t size)
{
    if (as_long || f->shortname == 0)
        snprintf(buf, size, "--%s", f->longname);
    else
        snprintf(buf, size, "-%c", f->shortname);
}

/* A peer takes the flags of every role, --to, and probe mode's four: it probes the other
 * peer as a client in probe mode does, and answers it. */
static bool peer_takes(const struct flag *f)
{
    return f->scope == BOTH || f->id == F_TO || f->id == F_COUNT || f->id == F_SIZE ||
           f->id == F_INTERVAL || f->id == F_TIMEOUT || f->id == F_CSV;
}

/* A flag that belongs to another role is a usage error, named as such. A relay takes the
 * server's flags and its own. */
static int check_scope(const struct flag *f, const char *name, enum net_role role,
                       struct net_error *err)
{
    if (role == NET_ROLE_PEER)
        return peer_takes(f) ? 0
                             : net_arg_error(err, name,
                                             "is not a peer option (a peer takes --to, -c, -s, "
                                             "-i, -W, --csv and the options of every role)");
    if (f->scope == SERVER && role == NET_ROLE_CLIENT)
        return net_arg_error(err, name, "is a server option (try: server %s ...)", name);
    if (f->scope == CLIENT && role == NET_ROLE_SERVER)
        return net_arg_error(err, name, "is a client option (try: client %s ...)", name);
    if (f->scope == CLIENT && role == NET_ROLE_RELAY)
        return net_arg_error(err, name,
                             "is a client option; a relay takes the server's options and --to");
    if (f->scope == RELAY && role != NET_ROLE_RELAY && role != NET_ROLE_PEER)
        return net_arg_error(err, name, "is a relay option (try: relay %s HOST ...)", name);
    return 0;
}

/* Parse one "--name[=value]" argument; *i advances past a separate value. */
static int parse_long(int argc, char **argv, int *i, struct net_options *opt, struct net_error *err)
{
    const char *body = argv[*i] + 2, *eq = strchr(body, '=');
    size_t len = eq ? (size_t)(eq - body) : strlen(body);
    const struct flag *f = net_flag_long(body, len);
    char name[40];
    const char *arg = NULL;

    if (f == NULL)
        return net_arg_error(err, argv[*i], "unknown option (see --help)");
    flag_text(f, true, name, sizeof name);
    if (check_scope(f, name, opt->role, err) < 0)
        return -1;
    if (f->has_arg && eq)
        arg = eq + 1;
    else if (f->has_arg && *i + 1 < argc)
        arg = argv[++*i];
    else if (f->has_arg)
        return net_arg_error(err, name, "needs a value");
    else if (eq)
        return net_arg_error(err, name, "takes no value");
    return net_flag_apply(f, name, arg, opt, err);
}

/* Parse a group of short flags ("-4v", "-p0", "-p 0"); *i advances past a separate value. */
static int parse_short(int argc, char **argv, int *i, struct net_options *opt,
                       struct net_error *err)
{
    for (const char *p = argv[*i] + 1; *p != '\0'; p++) {
        const struct flag *f = net_flag_short(*p);
        char name[40];

        if (f == NULL) {
            snprintf(name, sizeof name, "-%c", *p);
            return net_arg_error(err, name, "unknown option (see --help)");
        }
        flag_text(f, false, name, sizeof name);
        if (check_scope(f, name, opt->role, err) < 0)
            return -1;
        if (!f->has_arg) {
            if (net_flag_apply(f, name, NULL, opt, err) < 0)
                return -1;
            continue;
        }
        if (p[1] != '\0')
            return net_flag_apply(f, name, p + 1, opt, err);
        if (*i + 1 >= argc)
            return net_arg_error(err, name, "needs a value");
        return net_flag_apply(f, name, argv[++*i], opt, err);
    }
    return 0;
}

/* The model a server runs when --model does not say: the event-driven one. */
enum net_model net_opt_default_model(enum net_proto proto)
{
    return proto == NET_TCP ? NET_MODEL_EPOLL : NET_MODEL_ITERATIVE;
}

/* Bytes per receive call when --recv-size does not say; UDP reads whole datagrams, so the
 * buffer must hold the largest one. */
size_t net_opt_default_recv_size(enum net_proto proto)
{
    return proto == NET_TCP ? NET_DEFAULT_TCP_RECV_SIZE : NET_DATAGRAM_RECV_SIZE;
}

int net_opt_handshake_ms(const struct net_options *opt)
{
    return (int)((opt->timeout_set ? opt->timeout : NET_TLS_HANDSHAKE_TIMEOUT) * 1000);
}

static void set_defaults(enum net_proto proto, struct net_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->proto = proto;
    opt->tls.datagram = proto == NET_UDP; /* --tls: DTLS over UDP */
    opt->port = NET_DEFAULT_PORT;
    opt->model = net_opt_default_model(proto);
    opt->recv_size = net_opt_default_recv_size(proto);
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
    opt->every = NET_DEFAULT_EVERY;
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
            return net_arg_error(err, text,
                                 "is a URL, not a host; give a host, e.g. localhost:7007");
        return net_arg_error(err, text, "is a URL, not a host; give the host and port alone: %.*s",
                             hostport, scheme + 3);
    }
    if (ambiguous_v6(text)) {
        const char *last = strrchr(text, ':');

        return net_arg_error(err, text,
                             "an IPv6 address with a port needs brackets: [%.*s]:%s "
                             "(the address alone: [%s])",
                             (int)(last - text), text, last + 1, text);
    }
    if (net_addr_split(text, opt->host, sizeof opt->host, port, sizeof port) < 0)
        return net_arg_error(err, text, "is not a host, host:port or [IPv6]:port");
    if (port[0] == '\0')
        return 0;
    if (net_arg_port(text, port, NET_ROLE_CLIENT, &value, err) < 0)
        return -1;
    if (opt->port_set && value != opt->port)
        return net_arg_error(err, text, "names port %u but -p says %u", (unsigned)value,
                             (unsigned)opt->port);
    opt->port = value;
    return 0;
}

/* Stream mode's flags go with --stream, and --stream with no other mode's. */
static int check_stream(const struct net_options *opt, struct net_error *err)
{
    const char *only = opt->rate_set    ? "--rate"
                       : opt->every_set ? "--every"
                       : opt->one_way   ? "--one-way"
                                        : NULL;

    if (!opt->stream && only != NULL)
        return net_arg_error(err, only, "belongs to stream mode: add --stream");
    if (opt->stream && (opt->message || opt->count >= 0 || opt->sweep_max))
        return net_arg_error(err, "--stream",
                             "sends for -t seconds; it cannot be combined with -m, -c or --sweep");
    return 0;
}

/* A server's flags together: a discard server (RFC 863) sends nothing, so a flag that says
 * what to send cannot go with it. */
static int check_server(struct net_options *opt, struct net_error *err)
{
    if (opt->once && opt->proto == NET_TCP && opt->max_clients > 1)
        net_arg_note(opt, "--max-clients: with --once the server serves one client and exits");
    if (!opt->discard)
        return 0;
    if (opt->reply)
        return net_arg_error(err, "--reply",
                             "cannot be combined with --discard, which answers nothing");
    if (opt->greeting)
        return net_arg_error(err, "--greeting",
                             "cannot be combined with --discard, which sends nothing");
    if (opt->rate_limit)
        net_arg_note(opt, "--rate-limit: a --discard server answers nothing, so there is nothing "
                          "to limit");
    return 0;
}

/* --to HOST[:PORT], the port default_port when it has none. */
static int parse_to(struct net_options *opt, uint16_t default_port, struct net_error *err)
{
    char port[16];

    if (net_addr_split(opt->to, opt->to_host, sizeof opt->to_host, port, sizeof port) < 0)
        return net_arg_error(err, "--to", "'%s' is not a host, host:port or [IPv6]:port", opt->to);
    opt->to_port = default_port;
    if (port[0] != '\0' && net_arg_port("--to", port, NET_ROLE_CLIENT, &opt->to_port, err) < 0)
        return -1;
    return 0;
}

/* A relay's flags together: it answers nothing itself (the server behind it does) and has
 * an upstream to go to, which is not itself. */
static int check_relay(struct net_options *opt, struct net_error *err)
{
    const char *answers = opt->greeting     ? "--greeting"
                          : opt->reply      ? "--reply"
                          : opt->discard    ? "--discard"
                          : opt->rate_limit ? "--rate-limit"
                                            : NULL;

    if (answers != NULL)
        return net_arg_error(err, answers,
                             "a relay passes the server's answers through and makes none of its "
                             "own: give %s to the server",
                             answers);
    if (opt->tls_on)
        return net_arg_error(err, "--tls",
                             "a relay passes %s through unread: give --tls to the client and the "
                             "server, and the relay carries records it cannot read",
                             opt->proto == NET_UDP ? "DTLS" : "TLS");
    if (opt->model != net_opt_default_model(opt->proto))
        return net_arg_error(err, "--model", "%s relay runs one model, %s",
                             opt->proto == NET_UDP ? "udp-echo" : "tcp-echo",
                             net_opt_model_name(net_opt_default_model(opt->proto)));
    if (opt->to == NULL)
        return net_arg_error(err, "relay",
                             "needs --to HOST[:PORT], the server it relays to (the port "
                             "defaults to %d)",
                             NET_DEFAULT_PORT);
    return parse_to(opt, NET_DEFAULT_PORT, err);
}

/* A peer's flags together: one other peer (--to), probed as probe mode does; the probes
 * carry the peer's id, so they are longer than a client's. */
static int check_peer(struct net_options *opt, struct net_error *err)
{
    if (opt->tls_on)
        return net_arg_error(
            err, "--tls", "a peer speaks plain %s: try the client and server roles for %s",
            opt->proto == NET_UDP ? "UDP" : "TCP", opt->proto == NET_UDP ? "DTLS" : "TLS");
    if (opt->to == NULL)
        return net_arg_error(err, "peer",
                             "needs --to HOST[:PORT], the other peer (the port defaults to this "
                             "one's -p)");
    if (opt->size < NET_PEER_PROBE_MIN)
        return net_arg_error(err, "-s", "%zu bytes cannot hold a peer's probe header (at least %d)",
                             opt->size, NET_PEER_PROBE_MIN);
    if (opt->proto == NET_UDP && opt->size > NET_DATAGRAM_MAX_V6)
        return net_arg_error(err, "-s",
                             "%zu bytes do not fit in one UDP datagram (at most "
                             "%d over IPv4, %d over IPv6)",
                             opt->size, NET_DATAGRAM_MAX_V4, NET_DATAGRAM_MAX_V6);
    if (parse_to(opt, opt->port, err) < 0)
        return -1;
    if (opt->to_port == 0)
        return net_arg_error(err, "--to",
                             "name the other peer's port (with -p 0 there is no "
                             "default)");
    return 0;
}

/* TLS's flags go with --tls, and say one thing each: a client checks the server one way. */
static int check_tls(struct net_options *opt, struct net_error *err)
{
    const struct tls_config *t = &opt->tls;
    const char *given = t->cert          ? "--cert"
                        : t->key         ? "--key"
                        : t->client_ca   ? "--client-ca"
                        : t->ca          ? "--ca"
                        : t->fingerprint ? "--fingerprint"
                        : t->insecure    ? "--insecure"
                        : t->client_cert ? "--client-cert"
                        : t->client_key  ? "--client-key"
                                         : NULL;

    if (opt->resume && !(opt->tls_on && opt->connect_each))
        return net_arg_error(err, "--resume",
                             "offers the last %s session to each new connection: it needs --tls "
                             "and --connect-each",
                             opt->proto == NET_UDP ? "DTLS" : "TLS");
    if (opt->connect_each && (opt->message || opt->parallel || opt->sweep_max || opt->stream))
        return net_arg_error(err, "--connect-each",
                             "is a way of probing (-c, -i): it cannot go with -m, -P, --sweep or "
                             "--stream");
    if (!opt->tls_on && given != NULL)
        return net_arg_error(err, given, "belongs to %s: add --tls",
                             opt->proto == NET_UDP ? "DTLS" : "TLS");
    if (t->key && !t->cert)
        return net_arg_error(err, "--key", "goes with --cert (the certificate it is the key of)");
    if (t->client_key && !t->client_cert)
        return net_arg_error(err, "--client-key",
                             "goes with --client-cert (the certificate it is the key of)");
    if (t->insecure && (t->ca || t->fingerprint))
        return net_arg_error(err, "--insecure",
                             "checks nothing, so it cannot go with %s, which checks the server",
                             t->ca ? "--ca" : "--fingerprint");
    if (t->ca && t->fingerprint)
        return net_arg_error(err, "--fingerprint",
                             "pins the server's certificate; it cannot go with --ca, which "
                             "checks who signed it (give one)");
    /* a record holds up to 16384 bytes, and a smaller read would leave the rest inside
     * OpenSSL, where poll() cannot see it */
    if (opt->tls_on && opt->proto == NET_TCP && opt->recv_size < NET_TLS_RECORD_MAX) {
        if (opt->recv_size_set)
            net_arg_note(opt, "--recv-size: with --tls the server reads whole TLS records, "
                              "16384 bytes at a time");
        opt->recv_size = NET_TLS_RECORD_MAX;
    }
    return 0;
}

/* Checks that need every flag: combinations that cannot work. */
static int check_combination(struct net_options *opt, struct net_error *err)
{
    if (check_tls(opt, err) < 0)
        return -1;
    if (opt->role == NET_ROLE_SERVER)
        return check_server(opt, err);
    if (opt->role == NET_ROLE_RELAY)
        return check_relay(opt, err);
    if (opt->role == NET_ROLE_PEER)
        return check_peer(opt, err);
    if (opt->role != NET_ROLE_CLIENT)
        return 0;
    if (opt->message && (opt->count >= 0 || opt->parallel || opt->sweep_max))
        return net_arg_error(err, "-m",
                             "sends one message; it cannot be combined with -c, -P "
                             "or --sweep");
    if (opt->parallel && opt->sweep_max)
        return net_arg_error(err, "-P", "cannot be combined with --sweep");
    if (check_stream(opt, err) < 0)
        return -1;
    if ((opt->size_set || opt->count >= 0 || opt->parallel) && opt->size < NET_PROBE_MIN)
        return net_arg_error(err, "-s", "%zu bytes cannot hold a probe's header (at least %d)",
                             opt->size, NET_PROBE_MIN);
    if (opt->sweep_max && opt->sweep_min < NET_PROBE_MIN)
        return net_arg_error(err, "--sweep",
                             "%zu bytes cannot hold a probe's header (at least "
                             "%d)",
                             opt->sweep_min, NET_PROBE_MIN);
    if (opt->proto == NET_UDP && opt->size_set && opt->size > NET_DATAGRAM_MAX_V6 &&
        !opt->sweep_max)
        return net_arg_error(err, "-s",
                             "%zu bytes do not fit in one UDP datagram (at most "
                             "%d over IPv4, %d over IPv6)",
                             opt->size, NET_DATAGRAM_MAX_V4, NET_DATAGRAM_MAX_V6);
    return 0;
}

/* The first word: "server", "client", "relay" or "peer", or --help or --version alone. */
static int parse_command(int argc, char **argv, struct net_options *opt, struct net_error *err)
{
    if (argc < 2)
        return net_arg_error(err, "usage",
                             "say 'server', 'client', 'relay' or 'peer' (see --help)");
    if (strcmp(argv[1], "server") == 0)
        opt->role = NET_ROLE_SERVER;
    else if (strcmp(argv[1], "client") == 0)
        opt->role = NET_ROLE_CLIENT;
    else if (strcmp(argv[1], "relay") == 0)
        opt->role = NET_ROLE_RELAY;
    else if (strcmp(argv[1], "peer") == 0)
        opt->role = NET_ROLE_PEER;
    else if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        opt->role = NET_ROLE_HELP;
    else if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        opt->role = NET_ROLE_VERSION;
    else
        return net_arg_error(err, argv[1],
                             "is not a command; say 'server', 'client', 'relay' or 'peer'");
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
                return net_arg_error(err, argv[i], "the server takes no host; use -b ADDR");
            if (opt->role == NET_ROLE_RELAY)
                return net_arg_error(err, argv[i],
                                     "the relay takes no host; its upstream is --to HOST[:PORT], "
                                     "its own address -b ADDR");
            if (opt->role == NET_ROLE_PEER)
                return net_arg_error(err, argv[i],
                                     "the peer takes no host; the other peer is --to HOST[:PORT], "
                                     "its own address -b ADDR");
            if (*host != NULL)
                return net_arg_error(err, argv[i], "only one host can be given (already: %s)",
                                     *host);
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
        /* a server (relay, peer) listens on loopback unless told otherwise */
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
        net_arg_note(opt,
                     "--keepalive-interval, --keepalive-count: keepalive is off (turn it on with "
                     "--keepalive S)");
    if (opt->nagle && opt->nodelay)
        return net_arg_error(err, "--nagle",
                             "contradicts --nodelay (Nagle's algorithm is off "
                             "unless --nagle is given)");
    if (check_combination(opt, err) < 0)
        return -1;
    /* a process or a thread per client: cap them unless told otherwise */
    if (opt->proto == NET_TCP && !opt->max_clients_set &&
        (opt->model == NET_MODEL_FORK || opt->model == NET_MODEL_THREAD))
        opt->max_clients = NET_DEFAULT_MAX_WORKERS;
    /* a UDP relay's table of mappings is bounded, as a NAT's is */
    if (opt->role == NET_ROLE_RELAY && opt->proto == NET_UDP && !opt->max_clients_set)
        opt->max_clients = NET_DEFAULT_RELAY_MAPPINGS;
    /* a TCP server that only counts reads in large gulps, never the slow end of a stream */
    if (opt->proto == NET_TCP && opt->discard && !opt->recv_size_set)
        opt->recv_size = NET_DEFAULT_TCP_DISCARD_RECV_SIZE;
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
