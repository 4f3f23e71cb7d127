/* audit_journal — the read log's tail: an append-only file where read
 * events become durable, moved into the read log's tables in bulk
 * (docs/audit.md, "The tail file"). Internal to the audit layer.
 *
 * Why: a read's event must be durable before its answer leaves, and a
 * SQLite commit costs 25-30 µs of CPU whatever it holds, more than the
 * read itself. One write(2) of the event's frame to this file gives the
 * same durability as the read log's commits (synchronous=NORMAL: it
 * survives a crash of the process, not of the machine) for a few µs.
 *
 * The chain is computed at the append: each frame carries the event's
 * canonical encoding and its chain hash, so the file is as tamper-evident
 * as the table. The ingest checks every link again, inserts the events
 * with their hashes unchanged (the rows are those the direct path would
 * have written), signs the periodic checkpoints, and empties the file once
 * everything in it is in the table.
 *
 * A frame, big-endian:
 *   "TNJ1" | u32 n | n bytes of store_audit_encode | u64 seq | 32-byte hash |
 *   u32 n | "1JNT"
 * The 48-byte trailer lets an appender read the chain head at the end of
 * the file with one pread; an empty file means the head is the table's.
 *
 * Processes share the file through flock(2); the threads of one process
 * share one handle per path (its mutex orders them before the flock). */
#ifndef AUDIT_JOURNAL_H
#define AUDIT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"

#define AUDIT_JOURNAL_HEAD 8
#define AUDIT_JOURNAL_TRAILER 48
/* A frame's encoding is at most this long (an event is far smaller). */
#define AUDIT_JOURNAL_MAX_ENC (256 * 1024)

typedef struct audit_journal audit_journal;

/* The process's handle on the file at path, created (empty) if missing;
 * shared and refcounted: each open needs one close. */
tn_code audit_journal_open(const char *path, audit_journal **out, tn_err *e);
void audit_journal_close(audit_journal *j);

/* Append n events at the chain head and return once the file holds them.
 * rl is the read log (the caller's connection): the head when the file is
 * empty. All or nothing: a failed append leaves the file as it was. */
tn_code audit_journal_append(audit_journal *j, store *rl, const store_audit_row *rows, size_t n,
                             tn_err *e);

/* Lease mode, for a process that appends often and ingests regularly (a
 * server with its ingester): the file's lock is kept from one append to
 * the next, so an append takes no lock, stat or read of the tail and
 * copies its frames into a shared map of the file (room allocated ahead,
 * cut off again before the lock is let go; docs/audit.md, "Leased
 * appends"). Every ingest's last step releases the lock, giving the other
 * processes their turn. Off: each append takes and releases the lock.
 * Turning it off releases a lease held. */
void audit_journal_lease(audit_journal *j, bool on);

/* Move every event of the file into rl (transactions of its own), checking
 * each link against the head before it; k signs the periodic checkpoints.
 * The file is emptied when everything in it is in the table. A broken
 * link stops the move before it: TN_OK with *bad_seq set (0 when intact)
 * and why filled, the file left as it is (the evidence). */
tn_code audit_journal_ingest(audit_journal *j, store *rl, const sec_keys *k, int64_t *moved,
                             int64_t *bad_seq, char *why, size_t why_cap, tn_err *e);

/* This process's counters for the file: appends (flushes and commits),
 * failed appends, events appended, events ingested, ingests stopped by a
 * break; and the file's size now. */
void audit_journal_get_stats(audit_journal *j, audit_stats *out);

/* Parse the frame at the start of p (n bytes available): *len its whole
 * length. 1: a frame, 0: p holds only the start of one (a torn tail when
 * nothing follows), -1: not a frame (*why). The fuzz target's entry. */
int audit_journal_frame(const unsigned char *p, size_t n, size_t *len, int64_t *seq,
                        const unsigned char **enc, size_t *enc_len, const unsigned char **hash,
                        const char **why);

/* Tests only: called by an ingest round that moved frames without the
 * file's lock, before it commits (NULL: nothing), so that a test can end
 * the lease in the middle of a round. */
extern void (*audit_journal_round_hook)(audit_journal *j);

#endif
