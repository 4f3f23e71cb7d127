/* The directory: binds, lookups and searches for the LDAP front end. */
#include "svc_dir.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_client.h"
#include "svc_internal.h"
#include "tn_str.h"

#define BIND_FAILED "invalid credentials"
#define SCAN_CHUNK 512

static _Atomic uint64_t n_binds, n_bind_failures, n_binds_refused, n_sources_throttled;

void svc_dir_stats_get(svc_dir_stats *out)
{
    out->binds = atomic_load(&n_binds);
    out->bind_failures = atomic_load(&n_bind_failures);
    out->binds_refused = atomic_load(&n_binds_refused);
    out->sources_throttled = atomic_load(&n_sources_throttled);
}

void svc_dir_bind_refused(void)
{
    atomic_fetch_add(&n_binds_refused, 1);
}

static bool visible(const dir_entry *d)
{
    /* The lifecycle's login rule: active and grace accounts exist for
     * directory clients, the rest do not. */
    return d->state == ASTATE_ACTIVE || d->state == ASTATE_GRACE;
}

static void ldap_actor(svc_actor *a, svc_actor_kind kind, const char *id, const char *source)
{
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->channel = SVC_CH_LDAP;
    tn_strlcpy(a->id, id, sizeof a->id);
    tn_strlcpy(a->source, source ? source : "", sizeof a->source);
    char rid[37];
    sec_uuid(rid);
    tn_strlcpy(a->request_id, rid, sizeof a->request_id);
}

tn_code svc_dir_tune(svc *s, int64_t cache_kib, int64_t mmap_bytes, tn_err *e)
{
    return store_tune(s->st, cache_kib, mmap_bytes, e);
}

void svc_dir_actor_anonymous(svc_actor *a, const char *source)
{
    ldap_actor(a, SVC_ACTOR_CLIENT, SVC_DIR_ANONYMOUS, source);
}

/* A failed bind: count it (and lock at the limit) and record why, in one
 * transaction; the caller answers with one message whatever the reason. */
static tn_code bind_failed(svc *s, const svc_actor *who, const store_dir_auth *au,
                           const char *reason, tn_err *e)
{
    tn_err ignored;
    atomic_fetch_add(&n_bind_failures, 1);
    tn_code rc = svc_tx_begin(s, &ignored);
    if (rc == TN_OK) {
        char detail[128];
        tn_strlcpy(detail, reason, sizeof detail);
        if (au && au->account_id) {
            int64_t now = audit_now_us(), n = 0;
            int64_t until = now + (int64_t)s->cfg.ldap_bind_lockout * 1000000;
            rc = store_dir_bind_fail(s->st, au->account_id, now, s->cfg.ldap_bind_max_failures,
                                     until, &n, &ignored);
            if (rc == TN_OK && s->cfg.ldap_bind_max_failures &&
                n >= s->cfg.ldap_bind_max_failures)
                snprintf(detail, sizeof detail, "%s; %lld failures, locked", reason,
                         (long long)n);
        }
        store_audit_row r;
        svc_audit_row(&r, who, "dir.bind", au && au->person_id[0] ? au->person_id : NULL, "",
                      "failed");
        r.detail = detail;
        if (rc == TN_OK)
            rc = audit_write(s->au, &r, &ignored);
        svc_tx_end(s, rc, &ignored);
    }
    return tn_err_set(e, TN_EDENIED, NULL, BIND_FAILED);
}

/* A hash kept from a migrated directory has just been proved with the
 * password: replace it by argon2id, audited (the scheme, never a hash).
 * The bind has succeeded whatever happens here; on failure the old hash
 * stays and the next bind tries again. */
static void rehash_legacy(svc *s, const svc_actor *who, const char *username,
                          const store_dir_auth *au, const char *password)
{
    char hash[SEC_PWHASH_BUFSZ], detail[64];
    tn_err ignored;
    if (sec_password_hash(password, 0, 0, hash, &ignored) != TN_OK)
        return;
    size_t n = strcspn(au->password_hash, "}$");
    snprintf(detail, sizeof detail, "from %.*s to argon2id",
             au->password_hash[0] == '{' ? (int)(n + 1) : 6, au->password_hash);
    if (svc_tx_begin(s, &ignored) == TN_OK) {
        tn_code rc = store_account_set_password(s->st, username, hash, audit_now_us(), &ignored);
        store_audit_row r;
        svc_audit_row(&r, who, "account.rehash", au->person_id, "account.password_hash",
                      "allowed");
        r.detail = detail;
        if (rc == TN_OK)
            rc = audit_write(s->au, &r, &ignored);
        svc_tx_end(s, rc, &ignored);
    }
    explicit_bzero(hash, sizeof hash);
}

tn_code svc_dir_bind(svc *s, const char *source, const char *username, const char *password,
                     svc_actor *out, tn_err *e)
{
    svc_actor who;
    char id[128];
    snprintf(id, sizeof id, "uid:%.100s", username);
    ldap_actor(&who, SVC_ACTOR_CLIENT, id, source);
    store_dir_auth au;
    tn_err why;
    tn_code rc = store_dir_auth_get(s->st, username, &au, &why);
    if (rc == TN_ENOTFOUND)
        return bind_failed(s, &who, NULL, "unknown account", e);
    if (rc != TN_OK) {
        *e = why;
        return rc;
    }
    if (au.state != ASTATE_ACTIVE && au.state != ASTATE_GRACE)
        return bind_failed(s, &who, &au, "account not active", e);
    if (au.locked_until > audit_now_us())
        return bind_failed(s, &who, &au, "account locked after failed binds", e);
    if (!au.password_hash[0])
        return bind_failed(s, &who, &au, "no password set", e);
    if (!sec_password_check(au.password_hash, password))
        return bind_failed(s, &who, &au, "wrong password", e);

    ldap_actor(out, SVC_ACTOR_PERSON, au.person_id, source);
    /* The roles in force today go with the session (AZ-4). */
    if ((rc = svc_actor_load_roles(s, out, e)) != TN_OK)
        return rc;
    if (au.failures > 0) {
        if ((rc = svc_tx_begin(s, e)) != TN_OK)
            return rc;
        rc = svc_tx_end(s, store_dir_bind_reset(s->st, au.account_id, e), e);
        if (rc != TN_OK)
            return rc;
    }
    if (s->cfg.ldap_rehash_legacy && sec_password_is_legacy(au.password_hash))
        rehash_legacy(s, out, username, &au, password);
    atomic_fetch_add(&n_binds, 1);
    store_audit_row r;
    svc_audit_row(&r, out, "dir.bind", au.person_id, "", "allowed");
    return audit_read(s->au, &r, e);
}

tn_code svc_dir_bind_client(svc *s, const char *source, const char *password, svc_actor *out,
                            tn_err *e)
{
    svc_actor who;
    ldap_actor(&who, SVC_ACTOR_CLIENT, SVC_DIR_SERVICE, source);
    if (!s->cfg.ldap_service_dn[0])
        return bind_failed(s, &who, NULL, "no service account configured", e);
    /* Before the password: an address outside the list learns nothing. */
    if (!svc_cidr_allows(s->cfg.ldap_service_allow, source))
        return bind_failed(s, &who, NULL, "source address not allowed (service_allow)", e);
    if (!sec_password_check(s->cfg.ldap_service_password_hash, password))
        return bind_failed(s, &who, NULL, "wrong service password", e);
    *out = who;
    atomic_fetch_add(&n_binds, 1);
    store_audit_row r;
    svc_audit_row(&r, out, "dir.bind", NULL, "", "allowed");
    return audit_read(s->au, &r, e);
}

tn_code svc_dir_bind_api_client(svc *s, const char *source, const char *name, const char *token,
                                svc_actor *out, tn_err *e)
{
    svc_actor who;
    bool new_source = false;
    tn_err why;
    tn_code rc = svc_client_auth(s, token, source, NULL, SVC_CH_LDAP, &who, &new_source, &why);
    if (rc == TN_EDENIED) {
        /* svc_client_auth audited the reason (client.auth, denied). */
        atomic_fetch_add(&n_bind_failures, 1);
        return tn_err_set(e, TN_EDENIED, NULL, BIND_FAILED);
    }
    if (rc != TN_OK) {
        *e = why;
        return rc;
    }
    if (strcmp(who.id, name) != 0) {
        /* A valid token, but another client's: a mix-up or a probe. */
        svc_actor named;
        ldap_actor(&named, SVC_ACTOR_CLIENT, name, source);
        return bind_failed(s, &named, NULL, "the token belongs to another client", e);
    }
    *out = who;
    atomic_fetch_add(&n_binds, 1);
    store_audit_row r;
    svc_audit_row(&r, out, "dir.bind", NULL, "", "allowed");
    return audit_read(s->au, &r, e);
}

void svc_dir_source_throttled(svc *s, const char *source)
{
    svc_actor who;
    ldap_actor(&who, SVC_ACTOR_CLIENT, "ldap:unknown", source);
    atomic_fetch_add(&n_sources_throttled, 1);
    tn_err ignored;
    if (svc_tx_begin(s, &ignored) != TN_OK)
        return;
    store_audit_row r;
    svc_audit_row(&r, &who, "dir.bind", NULL, "", "failed");
    r.detail = "source address throttled after repeated failed binds";
    svc_tx_end(s, audit_write(s->au, &r, &ignored), &ignored);
}

tn_code svc_dir_may_search(svc *s, const svc_actor *a, tn_err *e)
{
    return svc_authorize(s, a, SVC_OP_DIR_READ, NULL, "dir.search", e);
}

static tn_code audit_shown(svc *s, const svc_actor *a, const dir_entry *d, const char *attrs,
                           tn_err *e)
{
    store_audit_row r;
    svc_audit_row(&r, a, "dir.read", d->person_id, attrs, "allowed");
    return audit_read(s->au, &r, e);
}

tn_code svc_dir_get(svc *s, const svc_actor *a, const char *uid, const char *attrs,
                    dir_entry *out, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_DIR_READ, NULL, "dir.read", e);
    if (rc != TN_OK)
        return rc;
    rc = store_dir_get(s->st, uid, s->today, out, e);
    if (rc == TN_OK && !visible(out))
        rc = tn_err_set(e, TN_ENOTFOUND, "uid", "no such entry");
    if (rc == TN_OK)
        rc = audit_shown(s, a, out, attrs, e);
    return rc;
}

typedef struct scan_ctx {
    svc *s;
    const svc_actor *a;
    const svc_dir_query *q;
    svc_dir_cb cb;
    void *ctx;
    int64_t last_id;
    int64_t seen;
    int64_t cap;
    bool stopped;
    bool capped;
    tn_code rc;
    tn_err *e;
    int64_t max;   /* < 0: no limit */
    int64_t given;
    bool more;
    dir_entry mo;  /* the row with its groups, when memberOf is asked for */
} scan_ctx;

static int scan_one(const dir_entry *d, void *vctx)
{
    scan_ctx *c = vctx;
    c->last_id = d->account_id;
    if (++c->seen > c->cap) {
        c->capped = true;
        return 1;
    }
    if (!visible(d))
        return 0;
    if (c->q->member_of) {
        /* The row is the store's; memberOf needs a copy to fill. */
        dir_entry *m = &c->mo;
        *m = *d;
        if ((c->rc = svc_dir_member_of(c->s, c->a, m, c->e)) != TN_OK)
            return 1;
        d = m;
    }
    if (c->q->match && !c->q->match(d, c->q->match_ctx))
        return 0;
    /* One match past the page is looked at, not shown (nor audited). */
    if (c->max >= 0 && c->given >= c->max) {
        c->more = true;
        c->stopped = true;
        return 1;
    }
    c->given++;
    if ((c->rc = audit_shown(c->s, c->a, d, c->q->attrs, c->e)) != TN_OK)
        return 1;
    if (c->cb(d, c->ctx) != 0) {
        c->stopped = true;
        return 1;
    }
    return 0;
}

tn_code svc_dir_search(svc *s, const svc_actor *a, const svc_dir_query *q, svc_dir_cb cb,
                       void *ctx, bool *capped, tn_err *e)
{
    bool more;
    return svc_dir_search_page(s, a, q, 0, -1, cb, ctx, capped, &more, e);
}

tn_code svc_dir_search_page(svc *s, const svc_actor *a, const svc_dir_query *q, int64_t after_id,
                            int64_t max, svc_dir_cb cb, void *ctx, bool *capped, bool *more,
                            tn_err *e)
{
    *capped = false;
    *more = false;
    tn_code rc = svc_authorize(s, a, SVC_OP_DIR_READ, NULL, "dir.search", e);
    if (rc != TN_OK)
        return rc;
    if (q->uid) {
        dir_entry d;
        tn_err why;
        rc = store_dir_get(s->st, q->uid, s->today, &d, &why);
        if (rc == TN_ENOTFOUND)
            return TN_OK;
        if (rc != TN_OK) {
            *e = why;
            return rc;
        }
        if (visible(&d) && q->member_of && (rc = svc_dir_member_of(s, a, &d, e)) != TN_OK)
            return rc;
        if (!visible(&d) || d.account_id <= after_id || (q->match && !q->match(&d, q->match_ctx)))
            return TN_OK;
        if (max == 0) {
            *more = true;
            return TN_OK;
        }
        if ((rc = audit_shown(s, a, &d, q->attrs, e)) != TN_OK)
            return rc;
        cb(&d, ctx);
        return TN_OK;
    }
    /* In chunks, so that no statement stays open across a whole scan and
     * the callback may take its time. */
    scan_ctx c = {s, a, q, cb, ctx, after_id, 0, s->cfg.ldap_scan_limit, false, false, TN_OK, e,
                  max, 0, false, {0}};
    for (;;) {
        int64_t before = c.seen;
        rc = store_dir_scan(s->st, s->today, c.last_id, SCAN_CHUNK, scan_one, &c, e);
        if (rc != TN_OK)
            return rc;
        if (c.rc != TN_OK)
            return c.rc;
        if (c.stopped || c.capped || c.seen - before < SCAN_CHUNK)
            break;
    }
    *capped = c.capped;
    *more = c.more;
    return TN_OK;
}

/* Resolve, authorise and store hash ("" clears) with one audit event. */
static tn_code put_password(svc *s, const svc_actor *a, const char *selector, const char *hash,
                            svc_op op, tn_err *e)
{
    account acct;
    tn_code rc;
    if (strchr(selector, ':')) {
        /* A person selector: their account. */
        person p;
        account *accts = NULL;
        size_t n = 0;
        if ((rc = svc_resolve_person(s, selector, &p, e)) != TN_OK)
            return rc;
        if ((rc = store_account_list_by_person(s->st, p.id, &accts, &n, e)) != TN_OK)
            return rc;
        if (n == 0)
            rc = tn_err_set(e, TN_ENOTFOUND, NULL, "person %lld has no account",
                            (long long)p.number);
        else
            acct = accts[0];
        free(accts);
    } else {
        rc = store_account_get_by_username(s->st, selector, &acct, e);
    }
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, op, acct.person_id, "account.password", e)) !=
        TN_OK)
        return rc;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    svc_changes ch;
    svc_changes_init(&ch);
    rc = store_account_set_password(s->st, acct.username, hash, audit_now_us(), e);
    if (rc == TN_OK) {
        svc_changes_add_secret(&ch, "password", false, hash[0] != '\0');
        rc = svc_changes_write(s, a, "account.password", acct.person_id, &ch, e);
    }
    svc_changes_free(&ch);
    return svc_tx_end(s, rc, e);
}

tn_code svc_account_set_password(svc *s, const svc_actor *a, const char *selector,
                                 const char *password, tn_err *e)
{
    char hash[SEC_PWHASH_BUFSZ] = "";
    if (password && *password) {
        if (strlen(password) > 1024)
            return tn_err_set(e, TN_EINVAL, "password", "is longer than 1024 bytes");
        tn_code rc = sec_password_hash(password, 0, 0, hash, e);
        if (rc != TN_OK)
            return rc;
    }
    return put_password(s, a, selector, hash, SVC_OP_PASSWORD_RESET, e);
}

tn_code svc_account_set_password_hash(svc *s, const svc_actor *a, const char *selector,
                                      const char *hash, tn_err *e)
{
    static const char *const forms[] = {"$argon2id$", "{SSHA}", "{SSHA256}", "{SSHA512}"};
    bool known = false;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        known = known || strncmp(hash, forms[i], strlen(forms[i])) == 0;
    size_t len = strlen(hash);
    if (!known)
        return tn_err_set(e, TN_EINVAL, "password_hash",
                          "must be $argon2id$…, {SSHA}, {SSHA256} or {SSHA512}");
    if (len >= STORE_PWHASH_MAX)
        return tn_err_set(e, TN_EINVAL, "password_hash", "is longer than %d bytes",
                          STORE_PWHASH_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)hash[i] <= ' ' || (unsigned char)hash[i] >= 0x7f)
            return tn_err_set(e, TN_EINVAL, "password_hash", "contains a space or control byte");
    return put_password(s, a, selector, hash, SVC_OP_PERSON_WRITE, e);
}

tn_code svc_dir_passwd(svc *s, const svc_actor *a, const char *old_pw, const char *new_pw,
                       tn_err *e)
{
    if (a->kind != SVC_ACTOR_PERSON)
        return svc_authorize(s, a, SVC_OP_PASSWORD_CHANGE, NULL, "account.password", e);
    size_t nl = strlen(new_pw);
    if (nl == 0 || nl > 1024)
        return tn_err_set(e, TN_EINVAL, "newPasswd", "must be 1 to 1024 bytes");
    account *accts = NULL;
    size_t n = 0;
    tn_code rc = store_account_list_by_person(s->st, a->id, &accts, &n, e);
    if (rc != TN_OK)
        return rc;
    char username[USERNAME_BUFSZ] = "";
    if (n > 0)
        tn_strlcpy(username, accts[0].username, sizeof username);
    free(accts);
    if (!username[0])
        return tn_err_set(e, TN_ENOTFOUND, NULL, "no account");
    /* The old password is checked exactly as a bind checks it, so that
     * password modify is no way around the lockout. */
    store_dir_auth au;
    if ((rc = store_dir_auth_get(s->st, username, &au, e)) != TN_OK)
        return rc;
    if (au.state != ASTATE_ACTIVE && au.state != ASTATE_GRACE)
        return bind_failed(s, a, &au, "password modify: account not active", e);
    if (au.locked_until > audit_now_us())
        return bind_failed(s, a, &au, "password modify: account locked after failed binds", e);
    if (!au.password_hash[0] || !sec_password_check(au.password_hash, old_pw))
        return bind_failed(s, a, &au, "password modify: wrong old password", e);
    char hash[SEC_PWHASH_BUFSZ];
    if ((rc = sec_password_hash(new_pw, 0, 0, hash, e)) != TN_OK)
        return rc;
    rc = put_password(s, a, username, hash, SVC_OP_PASSWORD_CHANGE, e);
    return rc;
}
