/* Unit tests for src/feed: CSV and JSON reading (BOM, delimiters, quoting,
 * line numbers, bad rows) and the row checks. Test IDs are synthetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "feed.h"

/* Read all rows of text into rows[]; returns the count, -1 on open error. */
typedef struct got {
    long line;
    char key[64];
    char given[64];
    char unit[64];
    char groups[64];
    bool error;
} got;

static int read_all(const char *text, got *rows, int max, tn_code *end)
{
    FILE *f = fmemopen((void *)text, strlen(text), "rb");
    assert_non_null(f);
    feed_reader *r = NULL;
    tn_err e;
    if (feed_open(f, &r, &e) != TN_OK) {
        fclose(f);
        *end = e.code;
        return -1;
    }
    feed_row row;
    int n = 0;
    tn_code rc;
    while ((rc = feed_next(r, &row, &e)) == TN_OK && n < max) {
        rows[n].line = row.line;
        snprintf(rows[n].key, sizeof rows[n].key, "%s", row.v[FEED_SOURCE_KEY]);
        snprintf(rows[n].given, sizeof rows[n].given, "%s", row.v[FEED_GIVEN_NAMES]);
        snprintf(rows[n].unit, sizeof rows[n].unit, "%s", row.v[FEED_ORG_UNIT]);
        snprintf(rows[n].groups, sizeof rows[n].groups, "%s", row.v[FEED_TEACHING_GROUPS]);
        rows[n].error = row.error != NULL;
        n++;
    }
    *end = rc;
    feed_close(r);
    fclose(f);
    return n;
}

static void csv_comma(void **state)
{
    (void)state;
    got g[8];
    tn_code end;
    int n = read_all("source_key,given_names,unknown_col,org_unit\n"
                     "E1,Aino,x,A/B\n"
                     "E2, Eero ,y,\n",
                     g, 8, &end);
    assert_int_equal(n, 2);
    assert_int_equal(end, TN_ENOTFOUND);
    assert_string_equal(g[0].key, "E1");
    assert_int_equal(g[0].line, 2);
    assert_string_equal(g[0].unit, "A/B");
    assert_string_equal(g[1].given, "Eero"); /* trimmed */
    assert_int_equal(g[1].line, 3);
}

static void csv_bom_semicolon_crlf_multiline(void **state)
{
    (void)state;
    got g[8];
    tn_code end;
    int n = read_all("\xef\xbb\xbfSource_Key;given_names;org_unit\r\n"
                     "E1;\"Aino; Maria\";\"two\nlines\"\r\n"
                     "\r\n"
                     "E2;\"Eero \"\"Eki\"\"\";X\r\n",
                     g, 8, &end);
    assert_int_equal(n, 2);
    assert_string_equal(g[0].key, "E1");
    assert_string_equal(g[0].given, "Aino; Maria");
    assert_string_equal(g[0].unit, "two\nlines");
    assert_int_equal(g[0].line, 2);
    assert_string_equal(g[1].given, "Eero \"Eki\"");
    assert_int_equal(g[1].line, 5);
}

static void csv_field_count_and_header(void **state)
{
    (void)state;
    got g[8];
    tn_code end;
    int n = read_all("source_key,given_names\nE1,a,extra\nE2,b\n", g, 8, &end);
    assert_int_equal(n, 2);
    assert_true(g[0].error);
    assert_false(g[1].error);
    assert_int_equal(read_all("given_names,family_name\nA,B\n", g, 8, &end), -1);
    assert_int_equal(end, TN_EINVAL);
    assert_int_equal(read_all("source_key,source_key\nA,B\n", g, 8, &end), -1);
    assert_int_equal(read_all("", g, 8, &end), -1);
}

static void json_array_and_lines(void **state)
{
    (void)state;
    got g[8];
    tn_code end;
    int n = read_all("[\n {\"source_key\": \"E1\", \"given_names\": \"Aino\",\n"
                     "  \"teaching_groups\": [\"7A\", \"MA1\"]},\n"
                     " {\"source_key\": 42, \"org_unit\": null}\n]\n",
                     g, 8, &end);
    assert_int_equal(n, 2);
    assert_int_equal(end, TN_ENOTFOUND);
    assert_string_equal(g[0].groups, "7A;MA1");
    assert_int_equal(g[0].line, 2);
    assert_string_equal(g[1].key, "42");
    assert_int_equal(g[1].line, 4);

    n = read_all("{\"source_key\":\"E1\"}\n{\"source_key\": broken}\n"
                 "{\"source_key\":\"E3\",\"x\":\"}{\"}\n",
                 g, 8, &end);
    assert_int_equal(n, 3);
    assert_false(g[0].error);
    assert_true(g[1].error);
    assert_int_equal(g[1].line, 2);
    assert_string_equal(g[2].key, "E3");

    n = read_all("[{\"source_key\":\"E1\"}", g, 8, &end);
    assert_int_equal(n, 1);
    assert_int_equal(end, TN_EINVAL); /* array not closed */
}

/* Row checks on a hand-built row. */
static const char *cells[FEED_NCOLS];

static feed_row mkrow(void)
{
    feed_row r;
    memset(&r, 0, sizeof r);
    r.line = 7;
    for (int i = 0; i < FEED_NCOLS; i++)
        r.v[i] = cells[i] ? cells[i] : "";
    return r;
}

static void reset_cells(void)
{
    memset(cells, 0, sizeof cells);
    cells[FEED_SOURCE_KEY] = "E1";
    cells[FEED_NATIONAL_ID] = "131052-308T"; /* synthetic, valid */
    cells[FEED_GIVEN_NAMES] = "Aino";
    cells[FEED_FAMILY_NAME] = "Aalto";
    cells[FEED_VALID_FROM] = "2020-01-01";
}

static void check_rows(void **state)
{
    (void)state;
    feed_checked c;
    feed_issue iss;
    reset_cells();
    feed_row r = mkrow();
    assert_true(feed_row_check(&r, &c, &iss));
    assert_true(c.has_nid);
    assert_int_equal(c.valid_to, TN_DATE_NONE);

    cells[FEED_NATIONAL_ID] = "131052-308U";
    r = mkrow();
    assert_false(feed_row_check(&r, &c, &iss));
    assert_string_equal(iss.column, "national_id");
    assert_int_equal(iss.line, 7);
    assert_null(strstr(iss.reason, "131052"));

    reset_cells();
    cells[FEED_SOURCE_KEY] = "";
    r = mkrow();
    assert_false(feed_row_check(&r, &c, &iss));
    assert_string_equal(iss.column, "source_key");

    reset_cells();
    cells[FEED_VALID_FROM] = "2025-02-30";
    r = mkrow();
    assert_false(feed_row_check(&r, &c, &iss));
    assert_string_equal(iss.column, "valid_from");

    reset_cells();
    cells[FEED_VALID_TO] = "2019-12-31";
    r = mkrow();
    assert_false(feed_row_check(&r, &c, &iss));
    assert_string_equal(iss.column, "valid_to");

    reset_cells();
    cells[FEED_BIRTH_DATE] = "1952-10-14";
    r = mkrow();
    assert_false(feed_row_check(&r, &c, &iss));
    assert_string_equal(iss.column, "birth_date");

    reset_cells();
    cells[FEED_NATIONAL_ID] = "";
    cells[FEED_BIRTH_DATE] = "1990-05-01";
    r = mkrow();
    assert_true(feed_row_check(&r, &c, &iss));
    assert_false(c.has_nid);
    assert_int_not_equal(c.birth_date, TN_DATE_NONE);

    reset_cells();
    cells[FEED_FAMILY_NAME] = "";
    r = mkrow();
    assert_false(feed_row_check(&r, &c, &iss));
    assert_string_equal(iss.column, "family_name");

    reset_cells();
    cells[FEED_END_REASON] = "Not A Token";
    r = mkrow();
    assert_false(feed_row_check(&r, &c, &iss));
    assert_string_equal(iss.column, "end_reason");
}

static void column_names(void **state)
{
    (void)state;
    feed_col c;
    for (int i = 0; i < FEED_NCOLS; i++) {
        assert_true(feed_col_parse(feed_col_name((feed_col)i), &c));
        assert_int_equal(c, i);
    }
    assert_false(feed_col_parse("nope", &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_comma),
        cmocka_unit_test(csv_bom_semicolon_crlf_multiline),
        cmocka_unit_test(csv_field_count_and_header),
        cmocka_unit_test(json_array_and_lines),
        cmocka_unit_test(check_rows),
        cmocka_unit_test(column_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
