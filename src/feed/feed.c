/* Feed reading: CSV through libcsv fed in bounded chunks, JSON objects cut
 * out of the stream by a small brace scanner and parsed one at a time by
 * jansson, so neither format is ever loaded whole. */
#include "feed.h"
#include "feed_int.h"

#include <csv.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tn_buf.h"
#include "tn_mem.h"
#include "tn_str.h"

#define CHUNK 65536
#define MAX_FILE_COLS 256
/* Cells of a row: canonical columns, or a mapping's source columns. */
#define SLOTS FEED_MAP_SOURCES
_Static_assert(FEED_NCOLS <= SLOTS, "a slot per canonical column");

static const char *const col_names[FEED_NCOLS] = {
    "source_key", "national_id", "given_names", "family_name", "preferred_name",
    "email",      "phone",       "org_unit",    "title",       "manager_key",
    "school",     "class",       "teaching_groups", "programme", "valid_from",
    "valid_to",   "end_reason",  "birth_date", "username", "password_hash",
};

const char *feed_col_name(feed_col c)
{
    return (unsigned)c < FEED_NCOLS ? col_names[c] : "?";
}

bool feed_col_parse(const char *name, feed_col *out)
{
    for (int i = 0; i < FEED_NCOLS; i++)
        if (strcmp(name, col_names[i]) == 0) {
            *out = (feed_col)i;
            return true;
        }
    return false;
}

/* A row under construction: the cells' bytes one after another, each
 * NUL-terminated, with their offsets. */
typedef struct rowbuf {
    tn_buf data;
    size_t off[SLOTS];
    bool set[SLOTS];
    long line;
    const char *error;
    const char *error_column;
} rowbuf;

static void rowbuf_reset(rowbuf *b)
{
    tn_buf_reset(&b->data);
    memset(b->set, 0, sizeof b->set);
    b->error = NULL;
    b->error_column = NULL;
}

static void rowbuf_put(rowbuf *b, int c, const char *s, size_t n)
{
    if (b->set[c]) /* a column given twice: the first wins */
        return;
    b->off[c] = b->data.len;
    b->set[c] = true;
    tn_buf_append(&b->data, s, n);
    tn_buf_putc(&b->data, '\0');
}

/* A mapped row: the source cells through the mapping into mapped. */
static void rowbuf_map(rowbuf *b, const feed_map *m, tn_buf *mapped, feed_row *row)
{
    const char *raw[SLOTS];
    size_t off[FEED_NCOLS];
    bool set[FEED_NCOLS];
    int ns = feed_map_nsources(m);
    for (int i = 0; i < ns; i++) {
        raw[i] = NULL;
        if (b->set[i] && b->data.data)
            raw[i] = tn_trim(b->data.data + b->off[i]);
    }
    const char *err = NULL, *errcol = NULL;
    if (!feed_map_apply(m, raw, mapped, off, set, &err, &errcol)) {
        row->error = err;
        row->error_column = errcol;
        return;
    }
    for (int i = 0; i < FEED_NCOLS; i++)
        if (set[i])
            row->v[i] = tn_trim(mapped->data + off[i]);
}

static void rowbuf_emit(rowbuf *b, feed_row *row, const feed_map *m, tn_buf *mapped)
{
    memset(row, 0, sizeof *row);
    row->line = b->line;
    if (b->data.toobig) {
        b->error = "row is larger than the limit";
        memset(b->set, 0, sizeof b->set);
    }
    if (m && !b->error) {
        for (int i = 0; i < FEED_NCOLS; i++)
            row->v[i] = "";
        rowbuf_map(b, m, mapped, row);
        return;
    }
    for (int i = 0; i < FEED_NCOLS; i++) {
        row->v[i] = "";
        if (!m && b->set[i] && b->data.data) {
            char *s = b->data.data + b->off[i];
            tn_trim(s);
            row->v[i] = s;
        }
    }
    row->error = b->error;
    row->error_column = b->error_column;
}

struct feed_reader {
    FILE *f;
    const feed_map *map; /* NULL: canonical column names */
    tn_buf mapped;       /* the mapped row's cells */
    bool have_src[SLOTS];
    bool json;
    ldif_reader *ldif; /* set: an LDIF file, read by feed_ldif.c */
    bool eof;
    long lineno; /* lines fully consumed */
    rowbuf cur;
    /* CSV */
    struct csv_parser csv;
    bool csv_init;
    int colmap[MAX_FILE_COLS]; /* file column -> feed_col, -1 = ignored */
    int nfilecols;
    bool have[FEED_NCOLS];
    bool header;       /* parsing the header line */
    int field;         /* index of the next field in the current record */
    bool in_quotes;    /* inside a quoted field at the start of the next chunk */
    long rec_start;    /* line where the current record began */
    bool rec_started;
    /* completed rows waiting to be returned (one chunk can finish several) */
    rowbuf *queue;
    size_t nqueue, qhead, qcap;
    tn_err ferr;       /* a header problem found in a callback */
    bool failed;
    char chunk[CHUNK];
    /* JSON */
    tn_buf obj;
    bool array;
    bool array_done;
    char err_text[96];
};

/* ---- CSV ----------------------------------------------------------------- */

static void csv_field(void *s, size_t n, void *ctx)
{
    feed_reader *r = ctx;
    int i = r->field++;
    if (r->header) {
        if (i >= MAX_FILE_COLS) {
            r->failed = true;
            tn_err_set(&r->ferr, TN_EINVAL, "header", "more than %d columns", MAX_FILE_COLS);
            return;
        }
        char name[64];
        if (!tn_strlcpyn(name, s ? s : "", n, sizeof name))
            name[0] = '\0';
        tn_trim(name);
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        feed_col c;
        r->colmap[i] = -1;
        if (r->map) {
            int j = feed_map_source_index(r->map, name);
            if (j >= 0 && r->have_src[j]) {
                r->failed = true;
                tn_err_set(&r->ferr, TN_EINVAL, "header", "column %s appears twice", name);
                return;
            }
            if (j >= 0) {
                r->colmap[i] = j;
                r->have_src[j] = true;
            }
        } else if (feed_col_parse(name, &c)) {
            if (r->have[c]) {
                r->failed = true;
                tn_err_set(&r->ferr, TN_EINVAL, "header", "column %s appears twice", name);
                return;
            }
            r->colmap[i] = (int)c;
            r->have[c] = true;
        }
        r->nfilecols = i + 1;
        return;
    }
    if (i < r->nfilecols && r->colmap[i] >= 0)
        rowbuf_put(&r->cur, r->colmap[i], s ? s : "", n);
}

static void csv_row(int c, void *ctx)
{
    (void)c;
    feed_reader *r = ctx;
    int n = r->field;
    r->field = 0;
    r->rec_started = false;
    if (r->header) {
        r->header = false;
        return;
    }
    r->cur.line = r->rec_start;
    if (n != r->nfilecols) {
        r->cur.error = "number of fields differs from the header";
        memset(r->cur.set, 0, sizeof r->cur.set);
    }
    if (r->nqueue == r->qcap) {
        size_t ncap = r->qcap ? 2 * r->qcap : 4;
        r->queue = tn_realloc(r->queue, ncap * sizeof *r->queue);
        for (size_t k = r->qcap; k < ncap; k++)
            tn_buf_init(&r->queue[k].data, FEED_ROW_MAX);
        r->qcap = ncap;
    }
    /* Swap the finished row into the queue; take the queue slot's buffer. */
    rowbuf done = r->cur;
    r->cur = r->queue[r->nqueue];
    rowbuf_reset(&r->cur);
    r->queue[r->nqueue++] = done;
}

/* Feed the next chunk of the file to libcsv. Returns false at the end. */
static bool csv_feed_chunk(feed_reader *r)
{
    if (r->eof)
        return false;
    if (!fgets(r->chunk, sizeof r->chunk, r->f)) {
        r->eof = true;
        csv_fini(&r->csv, csv_field, csv_row, r);
        return r->nqueue > r->qhead;
    }
    size_t n = strlen(r->chunk);
    bool whole_line = n > 0 && r->chunk[n - 1] == '\n';
    /* A record starts on the line where a chunk begins outside quotes. */
    if (!r->in_quotes && !r->rec_started) {
        r->rec_start = r->lineno + 1;
        r->rec_started = true;
    }
    for (size_t i = 0; i < n; i++)
        if (r->chunk[i] == '"')
            r->in_quotes = !r->in_quotes;
    csv_parse(&r->csv, r->chunk, n, csv_field, csv_row, r);
    if (whole_line)
        r->lineno++;
    /* A blank line ends no record; the next chunk starts a new one. */
    if (!r->in_quotes && r->field == 0 && whole_line)
        r->rec_started = false;
    return true;
}

static unsigned char detect_delim(const char *line)
{
    size_t commas = 0, semis = 0;
    bool q = false;
    for (const char *p = line; *p; p++) {
        if (*p == '"')
            q = !q;
        else if (!q && *p == ',')
            commas++;
        else if (!q && *p == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

static tn_code csv_start(feed_reader *r, tn_err *e)
{
    if (!fgets(r->chunk, sizeof r->chunk, r->f))
        return tn_err_set(e, TN_EINVAL, "header", "the file is empty");
    size_t n = strlen(r->chunk);
    if (n == 0 || r->chunk[n - 1] != '\n') {
        if (!feof(r->f))
            return tn_err_set(e, TN_EINVAL, "header", "header line is too long");
    }
    if (csv_init(&r->csv, CSV_APPEND_NULL) != 0)
        return tn_err_set(e, TN_EINTERNAL, NULL, "cannot start the CSV parser");
    r->csv_init = true;
    csv_set_delim(&r->csv, detect_delim(r->chunk));
    r->header = true;
    /* A lone CR ends a record for libcsv, so the header line may already
     * hold the start of a row: it is on line 1. */
    r->rec_start = 1;
    csv_parse(&r->csv, r->chunk, n, csv_field, csv_row, r);
    if (r->header) /* header without a line end: the file has no rows */
        csv_fini(&r->csv, csv_field, csv_row, r);
    r->lineno = 1;
    if (r->failed) {
        *e = r->ferr;
        return e->code;
    }
    if (r->map) {
        for (int j = 0; j < feed_map_nsources(r->map); j++)
            if (!r->have_src[j])
                return tn_err_set(e, TN_EINVAL, "header",
                                  "the file has no column %s, which the mapping names",
                                  feed_map_source_name(r->map, j));
        for (int c = 0; c < FEED_NCOLS; c++)
            r->have[c] = feed_map_has(r->map, (feed_col)c);
    }
    if (!r->have[FEED_SOURCE_KEY])
        return tn_err_set(e, TN_EINVAL, "header", "no source_key column");
    return TN_OK;
}

static tn_code csv_next(feed_reader *r, feed_row *row, tn_err *e)
{
    (void)e;
    while (r->qhead == r->nqueue) {
        r->qhead = r->nqueue = 0;
        if (!csv_feed_chunk(r) && r->qhead == r->nqueue)
            return TN_ENOTFOUND;
    }
    rowbuf *b = &r->queue[r->qhead++];
    rowbuf_emit(b, row, r->map, &r->mapped);
    return TN_OK;
}

/* ---- JSON ---------------------------------------------------------------- */

static int jgetc(feed_reader *r)
{
    int c = getc_unlocked(r->f);
    if (c == '\n')
        r->lineno++;
    return c;
}

static int skip_ws(feed_reader *r)
{
    int c;
    do
        c = jgetc(r);
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    return c;
}

/* Read one object's bytes (the '{' already read) into r->obj. false if
 * the file ends inside it. */
static bool cut_object(feed_reader *r)
{
    tn_buf_reset(&r->obj);
    tn_buf_putc(&r->obj, '{');
    int depth = 1;
    bool str = false, esc = false;
    while (depth > 0) {
        int c = jgetc(r);
        if (c == EOF)
            return false;
        tn_buf_putc(&r->obj, (char)c);
        if (str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return true;
}

static void json_cell(feed_reader *r, int c, const char *name, json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        rowbuf_put(&r->cur, c, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        rowbuf_put(&r->cur, c, num, strlen(num));
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        rowbuf_put(&r->cur, c, num, strlen(num));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
        if (json_is_true(v))
            rowbuf_put(&r->cur, c, "true", 4);
        break;
    case JSON_ARRAY: {
        /* A list of strings (teaching groups) is joined with ';'. */
        tn_buf joined;
        tn_buf_init(&joined, FEED_ROW_MAX);
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) {
            if (!json_is_string(it)) {
                r->cur.error = "must be a string or a list of strings";
                r->cur.error_column = name;
                break;
            }
            if (i)
                tn_buf_putc(&joined, ';');
            tn_buf_puts(&joined, json_string_value(it));
        }
        rowbuf_put(&r->cur, c, joined.data ? joined.data : "", joined.len);
        tn_buf_free(&joined);
        break;
    }
    case JSON_OBJECT:
        r->cur.error = "must not be an object";
        r->cur.error_column = name;
        break;
    }
}

static tn_code json_next(feed_reader *r, feed_row *row, tn_err *e)
{
    rowbuf_reset(&r->cur);
    int c;
    for (;;) {
        c = skip_ws(r);
        if (c == ',' && r->array)
            continue;
        break;
    }
    if (c == EOF) {
        if (r->array && !r->array_done)
            return tn_err_set(e, TN_EINVAL, NULL, "line %ld: the array is not closed",
                              r->lineno + 1);
        return TN_ENOTFOUND;
    }
    if (c == ']' && r->array && !r->array_done) {
        r->array_done = true;
        c = skip_ws(r);
        if (c == EOF)
            return TN_ENOTFOUND;
        return tn_err_set(e, TN_EINVAL, NULL, "line %ld: text after the closing ]",
                          r->lineno + 1);
    }
    if (c != '{')
        return tn_err_set(e, TN_EINVAL, NULL, "line %ld: expected an object", r->lineno + 1);
    r->cur.line = r->lineno + 1;
    if (!cut_object(r))
        return tn_err_set(e, TN_EINVAL, NULL, "line %ld: the file ends inside an object",
                          r->cur.line);
    if (r->obj.toobig) {
        r->cur.error = "object is larger than the limit";
    } else {
        json_error_t jerr;
        json_t *o = json_loadb(r->obj.data, r->obj.len, JSON_REJECT_DUPLICATES, &jerr);
        if (!o) {
            /* jansson's text may quote the input near the error; give only
             * the position. */
            snprintf(r->err_text, sizeof r->err_text, "is not valid JSON (at column %d)",
                     jerr.column);
            r->cur.error = r->err_text;
        } else {
            const char *k;
            json_t *v;
            json_object_foreach(o, k, v) {
                feed_col col;
                if (r->map) {
                    char lower[128];
                    int j = -1;
                    if (tn_strlcpy(lower, k, sizeof lower)) {
                        for (char *p = lower; *p; p++)
                            if (*p >= 'A' && *p <= 'Z')
                                *p = (char)(*p + 32);
                        j = feed_map_source_index(r->map, lower);
                    }
                    /* error_column must outlive the object: the
                     * mapping's copy of the name does. */
                    if (j >= 0)
                        json_cell(r, j, feed_map_source_name(r->map, j), v);
                } else if (feed_col_parse(k, &col)) {
                    json_cell(r, col, feed_col_name(col), v);
                }
            }
            json_decref(o);
        }
    }
    if (r->cur.error)
        memset(r->cur.set, 0, sizeof r->cur.set);
    rowbuf_emit(&r->cur, row, r->map, &r->mapped);
    return TN_OK;
}

/* ---- common -------------------------------------------------------------- */

tn_code feed_open(FILE *f, feed_reader **out, tn_err *e)
{
    return feed_open_mapped(f, NULL, out, e);
}

bool feed_fmt_parse(const char *name, feed_fmt *out)
{
    static const char *const names[] = {"csv", "json", "ldif"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (feed_fmt)(i + 1);
            return true;
        }
    return false;
}

tn_code feed_open_as(FILE *f, const feed_map *map, feed_fmt fmt, feed_reader **out, tn_err *e)
{
    if (fmt == FEED_FMT_LDIF) {
        feed_reader *r = tn_calloc(1, sizeof *r);
        tn_code rc = ldif_open(f, map, &r->ldif, e);
        if (rc != TN_OK) {
            free(r);
            return rc;
        }
        r->f = f;
        r->map = map;
        for (int i = 0; i < FEED_NCOLS; i++)
            r->have[i] = !map || feed_map_has(map, (feed_col)i);
        *out = r;
        return TN_OK;
    }
    feed_reader *r = NULL;
    tn_code rc = feed_open_mapped(f, map, &r, e);
    if (rc == TN_OK && fmt != FEED_FMT_AUTO && r->json != (fmt == FEED_FMT_JSON)) {
        rc = tn_err_set(e, TN_EINVAL, "format", "the file is not %s",
                        fmt == FEED_FMT_JSON ? "JSON" : "CSV");
        feed_close(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

tn_code feed_open_mapped(FILE *f, const feed_map *map, feed_reader **out, tn_err *e)
{
    feed_reader *r = tn_calloc(1, sizeof *r);
    r->f = f;
    r->map = map;
    tn_buf_init(&r->mapped, FEED_ROW_MAX);
    tn_buf_init(&r->cur.data, FEED_ROW_MAX);
    tn_buf_init(&r->obj, FEED_ROW_MAX);
    tn_code rc = TN_OK;
    /* A UTF-8 byte order mark is skipped. */
    int c0 = getc(f);
    if (c0 == 0xEF) {
        int c1 = getc(f), c2 = getc(f);
        if (c1 != 0xBB || c2 != 0xBF) {
            rc = tn_err_set(e, TN_EINVAL, NULL, "the file starts with a broken byte order mark");
            goto out;
        }
        c0 = getc(f);
    }
    /* JSON begins with '[' or '{' after optional whitespace; a CSV header
     * begins with a column name. */
    while (c0 == ' ' || c0 == '\t' || c0 == '\r' || c0 == '\n') {
        if (c0 == '\n')
            r->lineno++;
        c0 = getc(f);
    }
    if (c0 == EOF) {
        rc = tn_err_set(e, TN_EINVAL, NULL, "the file is empty");
        goto out;
    }
    if (c0 == '[' || c0 == '{') {
        r->json = true;
        if (c0 == '[')
            r->array = true;
        else
            ungetc(c0, f);
        for (int i = 0; i < FEED_NCOLS; i++)
            r->have[i] = !map || feed_map_has(map, (feed_col)i);
        goto out;
    }
    if (r->lineno) {
        rc = tn_err_set(e, TN_EINVAL, "header", "the CSV header must be the first line");
        goto out;
    }
    ungetc(c0, f);
    rc = csv_start(r, e);
out:
    if (rc != TN_OK) {
        feed_close(r);
        return rc;
    }
    *out = r;
    return TN_OK;
}

tn_code feed_next(feed_reader *r, feed_row *row, tn_err *e)
{
    tn_code rc = r->ldif   ? ldif_next(r->ldif, row, e)
                 : r->json ? json_next(r, row, e)
                           : csv_next(r, row, e);
    if (rc == TN_ENOTFOUND && ferror(r->f))
        return tn_err_set(e, TN_EIO, NULL, "read error");
    return rc;
}

void feed_close(feed_reader *r)
{
    if (!r)
        return;
    if (r->csv_init)
        csv_free(&r->csv);
    ldif_close(r->ldif);
    for (size_t i = 0; i < r->qcap; i++)
        tn_buf_free(&r->queue[i].data);
    free(r->queue);
    tn_buf_free(&r->cur.data);
    tn_buf_free(&r->obj);
    tn_buf_free(&r->mapped);
    free(r);
}

const char *feed_format(const feed_reader *r)
{
    return r->ldif ? "ldif" : r->json ? "json" : "csv";
}

bool feed_has_column(const feed_reader *r, feed_col c)
{
    return (unsigned)c < FEED_NCOLS && r->have[c];
}

/* ---- row checks ---------------------------------------------------------- */

static bool issue(feed_issue *iss, const feed_row *r, const char *col, const char *reason)
{
    iss->line = r->line;
    tn_strlcpy(iss->column, col ? col : "", sizeof iss->column);
    tn_strlcpy(iss->reason, reason, sizeof iss->reason);
    return false;
}

static bool err_issue(feed_issue *iss, const feed_row *r, const char *col, const tn_err *e)
{
    return issue(iss, r, e->field[0] ? e->field : col, e->msg);
}

bool feed_row_check(const feed_row *r, feed_checked *out, feed_issue *iss)
{
    tn_err e;
    tn_err_clear(&e);
    memset(out, 0, sizeof *out);
    out->valid_to = out->birth_date = TN_DATE_NONE;
    if (r->error)
        return issue(iss, r, r->error_column, r->error);
    if (!*r->v[FEED_SOURCE_KEY])
        return issue(iss, r, "source_key", "is required");
    if (model_check_source_key(r->v[FEED_SOURCE_KEY], "source_key", &e) != TN_OK)
        return err_issue(iss, r, "source_key", &e);
    if (*r->v[FEED_NATIONAL_ID]) {
        hetu_info info;
        if (hetu_parse(r->v[FEED_NATIONAL_ID], NULL, &info, &e) != TN_OK)
            return err_issue(iss, r, "national_id", &e);
        out->has_nid = true;
        out->birth_date = info.birth_date;
    }
    if (!*r->v[FEED_GIVEN_NAMES])
        return issue(iss, r, "given_names", "is required");
    if (!*r->v[FEED_FAMILY_NAME])
        return issue(iss, r, "family_name", "is required");
    if (!*r->v[FEED_VALID_FROM])
        return issue(iss, r, "valid_from", "is required");
    if (date_parse_iso(r->v[FEED_VALID_FROM], &out->valid_from, "valid_from", &e) != TN_OK ||
        date_parse_iso_opt(r->v[FEED_VALID_TO], &out->valid_to, "valid_to", &e) != TN_OK)
        return err_issue(iss, r, NULL, &e);
    if (out->valid_to != TN_DATE_NONE && out->valid_to < out->valid_from)
        return issue(iss, r, "valid_to", "ends before valid_from");
    if (*r->v[FEED_BIRTH_DATE]) {
        tn_date bd;
        if (date_parse_iso(r->v[FEED_BIRTH_DATE], &bd, "birth_date", &e) != TN_OK)
            return err_issue(iss, r, "birth_date", &e);
        if (out->has_nid && bd != out->birth_date)
            return issue(iss, r, "birth_date", "does not match the national ID");
        out->birth_date = bd;
    }
    if (*r->v[FEED_ORG_UNIT] && model_check_unit_code(r->v[FEED_ORG_UNIT], "org_unit", &e) != TN_OK)
        return err_issue(iss, r, "org_unit", &e);
    if (*r->v[FEED_END_REASON] &&
        model_check_token(r->v[FEED_END_REASON], "end_reason", &e) != TN_OK)
        return err_issue(iss, r, "end_reason", &e);
    if (*r->v[FEED_MANAGER_KEY] &&
        model_check_source_key(r->v[FEED_MANAGER_KEY], "manager_key", &e) != TN_OK)
        return err_issue(iss, r, "manager_key", &e);
    if (*r->v[FEED_PASSWORD_HASH]) {
        /* Only the forms a bind can verify; anything else would lock the
         * person out silently. */
        static const char *const schemes[] = {"{SSHA}", "{SSHA256}", "{SSHA512}", "{CRYPT}$",
                                              "{ARGON2}$argon2", "$argon2id$"};
        const char *h = r->v[FEED_PASSWORD_HASH];
        bool known = false;
        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
            known |= strncmp(h, schemes[i], strlen(schemes[i])) == 0;
        if (!known)
            return issue(iss, r, "password_hash",
                         "must be {SSHA}, {SSHA256}, {SSHA512}, {CRYPT}, {ARGON2} or argon2id");
        if (strlen(h) >= 256)
            return issue(iss, r, "password_hash", "is too long");
        if (!*r->v[FEED_USERNAME])
            return issue(iss, r, "password_hash", "needs a username");
    }
    return true;
}
