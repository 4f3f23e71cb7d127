/* The Password Modify extended operation (RFC 3062): a bound person
 * changes their own password, giving the old one. The check of the old
 * password, the new hash and the audit are the service's
 * (svc_dir_passwd); this file decodes the request and maps the outcome.
 * tunnus never generates passwords, so newPasswd is required. */
#include <string.h>

#include "ldap_int.h"

#define PW_TAG_USER 0x80u
#define PW_TAG_OLD 0x81u
#define PW_TAG_NEW 0x82u

static bool reply(ld_sess *ss, const ld_msg *m, int code, const char *msg)
{
    return ld_sess_result(ss, m->msgid, LD_RES_EXTENDED, code, "", msg);
}

/* Copy a berval into the arena as a C string; NULL if it holds a NUL. */
static char *cstr(ld_sess *ss, const struct berval *bv)
{
    if (memchr(bv->bv_val, '\0', bv->bv_len))
        return NULL;
    char *p = ld_arena_alloc(&ss->arena, bv->bv_len + 1);
    if (p) {
        memcpy(p, bv->bv_val, bv->bv_len);
        p[bv->bv_len] = '\0';
    }
    return p;
}

/* Does userIdentity name the bound identity? "dn:DN", "u:uid" or a bare DN. */
static bool names_self(ld_sess *ss, const struct berval *id)
{
    const char *bound = ss->authz + 3; /* past "dn:" */
    char a[CONF_DN_MAX + 160], b[CONF_DN_MAX + 160];
    const char *v = id->bv_val;
    size_t l = id->bv_len;
    if (l >= 2 && strncmp(v, "u:", 2) == 0) {
        char dn[CONF_DN_MAX + 160];
        int n = snprintf(dn, sizeof dn, "uid=%.*s,%s", (int)(l - 2), v + 2, ss->tree->people_dn);
        if (n < 0 || (size_t)n >= sizeof dn)
            return false;
        v = dn;
        l = (size_t)n;
        return ld_dn_norm(v, l, a, sizeof a) && ld_dn_norm(bound, strlen(bound), b, sizeof b) &&
               strcmp(a, b) == 0;
    }
    if (l >= 3 && strncmp(v, "dn:", 3) == 0) {
        v += 3;
        l -= 3;
    }
    return ld_dn_norm(v, l, a, sizeof a) && ld_dn_norm(bound, strlen(bound), b, sizeof b) &&
           strcmp(a, b) == 0;
}

bool ld_op_passwd(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    struct berval value = {0, NULL}, user = {0, NULL}, old = {0, NULL}, nw = {0, NULL};
    bool has_user = false, has_old = false, has_new = false;
    ber_len_t len;
    if (ber_peek_tag(ber, &len) == LD_TAG_EXOP_VALUE) {
        if (ber_scanf(ber, "m", &value) == LBER_ERROR)
            return reply(ss, m, LD_PROTOCOL_ERROR, "malformed password modify request");
        BerElement *vb = ber_init(&value);
        if (!vb)
            return false;
        bool ok = ber_peek_tag(vb, &len) == LBER_SEQUENCE;
        ber_tag_t tag;
        char *last;
        /* ber_first_element reads the SEQUENCE header itself. */
        for (tag = ok ? ber_first_element(vb, &len, &last) : LBER_DEFAULT;
             ok && tag != LBER_DEFAULT;
             tag = ber_next_element(vb, &len, last)) {
            struct berval *dst = tag == PW_TAG_USER ? &user : tag == PW_TAG_OLD ? &old
                                 : tag == PW_TAG_NEW ? &nw : NULL;
            bool *seen = tag == PW_TAG_USER ? &has_user : tag == PW_TAG_OLD ? &has_old : &has_new;
            struct berval tmp;
            if (!dst || *seen || ber_scanf(vb, "m", &tmp) == LBER_ERROR) {
                ok = false;
                break;
            }
            /* vb owns a copy of the value: move each field into the arena. */
            char *p = ld_arena_alloc(&ss->arena, tmp.bv_len + 1);
            if (!p) {
                ok = false;
                break;
            }
            memcpy(p, tmp.bv_val, tmp.bv_len);
            p[tmp.bv_len] = '\0';
            dst->bv_val = p;
            dst->bv_len = tmp.bv_len;
            *seen = true;
        }
        ber_free(vb, 1);
        if (!ok)
            return reply(ss, m, LD_PROTOCOL_ERROR, "malformed password modify request");
    }
    if (!ss->bound || !ss->authz[0])
        return reply(ss, m, LD_UNWILLING_TO_PERFORM, "bind first to change your password");
    if (ss->cfg->ldap_bind_require_tls && !ss->ssl && !ss->peer_loopback)
        return reply(ss, m, LD_CONFIDENTIALITY_REQUIRED,
                     "a password change needs TLS (StartTLS or LDAPS) from this address");
    if (has_user && !names_self(ss, &user))
        return reply(ss, m, LD_INSUFFICIENT_ACCESS, "you may change only your own password");
    if (!has_old)
        return reply(ss, m, LD_UNWILLING_TO_PERFORM, "the old password is required");
    if (!has_new)
        return reply(ss, m, LD_UNWILLING_TO_PERFORM,
                     "a new password is required (tunnus does not generate passwords)");
    char *o = cstr(ss, &old), *n = cstr(ss, &nw);
    if (!o || !n)
        return reply(ss, m, LD_CONSTRAINT_VIOLATION, "a password may not contain a NUL byte");
    tn_err e;
    tn_err_clear(&e);
    ld_sess_slow_begin(ss); /* two argon2id runs: the old password and the new hash */
    tn_code rc = svc_dir_passwd(ss->s, &ss->actor, o, n, &e);
    ld_sess_slow_end(ss);
    memset(o, 0, old.bv_len);
    memset(n, 0, nw.bv_len);
    memset(old.bv_val, 0, old.bv_len);
    memset(nw.bv_val, 0, nw.bv_len);
    if (rc == TN_OK)
        return reply(ss, m, LD_SUCCESS, "");
    if (rc == TN_EDENIED && ss->actor.kind == SVC_ACTOR_PERSON)
        return reply(ss, m, LD_INVALID_CREDENTIALS, "invalid credentials");
    if (rc == TN_EINVAL)
        return reply(ss, m, LD_CONSTRAINT_VIOLATION, e.msg);
    return reply(ss, m, ld_code_for(rc), e.msg);
}
