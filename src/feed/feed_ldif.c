/* LDIF (RFC 2849) content records as feed rows: one record (an entry of an
 * OpenLDAP, eDirectory or Active Directory export) becomes one row whose
 * source columns are the attribute descriptions, lower-cased.
 *
 * libldap's ldif_read_record is not used: it follows "include:" lines and
 * "attr:< URL" values, so a foreign export could make the import read local
 * files; it grows a record without bound; and it reports no line numbers
 * per record or attribute. This reader streams logical lines (folding
 * undone, comments dropped) with a ceiling, and decodes base64 with
 * libsodium. Only the attributes the mapping names are kept, so binary
 * attributes (jpegPhoto, objectGUID …) are skipped unchecked; a kept value
 * must be UTF-8. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed_int.h"
#include "name.h"
#include "tn_mem.h"
#include "tn_str.h"

#define SLOTS FEED_MAP_SOURCES
_Static_assert(FEED_NCOLS <= SLOTS, "a slot per canonical column");

struct ldif_reader {
    FILE *f;
    const feed_map *map; /* NULL: attributes named as the canonical columns */
    bool join[SLOTS];    /* slot whose values are all kept, ';'-joined */
    long lineno;         /* physical lines consumed */
    bool eof;
    bool seen_record;
    /* the current logical line */
    tn_buf line;
    long line_start;
    bool line_unterminated; /* the file ended inside it */
    /* the current record's kept values: slot byte, then the value, NUL */
    tn_buf vals;
    tn_buf b64;
    tn_buf cells;
    tn_buf mapped;
    const char *error;
    const char *error_column;
    char err_text[96];
    char err_col[64];
};

/* Read one logical line into r->line: a physical line plus the lines that
 * continue it (starting with one space, which is dropped), without the
 * line end (LF or CRLF). false at the end of the file. */
static bool read_line(ldif_reader *r)
{
    tn_buf_reset(&r->line);
    r->line_unterminated = false;
    if (r->eof)
        return false;
    int c = getc_unlocked(r->f);
    if (c == EOF) {
        r->eof = true;
        return false;
    }
    r->line_start = r->lineno + 1;
    for (;;) {
        if (c == EOF) {
            r->eof = true;
            r->line_unterminated = true;
            r->lineno++;
            return true;
        }
        if (c == '\n') {
            r->lineno++;
            if (r->line.len && r->line.data[r->line.len - 1] == '\r')
                r->line.data[--r->line.len] = '\0';
            int n = getc_unlocked(r->f);
            if (n == ' ') { /* a folded line continues this one */
                c = getc_unlocked(r->f);
                continue;
            }
            if (n == EOF)
                r->eof = true;
            else
                ungetc(n, r->f);
            return true;
        }
        tn_buf_putc(&r->line, (char)c); /* past the ceiling: toobig, checked later */
        c = getc_unlocked(r->f);
    }
}

static void rec_error(ldif_reader *r, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void rec_error(ldif_reader *r, const char *col, const char *fmt, ...)
{
    if (r->error)
        return; /* the first problem is the one reported */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err_text, sizeof r->err_text, fmt, ap);
    va_end(ap);
    r->error = r->err_text;
    if (col) {
        tn_strlcpyn(r->err_col, col, strlen(col), sizeof r->err_col);
        r->error_column = r->err_col;
    } else {
        r->error_column = NULL;
    }
}

/* The slot of an attribute description (lower-cased), -1 = not kept. */
static int slot_of(const ldif_reader *r, const char *lower)
{
    if (r->map)
        return feed_map_source_index(r->map, lower);
    feed_col c;
    return feed_col_parse(lower, &c) ? (int)c : -1;
}

/* One "attr: value" / "attr:: base64" / "attr:< url" line of a record. */
static void attr_line(ldif_reader *r, bool first)
{
    long ln = r->line_start;
    if (r->line.toobig) {
        rec_error(r, NULL, "line %ld is longer than the limit", ln);
        return;
    }
    char *s = r->line.data;
    if (memchr(s, '\0', r->line.len)) {
        rec_error(r, NULL, "line %ld has a NUL byte", ln);
        return;
    }
    char *colon = strchr(s, ':');
    if (!colon || colon == s) {
        rec_error(r, NULL, "line %ld is not an attribute line (name: value)", ln);
        return;
    }
    *colon = '\0';
    char name[64];
    if (!tn_strlcpy(name, s, sizeof name)) {
        rec_error(r, NULL, "line %ld: the attribute name is too long", ln);
        return;
    }
    for (char *p = name; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
        else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                   *p == ';' || *p == '.' || *p == '_')) {
            rec_error(r, NULL, "line %ld: the attribute name has a character not allowed", ln);
            return;
        }
    }
    if (first && strcmp(name, "dn") != 0) {
        rec_error(r, NULL, "line %ld: a record must start with dn:", ln);
        return;
    }
    if (!first && strcmp(name, "dn") == 0) {
        rec_error(r, "dn", "line %ld: a second dn: in one record", ln);
        return;
    }
    char *v = colon + 1;
    bool b64 = false;
    if (*v == ':') {
        b64 = true;
        v++;
    } else if (*v == '<') {
        rec_error(r, name, "line %ld: URL values (:<) are not read", ln);
        return;
    }
    while (*v == ' ')
        v++;
    if (strcmp(name, "changetype") == 0) {
        if (strcmp(v, "add") != 0)
            rec_error(r, name, "line %ld: a change record, not an entry", ln);
        return;
    }
    int slot = slot_of(r, name);
    if (slot < 0)
        return; /* an attribute nobody asked for, e.g. a binary photo */
    size_t n = strlen(v);
    if (b64) {
        size_t cap = n / 4 * 3 + 3, out = 0;
        if (cap > FEED_ROW_MAX) {
            rec_error(r, name, "line %ld: the value is larger than the limit", ln);
            return;
        }
        tn_buf_reset(&r->b64);
        char *bin = tn_malloc(cap + 1);
        const char *end = NULL;
        int bad = sodium_base642bin((unsigned char *)bin, cap, v, n, " ", &out, &end,
                                    sodium_base64_VARIANT_ORIGINAL);
        if (bad != 0 || (end && *end)) {
            free(bin);
            rec_error(r, name, "line %ld: the value is not valid base64", ln);
            return;
        }
        tn_buf_append(&r->b64, bin, out);
        free(bin);
        v = r->b64.data ? r->b64.data : "";
        n = out;
    }
    if (n == 0)
        return; /* an empty value is no value: a later one may count */
    if (memchr(v, '\0', n) || !utf8_valid(v, n, NULL)) {
        rec_error(r, name, "line %ld: the value is not valid UTF-8", ln);
        return;
    }
    tn_buf_putc(&r->vals, (char)slot);
    tn_buf_append(&r->vals, v, n);
    tn_buf_putc(&r->vals, '\0');
}

/* The record's cells from its kept values: the first value of each
 * attribute, or all of them joined with ';' for a teaching_groups-like
 * column. */
static void build_row(ldif_reader *r, feed_row *row, long rec_line)
{
    memset(row, 0, sizeof *row);
    row->line = rec_line;
    for (int i = 0; i < FEED_NCOLS; i++)
        row->v[i] = "";
    if (r->vals.toobig && !r->error)
        r->error = "record is larger than the limit";
    if (r->error) {
        row->error = r->error;
        row->error_column = r->error_column;
        return;
    }
    int nslots = r->map ? feed_map_nsources(r->map) : FEED_NCOLS;
    size_t off[SLOTS];
    bool set[SLOTS];
    tn_buf_reset(&r->cells);
    for (int s = 0; s < nslots; s++) {
        set[s] = false;
        if (!r->vals.data)
            continue;
        const char *p = r->vals.data, *end = r->vals.data + r->vals.len;
        while (p < end) {
            int slot = (unsigned char)*p;
            const char *val = p + 1;
            size_t vn = strlen(val);
            p = val + vn + 1;
            if (slot != s)
                continue;
            if (!set[s]) {
                off[s] = r->cells.len;
                set[s] = true;
            } else if (r->join[s]) {
                r->cells.len--; /* drop the terminator to append */
                tn_buf_putc(&r->cells, ';');
            } else {
                continue;
            }
            tn_buf_append(&r->cells, val, vn);
            tn_buf_putc(&r->cells, '\0');
        }
    }
    if (r->cells.toobig) {
        row->error = "record is larger than the limit";
        return;
    }
    if (!r->map) {
        for (int i = 0; i < FEED_NCOLS; i++)
            if (set[i])
                row->v[i] = tn_trim(r->cells.data + off[i]);
        return;
    }
    const char *raw[SLOTS];
    for (int s = 0; s < nslots; s++)
        raw[s] = set[s] ? tn_trim(r->cells.data + off[s]) : NULL;
    size_t moff[FEED_NCOLS];
    bool mset[FEED_NCOLS];
    const char *err = NULL, *errcol = NULL;
    tn_buf_reset(&r->mapped);
    if (!feed_map_apply(r->map, raw, &r->mapped, moff, mset, &err, &errcol)) {
        row->error = err;
        row->error_column = errcol;
        return;
    }
    for (int i = 0; i < FEED_NCOLS; i++)
        if (mset[i])
            row->v[i] = tn_trim(r->mapped.data + moff[i]);
}

tn_code ldif_next(ldif_reader *r, feed_row *row, tn_err *e)
{
    /* Skip separators and comments up to the record's first line. */
    for (;;) {
        if (!read_line(r))
            return TN_ENOTFOUND;
        if (r->line.len == 0 && !r->line.toobig)
            continue;
        if (r->line.data[0] == '#')
            continue;
        if (!r->seen_record && strncasecmp(r->line.data, "version:", 8) == 0) {
            r->seen_record = true;
            const char *v = r->line.data + 8;
            while (*v == ' ')
                v++;
            if (*v != '1' || v[1 + strspn(v + 1, " ")] != '\0')
                return tn_err_set(e, TN_EINVAL, "version",
                                  "line %ld: only LDIF version 1 is read", r->line_start);
            continue;
        }
        break;
    }
    r->seen_record = true;
    long rec_line = r->line_start;
    r->error = NULL;
    r->error_column = NULL;
    tn_buf_reset(&r->vals);
    bool first = true;
    for (;;) {
        if (r->line.len && r->line.data[0] != '#') {
            if (r->line_unterminated)
                rec_error(r, NULL, "line %ld: the file ends inside the line (truncated?)",
                          r->line_start);
            attr_line(r, first);
            first = false;
        }
        if (!read_line(r) || (r->line.len == 0 && !r->line.toobig))
            break;
    }
    build_row(r, row, rec_line);
    return TN_OK;
}

tn_code ldif_open(FILE *f, const feed_map *map, ldif_reader **out, tn_err *e)
{
    if (sodium_init() < 0)
        return tn_err_set(e, TN_EINTERNAL, NULL, "cannot start libsodium");
    ldif_reader *r = tn_calloc(1, sizeof *r);
    r->f = f;
    r->map = map;
    tn_buf_init(&r->line, FEED_ROW_MAX);
    tn_buf_init(&r->vals, FEED_ROW_MAX);
    tn_buf_init(&r->b64, FEED_ROW_MAX);
    tn_buf_init(&r->cells, FEED_ROW_MAX);
    tn_buf_init(&r->mapped, FEED_ROW_MAX);
    if (map) {
        for (int s = 0; s < feed_map_nsources(map); s++)
            r->join[s] = feed_map_source_feeds(map, s, FEED_TEACHING_GROUPS);
        if (!feed_map_has(map, FEED_SOURCE_KEY)) {
            ldif_close(r);
            return tn_err_set(e, TN_EINVAL, "mapping", "source_key must be mapped");
        }
    } else {
        r->join[FEED_TEACHING_GROUPS] = true;
    }
    /* An empty file is refused as with the other formats; a byte order
     * mark is skipped. */
    int c0 = getc(f);
    if (c0 == 0xEF) {
        int c1 = getc(f), c2 = getc(f);
        if (c1 != 0xBB || c2 != 0xBF) {
            ldif_close(r);
            return tn_err_set(e, TN_EINVAL, NULL, "the file starts with a broken byte order mark");
        }
        c0 = getc(f);
    }
    if (c0 == EOF) {
        ldif_close(r);
        return tn_err_set(e, TN_EINVAL, NULL, "the file is empty");
    }
    ungetc(c0, f);
    *out = r;
    return TN_OK;
}

void ldif_close(ldif_reader *r)
{
    if (!r)
        return;
    tn_buf_free(&r->line);
    tn_buf_free(&r->vals);
    tn_buf_free(&r->b64);
    tn_buf_free(&r->cells);
    tn_buf_free(&r->mapped);
    free(r);
}
