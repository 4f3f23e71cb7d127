/* Unit tests for src/feed/feed_ahead.c: rows read on a second thread (and
 * without one, the mode for pipes) come out exactly as feed_next and
 * feed_row_check give them on one thread,
 * across batch boundaries (by row count and by text size), with the
 * reader's error in its place, and the thread stops cleanly before the
 * end. Test IDs are synthetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "feed.h"
#include "feed_ahead.h"
#include "tn_buf.h"

/* One row as seen by the caller, flattened for comparison. */
typedef struct seen {
    long line;
    char *cells; /* every cell, NUL-separated */
    size_t len;
    char error[128];
    bool ok;
    feed_checked chk;
    feed_issue iss;
} seen;

typedef struct run {
    seen *rows;
    size_t n, cap;
    tn_code end;
    char end_msg[512];
} run;

static void keep(run *r, const feed_row *row, bool ok, const feed_checked *chk,
                 const feed_issue *iss)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->rows = realloc(r->rows, r->cap * sizeof *r->rows);
        assert_non_null(r->rows);
    }
    seen *s = &r->rows[r->n++];
    memset(s, 0, sizeof *s);
    s->line = row->line;
    for (int i = 0; i < FEED_NCOLS; i++)
        s->len += strlen(row->v[i]) + 1;
    s->cells = malloc(s->len);
    assert_non_null(s->cells);
    size_t off = 0;
    for (int i = 0; i < FEED_NCOLS; i++) {
        size_t k = strlen(row->v[i]) + 1;
        memcpy(s->cells + off, row->v[i], k);
        off += k;
    }
    snprintf(s->error, sizeof s->error, "%s|%s", row->error ? row->error : "-",
             row->error_column ? row->error_column : "-");
    s->ok = ok;
    if (ok)
        s->chk = *chk;
    else
        s->iss = *iss;
}

static void run_free(run *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->rows[i].cells);
    free(r->rows);
}

static feed_reader *open_text(const char *text, size_t len, FILE **f)
{
    *f = fmemopen((void *)text, len, "rb");
    assert_non_null(*f);
    feed_reader *rd = NULL;
    tn_err e;
    assert_int_equal(feed_open(*f, &rd, &e), TN_OK);
    return rd;
}

static void read_plain(const char *text, size_t len, run *out)
{
    FILE *f;
    feed_reader *rd = open_text(text, len, &f);
    feed_row row;
    tn_err e;
    tn_err_clear(&e);
    tn_code rc;
    while ((rc = feed_next(rd, &row, &e)) == TN_OK) {
        feed_checked chk;
        feed_issue iss;
        bool ok = feed_row_check(&row, &chk, &iss);
        keep(out, &row, ok, &chk, &iss);
    }
    out->end = rc;
    snprintf(out->end_msg, sizeof out->end_msg, "%s", rc == TN_ENOTFOUND ? "" : e.msg);
    feed_close(rd);
    fclose(f);
}

static void read_ahead(const char *text, size_t len, bool threaded, run *out)
{
    FILE *f;
    feed_reader *rd = open_text(text, len, &f);
    feed_ahead *a = NULL;
    tn_err e;
    tn_err_clear(&e);
    assert_int_equal(feed_ahead_start(rd, threaded, &a, &e), TN_OK);
    const feed_ahead_row *ar;
    tn_code rc;
    while ((rc = feed_ahead_next(a, &ar, &e)) == TN_OK)
        keep(out, &ar->row, ar->ok, &ar->chk, &ar->iss);
    out->end = rc;
    snprintf(out->end_msg, sizeof out->end_msg, "%s", rc == TN_ENOTFOUND ? "" : e.msg);
    /* The end is sticky. */
    assert_int_equal(feed_ahead_next(a, &ar, &e), rc);
    assert_null(ar);
    feed_ahead_stop(a);
    feed_close(rd);
    fclose(f);
}

static void assert_same(const run *a, const run *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const seen *x = &a->rows[i], *y = &b->rows[i];
        assert_int_equal(x->line, y->line);
        assert_int_equal(x->len, y->len);
        assert_memory_equal(x->cells, y->cells, x->len);
        assert_string_equal(x->error, y->error);
        assert_int_equal(x->ok, y->ok);
        if (x->ok) {
            assert_int_equal(x->chk.valid_from, y->chk.valid_from);
            assert_int_equal(x->chk.valid_to, y->chk.valid_to);
            assert_int_equal(x->chk.birth_date, y->chk.birth_date);
            assert_int_equal(x->chk.has_nid, y->chk.has_nid);
        } else {
            assert_int_equal(x->iss.line, y->iss.line);
            assert_string_equal(x->iss.column, y->iss.column);
            assert_string_equal(x->iss.reason, y->iss.reason);
        }
    }
    assert_int_equal(a->end, b->end);
    assert_string_equal(a->end_msg, b->end_msg);
}

static void compare(const char *text, size_t len, size_t want_rows, tn_code want_end)
{
    run p = {0};
    read_plain(text, len, &p);
    assert_int_equal(p.n, want_rows);
    assert_int_equal(p.end, want_end);
    for (int threaded = 0; threaded <= 1; threaded++) {
        run a = {0};
        read_ahead(text, len, threaded, &a);
        assert_same(&p, &a);
        run_free(&a);
    }
    run_free(&p);
}

#define HEADER "source_key,national_id,given_names,family_name,org_unit,valid_from,valid_to\n"

/* n rows, some of them bad in each way the reader and the checks know. */
static char *many_rows(size_t n, size_t *len)
{
    tn_buf b;
    tn_buf_init(&b, 64 * 1024 * 1024);
    tn_buf_append(&b, HEADER, strlen(HEADER));
    for (size_t i = 0; i < n; i++) {
        switch (i % 97) {
        case 5: /* a broken checksum */
            tn_buf_printf(&b, "K%zu,010203-123A,Aino,Virtanen,A/B,2020-01-01,\n", i);
            break;
        case 17: /* one field too many */
            tn_buf_printf(&b, "K%zu,,Aino,Virtanen,A/B,2020-01-01,,x\n", i);
            break;
        case 33: /* a quoted cell over two lines, and an end before the start */
            tn_buf_printf(&b, "K%zu,,\"Aino\nMaria\",Virtanen,A/B,2020-01-01,2019-01-01\n", i);
            break;
        case 60: /* no key */
            tn_buf_printf(&b, ",,Aino,Virtanen,A/B,2020-01-01,\n");
            break;
        default:
            tn_buf_printf(&b, "K%zu,,Given%zu,Family,Unit/%zu,2020-01-%02zu,\n", i, i, i % 7,
                          1 + i % 28);
        }
    }
    assert_false(b.toobig);
    *len = b.len;
    return b.data;
}

static void same_rows_as_feed_next(void **state)
{
    (void)state;
    /* 2,000 rows: several batches, the last one partly full. */
    size_t len;
    char *text = many_rows(2000, &len);
    compare(text, len, 2000, TN_ENOTFOUND);
    free(text);
}

static void header_only_and_one_row(void **state)
{
    (void)state;
    compare(HEADER, strlen(HEADER), 0, TN_ENOTFOUND);
    const char *one = HEADER "K1,,Aino,Virtanen,A/B,2020-01-01,\n";
    compare(one, strlen(one), 1, TN_ENOTFOUND);
}

/* Rows near the size limit close batches by their text, not their count. */
static void big_rows(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 64 * 1024 * 1024);
    tn_buf_append(&b, HEADER, strlen(HEADER));
    size_t cell = FEED_ROW_MAX / 2;
    char *big = malloc(cell + 1);
    assert_non_null(big);
    for (int i = 0; i < 20; i++) {
        memset(big, 'a' + i % 26, cell);
        big[cell] = '\0';
        tn_buf_printf(&b, "K%d,,Aino,", i);
        tn_buf_append(&b, big, cell);
        tn_buf_printf(&b, ",A/B,2020-01-01,\n");
    }
    assert_false(b.toobig);
    compare(b.data, b.len, 20, TN_ENOTFOUND);
    free(big);
    tn_buf_free(&b);
}

/* A file-level error (a JSON array that is never closed) comes after the
 * rows read before it, with the reader's message. */
static void error_after_rows(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 16 * 1024 * 1024);
    tn_buf_putc(&b, '[');
    for (int i = 0; i < 700; i++)
        tn_buf_printf(&b, "%s{\"source_key\":\"K%d\",\"given_names\":\"Aino\","
                          "\"family_name\":\"Virtanen\",\"valid_from\":\"2020-01-01\"}\n",
                      i ? "," : "", i);
    tn_buf_printf(&b, ",{\"source_key\":\"K-last\"");
    assert_false(b.toobig);
    run p = {0};
    read_plain(b.data, b.len, &p);
    assert_int_equal(p.n, 700);
    assert_int_not_equal(p.end, TN_OK);
    assert_int_not_equal(p.end, TN_ENOTFOUND);
    assert_true(p.end_msg[0] != '\0');
    run_free(&p);
    compare(b.data, b.len, 700, TN_EINVAL);
    tn_buf_free(&b);
}

/* Stopping before the end, with the thread blocked on a full ring or in
 * the middle of a batch, neither hangs nor leaks (valgrind and ASan run
 * this test). */
static void stop_early(void **state)
{
    (void)state;
    size_t len;
    char *text = many_rows(20000, &len);
    for (int take = 0; take < 6; take++) {
        FILE *f;
        feed_reader *rd = open_text(text, len, &f);
        feed_ahead *a = NULL;
        tn_err e;
        assert_int_equal(feed_ahead_start(rd, take < 3, &a, &e), TN_OK);
        const feed_ahead_row *ar;
        for (int i = 0; i < (take % 3) * 300; i++)
            assert_int_equal(feed_ahead_next(a, &ar, &e), TN_OK);
        feed_ahead_stop(a);
        feed_close(rd);
        fclose(f);
    }
    feed_ahead_stop(NULL);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_rows_as_feed_next),
        cmocka_unit_test(header_only_and_one_row),
        cmocka_unit_test(big_rows),
        cmocka_unit_test(error_after_rows),
        cmocka_unit_test(stop_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
