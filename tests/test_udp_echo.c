/* test_udp_echo.c - udp-echo server and client over loopback, IPv4 and IPv6, for real.
 * Twin of test_tcp_echo.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* One address family to run a test in. */
struct family {
    const char *flag;   /* -4 or -6 */
    const char *addr;   /* its loopback address */
    size_t max_payload; /* the largest datagram: 65535 less the IP and UDP headers */
};

static struct family v4 = {"-4", "127.0.0.1", 65507};
static struct family v6 = {"-6", "::1", 65527};

#define UDP (char *)h_prog("UDP_ECHO")
#define PORT_TEXT(s) (snprintf(port_text, sizeof port_text, "%u", (unsigned)(s).port), port_text)

static char port_text[8];

/* Start a server and learn its port from its first line. */
static void start(struct h_server *s, char *const argv[])
{
    assert_int_equal(h_server_start(s, argv), 0);
}

static void stop(struct h_server *s, struct h_result *res)
{
    assert_int_equal(h_server_stop(s, SIGTERM, 5000, res), 0);
}

/* Send one datagram from a fresh socket and return the reply's length (-1: none came). */
static ssize_t bounce(const struct family *f, uint16_t port, const void *msg, size_t len,
                      void *reply, size_t cap, int wait_ms)
{
    int fd = h_connect(f->addr, port, SOCK_DGRAM);
    ssize_t n;

    assert_true(fd >= 0);
    h_timeout(fd, wait_ms);
    assert_int_equal(send(fd, msg, len, 0), (ssize_t)len);
    n = recv(fd, reply, cap, 0);
    close(fd);
    return n;
}

static void first_line_names_the_real_port(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;
    char expect[64];

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, NULL});
    snprintf(expect, sizeof expect,
             f == &v4 ? "listening on 127.0.0.1:%u (udp)" : "listening on [::1]:%u (udp)",
             (unsigned)s.port);
    assert_string_equal(s.first_line, expect);
    stop(&s, &res);
    assert_int_equal(res.status, 0);
    h_result_free(&res);
}

static void json_first_line_names_the_real_port(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", "--json", (char *)f->flag, NULL});
    assert_non_null(strstr(s.first_line, "\"event\":\"listening\""));
    assert_non_null(strstr(s.first_line, "\"proto\":\"udp\""));
    assert_int_equal(h_json_int(s.first_line, "port"), s.port);
    stop(&s, &res);
    h_result_free(&res);
}

static void message_is_echoed(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, NULL});
    h_expect_output((char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m",
                               "hello, socklab", NULL},
                    NULL, 0, "hello, socklab\n", 15);
    stop(&s, &res);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "summary: 1 peers, 1 datagrams received, 1 sent"));
    h_result_free(&res);
}

/* Each stdin line is one datagram, NUL bytes and all, and comes back as it went. */
static void stdin_lines_are_echoed_exactly(void **state)
{
    const struct family *f = *state;
    static const char lines[] = "first\nwith\0nul\0bytes\n\nlast line\n";
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, NULL});
    h_expect_output((char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, NULL}, lines,
                    sizeof lines - 1, lines, sizeof lines - 1);
    stop(&s, &res);
    assert_non_null(strstr(res.out, "4 datagrams received, 4 sent"));
    h_result_free(&res);
}

/* 1 byte, 0 bytes (a real message, not EOF) and the largest datagram each come back whole. */
static void datagram_sizes_at_the_edges(void **state)
{
    const struct family *f = *state;
    size_t sizes[] = {1, 0, 1472, f->max_payload};
    char *msg = malloc(65536), *reply = malloc(65536);
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, NULL});
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        h_fill(msg, sizes[i], (uint32_t)i + 1);
        assert_int_equal(bounce(f, s.port, msg, sizes[i], reply, 65536, 2000), (ssize_t)sizes[i]);
        assert_memory_equal(reply, msg, sizes[i]);
    }
    stop(&s, &res);
    assert_non_null(strstr(res.out, "4 datagrams received, 4 sent"));
    h_result_free(&res);
    free(msg);
    free(reply);
}

/* The seed's one-shot server, over UDP: one datagram answered, then exit. */
static void once_with_reply_is_the_one_shot_server(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, "--once", "--reply",
                         "Hello from server", NULL});
    h_expect_output((char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m",
                               "Hello from client", NULL},
                    NULL, 0, "Hello from server\n", 18);
    assert_int_equal(h_server_wait(&s, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "summary: 1 peers, 1 datagrams received, 1 sent"));
    h_result_free(&res);
}

/* --greeting means nothing without a connection: udp-echo says so and serves anyway. */
static void greeting_is_explained_not_ignored(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, "--greeting", "Welcome", NULL});
    h_expect_output(
        (char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "hi", NULL}, NULL, 0,
        "hi\n", 3);
    stop(&s, &res);
    assert_non_null(strstr(res.err, "udp-echo: --greeting: UDP has no connection, so the "
                                    "server cannot speak first"));
    h_result_free(&res);
}

/* A 40-byte message to a server that reads 16 bytes at most: no reply, exit 1. */
static void send_forty_bytes_unanswered(const struct h_server *s, const struct family *f)
{
    struct h_result res;

    assert_int_equal(h_run((char *[]){UDP, "client", "-p", PORT_TEXT(*s), (char *)f->addr, "-W",
                                      "0.3", "-m", "a message of forty bytes, near enough..", NULL},
                           NULL, 0, NULL, 5000, &res),
                     0);
    assert_int_equal(res.status, 1);
    assert_non_null(strstr(res.err, "no reply from"));
    h_result_free(&res);
}

/* A datagram longer than --recv-size is cut by the kernel: counted, reported, never echoed
 * short. */
static void truncated_datagram_is_counted_not_echoed(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, "--recv-size", "16", "--json",
                         NULL});
    send_forty_bytes_unanswered(&s, f);
    /* a message that fits is still echoed */
    h_expect_output((char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m",
                               "sixteen bytes!!!", NULL},
                    NULL, 0, "sixteen bytes!!!\n", 17);
    stop(&s, &res);
    assert_non_null(strstr(res.out, "\"event\":\"truncated datagram from\""));
    assert_int_equal(h_json_int(res.out, "truncated"), 1);
    assert_int_equal(h_json_int(res.out, "messages_sent"), 1);
    h_result_free(&res);
}

/* --once serves one datagram: one too long to echo is served too (counted, not echoed), and
 * the server exits as it would after an echo. */
static void once_ends_after_a_truncated_datagram(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, "--recv-size", "16", "--once",
                         NULL});
    send_forty_bytes_unanswered(&s, f);
    assert_int_equal(h_server_wait(&s, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "1 truncated"));
    h_result_free(&res);
}

/* Sources that could start an echo loop or a reflection get nothing back, and are counted. */
static void reflection_sources_are_refused(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;
    char reply[64];
    int fd;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, "--json", NULL});
    /* from port 7, the echo service's own port: answering could start an endless loop */
    fd = h_bound(f->addr, 7, SOCK_DGRAM);
    assert_true(fd >= 0);
    assert_int_equal(h_aim(fd, f->addr, s.port), 0);
    h_timeout(fd, 300);
    assert_int_equal(send(fd, "loop?", 5, 0), 5);
    errno = 0;
    assert_int_equal(recv(fd, reply, sizeof reply, 0), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(fd);
    stop(&s, &res);
    assert_int_equal(h_json_int(res.out, "refused"), 1);
    assert_int_equal(h_json_int(res.out, "messages_sent"), 0);
    assert_non_null(strstr(res.out, "\"event\":\"refused\""));
    h_result_free(&res);
}

/* A notice per dropped datagram must not stop the server: its stdout is a pipe nobody reads,
 * thousands of datagrams are dropped with a notice each, and a client is still answered. */
static void notices_never_block_the_server(void **state)
{
    enum { DROPPED = 3000, BATCH = 50 };
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;
    char big[64];
    int fd;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, "--recv-size", "16", "--json",
                         NULL});
    fd = h_connect(f->addr, s.port, SOCK_DGRAM);
    assert_true(fd >= 0);
    memset(big, 'x', sizeof big);
    /* each is longer than --recv-size: cut, counted, not echoed, and noticed */
    for (int i = 0; i < DROPPED; i++) {
        assert_int_equal(send(fd, big, sizeof big, 0), (ssize_t)sizeof big);
        if ((i + 1) % BATCH == 0)
            nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL); /* let the server keep up */
    }
    close(fd);
    assert_int_equal(h_run((char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-W", "2",
                                      "-m", "still there?", NULL},
                           NULL, 0, NULL, 10000, &res),
                     0);
    printf("measured: after %d truncated datagrams into an unread pipe, the client %s\n", DROPPED,
           res.status == 0 ? "was answered" : "got no answer");
    assert_int_equal(res.status, 0);
    assert_string_equal(res.out, "still there?\n");
    h_result_free(&res);
    stop(&s, &res);
    /* every datagram is counted even when its notice is not printed */
    printf("measured: %d notice lines for %lld truncated datagrams\n", h_lines(res.out),
           h_json_int(res.out, "truncated"));
    assert_true(h_lines(res.out) < 100);
    assert_true(h_json_int(strstr(res.out, "\"event\":\"summary\""), "truncated") >= DROPPED / 2);
    h_result_free(&res);
}

/* A default server (no -b, -4 or -6) listens on 127.0.0.1 and also holds [::1] on its
 * port, the address localhost names first: no other program can bind it, and a default
 * client, which tries ::1 first, still reaches the server. */
static void default_server_holds_the_other_loopback(void **state)
{
    struct h_server s;
    struct h_result res;
    int squatted;

    (void)state;
    assert_int_equal(h_server_start(&s, (char *[]){UDP, "server", "-p", "0", "--json", NULL}), 0);
    assert_non_null(strstr(s.first_line, "\"address\":\"127.0.0.1\""));
    squatted = h_squat_loopback6(SOCK_DGRAM, s.port);
    printf("measured: bind [::1]:PORT beside a default udp server: %s\n",
           squatted == 0 ? "bound (squatted)" : strerror(squatted));
    if (squatted == EADDRNOTAVAIL) {
        stop(&s, &res);
        h_result_free(&res);
        skip(); /* no ::1 here: nothing to hold, nothing to squat */
    }
    assert_int_equal(squatted, EADDRINUSE);
    h_expect_output((char *[]){UDP, "client", "-p", PORT_TEXT(s), "localhost", "-m", "hi", NULL},
                    NULL, 0, "hi\n", 3);
    stop(&s, &res);
    assert_int_equal(h_json_int(res.out, "messages_received"), 1);
    h_result_free(&res);
}

/* Two default servers with --reuseport share the port, the [::1] each holds included, and a
 * squatter of [::1]:PORT without it is still refused. */
static void reuseport_servers_share_the_held_loopback(void **state)
{
    struct h_server s1, s2;
    struct h_result res;
    char port[8];

    (void)state;
    snprintf(port, sizeof port, "%u", (unsigned)h_free_port(SOCK_DGRAM));
    assert_int_equal(
        h_server_start(&s1, (char *[]){UDP, "server", "-p", port, "--reuseport", NULL}), 0);
    assert_int_equal(
        h_server_start(&s2, (char *[]){UDP, "server", "-p", port, "--reuseport", NULL}), 0);
    assert_true(h_squat_loopback6(SOCK_DGRAM, s1.port) == EADDRINUSE ||
                h_squat_loopback6(SOCK_DGRAM, s1.port) == EADDRNOTAVAIL);
    h_expect_output((char *[]){UDP, "client", "-p", port, "localhost", "-m", "hi", NULL}, NULL, 0,
                    "hi\n", 3);
    stop(&s2, &res);
    h_result_free(&res);
    stop(&s1, &res);
    h_result_free(&res);
}

static void closed_port_is_refused(void **state)
{
    const struct family *f = *state;
    struct h_result res;
    char port[8];

    snprintf(port, sizeof port, "%u", (unsigned)h_free_port(SOCK_DGRAM));
    assert_int_equal(h_run((char *[]){UDP, "client", "-p", port, (char *)f->addr, "-m", "x", NULL},
                           NULL, 0, NULL, 10000, &res),
                     0);
    assert_int_equal(res.status, 1);
    /* on loopback the ICMP port unreachable always arrives: a connected socket reports it */
    assert_non_null(strstr(res.err, "udp-echo: no server answers at "));
    assert_non_null(strstr(res.err, "connection refused"));
    assert_non_null(strstr(res.err, "ICMP port unreachable: nothing receives on that UDP port; "
                                    "TCP and UDP ports are separate"));
    assert_int_equal(res.outlen, 0);
    h_result_free(&res);
}

static void port_in_use_is_a_clear_error(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, NULL});
    assert_int_equal(h_run((char *[]){UDP, "server", "-p", PORT_TEXT(s), (char *)f->flag, NULL},
                           NULL, 0, NULL, 10000, &res),
                     0);
    assert_int_equal(res.status, 1);
    assert_non_null(strstr(res.err, "udp-echo: cannot bind "));
    assert_non_null(strstr(res.err, "address already in use"));
    h_result_free(&res);
    stop(&s, &res);
    h_result_free(&res);
}

/* Usage errors exit 2 with one line naming the program and the flag. */
static void usage_errors_exit_2(void **state)
{
    static char *const cases[][6] = {
        {"server", "-p", "70000", NULL},
        {"client", "-s", "70000", NULL},
        {"client", "-c", "-1", NULL},
        {"client", "-p", "80abc", NULL},
        {"server", "--loop-limit", "-1", NULL},
        {"server", "--loop-limit", "ten", NULL},
        {"server", "--discard", "--reply", "x", NULL},
        {"server", "--discard=yes", NULL},
        {"server", "--allow", "10.0.0.0/33", NULL},
        {"server", "--allow", "::1/129", NULL},
        {"server", "--allow", "1.2.3", NULL},
    };

    (void)state;
    h_expect_usage_errors(UDP, "udp-echo", cases, sizeof cases / sizeof cases[0]);
}

static void sigint_prints_the_summary(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, NULL});
    h_expect_output(
        (char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "abc", NULL}, NULL, 0,
        "abc\n", 4);
    assert_int_equal(h_server_stop(&s, SIGINT, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "summary: 1 peers, 1 datagrams received, 1 sent, 3 bytes "
                                    "in, 3 bytes out"));
    h_result_free(&res);
}

/* SIGHUP (the terminal went away) stops the server like SIGTERM: exit 0 with the summary. */
static void sighup_stops_with_the_summary(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, NULL});
    h_expect_output(
        (char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "abc", NULL}, NULL, 0,
        "abc\n", 4);
    assert_int_equal(h_server_stop(&s, SIGHUP, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "summary: 1 peers, 1 datagrams received"));
    h_result_free(&res);
}

/* SIGUSR1 prints the counters and the server carries on. */
static void sigusr1_prints_counters_and_goes_on(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;
    char line[512];

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, "--json", NULL});
    h_expect_output(
        (char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "abcd", NULL}, NULL, 0,
        "abcd\n", 5);
    kill(s.pid, SIGUSR1);
    assert_int_equal(h_next_line(&s, line, sizeof line, 5000), 0);
    assert_non_null(strstr(line, "\"event\":\"counters\""));
    assert_int_equal(h_json_int(line, "clients"), 1);
    assert_int_equal(h_json_int(line, "messages_received"), 1);
    assert_int_equal(h_json_int(line, "bytes_sent"), 4);
    /* still serving */
    h_expect_output(
        (char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "ef", NULL}, NULL, 0,
        "ef\n", 3);
    stop(&s, &res);
    assert_int_equal(res.status, 0);
    assert_int_equal(h_json_int(res.out, "bytes_sent"), 6);
    h_result_free(&res);
}

/* --discard (RFC 863): every datagram is counted, none is answered, and none is refused: a
 * source that sends the same bytes over and over is an echo loop only when something goes
 * back, so 110 repeats (past the default --loop-limit of 100) are all simply received. */
static void discard_counts_and_answers_nothing(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;
    char line[512], reply[64];
    struct timespec pause = {0, 1000000}; /* 1 ms: no flood that would overrun the buffer */
    int fd;

    start(&s, (char *[]){UDP, "server", "-p", "0", (char *)f->flag, "--discard", "--json", NULL});
    assert_non_null(strstr(s.first_line, "\"discard\":true"));
    fd = h_connect(f->addr, s.port, SOCK_DGRAM);
    assert_true(fd >= 0);
    for (int i = 0; i < 110; i++) {
        assert_int_equal(send(fd, "twelve bytes", 12, 0), 12);
        nanosleep(&pause, NULL);
    }
    assert_int_equal(send(fd, "", 0, 0), 0); /* a 0-byte datagram is counted too */
    h_timeout(fd, 500);
    assert_int_equal(recv(fd, reply, sizeof reply, 0), -1); /* nothing came back */
    close(fd);
    kill(s.pid, SIGUSR1);
    assert_int_equal(h_next_line(&s, line, sizeof line, 5000), 0);
    assert_non_null(strstr(line, "\"event\":\"counters\""));
    assert_int_equal(h_json_int(line, "clients"), 1);
    assert_int_equal(h_json_int(line, "messages_received"), 111);
    assert_int_equal(h_json_int(line, "bytes_received"), 110 * 12);
    assert_int_equal(h_json_int(line, "messages_sent"), 0);
    assert_int_equal(h_json_int(line, "bytes_sent"), 0);
    assert_int_equal(h_json_int(line, "refused"), 0);
    stop(&s, &res);
    assert_int_equal(res.status, 0);
    assert_int_equal(h_json_int(res.out, "messages_received"), 111);
    assert_int_equal(h_json_int(res.out, "bytes_sent"), 0);
    h_result_free(&res);
}

/* One datagram from a socket bound to from, to 127.0.0.1:port; true when it was answered. */
static bool answered_from(const char *from, uint16_t port)
{
    char reply[64];
    int fd = h_bound(from, 0, SOCK_DGRAM);
    ssize_t n;

    assert_true(fd >= 0);
    assert_int_equal(h_aim(fd, "127.0.0.1", port), 0);
    h_timeout(fd, 300);
    assert_int_equal(send(fd, "anyone?", 7, 0), 7);
    n = recv(fd, reply, sizeof reply, 0);
    close(fd);
    return n == 7;
}

/* --allow: a datagram from 127.0.0.2 to a server that allows 127.0.0.1 alone is never
 * answered, noticed and counted refused only (not as a message received), with --discard as
 * without; 127.0.0.1 is served; -v says at the start which prefixes are allowed. */
static void allow_drops_an_outsider(void **state)
{
    static char *const modes[] = {"--json", "--discard"};
    struct h_server s;
    struct h_result res;
    char line[512];

    (void)state;
    for (int i = 0; i < 2; i++) {
        start(&s, (char *[]){UDP, "server", "-p", "0", "-4", "-v", "--json", "--allow",
                             "127.0.0.1/32", modes[i], NULL});
        assert_int_equal(h_next_line(&s, line, sizeof line, 5000), 0);
        assert_non_null(strstr(line, "{\"event\":\"allowing\",\"prefixes\":[\"127.0.0.1/32\"]}"));
        assert_false(answered_from("127.0.0.2", s.port));
        assert_int_equal(h_next_line(&s, line, sizeof line, 5000), 0);
        assert_non_null(strstr(line, "\"event\":\"refused\",\"address\":\"127.0.0.2\""));
        assert_non_null(strstr(line, "\"detail\":\"not in --allow\""));
        /* an echo server answers 127.0.0.1; a discarding one counts it */
        assert_int_equal(answered_from("127.0.0.1", s.port), i == 0);
        stop(&s, &res);
        assert_int_equal(res.status, 0);
        assert_int_equal(h_json_int(res.out, "refused"), 1);
        assert_int_equal(h_json_int(res.out, "messages_received"), 1);
        assert_int_equal(h_json_int(res.out, "clients"), 1);
        h_result_free(&res);
    }
}

/* On a dual-stack server (bound to ::) a datagram from 127.0.0.1 comes from ::ffff:127.0.0.1
 * and is judged as 127.0.0.1: --allow ::1 drops it, --allow 127.0.0.1 answers it. */
static void allow_judges_a_mapped_source_as_ipv4(void **state)
{
    static char *const lists[] = {"::1", "127.0.0.1"};
    struct h_server s;
    struct h_result res;

    (void)state;
    for (int i = 0; i < 2; i++) {
        if (h_server_start(&s, (char *[]){UDP, "server", "-p", "0", "-b", "::", "-q", "--allow",
                                          lists[i], NULL}) != 0)
            skip(); /* no IPv6 here */
        assert_int_equal(answered_from("127.0.0.1", s.port), i == 1);
        if (i == 0)
            h_expect_output((char *[]){UDP, "client", "-p", PORT_TEXT(s), "::1", "-m", "v6", NULL},
                            NULL, 0, "v6\n", 3);
        stop(&s, &res);
        if (strstr(res.out, "summary: 1 peers,") == NULL ||
            strstr(res.out, i == 0 ? ", 1 refused," : ", 0 refused,") == NULL)
            fail_msg("--allow %s: %s", lists[i], res.out);
        h_result_free(&res);
    }
}

/* On a wildcard address the reply leaves from the address the client wrote to, or the
 * client's connected socket would drop it; and the server warns that it is exposed. */
static void wildcard_server_replies_from_the_address_asked(void **state)
{
    const struct family *f = *state;
    const char *any = f == &v4 ? "0.0.0.0" : "::";
    const char *other = f == &v4 ? "127.0.0.2" : "::ffff:127.0.0.2";
    struct h_server s;
    struct h_result res;

    start(&s, (char *[]){UDP, "server", "-p", "0", "-b", (char *)any, NULL});
    h_expect_output((char *[]){UDP, "client", "-p", PORT_TEXT(s), "127.0.0.2", "-W", "1", "-m",
                               "from .2", NULL},
                    NULL, 0, "from .2\n", 8);
    h_expect_output((char *[]){UDP, "client", "-p", PORT_TEXT(s), (char *)other, "-W", "1", "-m",
                               "again", NULL},
                    NULL, 0, "again\n", 6);
    stop(&s, &res);
    assert_non_null(strstr(res.err, "udp-echo: warning: listening on every interface"));
    h_result_free(&res);
}

#define BOTH(fn) cmocka_unit_test_prestate(fn, &v4), cmocka_unit_test_prestate(fn, &v6)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(first_line_names_the_real_port),
        BOTH(json_first_line_names_the_real_port),
        BOTH(message_is_echoed),
        BOTH(stdin_lines_are_echoed_exactly),
        BOTH(datagram_sizes_at_the_edges),
        BOTH(once_with_reply_is_the_one_shot_server),
        BOTH(greeting_is_explained_not_ignored),
        BOTH(truncated_datagram_is_counted_not_echoed),
        BOTH(once_ends_after_a_truncated_datagram),
        BOTH(reflection_sources_are_refused),
        cmocka_unit_test_prestate(notices_never_block_the_server, &v4),
        BOTH(closed_port_is_refused),
        BOTH(port_in_use_is_a_clear_error),
        BOTH(sigint_prints_the_summary),
        BOTH(sighup_stops_with_the_summary),
        BOTH(sigusr1_prints_counters_and_goes_on),
        BOTH(discard_counts_and_answers_nothing),
        BOTH(wildcard_server_replies_from_the_address_asked),
        cmocka_unit_test(default_server_holds_the_other_loopback),
        cmocka_unit_test(reuseport_servers_share_the_held_loopback),
        cmocka_unit_test(usage_errors_exit_2),
        cmocka_unit_test(allow_drops_an_outsider),
        cmocka_unit_test(allow_judges_a_mapped_source_as_ipv4),
    };

    /* TEST_FILTER=name runs one test, e.g. while working on one behaviour */
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
