/* audit — the audit interface every service function calls.
 *
 * Writes are recorded with audit_write inside the caller's transaction, so
 * a change and its event commit together or not at all. Reads are queued
 * with audit_read and written in groups (one transaction for many events)
 * by audit_flush: the service calls it before an answer leaves, so a read
 * is durable before anyone sees its result, yet many reads share one
 * commit. The queue is bounded; reaching the bound flushes.
 *
 * The event text must never contain the national ID, passwords, tokens or
 * keys: callers pass attribute names, and for changes old/new values of
 * non-sensitive attributes only. */
#ifndef AUDIT_H
#define AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tn_err.h"

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
/* Turn read auditing off (benchmarks compare with and without). */
void audit_set_reads(audit *a, bool on);

/* Microseconds since the epoch, UTC (the event clock). */
int64_t audit_now_us(void);

#endif
