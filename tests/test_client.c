/* test_client.c - Ctrl-C in the clients' own modes (-m, stdin), as ping takes it: what came
 * back is printed, and the status is 0 when anything did; nothing back is one line and 1.
 * The same for both programs, over loopback, against a real server or a silent peer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static const char *prog(const char *proto)
{
    return h_prog(strcmp(proto, "tcp") == 0 ? "TCP_ECHO" : "UDP_ECHO");
}

/* A peer on 127.0.0.1 that never answers: TCP listens (the kernel completes the handshake,
 * nobody accepts); UDP is bound and never reads. */
static int silent_peer(const char *proto, uint16_t *port)
{
    bool tcp = strcmp(proto, "tcp") == 0;
    int fd = h_bound("127.0.0.1", 0, tcp ? SOCK_STREAM : SOCK_DGRAM);
    struct sockaddr_in me;
    socklen_t len = sizeof me;

    assert_true(fd >= 0);
    if (tcp)
        assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
    *port = ntohs(me.sin_port);
    return fd;
}

/* Start a client with -v (its first line, "connected ...", says the handlers are in place),
 * stdin a line of text and then an open pipe for 10 s, or /dev/null for -m. */
static void start_client(struct h_server *c, const char *proto, uint16_t port, bool message)
{
    char script[512];

    snprintf(script, sizeof script,
             "exec \"$0\" client -v -p %u 127.0.0.1 %s < <(exec 2>/dev/null; echo hello; "
             "exec sleep 10)",
             (unsigned)port, message ? "-m hello -W 30" : "-W 30");
    assert_int_equal(h_start(c, (char *[]){"/bin/bash", "-c", script, (char *)prog(proto), NULL}),
                     0);
    assert_non_null(strstr(c->first_line, "connected 127.0.0.1:"));
}

/* Ctrl-C with nothing back: exit 1, one line that says so, at once. */
static void interrupted(const char *proto, bool message)
{
    struct h_server c;
    struct h_result res;
    uint16_t port;
    int fd = silent_peer(proto, &port);
    char want[160];

    start_client(&c, proto, port, message);
    poll(NULL, 0, 200); /* the client waits for the reply by now */
    assert_int_equal(h_server_stop(&c, SIGINT, 3000, &res), 0);
    close(fd);
    snprintf(want, sizeof want,
             "%s-echo: no reply from 127.0.0.1:%u: interrupted before anything came back\n", proto,
             (unsigned)port);
    if (res.status != 1 || strcmp(res.err, want) != 0)
        fail_msg("%s %s: status %d, stderr: %s", proto, message ? "-m" : "stdin", res.status,
                 res.err);
    h_result_free(&res);
}

static void message_interrupted_with_nothing_back(void **state)
{
    interrupted(*state, true);
}

static void stdin_interrupted_with_nothing_back(void **state)
{
    interrupted(*state, false);
}

/* Ctrl-C in stdin mode once the echo of the first line has come back: exit 0, the echo
 * printed, nothing on stderr. */
static void stdin_interrupted_after_an_echo(void **state)
{
    const char *proto = *state;
    struct h_server s, c;
    struct h_result res;
    char line[256];

    assert_int_equal(h_server_start(&s, (char *[]){(char *)prog(proto), "server", "-p", "0", NULL}),
                     0);
    start_client(&c, proto, s.port, false);
    assert_int_equal(h_next_line(&c, line, sizeof line, 5000), 0);
    assert_string_equal(line, "hello");
    assert_int_equal(h_server_stop(&c, SIGINT, 3000, &res), 0);
    if (res.status != 0 || res.err[0] != '\0')
        fail_msg("%s stdin: status %d, stderr: %s", proto, res.status, res.err);
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

#define PROTOS(f) cmocka_unit_test_prestate(f, "tcp"), cmocka_unit_test_prestate(f, "udp")

int main(void)
{
    const struct CMUnitTest tests[] = {
        PROTOS(message_interrupted_with_nothing_back),
        PROTOS(stdin_interrupted_with_nothing_back),
        PROTOS(stdin_interrupted_after_an_echo),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
