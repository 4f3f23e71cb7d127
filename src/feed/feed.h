/* feed — reading a source feed (HR, student, pupil systems …) row by row.
 *
 * A feed is canonical CSV (UTF-8 with or without BOM, comma or semicolon
 * delimiter detected from the header line, quoting as RFC 4180) or JSON (a
 * top-level array of objects, or JSON lines: one object per line), or an
 * LDIF directory export when asked for (feed_open_as). Rows are
 * streamed: the reader holds one row (or one JSON object) at a time, so
 * memory does not grow with the file. Columns are named as in docs/feeds.md;
 * unknown columns are ignored.
 *
 * This module knows nothing about the registry: it parses and checks what
 * can be checked from the row alone (feed_row_check). Correlation and
 * writes are the service layer's (svc_import.c). Error reasons never echo
 * a cell's value: a cell may hold a national ID. */
#ifndef FEED_H
#define FEED_H

#include <stdbool.h>
#include <stdio.h>

#include "date.h"
#include "hetu.h"
#include "tn_err.h"

typedef enum feed_col {
    FEED_SOURCE_KEY = 0,
    FEED_NATIONAL_ID,
    FEED_GIVEN_NAMES,
    FEED_FAMILY_NAME,
    FEED_PREFERRED_NAME,
    FEED_EMAIL,
    FEED_PHONE,
    FEED_ORG_UNIT,
    FEED_TITLE,
    FEED_MANAGER_KEY,
    FEED_SCHOOL,
    FEED_CLASS,
    FEED_TEACHING_GROUPS,
    FEED_PROGRAMME,
    FEED_VALID_FROM,
    FEED_VALID_TO,
    FEED_END_REASON,
    FEED_BIRTH_DATE, /* optional: lets rows without a national ID be matched */
    FEED_USERNAME,   /* optional: a migrated directory's username, kept */
    FEED_PASSWORD_HASH, /* optional: its password hash ({SSHA} …), kept */
    FEED_NCOLS
} feed_col;

const char *feed_col_name(feed_col c);
bool feed_col_parse(const char *name, feed_col *out);

/* Largest row (all cells together) and largest JSON object accepted. */
#define FEED_ROW_MAX (256 * 1024)

typedef struct feed_row {
    long line;                /* physical line where the row starts (1-based) */
    const char *v[FEED_NCOLS]; /* never NULL: "" when absent or empty; trimmed */
    /* Set when the row could not be read as a row at all (a malformed JSON
     * object, a wrong number of CSV fields): the cells are then empty. */
    const char *error;
    const char *error_column;
} feed_row;

typedef struct feed_reader feed_reader;

/* A mapping file (docs/feeds.md): which source column (or constant) gives
 * each canonical column, and the conversions on the way (trim, case, code
 * table, Finnish date). Errors name the mapping's path and the reason. */
typedef struct feed_map feed_map;
#define FEED_MAP_SOURCES 64
tn_code feed_map_parse(const char *text, size_t len, feed_map **out, tn_err *e);
tn_code feed_map_load(const char *path, feed_map **out, tn_err *e);
void feed_map_free(feed_map *m);

/* Start reading f (borrowed; read from its current position). Detects the
 * format and, for CSV, reads the header line. */
tn_code feed_open(FILE *f, feed_reader **out, tn_err *e);
/* The same through a mapping (borrowed; NULL = canonical columns): CSV
 * headers and JSON keys are the source's own column names. */
tn_code feed_open_mapped(FILE *f, const feed_map *map, feed_reader **out, tn_err *e);
/* The format of a feed: detected (CSV or JSON), or given. LDIF (RFC 2849,
 * a directory export) is never guessed: a record becomes a row whose
 * source columns are its attribute names (feed_ldif.c). */
typedef enum feed_fmt { FEED_FMT_AUTO = 0, FEED_FMT_CSV, FEED_FMT_JSON, FEED_FMT_LDIF } feed_fmt;
/* "csv", "json", "ldif"; false for anything else. */
bool feed_fmt_parse(const char *name, feed_fmt *out);
/* feed_open_mapped with a format: CSV or JSON must then be what the file
 * holds. */
tn_code feed_open_as(FILE *f, const feed_map *map, feed_fmt fmt, feed_reader **out, tn_err *e);
/* The next row: TN_OK with *row filled (valid until the next call),
 * TN_ENOTFOUND at the end, or a file-level error (I/O, broken structure). */
tn_code feed_next(feed_reader *r, feed_row *row, tn_err *e);
void feed_close(feed_reader *r);
/* "csv", "json" or "ldif". */
const char *feed_format(const feed_reader *r);
/* Whether the file has the column (CSV: in its header; JSON: always true,
 * as every object may carry any column). */
bool feed_has_column(const feed_reader *r, feed_col c);

/* A rejected row: where and why (never the value). */
typedef struct feed_issue {
    long line;
    char column[32];
    char reason[200];
} feed_issue;

/* What feed_row_check learnt from a good row. */
typedef struct feed_checked {
    tn_date valid_from;
    tn_date valid_to;   /* TN_DATE_NONE = open */
    tn_date birth_date; /* from the national ID, else the birth_date column, else NONE */
    bool has_nid;
} feed_checked;

/* The checks that need no registry: required source key, national ID
 * checksum and date, names present, dates that exist, end not before
 * start, well-formed unit path and end reason. false with *iss filled on
 * the first problem. */
bool feed_row_check(const feed_row *r, feed_checked *out, feed_issue *iss);

#endif
