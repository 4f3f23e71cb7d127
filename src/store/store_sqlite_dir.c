/* SQLite backend: the LDAP directory's reads (one joined row per account),
 * passwords and the failed-bind counters. */
#include <stdio.h>
#include <string.h>

#include "store_sqlite_int.h"

#define DIR_COLS                                                                           \
    "SELECT a.id, a.username, COALESCE(a.email, ''), a.state, d.uid_number, p.id, p.number, " \
    "p.given_names, p.family_name, p.preferred_name, p.phone, p.language, "                 \
    "(SELECT group_concat(f.kind || char(31) || COALESCE(f.org_unit, '') || char(31) || "   \
    "f.title, char(30)) FROM affiliation f WHERE f.person_num = p.number "                  \
    "AND f.valid_from <= ?2 AND (f.valid_to IS NULL OR f.valid_to >= ?2)) "                 \
    "FROM account a JOIN person p ON p.number = a.person_num "                              \
    "JOIN dir_posix d ON d.account_id = a.id "

static const char SQL_DIR_GET[] = DIR_COLS "WHERE a.username = ?1";
static const char SQL_DIR_SCAN[] = DIR_COLS "WHERE a.id > ?1 ORDER BY a.id LIMIT ?3";
static const char SQL_AUTH_GET[] =
    "SELECT a.id, a.state, COALESCE(a.owner_id, ''), COALESCE(a.password_hash, ''), "
    "COALESCE(b.failures, 0), COALESCE(b.locked_until, 0) "
    "FROM account a LEFT JOIN dir_bind_fail b ON b.account_id = a.id WHERE a.username = ?1";
static const char SQL_FAIL_BUMP[] =
    "INSERT INTO dir_bind_fail (account_id, failures, last_at, locked_until) VALUES (?1, 1, ?2, 0) "
    "ON CONFLICT (account_id) DO UPDATE SET failures = failures + 1, last_at = ?2 "
    "RETURNING failures";
static const char SQL_FAIL_LOCK[] =
    "UPDATE dir_bind_fail SET locked_until = ?2 WHERE account_id = ?1";
static const char SQL_FAIL_RESET[] = "DELETE FROM dir_bind_fail WHERE account_id = ?1";
static const char SQL_SET_PW[] =
    "UPDATE account SET password_hash = ?2, updated_at = ?3 WHERE username = ?1";

static bool read_dir_row(sqlite3_stmt *st, store_dir_row *r)
{
    char state[STATE_BUFSZ];
    memset(r, 0, sizeof *r);
    r->account_id = sqlite3_column_int64(st, 0);
    r->uid_number = sqlite3_column_int64(st, 4);
    r->person_number = sqlite3_column_int64(st, 6);
    if (!sq_col_str(st, 1, r->username, sizeof r->username) ||
        !sq_col_str(st, 2, r->mail, sizeof r->mail) || !sq_col_str(st, 3, state, sizeof state) ||
        !account_state_parse(state, &r->state) ||
        !sq_col_str(st, 5, r->person_id, sizeof r->person_id) ||
        !sq_col_str(st, 7, r->given_names, sizeof r->given_names) ||
        !sq_col_str(st, 8, r->family_name, sizeof r->family_name) ||
        !sq_col_str(st, 9, r->preferred_name, sizeof r->preferred_name) ||
        !sq_col_str(st, 10, r->phone, sizeof r->phone) ||
        !sq_col_str(st, 11, r->language, sizeof r->language))
        return false;
    /* A person with very many affiliations in force is cut at a record
     * boundary rather than refused: the directory shows the first ones. */
    const unsigned char *affs = sqlite3_column_text(st, 12);
    if (affs) {
        size_t n = (size_t)sqlite3_column_bytes(st, 12);
        if (n >= sizeof r->affs) {
            n = sizeof r->affs - 1;
            while (n > 0 && affs[n] != 0x1e)
                n--;
        }
        memcpy(r->affs, affs, n);
        r->affs[n] = '\0';
    }
    return true;
}

tn_code sq_dir_get(void *priv, const char *username, tn_date today, store_dir_row *out,
                   tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char dbuf[DATE_ISO_LEN];
    tn_code code = sq_prep_sql(q, SQL_DIR_GET, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sq_b_text(st, 1, username) | sq_b_date(st, 2, today, dbuf)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "uid", "no such entry");
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!read_dir_row(st, out))
        code = sq_corrupt("account", e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_dir_scan(void *priv, tn_date today, int64_t after_account_id, int64_t limit,
                    store_dir_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char dbuf[DATE_ISO_LEN];
    store_dir_row row;
    tn_code code = sq_prep_sql(q, SQL_DIR_SCAN, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sqlite3_bind_int64(st, 1, after_account_id) | sq_b_date(st, 2, today, dbuf) |
         sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!read_dir_row(st, &row)) {
            code = sq_corrupt("account", e);
            goto out;
        }
        if (cb(&row, ctx) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_dir_auth_get(void *priv, const char *username, store_dir_auth *out, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char state[STATE_BUFSZ];
    tn_code code = sq_prep_sql(q, SQL_AUTH_GET, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, username) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        code = tn_err_set(e, TN_ENOTFOUND, "uid", "no such account");
        goto out;
    }
    if (rc != SQLITE_ROW) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    memset(out, 0, sizeof *out);
    out->account_id = sqlite3_column_int64(st, 0);
    out->failures = sqlite3_column_int64(st, 4);
    out->locked_until = sqlite3_column_int64(st, 5);
    if (!sq_col_str(st, 1, state, sizeof state) || !account_state_parse(state, &out->state) ||
        !sq_col_str(st, 2, out->person_id, sizeof out->person_id) ||
        !sq_col_str(st, 3, out->password_hash, sizeof out->password_hash))
        code = sq_corrupt("account", e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_dir_bind_fail(void *priv, int64_t account_id, int64_t now_us, int64_t max_failures,
                         int64_t lock_until_us, int64_t *failures, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_FAIL_BUMP, &st, &own, e)) != TN_OK)
        goto out;
    if ((sqlite3_bind_int64(st, 1, account_id) | sqlite3_bind_int64(st, 2, now_us)) !=
        SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    *failures = sqlite3_column_int64(st, 0);
    sq_done(st, own);
    st = NULL;
    if (max_failures > 0 && *failures >= max_failures) {
        if ((code = sq_prep_sql(q, SQL_FAIL_LOCK, &st, &own, e)) != TN_OK)
            goto out;
        if ((sqlite3_bind_int64(st, 1, account_id) | sqlite3_bind_int64(st, 2, lock_until_us)) !=
            SQLITE_OK) {
            code = sq_bind_fail(q, e);
            goto out;
        }
        if ((rc = sq_step_write(st)) != SQLITE_OK)
            code = sq_fail(q, rc, e);
    }
out:
    sq_done(st, own);
    return code;
}

tn_code sq_dir_bind_reset(void *priv, int64_t account_id, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_FAIL_RESET, &st, &own, e)) != TN_OK)
        goto out;
    if (sqlite3_bind_int64(st, 1, account_id) != SQLITE_OK) {
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

tn_code sq_account_set_password(void *priv, const char *username, const char *hash,
                                int64_t updated_at, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_SET_PW, &st, &own, e)) != TN_OK)
        goto out;
    if ((sq_b_text(st, 1, username) | sq_b_opt(st, 2, hash) |
         sqlite3_bind_int64(st, 3, updated_at)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
    else if (sqlite3_changes(q->db) != 1)
        code = tn_err_set(e, TN_ENOTFOUND, "username", "no account has this username");
out:
    sq_done(st, own);
    return code;
}

tn_code sq_tune(void *priv, int64_t cache_kib, int64_t mmap_bytes, tn_err *e)
{
    sq *q = priv;
    if (cache_kib < 64 || mmap_bytes < 0)
        return tn_err_set(e, TN_EINVAL, NULL, "cache of at least 64 KiB and a mmap size >= 0");
    /* PRAGMA takes no parameters; both values are integers checked above. */
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%lld; PRAGMA mmap_size = %lld;",
             (long long)cache_kib, (long long)mmap_bytes);
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? TN_OK : sq_fail(q, rc, e);
}
