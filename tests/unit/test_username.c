/* Unit tests for src/core/username.c: folding names to ASCII, pattern
 * checking and expansion, truncation, collision suffixes and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "username.h"

static void test_fold_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Matti", "matti"},
        {"Von Wright", "vonwright"},
        {"Yl\xc3\xa4-Outinen", "ylaoutinen"},
        {"\xc3\x85sa", "asa"},
        {"\xc3\x96hman", "ohman"},
        {"Zo\xc3\xab", "zoe"},
        {"Am\xc3\xa9lie", "amelie"},
        {"M\xc3\xbcller", "muller"},
        {"Strau\xc3\x9f", "strauss"},
        {"\xc3\x86r\xc3\xb8", "aero"},
        {"\xc3\x98ystein", "oystein"},
        {"\xc5\xa0\xc3\xa1rka", "sarka"},
        {"\xc5\xbd" "ofie", "zofie"},
        {"Mu\xc3\xb1oz", "munoz"},
        {"Fran\xc3\xa7ois", "francois"},
        {"D'Angelo", "dangelo"},
        {"O\xe2\x80\x99" "Brien", "obrien"},
        {"\xc4\x90or\xc4\x91" "e", "dorde"},
        {"\xc5\x8a" "uvvos", "nuvvos"},
        {"\xc3\x9e\xc3\xb3ra", "thora"},
        {"\xc5\x92uvre", "oeuvre"},
        {"\xc4\xb2sselmeer", "ijsselmeer"},
        {"\xc5\x81ukasz", "lukasz"},
        {"\xc3\x85\xc3\x84\xc3\x96\xc3\xa5\xc3\xa4\xc3\xb6", "aaoaao"},
        {"\xc7\x85", "dz"},                           /* ǅ */
        {"\xc7\xa9" "\xc7\xa5" "\xc7\xaf", "kgz"},    /* ǩ ǥ ǯ (Skolt Sámi) */
        {"M\xc3\xa4ki 2", "maki"},
        {"Anna_Liisa.", "annaliisa"},
        {"\xe6\x9d\x8e\xe5\xb0\x8f\xe9\xbe\x8d", ""}, /* Chinese */
        {"\xce\xa3\xce\xbf\xcf\x86\xce\xaf\xce\xb1", ""}, /* Greek */
        {"", ""},
        {"Ma\xfftti", "matti"},                        /* stray byte skipped */
        {"Ma\xc3tti", "matti"},                        /* truncated sequence skipped */
        {"A\xc3\x97" "B", "ab"},                       /* × is not a letter */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[USERNAME_BUFSZ];
        size_t n = uname_fold(cases[i].in, out, sizeof out);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("fold(\"%s\") = \"%s\", expected \"%s\"", cases[i].in, out, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
    }
}

/* Every letter name_validate accepts in U+00C0..U+024F folds to a-z only,
 * and the common Nordic letters fold to exactly one letter. */
static void test_fold_whole_range(void **state)
{
    (void)state;
    for (unsigned cp = 0xC0; cp <= 0x24F; cp++) {
        char s[4] = {(char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)), 0, 0};
        char out[8];
        size_t n = uname_fold(s, out, sizeof out);
        assert_true(n <= 2);
        for (size_t i = 0; i < n; i++)
            assert_true(out[i] >= 'a' && out[i] <= 'z');
    }
}

static void test_fold_capacity(void **state)
{
    (void)state;
    char out[16];
    memset(out, 'X', sizeof out);
    assert_int_equal(uname_fold("Strau\xc3\x9f", out, 7), 6);
    assert_string_equal(out, "straus");
    assert_int_equal(uname_fold("Matti", out, 1), 0);
    assert_string_equal(out, "");
    out[0] = 'X';
    assert_int_equal(uname_fold("Matti", out, 0), 0);
    assert_int_equal(out[0], 'X'); /* nothing written */
    assert_int_equal(uname_fold(NULL, out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_pattern_check(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{given}.{family}", USERNAME_DEFAULT_PATTERN, "{given:1}{family}",
        "{initials}{family:7}", "{preferred}.{family}", "x{family}",
        "{family}_{given:3}2", "{given:64}", "{given:01}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        tn_err e;
        if (uname_pattern_check(ok[i], &e) != TN_OK)
            fail_msg("rejected \"%s\": %s", ok[i], e.msg);
    }
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"", "required"},
        {"{given}.{famly}", "unknown placeholder"},
        {"{Given}", "unknown placeholder"},
        {"{}", "unknown placeholder"},
        {"{given", "without a '}'"},
        {"given}", "without a '{'"},
        {"{given:0}", "length must be"},
        {"{given:}", "length must be"},
        {"{given:x}", "length must be"},
        {"{given:65}", "length must be"},
        {"{given:99999999999999999999999}", "length must be"},
        {"{preferred:3}", "take a length"},
        {"{initials:2}", "take a length"},
        {"Matti.{family}", "may contain only"},
        {"{given} {family}", "may contain only"},
        {"{given}\xc3\xa4", "may contain only"},
        {".{family}", "must start with"},
        {"1{given}", "must start with"},
        {"matti", "at least one"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tn_err e;
        tn_err_clear(&e);
        if (uname_pattern_check(bad[i].in, &e) != TN_EINVAL)
            fail_msg("accepted \"%s\"", bad[i].in);
        assert_string_equal(e.field, "pattern");
        if (!strstr(e.msg, bad[i].msg))
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", bad[i].in, e.msg, bad[i].msg);
    }
    assert_int_equal(uname_pattern_check(NULL, NULL), TN_EINVAL);
    char longp[400];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "{given}", 7);
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(uname_pattern_check(longp, NULL), TN_EINVAL);
}

static void test_expand_table(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *given, *preferred, *family;
        size_t maxlen;
        const char *out;
    } cases[] = {
        {USERNAME_DEFAULT_PATTERN, "Matti Juhani", NULL, "Virtanen", 20, "matti.virtanen"},
        {USERNAME_DEFAULT_PATTERN, "M\xc3\xa4rta \xc3\x85sa", "", "Von Wright", 20,
         "marta.vonwright"},
        {USERNAME_DEFAULT_PATTERN, "Anna-Liisa", NULL, "Yl\xc3\xa4-Outinen", 20,
         "annaliisa.ylaoutinen"},
        {USERNAME_DEFAULT_PATTERN, "Zo\xc3\xab", NULL, "D'Angelo", 20, "zoe.dangelo"},
        {USERNAME_DEFAULT_PATTERN, "Amir", NULL, "Al-Hakim", 20, "amir.alhakim"},
        {USERNAME_DEFAULT_PATTERN, "  Matti   Juhani ", NULL, "Virtanen", 20, "matti.virtanen"},
        {"{preferred}.{family}", "Johan Erik", "Erik", "\xc3\x85str\xc3\xb6m", 20, "erik.astrom"},
        {"{preferred}.{family}", "Johan Erik", NULL, "\xc3\x85str\xc3\xb6m", 20, "johan.astrom"},
        {"{preferred}.{family}", "Johan Erik", "", "\xc3\x85str\xc3\xb6m", 20, "johan.astrom"},
        {"{preferred}.{family}", "Johan Erik", "Johan Erik", "Virtanen", 20, "johan.virtanen"},
        {"{preferred}.{family}", "Johan Erik", "  Erik ", "Virtanen", 20, "erik.virtanen"},
        {"{preferred}.{family}", "Anna Liisa", "Anna-Liisa", "Virtanen", 20,
         "annaliisa.virtanen"},
        {"{given:1}{family}", "Matti", NULL, "Virtanen", 20, "mvirtanen"},
        {"{initials}{family:5}", "Matti Juhani Kalevi", NULL, "Virtanen", 20, "mjkvirta"},
        {"{initials}.{family}", "Anna-Liisa Maria", NULL, "Korhonen", 20, "am.korhonen"},
        {"{initials}.{family}", "\xe6\x9d\x8e Matti", NULL, "Korhonen", 20, "m.korhonen"},
        {"{family}", "\xe6\x9d\x8e", NULL, "Korhonen", 20, "korhonen"},
        {"{given:3}{family:3}", "\xc3\x85sa", NULL, "\xc3\x96" "berg", 20, "asaobe"},
        {"{family}_{given:2}2", "Matti", NULL, "Virtanen", 20, "virtanen_ma2"},
        {"x{given}", "Matti", NULL, "Virtanen", 20, "xmatti"},
        {"{given:1}{family}", "Strau\xc3\x9f", NULL, "Strau\xc3\x9f", 20, "sstrauss"},
        /* Truncation: cut at maxlen, never ending in a separator. */
        {USERNAME_DEFAULT_PATTERN, "Maria-Kristiina Emilia", NULL,
         "H\xc3\xa4m\xc3\xa4l\xc3\xa4inen-Kuusisto", 20, "mariakristiina.hamal"},
        {USERNAME_DEFAULT_PATTERN, "Matti", NULL, "Virtanen", 7, "matti.v"},
        {USERNAME_DEFAULT_PATTERN, "Matti", NULL, "Virtanen", 6, "matti"},
        {USERNAME_DEFAULT_PATTERN, "Matti", NULL, "Virtanen", 5, "matti"},
        {USERNAME_DEFAULT_PATTERN, "Matti", NULL, "Virtanen", 1, "m"},
        {"{given}.-_{family}", "Matti", NULL, "Virtanen", 8, "matti"},
        {"{family}-", "Matti", NULL, "Virtanen", 20, "virtanen"},
        {USERNAME_DEFAULT_PATTERN, "Aleksanteri", NULL, "Koskinen", 12, "aleksanteri"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[USERNAME_BUFSZ];
        tn_err e;
        tn_err_clear(&e);
        tn_code rc = uname_expand(cases[i].pattern, cases[i].given, cases[i].preferred,
                                  cases[i].family, cases[i].maxlen, out, &e);
        if (rc != TN_OK)
            fail_msg("case %zu rejected: %s: %s", i, e.field, e.msg);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("case %zu: \"%s\", expected \"%s\"", i, out, cases[i].out);
        assert_int_equal(uname_validate(out, cases[i].maxlen, "username", NULL), TN_OK);
    }
}

static void test_expand_errors(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *given, *preferred, *family;
        size_t maxlen;
        tn_code code;
        const char *field;
    } cases[] = {
        {USERNAME_DEFAULT_PATTERN, "\xe6\x9d\x8e", NULL, "Virtanen", 20, TN_EINVAL, "given_names"},
        {USERNAME_DEFAULT_PATTERN, "Sofia", NULL, "\xce\xa3\xce\xbf\xcf\x86\xce\xaf\xce\xb1", 20,
         TN_EINVAL, "family_name"},
        {USERNAME_DEFAULT_PATTERN, "", NULL, "Virtanen", 20, TN_EINVAL, "given_names"},
        {USERNAME_DEFAULT_PATTERN, NULL, NULL, "Virtanen", 20, TN_EINVAL, "given_names"},
        {USERNAME_DEFAULT_PATTERN, "Matti", NULL, NULL, 20, TN_EINVAL, "family_name"},
        {"{preferred}", "Matti", "\xe6\x9d\x8e", "Virtanen", 20, TN_EINVAL, "preferred_name"},
        {"{initials}", "\xe6\x9d\x8e \xe5\xb0\x8f", NULL, "Virtanen", 20, TN_EINVAL,
         "given_names"},
        {"{given}.{famly}", "Matti", NULL, "Virtanen", 20, TN_EINVAL, "pattern"},
        {NULL, "Matti", NULL, "Virtanen", 20, TN_EINVAL, "pattern"},
        {USERNAME_DEFAULT_PATTERN, "Matti", NULL, "Virtanen", 0, TN_EUSAGE, "maxlen"},
        {USERNAME_DEFAULT_PATTERN, "Matti", NULL, "Virtanen", USERNAME_BUFSZ, TN_EUSAGE,
         "maxlen"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[USERNAME_BUFSZ];
        memset(out, 'X', sizeof out);
        tn_err e;
        tn_err_clear(&e);
        tn_code rc = uname_expand(cases[i].pattern, cases[i].given, cases[i].preferred,
                                  cases[i].family, cases[i].maxlen, out, &e);
        if (rc != cases[i].code)
            fail_msg("case %zu: code %d, expected %d", i, rc, cases[i].code);
        assert_string_equal(e.field, cases[i].field);
        assert_string_equal(out, "");
    }
    char out[USERNAME_BUFSZ];
    tn_err e;
    uname_expand(USERNAME_DEFAULT_PATTERN, "\xe6\x9d\x8e", NULL, "V", 20, out, &e);
    assert_non_null(strstr(e.msg, "no Latin letters"));
}

static void test_expand_maxlen_64(void **state)
{
    (void)state;
    char given[300];
    memset(given, 'a', 200);
    given[200] = '\0';
    char out[USERNAME_BUFSZ];
    assert_int_equal(uname_expand(USERNAME_DEFAULT_PATTERN, given, NULL, "Virtanen",
                                  USERNAME_BUFSZ - 1, out, NULL), TN_OK);
    assert_int_equal(strlen(out), USERNAME_BUFSZ - 1);
    /* 100 ß fold to 200 letters: capped, not overflowing. */
    char sz[300];
    for (int i = 0; i < 100; i++)
        memcpy(sz + 2 * i, "\xc3\x9f", 2);
    sz[200] = '\0';
    assert_int_equal(uname_expand("{family}{given}", sz, NULL, sz, 64, out, NULL), TN_OK);
    assert_int_equal(strlen(out), 64);
}

static void test_with_suffix(void **state)
{
    (void)state;
    static const struct {
        const char *base;
        unsigned n;
        size_t maxlen;
        const char *out;
    } cases[] = {
        {"matti.virtanen", 2, 20, "matti.virtanen2"},
        {"matti.virtanen", 10, 20, "matti.virtanen10"},
        {"matti.virtanenkoski", 2, 19, "matti.virtanenkosk2"},
        {"matti.virtanenkoski", 2, 20, "matti.virtanenkoski2"},
        {"matti.virtanenkoski", 10, 20, "matti.virtanenkosk10"},
        {"matti.virtanenkoskin", 2, 20, "matti.virtanenkoski2"},
        {"abcd.efgh", 2, 5, "abcd2"},
        {"abc.defgh", 2, 5, "abc2"},        /* the cut left "abc.": drop the dot */
        {"abc.defgh", 12, 6, "abc12"},
        {"ab-_.cd", 123, 7, "ab123"},
        {"matti", 4294967295u, 20, "matti4294967295"},
        {"a", 99, 2, ""},                    /* no room for the base */
        {"abc", 7, 1, ""},
        {".abc", 7, 2, ""},                  /* nothing left after the cut */
        {"", 2, 20, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[USERNAME_BUFSZ];
        uname_with_suffix(cases[i].base, cases[i].n, cases[i].maxlen, out);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("case %zu: \"%s\", expected \"%s\"", i, out, cases[i].out);
        assert_true(strlen(out) <= cases[i].maxlen);
    }
    char big[100];
    memset(big, 'x', 99);
    big[99] = '\0';
    char out[USERNAME_BUFSZ];
    uname_with_suffix(big, 2, 1000, out); /* maxlen is capped by the buffer */
    assert_int_equal(strlen(out), USERNAME_BUFSZ - 1);
    assert_int_equal(out[USERNAME_BUFSZ - 2], '2');
    uname_with_suffix(NULL, 2, 20, out);
    assert_string_equal(out, "");
}

/* Every candidate for realistic bases is a valid username that ends in its
 * number, stays within maxlen and has no separator before the number. */
static void test_with_suffix_property(void **state)
{
    (void)state;
    static const char *const bases[] = {
        "matti.virtanen", "annaliisa.ylaoutinen", "a.b", "ab-cd_ef.gh", "mvirtanen",
    };
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        for (size_t maxlen = 3; maxlen <= 20; maxlen++) {
            for (unsigned n = 2; n <= 1000; n++) {
                char out[USERNAME_BUFSZ], num[16];
                uname_with_suffix(bases[b], n, maxlen, out);
                snprintf(num, sizeof num, "%u", n);
                size_t ol = strlen(out), nl = strlen(num);
                if (nl >= maxlen) {
                    assert_string_equal(out, "");
                    continue;
                }
                assert_true(ol <= maxlen);
                assert_true(ol > nl);
                assert_string_equal(out + ol - nl, num);
                assert_int_equal(uname_validate(out, maxlen, "u", NULL), TN_OK);
                char before = out[ol - nl - 1];
                assert_true(before >= 'a' && before <= 'z');
            }
        }
    }
}

static void test_validate(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t maxlen;
        tn_code want;
    } cases[] = {
        {"matti.virtanen", 20, TN_OK},
        {"m", 20, TN_OK},
        {"a1", 20, TN_OK},
        {"a-b_c.d", 20, TN_OK},
        {"abcdefghijklmnopqrst", 20, TN_OK},
        {"abcdefghijklmnopqrstu", 20, TN_EINVAL},
        {"", 20, TN_EINVAL},
        {"Matti", 20, TN_EINVAL},
        {"1matti", 20, TN_EINVAL},
        {".matti", 20, TN_EINVAL},
        {"_a", 20, TN_EINVAL},
        {"-a", 20, TN_EINVAL},
        {"matti virtanen", 20, TN_EINVAL},
        {"m\xc3\xa4tti", 20, TN_EINVAL},
        {"a@b", 20, TN_EINVAL},
        {"a\n", 20, TN_EINVAL},
        {"ab", 1, TN_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_err e;
        tn_err_clear(&e);
        tn_code rc = uname_validate(cases[i].in, cases[i].maxlen, "username", &e);
        if (rc != cases[i].want)
            fail_msg("\"%s\": got %d, expected %d", cases[i].in, rc, cases[i].want);
        if (rc != TN_OK)
            assert_string_equal(e.field, "username");
    }
    assert_int_equal(uname_validate(NULL, 20, "username", NULL), TN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_table),
        cmocka_unit_test(test_fold_whole_range),
        cmocka_unit_test(test_fold_capacity),
        cmocka_unit_test(test_pattern_check),
        cmocka_unit_test(test_expand_table),
        cmocka_unit_test(test_expand_errors),
        cmocka_unit_test(test_expand_maxlen_64),
        cmocka_unit_test(test_with_suffix),
        cmocka_unit_test(test_with_suffix_property),
        cmocka_unit_test(test_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
