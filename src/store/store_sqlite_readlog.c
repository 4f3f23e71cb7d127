/* store_sqlite_readlog — the read log: a second SQLite file next to the
 * registry that holds only the hash chain of read events (docs/audit.md).
 *
 * Why a separate file: a commit to a SQLite database changes its WAL, and
 * every other connection to that database then throws its page cache away
 * at its next read. Committing read events into the registry made every
 * audited read cost the other threads their cached registry pages. Here
 * the registry is left untouched by reads.
 *
 * The read log has the registry's audit tables (same columns, same
 * append-only triggers, checkpoints, subject index and meta), so every
 * audit method of the SQLite backend works on it unchanged. The registry
 * is attached as schema "reg", read only in practice: the retention prune
 * and the legal-hold scan name the table `person`, which the read log
 * lacks, so SQLite resolves it to the registry's. Only the prune's own
 * connection attaches it: a read transaction on the registry would cost
 * every group commit of reads a lock and a page-cache check. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_sqlite_int.h"
#include "tn_mem.h"

#define READLOG_VERSION 2
#define READLOG_BUSY_MS 5000

/* The tables of version 2. The checkpoints, the per-subject index and meta
 * are the registry's (0001_registry.sql, 0002_audit.sql), so that the SQL
 * of store_sqlite_audit.c runs on both; the events are in blocks
 * (store_sqlite_rlblock.c): `seq` is a block's last event, `first` its
 * first, `max_us` its newest time, `hash` its last event's chain hash,
 * `events` the entries back to back, compressed (zstd). */
#define SQL_BLOCKS                                                                      \
    "CREATE TABLE audit_block (seq INTEGER PRIMARY KEY, first INTEGER NOT NULL,"        \
    " n INTEGER NOT NULL, max_us INTEGER NOT NULL, hash BLOB NOT NULL,"                 \
    " events BLOB NOT NULL);"                                                           \
    "CREATE TRIGGER audit_block_no_update BEFORE UPDATE ON audit_block "                \
    "BEGIN SELECT RAISE(ABORT, 'audit_block is append-only'); END;"                     \
    "CREATE TRIGGER audit_block_no_delete BEFORE DELETE ON audit_block "                \
    " WHEN (SELECT value FROM meta WHERE key = 'audit_prune') IS NOT 'open' "          \
    "BEGIN SELECT RAISE(ABORT, 'audit_block is append-only'); END;"
static const char SQL_SCHEMA[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;" SQL_BLOCKS
    "CREATE TABLE audit_checkpoint ("
    " id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash BLOB NOT NULL,"
    " time_us INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind = 'periodic' OR kind = 'cut'),"
    " cut_us INTEGER NOT NULL DEFAULT 0, kept BLOB NOT NULL DEFAULT x'', sig BLOB NOT NULL);"
    "CREATE INDEX audit_checkpoint_seq ON audit_checkpoint(seq);"
    "CREATE INDEX audit_checkpoint_cut ON audit_checkpoint(seq DESC, id DESC) "
    " WHERE kind = 'cut';"
    "CREATE TABLE audit_subject (subject_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY (subject_id, seq)) WITHOUT ROWID;"
    "PRAGMA user_version = 2;";

/* Version 1 kept a row per event in audit_event (the registry's table):
 * its events move into blocks, unchanged, and the table goes. */
static const char SQL_V1_EVENTS[] =
    "SELECT seq, time_us, actor_kind, actor_id, channel, action, subject_id, attrs, changes, "
    "result, request_id, source, detail, hash FROM audit_event ORDER BY seq";
static const char SQL_V1_DONE[] = "DROP TRIGGER audit_event_no_update;"
                                  "DROP TRIGGER audit_event_no_delete;"
                                  "PRAGMA user_version = 2;";
/* The old table goes in a statement of its own after the conversion's
 * commit: dropped inside that transaction, SQLite (3.40, WAL) kept every
 * page it freed in memory until the commit (1.6 GB for 4.8 million
 * events). Should the process stop between the two, the next open drops
 * it. */
static const char SQL_V1_LEFT[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_event'";
static const char SQL_V1_DROP[] = "DROP TABLE IF EXISTS audit_event";

/* As the registry's connections (store_sqlite.c), for the same reasons:
 * WAL, no fsync per commit (a commit survives a crash of the process),
 * few checkpoints. */
static const char SQL_PRAGMAS[] = "PRAGMA synchronous = NORMAL;"
                                  "PRAGMA cache_size = -8192;"
                                  "PRAGMA temp_store = MEMORY;"
                                  "PRAGMA wal_autocheckpoint = 16384;"
                                  "PRAGMA trusted_schema = OFF;";
static const char SQL_VERSION[] = "PRAGMA user_version";
static const char SQL_ATTACH[] = "ATTACH DATABASE ?1 AS reg";

static tn_code rl_err(sqlite3 *db, const char *path, const char *what, tn_err *e)
{
    return tn_err_set(e, TN_EIO, "read_log", "%s read log %s: %s", what, path,
                      db ? sqlite3_errmsg(db) : "out of memory");
}

/* One row, one column: the integer. */
static bool one_int(sqlite3 *db, const char *sql, int *num)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *num = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return ok;
}

/* The registry is attached read-only (a URI with mode=ro): a write
 * transaction of the read log then takes no lock on the registry, so it
 * neither waits for nor blocks the registry's writers. */
static bool attach(sqlite3 *db, const char *registry)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(registry);
    char *uri = tn_malloc(3 * n + 32), *p = uri;
    memcpy(p, "file:", 5);
    p += 5;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)registry[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    memcpy(p, "?mode=ro", 9);
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, SQL_ATTACH, -1, &st, NULL) == SQLITE_OK &&
              sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    free(uri);
    return ok;
}

static const char *v1_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static bool v1_flush(sq *q, tn_buf *blk, tn_err *e)
{
    bool ok = blk->len == 0 ||
              sq_rl_put_block(q, (const unsigned char *)blk->data, blk->len, e) == TN_OK;
    tn_buf_reset(blk);
    return ok;
}

/* In the caller's transaction: version 1's rows become blocks of the same
 * encodings and hashes (so the chain and its checkpoints verify as
 * before). */
static bool migrate_v1(sq *q, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    tn_buf blk;
    tn_buf_init(&blk, 64 * 1024 * 1024);
    int n = 0, rc = SQLITE_DONE;
    bool ok = sqlite3_exec(q->db, SQL_BLOCKS, NULL, NULL, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(q->db, SQL_V1_EVENTS, -1, &st, NULL) == SQLITE_OK;
    static const unsigned char zero[STORE_HASH_BYTES];
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_audit_row r = {
            .time_us = sqlite3_column_int64(st, 1),
            .actor_kind = v1_text(st, 2),
            .actor_id = v1_text(st, 3),
            .channel = v1_text(st, 4),
            .action = v1_text(st, 5),
            .subject_id = v1_text(st, 6),
            .attrs = v1_text(st, 7),
            .changes = v1_text(st, 8),
            .result = v1_text(st, 9),
            .request_id = v1_text(st, 10),
            .source = v1_text(st, 11),
            .detail = v1_text(st, 12),
        };
        /* A missing hash stays missing in effect: zeros fail verify as
         * the absent hash did. */
        const unsigned char *h = sqlite3_column_bytes(st, 13) == STORE_HASH_BYTES
                                     ? sqlite3_column_blob(st, 13)
                                     : zero;
        ok = store_audit_block_put(&blk, sqlite3_column_int64(st, 0), &r, h);
        if (ok && (++n == STORE_AUDIT_BLOCK_EVENTS || blk.len >= STORE_AUDIT_BLOCK_BYTES)) {
            ok = v1_flush(q, &blk, e);
            n = 0;
        }
    }
    if (ok && rc != SQLITE_DONE)
        ok = false;
    sqlite3_finalize(st);
    ok = ok && v1_flush(q, &blk, e) &&
         sqlite3_exec(q->db, SQL_V1_DONE, NULL, NULL, NULL) == SQLITE_OK;
    tn_buf_free(&blk);
    return ok;
}

tn_code sq_open_readlog(const char *path, const char *registry, store_open_mode mode, void **priv,
                        tn_err *e)
{
    sq *q = tn_calloc(1, sizeof *q);
    bool created = false;
    tn_code code = TN_OK;
    *priv = NULL;
    if (mode == STORE_OPEN_CREATE) {
        /* Born private like the registry: it names who saw whom. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            code = tn_err_set(e, errno == EEXIST ? TN_ECONFLICT : TN_EIO, "read_log",
                              "cannot create read log %s: %s", path, strerror(errno));
            goto out;
        }
        close(fd);
        created = true;
    } else {
        struct stat sb;
        if (stat(path, &sb) != 0) {
            code = tn_err_set(e, TN_ENOTFOUND, "read_log", "the read log %s is missing", path);
            goto out;
        }
    }
    /* URI: only for the read-only attachment of the registry. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (registry ? SQLITE_OPEN_URI : 0);
    if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
        code = rl_err(q->db, path, "cannot open", e);
        goto out;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, READLOG_BUSY_MS);
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    if (sq_set_wal(q->db, READLOG_BUSY_MS) != SQLITE_OK ||
        sqlite3_exec(q->db, SQL_PRAGMAS, NULL, NULL, NULL) != SQLITE_OK) {
        code = rl_err(q->db, path, "cannot configure", e);
        goto out;
    }
    int v = 0;
    if (!one_int(q->db, SQL_VERSION, &v)) {
        code = rl_err(q->db, path, "cannot read", e);
        goto out;
    }
    if (v == 0) {
        /* Created here or by a process that died before its schema
         * committed: the schema and its version commit together. */
        if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            !one_int(q->db, SQL_VERSION, &v) ||
            (v == 0 && sqlite3_exec(q->db, SQL_SCHEMA, NULL, NULL, NULL) != SQLITE_OK) ||
            sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            code = rl_err(q->db, path, "cannot create the schema of", e);
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        v = READLOG_VERSION;
    }
    q->blocks = true;
    if (v == 1) {
        /* The conversion takes about a minute per five million events, and
         * every other opener (a server opens a handle per thread) waits for
         * it here rather than fail after the usual busy timeout; it then
         * finds version 2 inside its own transaction. */
        sqlite3_busy_timeout(q->db, SQ_MIGRATE_WAIT_MS);
        tn_err me = {0};
        if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            !one_int(q->db, SQL_VERSION, &v) || (v == 1 && !migrate_v1(q, &me)) ||
            sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            code = me.code ? tn_err_set(e, me.code, "read_log", "cannot convert read log %s: %s",
                                        path, me.msg)
                           : rl_err(q->db, path, "cannot convert", e);
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        sqlite3_busy_timeout(q->db, READLOG_BUSY_MS);
        v = READLOG_VERSION;
    }
    /* Only space is at stake: should the drop fail (another process holds
     * the write lock, or dropped it first), a later open tries again. */
    int left = 0;
    if (v == READLOG_VERSION && one_int(q->db, SQL_V1_LEFT, &left) && left)
        (void)sqlite3_exec(q->db, SQL_V1_DROP, NULL, NULL, NULL);
    if (v != READLOG_VERSION) {
        code = tn_err_set(e, TN_ESTATE, "read_log",
                          "the read log %s has format version %d; this build knows %d", path, v,
                          READLOG_VERSION);
        goto out;
    }
    if (registry && !attach(q->db, registry)) {
        code = rl_err(q->db, path, "cannot attach the registry to", e);
        goto out;
    }
    *priv = q;
    q = NULL;
out:
    if (q) {
        if (q->db)
            sqlite3_close_v2(q->db);
        sq_rl_free(q);
        free(q);
        if (created) {
            unlink(path);
        }
    }
    return code;
}
