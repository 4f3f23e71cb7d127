/* Unit tests for src/core/contact.c: e-mail syntax and lower-casing, phone
 * numbers normalised to E.164. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "contact.h"

static void test_email_valid(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"matti.virtanen@example.fi", "matti.virtanen@example.fi"},
        {"Matti.Virtanen@Example.FI", "matti.virtanen@example.fi"},
        {"a@b.co", "a@b.co"},
        {"first+tag@sub.example.org", "first+tag@sub.example.org"},
        {"o'brien@example.ie", "o'brien@example.ie"},
        {"user_name%x@example.com", "user_name%x@example.com"},
        {"a-b@my-domain.example", "a-b@my-domain.example"},
        {"x@123.example", "x@123.example"},
        {"x@xn--mlkirja-0za.fi", "x@xn--mlkirja-0za.fi"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[EMAIL_BUFSZ];
        tn_err e;
        tn_err_clear(&e);
        if (email_normalize(cases[i].in, out, "email", &e) != TN_OK)
            fail_msg("rejected \"%s\": %s", cases[i].in, e.msg);
        assert_string_equal(out, cases[i].out);
    }
}

static void test_email_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "is required"},
        {"matti.virtanen", "'@'"},
        {"@example.fi", "nothing before"},
        {"a@@example.fi", "exactly one"},
        {"a@b@example.fi", "exactly one"},
        {".a@example.fi", "dot"},
        {"a.@example.fi", "dot"},
        {"a..b@example.fi", "dot"},
        {"a b@example.fi", "not allowed"},
        {"a\"b@example.fi", "not allowed"},
        {"m\xc3\xa4tti@example.fi", "not allowed"},
        {" a@example.fi", "not allowed"},
        {"a@example", "at least two"},
        {"a@", "empty label"},
        {"a@.example.fi", "empty label"},
        {"a@example..fi", "empty label"},
        {"a@example.fi.", "empty label"},
        {"a@-example.fi", "hyphen"},
        {"a@example-.fi", "hyphen"},
        {"a@exa_mple.fi", "letters, digits"},
        {"a@ex\xc3\xa4mple.fi", "letters, digits"},
        {"a@example.fi ", "letters, digits"},
        {"a@example.f", "too short"},
        {"a@example.123", "letters only"},
        {"a@192.168.1.1", "top-level"},
        {"a@example.f1", "letters only"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[EMAIL_BUFSZ];
        tn_err e;
        tn_err_clear(&e);
        if (email_normalize(cases[i].in, out, "email", &e) != TN_EINVAL)
            fail_msg("accepted \"%s\"", cases[i].in);
        assert_string_equal(e.field, "email");
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].in, e.msg, cases[i].msg);
        if (cases[i].in[0])
            assert_null(strstr(e.msg, cases[i].in));
    }
    char out[EMAIL_BUFSZ];
    assert_int_equal(email_normalize(NULL, out, "email", NULL), TN_EINVAL);
}

static void test_email_lengths(void **state)
{
    (void)state;
    char in[400], out[EMAIL_BUFSZ];
    /* Local part: 64 fits, 65 does not. */
    memset(in, 'a', 64);
    snprintf(in + 64, sizeof in - 64, "@example.fi");
    assert_int_equal(email_normalize(in, out, "e", NULL), TN_OK);
    memset(in, 'a', 65);
    snprintf(in + 65, sizeof in - 65, "@example.fi");
    assert_int_equal(email_normalize(in, out, "e", NULL), TN_EINVAL);
    /* Label: 63 fits, 64 does not. */
    memset(in, 'b', sizeof in);
    in[0] = 'a';
    in[1] = '@';
    snprintf(in + 2 + 63, sizeof in - 65, ".fi");
    assert_int_equal(email_normalize(in, out, "e", NULL), TN_OK);
    memset(in, 'b', sizeof in);
    in[0] = 'a';
    in[1] = '@';
    snprintf(in + 2 + 64, sizeof in - 66, ".fi");
    assert_int_equal(email_normalize(in, out, "e", NULL), TN_EINVAL);
    /* Whole address: 254 fits, 255 does not. "a@" + labels of 62, 62,
     * 61 and 61 letters + ".fi" = 2 + 249 + 3. */
    memset(in, 'c', sizeof in);
    in[0] = 'a';
    in[1] = '@';
    in[2 + 62] = '.';
    in[2 + 125] = '.';
    in[2 + 187] = '.';
    snprintf(in + 2 + 249, sizeof in - 251, ".fi");
    assert_int_equal(strlen(in), 254);
    tn_err e;
    if (email_normalize(in, out, "e", &e) != TN_OK)
        fail_msg("254-byte address rejected: %s", e.msg);
    assert_string_equal(out, in);
    memmove(in + 1, in, strlen(in) + 1);
    assert_int_equal(strlen(in), 255);
    assert_int_equal(email_normalize(in, out, "e", &e), TN_EINVAL);
    assert_non_null(strstr(e.msg, "longer than"));
}

static void test_phone_valid(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"040 123 4567", "+358401234567"},
        {"040-123 4567", "+358401234567"},
        {"040.123.4567", "+358401234567"},
        {"0401234567", "+358401234567"},
        {"+358 40 1234567", "+358401234567"},
        {"+358401234567", "+358401234567"},
        {"00358401234567", "+358401234567"},
        {"00358 40 123 4567", "+358401234567"},
        {"+358 (0)40 123 4567", "+358401234567"},
        {"(09) 310 1691", "+35893101691"},
        {"09 3101691", "+35893101691"},
        {"+358 9 310 1691", "+35893101691"},
        {"0800 12345", "+35880012345"},
        {"+46 8 123 456 78", "+46812345678"},
        {"0046 8 123 456 78", "+46812345678"},
        {"+1 (212) 555-0100", "+12125550100"},
        {"+44 20 7946 0958", "+442079460958"},
        {"+49 30 1234567", "+49301234567"},
        {"+1234567", "+1234567"},              /* 7 digits: the E.164 minimum */
        {"+123456789012345", "+123456789012345"}, /* 15 digits: the maximum */
        {"+358 1234567", "+3581234567"},       /* 7 national digits */
        {"+358 123456789012", "+358123456789012"}, /* 12 national digits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PHONE_BUFSZ];
        tn_err e;
        tn_err_clear(&e);
        if (phone_normalize(cases[i].in, out, "phone", &e) != TN_OK)
            fail_msg("rejected \"%s\": %s", cases[i].in, e.msg);
        assert_string_equal(out, cases[i].out);
        /* Normalising the result again is a no-op. */
        char again[PHONE_BUFSZ];
        assert_int_equal(phone_normalize(out, again, "phone", NULL), TN_OK);
        assert_string_equal(again, out);
    }
}

static void test_phone_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"", "is required"},
        {"   ", "no digits"},
        {"()-", "no digits"},
        {"+", "no digits"},
        {"040 123 ABC", "may contain only"},
        {"040 123 4567 ext 5", "may contain only"},
        {"040/1234567", "may contain only"},
        {"040\t1234567", "may contain only"},
        {"\xef\xbc\x90\xef\xbc\x94\xef\xbc\x90", "may contain only"}, /* full-width digits */
        {"040+1234567", "'+' may only start"},
        {"++358401234567", "'+' may only start"},
        {"401234567", "must start with"},
        {"040 123", "too short for a Finnish"},
        {"+358 123456", "too short for a Finnish"},
        {"+358 1234567890123", "too long for a Finnish"},
        {"0 1234 5678 9012 3", "too long for a Finnish"},
        {"+46 123", "too short"},
        {"+1234567890123456", "too long"},
        {"00", "country code"},
        {"000123456789", "country code"},
        {"+0 123 4567", "country code"},
        {"+358 00617280", "too many zeros"},
        {"00358 0 0401234567", "too many zeros"},
        {"12345678901234567890123456789012345678901234567890", "too many digits"},
        {"+12345678901234567890123456789012345678901234567890", "too many digits"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PHONE_BUFSZ];
        tn_err e;
        tn_err_clear(&e);
        if (phone_normalize(cases[i].in, out, "phone", &e) != TN_EINVAL)
            fail_msg("accepted \"%s\" as %s", cases[i].in, out);
        assert_string_equal(e.field, "phone");
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].in, e.msg, cases[i].msg);
    }
    char out[PHONE_BUFSZ];
    assert_int_equal(phone_normalize(NULL, out, "phone", NULL), TN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_valid),
        cmocka_unit_test(test_email_invalid),
        cmocka_unit_test(test_email_lengths),
        cmocka_unit_test(test_phone_valid),
        cmocka_unit_test(test_phone_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
