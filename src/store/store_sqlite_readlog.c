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

#define READLOG_VERSION 1
#define READLOG_BUSY_MS 5000

/* The schema of version 1. Kept identical to the registry's audit tables
 * (0001_registry.sql, 0002_audit.sql) so the SQL of store_sqlite_audit.c
 * runs on both. */
static const char SQL_SCHEMA[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE audit_event ("
    " seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, actor_kind TEXT NOT NULL,"
    " actor_id TEXT NOT NULL, channel TEXT NOT NULL, action TEXT NOT NULL, subject_id TEXT,"
    " attrs TEXT NOT NULL DEFAULT '', changes TEXT,"
    " result TEXT NOT NULL CHECK (result = 'allowed' OR result = 'denied' OR result = 'failed'),"
    " request_id TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', detail TEXT,"
    " hash BLOB);"
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;"
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    " WHEN (SELECT value FROM meta WHERE key = 'audit_prune') IS NOT 'open' "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;"
    "CREATE TABLE audit_checkpoint ("
    " id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash BLOB NOT NULL,"
    " time_us INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind = 'periodic' OR kind = 'cut'),"
    " cut_us INTEGER NOT NULL DEFAULT 0, kept BLOB NOT NULL DEFAULT x'', sig BLOB NOT NULL);"
    "CREATE INDEX audit_checkpoint_seq ON audit_checkpoint(seq);"
    "CREATE INDEX audit_checkpoint_cut ON audit_checkpoint(seq DESC, id DESC) "
    " WHERE kind = 'cut';"
    "CREATE TABLE audit_subject (subject_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY (subject_id, seq)) WITHOUT ROWID;"
    "PRAGMA user_version = 1;";

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
        free(q);
        if (created) {
            unlink(path);
        }
    }
    return code;
}
