/* SQLite backend: API clients and the source addresses they have used
 * (migrations 0014, 0015). Tokens are found by their keyed hash, never stored. */
#include <string.h>

#include "store_sqlite_int.h"

#define CLIENT_COLS                                                                       \
    "SELECT id, name, role, scope_unit, allow, COALESCE(expires, ''), created_at, "       \
    "rotated_at, revoked_at, cert_sha256 FROM api_client "

static const char SQL_CL_INSERT[] =
    "INSERT INTO api_client (name, role, scope_unit, token_hash, allow, expires, created_at, "
    "rotated_at, cert_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)";
static const char SQL_CL_GET[] = CLIENT_COLS "WHERE name = ?1";
static const char SQL_CL_BY_TOKEN[] = CLIENT_COLS "WHERE token_hash = ?1";
static const char SQL_CL_LIST[] = CLIENT_COLS "ORDER BY name";
static const char SQL_CL_TOKEN[] =
    "UPDATE api_client SET token_hash = ?2, rotated_at = ?3 WHERE id = ?1";
static const char SQL_CL_CERT[] =
    "UPDATE api_client SET cert_sha256 = ?2 WHERE id = ?1";
static const char SQL_CL_REVOKE[] =
    "UPDATE api_client SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0";
static const char SQL_CL_SOURCE[] =
    "INSERT INTO api_client_source (client_id, source, first_seen) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (client_id, source) DO NOTHING";

static const char SQL_CL_KNOWN[] =
    "SELECT 1 FROM api_client_source WHERE client_id = ?1 AND source = ?2";

static bool read_client(sqlite3_stmt *st, store_api_client *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    bool ok = sq_col_str(st, 1, c->name, sizeof c->name) &&
              sq_col_str(st, 2, c->role, sizeof c->role) &&
              sq_col_str(st, 3, c->scope_unit, sizeof c->scope_unit) &&
              sq_col_str(st, 4, c->allow, sizeof c->allow) && sq_col_date(st, 5, &c->expires) &&
              sq_col_str(st, 9, c->cert_sha256, sizeof c->cert_sha256);
    c->created_at = sqlite3_column_int64(st, 6);
    c->rotated_at = sqlite3_column_int64(st, 7);
    c->revoked_at = sqlite3_column_int64(st, 8);
    return ok;
}

tn_code sq_client_insert(void *priv, store_api_client *c,
                         const unsigned char token_hash[STORE_HASH_BYTES], tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char dbuf[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_CL_INSERT, &st, &own, e)) != TN_OK)
        return code;
    if ((sq_b_text(st, 1, c->name) | sq_b_text(st, 2, c->role) | sq_b_str(st, 3, c->scope_unit) |
         sqlite3_bind_blob(st, 4, token_hash, STORE_HASH_BYTES, SQLITE_STATIC) |
         sq_b_str(st, 5, c->allow) | sq_b_date(st, 6, c->expires, dbuf) |
         sq_b_num(st, 7, c->created_at) | sq_b_str(st, 8, c->cert_sha256)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sq_step_write(st);
    if (sq_is_unique(rc))
        code = tn_err_set(e, TN_ECONFLICT, "name", "a client with this name exists");
    else if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
    else
        c->id = sqlite3_last_insert_rowid(q->db);
out:
    sq_done(st, own);
    return code;
}

static tn_code get_one(sq *q, const char *sql, const char *name, const unsigned char *hash,
                       store_api_client *out, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        return code;
    int b = name ? sq_b_text(st, 1, name)
                 : sqlite3_bind_blob(st, 1, hash, STORE_HASH_BYTES, SQLITE_STATIC);
    if (b != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "client", "no such client");
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!read_client(st, out))
        code = sq_corrupt("api_client", e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_client_get(void *priv, const char *name, store_api_client *out, tn_err *e)
{
    return get_one(priv, SQL_CL_GET, name, NULL, out, e);
}

tn_code sq_client_get_by_token(void *priv, const unsigned char token_hash[STORE_HASH_BYTES],
                               store_api_client *out, tn_err *e)
{
    return get_one(priv, SQL_CL_BY_TOKEN, NULL, token_hash, out, e);
}

tn_code sq_client_list(void *priv, store_client_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_CL_LIST, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_api_client c;
        if (!read_client(st, &c)) {
            code = sq_corrupt("api_client", e);
            goto out;
        }
        if (cb(&c, ctx))
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

static tn_code write_one(sq *q, const char *sql, int64_t id, const unsigned char *hash,
                         int64_t now_us, const char *source, bool *changed, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, sql, &st, &own, e)) != TN_OK)
        return code;
    int b = sq_b_num(st, 1, id);
    if (source)
        b |= sq_b_text(st, 2, source) | sq_b_num(st, 3, now_us);
    else if (hash)
        b |= sqlite3_bind_blob(st, 2, hash, STORE_HASH_BYTES, SQLITE_STATIC) |
             sq_b_num(st, 3, now_us);
    else
        b |= sq_b_num(st, 2, now_us);
    if (b != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
    else if (changed)
        *changed = sqlite3_changes(q->db) > 0;
out:
    sq_done(st, own);
    return code;
}

tn_code sq_client_set_token(void *priv, int64_t id, const unsigned char token_hash[STORE_HASH_BYTES],
                            int64_t now_us, tn_err *e)
{
    return write_one(priv, SQL_CL_TOKEN, id, token_hash, now_us, NULL, NULL, e);
}

tn_code sq_client_set_cert(void *priv, int64_t id, const char *cert_sha256, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_CL_CERT, &st, &own, e)) != TN_OK)
        return code;
    if ((sq_b_num(st, 1, id) | sq_b_str(st, 2, cert_sha256)) != SQLITE_OK) {
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

tn_code sq_client_revoke(void *priv, int64_t id, int64_t now_us, tn_err *e)
{
    return write_one(priv, SQL_CL_REVOKE, id, NULL, now_us, NULL, NULL, e);
}

tn_code sq_client_source_seen(void *priv, int64_t id, const char *source, int64_t now_us,
                              bool *is_new, tn_err *e)
{
    return write_one(priv, SQL_CL_SOURCE, id, NULL, now_us, source, is_new, e);
}

tn_code sq_client_source_known(void *priv, int64_t id, const char *source, bool *known,
                               tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    *known = false;
    tn_code code = sq_prep_sql(q, SQL_CL_KNOWN, &st, &own, e);
    if (code != TN_OK)
        return code;
    if ((sq_b_num(st, 1, id) | sq_b_text(st, 2, source)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *known = true;
    else if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}
