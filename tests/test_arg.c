/* test_arg.c - reading one value from the command line: rates in bits per second. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arg.h"

/* Every form iperf3 users type, and what it means in bits per second. */
static void rates_read_as_iperf3_reads_them(void **state)
{
    static const struct {
        const char *text;
        double bps;
    } good[] = {{"0", 0},        {"1", 1},        {"500k", 500e3}, {"500K", 500e3},
                {"10M", 10e6},   {"10m", 10e6},   {"1.5G", 1.5e9}, {"2.5", 2.5},
                {"0.001M", 1e3}, {"100G", 100e9}, {".5k", 500},    {"1000000", 1e6}};
    struct net_error err;

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double bps = -1;

        if (net_arg_rate("--rate", good[i].text, &bps, &err) != 0 || bps != good[i].bps)
            fail_msg("'%s': %g, want %g", good[i].text, bps, good[i].bps);
    }
}

/* Anything else is one clear usage error that names the flag, and leaves the value alone. */
static void bad_rates_are_usage_errors(void **state)
{
    static const char *const bad[] = {"",     "-1",   "10X", "1e400", "1e3", "M",   "10MM",
                                      "10Mk", "0x10", "inf", "nan",   " 10", "10 ", "101G"};

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct net_error err = {0};
        double bps = 42;

        if (net_arg_rate("--rate", bad[i], &bps, &err) != -1 || bps != 42 ||
            err.kind != NET_ERR_USAGE || strcmp(err.what, "--rate") != 0)
            fail_msg("'%s' accepted as %g (kind %d, what '%s')", bad[i], bps, err.kind, err.what);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rates_read_as_iperf3_reads_them),
        cmocka_unit_test(bad_rates_are_usage_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
