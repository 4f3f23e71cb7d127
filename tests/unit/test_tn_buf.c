/* Unit tests for src/base/tn_buf.c: growth, the hard ceiling (and that a
 * refusal is sticky), printf of short and long output, binary content,
 * steal and reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tn_buf.h"
#include "tn_str.h"

static void test_init_empty(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    assert_false(b.toobig);
    tn_buf_reset(&b); /* safe without data */
    tn_buf_free(&b);
    tn_buf_free(&b); /* and twice */
    assert_null(b.data);
}

static void test_append_and_grow(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 1 << 20);
    assert_true(tn_buf_puts(&b, "hello"));
    assert_true(tn_buf_putc(&b, ' '));
    assert_true(tn_buf_append(&b, "world!!", 5));
    assert_string_equal(b.data, "hello world");
    assert_int_equal(b.len, 11);
    /* Grow well past the first allocation; contents stay intact. */
    for (int i = 0; i < 10000; i++)
        assert_true(tn_buf_putc(&b, (char)('a' + i % 26)));
    assert_int_equal(b.len, 10011);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data, "hello worldabc", 14);
    assert_int_equal(b.data[11 + 9999], (char)('a' + 9999 % 26));
    tn_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 1 << 20); /* the ceiling survives free */
}

static void test_ceiling_table(void **state)
{
    (void)state;
    static const struct {
        size_t max;
        size_t first, second;
        bool ok1, ok2;
    } cases[] = {
        {10, 10, 0, true, true},
        {10, 10, 1, true, false},
        {10, 11, 0, false, false},  /* sticky: even an empty append fails */
        {10, 5, 5, true, true},
        {10, 5, 6, true, false},
        {0, 0, 0, true, true},
        {0, 1, 0, false, false},
        {64, 63, 1, true, true},
        {64, 64, 1, true, false},
        {SIZE_MAX, 5, SIZE_MAX, true, false}, /* no overflow in the check */
    };
    static char payload[128];
    memset(payload, 'p', sizeof payload);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_buf b;
        tn_buf_init(&b, cases[i].max);
        bool r1 = tn_buf_append(&b, payload, cases[i].first);
        if (r1 != cases[i].ok1)
            fail_msg("case %zu: first append %d", i, r1);
        bool r2 = tn_buf_append(&b, payload, cases[i].second);
        if (r2 != cases[i].ok2)
            fail_msg("case %zu: second append %d", i, r2);
        assert_int_equal(b.toobig, !(cases[i].ok1 && cases[i].ok2));
        assert_true(b.len <= cases[i].max);
        tn_buf_free(&b);
    }
}

static void test_toobig_sticky_until_reset(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 8);
    assert_true(tn_buf_puts(&b, "1234"));
    assert_false(tn_buf_puts(&b, "56789"));
    assert_true(b.toobig);
    assert_string_equal(b.data, "1234"); /* the refused append left no trace */
    assert_false(tn_buf_putc(&b, 'x'));
    assert_false(tn_buf_printf(&b, "%d", 1));
    tn_buf_reset(&b);
    assert_false(b.toobig);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_true(tn_buf_puts(&b, "12345678"));
    tn_buf_free(&b);
}

static void test_printf(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 4096);
    assert_true(tn_buf_printf(&b, "%s=%d;", "n", 42));
    assert_string_equal(b.data, "n=42;");
    /* Longer than the 256-byte stack buffer inside tn_buf_printf. */
    char big[1001];
    memset(big, 'z', 1000);
    big[1000] = '\0';
    assert_true(tn_buf_printf(&b, "[%s]", big));
    assert_int_equal(b.len, 5 + 1002);
    assert_int_equal(b.data[5], '[');
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    assert_int_equal(strlen(b.data), b.len);
    /* Past the ceiling: refused, contents unchanged. */
    size_t before = b.len;
    char huge[4000];
    memset(huge, 'h', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_false(tn_buf_printf(&b, "%s", huge));
    assert_true(b.toobig);
    assert_int_equal(b.len, before);
    tn_buf_free(&b);

    tn_buf_init(&b, 300);
    assert_true(tn_buf_printf(&b, "%.*s", 300, big)); /* exactly the ceiling, long path */
    assert_int_equal(b.len, 300);
    assert_false(tn_buf_printf(&b, "x"));
    tn_buf_free(&b);
}

static void test_binary(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 64);
    static const char bin[] = {'a', '\0', 'b', '\xff', '\0'};
    assert_true(tn_buf_append(&b, bin, sizeof bin));
    assert_int_equal(b.len, sizeof bin);
    assert_memory_equal(b.data, bin, sizeof bin);
    assert_int_equal(b.data[b.len], '\0');
    tn_buf_free(&b);
}

static void test_steal(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 64);
    char *empty = tn_buf_steal(&b);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);

    assert_true(tn_buf_puts(&b, "owned"));
    char *s = tn_buf_steal(&b);
    assert_string_equal(s, "owned");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 64);
    /* The buffer is usable again and independent of the stolen string. */
    assert_true(tn_buf_puts(&b, "again"));
    assert_string_equal(s, "owned");
    assert_string_equal(b.data, "again");
    free(s);
    tn_buf_free(&b);
}

/* CSV injection guard (tn_str.h): formulas flagged, numbers and phone
 * numbers left alone. */
static void test_csv_formula_risk(void **state)
{
    (void)state;
    const char *risky[] = {"=1+1", "@SUM(A1)", "\tx", "\rx", "+cmd|' /C calc'!A0", "-2+3+cmd|x",
                           "=", "-1+2", "+a"};
    const char *safe[] = {"", "Rehtori", "+358 40 123 4567", "+358401112223", "-3", "-1.5",
                          "040-123 4567", "(09) 123", "O'Brien", "a=b", "x@y.fi", NULL};
    for (size_t i = 0; i < sizeof risky / sizeof risky[0]; i++)
        assert_true(tn_csv_formula_risk(risky[i]));
    /* A lone sign is no formula. */
    assert_false(tn_csv_formula_risk("-"));
    assert_false(tn_csv_formula_risk("+"));
    for (size_t i = 0; safe[i]; i++)
        assert_false(tn_csv_formula_risk(safe[i]));
    assert_false(tn_csv_formula_risk(NULL));
}

static void test_list_next(void **state)
{
    (void)state;
    const char *cur = " kinds ,units,, schools , ", *p;
    size_t n;
    const char *want[] = {"kinds", "units", "schools"};
    for (size_t i = 0; i < 3; i++) {
        assert_true(tn_list_next(&cur, &p, &n));
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(p, want[i], n);
    }
    assert_false(tn_list_next(&cur, &p, &n));
    assert_false(tn_list_next(&cur, &p, &n)); /* stays at the end */
    cur = "";
    assert_false(tn_list_next(&cur, &p, &n));
    cur = " , ,";
    assert_false(tn_list_next(&cur, &p, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_empty),
        cmocka_unit_test(test_csv_formula_risk),
        cmocka_unit_test(test_list_next),
        cmocka_unit_test(test_append_and_grow),
        cmocka_unit_test(test_ceiling_table),
        cmocka_unit_test(test_toobig_sticky_until_reset),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
