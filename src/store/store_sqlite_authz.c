/* SQLite backend: what scoped authorisation needs (migration 0010): the
 * org-unit subtree tests behind unit_admin, role grants with validity
 * (AZ-4), and the error reports persons file about their own data (PR-4). */
#include <string.h>

#include "store_sqlite_int.h"

/* The subtree by parent_id, not by code prefix: a unit added with an
 * explicit parent need not share its code's path. */
#define SUBTREE_CTE                                                                        \
    "WITH RECURSIVE u(id, code) AS (SELECT id, code FROM org_unit WHERE code = ?2 "         \
    "UNION ALL SELECT o.id, o.code FROM org_unit o JOIN u ON o.parent_id = u.id) "

static const char SQL_PERSON_IN_UNIT[] =
    SUBTREE_CTE
    "SELECT EXISTS (SELECT 1 FROM affiliation f JOIN person p ON p.number = f.person_num "
    "WHERE p.id = ?1 AND f.valid_from <= ?3 AND (f.valid_to IS NULL OR f.valid_to >= ?3) "
    "AND f.org_unit IN (SELECT code FROM u))";

static const char SQL_UNIT_IN_SUBTREE[] =
    SUBTREE_CTE "SELECT EXISTS (SELECT 1 FROM u WHERE u.code = ?1)";

#define GRANT_COLS                                                                         \
    "g.id, p.id, p.number, g.role, coalesce(g.unit, ''), g.valid_from, "                   \
    "coalesce(g.valid_to, ''), g.granted_by, g.reason, g.created_at, "                     \
    "coalesce(g.revoked_on, ''), g.revoked_by "

static const char SQL_GRANT_INSERT[] =
    "INSERT INTO role_grant (person_num, role, unit, valid_from, valid_to, granted_by, reason, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_GRANT_GET[] =
    "SELECT " GRANT_COLS "FROM role_grant g JOIN person p ON p.number = g.person_num "
    "WHERE g.id = ?1";
static const char SQL_GRANT_REVOKE[] =
    "UPDATE role_grant SET revoked_on = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_on IS NULL";
static const char SQL_GRANT_LIST[] =
    "SELECT " GRANT_COLS "FROM role_grant g JOIN person p ON p.number = g.person_num "
    "WHERE (?1 IS NULL OR p.id = ?1) ORDER BY g.id";

#define REPORT_COLS                                                                        \
    "r.id, p.id, p.number, r.attribute, r.description, r.filed_by, r.channel, r.filed_at, " \
    "r.state, coalesce(r.resolved_at, 0), r.resolved_by, r.resolution "

static const char SQL_REPORT_INSERT[] =
    "INSERT INTO error_report (person_num, attribute, description, filed_by, channel, filed_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_REPORT_GET[] =
    "SELECT " REPORT_COLS "FROM error_report r JOIN person p ON p.number = r.person_num "
    "WHERE r.id = ?1";
static const char SQL_REPORT_CLOSE[] =
    "UPDATE error_report SET state = ?2, resolved_at = ?3, resolved_by = ?4, resolution = ?5 "
    "WHERE id = ?1 AND state = 'open'";
static const char SQL_REPORT_LIST[] =
    "SELECT " REPORT_COLS "FROM error_report r JOIN person p ON p.number = r.person_num "
    "WHERE (?1 IS NULL OR p.id = ?1) AND (?2 IS NULL OR r.state = ?2) ORDER BY r.id";

/* One EXISTS query with text parameters ?1, ?2 and optionally a date ?3. */
static tn_code exists(sq *q, const char *sql, const char *p1, const char *p2, tn_date d,
                      bool *out, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    char dbuf[DATE_ISO_LEN];
    *out = false;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sq_b_text(st, 1, p1) | sq_b_text(st, 2, p2);
    if (d != TN_DATE_NONE)
        rc |= sq_b_date(st, 3, d, dbuf);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0) != 0;
    else
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_person_in_unit(void *priv, const char *person_id, const char *unit_code,
                          tn_date today, bool *in, tn_err *e)
{
    if (today == TN_DATE_NONE)
        return tn_err_set(e, TN_EINTERNAL, NULL, "person_in_unit needs a date");
    return exists(priv, SQL_PERSON_IN_UNIT, person_id, unit_code, today, in, e);
}

tn_code sq_unit_in_subtree(void *priv, const char *unit_code, const char *root_code, bool *in,
                           tn_err *e)
{
    return exists(priv, SQL_UNIT_IN_SUBTREE, unit_code, root_code, TN_DATE_NONE, in, e);
}

/* Run a write whose parameters are bound; TN_ENOTFOUND when it changed no
 * row (only for an UPDATE keyed by id). */
static tn_code finish_write(sq *q, sqlite3_stmt *st, bool update, tn_err *e)
{
    int rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        return sq_fail(q, rc, e);
    if (update && sqlite3_changes(q->db) == 0)
        return TN_ENOTFOUND;
    return TN_OK;
}

tn_code sq_role_grant_insert(void *priv, store_role_grant *g, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t num;
    char fbuf[DATE_ISO_LEN], tbuf[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK)
        code = sq_person_num(q, g->person_id, false, "person", "person", &num, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_GRANT_INSERT, &st, &own, e)) != TN_OK)
        return code;
    if ((sqlite3_bind_int64(st, 1, num) | sq_b_text(st, 2, g->role) | sq_b_opt(st, 3, g->unit) |
         sq_b_date(st, 4, g->valid_from, fbuf) | sq_b_date(st, 5, g->valid_to, tbuf) |
         sq_b_text(st, 6, g->granted_by) | sq_b_text(st, 7, g->reason) |
         sqlite3_bind_int64(st, 8, g->created_at)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((code = finish_write(q, st, false, e)) == TN_OK) {
        g->id = sqlite3_last_insert_rowid(q->db);
        g->person_number = num;
    }
out:
    sq_done(st, own);
    return code;
}

static bool read_grant(sqlite3_stmt *st, store_role_grant *g)
{
    memset(g, 0, sizeof *g);
    g->id = sqlite3_column_int64(st, 0);
    bool ok = sq_col_str(st, 1, g->person_id, sizeof g->person_id);
    g->person_number = sqlite3_column_int64(st, 2);
    ok &= sq_col_str(st, 3, g->role, sizeof g->role);
    ok &= sq_col_str(st, 4, g->unit, sizeof g->unit);
    ok &= sq_col_date(st, 5, &g->valid_from);
    ok &= sq_col_date(st, 6, &g->valid_to);
    ok &= sq_col_str(st, 7, g->granted_by, sizeof g->granted_by);
    ok &= sq_col_str(st, 8, g->reason, sizeof g->reason);
    g->created_at = sqlite3_column_int64(st, 9);
    ok &= sq_col_date(st, 10, &g->revoked_on);
    ok &= sq_col_str(st, 11, g->revoked_by, sizeof g->revoked_by);
    return ok;
}

/* One row by its id through read; TN_ENOTFOUND (e not set) if none. */
static tn_code get_by_id(sq *q, const char *sql, int64_t id, bool (*read)(sqlite3_stmt *, void *),
                         void *out, const char *table, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        return code;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        code = read(st, out) ? TN_OK : sq_corrupt(table, e);
    else if (rc == SQLITE_DONE)
        code = TN_ENOTFOUND;
    else
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

static bool read_grant_v(sqlite3_stmt *st, void *out)
{
    return read_grant(st, out);
}

tn_code sq_role_grant_get(void *priv, int64_t id, store_role_grant *out, tn_err *e)
{
    tn_code code = get_by_id(priv, SQL_GRANT_GET, id, read_grant_v, out, "role_grant", e);
    if (code == TN_ENOTFOUND)
        tn_err_set(e, TN_ENOTFOUND, "grant", "no role grant %lld", (long long)id);
    return code;
}

tn_code sq_role_grant_revoke(void *priv, int64_t id, tn_date on, const char *by, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char dbuf[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_GRANT_REVOKE, &st, &own, e)) != TN_OK)
        return code;
    if ((sqlite3_bind_int64(st, 1, id) | sq_b_date(st, 2, on, dbuf) | sq_b_text(st, 3, by)) !=
        SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((code = finish_write(q, st, true, e)) == TN_ENOTFOUND)
        code = tn_err_set(e, TN_ESTATE, "grant", "role grant %lld is already revoked",
                          (long long)id);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_role_grant_list(void *priv, const char *person_id, store_role_grant_cb cb, void *ctx,
                           tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_GRANT_LIST, &st, &own, e);
    if (code != TN_OK)
        return code;
    if (sq_b_opt(st, 1, person_id) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    store_role_grant g;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!read_grant(st, &g)) {
            code = sq_corrupt("role_grant", e);
            goto out;
        }
        if (cb(&g, ctx) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_error_report_insert(void *priv, store_error_report *r, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t num;
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK)
        code = sq_person_num(q, r->person_id, false, "person", "person", &num, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_REPORT_INSERT, &st, &own, e)) != TN_OK)
        return code;
    if ((sqlite3_bind_int64(st, 1, num) | sq_b_text(st, 2, r->attribute) |
         sq_b_text(st, 3, r->description) | sq_b_text(st, 4, r->filed_by) |
         sq_b_text(st, 5, r->channel) | sqlite3_bind_int64(st, 6, r->filed_at)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((code = finish_write(q, st, false, e)) == TN_OK) {
        r->id = sqlite3_last_insert_rowid(q->db);
        r->person_number = num;
    }
out:
    sq_done(st, own);
    return code;
}

static bool read_report(sqlite3_stmt *st, store_error_report *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    bool ok = sq_col_str(st, 1, r->person_id, sizeof r->person_id);
    r->person_number = sqlite3_column_int64(st, 2);
    ok &= sq_col_str(st, 3, r->attribute, sizeof r->attribute);
    ok &= sq_col_str(st, 4, r->description, sizeof r->description);
    ok &= sq_col_str(st, 5, r->filed_by, sizeof r->filed_by);
    ok &= sq_col_str(st, 6, r->channel, sizeof r->channel);
    r->filed_at = sqlite3_column_int64(st, 7);
    ok &= sq_col_str(st, 8, r->state, sizeof r->state);
    r->resolved_at = sqlite3_column_int64(st, 9);
    ok &= sq_col_str(st, 10, r->resolved_by, sizeof r->resolved_by);
    ok &= sq_col_str(st, 11, r->resolution, sizeof r->resolution);
    return ok;
}

static bool read_report_v(sqlite3_stmt *st, void *out)
{
    return read_report(st, out);
}

tn_code sq_error_report_get(void *priv, int64_t id, store_error_report *out, tn_err *e)
{
    tn_code code = get_by_id(priv, SQL_REPORT_GET, id, read_report_v, out, "error_report", e);
    if (code == TN_ENOTFOUND)
        tn_err_set(e, TN_ENOTFOUND, "report", "no error report %lld", (long long)id);
    return code;
}

tn_code sq_error_report_close(void *priv, int64_t id, const char *state, int64_t at,
                              const char *by, const char *resolution, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_REPORT_CLOSE, &st, &own, e)) != TN_OK)
        return code;
    if ((sqlite3_bind_int64(st, 1, id) | sq_b_text(st, 2, state) | sqlite3_bind_int64(st, 3, at) |
         sq_b_text(st, 4, by) | sq_b_text(st, 5, resolution)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((code = finish_write(q, st, true, e)) == TN_ENOTFOUND)
        code = tn_err_set(e, TN_ESTATE, "report", "error report %lld is not open",
                          (long long)id);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_error_report_list(void *priv, const char *person_id, const char *state,
                             store_error_report_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_REPORT_LIST, &st, &own, e);
    if (code != TN_OK)
        return code;
    if ((sq_b_opt(st, 1, person_id) | sq_b_opt(st, 2, state)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    store_error_report r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!read_report(st, &r)) {
            code = sq_corrupt("error_report", e);
            goto out;
        }
        if (cb(&r, ctx) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}
