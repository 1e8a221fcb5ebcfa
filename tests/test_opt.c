/* test_opt.c - one option parser for both programs: what it accepts, what it refuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "datagram.h"
#include "opt.h"

#define ARGV(...) ((char *[]){"prog", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"prog", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(proto, opt, err, ...)                                                                \
    net_opt_parse(proto, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), opt, err)

static void server_defaults(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server"), 0);
    assert_int_equal(o.role, NET_ROLE_SERVER);
    assert_int_equal(o.port, 7007);
    assert_string_equal(o.host, "127.0.0.1"); /* loopback unless told otherwise */
    assert_int_equal(o.model, NET_MODEL_EPOLL);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server"), 0);
    assert_int_equal(o.port, 7007); /* the same number for both protocols */
    assert_int_equal(o.model, NET_MODEL_ITERATIVE);
    assert_int_equal(o.recv_size, NET_DATAGRAM_RECV_SIZE); /* the largest datagram and a byte */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "-6"), 0);
    assert_string_equal(o.host, "::1");
}

static void server_flags(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "-p", "0", "-b", "::1", "--once",
                           "--greeting", "Welcome", "--reply=Hello from server", "--recv-size",
                           "16", "--model", "iterative", "-vq", "--json", "--max-clients", "5",
                           "--idle-timeout", "2.5"),
                     0);
    assert_int_equal(o.port, 0);
    assert_string_equal(o.host, "::1");
    assert_true(o.once);
    assert_string_equal(o.greeting, "Welcome");
    assert_string_equal(o.reply, "Hello from server");
    assert_int_equal(o.recv_size, 16);
    assert_int_equal(o.model, NET_MODEL_ITERATIVE);
    assert_int_equal(o.verbose, 1);
    assert_true(o.quiet);
    assert_true(o.json);
    assert_int_equal(o.max_clients, 5);
    assert_true(o.idle_timeout > 2.49 && o.idle_timeout < 2.51);
    /* --max-clients means little with --once, and the parser says so */
    assert_int_equal(o.nnotes, 1);
    assert_non_null(strstr(o.notes[0], "--once"));
}

static void verbosity_levels(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-v"), 0);
    assert_int_equal(o.verbose, 1);
    assert_false(o.trace);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-vv"), 0);
    assert_true(o.trace);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-v", "-v"), 0);
    assert_true(o.trace);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "--trace-time"), 0);
    assert_true(o.trace && o.trace_time);
}

static void client_hosts(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client"), 0);
    assert_string_equal(o.host, "localhost");
    assert_int_equal(o.port, 7007);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "[::1]:7"), 0);
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.port, 7);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-m", "hi", "127.0.0.1:9000"), 0);
    assert_string_equal(o.host, "127.0.0.1");
    assert_int_equal(o.port, 9000);
    assert_string_equal(o.message, "hi");
    /* options may follow the host, as with ping */
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "::1", "-p", "9", "-4"), 0);
    assert_int_equal(o.port, 9);
    assert_int_equal(o.family, NET_V4);
    /* a port in HOST that agrees with -p is fine; one that disagrees is not */
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-p", "9", "h:9"), 0);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-p", "9", "h:10"), -1);
}

static void client_probe_flags(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client"), 0);
    assert_int_equal(o.count, -1);
    assert_int_equal(o.size, 64);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "-c", "10", "-s", "1000", "-i", "0.2", "-W",
                           "0.5", "--csv", "out.csv"),
                     0);
    assert_int_equal(o.count, 10);
    assert_int_equal(o.size, 1000);
    assert_true(o.interval > 0.19 && o.interval < 0.21);
    assert_true(o.timeout > 0.49 && o.timeout < 0.51);
    assert_string_equal(o.csv, "out.csv");
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-c0", "-P", "64", "-t", "5"), 0);
    assert_int_equal(o.count, 0);
    assert_int_equal(o.parallel, 64);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "--sweep", "32..65536"), 0);
    assert_int_equal(o.sweep_min, 32);
    assert_int_equal(o.sweep_max, 65536);
}

/* Each bad command line fails with a usage error whose message names the flag. */
static void expect_usage(int rc, const struct net_error *e, const char *needle)
{
    assert_int_equal(rc, -1);
    assert_int_equal(e->kind, NET_ERR_USAGE);
    if (strstr(e->what, needle) == NULL && strstr(e->detail, needle) == NULL)
        fail_msg("'%s: %s' does not mention '%s'", e->what, e->detail, needle);
}

/* The host forms a beginner gets wrong: each says what to type instead. */
static void beginner_hosts_say_what_to_type(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "::1:7007"), &e, "needs brackets: [::1]:7007");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "fe80::1:2"), &e,
                 "the address alone: [fe80::1:2]");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "http://localhost:7007/x"), &e,
                 "is a URL, not a host; give the host and port alone: localhost:7007");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "udp://"), &e, "is a URL");
    /* still addresses: no port-like tail, a tail past 65535, or brackets */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "2001:db8::1"), 0);
    assert_string_equal(o.host, "2001:db8::1");
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "::1:70000"), 0);
    assert_string_equal(o.host, "::1:70000");
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "[::1:7007]"), 0);
    assert_string_equal(o.host, "::1:7007");
    assert_int_equal(o.port, 7007);
}

static void bad_numbers_are_usage_errors(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "-p", "70000"), &e, "70000");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "-p", "80abc"), &e, "80abc");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "-p", "-1"), &e, "-1");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "-p", ""), &e, "-p");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "-p", "0"), &e, "server's port");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-c", "-1"), &e, "-1");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-c", "1x"), &e, "1x");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-i", "fast"), &e, "fast");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-W", "0"), &e, "-W");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-W", "nan"), &e, "nan");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-P", "0"), &e, "-P");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-s", "70000"), &e, "datagram");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--sweep", "100..10"), &e, "--sweep");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--sweep", "100"), &e, "--sweep");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--sweep", "16..64"), &e, "header");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "-c", "3", "-s", "31"), &e, "header");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--recv-size", "0"), &e, "--recv-size");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--model", "threads"), &e, "threads");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--idle-timeout", "-3"), &e, "-3");
}

/* Seconds are plain decimals, as a user types them: no hex, exponent, sign or words, which
 * strtod would take ("-i 0x10" would be 16 s). */
static void seconds_are_plain_decimals(void **state)
{
    static char *const bad[] = {"0x10", "1e3", "1E-2",  "+1",    " 1", "1 ",
                                "inf",  ".",   "1.2.3", "0x1p3", ""};
    struct net_options o;
    struct net_error e;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_usage(PARSE(NET_UDP, &o, &e, "client", "-i", bad[i]), &e, "-i");
        expect_usage(PARSE(NET_UDP, &o, &e, "client", "-W", bad[i]), &e, "-W");
        expect_usage(PARSE(NET_UDP, &o, &e, "client", "-t", bad[i]), &e, "-t");
        expect_usage(PARSE(NET_TCP, &o, &e, "server", "--idle-timeout", bad[i]), &e,
                     "--idle-timeout");
    }
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-i", ".5", "-W", "2."), 0);
    assert_true(o.interval > 0.49 && o.interval < 0.51);
    assert_true(o.timeout > 1.99 && o.timeout < 2.01);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-i", "0.000001", "-W", "10"), 0);
    assert_true(o.interval > 0 && o.interval < 0.00001);
}

/* -b longer than a host name can be is refused, never cut to fit. */
static void long_bind_is_refused(void **state)
{
    char name[300];
    struct net_options o;
    struct net_error e;

    (void)state;
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "-b", name), &e, "255");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-b", name), &e, "255");
    name[255] = '\0';
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "-b", name), 0);
    assert_string_equal(o.host, name);
}

static void bad_shapes_are_usage_errors(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    expect_usage(net_opt_parse(NET_TCP, 1, (char *[]){"prog", NULL}, &o, &e), &e, "server");
    expect_usage(PARSE(NET_TCP, &o, &e, "serve"), &e, "serve");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--frobnicate"), &e, "--frobnicate");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "-x"), &e, "-x");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "-p"), &e, "needs a value");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--once=yes"), &e, "takes no value");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "somehost"), &e, "-b");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "-m", "hi"), &e, "client option");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--once"), &e, "server option");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "a", "b"), &e, "only one host");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "[::1"), &e, "[::1");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "h:80abc"), &e, "80abc");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "-m", "x", "-c", "3"), &e, "-m");
}

/* --tls and its flags: each goes with --tls, on its own role, and with the flags it needs;
 * a pin and a CA, or either with --insecure, contradict each other. */
static void tls_flags_go_together(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--cert", "c.pem"), &e, "add --tls");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--fingerprint", "x"), &e, "belongs to DTLS");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--tls", "--key", "k.pem"), &e,
                 "goes with --cert");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--tls", "--client-key", "k.pem"), &e,
                 "goes with --client-cert");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--tls", "--insecure", "--ca", "ca.pem"), &e,
                 "cannot go with --ca");
    expect_usage(
        PARSE(NET_UDP, &o, &e, "client", "--tls", "--ca", "ca.pem", "--fingerprint", "SHA256:00"),
        &e, "cannot go with --ca");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--tls", "--resume"), &e,
                 "needs --tls and --connect-each");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--connect-each", "--resume"), &e,
                 "needs --tls and --connect-each");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--connect-each", "-m", "hi"), &e,
                 "cannot go with -m, -P");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--connect-each", "-P", "4"), &e,
                 "--connect-each");
    /* each flag on the role it belongs to */
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--tls", "--cert", "c.pem"), &e, "server option");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--tls", "--client-ca", "ca.pem"), &e,
                 "server option");
    expect_usage(PARSE(NET_UDP, &o, &e, "server", "--tls", "--ca", "ca.pem"), &e, "client option");
    expect_usage(PARSE(NET_UDP, &o, &e, "server", "--tls", "--insecure"), &e, "client option");
    /* what works: a pinned client, a resumed set-up, a server with its own certificate */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "--tls", "--fingerprint", "SHA256:00",
                           "--connect-each", "--resume", "-c", "3"),
                     0);
    assert_true(o.tls_on && o.connect_each && o.resume);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--tls", "--cert", "c.pem", "--key", "k.pem",
                           "--client-ca", "ca.pem"),
                     0);
    assert_string_equal(o.tls.client_ca, "ca.pem");
    /* a TLS server reads whole records: --recv-size below 16384 is raised, with a note */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--tls", "--recv-size", "512"), 0);
    assert_int_equal(o.recv_size, 16384);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--recv-size", "512"), 0);
    assert_int_equal(o.recv_size, 512);
}

/* A relay takes the server's flags and --to; what it relays to, and the table a UDP relay
 * keeps, come from them. */
static void relay_flags(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "relay", "-p", "0", "--to", "[::1]:7008", "-v"), 0);
    assert_int_equal(o.role, NET_ROLE_RELAY);
    assert_string_equal(o.to_host, "::1");
    assert_int_equal(o.to_port, 7008);
    assert_int_equal(o.port, 0);
    assert_string_equal(o.host, NET_DEFAULT_BIND_V4);
    assert_int_equal(o.max_clients, 0); /* TCP: as the epoll server, no cap */
    assert_int_equal(PARSE(NET_UDP, &o, &e, "relay", "--to", "db"), 0);
    assert_string_equal(o.to_host, "db");
    assert_int_equal(o.to_port, NET_DEFAULT_PORT);
    assert_int_equal(o.max_clients, NET_DEFAULT_RELAY_MAPPINGS);
    assert_int_equal(o.nnotes, 0);
    /* a UDP relay's --max-clients and --idle-timeout size and age its table: no note */
    assert_int_equal(
        PARSE(NET_UDP, &o, &e, "relay", "--to", "db", "--max-clients", "3", "--idle-timeout", "5"),
        0);
    assert_int_equal(o.max_clients, 3);
    assert_true(o.idle_timeout == 5);
    assert_int_equal(o.nnotes, 0);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "relay", "--to", "db", "--loop-limit", "5"), 0);
    assert_int_equal(o.nnotes, 1);
    expect_usage(PARSE(NET_TCP, &o, &e, "relay"), &e, "needs --to HOST[:PORT]");
    expect_usage(PARSE(NET_TCP, &o, &e, "relay", "--to", "db:0"), &e,
                 "must name the server's port");
    expect_usage(PARSE(NET_UDP, &o, &e, "relay", "--to", "db:http"), &e, "not a port");
    expect_usage(PARSE(NET_TCP, &o, &e, "relay", "--to", "db", "db2"), &e, "takes no host");
    expect_usage(PARSE(NET_TCP, &o, &e, "relay", "--to", "db", "-m", "hi"), &e, "client option");
    expect_usage(PARSE(NET_TCP, &o, &e, "relay", "--to", "db", "--greeting", "hi"), &e,
                 "give --greeting to the server");
    expect_usage(PARSE(NET_UDP, &o, &e, "relay", "--to", "db", "--discard"), &e,
                 "give --discard to the server");
    expect_usage(PARSE(NET_UDP, &o, &e, "relay", "--to", "db", "--rate-limit", "5"), &e,
                 "give --rate-limit to the server");
    expect_usage(PARSE(NET_UDP, &o, &e, "relay", "--to", "db", "--tls"), &e,
                 "passes DTLS through unread");
    expect_usage(PARSE(NET_TCP, &o, &e, "relay", "--to", "db", "--model", "fork"), &e,
                 "runs one model, epoll");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--to", "db"), &e, "is a relay option");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--to", "db"), &e, "is a relay option");
    expect_usage(PARSE(NET_TCP, &o, &e, "proxy"), &e, "say 'server', 'client', 'relay' or 'peer'");
}

/* A peer takes --to, probe mode's flags and those of every role; the other peer's port is
 * its own unless --to says, and its probes are longer than a client's. */
static void peer_flags(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(
        PARSE(NET_UDP, &o, &e, "peer", "-p", "7001", "--to", "10.0.0.2", "-c", "5", "-i", "0.2"),
        0);
    assert_int_equal(o.role, NET_ROLE_PEER);
    assert_string_equal(o.to_host, "10.0.0.2");
    assert_int_equal(o.to_port, 7001);
    assert_int_equal(o.count, 5);
    assert_string_equal(o.host, NET_DEFAULT_BIND_V4);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "peer", "--to", "[::1]:7002", "-6", "-s", "46"), 0);
    assert_string_equal(o.to_host, "::1");
    assert_int_equal(o.to_port, 7002);
    assert_string_equal(o.host, NET_DEFAULT_BIND_V6);
    expect_usage(PARSE(NET_TCP, &o, &e, "peer"), &e, "needs --to HOST[:PORT]");
    expect_usage(PARSE(NET_UDP, &o, &e, "peer", "--to", "h", "-s", "45"), &e, "at least 46");
    expect_usage(PARSE(NET_UDP, &o, &e, "peer", "--to", "h", "-s", "65528"), &e,
                 "do not fit in one UDP datagram");
    expect_usage(PARSE(NET_TCP, &o, &e, "peer", "-p", "0", "--to", "h"), &e,
                 "name the other peer's port");
    expect_usage(PARSE(NET_TCP, &o, &e, "peer", "--to", "h", "-P", "2"), &e,
                 "is not a peer option");
    expect_usage(PARSE(NET_UDP, &o, &e, "peer", "--to", "h", "--reply", "x"), &e,
                 "is not a peer option");
    expect_usage(PARSE(NET_UDP, &o, &e, "peer", "--to", "h", "--tls"), &e, "a peer speaks plain");
    expect_usage(PARSE(NET_TCP, &o, &e, "peer", "--to", "h", "h2"), &e, "takes no host");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--to", "h"), &e, "is a relay option");
}

static void help_and_version(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "--help"), 0);
    assert_int_equal(o.role, NET_ROLE_HELP);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-h"), 0);
    assert_int_equal(o.role, NET_ROLE_HELP);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "--version"), 0);
    assert_int_equal(o.role, NET_ROLE_VERSION);
}

/* A flag without meaning for UDP is accepted and answered with the reason, never ignored. */
static void udp_explains_tcp_only_flags(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--greeting", "hi"), 0);
    assert_int_equal(o.nnotes, 1);
    assert_non_null(strstr(o.notes[0], "cannot speak first"));
    assert_null(o.greeting);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--model", "thread"), 0);
    assert_int_equal(o.nnotes, 1);
    assert_int_equal(o.model, NET_MODEL_ITERATIVE);
    assert_non_null(strstr(o.notes[0], "--model"));
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "--nodelay"), 0);
    assert_int_equal(o.nnotes, 1);
    assert_false(o.nodelay);
    assert_non_null(strstr(o.notes[0], "Nagle"));
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--nagle"), 0);
    assert_int_equal(o.nnotes, 1);
    assert_false(o.nagle);
    assert_non_null(strstr(o.notes[0], "--nagle: UDP has no Nagle algorithm"));
    /* TCP: Nagle off unless --nagle; --nodelay says so, and contradicts --nagle */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client"), 0);
    assert_false(o.nagle);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "--nodelay"), 0);
    assert_true(o.nodelay);
    assert_false(o.nagle);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--nagle"), 0);
    assert_true(o.nagle);
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--nagle", "--nodelay"), &e,
                 "contradicts --nodelay");
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--model", "iterative"), 0);
    assert_int_equal(o.nnotes, 0);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--max-clients", "3", "--idle-timeout", "1"),
                     0);
    assert_int_equal(o.nnotes, 2);
    /* the same flags mean something to TCP and draw no note */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--greeting", "hi", "--model", "thread",
                           "--max-clients", "3", "--idle-timeout", "1"),
                     0);
    assert_int_equal(o.nnotes, 0);
    assert_string_equal(o.greeting, "hi");
}

/* A server left running is safe by default: a cap on processes and threads, an idle limit
 * a trickle cannot defeat, keepalive; 0 turns each off. */
static void server_safety_defaults(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--model", "fork"), 0);
    assert_int_equal(o.max_clients, 64);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--model", "thread"), 0);
    assert_int_equal(o.max_clients, 64);
    assert_true(o.idle_timeout > 59.9 && o.idle_timeout < 60.1);
    assert_int_equal(o.min_bytes, 64);
    assert_int_equal(o.so.keepalive, 60);
    /* one event loop costs no process or thread per client: no cap unless asked */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server"), 0);
    assert_int_equal(o.max_clients, 0);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--model", "fork", "--max-clients", "0",
                           "--idle-timeout", "0", "--keepalive", "0", "--min-bytes", "1"),
                     0);
    assert_int_equal(o.max_clients, 0);
    assert_true(o.idle_timeout == 0);
    assert_int_equal(o.so.keepalive, 0);
    assert_int_equal(o.min_bytes, 1);
    assert_int_equal(o.nnotes, 0);
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--min-bytes", "0"), &e, "--min-bytes");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--keepalive", "40000"), &e, "--keepalive");
    /* UDP has no connection for them to act on, and says so */
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--min-bytes", "8", "--keepalive", "5"), 0);
    assert_int_equal(o.nnotes, 2);
}

/* Buffer sizes read as iperf3 -w reads them: bytes, k and M binary. */
static void buffer_sizes_take_k_and_m(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--rcvbuf", "4096", "--sndbuf", "64k"), 0);
    assert_int_equal(o.so.rcvbuf, 4096);
    assert_int_equal(o.so.sndbuf, 65536);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "--rcvbuf", "4M", "--sndbuf", "1K"), 0);
    assert_int_equal(o.so.rcvbuf, 4194304);
    assert_int_equal(o.so.sndbuf, 1024);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "--rcvbuf", "1024m"), 0);
    assert_int_equal(o.so.rcvbuf, 1073741824);
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--rcvbuf", "0"), &e, "1 byte to 1G");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--rcvbuf", "1025M"), &e, "1 byte to 1G");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--rcvbuf", "2G"), &e, "--rcvbuf");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--sndbuf", "k"), &e, "--sndbuf");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--sndbuf", "4kk"), &e, "--sndbuf");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--sndbuf", "-4"), &e, "--sndbuf");
}

/* Each option's range, said whole when a value falls outside it; unset options leave the
 * kernel's defaults. */
static void socket_option_ranges(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client"), 0);
    assert_int_equal(o.so.linger, -1);
    assert_int_equal(o.so.tos, -1);
    assert_int_equal(o.so.ttl, 0);
    assert_int_equal(o.so.keepalive, 0); /* a client probes only when asked */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "--linger", "0", "--ttl", "1", "--tos", "184",
                           "--keepalive", "2", "--keepalive-interval", "1", "--keepalive-count",
                           "127"),
                     0);
    assert_int_equal(o.so.linger, 0);
    assert_int_equal(o.so.ttl, 1);
    assert_int_equal(o.so.tos, 184);
    assert_int_equal(o.so.keepalive, 2);
    assert_int_equal(o.so.keepalive_interval, 1);
    assert_int_equal(o.so.keepalive_count, 127);
    assert_int_equal(o.nnotes, 0);
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--ttl", "0"), &e, "from 1 to 255");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--ttl", "256"), &e, "from 1 to 255");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--tos", "256"), &e, "from 0 to 255");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--linger", "3601"), &e, "from 0 to 3600");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--keepalive-count", "0"), &e, "from 1 to 127");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--keepalive-interval", "x"), &e,
                 "from 1 to 32767");
    /* sharing a port is a server's choice */
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--reuseport"), &e, "server option");
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--reuseport", "--reuseaddr"), 0);
    assert_true(o.so.reuseport && o.so.reuseaddr);
}

/* An option that cannot act on one protocol is accepted and answered with one line why. */
static void meaningless_options_say_why(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "--linger", "0"), 0);
    assert_int_equal(o.so.linger, -1);
    assert_int_equal(o.nnotes, 1);
    assert_non_null(strstr(o.notes[0], "UDP has no connection"));
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "--dontfrag"), 0);
    assert_false(o.so.dontfrag);
    assert_non_null(strstr(o.notes[0], "TCP always sets DF"));
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "--dontfrag"), 0);
    assert_true(o.so.dontfrag);
    assert_int_equal(o.nnotes, 0);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--reuseaddr"), 0);
    assert_false(o.so.reuseaddr);
    assert_non_null(strstr(o.notes[0], "always sets SO_REUSEADDR"));
    /* interval and count without keepalive (a client's default) change nothing */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "--keepalive-count", "5"), 0);
    assert_int_equal(o.nnotes, 1);
    assert_non_null(strstr(o.notes[0], "keepalive is off"));
}

/* A flag one protocol has no use for still has its value checked, so a bad one is the same
 * usage error in both programs; a good one is dropped, with the note. */
static void ignored_flags_are_still_checked(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    expect_usage(PARSE(NET_UDP, &o, &e, "server", "--max-clients", "x"), &e, "--max-clients");
    expect_usage(PARSE(NET_UDP, &o, &e, "server", "--idle-timeout", "-1"), &e, "--idle-timeout");
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "--linger", "3601"), &e, "from 0 to 3600");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--rate-limit", "0"), &e, "--rate-limit");
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--loop-limit", "5"), 0);
    assert_int_equal(o.loop_limit, NET_DEFAULT_LOOP_LIMIT);
    assert_int_equal(o.nnotes, 1);
    assert_non_null(strstr(o.notes[0], "--loop-limit"));
}

/* A UDP probe fits in one datagram: 65527 bytes over IPv6, and the error names both limits. */
static void udp_size_stops_at_one_datagram(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_UDP, &o, &e, "client", "-s", "65527"), 0);
    assert_int_equal(o.size, NET_DATAGRAM_MAX_V6);
    expect_usage(PARSE(NET_UDP, &o, &e, "client", "-s", "65528"), &e,
                 "at most 65507 over IPv4, 65527 over IPv6");
    /* TCP carries any size as a stream */
    assert_int_equal(PARSE(NET_TCP, &o, &e, "client", "-s", "65528"), 0);
}

/* --discard (RFC 863): a server flag; a TCP discard server reads in large gulps unless
 * told otherwise, and a flag that would send something cannot go with it. */
static void discard_sends_nothing(void **state)
{
    struct net_options o;
    struct net_error e;

    (void)state;
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--discard"), 0);
    assert_true(o.discard);
    assert_int_equal(o.recv_size, NET_DEFAULT_TCP_DISCARD_RECV_SIZE);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server", "--discard", "--recv-size", "100"), 0);
    assert_int_equal(o.recv_size, 100);
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--discard"), 0);
    assert_true(o.discard);
    assert_int_equal(o.recv_size, NET_DATAGRAM_RECV_SIZE); /* already any datagram */
    assert_int_equal(o.nnotes, 0);
    assert_int_equal(PARSE(NET_TCP, &o, &e, "server"), 0);
    assert_false(o.discard);
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--discard", "--reply", "x"), &e, "--discard");
    expect_usage(PARSE(NET_UDP, &o, &e, "server", "--reply", "x", "--discard"), &e, "--discard");
    expect_usage(PARSE(NET_TCP, &o, &e, "server", "--greeting", "hi", "--discard"), &e,
                 "sends nothing");
    expect_usage(PARSE(NET_TCP, &o, &e, "client", "--discard"), &e, "server option");
    expect_usage(PARSE(NET_UDP, &o, &e, "server", "--discard=yes"), &e, "takes no value");
    /* UDP drops --greeting with its own note; --rate-limit has nothing to limit */
    assert_int_equal(PARSE(NET_UDP, &o, &e, "server", "--discard", "--rate-limit", "5"), 0);
    assert_int_equal(o.nnotes, 1);
    assert_non_null(strstr(o.notes[0], "nothing to limit"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_defaults),
        cmocka_unit_test(server_flags),
        cmocka_unit_test(relay_flags),
        cmocka_unit_test(peer_flags),
        cmocka_unit_test(verbosity_levels),
        cmocka_unit_test(client_hosts),
        cmocka_unit_test(beginner_hosts_say_what_to_type),
        cmocka_unit_test(client_probe_flags),
        cmocka_unit_test(bad_numbers_are_usage_errors),
        cmocka_unit_test(seconds_are_plain_decimals),
        cmocka_unit_test(long_bind_is_refused),
        cmocka_unit_test(bad_shapes_are_usage_errors),
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(udp_explains_tcp_only_flags),
        cmocka_unit_test(server_safety_defaults),
        cmocka_unit_test(buffer_sizes_take_k_and_m),
        cmocka_unit_test(socket_option_ranges),
        cmocka_unit_test(meaningless_options_say_why),
        cmocka_unit_test(ignored_flags_are_still_checked),
        cmocka_unit_test(udp_size_stops_at_one_datagram),
        cmocka_unit_test(discard_sends_nothing),
        cmocka_unit_test(tls_flags_go_together),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
