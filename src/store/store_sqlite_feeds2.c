/* SQLite backend: the second round of source feeds (the lookups that make
 * an import cheap, the sources registry). */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "tn_mem.h"

tn_code sq_aff_list_by_source_key(void *priv, const char *source, const char *key,
                                  affiliation **out, size_t *n, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    affiliation *arr = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    *n = 0;
    tn_code code = sq_prep_sql(q, SQ_AFF_LIST_BY_SOURCE_KEY, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sq_b_text(st, 1, source) | sq_b_text(st, 2, key)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4;
            arr = tn_realloc(arr, cap * sizeof *arr);
        }
        if (!sq_read_aff(st, &arr[len])) {
            code = sq_corrupt("affiliation", e);
            goto out;
        }
        len++;
    }
    if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL;
out:
    free(arr);
    sq_done(st, own);
    return code;
}

/* ---- the sources registry ------------------------------------------------ */

static const char SQL_SOURCE_GET[] =
    "SELECT name, kind, owns, precedence, require_known_units, created_at, updated_at "
    "FROM source WHERE name = ?1";
static const char SQL_SOURCE_LIST[] =
    "SELECT name, kind, owns, precedence, require_known_units, created_at, updated_at "
    "FROM source ORDER BY name";
static const char SQL_SOURCE_PUT[] =
    "INSERT INTO source (name, kind, owns, precedence, require_known_units, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (name) DO UPDATE SET "
    "kind = ?2, owns = ?3, precedence = ?4, require_known_units = ?5, updated_at = ?6";

static bool read_source(sqlite3_stmt *st, store_source *o)
{
    memset(o, 0, sizeof *o);
    o->precedence = sqlite3_column_int64(st, 3);
    o->require_known_units = sqlite3_column_int(st, 4) != 0;
    o->created_at = sqlite3_column_int64(st, 5);
    o->updated_at = sqlite3_column_int64(st, 6);
    return sq_col_str(st, 0, o->name, sizeof o->name) &&
           sq_col_str(st, 1, o->kind, sizeof o->kind) &&
           sq_col_str(st, 2, o->owns, sizeof o->owns);
}

tn_code sq_source_put(void *priv, const store_source *src, store_source *old, bool *had,
                      tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    *had = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_SOURCE_GET, &st, &own, e)) != TN_OK)
        goto out;
    if (sq_b_str(st, 1, src->name) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (!read_source(st, old)) {
            code = sq_corrupt("source", e);
            goto out;
        }
        *had = true;
    } else if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    sq_done(st, own);
    st = NULL;
    if ((code = sq_prep_sql(q, SQL_SOURCE_PUT, &st, &own, e)) != TN_OK)
        goto out;
    if ((sq_b_str(st, 1, src->name) | sq_b_str(st, 2, src->kind) | sq_b_text(st, 3, src->owns) |
         sqlite3_bind_int64(st, 4, src->precedence) |
         sqlite3_bind_int(st, 5, src->require_known_units ? 1 : 0) |
         sqlite3_bind_int64(st, 6, src->updated_at)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((rc = sq_step_write(st)) != SQLITE_OK)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_source_list(void *priv, store_source_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_SOURCE_LIST, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_source s;
        if (!read_source(st, &s)) {
            code = sq_corrupt("source", e);
            goto out;
        }
        if (cb(&s, ctx))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}
