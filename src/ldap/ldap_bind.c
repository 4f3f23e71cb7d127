/* BindRequest (RFC 4511 4.2, RFC 4513 5.1): simple binds only. The
 * session's identity is reset by every bind and set by a successful one;
 * the password check, throttling and audit are the service's. */
#include <stdio.h>
#include <string.h>

#include "ldap_int.h"
#include "svc_client.h"
#include "tn_str.h"

static bool reply(ld_sess *ss, const ld_msg *m, int code, const char *msg)
{
    return ld_sess_result(ss, m->msgid, LD_RES_BIND, code, "", msg);
}

bool ld_op_bind(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    ber_int_t version;
    struct berval name, pw = {0, NULL};
    ber_len_t len;
    if (ber_scanf(ber, "{im", &version, &name) == LBER_ERROR)
        return reply(ss, m, LD_PROTOCOL_ERROR, "malformed bind request");
    ber_tag_t tag = ber_peek_tag(ber, &len);
    /* Whatever happens next, the session is anonymous until it succeeds. */
    svc_dir_actor_anonymous(&ss->actor, ss->peer);
    ss->bound = false;
    ss->authz[0] = '\0';
    if (version != 3)
        return reply(ss, m, LD_PROTOCOL_ERROR, "only LDAP version 3 is supported");
    if (tag == LD_TAG_SASL)
        return reply(ss, m, LD_AUTH_METHOD_NOT_SUPPORTED, "SASL is not supported; use a simple bind");
    if (tag != LD_TAG_SIMPLE || ber_scanf(ber, "m}", &pw) == LBER_ERROR)
        return reply(ss, m, LD_PROTOCOL_ERROR, "malformed bind request");

    if (name.bv_len == 0) {
        if (pw.bv_len != 0)
            return reply(ss, m, LD_INVALID_CREDENTIALS, "a password needs a bind DN");
        return reply(ss, m, LD_SUCCESS, "");
    }
    if (pw.bv_len == 0)
        return reply(ss, m, LD_UNWILLING_TO_PERFORM,
                     "unauthenticated bind (a DN without a password) is not allowed");
    /* SEC-1: a password crosses the network only inside TLS. Loopback
     * never leaves the host, so local clients and the demo may bind plain. */
    if (ss->cfg->ldap_bind_require_tls && !ss->ssl && !ss->peer_loopback)
        return reply(ss, m, LD_CONFIDENTIALITY_REQUIRED,
                     "a simple bind needs TLS (StartTLS or LDAPS) from this address");
    /* A source that keeps failing waits, before any password is checked
     * (no argon2id work for it). Counted; audited when the wait began. */
    int64_t wait = tn_throttle_wait(ss->throttle, ss->peer);
    if (wait > 0) {
        svc_dir_bind_refused();
        char msg[96];
        snprintf(msg, sizeof msg, "too many failed binds from this address; try again in %lld s",
                 (long long)wait);
        return reply(ss, m, LD_INVALID_CREDENTIALS, msg);
    }
    char *password = ld_arena_alloc(&ss->arena, pw.bv_len + 1);
    if (!password || memchr(pw.bv_val, '\0', pw.bv_len))
        return reply(ss, m, LD_INVALID_CREDENTIALS, "invalid credentials");
    memcpy(password, pw.bv_val, pw.bv_len);
    password[pw.bv_len] = '\0';

    char norm[CONF_DN_MAX + 80];
    ld_target t;
    memset(&t, 0, sizeof t);
    bool is_dn = ld_dn_norm(name.bv_val, name.bv_len, norm, sizeof norm);
    if (is_dn)
        ld_tree_resolve(ss->tree, norm, &t);
    tn_err e;
    tn_err_clear(&e);
    svc_actor who;
    tn_code rc;
    char client[SVC_CLIENT_NAME_MAX + 1];
    /* Checking a password takes argon2id's time: let other sessions go on. */
    ld_sess_slow_begin(ss);
    if (is_dn && ss->tree->service_norm[0] && strcmp(norm, ss->tree->service_norm) == 0) {
        rc = svc_dir_bind_client(ss->s, ss->peer, password, &who, &e);
        if (rc == TN_OK)
            snprintf(ss->authz, sizeof ss->authz, "dn:%s", ss->cfg->ldap_service_dn);
    } else if (is_dn && ld_tree_client(ss->tree, norm, client, sizeof client)) {
        /* An API client (tunnus client add): its token is the password. */
        rc = svc_dir_bind_api_client(ss->s, ss->peer, client, password, &who, &e);
        if (rc == TN_OK)
            snprintf(ss->authz, sizeof ss->authz, "dn:cn=%s,%s", client, ss->tree->services_dn);
    } else {
        /* A DN outside the people branch names no account: it fails like
         * a wrong password, and is audited as an unknown account. */
        const char *uid = is_dn && t.kind == LD_E_PERSON && t.found ? t.uid : "";
        rc = svc_dir_bind(ss->s, ss->peer, uid, password, &who, &e);
        if (rc == TN_OK)
            snprintf(ss->authz, sizeof ss->authz, "dn:uid=%s,%s", uid, ss->tree->people_dn);
    }
    ld_sess_slow_end(ss);
    /* Both copies: the request's bytes in the read buffer too. */
    memset(password, 0, pw.bv_len);
    memset(pw.bv_val, 0, pw.bv_len);
    if (rc == TN_EDENIED && tn_throttle_fail(ss->throttle, ss->peer))
        svc_dir_source_throttled(ss->s, ss->peer);
    if (rc == TN_EDENIED)
        return reply(ss, m, LD_INVALID_CREDENTIALS, "invalid credentials");
    if (rc != TN_OK)
        return reply(ss, m, ld_code_for(rc), e.msg);
    ss->actor = who;
    ss->bound = true;
    return reply(ss, m, LD_SUCCESS, "");
}
