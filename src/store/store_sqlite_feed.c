/* SQLite backend: source feed imports (runs, review queue, the lookups an
 * import needs). */
#include <string.h>

#include "store_sqlite_int.h"

static const char SQL_RUN_INSERT[] =
    "INSERT INTO import_run (source, kind, file, mode, started_at, finished_at, status, "
    "rows_read, created, updated, unchanged, ended, rejected, queued, detail) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
static const char SQL_RUN_UPDATE[] =
    "UPDATE import_run SET finished_at = ?2, status = ?3, rows_read = ?4, created = ?5, "
    "updated = ?6, unchanged = ?7, ended = ?8, rejected = ?9, queued = ?10, detail = ?11 "
    "WHERE id = ?1";
static const char SQL_RUN_LIST[] =
    "SELECT id, source, kind, file, mode, started_at, finished_at, status, rows_read, created, "
    "updated, unchanged, ended, rejected, queued, detail FROM import_run "
    "ORDER BY id DESC LIMIT ?1";

#define REVIEW_COLS                                                                       \
    "r.id, r.source, r.source_key, r.kind, p.id, r.candidates, r.row, r.line, r.state, " \
    "r.created_at, r.decided_at"
static const char SQL_REVIEW_FIND[] =
    "SELECT id, state, row, candidate_num, candidates FROM import_review "
    "WHERE source = ?1 AND source_key = ?2";
static const char SQL_REVIEW_INSERT[] =
    "INSERT INTO import_review (source, source_key, kind, candidate_num, candidates, row, line, "
    "state, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)";
static const char SQL_REVIEW_UPDATE[] =
    "UPDATE import_review SET kind = ?2, candidate_num = ?3, candidates = ?4, row = ?5, "
    "line = ?6 WHERE id = ?1";
static const char SQL_REVIEW_GET[] =
    "SELECT " REVIEW_COLS " FROM import_review r JOIN person p ON p.number = r.candidate_num "
    "WHERE r.id = ?1";
static const char SQL_REVIEW_LIST[] =
    "SELECT " REVIEW_COLS " FROM import_review r JOIN person p ON p.number = r.candidate_num "
    "WHERE ?1 IS NULL OR r.state = ?1 ORDER BY r.id";
static const char SQL_REVIEW_DECIDE[] =
    "UPDATE import_review SET state = ?2, decided_at = ?3 WHERE id = ?1 AND state = 'pending'";
/* The persons born on a date: with a national ID, one range of the ID's
 * unique key, which leads with the date (?4 <= key < ?5, migration 0017);
 * without one, the partial index of persons without an ID (named: without
 * statistics the planner would take the unique index's NULL entries, every
 * person without an ID). No index of names is kept for this rare search (a
 * feed row without a national ID): a day's births are a few dozen rows
 * even in a large registry. */
const char sq_sql_similar[] =
    "SELECT id, number FROM person WHERE nid_hash >= ?4 AND nid_hash < ?5 "
    "AND birth_date = ?3 AND family_name = ?1 AND given_names = ?2 AND state <> 'erased' "
    "UNION ALL "
    "SELECT id, number FROM person INDEXED BY person_nonid_birth "
    "WHERE nid_hash IS NULL AND birth_date = ?3 "
    "AND family_name = ?1 AND given_names = ?2 AND state <> 'erased' "
    "ORDER BY 2";
static const char SQL_ACTIVE_BY_SOURCE[] =
    "SELECT id, source_key FROM affiliation WHERE source = ?1 "
    "AND (valid_to IS NULL OR valid_to >= ?2) ORDER BY id";

static tn_code prep(sq *q, const char *sql, sqlite3_stmt **st, bool *own, tn_err *e)
{
    return sq_prep_sql(q, sql, st, own, e);
}

tn_code sq_import_run_insert(void *priv, store_import_run *r, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = prep(q, SQL_RUN_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sq_b_str(st, 1, r->source) | sq_b_str(st, 2, r->kind) | sq_b_str(st, 3, r->file) |
             sq_b_str(st, 4, r->mode) | sqlite3_bind_int64(st, 5, r->started_at) |
             sq_b_num(st, 6, r->finished_at) | sq_b_str(st, 7, r->status) |
             sqlite3_bind_int64(st, 8, r->rows) | sqlite3_bind_int64(st, 9, r->created) |
             sqlite3_bind_int64(st, 10, r->updated) | sqlite3_bind_int64(st, 11, r->unchanged) |
             sqlite3_bind_int64(st, 12, r->ended) | sqlite3_bind_int64(st, 13, r->rejected) |
             sqlite3_bind_int64(st, 14, r->queued) | sq_b_str(st, 15, r->detail);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((rc = sq_step_write(st)) != SQLITE_OK) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    r->id = sqlite3_last_insert_rowid(q->db);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_import_run_update(void *priv, const store_import_run *r, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = prep(q, SQL_RUN_UPDATE, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, r->id) | sq_b_num(st, 2, r->finished_at) |
             sq_b_str(st, 3, r->status) | sqlite3_bind_int64(st, 4, r->rows) |
             sqlite3_bind_int64(st, 5, r->created) | sqlite3_bind_int64(st, 6, r->updated) |
             sqlite3_bind_int64(st, 7, r->unchanged) | sqlite3_bind_int64(st, 8, r->ended) |
             sqlite3_bind_int64(st, 9, r->rejected) | sqlite3_bind_int64(st, 10, r->queued) |
             sq_b_str(st, 11, r->detail);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((rc = sq_step_write(st)) != SQLITE_OK)
        code = sq_fail(q, rc, e);
    else if (sqlite3_changes(q->db) == 0)
        code = tn_err_set(e, TN_ENOTFOUND, "run", "import run not found");
out:
    sq_done(st, own);
    return code;
}

tn_code sq_import_run_list(void *priv, int64_t limit, store_import_run_cb cb, void *ctx,
                           tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, SQL_RUN_LIST, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_import_run r;
        memset(&r, 0, sizeof r);
        r.id = sqlite3_column_int64(st, 0);
        bool ok = sq_col_str(st, 1, r.source, sizeof r.source) &&
                  sq_col_str(st, 2, r.kind, sizeof r.kind) &&
                  sq_col_str(st, 3, r.file, sizeof r.file) &&
                  sq_col_str(st, 4, r.mode, sizeof r.mode) &&
                  sq_col_str(st, 7, r.status, sizeof r.status) &&
                  sq_col_str(st, 15, r.detail, sizeof r.detail);
        if (!ok) {
            code = sq_corrupt("import_run", e);
            goto out;
        }
        r.started_at = sqlite3_column_int64(st, 5);
        r.finished_at = sqlite3_column_int64(st, 6);
        r.rows = sqlite3_column_int64(st, 8);
        r.created = sqlite3_column_int64(st, 9);
        r.updated = sqlite3_column_int64(st, 10);
        r.unchanged = sqlite3_column_int64(st, 11);
        r.ended = sqlite3_column_int64(st, 12);
        r.rejected = sqlite3_column_int64(st, 13);
        r.queued = sqlite3_column_int64(st, 14);
        if (cb(&r, ctx))
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

static bool read_review(sqlite3_stmt *st, store_review *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->candidates = sqlite3_column_int64(st, 5);
    r->line = sqlite3_column_int64(st, 7);
    r->created_at = sqlite3_column_int64(st, 9);
    r->decided_at = sqlite3_column_int64(st, 10);
    return sq_col_str(st, 1, r->source, sizeof r->source) &&
           sq_col_str(st, 2, r->source_key, sizeof r->source_key) &&
           sq_col_str(st, 3, r->kind, sizeof r->kind) &&
           sq_col_str(st, 4, r->candidate_id, sizeof r->candidate_id) &&
           sq_col_str(st, 6, r->row, sizeof r->row) &&
           sq_col_str(st, 8, r->state, sizeof r->state);
}

tn_code sq_review_put(void *priv, store_review *r, bool *changed, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    *changed = false;
    int64_t cand = 0;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK ||
        (code = sq_person_num(q, r->candidate_id, false, "candidate", "person", &cand, e)) !=
            TN_OK ||
        (code = prep(q, SQL_REVIEW_FIND, &st, &own, e)) != TN_OK)
        goto out;
    if ((sq_b_str(st, 1, r->source) | sq_b_str(st, 2, r->source_key)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    int64_t id = 0;
    if (rc == SQLITE_ROW) {
        char state[16], row[STORE_REVIEW_ROW_MAX];
        id = sqlite3_column_int64(st, 0);
        if (!sq_col_str(st, 1, state, sizeof state) || !sq_col_str(st, 2, row, sizeof row)) {
            code = sq_corrupt("import_review", e);
            goto out;
        }
        bool same = strcmp(row, r->row) == 0 && sqlite3_column_int64(st, 3) == cand &&
                    sqlite3_column_int64(st, 4) == r->candidates;
        r->id = id;
        memcpy(r->state, state, sizeof r->state);
        if (strcmp(state, "pending") != 0 || same)
            goto out; /* decided, or queued as it is: nothing to write */
    } else if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    sq_done(st, own);
    st = NULL;
    if ((code = prep(q, id ? SQL_REVIEW_UPDATE : SQL_REVIEW_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    if (id)
        rc = sqlite3_bind_int64(st, 1, id) | sq_b_str(st, 2, r->kind) |
             sqlite3_bind_int64(st, 3, cand) | sqlite3_bind_int64(st, 4, r->candidates) |
             sq_b_str(st, 5, r->row) | sqlite3_bind_int64(st, 6, r->line);
    else
        rc = sq_b_str(st, 1, r->source) | sq_b_str(st, 2, r->source_key) |
             sq_b_str(st, 3, r->kind) | sqlite3_bind_int64(st, 4, cand) |
             sqlite3_bind_int64(st, 5, r->candidates) | sq_b_str(st, 6, r->row) |
             sqlite3_bind_int64(st, 7, r->line) | sqlite3_bind_int64(st, 8, r->created_at);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((rc = sq_step_write(st)) != SQLITE_OK) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    if (!id) {
        r->id = sqlite3_last_insert_rowid(q->db);
        memcpy(r->state, "pending", 8);
    }
    *changed = true;
out:
    sq_done(st, own);
    return code;
}

tn_code sq_review_get(void *priv, int64_t id, store_review *out, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, SQL_REVIEW_GET, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "id", "no review entry %lld", (long long)id);
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!read_review(st, out))
        code = sq_corrupt("import_review", e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_review_list(void *priv, const char *state, store_review_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, SQL_REVIEW_LIST, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_opt(st, 1, state) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    store_review r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!read_review(st, &r)) {
            code = sq_corrupt("import_review", e);
            goto out;
        }
        if (cb(&r, ctx))
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_review_decide(void *priv, int64_t id, const char *state, int64_t decided_at,
                         tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = prep(q, SQL_REVIEW_DECIDE, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, id) | sq_b_str(st, 2, state) |
             sqlite3_bind_int64(st, 3, decided_at);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((rc = sq_step_write(st)) != SQLITE_OK)
        code = sq_fail(q, rc, e);
    else if (sqlite3_changes(q->db) == 0)
        code = tn_err_set(e, TN_ESTATE, "id", "review entry %lld is not pending", (long long)id);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_person_find_similar(void *priv, const char *given, const char *family, tn_date birth,
                               char (*ids)[UUID_BUFSZ], size_t max, size_t *n, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char bbuf[DATE_ISO_LEN];
    *n = 0;
    unsigned char lo[NID_DATE_BYTES] = {0}, hi[NID_DATE_BYTES];
    bool dated = nid_date_prefix(birth, lo);
    memcpy(hi, lo, sizeof hi);
    hi[NID_DATE_BYTES - 1]++; /* just past every key of that date */
    tn_code code = prep(q, sq_sql_similar, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int b = sq_b_str(st, 1, family) | sq_b_str(st, 2, given) | sq_b_date(st, 3, birth, bbuf);
    b |= dated ? sqlite3_bind_blob(st, 4, lo, sizeof lo, SQLITE_STATIC) : sqlite3_bind_null(st, 4);
    b |= dated ? sqlite3_bind_blob(st, 5, hi, sizeof hi, SQLITE_STATIC) : sqlite3_bind_null(st, 5);
    if (b != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n < max && !sq_col_str(st, 0, ids[*n], UUID_BUFSZ)) {
            code = sq_corrupt("person", e);
            goto out;
        }
        (*n)++;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_aff_list_active_by_source(void *priv, const char *source, tn_date as_of,
                                     store_aff_key_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char dbuf[DATE_ISO_LEN];
    tn_code code = prep(q, SQL_ACTIVE_BY_SOURCE, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sq_b_str(st, 1, source) | sq_b_date(st, 2, as_of, dbuf)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    char key[KEY_BUFSZ];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!sq_col_str(st, 1, key, sizeof key)) {
            code = sq_corrupt("affiliation", e);
            goto out;
        }
        if (cb(sqlite3_column_int64(st, 0), key, ctx))
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}
