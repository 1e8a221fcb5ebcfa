/* test_pace.c - pacing arithmetic and the jitter estimator, on a simulated clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "pace.h"
#include "stats.h"

/* A sender that wakes when pacing says, late by a random 0 to max_late_ms each time (a busy
 * machine), and sends every message that is due. Returns the rate it achieved, bits per
 * second, over seconds of simulated time; *burst gets the most messages sent in one wake. */
static double simulate(double bps, size_t len, double seconds, double max_late_ms, unsigned *burst,
                       unsigned seed)
{
    struct net_pace p;
    double now = 1000, end = now + seconds * 1000;
    uint64_t bytes = 0;

    srand(seed);
    *burst = 0;
    net_pace_start(&p, bps, now);
    while (now < end) {
        unsigned sent = 0;

        while (net_pace_wait(&p, now) == 0 && now < end) {
            net_pace_sent(&p, len, now);
            bytes += len;
            sent++;
        }
        if (sent > *burst)
            *burst = sent;
        now += net_pace_wait(&p, now) + max_late_ms * rand() / RAND_MAX;
    }
    return (double)bytes * 8 / seconds;
}

/* Within 2% of the asked rate from 1 kbit/s to 10 Gbit/s, waking up to 1 ms late. */
static void pacing_holds_the_rate(void **state)
{
    static const double rates[] = {1e3, 64e3, 1e6, 10e6, 100e6, 1e9, 10e9};

    (void)state;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        unsigned burst;
        /* long enough for many messages even at 1 kbit/s (125-byte messages: 1 a second) */
        size_t len = rates[i] < 1e6 ? 125 : 1400;
        double got = simulate(rates[i], len, rates[i] < 1e6 ? 200 : 2, 1.0, &burst, 7);

        if (fabs(got - rates[i]) > 0.02 * rates[i])
            fail_msg("asked %g bit/s, got %g (%.2f%%)", rates[i], got,
                     100 * (got - rates[i]) / rates[i]);
    }
}

/* A stall of a whole second is not made up in one flood: one wake sends at most the burst
 * bound's worth (NET_PACE_BURST_MS of data, rounded up to whole messages). */
static void a_stall_is_caught_up_by_one_burst_at_most(void **state)
{
    struct net_pace p;
    double now = 1000;
    unsigned sent = 0;
    const double bps = 10e6;
    const size_t len = 1000;
    unsigned bound = (unsigned)ceil(NET_PACE_BURST_MS * bps / 8000 / len) + 1;

    (void)state;
    net_pace_start(&p, bps, now);
    net_pace_sent(&p, len, now);
    now += 1000; /* a second asleep */
    while (net_pace_wait(&p, now) == 0) {
        net_pace_sent(&p, len, now);
        sent++;
    }
    if (sent > bound || sent < bound - 1)
        fail_msg("%u messages at once after a stall (bound %u)", sent, bound);
}

/* Rate 0: no pacing at all. */
static void rate_zero_never_waits(void **state)
{
    struct net_pace p;

    (void)state;
    net_pace_start(&p, 0, 5);
    for (int i = 0; i < 1000; i++)
        net_pace_sent(&p, 65000, 5);
    assert_true(net_pace_wait(&p, 5) == 0);
}

/* RFC 3550's estimator: steady transit times give no jitter; transit times that alternate
 * by 10 ms converge on 10 ms, by steps of a sixteenth. */
static void jitter_follows_rfc3550(void **state)
{
    struct net_jitter j = {0};

    (void)state;
    for (int i = 0; i < 100; i++)
        net_jitter_add(&j, 3.0);
    assert_true(j.ms == 0);
    net_jitter_add(&j, 13.0);
    assert_true(fabs(j.ms - 10.0 / 16) < 1e-9);
    for (int i = 0; i < 400; i++)
        net_jitter_add(&j, i % 2 ? 3.0 : 13.0);
    assert_true(fabs(j.ms - 10.0) < 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pacing_holds_the_rate),
        cmocka_unit_test(a_stall_is_caught_up_by_one_burst_at_most),
        cmocka_unit_test(rate_zero_never_waits),
        cmocka_unit_test(jitter_follows_rfc3550),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
