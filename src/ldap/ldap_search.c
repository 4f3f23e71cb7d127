/* SearchRequest (RFC 4511 4.5): base, one-level and subtree scopes over
 * the tree of ldap_schema.c, every filter type, size and time limits,
 * attribute selection with "*", "+" and "1.1", typesOnly.
 *
 * People come from svc_dir_search: an equality on uid in the filter (or a
 * uid DN as the base) is one index lookup; anything else is a capped scan
 * with the filter evaluated here. Entries are encoded into the session's
 * buffer and sent in batches, each after its audit is durable.
 *
 * Paged results (RFC 2696): entries come in a fixed order (the base, then
 * ou=people, then persons by account id), so a page resumes from how many
 * fixed entries and which account id the previous page ended at, kept in
 * the session under a random cookie. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ldap_int.h"

#define SEND_BATCH (256 * 1024)

typedef struct sel {
    bool user, oper, any_named;
    bool named[LD_A_MAX];
} sel;

typedef struct search {
    ld_sess *ss;
    const ld_msg *m;
    const ld_filter *f;
    const sel *want;
    bool types_only;
    int64_t size_limit; /* 0 = none */
    int64_t sent;
    struct timespec deadline;
    bool size_hit, time_hit, failed;
    int64_t page_size;  /* < 0: not paged */
    int fixed_skip;     /* fixed entries sent by earlier pages */
    int fixed_idx;      /* fixed entries met so far */
    int64_t after_id;   /* persons up to this account id were sent by earlier pages */
    int64_t last_id;
    bool page_more;
    int64_t after_gid;  /* groups up to this gidNumber were sent by earlier pages */
    int64_t last_gid;
    bool groups_begun;  /* a group was sent on this page: persons are done */
    bool member_of;     /* persons need their groups (memberOf asked for or filtered on) */
} search;

static bool wanted(const sel *w, int id)
{
    const ld_attr_info *ai = ld_attr_get(id);
    if (w->named[id])
        return true;
    return ai->operational ? w->oper : w->user;
}

static bool encode_entry(search *q, const ld_view *e)
{
    BerElement *ber = ld_out_ber(&q->ss->out);
    char dn[CONF_DN_MAX + 96];
    ld_view_dn(e, dn, sizeof dn);
    if (ber_printf(ber, "{it{s{", q->m->msgid, (ber_tag_t)LD_RES_SEARCH_ENTRY, dn) == -1)
        return false;
    ld_vals v;
    for (int id = 0; id < LD_A_MAX; id++) {
        if (!wanted(q->want, id))
            continue;
        if (e->kind == LD_E_GROUP && (id == LD_A_MEMBER || id == LD_A_MEMBERUID)) {
            if (!ld_group_encode_members(ber, e, id, q->types_only))
                return false;
            continue;
        }
        ld_values(e, id, &v);
        if (v.n == 0)
            continue;
        if (ber_printf(ber, "{s[", ld_attr_get(id)->name) == -1)
            return false;
        if (!q->types_only)
            for (int i = 0; i < v.n; i++)
                if (ber_printf(ber, "o", v.v[i], (ber_len_t)v.len[i]) == -1)
                    return false;
        if (ber_printf(ber, "]}") == -1)
            return false;
    }
    return ber_printf(ber, "}}}") != -1;
}

static bool past(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Send one matching entry; false stops the search. */
static bool emit(search *q, const ld_view *e)
{
    if (q->page_size >= 0 && q->sent >= q->page_size) {
        q->page_more = true;
        return false;
    }
    if (q->size_limit && q->sent >= q->size_limit) {
        q->size_hit = true;
        return false;
    }
    if (!encode_entry(q, e)) {
        q->failed = true;
        return false;
    }
    q->sent++;
    BerElement *ber = ld_out_ber(&q->ss->out);
    ber_len_t used = 0;
    ber_get_option(ber, LBER_OPT_BER_BYTES_TO_WRITE, &used);
    if (used > SEND_BATCH && !ld_sess_flush(q->ss)) {
        q->failed = true;
        return false;
    }
    if (past(&q->deadline)) {
        q->time_hit = true;
        return false;
    }
    return true;
}

static void fixed(search *q, ld_ekind kind)
{
    if (q->failed || q->size_hit || q->time_hit)
        return;
    ld_view e = {kind, NULL, q->ss->tree, NULL};
    if (q->page_more)
        return;
    if (q->fixed_idx < q->fixed_skip) {
        q->fixed_idx++;
        return;
    }
    /* One that did not fit on the page is not counted: the next page starts with it. */
    if (ld_filter_eval(q->f, &e) == LD_TRUE && !emit(q, &e) && q->page_more)
        return;
    q->fixed_idx++;
}

static bool person_match(const dir_entry *d, void *ctx)
{
    search *q = ctx;
    ld_view e = {LD_E_PERSON, d, q->ss->tree, NULL};
    return ld_filter_eval(q->f, &e) == LD_TRUE;
}

static int person_emit(const dir_entry *d, void *ctx)
{
    search *q = ctx;
    ld_view e = {LD_E_PERSON, d, q->ss->tree, NULL};
    bool ok = emit(q, &e);
    if (ok)
        q->last_id = d->account_id;
    return ok ? 0 : 1;
}

/* The attribute list as audited: what was asked for. */
static void audit_attrs(const sel *w, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    if (w->user)
        n += (size_t)snprintf(out + n, cap - n, "*");
    for (int id = 0; id < LD_A_MAX && n < cap; id++)
        if (w->named[id] && !(w->user && !ld_attr_get(id)->operational))
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", ld_attr_get(id)->name);
}

static tn_code people(search *q, const char *uid, bool *capped, tn_err *e)
{
    char ffuid[USERNAME_BUFSZ];
    if (!uid && ld_filter_uid(q->f, ffuid, sizeof ffuid))
        uid = ffuid;
    char attrs[512];
    audit_attrs(q->want, attrs, sizeof attrs);
    svc_dir_query dq = {uid, person_match, q, attrs, q->member_of};
    if (q->page_size < 0)
        return svc_dir_search(q->ss->s, &q->ss->actor, &dq, person_emit, q, capped, e);
    if (q->page_more)
        return TN_OK;
    bool more = false;
    tn_code rc = svc_dir_search_page(q->ss->s, &q->ss->actor, &dq, q->after_id,
                                     q->page_size - q->sent, person_emit, q, capped, &more, e);
    q->page_more = q->page_more || more;
    return rc;
}

static bool group_match(const dir_group *g, void *ctx)
{
    search *q = ctx;
    ld_view e = {LD_E_GROUP, NULL, q->ss->tree, g};
    return ld_filter_eval(q->f, &e) == LD_TRUE;
}

static int group_emit(const dir_group *g, void *ctx)
{
    search *q = ctx;
    ld_view e = {LD_E_GROUP, NULL, q->ss->tree, g};
    bool ok = emit(q, &e);
    if (ok) {
        q->last_gid = g->gid_number;
        q->groups_begun = true;
    }
    return ok ? 0 : 1;
}

/* The groups of ou=groups: after the persons in a paged search. */
static tn_code groups(search *q, bool *capped, tn_err *e)
{
    if (q->failed || q->size_hit || q->time_hit)
        return TN_OK;
    char cn[DIR_GROUP_VAL_MAX];
    char attrs[512];
    audit_attrs(q->want, attrs, sizeof attrs);
    svc_dir_group_query gq = {ld_filter_cn(q->f, cn, sizeof cn) ? cn : NULL, group_match, q,
                              attrs};
    int64_t max = -1;
    if (q->page_size >= 0) {
        if (q->page_more)
            return TN_OK;
        max = q->page_size - q->sent;
    }
    bool more = false, cap2 = false;
    tn_code rc = svc_dir_group_search(q->ss->s, &q->ss->actor, &gq, q->after_gid, max, group_emit,
                                      q, &cap2, &more, e);
    q->page_more = q->page_more || more;
    *capped = *capped || cap2;
    return rc;
}

/* The result of a search, with the paged-results control when paged: a
 * new cookie when another page follows, the empty one when done. */
static bool finish(search *q, int code, const char *msg)
{
    ld_sess *ss = q->ss;
    if (q->page_size < 0)
        return ld_sess_result(ss, q->m->msgid, LD_RES_SEARCH_DONE, code, "", msg);
    ld_page *pg = &ss->page;
    bool more = code == LD_SUCCESS && q->page_more;
    if (more) {
        pg->active = true;
        ld_paged_new_cookie(pg);
        pg->req_hash = ld_paged_req_hash(q->m);
        pg->fixed_done = q->fixed_idx;
        pg->last_id = q->last_id > q->after_id ? q->last_id : q->after_id;
        pg->last_gid = q->last_gid > q->after_gid ? q->last_gid : q->after_gid;
        /* Once a group is sent, persons are done. */
        if (pg->last_gid > 0)
            pg->last_id = INT64_MAX;
    } else {
        memset(pg, 0, sizeof *pg);
    }
    return ld_put_done_paged(&ss->out, q->m->msgid, code, msg, more ? pg->cookie : NULL,
                             more ? LD_COOKIE_LEN : 0) &&
           ld_sess_flush(ss);
}

static bool done(ld_sess *ss, const ld_msg *m, int code, const char *matched, const char *msg)
{
    return ld_sess_result(ss, m->msgid, LD_RES_SEARCH_DONE, code, matched, msg);
}

bool ld_op_search(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    struct berval base;
    ber_int_t scope, deref, size, tlimit, types_only;
    if (ber_scanf(ber, "{meeiib", &base, &scope, &deref, &size, &tlimit, &types_only) ==
            LBER_ERROR ||
        scope < 0 || scope > 3 || size < 0 || tlimit < 0)
        return done(ss, m, LD_PROTOCOL_ERROR, "", "malformed search request");
    bool too_deep;
    ld_filter *f = ld_filter_parse(ber, &ss->arena, ss->cfg->ldap_filter_depth, &too_deep);
    if (!f) {
        char msg[96];
        if (too_deep)
            snprintf(msg, sizeof msg, "filter nested deeper than %u", ss->cfg->ldap_filter_depth);
        return done(ss, m, too_deep ? LD_UNWILLING_TO_PERFORM : LD_PROTOCOL_ERROR, "",
                    too_deep ? msg : "malformed filter");
    }
    sel want;
    memset(&want, 0, sizeof want);
    ber_len_t len;
    char *last;
    int nattrs = 0;
    if (ber_peek_tag(ber, &len) != LBER_SEQUENCE)
        return done(ss, m, LD_PROTOCOL_ERROR, "", "malformed attribute list");
    for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
         t = ber_next_element(ber, &len, last)) {
        struct berval a;
        if (ber_scanf(ber, "m", &a) == LBER_ERROR)
            return done(ss, m, LD_PROTOCOL_ERROR, "", "malformed attribute list");
        nattrs++;
        if (a.bv_len == 1 && a.bv_val[0] == '*') {
            want.user = true;
        } else if (a.bv_len == 1 && a.bv_val[0] == '+') {
            want.oper = true;
        } else if (a.bv_len == 3 && memcmp(a.bv_val, "1.1", 3) == 0) {
            continue;
        } else {
            int id = ld_attr_lookup(a.bv_val, a.bv_len);
            if (id >= 0) {
                want.named[id] = true;
                want.any_named = true;
            }
        }
    }
    /* No list means every user attribute; "1.1" (or only unknown names)
     * means none. */
    if (nattrs == 0)
        want.user = true;

    char norm[CONF_DN_MAX + 80];
    if (!ld_dn_norm(base.bv_val, base.bv_len, norm, sizeof norm))
        return done(ss, m, LD_INVALID_DN_SYNTAX, "", "invalid base DN");
    ld_target tg;
    ld_tree_resolve(ss->tree, norm, &tg);
    if (!tg.found)
        return done(ss, m, LD_NO_SUCH_OBJECT, tg.matched, "no such entry");

    tn_err e;
    tn_err_clear(&e);
    /* The root DSE and the schema are for everyone (clients read them
     * before binding); the rest of the tree is the service's to allow. */
    if (tg.kind != LD_E_ROOTDSE && tg.kind != LD_E_SUBSCHEMA &&
        svc_dir_may_search(ss->s, &ss->actor, &e) != TN_OK) {
        return done(ss, m, LD_INSUFFICIENT_ACCESS, "",
                    ss->bound ? "not permitted" : "anonymous search is not permitted; bind first");
    }

    search q;
    memset(&q, 0, sizeof q);
    q.ss = ss;
    q.m = m;
    q.f = f;
    q.want = &want;
    q.types_only = types_only != 0;
    int64_t cap = ss->cfg->ldap_size_limit;
    q.size_limit = size > 0 && size < cap ? size : cap;
    q.page_size = -1;
    ld_paged pr;
    if (!ld_paged_get(m, &pr))
        return done(ss, m, LD_PROTOCOL_ERROR, "", "malformed paged results control");
    if (pr.present) {
        if (pr.cookie_len) {
            ld_page *pg = &ss->page;
            if (!pg->active || pr.cookie_len != LD_COOKIE_LEN ||
                memcmp(pr.cookie, pg->cookie, LD_COOKIE_LEN) != 0 ||
                pg->req_hash != ld_paged_req_hash(m)) {
                memset(pg, 0, sizeof *pg);
                return done(ss, m, LD_UNWILLING_TO_PERFORM, "",
                            "paged results cookie does not continue a search on this connection");
            }
            q.fixed_skip = pg->fixed_done;
            q.after_id = pg->last_id;
            q.after_gid = pg->last_gid;
        }
        /* A page of size 0 abandons the paged search (RFC 2696 3). */
        q.page_size = pr.size < cap ? pr.size : cap;
        if (pr.size == 0) {
            q.page_more = false;
            return finish(&q, LD_SUCCESS, "");
        }
    }
    unsigned tl = ss->cfg->ldap_time_limit;
    if (tlimit > 0 && (unsigned)tlimit < tl)
        tl = (unsigned)tlimit;
    clock_gettime(CLOCK_MONOTONIC, &q.deadline);
    q.deadline.tv_sec += tl;

    q.member_of = want.named[LD_A_MEMBEROF] || want.oper || ld_filter_mentions(f, LD_A_MEMBEROF);
    bool capped = false;
    tn_code rc = TN_OK;
    switch (tg.kind) {
    case LD_E_ROOTDSE:
    case LD_E_SUBSCHEMA:
        /* Neither has children; one-level and subtree from them find nothing. */
        if (scope == 0)
            fixed(&q, tg.kind);
        break;
    case LD_E_BASE:
        if (scope == 0 || scope == 2)
            fixed(&q, LD_E_BASE);
        if (scope != 0) {
            fixed(&q, LD_E_PEOPLE);
            fixed(&q, LD_E_GROUPS);
        }
        if (scope >= 2 && !q.failed && !q.size_hit && !q.time_hit)
            rc = people(&q, NULL, &capped, &e);
        if (scope >= 2 && rc == TN_OK)
            rc = groups(&q, &capped, &e);
        break;
    case LD_E_GROUPS:
        if (scope == 0 || scope == 2)
            fixed(&q, LD_E_GROUPS);
        if (scope != 0)
            rc = groups(&q, &capped, &e);
        break;
    case LD_E_GROUP:
        if (scope != 1) {
            dir_group g;
            char attrs[512];
            audit_attrs(&want, attrs, sizeof attrs);
            rc = svc_dir_group_get(ss->s, &ss->actor, tg.cn, attrs, &g, &e);
            if (rc == TN_ENOTFOUND)
                return done(ss, m, LD_NO_SUCH_OBJECT, ss->tree->groups_dn, "no such entry");
            if (rc == TN_OK && scope != 3 && group_match(&g, &q))
                (void)group_emit(&g, &q);
            svc_dir_group_free(&g);
        }
        break;
    case LD_E_PEOPLE:
        if (scope == 0 || scope == 2)
            fixed(&q, LD_E_PEOPLE);
        if (scope != 0 && !q.failed && !q.size_hit && !q.time_hit)
            rc = people(&q, NULL, &capped, &e);
        break;
    case LD_E_PERSON:
        if (scope != 1) {
            /* The named entry must exist and be visible, or noSuchObject. */
            dir_entry d;
            char attrs[512];
            audit_attrs(&want, attrs, sizeof attrs);
            rc = svc_dir_get(ss->s, &ss->actor, tg.uid, attrs, &d, &e);
            if (rc == TN_ENOTFOUND)
                return done(ss, m, LD_NO_SUCH_OBJECT, ss->tree->people_dn, "no such entry");
            if (rc == TN_OK && q.member_of)
                rc = svc_dir_member_of(ss->s, &ss->actor, &d, &e);
            if (rc == TN_OK && scope != 3 && person_match(&d, &q))
                (void)person_emit(&d, &q);
        }
        break;
    }
    if (q.failed)
        return false;
    if (rc != TN_OK)
        return finish(&q, ld_code_for(rc), e.msg);
    if (q.size_hit)
        return finish(&q, LD_SIZELIMIT_EXCEEDED, "size limit exceeded");
    if (q.time_hit)
        return finish(&q, LD_TIMELIMIT_EXCEEDED, "time limit exceeded");
    if (capped)
        return finish(&q, LD_ADMINLIMIT_EXCEEDED,
                    "the filter is not indexed and the scan limit was reached");
    return finish(&q, LD_SUCCESS, "");
}
