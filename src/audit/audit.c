#include "audit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_group.h"
#include "audit_journal.h"
#include "tn_mem.h"
#include "tn_str.h"

/* A queued read event. Fields are copied because the caller's buffers are
 * gone by the time the queue is flushed. Sizes bound every field; the
 * store row points into these. */
typedef struct pending {
    int64_t time_us;
    char actor_kind[16];
    char actor_id[128];
    char channel[16];
    char action[48];
    char subject_id[40];
    char attrs[512];
    char request_id[40];
    char source[64];
    char detail[512]; /* e.g. a plan's counts */
} pending;

#define AUDIT_QUEUE_MAX 4096

struct audit {
    store *st;
    pending *q;
    size_t n;
    bool reads;
    bool bench_skip_writes;
    const sec_keys *keys; /* signs checkpoints; NULL: none written */
    audit_group *group;   /* shared with the process's other handles */
    store *rl;            /* the read log (borrowed); NULL: reads go to st */
    audit_journal *jn;    /* the read log's tail file, where reads are appended */
    char rl_broken[256];  /* why the read log cannot be used ("" if it can) */
    bool held;            /* counted in the group as holding unflushed events */
};

/* The queue no longer counts as held in the group (its events were
 * committed alone, or are given up): leaders stop waiting for it. */
static void unhold(audit *a)
{
    if (a->held) {
        audit_group_release(a->group);
        a->held = false;
    }
}

audit *audit_new(store *st)
{
    audit *a = tn_calloc(1, sizeof *a);
    a->st = st;
    a->q = tn_calloc(AUDIT_QUEUE_MAX, sizeof *a->q);
    a->reads = true;
    return a;
}

void audit_free(audit *a)
{
    if (!a)
        return;
    (void)audit_flush(a, NULL);
    unhold(a);
    audit_group_leave(a->group);
    audit_journal_close(a->jn);
    free(a->q);
    free(a);
}

int64_t audit_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

tn_code audit_write(audit *a, const store_audit_row *r, tn_err *e)
{
    if (a->bench_skip_writes)
        return TN_OK;
    bool own = store_tx_depth(a->st) == 0;
    tn_code rc = TN_OK;
    if (own && (rc = store_tx_begin(a->st, e)) != TN_OK)
        return rc;
    rc = audit_chain_append(a->st, a->keys, r, NULL, e);
    if (own) {
        if (rc == TN_OK)
            rc = store_tx_commit(a->st, e);
        else
            store_tx_rollback(a->st);
    }
    return rc;
}

tn_code audit_read(audit *a, const store_audit_row *r, tn_err *e)
{
    if (!a->reads)
        return TN_OK;
    if (a->n == AUDIT_QUEUE_MAX) {
        tn_code rc = audit_flush(a, e);
        if (rc != TN_OK)
            return rc;
    }
    pending *p = &a->q[a->n++];
    if (a->n == 1 && a->group && !a->held && !a->jn) {
        /* A flush will follow: a leader gathering a batch waits for it. */
        audit_group_hold(a->group);
        a->held = true;
    }
    p->time_us = r->time_us;
    tn_strlcpy(p->actor_kind, r->actor_kind, sizeof p->actor_kind);
    tn_strlcpy(p->actor_id, r->actor_id, sizeof p->actor_id);
    tn_strlcpy(p->channel, r->channel, sizeof p->channel);
    tn_strlcpy(p->action, r->action, sizeof p->action);
    tn_strlcpy(p->subject_id, r->subject_id ? r->subject_id : "", sizeof p->subject_id);
    tn_strlcpy(p->attrs, r->attrs ? r->attrs : "", sizeof p->attrs);
    tn_strlcpy(p->request_id, r->request_id ? r->request_id : "", sizeof p->request_id);
    tn_strlcpy(p->source, r->source ? r->source : "", sizeof p->source);
    tn_strlcpy(p->detail, r->detail ? r->detail : "", sizeof p->detail);
    return TN_OK;
}

/* The store row of a queued read (pointing into p). */
static store_audit_row pending_row(const pending *p)
{
    return (store_audit_row){
        .time_us = p->time_us,
        .actor_kind = p->actor_kind,
        .actor_id = p->actor_id,
        .channel = p->channel,
        .action = p->action,
        .subject_id = p->subject_id[0] ? p->subject_id : NULL,
        .attrs = p->attrs,
        .result = "allowed",
        .request_id = p->request_id,
        .source = p->source,
        .detail = p->detail[0] ? p->detail : NULL,
    };
}

/* Append one handle's queued reads at the chain head on st, in the open
 * transaction. */
static tn_code append_queue(store *st, const sec_keys *k, const audit *q, audit_head *head,
                            tn_err *e)
{
    tn_code rc = TN_OK;
    for (size_t i = 0; i < q->n && rc == TN_OK; i++) {
        store_audit_row r = pending_row(&q->q[i]);
        rc = audit_chain_append_at(st, k, &r, head, e);
    }
    return rc;
}

/* The queue to the read log's tail file, in one append. */
static tn_code append_journal(audit *a, tn_err *e)
{
    store_audit_row one, *rows = a->n == 1 ? &one : tn_calloc(a->n, sizeof *rows);
    for (size_t i = 0; i < a->n; i++)
        rows[i] = pending_row(&a->q[i]);
    tn_code rc = audit_journal_append(a->jn, a->rl, rows, a->n, e);
    if (rows != &one)
        free(rows);
    return rc;
}

/* The group's commit step (audit_group_commit_fn): the leader writes the
 * queues of every ticket's handle in one transaction of its own
 * connection. The owners are blocked in audit_group_flush until the
 * outcome is handed back, so their queues do not change underneath. Also
 * the ungrouped path, with a batch of one. */
static tn_code commit_batch(void *leader, audit_ticket *batch, tn_err *e)
{
    audit *a = leader;
    store *dst = a->st;
    tn_code rc = store_tx_begin(dst, e);
    if (rc != TN_OK)
        return rc;
    audit_head head;
    rc = audit_chain_head(dst, &head, e);
    for (const audit_ticket *t = batch; t && rc == TN_OK; t = t->next)
        rc = append_queue(dst, a->keys, t->owner, &head, e);
    if (rc == TN_OK)
        rc = store_tx_commit(dst, e);
    else
        store_tx_rollback(dst);
    return rc;
}

tn_code audit_flush(audit *a, tn_err *e)
{
    if (a->n == 0)
        return TN_OK;
    if (a->rl_broken[0]) {
        unhold(a);
        return tn_err_set(e, TN_ESTATE, "read_log", "%s", a->rl_broken);
    }
    tn_code rc;
    /* With a read log, reads are appended to its tail file: one write,
     * durable as a commit, whatever transaction the caller has open.
     * Without one, inside the caller's transaction the reads join it
     * (they commit with it); a handle without a group commits alone. */
    if (a->jn) {
        rc = append_journal(a, e);
    } else if (!a->group || store_tx_depth(a->st) > 0) {
        unhold(a);
        audit_ticket self = {.owner = a, .events = a->n};
        rc = commit_batch(a, &self, e);
    } else {
        rc = audit_group_flush(a->group, a, a->n, a->held, commit_batch, e);
        a->held = false; /* released when its ticket was queued */
    }
    /* On failure the events stay queued: a later flush retries them. */
    if (rc == TN_OK)
        a->n = 0;
    return rc;
}

void audit_share(audit *a, const char *key)
{
    if (a->group)
        return;
    char real[PATH_MAX];
    /* Two spellings of one registry must find the same group. */
    a->group = audit_group_join(realpath(key, real) ? real : key);
}

void audit_get_stats(const audit *a, audit_stats *out)
{
    memset(out, 0, sizeof *out);
    if (a->jn)
        audit_journal_get_stats(a->jn, out);
    else if (a->group)
        audit_group_get_stats(a->group, out);
}

size_t audit_pending(const audit *a)
{
    return a->n;
}

void audit_set_reads(audit *a, bool on)
{
    a->reads = on;
}

void audit_bench_skip_writes(audit *a, bool on)
{
    a->bench_skip_writes = on;
}

tn_code audit_set_readlog(audit *a, store *rl, const char *path, tn_err *e)
{
    char tail[4200];
    snprintf(tail, sizeof tail, "%s.tail", path);
    audit_journal *j = NULL;
    tn_code rc = audit_journal_open(tail, &j, e);
    if (rc != TN_OK)
        return rc;
    audit_journal_close(a->jn);
    a->jn = j;
    a->rl = rl;
    return TN_OK;
}

tn_code audit_ingest(audit *a, int64_t *moved, int64_t *bad_seq, char *why, size_t why_cap,
                     tn_err *e)
{
    *moved = 0;
    *bad_seq = 0;
    if (why_cap)
        why[0] = '\0';
    if (!a->jn)
        return TN_OK;
    tn_code rc = audit_flush(a, e);
    if (rc != TN_OK)
        return rc;
    return audit_journal_ingest(a->jn, a->rl, a->keys, moved, bad_seq, why, why_cap, e);
}

void audit_readlog_broken(audit *a, const char *why)
{
    tn_strlcpy(a->rl_broken, why, sizeof a->rl_broken);
}

void audit_lease_tail(audit *a, bool on)
{
    if (a->jn)
        audit_journal_lease(a->jn, on);
}

store *audit_readlog(const audit *a)
{
    return a->rl;
}

void audit_set_signer(audit *a, const sec_keys *k)
{
    a->keys = k;
}
