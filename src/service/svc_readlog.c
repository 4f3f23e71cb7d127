/* svc_readlog — finding and opening the read log of a registry
 * (docs/audit.md, "The read log").
 *
 * The read log is the file <registry>.reads. The registry records the
 * read log's random id (meta audit_read_log) when the log is first
 * created, and the log keeps the same id: a registry that has a read log
 * never silently starts a new one. When the file is missing or carries
 * another id, the handle opens anyway (so that `tunnus audit verify` can
 * say so), but every read that would need auditing fails. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svc_internal.h"
#include "tn_str.h"

#define META_READ_LOG "audit_read_log"
#define META_LOG_ID "read_log_id"

void svc_readlog_path(const char *registry, char *out, size_t cap)
{
    snprintf(out, cap, "%s.reads", registry);
}

/* Read a meta key: *found false when not set. */
static tn_code meta_opt(store *st, const char *key, char *out, size_t cap, bool *found, tn_err *e)
{
    tn_err e2;
    tn_code rc = store_meta_get(st, key, out, cap, &e2);
    *found = rc == TN_OK;
    if (rc == TN_ENOTFOUND)
        return TN_OK;
    if (rc != TN_OK && e)
        *e = e2;
    return rc;
}

/* Set key to value in its own transaction unless it is set already;
 * *out receives the value that stands. */
static tn_code meta_claim(store *st, const char *key, const char *value, char *out, size_t cap,
                          tn_err *e)
{
    bool found = false;
    tn_code rc = store_tx_begin(st, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = meta_opt(st, key, out, cap, &found, e)) == TN_OK && !found) {
        rc = store_meta_set(st, key, value, e);
        tn_strlcpy(out, value, cap);
    }
    if (rc == TN_OK)
        return store_tx_commit(st, e);
    store_tx_rollback(st);
    return rc;
}

static void broken(svc *s, const char *path, const char *what)
{
    snprintf(s->rl_broken, sizeof s->rl_broken, "the read log %s %s", path, what);
    audit_readlog_broken(s->au, s->rl_broken);
}

tn_code svc_readlog_open(svc *s, const char *registry, tn_err *e)
{
    char path[4200], want[64], have[64];
    bool recorded = false, found = false;
    svc_readlog_path(registry, path, sizeof path);
    tn_code rc = meta_opt(s->st, META_READ_LOG, want, sizeof want, &recorded, e);
    if (rc != TN_OK)
        return rc;
    if (!recorded) {
        /* The first open of this registry (or of one made before the read
         * log existed): create the log, give it an id, then record it in
         * the registry. Two processes racing here agree on one id through
         * the two claims. */
        rc = store_open_readlog(path, NULL, STORE_OPEN_CREATE, &s->rl, e);
        if (rc == TN_ECONFLICT)
            rc = store_open_readlog(path, NULL, STORE_OPEN_EXISTING, &s->rl, e);
        if (rc != TN_OK)
            return rc;
        char id[37];
        sec_uuid(id);
        if ((rc = meta_claim(s->rl, META_LOG_ID, id, have, sizeof have, e)) != TN_OK ||
            (rc = meta_claim(s->st, META_READ_LOG, have, want, sizeof want, e)) != TN_OK)
            return rc;
    } else {
        rc = store_open_readlog(path, NULL, STORE_OPEN_EXISTING, &s->rl, e);
        if (rc == TN_ENOTFOUND) {
            broken(s, path,
                   "is missing although the registry has one: reads cannot be audited (run "
                   "tunnus audit verify)");
            return TN_OK;
        }
        if (rc != TN_OK)
            return rc;
        if ((rc = meta_opt(s->rl, META_LOG_ID, have, sizeof have, &found, e)) != TN_OK)
            return rc;
    }
    if (!found && recorded) {
        broken(s, path, "has no id: it is not this registry's (replaced?)");
    } else if (strcmp(have, want) != 0) {
        broken(s, path, "belongs to another registry (replaced?)");
    } else {
        return audit_set_readlog(s->au, s->rl, path, e);
    }
    return TN_OK;
}

tn_code svc_readlog_ingest(svc *s, int64_t *moved, tn_err *e)
{
    int64_t bad = 0;
    char why[256];
    *moved = 0;
    if (s->rl_broken[0] || !s->rl)
        return tn_err_set(e, TN_ESTATE, "read_log", "%s",
                          s->rl_broken[0] ? s->rl_broken : "the read log is not open");
    tn_code rc = audit_ingest(s->au, moved, &bad, why, sizeof why, e);
    if (rc == TN_OK && bad)
        rc = tn_err_set(e, TN_ESTATE, "read_log", "%s (run tunnus audit verify)", why);
    return rc;
}

/* ---- the server's ingester ---------------------------------------------- */

struct svc_ingester {
    conf cfg;
    FILE *log;
    unsigned every_ms;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* stop was set */
    bool stop;         /* guarded by mu */
};

static void *ingester_main(void *arg)
{
    svc_ingester *g = arg;
    svc *s = NULL;
    char last[sizeof ((tn_err *)0)->msg] = "";
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        pthread_mutex_unlock(&g->mu);
        tn_err e;
        tn_err_clear(&e);
        int64_t moved = 0;
        tn_code rc = TN_OK;
        if (!s && (rc = svc_open(&g->cfg, &s, &e)) == TN_OK)
            /* The appends of this process's handles skip the file's lock
             * from now on; each round below releases it for a moment. */
            audit_lease_tail(s->au, true);
        if (rc == TN_OK)
            rc = svc_readlog_ingest(s, &moved, &e);
        /* Once per distinct problem, not once a second. */
        if (rc != TN_OK && g->log && strcmp(last, e.msg) != 0) {
            fprintf(g->log, "audit ingest: %s\n", e.msg);
            fflush(g->log);
        }
        tn_strlcpy(last, rc == TN_OK ? "" : e.msg, sizeof last);
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += g->every_ms / 1000;
        dl.tv_nsec += (long)(g->every_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&g->mu);
        while (!g->stop && pthread_cond_timedwait(&g->cv, &g->mu, &dl) == 0)
            ;
    }
    pthread_mutex_unlock(&g->mu);
    if (s)
        audit_lease_tail(s->au, false);
    svc_close(s); /* moves what came in since the last round */
    return NULL;
}

tn_code svc_ingester_start(const conf *c, unsigned every_ms, FILE *log, svc_ingester **out,
                           tn_err *e)
{
    svc_ingester *g = calloc(1, sizeof *g);
    if (!g)
        abort();
    g->cfg = *c;
    g->log = log;
    g->every_ms = every_ms ? every_ms : SVC_INGEST_EVERY_MS;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->th, NULL, ingester_main, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        *out = NULL;
        return tn_err_set(e, TN_EINTERNAL, NULL, "cannot start the audit ingester");
    }
    *out = g;
    return TN_OK;
}

void svc_ingester_stop(svc_ingester *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->th, NULL);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}
