/* test_udp_abuse.c - udp-echo never reflects to a source it should not, two echo servers
 * cannot be made to loop, a source over --rate-limit is dropped, a flood costs no memory.
 *
 * Spoofed sources need a raw socket (IP_HDRINCL), so the whole test runs inside a network
 * namespace it creates with `ip netns add` (root only; skipped otherwise): nothing it sends
 * can leave that namespace's loopback. */
#define _GNU_SOURCE /* setns() */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "procfs.h"

#define UDP (char *)h_prog("UDP_ECHO")

static char netns[64];
static bool in_netns;

/* An IPv4 header and a UDP header, as the raw socket sends them. */
struct packet {
    uint8_t ver_ihl, tos;
    uint16_t len, id, frag;
    uint8_t ttl, proto;
    uint16_t check;
    uint32_t src, dst;
    uint16_t sport, dport, ulen, ucheck;
    char payload[16];
};

static uint16_t ip_checksum(const void *data, size_t len)
{
    const uint16_t *p = data;
    uint32_t sum = 0;

    for (; len > 1; len -= 2)
        sum += *p++;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Send one UDP datagram "spoof" from src:sport to dst:dport, whatever src is. */
static int send_spoofed(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    struct packet pk = {.ver_ihl = 0x45, .ttl = 64, .proto = IPPROTO_UDP};
    struct sockaddr_in to = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW), one = 1;
    ssize_t n;

    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
    memcpy(pk.payload, "spoofed datagram", 16);
    pk.len = htons(sizeof pk);
    inet_pton(AF_INET, src, &pk.src);
    inet_pton(AF_INET, dst, &pk.dst);
    pk.check = ip_checksum(&pk, 20);
    pk.sport = htons(sport);
    pk.dport = htons(dport);
    pk.ulen = htons(sizeof pk - 20);
    pk.ucheck = 0; /* no UDP checksum: allowed over IPv4 */
    to.sin_addr.s_addr = pk.dst;
    n = sendto(fd, &pk, sizeof pk, 0, (struct sockaddr *)&to, sizeof to);
    close(fd);
    return n == (ssize_t)sizeof pk ? 0 : -1;
}

/* A normal datagram from a normal socket, and its echo: proof the server is past
 * everything sent before it. */
static void sync_with(const char *host, uint16_t port)
{
    int fd = h_connect(host, port, SOCK_DGRAM), tries = 0;
    char back[16];
    ssize_t n = -1;

    assert_true(fd >= 0);
    h_timeout(fd, 1000);
    /* UDP may drop it when the server's queue is full: ask again */
    while (n != 4 && tries++ < 5) {
        assert_int_equal(send(fd, "sync", 4, 0), 4);
        n = recv(fd, back, sizeof back, 0);
    }
    assert_int_equal(n, 4);
    close(fd);
}

static void start(struct h_server *s, const char *bind, const char *port, const char *extra,
                  const char *value)
{
    char *argv[] = {UDP,          "server", "-b",          (char *)bind,  "-p",
                    (char *)port, "--json", (char *)extra, (char *)value, NULL};

    assert_int_equal(h_server_start(s, argv), 0);
}

/* Stop a server and read a counter from its JSON summary. */
static long long stop_and_count(struct h_server *s, const char *key, struct h_result *res)
{
    assert_int_equal(h_server_stop(s, SIGTERM, 5000, res), 0);
    assert_int_equal(res->status, 0);
    return h_json_int(strstr(res->out, "\"event\":\"summary\""), key);
}

/* Every class of source the policy names is dropped and counted, never answered. */
static void refused_sources_are_dropped_and_counted(void **state)
{
    static const struct {
        const char *src;
        uint16_t port;
    } cases[] = {
        {"127.0.0.1", 0},           /* source port 0: a reply cannot be addressed */
        {"127.0.0.1", 1000},        /* below 1024: another service (echo, chargen) */
        {"127.0.0.2", 0xffff},      /* the server's own port (filled in below) */
        {"224.0.0.1", 40000},       /* multicast */
        {"255.255.255.255", 40000}, /* broadcast */
        {"240.0.0.1", 40000},       /* reserved, 240.0.0.0/4 */
        {"127.255.255.255", 40000}, /* the loopback network's broadcast */
        {"127.3.2.255", 40000},     /* and a form that looks like a subnet's */
        /* unspecified (0.0.0.0) cannot be sent: a raw socket fills in the real source, and
         * a frame injected below IP is dropped as a martian before UDP sees it. test_addr
         * checks that the policy refuses it (and ::, and ::ffff:0.0.0.0). */
    };
    struct h_server s, s6;
    struct h_result res;
    size_t n = sizeof cases / sizeof cases[0];
    long long refused, sent;

    (void)state;
    if (!in_netns)
        skip();
    start(&s, "127.0.0.1", "0", NULL, NULL);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(send_spoofed(cases[i].src,
                                      cases[i].port == 0xffff ? s.port : cases[i].port, "127.0.0.1",
                                      s.port),
                         0);
    sync_with("127.0.0.1", s.port);
    refused = stop_and_count(&s, "refused", &res);
    sent = h_json_int(strstr(res.out, "\"event\":\"summary\""), "messages_sent");
    printf("measured: refused %lld of %zu spoofed sources; answered %lld (the sync only)\n",
           refused, n, sent);
    assert_int_equal(refused, (long long)n);
    assert_int_equal(sent, 1);
    h_result_free(&res);

    /* a dual-stack socket sees IPv4 sources as ::ffff:a.b.c.d: judged as the IPv4 inside */
    start(&s6, "::", "0", NULL, NULL);
    assert_int_equal(send_spoofed("224.0.0.5", 40000, "127.0.0.1", s6.port), 0);
    assert_int_equal(send_spoofed("127.0.0.1", 0, "127.0.0.1", s6.port), 0);
    sync_with("127.0.0.1", s6.port);
    assert_int_equal(stop_and_count(&s6, "refused", &res), 2);
    assert_non_null(strstr(res.out, "\"event\":\"refused\""));
    h_result_free(&res);
}

/* The classic echo loop: two echo servers on the same port on two hosts, and one datagram
 * forged to come from the other. The own-port rule stops it at the first hop. */
static void two_servers_aimed_at_each_other_do_not_loop(void **state)
{
    struct h_server a, b;
    struct h_result res;
    long long a_out, b_in;

    (void)state;
    if (!in_netns)
        skip();
    /* port 7007, the default, on two addresses: this namespace is ours alone */
    start(&a, "127.0.0.1", "7007", NULL, NULL);
    start(&b, "127.0.0.2", "7007", NULL, NULL);
    assert_int_equal(send_spoofed("127.0.0.2", 7007, "127.0.0.1", 7007), 0);
    sync_with("127.0.0.1", 7007);
    p_sleep_ms(300);                                       /* room for a loop to show itself */
    a_out = stop_and_count(&a, "messages_sent", &res) - 1; /* less the sync */
    h_result_free(&res);
    b_in = stop_and_count(&b, "messages_received", &res);
    h_result_free(&res);
    printf("measured: echo loop: server A sent %lld, server B received %lld\n", a_out, b_in);
    assert_true(a_out + b_in <= 1);
}

/* Two servers on different ports, so the own-port rule cannot help, and one datagram forged
 * to come from B and sent to A: each answers the other. However long they are left, the
 * exchange ends after a bounded number of round trips. */
static void loop_between_servers(const char *b_extra, const char *b_value, const char *what)
{
    enum { BOUND = 1000 }; /* round trips: the default limit with room to spare */
    struct h_server a, b;
    struct h_result res;
    long long a_out, b_out;

    start(&a, "127.0.0.1", "40001", NULL, NULL);
    start(&b, "127.0.0.1", "40002", b_extra, b_value);
    assert_int_equal(send_spoofed("127.0.0.1", 40002, "127.0.0.1", 40001), 0);
    p_sleep_ms(1000); /* an endless loop runs thousands of round trips a second */
    a_out = stop_and_count(&a, "messages_sent", &res);
    h_result_free(&res);
    b_out = stop_and_count(&b, "messages_sent", &res);
    h_result_free(&res);
    printf("measured: %s on ports 40001 and 40002, one forged datagram: %lld + %lld "
           "answers in 1 s\n",
           what, a_out, b_out);
    assert_true(a_out + b_out <= BOUND);
}

static void loop_between_servers_ends(void **state)
{
    (void)state;
    if (!in_netns)
        skip();
    loop_between_servers(NULL, NULL, "echo and echo");
    loop_between_servers("--reply", "pong", "echo and --reply");
}

/* One real socket sends the same datagram again and again, each after the last answer, as
 * an echo server would: answered up to the limit, then dropped; --loop-limit 0 lifts it. */
static int answers_to_repeats(const char *limit, int sends)
{
    struct h_server s;
    struct h_result res;
    int fd, answered = 0;
    char back[16];

    start(&s, "127.0.0.1", "0", limit ? "--loop-limit" : NULL, limit);
    fd = h_connect("127.0.0.1", s.port, SOCK_DGRAM);
    assert_true(fd >= 0);
    h_timeout(fd, 200);
    for (int i = 0; i < sends; i++) {
        assert_int_equal(send(fd, "same again", 10, 0), 10);
        if (recv(fd, back, sizeof back, 0) == 10)
            answered++;
    }
    close(fd);
    assert_int_equal(stop_and_count(&s, "refused", &res), sends - answered);
    h_result_free(&res);
    return answered;
}

static void loop_limit_default_and_override(void **state)
{
    int by_default, lifted;

    (void)state;
    by_default = answers_to_repeats(NULL, 110);
    lifted = answers_to_repeats("0", 110);
    printf("measured: 110 identical datagrams in a row: %d answered by default, %d with "
           "--loop-limit 0\n",
           by_default, lifted);
    assert_int_equal(by_default, 101); /* the first, and 100 repeats */
    assert_int_equal(lifted, 110);
}

/* The loop guard leaves real clients alone: load mode, one request in flight per socket
 * and as fast as the server answers, loses nothing. */
static void load_client_is_not_a_loop(void **state)
{
    struct h_server s;
    struct h_result res;
    char port[8], line[1024];

    (void)state;
    start(&s, "127.0.0.1", "0", NULL, NULL);
    snprintf(port, sizeof port, "%u", (unsigned)s.port);
    assert_int_equal(h_run((char *[]){UDP, "client", "-p", port, "127.0.0.1", "-P", "64", "-t", "2",
                                      "--json", NULL},
                           NULL, 0, NULL, 20000, &res),
                     0);
    assert_int_equal(res.status, 0);
    assert_non_null(h_line_with(res.out, "\"event\":\"load\"", line, sizeof line));
    printf("measured: load -P 64 -t 2: %.0f transactions/s, %lld lost\n",
           h_json_num(line, "transactions_per_second"), h_json_int(line, "lost"));
    assert_int_equal(h_json_int(line, "lost"), 0);
    assert_int_equal(h_json_int(line, "errors"), 0);
    h_result_free(&res);
    assert_int_equal(stop_and_count(&s, "refused", &res), 0);
    h_result_free(&res);
}

/* --rate-limit N: a source gets about N answers a second, the rest are dropped; another
 * source keeps its own budget. */
static void rate_limit_drops_the_excess(void **state)
{
    struct h_server s;
    struct h_result res;
    int fd, answered = 0;
    long long refused;
    char back[16];

    (void)state;
    start(&s, "127.0.0.1", "0", "--rate-limit", "20");
    fd = h_connect("127.0.0.1", s.port, SOCK_DGRAM);
    assert_true(fd >= 0);
    for (int i = 0; i < 200; i++)
        assert_int_equal(send(fd, "burst", 5, 0), 5);
    h_timeout(fd, 500);
    while (recv(fd, back, sizeof back, 0) > 0)
        answered++;
    sync_with("127.0.0.1", s.port); /* a fresh source is still answered */
    refused = stop_and_count(&s, "refused", &res);
    printf("measured: --rate-limit 20: %d of 200 answered, %lld refused\n", answered, refused);
    assert_true(answered >= 15 && answered <= 40);
    assert_int_equal(refused, 200 - answered);
    h_result_free(&res);
    close(fd);
}

/* The slot an unkeyed FNV-1a hash of the peer key (address, port, family) gives a source in
 * a table of 4096: anyone could compute it, and so choose sources that share a victim's. */
static unsigned unkeyed_slot(const char *addr, uint16_t port)
{
    uint8_t key[20] = {0};
    uint16_t family = AF_INET;
    uint32_t h = 2166136261u;

    inet_pton(AF_INET, addr, key);
    memcpy(key + 16, &port, 2);
    memcpy(key + 18, &family, 2);
    for (size_t i = 0; i < sizeof key; i++)
        h = (h ^ key[i]) * 16777619u;
    return h % 4096;
}

/* One server with --rate-limit 100 and a victim asking 50 times a second, while 32 sources
 * chosen to share its slot under a hash anyone can compute flood it: how many of the victim's
 * 100 requests are answered. */
static int victim_answered_beside_aimed_sources(void)
{
    enum { ATTACKERS_MAX = 32, VICTIM_SENDS = 100 };
    static const char *const hosts[] = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};
    struct h_server s;
    struct h_result res;
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    int victim, attackers[ATTACKERS_MAX], nattackers = 0, answered = 0;
    unsigned slot;
    char back[16];

    start(&s, "127.0.0.1", "0", "--rate-limit", "100");
    victim = h_bound("127.0.0.1", 0, SOCK_DGRAM);
    assert_true(victim >= 0);
    assert_int_equal(getsockname(victim, (struct sockaddr *)&me, &len), 0);
    slot = unkeyed_slot("127.0.0.1", ntohs(me.sin_port));
    for (size_t a = 0; a < sizeof hosts / sizeof hosts[0]; a++)
        for (unsigned port = 1024; port <= 65535 && nattackers < ATTACKERS_MAX; port++) {
            int fd;

            if (port == ntohs(me.sin_port) || unkeyed_slot(hosts[a], (uint16_t)port) != slot)
                continue;
            fd = h_bound(hosts[a], (uint16_t)port, SOCK_DGRAM);
            if (fd < 0)
                continue;
            assert_int_equal(h_aim(fd, "127.0.0.1", s.port), 0);
            fcntl(fd, F_SETFL, O_NONBLOCK);
            attackers[nattackers++] = fd;
        }
    assert_true(nattackers >= 14);
    assert_int_equal(h_aim(victim, "127.0.0.1", s.port), 0);
    h_timeout(victim, 300);
    /* the victim asks 50 times a second, half its budget; each attacker floods between */
    for (int i = 0; i < VICTIM_SENDS; i++) {
        for (int round = 0; round < 5; round++)
            for (int k = 0; k < nattackers; k++)
                send(attackers[k], "flood", 5, 0);
        assert_int_equal(send(victim, "victim", 6, 0), 6);
        if (recv(victim, back, sizeof back, 0) == 6)
            answered++;
        p_sleep_ms(20);
    }
    printf("measured: victim answered %d of %d while %d sources chosen to share its slot "
           "under an unkeyed hash flooded\n",
           answered, VICTIM_SENDS, nattackers);
    for (int k = 0; k < nattackers; k++)
        close(attackers[k]);
    close(victim);
    stop_and_count(&s, "refused", &res);
    h_result_free(&res);
    return answered;
}

/* A sender cannot aim at another source's --rate-limit budget: the victim, well under the
 * limit, is still answered. The server's hash is keyed at random, so one of the 32 sources
 * still shares the victim's slot by chance, 32 times in 4096 (its slots), and the victim
 * then shares its budget: a second server, with a key of its own, must answer it. */
static void rate_limit_budget_cannot_be_aimed(void **state)
{
    int answered;

    (void)state;
    answered = victim_answered_beside_aimed_sources();
    if (answered < 95) {
        printf("measured: %d answered: a source shares the victim's slot by chance? once more, "
               "with a new key\n",
               answered);
        answered = victim_answered_beside_aimed_sources();
    }
    assert_true(answered >= 95);
}

/* A flood from thousands of sources: the server's memory does not grow with it. */
static void flood_costs_no_memory(void **state)
{
    enum { SOURCES = 500, PER_SOURCE = 100 };
    struct h_server s;
    struct h_result res;
    static int fds[SOURCES];
    long rss0, rss1;

    (void)state;
    start(&s, "127.0.0.1", "0", "--rate-limit", "1000");
    sync_with("127.0.0.1", s.port);
    rss0 = p_rss_kb(s.pid);
    for (int i = 0; i < SOURCES; i++) {
        fds[i] = h_connect("127.0.0.1", s.port, SOCK_DGRAM);
        assert_true(fds[i] >= 0);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
    }
    for (int round = 0; round < PER_SOURCE; round++)
        for (int i = 0; i < SOURCES; i++)
            send(fds[i], "flood", 5, 0);
    p_sleep_ms(200);
    sync_with("127.0.0.1", s.port);
    rss1 = p_rss_kb(s.pid);
    for (int i = 0; i < SOURCES; i++)
        close(fds[i]);
    printf("measured: flood of %d datagrams from %d sources: RSS %ld -> %ld KiB, %lld "
           "received\n",
           SOURCES * PER_SOURCE, SOURCES, rss0, rss1,
           stop_and_count(&s, "messages_received", &res));
    h_result_free(&res);
    /* the peer and rate tables are fixed arrays: at most their own pages are touched */
    assert_true(rss1 - rss0 < 1024);
}

/* Where ::1 does not exist (IPv6 off), a default server holds nothing there and serves as
 * before: nobody can bind an address the machine does not have. */
static void without_ipv6_nothing_is_held(void **state)
{
    struct h_server s;
    struct h_result res;
    char port[8];

    (void)state;
    if (!in_netns)
        skip();
    assert_int_equal(system("sysctl -qw net.ipv6.conf.lo.disable_ipv6=1"), 0);
    assert_int_equal(h_server_start(&s, (char *[]){UDP, "server", "-p", "0", "--json", "-v", NULL}),
                     0);
    snprintf(port, sizeof port, "%u", (unsigned)s.port);
    h_expect_output((char *[]){UDP, "client", "-p", port, "-m", "hi", "localhost", NULL}, NULL, 0,
                    "hi\n", 3);
    assert_int_equal(stop_and_count(&s, "messages_sent", &res), 1);
    assert_null(strstr(res.out, "holding"));
    h_result_free(&res);
    assert_int_equal(system("sysctl -qw net.ipv6.conf.lo.disable_ipv6=0"), 0);
}

/* Send one datagram from each of n forged sources (address and port), and one real one
 * between batches that waits for the server to keep up; its summary is left in res. */
static long long peers_counted(int n, struct h_result *res)
{
    enum { BATCH = 100 };
    struct h_server s;
    int fd, tries;
    char sync[8], back[16], src[32];

    start(&s, "127.0.0.1", "0", "-q", NULL);
    fd = h_connect("127.0.0.1", s.port, SOCK_DGRAM);
    assert_true(fd >= 0);
    h_timeout(fd, 1000);
    for (int i = 0; i < n; i++) {
        snprintf(src, sizeof src, "127.1.%d.%d", i / 200, i % 200 + 1);
        assert_int_equal(
            send_spoofed(src, (uint16_t)(20000 + i % 7 * 1000 + i % 13), "127.0.0.1", s.port), 0);
        if ((i + 1) % BATCH != 0)
            continue;
        /* the server's receive queue holds only so many: wait for it (a new question each
         * time, or the loop guard would take the real source for an echo server) */
        snprintf(sync, sizeof sync, "%04d", i / BATCH % 10000);
        for (tries = 0; tries < 5; tries++)
            if (send(fd, sync, 4, 0) == 4 && recv(fd, back, sizeof back, 0) == 4)
                break;
        assert_true(tries < 5);
    }
    close(fd);
    return stop_and_count(&s, "clients", res);
}

/* Every distinct source is counted once, well past the few thousand a classroom makes. */
static void distinct_peers_are_counted_exactly(void **state)
{
    enum { SOURCES = 5000 };
    struct h_result res;
    long long peers;

    (void)state;
    if (!in_netns)
        skip();
    peers = peers_counted(SOURCES, &res);
    printf("measured: %d distinct forged sources and 1 real one: the server counted %lld "
           "peers\n",
           SOURCES, peers);
    assert_null(strstr(res.out, "clients_at_least"));
    h_result_free(&res);
    assert_int_equal(peers, SOURCES + 1);
}

/* Past what its table holds, the count is a lower bound, and the summary says so. */
static void peers_past_the_table_are_a_lower_bound(void **state)
{
    enum { SOURCES = 13000, TABLE = 12288 };
    struct h_result res;
    long long peers;

    (void)state;
    if (!in_netns)
        skip();
    peers = peers_counted(SOURCES, &res);
    printf("measured: %d distinct forged sources and 1 real one: the server counted at least "
           "%lld\n",
           SOURCES, peers);
    assert_non_null(strstr(res.out, "\"clients_at_least\":true"));
    h_result_free(&res);
    assert_int_equal(peers, TABLE);
}

/* Make a network namespace and move this process (and the servers it starts) into it. */
static int enter_netns(void **state)
{
    char cmd[160], path[128];
    int fd;

    (void)state;
    snprintf(netns, sizeof netns, "socklab-abuse-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "ip netns add %s 2>/dev/null", netns);
    if (geteuid() != 0 || system(cmd) != 0)
        return 0;
    snprintf(path, sizeof path, "/run/netns/%s", netns);
    fd = open(path, O_RDONLY);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
        return -1;
    close(fd);
    if (system("ip link set lo up") != 0)
        return -1;
    in_netns = true;
    return 0;
}

static int leave_netns(void **state)
{
    char cmd[160];

    (void)state;
    if (netns[0] != '\0') {
        snprintf(cmd, sizeof cmd, "ip netns del %s 2>/dev/null", netns);
        if (system(cmd) != 0)
            return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_sources_are_dropped_and_counted),
        cmocka_unit_test(two_servers_aimed_at_each_other_do_not_loop),
        cmocka_unit_test(loop_between_servers_ends),
        cmocka_unit_test(loop_limit_default_and_override),
        cmocka_unit_test(load_client_is_not_a_loop),
        cmocka_unit_test(rate_limit_drops_the_excess),
        cmocka_unit_test(rate_limit_budget_cannot_be_aimed),
        cmocka_unit_test(flood_costs_no_memory),
        cmocka_unit_test(without_ipv6_nothing_is_held),
        cmocka_unit_test(distinct_peers_are_counted_exactly),
        cmocka_unit_test(peers_past_the_table_are_a_lower_bound),
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, enter_netns, leave_netns);
}
