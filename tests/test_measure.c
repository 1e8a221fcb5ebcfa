/* test_measure.c - probe, sweep and load modes against real servers over loopback, and
 * against a deliberately misbehaving peer for the fates a real link here cannot produce
 * on demand (duplicates, late and reordered replies). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "procfs.h"

struct family {
    const char *flag;
    const char *addr;
};

static struct family v4 = {"-4", "127.0.0.1"};
static struct family v6 = {"-6", "::1"};

static char *prog(const char *proto)
{
    return (char *)h_prog(strcmp(proto, "tcp") == 0 ? "TCP_ECHO" : "UDP_ECHO");
}

static char port_text[8];

static char *port_of(uint16_t port)
{
    snprintf(port_text, sizeof port_text, "%u", (unsigned)port);
    return port_text;
}

/* Run a client to completion; returns its result (the caller frees it). */
static struct h_result run(char *const argv[])
{
    struct h_result res;

    assert_int_equal(h_run(argv, NULL, 0, NULL, 30000, &res), 0);
    return res;
}

static void expect_clean_probe_run(const char *proto, const struct family *f)
{
    struct h_server s;
    struct h_result res, srv;
    char line[1024], expect[128];

    assert_int_equal(
        h_server_start(&s, (char *[]){prog(proto), "server", "-p", "0", (char *)f->flag, NULL}), 0);
    /* text: the ping shapes */
    res = run((char *[]){prog(proto), "client", "-p", port_of(s.port), (char *)f->addr, "-c", "5",
                         "-i", "0.01", NULL});
    assert_int_equal(res.status, 0);
    snprintf(expect, sizeof expect, "%s %s%s%s:%u: 5 probes of 64 bytes\n",
             strcmp(proto, "tcp") == 0 ? "TCP-ECHO" : "UDP-ECHO", f == &v6 ? "[" : "", f->addr,
             f == &v6 ? "]" : "", (unsigned)s.port);
    assert_int_equal(strncmp(res.out, expect, strlen(expect)), 0);
    assert_non_null(h_line_with(res.out, ": seq=5 time=", line, sizeof line));
    assert_int_equal(strncmp(line, "64 bytes from ", 14), 0);
    assert_non_null(h_line_with(res.out, " statistics ---", line, sizeof line));
    assert_non_null(strstr(line, strcmp(proto, "tcp") == 0 ? "tcp-echo" : "udp-echo"));
    assert_non_null(strstr(res.out, "\n5 sent, 5 received, 0 lost (0.0%), 0 duplicated, "
                                    "0 reordered, time "));
    assert_non_null(strstr(res.out, "\nrtt min/avg/max/mdev = "));
    assert_non_null(strstr(res.out, "\nrtt p50/p90/p99 = "));
    h_result_free(&res);
    /* --json: one object per probe and a summary, field by field */
    res = run((char *[]){prog(proto), "client", "-p", port_of(s.port), (char *)f->addr, "-c", "4",
                         "-i", "0", "-s", "100", "--json", NULL});
    assert_int_equal(res.status, 0);
    assert_int_equal(h_lines(res.out), 1 + 4 + 1);
    assert_non_null(h_line_with(res.out, "\"event\":\"summary\"", line, sizeof line));
    assert_int_equal(h_json_int(line, "transmitted"), 4);
    assert_int_equal(h_json_int(line, "received"), 4);
    assert_int_equal(h_json_int(line, "lost"), 0);
    assert_int_equal(h_json_int(line, "duplicates"), 0);
    assert_int_equal(h_json_int(line, "out_of_order"), 0);
    assert_int_equal(h_json_int(line, "size"), 100);
    assert_true(h_json_num(line, "min") > 0);
    assert_true(h_json_num(line, "min") <= h_json_num(line, "p50"));
    assert_true(h_json_num(line, "p50") <= h_json_num(line, "p99"));
    assert_true(h_json_num(line, "p99") <= h_json_num(line, "max"));
    assert_non_null(strstr(line, "\"proto\":\""));
    assert_non_null(
        strstr(res.out, "{\"event\":\"probe\",\"seq\":4,\"bytes\":100,\"status\":\"ok\""));
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &srv), 0);
    /* the server echoed every byte of the 9 probes, 5 of 64 and 4 of 100 (in bytes: TCP's
     * server counts reads, and a late echo lets the next probe arrive with the last one,
     * one read for two, as a busy machine showed) */
    if (strstr(srv.out, " 720 bytes in, 720 bytes out, ") == NULL)
        fail_msg("the server's summary: %s", srv.out);
    h_result_free(&srv);
}

static void tcp_probes(void **state)
{
    expect_clean_probe_run("tcp", *state);
}

static void udp_probes(void **state)
{
    expect_clean_probe_run("udp", *state);
}

/* Probe payloads start with readable text naming the sequence number. */
static void payload_is_readable(void **state)
{
    int fd = h_bound("127.0.0.1", 0, SOCK_DGRAM), pipefd[2];
    struct sockaddr_storage me;
    socklen_t len = sizeof me;
    struct h_result res;
    char got[128] = "";
    pid_t pid;

    (void)state;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    if (pid == 0) { /* a one-datagram echo that also reports what it saw */
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        char buf[2048];
        ssize_t n;

        h_die_with_parent();
        n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
        if (n > 0) {
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
            if (write(pipefd[1], buf, n < 100 ? (size_t)n : 100) < 0)
                _exit(1);
        }
        _exit(0);
    }
    close(pipefd[1]);
    res = run((char *[]){prog("udp"), "client", "-p",
                         port_of(ntohs(((struct sockaddr_in *)&me)->sin_port)), "127.0.0.1", "-c",
                         "1", NULL});
    assert_int_equal(res.status, 0);
    h_result_free(&res);
    assert_true(read(pipefd[0], got, sizeof got - 1) > 0);
    assert_int_equal(strncmp(got, "seq=1 t=", 8), 0);
    close(pipefd[0]);
    close(fd);
    waitpid(pid, NULL, 0);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A reply the misbehaving peer will send at a given time. */
struct delayed {
    double due;
    size_t len;
    char data[128];
};

/* The peer's script, probe by probe: 5 and 10 vanish, 3 comes back twice, 7 comes back
 * 450 ms late (after its 300 ms timeout), 8 is held back until 9 has gone (reordered). */
static void misbehave(int fd, struct sockaddr_storage *peer, socklen_t peerlen)
{
    struct delayed q[16];
    int nq = 0;
    double end = now_ms() + 4000;

    while (now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char buf[128];
        unsigned seq;
        ssize_t n;

        for (int i = 0; i < nq; i++) {
            if (q[i].due > now_ms())
                continue;
            sendto(fd, q[i].data, q[i].len, 0, (struct sockaddr *)peer, peerlen);
            q[i--] = q[--nq];
        }
        if (poll(&p, 1, 5) <= 0)
            continue;
        peerlen = sizeof *peer;
        n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)peer, &peerlen);
        if (n <= 0 || sscanf(buf, "seq=%u", &seq) != 1 || seq % 5 == 0)
            continue;
        if (seq == 7 || seq == 8) {
            q[nq].due = now_ms() + (seq == 7 ? 450 : 1e9);
            q[nq].len = (size_t)n;
            memcpy(q[nq++].data, buf, (size_t)n);
            continue;
        }
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)peer, peerlen);
        if (seq == 3)
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)peer, peerlen);
        for (int i = 0; seq == 9 && i < nq; i++)
            if (q[i].due > 1e8)
                q[i].due = 0; /* now let 8 go, after 9 */
    }
}

static pid_t start_misbehaving_peer(uint16_t *port)
{
    int fd = h_bound("127.0.0.1", 0, SOCK_DGRAM);
    struct sockaddr_storage me, peer;
    socklen_t len = sizeof me;
    pid_t pid;

    assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
    *port = ntohs(((struct sockaddr_in *)&me)->sin_port);
    pid = fork();
    if (pid == 0) {
        h_die_with_parent();
        misbehave(fd, &peer, sizeof peer);
        _exit(0);
    }
    close(fd);
    return pid;
}

/* Every fate counted apart: a duplicate never cancels a loss, a late reply is not a
 * receipt, an overtaken reply is reordered. */
static void every_fate_is_counted_apart(void **state)
{
    uint16_t port;
    pid_t pid = start_misbehaving_peer(&port);
    struct h_result res;
    char line[1024];

    (void)state;
    res = run((char *[]){prog("udp"), "client", "-p", port_of(port), "127.0.0.1", "-c", "10", "-i",
                         "0.1", "-W", "0.3", "--json", NULL});
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(res.status, 0);
    assert_non_null(h_line_with(res.out, "\"event\":\"summary\"", line, sizeof line));
    assert_int_equal(h_json_int(line, "transmitted"), 10);
    assert_int_equal(h_json_int(line, "received"), 7);
    assert_int_equal(h_json_int(line, "lost"), 3);
    assert_int_equal(h_json_int(line, "duplicates"), 1);
    assert_int_equal(h_json_int(line, "late"), 1);
    assert_int_equal(h_json_int(line, "out_of_order"), 1);
    assert_true(fabs(h_json_num(line, "loss_percent") - 30.0) < 0.01);
    assert_non_null(
        strstr(res.out, "{\"event\":\"probe\",\"seq\":5,\"bytes\":64,\"status\":\"timeout\""));
    assert_non_null(
        strstr(res.out, "{\"event\":\"probe\",\"seq\":3,\"bytes\":64,\"status\":\"dup\""));
    assert_non_null(
        strstr(res.out, "{\"event\":\"probe\",\"seq\":7,\"bytes\":64,\"status\":\"late\""));
    assert_non_null(h_line_with(res.out, "\"seq\":8,", line, sizeof line));
    assert_non_null(strstr(line, "\"reordered\":true"));
    h_result_free(&res);
}

/* The same run in text, as a student reads it. */
static void every_fate_is_named_in_text(void **state)
{
    uint16_t port;
    pid_t pid = start_misbehaving_peer(&port);
    struct h_result res;

    (void)state;
    res = run((char *[]){prog("udp"), "client", "-p", port_of(port), "127.0.0.1", "-c", "10", "-i",
                         "0.1", "-W", "0.3", NULL});
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "\nseq=5 timeout\n"));
    assert_non_null(strstr(res.out, "\nseq=7 timeout\n"));
    assert_non_null(strstr(res.out, ": seq=3 time="));
    assert_non_null(strstr(res.out, " ms (DUP!)\n"));
    assert_non_null(strstr(res.out, " ms (LATE)\n"));
    assert_non_null(strstr(res.out, " ms (reordered)\n"));
    assert_non_null(strstr(res.out, "\n10 sent, 7 received, 3 lost (30.0%), 1 duplicated, "
                                    "1 reordered, 1 late, time "));
    h_result_free(&res);
}

/* A TCP peer whose echo is corrupted: the client must say so, not count it. */
static void corrupted_stream_is_an_error(void **state)
{
    int lfd = h_bound("127.0.0.1", 0, SOCK_STREAM);
    struct sockaddr_storage me;
    socklen_t len = sizeof me;
    struct h_result res;
    pid_t pid;

    (void)state;
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&me, &len), 0);
    pid = fork();
    if (pid == 0) {
        char buf[4096];
        ssize_t n;
        int c;

        h_die_with_parent();
        c = accept(lfd, NULL, NULL);
        while (c >= 0 && (n = recv(c, buf, sizeof buf, 0)) > 0) {
            buf[n - 1] ^= 0x20; /* one wrong byte per read */
            if (send(c, buf, (size_t)n, MSG_NOSIGNAL) < 0)
                break;
        }
        _exit(0);
    }
    close(lfd);
    res = run((char *[]){prog("tcp"), "client", "-p",
                         port_of(ntohs(((struct sockaddr_in *)&me)->sin_port)), "127.0.0.1", "-c",
                         "3", "-i", "0.01", NULL});
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(res.status, 1);
    assert_non_null(strstr(res.err, "corrupted or out of step"));
    h_result_free(&res);
}

/* -i without -c probes until interrupted, and still prints the summary. */
static void until_interrupted_still_summarises(void **state)
{
    struct h_server s, c;
    struct h_result res;
    char *udp = prog("udp");

    (void)state;
    assert_int_equal(h_server_start(&s, (char *[]){udp, "server", "-p", "0", NULL}), 0);
    assert_int_equal(h_start(&c, (char *[]){udp, "client", "-p", port_of(s.port), "127.0.0.1", "-i",
                                            "0.02", NULL}),
                     0);
    assert_non_null(strstr(c.first_line, "probes of 64 bytes until interrupted"));
    nanosleep(&(struct timespec){.tv_nsec = 300 * 1000000L}, NULL);
    assert_int_equal(h_server_stop(&c, SIGINT, 5000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "udp-echo statistics ---\n"));
    assert_non_null(strstr(res.out, " received, 0 lost (0.0%)"));
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

static void csv_has_a_row_per_probe(void **state)
{
    struct h_server s;
    struct h_result res;
    char path[] = "/tmp/socklab-csv-XXXXXX", buf[1024] = "";
    int fd = mkstemp(path);
    FILE *fp;

    (void)state;
    close(fd);
    assert_int_equal(h_server_start(&s, (char *[]){prog("tcp"), "server", "-p", "0", NULL}), 0);
    res = run((char *[]){prog("tcp"), "client", "-p", port_of(s.port), "127.0.0.1", "-c", "3", "-i",
                         "0", "-s", "48", "--csv", path, "-q", NULL});
    assert_int_equal(res.status, 0);
    h_result_free(&res);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, sizeof buf - 1, fp) > 0, 1);
    fclose(fp);
    unlink(path);
    assert_int_equal(strncmp(buf, "seq,size,sent_ms,rtt_ms,status\n1,48,", 36), 0);
    assert_int_equal(h_lines(buf), 4);
    assert_non_null(strstr(buf, "\n3,48,"));
    assert_non_null(strstr(buf, ",ok\n"));
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

/* UDP refuses a datagram past 65507 bytes over IPv4, size by size; TCP just segments. */
static void sweep_finds_the_datagram_limit(void **state)
{
    struct h_server s;
    struct h_result res;
    char line[1024];

    (void)state;
    assert_int_equal(h_server_start(&s, (char *[]){prog("udp"), "server", "-p", "0", NULL}), 0);
    res = run((char *[]){prog("udp"), "client", "-p", port_of(s.port), "127.0.0.1", "--sweep",
                         "16384..65536", "--json", NULL});
    assert_int_equal(h_lines(res.out), 3);
    assert_non_null(h_line_with(res.out, "\"size\":32768", line, sizeof line));
    assert_int_equal(h_json_int(line, "received"), 3);
    assert_non_null(h_line_with(res.out, "\"size\":65536", line, sizeof line));
    assert_non_null(strstr(line, "\"error\":\"EMSGSIZE\""));
    h_result_free(&res);
    res = run((char *[]){prog("udp"), "client", "-p", port_of(s.port), "127.0.0.1", "--sweep",
                         "32768..65536", NULL});
    assert_non_null(h_line_with(res.out, "    65536 ", line, sizeof line));
    assert_non_null(strstr(line, "EMSGSIZE"));
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);

    assert_int_equal(h_server_start(&s, (char *[]){prog("tcp"), "server", "-p", "0", NULL}), 0);
    res = run((char *[]){prog("tcp"), "client", "-p", port_of(s.port), "127.0.0.1", "--sweep",
                         "16384..131072", "-c", "1", "--json", NULL});
    assert_int_equal(res.status, 0);
    assert_int_equal(h_lines(res.out), 4);
    assert_non_null(h_line_with(res.out, "\"size\":131072", line, sizeof line));
    assert_int_equal(h_json_int(line, "received"), 1);
    assert_null(strstr(res.out, "error"));
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

static void expect_load(char *const argv[], long long parallel)
{
    struct h_result res = run(argv);
    char line[1024];

    if (res.status != 0)
        fail_msg("load run exited %d: %s", res.status, res.err);
    assert_non_null(h_line_with(res.out, "\"event\":\"load\"", line, sizeof line));
    assert_int_equal(h_json_int(line, "parallel"), parallel);
    assert_true(h_json_int(line, "transactions") > 10);
    assert_int_equal(h_json_int(line, "errors"), 0);
    assert_true(h_json_num(line, "transactions_per_second") > 10);
    assert_true(h_json_num(line, "bits_per_second") > 0);
    assert_true(h_json_num(line, "p50") > 0);
    h_result_free(&res);
}

static void load_against_our_servers(void **state)
{
    static const char *const protos[] = {"tcp", "udp"};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct h_server s;
        struct h_result res;

        assert_int_equal(h_server_start(&s, (char *[]){prog(protos[i]), "server", "-p", "0", NULL}),
                         0);
        expect_load((char *[]){prog(protos[i]), "client", "-p", port_of(s.port), "127.0.0.1", "-P",
                               "8", "-t", "0.3", "--json", NULL},
                    8);
        expect_load((char *[]){prog(protos[i]), "client", "-p", port_of(s.port), "127.0.0.1", "-P",
                               "1", "-t", "0.3", "-s", "16384", "--json", NULL},
                    1);
        assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
        h_result_free(&res);
    }
}

/* socat as the server: one connection, so one parallel client. For UDP a child per datagram
 * (fork), each with a pipe of its own: one pipe for all would hand a resent request and the
 * next one back as one datagram. */
static void load_against_socat(void **state)
{
    static const char *const protos[] = {"tcp", "udp"};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        int type = i == 0 ? SOCK_STREAM : SOCK_DGRAM;
        uint16_t port = h_free_port(type);
        char listen[96];
        pid_t pid;

        snprintf(listen, sizeof listen, "%s:%u,bind=127.0.0.1,reuseaddr%s",
                 i == 0 ? "TCP-LISTEN" : "UDP-RECVFROM", (unsigned)port, i == 0 ? "" : ",fork");
        pid = h_spawn_quiet((char *[]){"socat", "-T", "5", listen, "PIPE", NULL});
        assert_int_equal(h_wait_bound(port, type, 5000), 0);
        expect_load((char *[]){prog(protos[i]), "client", "-p", port_of(port), "127.0.0.1", "-P",
                               "1", "-t", "0.3", "--json", NULL},
                    1);
        h_kill(pid);
    }
}

/* The UDP server goes away for a while and comes back: the probes carry on, each refusal is
 * named, and the run ends normally. */
static void udp_probes_ride_out_a_server_restart(void **state)
{
    char *udp = prog("udp"), port[8];
    struct h_server s, c;
    struct h_result res, srv;

    (void)state;
    snprintf(port, sizeof port, "%u", (unsigned)h_free_port(SOCK_DGRAM));
    assert_int_equal(h_server_start(&s, (char *[]){udp, "server", "-p", port, NULL}), 0);
    assert_int_equal(h_start(&c, (char *[]){udp, "client", "-p", port, "127.0.0.1", "-c", "40",
                                            "-i", "0.05", "-W", "0.1", NULL}),
                     0);
    nanosleep(&(struct timespec){.tv_nsec = 250 * 1000000L}, NULL);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &srv), 0);
    h_result_free(&srv);
    nanosleep(&(struct timespec){.tv_nsec = 250 * 1000000L}, NULL);
    assert_int_equal(h_server_start(&s, (char *[]){udp, "server", "-p", port, NULL}), 0);
    assert_int_equal(h_server_wait(&c, 10000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_non_null(strstr(res.out, "ICMP port unreachable (no server there right now)"));
    assert_non_null(strstr(res.out, "\n40 sent, "));
    assert_non_null(strstr(res.out, ": seq=40 time="));
    assert_null(strstr(res.out, " 40 received"));
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &srv), 0);
    h_result_free(&srv);
}

static void probe_too_small_is_a_usage_error(void **state)
{
    struct h_result res;

    (void)state;
    res = run((char *[]){prog("udp"), "client", "-c", "1", "-s", "10", NULL});
    assert_int_equal(res.status, 2);
    assert_non_null(strstr(res.err, "udp-echo: -s: 10 bytes cannot hold a probe's header"));
    h_result_free(&res);
}

/* How many times needle occurs in text. */
static int occurrences(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A UDP port on 127.0.0.1 that receives but never answers. */
static int silent_udp(uint16_t *port)
{
    int fd = h_bound("127.0.0.1", 0, SOCK_DGRAM);
    struct sockaddr_in me;
    socklen_t len = sizeof me;

    assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
    *port = ntohs(me.sin_port);
    return fd;
}

/* A TCP listener on 127.0.0.1:0 (the kernel completes handshakes; nobody need accept). */
static int tcp_listener(uint16_t *port)
{
    int fd = h_bound("127.0.0.1", 0, SOCK_STREAM);
    struct sockaddr_in me;
    socklen_t len = sizeof me;

    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
    *port = ntohs(me.sin_port);
    return fd;
}

/* Probes as fast as the client can send: Ctrl-C still stops the run at once, with the
 * summary, and status 0 since replies came back. "At once" is -W (0.2 s) for the probes in
 * flight, and a line for each; 2 s allows for a loaded machine. A client that stopped to
 * read only once it had half the bookkeeping's window in flight took 4 s under ASan, to
 * print the timeouts of the replies its full socket had dropped. */
static void flood_stops_on_ctrl_c(void **state)
{
    const char *proto = *state;
    struct h_server s, c;
    struct h_result res;
    char line[256];
    bool replied = false;
    double asked;

    assert_int_equal(h_server_start(&s, (char *[]){prog(proto), "server", "-p", "0", NULL}), 0);
    assert_int_equal(
        h_start(&c, (char *[]){prog(proto), "client", "-p", port_of(s.port), "127.0.0.1", "-i",
                               "0.000001", "-c", "1000000", "-W", "0.2", NULL}),
        0);
    /* flooding from the moment it catches SIGINT, and stopped only once a reply has come
     * back: stopped before (as under ASan on a loaded machine, where a UDP flood's first
     * replies came later than -W), it rightly exits 1, as ping does */
    assert_int_equal(p_wait_catches(c.pid, SIGINT, 5000), 0);
    while (!replied && h_next_line(&c, line, sizeof line, 20000) == 0)
        replied = strstr(line, " bytes from ") != NULL;
    if (!replied)
        fail_msg("%s client: no reply within 20 s of flooding", proto);
    p_sleep_ms(500);
    asked = now_ms();
    assert_int_equal(h_server_stop(&c, SIGINT, 5000, &res), 0);
    if (res.status != 0 || now_ms() - asked > 2000)
        fail_msg("%s client: status %d %.0f ms after SIGINT; stderr: %s", proto, res.status,
                 now_ms() - asked, res.err);
    assert_non_null(strstr(res.out, " statistics ---\n"));
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

/* A UDP flood reads its replies between probes: every reply the server sent comes back to
 * the client but the few a busy machine may drop in its socket. A client that sent 2000
 * probes before reading counted 20-50% of the server's replies lost, dropped in its own full
 * receive buffer. Compared with what the server sent, not with 2000: a server that cannot
 * keep up with a flood rightly drops requests, and those replies were never sent. */
static void udp_flood_reads_its_replies(void **state)
{
    struct h_server s;
    struct h_result res;
    char *udp = prog("udp");
    unsigned long received = 0, sent = 0;
    const char *at;

    (void)state;
    assert_int_equal(h_server_start(&s, (char *[]){udp, "server", "-p", "0", NULL}), 0);
    assert_int_equal(h_run((char *[]){udp, "client", "-p", port_of(s.port), "127.0.0.1", "-c",
                                      "2000", "-i", "0.000001", "-W", "1", "-q", NULL},
                           NULL, 0, NULL, 30000, &res),
                     0);
    at = strstr(res.out, "2000 sent, ");
    if (at == NULL || sscanf(at, "2000 sent, %lu received", &received) != 1)
        fail_msg("no summary: %s", res.out);
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGINT, 5000, &res), 0);
    at = strstr(res.out, " datagrams received, ");
    if (at == NULL || sscanf(at, " datagrams received, %lu sent", &sent) != 1)
        fail_msg("no server summary: %s", res.out);
    h_result_free(&res);
    if (received > sent || received < sent * 95 / 100)
        fail_msg("the client got %lu of the %lu replies the server sent", received, sent);
}

/* SIGUSR1: one line of counters so far, and the run goes on to its end. */
static void usr1_prints_counters_and_carries_on(void **state)
{
    const char *proto = *state;
    struct h_server s, c;
    struct h_result res;

    assert_int_equal(h_server_start(&s, (char *[]){prog(proto), "server", "-p", "0", NULL}), 0);
    assert_int_equal(h_start(&c, (char *[]){prog(proto), "client", "-p", port_of(s.port),
                                            "127.0.0.1", "-c", "8", "-i", "0.1", NULL}),
                     0);
    assert_int_equal(p_wait_catches(c.pid, SIGUSR1, 5000), 0);
    for (int i = 0; i < 3; i++) {
        p_sleep_ms(150);
        kill(c.pid, SIGUSR1);
    }
    assert_int_equal(h_server_wait(&c, 10000, &res), 0);
    if (res.status != 0 || occurrences(res.out, "\ncounters: ") != 3)
        fail_msg("status %d, output:\n%s", res.status, res.out);
    assert_non_null(strstr(res.out, "\n8 sent, 8 received, 0 lost (0.0%)"));
    h_result_free(&res);
    /* --json: an object of event "counters" each time */
    assert_int_equal(h_start(&c, (char *[]){prog(proto), "client", "-p", port_of(s.port),
                                            "127.0.0.1", "-c", "8", "-i", "0.1", "--json", NULL}),
                     0);
    assert_int_equal(p_wait_catches(c.pid, SIGUSR1, 5000), 0);
    for (int i = 0; i < 3; i++) {
        p_sleep_ms(150);
        kill(c.pid, SIGUSR1);
    }
    assert_int_equal(h_server_wait(&c, 10000, &res), 0);
    assert_int_equal(res.status, 0);
    assert_int_equal(occurrences(res.out, "{\"event\":\"counters\""), 3);
    assert_int_equal(occurrences(res.out, "\"event\":\"summary\""), 1);
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

/* -m waiting for a reply that never comes: SIGUSR1 neither spins the client nor makes it
 * forget -W. Signals keep coming every 100 ms until the client exits: had each one restarted
 * the 1 s wait, it would still be waiting when they stop, 8 s later. No bound on how soon it
 * exits: a busy machine only makes that later, never earlier. */
static void usr1_while_waiting_keeps_the_timeout(void **state)
{
    const char *proto = *state;
    uint16_t port;
    int fd = strcmp(proto, "tcp") == 0 ? tcp_listener(&port) : silent_udp(&port);
    pid_t pid = h_spawn_quiet((char *[]){prog(proto), "client", "-p", port_of(port), "127.0.0.1",
                                         "-m", "hello", "-W", "1", NULL});
    double start, cpu = 0;
    int status = -1, signals = 0;

    assert_int_equal(p_wait_catches(pid, SIGUSR1, 10000), 0);
    start = now_ms();
    while (now_ms() - start < 8000) {
        p_sleep_ms(100);
        cpu = p_cpu_ms(pid); /* until it is reaped, also once it has exited */
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        kill(pid, SIGUSR1);
        signals++;
    }
    close(fd);
    if (status == -1) {
        h_kill(pid);
        fail_msg("%s -m -W 1: still waiting after %d signals in 8 s: SIGUSR1 restarts the wait",
                 proto, signals);
    }
    status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (status != 1 || cpu > 300 || signals < 3)
        fail_msg("%s -m -W 1: status %d after %d signals, %.0f ms of CPU", proto, status, signals,
                 cpu);
}

/* A TCP server that answers -m with an endless stream: -W is a deadline for the whole
 * reply, so the client stops there, exit 1, with one line saying so. */
static void message_deadline_stops_an_endless_reply(void **state)
{
    uint16_t port;
    int lfd = tcp_listener(&port);
    struct h_result res;
    pid_t pid = fork();

    (void)state;
    if (pid == 0) {
        static char zeros[65536];
        int c;

        h_die_with_parent();
        c = accept(lfd, NULL, NULL);
        while (c >= 0 && send(c, zeros, sizeof zeros, MSG_NOSIGNAL) > 0) {
        }
        _exit(0);
    }
    close(lfd);
    assert_int_equal(h_run((char *[]){prog("tcp"), "client", "-p", port_of(port), "127.0.0.1", "-m",
                                      "hello", "-W", "1", NULL},
                           NULL, 0, NULL, 8000, &res),
                     0);
    h_kill(pid);
    if (res.status != 1 || h_lines(res.err) != 1 || strstr(res.err, "-W") == NULL)
        fail_msg("status %d, stderr: %s", res.status, res.err);
    h_result_free(&res);
}

/* A reply that reaches the socket in time but is read only after the probe's deadline
 * (the client was stopped) is late, never a receipt. */
static void reply_read_after_the_deadline_is_late(void **state)
{
    uint16_t port;
    int fd = silent_udp(&port);
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    struct h_server c;
    struct h_result res;
    char buf[256];
    ssize_t n;

    (void)state;
    h_timeout(fd, 5000);
    assert_int_equal(h_start(&c, (char *[]){prog("udp"), "client", "-p", port_of(port), "127.0.0.1",
                                            "-c", "1", "-W", "0.3", NULL}),
                     0);
    n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
    assert_true(n > 0);
    p_sleep_ms(50); /* the client is waiting in poll() now */
    kill(c.pid, SIGSTOP);
    sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
    p_sleep_ms(700);
    kill(c.pid, SIGCONT);
    assert_int_equal(h_server_wait(&c, 5000, &res), 0);
    close(fd);
    if (res.status != 1 || strncmp(res.out, "seq=1 timeout\n", 14) != 0 ||
        strstr(res.out, " ms (LATE)\n") == NULL)
        fail_msg("status %d, output:\n%s", res.status, res.out);
    h_result_free(&res);
}

/* A UDP server that sends every reply twice: load mode matches replies by sequence number,
 * so the second copy is counted as stale and the socket stays in step. */
static void udp_load_survives_duplicates(void **state)
{
    uint16_t port;
    int fd = silent_udp(&port);
    struct h_result res;
    char line[1024];
    pid_t pid = fork();

    (void)state;
    if (pid == 0) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        char buf[2048];
        ssize_t n;

        h_die_with_parent();
        while ((n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen)) >= 0) {
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
            fromlen = sizeof from;
        }
        _exit(0);
    }
    close(fd);
    res = run((char *[]){prog("udp"), "client", "-p", port_of(port), "127.0.0.1", "-P", "2", "-t",
                         "0.5", "--json", NULL});
    h_kill(pid);
    assert_non_null(h_line_with(res.out, "\"event\":\"load\"", line, sizeof line));
    if (res.status != 0 || h_json_int(line, "errors") != 0 ||
        h_json_int(line, "transactions") < 100 || h_json_int(line, "stale") < 50)
        fail_msg("status %d: %s", res.status, line);
    h_result_free(&res);
}

/* One correct but slow reply at the end of a size: the sweep waits for it (LATE) and the
 * next size starts in step. */
static void tcp_sweep_survives_a_slow_reply(void **state)
{
    uint16_t port;
    int lfd = tcp_listener(&port);
    struct h_result res;
    char line[1024];
    pid_t pid = fork();

    (void)state;
    if (pid == 0) {
        char buf[4096];
        size_t total = 0;
        bool slowed = false;
        ssize_t n;
        int c;

        h_die_with_parent();
        c = accept(lfd, NULL, NULL);
        while (c >= 0 && (n = recv(c, buf, sizeof buf, 0)) > 0) {
            total += (size_t)n;
            if (total >= 96 && !slowed) { /* the third 32-byte probe */
                p_sleep_ms(600);
                slowed = true;
            }
            if (send(c, buf, (size_t)n, MSG_NOSIGNAL) < 0)
                break;
        }
        _exit(0);
    }
    close(lfd);
    res = run((char *[]){prog("tcp"), "client", "-p", port_of(port), "127.0.0.1", "--sweep",
                         "32..64", "-c", "3", "-W", "0.3", "--json", NULL});
    h_kill(pid);
    if (res.status != 0 || h_line_with(res.out, "\"size\":64", line, sizeof line) == NULL)
        fail_msg("status %d, output:\n%s\nstderr: %s", res.status, res.out, res.err);
    assert_int_equal(h_json_int(line, "received"), 3);
    assert_non_null(h_line_with(res.out, "\"size\":32", line, sizeof line));
    assert_int_equal(h_json_int(line, "received"), 2);
    h_result_free(&res);
}

/* A reply whose header reads differently from the probe ("seq=017" for "seq=17") is not the
 * probe's echo: every byte is compared. */
static void reply_must_match_byte_for_byte(void **state)
{
    uint16_t port;
    int fd = silent_udp(&port);
    struct h_result res;
    pid_t pid = fork();

    (void)state;
    if (pid == 0) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        char buf[2048], head[64];
        unsigned long long t;
        unsigned seq;
        ssize_t n;

        h_die_with_parent();
        while ((n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen)) >= 0) {
            int len;

            if (sscanf(buf, "seq=%u t=%llu ", &seq, &t) != 2)
                continue;
            /* the same probe, its number written with a leading zero, filler as encoded */
            len = snprintf(head, sizeof head, "seq=0%u t=%llu ", seq, t);
            memcpy(buf, head, (size_t)len);
            for (ssize_t i = len; i < n; i++)
                buf[i] = (char)('a' + (seq + (size_t)i) % 26);
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
            fromlen = sizeof from;
        }
        _exit(0);
    }
    close(fd);
    res = run((char *[]){prog("udp"), "client", "-p", port_of(port), "127.0.0.1", "-c", "3", "-i",
                         "0.05", "-W", "0.2", NULL});
    h_kill(pid);
    if (res.status != 1 || strstr(res.out, "\n3 sent, 0 received, ") == NULL)
        fail_msg("status %d, output:\n%s", res.status, res.out);
    assert_non_null(strstr(res.out, ", 3 invalid, "));
    h_result_free(&res);
}

/* A sweep that got nothing back fails as probe mode does. */
static void sweep_without_replies_fails(void **state)
{
    uint16_t port;
    int fd = silent_udp(&port);
    struct h_result res;

    (void)state;
    res = run((char *[]){prog("udp"), "client", "-p", port_of(port), "127.0.0.1", "--sweep",
                         "32..64", "-c", "1", "-W", "0.1", NULL});
    close(fd);
    if (res.status != 1)
        fail_msg("status %d, output:\n%s", res.status, res.out);
    h_result_free(&res);
}

/* tcp-echo -m against a server that closes without a word: exit 1, and a line says so. */
static void message_without_reply_fails(void **state)
{
    uint16_t port;
    int lfd = tcp_listener(&port);
    struct h_result res;
    pid_t pid = fork();

    (void)state;
    if (pid == 0) {
        char buf[256];
        int c;

        h_die_with_parent();
        c = accept(lfd, NULL, NULL);
        while (c >= 0 && recv(c, buf, sizeof buf, 0) > 0) {
        }
        _exit(0);
    }
    close(lfd);
    res = run(
        (char *[]){prog("tcp"), "client", "-p", port_of(port), "127.0.0.1", "-m", "hello", NULL});
    h_kill(pid);
    if (res.status != 1 || h_lines(res.err) != 1 ||
        strstr(res.err, "closed the connection without replying") == NULL)
        fail_msg("status %d, stderr: %s", res.status, res.err);
    h_result_free(&res);
}

/* Load mode out of descriptors (ulimit -n 16, -P 40): the run fails with one line, and
 * closes only the sockets it opened, never descriptor 0. */
static void load_out_of_descriptors_closes_only_its_own(void **state)
{
    struct h_server s;
    struct h_result res;
    char script[512];

    (void)state;
    assert_int_equal(h_server_start(&s, (char *[]){prog("tcp"), "server", "-p", "0", NULL}), 0);
    snprintf(script, sizeof script,
             "ulimit -n 16 && exec \"$0\" client -p %u 127.0.0.1 -P 40 -t 0.2 --trace",
             (unsigned)s.port);
    res = run((char *[]){"/bin/sh", "-c", script, prog("tcp"), NULL});
    if (res.status != 1 || occurrences(res.err, "close(0)") != 0 ||
        strstr(res.err, "tcp-echo: cannot create a socket") == NULL)
        fail_msg("status %d, %d close(0) calls; stderr ends: %s", res.status,
                 occurrences(res.err, "close(0)"),
                 res.errlen > 300 ? res.err + res.errlen - 300 : res.err);
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

/* --json with a reply of 10 KB holding control bytes, bytes 0x80-0xff that are not UTF-8
 * and some that are: every line is valid JSON (jq reads it), valid UTF-8 passes as it is,
 * and each byte that is not UTF-8 is written \u00XX. */
static void json_reply_is_valid_whatever_the_bytes(void **state)
{
    const char *proto = *state;
    static char msg[10241];
    struct h_server s;
    struct h_result res, jq;
    int high = 0;

    for (size_t i = 0; i < sizeof msg - 1; i++)
        msg[i] = (char)(1 + i % 255);
    memcpy(msg + 100, "\xc3\xa9t\xc3\xa9", 5); /* "été" */
    msg[sizeof msg - 1] = '\0';
    assert_int_equal(h_server_start(&s, (char *[]){prog(proto), "server", "-p", "0", NULL}), 0);
    res = run((char *[]){prog(proto), "client", "-p", port_of(s.port), "127.0.0.1", "-m", msg,
                         "--json", NULL});
    assert_int_equal(res.status, 0);
    assert_int_equal(h_json_int(res.out, "bytes"), 10240);
    assert_non_null(strstr(res.out, "\xc3\xa9t\xc3\xa9"));
    assert_non_null(strstr(res.out, "\\u00ff"));
    /* jq would take raw bytes that are not UTF-8 silently: only the two é may be raw */
    for (size_t i = 0; i < res.outlen; i++)
        high += (unsigned char)res.out[i] >= 0x80;
    assert_int_equal(high, 4);
    assert_int_equal(h_run((char *[]){"/usr/bin/jq", "-e", ".data | length > 10000", NULL}, res.out,
                           res.outlen, NULL, 10000, &jq),
                     0);
    if (jq.status != 0)
        fail_msg("jq: %d %s", jq.status, jq.err);
    h_result_free(&jq);
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

/* A CSV file or standard output that cannot be written (a full disk: /dev/full) is a
 * failure with one line saying so, never a silent exit 0. */
static void write_errors_are_failures(void **state)
{
    struct h_server s;
    struct h_result res;
    char script[512];

    (void)state;
    assert_int_equal(h_server_start(&s, (char *[]){prog("udp"), "server", "-p", "0", NULL}), 0);
    res = run((char *[]){prog("udp"), "client", "-p", port_of(s.port), "127.0.0.1", "-c", "2", "-i",
                         "0", "--csv", "/dev/full", "-q", NULL});
    if (res.status != 1 || h_lines(res.err) != 1 ||
        strstr(res.err, "udp-echo: cannot write /dev/full: ") == NULL)
        fail_msg("--csv /dev/full: status %d, stderr: %s", res.status, res.err);
    h_result_free(&res);
    snprintf(script, sizeof script, "exec \"$0\" client -p %u 127.0.0.1 -c 2 -i 0 >/dev/full",
             (unsigned)s.port);
    res = run((char *[]){"/bin/sh", "-c", script, prog("udp"), NULL});
    if (res.status != 1 || h_lines(res.err) != 1 ||
        strstr(res.err, "udp-echo: cannot write to standard output: ") == NULL)
        fail_msg(">/dev/full: status %d, stderr: %s", res.status, res.err);
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

/* Values the parser refuses, each with one line on stderr and exit 2: a newline in a value
 * (shown escaped), a -b address longer than any host name, seconds in hex or with an
 * exponent. */
static void bad_values_are_one_line_usage_errors(void **state)
{
    static char long_bind[300];
    static char *const cases[][6] = {
        {"client", "-p", "80\nabc", NULL},        {"client", "-m", "hi", "-b", long_bind, NULL},
        {"server", "-b", long_bind, NULL},        {"client", "-i", "0x10", NULL},
        {"client", "-W", "1e3", "-c", "1", NULL}, {"client", "-t", "inf", NULL},
    };
    struct h_result res;

    (void)state;
    memset(long_bind, 'a', sizeof long_bind - 1);
    h_expect_usage_errors(prog("udp"), "udp-echo", cases, sizeof cases / sizeof cases[0]);
    h_expect_usage_errors(prog("tcp"), "tcp-echo", cases, sizeof cases / sizeof cases[0]);
    res = run((char *[]){prog("udp"), "client", "-p", "80\nabc", NULL});
    assert_non_null(strstr(res.err, "'80\\nabc' is not a port"));
    h_result_free(&res);
    res = run((char *[]){prog("udp"), "server", "-b", long_bind, NULL});
    assert_non_null(strstr(res.err, "udp-echo: -b: longer than 255 characters"));
    h_result_free(&res);
}

/* A TCP server that never reads: a 16 MB probe stays half sent, times out after -W, and the
 * run ends there (exit 1, no reply) instead of waiting for room that never comes. */
static void half_sent_probe_cannot_hold_the_run(void **state)
{
    uint16_t port;
    int lfd = tcp_listener(&port);
    struct h_result res;

    (void)state;
    assert_int_equal(h_run((char *[]){prog("tcp"), "client", "-p", port_of(port), "127.0.0.1", "-c",
                                      "1", "-s", "16000000", "-W", "0.5", NULL},
                           NULL, 0, NULL, 8000, &res),
                     0);
    close(lfd);
    if (res.status != 1 || strstr(res.out, "\n1 sent, 0 received, 1 lost") == NULL)
        fail_msg("status %d, output:\n%s\nstderr: %s", res.status, res.out, res.err);
    h_result_free(&res);
}

/* stdin mode, INPUT a shell command that writes the client's stdin and calls `gate` where it
 * pauses: SIGUSR1 about 0.3 s in prints the counters on stderr, and stdout ends up holding
 * exactly "hello\n", the echo of the whole input. The gate opens only once the signal is
 * sent, so however slow the machine, the signal cannot come after the input has ended and
 * the client with it. */
static void usr1_during_stdin(const char *proto, const char *input)
{
    struct h_server s;
    struct h_result res;
    char script[768];

    assert_int_equal(h_server_start(&s, (char *[]){prog(proto), "server", "-p", "0", NULL}), 0);
    snprintf(script, sizeof script,
             "g=${TMPDIR:-/tmp}/usr1-gate.$$; rm -f \"$g\"; "
             "gate() { while [ ! -e \"$g\" ]; do sleep 0.01; done; }; "
             "{ %s; } | \"$0\" client -p %u 127.0.0.1 & c=$!; sleep 0.3; " CAUGHT_USR1(
                 "$c") "kill -USR1 $c; touch \"$g\"; wait $c; s=$?; rm -f \"$g\"; exit $s",
             input, (unsigned)s.port);
    res = run((char *[]){"/bin/sh", "-c", script, prog(proto), NULL});
    if (res.status != 0 || strstr(res.err, "counters: ") == NULL || strcmp(res.out, "hello\n") != 0)
        fail_msg("%s: status %d, output:\n%s\nstderr: %s", proto, res.status, res.out, res.err);
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
}

/* SIGUSR1 while the client waits for the next line: the lines that follow still go. */
static void usr1_in_stdin_mode_carries_on(void **state)
{
    usr1_during_stdin(*state, "gate; echo hello");
}

/* SIGUSR1 while half a line is typed loses none of it: the line goes out whole. */
static void usr1_mid_line_loses_nothing(void **state)
{
    usr1_during_stdin(*state, "printf hel; gate; echo lo");
}

/* A sweep whose buffers for one size cannot be allocated fails with one line and frees
 * what it had allocated for that size. Under AddressSanitizer only: it can refuse large
 * allocations on demand, and its leak check fails the client if anything is left. */
static void sweep_allocation_failure_leaks_nothing(void **state)
{
#ifdef __SANITIZE_ADDRESS__
    struct h_server s;
    struct h_result res;
    char script[512];

    (void)state;
    assert_int_equal(h_server_start(&s, (char *[]){prog("tcp"), "server", "-p", "0", NULL}), 0);
    /* buffers of 1 MiB and more cannot be had: the 1 MiB size fails part way */
    snprintf(script, sizeof script,
             "ASAN_OPTIONS=$ASAN_OPTIONS:allocator_may_return_null=1:max_allocation_size_mb=1 "
             "exec \"$0\" client -p %u 127.0.0.1 --sweep 524288..1048576 -c 1",
             (unsigned)s.port);
    res = run((char *[]){"/bin/sh", "-c", script, prog("tcp"), NULL});
    /* the sanitizer says each refusal on a line of its own, "==PID==WARNING: ..." */
    if (res.status != 1 || strstr(res.err, "LeakSanitizer") != NULL ||
        strstr(res.err, "\ntcp-echo: cannot allocate probe buffers of 1048576 bytes") == NULL)
        fail_msg("status %d, stderr: %s", res.status, res.err);
    h_result_free(&res);
    assert_int_equal(h_server_stop(&s, SIGTERM, 5000, &res), 0);
    h_result_free(&res);
#else
    (void)state;
    skip();
#endif
}

#define BOTH(fn) cmocka_unit_test_prestate(fn, &v4), cmocka_unit_test_prestate(fn, &v6)
#define PROTOS(fn) cmocka_unit_test_prestate(fn, "tcp"), cmocka_unit_test_prestate(fn, "udp")

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(tcp_probes),
        BOTH(udp_probes),
        cmocka_unit_test(payload_is_readable),
        cmocka_unit_test(every_fate_is_counted_apart),
        cmocka_unit_test(every_fate_is_named_in_text),
        cmocka_unit_test(corrupted_stream_is_an_error),
        cmocka_unit_test(until_interrupted_still_summarises),
        cmocka_unit_test(csv_has_a_row_per_probe),
        cmocka_unit_test(sweep_finds_the_datagram_limit),
        cmocka_unit_test(load_against_our_servers),
        cmocka_unit_test(load_against_socat),
        cmocka_unit_test(udp_probes_ride_out_a_server_restart),
        cmocka_unit_test(probe_too_small_is_a_usage_error),
        PROTOS(flood_stops_on_ctrl_c),
        cmocka_unit_test(udp_flood_reads_its_replies),
        PROTOS(usr1_prints_counters_and_carries_on),
        PROTOS(usr1_while_waiting_keeps_the_timeout),
        cmocka_unit_test(message_deadline_stops_an_endless_reply),
        cmocka_unit_test(reply_read_after_the_deadline_is_late),
        cmocka_unit_test(udp_load_survives_duplicates),
        cmocka_unit_test(tcp_sweep_survives_a_slow_reply),
        cmocka_unit_test(reply_must_match_byte_for_byte),
        cmocka_unit_test(sweep_without_replies_fails),
        cmocka_unit_test(message_without_reply_fails),
        cmocka_unit_test(load_out_of_descriptors_closes_only_its_own),
        PROTOS(json_reply_is_valid_whatever_the_bytes),
        cmocka_unit_test(write_errors_are_failures),
        cmocka_unit_test(bad_values_are_one_line_usage_errors),
        cmocka_unit_test(half_sent_probe_cannot_hold_the_run),
        PROTOS(usr1_in_stdin_mode_carries_on),
        PROTOS(usr1_mid_line_loses_nothing),
        cmocka_unit_test(sweep_allocation_failure_leaks_nothing),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
