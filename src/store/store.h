/* store — the registry's storage interface, backend-neutral.
 *
 * Callers ask for domain objects (model.h), never rows; no SQL, handle or
 * error code of a backend crosses this header. A backend implements the
 * versioned method table in store_impl.h; store_open picks it from the
 * target ("sqlite:PATH" or a plain path today; "postgresql://…" later).
 *
 * Sensitive data: the store never sees a national ID in the clear. It keeps
 * the sealed blob and the keyed lookup hash that sec.h produces.
 *
 * Transactions nest: the outermost store_tx_begin starts a write
 * transaction, inner ones are savepoints, so one service call is atomic
 * inside a caller's batch. Every function that changes data must run inside
 * a transaction; reads may run outside one.
 *
 * Ownership: arrays returned through `T **out, size_t *n` are allocated
 * here and freed by the caller with free(). Strings passed in are borrowed.
 * Functions return TN_ENOTFOUND when a single selected object is absent and
 * TN_ECONFLICT when a uniqueness rule would be broken. */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir_entry.h"
#include "model.h"
#include "tn_buf.h"
#include "tn_err.h"

typedef struct store store;

#define STORE_HASH_BYTES 32

/* ---- lifecycle of a handle -------------------------------------------- */

typedef enum store_open_mode {
    STORE_OPEN_EXISTING = 0, /* fail if the registry does not exist */
    STORE_OPEN_CREATE = 1,   /* create it; fail if it exists */
} store_open_mode;

/* Open (and migrate to the current schema) the registry at target. */
tn_code store_open(const char *target, store_open_mode mode, store **out, tn_err *e);
void store_close(store *s);
/* Open the read log at path (store_sqlite_readlog.c, docs/audit.md): a
 * separate database that holds only the chain of read events, so that
 * committing them never touches the registry. Only the store_audit_*,
 * meta and transaction functions may be used on it. registry (a file
 * path, or NULL) is attached read-only for the legal-hold lookups of
 * store_audit_prune and store_audit_scan with held_on. */
tn_code store_open_readlog(const char *path, const char *registry, store_open_mode mode,
                           store **out, tn_err *e);
/* Schema version currently applied, and the newest this build knows. */
tn_code store_schema_version(store *s, int *out, tn_err *e);
int store_schema_latest(void);
/* Backend name: "sqlite" … (for diagnostics). */
const char *store_backend(store *s);

/* ---- transactions ----------------------------------------------------- */

tn_code store_tx_begin(store *s, tn_err *e);
tn_code store_tx_commit(store *s, tn_err *e);
/* Roll back the innermost level; never fails in a way a caller can handle. */
void store_tx_rollback(store *s);
int store_tx_depth(store *s);
/* A read scope: the reads until store_read_end share one snapshot and one
 * read transaction instead of one each (a request's half-dozen lookups
 * then pay SQLite's per-transaction locking once). Outside any
 * transaction only; inside one it does nothing. A store_tx_begin ends the
 * scope first (the write sees the newest data), and the reads after it
 * run on their own again. */
tn_code store_read_begin(store *s, tn_err *e);
void store_read_end(store *s);
/* A number that changes whenever what this connection reads may have
 * changed: a commit by any other connection or process, or one of this
 * connection's write transactions (counted as it begins). Called in a
 * read scope it is the scope's snapshot's, so a value read under an equal
 * number (in any earlier scope of this connection) still holds; callers
 * use it to keep small caches exact. 0 means nothing read is known to
 * last (always so inside a write transaction): cache nothing under it. */
tn_code store_data_version(store *s, uint64_t *out, tn_err *e);
/* How long a write waits for another connection's write lock before it
 * fails with "registry is busy" (default 5 s). Tests shorten it. */
void store_set_busy_timeout(store *s, int ms);

/* ---- registry metadata (key/value settings kept in the registry) ------ */

tn_code store_meta_get(store *s, const char *key, char *out, size_t cap, tn_err *e);
tn_code store_meta_set(store *s, const char *key, const char *value, tn_err *e);

/* ---- persons ---------------------------------------------------------- */

/* Insert p; the store allocates p->number (identity number, strictly
 * increasing, never reused). sealed_nid/nid_hash may be NULL (no national
 * ID); a second person with the same nid_hash is TN_ECONFLICT. With a
 * national ID, p->birth_date must be the date the ID encodes: the store
 * keys the ID by date and hash (migration 0017), so that the persons born
 * on a date are one range of its index. */
tn_code store_person_insert(store *s, person *p, const unsigned char *sealed_nid,
                            size_t sealed_len, const unsigned char *nid_hash, tn_err *e);
/* Write every mutable attribute of p (all but id, number, created_at and
 * the national ID). */
tn_code store_person_update(store *s, const person *p, tn_err *e);
/* Replace or clear (sealed_nid NULL) the national ID; birth is the date
 * the new ID encodes (ignored when clearing). */
tn_code store_person_set_nid(store *s, const char *person_id, tn_date birth,
                             const unsigned char *sealed_nid, size_t sealed_len,
                             const unsigned char *nid_hash, tn_err *e);
/* The sealed national ID of a person; TN_ENOTFOUND if it has none. */
tn_code store_person_get_nid(store *s, const char *person_id, unsigned char *out, size_t cap,
                             size_t *outlen, tn_err *e);
tn_code store_person_get(store *s, const char *person_id, person *out, tn_err *e);
tn_code store_person_get_by_number(store *s, int64_t number, person *out, tn_err *e);
/* Resolve to a person id: the national ID by the date it encodes and its
 * keyed hash. */
tn_code store_person_find_by_nid_hash(store *s, tn_date birth,
                                      const unsigned char hash[STORE_HASH_BYTES],
                                      char id_out[UUID_BUFSZ], tn_err *e);
tn_code store_person_find_by_username(store *s, const char *username, char id_out[UUID_BUFSZ],
                                      tn_err *e);
/* The person who owns the account with this username, in one lookup. */
tn_code store_person_get_by_username(store *s, const char *username, person *out, tn_err *e);
tn_code store_person_find_by_source_key(store *s, const char *source, const char *key,
                                        char id_out[UUID_BUFSZ], tn_err *e);

typedef struct store_person_filter {
    int state;             /* person_state, or -1 for any */
    const char *kind;      /* has an affiliation of this kind; NULL = any */
    const char *org_unit;  /* has an affiliation in this unit or below; NULL = any */
    const char *name;      /* case-insensitive substring of given or family name; NULL = any */
    int64_t after_number;  /* keyset pagination: numbers greater than this */
    int64_t limit;         /* 0 = no limit */
} store_person_filter;

/* Calls cb for each matching person in identity-number order; a non-zero
 * return from cb stops the iteration (and is not an error). */
typedef int (*store_person_cb)(const person *p, void *ctx);
tn_code store_person_list(store *s, const store_person_filter *f, store_person_cb cb, void *ctx,
                          tn_err *e);

/* ---- affiliations ----------------------------------------------------- */

/* Insert a; fills a->id. (source, source_key) is unique: TN_ECONFLICT. */
tn_code store_aff_insert(store *s, affiliation *a, tn_err *e);
tn_code store_aff_update(store *s, const affiliation *a, tn_err *e);
tn_code store_aff_get(store *s, int64_t id, affiliation *out, tn_err *e);
tn_code store_aff_get_by_source_key(store *s, const char *source, const char *key,
                                    affiliation *out, tn_err *e);
/* Ordered by valid_from, then id. */
tn_code store_aff_list_by_person(store *s, const char *person_id, affiliation **out, size_t *n,
                                 tn_err *e);

/* ---- accounts --------------------------------------------------------- */

/* Insert a; fills a->id. Usernames are unique: TN_ECONFLICT. */
tn_code store_account_insert(store *s, account *a, tn_err *e);
tn_code store_account_update(store *s, const account *a, tn_err *e);
tn_code store_account_get_by_username(store *s, const char *username, account *out, tn_err *e);
/* Ordered by id. */
tn_code store_account_list_by_person(store *s, const char *person_id, account **out, size_t *n,
                                     tn_err *e);

/* ---- reserved names (usernames and e-mail addresses, kept forever) ---- */

typedef enum store_name_ns { STORE_NS_USERNAME = 0, STORE_NS_EMAIL = 1 } store_name_ns;

/* Reserve value for person_id. TN_OK if newly reserved or already the same
 * person's; TN_ECONFLICT if another person holds it. Reservations are never
 * deleted, also not when their person is archived or erased. */
tn_code store_name_reserve(store *s, store_name_ns ns, const char *value, const char *person_id,
                           tn_err *e);
/* Who holds value: TN_ENOTFOUND if nobody. */
tn_code store_name_owner(store *s, store_name_ns ns, const char *value,
                         char person_id_out[UUID_BUFSZ], tn_err *e);

/* ---- org units -------------------------------------------------------- */

/* Insert u; fills u->id. Codes are unique: TN_ECONFLICT. A non-empty
 * parent_code must exist: TN_ENOTFOUND. */
tn_code store_unit_insert(store *s, org_unit *u, tn_err *e);
tn_code store_unit_get(store *s, const char *code, org_unit *out, tn_err *e);
/* Ordered by code (so a parent precedes its children). */
tn_code store_unit_list(store *s, org_unit **out, size_t *n, tn_err *e);

/* ---- audit (append-only) ---------------------------------------------- */

typedef struct store_audit_row {
    int64_t time_us;         /* UTC microseconds */
    const char *actor_kind;  /* admin, person, client, system */
    const char *actor_id;
    const char *channel;     /* cli, import, lifecycle, ldap, scim, api, ui */
    const char *action;      /* person.add, person.read … */
    const char *subject_id;  /* person id concerned, NULL if none */
    const char *attrs;       /* attribute names read or changed, comma-separated */
    const char *changes;     /* JSON object of old/new values (never secrets), or NULL */
    const char *result;      /* allowed, denied, failed */
    const char *request_id;
    const char *source;      /* source address or "local" */
    const char *detail;      /* short reason on denial/failure, or NULL */
} store_audit_row;


/* ---- audit chain (store_sqlite_audit.c) ------------------------------- */

/* One stored event with its chain hash (hash_len 0 when absent) and, for
 * store_audit_scan with held_on, whether its subject is under legal hold
 * on that date. */
typedef struct store_audit_rec {
    int64_t seq;
    store_audit_row r;
    const unsigned char *hash;
    size_t hash_len;
    bool held;
    /* Non-NULL when the stored bytes of this event cannot be decoded (a
     * damaged read log block): the reason. seq is then the number the
     * event should have, the row's texts are "" and hash_len is 0; the
     * rest of its block is not read. */
    const char *damaged;
} store_audit_rec;
typedef int (*store_audit_rec_cb)(const store_audit_rec *x, void *ctx);

typedef struct store_audit_cp {
    int64_t id;
    int64_t seq;
    const unsigned char *hash;
    size_t hash_len;
    int64_t time_us;
    const char *kind;  /* periodic, cut */
    int64_t cut_us;
    const unsigned char *kept;
    size_t kept_len;
    const unsigned char *sig;
    size_t sig_len;
} store_audit_cp;
typedef int (*store_audit_cp_cb)(const store_audit_cp *c, void *ctx);

/* The chain head: the newest event's seq and hash, or the newest cut
 * checkpoint's when that is newer (the events at the cut were pruned);
 * with neither, seq 0 and *has = false. Read it
 * inside the write transaction that appends. */
tn_code store_audit_head(store *s, int64_t *seq, unsigned char hash[STORE_HASH_BYTES], bool *has,
                         tn_err *e);
/* Append an event with the given seq and chain hash. */
tn_code store_audit_insert(store *s, int64_t seq, const store_audit_row *r,
                           const unsigned char hash[STORE_HASH_BYTES], tn_err *e);
/* Append the events of a block (store_audit_block_add; seqs ascending,
 * continuing the chain) in the open transaction: one row of the read log,
 * or event by event in the registry. A malformed block: TN_EINVAL. */
tn_code store_audit_insert_block(store *s, const unsigned char *events, size_t len, tn_err *e);
/* Events with from_seq <= seq <= to_seq (to_seq 0 = no bound) in seq order.
 * held_on: an ISO date to compute rec->held, or NULL. */
tn_code store_audit_scan(store *s, int64_t from_seq, int64_t to_seq, const char *held_on,
                         store_audit_rec_cb cb, void *ctx, tn_err *e);
tn_code store_audit_cp_insert(store *s, const store_audit_cp *c, tn_err *e);
/* Checkpoints in seq order (then id). */
tn_code store_audit_cp_list(store *s, store_audit_cp_cb cb, void *ctx, tn_err *e);
/* The last seq of the prefix of events before cut_us: one less than the
 * first event at or after it; every event if none is. 0 if none. */
tn_code store_audit_cut_seq(store *s, int64_t cut_us, int64_t *out, tn_err *e);
/* Delete the events up to cut_seq except those whose subject is under
 * legal hold on held_on, the checkpoints up to cut_seq and stale index
 * entries; *deleted receives the number of events removed. */
tn_code store_audit_prune(store *s, int64_t cut_seq, const char *held_on, int64_t *deleted,
                          tn_err *e);
/* Bring the per-subject index up to the newest event; *indexed receives
 * the number of entries added. */
tn_code store_audit_index_catch_up(store *s, int64_t *indexed, tn_err *e);
/* Events about subject_id with from_us <= time_us < to_us (0 = no bound)
 * through the index (call catch_up first in the same transaction). */
tn_code store_audit_by_subject(store *s, const char *subject_id, int64_t from_us, int64_t to_us,
                               store_audit_rec_cb cb, void *ctx, tn_err *e);

/* ---- the canonical encoding and blocks (store_audit_codec.c) ---------- */

/* The encoding's first bytes, its NUL included (docs/audit.md, format v1). */
#define STORE_AUDIT_EVENT_TAG "tunnus.audit.event.v1"
/* Events per read log block at most, and its usual size limit in bytes
 * (a block closes at whichever comes first). */
#define STORE_AUDIT_BLOCK_EVENTS 256
#define STORE_AUDIT_BLOCK_BYTES (64 * 1024)

/* The canonical encoding of an event; false if too big for out. */
bool store_audit_encode(int64_t seq, const store_audit_row *r, tn_buf *out);
/* The same in two steps, for a caller with its own memory: the length,
 * then exactly that many bytes written at p. */
size_t store_audit_encoded_len(const store_audit_row *r);
void store_audit_encode_into(int64_t seq, const store_audit_row *r, unsigned char *p);
/* Parse a canonical encoding back into a row. The strings are copied,
 * NUL-terminated, into scratch (cap bytes; the encoding's length plus 11
 * is always enough); r points into it. Empty subject, changes and detail
 * come back NULL, as the direct path stores them. False with *why set
 * when p is not exactly one valid encoding. */
bool store_audit_decode(const unsigned char *p, size_t n, int64_t *seq, store_audit_row *r,
                        char *scratch, size_t cap, const char **why);

/* A block is its entries back to back, each
 *     u32 n | n bytes: the canonical encoding | 32-byte chain hash
 * (big-endian). An entry points into the block. */
typedef struct store_audit_entry {
    const unsigned char *enc;
    size_t len;
    const unsigned char *hash;
    int64_t seq;     /* from the encoding */
    int64_t time_us; /* from the encoding */
} store_audit_entry;
/* The entry at *off, which it advances: 1, 0 at the end, -1 with *why
 * when the bytes there are not an entry. */
int store_audit_block_next(const unsigned char *p, size_t n, size_t *off,
                           store_audit_entry *out, const char **why);
/* Append an entry to a block being built (toobig set past its ceiling). */
void store_audit_block_add(tn_buf *block, const unsigned char *enc, size_t len,
                           const unsigned char hash[STORE_HASH_BYTES]);
/* The same from the event's row, encoded in place; false past the
 * block's ceiling. */
bool store_audit_block_put(tn_buf *block, int64_t seq, const store_audit_row *r,
                           const unsigned char hash[STORE_HASH_BYTES]);

/* ---- reports (AU-4, store_sqlite_report.c) ----------------------------- */

#define STORE_REPORT_MAX_COLS 24
/* One report row as text columns (NULL columns are ""); the first column
 * is always the id of the person concerned ("" when none). Non-zero
 * return stops the walk. */
typedef int (*store_report_cb)(const char *const *cols, size_t n, void *ctx);
/* Accounts created on or before as_of (ISO) with their owner and the
 * kind@unit of each affiliation in force on as_of; with unit, only owners
 * with such an affiliation in that unit or below it. */
tn_code store_report_accounts(store *s, const char *as_of, const char *unit, store_report_cb cb,
                              void *ctx, tn_err *e);
/* Affiliations in force on as_of (in unit or below it when given). */
tn_code store_report_rights(store *s, const char *as_of, const char *unit, store_report_cb cb,
                            void *ctx, tn_err *e);
/* Write events (those with a change record), from_us <= time < to_us
 * (0 = open), about persons ever affiliated with unit or below it when
 * given. */
tn_code store_report_changes(store *s, int64_t from_us, int64_t to_us, const char *unit,
                             store_report_cb cb, void *ctx, tn_err *e);
/* ---- lifecycle (policies, runs, archive summaries, outbox) ------------ */

/* Store a policy's canonical text as the next version. */
tn_code store_lc_policy_add(store *s, const char *body, int64_t applied_at, const char *actor_id,
                            int64_t *version_out, tn_err *e);
/* The current (highest) version; TN_ENOTFOUND when none was applied.
 * *body_out is allocated; free it. */
tn_code store_lc_policy_current(store *s, int64_t *version, char **body_out, tn_err *e);
/* Each distinct affiliation kind in the registry, in order. */
typedef int (*store_kind_cb)(const char *kind, void *ctx);
tn_code store_lc_kinds_in_use(store *s, store_kind_cb cb, void *ctx, tn_err *e);
/* Delete (not hide) every affiliation of a person: archiving. */
tn_code store_lc_aff_delete_by_person(store *s, const char *person_id, tn_err *e);

/* What an archived person keeps of their relationships, and the dates of
 * the steps still to come. */
typedef struct store_lc_archive {
    char kinds[512]; /* comma-separated */
    tn_date first_start;
    tn_date last_end;
    tn_date archived_on;
    tn_date purge_on;
    tn_date erase_on;
    tn_date purged_on;
} store_lc_archive;

tn_code store_lc_archive_get(store *s, const char *person_id, store_lc_archive *out, tn_err *e);
tn_code store_lc_archive_put(store *s, const char *person_id, const store_lc_archive *a,
                             tn_err *e);
tn_code store_lc_archive_delete(store *s, const char *person_id, tn_err *e);
/* Append a provisioning event (target "*" = every connected system). */
tn_code store_lc_outbox_add(store *s, const char *target, const char *person_id,
                            const char *event, const char *payload, int64_t created_at,
                            tn_err *e);
tn_code store_lc_run_add(store *s, int64_t run_at, tn_date as_of, int64_t policy_version,
                         const char *counts, bool changed, const char *actor_id, tn_err *e);
/* Erasure: the person's accounts stay (their names stay reserved through
 * owner_id) but no longer point at the person row. */
tn_code store_lc_account_detach(store *s, const char *person_id, int64_t updated_at, tn_err *e);
/* ---- lifecycle scan, handover grants, sealed accounts (store_sqlite_lc2.c) */

/* One person as the lifecycle evaluation needs them, read by the scan:
 * the recorded facts only, not the whole person. The person's
 * affiliations are pg->affs[aff0 .. aff0 + naffs); each carries kind,
 * valid_from, valid_to, end_reason and manager_id, nothing else. */
typedef struct store_lc_person {
    int64_t number;
    char id[UUID_BUFSZ];
    person_state state;
    tn_date death_date;
    tn_date legal_hold_until;
    bool has_account;
    bool has_arch;              /* an archive summary exists */
    tn_date arch_purge_on, arch_erase_on, arch_purged_on;
    tn_date handover_until;     /* earliest end of an active grant as leaver; NONE */
    size_t aff0, naffs;
    /* The person's lc_due row: the policy version of the interval (0:
     * stale), the interval (NONE / STORE_LC_DUE_NEVER: unbounded), and the
     * change counter a conditional store_lc_due_put compares. */
    int64_t due_gen, due_ver;
    tn_date due_lo, due_hi;
} store_lc_person;

typedef struct store_lc_page {
    store_lc_person *persons;
    size_t npersons, cap_persons;
    affiliation *affs;
    size_t naffs, cap_affs;
} store_lc_page;

/* In the affiliations of a scan page, manager_id holds this mark when the
 * relationship has a manager ("" when not); the manager's id itself is
 * read with store_aff_get when it is needed. */
#define STORE_LC_MANAGER_MARK "*"
/* Fill pg (emptied first; its arrays grow as needed, free them with
 * store_lc_page_free) with up to max persons numbered above after, in
 * number order: one ordered scan of person joined with affiliation. */
tn_code store_lc_scan(store *s, int64_t after, size_t max, store_lc_page *pg, tn_err *e);
void store_lc_page_free(store_lc_page *pg);

/* ---- lifecycle due cache (store_sqlite_lcdue.c, migrations/0012_lc_due.sql) */
/* No upper bound of a quiet interval. */
#define STORE_LC_DUE_NEVER INT32_MAX
/* Like store_lc_scan, for the persons with these numbers (ascending). */
tn_code store_lc_scan_nums(store *s, const int64_t *nums, size_t n, store_lc_page *pg,
                           tn_err *e);
/* The numbers (ascending; *nums allocated, free it) of the persons whose
 * cached interval is stale or does not hold d under policy version; *total:
 * every person. */
tn_code store_lc_due_list(store *s, int64_t version, tn_date d, int64_t **nums, size_t *n,
                          size_t *total, tn_err *e);
/* Store a person's quiet interval [lo, hi] under policy version; with
 * gen >= 0 only if the row's change counter is still gen. In a
 * transaction. */
tn_code store_lc_due_put(store *s, int64_t number, int64_t gen, int64_t version, tn_date lo,
                         tn_date hi, tn_err *e);

/* A manager's time-limited access to a leaver's resources (LC-8). */
typedef struct store_lc_handover {
    int64_t id;
    char leaver_id[UUID_BUFSZ];
    int64_t leaver_number;
    char grantee_id[UUID_BUFSZ]; /* "" (number 0): no manager, the window still runs */
    int64_t grantee_number;
    tn_date from, until;     /* first and last day of the access */
    char state[16];          /* active, expired, returned */
    tn_date ended_on;        /* NONE while active */
} store_lc_handover;

/* Insert h (fills h->id and the numbers). */
tn_code store_lc_handover_add(store *s, store_lc_handover *h, int64_t created_at, tn_err *e);
/* Every grant where person_id is the leaver or the grantee, oldest first;
 * *out is allocated, free it. */
tn_code store_lc_handover_list(store *s, const char *person_id, store_lc_handover **out,
                               size_t *n, tn_err *e);
/* End a grant: state expired or returned, on the day ended_on. */
tn_code store_lc_handover_end(store *s, int64_t id, const char *state, tn_date ended_on,
                              int64_t updated_at, tn_err *e);
/* Seal an account: it is never reopened (its name stays reserved). */
tn_code store_lc_account_seal(store *s, int64_t account_id, tn_date on, const char *reason,
                              int64_t created_at, tn_err *e);
/* Whether an account is sealed. */
tn_code store_lc_account_sealed(store *s, int64_t account_id, bool *sealed, tn_err *e);
/* ---- source feed imports (store_sqlite_feed.c) ------------------------ */

typedef struct store_import_run {
    int64_t id;
    char source[KIND_BUFSZ];
    char kind[KIND_BUFSZ];
    char file[512];
    char mode[32];          /* "full", "delta", with ",strict" */
    int64_t started_at;     /* µs UTC */
    int64_t finished_at;    /* 0 while running (or if the run was killed) */
    char status[16];        /* running, done, refused, failed */
    int64_t rows, created, updated, unchanged, ended, rejected, queued;
    char detail[256];
} store_import_run;

/* Insert r (fills r->id); update every counter, status and finish time. */
tn_code store_import_run_insert(store *s, store_import_run *r, tn_err *e);
tn_code store_import_run_update(store *s, const store_import_run *r, tn_err *e);
typedef int (*store_import_run_cb)(const store_import_run *r, void *ctx);
/* Newest first; limit 0 = all. */
tn_code store_import_run_list(store *s, int64_t limit, store_import_run_cb cb, void *ctx,
                              tn_err *e);

#define STORE_REVIEW_ROW_MAX 8192

typedef struct store_review {
    int64_t id;
    char source[KIND_BUFSZ];
    char source_key[KEY_BUFSZ];
    char kind[KIND_BUFSZ];
    char candidate_id[UUID_BUFSZ]; /* the first person who looks the same */
    int64_t candidates;            /* how many look the same */
    char row[STORE_REVIEW_ROW_MAX]; /* the feed row as a JSON object */
    int64_t line;
    char state[16];                /* pending, accepted, rejected */
    int64_t created_at;
    int64_t decided_at;            /* 0 = pending */
} store_review;

/* Queue r by (source, source_key). A new entry is inserted (fills r->id);
 * a pending one with other contents is updated; otherwise nothing is
 * written. *changed says whether anything was. */
tn_code store_review_put(store *s, store_review *r, bool *changed, tn_err *e);
tn_code store_review_get(store *s, int64_t id, store_review *out, tn_err *e);
typedef int (*store_review_cb)(const store_review *r, void *ctx);
/* In id order; state NULL = any. */
tn_code store_review_list(store *s, const char *state, store_review_cb cb, void *ctx, tn_err *e);
tn_code store_review_decide(store *s, int64_t id, const char *state, int64_t decided_at,
                            tn_err *e);
/* Persons with exactly these (normalised) names and birth date, up to max
 * ids in identity-number order; *n is the total found. */
tn_code store_person_find_similar(store *s, const char *given, const char *family,
                                  tn_date birth, char (*ids)[UUID_BUFSZ], size_t max,
                                  size_t *n, tn_err *e);
/* The affiliations of a source that are still in force on as_of (open, or
 * ending on or after it), in id order: their id and source key. */
typedef int (*store_aff_key_cb)(int64_t id, const char *source_key, void *ctx);
tn_code store_aff_list_active_by_source(store *s, const char *source, tn_date as_of,
                                        store_aff_key_cb cb, void *ctx, tn_err *e);
/* Every affiliation of the person who holds (source, key), ordered as
 * store_aff_list_by_person; *n = 0 when no one does. Caller frees *out. */
tn_code store_aff_list_by_source_key(store *s, const char *source, const char *key,
                                     affiliation **out, size_t *n, tn_err *e);

/* The sources registry (docs/feeds.md): owns is a comma-separated list of
 * attribute names ("" = every shared attribute, the default). */
typedef struct store_source {
    char name[KIND_BUFSZ];
    char kind[KIND_BUFSZ];
    char owns[512];
    int64_t precedence;
    bool require_known_units;
    int64_t created_at, updated_at;
} store_source;
typedef int (*store_source_cb)(const store_source *s, void *ctx);
/* Insert or replace by name; *old gets the previous entry, *had whether
 * there was one. */
tn_code store_source_put(store *s, const store_source *src, store_source *old, bool *had,
                         tn_err *e);
/* Ordered by name. */
tn_code store_source_list(store *s, store_source_cb cb, void *ctx, tn_err *e);

/* ---- LDAP directory (store_sqlite_dir.c) ------------------------------ */

#define STORE_PWHASH_MAX 256

/* One account with what the directory shows of it (dir_entry.h). */
typedef dir_entry store_dir_row;

/* The account with this username (any state). TN_ENOTFOUND if none. */
tn_code store_dir_get(store *s, const char *username, tn_date today, store_dir_row *out,
                      tn_err *e);
typedef int (*store_dir_cb)(const store_dir_row *r, void *ctx);
/* Accounts with id > after_account_id in id order, at most limit (0 = all). */
tn_code store_dir_scan(store *s, tn_date today, int64_t after_account_id, int64_t limit,
                       store_dir_cb cb, void *ctx, tn_err *e);

/* What a simple bind needs to know about an account. */
typedef struct store_dir_auth {
    int64_t account_id;
    account_state state;
    char person_id[UUID_BUFSZ];      /* the owner */
    char password_hash[STORE_PWHASH_MAX]; /* "" = none set */
    int64_t failures;                /* consecutive failed binds */
    int64_t locked_until;            /* µs UTC; 0 = not locked */
} store_dir_auth;

tn_code store_dir_auth_get(store *s, const char *username, store_dir_auth *out, tn_err *e);
/* Count a failed bind (in a transaction); when the count reaches
 * max_failures (> 0) the account is locked until lock_until_us. */
tn_code store_dir_bind_fail(store *s, int64_t account_id, int64_t now_us, int64_t max_failures,
                            int64_t lock_until_us, int64_t *failures, tn_err *e);
tn_code store_dir_bind_reset(store *s, int64_t account_id, tn_err *e);
/* Groups of ou=groups (store_sqlite_groups.c, migration 0009). */
typedef int (*store_dir_group_cb)(const dir_group *g, void *ctx);
/* The group with this cn (members not filled). TN_ENOTFOUND if none. */
tn_code store_dir_group_get(store *s, const char *cn, dir_group *out, tn_err *e);
/* Groups with gid_number > after_gid in number order, at most limit (0 = all). */
tn_code store_dir_group_scan(store *s, int64_t after_gid, int64_t limit, store_dir_group_cb cb,
                             void *ctx, tn_err *e);
/* Fill g->members (malloc'd; the caller frees) with the visible accounts
 * whose affiliations make them members today. */
tn_code store_dir_group_members(store *s, dir_group *g, tn_date today, tn_err *e);
/* The cn of the group of key (gtype, v1, v2) (v2 "" but for class and
 * tgroup) into out; TN_ENOTFOUND if none. */
tn_code store_dir_group_cn(store *s, const char *gtype, const char *v1, const char *v2,
                           char *out, size_t cap, tn_err *e);
/* The cn values of the person's groups today, \x1e-separated, into out. */
tn_code store_dir_member_of(store *s, int64_t person_number, tn_date today, char *out,
                            size_t cap, tn_err *e);
/* Set (hash "" or NULL: clear) an account's password hash. */
tn_code store_account_set_password(store *s, const char *username, const char *hash,
                                   int64_t updated_at, tn_err *e);
/* Memory use of this connection for a long-running server with many
 * connections: a page cache of cache_kib each, and reads through a shared
 * memory map of up to mmap_bytes (0: none), whose pages all connections of
 * the process share. */
tn_code store_tune(store *s, int64_t cache_kib, int64_t mmap_bytes, tn_err *e);

/* ---- import fingerprints (store_sqlite_fp.c) --------------------------- */

/* The fingerprint of the last feed row applied for (source, key) and the
 * last day it may be trusted (TN_DATE_NONE = always); *found = false when
 * there is none (never applied, or forgotten because the person or one of
 * their affiliations changed since). */
tn_code store_import_fp_get(store *s, const char *source, const char *key,
                            unsigned char fp[STORE_HASH_BYTES], tn_date *until, bool *found,
                            tn_err *e);
/* Record it, in the transaction that applied the row. */
tn_code store_import_fp_put(store *s, const char *source, const char *key,
                            const unsigned char fp[STORE_HASH_BYTES], tn_date until, tn_err *e);

/* ---- scoped roles and error reports (store_sqlite_authz.c) ------------- */

/* Whether the person has an affiliation in force on `today` in unit_code
 * or a unit below it (by the org-unit tree). */
tn_code store_person_in_unit(store *s, const char *person_id, const char *unit_code,
                             tn_date today, bool *in, tn_err *e);
/* Whether unit_code is root_code or below it in the org-unit tree. */
tn_code store_unit_in_subtree(store *s, const char *unit_code, const char *root_code, bool *in,
                              tn_err *e);

#define STORE_ROLE_BUFSZ 32
#define STORE_ACTOR_BUFSZ 128
#define STORE_NOTE_BUFSZ 1025

typedef struct store_role_grant {
    int64_t id;
    char person_id[UUID_BUFSZ];
    int64_t person_number;
    char role[STORE_ROLE_BUFSZ];
    char unit[CODE_BUFSZ];     /* "" unless unit_admin */
    tn_date valid_from;
    tn_date valid_to;          /* TN_DATE_NONE = open */
    char granted_by[STORE_ACTOR_BUFSZ];
    char reason[STORE_NOTE_BUFSZ];
    int64_t created_at;
    tn_date revoked_on;        /* TN_DATE_NONE = not revoked */
    char revoked_by[STORE_ACTOR_BUFSZ];
} store_role_grant;

/* Insert g (person by g->person_id); g->id is set. */
tn_code store_role_grant_insert(store *s, store_role_grant *g, tn_err *e);
tn_code store_role_grant_get(store *s, int64_t id, store_role_grant *out, tn_err *e);
/* Mark revoked from `on`; TN_ENOTFOUND if no such grant, TN_ESTATE if it
 * already was. */
tn_code store_role_grant_revoke(store *s, int64_t id, tn_date on, const char *by, tn_err *e);
typedef int (*store_role_grant_cb)(const store_role_grant *g, void *ctx);
/* The grants of one person (person_id NULL: everybody's), by id. */
tn_code store_role_grant_list(store *s, const char *person_id, store_role_grant_cb cb, void *ctx,
                              tn_err *e);

typedef struct store_error_report {
    int64_t id;
    char person_id[UUID_BUFSZ];
    int64_t person_number;
    char attribute[64];
    char description[STORE_NOTE_BUFSZ];
    char filed_by[STORE_ACTOR_BUFSZ];
    char channel[16];
    int64_t filed_at;
    char state[16];            /* open, resolved, rejected */
    int64_t resolved_at;
    char resolved_by[STORE_ACTOR_BUFSZ];
    char resolution[STORE_NOTE_BUFSZ];
} store_error_report;

tn_code store_error_report_insert(store *s, store_error_report *r, tn_err *e);
tn_code store_error_report_get(store *s, int64_t id, store_error_report *out, tn_err *e);
/* Close an open report (state resolved or rejected). */
tn_code store_error_report_close(store *s, int64_t id, const char *state, int64_t at,
                                 const char *by, const char *resolution, tn_err *e);
typedef int (*store_error_report_cb)(const store_error_report *r, void *ctx);
/* person_id NULL: everybody's; state NULL: any. By id. */
tn_code store_error_report_list(store *s, const char *person_id, const char *state,
                                store_error_report_cb cb, void *ctx, tn_err *e);
/* ---- provisioning delivery state (store_sqlite_prov.c, migration 0010) */

/* One person pending delivery to a target. */
typedef struct store_prov_item {
    int64_t id;
    char target[33];
    char person_id[UUID_BUFSZ];
    int64_t last_outbox_id;  /* the newest change folded in */
    int64_t attempts;
    bool parked;
    char last_error[512];
} store_prov_item;

typedef struct store_prov_resource {
    char person_id[UUID_BUFSZ];
    char resource_id[512];   /* a DN, a file row key */
    char state[16];          /* present, disabled, deleted */
    int64_t created_at, updated_at;
} store_prov_resource;

typedef struct store_prov_stats {
    bool started;            /* the target has a cursor (was run at least once) */
    int64_t pending, parked, due, delivered, last_success_at, cursor, outbox_max, resources;
} store_prov_counts;

typedef int (*store_prov_resource_cb)(const store_prov_resource *r, void *ctx);

/* Fold up to max new outbox rows (target '*' or this one) into the
 * target's pending set and move its cursor past them; a target seen for
 * the first time gets every person not erased. *added: rows changed. */
tn_code store_prov_ingest(store *s, const char *target, int64_t now, int64_t max, int64_t *added,
                          tn_err *e);
/* Pending, unparked items due at now, oldest change first; free *out. */
tn_code store_prov_due(store *s, const char *target, int64_t now, int64_t max,
                       store_prov_item **out, size_t *n, tn_err *e);
/* Parked items (target "" = every target); free *out. */
tn_code store_prov_parked(store *s, const char *target, store_prov_item **out, size_t *n,
                          tn_err *e);
/* A delivery succeeded: the item goes unless a newer change was folded in
 * meanwhile (*finished false, it is due again); the resource (if
 * resource_id) is recorded with state; the target's success is counted. */
tn_code store_prov_done(store *s, const char *target, const store_prov_item *it,
                        const char *resource_id, const char *state, int64_t now, bool *finished,
                        tn_err *e);
tn_code store_prov_fail(store *s, int64_t id, int64_t attempts, int64_t next_at,
                        const char *error, bool parked, tn_err *e);
/* Release parked items (id 0 = all of the target, target "" = every
 * target) to be tried again at now. */
tn_code store_prov_retry(store *s, const char *target, int64_t id, int64_t now, int64_t *n,
                         tn_err *e);
tn_code store_prov_resource_get(store *s, const char *target, const char *person_id,
                                store_prov_resource *out, bool *found, tn_err *e);
tn_code store_prov_resource_list(store *s, const char *target, store_prov_resource_cb cb,
                                 void *ctx, tn_err *e);
tn_code store_prov_stats(store *s, const char *target, int64_t now, store_prov_counts *out,
                         tn_err *e);

/* The groups a target holds for tunnus (migration 0016): displayName and
 * the target's id. */
#define STORE_PROV_GROUP_NAME_BUFSZ 336 /* SVC_PROV_GROUP_NAME_BUFSZ */
typedef struct store_prov_group {
    char name[STORE_PROV_GROUP_NAME_BUFSZ];
    char resource_id[512];
    int64_t created_at, updated_at;
} store_prov_group;
typedef int (*store_prov_group_cb)(const store_prov_group *g, void *ctx);
/* Record (or, resource_id "", forget) the group named name. */
tn_code store_prov_group_put(store *s, const char *target, const char *name,
                             const char *resource_id, int64_t now, tn_err *e);
/* The target's groups by name; cb returning non-zero stops. */
tn_code store_prov_group_list(store *s, const char *target, store_prov_group_cb cb, void *ctx,
                              tn_err *e);

/* ---- API clients (store_sqlite_client.c, migration 0014) -------------- */

#define STORE_CLIENT_NAME_BUFSZ 65
#define STORE_CLIENT_ALLOW_BUFSZ 1024

typedef struct store_api_client {
    int64_t id;
    char name[STORE_CLIENT_NAME_BUFSZ];
    char role[KIND_BUFSZ];
    char scope_unit[CODE_BUFSZ];
    char allow[STORE_CLIENT_ALLOW_BUFSZ]; /* comma-separated CIDRs, "" = any */
    tn_date expires;                      /* last valid day; TN_DATE_NONE = never */
    int64_t created_at, rotated_at, revoked_at; /* µs UTC; revoked 0 = live */
    char cert_sha256[65];                 /* bound client certificate, hex; "" = none */
} store_api_client;

/* Insert c (fills c->id). A taken name is TN_ECONFLICT. */
tn_code store_client_insert(store *s, store_api_client *c,
                            const unsigned char token_hash[STORE_HASH_BYTES], tn_err *e);
tn_code store_client_get(store *s, const char *name, store_api_client *out, tn_err *e);
tn_code store_client_get_by_token(store *s, const unsigned char token_hash[STORE_HASH_BYTES],
                                  store_api_client *out, tn_err *e);
typedef int (*store_client_cb)(const store_api_client *c, void *ctx);
tn_code store_client_list(store *s, store_client_cb cb, void *ctx, tn_err *e);
/* Replace the token hash (rotated_at = now_us). */
tn_code store_client_set_token(store *s, int64_t id,
                               const unsigned char token_hash[STORE_HASH_BYTES], int64_t now_us,
                               tn_err *e);
tn_code store_client_revoke(store *s, int64_t id, int64_t now_us, tn_err *e);
/* Bind the client to a certificate fingerprint ("" unbinds). */
tn_code store_client_set_cert(store *s, int64_t id, const char *cert_sha256, tn_err *e);
/* Record that the client used source; *is_new says it had not before. */
tn_code store_client_source_seen(store *s, int64_t id, const char *source, int64_t now_us,
                                 bool *is_new, tn_err *e);
/* Whether the client has used source before (a read). */
tn_code store_client_source_known(store *s, int64_t id, const char *source, bool *known,
                                  tn_err *e);

#endif
