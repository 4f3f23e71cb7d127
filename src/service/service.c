#include "service.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "svc_dir.h"
#include "svc_internal.h"
#include "tn_mem.h"
#include "tn_str.h"

#define META_KEY_ID "key_id"

const char *svc_channel_name(svc_channel c)
{
    static const char *const names[SVC_CH_MAX] = {"cli", "import", "lifecycle", "ldap",
                                                  "scim", "api", "ui"};
    return (unsigned)c < SVC_CH_MAX ? names[c] : "unknown";
}

const char *svc_actor_kind_name(svc_actor_kind k)
{
    static const char *const names[SVC_ACTOR_MAX] = {"admin", "person", "client", "system"};
    return (unsigned)k < SVC_ACTOR_MAX ? names[k] : "unknown";
}

static const char *const role_names[SVC_ROLE_MAX] = {
    [SVC_ROLE_ADMIN] = "admin",       [SVC_ROLE_HELPDESK] = "helpdesk",
    [SVC_ROLE_UNIT_ADMIN] = "unit_admin", [SVC_ROLE_HR_INTEGRATION] = "hr_integration",
    [SVC_ROLE_AUDITOR] = "auditor",   [SVC_ROLE_DPO] = "dpo",
};

const char *svc_role_name(svc_role r)
{
    return (unsigned)r < SVC_ROLE_MAX ? role_names[r] : "?";
}

bool svc_role_parse(const char *name, svc_role *out)
{
    for (int r = 0; r < SVC_ROLE_MAX; r++)
        if (name && strcmp(name, role_names[r]) == 0) {
            *out = (svc_role)r;
            return true;
        }
    return false;
}

void svc_actor_local(svc_actor *a, svc_channel channel)
{
    memset(a, 0, sizeof *a);
    a->kind = SVC_ACTOR_ADMIN;
    a->channel = channel;
    const struct passwd *pw = getpwuid(geteuid());
    if (pw)
        snprintf(a->id, sizeof a->id, "os:%s", pw->pw_name);
    else
        snprintf(a->id, sizeof a->id, "os:uid%u", (unsigned)geteuid());
    tn_strlcpy(a->source, "local", sizeof a->source);
    char rid[37];
    sec_uuid(rid);
    tn_strlcpy(a->request_id, rid, sizeof a->request_id);
}

tn_date svc_clock_today(void)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    return date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* The public key identifies the key file; storing it in the registry lets
 * open detect a key file that belongs to another registry before any
 * national ID is sealed with the wrong key. */
static void key_id(const sec_keys *k, char out[2 * SEC_SIGN_PK_BYTES + 1])
{
    sec_hex(k->sign_pk, SEC_SIGN_PK_BYTES, out);
}

static bool path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static const char *db_path(const conf *c)
{
    return tn_str_startswith(c->db, "sqlite:") ? c->db + 7 : c->db;
}

tn_code svc_init_registry(const conf *c, tn_err *e)
{
    tn_code rc = sec_init(e);
    if (rc != TN_OK)
        return rc;
    if (!c->db[0])
        return tn_err_set(e, TN_EUSAGE, "db", "no registry path given (--db or [registry] db)");
    if (path_exists(db_path(c)))
        return tn_err_set(e, TN_ECONFLICT, "db", "%s already exists", db_path(c));
    if (path_exists(c->key_file))
        return tn_err_set(e, TN_ECONFLICT, "key_file", "%s already exists", c->key_file);
    rc = sec_keys_create(c->key_file, e);
    if (rc != TN_OK)
        return rc;
    sec_keys k;
    store *st = NULL;
    if ((rc = sec_keys_load(c->key_file, &k, e)) != TN_OK)
        goto fail_keys;
    if ((rc = store_open(c->db, STORE_OPEN_CREATE, &st, e)) != TN_OK)
        goto fail_keys;
    char kid[2 * SEC_SIGN_PK_BYTES + 1];
    key_id(&k, kid);
    sec_keys_wipe(&k);
    if ((rc = store_tx_begin(st, e)) != TN_OK)
        goto fail_store;
    rc = store_meta_set(st, META_KEY_ID, kid, e);
    if (rc == TN_OK)
        rc = store_tx_commit(st, e);
    else
        store_tx_rollback(st);
    if (rc != TN_OK)
        goto fail_store;
    store_close(st);
    return TN_OK;

fail_store:
    store_close(st);
    unlink(db_path(c));
fail_keys:
    sec_keys_wipe(&k);
    unlink(c->key_file);
    return rc;
}

tn_code svc_open(const conf *c, svc **out, tn_err *e)
{
    tn_code rc = sec_init(e);
    if (rc != TN_OK)
        return rc;
    if (!c->db[0])
        return tn_err_set(e, TN_EUSAGE, "db", "no registry path given (--db or [registry] db)");
    svc *s = tn_calloc(1, sizeof *s);
    s->cfg = *c;
    s->today = svc_clock_today();
    if ((rc = store_open(c->db, STORE_OPEN_EXISTING, &s->st, e)) != TN_OK)
        goto fail;
    if ((rc = sec_keys_load(c->key_file, &s->keys, e)) != TN_OK)
        goto fail;
    char want[2 * SEC_SIGN_PK_BYTES + 1], have[2 * SEC_SIGN_PK_BYTES + 1];
    key_id(&s->keys, want);
    if ((rc = store_meta_get(s->st, META_KEY_ID, have, sizeof have, e)) != TN_OK)
        goto fail;
    if (strcmp(want, have) != 0) {
        rc = tn_err_set(e, TN_EIO, "key_file", "%s is not the key file of this registry",
                        c->key_file);
        goto fail;
    }
    s->au = audit_new(s->st);
    audit_set_signer(s->au, &s->keys);
    /* Every handle of this process on this registry (one per thread)
     * shares one group commit of read events. */
    audit_share(s->au, db_path(c));
    if ((rc = svc_readlog_open(s, db_path(c), e)) != TN_OK)
        goto fail;
    *out = s;
    return TN_OK;
fail:
    audit_free(s->au);
    store_close(s->rl);
    sec_keys_wipe(&s->keys);
    if (s->st)
        store_close(s->st);
    free(s);
    return rc;
}

void svc_close(svc *s)
{
    if (!s)
        return;
    if (s->in_batch)
        svc_batch_rollback(s);
    /* What this handle read goes into the read log's tables now, so a
     * command leaves none of its reads in the tail file (a server's
     * ingester moves them while it runs). A failure leaves them there
     * for the next ingest. */
    int64_t moved;
    (void)svc_readlog_ingest(s, &moved, NULL);
    audit_free(s->au);
    store_close(s->rl);
    store_close(s->st);
    sec_keys_wipe(&s->keys);
    free(s);
}

void svc_set_today(svc *s, tn_date today)
{
    s->today = today;
}

tn_date svc_today(const svc *s)
{
    return s->today;
}

tn_code svc_flush(svc *s, tn_err *e)
{
    return audit_flush(s->au, e);
}

void svc_read_audit_stats(svc *s, svc_audit_stats *out)
{
    audit_stats st;
    audit_get_stats(s->au, &st);
    out->flushes = st.flushes;
    out->commits = st.commits;
    out->events = st.events;
    out->ingested = st.ingested;
    out->ingest_stops = st.ingest_stops;
    out->tail_bytes = st.tail_bytes;
}

void svc_request_begin(svc *s)
{
    (void)store_read_begin(s->st, NULL);
}

void svc_request_end(svc *s)
{
    store_read_end(s->st);
}

void svc_set_read_audit(svc *s, bool on)
{
    audit_set_reads(s->au, on);
}

void svc_bench_skip_write_audit(svc *s, bool on)
{
    audit_bench_skip_writes(s->au, on);
}

tn_code svc_schema_version(svc *s, int *version, int *latest, tn_err *e)
{
    *latest = store_schema_latest();
    return store_schema_version(s->st, version, e);
}

tn_code svc_batch_begin(svc *s, tn_err *e)
{
    if (s->in_batch)
        return tn_err_set(e, TN_EINTERNAL, NULL, "a batch is already open");
    tn_code rc = store_tx_begin(s->st, e);
    if (rc == TN_OK)
        s->in_batch = true;
    return rc;
}

tn_code svc_batch_commit(svc *s, tn_err *e)
{
    if (!s->in_batch)
        return tn_err_set(e, TN_EINTERNAL, NULL, "no batch is open");
    /* Reads queued during the batch commit with it. */
    tn_code rc = audit_flush(s->au, e);
    if (rc != TN_OK) {
        svc_batch_rollback(s);
        return rc;
    }
    rc = store_tx_commit(s->st, e);
    s->in_batch = false;
    return rc;
}

void svc_batch_rollback(svc *s)
{
    if (!s->in_batch)
        return;
    store_tx_rollback(s->st);
    s->in_batch = false;
}

tn_code svc_tx_begin(svc *s, tn_err *e)
{
    return store_tx_begin(s->st, e);
}

tn_code svc_tx_end(svc *s, tn_code rc, tn_err *e)
{
    if (rc == TN_OK)
        return store_tx_commit(s->st, e);
    store_tx_rollback(s->st);
    return rc;
}

/* ---- access ------------------------------------------------------------- */

/* The rules (AZ-2..4, docs/access.md). The local operator (ADMIN kind)
 * and internal jobs (SYSTEM) may do everything. A person may act on their
 * own data (self) and, through role grants (svc_actor_load_roles), with
 * roles; an API client holds roles from its registration. Each operation
 * names the roles that may do it to any subject, the roles that may do it
 * only to a subject in their org-unit subtree (unit_admin), and whether a
 * person may do it to themselves. The directory (DIR-1) is readable by
 * every bound person and the configured LDAP application account; by
 * anonymous LDAP sessions only when [ldap] anonymous_search is on.
 * Everything that decides access lives here, so the access-matrix test has
 * one function to cover. */
typedef struct access_rule {
    uint32_t any;  /* roles that may, whatever the subject */
    uint32_t unit; /* roles that may for a subject in their unit's subtree */
    bool self;     /* a person may, on their own data */
} access_rule;

#define RB(r) SVC_ROLE_BIT(SVC_ROLE_##r)
#define ALL_ROLES (SVC_ROLE_BIT(SVC_ROLE_MAX) - 1u)

static const access_rule rules[SVC_OP_MAX] = {
    [SVC_OP_PERSON_READ] = {RB(ADMIN) | RB(HELPDESK) | RB(HR_INTEGRATION) | RB(DPO),
                            RB(UNIT_ADMIN), true},
    [SVC_OP_PERSON_CREATE] = {RB(ADMIN) | RB(HR_INTEGRATION), 0, false},
    [SVC_OP_PERSON_WRITE] = {RB(ADMIN) | RB(HR_INTEGRATION), RB(UNIT_ADMIN), false},
    [SVC_OP_PERSON_SELF_EDIT] = {RB(ADMIN) | RB(HR_INTEGRATION), RB(UNIT_ADMIN), true},
    [SVC_OP_NID_READ] = {RB(ADMIN) | RB(DPO), 0, false},
    [SVC_OP_PERSON_LIST] = {RB(ADMIN) | RB(HELPDESK) | RB(HR_INTEGRATION) | RB(DPO),
                            RB(UNIT_ADMIN), false},
    [SVC_OP_UNIT_READ] = {ALL_ROLES, 0, false},
    [SVC_OP_UNIT_WRITE] = {RB(ADMIN), 0, false},
    [SVC_OP_AUDIT_ADMIN] = {RB(ADMIN) | RB(AUDITOR), 0, false},
    [SVC_OP_LIFECYCLE] = {RB(ADMIN), 0, false},
    [SVC_OP_REPORT] = {RB(ADMIN) | RB(AUDITOR), 0, false},
    [SVC_OP_AUDIT_SELF] = {0, 0, true},
    [SVC_OP_DIR_READ] = {0, 0, false}, /* by actor kind, below */
    [SVC_OP_PASSWORD_RESET] = {RB(ADMIN) | RB(HELPDESK), RB(UNIT_ADMIN), false},
    [SVC_OP_HOLD] = {RB(ADMIN) | RB(DPO), RB(UNIT_ADMIN), false},
    [SVC_OP_ERASE] = {RB(ADMIN) | RB(DPO), 0, false},
    [SVC_OP_IMPORT] = {RB(ADMIN) | RB(HR_INTEGRATION), 0, false},
    [SVC_OP_ROLE_ADMIN] = {RB(ADMIN), 0, false},
    [SVC_OP_ROLE_READ] = {RB(ADMIN) | RB(AUDITOR), 0, false},
    [SVC_OP_AUDIT_SUBJECT] = {RB(ADMIN) | RB(AUDITOR) | RB(DPO), 0, true},
    [SVC_OP_AUDIT_MAINT] = {RB(ADMIN), 0, false},
    [SVC_OP_ERROR_REPORT] = {RB(ADMIN) | RB(HELPDESK), RB(UNIT_ADMIN), true},
    [SVC_OP_PASSWORD_CHANGE] = {0, 0, true},
    [SVC_OP_CLIENT_ADMIN] = {RB(ADMIN), 0, false},
};

/* Whether the object is in the actor's unit subtree: a person with an
 * affiliation in force today there, or (unit set) a unit there. A store
 * failure counts as out of scope: access fails closed. */
static bool in_scope(svc *s, const svc_actor *a, const char *subject_id, const char *unit)
{
    if (!a->scope_unit[0])
        return false;
    bool in = false;
    tn_err ignored;
    tn_code rc;
    if (unit)
        rc = store_unit_in_subtree(s->st, unit, a->scope_unit, &in, &ignored);
    else if (subject_id)
        rc = store_person_in_unit(s->st, subject_id, a->scope_unit, s->today, &in, &ignored);
    else
        return false;
    return rc == TN_OK && in;
}

static bool allowed(svc *s, const svc_actor *a, svc_op op, const char *subject_id,
                    const char *unit)
{
    if ((unsigned)op >= SVC_OP_MAX)
        return false;
    /* Self-only: the self view of the audit trail (others use the subject
     * report with a selector) and a password change with the old one. */
    if (op == SVC_OP_AUDIT_SELF || op == SVC_OP_PASSWORD_CHANGE)
        return a->kind == SVC_ACTOR_PERSON && a->id[0] && subject_id &&
               strcmp(subject_id, a->id) == 0;
    const access_rule *r = &rules[op];
    switch (a->kind) {
    case SVC_ACTOR_ADMIN:
    case SVC_ACTOR_SYSTEM:
        return true;
    case SVC_ACTOR_PERSON:
        if (op == SVC_OP_DIR_READ)
            return true;
        if (r->self && a->id[0] && subject_id && strcmp(subject_id, a->id) == 0)
            return true;
        break;
    case SVC_ACTOR_CLIENT:
        /* The LDAP session's own clients (anonymous, the configured
         * application account) have no roles. */
        if (op == SVC_OP_DIR_READ && a->channel == SVC_CH_LDAP && !a->roles)
            return strcmp(a->id, SVC_DIR_ANONYMOUS) != 0 || s->cfg.ldap_anonymous_search;
        /* An API client reads the directory (LDAP, or the groups of SCIM
         * /Groups) if its roles may list persons. */
        if (op == SVC_OP_DIR_READ)
            return (a->roles & rules[SVC_OP_PERSON_LIST].any) != 0;
        break;
    case SVC_ACTOR_MAX:
        return false;
    }
    if (a->roles & r->any)
        return true;
    return (a->roles & r->unit) && in_scope(s, a, subject_id, unit);
}

tn_code svc_deny(svc *s, const svc_actor *a, const char *subject_id, const char *action,
                 const char *why, tn_err *e)
{
    store_audit_row r;
    svc_audit_row(&r, a, action, subject_id, "", "denied");
    r.detail = why;
    tn_err ignored;
    /* The denial must be on record even though the operation is refused. */
    (void)audit_write(s->au, &r, &ignored);
    return tn_err_set(e, TN_EDENIED, NULL, "%s %s may not %s", svc_actor_kind_name(a->kind),
                      a->id, action);
}

tn_code svc_authorize(svc *s, const svc_actor *a, svc_op op, const char *subject_id,
                      const char *action, tn_err *e)
{
    if (allowed(s, a, op, subject_id, NULL))
        return TN_OK;
    return svc_deny(s, a, subject_id, action, "not permitted for this actor", e);
}

tn_code svc_authorize_unit(svc *s, const svc_actor *a, svc_op op, const char *unit_code,
                           const char *action, tn_err *e)
{
    if (allowed(s, a, op, NULL, unit_code && *unit_code ? unit_code : NULL))
        return TN_OK;
    return svc_deny(s, a, NULL, action, "not permitted for this actor", e);
}

void svc_audit_row(store_audit_row *r, const svc_actor *a, const char *action,
                   const char *subject_id, const char *attrs, const char *result)
{
    memset(r, 0, sizeof *r);
    r->time_us = audit_now_us();
    r->actor_kind = svc_actor_kind_name(a->kind);
    r->actor_id = a->id;
    r->channel = svc_channel_name(a->channel);
    r->action = action;
    r->subject_id = subject_id;
    r->attrs = attrs ? attrs : "";
    r->result = result;
    r->request_id = a->request_id;
    r->source = a->source;
}

/* ---- selectors ---------------------------------------------------------- */

tn_code svc_resolve_person(svc *s, const char *sel, person *out, tn_err *e)
{
    char id[UUID_BUFSZ];
    tn_code rc;
    if (!sel || !*sel)
        return tn_err_set(e, TN_EUSAGE, "selector", "a person selector is required");
    if (tn_str_startswith(sel, "id:")) {
        rc = store_person_get(s->st, sel + 3, out, e);
    } else if (tn_str_startswith(sel, "number:")) {
        int64_t n;
        if (!tn_parse_i64(sel + 7, &n) || n <= 0)
            return tn_err_set(e, TN_EUSAGE, "selector", "number: needs a positive identity number");
        rc = store_person_get_by_number(s->st, n, out, e);
    } else if (tn_str_startswith(sel, "username:")) {
        rc = store_person_get_by_username(s->st, sel + 9, out, e);
    } else if (tn_str_startswith(sel, "key:")) {
        const char *src = sel + 4;
        const char *colon = strchr(src, ':');
        if (!colon || colon == src || !colon[1])
            return tn_err_set(e, TN_EUSAGE, "selector", "key: needs SOURCE:KEY");
        char source[KIND_BUFSZ];
        if (!tn_strlcpyn(source, src, (size_t)(colon - src), sizeof source))
            return tn_err_set(e, TN_EUSAGE, "selector", "source name too long");
        rc = store_person_find_by_source_key(s->st, source, colon + 1, id, e);
        if (rc == TN_OK)
            rc = store_person_get(s->st, id, out, e);
    } else {
        return tn_err_set(e, TN_EUSAGE, "selector",
                          "a person is selected by id:UUID, number:N, username:NAME or "
                          "key:SOURCE:KEY");
    }
    if (rc == TN_ENOTFOUND)
        return tn_err_set(e, TN_ENOTFOUND, NULL, "no person matches %.200s", sel);
    return rc;
}
