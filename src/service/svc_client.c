/* API clients: creation, rotation and revocation by an administrator, and
 * the bearer-token check of every HTTP request (svc_client.h). */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_client.h"
#include "svc_internal.h"
#include "tn_str.h"

#define TOKEN_PREFIX "tnk_"
#define TOKEN_RAW 32
#define TOKEN_TEXT_LEN 43 /* base64url of 32 bytes, no padding */

static const char DENIED[] = "invalid credentials";

static void token_hash(const svc *s, const char *token, unsigned char out[STORE_HASH_BYTES])
{
    /* The lookup-hash key under its own label: a token hash cannot be
     * compared with any other keyed hash in the registry. */
    char buf[SVC_TOKEN_BUFSZ + 16];
    int n = snprintf(buf, sizeof buf, "api-token:%s", token);
    sec_fp_hash(&s->keys, buf, (size_t)n, out);
    sodium_memzero(buf, sizeof buf);
}

static void token_new(char token[SVC_TOKEN_BUFSZ])
{
    unsigned char raw[TOKEN_RAW];
    sec_random(raw, sizeof raw);
    memcpy(token, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1);
    sodium_bin2base64(token + sizeof TOKEN_PREFIX - 1, SVC_TOKEN_BUFSZ - (sizeof TOKEN_PREFIX - 1),
                      raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

static bool token_well_formed(const char *t)
{
    if (!t || strlen(t) != sizeof TOKEN_PREFIX - 1 + TOKEN_TEXT_LEN ||
        !tn_str_startswith(t, TOKEN_PREFIX))
        return false;
    for (const char *p = t + sizeof TOKEN_PREFIX - 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static bool name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len == 0 || len > SVC_CLIENT_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

/* One CIDR: an address, optionally /bits. */
static bool cidr_parse(const char *text, int *family, unsigned char addr[16], int *bits)
{
    char buf[64];
    if (!tn_strlcpy(buf, text, sizeof buf))
        return false;
    char *slash = strchr(buf, '/');
    if (slash)
        *slash++ = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, buf, addr) == 1)
        *family = AF_INET6;
    else
        return false;
    int max = *family == AF_INET ? 32 : 128;
    *bits = max;
    if (slash) {
        int64_t b;
        if (!tn_parse_i64(slash, &b) || b < 0 || b > max)
            return false;
        *bits = (int)b;
    }
    return true;
}

static bool prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char m = (unsigned char)(0xFFu << (8 - rest));
    return (a[whole] & m) == (b[whole] & m);
}

/* The next element of a comma-separated CIDR list, spaces around it
 * trimmed, into one; false at the end. */
static bool cidr_next(const char **pp, char *one, size_t cap)
{
    const char *item;
    size_t len;
    if (!tn_list_next(pp, &item, &len))
        return false;
    if (!tn_strlcpyn(one, item, len, cap))
        one[0] = '\0'; /* too long: never valid */
    return true;
}

bool svc_cidr_list_valid(const char *allow, char *bad, size_t cap)
{
    char one[64];
    int fam, bits;
    unsigned char net[16];
    const char *p = allow ? allow : "";
    while (cidr_next(&p, one, sizeof one))
        if (!cidr_parse(one, &fam, net, &bits)) {
            tn_strlcpy(bad, one[0] ? one : "(an entry too long)", cap);
            return false;
        }
    return true;
}

bool svc_cidr_allows(const char *allow, const char *source)
{
    if (!allow || !*allow)
        return true;
    unsigned char src[16];
    struct in6_addr a6;
    int sfam;
    if (inet_pton(AF_INET, source, src) == 1) {
        sfam = AF_INET;
    } else if (inet_pton(AF_INET6, source, &a6) == 1) {
        /* A dual-stack listener shows IPv4 peers as ::ffff:a.b.c.d. */
        sfam = IN6_IS_ADDR_V4MAPPED(&a6) ? AF_INET : AF_INET6;
        memcpy(src, sfam == AF_INET ? a6.s6_addr + 12 : a6.s6_addr, sfam == AF_INET ? 4 : 16);
    } else {
        return false;
    }
    const char *p = allow;
    char one[64];
    while (cidr_next(&p, one, sizeof one)) {
        int fam, bits;
        unsigned char net[16];
        if (cidr_parse(one, &fam, net, &bits) && fam == sfam && prefix_eq(net, src, bits))
            return true;
    }
    return false;
}

bool svc_cert_fingerprint_norm(const char *in, char out[65])
{
    size_t n = 0;
    for (const char *p = in ? in : ""; *p; p++) {
        char c = *p;
        if (c == ':')
            continue;
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) || n == 64)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == 64;
}

static void info_from(const store_api_client *c, svc_client_info *out)
{
    memset(out, 0, sizeof *out);
    tn_strlcpy(out->name, c->name, sizeof out->name);
    tn_strlcpy(out->role, c->role, sizeof out->role);
    tn_strlcpy(out->scope_unit, c->scope_unit, sizeof out->scope_unit);
    tn_strlcpy(out->allow, c->allow, sizeof out->allow);
    if (c->expires != TN_DATE_NONE)
        date_format(c->expires, out->expires);
    out->revoked = c->revoked_at != 0;
    out->created_at = c->created_at;
    out->rotated_at = c->rotated_at;
    out->revoked_at = c->revoked_at;
    tn_strlcpy(out->cert_sha256, c->cert_sha256, sizeof out->cert_sha256);
}

tn_code svc_client_add(svc *s, const svc_actor *a, const svc_client_input *in,
                       char token[SVC_TOKEN_BUFSZ], svc_client_info *out, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_CLIENT_ADMIN, NULL, "client.add", e);
    if (rc != TN_OK)
        return rc;
    store_api_client c;
    memset(&c, 0, sizeof c);
    c.expires = TN_DATE_NONE;
    if (!name_ok(in->name))
        return tn_err_set(e, TN_EINVAL, "name",
                          "must be 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter "
                          "or digit");
    tn_strlcpy(c.name, in->name, sizeof c.name);
    svc_role role;
    if (!svc_role_parse(in->role, &role))
        return tn_err_set(e, TN_EINVAL, "role",
                          "must be admin, helpdesk, unit_admin, hr_integration, auditor or dpo");
    tn_strlcpy(c.role, svc_role_name(role), sizeof c.role);
    if (in->unit && *in->unit) {
        if (model_check_unit_code(in->unit, "unit", e) != TN_OK)
            return e->code;
        org_unit u;
        tn_err ignored;
        if (store_unit_get(s->st, in->unit, &u, &ignored) != TN_OK)
            return tn_err_set(e, TN_ENOTFOUND, "unit", "no org unit %.200s", in->unit);
        tn_strlcpy(c.scope_unit, in->unit, sizeof c.scope_unit);
    } else if (role == SVC_ROLE_UNIT_ADMIN) {
        return tn_err_set(e, TN_EINVAL, "unit", "a unit_admin client needs --unit");
    }
    if (in->expires && *in->expires) {
        if (date_parse_iso(in->expires, &c.expires, "expires", e) != TN_OK)
            return e->code;
        if (c.expires < svc_today(s))
            return tn_err_set(e, TN_EINVAL, "expires", "must not be in the past");
    }
    if (in->nallow > SVC_CLIENT_ALLOW_MAX)
        return tn_err_set(e, TN_EINVAL, "allow", "at most %d networks", SVC_CLIENT_ALLOW_MAX);
    for (size_t i = 0; i < in->nallow; i++) {
        int fam, bits;
        unsigned char net[16];
        if (!cidr_parse(in->allow[i], &fam, net, &bits))
            return tn_err_set(e, TN_EINVAL, "allow",
                              "%.64s is not an address or CIDR (10.0.0.0/8, ::1/128)",
                              in->allow[i]);
        size_t used = strlen(c.allow);
        snprintf(c.allow + used, sizeof c.allow - used, "%s%s", used ? "," : "", in->allow[i]);
    }
    if (in->cert_sha256 && *in->cert_sha256 &&
        !svc_cert_fingerprint_norm(in->cert_sha256, c.cert_sha256))
        return tn_err_set(e, TN_EINVAL, "cert_sha256",
                          "must be a SHA-256 fingerprint: 64 hex digits, colons allowed");
    c.created_at = audit_now_us();
    unsigned char h[STORE_HASH_BYTES];
    token_new(token);
    token_hash(s, token, h);
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        goto out;
    rc = store_client_insert(s->st, &c, h, e);
    if (rc == TN_OK) {
        svc_changes ch;
        svc_changes_init(&ch);
        svc_changes_add(&ch, "name", NULL, c.name);
        svc_changes_add(&ch, "role", NULL, c.role);
        if (c.scope_unit[0])
            svc_changes_add(&ch, "unit", NULL, c.scope_unit);
        if (c.allow[0])
            svc_changes_add(&ch, "allow", NULL, c.allow);
        if (c.cert_sha256[0])
            svc_changes_add(&ch, "cert_sha256", NULL, c.cert_sha256);
        svc_changes_add_date(&ch, "expires", TN_DATE_NONE, c.expires);
        svc_changes_add_secret(&ch, "token", false, true);
        char subject[80];
        snprintf(subject, sizeof subject, "client:%s", c.name);
        rc = svc_changes_write(s, a, "client.add", subject, &ch, e);
        svc_changes_free(&ch);
    }
    rc = svc_tx_end(s, rc, e);
    if (rc == TN_OK && out)
        info_from(&c, out);
out:
    if (rc != TN_OK)
        sodium_memzero(token, SVC_TOKEN_BUFSZ);
    return rc;
}

struct list_ctx {
    svc_client_cb cb;
    void *ctx;
};

static int list_one(const store_api_client *c, void *vctx)
{
    struct list_ctx *lc = vctx;
    svc_client_info info;
    info_from(c, &info);
    return lc->cb(&info, lc->ctx);
}

tn_code svc_client_list(svc *s, const svc_actor *a, svc_client_cb cb, void *ctx, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_CLIENT_ADMIN, NULL, "client.list", e);
    if (rc != TN_OK)
        return rc;
    struct list_ctx lc = {cb, ctx};
    return store_client_list(s->st, list_one, &lc, e);
}

/* The client named name, which must exist and not be revoked (inside the
 * caller's transaction). */
static tn_code live_client(svc *s, const char *name, store_api_client *c, tn_err *e)
{
    tn_code rc = store_client_get(s->st, name ? name : "", c, e);
    if (rc == TN_ENOTFOUND)
        return tn_err_set(e, TN_ENOTFOUND, "name", "no client %.64s", name ? name : "");
    if (rc == TN_OK && c->revoked_at)
        return tn_err_set(e, TN_ESTATE, "name", "client %.64s is revoked", c->name);
    return rc;
}

static tn_code change(svc *s, const svc_actor *a, const char *name, bool revoke,
                      char token[SVC_TOKEN_BUFSZ], tn_err *e)
{
    const char *action = revoke ? "client.revoke" : "client.rotate";
    tn_code rc = svc_authorize(s, a, SVC_OP_CLIENT_ADMIN, NULL, action, e);
    if (rc != TN_OK)
        return rc;
    store_api_client c;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = live_client(s, name, &c, e);
    int64_t now = audit_now_us();
    svc_changes ch;
    svc_changes_init(&ch);
    if (rc == TN_OK && revoke) {
        rc = store_client_revoke(s->st, c.id, now, e);
        svc_changes_add(&ch, "revoked", "false", "true");
    } else if (rc == TN_OK) {
        unsigned char h[STORE_HASH_BYTES];
        token_new(token);
        token_hash(s, token, h);
        rc = store_client_set_token(s->st, c.id, h, now, e);
        svc_changes_add_secret(&ch, "token", true, true);
    }
    if (rc == TN_OK) {
        char subject[80];
        snprintf(subject, sizeof subject, "client:%s", c.name);
        rc = svc_changes_write(s, a, action, subject, &ch, e);
    }
    svc_changes_free(&ch);
    rc = svc_tx_end(s, rc, e);
    if (rc != TN_OK && token)
        sodium_memzero(token, SVC_TOKEN_BUFSZ);
    return rc;
}

tn_code svc_client_rotate(svc *s, const svc_actor *a, const char *name,
                          char token[SVC_TOKEN_BUFSZ], tn_err *e)
{
    return change(s, a, name, false, token, e);
}

tn_code svc_client_revoke(svc *s, const svc_actor *a, const char *name, tn_err *e)
{
    return change(s, a, name, true, NULL, e);
}

tn_code svc_client_bind_cert(svc *s, const svc_actor *a, const char *name,
                             const char *cert_sha256, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_CLIENT_ADMIN, NULL, "client.bind", e);
    if (rc != TN_OK)
        return rc;
    char fp[65] = "";
    if (cert_sha256 && *cert_sha256 && !svc_cert_fingerprint_norm(cert_sha256, fp))
        return tn_err_set(e, TN_EINVAL, "cert_sha256",
                          "must be a SHA-256 fingerprint: 64 hex digits, colons allowed");
    store_api_client c;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = live_client(s, name, &c, e);
    svc_changes ch;
    svc_changes_init(&ch);
    if (rc == TN_OK && strcmp(c.cert_sha256, fp) != 0) {
        rc = store_client_set_cert(s->st, c.id, fp, e);
        svc_changes_add(&ch, "cert_sha256", c.cert_sha256[0] ? c.cert_sha256 : NULL,
                        fp[0] ? fp : NULL);
        if (rc == TN_OK) {
            char subject[80];
            snprintf(subject, sizeof subject, "client:%s", c.name);
            rc = svc_changes_write(s, a, "client.bind", subject, &ch, e);
        }
    }
    svc_changes_free(&ch);
    return svc_tx_end(s, rc, e);
}

static void auth_actor(svc_actor *a, const char *id, const char *source, svc_channel ch)
{
    memset(a, 0, sizeof *a);
    a->kind = SVC_ACTOR_CLIENT;
    a->channel = ch;
    tn_strlcpy(a->id, id, sizeof a->id);
    tn_strlcpy(a->source, source ? source : "", sizeof a->source);
    char rid[37];
    sec_uuid(rid);
    tn_strlcpy(a->request_id, rid, sizeof a->request_id);
}

static tn_code audit_event(svc *s, const svc_actor *a, const char *action, const char *result,
                           const char *detail, tn_err *e)
{
    store_audit_row r;
    svc_audit_row(&r, a, action, NULL, "", result);
    r.detail = detail;
    tn_code rc = svc_tx_begin(s, e);
    if (rc != TN_OK)
        return rc;
    rc = audit_write(s->au, &r, e);
    return svc_tx_end(s, rc, e);
}

void svc_client_auth_failed(svc *s, const char *source, svc_channel ch, const char *reason)
{
    svc_actor who;
    auth_actor(&who, "http:unknown", source, ch);
    tn_err ignored;
    (void)audit_event(s, &who, "client.auth", "denied", reason, &ignored);
}

/* The memo of the client with token hash h under version v, or NULL. */
static svc_client_memo *memo_find(svc *s, const unsigned char *h, uint64_t v)
{
    if (v == 0)
        return NULL;
    for (unsigned i = 0; i < SVC_CLIENT_MEMOS; i++) {
        svc_client_memo *m = &s->memo[i];
        if (m->version == v && sodium_memcmp(m->hash, h, STORE_HASH_BYTES) == 0)
            return m;
    }
    return NULL;
}

/* Remember c under version v, in a slot left by an older version if any. */
static svc_client_memo *memo_put(svc *s, const unsigned char *h, uint64_t v,
                                 const store_api_client *c)
{
    if (v == 0)
        return NULL;
    svc_client_memo *m = NULL;
    for (unsigned i = 0; i < SVC_CLIENT_MEMOS && !m; i++)
        if (s->memo[i].version != v)
            m = &s->memo[i];
    if (!m)
        m = &s->memo[s->memo_next++ % SVC_CLIENT_MEMOS];
    m->version = v;
    memcpy(m->hash, h, STORE_HASH_BYTES);
    m->c = *c;
    m->nsources = 0;
    return m;
}

static bool memo_knows(const svc_client_memo *m, const char *source)
{
    for (unsigned i = 0; m && i < m->nsources; i++)
        if (strcmp(m->sources[i], source) == 0)
            return true;
    return false;
}

static void memo_learn(svc_client_memo *m, const char *source)
{
    if (m && m->nsources < SVC_CLIENT_MEMO_SOURCES && strlen(source) < sizeof m->sources[0])
        tn_strlcpy(m->sources[m->nsources++], source, sizeof m->sources[0]);
}

tn_code svc_client_auth(svc *s, const char *token, const char *source,
                        const char *peer_cert_sha256, svc_channel ch, svc_actor *out,
                        bool *new_source, tn_err *e)
{
    *new_source = false;
    const char *reason = NULL;
    store_api_client c;
    svc_client_memo *memo = NULL;
    svc_actor who;
    auth_actor(&who, "http:unknown", source, ch);
    tn_err ignored;
    if (!token_well_formed(token)) {
        reason = "malformed token";
    } else {
        unsigned char h[STORE_HASH_BYTES];
        token_hash(s, token, h);
        uint64_t version = 0;
        tn_code rc = store_data_version(s->st, &version, e);
        if (rc != TN_OK)
            return rc;
        memo = memo_find(s, h, version);
        if (memo)
            c = memo->c;
        else if ((rc = store_client_get_by_token(s->st, h, &c, e)) == TN_OK)
            memo = memo_put(s, h, version, &c);
        if (rc == TN_ENOTFOUND)
            reason = "unknown token";
        else if (rc != TN_OK)
            return rc;
        else {
            tn_strlcpy(who.id, c.name, sizeof who.id); /* same request id */
            if (c.revoked_at)
                reason = "client revoked";
            else if (c.expires != TN_DATE_NONE && svc_today(s) > c.expires)
                reason = "client expired";
            else if (!svc_cidr_allows(c.allow, source))
                reason = "source address not allowed";
            else if (c.cert_sha256[0] && !peer_cert_sha256)
                reason = "no verified client certificate (the client is certificate-bound)";
            else if (c.cert_sha256[0] && (strlen(peer_cert_sha256) != 64 ||
                                          sodium_memcmp(c.cert_sha256, peer_cert_sha256, 64) != 0))
                reason = "client certificate is not the bound one";
        }
    }
    if (reason) {
        (void)audit_event(s, &who, "client.auth", "denied", reason, &ignored);
        return tn_err_set(e, TN_EDENIED, NULL, DENIED);
    }
    svc_role role;
    if (!svc_role_parse(c.role, &role))
        return tn_err_set(e, TN_EINTERNAL, "role", "client %.64s has an unknown role", c.name);
    who.roles = SVC_ROLE_BIT(role);
    tn_strlcpy(who.scope_unit, c.scope_unit, sizeof who.scope_unit);
    /* A read first: the common case (a known source) writes nothing. */
    bool known = memo_knows(memo, source);
    tn_code rc = TN_OK;
    if (!known) {
        if ((rc = store_client_source_known(s->st, c.id, source, &known, e)) != TN_OK)
            return rc;
        if (known)
            memo_learn(memo, source);
    }
    if (known) {
        *out = who;
        return TN_OK;
    }
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    bool fresh = false;
    rc = store_client_source_seen(s->st, c.id, source, audit_now_us(), &fresh, e);
    if (rc == TN_OK && fresh) {
        store_audit_row r;
        svc_audit_row(&r, &who, "client.new_source", NULL, "source", "allowed");
        r.detail = "first request from this source address";
        rc = audit_write(s->au, &r, e);
    }
    if ((rc = svc_tx_end(s, rc, e)) != TN_OK)
        return rc;
    *new_source = fresh;
    *out = who;
    return TN_OK;
}
