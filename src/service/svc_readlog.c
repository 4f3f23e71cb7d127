/* svc_readlog — finding and opening the read log of a registry
 * (docs/audit.md, "The read log").
 *
 * The read log is the file <registry>.reads. The registry records the
 * read log's random id (meta audit_read_log) when the log is first
 * created, and the log keeps the same id: a registry that has a read log
 * never silently starts a new one. When the file is missing or carries
 * another id, the handle opens anyway (so that `tunnus audit verify` can
 * say so), but every read that would need auditing fails. */
#include <stdio.h>
#include <string.h>

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
        audit_set_readlog(s->au, s->rl, path);
    }
    return TN_OK;
}
