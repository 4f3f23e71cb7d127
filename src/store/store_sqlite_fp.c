/* SQLite backend: import fingerprints (migration 0008), the probe that
 * lets an unchanged feed row be skipped. */
#include <string.h>

#include "store_sqlite_int.h"

static const char SQL_FP_GET[] =
    "SELECT fp, until FROM import_fp WHERE source = ?1 AND source_key = ?2";
static const char SQL_FP_PUT[] =
    "INSERT INTO import_fp (source, source_key, fp, until) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (source, source_key) DO UPDATE SET fp = ?3, until = ?4";

tn_code sq_import_fp_get(void *priv, const char *source, const char *key,
                         unsigned char fp[STORE_HASH_BYTES], tn_date *until, bool *found,
                         tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    *found = false;
    tn_code code = sq_prep_sql(q, SQL_FP_GET, &st, &own, e);
    if (code != TN_OK)
        return code;
    if ((sq_b_text(st, 1, source) | sq_b_text(st, 2, key)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != STORE_HASH_BYTES || !sq_col_date(st, 1, until)) {
            code = sq_corrupt("import_fp", e);
            goto out;
        }
        memcpy(fp, sqlite3_column_blob(st, 0), STORE_HASH_BYTES);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
    }
out:
    sq_done(st, own);
    return code;
}

tn_code sq_import_fp_put(void *priv, const char *source, const char *key,
                         const unsigned char fp[STORE_HASH_BYTES], tn_date until, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char ubuf[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_FP_PUT, &st, &own, e)) != TN_OK)
        return code;
    if ((sq_b_text(st, 1, source) | sq_b_text(st, 2, key) |
         sqlite3_bind_blob(st, 3, fp, STORE_HASH_BYTES, SQLITE_STATIC) |
         sq_b_date(st, 4, until, ubuf)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}
