/* test_limits.c - the event-driven server holds 10,000 idle connections in little memory:
 * no receive buffer per connection, output kept only when a write falls short.
 *
 * Run as "test_limits [MODEL]" (epoll by default): CTest runs it for epoll and for uring, whose
 * waiting receives take a buffer from a shared pool only when data arrives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "procfs.h"

#define CLIENTS 10000

static const char *model = "epoll";
/* Descriptors for the clients here and the connections in the server, with room to spare. */
#define NOFILE (CLIENTS + 1024)

static int fds[CLIENTS];

/* Connect n clients in batches, letting the server's accept loop keep up with the listen
 * queue so no SYN is dropped and retried a second later. */
static int connect_all(const struct h_server *s, long base)
{
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = h_connect("127.0.0.1", s->port, SOCK_STREAM);
        if (fds[i] < 0)
            return -1;
        if (i % 100 == 99)
            for (int tries = 0; tries < 200 && p_fd_count(s->pid) < base + i; tries++)
                p_sleep_ms(5);
    }
    return 0;
}

static void ten_thousand_idle_connections_in_little_memory(void **state)
{
    struct rlimit lim = {.rlim_cur = NOFILE, .rlim_max = NOFILE};
    char *argv[] = {(char *)h_prog("TCP_ECHO"),
                    "server",
                    "-p",
                    "0",
                    "-4",
                    "-q",
                    "--model",
                    (char *)model,
                    NULL};
    struct h_server s;
    struct h_result res;
    long base, rss0, rss1, conns;

    (void)state;
    if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
        fail_msg("cannot raise RLIMIT_NOFILE to %d (needs root, as in CI)", NOFILE);
    /* the server inherits the raised limit */
    assert_int_equal(h_server_start(&s, argv), 0);
    /* one echo first: the event loop is then set up (epoll and reserve descriptors open),
     * so the baseline counts only what stays */
    {
        int fd = h_connect("127.0.0.1", s.port, SOCK_STREAM);
        char c;

        assert_true(fd >= 0);
        assert_int_equal(send(fd, "z", 1, MSG_NOSIGNAL), 1);
        assert_int_equal(recv(fd, &c, 1, 0), 1);
        close(fd);
    }
    base = p_fd_count(s.pid);
    for (int tries = 0; tries < 100; tries++) {
        p_sleep_ms(10);
        if (p_fd_count(s.pid) == base)
            break;
        base = p_fd_count(s.pid);
    }
    rss0 = p_rss_kb(s.pid);
    assert_int_equal(connect_all(&s, base), 0);
    for (int tries = 0; tries < 400 && p_fd_count(s.pid) < base + CLIENTS; tries++)
        p_sleep_ms(10);
    conns = p_fd_count(s.pid) - base;
    rss1 = p_rss_kb(s.pid);
    printf("measured: %s: %ld connections held; RSS %ld KiB before, %ld KiB with them "
           "(%.0f bytes per connection)\n",
           model, conns, rss0, rss1, (double)(rss1 - rss0) * 1024 / (double)(conns ? conns : 1));
    assert_int_equal(conns, CLIENTS);
    assert_true(rss1 < 16 * 1024);
    /* still serving: the newest and the oldest client both get their echo */
    assert_int_equal(send(fds[CLIENTS - 1], "x", 1, MSG_NOSIGNAL), 1);
    assert_int_equal(send(fds[0], "y", 1, MSG_NOSIGNAL), 1);
    {
        char c;

        assert_int_equal(recv(fds[CLIENTS - 1], &c, 1, 0), 1);
        assert_int_equal(recv(fds[0], &c, 1, 0), 1);
    }
    for (int i = 0; i < CLIENTS; i++)
        close(fds[i]);
    assert_int_equal(h_server_stop(&s, SIGTERM, 10000, &res), 0);
    assert_int_equal(res.status, 0);
    h_result_free(&res);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ten_thousand_idle_connections_in_little_memory),
    };

    if (argc > 1)
        model = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
