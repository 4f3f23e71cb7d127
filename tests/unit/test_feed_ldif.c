/* Unit tests for the LDIF feed reader (src/feed/feed_ldif.c): folding,
 * base64, comments, version, several values per attribute, records as
 * rows through a mapping, and precise errors for bad UTF-8, broken lines
 * and a truncated file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "feed.h"

#define MAPPING                                                                         \
    "{\"columns\": {\"source_key\": \"employeeNumber\", \"username\": \"uid\","          \
    " \"given_names\": \"givenName\", \"family_name\": \"sn\", \"email\": \"mail\","     \
    " \"password_hash\": \"userPassword\", \"teaching_groups\": \"ou\","                 \
    " \"valid_from\": {\"value\": \"2026-08-01\"}}}"

typedef struct ctx {
    FILE *f;
    feed_map *map;
    feed_reader *r;
} ctx;

/* Open len bytes as LDIF through MAPPING; NULL reader (with *e) on a
 * refusal. */
static tn_code open_len(ctx *c, const char *text, size_t len, tn_err *e)
{
    memset(c, 0, sizeof *c);
    tn_err_clear(e);
    c->f = fmemopen((void *)text, len, "rb");
    assert_non_null(c->f);
    assert_int_equal(feed_map_parse(MAPPING, strlen(MAPPING), &c->map, e), TN_OK);
    return feed_open_as(c->f, c->map, FEED_FMT_LDIF, &c->r, e);
}

static tn_code open_text(ctx *c, const char *text, tn_err *e)
{
    return open_len(c, text, strlen(text), e);
}

static void close_ctx(ctx *c)
{
    feed_close(c->r);
    feed_map_free(c->map);
    fclose(c->f);
}

static void must_contain(const char *s, const char *want)
{
    if (!s || !strstr(s, want))
        fail_msg("\"%s\" lacks \"%s\"", s ? s : "(null)", want);
}

static void test_records(void **state)
{
    (void)state;
    /* userPassword:: is base64 of "{SSHA}abcdEFGH"; sn:: of "Ähölä";
     * the mail line is folded twice, once right after the colon. */
    static const char text[] =
        "# an export\r\n"
        "version: 1 \r\n"
        "\r\n"
        "# the first person\r\n"
        "dn: uid=mv,ou=people,dc=example,dc=fi\r\n"
        "objectClass: inetOrgPerson\r\n"
        "UID: mv\r\n"
        "givenName: Matti\r\n"
        "sn:: w4Row7Zsw6Q=\r\n"
        "mail: matti.vir\r\n"
        " tanen@exam\r\n"
        " ple.fi\r\n"
        "# a comment inside the record\r\n"
        "ou: 7A\r\n"
        "ou: 7B\r\n"
        "ou: MA1\r\n"
        "employeeNumber:\r\n"
        "employeeNumber: 1001\r\n"
        "employeenumber: 9999\r\n"
        "jpegPhoto:: /9j/4AAQSkZJRgABAQ==\r\n"
        "userPassword:: e1NTSEF9YWJj\r\n"
        " ZEVGR0g=\r\n"
        "\r\n"
        "\r\n"
        "dn: uid=x,dc=example,dc=fi\n"
        "uid: x\n"
        "givenName: Anna\n"
        "sn: Korhonen\n"
        "employeeNumber: 1002\n";
    ctx c;
    tn_err e;
    assert_int_equal(open_text(&c, text, &e), TN_OK);
    assert_string_equal(feed_format(c.r), "ldif");
    assert_true(feed_has_column(c.r, FEED_USERNAME));
    assert_false(feed_has_column(c.r, FEED_PHONE));
    feed_row row;
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_null(row.error);
    assert_int_equal(row.line, 5);
    assert_string_equal(row.v[FEED_SOURCE_KEY], "1001"); /* the first value */
    assert_string_equal(row.v[FEED_USERNAME], "mv");
    assert_string_equal(row.v[FEED_FAMILY_NAME], "\xc3\x84h\xc3\xb6l\xc3\xa4");
    assert_string_equal(row.v[FEED_EMAIL], "matti.virtanen@example.fi");
    assert_string_equal(row.v[FEED_TEACHING_GROUPS], "7A;7B;MA1");
    assert_string_equal(row.v[FEED_PASSWORD_HASH], "{SSHA}abcdEFGH");
    assert_string_equal(row.v[FEED_VALID_FROM], "2026-08-01");
    assert_string_equal(row.v[FEED_PHONE], "");
    feed_checked chk;
    feed_issue iss;
    assert_true(feed_row_check(&row, &chk, &iss));

    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_null(row.error);
    assert_int_equal(row.line, 25);
    assert_string_equal(row.v[FEED_SOURCE_KEY], "1002");
    assert_string_equal(row.v[FEED_TEACHING_GROUPS], "");
    assert_int_equal(feed_next(c.r, &row, &e), TN_ENOTFOUND);
    close_ctx(&c);
}

/* A record without the mapped source key is a bad row at its first line. */
static void test_no_key(void **state)
{
    (void)state;
    static const char text[] = "dn: uid=a,dc=x\n"
                               "uid: a\n"
                               "givenName: A\n"
                               "sn: B\n"
                               "\n"
                               "dn: uid=b,dc=x\n"
                               "uid: b\n"
                               "employeeNumber: 2\n"
                               "givenName: A\n"
                               "sn: B\n";
    ctx c;
    tn_err e;
    assert_int_equal(open_text(&c, text, &e), TN_OK);
    feed_row row;
    feed_checked chk;
    feed_issue iss;
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_false(feed_row_check(&row, &chk, &iss));
    assert_int_equal(iss.line, 1);
    assert_string_equal(iss.column, "source_key");
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_true(feed_row_check(&row, &chk, &iss));
    assert_int_equal(row.line, 6);
    close_ctx(&c);
}

/* Bad UTF-8 (plain or inside base64) rejects the record, naming the line
 * and the attribute; the next record is read as usual. */
static void test_bad_utf8(void **state)
{
    (void)state;
    static const char text[] = "dn: uid=a,dc=x\n"
                               "employeeNumber: 1\n"
                               "givenName: Ma\xe4tti\n"
                               "sn: B\n"
                               "\n"
                               "dn: uid=b,dc=x\n"
                               "employeeNumber: 2\n"
                               "givenName: A\n"
                               "sn:: /w==\n"
                               "\n"
                               "dn: uid=c,dc=x\n"
                               "employeeNumber: 3\n"
                               "givenName: A\n"
                               "sn: B\n";
    ctx c;
    tn_err e;
    assert_int_equal(open_text(&c, text, &e), TN_OK);
    feed_row row;
    feed_checked chk;
    feed_issue iss;
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_false(feed_row_check(&row, &chk, &iss));
    assert_int_equal(iss.line, 1);
    assert_string_equal(iss.column, "givenname");
    must_contain(iss.reason, "line 3: the value is not valid UTF-8");
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_false(feed_row_check(&row, &chk, &iss));
    assert_string_equal(iss.column, "sn");
    must_contain(iss.reason, "line 9: the value is not valid UTF-8");
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_true(feed_row_check(&row, &chk, &iss));
    assert_string_equal(row.v[FEED_SOURCE_KEY], "3");
    assert_int_equal(feed_next(c.r, &row, &e), TN_ENOTFOUND);
    close_ctx(&c);
}

/* Broken lines: no colon, bad base64, a URL value, no dn first, a change
 * record. Each rejects its record only, with the line. */
static void test_broken_lines(void **state)
{
    (void)state;
#define CASE(t, why) {t, sizeof t - 1, why}
    static const struct {
        const char *text;
        size_t len;
        const char *reason;
    } cases[] = {
        CASE("dn: a\nemployeeNumber: 1\nthis is no attribute\n", "line 3 is not an attribute line"),
        CASE("dn: a\nemployeeNumber: 1\nsn:: ###\n", "line 3: the value is not valid base64"),
        CASE("dn: a\nemployeeNumber: 1\nsn:< file:///etc/passwd\n", "line 3: URL values"),
        CASE("employeeNumber: 1\ndn: a\n", "line 1: a record must start with dn:"),
        CASE("dn: a\nchangetype: delete\n", "line 2: a change record"),
        CASE("dn: a\ndn: b\n", "line 2: a second dn:"),
        CASE("dn: a\nemployeeNumber: 1\nsn: Vir\0ta\n", "line 3 has a NUL byte"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ctx c;
        tn_err e;
        /* sizeof, not strlen: a case holds a NUL byte */
        assert_int_equal(open_len(&c, cases[i].text, cases[i].len, &e), TN_OK);
        feed_row row;
        feed_checked chk;
        feed_issue iss;
        assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
        assert_false(feed_row_check(&row, &chk, &iss));
        assert_int_equal(iss.line, 1);
        must_contain(iss.reason, cases[i].reason);
        assert_int_equal(feed_next(c.r, &row, &e), TN_ENOTFOUND);
        close_ctx(&c);
    }
}

/* A file cut in the middle of a line: the last record is rejected (its
 * value may be cut short), the complete ones before it are good. */
static void test_truncated(void **state)
{
    (void)state;
    static const char text[] = "version: 1\n"
                               "\n"
                               "dn: uid=a,dc=x\n"
                               "employeeNumber: 1\n"
                               "givenName: A\n"
                               "sn: B\n"
                               "\n"
                               "dn: uid=b,dc=x\n"
                               "employeeNumber: 2\n"
                               "givenName: A\n"
                               "sn: Virta";
    ctx c;
    tn_err e;
    assert_int_equal(open_text(&c, text, &e), TN_OK);
    feed_row row;
    feed_checked chk;
    feed_issue iss;
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_true(feed_row_check(&row, &chk, &iss));
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_false(feed_row_check(&row, &chk, &iss));
    assert_int_equal(iss.line, 8);
    must_contain(iss.reason, "line 11: the file ends inside the line");
    assert_int_equal(feed_next(c.r, &row, &e), TN_ENOTFOUND);
    close_ctx(&c);
}

static void test_file_errors(void **state)
{
    (void)state;
    ctx c;
    tn_err e;
    assert_int_equal(open_text(&c, "", &e), TN_EINVAL);
    must_contain(e.msg, "empty");
    feed_map_free(c.map);
    fclose(c.f);

    assert_int_equal(open_text(&c, "version: 2\n\ndn: a\n", &e), TN_OK);
    feed_row row;
    assert_int_equal(feed_next(c.r, &row, &e), TN_EINVAL);
    must_contain(e.msg, "line 1: only LDIF version 1");
    close_ctx(&c);

    /* A line past the row limit rejects its record; memory stays bounded. */
    size_t n = FEED_ROW_MAX + 100;
    char *big = malloc(n + 64);
    assert_non_null(big);
    strcpy(big, "dn: a\nsn: ");
    size_t l = strlen(big);
    memset(big + l, 'x', n);
    strcpy(big + l + n, "\n\ndn: b\nemployeeNumber: 2\n");
    assert_int_equal(open_text(&c, big, &e), TN_OK);
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    must_contain(row.error, "line 2 is longer than the limit");
    assert_int_equal(feed_next(c.r, &row, &e), TN_OK);
    assert_null(row.error);
    assert_string_equal(row.v[FEED_SOURCE_KEY], "2");
    assert_int_equal(row.line, 4);
    close_ctx(&c);
    free(big);
}

/* Without a mapping the attributes carry the canonical names. */
static void test_canonical(void **state)
{
    (void)state;
    static const char text[] = "dn: a\nsource_key: 5\nteaching_groups: A\nteaching_groups: B\n";
    FILE *f = fmemopen((void *)text, strlen(text), "rb");
    feed_reader *r = NULL;
    tn_err e;
    tn_err_clear(&e);
    assert_int_equal(feed_open_as(f, NULL, FEED_FMT_LDIF, &r, &e), TN_OK);
    feed_row row;
    assert_int_equal(feed_next(r, &row, &e), TN_OK);
    assert_string_equal(row.v[FEED_SOURCE_KEY], "5");
    assert_string_equal(row.v[FEED_TEACHING_GROUPS], "A;B");
    feed_close(r);
    fclose(f);

    /* A forced CSV/JSON format must be what the file holds. */
    static const char csv[] = "source_key,given_names\n1,A\n";
    f = fmemopen((void *)csv, strlen(csv), "rb");
    assert_int_equal(feed_open_as(f, NULL, FEED_FMT_JSON, &r, &e), TN_EINVAL);
    must_contain(e.msg, "not JSON");
    fclose(f);
    feed_fmt fmt;
    assert_true(feed_fmt_parse("ldif", &fmt));
    assert_int_equal(fmt, FEED_FMT_LDIF);
    assert_false(feed_fmt_parse("xml", &fmt));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),     cmocka_unit_test(test_no_key),
        cmocka_unit_test(test_bad_utf8),    cmocka_unit_test(test_broken_lines),
        cmocka_unit_test(test_truncated),   cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
