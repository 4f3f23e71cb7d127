/* Unit tests for mapping files (src/feed/feed_map.c): parsing, precise
 * errors for malformed mappings, and the conversions applied to rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "feed.h"

static tn_code parse(const char *text, feed_map **m, tn_err *e)
{
    tn_err_clear(e);
    return feed_map_parse(text, strlen(text), m, e);
}

/* The mapping must be refused with a message containing want. */
static void refused(const char *text, const char *want)
{
    feed_map *m = NULL;
    tn_err e;
    assert_int_equal(parse(text, &m, &e), TN_EINVAL);
    assert_null(m);
    assert_string_equal(e.field, "mapping");
    if (!strstr(e.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_malformed(void **state)
{
    (void)state;
    refused("{\"columns\": ", "line 1");
    refused("[]", "must be an object");
    refused("{}", "columns: is required");
    refused("{\"columns\": {}}", "columns.source_key: is required");
    refused("{\"colums\": {}}", "colums: unknown key");
    refused("{\"columns\": {\"sourcekey\": \"a\"}}", "columns.sourcekey: not a canonical column");
    refused("{\"columns\": {\"source_key\": 3}}", "columns.source_key: must be a source column");
    refused("{\"columns\": {\"source_key\": {\"from\": \"a\", \"value\": \"b\"}}}",
            "columns.source_key: needs exactly one of");
    refused("{\"columns\": {\"source_key\": {}}}", "needs exactly one of");
    refused("{\"columns\": {\"source_key\": \"a\", \"valid_from\": {\"from\": \"b\", "
            "\"date\": \"us\"}}}",
            "columns.valid_from.date: must be \"fi\"");
    refused("{\"columns\": {\"source_key\": {\"from\": \"a\", \"case\": \"title\"}}}",
            "columns.source_key.case: must be \"upper\" or \"lower\"");
    refused("{\"columns\": {\"source_key\": {\"from\": \"a\", \"trim\": \"yes\"}}}",
            "columns.source_key.trim: must be true or false");
    refused("{\"columns\": {\"source_key\": {\"from\": \"a\", \"codes\": {\"x\": 1}}}}",
            "columns.source_key.codes.x: must be a string");
    refused("{\"columns\": {\"source_key\": {\"from\": \"a\", \"codes\": []}}}",
            "codes must be an object");
    refused("{\"columns\": {\"source_key\": {\"from\": \"a\", \"unknown_code\": \"drop\"}}}",
            "unknown_code: must be");
    refused("{\"columns\": {\"source_key\": {\"from\": \"a\", \"format\": \"x\"}}}",
            "columns.source_key.format: unknown option");
    refused("{\"columns\": {\"source_key\": \"\"}}", "source column name is empty");
    refused("{\"columns\": {\"source_key\": \"a\", \"source_key\": \"b\"}}", "duplicate");
}

/* Read text through mapping; rows' cells of column c into out[]. */
static int read_col(const char *mapping, const char *text, feed_col c, char out[][96],
                    const char **errs, int max, tn_err *e)
{
    feed_map *m = NULL;
    assert_int_equal(parse(mapping, &m, e), TN_OK);
    FILE *f = fmemopen((void *)text, strlen(text), "rb");
    feed_reader *r = NULL;
    int n = -1;
    if (feed_open_mapped(f, m, &r, e) == TN_OK) {
        feed_row row;
        n = 0;
        while (n < max && feed_next(r, &row, e) == TN_OK) {
            snprintf(out[n], 96, "%s", row.v[c]);
            errs[n] = row.error ? row.error_column : NULL;
            n++;
        }
        feed_close(r);
    }
    fclose(f);
    feed_map_free(m);
    return n;
}

static void test_conversions(void **state)
{
    (void)state;
    char v[8][96];
    const char *errs[8];
    tn_err e;
    const char *dates = "{\"columns\": {\"source_key\": \"Nro\", "
                        "\"valid_from\": {\"from\": \"Alku\", \"date\": \"fi\"}}}";
    int n = read_col(dates, "nro;alku\n1;31.5.2027\n2;1.8.2010\n3;29.2.2023\n4;2027-05-31\n"
                            "5;\n",
                     FEED_VALID_FROM, v, errs, 8, &e);
    assert_int_equal(n, 5);
    assert_string_equal(v[0], "2027-05-31");
    assert_string_equal(v[1], "2010-08-01");
    assert_string_equal(errs[2], "valid_from"); /* no 29 February in 2023 */
    assert_string_equal(errs[3], "valid_from");
    assert_null(errs[4]);
    assert_string_equal(v[4], "");

    const char *codes = "{\"columns\": {\"source_key\": \"k\", \"title\": {\"from\": \"t\", "
                        "\"case\": \"upper\", \"codes\": {\"RE\": \"Rehtori\"}}}}";
    n = read_col(codes, "k,t\n1,re\n2,XX\n3,\n", FEED_TITLE, v, errs, 8, &e);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "Rehtori");
    assert_string_equal(errs[1], "title");
    assert_null(errs[2]);
    const char *keep = "{\"columns\": {\"source_key\": \"k\", \"title\": {\"from\": \"t\", "
                       "\"codes\": {\"RE\": \"Rehtori\"}, \"unknown_code\": \"keep\"}}}";
    n = read_col(keep, "k,t\n1,XX\n", FEED_TITLE, v, errs, 8, &e);
    assert_string_equal(v[0], "XX");
    const char *empty = "{\"columns\": {\"source_key\": \"k\", \"title\": {\"from\": \"t\", "
                        "\"codes\": {\"RE\": \"Rehtori\"}, \"unknown_code\": \"empty\"}}}";
    n = read_col(empty, "k,t\n1,XX\n", FEED_TITLE, v, errs, 8, &e);
    assert_null(errs[0]);
    assert_string_equal(v[0], "");

    const char *text = "{\"columns\": {\"source_key\": \"k\", \"family_name\": {\"from\": "
                       "\"s\", \"trim\": true, \"case\": \"upper\"}, \"class\": {\"value\": "
                       "\"7B\"}}}";
    n = read_col(text, "k,s\n1,\"  mäki \t\xc2\xa0 öberg \"\n", FEED_FAMILY_NAME, v, errs, 8,
                 &e);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "M\xc3\x84KI \xc3\x96" "BERG");
    n = read_col(text, "k,s\n1,x\n", FEED_CLASS, v, errs, 8, &e);
    assert_string_equal(v[0], "7B");
    /* Unmapped canonical names in the file are ignored, not read. */
    n = read_col(text, "k,s,given_names\n1,x,Anna\n", FEED_GIVEN_NAMES, v, errs, 8, &e);
    assert_string_equal(v[0], "");
}

static void test_header(void **state)
{
    (void)state;
    char v[2][96];
    const char *errs[2];
    tn_err e;
    const char *m = "{\"columns\": {\"source_key\": \"Nro\", \"title\": \"Nimike\"}}";
    assert_int_equal(read_col(m, "nro;muu\n1;x\n", FEED_TITLE, v, errs, 2, &e), -1);
    assert_string_equal(e.field, "header");
    assert_non_null(strstr(e.msg, "nimike"));
    /* JSON keys are the source's too. */
    assert_int_equal(read_col(m, "{\"Nro\": \"1\", \"Nimike\": \"Rehtori\"}\n", FEED_TITLE, v,
                              errs, 2, &e),
                     1);
    assert_string_equal(v[0], "Rehtori");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
