/* audit — the audit interface every service function calls.
 *
 * Writes are recorded with audit_write inside the caller's transaction, so
 * a change and its event commit together or not at all. Reads are queued
 * with audit_read and made durable by audit_flush before an answer leaves:
 * with a read log, one append of the whole queue to the read log's tail
 * file (audit_journal.h), moved into the read log's tables in bulk by
 * audit_ingest; without one (unit tests), a commit into the store, shared
 * by the threads that flush together (audit_share, audit_group.h). The
 * queue is bounded; reaching the bound flushes.
 *
 * Every event is chained (docs/audit.md): hash = BLAKE2b(prev_hash ||
 * BLAKE2b(canonical encoding)), with the head read inside the write
 * transaction, so several processes can share one registry. Every
 * AUDIT_CHECKPOINT_EVERY events, and at every retention cut, a checkpoint
 * signed with the registry's Ed25519 key commits to the head.
 *
 * The event text must never contain the national ID, passwords, tokens or
 * keys: callers pass attribute names, and for changes old/new values of
 * non-sensitive attributes only. */
#ifndef AUDIT_H
#define AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sec.h"
#include "store.h"
#include "tn_buf.h"
#include "tn_err.h"

#define AUDIT_HASH_BYTES 32
#define AUDIT_CHECKPOINT_EVERY 256
/* One entry of a cut checkpoint's kept list: seq (8 bytes, big-endian),
 * the event's previous hash and its hash. */
#define AUDIT_KEPT_ENTRY 72

typedef struct audit audit;

/* The audit writer for one store handle (borrowed; must outlive it). */
audit *audit_new(store *st);
/* Flushes pending reads (errors are lost: call audit_flush first). */
void audit_free(audit *a);

/* Record a write (or a denied or failed attempt) now, in the current
 * transaction if one is open, else in its own. */
tn_code audit_write(audit *a, const store_audit_row *r, tn_err *e);
/* Queue a read event; copies the row. May flush. */
tn_code audit_read(audit *a, const store_audit_row *r, tn_err *e);
/* Write all queued read events. Inside an open transaction they join it. */
tn_code audit_flush(audit *a, tn_err *e);
size_t audit_pending(const audit *a);

/* Group commit across threads (audit_group.c): join the process-wide
 * group of every handle whose key (the registry's path) is the same. From
 * then on a flush outside a transaction waits for one shared commit with
 * the reads the other threads are flushing at the same time. Call once,
 * before the handle is used from its thread; audit_free leaves. */
void audit_share(audit *a, const char *key);

typedef struct audit_stats {
    uint64_t flushes;        /* flushes that went through the group */
    uint64_t commits;        /* group commits of read events */
    uint64_t failed_commits; /* group commits that failed (every waiter got the error) */
    uint64_t events;         /* read events those commits wrote */
    uint64_t max_batch;      /* most flushes served by one commit */
    uint64_t ingested;       /* read events moved from the tail file into the read log */
    uint64_t ingest_stops;   /* ingests stopped by a broken link in the tail file */
    uint64_t tail_bytes;     /* the tail file's size now (not yet moved, or kept after a break) */
} audit_stats;

/* The counters of the handle's group since it was created, or with a read
 * log those of this process's tail file (a commit is then one append),
 * all zero for a handle with neither. */
void audit_get_stats(const audit *a, audit_stats *out);
/* Turn read auditing off (benchmarks compare with and without). */
void audit_set_reads(audit *a, bool on);
/* BENCHMARKS ONLY: audit_write records nothing while on, so the write
 * benchmark can compare the same update path with and without its audit
 * append. Nothing but bench/ may call it: it breaks AU-1. */
void audit_bench_skip_writes(audit *a, bool on);

/* Microseconds since the epoch, UTC (the event clock). */
int64_t audit_now_us(void);

/* The key that signs checkpoints (borrowed; must outlive a). Without one
 * no checkpoints are written. */
void audit_set_signer(audit *a, const sec_keys *k);

/* The read log (docs/audit.md): a separate store holding the chain of read
 * events (store_open_readlog; borrowed, must outlive a) at path. Once set,
 * audit_flush appends queued reads to its tail file (path + ".tail",
 * audit_journal.h), never to the registry; audit_ingest moves them into
 * the read log's tables. Writes stay in the registry. */
tn_code audit_set_readlog(audit *a, store *rl, const char *path, tn_err *e);
/* Flush, then move every read in the tail file into the read log (its own
 * transactions), signing periodic checkpoints. A broken link in the tail
 * file stops the move there: TN_OK with *bad_seq the event and why the
 * reason (0 and "" when intact). Without a read log, nothing to do. */
tn_code audit_ingest(audit *a, int64_t *moved, int64_t *bad_seq, char *why, size_t why_cap,
                     tn_err *e);
/* For a server whose ingester runs (audit_journal_lease): this process
 * keeps the tail file's lock between appends, which its ingests release.
 * Process-wide: it applies to every handle on the same read log. */
void audit_lease_tail(audit *a, bool on);
store *audit_readlog(const audit *a);
/* The read log should exist but cannot be used (missing, replaced): every
 * flush of reads then fails with this reason, so no read goes unrecorded. */
void audit_readlog_broken(audit *a, const char *why);

/* ---- the chain (audit_chain.c) ------------------------------------------ */

/* BLAKE2b-256 of the canonical encoding (store_audit_encode). */
void audit_digest(int64_t seq, const store_audit_row *r, unsigned char out[AUDIT_HASH_BYTES]);
/* The chain step: BLAKE2b-256(prev || digest). */
void audit_link(const unsigned char prev[AUDIT_HASH_BYTES],
                const unsigned char digest[AUDIT_HASH_BYTES], unsigned char out[AUDIT_HASH_BYTES]);
/* The bytes a checkpoint's signature covers. */
void audit_cp_message(const store_audit_cp *c, tn_buf *out);

/* Append one event at the chain head in the open transaction; writes a
 * periodic checkpoint when seq reaches a multiple of
 * AUDIT_CHECKPOINT_EVERY and k is given. */
tn_code audit_chain_append(store *st, const sec_keys *k, const store_audit_row *r,
                           int64_t *seq_out, tn_err *e);
/* Store an event whose chain hash is already known (the journal's
 * ingest) in the open transaction, with a periodic checkpoint at
 * multiples of AUDIT_CHECKPOINT_EVERY when k is given. */
tn_code audit_chain_put(store *st, const sec_keys *k, int64_t seq, const store_audit_row *r,
                        const unsigned char hash[AUDIT_HASH_BYTES], tn_err *e);
/* The same for a block of events (store_audit_block_add) whose hashes
 * are known: one row of the read log. */
tn_code audit_chain_put_block(store *st, const sec_keys *k, const unsigned char *events,
                              size_t len, tn_err *e);
/* The chain head, read once per transaction by a writer that appends
 * many events (the group commit of reads): the head cannot move under an
 * open write transaction. */
typedef struct audit_head {
    int64_t seq;
    unsigned char hash[AUDIT_HASH_BYTES];
} audit_head;
tn_code audit_chain_head(store *st, audit_head *head, tn_err *e);
/* audit_chain_append after head, which it advances. */
tn_code audit_chain_append_at(store *st, const sec_keys *k, const store_audit_row *r,
                              audit_head *head, tn_err *e);
/* Sign and store a checkpoint at the current head (in the open
 * transaction) unless the newest checkpoint already covers it. */
tn_code audit_checkpoint_now(store *st, const sec_keys *k, int64_t *seq_out, tn_err *e);

typedef struct audit_verify_result {
    bool ok;
    int64_t events;       /* events checked */
    int64_t checkpoints;  /* signatures checked */
    int64_t first_seq;    /* of the chain after the newest cut (0: none) */
    int64_t last_seq;
    int64_t signed_seq;   /* newest event covered by a signature */
    int64_t cut_seq;      /* newest retention cut (0: none) */
    int64_t kept;         /* events before the cut kept for legal hold */
    int64_t bad_seq;      /* first broken link when !ok */
    char reason[200];
} audit_verify_result;

/* Check every hash link and checkpoint signature against pk. A broken log
 * is TN_OK with out->ok false; errors are for failures to read. */
tn_code audit_verify(store *st, const unsigned char pk[SEC_SIGN_PK_BYTES],
                     audit_verify_result *out, tn_err *e);

/* The retention cut, in the open transaction: verifies the chain (a
 * broken one is TN_ESTATE: pruning would destroy the evidence), removes
 * events before cut_us except those of persons under legal hold on
 * held_on (ISO date) and writes a signed cut checkpoint listing the kept
 * ones. */
tn_code audit_prune(store *st, const sec_keys *k, int64_t cut_us, const char *held_on,
                    int64_t *deleted, int64_t *cut_seq, tn_err *e);

#endif
