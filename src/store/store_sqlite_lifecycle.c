/* store_sqlite_lifecycle — the SQLite side of the lifecycle engine:
 * policies, runs, archive summaries, the outbox, and the two deletions
 * archiving and erasure need (affiliations; the account's link to its
 * person). Schema: migrations/0002_lifecycle.sql. */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "store_sqlite_lc.h"
#include "tn_str.h"

static const char SQL_POLICY_ADD[] =
    "INSERT INTO lc_policy (body, applied_at, actor_id) VALUES (?1, ?2, ?3)";
static const char SQL_POLICY_CURRENT[] =
    "SELECT version, body FROM lc_policy ORDER BY version DESC LIMIT 1";
static const char SQL_KINDS[] = "SELECT DISTINCT kind FROM affiliation ORDER BY kind";
static const char SQL_AFF_DELETE[] = "DELETE FROM affiliation WHERE person_num = ?1";
static const char SQL_ARCHIVE_GET[] =
    "SELECT kinds, first_start, last_end, archived_on, purge_on, erase_on, purged_on "
    "FROM lc_archive WHERE person_num = ?1";
static const char SQL_ARCHIVE_PUT[] =
    "INSERT INTO lc_archive (person_num, kinds, first_start, last_end, archived_on, "
    "purge_on, erase_on, purged_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (person_num) DO UPDATE SET kinds = excluded.kinds, "
    "first_start = excluded.first_start, last_end = excluded.last_end, "
    "archived_on = excluded.archived_on, purge_on = excluded.purge_on, "
    "erase_on = excluded.erase_on, purged_on = excluded.purged_on";
static const char SQL_ARCHIVE_DELETE[] = "DELETE FROM lc_archive WHERE person_num = ?1";
static const char SQL_OUTBOX_ADD[] =
    "INSERT INTO outbox (target, person_id, event, payload, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_RUN_ADD[] =
    "INSERT INTO lc_run (run_at, as_of, policy_version, counts, changed, actor_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_ACCOUNT_DETACH[] = "UPDATE account SET person_num = NULL, updated_at = ?2 "
                                         "WHERE person_num = ?1";

/* Run a prepared, bound write; the statement is returned either way. */
static tn_code finish_write(sq *q, sqlite3_stmt *st, bool own, int bind_rc, tn_err *e)
{
    tn_code code = TN_OK;
    if (bind_rc != SQLITE_OK)
        code = sq_bind_fail(q, e);
    else if ((bind_rc = sq_step_write(st)) != SQLITE_OK)
        code = sq_fail(q, bind_rc, e);
    sq_done(st, own);
    return code;
}

static tn_code write_prep(sq *q, const char *sql, sqlite3_stmt **st, bool *own, tn_err *e)
{
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK)
        code = sq_prep_sql(q, sql, st, own, e);
    return code;
}

tn_code sq_lc_policy_add(void *priv, const char *body, int64_t applied_at, const char *actor_id,
                         int64_t *version_out, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = write_prep(q, SQL_POLICY_ADD, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sq_b_text(st, 1, body);
    rc |= sqlite3_bind_int64(st, 2, applied_at);
    rc |= sq_b_str(st, 3, actor_id);
    code = finish_write(q, st, own, rc, e);
    if (code == TN_OK && version_out)
        *version_out = sqlite3_last_insert_rowid(q->db);
    return code;
}

tn_code sq_lc_policy_current(void *priv, int64_t *version, char **body_out, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    *body_out = NULL;
    tn_code code = sq_prep_sql(q, SQL_POLICY_CURRENT, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(st, 0);
        const unsigned char *t = sqlite3_column_text(st, 1);
        *body_out = strdup(t ? (const char *)t : "");
        if (!*body_out)
            code = tn_err_set(e, TN_EINTERNAL, NULL, "out of memory");
    } else if (rc == SQLITE_DONE) {
        code = tn_err_set(e, TN_ENOTFOUND, "policy",
                          "no lifecycle policy has been applied (tunnus policy apply FILE)");
    } else {
        code = sq_fail(q, rc, e);
    }
    sq_done(st, own);
    return code;
}

tn_code sq_lc_kinds_in_use(void *priv, store_kind_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_KINDS, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc;
    char kind[KIND_BUFSZ];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!sq_col_str(st, 0, kind, sizeof kind)) {
            code = sq_corrupt("affiliation", e);
            goto out;
        }
        if (cb(kind, ctx) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_lc_aff_delete_by_person(void *priv, const char *person_id, tn_err *e)
{
    sq *q = priv;
    int64_t num;
    tn_code code = sq_person_num(q, person_id, false, "person_id", "person", &num, e);
    sqlite3_stmt *st = NULL;
    bool own = false;
    if (code != TN_OK || (code = write_prep(q, SQL_AFF_DELETE, &st, &own, e)) != TN_OK)
        return code;
    return finish_write(q, st, own, sqlite3_bind_int64(st, 1, num), e);
}

tn_code sq_lc_archive_get(void *priv, const char *person_id, store_lc_archive *out, tn_err *e)
{
    sq *q = priv;
    int64_t num;
    tn_code code = sq_person_num(q, person_id, false, "person_id", "person", &num, e);
    sqlite3_stmt *st = NULL;
    bool own = false;
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_ARCHIVE_GET, &st, &own, e)) != TN_OK)
        return code;
    if (sqlite3_bind_int64(st, 1, num) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        bool ok = sq_col_str(st, 0, out->kinds, sizeof out->kinds);
        ok &= sq_col_date(st, 1, &out->first_start);
        ok &= sq_col_date(st, 2, &out->last_end);
        ok &= sq_col_date(st, 3, &out->archived_on);
        ok &= sq_col_date(st, 4, &out->purge_on);
        ok &= sq_col_date(st, 5, &out->erase_on);
        ok &= sq_col_date(st, 6, &out->purged_on);
        if (!ok)
            code = sq_corrupt("lc_archive", e);
    } else if (rc == SQLITE_DONE) {
        code = tn_err_set(e, TN_ENOTFOUND, NULL, "no archive summary");
    } else {
        code = sq_fail(q, rc, e);
    }
out:
    sq_done(st, own);
    return code;
}

tn_code sq_lc_archive_put(void *priv, const char *person_id, const store_lc_archive *a,
                          tn_err *e)
{
    sq *q = priv;
    int64_t num;
    tn_code code = sq_person_num(q, person_id, false, "person_id", "person", &num, e);
    sqlite3_stmt *st = NULL;
    bool own = false;
    if (code != TN_OK || (code = write_prep(q, SQL_ARCHIVE_PUT, &st, &own, e)) != TN_OK)
        return code;
    char b[6][DATE_ISO_LEN];
    int rc = sqlite3_bind_int64(st, 1, num);
    rc |= sq_b_str(st, 2, a->kinds);
    rc |= sq_b_date(st, 3, a->first_start, b[0]);
    rc |= sq_b_date(st, 4, a->last_end, b[1]);
    rc |= sq_b_date(st, 5, a->archived_on, b[2]);
    rc |= sq_b_date(st, 6, a->purge_on, b[3]);
    rc |= sq_b_date(st, 7, a->erase_on, b[4]);
    rc |= sq_b_date(st, 8, a->purged_on, b[5]);
    return finish_write(q, st, own, rc, e);
}

tn_code sq_lc_archive_delete(void *priv, const char *person_id, tn_err *e)
{
    sq *q = priv;
    int64_t num;
    tn_code code = sq_person_num(q, person_id, false, "person_id", "person", &num, e);
    sqlite3_stmt *st = NULL;
    bool own = false;
    if (code != TN_OK || (code = write_prep(q, SQL_ARCHIVE_DELETE, &st, &own, e)) != TN_OK)
        return code;
    return finish_write(q, st, own, sqlite3_bind_int64(st, 1, num), e);
}

tn_code sq_lc_outbox_add(void *priv, const char *target, const char *person_id,
                         const char *event, const char *payload, int64_t created_at, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = write_prep(q, SQL_OUTBOX_ADD, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sq_b_str(st, 1, target);
    rc |= sq_b_str(st, 2, person_id);
    rc |= sq_b_str(st, 3, event);
    rc |= sq_b_str(st, 4, payload);
    rc |= sqlite3_bind_int64(st, 5, created_at);
    return finish_write(q, st, own, rc, e);
}

tn_code sq_lc_run_add(void *priv, int64_t run_at, tn_date as_of, int64_t policy_version,
                      const char *counts, bool changed, const char *actor_id, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = write_prep(q, SQL_RUN_ADD, &st, &own, e);
    if (code != TN_OK)
        return code;
    char d[DATE_ISO_LEN];
    int rc = sqlite3_bind_int64(st, 1, run_at);
    rc |= sq_b_date(st, 2, as_of, d);
    rc |= sqlite3_bind_int64(st, 3, policy_version);
    rc |= sq_b_str(st, 4, counts);
    rc |= sqlite3_bind_int(st, 5, changed ? 1 : 0);
    rc |= sq_b_str(st, 6, actor_id);
    return finish_write(q, st, own, rc, e);
}

tn_code sq_lc_account_detach(void *priv, const char *person_id, int64_t updated_at, tn_err *e)
{
    sq *q = priv;
    int64_t num;
    tn_code code = sq_person_num(q, person_id, false, "person_id", "person", &num, e);
    sqlite3_stmt *st = NULL;
    bool own = false;
    if (code != TN_OK || (code = write_prep(q, SQL_ACCOUNT_DETACH, &st, &own, e)) != TN_OK)
        return code;
    int rc = sqlite3_bind_int64(st, 1, num);
    rc |= sqlite3_bind_int64(st, 2, updated_at);
    return finish_write(q, st, own, rc, e);
}
