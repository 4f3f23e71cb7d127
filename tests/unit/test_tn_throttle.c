/* Unit tests for src/base/tn_throttle.c: the limit, the doubling wait and
 * its ceiling, the leak, "0: never", that sources do not share a count
 * (but an IPv4-mapped address and its IPv4 address do, and so do the
 * addresses of one IPv6 /64), and that a source in its wait keeps its slot
 * against a flood of other addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <cmocka.h>

#include "tn_throttle.h"

static void test_limit_and_doubling(void **state)
{
    (void)state;
    tn_throttle *t = tn_throttle_new(3, 5, 3600);
    assert_int_equal(tn_throttle_wait(t, "10.0.0.1"), 0);
    assert_false(tn_throttle_fail(t, "10.0.0.1"));
    assert_false(tn_throttle_fail(t, "10.0.0.1"));
    assert_int_equal(tn_throttle_wait(t, "10.0.0.1"), 0);
    /* The third failure begins a wait of 1 s (rounded up: 1). */
    assert_true(tn_throttle_fail(t, "10.0.0.1"));
    assert_int_equal(tn_throttle_wait(t, "10.0.0.1"), 1);
    /* Each further one doubles it: 2, 4, then the ceiling of 5. */
    assert_true(tn_throttle_fail(t, "10.0.0.1"));
    assert_int_equal(tn_throttle_wait(t, "10.0.0.1"), 2);
    assert_true(tn_throttle_fail(t, "10.0.0.1"));
    assert_int_equal(tn_throttle_wait(t, "10.0.0.1"), 4);
    assert_true(tn_throttle_fail(t, "10.0.0.1"));
    assert_int_equal(tn_throttle_wait(t, "10.0.0.1"), 5);
    for (int i = 0; i < 40; i++) /* no overflow of the shift */
        tn_throttle_fail(t, "10.0.0.1");
    assert_int_equal(tn_throttle_wait(t, "10.0.0.1"), 5);
    /* Another address has its own count. */
    assert_int_equal(tn_throttle_wait(t, "10.0.0.2"), 0);
    tn_throttle_free(t);
}

static void test_leak(void **state)
{
    (void)state;
    /* One failure leaks away per second: two failures, a pause of a
     * little over a second, then one more stays below the limit of 3. */
    tn_throttle *t = tn_throttle_new(3, 60, 1);
    assert_false(tn_throttle_fail(t, "10.0.0.9"));
    assert_false(tn_throttle_fail(t, "10.0.0.9"));
    struct timespec pause = {1, 200000000};
    nanosleep(&pause, NULL);
    assert_false(tn_throttle_fail(t, "10.0.0.9"));
    /* Without a pause the next one reaches it. */
    assert_true(tn_throttle_fail(t, "10.0.0.9"));
    tn_throttle_free(t);
}

static void test_addresses_counted_together(void **state)
{
    (void)state;
    tn_throttle *t = tn_throttle_new(2, 60, 3600);
    /* An IPv4-mapped address is its IPv4 address. */
    assert_false(tn_throttle_fail(t, "192.0.2.7"));
    assert_true(tn_throttle_fail(t, "::ffff:192.0.2.7"));
    assert_true(tn_throttle_wait(t, "192.0.2.7") > 0);
    /* An IPv6 address counts as its /64; the next /64 is another source. */
    assert_false(tn_throttle_fail(t, "2001:db8:1:2::1"));
    assert_true(tn_throttle_fail(t, "2001:db8:1:2:ffff::9"));
    assert_true(tn_throttle_wait(t, "2001:db8:1:2:abcd::1") > 0);
    assert_int_equal(tn_throttle_wait(t, "2001:db8:1:3::1"), 0);
    tn_throttle_free(t);
}

static void test_zero_never(void **state)
{
    (void)state;
    tn_throttle *t = tn_throttle_new(0, 900, 6);
    for (int i = 0; i < 100; i++)
        assert_false(tn_throttle_fail(t, "::1"));
    assert_int_equal(tn_throttle_wait(t, "::1"), 0);
    tn_throttle_free(t);
}

static void test_waiting_source_keeps_its_slot(void **state)
{
    (void)state;
    tn_throttle *t = tn_throttle_new(1, 60, 3600);
    assert_true(tn_throttle_fail(t, "192.0.2.1"));
    /* Thousands of other addresses, some hashing to the same slot, each
     * failing: none frees the waiting source. */
    char src[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(src, sizeof src, "198.51.%d.%d", i / 256, i % 256);
        tn_throttle_fail(t, src);
    }
    assert_true(tn_throttle_wait(t, "192.0.2.1") > 0);
    tn_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_and_doubling),
        cmocka_unit_test(test_leak),
        cmocka_unit_test(test_addresses_counted_together),
        cmocka_unit_test(test_zero_never),
        cmocka_unit_test(test_waiting_source_keeps_its_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
