/* The delivery loop of a target, and the worker threads of `tunnus
 * serve`. A round: fold new outbox rows into the pending set, take the
 * due items, compute and apply each entry, make the target's side durable
 * (the file target's files), then record every outcome in one registry
 * transaction. A crash anywhere leaves the items pending; their next
 * delivery finds the target already right and changes nothing. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prov_int.h"
#include "tn_str.h"

static void sleep_ms(unsigned ms, atomic_bool *stop)
{
    while (ms && !(stop && *stop)) {
        unsigned step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

typedef struct outcome {
    bool done;          /* applied: record it */
    bool failed;        /* the target refused: count an attempt */
    char res_id[512];
    const char *res_state;
    bool has_res;
    char attrs[256];
    char msg[512];
} outcome;

static void attr_names(const prov_entry *en, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < en->nattrs; i++) {
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup |= strcmp(en->attrs[k].name, en->attrs[i].name) == 0;
        if (dup)
            continue;
        int n = snprintf(out + o, cap - o, "%s%s", o ? "," : "", en->attrs[i].name);
        if (n < 0 || (size_t)n >= cap - o)
            break;
        o += (size_t)n;
    }
}

typedef struct group_rec {
    svc *s;
    const svc_actor *a;
    const char *target;
    tn_code rc;
    tn_err *e;
} group_rec;

static void on_group_change(const char *name, const char *id, void *ctx)
{
    group_rec *g = ctx;
    if (g->rc == TN_OK)
        g->rc = svc_prov_group_record(g->s, g->a, g->target, name, id, g->e);
}

/* The groups the round created, found again or lost: recorded even when
 * the round's deliveries are not (they exist at the target either way). */
static tn_code record_groups(svc *s, const svc_actor *a, const conf_target *t, prov_conn *c,
                             tn_err *e)
{
    group_rec g = {s, a, t->name, TN_OK, e};
    prov_conn_group_changes(c, on_group_change, &g);
    return g.rc;
}

static int on_group_known(const svc_prov_group *g, void *ctx)
{
    prov_conn_group_known(ctx, g->name, g->resource_id);
    return 0;
}

/* One round over the due items; *down when the target could not be
 * reached (nothing after that point was applied). */
static tn_code round_once(svc *s, const svc_actor *a, const conf_target *t, prov_conn *c,
                          svc_prov_item *items, size_t n, FILE *log, prov_run_stats *st,
                          bool *down, tn_err *e)
{
    outcome *oc = calloc(n, sizeof *oc);
    prov_entry *en = malloc(sizeof *en);
    if (!oc || !en)
        abort();
    tn_code rc = TN_OK;
    *down = false;
    char msg[512];
    prov_result r = prov_conn_open(c, msg, sizeof msg);
    if (r != PROV_OK) {
        *down = true;
        tn_strlcpy(st->last_error, msg, sizeof st->last_error);
        goto out;
    }
    for (size_t i = 0; i < n && !*down; i++) {
        svc_prov_subject x;
        if ((rc = svc_prov_subject_get(s, a, t->name, items[i].person_id, &x, e)) != TN_OK)
            goto out;
        tn_err be;
        tn_err_clear(&be);
        if (prov_entry_build(t, &x, svc_today(s), en, &be) != TN_OK) {
            oc[i].failed = true;
            snprintf(oc[i].msg, sizeof oc[i].msg, "%s", be.msg);
        } else if (en->want == PROV_SKIP) {
            oc[i].done = true;
            if (x.has_resource) {
                oc[i].has_res = true;
                tn_strlcpy(oc[i].res_id, x.resource_id, sizeof oc[i].res_id);
                oc[i].res_state = strcmp(x.resource_state, "present") == 0    ? "present"
                                  : strcmp(x.resource_state, "disabled") == 0 ? "disabled"
                                                                              : "deleted";
            }
        } else {
            r = prov_conn_apply(c, en, x.has_resource ? x.resource_id : "",
                                x.has_resource ? x.resource_state : "", oc[i].res_id,
                                sizeof oc[i].res_id, &oc[i].res_state, oc[i].msg,
                                sizeof oc[i].msg);
            if (r == PROV_OK) {
                oc[i].done = oc[i].has_res = true;
                attr_names(en, oc[i].attrs, sizeof oc[i].attrs);
            } else if (r == PROV_ITEM_FAILED) {
                oc[i].failed = true;
            } else {
                *down = true;
                tn_strlcpy(st->last_error, oc[i].msg, sizeof st->last_error);
            }
        }
        svc_prov_subject_free(&x);
    }
    if (*down) {
        /* A round is made durable at the target as a whole (the file
         * target) or item by item (LDAP, already applied): what was
         * applied before the failure is recorded; the rest waits. */
        if (c->file) {
            prov_conn_abort(c);
            for (size_t i = 0; i < n; i++)
                oc[i].done = oc[i].failed = false;
        } else if (prov_conn_commit(c, msg, sizeof msg) != PROV_OK) {
            for (size_t i = 0; i < n; i++)
                oc[i].done = oc[i].failed = false;
        }
    } else if ((r = prov_conn_commit(c, msg, sizeof msg)) != PROV_OK) {
        *down = true;
        tn_strlcpy(st->last_error, msg, sizeof st->last_error);
        for (size_t i = 0; i < n; i++)
            oc[i].done = oc[i].failed = false;
    }
    /* A delivery whose group membership the target refused is not done:
     * it is retried and, refused max_attempts times, parked. */
    for (size_t i = 0; i < n; i++)
        if (oc[i].done && oc[i].has_res &&
            prov_conn_refused(c, oc[i].res_id, oc[i].msg, sizeof oc[i].msg)) {
            oc[i].done = false;
            oc[i].failed = true;
        }
    if ((rc = svc_batch_begin(s, e)) != TN_OK)
        goto out;
    rc = record_groups(s, a, t, c, e);
    for (size_t i = 0; i < n && rc == TN_OK; i++) {
        if (oc[i].done) {
            bool finished;
            rc = svc_prov_delivered(s, a, t->name, &items[i], oc[i].has_res ? oc[i].res_id : NULL,
                                    oc[i].res_state ? oc[i].res_state : "present", oc[i].attrs,
                                    &finished, e);
            st->delivered++;
        } else if (oc[i].failed) {
            rc = svc_prov_failed(s, a, t, &items[i], oc[i].msg, e);
            st->failed++;
            if (items[i].attempts + 1 >= (int64_t)t->max_attempts)
                st->parked++;
            tn_strlcpy(st->last_error, oc[i].msg, sizeof st->last_error);
            if (log)
                fprintf(log, "provision %s: item %lld: %s\n", t->name, (long long)items[i].id,
                        oc[i].msg);
        }
    }
    if (rc == TN_OK)
        rc = svc_batch_commit(s, e);
    else
        svc_batch_rollback(s);
out:
    free(oc);
    free(en);
    return rc;
}

tn_code prov_run(svc *s, const conf_target *t, bool once, atomic_bool *stop, FILE *log,
                 prov_run_stats *st, tn_err *e)
{
    memset(st, 0, sizeof *st);
    svc_actor a;
    svc_prov_actor(&a, t->name);
    prov_conn *c = prov_conn_new(t);
    tn_code rc = TN_OK;
    /* Only a SCIM target's groups have ids to remember (an LDAP group's
     * DN is its name). */
    if (t->groups[0] && !strcmp(t->type, "scim") &&
        (rc = svc_prov_groups(s, &a, t->name, on_group_known, c, e)) != TN_OK) {
        prov_conn_free(c);
        return rc;
    }
    unsigned down_ms = t->backoff * 1000;
    bool was_down = false;
    while (!(stop && *stop)) {
        int64_t added;
        if ((rc = svc_prov_ingest(s, &a, t->name, INT64_MAX / 2, &added, e)) != TN_OK)
            break;
        svc_prov_item *items = NULL;
        size_t n = 0;
        if ((rc = svc_prov_due(s, &a, t->name, t->batch, &items, &n, e)) != TN_OK)
            break;
        if (n == 0) {
            free(items);
            if (once)
                break;
            sleep_ms(100, stop);
            continue;
        }
        bool down = false;
        rc = round_once(s, &a, t, c, items, n, log, st, &down, e);
        free(items);
        st->rounds++;
        if (rc != TN_OK)
            break;
        if (down) {
            st->target_down = true;
            if (log && !was_down)
                fprintf(log, "provision %s: target unavailable: %s\n", t->name, st->last_error);
            was_down = true;
            if (once) {
                rc = tn_err_set(e, TN_EIO, NULL, "target %s unavailable: %s", t->name,
                                st->last_error);
                break;
            }
            sleep_ms(down_ms, stop);
            if (down_ms < 60000)
                down_ms *= 2;
            continue;
        }
        if (was_down && log)
            fprintf(log, "provision %s: target available again\n", t->name);
        was_down = false;
        st->target_down = false;
        down_ms = t->backoff * 1000;
    }
    prov_conn_free(c);
    return rc;
}

/* ---- worker threads ----------------------------------------------------- */

typedef struct worker {
    pthread_t th;
    conf_target t;
    const conf *cfg;
    FILE *log;
    atomic_bool *stop;
    bool started;
} worker;

struct prov_workers {
    conf cfg;
    atomic_bool stop;
    worker w[CONF_TARGETS_MAX];
    unsigned n;
};

static void *worker_main(void *arg)
{
    worker *w = arg;
    while (!*w->stop) {
        svc *s = NULL;
        tn_err e;
        tn_err_clear(&e);
        if (svc_open(w->cfg, &s, &e) == TN_OK) {
            prov_run_stats st;
            if (prov_run(s, &w->t, false, w->stop, w->log, &st, &e) != TN_OK && w->log)
                fprintf(w->log, "provision %s: %s\n", w->t.name, e.msg);
            svc_close(s);
        } else if (w->log) {
            fprintf(w->log, "provision %s: %s\n", w->t.name, e.msg);
        }
        sleep_ms(1000, w->stop);
    }
    return NULL;
}

tn_code prov_workers_start(const conf *c, FILE *log, unsigned poll_ms, prov_workers **out,
                           tn_err *e)
{
    (void)poll_ms;
    *out = NULL;
    if (c->ntargets == 0)
        return TN_OK;
    prov_workers *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->cfg = *c;
    /* The server waits for SIGINT and SIGTERM in one thread: the workers
     * must not take them. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    tn_code rc = TN_OK;
    for (unsigned i = 0; i < c->ntargets; i++) {
        worker *w = &p->w[p->n];
        w->t = c->targets[i];
        if (prov_target_check(&w->t, e) != TN_OK) {
            rc = TN_EINVAL;
            break;
        }
        w->cfg = &p->cfg;
        w->log = log;
        w->stop = &p->stop;
        if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
            rc = tn_err_set(e, TN_EINTERNAL, NULL, "cannot start the provisioning worker");
            break;
        }
        w->started = true;
        p->n++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != TN_OK) {
        prov_workers_stop(p);
        return rc;
    }
    *out = p;
    return TN_OK;
}

void prov_workers_stop(prov_workers *p)
{
    if (!p)
        return;
    p->stop = true;
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].started)
            pthread_join(p->w[i].th, NULL);
    free(p);
}
