/* audit_group — group commit of queued read events across the threads of
 * one process, for handles without a read log (with one, reads are
 * appended to its tail file instead: audit_journal.h). Internal to the
 * audit layer; audit.c is its only user.
 *
 * One group exists per registry per process, found by a key (the
 * registry's real path) and shared, refcounted, by every audit handle
 * opened on it. A thread that flushes enqueues a ticket for its queue and
 * waits. Whoever finds no commit running becomes the leader: it takes
 * every ticket queued so far (its own and the followers') and commits them
 * in ONE transaction on its own connection, then reports the outcome to
 * each ticket and wakes the waiters; tickets queued meanwhile form the
 * next batch, whose first waiter to wake leads it. No ticket is marked
 * done before the commit that contains it has returned, and a failed
 * commit hands its error to every ticket in it. With one thread the
 * leader's batch is just its own queue: the single-threaded path commits
 * its own events on its own connection, as without a group. */
#ifndef AUDIT_GROUP_H
#define AUDIT_GROUP_H

#include <stdbool.h>
#include <stddef.h>

#include "audit.h"

/* How long at most a leader waits for the members that hold unflushed
 * events to join its batch (see gather in audit_group.c). */
#ifndef AUDIT_GROUP_WAIT_US
#define AUDIT_GROUP_WAIT_US 200
#endif

typedef struct audit_group audit_group;

typedef struct audit_ticket {
    struct audit_ticket *next;
    void *owner;   /* the flushing handle; the leader reads its queue */
    size_t events; /* queued events it carries (for the counters) */
    tn_code rc;    /* outcome of the commit that contained it */
    tn_err err;
    bool done;
} audit_ticket;

/* Append every ticket's events in one transaction on leader's connection
 * and commit it. Runs without the group's lock held. */
typedef tn_code (*audit_group_commit_fn)(void *leader, audit_ticket *batch, tn_err *e);

/* The group for key, created on first use. Each join needs one leave. */
audit_group *audit_group_join(const char *key);
void audit_group_leave(audit_group *g);

/* A member's queue went from empty to holding events: a flush is coming,
 * worth a leader's short wait. Each hold ends with exactly one
 * audit_group_release or one audit_group_flush with held true. */
void audit_group_hold(audit_group *g);
/* The member's events leave another way (committed alone, given up). */
void audit_group_release(audit_group *g);

/* Enqueue self's events and return once a commit that contains them has
 * finished, with that commit's outcome. held: the member held (see
 * audit_group_hold); queueing ends the hold. */
tn_code audit_group_flush(audit_group *g, void *self, size_t events, bool held,
                          audit_group_commit_fn commit, tn_err *e);

void audit_group_get_stats(audit_group *g, audit_stats *out);

#endif

