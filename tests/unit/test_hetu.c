/* Unit tests for src/core/hetu.c: every century sign, checksums, dates that
 * do not exist, reserved and temporary individual numbers, and messages
 * that never leak the value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hetu.h"

static const char all_signs[] = "+-YXWVUABCDEF";

/* Written separately from hetu.c on purpose: the check character is
 * DDMMYYZZZ as one nine-digit number, modulo 31, looked up in a table
 * without G I O Q Z. */
static void make_hetu(char out[HETU_BUFSZ], int d, int m, int yy, char sign, int ind)
{
    static const char tab[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
    unsigned long n = (unsigned long)d * 10000000UL + (unsigned long)m * 100000UL +
                      (unsigned long)yy * 1000UL + (unsigned long)ind;
    snprintf(out, HETU_BUFSZ, "%02d%02d%02d%c%03d%c", d, m, yy, sign, ind, tab[n % 31]);
}

static int sign_century(char c)
{
    if (c == '+')
        return 1800;
    if (strchr("-YXWVU", c))
        return 1900;
    return 2000;
}

static void test_valid_table(void **state)
{
    (void)state;
    /* Check characters verified with an independent Python script; the
     * first two are the Digital and Population Data Services Agency's
     * published examples. */
    static const struct {
        const char *in;
        int y, m, d, ind;
        bool temporary, female;
    } cases[] = {
        {"131052-308T", 1952, 10, 13, 308, false, true},
        {"010594Y9021", 1994, 5, 1, 902, true, true},
        {"010594X9032", 1994, 5, 1, 903, true, false},
        {"290200A1239", 2000, 2, 29, 123, false, false},
        {"010101+2348", 1801, 1, 1, 234, false, true},
        {"311299W456X", 1999, 12, 31, 456, false, true},
        {"150505V789E", 1905, 5, 15, 789, false, false},
        {"010203U0023", 1903, 2, 1, 2, false, true},
        {"010106B9997", 2006, 1, 1, 999, true, false},
        {"290204C500F", 2004, 2, 29, 500, false, true},
        {"311223D321Y", 2023, 12, 31, 321, false, false},
        {"010123E654F", 2023, 1, 1, 654, false, true},
        {"281120F9004", 2020, 11, 28, 900, true, true},
        {"010100+002H", 1800, 1, 1, 2, false, true},
        {"280201A1027", 2001, 2, 28, 102, false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char canon[HETU_BUFSZ] = "";
        hetu_info info;
        tn_err e;
        tn_err_clear(&e);
        if (hetu_parse(cases[i].in, canon, &info, &e) != TN_OK)
            fail_msg("%s rejected: %s", cases[i].in, e.msg);
        assert_string_equal(canon, cases[i].in);
        assert_int_equal(info.birth_date, date_from_ymd(cases[i].y, cases[i].m, cases[i].d));
        assert_int_equal(info.individual, cases[i].ind);
        assert_int_equal(info.temporary, cases[i].temporary);
        assert_int_equal(info.female, cases[i].female);
        assert_true(hetu_valid(cases[i].in));
    }
}

static void test_lower_case_canonicalised(void **state)
{
    (void)state;
    static const struct {
        const char *in, *canon;
    } cases[] = {
        {"131052-308t", "131052-308T"}, {"010594y9021", "010594Y9021"},
        {"010594x9032", "010594X9032"}, {"311299w456x", "311299W456X"},
        {"150505v789e", "150505V789E"}, {"010203u0023", "010203U0023"},
        {"290200a1239", "290200A1239"}, {"010106b9997", "010106B9997"},
        {"290204c500f", "290204C500F"}, {"311223d321y", "311223D321Y"},
        {"010123e654f", "010123E654F"}, {"281120f9004", "281120F9004"},
        {"010100+002h", "010100+002H"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char canon[HETU_BUFSZ];
        assert_int_equal(hetu_parse(cases[i].in, canon, NULL, NULL), TN_OK);
        assert_string_equal(canon, cases[i].canon);
    }
}

static void test_invalid_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "is required"},
        {"131052-308", "must be 11 characters"},
        {"131052-308TT", "must be 11 characters"},
        {" 131052-308T", "must be 11 characters"},
        {"131052-308T ", "must be 11 characters"},
        {"131052-308T\n", "must be 11 characters"},
        {"131052-308U", "check character does not match"},
        {"131052-309T", "check character does not match"},
        {"131053-308T", "check character does not match"},
        {"010594Y902G", "check character does not match"}, /* G is not in the table */
        {"010594Y902?", "check character does not match"},
        {"131052G308T", "unknown century sign"},
        {"131052Z308T", "unknown century sign"},
        {"131052*308T", "unknown century sign"},
        {"131052 308T", "unknown century sign"},
        {"131052_308T", "unknown century sign"},
        {"1310a2-308T", "birth date"},
        {"-31052-308T", "birth date"},
        {"131052-3a8T", "individual number"},
        {"131052--08T", "individual number"},
        {"131052-30\xc3\xa4", "individual number"},
        {"131052-308\xc3", "check character does not match"},
        {"131052-308\xff", "check character does not match"},
        {"1310\xc3\xa4-308T", "birth date"},
        /* Dates that do not exist, each with a correct check character so
         * that only the date is at fault. */
        {"310223A123H", "birth date does not exist"},
        {"290201A123J", "birth date does not exist"},
        {"290200-1239", "birth date does not exist"}, /* 1900 was not a leap year */
        {"000100A1239", "birth date does not exist"},
        {"011300A123K", "birth date does not exist"},
        {"310400A123E", "birth date does not exist"},
        {"320100A123B", "birth date does not exist"},
        /* 000 and 001 are never issued. */
        {"010100+000E", "never issued"},
        {"010100+001F", "never issued"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_err e;
        tn_err_clear(&e);
        char canon[HETU_BUFSZ] = "untouched";
        hetu_info info = {.individual = -7};
        if (hetu_parse(cases[i].in, canon, &info, &e) != TN_EINVAL)
            fail_msg("accepted \"%s\"", cases[i].in);
        assert_int_equal(e.code, TN_EINVAL);
        assert_string_equal(e.field, "national_id");
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].in, e.msg, cases[i].msg);
        /* Never the value, nor a telling piece of it. */
        if (cases[i].in[0]) {
            assert_null(strstr(e.msg, cases[i].in));
            char head[7];
            memcpy(head, cases[i].in, 6);
            head[6] = '\0';
            assert_null(strstr(e.msg, head));
        }
        assert_string_equal(canon, "untouched");
        assert_int_equal(info.individual, -7);
        assert_false(hetu_valid(cases[i].in));
    }
    tn_err e;
    assert_int_equal(hetu_parse(NULL, NULL, NULL, &e), TN_EINVAL);
    assert_false(hetu_valid(NULL));
}

/* The dates that made the self-check above fail must be the only fault:
 * confirm the table's check characters with the helper. */
static void test_invalid_table_check_chars(void **state)
{
    (void)state;
    char h[HETU_BUFSZ];
    make_hetu(h, 31, 2, 23, 'A', 123);
    assert_string_equal(h, "310223A123H");
    make_hetu(h, 29, 2, 1, 'A', 123);
    assert_string_equal(h, "290201A123J");
    make_hetu(h, 29, 2, 0, '-', 123);
    assert_string_equal(h, "290200-1239");
    make_hetu(h, 1, 1, 0, '+', 0);
    assert_string_equal(h, "010100+000E");
    make_hetu(h, 1, 1, 0, '+', 1);
    assert_string_equal(h, "010100+001F");
}

/* Every century sign × days of a leap and a non-leap year of each
 * century × ordinary and temporary numbers; also every wrong check
 * character is refused. */
static void test_sweep_every_sign(void **state)
{
    (void)state;
    static const int years[] = {0, 1, 4, 23, 99};
    static const int inds[] = {2, 3, 500, 899, 900, 901, 998, 999};
    static const char tab[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
    long checked = 0;
    for (const char *sg = all_signs; *sg; sg++) {
        int century = sign_century(*sg);
        for (size_t yi = 0; yi < sizeof years / sizeof years[0]; yi++) {
            int year = century + years[yi];
            for (int m = 1; m <= 12; m++) {
                int last = date_days_in_month(year, m);
                for (int d = 1; d <= 31; d++) {
                    for (size_t ii = 0; ii < sizeof inds / sizeof inds[0]; ii++) {
                        char h[HETU_BUFSZ];
                        make_hetu(h, d, m, years[yi], *sg, inds[ii]);
                        hetu_info info;
                        tn_err e;
                        tn_code rc = hetu_parse(h, NULL, &info, &e);
                        if (d > last) {
                            assert_int_equal(rc, TN_EINVAL);
                            assert_non_null(strstr(e.msg, "birth date does not exist"));
                            continue;
                        }
                        if (rc != TN_OK)
                            fail_msg("%s rejected: %s", h, e.msg);
                        assert_int_equal(info.birth_date, date_from_ymd(year, m, d));
                        assert_int_equal(info.individual, inds[ii]);
                        assert_int_equal(info.temporary, inds[ii] >= 900);
                        assert_int_equal(info.female, inds[ii] % 2 == 0);
                        checked++;
                        if (d != 15 || ii != 0)
                            continue;
                        const char good = h[10];
                        for (const char *q = tab; *q; q++) {
                            if (*q == good)
                                continue;
                            h[10] = *q;
                            assert_false(hetu_valid(h));
                        }
                    }
                }
            }
        }
    }
    assert_true(checked > 13 * 5 * 365 * 8 - 1);
}

static void test_reserved_individual_numbers(void **state)
{
    (void)state;
    for (const char *sg = all_signs; *sg; sg++) {
        for (int ind = 0; ind <= 999; ind++) {
            char h[HETU_BUFSZ];
            make_hetu(h, 24, 12, 10, *sg, ind);
            hetu_info info;
            tn_err e;
            tn_code rc = hetu_parse(h, NULL, &info, &e);
            if (ind < 2) {
                assert_int_equal(rc, TN_EINVAL);
                assert_non_null(strstr(e.msg, "never issued"));
            } else {
                assert_int_equal(rc, TN_OK);
                assert_int_equal(info.temporary, ind >= 900);
            }
        }
    }
}

static void test_null_outputs(void **state)
{
    (void)state;
    assert_int_equal(hetu_parse("131052-308T", NULL, NULL, NULL), TN_OK);
    assert_int_equal(hetu_parse("131052-308X", NULL, NULL, NULL), TN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_table),
        cmocka_unit_test(test_lower_case_canonicalised),
        cmocka_unit_test(test_invalid_table),
        cmocka_unit_test(test_invalid_table_check_chars),
        cmocka_unit_test(test_sweep_every_sign),
        cmocka_unit_test(test_reserved_individual_numbers),
        cmocka_unit_test(test_null_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
