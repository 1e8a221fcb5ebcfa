/* test_probe.c - probe payloads and the bookkeeping of every fate a probe can meet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "probe.h"

static void header_is_readable_text(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(net_probe_encode(buf, sizeof buf, 17, 1234), 0);
    assert_memory_equal(buf, "seq=17 t=1234 ", 14);
    for (size_t i = 14; i < sizeof buf; i++)
        assert_true(buf[i] >= 'a' && buf[i] <= 'z');
}

static void round_trip_at_every_size(void **state)
{
    static const size_t sizes[] = {NET_PROBE_MIN, 33, 64, 1000, 65507, 65527, 200000};
    char *buf = malloc(200000);

    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t seq = 0;
        uint64_t t = 0;

        assert_int_equal(net_probe_encode(buf, sizes[i], 4000000000u, 99999999999999ull), 0);
        assert_int_equal(net_probe_decode(buf, sizes[i], &seq, &t), 0);
        assert_int_equal(seq, 4000000000u);
        assert_true(t == 99999999999999ull);
    }
    free(buf);
}

static void too_small_for_the_header(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(net_probe_encode(buf, 9, 1, 0), -1); /* "seq=1 t=0 " is 10 */
    /* the worst-case header fits in the documented minimum */
    assert_int_equal(net_probe_encode(buf, NET_PROBE_MIN, 4294967295u, 99999999999999ull), 0);
}

/* Anything that is not exactly a probe we sent fails to decode. */
static void bad_probes_are_rejected(void **state)
{
    char buf[64], bad[64];
    uint32_t seq;
    uint64_t t;

    (void)state;
    net_probe_encode(buf, sizeof buf, 5, 77);
    memcpy(bad, buf, sizeof bad);
    bad[40] ^= 1; /* one flipped bit in the filler */
    assert_int_equal(net_probe_decode(bad, sizeof bad, &seq, &t), -1);
    memcpy(bad, buf, sizeof bad);
    bad[4] = 'x'; /* not a number */
    assert_int_equal(net_probe_decode(bad, sizeof bad, &seq, &t), -1);
    /* misaligned: the stream cut one byte late */
    assert_int_equal(net_probe_decode(buf + 1, sizeof buf - 1, &seq, &t), -1);
    /* another probe's filler under this header */
    net_probe_encode(bad, sizeof bad, 6, 77);
    memcpy(bad, buf, 12);
    assert_int_equal(net_probe_decode(bad, sizeof bad, &seq, &t), -1);
    assert_int_equal(net_probe_decode("seq=99999999999 t=1 xxxxxxxxxx", 31, &seq, &t), -1);
    assert_int_equal(net_probe_decode("seq=", 4, &seq, &t), -1);
    assert_int_equal(net_probe_decode("", 0, &seq, &t), -1);
    assert_int_equal(net_probe_decode("GET / HTTP/1.0\r\n\r\n", 18, &seq, &t), -1);
}

static struct net_book *book(uint32_t first)
{
    struct net_book *b = malloc(sizeof *b);

    net_book_init(b, first);
    return b;
}

static void all_answered_in_order(void **state)
{
    struct net_book *b = book(1);
    bool reordered;

    (void)state;
    for (uint32_t i = 1; i <= 10; i++)
        assert_int_equal(net_book_send(b), i);
    for (uint32_t i = 1; i <= 10; i++) {
        assert_int_equal(net_book_reply(b, i, &reordered), NET_REPLY_OK);
        assert_false(reordered);
    }
    assert_int_equal(b->sent, 10);
    assert_int_equal(b->received, 10);
    assert_int_equal(net_book_lost(b), 0);
    assert_int_equal(b->duplicates + b->reordered + b->late, 0);
    free(b);
}

/* seq 2 is lost, then seq 3 arrives twice: the duplicate must not stand in for the loss. */
static void duplicate_never_cancels_a_loss(void **state)
{
    struct net_book *b = book(1);
    bool reordered;

    (void)state;
    for (int i = 0; i < 3; i++)
        net_book_send(b);
    assert_int_equal(net_book_reply(b, 1, &reordered), NET_REPLY_OK);
    assert_int_equal(net_book_reply(b, 3, &reordered), NET_REPLY_OK);
    assert_int_equal(net_book_reply(b, 3, &reordered), NET_REPLY_DUP);
    assert_true(net_book_expire(b, 2));
    assert_int_equal(b->received, 2);
    assert_int_equal(b->duplicates, 1);
    assert_int_equal(net_book_lost(b), 1);
    free(b);
}

/* A reply after its timeout is late, not received; its duplicate is a duplicate. */
static void late_reply_is_not_a_receipt(void **state)
{
    struct net_book *b = book(1);
    bool reordered;

    (void)state;
    net_book_send(b);
    net_book_send(b);
    assert_true(net_book_pending(b, 1));
    assert_true(net_book_expire(b, 1));
    assert_false(net_book_pending(b, 1));
    assert_false(net_book_expire(b, 1)); /* only once */
    assert_int_equal(net_book_reply(b, 2, &reordered), NET_REPLY_OK);
    assert_int_equal(net_book_reply(b, 1, &reordered), NET_REPLY_LATE);
    assert_false(reordered); /* late replies are counted as late, not as reordered */
    assert_int_equal(net_book_reply(b, 1, &reordered), NET_REPLY_DUP);
    assert_int_equal(b->received, 1);
    assert_int_equal(b->late, 1);
    assert_int_equal(b->duplicates, 1);
    assert_int_equal(net_book_lost(b), 1);
    /* an answered probe cannot expire */
    assert_false(net_book_expire(b, 2));
    free(b);
}

static void overtaking_reply_is_reordered(void **state)
{
    struct net_book *b = book(1);
    bool reordered;

    (void)state;
    for (int i = 0; i < 4; i++)
        net_book_send(b);
    assert_int_equal(net_book_reply(b, 1, &reordered), NET_REPLY_OK);
    assert_false(reordered);
    assert_int_equal(net_book_reply(b, 3, &reordered), NET_REPLY_OK);
    assert_false(reordered);
    assert_int_equal(net_book_reply(b, 2, &reordered), NET_REPLY_OK);
    assert_true(reordered);
    assert_int_equal(net_book_reply(b, 4, &reordered), NET_REPLY_OK);
    assert_false(reordered);
    assert_int_equal(b->reordered, 1);
    assert_int_equal(b->received, 4);
    free(b);
}

static void unknown_sequence_numbers(void **state)
{
    struct net_book *b = book(1);
    bool reordered;

    (void)state;
    assert_int_equal(net_book_reply(b, 1, &reordered), NET_REPLY_UNKNOWN); /* nothing sent */
    net_book_send(b);
    assert_int_equal(net_book_reply(b, 2, &reordered), NET_REPLY_UNKNOWN); /* future */
    assert_int_equal(net_book_reply(b, 0, &reordered), NET_REPLY_UNKNOWN);
    assert_int_equal(b->unknown, 3);
    assert_int_equal(b->received, 0);
    free(b);
}

/* Sequence numbers wrap past 2^32 without a hiccup: serial arithmetic. */
static void wrap_around(void **state)
{
    struct net_book *b = book(UINT32_MAX - 1);
    bool reordered;

    (void)state;
    assert_int_equal(net_book_send(b), UINT32_MAX - 1);
    assert_int_equal(net_book_send(b), UINT32_MAX);
    assert_int_equal(net_book_send(b), 0);
    assert_int_equal(net_book_send(b), 1);
    assert_int_equal(net_book_reply(b, UINT32_MAX - 1, &reordered), NET_REPLY_OK);
    assert_int_equal(net_book_reply(b, 0, &reordered), NET_REPLY_OK);
    assert_false(reordered);
    assert_int_equal(net_book_reply(b, UINT32_MAX, &reordered), NET_REPLY_OK);
    assert_true(reordered); /* sent before 0, answered after it */
    assert_int_equal(net_book_reply(b, 1, &reordered), NET_REPLY_OK);
    assert_false(reordered);
    assert_int_equal(net_book_reply(b, 0, &reordered), NET_REPLY_DUP);
    assert_int_equal(b->received, 4);
    free(b);
}

/* Only the last NET_BOOK_WINDOW probes are remembered: an older reply is unknown, so a run
 * of any length uses the same memory. */
static void window_is_bounded(void **state)
{
    struct net_book *b = book(1);
    bool reordered;

    (void)state;
    for (uint32_t i = 0; i < NET_BOOK_WINDOW + 10; i++)
        net_book_send(b);
    assert_int_equal(net_book_reply(b, 5, &reordered), NET_REPLY_UNKNOWN);
    assert_int_equal(net_book_reply(b, NET_BOOK_WINDOW + 10, &reordered), NET_REPLY_OK);
    assert_int_equal(net_book_reply(b, 11, &reordered), NET_REPLY_OK);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_is_readable_text),
        cmocka_unit_test(round_trip_at_every_size),
        cmocka_unit_test(too_small_for_the_header),
        cmocka_unit_test(bad_probes_are_rejected),
        cmocka_unit_test(all_answered_in_order),
        cmocka_unit_test(duplicate_never_cancels_a_loss),
        cmocka_unit_test(late_reply_is_not_a_receipt),
        cmocka_unit_test(overtaking_reply_is_reordered),
        cmocka_unit_test(unknown_sequence_numbers),
        cmocka_unit_test(wrap_around),
        cmocka_unit_test(window_is_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
