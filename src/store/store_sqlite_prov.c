/* SQLite backend: provisioning delivery state (migration 0010): the
 * per-target cursor over the outbox, the pending set per (target, person)
 * and the resources each target holds; the groups a target holds for
 * tunnus (migration 0016). */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

static const char SQL_CURSOR_GET[] =
    "SELECT last_outbox_id FROM prov_cursor WHERE target = ?1";
static const char SQL_OUTBOX_MAX[] = "SELECT COALESCE(MAX(id), 0) FROM outbox";
static const char SQL_CURSOR_NEW[] =
    "INSERT INTO prov_cursor (target, last_outbox_id) VALUES (?1, ?2)";
/* A new target starts with every person who is not erased. */
static const char SQL_PENDING_ALL[] =
    "INSERT INTO prov_pending (target, person_id, first_outbox_id, last_outbox_id, "
    "next_attempt_at) SELECT ?1, id, ?2, ?2, ?3 FROM person WHERE state <> 'erased' "
    "ORDER BY number ON CONFLICT (target, person_id) DO NOTHING";
/* Fold the next window of outbox rows into the pending set: a person
 * already pending keeps their place (and backoff); a parked one is
 * released by the new change. */
static const char SQL_PENDING_FOLD[] =
    "INSERT INTO prov_pending (target, person_id, first_outbox_id, last_outbox_id, "
    "next_attempt_at) SELECT ?1, person_id, MIN(id), MAX(id), ?3 FROM "
    "(SELECT id, person_id, target FROM outbox WHERE id > ?2 ORDER BY id LIMIT ?4) "
    "WHERE (target = '*' OR target = ?1) GROUP BY person_id ORDER BY MIN(id) "
    "ON CONFLICT (target, person_id) DO UPDATE SET "
    "last_outbox_id = MAX(last_outbox_id, excluded.last_outbox_id), "
    "attempts = CASE WHEN parked THEN 0 ELSE attempts END, "
    "next_attempt_at = excluded.next_attempt_at, "
    "last_error = CASE WHEN parked THEN NULL ELSE last_error END, parked = 0";
static const char SQL_WINDOW_MAX[] =
    "SELECT COALESCE(MAX(id), 0), COUNT(*) FROM "
    "(SELECT id FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2)";
static const char SQL_CURSOR_SET[] =
    "UPDATE prov_cursor SET last_outbox_id = ?2 WHERE target = ?1";
static const char SQL_DUE[] =
    "SELECT id, person_id, last_outbox_id, attempts, parked, COALESCE(last_error, ''), target "
    "FROM prov_pending WHERE target = ?1 AND parked = 0 AND next_attempt_at <= ?2 "
    "ORDER BY first_outbox_id, id LIMIT ?3";
static const char SQL_PARKED[] =
    "SELECT id, person_id, last_outbox_id, attempts, parked, COALESCE(last_error, ''), target "
    "FROM prov_pending WHERE (?1 = '' OR target = ?1) AND parked = 1 ORDER BY id";
static const char SQL_DONE[] =
    "DELETE FROM prov_pending WHERE id = ?1 AND last_outbox_id = ?2";
static const char SQL_RELEASE[] =
    "UPDATE prov_pending SET attempts = 0, last_error = NULL, next_attempt_at = ?3 "
    "WHERE id = ?1 AND last_outbox_id <> ?2";
static const char SQL_SUCCESS[] =
    "UPDATE prov_cursor SET last_success_at = ?2, delivered = delivered + 1 WHERE target = ?1";
static const char SQL_RES_PUT[] =
    "INSERT INTO prov_resource (target, person_id, resource_id, state, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (target, person_id) DO UPDATE SET "
    "resource_id = ?3, state = ?4, updated_at = ?5, "
    "created_at = CASE WHEN state = 'deleted' AND ?4 <> 'deleted' THEN ?5 ELSE created_at END";
static const char SQL_RES_GET[] =
    "SELECT person_id, resource_id, state, created_at, updated_at FROM prov_resource "
    "WHERE target = ?1 AND person_id = ?2";
static const char SQL_RES_LIST[] =
    "SELECT person_id, resource_id, state, created_at, updated_at FROM prov_resource "
    "WHERE target = ?1 ORDER BY person_id";
static const char SQL_FAIL[] =
    "UPDATE prov_pending SET attempts = ?2, next_attempt_at = ?3, last_error = ?4, parked = ?5 "
    "WHERE id = ?1";
static const char SQL_RETRY[] =
    "UPDATE prov_pending SET parked = 0, attempts = 0, last_error = NULL, next_attempt_at = ?2 "
    "WHERE parked = 1 AND (?1 = 0 OR id = ?1) AND (?3 = '' OR target = ?3)";
static const char SQL_STATS[] =
    "SELECT (SELECT COUNT(*) FROM prov_pending WHERE target = ?1 AND parked = 0), "
    "(SELECT COUNT(*) FROM prov_pending WHERE target = ?1 AND parked = 1), "
    "(SELECT COUNT(*) FROM prov_pending WHERE target = ?1 AND parked = 0 AND next_attempt_at <= ?2), "
    "(SELECT last_outbox_id FROM prov_cursor WHERE target = ?1), "
    "(SELECT delivered FROM prov_cursor WHERE target = ?1), "
    "(SELECT last_success_at FROM prov_cursor WHERE target = ?1), "
    "(SELECT COALESCE(MAX(id), 0) FROM outbox), "
    "(SELECT COUNT(*) FROM prov_resource WHERE target = ?1 AND state <> 'deleted')";

static const char SQL_GROUP_PUT[] =
    "INSERT INTO prov_group (target, name, resource_id, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (target, name) DO UPDATE SET "
    "resource_id = ?3, updated_at = ?4, "
    "created_at = CASE WHEN resource_id = ?3 THEN created_at ELSE ?4 END";
static const char SQL_GROUP_DEL[] = "DELETE FROM prov_group WHERE target = ?1 AND name = ?2";
static const char SQL_GROUP_LIST[] =
    "SELECT name, resource_id, created_at, updated_at FROM prov_group WHERE target = ?1 "
    "ORDER BY name";

static tn_code step_write(sq *q, sqlite3_stmt *st, bool own, int bind_rc, tn_err *e)
{
    tn_code code = TN_OK;
    if (bind_rc != SQLITE_OK)
        code = sq_bind_fail(q, e);
    else if ((bind_rc = sq_step_write(st)) != SQLITE_OK)
        code = sq_fail(q, bind_rc, e);
    sq_done(st, own);
    return code;
}

static tn_code prep_w(sq *q, const char *sql, sqlite3_stmt **st, bool *own, tn_err *e)
{
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK)
        code = sq_prep_sql(q, sql, st, own, e);
    return code;
}

tn_code sq_prov_ingest(void *priv, const char *target, int64_t now, int64_t max, int64_t *added,
                       tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t cursor = 0;
    bool has_cursor = false;
    *added = 0;
    tn_code code = prep_w(q, SQL_CURSOR_GET, &st, &own, e);
    if (code != TN_OK)
        return code;
    if (sq_b_str(st, 1, target) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        has_cursor = true;
        cursor = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    sq_done(st, own);
    st = NULL;
    if (!has_cursor) {
        if ((code = sq_prep_sql(q, SQL_OUTBOX_MAX, &st, &own, e)) != TN_OK)
            goto out;
        if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
            code = sq_fail(q, rc, e);
            goto out;
        }
        int64_t m = sqlite3_column_int64(st, 0);
        sq_done(st, own);
        st = NULL;
        if ((code = sq_prep_sql(q, SQL_PENDING_ALL, &st, &own, e)) != TN_OK)
            goto out;
        code = step_write(q, st, own,
                          sq_b_str(st, 1, target) | sqlite3_bind_int64(st, 2, m) |
                              sqlite3_bind_int64(st, 3, now),
                          e);
        st = NULL;
        if (code != TN_OK)
            goto out;
        *added = sqlite3_changes(q->db);
        if ((code = sq_prep_sql(q, SQL_CURSOR_NEW, &st, &own, e)) != TN_OK)
            goto out;
        code = step_write(q, st, own, sq_b_str(st, 1, target) | sqlite3_bind_int64(st, 2, m), e);
        return code;
    }
    if ((code = sq_prep_sql(q, SQL_WINDOW_MAX, &st, &own, e)) != TN_OK)
        goto out;
    if ((sqlite3_bind_int64(st, 1, cursor) | sqlite3_bind_int64(st, 2, max)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    int64_t upto = sqlite3_column_int64(st, 0), rows = sqlite3_column_int64(st, 1);
    sq_done(st, own);
    st = NULL;
    if (rows == 0)
        return TN_OK;
    if ((code = sq_prep_sql(q, SQL_PENDING_FOLD, &st, &own, e)) != TN_OK)
        goto out;
    code = step_write(q, st, own,
                      sq_b_str(st, 1, target) | sqlite3_bind_int64(st, 2, cursor) |
                          sqlite3_bind_int64(st, 3, now) | sqlite3_bind_int64(st, 4, max),
                      e);
    st = NULL;
    if (code != TN_OK)
        goto out;
    *added = sqlite3_changes(q->db);
    if ((code = sq_prep_sql(q, SQL_CURSOR_SET, &st, &own, e)) != TN_OK)
        goto out;
    return step_write(q, st, own, sq_b_str(st, 1, target) | sqlite3_bind_int64(st, 2, upto), e);
out:
    if (st)
        sq_done(st, own);
    return code;
}

static void read_item(sqlite3_stmt *st, store_prov_item *it)
{
    memset(it, 0, sizeof *it);
    it->id = sqlite3_column_int64(st, 0);
    sq_col_str(st, 1, it->person_id, sizeof it->person_id);
    it->last_outbox_id = sqlite3_column_int64(st, 2);
    it->attempts = sqlite3_column_int64(st, 3);
    it->parked = sqlite3_column_int(st, 4) != 0;
    sq_col_str(st, 5, it->last_error, sizeof it->last_error);
    sq_col_str(st, 6, it->target, sizeof it->target);
}

static tn_code list_items(sq *q, sqlite3_stmt *st, bool own, store_prov_item **out, size_t *n,
                          tn_err *e)
{
    tn_code code = TN_OK;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            store_prov_item *p = realloc(*out, cap * sizeof **out);
            if (!p) {
                code = tn_err_set(e, TN_EINTERNAL, NULL, "out of memory");
                goto out;
            }
            *out = p;
        }
        read_item(st, &(*out)[(*n)++]);
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    if (code != TN_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return code;
}

tn_code sq_prov_due(void *priv, const char *target, int64_t now, int64_t max,
                    store_prov_item **out, size_t *n, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_DUE, &st, &own, e);
    if (code != TN_OK)
        return code;
    if ((sq_b_str(st, 1, target) | sqlite3_bind_int64(st, 2, now) |
         sqlite3_bind_int64(st, 3, max)) != SQLITE_OK) {
        sq_done(st, own);
        return sq_bind_fail(q, e);
    }
    return list_items(q, st, own, out, n, e);
}

tn_code sq_prov_parked(void *priv, const char *target, store_prov_item **out, size_t *n,
                       tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_PARKED, &st, &own, e);
    if (code != TN_OK)
        return code;
    if (sq_b_text(st, 1, target) != SQLITE_OK) {
        sq_done(st, own);
        return sq_bind_fail(q, e);
    }
    return list_items(q, st, own, out, n, e);
}

tn_code sq_prov_done(void *priv, const char *target, const store_prov_item *it,
                     const char *resource_id, const char *state, int64_t now, bool *finished,
                     tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    *finished = false;
    tn_code code = prep_w(q, SQL_DONE, &st, &own, e);
    if (code != TN_OK)
        return code;
    code = step_write(q, st, own,
                      sqlite3_bind_int64(st, 1, it->id) |
                          sqlite3_bind_int64(st, 2, it->last_outbox_id),
                      e);
    if (code != TN_OK)
        return code;
    *finished = sqlite3_changes(q->db) > 0;
    if (!*finished) {
        /* A newer change arrived while this one was delivered: deliver
         * again, now, with a clean slate. */
        if ((code = sq_prep_sql(q, SQL_RELEASE, &st, &own, e)) != TN_OK)
            return code;
        code = step_write(q, st, own,
                          sqlite3_bind_int64(st, 1, it->id) |
                              sqlite3_bind_int64(st, 2, it->last_outbox_id) |
                              sqlite3_bind_int64(st, 3, now),
                          e);
        if (code != TN_OK)
            return code;
    }
    if (resource_id) {
        if ((code = sq_prep_sql(q, SQL_RES_PUT, &st, &own, e)) != TN_OK)
            return code;
        code = step_write(q, st, own,
                          sq_b_str(st, 1, target) | sq_b_str(st, 2, it->person_id) |
                              sq_b_str(st, 3, resource_id) | sq_b_str(st, 4, state) |
                              sqlite3_bind_int64(st, 5, now),
                          e);
        if (code != TN_OK)
            return code;
    }
    if ((code = sq_prep_sql(q, SQL_SUCCESS, &st, &own, e)) != TN_OK)
        return code;
    return step_write(q, st, own, sq_b_str(st, 1, target) | sqlite3_bind_int64(st, 2, now), e);
}

tn_code sq_prov_fail(void *priv, int64_t id, int64_t attempts, int64_t next_at, const char *error,
                     bool parked, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep_w(q, SQL_FAIL, &st, &own, e);
    if (code != TN_OK)
        return code;
    return step_write(q, st, own,
                      sqlite3_bind_int64(st, 1, id) | sqlite3_bind_int64(st, 2, attempts) |
                          sqlite3_bind_int64(st, 3, next_at) | sq_b_str(st, 4, error) |
                          sqlite3_bind_int(st, 5, parked ? 1 : 0),
                      e);
}

tn_code sq_prov_retry(void *priv, const char *target, int64_t id, int64_t now, int64_t *n,
                      tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep_w(q, SQL_RETRY, &st, &own, e);
    if (code != TN_OK)
        return code;
    code = step_write(q, st, own,
                      sqlite3_bind_int64(st, 1, id) | sqlite3_bind_int64(st, 2, now) |
                          sq_b_text(st, 3, target),
                      e);
    *n = code == TN_OK ? sqlite3_changes(q->db) : 0;
    return code;
}

static void read_res(sqlite3_stmt *st, store_prov_resource *r)
{
    memset(r, 0, sizeof *r);
    sq_col_str(st, 0, r->person_id, sizeof r->person_id);
    sq_col_str(st, 1, r->resource_id, sizeof r->resource_id);
    sq_col_str(st, 2, r->state, sizeof r->state);
    r->created_at = sqlite3_column_int64(st, 3);
    r->updated_at = sqlite3_column_int64(st, 4);
}

tn_code sq_prov_resource_get(void *priv, const char *target, const char *person_id,
                             store_prov_resource *out, bool *found, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    *found = false;
    tn_code code = sq_prep_sql(q, SQL_RES_GET, &st, &own, e);
    if (code != TN_OK)
        return code;
    if ((sq_b_str(st, 1, target) | sq_b_str(st, 2, person_id)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_res(st, out);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
    }
out:
    sq_done(st, own);
    return code;
}

tn_code sq_prov_resource_list(void *priv, const char *target, store_prov_resource_cb cb,
                              void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_RES_LIST, &st, &own, e);
    if (code != TN_OK)
        return code;
    if (sq_b_str(st, 1, target) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_prov_resource r;
        read_res(st, &r);
        if (cb(&r, ctx))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_prov_stats(void *priv, const char *target, int64_t now, store_prov_counts *out,
                      tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    memset(out, 0, sizeof *out);
    tn_code code = sq_prep_sql(q, SQL_STATS, &st, &own, e);
    if (code != TN_OK)
        return code;
    if ((sq_b_str(st, 1, target) | sqlite3_bind_int64(st, 2, now)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    out->pending = sqlite3_column_int64(st, 0);
    out->parked = sqlite3_column_int64(st, 1);
    out->due = sqlite3_column_int64(st, 2);
    out->started = sqlite3_column_type(st, 3) != SQLITE_NULL;
    out->cursor = sqlite3_column_int64(st, 3);
    out->delivered = sqlite3_column_int64(st, 4);
    out->last_success_at = sqlite3_column_int64(st, 5);
    out->outbox_max = sqlite3_column_int64(st, 6);
    out->resources = sqlite3_column_int64(st, 7);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_prov_group_put(void *priv, const char *target, const char *name,
                          const char *resource_id, int64_t now, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    bool forget = !resource_id[0];
    tn_code code = prep_w(q, forget ? SQL_GROUP_DEL : SQL_GROUP_PUT, &st, &own, e);
    if (code != TN_OK)
        return code;
    int b = sq_b_str(st, 1, target) | sq_b_str(st, 2, name);
    if (!forget)
        b |= sq_b_str(st, 3, resource_id) | sqlite3_bind_int64(st, 4, now);
    return step_write(q, st, own, b, e);
}

tn_code sq_prov_group_list(void *priv, const char *target, store_prov_group_cb cb, void *ctx,
                           tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_GROUP_LIST, &st, &own, e);
    if (code != TN_OK)
        return code;
    if (sq_b_str(st, 1, target) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_prov_group g;
        memset(&g, 0, sizeof g);
        sq_col_str(st, 0, g.name, sizeof g.name);
        sq_col_str(st, 1, g.resource_id, sizeof g.resource_id);
        g.created_at = sqlite3_column_int64(st, 2);
        g.updated_at = sqlite3_column_int64(st, 3);
        if (cb(&g, ctx))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}
