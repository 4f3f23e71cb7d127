/* store_sqlite_rlblock — the read log's events in blocks (docs/audit.md,
 * "The read log"): many events per row of `audit_block`, each kept as its
 * canonical encoding and chain hash, byte for byte as the tail file framed
 * it.
 *
 * Why: a row per event cost its INSERT (about 11,000 instructions: a
 * record of fourteen columns and its B-tree work) on every audited read,
 * more than the rest of the read's audit together. A block costs one
 * INSERT for up to STORE_AUDIT_BLOCK_EVENTS events. The per-subject index
 * and every method of store_sqlite_audit.c keep their meaning: scans
 * decode the blocks, the retention cut rewrites the blocks it cuts into.
 *
 * A block is stored compressed (zstd, fast level -3): the events of a
 * read log repeat themselves (the same attribute list, actor and channel),
 * and five times fewer bytes through the WAL, its checkpoints and the disk
 * cost less than the compression (about 2,300 instructions per event;
 * level 1 took 4,100 for a sixth instead of a fifth). */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store_sqlite_int.h"
#include "tn_mem.h"

#define ZSTD_LEVEL (-3)
/* A block never unpacks to more: STORE_AUDIT_BLOCK_BYTES plus one event
 * of at most a few hundred KiB, with ample margin. */
#define UNPACKED_MAX (16 * 1024 * 1024)

static const char SQL_BLOCK_INSERT[] =
    "INSERT INTO audit_block (seq, first, n, max_us, hash, events) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_BLOCK_SCAN[] =
    "SELECT seq, first, events FROM audit_block WHERE seq >= ?1 ORDER BY seq";
static const char SQL_BLOCK_AT[] =
    "SELECT seq, first, events FROM audit_block WHERE seq >= ?1 ORDER BY seq LIMIT 1";
static const char SQL_BLOCK_AFTER[] =
    "SELECT seq, first, events FROM audit_block WHERE seq > ?1 ORDER BY seq";
static const char SQL_BLOCK_TIME[] =
    "SELECT seq, first, events FROM audit_block WHERE max_us >= ?1 ORDER BY seq";
static const char SQL_BLOCK_LAST[] = "SELECT coalesce(max(seq), 0) FROM audit_block";
static const char SQL_BLOCK_CUT[] =
    "SELECT seq, first, events FROM audit_block WHERE seq > ?1 ORDER BY seq LIMIT 64";
static const char SQL_BLOCK_DELETE[] = "DELETE FROM audit_block WHERE seq = ?1";
static const char SQL_SUBJECTS[] =
    "SELECT seq FROM audit_subject WHERE subject_id = ?1 ORDER BY seq";
static const char SQL_SUBJECT_ADD[] =
    "INSERT OR IGNORE INTO audit_subject (subject_id, seq) VALUES (?1, ?2)";
static const char SQL_SUBJECT_DROP[] =
    "DELETE FROM audit_subject WHERE subject_id = ?1 AND seq = ?2";
/* Resolved to the attached registry's table (store_sqlite_readlog.c). */
static const char SQL_HELD[] = "SELECT id FROM person WHERE legal_hold_until >= ?1 ORDER BY id";

/* ---- what a walk over blocks hands on ------------------------------------ */

/* The persons under legal hold on a date, sorted for bsearch. */
typedef struct held_set {
    char **id;
    size_t n;
} held_set;

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool held_has(const held_set *h, const char *id)
{
    return h && id && h->n && bsearch(&id, h->id, h->n, sizeof *h->id, cmp_id);
}

static void held_free(held_set *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->id[i]);
    free(h->id);
    h->id = NULL;
    h->n = 0;
}

static tn_code held_load(sq *q, const char *held_on, held_set *h, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    size_t cap = 0;
    tn_code code = sq_prep_sql(q, SQL_HELD, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, held_on) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (h->n == cap)
            h->id = tn_realloc(h->id, (cap = cap ? 2 * cap : 16) * sizeof *h->id);
        h->id[h->n++] = tn_strdup((const char *)sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    /* SQLite's text order is memcmp order, which is strcmp's: no sort. */
    return code;
}

void sq_rl_free(sq *q)
{
    ZSTD_freeCCtx(q->zc);
    ZSTD_freeDCtx(q->zd);
    q->zc = NULL;
    q->zd = NULL;
}

/* A stored block's entries into out; false with *why when the bytes do
 * not decompress to a block. */
static bool unpack(sq *q, const void *z, size_t zn, tn_buf *out, const char **why)
{
    unsigned long long n = ZSTD_getFrameContentSize(z, zn);
    if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > UNPACKED_MAX) {
        *why = "the block is not a compressed block of events";
        return false;
    }
    if (!q->zd && !(q->zd = ZSTD_createDCtx())) {
        *why = "out of memory";
        return false;
    }
    tn_buf_reset(out);
    if (!tn_buf_reserve(out, (size_t)n)) {
        *why = "the block is too large";
        return false;
    }
    size_t got = ZSTD_decompressDCtx(q->zd, out->data, (size_t)n + 1, z, zn);
    if (ZSTD_isError(got) || got != n) {
        *why = "the block does not decompress";
        return false;
    }
    out->len = got;
    return true;
}

/* Which events of a block a walk hands on, and how. */
typedef struct walk_opts {
    int64_t from, to;       /* seq bounds, to 0 = none */
    int64_t from_us, to_us; /* time bounds [from_us, to_us), 0 = none */
    const held_set *held;   /* to set rec->held, or NULL */
    bool skip_damaged;      /* leave out what cannot be decoded */
    char *scratch;          /* decoded strings of one event */
    size_t cap;
    tn_buf block;           /* the block being walked, unpacked (tn_buf_init: UNPACKED_MAX) */
} walk_opts;

static void walk_free(walk_opts *o)
{
    free(o->scratch);
    tn_buf_free(&o->block);
}

static char *scratch_for(walk_opts *o, size_t len)
{
    if (o->cap < len + 16) {
        free(o->scratch);
        o->cap = len + 16 > 4096 ? len + 16 : 4096;
        o->scratch = tn_malloc(o->cap);
    }
    return o->scratch;
}

/* Hand the events of the block p[0, n) that pass o to cb, in block order.
 * first: the number the block's first event should have (for a damaged
 * entry, whose own number cannot be read). bad: why the stored block could
 * not be unpacked (p is then not read), or NULL. 1 when cb stopped the
 * walk. */
static int walk_block(const unsigned char *p, size_t n, int64_t first, const char *bad,
                      walk_opts *o, store_audit_rec_cb cb, void *ctx)
{
    size_t off = 0;
    int64_t next = first;
    store_audit_entry en;
    const char *why = bad ? bad : "";
    int f;
    while ((f = bad ? -1 : store_audit_block_next(p, n, &off, &en, &why)) == 1) {
        if (en.seq < o->from) {
            next = en.seq + 1;
            continue;
        }
        if (o->to && en.seq > o->to)
            return 0;
        store_audit_rec x = {.seq = en.seq, .hash = en.hash, .hash_len = STORE_HASH_BYTES};
        int64_t seq;
        char *scratch = scratch_for(o, en.len);
        if (!store_audit_decode(en.enc, en.len, &seq, &x.r, scratch, o->cap, &why)) {
            f = -1;
            break;
        }
        next = en.seq + 1;
        if ((o->from_us && x.r.time_us < o->from_us) || (o->to_us && x.r.time_us >= o->to_us))
            continue;
        x.held = held_has(o->held, x.r.subject_id);
        if (cb(&x, ctx) != 0)
            return 1;
    }
    /* A scan that starts inside the damage still reports it, at its first
     * event: the events there cannot be left out unseen. */
    if (next < o->from)
        next = o->from;
    if (f == -1 && !o->skip_damaged && (!o->to || next <= o->to)) {
        store_audit_rec x = {
            .seq = next,
            .r = {.actor_kind = "", .actor_id = "", .channel = "", .action = "", .attrs = "",
                  .result = "", .request_id = "", .source = ""},
            .damaged = why,
        };
        return cb(&x, ctx) != 0;
    }
    return 0;
}

/* Walk the blocks that a prepared statement (columns seq, first, events)
 * selects, in seq order. Blocks are disjoint: the first one that starts
 * after o->to ends the walk (SQLite would visit every later one). */
static tn_code walk_rows(sq *q, sqlite3_stmt *st, walk_opts *o, store_audit_rec_cb cb,
                         void *ctx, tn_err *e)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (o->to && sqlite3_column_int64(st, 1) > o->to)
            return TN_OK;
        const char *bad = NULL;
        bool ok = unpack(q, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
                         &o->block, &bad);
        if (walk_block((const unsigned char *)o->block.data, ok ? o->block.len : 0,
                       sqlite3_column_int64(st, 1),
                       ok ? NULL : bad, o, cb, ctx))
            return TN_OK;
    }
    return rc == SQLITE_DONE ? TN_OK : sq_fail(q, rc, e);
}

/* ---- methods ------------------------------------------------------------- */

/* Insert without the transaction check: also used by the migration of a
 * version 1 read log, which runs in a transaction of its own. */
tn_code sq_rl_put_block(sq *q, const unsigned char *events, size_t len, tn_err *e)
{
    size_t off = 0;
    store_audit_entry en;
    const char *why = "";
    int64_t first = 0, last = 0, n = 0, max_us = 0;
    const unsigned char *hash = NULL;
    int f;
    while ((f = store_audit_block_next(events, len, &off, &en, &why)) == 1) {
        hash = en.hash;
        if (n && en.seq <= last)
            return tn_err_set(e, TN_EINVAL, "read_log", "a block's events are out of order");
        if (!n)
            first = en.seq;
        last = en.seq;
        if (!n || en.time_us > max_us)
            max_us = en.time_us;
        n++;
    }
    if (f == -1 || n == 0)
        return tn_err_set(e, TN_EINVAL, "read_log", "malformed block of events: %s",
                          n ? why : "empty");
    sqlite3_stmt *st = NULL;
    bool own = false;
    size_t zcap = ZSTD_compressBound(len), zn;
    unsigned char *z = tn_malloc(zcap);
    tn_code code = TN_OK;
    if (!q->zc && !(q->zc = ZSTD_createCCtx())) {
        code = tn_err_set(e, TN_EIO, "read_log", "cannot compress a block: out of memory");
        goto out;
    }
    zn = ZSTD_compressCCtx(q->zc, z, zcap, events, len, ZSTD_LEVEL);
    if (ZSTD_isError(zn)) {
        code = tn_err_set(e, TN_EIO, "read_log", "cannot compress a block: %s",
                          ZSTD_getErrorName(zn));
        goto out;
    }
    if ((code = sq_prep_sql(q, SQL_BLOCK_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, last);
    rc |= sqlite3_bind_int64(st, 2, first);
    rc |= sqlite3_bind_int64(st, 3, n);
    rc |= sqlite3_bind_int64(st, 4, max_us);
    rc |= sqlite3_bind_blob(st, 5, hash, STORE_HASH_BYTES, SQLITE_STATIC);
    rc |= sqlite3_bind_blob(st, 6, z, (int)zn, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    free(z);
    return code;
}

tn_code sq_rl_scan(sq *q, int64_t from_seq, int64_t to_seq, const char *held_on,
                   store_audit_rec_cb cb, void *ctx, tn_err *e)
{
    held_set h = {0};
    walk_opts o = {.from = from_seq, .to = to_seq, .held = held_on ? &h : NULL};
    tn_buf_init(&o.block, UNPACKED_MAX);
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = held_on ? held_load(q, held_on, &h, e) : TN_OK;
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_BLOCK_SCAN, &st, &own, e)) != TN_OK)
        goto out;
    if (sqlite3_bind_int64(st, 1, from_seq) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    code = walk_rows(q, st, &o, cb, ctx, e);
out:
    sq_done(st, own);
    held_free(&h);
    walk_free(&o);
    return code;
}

/* ---- the retention cut's first event --------------------------------------- */

typedef struct first_at {
    int64_t cut_us;
    int64_t seq; /* 0: not found yet */
} first_at;

static int first_at_cb(const store_audit_rec *x, void *ctx)
{
    first_at *f = ctx;
    if (x->damaged || x->r.time_us < f->cut_us)
        return 0;
    f->seq = x->seq;
    return 1;
}

tn_code sq_rl_cut_seq(sq *q, int64_t cut_us, int64_t *out, tn_err *e)
{
    first_at f = {.cut_us = cut_us};
    walk_opts o = {.skip_damaged = true};
    tn_buf_init(&o.block, UNPACKED_MAX);
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_BLOCK_TIME, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sqlite3_bind_int64(st, 1, cut_us) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    if ((code = walk_rows(q, st, &o, first_at_cb, &f, e)) != TN_OK)
        goto out;
    sq_done(st, own);
    st = NULL;
    if (f.seq) {
        *out = f.seq - 1;
        goto out;
    }
    /* No event at or after the cut: all of them lie before it. */
    if ((code = sq_prep_sql(q, SQL_BLOCK_LAST, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        code = sq_fail(q, rc == SQLITE_DONE ? SQLITE_ERROR : rc, e);
    else
        *out = sqlite3_column_int64(st, 0);
out:
    sq_done(st, own);
    walk_free(&o);
    return code;
}

/* ---- the per-subject index ------------------------------------------------- */

static tn_code subject_op(sq *q, const char *sql, const char *subject, int64_t seq,
                          int64_t *changed, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, subject) != SQLITE_OK || sqlite3_bind_int64(st, 2, seq) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
    else if (changed)
        *changed += sqlite3_changes64(q->db);
out:
    sq_done(st, own);
    return code;
}

typedef struct fill {
    sq *q;
    int64_t head;
    int64_t added;
    tn_code code;
    tn_err *e;
} fill;

static int fill_cb(const store_audit_rec *x, void *ctx)
{
    fill *f = ctx;
    if (x->seq > f->head)
        return 1;
    if (x->damaged || !x->r.subject_id)
        return 0;
    f->code = subject_op(f->q, SQL_SUBJECT_ADD, x->r.subject_id, x->seq, &f->added, f->e);
    return f->code != TN_OK;
}

tn_code sq_rl_index_fill(sq *q, int64_t wm, int64_t head, int64_t *indexed, tn_err *e)
{
    fill f = {.q = q, .head = head, .code = TN_OK, .e = e};
    walk_opts o = {.from = wm + 1, .skip_damaged = true};
    tn_buf_init(&o.block, UNPACKED_MAX);
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_BLOCK_AFTER, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sqlite3_bind_int64(st, 1, wm) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    code = walk_rows(q, st, &o, fill_cb, &f, e);
    if (code == TN_OK)
        code = f.code;
    *indexed = f.added;
out:
    sq_done(st, own);
    walk_free(&o);
    return code;
}

tn_code sq_rl_by_subject(sq *q, const char *subject_id, int64_t from_us, int64_t to_us,
                         store_audit_rec_cb cb, void *ctx, tn_err *e)
{
    int64_t *seqs = NULL;
    size_t n = 0, cap = 0;
    tn_buf blk; /* the block that holds seqs[i], unpacked */
    tn_buf_init(&blk, UNPACKED_MAX);
    bool have = false, ok = false;
    int64_t bkey = 0, bfirst = 0;
    walk_opts o = {.from_us = from_us, .to_us = to_us, .skip_damaged = true};
    tn_buf_init(&o.block, UNPACKED_MAX);
    sqlite3_stmt *st = NULL;
    bool own = false;
    /* The index first, whole: the walk below steps other statements. */
    tn_code code = sq_prep_sql(q, SQL_SUBJECTS, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, subject_id) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap)
            seqs = tn_realloc(seqs, (cap = cap ? 2 * cap : 64) * sizeof *seqs);
        seqs[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    sq_done(st, own);
    st = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!have || seqs[i] > bkey) {
            if ((code = sq_prep_sql(q, SQL_BLOCK_AT, &st, &own, e)) != TN_OK)
                goto out;
            if (sqlite3_bind_int64(st, 1, seqs[i]) != SQLITE_OK) {
                code = sq_bind_fail(q, e);
                goto out;
            }
            rc = sqlite3_step(st);
            if (rc == SQLITE_DONE) /* pruned since it was indexed */
                break;
            if (rc != SQLITE_ROW) {
                code = sq_fail(q, rc, e);
                goto out;
            }
            bkey = sqlite3_column_int64(st, 0);
            bfirst = sqlite3_column_int64(st, 1);
            const char *why;
            ok = unpack(q, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), &blk,
                        &why);
            have = true;
            sq_done(st, own);
            st = NULL;
        }
        o.from = o.to = seqs[i];
        /* A block that does not unpack is left out here: verify reports it. */
        if (ok && walk_block((const unsigned char *)blk.data, blk.len, bfirst, NULL, &o, cb, ctx))
            break;
    }
out:
    sq_done(st, own);
    free(seqs);
    tn_buf_free(&blk);
    walk_free(&o);
    return code;
}

/* ---- the retention cut ----------------------------------------------------- */

typedef struct cut_block {
    int64_t key;
    unsigned char *events;
    size_t len;
} cut_block;

/* Rewrite one block without its events up to cut_seq, except those of held
 * persons. */
static tn_code cut_one(sq *q, const cut_block *b, int64_t cut_seq, const held_set *h,
                       walk_opts *o, int64_t *deleted, tn_err *e)
{
    tn_buf kept;
    tn_buf_init(&kept, UNPACKED_MAX);
    size_t off = 0;
    int64_t removed = 0;
    store_audit_entry en;
    const char *why = "";
    int f = 0;
    tn_code code = TN_OK;
    tn_buf *u = &o->block;
    if (!unpack(q, b->events, b->len, u, &why))
        f = -1;
    while (f != -1 && (f = store_audit_block_next((const unsigned char *)u->data, u->len, &off, &en, &why)) == 1) {
        store_audit_row r;
        int64_t seq;
        char *scratch = scratch_for(o, en.len);
        if (!store_audit_decode(en.enc, en.len, &seq, &r, scratch, o->cap, &why)) {
            f = -1;
            break;
        }
        if (en.seq > cut_seq || held_has(h, r.subject_id)) {
            store_audit_block_add(&kept, en.enc, en.len, en.hash);
            continue;
        }
        removed++;
        if (r.subject_id &&
            (code = subject_op(q, SQL_SUBJECT_DROP, r.subject_id, en.seq, NULL, e)) != TN_OK)
            goto out;
    }
    if (f == -1) {
        code = tn_err_set(e, TN_ESTATE, "read_log",
                          "the read log's block ending at event %lld is damaged (%s); run "
                          "tunnus audit verify",
                          (long long)b->key, why);
        goto out;
    }
    if (removed == 0)
        goto out;
    sqlite3_stmt *st = NULL;
    bool own = false;
    if ((code = sq_prep_sql(q, SQL_BLOCK_DELETE, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, b->key);
    rc = rc == SQLITE_OK ? sq_step_write(st) : rc;
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
    sq_done(st, own);
    if (code == TN_OK && kept.len)
        code = sq_rl_put_block(q, (const unsigned char *)kept.data, kept.len, e);
    if (code == TN_OK)
        *deleted += removed;
out:
    tn_buf_free(&kept);
    return code;
}

tn_code sq_rl_prune_events(sq *q, int64_t cut_seq, const char *held_on, int64_t *deleted,
                           tn_err *e)
{
    held_set h = {0};
    walk_opts o = {0};
    tn_buf_init(&o.block, UNPACKED_MAX);
    cut_block v[64];
    size_t nv = 0;
    int64_t cursor = 0;
    tn_code code = held_on ? held_load(q, held_on, &h, e) : TN_OK;
    while (code == TN_OK) {
        /* A batch at a time, copied out: the blocks are rewritten below,
         * and a rewritten block's key is never above the cursor. */
        sqlite3_stmt *st = NULL;
        bool own = false;
        if ((code = sq_prep_sql(q, SQL_BLOCK_CUT, &st, &own, e)) != TN_OK)
            break;
        int rc = sqlite3_bind_int64(st, 1, cursor);
        if (rc != SQLITE_OK) {
            code = sq_bind_fail(q, e);
            sq_done(st, own);
            break;
        }
        bool past = false; /* a block that starts after the cut: the rest do too */
        while (!past && nv < 64 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (sqlite3_column_int64(st, 1) > cut_seq) {
                past = true;
                break;
            }
            cut_block *b = &v[nv++];
            b->key = sqlite3_column_int64(st, 0);
            b->len = (size_t)sqlite3_column_bytes(st, 2);
            b->events = tn_malloc(b->len + 1);
            if (b->len)
                memcpy(b->events, sqlite3_column_blob(st, 2), b->len);
        }
        if (!past && rc != SQLITE_ROW && rc != SQLITE_DONE)
            code = sq_fail(q, rc, e);
        sq_done(st, own);
        if (nv == 0)
            break;
        for (size_t i = 0; i < nv && code == TN_OK; i++)
            code = cut_one(q, &v[i], cut_seq, held_on ? &h : NULL, &o, deleted, e);
        cursor = v[nv - 1].key;
        for (size_t i = 0; i < nv; i++)
            free(v[i].events);
        nv = 0;
    }
    held_free(&h);
    walk_free(&o);
    return code;
}
