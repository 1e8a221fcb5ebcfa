/* test_interop.c - our clients against a peer nobody here wrote (socat), and socat against
 * our servers: the echo contract is the protocol's, not socklab's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

#define TCP (char *)h_prog("TCP_ECHO")
#define UDP (char *)h_prog("UDP_ECHO")

/* socat as an echo server (PIPE sends back whatever arrives) on a free port. */
static pid_t socat_echo(int type, uint16_t *port)
{
    char listen[96];
    pid_t pid;

    *port = h_free_port(type);
    snprintf(listen, sizeof listen, "%s:%u,bind=127.0.0.1,reuseaddr",
             type == SOCK_STREAM ? "TCP-LISTEN" : "UDP-LISTEN", (unsigned)*port);
    pid = h_spawn_quiet((char *[]){"socat", "-T", "5", listen, "PIPE", NULL});
    assert_true(pid > 0);
    if (h_wait_bound(*port, type, 5000) < 0) {
        h_kill(pid);
        fail_msg("socat did not start on port %u (is socat installed?)", (unsigned)*port);
    }
    return pid;
}

static void run_expect(char *const argv[], const char *in, const char *out)
{
    struct h_result res;

    assert_int_equal(h_run(argv, in, strlen(in), NULL, 15000, &res), 0);
    if (res.status != 0)
        fail_msg("%s exited %d: %s", argv[0], res.status, res.err);
    assert_string_equal(res.out, out);
    h_result_free(&res);
}

static void tcp_client_against_socat(void **state)
{
    uint16_t port;
    pid_t pid = socat_echo(SOCK_STREAM, &port);
    char p[8];

    (void)state;
    snprintf(p, sizeof p, "%u", (unsigned)port);
    /* socat sees our FIN, sends the rest, and closes: the same shape as our own server */
    run_expect((char *[]){TCP, "client", "-p", p, "127.0.0.1", "-W", "5", "-m", "interop", NULL},
               "", "interop\n");
    h_kill(pid);
}

static void udp_client_against_socat(void **state)
{
    uint16_t port;
    pid_t pid = socat_echo(SOCK_DGRAM, &port);
    char p[8];

    (void)state;
    snprintf(p, sizeof p, "%u", (unsigned)port);
    run_expect((char *[]){UDP, "client", "-p", p, "127.0.0.1", "-W", "3", "-m", "interop", NULL},
               "", "interop\n");
    h_kill(pid);
}

/* socat as the client: stdin to the server, the echo to stdout. */
static void socat_against_server(char *prog, const char *scheme)
{
    struct h_server s;
    struct h_result res;
    char target[64];

    assert_int_equal(h_server_start(&s, (char *[]){prog, "server", "-p", "0", NULL}), 0);
    snprintf(target, sizeof target, "%s:127.0.0.1:%u", scheme, (unsigned)s.port);
    run_expect((char *[]){"/usr/bin/socat", "-T", "1", "-", target, NULL},
               "one line\nand another\n", "one line\nand another\n");
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "summary: 1 "));
    h_result_free(&res);
}

static void socat_against_tcp_server(void **state)
{
    (void)state;
    socat_against_server(TCP, "TCP");
}

static void socat_against_udp_server(void **state)
{
    (void)state;
    socat_against_server(UDP, "UDP");
}

/* socat as a one-way sender to a --discard server (RFC 863): socat prints whatever comes
 * back, and nothing may; the server counts every byte it sent. */
static void socat_against_discard_server(char *prog, const char *scheme)
{
    static const char lines[] = "one line\nand another\n";
    struct h_server s;
    struct h_result res;
    char target[64], expect[64];

    assert_int_equal(h_server_start(&s, (char *[]){prog, "server", "-p", "0", "--discard", NULL}),
                     0);
    snprintf(target, sizeof target, "%s:127.0.0.1:%u", scheme, (unsigned)s.port);
    run_expect((char *[]){"/usr/bin/socat", "-T", "1", "-", target, NULL}, lines, "");
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    snprintf(expect, sizeof expect, "0 sent, %zu bytes in, 0 bytes out", sizeof lines - 1);
    assert_non_null(strstr(res.out, expect));
    h_result_free(&res);
}

static void socat_against_tcp_discard_server(void **state)
{
    (void)state;
    socat_against_discard_server(TCP, "TCP");
}

static void socat_against_udp_discard_server(void **state)
{
    (void)state;
    socat_against_discard_server(UDP, "UDP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_client_against_socat),
        cmocka_unit_test(udp_client_against_socat),
        cmocka_unit_test(socat_against_tcp_server),
        cmocka_unit_test(socat_against_udp_server),
        cmocka_unit_test(socat_against_tcp_discard_server),
        cmocka_unit_test(socat_against_udp_discard_server),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
