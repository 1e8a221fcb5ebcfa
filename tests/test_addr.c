/* test_addr.c - parsing and formatting addresses and ports; the UDP reflection policy. */
#define _GNU_SOURCE /* unshare() */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"

static void port_accepts_whole_numbers(void **state)
{
    uint16_t port = 1;

    (void)state;
    assert_int_equal(net_addr_parse_port("0", &port), 0);
    assert_int_equal(port, 0);
    assert_int_equal(net_addr_parse_port("7007", &port), 0);
    assert_int_equal(port, 7007);
    assert_int_equal(net_addr_parse_port("65535", &port), 0);
    assert_int_equal(port, 65535);
    assert_int_equal(net_addr_parse_port("00080", &port), 0);
    assert_int_equal(port, 80);
}

static void port_rejects_anything_else(void **state)
{
    static const char *const bad[] = {"",    "65536", "-1",   "+80", "80abc",
                                      " 80", "80 ",   "0x50", "1e3", "99999999999999999999"};
    uint16_t port = 4242;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(net_addr_parse_port(bad[i], &port), -1);
        assert_true(errno == EINVAL || errno == ERANGE);
        assert_int_equal(port, 4242); /* nothing half-written */
    }
    assert_int_equal(net_addr_parse_port(NULL, &port), -1);
    errno = 0;
    net_addr_parse_port("65536", &port);
    assert_int_equal(errno, ERANGE);
}

static void split_case(const char *text, const char *host, const char *port)
{
    char h[NET_HOSTLEN], p[16];

    assert_int_equal(net_addr_split(text, h, sizeof h, p, sizeof p), 0);
    assert_string_equal(h, host);
    assert_string_equal(p, port);
}

static void split_forms(void **state)
{
    (void)state;
    split_case("localhost", "localhost", "");
    split_case("127.0.0.1:7007", "127.0.0.1", "7007");
    split_case("[::1]:7", "::1", "7");
    split_case("[::1]", "::1", "");
    split_case("::1", "::1", "");
    split_case("fe80::1:2", "fe80::1:2", "");
    split_case("example.org:80abc", "example.org", "80abc"); /* the port is checked later */
}

static void split_rejects_malformed(void **state)
{
    static const char *const bad[] = {"", "[::1", "[]:7", "[::1]7", ":7007"};
    char h[NET_HOSTLEN], p[16];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(net_addr_split(bad[i], h, sizeof h, p, sizeof p), -1);
}

static void v4(struct sockaddr_in *sin, const char *addr, uint16_t port)
{
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, addr, &sin->sin_addr);
}

static void v6(struct sockaddr_in6 *sin6, const char *addr, uint16_t port)
{
    memset(sin6, 0, sizeof *sin6);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    inet_pton(AF_INET6, addr, &sin6->sin6_addr);
}

static void format_both_families(void **state)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    char buf[NET_ADDRSTRLEN];

    (void)state;
    v4(&sin, "127.0.0.1", 7007);
    assert_string_equal(net_addr_format((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf),
                        "127.0.0.1:7007");
    v6(&sin6, "::1", 7007);
    assert_string_equal(net_addr_format((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf),
                        "[::1]:7007");
    assert_string_equal(net_addr_host((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf),
                        "::1");
    assert_int_equal(net_addr_port((struct sockaddr *)&sin6), 7007);
    v4(&sin, "0.0.0.0", 1);
    assert_true(net_addr_is_wildcard((struct sockaddr *)&sin));
    v6(&sin6, "::", 1);
    assert_true(net_addr_is_wildcard((struct sockaddr *)&sin6));
    v6(&sin6, "::1", 1);
    assert_false(net_addr_is_wildcard((struct sockaddr *)&sin6));
}

/* An unknown name would go to the configured DNS server: look it up from a new, empty
 * network namespace instead, where the query cannot leave this process's loopback. */
static void resolve_unknown_host_is_a_resolver_error(void **state)
{
    struct addrinfo *res = NULL;
    struct net_error err = {0};

    (void)state;
    if (unshare(CLONE_NEWNET) < 0)
        fail_msg("unshare(CLONE_NEWNET): %s; this test needs root so its DNS lookup stays local",
                 strerror(errno));
    assert_int_equal(
        net_addr_resolve("no-such-host.invalid", 7007, NET_ANY, SOCK_STREAM, false, &res, &err),
        -1);
    /* resolver codes are kept apart from errno values */
    assert_int_equal(err.kind, NET_ERR_RESOLVER);
    assert_non_null(strstr(err.what, "no-such-host.invalid"));
}

static void resolve_numeric_hosts(void **state)
{
    struct addrinfo *res = NULL;
    struct net_error err = {0};

    (void)state;
    assert_int_equal(net_addr_resolve("::1", 9, NET_ANY, SOCK_DGRAM, false, &res, &err), 0);
    assert_int_equal(res->ai_family, AF_INET6);
    assert_int_equal(net_addr_port(res->ai_addr), 9);
    freeaddrinfo(res);
    /* localhost names the loopback of whichever family -4 or -6 asks for */
    assert_int_equal(net_addr_resolve("localhost", 9, NET_V6, SOCK_DGRAM, false, &res, &err), 0);
    assert_int_equal(res->ai_family, AF_INET6);
    freeaddrinfo(res);
    assert_int_equal(net_addr_resolve("LocalHost", 9, NET_V4, SOCK_DGRAM, false, &res, &err), 0);
    assert_int_equal(res->ai_family, AF_INET);
    freeaddrinfo(res);
    /* -4 with an IPv6 address cannot work, and says so */
    assert_int_equal(net_addr_resolve("::1", 9, NET_V4, SOCK_DGRAM, false, &res, &err), -1);
    assert_non_null(strstr(err.what, "as IPv4"));
}

static bool reflectable_v4(const char *addr, uint16_t port, uint16_t own)
{
    struct sockaddr_in sin;
    const char *why = NULL;
    bool ok;

    v4(&sin, addr, port);
    ok = net_addr_reflectable((struct sockaddr *)&sin, own, &why);
    assert_true(ok || why != NULL);
    return ok;
}

static bool reflectable_v6(const char *addr, uint16_t port, uint16_t own)
{
    struct sockaddr_in6 sin6;
    const char *why = NULL;
    bool ok;

    v6(&sin6, addr, port);
    ok = net_addr_reflectable((struct sockaddr *)&sin6, own, &why);
    assert_true(ok || why != NULL);
    return ok;
}

static void reflection_policy(void **state)
{
    (void)state;
    assert_true(reflectable_v4("127.0.0.1", 40000, 7007));
    assert_true(reflectable_v4("127.0.0.1", 1024, 7007));
    assert_false(reflectable_v4("127.0.0.1", 0, 7007));
    assert_false(reflectable_v4("127.0.0.1", 7, 7007));  /* echo */
    assert_false(reflectable_v4("127.0.0.1", 19, 7007)); /* chargen */
    assert_false(reflectable_v4("127.0.0.1", 1023, 7007));
    assert_false(reflectable_v4("127.0.0.1", 7007, 7007)); /* another echo server */
    assert_false(reflectable_v4("0.0.0.0", 40000, 7007));
    assert_false(reflectable_v4("224.0.0.1", 40000, 7007));
    assert_false(reflectable_v4("239.255.255.250", 40000, 7007));
    assert_false(reflectable_v4("255.255.255.255", 40000, 7007));
    assert_true(reflectable_v6("::1", 40000, 7007));
    assert_false(reflectable_v6("::", 40000, 7007));
    assert_false(reflectable_v6("ff02::1", 40000, 7007));
    assert_false(reflectable_v6("::1", 53, 7007));
    /* IPv4-mapped sources are judged as the IPv4 address they carry */
    assert_true(reflectable_v6("::ffff:127.0.0.1", 40000, 7007));
    assert_false(reflectable_v6("::ffff:255.255.255.255", 40000, 7007));
    assert_false(reflectable_v6("::ffff:224.0.0.1", 40000, 7007));
    assert_false(reflectable_v6("::ffff:0.0.0.0", 40000, 7007));
}

/* Each refused IPv4 class, and the same class carried inside the IPv6 forms that embed an
 * IPv4 address: a relay or translator would deliver the reply to the IPv4 address. */
static void reflection_policy_classes(void **state)
{
    static const char *const refused_v4[] = {
        "0.1.2.3",         /* 0.0.0.0/8, "this network": never a real source */
        "240.0.0.1",       /* 240.0.0.0/4, reserved */
        "254.1.2.3",       /* reserved too */
        "127.255.255.255", /* the loopback network's broadcast */
        "127.0.0.255",     /* broadcast-looking forms inside the loopback network */
        "127.1.255.255",
    };
    static const char *const prefixes[] = {"::", "64:ff9b::"}; /* v4-compatible, NAT64 */
    char v6text[64];
    struct in_addr a;

    (void)state;
    for (size_t i = 0; i < sizeof refused_v4 / sizeof refused_v4[0]; i++) {
        assert_false(reflectable_v4(refused_v4[i], 40000, 7007));
        for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
            snprintf(v6text, sizeof v6text, "%s%s", prefixes[p], refused_v4[i]);
            assert_false(reflectable_v6(v6text, 40000, 7007));
        }
        /* 6to4: 2002:AABB:CCDD::/48 carries the IPv4 address AA.BB.CC.DD */
        assert_int_equal(inet_pton(AF_INET, refused_v4[i], &a), 1);
        snprintf(v6text, sizeof v6text, "2002:%02x%02x:%02x%02x::1", ((unsigned char *)&a)[0],
                 ((unsigned char *)&a)[1], ((unsigned char *)&a)[2], ((unsigned char *)&a)[3]);
        assert_false(reflectable_v6(v6text, 40000, 7007));
    }
    /* the refused classes of the original policy, in each embedding */
    assert_false(reflectable_v6("::224.0.0.1", 40000, 7007));
    assert_false(reflectable_v6("64:ff9b::255.255.255.255", 40000, 7007));
    assert_false(reflectable_v6("2002:e000:0001::1", 40000, 7007));
    assert_false(reflectable_v6("2002:ffff:ffff::1", 40000, 7007));
    /* ordinary sources stay answered, embedded or not */
    assert_true(reflectable_v4("127.0.0.2", 40000, 7007));
    assert_true(reflectable_v4("127.0.1.254", 40000, 7007));
    assert_true(reflectable_v4("192.0.2.255", 40000, 7007)); /* may be a host in a /23 */
    assert_true(reflectable_v6("64:ff9b::192.0.2.1", 40000, 7007));
    assert_true(reflectable_v6("2002:c000:0201::1", 40000, 7007));
    assert_true(reflectable_v6("2001:db8::1", 40000, 7007));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(port_accepts_whole_numbers),
        cmocka_unit_test(port_rejects_anything_else),
        cmocka_unit_test(split_forms),
        cmocka_unit_test(split_rejects_malformed),
        cmocka_unit_test(format_both_families),
        cmocka_unit_test(resolve_unknown_host_is_a_resolver_error),
        cmocka_unit_test(resolve_numeric_hosts),
        cmocka_unit_test(reflection_policy),
        cmocka_unit_test(reflection_policy_classes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
