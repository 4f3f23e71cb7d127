/* The SQL of the AU-4 reports (store_report_* in store.h): accounts,
 * rights (affiliations in force) and changes (write events of the audit
 * trail). Rows are handed over as text columns in the order the service's
 * column lists name them (src/service/svc_report.c). */
#include <string.h>

#include "store_sqlite_int.h"

/* The unit and all its descendants (by parent_id), for --org-unit. */
#define UNITS_CTE                                                                          \
    "WITH RECURSIVE u(id, code) AS (SELECT id, code FROM org_unit WHERE code = ?2 "         \
    "UNION ALL SELECT o.id, o.code FROM org_unit o JOIN u ON o.parent_id = u.id) "

/* In force on ?1: valid_from <= ?1 and open or ending on or after ?1. */
#define IN_FORCE(f) f ".valid_from <= ?1 AND (" f ".valid_to IS NULL OR " f ".valid_to >= ?1)"

static const char SQL_ACCOUNTS[] =
    UNITS_CTE
    "SELECT p.id, p.number, c.username, coalesce(c.email, ''), c.state, c.created_on, "
    "coalesce(c.closed_on, ''), p.given_names, p.family_name, p.preferred_name, p.state, "
    "coalesce((SELECT group_concat(x.kind || '@' || coalesce(x.org_unit, ''), ';') FROM "
    "(SELECT f.kind, f.org_unit FROM affiliation f WHERE f.person_num = p.number AND "
    IN_FORCE("f") " ORDER BY f.valid_from, f.id) x), '') "
    "FROM account c JOIN person p ON p.number = c.person_num "
    "WHERE c.created_on <= ?1 AND (?2 IS NULL OR EXISTS (SELECT 1 FROM affiliation f "
    "WHERE f.person_num = p.number AND " IN_FORCE("f") " AND f.org_unit IN (SELECT code FROM u))) "
    "ORDER BY p.number, c.id";

static const char SQL_RIGHTS[] =
    UNITS_CTE
    "SELECT p.id, p.number, coalesce((SELECT c.username FROM account c WHERE c.person_num = "
    "p.number ORDER BY c.id LIMIT 1), ''), p.given_names, p.family_name, p.state, f.kind, "
    "f.source, coalesce(f.org_unit, ''), f.title, f.school, f.class, f.programme, "
    "f.valid_from, coalesce(f.valid_to, '') "
    "FROM affiliation f JOIN person p ON p.number = f.person_num "
    "WHERE " IN_FORCE("f") " AND (?2 IS NULL OR f.org_unit IN (SELECT code FROM u)) "
    "ORDER BY p.number, f.valid_from, f.id";

/* Write events are the ones with a change record. No index on time_us:
 * seq order is time order, and a report over a period is an occasional
 * scan. */
static const char SQL_CHANGES[] =
    UNITS_CTE
    "SELECT coalesce(e.subject_id, ''), e.seq, e.time_us, e.actor_kind, e.actor_id, e.channel, "
    "e.action, e.attrs, e.changes, e.result, e.request_id "
    "FROM audit_event e "
    "WHERE e.changes IS NOT NULL AND (?3 = 0 OR e.time_us >= ?3) AND (?4 = 0 OR e.time_us < ?4) "
    "AND (?2 IS NULL OR e.subject_id IN (SELECT p.id FROM person p JOIN affiliation f ON "
    "f.person_num = p.number WHERE f.org_unit IN (SELECT code FROM u))) "
    "ORDER BY e.seq";

static tn_code run(sq *q, const char *sql, const char *as_of, const char *unit, int64_t from_us,
                   int64_t to_us, store_report_cb cb, void *ctx, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc = sq_b_text(st, 1, as_of);
    rc |= sq_b_opt(st, 2, unit);
    if (sql == SQL_CHANGES) {
        rc |= sqlite3_bind_int64(st, 3, from_us);
        rc |= sqlite3_bind_int64(st, 4, to_us);
    }
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    const char *cols[STORE_REPORT_MAX_COLS];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        if (n > STORE_REPORT_MAX_COLS)
            n = STORE_REPORT_MAX_COLS;
        for (int i = 0; i < n; i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            cols[i] = t ? (const char *)t : "";
        }
        if (cb(cols, (size_t)n, ctx) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_report_accounts(void *priv, const char *as_of, const char *unit, store_report_cb cb,
                           void *ctx, tn_err *e)
{
    return run(priv, SQL_ACCOUNTS, as_of, unit, 0, 0, cb, ctx, e);
}

tn_code sq_report_rights(void *priv, const char *as_of, const char *unit, store_report_cb cb,
                         void *ctx, tn_err *e)
{
    return run(priv, SQL_RIGHTS, as_of, unit, 0, 0, cb, ctx, e);
}

tn_code sq_report_changes(void *priv, int64_t from_us, int64_t to_us, const char *unit,
                          store_report_cb cb, void *ctx, tn_err *e)
{
    return run(priv, SQL_CHANGES, "", unit, from_us, to_us, cb, ctx, e);
}
