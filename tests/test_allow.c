/* test_allow.c - --allow: reading prefixes, and judging sources by them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "allow.h"
#include "opt.h"

/* text parsed as one prefix, written back ("10.0.0.0/8"); fails the test on an error. */
static const char *parsed(const char *text)
{
    static char buf[NET_PREFIXSTRLEN];
    struct net_prefix p;
    struct net_error e;

    if (net_prefix_parse("--allow", text, &p, &e) < 0)
        fail_msg("%s: %s", text, e.detail);
    return net_prefix_format(&p, buf, sizeof buf);
}

/* text refused as a prefix: a usage error naming the flag, whose detail holds expect. */
static void refused(const char *text, const char *expect)
{
    struct net_prefix p;
    struct net_error e = {0};

    if (net_prefix_parse("--allow", text, &p, &e) == 0)
        fail_msg("'%s' was taken as a prefix", text);
    assert_int_equal(e.kind, NET_ERR_USAGE);
    assert_string_equal(e.what, "--allow");
    if (strstr(e.detail, expect) == NULL)
        fail_msg("'%s': \"%s\" does not say \"%s\"", text, e.detail, expect);
}

static void prefixes_and_bare_addresses(void **state)
{
    (void)state;
    assert_string_equal(parsed("10.0.0.0/8"), "10.0.0.0/8");
    assert_string_equal(parsed("127.0.0.1"), "127.0.0.1/32");
    assert_string_equal(parsed("127.0.0.1/32"), "127.0.0.1/32");
    assert_string_equal(parsed("0.0.0.0/0"), "0.0.0.0/0");
    assert_string_equal(parsed("192.168.4.0/22"), "192.168.4.0/22");
    assert_string_equal(parsed("::1"), "::1/128");
    assert_string_equal(parsed("2001:db8::/32"), "2001:db8::/32");
    assert_string_equal(parsed("::/0"), "::/0");
    /* an IPv4-mapped prefix is the IPv4 prefix it carries */
    assert_string_equal(parsed("::ffff:10.0.0.0/104"), "10.0.0.0/8");
    assert_string_equal(parsed("::ffff:127.0.0.1"), "127.0.0.1/32");
}

static void bad_prefixes(void **state)
{
    (void)state;
    refused("10.0.0.0/33", "at most /32");
    refused("::1/129", "at most /128");
    refused("1.2.3", "not an IPv4 or IPv6 address");
    refused("256.0.0.0/8", "not an IPv4 or IPv6 address");
    refused("1::2::3", "not an IPv4 or IPv6 address");
    refused("fe80::1%eth0", "not an IPv4 or IPv6 address");
    refused("host.name", "is a host name; give an address or a prefix");
    refused("localhost/8", "is a host name");
    refused("10.1.2.3/8", "host bits set past /8; did you mean 10.0.0.0/8?");
    refused("2001:db8::1/32", "did you mean 2001:db8::/32?");
    refused("10.0.0.0/", "the length after / must be a number from 0 to 32");
    refused("10.0.0.0/8x", "the length after /");
    refused("10.0.0.0/-1", "the length after /");
    refused("10.0.0.0/0008", "the length after /");
    refused("/8", "needs an address or a prefix");
    refused("", "needs an address or a prefix");
}

static void at_most_so_many(void **state)
{
    struct net_allow a = {0};
    struct net_error e = {0};
    char text[32];

    (void)state;
    for (int i = 0; i < NET_ALLOW_MAX; i++) {
        snprintf(text, sizeof text, "10.%d.0.0/16", i);
        assert_int_equal(net_allow_add(&a, "--allow", text, &e), 0);
    }
    assert_int_equal(net_allow_add(&a, "--allow", "192.0.2.0/24", &e), -1);
    assert_int_equal(e.kind, NET_ERR_USAGE);
    assert_non_null(strstr(e.detail, "at most 64 prefixes"));
    assert_int_equal(a.n, NET_ALLOW_MAX);
}

/* Does an allow list of the given prefixes let host in? */
static bool lets_in(const char *const *prefixes, const char *host)
{
    struct net_allow a = {0};
    struct net_error e;
    struct sockaddr_storage ss = {0};

    for (; *prefixes != NULL; prefixes++)
        if (net_allow_add(&a, "--allow", *prefixes, &e) < 0)
            fail_msg("%s: %s", *prefixes, e.detail);
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(40000);
        assert_int_equal(inet_pton(AF_INET6, host, &sin6->sin6_addr), 1);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons(40000);
        assert_int_equal(inet_pton(AF_INET, host, &sin->sin_addr), 1);
    }
    return net_allow_permits(&a, (struct sockaddr *)&ss);
}

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static void nobody_named_lets_everyone_in(void **state)
{
    (void)state;
    assert_true(lets_in((const char *const[]){NULL}, "192.0.2.1"));
    assert_true(lets_in((const char *const[]){NULL}, "2001:db8::1"));
}

static void ipv4_boundaries(void **state)
{
    const char *const *ten = LIST("10.0.0.0/8");

    (void)state;
    assert_true(lets_in(ten, "10.0.0.0"));
    assert_true(lets_in(ten, "10.255.255.255"));
    assert_false(lets_in(ten, "11.0.0.0"));
    assert_false(lets_in(ten, "9.255.255.255"));
    /* a length that is not a whole number of bytes */
    assert_true(lets_in(LIST("192.168.4.0/22"), "192.168.7.255"));
    assert_false(lets_in(LIST("192.168.4.0/22"), "192.168.8.0"));
    assert_false(lets_in(LIST("192.168.4.0/22"), "192.168.3.255"));
    assert_true(lets_in(LIST("127.0.0.1/32"), "127.0.0.1"));
    assert_false(lets_in(LIST("127.0.0.1/32"), "127.0.0.2"));
    assert_true(lets_in(LIST("0.0.0.0/0"), "203.0.113.9"));
    /* any one of several */
    assert_true(lets_in(LIST("192.0.2.0/24", "127.0.0.1"), "127.0.0.1"));
    assert_false(lets_in(LIST("192.0.2.0/24", "127.0.0.1"), "198.51.100.1"));
}

static void ipv6_boundaries(void **state)
{
    const char *const *doc = LIST("2001:db8::/33");

    (void)state;
    assert_true(lets_in(LIST("::1"), "::1"));
    assert_false(lets_in(LIST("::1"), "::2"));
    assert_true(lets_in(doc, "2001:db8::"));
    assert_true(lets_in(doc, "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff"));
    assert_false(lets_in(doc, "2001:db8:8000::"));
    assert_false(lets_in(doc, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_true(lets_in(LIST("::/0"), "2001:db8::1"));
    /* the families never match each other */
    assert_false(lets_in(LIST("::/0"), "127.0.0.1"));
    assert_false(lets_in(LIST("0.0.0.0/0"), "::1"));
}

static void mapped_sources_are_ipv4(void **state)
{
    (void)state;
    /* a dual-stack socket shows an IPv4 client as ::ffff:a.b.c.d */
    assert_true(lets_in(LIST("127.0.0.1/32"), "::ffff:127.0.0.1"));
    assert_false(lets_in(LIST("127.0.0.1/32"), "::ffff:127.0.0.2"));
    assert_true(lets_in(LIST("10.0.0.0/8"), "::ffff:10.255.255.255"));
    assert_false(lets_in(LIST("10.0.0.0/8"), "::ffff:11.0.0.0"));
    assert_true(lets_in(LIST("::ffff:10.0.0.0/104"), "10.1.2.3"));
    /* an IPv6 prefix does not take an IPv4 client, however it reached the server */
    assert_false(lets_in(LIST("::1"), "::ffff:127.0.0.1"));
    /* only the mapped form is an IPv4 client: a NAT64 or 6to4 address is IPv6 here */
    assert_false(lets_in(LIST("10.0.0.0/8"), "64:ff9b::10.0.0.1"));
    assert_false(lets_in(LIST("10.0.0.0/8"), "2002:a00:1::1"));
    assert_true(lets_in(LIST("2002::/16"), "2002:a00:1::1"));
}

static void parsed_from_the_command_line(void **state)
{
    char *argv[] = {
        "prog", "server", "--allow", "127.0.0.1/32", "--allow", "::1", "--allow=10.0.0.0/8", NULL};
    struct net_options o;
    struct net_error e;
    char buf[NET_PREFIXSTRLEN];

    (void)state;
    assert_int_equal(net_opt_parse(NET_UDP, 7, argv, &o, &e), 0);
    assert_int_equal(o.allow.n, 3);
    assert_string_equal(net_prefix_format(&o.allow.prefix[1], buf, sizeof buf), "::1/128");
    assert_string_equal(net_prefix_format(&o.allow.prefix[2], buf, sizeof buf), "10.0.0.0/8");
    argv[3] = "10.1.2.3/8";
    assert_int_equal(net_opt_parse(NET_TCP, 7, argv, &o, &e), -1);
    assert_int_equal(e.kind, NET_ERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefixes_and_bare_addresses),
        cmocka_unit_test(bad_prefixes),
        cmocka_unit_test(at_most_so_many),
        cmocka_unit_test(nobody_named_lets_everyone_in),
        cmocka_unit_test(ipv4_boundaries),
        cmocka_unit_test(ipv6_boundaries),
        cmocka_unit_test(mapped_sources_are_ipv4),
        cmocka_unit_test(parsed_from_the_command_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
