/* test_epoll_faults.c - the epoll model when epoll_ctl() fails, a fault loopback cannot
 * produce (the kernel out of memory or of epoll watches): epoll_ctl is wrapped
 * (-Wl,--wrap=epoll_ctl), so this executable runs the model in-process, on a real
 * listening socket, with a real client. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "opt.h"
#include "signals.h"
#include "tcp.h"
#include "wait.h"

int __real_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev);
int __wrap_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev);

/* When set, EPOLL_CTL_MOD fails with ENOMEM. */
static atomic_bool fail_mod;

int __wrap_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
    if (op == EPOLL_CTL_MOD && fail_mod) {
        errno = ENOMEM;
        return -1;
    }
    return __real_epoll_ctl(ep, op, fd, ev);
}

struct run {
    struct tcp_server srv;
    struct net_error err;
    int rc;
};

static void *serve(void *arg)
{
    struct run *r = arg;

    r->rc = tcp_model_epoll(&r->srv, &r->err);
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* An echo the kernel will not take at once becomes pending output, and the connection is
 * switched to EPOLLOUT. When that switch fails, the connection must be closed (and counted
 * as an error), not left watched for input with its echo stuck for ever. */
static void failed_switch_to_output_closes_the_connection(void **state)
{
    static char chunk[1 << 16];
    char *argv[] = {"tcp-echo", "server", "-p", "0", "-4", "-q", "--once", NULL};
    struct net_options opt;
    struct run r = {.rc = 1};
    pthread_t tid;
    size_t sent = 0, got = 0;
    double deadline;
    bool closed = false;
    int fd;

    (void)state;
    assert_int_equal(net_opt_parse(NET_TCP, 7, argv, &opt, &r.err), 0);
    net_out_init("tcp-echo", false, 0, true);
    assert_int_equal(net_signal_install(), 0);
    assert_int_equal(tcp_server_open(&r.srv, &opt, &r.err), 0);
    assert_int_equal(pthread_create(&tid, NULL, serve, &r), 0);
    fd = h_connect("127.0.0.1", ntohs(((struct sockaddr_in *)&r.srv.addr)->sin_port), SOCK_STREAM);
    assert_true(fd >= 0);
    fail_mod = true;
    /* send for a second without reading, so the server's echo backs up into pending output */
    fcntl(fd, F_SETFL, O_NONBLOCK);
    deadline = now_ms() + 1000;
    while (now_ms() < deadline) {
        ssize_t n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);

        if (n > 0)
            sent += (size_t)n;
        else
            poll(NULL, 0, 10);
    }
    /* now read: the echo completes, or the connection closes; it must not stall */
    deadline = now_ms() + 3000;
    while (!closed && got < sent && now_ms() < deadline) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);

        if (n > 0)
            got += (size_t)n;
        else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            closed = true;
        else
            poll(NULL, 0, 10);
    }
    printf("measured: epoll_ctl(MOD) failing: %zu bytes sent, %zu echoed, connection %s\n", sent,
           got, closed ? "closed" : "still open, echo stuck");
    close(fd);
    fail_mod = false;
    assert_true(closed);
    pthread_join(tid, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.srv.counters.errors, 1);
    tcp_server_close(&r.srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_switch_to_output_closes_the_connection),
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
