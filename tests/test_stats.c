/* test_stats.c - RTT statistics on known samples: ping's four numbers and percentiles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "stats.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void empty_run_is_all_zero(void **state)
{
    struct net_stats s;
    struct net_rtt r;

    (void)state;
    assert_int_equal(net_stats_init(&s), 0);
    net_stats_summary(&s, &r);
    assert_int_equal(r.n, 0);
    NEAR(r.min, 0);
    NEAR(r.p99, 0);
    net_stats_free(&s);
}

/* 1..10 ms: avg 5.5, population standard deviation sqrt(8.25), nearest-rank percentiles. */
static void one_to_ten(void **state)
{
    static const double in[] = {7, 3, 10, 1, 5, 9, 2, 8, 4, 6}; /* order must not matter */
    struct net_stats s;
    struct net_rtt r;

    (void)state;
    net_stats_init(&s);
    for (size_t i = 0; i < 10; i++)
        net_stats_add(&s, in[i]);
    net_stats_summary(&s, &r);
    assert_int_equal(r.n, 10);
    NEAR(r.min, 1);
    NEAR(r.max, 10);
    NEAR(r.avg, 5.5);
    NEAR(r.mdev, sqrt(8.25));
    NEAR(r.p50, 5);
    NEAR(r.p90, 9);
    NEAR(r.p99, 10);
    net_stats_free(&s);
}

static void single_sample(void **state)
{
    struct net_stats s;
    struct net_rtt r;

    (void)state;
    net_stats_init(&s);
    net_stats_add(&s, 0.052);
    net_stats_summary(&s, &r);
    NEAR(r.min, 0.052);
    NEAR(r.avg, 0.052);
    NEAR(r.max, 0.052);
    NEAR(r.mdev, 0);
    NEAR(r.p50, 0.052);
    NEAR(r.p99, 0.052);
    net_stats_free(&s);
}

/* A tail the average hides: 99 fast replies and one slow one. */
static void percentiles_show_the_tail(void **state)
{
    struct net_stats s;
    struct net_rtt r;

    (void)state;
    net_stats_init(&s);
    for (int i = 0; i < 99; i++)
        net_stats_add(&s, 0.05);
    net_stats_add(&s, 200);
    net_stats_summary(&s, &r);
    NEAR(r.p50, 0.05);
    NEAR(r.p90, 0.05);
    NEAR(r.p99, 0.05); /* rank 99 of 100 */
    NEAR(r.max, 200);
    assert_true(r.avg > 2.0); /* the mean is pulled forty times above the median */
    net_stats_free(&s);
}

static void percentile_ranks(void **state)
{
    static const double v[] = {1, 2, 3, 4};

    (void)state;
    NEAR(net_stats_percentile(v, 4, 25), 1);
    NEAR(net_stats_percentile(v, 4, 26), 2);
    NEAR(net_stats_percentile(v, 4, 50), 2);
    NEAR(net_stats_percentile(v, 4, 100), 4);
    NEAR(net_stats_percentile(v, 4, 0.001), 1);
    NEAR(net_stats_percentile(v, 0, 50), 0);
}

/* Past the exact limit percentiles come from the histogram, within 1%. */
static void long_runs_stay_within_one_percent(void **state)
{
    struct net_stats s;
    struct net_rtt r;
    const size_t n = NET_STATS_EXACT + 50000;

    (void)state;
    net_stats_init(&s);
    for (size_t i = 1; i <= n; i++)
        net_stats_add(&s, (double)i / 1000.0); /* 0.001 .. 150 ms, uniform */
    net_stats_summary(&s, &r);
    assert_int_equal(r.n, n);
    NEAR(r.min, 0.001);
    NEAR(r.max, (double)n / 1000.0);
    assert_true(fabs(r.p50 - 0.5 * (double)n / 1000.0) / (0.5 * (double)n / 1000.0) < 0.011);
    assert_true(fabs(r.p99 - 0.99 * (double)n / 1000.0) / (0.99 * (double)n / 1000.0) < 0.011);
    net_stats_free(&s);
}

static void merge_equals_one_run(void **state)
{
    struct net_stats a, b, all;
    struct net_rtt ra, rall;

    (void)state;
    net_stats_init(&a);
    net_stats_init(&b);
    net_stats_init(&all);
    for (int i = 1; i <= 10; i++) {
        net_stats_add(i % 2 ? &a : &b, i);
        net_stats_add(&all, i);
    }
    net_stats_merge(&a, &b);
    net_stats_summary(&a, &ra);
    net_stats_summary(&all, &rall);
    assert_int_equal(ra.n, rall.n);
    NEAR(ra.avg, rall.avg);
    NEAR(ra.mdev, rall.mdev);
    NEAR(ra.p90, rall.p90);
    NEAR(ra.min, rall.min);
    NEAR(ra.max, rall.max);
    net_stats_free(&a);
    net_stats_free(&b);
    net_stats_free(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_run_is_all_zero),
        cmocka_unit_test(one_to_ten),
        cmocka_unit_test(single_sample),
        cmocka_unit_test(percentiles_show_the_tail),
        cmocka_unit_test(percentile_ranks),
        cmocka_unit_test(long_runs_stay_within_one_percent),
        cmocka_unit_test(merge_equals_one_run),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
