/* Unit tests for src/core/date.c: leap years, day numbers, strict ISO
 * parsing and a round trip over every day the parser accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "date.h"

static void test_leap_years(void **state)
{
    (void)state;
    static const struct {
        int year;
        bool leap;
    } cases[] = {
        {1600, true},  {1700, false}, {1800, false}, {1804, true},  {1900, false},
        {1996, true},  {1999, false}, {2000, true},  {2001, false}, {2004, true},
        {2023, false}, {2024, true},  {2100, false}, {2400, true},  {2999, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (date_is_leap(cases[i].year) != cases[i].leap)
            fail_msg("year %d: expected leap=%d", cases[i].year, cases[i].leap);
    }
}

static void test_days_in_month(void **state)
{
    (void)state;
    static const struct {
        int year, month, days;
    } cases[] = {
        {2023, 1, 31}, {2023, 2, 28}, {2024, 2, 29}, {1900, 2, 28}, {2000, 2, 29},
        {2023, 3, 31}, {2023, 4, 30}, {2023, 5, 31}, {2023, 6, 30}, {2023, 7, 31},
        {2023, 8, 31}, {2023, 9, 30}, {2023, 10, 31}, {2023, 11, 30}, {2023, 12, 31},
        {2023, 0, 0},  {2023, 13, 0}, {2023, -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(date_days_in_month(cases[i].year, cases[i].month), cases[i].days);
}

static void test_valid_ymd(void **state)
{
    (void)state;
    assert_true(date_valid_ymd(2024, 2, 29));
    assert_false(date_valid_ymd(2023, 2, 29));
    assert_false(date_valid_ymd(1900, 2, 29));
    assert_true(date_valid_ymd(2000, 2, 29));
    assert_false(date_valid_ymd(2023, 4, 31));
    assert_false(date_valid_ymd(2023, 1, 0));
    assert_false(date_valid_ymd(2023, 0, 1));
    assert_false(date_valid_ymd(2023, 13, 1));
    assert_false(date_valid_ymd(-5, 1, 1));
    assert_false(date_valid_ymd(10000, 1, 1));
}

static void test_known_day_numbers(void **state)
{
    (void)state;
    /* Reference values from Python's datetime.date ordinal arithmetic. */
    static const struct {
        int y, m, d;
        tn_date n;
    } cases[] = {
        {1970, 1, 1, 0},         {1970, 1, 2, 1},        {1969, 12, 31, -1},
        {2000, 1, 1, 10957},     {2000, 3, 1, 11017},    {1900, 3, 1, -25508},
        {2024, 2, 29, 19782},    {1800, 1, 1, -62091},   {2999, 12, 31, 376199},
        {1, 1, 1, -719162},      {9999, 12, 31, 2932896},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(date_from_ymd(cases[i].y, cases[i].m, cases[i].d), cases[i].n);
        int y, m, d;
        date_to_ymd(cases[i].n, &y, &m, &d);
        assert_int_equal(y, cases[i].y);
        assert_int_equal(m, cases[i].m);
        assert_int_equal(d, cases[i].d);
    }
}

/* Walk every day the parser accepts with an independent calendar counter:
 * day numbers must be consecutive, and format → parse must round-trip. */
static void test_round_trip_every_day(void **state)
{
    (void)state;
    int y = 1800, m = 1, d = 1;
    tn_date expect = date_from_ymd(1800, 1, 1);
    long days = 0;
    while (y <= 2999) {
        char iso[DATE_ISO_LEN];
        char want[32];
        snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
        assert_int_equal(date_from_ymd(y, m, d), expect);
        assert_string_equal(date_format(expect, iso), want);
        tn_date back = 0;
        tn_err e;
        tn_err_clear(&e);
        assert_int_equal(date_parse_iso(iso, &back, "d", &e), TN_OK);
        assert_int_equal(back, expect);
        int yy, mm, dd;
        date_to_ymd(expect, &yy, &mm, &dd);
        assert_true(yy == y && mm == m && dd == d);

        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int last = mdays[m - 1];
        if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
            last = 29;
        if (++d > last) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
        expect++;
        days++;
    }
    assert_int_equal(expect, 376200);
    assert_int_equal(days, 376199 + 62091 + 1);
}

static void test_parse_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "is required"},
        {"2023-02-29", "does not exist"},
        {"1900-02-29", "does not exist"},
        {"2024-02-30", "does not exist"},
        {"2023-04-31", "does not exist"},
        {"2023-13-01", "does not exist"},
        {"2023-00-10", "does not exist"},
        {"2023-01-00", "does not exist"},
        {"1799-12-31", "year must be between"},
        {"3000-01-01", "year must be between"},
        {"0000-01-01", "year must be between"},
        {"2023-1-01", "YYYY-MM-DD"},
        {"2023-01-1", "YYYY-MM-DD"},
        {"20230101", "YYYY-MM-DD"},
        {"2023/01/01", "YYYY-MM-DD"},
        {"2023-01-01 ", "YYYY-MM-DD"},
        {" 2023-01-01", "YYYY-MM-DD"},
        {"2023-01-01T00:00", "YYYY-MM-DD"},
        {"+023-01-01", "YYYY-MM-DD"},
        {"2023-01-0a", "YYYY-MM-DD"},
        {"2023-+1-01", "YYYY-MM-DD"},
        {"2023-01--1", "YYYY-MM-DD"},
        {"２023-01-01", "YYYY-MM-DD"},
        {"2023-01-\xff" "1", "YYYY-MM-DD"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_err e;
        tn_err_clear(&e);
        tn_date out = 12345;
        if (date_parse_iso(cases[i].in, &out, "valid_from", &e) != TN_EINVAL)
            fail_msg("accepted \"%s\"", cases[i].in);
        assert_int_equal(e.code, TN_EINVAL);
        assert_string_equal(e.field, "valid_from");
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].in, e.msg, cases[i].msg);
        assert_int_equal(out, 12345); /* untouched on failure */
        if (cases[i].in[0])
            assert_null(strstr(e.msg, cases[i].in)); /* never echoed */
    }
    tn_err e;
    assert_int_equal(date_parse_iso(NULL, NULL, "x", &e), TN_EINVAL);
    assert_int_equal(date_parse_iso("2023-02-29", NULL, "x", NULL), TN_EINVAL);
}

static void test_parse_optional(void **state)
{
    (void)state;
    tn_date d = 0;
    tn_err e;
    assert_int_equal(date_parse_iso_opt("", &d, "valid_to", &e), TN_OK);
    assert_int_equal(d, TN_DATE_NONE);
    d = 0;
    assert_int_equal(date_parse_iso_opt(NULL, &d, "valid_to", &e), TN_OK);
    assert_int_equal(d, TN_DATE_NONE);
    assert_int_equal(date_parse_iso_opt("2024-02-29", &d, "valid_to", &e), TN_OK);
    assert_int_equal(d, 19782);
    assert_int_equal(date_parse_iso_opt("2023-02-29", &d, "valid_to", &e), TN_EINVAL);
    assert_string_equal(e.field, "valid_to");
}

static void test_format(void **state)
{
    (void)state;
    char out[DATE_ISO_LEN];
    assert_string_equal(date_format(TN_DATE_NONE, out), "");
    assert_string_equal(date_format(0, out), "1970-01-01");
    assert_string_equal(date_format(-1, out), "1969-12-31");
    assert_string_equal(date_format(19782, out), "2024-02-29");
    assert_string_equal(date_format(-719162, out), "0001-01-01");
    assert_string_equal(date_format(2932896, out), "9999-12-31");
    /* Outside four-digit years: printed as "no date", not truncated. */
    assert_string_equal(date_format(2932897, out), "");
    assert_string_equal(date_format(INT32_MAX, out), "");
    assert_string_equal(date_format(INT32_MIN + 1, out), "");
}

static void test_arithmetic(void **state)
{
    (void)state;
    tn_date d;
    assert_int_equal(date_parse_iso("2023-12-31", &d, "d", NULL), TN_OK);
    char out[DATE_ISO_LEN];
    assert_string_equal(date_format(d + 1, out), "2024-01-01");
    assert_string_equal(date_format(d + 60, out), "2024-02-29");
    assert_string_equal(date_format(d + 61, out), "2024-03-01");
    assert_string_equal(date_format(d + 366 + 1, out), "2025-01-01");
    assert_int_equal(date_from_ymd(2024, 3, 1) - date_from_ymd(2024, 2, 28), 2);
    assert_int_equal(date_from_ymd(2023, 3, 1) - date_from_ymd(2023, 2, 28), 1);
    assert_int_equal(date_from_ymd(2001, 1, 1) - date_from_ymd(2000, 1, 1), 366);
    assert_int_equal(date_from_ymd(1901, 1, 1) - date_from_ymd(1900, 1, 1), 365);
}

/* date_to_ymd must not overflow for any int32 (UBSan watches). */
static void test_extremes(void **state)
{
    (void)state;
    int y, m, d;
    date_to_ymd(INT32_MIN, &y, &m, &d);
    assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    date_to_ymd(INT32_MAX, &y, &m, &d);
    assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    assert_int_equal(date_from_ymd(y, m, d), INT32_MAX);
    date_to_ymd(INT32_MIN + 1, &y, &m, &d);
    assert_int_equal(date_from_ymd(y, m, d), INT32_MIN + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_days_in_month),
        cmocka_unit_test(test_valid_ymd),
        cmocka_unit_test(test_known_day_numbers),
        cmocka_unit_test(test_round_trip_every_day),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_optional),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
