/* Mapping files: how a source system's own export becomes canonical feed
 * rows (docs/feeds.md, "Mapping files"). Parsed with jansson once; applied
 * to every row by feed.c through feed_int.h. Conversions run in a fixed
 * order (trim, case, codes, date) so that a mapping reads the same way
 * whatever order its keys are written in. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed_int.h"
#include "tn_mem.h"
#include "tn_str.h"

#define MAP_TEXT_MAX (1024 * 1024)

typedef enum map_case { CASE_KEEP = 0, CASE_UPPER, CASE_LOWER } map_case;
typedef enum map_unknown { UNKNOWN_REJECT = 0, UNKNOWN_KEEP, UNKNOWN_EMPTY } map_unknown;

typedef struct map_code {
    char *from;
    char *to;
} map_code;

typedef struct map_col {
    bool used;
    int source;        /* index into sources, -1 = constant */
    char *constant;
    bool trim;
    map_case case_;
    bool fi_date;
    map_code *codes;
    size_t ncodes;
    map_unknown unknown;
} map_col;

struct feed_map {
    map_col col[FEED_NCOLS];
    char *sources[FEED_MAP_SOURCES]; /* lower-cased source column names */
    int nsources;
};

void feed_map_free(feed_map *m)
{
    if (!m)
        return;
    for (int i = 0; i < FEED_NCOLS; i++) {
        free(m->col[i].constant);
        for (size_t k = 0; k < m->col[i].ncodes; k++) {
            free(m->col[i].codes[k].from);
            free(m->col[i].codes[k].to);
        }
        free(m->col[i].codes);
    }
    for (int i = 0; i < m->nsources; i++)
        free(m->sources[i]);
    free(m);
}

static void ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

int feed_map_source_index(const feed_map *m, const char *lower_name)
{
    for (int i = 0; i < m->nsources; i++)
        if (strcmp(m->sources[i], lower_name) == 0)
            return i;
    return -1;
}

int feed_map_nsources(const feed_map *m)
{
    return m->nsources;
}

const char *feed_map_source_name(const feed_map *m, int i)
{
    return m->sources[i];
}

bool feed_map_has(const feed_map *m, feed_col c)
{
    return m->col[c].used;
}

bool feed_map_source_feeds(const feed_map *m, int source, feed_col c)
{
    return m->col[c].used && m->col[c].source == source;
}

static tn_code bad(tn_err *e, const char *path, const char *reason)
{
    return tn_err_set(e, TN_EINVAL, "mapping", "%s: %s", path, reason);
}

static tn_code add_source(feed_map *m, const char *name, const char *path, int *out, tn_err *e)
{
    char lower[128];
    if (!*name)
        return bad(e, path, "the source column name is empty");
    if (!tn_strlcpy(lower, name, sizeof lower))
        return bad(e, path, "the source column name is longer than 127 bytes");
    ascii_lower(lower);
    int i = feed_map_source_index(m, lower);
    if (i < 0) {
        if (m->nsources == FEED_MAP_SOURCES)
            return bad(e, path, "more than 64 source columns");
        i = m->nsources++;
        m->sources[i] = tn_strdup(lower);
    }
    *out = i;
    return TN_OK;
}

static tn_code parse_codes(map_col *c, json_t *codes, const char *path, tn_err *e)
{
    if (!json_is_object(codes))
        return bad(e, path, "codes must be an object of source code to value");
    c->codes = tn_calloc(json_object_size(codes) + 1, sizeof *c->codes);
    const char *k;
    json_t *v;
    json_object_foreach(codes, k, v) {
        if (!json_is_string(v))
            return tn_err_set(e, TN_EINVAL, "mapping", "%s.codes.%s: must be a string", path, k);
        c->codes[c->ncodes].from = tn_strdup(k);
        c->codes[c->ncodes].to = tn_strdup(json_string_value(v));
        c->ncodes++;
    }
    return TN_OK;
}

static tn_code parse_column(feed_map *m, feed_col cc, json_t *spec, tn_err *e)
{
    char path[96];
    snprintf(path, sizeof path, "columns.%s", feed_col_name(cc));
    map_col *c = &m->col[cc];
    c->used = true;
    c->source = -1;
    if (json_is_string(spec))
        return add_source(m, json_string_value(spec), path, &c->source, e);
    if (!json_is_object(spec))
        return bad(e, path, "must be a source column name or an object");
    json_t *from = NULL, *value = NULL;
    const char *k;
    json_t *v;
    tn_code rc;
    json_object_foreach(spec, k, v) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s.%s", path, k);
        if (strcmp(k, "from") == 0) {
            if (!json_is_string(v))
                return bad(e, sub, "must be a source column name");
            from = v;
        } else if (strcmp(k, "value") == 0) {
            if (!json_is_string(v))
                return bad(e, sub, "must be a string");
            value = v;
        } else if (strcmp(k, "trim") == 0) {
            if (!json_is_boolean(v))
                return bad(e, sub, "must be true or false");
            c->trim = json_is_true(v);
        } else if (strcmp(k, "case") == 0) {
            const char *s = json_string_value(v);
            if (s && strcmp(s, "upper") == 0)
                c->case_ = CASE_UPPER;
            else if (s && strcmp(s, "lower") == 0)
                c->case_ = CASE_LOWER;
            else
                return bad(e, sub, "must be \"upper\" or \"lower\"");
        } else if (strcmp(k, "date") == 0) {
            const char *s = json_string_value(v);
            if (s && strcmp(s, "fi") == 0)
                c->fi_date = true;
            else if (!s || strcmp(s, "iso") != 0)
                return bad(e, sub, "must be \"fi\" (D.M.YYYY) or \"iso\"");
        } else if (strcmp(k, "codes") == 0) {
            if ((rc = parse_codes(c, v, path, e)) != TN_OK)
                return rc;
        } else if (strcmp(k, "unknown_code") == 0) {
            const char *s = json_string_value(v);
            if (s && strcmp(s, "reject") == 0)
                c->unknown = UNKNOWN_REJECT;
            else if (s && strcmp(s, "keep") == 0)
                c->unknown = UNKNOWN_KEEP;
            else if (s && strcmp(s, "empty") == 0)
                c->unknown = UNKNOWN_EMPTY;
            else
                return bad(e, sub, "must be \"reject\", \"keep\" or \"empty\"");
        } else {
            return bad(e, sub, "unknown option (from, value, trim, case, date, codes, "
                               "unknown_code)");
        }
    }
    if (!from == !value)
        return bad(e, path, "needs exactly one of \"from\" (a source column) and \"value\" "
                            "(a constant)");
    if (value) {
        c->constant = tn_strdup(json_string_value(value));
        return TN_OK;
    }
    return add_source(m, json_string_value(from), path, &c->source, e);
}

tn_code feed_map_parse(const char *text, size_t len, feed_map **out, tn_err *e)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    feed_map *m = NULL;
    tn_code rc = TN_OK;
    if (!root) {
        rc = tn_err_set(e, TN_EINVAL, "mapping", "line %d, column %d: %s", jerr.line,
                        jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = bad(e, "(top)", "must be an object");
        goto out;
    }
    m = tn_calloc(1, sizeof *m);
    json_t *cols = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (strcmp(k, "columns") == 0) {
            cols = v;
        } else if (strcmp(k, "description") == 0) {
            if (!json_is_string(v)) {
                rc = bad(e, "description", "must be a string");
                goto out;
            }
        } else {
            rc = tn_err_set(e, TN_EINVAL, "mapping", "%s: unknown key (columns, description)", k);
            goto out;
        }
    }
    if (!json_is_object(cols)) {
        rc = bad(e, "columns", "is required: an object of canonical column to its source");
        goto out;
    }
    json_object_foreach(cols, k, v) {
        feed_col c;
        if (!feed_col_parse(k, &c)) {
            rc = tn_err_set(e, TN_EINVAL, "mapping",
                            "columns.%s: not a canonical column (see docs/feeds.md)", k);
            goto out;
        }
        if ((rc = parse_column(m, c, v, e)) != TN_OK)
            goto out;
    }
    if (!m->col[FEED_SOURCE_KEY].used) {
        rc = bad(e, "columns.source_key", "is required");
        goto out;
    }
out:
    json_decref(root);
    if (rc != TN_OK) {
        feed_map_free(m);
        return rc;
    }
    *out = m;
    return TN_OK;
}

tn_code feed_map_load(const char *path, feed_map **out, tn_err *e)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tn_err_set(e, TN_EIO, "mapping", "cannot open %s", path);
    char *buf = tn_malloc(MAP_TEXT_MAX + 1);
    size_t n = fread(buf, 1, MAP_TEXT_MAX + 1, f);
    tn_code rc;
    if (ferror(f))
        rc = tn_err_set(e, TN_EIO, "mapping", "cannot read %s", path);
    else if (n > MAP_TEXT_MAX)
        rc = tn_err_set(e, TN_EINVAL, "mapping", "%s is larger than 1 MiB", path);
    else
        rc = feed_map_parse(buf, n, out, e);
    free(buf);
    fclose(f);
    return rc;
}

/* ---- conversions --------------------------------------------------------- */

/* Whitespace runs (also no-break spaces, U+00A0) become one space. */
static void collapse_space(tn_buf *b, size_t start)
{
    char *s = b->data + start, *w = s;
    bool space = false;
    for (char *p = s; *p; p++) {
        bool sp = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
        if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0) {
            sp = true;
            p++;
        }
        if (sp) {
            space = w != s;
            continue;
        }
        if (space)
            *w++ = ' ';
        space = false;
        *w++ = *p;
    }
    *w = '\0';
    b->len = (size_t)(w - b->data);
}

/* ASCII and the Latin-1 letters (å, ä, ö, é …: U+00C0..U+00FE, two bytes
 * in UTF-8), which cover Finnish and Swedish names and codes. */
static void change_case(char *s, map_case c)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++) {
        if (c == CASE_UPPER && *p >= 'a' && *p <= 'z')
            *p = (unsigned char)(*p - 32);
        else if (c == CASE_LOWER && *p >= 'A' && *p <= 'Z')
            *p = (unsigned char)(*p + 32);
        else if (*p == 0xC3 && p[1]) {
            unsigned char n = p[1];
            if (c == CASE_UPPER && n >= 0xA0 && n <= 0xBE && n != 0xB7)
                p[1] = (unsigned char)(n - 0x20);
            else if (c == CASE_LOWER && n >= 0x80 && n <= 0x9E && n != 0x97)
                p[1] = (unsigned char)(n + 0x20);
            p++;
        }
    }
}

/* D.M.YYYY (day and month one or two digits) to YYYY-MM-DD. */
static bool fi_date(const char *s, char out[DATE_ISO_LEN])
{
    int part[3] = {0, 0, 0}, digits[3] = {0, 0, 0}, i = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (++i > 2)
                return false;
        } else if (*p >= '0' && *p <= '9') {
            if (++digits[i] > 4)
                return false;
            part[i] = part[i] * 10 + (*p - '0');
        } else {
            return false;
        }
    }
    if (i != 2 || digits[0] < 1 || digits[0] > 2 || digits[1] < 1 || digits[1] > 2 ||
        digits[2] != 4 || !date_valid_ymd(part[2], part[1], part[0]))
        return false;
    date_format(date_from_ymd(part[2], part[1], part[0]), out);
    return true;
}

bool feed_map_apply(const feed_map *m, const char *const *raw, tn_buf *out,
                    size_t off[FEED_NCOLS], bool set[FEED_NCOLS], const char **err,
                    const char **errcol)
{
    tn_buf_reset(out);
    for (int i = 0; i < FEED_NCOLS; i++) {
        const map_col *c = &m->col[i];
        set[i] = false;
        if (!c->used)
            continue;
        const char *v = c->source < 0 ? c->constant : raw[c->source];
        if (!v)
            continue; /* a JSON object without the key */
        size_t start = out->len;
        tn_buf_puts(out, v);
        tn_buf_putc(out, '\0');
        out->len--; /* keep the NUL, let conversions see a C string */
        if (out->toobig)
            break;
        if (c->trim)
            collapse_space(out, start);
        if (c->case_ != CASE_KEEP)
            change_case(out->data + start, c->case_);
        if (c->ncodes && out->data[start]) {
            const char *to = NULL;
            for (size_t k = 0; k < c->ncodes && !to; k++)
                if (strcmp(c->codes[k].from, out->data + start) == 0)
                    to = c->codes[k].to;
            if (!to && c->unknown == UNKNOWN_REJECT) {
                *err = "is not in the mapping's code table";
                *errcol = feed_col_name((feed_col)i);
                return false;
            }
            if (!to && c->unknown == UNKNOWN_EMPTY)
                to = "";
            if (to) {
                out->len = start;
                tn_buf_puts(out, to);
            }
        }
        if (c->fi_date && out->data[start]) {
            char iso[DATE_ISO_LEN];
            if (!fi_date(out->data + start, iso)) {
                *err = "is not a date D.M.YYYY (day.month.year)";
                *errcol = feed_col_name((feed_col)i);
                return false;
            }
            out->len = start;
            tn_buf_puts(out, iso);
        }
        tn_buf_putc(out, '\0');
        off[i] = start;
        set[i] = true;
    }
    if (out->toobig) {
        *err = "row is larger than the limit";
        *errcol = NULL;
        return false;
    }
    return true;
}
