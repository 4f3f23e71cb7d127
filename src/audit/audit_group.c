#include "audit_group.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tn_mem.h"

struct audit_group {
    struct audit_group *next; /* in the process-wide list */
    char *key;
    int refs; /* guarded by groups_mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* a batch is done: followers check their ticket */
    pthread_cond_t arrive; /* a ticket was queued or a hold released: the gathering leader re-checks */
    /* Guarded by mu: */
    audit_ticket *head, **tail; /* tickets waiting for the next batch */
    size_t holding;             /* members with events recorded but not yet queued */
    bool committing;            /* a leader is gathering or committing a batch */
    audit_stats stats;
};

/* Groups are few (one per registry) and joined once per handle, so a list
 * under one lock is enough. */
static pthread_mutex_t groups_mu = PTHREAD_MUTEX_INITIALIZER;
static audit_group *groups;

audit_group *audit_group_join(const char *key)
{
    pthread_mutex_lock(&groups_mu);
    audit_group *g = groups;
    while (g && strcmp(g->key, key) != 0)
        g = g->next;
    if (!g) {
        g = tn_calloc(1, sizeof *g);
        g->key = tn_strdup(key);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&g->mu, NULL);
        pthread_cond_init(&g->cv, NULL);
        pthread_cond_init(&g->arrive, &ca);
        pthread_condattr_destroy(&ca);
        g->tail = &g->head;
        g->next = groups;
        groups = g;
    }
    g->refs++;
    pthread_mutex_unlock(&groups_mu);
    return g;
}

void audit_group_leave(audit_group *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&groups_mu);
    /* A handle leaves only after its own flush has returned, and a waiter
     * holds its reference while it waits, so the last leave finds no
     * ticket queued and no commit running. */
    bool last = --g->refs == 0;
    if (last) {
        audit_group **p = &groups;
        while (*p != g)
            p = &(*p)->next;
        *p = g->next;
    }
    pthread_mutex_unlock(&groups_mu);
    if (!last)
        return;
    pthread_cond_destroy(&g->arrive);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g->key);
    free(g);
}

/* Called by the leader with mu held: hand the outcome to every ticket of
 * the batch. Waiters see it only after mu is released. */
static void finish_batch(audit_group *g, audit_ticket *batch, tn_code rc, const tn_err *err)
{
    size_t events = 0, tickets = 0;
    for (audit_ticket *t = batch; t; t = t->next) {
        t->rc = rc;
        if (rc != TN_OK)
            t->err = *err;
        events += t->events;
        tickets++;
        t->done = true;
    }
    if (rc == TN_OK) {
        g->stats.commits++;
        g->stats.events += events;
        if (tickets > g->stats.max_batch)
            g->stats.max_batch = tickets;
    } else {
        g->stats.failed_commits++;
    }
}

/* The leader, with mu held, waits briefly for the members that have
 * recorded events but not queued them yet: their flush is moments away
 * (a request records what it shows, then flushes before answering), and
 * one larger commit is cheaper than two. It does not wait for idle
 * members: an idle pooled handle or a worker between requests holds
 * nothing, and waiting for it would only add latency to every answer. A
 * group of one never waits. */
static void gather(audit_group *g)
{
    if (g->holding == 0)
        return;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_nsec += AUDIT_GROUP_WAIT_US * 1000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (g->holding > 0)
        if (pthread_cond_timedwait(&g->arrive, &g->mu, &dl) != 0)
            break;
}

void audit_group_hold(audit_group *g)
{
    pthread_mutex_lock(&g->mu);
    g->holding++;
    pthread_mutex_unlock(&g->mu);
}

void audit_group_release(audit_group *g)
{
    pthread_mutex_lock(&g->mu);
    if (g->holding)
        g->holding--;
    pthread_cond_signal(&g->arrive);
    pthread_mutex_unlock(&g->mu);
}

tn_code audit_group_flush(audit_group *g, void *self, size_t events, bool held,
                          audit_group_commit_fn commit, tn_err *e)
{
    audit_ticket t = {.owner = self, .events = events};
    pthread_mutex_lock(&g->mu);
    *g->tail = &t;
    g->tail = &t.next;
    if (held && g->holding)
        g->holding--;
    g->stats.flushes++;
    pthread_cond_signal(&g->arrive);
    while (!t.done) {
        if (g->committing) {
            pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        /* Lead: take the whole queue (our ticket is in it unless an
         * earlier leader already took it, in which case t.done is set). */
        g->committing = true;
        gather(g);
        audit_ticket *batch = g->head;
        g->head = NULL;
        g->tail = &g->head;
        pthread_mutex_unlock(&g->mu);
        tn_err err;
        tn_err_clear(&err);
        tn_code rc = commit(self, batch, &err);
        pthread_mutex_lock(&g->mu);
        finish_batch(g, batch, rc, &err);
        g->committing = false;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
    if (t.rc != TN_OK && e)
        *e = t.err;
    return t.rc;
}

void audit_group_get_stats(audit_group *g, audit_stats *out)
{
    pthread_mutex_lock(&g->mu);
    *out = g->stats;
    pthread_mutex_unlock(&g->mu);
}
