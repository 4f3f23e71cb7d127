/* store_sqlite_int — what the SQLite backend's files share (private to
 * src/store).
 *
 * store_sqlite.c holds the connection, transactions and the registry core;
 * each further area (feeds, lifecycle, audit …) may live in its own
 * store_sqlite_<area>.c with its own SQL, using these helpers. An area file
 * keeps its statements as `static const char SQL_X[] = "…";` and prepares
 * them with sq_prep_sql, which caches one prepared statement per SQL text
 * per connection (keyed by the text's address), so no shared enum has to
 * grow when an area adds a statement. */
#ifndef STORE_SQLITE_INT_H
#define STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store_impl.h"

#define SQ_CORE_STMTS 64 /* statements of store_sqlite.c (its stmt_id enum) */
#define SQ_XSTMTS 256    /* statements of the area files */

typedef struct sq {
    sqlite3 *db;
    sqlite3_stmt *st[SQ_CORE_STMTS];
    struct {
        const char *sql; /* identity of the statement: the address of its text */
        sqlite3_stmt *st;
    } xst[SQ_XSTMTS];
    int nxst;
    int depth;
    uint64_t writes; /* write transactions begun (store_data_version) */
    bool reading; /* a read scope (store_read_begin) is open at depth 0 */
    bool blocks;  /* a read log: events in blocks (store_sqlite_rlblock.c) */
    /* A read log's compression contexts, made at first use (reused: a
     * context costs more to make than a block to compress). */
    struct ZSTD_CCtx_s *zc;
    struct ZSTD_DCtx_s *zd;
    /* The last person resolved from UUID to number. A service call inserts
     * a person and then its affiliation and account, so remembering one
     * pair saves a lookup per dependent row. Ids and numbers never change,
     * so only a rollback (which may undo the insert) invalidates it. */
    char cache_id[UUID_BUFSZ];
    int64_t cache_num; /* 0 = empty */
} sq;

/* Prepare (once per connection) the statement with this text. sql must be
 * a string with static storage. A statement already running (a nested use
 * from a callback) gets a private copy, *owned = true. Return it with
 * sq_done. */
tn_code sq_prep_sql(sq *q, const char *sql, sqlite3_stmt **out, bool *owned, tn_err *e);
/* Reset and unbind (or finalise an owned copy). */
void sq_done(sqlite3_stmt *st, bool owned);
/* Step a statement that returns no rows; SQLITE_OK or the error code. */
int sq_step_write(sqlite3_stmt *st);
/* TN_EINTERNAL unless a transaction is open (every write needs one). */
tn_code sq_need_tx(sq *q, tn_err *e);
/* Put db in WAL mode (or confirm it is), retrying SQLITE_BUSY for
 * budget_ms; SQLITE_OK, SQLITE_ERROR if the mode stayed another, or the
 * failing step's code. */
int sq_set_wal(sqlite3 *db, int budget_ms);

/* Errors: map an SQLite result to a tn_code with a message. */
tn_code sq_fail(sq *q, int rc, tn_err *e);
bool sq_is_unique(int rc);
tn_code sq_bind_fail(sq *q, tn_err *e);
tn_code sq_corrupt(const char *what, tn_err *e);
tn_code sq_bad_state(const char *what, tn_err *e);

/* Binding: text (NULL binds ""), optional text ("" and NULL bind NULL),
 * NOT NULL text, dates (TN_DATE_NONE binds NULL; buf holds the text),
 * row numbers (0 binds NULL). Text is bound SQLITE_STATIC. */
int sq_b_text(sqlite3_stmt *st, int i, const char *s);
int sq_b_opt(sqlite3_stmt *st, int i, const char *s);
int sq_b_str(sqlite3_stmt *st, int i, const char *s);
int sq_b_date(sqlite3_stmt *st, int i, tn_date d, char buf[DATE_ISO_LEN]);
int sq_b_num(sqlite3_stmt *st, int i, int64_t n);
/* Reading: a text column into a buffer (false if it does not fit); a date
 * column (NULL or "" is TN_DATE_NONE). */
bool sq_col_str(sqlite3_stmt *st, int i, char *out, size_t cap);
bool sq_col_date(sqlite3_stmt *st, int i, tn_date *d);

/* The statement-journal spill size set library-wide (store_sqlite.c):
 * negative, statement journals stay in memory. */
#define STORE_STMTJRNL_SPILL (-1)

/* While a file's format is behind this build (a registry migration, a read
 * log conversion), an opener waits this long for the write lock: another
 * process may be converting a large file (seconds to minutes per million
 * rows), and failing after the usual 5 s busy timeout would keep a server
 * from starting. */
#define SQ_MIGRATE_WAIT_MS (30 * 60 * 1000)

/* The stored key of a national ID (person.nid_hash, migration 0017): the
 * date the ID encodes as eight digits YYYYMMDD, then its keyed hash, so
 * that the persons born on a date are one range of the unique index.
 * nid_date_prefix writes the date part alone; nid_key fails (TN_EINTERNAL)
 * without a date or for a year outside 1000..9999, which no national ID
 * encodes. */
#define NID_DATE_BYTES 8
#define NID_KEY_BYTES (NID_DATE_BYTES + STORE_HASH_BYTES)
bool nid_date_prefix(tn_date birth, unsigned char out[NID_DATE_BYTES]);
tn_code nid_key(tn_date birth, const unsigned char hash[STORE_HASH_BYTES],
                unsigned char out[NID_KEY_BYTES], tn_err *e);

/* The search for persons of the same names and birth date
 * (store_person_find_similar), for a test of its query plan. */
extern const char sq_sql_similar[];

/* A person's row number from their id. must_exist: TN_ENOTFOUND (with the
 * field and what) when unknown; remember: keep the pair for the next call. */
tn_code sq_person_num(sq *q, const char *id, bool remember, const char *field, const char *what,
                      int64_t *out, tn_err *e);

/* An affiliation row of AFF_SELECT's columns (store_sqlite.c), and the
 * statement listing the affiliations of a source key's person. */
bool sq_read_aff(sqlite3_stmt *st, affiliation *a);
extern const char SQ_AFF_LIST_BY_SOURCE_KEY[];

/* The audit chain methods of the SQLite backend (store_sqlite_audit.c). */
tn_code sq_audit_head(void *priv, int64_t *seq, unsigned char *hash, bool *has, tn_err *e);
tn_code sq_audit_insert(void *priv, int64_t seq, const store_audit_row *r,
                        const unsigned char *hash, tn_err *e);
tn_code sq_audit_insert_block(void *priv, const unsigned char *events, size_t len, tn_err *e);
tn_code sq_audit_scan(void *priv, int64_t from_seq, int64_t to_seq, const char *held_on,
                      store_audit_rec_cb cb, void *ctx, tn_err *e);
tn_code sq_audit_cp_insert(void *priv, const store_audit_cp *c, tn_err *e);
tn_code sq_audit_cp_list(void *priv, store_audit_cp_cb cb, void *ctx, tn_err *e);
tn_code sq_audit_cut_seq(void *priv, int64_t cut_us, int64_t *out, tn_err *e);
tn_code sq_audit_prune(void *priv, int64_t cut_seq, const char *held_on, int64_t *deleted,
                       tn_err *e);
tn_code sq_audit_index_catch_up(void *priv, int64_t *indexed, tn_err *e);
tn_code sq_audit_by_subject(void *priv, const char *subject_id, int64_t from_us, int64_t to_us,
                            store_audit_rec_cb cb, void *ctx, tn_err *e);

/* The read log's blocks (store_sqlite_rlblock.c): the methods above hand
 * over to these when q->blocks. */
tn_code sq_rl_put_block(sq *q, const unsigned char *events, size_t len, tn_err *e);
/* Free what the read log's methods keep with q. */
void sq_rl_free(sq *q);
tn_code sq_rl_scan(sq *q, int64_t from_seq, int64_t to_seq, const char *held_on,
                   store_audit_rec_cb cb, void *ctx, tn_err *e);
tn_code sq_rl_cut_seq(sq *q, int64_t cut_us, int64_t *out, tn_err *e);
/* Index the events after wm up to head; *indexed: entries added. */
tn_code sq_rl_index_fill(sq *q, int64_t wm, int64_t head, int64_t *indexed, tn_err *e);
tn_code sq_rl_by_subject(sq *q, const char *subject_id, int64_t from_us, int64_t to_us,
                         store_audit_rec_cb cb, void *ctx, tn_err *e);
/* The events up to cut_seq except held persons', with their index
 * entries; the prune's gate must be open. */
tn_code sq_rl_prune_events(sq *q, int64_t cut_seq, const char *held_on, int64_t *deleted,
                           tn_err *e);

#endif
