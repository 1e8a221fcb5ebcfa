/* test_tcp_echo.c - tcp-echo server and client over loopback, IPv4 and IPv6, for real.
 * Twin of test_udp_echo.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
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
#include "signals.h"
#include "tcp.h"
#include "wait.h"

/* One address family to run a test in. */
struct family {
    const char *flag; /* -4 or -6 */
    const char *addr; /* its loopback address */
};

static struct family v4 = {"-4", "127.0.0.1"};
static struct family v6 = {"-6", "::1"};

#define TCP (char *)h_prog("TCP_ECHO")
#define PORT_TEXT(s) (snprintf(port_text, sizeof port_text, "%u", (unsigned)(s).port), port_text)

static char port_text[8];

/* Start a server and learn its port from its first line. */
static void start(struct h_server *s, const struct family *f, char *const argv[])
{
    (void)f;
    assert_int_equal(h_server_start(s, argv), 0);
}

static void stop(struct h_server *s, struct h_result *res)
{
    assert_int_equal(h_server_stop(s, SIGTERM, 5000, res), 0);
}

static void first_line_names_the_real_port(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;
    char expect[64];

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, NULL});
    snprintf(expect, sizeof expect,
             f == &v4 ? "listening on 127.0.0.1:%u (tcp)" : "listening on [::1]:%u (tcp)",
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

    start(&s, f, (char *[]){TCP, "server", "-p", "0", "--json", (char *)f->flag, NULL});
    assert_non_null(strstr(s.first_line, "\"event\":\"listening\""));
    assert_non_null(strstr(s.first_line, "\"proto\":\"tcp\""));
    assert_int_equal(h_json_int(s.first_line, "port"), s.port);
    assert_true(s.port != 0);
    stop(&s, &res);
    h_result_free(&res);
}

static void message_is_echoed(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, NULL});
    h_expect_output((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m",
                               "hello, socklab", NULL},
                    NULL, 0, "hello, socklab\n", 15);
    stop(&s, &res);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "summary: 1 clients, "));
    h_result_free(&res);
}

/* Bytes through stdin mode come back identical: NULs, 1 byte, and more than 64 KiB. */
static void stdin_bytes_are_echoed_exactly(void **state)
{
    const struct family *f = *state;
    static const size_t sizes[] = {1, 4096, 300 * 1024};
    struct h_server s;
    struct h_result res;

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, NULL});
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *data = malloc(sizes[i]);

        h_fill(data, sizes[i], (uint32_t)i + 7);
        if (sizes[i] > 1)
            data[sizes[i] / 2] = '\0'; /* at least one NUL, wherever the fill lands */
        h_expect_output((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, NULL}, data,
                        sizes[i], data, sizes[i]);
        free(data);
    }
    stop(&s, &res);
    assert_non_null(strstr(res.out, "summary: 3 clients, "));
    h_result_free(&res);
}

/* 100 MB through the client: it must read the echo while it writes, or both sides block. */
static void hundred_megabytes_without_deadlock(void **state)
{
    const size_t size = 100u * 1000 * 1000;
    const struct family *f = *state;
    char path[] = "/tmp/socklab-100mb-XXXXXX";
    struct h_server s;
    struct h_result res;
    char *data = malloc(size);
    int fd = mkstemp(path);

    assert_true(fd >= 0 && data != NULL);
    h_fill(data, size, 100);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    close(fd);
    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, NULL});
    assert_int_equal(h_run((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, NULL},
                           NULL, 0, path, 60000, &res),
                     0);
    unlink(path);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.outlen, size);
    assert_memory_equal(res.out, data, size);
    h_result_free(&res);
    free(data);
    stop(&s, &res);
    h_result_free(&res);
}

/* After the client's FIN the server still echoes everything sent before it, then closes. */
static void half_close_finishes_the_echo(void **state)
{
    const struct family *f = *state;
    const size_t size = 256 * 1024;
    char *data = malloc(size), *back = malloc(size + 1);
    struct h_server s;
    struct h_result res;
    size_t got = 0;
    ssize_t n;
    int fd;

    h_fill(data, size, 3);
    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, NULL});
    fd = h_connect(f->addr, s.port, SOCK_STREAM);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, data, size, MSG_NOSIGNAL), (ssize_t)size);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    while ((n = recv(fd, back + got, size + 1 - got, 0)) > 0)
        got += (size_t)n;
    assert_int_equal(n, 0); /* a clean FIN from the server, not a reset or a timeout */
    assert_int_equal(got, size);
    assert_memory_equal(back, data, size);
    close(fd);
    free(data);
    free(back);
    stop(&s, &res);
    h_result_free(&res);
}

/* The seed's one-shot server: answer "Hello from server" once, then exit. */
static void once_with_reply_is_the_one_shot_server(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, f,
          (char *[]){TCP, "server", "-p", "0", (char *)f->flag, "--once", "--reply",
                     "Hello from server", NULL});
    h_expect_output((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m",
                               "Hello from client", NULL},
                    NULL, 0, "Hello from server\n", 18);
    assert_int_equal(h_server_wait(&s, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "summary: 1 clients, 1 messages received, 1 sent"));
    h_result_free(&res);
}

/* The seed's welcome-banner server: the server speaks first. */
static void greeting_comes_first(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, f,
          (char *[]){TCP, "server", "-p", "0", (char *)f->flag, "--greeting",
                     "Welcome to the server!", NULL});
    /* a client with nothing to say still hears the greeting */
    h_expect_output((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, NULL}, NULL, 0,
                    "Welcome to the server!", 22);
    h_expect_output(
        (char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "hi", NULL}, NULL, 0,
        "Welcome to the server!hi\n", 25);
    stop(&s, &res);
    h_result_free(&res);
}

/* The seed's iterative server reads 16 bytes at a time: the echo is whole all the same. */
static void recv_size_16_still_echoes_everything(void **state)
{
    const struct family *f = *state;
    const char *line = "a line of forty bytes, or near enough..\n";
    struct h_server s;
    struct h_result res;

    start(&s, f,
          (char *[]){TCP, "server", "-p", "0", (char *)f->flag, "--model", "iterative",
                     "--recv-size", "16", "--json", NULL});
    h_expect_output((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, NULL}, line,
                    strlen(line), line, strlen(line));
    stop(&s, &res);
    assert_int_equal(h_json_int(res.out, "bytes_received"), 40);
    assert_true(h_json_int(res.out, "messages_received") >= 3); /* 40 bytes, 16 per recv */
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
    assert_int_equal(h_server_start(&s, (char *[]){TCP, "server", "-p", "0", "--json", NULL}), 0);
    assert_non_null(strstr(s.first_line, "\"address\":\"127.0.0.1\""));
    squatted = h_squat_loopback6(SOCK_STREAM, s.port);
    printf("measured: bind [::1]:PORT beside a default tcp server: %s\n",
           squatted == 0 ? "bound (squatted)" : strerror(squatted));
    if (squatted == EADDRNOTAVAIL) {
        stop(&s, &res);
        h_result_free(&res);
        skip(); /* no ::1 here: nothing to hold, nothing to squat */
    }
    assert_int_equal(squatted, EADDRINUSE);
    h_expect_output((char *[]){TCP, "client", "-p", PORT_TEXT(s), "localhost", "-m", "hi", NULL},
                    NULL, 0, "hi\n", 3);
    stop(&s, &res);
    assert_int_equal(h_json_int(res.out, "messages_received"), 1);
    h_result_free(&res);
}

static void closed_port_is_refused(void **state)
{
    const struct family *f = *state;
    struct h_result res;
    char port[8];

    snprintf(port, sizeof port, "%u", (unsigned)h_free_port(SOCK_STREAM));
    assert_int_equal(h_run((char *[]){TCP, "client", "-p", port, (char *)f->addr, "-m", "x", NULL},
                           NULL, 0, NULL, 10000, &res),
                     0);
    assert_int_equal(res.status, 1);
    assert_non_null(strstr(res.err, "tcp-echo: cannot connect to "));
    assert_non_null(strstr(res.err, "connection refused"));
    assert_non_null(strstr(res.err, "nothing listens on that TCP port; is the server running? "
                                    "TCP and UDP ports are separate"));
    assert_int_equal(res.outlen, 0);
    h_result_free(&res);
}

/* A reply cut off by a reset: what came is printed as a whole line, ahead of the error. */
static void reset_after_part_of_the_reply_ends_the_line(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    /* --linger 0: the server closes with a RST right after its reply */
    start(&s, f,
          (char *[]){TCP, "server", "-p", "0", (char *)f->flag, "--reply", "hi", "--linger", "0",
                     NULL});
    assert_int_equal(
        h_run((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "x", NULL}, NULL,
              0, NULL, 10000, &res),
        0);
    assert_int_equal(res.status, 1);
    assert_int_equal(res.outlen, 3);
    assert_memory_equal(res.out, "hi\n", 3);
    assert_non_null(strstr(res.err, "connection reset"));
    h_result_free(&res);
    stop(&s, &res);
    h_result_free(&res);
}

static void port_in_use_is_a_clear_error(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, NULL});
    assert_int_equal(h_run((char *[]){TCP, "server", "-p", PORT_TEXT(s), (char *)f->flag, NULL},
                           NULL, 0, NULL, 10000, &res),
                     0);
    assert_int_equal(res.status, 1);
    assert_non_null(strstr(res.err, "tcp-echo: cannot listen on "));
    assert_non_null(strstr(res.err, "address already in use"));
    assert_non_null(strstr(res.err, "try -p 0"));
    h_result_free(&res);
    stop(&s, &res);
    h_result_free(&res);
}

/* Usage errors exit 2 with one line naming the program and the flag. */
static void usage_errors_exit_2(void **state)
{
    static char *const cases[][6] = {
        {"server", "-p", "70000", NULL},
        {"server", "-p", "80abc", NULL},
        {"client", "-c", "-1", NULL},
        {"client", "--bogus", NULL},
        {"server", "somehost", NULL},
        {"launch", NULL},
        {"client", "-W", "0", NULL},
        {"server", "--discard", "--greeting", "hi", NULL},
        {"client", "--discard", NULL},
        {"server", "--allow", "10.1.2.3/8", NULL},
        {"server", "--allow", "host.name", NULL},
        {"client", "--allow", "127.0.0.1", NULL},
        {NULL},
    };

    (void)state;
    h_expect_usage_errors(TCP, "tcp-echo", cases, sizeof cases / sizeof cases[0]);
}

static void help_and_version_exit_0(void **state)
{
    struct h_result res;

    (void)state;
    assert_int_equal(h_run((char *[]){TCP, "--help", NULL}, NULL, 0, NULL, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "usage: tcp-echo server"));
    h_result_free(&res);
    assert_int_equal(h_run((char *[]){TCP, "--version", NULL}, NULL, 0, NULL, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "tcp-echo (socklab) "));
    h_result_free(&res);
}

/* SIGINT stops the server cleanly, with its one-line summary. */
static void sigint_prints_the_summary(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, NULL});
    h_expect_output(
        (char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "abc", NULL}, NULL, 0,
        "abc\n", 4);
    assert_int_equal(h_server_stop(&s, SIGINT, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "summary: 1 clients, 1 messages received, 1 sent, 3 bytes "
                                    "in, 3 bytes out"));
    h_result_free(&res);
}

/* SIGUSR1 prints the counters and the server carries on. */
static void sigusr1_prints_counters_and_goes_on(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;
    char line[512];

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, "--json", NULL});
    h_expect_output(
        (char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "abcd", NULL}, NULL, 0,
        "abcd\n", 5);
    kill(s.pid, SIGUSR1);
    assert_int_equal(h_next_line(&s, line, sizeof line, 5000), 0);
    assert_non_null(strstr(line, "\"event\":\"counters\""));
    assert_int_equal(h_json_int(line, "clients"), 1);
    assert_int_equal(h_json_int(line, "messages_received"), 1);
    assert_int_equal(h_json_int(line, "bytes_sent"), 4);
    /* still serving */
    h_expect_output(
        (char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "ef", NULL}, NULL, 0,
        "ef\n", 3);
    stop(&s, &res);
    assert_int_equal(res.status, 0);
    assert_int_equal(h_json_int(res.out, "bytes_sent"), 6);
    h_result_free(&res);
}

/* Nagle is off on both ends of every connection unless --nagle, and the trace shows it. */
static void nagle_is_off_unless_asked_for(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, "--trace", NULL});
    assert_int_equal(h_run((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "--trace",
                                      "-m", "x", NULL},
                           NULL, 0, NULL, 10000, &res),
                     0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.err, ", IPPROTO_TCP, TCP_NODELAY, 1) = 0 "));
    h_result_free(&res);
    stop(&s, &res);
    assert_non_null(strstr(res.err, ", IPPROTO_TCP, TCP_NODELAY, 1) = 0 "));
    assert_non_null(strstr(res.err, "Nagle off"));
    h_result_free(&res);

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, "--nagle", "--trace", NULL});
    assert_int_equal(h_run((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "--nagle",
                                      "--trace", "-m", "x", NULL},
                           NULL, 0, NULL, 10000, &res),
                     0);
    assert_int_equal(res.status, 0);
    assert_null(strstr(res.err, "TCP_NODELAY"));
    h_result_free(&res);
    stop(&s, &res);
    assert_null(strstr(res.err, "TCP_NODELAY"));
    h_result_free(&res);
}

/* A message longer than one read is echoed in pieces; with Nagle off (the default) none of
 * them waits for the client's delayed ACK, so the median round trip of 20 messages of 65,536
 * bytes is far below the 40 ms a held piece costs. */
static void a_long_message_does_not_wait_on_a_delayed_ack(void **state)
{
    const struct family *f = *state;
    struct h_server s;
    struct h_result res;

    start(&s, f, (char *[]){TCP, "server", "-p", "0", (char *)f->flag, NULL});
    assert_int_equal(h_run((char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-c",
                                      "20", "-i", "0", "-s", "65536", "--json", NULL},
                           NULL, 0, NULL, 30000, &res),
                     0);
    assert_int_equal(res.status, 0);
    assert_int_equal(h_json_int(res.out, "received"), 20);
    printf("measured: 20 probes of 65536 bytes: p50 %.3f ms\n", h_json_num(res.out, "p50"));
    /* a held piece costs a delayed ACK: 40 ms at the least on Linux */
    assert_true(h_json_num(res.out, "p50") < 20.0);
    h_result_free(&res);
    stop(&s, &res);
    h_result_free(&res);
}

/* Every model counts the same: a child process or a thread hands its counts to the server. */
static void every_model_counts_alike(void **state)
{
    static const char *const models[] = {"iterative", "fork", "thread", "poll", "epoll", "uring"};
    const struct family *f = *state;

    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        struct h_server s;
        struct h_result res;

        start(&s, f,
              (char *[]){TCP, "server", "-p", "0", (char *)f->flag, "--model", (char *)models[i],
                         NULL});
        h_expect_output(
            (char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "abc", NULL}, NULL,
            0, "abc\n", 4);
        h_expect_output(
            (char *[]){TCP, "client", "-p", PORT_TEXT(s), (char *)f->addr, "-m", "de", NULL}, NULL,
            0, "de\n", 3);
        stop(&s, &res);
        assert_int_equal(res.status, 0);
        if (strstr(res.out, "summary: 2 clients, 2 messages received, 2 sent, 5 bytes in, "
                            "5 bytes out") == NULL)
            fail_msg("--model %s: %s", models[i], res.out);
        h_result_free(&res);
    }
}

/* --allow: a client from 127.0.0.2 to a server that allows 127.0.0.1 alone is reset before
 * any byte (the client says so and exits 1), noticed and counted refused; 127.0.0.1 is
 * echoed; -v says at the start which prefixes are allowed. */
static void allow_refuses_an_outsider(void **state)
{
    struct h_server s;
    struct h_result res;
    char line[512];

    (void)state;
    start(&s, &v4,
          (char *[]){TCP, "server", "-p", "0", "-4", "-v", "--json", "--allow", "127.0.0.1/32",
                     "--allow", "::1", NULL});
    assert_int_equal(h_next_line(&s, line, sizeof line, 5000), 0);
    assert_non_null(strstr(line, "{\"event\":\"allowing\",\"prefixes\":[\"127.0.0.1/32\","
                                 "\"::1/128\"]}"));
    assert_int_equal(h_run((char *[]){TCP, "client", "-b", "127.0.0.2", "-p", PORT_TEXT(s),
                                      "127.0.0.1", "-W", "2", "-m", "let me in", NULL},
                           NULL, 0, NULL, 5000, &res),
                     0);
    assert_int_equal(res.status, 1);
    assert_int_equal(res.outlen, 0);
    assert_non_null(strstr(res.err, "ECONNRESET"));
    h_result_free(&res);
    assert_int_equal(h_next_line(&s, line, sizeof line, 5000), 0);
    assert_non_null(strstr(line, "\"event\":\"refused\",\"address\":\"127.0.0.2\""));
    assert_non_null(strstr(line, "\"detail\":\"not in --allow\""));
    h_expect_output((char *[]){TCP, "client", "-p", PORT_TEXT(s), "127.0.0.1", "-m", "hi", NULL},
                    NULL, 0, "hi\n", 3);
    stop(&s, &res);
    assert_int_equal(res.status, 0);
    assert_int_equal(h_json_int(res.out, "refused"), 1);
    assert_int_equal(h_json_int(res.out, "clients"), 1);
    h_result_free(&res);
}

/* Thirty outsiders in a burst: ten notices, then, once their second is over, one line for
 * the rest, even when nothing else happens before the server stops; all thirty counted. */
static void refused_notices_are_limited_and_then_summed_up(void **state)
{
    struct h_server s;
    struct h_result res;
    int notices = 0;
    char byte;

    (void)state;
    start(&s, &v4, (char *[]){TCP, "server", "-p", "0", "-4", "--allow", "127.0.0.1/32", NULL});
    for (int i = 0; i < 30; i++) {
        int fd = h_bound("127.0.0.2", 0, SOCK_STREAM);

        assert_true(fd >= 0);
        if (h_aim(fd, "127.0.0.1", s.port) != 0)
            fail_msg("outsider %d of 30: connect: %s", i + 1, strerror(errno));
        h_timeout(fd, 5000);
        assert_int_equal(recv(fd, &byte, 1, 0), -1); /* reset: the server has judged it */
        close(fd);
    }
    nanosleep(&(struct timespec){1, 200 * 1000 * 1000}, NULL); /* past the second */
    stop(&s, &res);
    assert_int_equal(res.status, 0);
    for (const char *at = res.out; (at = strstr(at, "refused 127.0.0.2:")) != NULL; at++)
        notices++;
    assert_int_equal(notices, 10);
    assert_non_null(strstr(res.out, "suppressed: 20 more notices"));
    assert_non_null(strstr(res.out, ", 30 refused,"));
    h_result_free(&res);
}

/* On a dual-stack server (bound to ::) an IPv4 client shows as ::ffff:127.0.0.1 and is judged
 * as 127.0.0.1: --allow ::1 turns it away, --allow 127.0.0.1 lets it in. */
static void allow_judges_a_mapped_client_as_ipv4(void **state)
{
    static char *const lists[] = {"::1", "127.0.0.1"};
    struct h_server s;
    struct h_result res;

    (void)state;
    for (int i = 0; i < 2; i++) {
        if (h_server_start(&s, (char *[]){TCP, "server", "-p", "0", "-b", "::", "-q", "--allow",
                                          lists[i], NULL}) != 0)
            skip(); /* no IPv6 here */
        assert_int_equal(h_run((char *[]){TCP, "client", "-p", PORT_TEXT(s), "127.0.0.1", "-W", "2",
                                          "-m", "v4", NULL},
                               NULL, 0, NULL, 5000, &res),
                         0);
        assert_int_equal(res.status, i == 0 ? 1 : 0);
        h_result_free(&res);
        if (i == 0)
            h_expect_output((char *[]){TCP, "client", "-p", PORT_TEXT(s), "::1", "-m", "v6", NULL},
                            NULL, 0, "v6\n", 3);
        stop(&s, &res);
        if (strstr(res.out, "summary: 1 clients,") == NULL ||
            strstr(res.out, i == 0 ? ", 1 refused," : ", 0 refused,") == NULL)
            fail_msg("--allow %s: %s", lists[i], res.out);
        h_result_free(&res);
    }
}

/* Descriptors this process holds (entries in /proc/self/fd, less the one reading it). */
static int open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(dir);
    while (readdir(dir) != NULL)
        n++;
    closedir(dir);
    return n - 3; /* ".", ".." and the directory's own descriptor */
}

/* A model that cannot start gives back every descriptor it opened: here the thread model
 * is handed a listening socket that is not one. */
static void thread_model_that_cannot_start_leaks_nothing(void **state)
{
    struct net_options opt = {.recv_size = 64};
    struct tcp_server srv = {.opt = &opt, .listen_fd = -1};
    struct net_error err = {0};
    int before;

    (void)state;
    assert_int_equal(net_signal_share_stops(), 0); /* opened once for the process, by design */
    before = open_fds();
    assert_int_equal(tcp_model_thread(&srv, &err), -1);
    printf("measured: thread model set-up failure: %d descriptors before, %d after\n", before,
           open_fds());
    assert_int_equal(open_fds(), before);
}

#define BOTH(fn) cmocka_unit_test_prestate(fn, &v4), cmocka_unit_test_prestate(fn, &v6)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(first_line_names_the_real_port),
        BOTH(json_first_line_names_the_real_port),
        BOTH(message_is_echoed),
        BOTH(stdin_bytes_are_echoed_exactly),
        cmocka_unit_test_prestate(hundred_megabytes_without_deadlock, &v4),
        BOTH(half_close_finishes_the_echo),
        BOTH(once_with_reply_is_the_one_shot_server),
        BOTH(greeting_comes_first),
        BOTH(recv_size_16_still_echoes_everything),
        BOTH(closed_port_is_refused),
        BOTH(reset_after_part_of_the_reply_ends_the_line),
        BOTH(port_in_use_is_a_clear_error),
        BOTH(sigint_prints_the_summary),
        BOTH(sigusr1_prints_counters_and_goes_on),
        BOTH(nagle_is_off_unless_asked_for),
        BOTH(a_long_message_does_not_wait_on_a_delayed_ack),
        BOTH(every_model_counts_alike),
        cmocka_unit_test(allow_refuses_an_outsider),
        cmocka_unit_test(allow_judges_a_mapped_client_as_ipv4),
        cmocka_unit_test(refused_notices_are_limited_and_then_summed_up),
        cmocka_unit_test(default_server_holds_the_other_loopback),
        cmocka_unit_test(usage_errors_exit_2),
        cmocka_unit_test(help_and_version_exit_0),
        cmocka_unit_test(thread_model_that_cannot_start_leaks_nothing),
    };

    /* TEST_FILTER=name runs one test, e.g. while working on one behaviour */
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
