/* test_rto.c - the retransmission timer's arithmetic (RFC 6298), with made-up round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rto.h"

#define NEAR(a, b) assert_true((a) > (b)-1e-9 && (a) < (b) + 1e-9)

/* Before any measurement: the initial timeout, never more than the bound. */
static void starts_at_the_initial_timeout(void **state)
{
    struct net_rto r;

    (void)state;
    net_rto_init(&r, 1000, 2500);
    NEAR(net_rto_for(&r, 0), 1000);
    net_rto_init(&r, 1000, 300);
    NEAR(net_rto_for(&r, 0), 300);
}

/* 2.2 then 2.3: srtt R, rttvar R/2 from the first; then the weighted updates. */
static void follows_rfc_6298(void **state)
{
    struct net_rto r;

    (void)state;
    net_rto_init(&r, 1000, 5000);
    net_rto_sample(&r, 100);
    NEAR(r.srtt, 100);
    NEAR(r.rttvar, 50);
    NEAR(net_rto_for(&r, 0), 300); /* 100 + 4 x 50 */
    net_rto_sample(&r, 200);
    NEAR(r.rttvar, 0.75 * 50 + 0.25 * 100); /* from the old srtt */
    NEAR(r.srtt, 0.875 * 100 + 0.125 * 200);
    NEAR(net_rto_for(&r, 0), r.srtt + 4 * r.rttvar);
}

/* A steady fast path: the timeout settles one granularity (1 ms) above the RTT, not at the
 * RFC's 1 s floor; each resend doubles it, up to the bound. */
static void settles_near_the_rtt_and_backs_off(void **state)
{
    struct net_rto r;

    (void)state;
    net_rto_init(&r, 1000, 1000);
    for (int i = 0; i < 200; i++)
        net_rto_sample(&r, 0.05);
    assert_true(net_rto_for(&r, 0) >= 1.0 && net_rto_for(&r, 0) < 1.1);
    assert_true(net_rto_for(&r, 1) >= 2.0 && net_rto_for(&r, 1) < 2.2);
    NEAR(net_rto_for(&r, 20), 1000);
    NEAR(net_rto_for(&r, 1000), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_at_the_initial_timeout),
        cmocka_unit_test(follows_rfc_6298),
        cmocka_unit_test(settles_near_the_rtt_and_backs_off),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
