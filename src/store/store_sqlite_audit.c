/* store_sqlite_audit — the audit chain's storage in the SQLite backend:
 * chained appends, scans with hashes, signed checkpoints, the retention
 * prune and the lazily filled per-subject index (see docs/audit.md). */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "tn_mem.h"

#define AUDIT_COLS                                                                    \
    "e.seq, e.time_us, e.actor_kind, e.actor_id, e.channel, e.action, e.subject_id, " \
    "e.attrs, e.changes, e.result, e.request_id, e.source, e.detail, e.hash "

/* The newest event is the rightmost leaf of the rowid tree: one descent
 * that is always in the page cache. The newest cut checkpoint may lie
 * beyond it (the events at the cut were pruned, held ones kept): then the
 * chain continues from the cut. */
static const char SQL_HEAD[] = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1";
static const char SQL_HEAD_BLOCK[] =
    "SELECT seq, hash FROM audit_block ORDER BY seq DESC LIMIT 1";
static const char SQL_HEAD_CUT[] =
    "SELECT seq, hash FROM audit_checkpoint WHERE kind = 'cut' ORDER BY seq DESC, id DESC LIMIT 1";
static const char SQL_INSERT[] =
    "INSERT INTO audit_event (seq, time_us, actor_kind, actor_id, channel, action, "
    "subject_id, attrs, changes, result, request_id, source, detail, hash) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
static const char SQL_SCAN[] =
    "SELECT " AUDIT_COLS ", 0 FROM audit_event e "
    "WHERE e.seq >= ?1 AND (?2 = 0 OR e.seq <= ?2) ORDER BY e.seq";
static const char SQL_SCAN_HELD[] =
    "SELECT " AUDIT_COLS ", coalesce(p.legal_hold_until >= ?3, 0) FROM audit_event e "
    "LEFT JOIN person p ON p.id = e.subject_id "
    "WHERE e.seq >= ?1 AND (?2 = 0 OR e.seq <= ?2) ORDER BY e.seq";
static const char SQL_CP_INSERT[] =
    "INSERT INTO audit_checkpoint (seq, hash, time_us, kind, cut_us, kept, sig) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_CP_LIST[] =
    "SELECT id, seq, hash, time_us, kind, cut_us, kept, sig FROM audit_checkpoint "
    "ORDER BY seq, id";
static const char SQL_CUT_SEQ[] =
    "SELECT coalesce((SELECT min(seq) FROM audit_event WHERE time_us >= ?1), "
    "(SELECT coalesce(max(seq), 0) + 1 FROM audit_event)) - 1";
static const char SQL_GATE_OPEN[] =
    "INSERT INTO meta (key, value) VALUES ('audit_prune', 'open') "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
static const char SQL_GATE_CLOSE[] = "DELETE FROM meta WHERE key = 'audit_prune'";
/* The retention cut deletes in chunks of PRUNE_CHUNK events (index
 * entries): each DELETE's statement journal, which the store keeps in
 * memory (STORE_STMTJRNL_SPILL), then holds the pages of one chunk, not of
 * the whole cut. One DELETE of 200,000 imported events took 360 MB. The
 * held persons come from the partial index person_held (migration 0018). */
#define PRUNE_CHUNK 8192
/* The next event after ?1; INT64_MAX (past any cut) when there is none. */
static const char SQL_PRUNE_NEXT[] =
    "SELECT coalesce(min(seq), 9223372036854775807) FROM audit_event WHERE seq > ?1";
static const char SQL_PRUNE[] =
    "DELETE FROM audit_event WHERE seq > ?1 AND seq <= ?2 AND (subject_id IS NULL OR "
    "subject_id NOT IN (SELECT id FROM person WHERE legal_hold_until >= ?3))";
static const char SQL_PRUNE_CP[] = "DELETE FROM audit_checkpoint WHERE seq <= ?1";
/* The index is walked in its own order, (subject_id, seq), from a cursor:
 * it has no index by seq. */
static const char SQL_PRUNE_INDEX_BOUND[] =
    "SELECT subject_id, seq FROM audit_subject WHERE (subject_id, seq) > (?1, ?2) "
    "ORDER BY subject_id, seq LIMIT 1 OFFSET ?3";
static const char SQL_PRUNE_INDEX_TO[] =
    "DELETE FROM audit_subject WHERE (subject_id, seq) > (?1, ?2) "
    "AND (subject_id, seq) <= (?3, ?4) AND seq <= ?5 AND NOT EXISTS "
    "(SELECT 1 FROM audit_event e WHERE e.seq = audit_subject.seq)";
static const char SQL_PRUNE_INDEX_REST[] =
    "DELETE FROM audit_subject WHERE (subject_id, seq) > (?1, ?2) AND seq <= ?5 AND NOT EXISTS "
    "(SELECT 1 FROM audit_event e WHERE e.seq = audit_subject.seq)";
static const char SQL_WATERMARK[] =
    "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'audit_index_seq'), 0)";
static const char SQL_INDEX_FILL[] =
    "INSERT OR IGNORE INTO audit_subject (subject_id, seq) "
    "SELECT subject_id, seq FROM audit_event WHERE seq > ?1 AND seq <= ?2 "
    "AND subject_id IS NOT NULL";
static const char SQL_WATERMARK_SET[] =
    "INSERT INTO meta (key, value) VALUES ('audit_index_seq', ?1) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
static const char SQL_BY_SUBJECT[] =
    "SELECT " AUDIT_COLS ", 0 FROM audit_subject s JOIN audit_event e ON e.seq = s.seq "
    "WHERE s.subject_id = ?1 AND (?2 = 0 OR e.time_us >= ?2) AND (?3 = 0 OR e.time_us < ?3) "
    "ORDER BY s.seq";

static const char *ctext(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Run a statement that selects one integer into *out. */
static tn_code one_int(sq *q, const char *sql, int64_t p1, int64_t *out, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sqlite3_bind_parameter_count(st) >= 1 && sqlite3_bind_int64(st, 1, p1) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        code = sq_fail(q, rc == SQLITE_DONE ? SQLITE_ERROR : rc, e);
    else
        *out = sqlite3_column_int64(st, 0);
out:
    sq_done(st, own);
    return code;
}

/* Run a write statement with up to two integer parameters and an optional
 * text third; *changes (may be NULL) receives the rows changed. */
static tn_code exec_w(sq *q, const char *sql, int64_t p1, const char *t2, int64_t *changes,
                      tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int n = sqlite3_bind_parameter_count(st);
    int rc = SQLITE_OK;
    if (n >= 1)
        rc |= sqlite3_bind_int64(st, 1, p1);
    if (n >= 2)
        rc |= sq_b_text(st, 2, t2);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    if (changes)
        *changes = sqlite3_changes64(q->db);
out:
    sq_done(st, own);
    return code;
}

static tn_code head_from(sq *q, const char *sql, int64_t *seq, unsigned char *hash, bool *has,
                         tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        *has = false;
    } else if (rc != SQLITE_ROW) {
        code = sq_fail(q, rc, e);
    } else {
        *has = true;
        *seq = sqlite3_column_int64(st, 0);
        memset(hash, 0, STORE_HASH_BYTES);
        if (sqlite3_column_bytes(st, 1) == STORE_HASH_BYTES)
            memcpy(hash, sqlite3_column_blob(st, 1), STORE_HASH_BYTES);
    }
out:
    sq_done(st, own);
    return code;
}

tn_code sq_audit_head(void *priv, int64_t *seq, unsigned char *hash, bool *has, tn_err *e)
{
    sq *q = priv;
    *seq = 0;
    memset(hash, 0, STORE_HASH_BYTES);
    int64_t cseq = 0;
    unsigned char chash[STORE_HASH_BYTES];
    bool chas = false;
    tn_code code = head_from(q, q->blocks ? SQL_HEAD_BLOCK : SQL_HEAD, seq, hash, has, e);
    if (code == TN_OK)
        code = head_from(q, SQL_HEAD_CUT, &cseq, chash, &chas, e);
    if (code == TN_OK && chas && (!*has || cseq > *seq)) {
        *seq = cseq;
        memcpy(hash, chash, STORE_HASH_BYTES);
        *has = true;
    }
    return code;
}

tn_code sq_audit_insert(void *priv, int64_t seq, const store_audit_row *r,
                        const unsigned char *hash, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK && q->blocks) {
        /* A block of one: the read log's events come in blocks from its
         * tail file (audit_chain_put_block); this is the direct path. */
        tn_buf blk;
        tn_buf_init(&blk, 4 * 1024 * 1024);
        code = store_audit_block_put(&blk, seq, r, hash)
                   ? sq_rl_put_block(q, (const unsigned char *)blk.data, blk.len, e)
                   : tn_err_set(e, TN_EINVAL, "audit", "audit event too big");
        tn_buf_free(&blk);
        return code;
    }
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, seq);
    rc |= sqlite3_bind_int64(st, 2, r->time_us);
    rc |= sq_b_text(st, 3, r->actor_kind);
    rc |= sq_b_str(st, 4, r->actor_id);
    rc |= sq_b_text(st, 5, r->channel);
    rc |= sq_b_text(st, 6, r->action);
    rc |= sq_b_opt(st, 7, r->subject_id);
    rc |= sq_b_str(st, 8, r->attrs);
    rc |= sq_b_text(st, 9, r->changes);
    rc |= sq_b_text(st, 10, r->result);
    rc |= sq_b_str(st, 11, r->request_id);
    rc |= sq_b_str(st, 12, r->source);
    rc |= sq_b_text(st, 13, r->detail);
    rc |= sqlite3_bind_blob(st, 14, hash, STORE_HASH_BYTES, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_audit_insert_block(void *priv, const unsigned char *events, size_t len, tn_err *e)
{
    sq *q = priv;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK)
        return code;
    if (q->blocks)
        return sq_rl_put_block(q, events, len, e);
    /* The registry keeps a row per event. */
    size_t off = 0;
    store_audit_entry en;
    const char *why = "";
    char *scratch = NULL;
    int f;
    while (code == TN_OK && (f = store_audit_block_next(events, len, &off, &en, &why)) == 1) {
        store_audit_row r;
        int64_t seq;
        scratch = tn_realloc(scratch, en.len + 16);
        if (!store_audit_decode(en.enc, en.len, &seq, &r, scratch, en.len + 16, &why))
            f = -1;
        else
            code = sq_audit_insert(q, seq, &r, en.hash, e);
        if (f == -1)
            break;
    }
    free(scratch);
    if (code == TN_OK && f == -1)
        code = tn_err_set(e, TN_EINVAL, "audit", "malformed block of events: %s", why);
    return code;
}



/* Step through rows of AUDIT_COLS plus a held flag and hand each to cb. */
static tn_code walk(sq *q, sqlite3_stmt *st, store_audit_rec_cb cb, void *ctx, tn_err *e)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_audit_rec x = {
            .seq = sqlite3_column_int64(st, 0),
            .r =
                {
                    .time_us = sqlite3_column_int64(st, 1),
                    .actor_kind = ctext(st, 2),
                    .actor_id = ctext(st, 3),
                    .channel = ctext(st, 4),
                    .action = ctext(st, 5),
                    .subject_id = ctext(st, 6),
                    .attrs = ctext(st, 7),
                    .changes = ctext(st, 8),
                    .result = ctext(st, 9),
                    .request_id = ctext(st, 10),
                    .source = ctext(st, 11),
                    .detail = ctext(st, 12),
                },
            .hash = sqlite3_column_blob(st, 13),
            .hash_len = (size_t)sqlite3_column_bytes(st, 13),
            .held = sqlite3_column_int(st, 14) != 0,
        };
        if (cb(&x, ctx) != 0)
            return TN_OK;
    }
    return rc == SQLITE_DONE ? TN_OK : sq_fail(q, rc, e);
}

tn_code sq_audit_scan(void *priv, int64_t from_seq, int64_t to_seq, const char *held_on,
                      store_audit_rec_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    if (q->blocks)
        return sq_rl_scan(q, from_seq, to_seq, held_on, cb, ctx, e);
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, held_on ? SQL_SCAN_HELD : SQL_SCAN, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, from_seq);
    rc |= sqlite3_bind_int64(st, 2, to_seq);
    if (held_on)
        rc |= sq_b_text(st, 3, held_on);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    code = walk(q, st, cb, ctx, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_audit_cp_insert(void *priv, const store_audit_cp *c, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_CP_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, c->seq);
    rc |= sqlite3_bind_blob(st, 2, c->hash, (int)c->hash_len, SQLITE_STATIC);
    rc |= sqlite3_bind_int64(st, 3, c->time_us);
    rc |= sq_b_text(st, 4, c->kind);
    rc |= sqlite3_bind_int64(st, 5, c->cut_us);
    rc |= sqlite3_bind_blob(st, 6, c->kept_len ? (const void *)c->kept : "",
                            (int)c->kept_len, SQLITE_STATIC);
    rc |= sqlite3_bind_blob(st, 7, c->sig, (int)c->sig_len, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_audit_cp_list(void *priv, store_audit_cp_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_CP_LIST, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_audit_cp c = {
            .id = sqlite3_column_int64(st, 0),
            .seq = sqlite3_column_int64(st, 1),
            .hash = sqlite3_column_blob(st, 2),
            .hash_len = (size_t)sqlite3_column_bytes(st, 2),
            .time_us = sqlite3_column_int64(st, 3),
            .kind = ctext(st, 4),
            .cut_us = sqlite3_column_int64(st, 5),
            .kept = sqlite3_column_blob(st, 6),
            .kept_len = (size_t)sqlite3_column_bytes(st, 6),
            .sig = sqlite3_column_blob(st, 7),
            .sig_len = (size_t)sqlite3_column_bytes(st, 7),
        };
        if (!c.kind)
            c.kind = "";
        if (cb(&c, ctx) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_audit_cut_seq(void *priv, int64_t cut_us, int64_t *out, tn_err *e)
{
    sq *q = priv;
    return q->blocks ? sq_rl_cut_seq(q, cut_us, out, e) : one_int(q, SQL_CUT_SEQ, cut_us, out, e);
}

/* The registry's events up to cut_seq, but the held persons', in chunks of
 * PRUNE_CHUNK sequence numbers from one that exists (a long-kept held event
 * does not make the walk step through empty ranges). */
static tn_code prune_events(sq *q, int64_t cut_seq, const char *held_on, int64_t *deleted,
                            tn_err *e)
{
    sqlite3_stmt *del = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_PRUNE, &del, &own, e);
    int64_t lo = INT64_MIN, first = 0;
    while (code == TN_OK && (code = one_int(q, SQL_PRUNE_NEXT, lo, &first, e)) == TN_OK &&
           first <= cut_seq) {
        int64_t hi = cut_seq - first < PRUNE_CHUNK ? cut_seq : first - 1 + PRUNE_CHUNK;
        int rc = sqlite3_bind_int64(del, 1, first - 1);
        rc |= sqlite3_bind_int64(del, 2, hi);
        rc |= sq_b_text(del, 3, held_on);
        if (rc != SQLITE_OK)
            code = sq_bind_fail(q, e);
        else if ((rc = sq_step_write(del)) != SQLITE_OK)
            code = sq_fail(q, rc, e);
        else
            *deleted += sqlite3_changes64(q->db);
        sqlite3_reset(del);
        lo = hi;
    }
    sq_done(del, own);
    return code;
}

/* Index entries of pruned events, walked in the index's own order. */
static tn_code prune_index(sq *q, int64_t cut_seq, tn_err *e)
{
    sqlite3_stmt *bound = NULL, *del = NULL;
    bool own_bound = false, own_del = false;
    tn_code code = sq_prep_sql(q, SQL_PRUNE_INDEX_BOUND, &bound, &own_bound, e);
    /* The cursor, kept as the stored value itself (a subject_id written by
     * hand as a BLOB must not sort anew as text). It starts below every
     * key: subject_ids are text, and '' is the least text. */
    sqlite3_value *cur_id = NULL;
    int64_t cur_seq = INT64_MIN;
    while (code == TN_OK) {
        int rc = cur_id ? sqlite3_bind_value(bound, 1, cur_id)
                        : sqlite3_bind_text(bound, 1, "", 0, SQLITE_STATIC);
        rc |= sqlite3_bind_int64(bound, 2, cur_seq);
        rc |= sqlite3_bind_int64(bound, 3, PRUNE_CHUNK - 1);
        if (rc != SQLITE_OK) {
            code = sq_bind_fail(q, e);
            break;
        }
        rc = sqlite3_step(bound);
        bool last = rc == SQLITE_DONE;
        if (rc != SQLITE_ROW && !last) {
            code = sq_fail(q, rc, e);
            break;
        }
        sqlite3_value *hi_id = last ? NULL : sqlite3_value_dup(sqlite3_column_value(bound, 0));
        int64_t hi_seq = last ? 0 : sqlite3_column_int64(bound, 1);
        sqlite3_reset(bound);
        if (!last && !hi_id) {
            code = tn_err_set(e, TN_EINTERNAL, "audit", "out of memory");
            break;
        }
        code = sq_prep_sql(q, last ? SQL_PRUNE_INDEX_REST : SQL_PRUNE_INDEX_TO, &del, &own_del, e);
        if (code == TN_OK) {
            rc = cur_id ? sqlite3_bind_value(del, 1, cur_id)
                        : sqlite3_bind_text(del, 1, "", 0, SQLITE_STATIC);
            rc |= sqlite3_bind_int64(del, 2, cur_seq);
            if (!last) {
                rc |= sqlite3_bind_value(del, 3, hi_id);
                rc |= sqlite3_bind_int64(del, 4, hi_seq);
            }
            rc |= sqlite3_bind_int64(del, 5, cut_seq);
            if (rc != SQLITE_OK)
                code = sq_bind_fail(q, e);
            else if ((rc = sq_step_write(del)) != SQLITE_OK)
                code = sq_fail(q, rc, e);
        }
        sq_done(del, own_del);
        del = NULL;
        sqlite3_value_free(cur_id);
        cur_id = hi_id;
        cur_seq = hi_seq;
        if (last)
            break;
    }
    sq_done(bound, own_bound);
    sqlite3_value_free(cur_id);
    return code;
}

tn_code sq_audit_prune(void *priv, int64_t cut_seq, const char *held_on, int64_t *deleted,
                       tn_err *e)
{
    sq *q = priv;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK)
        return code;
    *deleted = 0;
    if ((code = exec_w(q, SQL_GATE_OPEN, 0, NULL, NULL, e)) != TN_OK)
        return code;
    /* A read log drops the index entries of the events it cuts itself. */
    code = q->blocks ? sq_rl_prune_events(q, cut_seq, held_on, deleted, e)
                     : prune_events(q, cut_seq, held_on, deleted, e);
    /* The gate closes in the same transaction whatever happened: if the
     * caller commits, no open gate is left behind. */
    tn_code c2 = exec_w(q, SQL_GATE_CLOSE, 0, NULL, NULL, code == TN_OK ? e : NULL);
    if (code == TN_OK)
        code = c2;
    if (code == TN_OK)
        code = exec_w(q, SQL_PRUNE_CP, cut_seq, NULL, NULL, e);
    if (code == TN_OK && !q->blocks)
        code = prune_index(q, cut_seq, e);
    return code;
}

tn_code sq_audit_index_catch_up(void *priv, int64_t *indexed, tn_err *e)
{
    sq *q = priv;
    int64_t wm = 0, head = 0;
    unsigned char h[STORE_HASH_BYTES];
    bool has = false;
    *indexed = 0;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = one_int(q, SQL_WATERMARK, 0, &wm, e)) != TN_OK ||
        (code = sq_audit_head(q, &head, h, &has, e)) != TN_OK)
        return code;
    if (head <= wm)
        return TN_OK;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int rc;
    if (q->blocks) {
        if ((code = sq_rl_index_fill(q, wm, head, indexed, e)) != TN_OK)
            goto out;
        goto mark;
    }
    if ((code = sq_prep_sql(q, SQL_INDEX_FILL, &st, &own, e)) != TN_OK)
        goto out;
    /* In chunks, like the retention cut: a statement's journal is kept in
     * memory, and entries land at random places of a large index. */
    for (int64_t lo = wm; lo < head;) {
        int64_t hi = head - lo > PRUNE_CHUNK ? lo + PRUNE_CHUNK : head;
        if (sqlite3_bind_int64(st, 1, lo) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, hi) != SQLITE_OK) {
            code = sq_bind_fail(q, e);
            goto out;
        }
        rc = sq_step_write(st);
        if (rc != SQLITE_OK) {
            code = sq_fail(q, rc, e);
            goto out;
        }
        *indexed += sqlite3_changes64(q->db);
        sqlite3_reset(st);
        lo = hi;
    }
    sq_done(st, own);
    st = NULL;
mark:
    if ((code = sq_prep_sql(q, SQL_WATERMARK_SET, &st, &own, e)) != TN_OK)
        goto out;
    if (sqlite3_bind_int64(st, 1, head) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_audit_by_subject(void *priv, const char *subject_id, int64_t from_us, int64_t to_us,
                            store_audit_rec_cb cb, void *ctx, tn_err *e)
{
    sq *q = priv;
    if (q->blocks)
        return sq_rl_by_subject(q, subject_id, from_us, to_us, cb, ctx, e);
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_BY_SUBJECT, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc = sq_b_text(st, 1, subject_id);
    rc |= sqlite3_bind_int64(st, 2, from_us);
    rc |= sqlite3_bind_int64(st, 3, to_us);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    code = walk(q, st, cb, ctx, e);
out:
    sq_done(st, own);
    return code;
}
