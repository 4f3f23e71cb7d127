/* Unit tests for src/core/name.c: strict UTF-8 decoding, personal names
 * (Finnish, Swedish and other Latin-script names), free text and space
 * normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "name.h"

static void test_utf8_decode(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
        size_t want_len; /* 0 = malformed */
        unsigned cp;
    } cases[] = {
        {"A", 1, 1, 0x41},
        {"\xc3\xa4", 2, 2, 0xE4},              /* ä */
        {"\xc5\xa1", 2, 2, 0x161},             /* š */
        {"\xe2\x80\x99", 3, 3, 0x2019},        /* ’ */
        {"\xe2\x82\xac", 3, 3, 0x20AC},        /* € */
        {"\xed\x9f\xbf", 3, 3, 0xD7FF},        /* last before surrogates */
        {"\xee\x80\x80", 3, 3, 0xE000},        /* first after surrogates */
        {"\xf0\x9f\x98\x80", 4, 4, 0x1F600},   /* 😀 */
        {"\xf4\x8f\xbf\xbf", 4, 4, 0x10FFFF},  /* last code point */
        {"\xc3\xa4xyz", 5, 2, 0xE4},           /* only the first is decoded */
        {"\xc0\x80", 2, 0, 0},                 /* overlong NUL */
        {"\xc0\xaf", 2, 0, 0},                 /* overlong '/' */
        {"\xc1\xbf", 2, 0, 0},                 /* overlong */
        {"\xe0\x80\xaf", 3, 0, 0},             /* overlong '/' */
        {"\xe0\x9f\xbf", 3, 0, 0},             /* overlong U+07FF */
        {"\xf0\x80\x80\xaf", 4, 0, 0},         /* overlong '/' */
        {"\xf0\x8f\xbf\xbf", 4, 0, 0},         /* overlong U+FFFF */
        {"\xed\xa0\x80", 3, 0, 0},             /* U+D800 surrogate */
        {"\xed\xbf\xbf", 3, 0, 0},             /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", 4, 0, 0},         /* U+110000 */
        {"\xf5\x80\x80\x80", 4, 0, 0},         /* lead byte beyond range */
        {"\xff", 1, 0, 0},
        {"\xfe", 1, 0, 0},
        {"\x80", 1, 0, 0},                     /* lone continuation */
        {"\xc3", 1, 0, 0},                     /* truncated */
        {"\xc3\xa4", 1, 0, 0},                 /* truncated by len */
        {"\xe2\x82", 2, 0, 0},
        {"\xf0\x9f\x98", 3, 0, 0},
        {"\xc3\x41", 2, 0, 0},                 /* bad continuation */
        {"\xe2\x28\xa1", 3, 0, 0},
        {"", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned cp = 0xDEAD;
        size_t n = utf8_decode(cases[i].bytes, cases[i].len, &cp);
        if (n != cases[i].want_len)
            fail_msg("case %zu: length %zu, expected %zu", i, n, cases[i].want_len);
        if (n)
            assert_int_equal(cp, cases[i].cp);
    }
}

static void test_utf8_valid(void **state)
{
    (void)state;
    size_t n = 0;
    const char *s = "M\xc3\xa4rta \xc3\x85sa";
    assert_true(utf8_valid(s, strlen(s), &n));
    assert_int_equal(n, 9);
    assert_true(utf8_valid("", 0, &n));
    assert_int_equal(n, 0);
    assert_true(utf8_valid("a\0b", 3, &n));
    assert_int_equal(n, 3);
    assert_true(utf8_valid("abc", 3, NULL));
    n = 77;
    assert_false(utf8_valid("ab\xff", 3, &n));
    assert_int_equal(n, 77); /* untouched on failure */
    assert_false(utf8_valid("ab\xc3", 3, NULL));
    assert_false(utf8_valid("\xed\xa0\x80\xed\xb0\x80", 6, NULL)); /* CESU-8 pair */
}

/* ASCII is skipped eight bytes at a time: a bad or multi-byte sequence at
 * any position of a longer string is still found, and counted right. */
static void test_utf8_valid_word_skip(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 24; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            char s[32];
            size_t n = 0;
            memset(s, 'x', len);
            s[pos] = (char)0xff;
            assert_false(utf8_valid(s, len, &n));
            if (pos + 1 < len) {
                s[pos] = (char)0xc3; /* ä */
                s[pos + 1] = (char)0xa4;
                assert_true(utf8_valid(s, len, &n));
                assert_int_equal(n, len - 1);
                assert_false(utf8_valid(s, pos + 1, NULL)); /* cut inside it */
            }
        }
    }
}

static void make_repeat(char *buf, size_t cap, const char *unit, size_t times)
{
    buf[0] = '\0';
    size_t ul = strlen(unit), w = 0;
    for (size_t i = 0; i < times && w + ul < cap; i++, w += ul)
        memcpy(buf + w, unit, ul);
    buf[w] = '\0';
}

static void test_names_valid(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "Matti", "Von Wright", "Yl\xc3\xa4-Outinen", "Al-Hakim", "Zo\xc3\xab",
        "Am\xc3\xa9lie", "D'Angelo", "M\xc3\xa4rta \xc3\x85sa", "O\xe2\x80\x99" "Brien",
        "\xc3\x98ystein", "\xc3\x86sa", "Strau\xc3\x9f", "\xc5\xa0\xc3\xa1rka",
        "\xc5\xbd" "ofie", "\xc4\x90or\xc4\x91" "e", "\xc5\x8a" "uvvos",
        "Jean-Luc", "A", "Anna-Liisa Maria", "\xc3\x85\xc3\x84\xc3\x96",
        "Ma\xc3\xb1" "ana", "Fran\xc3\xa7ois", "\xc3\x9e\xc3\xb3ra", "Ale\xc5\xa1",
        "\xc7\xa6" "eorg", /* Ǧ, Latin Extended-B */
        "Nguyen",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        tn_err e;
        tn_err_clear(&e);
        if (name_validate(ok[i], "given_names", &e) != TN_OK)
            fail_msg("rejected \"%s\": %s", ok[i], e.msg);
    }
    char buf[512];
    make_repeat(buf, sizeof buf, "a", NAME_MAX_CHARS);
    assert_int_equal(name_validate(buf, "f", NULL), TN_OK);
    make_repeat(buf, sizeof buf, "\xc3\xa4", NAME_MAX_CHARS); /* 200 bytes, 100 letters */
    assert_int_equal(name_validate(buf, "f", NULL), TN_OK);
    assert_true(strlen(buf) < NAME_BUFSZ);
}

static void test_names_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "is required"},
        {" Matti", "start with a letter"},
        {"Matti ", "end with a letter"},
        {"-Anna", "start with a letter"},
        {"Anna-", "end with a letter"},
        {"'Anna", "start with a letter"},
        {"Anna'", "end with a letter"},
        {"\xe2\x80\x99" "Anna", "start with a letter"},
        {"Mat  ti", "two separators"},
        {"Anna--Liisa", "two separators"},
        {"Anna- Liisa", "two separators"},
        {"O' Brien", "two separators"},
        {"Matti2", "digits"},
        {"R2D2", "digits"},
        {"1", "digits"},
        {"Matti\tVirtanen", "control"},
        {"Matti\n", "control"},
        {"Mat\x7fti", "control"},
        {"Mat\xc2\x85ti", "control"},            /* U+0085 NEL */
        {"A\xc3\x97" "B", "not allowed"},          /* × */
        {"A\xc3\xb7" "B", "not allowed"},          /* ÷ */
        {"Anna!", "not allowed"},
        {"Anna.", "not allowed"},
        {"Anna,Liisa", "not allowed"},
        {"Anna_Liisa", "not allowed"},
        {"Anna\xc2\xa0Liisa", "not allowed"},      /* NO-BREAK SPACE: normalise first */
        {"Smile\xf0\x9f\x98\x80", "not allowed"},
        {"\xce\x91\xce\xbd\xce\xbd\xce\xb1", "not allowed"}, /* Greek */
        {"\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", "not allowed"}, /* Cyrillic */
        {"Zoe\xcc\x88", "not allowed"},            /* decomposed ë: combining mark */
        {"\xc7\x83" "Xam", "not allowed"},         /* ǃ click letter, looks like ! */
        {"Anna\xc2\xaa", "not allowed"},           /* ª */
        {"\xc1\x81nna", "UTF-8"},                  /* overlong A */
        {"\xc0\xa0" "Anna", "UTF-8"},
        {"Anna\xed\xa0\x80", "UTF-8"},            /* surrogate */
        {"Anna\xff", "UTF-8"},
        {"Anna\xc3", "UTF-8"},
        {"\x80" "Anna", "UTF-8"},
        {"Anna\xf4\x90\x80\x80", "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_err e;
        tn_err_clear(&e);
        if (name_validate(cases[i].in, "family_name", &e) != TN_EINVAL)
            fail_msg("accepted \"%s\"", cases[i].in);
        assert_string_equal(e.field, "family_name");
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, cases[i].msg);
        if (cases[i].in[0])
            assert_null(strstr(e.msg, cases[i].in));
    }
    tn_err e;
    assert_int_equal(name_validate(NULL, "given_names", &e), TN_EINVAL);
    assert_string_equal(e.msg, "is required");

    char buf[512];
    make_repeat(buf, sizeof buf, "a", NAME_MAX_CHARS + 1);
    assert_int_equal(name_validate(buf, "f", &e), TN_EINVAL);
    assert_non_null(strstr(e.msg, "too long"));
    make_repeat(buf, sizeof buf, "\xc3\xa4", NAME_MAX_CHARS + 1);
    assert_int_equal(name_validate(buf, "f", &e), TN_EINVAL);
    assert_non_null(strstr(e.msg, "too long"));
}

/* Every code point of Latin-1 and Latin Extended-A/B, classified. */
static void test_name_letter_ranges(void **state)
{
    (void)state;
    for (unsigned cp = 0xA0; cp <= 0x2FF; cp++) {
        char s[8];
        /* Two-byte UTF-8, wrapped in ASCII letters. */
        snprintf(s, sizeof s, "a%c%cb", (char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)));
        bool want = cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7 &&
                    !(cp >= 0x1C0 && cp <= 0x1C3);
        bool got = name_validate(s, "n", NULL) == TN_OK;
        if (got != want)
            fail_msg("U+%04X: accepted=%d expected %d", cp, got, want);
    }
}

static void test_text_validate(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t max;
        tn_code want;
    } cases[] = {
        {"", TEXT_MAX_CHARS, TN_OK},
        {"Rehtori", TEXT_MAX_CHARS, TN_OK},
        {"Lehtori (matematiikka, fysiikka)", TEXT_MAX_CHARS, TN_OK},
        {"Fysiikka & kemia \xe2\x80\x94 7\xe2\x80\x93" "9", TEXT_MAX_CHARS, TN_OK},
        {"Sm\xc3\xa5skolan i \xc3\x85" "bo 2024!", TEXT_MAX_CHARS, TN_OK},
        {"\xf0\x9f\x8e\x93 graduate", TEXT_MAX_CHARS, TN_OK},
        {"  leading and trailing  ", TEXT_MAX_CHARS, TN_OK},
        {"tab\there", TEXT_MAX_CHARS, TN_EINVAL},
        {"line\nbreak", TEXT_MAX_CHARS, TN_EINVAL},
        {"cr\r", TEXT_MAX_CHARS, TN_EINVAL},
        {"del\x7f", TEXT_MAX_CHARS, TN_EINVAL},
        {"c1\xc2\x9b", TEXT_MAX_CHARS, TN_EINVAL},
        {"bad\xff", TEXT_MAX_CHARS, TN_EINVAL},
        {"overlong\xc0\xbc", TEXT_MAX_CHARS, TN_EINVAL},
        {"surrogate\xed\xb0\x80", TEXT_MAX_CHARS, TN_EINVAL},
        {"", 0, TN_OK},
        {"a", 0, TN_EINVAL},
        {"\xc3\xa4\xc3\xa4\xc3\xa4", 3, TN_OK},
        {"\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4", 3, TN_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_err e;
        tn_err_clear(&e);
        tn_code rc = text_validate(cases[i].in, cases[i].max, "title", &e);
        if (rc != cases[i].want)
            fail_msg("case %zu: got %d, expected %d (%s)", i, rc, cases[i].want, e.msg);
        if (rc != TN_OK)
            assert_string_equal(e.field, "title");
    }
    assert_int_equal(text_validate(NULL, 10, "title", NULL), TN_OK);
    char buf[1024];
    make_repeat(buf, sizeof buf, "\xc3\xb6", TEXT_MAX_CHARS);
    assert_int_equal(text_validate(buf, TEXT_MAX_CHARS, "t", NULL), TN_OK);
    make_repeat(buf, sizeof buf, "\xc3\xb6", TEXT_MAX_CHARS + 1);
    assert_int_equal(text_validate(buf, TEXT_MAX_CHARS, "t", NULL), TN_EINVAL);
}

static void test_normalize_space(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"  Anna   Liisa  ", "Anna Liisa"},
        {"Anna\tLiisa", "Anna Liisa"},
        {"Anna\r\n Liisa", "Anna Liisa"},
        {"Anna\xc2\xa0Liisa", "Anna Liisa"},
        {"\xc2\xa0\xc2\xa0x\xc2\xa0", "x"},
        {"M\xc3\xa4rta  \xc3\x85sa", "M\xc3\xa4rta \xc3\x85sa"},
        {"", ""},
        {"   ", ""},
        {"a", "a"},
        {" a ", "a"},
        {"a b c", "a b c"},
        {"\xc2", "\xc2"},              /* a lone lead byte is left alone */
        {"\xc2\xa1", "\xc2\xa1"},      /* ¡ is not a space */
        {"Von  Wright", "Von Wright"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", cases[i].in);
        assert_ptr_equal(name_normalize_space(buf), buf);
        assert_string_equal(buf, cases[i].out);
    }
    assert_null(name_normalize_space(NULL));
    /* Typical source-system input becomes a valid name. */
    char raw[] = "  Ylä-Outinen \t ";
    assert_int_equal(name_validate(name_normalize_space(raw), "f", NULL), TN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_decode),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_valid_word_skip),
        cmocka_unit_test(test_names_valid),
        cmocka_unit_test(test_names_invalid),
        cmocka_unit_test(test_name_letter_ranges),
        cmocka_unit_test(test_text_validate),
        cmocka_unit_test(test_normalize_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
