/* The directory's groups (ou=groups) and memberOf: derived from the
 * registry (docs/ldap.md). Only groups with at least one member today
 * exist for directory clients, since groupOfNames needs a member.
 *
 * Audit: every group shown is one dir.read event with no subject (a group
 * is not a person) and the group's cn in detail. The member list is not
 * audited per person: it names accounts by username only, and who was in
 * which group on a day follows from the registry's audited history. A
 * person's memberOf is part of that person's dir.read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_dir.h"
#include "svc_internal.h"

#define GROUP_CHUNK 256

void svc_dir_group_free(dir_group *g)
{
    free(g->members);
    g->members = NULL;
    g->members_len = 0;
    g->nmembers = 0;
}

tn_code svc_dir_member_of(svc *s, const svc_actor *a, dir_entry *d, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_DIR_READ, NULL, "dir.read", e);
    if (rc != TN_OK)
        return rc;
    return store_dir_member_of(s->st, d->person_number, s->today, d->groups, sizeof d->groups, e);
}

static tn_code audit_group(svc *s, const svc_actor *a, const dir_group *g, const char *attrs,
                           tn_err *e)
{
    char detail[DIR_GROUP_VAL_MAX + 48];
    snprintf(detail, sizeof detail, "group %s, %lld members", g->cn, (long long)g->nmembers);
    store_audit_row r;
    svc_audit_row(&r, a, "dir.read", NULL, attrs, "allowed");
    r.detail = detail;
    return audit_read(s->au, &r, e);
}

tn_code svc_dir_group_get(svc *s, const svc_actor *a, const char *cn, const char *attrs,
                          dir_group *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_code rc = svc_authorize(s, a, SVC_OP_DIR_READ, NULL, "dir.read", e);
    if (rc != TN_OK)
        return rc;
    if ((rc = store_dir_group_get(s->st, cn, out, e)) != TN_OK)
        return rc;
    if ((rc = store_dir_group_members(s->st, out, s->today, e)) == TN_OK && out->nmembers == 0)
        rc = tn_err_set(e, TN_ENOTFOUND, "cn", "no such group");
    if (rc == TN_OK)
        rc = audit_group(s, a, out, attrs, e);
    if (rc != TN_OK)
        svc_dir_group_free(out);
    return rc;
}

typedef struct gscan {
    svc *s;
    const svc_actor *a;
    const svc_dir_group_query *q;
    svc_dir_group_cb cb;
    void *ctx;
    int64_t last_gid, seen, cap, max, given, rows;
    bool stopped, capped, more;
    tn_code rc;
    tn_err *e;
} gscan;

static int gscan_one(const dir_group *row, void *vctx)
{
    gscan *c = vctx;
    c->rows++;
    c->last_gid = row->gid_number;
    if (++c->seen > c->cap) {
        c->capped = true;
        return 1;
    }
    /* The scan statement is open: members come from another statement on
     * the same connection, which SQLite allows. */
    dir_group g = *row;
    g.members = NULL;
    if ((c->rc = store_dir_group_members(c->s->st, &g, c->s->today, c->e)) != TN_OK)
        return 1;
    int stop = 0;
    if (g.nmembers > 0 && (!c->q->match || c->q->match(&g, c->q->match_ctx))) {
        if (c->max >= 0 && c->given >= c->max) {
            c->more = true;
            c->stopped = true;
            stop = 1;
        } else {
            c->given++;
            if ((c->rc = audit_group(c->s, c->a, &g, c->q->attrs, c->e)) != TN_OK)
                stop = 1;
            else if (c->cb(&g, c->ctx) != 0) {
                c->stopped = true;
                stop = 1;
            }
        }
    }
    svc_dir_group_free(&g);
    return stop;
}

tn_code svc_dir_group_search(svc *s, const svc_actor *a, const svc_dir_group_query *q,
                             int64_t after_gid, int64_t max, svc_dir_group_cb cb, void *ctx,
                             bool *capped, bool *more, tn_err *e)
{
    *capped = false;
    *more = false;
    tn_code rc = svc_authorize(s, a, SVC_OP_DIR_READ, NULL, "dir.search", e);
    if (rc != TN_OK)
        return rc;
    gscan c = {s, a, q, cb, ctx, after_gid, 0, s->cfg.ldap_scan_limit, max, 0, 0,
               false, false, false, TN_OK, e};
    if (q->cn) {
        dir_group g;
        tn_err why;
        rc = store_dir_group_get(s->st, q->cn, &g, &why);
        if (rc == TN_ENOTFOUND)
            return TN_OK;
        if (rc != TN_OK) {
            *e = why;
            return rc;
        }
        if (g.gid_number <= after_gid)
            return TN_OK;
        c.cap = 1;
        gscan_one(&g, &c);
        *more = c.more;
        return c.rc;
    }
    for (;;) {
        c.rows = 0;
        rc = store_dir_group_scan(s->st, c.last_gid, GROUP_CHUNK, gscan_one, &c, e);
        if (rc != TN_OK)
            return rc;
        if (c.rc != TN_OK)
            return c.rc;
        if (c.stopped || c.capped || c.rows < GROUP_CHUNK)
            break;
    }
    *capped = c.capped;
    *more = c.more;
    return TN_OK;
}
