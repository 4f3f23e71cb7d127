/* Reconciliation: what the target holds against what the registry says
 * it should hold. Missing entries and drifted attributes are corrected
 * (with fix) by asking for the person's delivery again through the
 * outbox; orphans (entries no registry person accounts for) are reported,
 * never deleted by guesswork. A SCIM target with groups also has its
 * groups' members compared with the persons who should be there. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prov_int.h"
#include "prov_scim_diff.h"
#include "tn_str.h"

typedef struct seen_row {
    char key[512];        /* id, lowercased for a DN */
    prov_seen s;          /* attrs owned */
    bool matched;
} seen_row;

/* A membership the target should hold: user uid (the recorded resource
 * of person pid) in the group named group. */
typedef struct want_member {
    char group[PROV_GROUP_NAME_MAX];
    char uid[512];
    char pid[UUID_BUFSZ];
} want_member;

typedef struct rec_ctx {
    svc *s;
    const svc_actor *a;
    const conf_target *t;
    seen_row *rows;
    size_t n, cap;
    char (*pids)[UUID_BUFSZ];
    size_t npids, cappids;
    want_member *wm;
    size_t nwm, capwm;
    char (*keep)[512];    /* users whose memberships are left as they are (want skip) */
    size_t nkeep, capkeep;
    char (*enq)[UUID_BUFSZ]; /* persons enqueued by --fix */
    size_t nenq, capenq;
    prov_finding_cb cb;
    void *cbctx;
    bool fix;
    int64_t fixed;
    tn_code rc;
    tn_err *e;
} rec_ctx;

static void key_of(const conf_target *t, const char *id, char *out, size_t cap)
{
    tn_strlcpy(out, id, cap);
    if (strcmp(t->type, "ldap") == 0)
        for (char *p = out; *p; p++)
            *p = (char)tolower((unsigned char)*p);
}

static int on_seen(const prov_seen *s, void *ctx)
{
    rec_ctx *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->rows = realloc(c->rows, c->cap * sizeof *c->rows);
        if (!c->rows)
            abort();
    }
    seen_row *r = &c->rows[c->n++];
    memset(r, 0, sizeof *r);
    key_of(c->t, s->id, r->key, sizeof r->key);
    r->s = *s;
    r->s.attrs = malloc((s->nattrs ? s->nattrs : 1) * sizeof *s->attrs);
    if (!r->s.attrs)
        abort();
    memcpy(r->s.attrs, s->attrs, s->nattrs * sizeof *s->attrs);
    return 0;
}

static int cmp_row(const void *x, const void *y)
{
    return strcmp(((const seen_row *)x)->key, ((const seen_row *)y)->key);
}

static int on_person(const person *p, void *ctx)
{
    rec_ctx *c = ctx;
    if (c->npids == c->cappids) {
        c->cappids = c->cappids ? c->cappids * 2 : 256;
        c->pids = realloc(c->pids, c->cappids * sizeof *c->pids);
        if (!c->pids)
            abort();
    }
    tn_strlcpy(c->pids[c->npids++], p->id, UUID_BUFSZ);
    return 0;
}

/* The attribute names whose values differ between want and have. */
static void drift(const conf_target *t, const prov_entry *want, const prov_seen *have, char *out,
                  size_t cap)
{
    const char *names[CONF_MAP_MAX + 2];
    size_t nn = prov_managed_attrs(t, names, CONF_MAP_MAX + 2);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nn; i++) {
        size_t nw = 0, nh = 0;
        bool same = true;
        for (size_t k = 0; k < want->nattrs; k++) {
            if (strcasecmp(want->attrs[k].name, names[i]) != 0)
                continue;
            nw++;
            bool found = false;
            for (size_t h = 0; h < have->nattrs && !found; h++)
                found = strcasecmp(have->attrs[h].name, names[i]) == 0 &&
                        strcmp(have->attrs[h].value, want->attrs[k].value) == 0;
            same &= found;
        }
        for (size_t h = 0; h < have->nattrs; h++)
            nh += strcasecmp(have->attrs[h].name, names[i]) == 0;
        if (same && nw == nh)
            continue;
        int n = snprintf(out + o, cap - o, "%s%s", o ? "," : "", names[i]);
        if (n < 0 || (size_t)n >= cap - o)
            break;
        o += (size_t)n;
    }
}

/* A person with several findings (a group membership missing in two
 * groups) is delivered once: one enqueue, one audit event. */
static bool already_enqueued(rec_ctx *c, const char *pid)
{
    for (size_t i = 0; i < c->nenq; i++)
        if (strcmp(c->enq[i], pid) == 0)
            return true;
    if (c->nenq == c->capenq) {
        c->capenq = c->capenq ? c->capenq * 2 : 64;
        c->enq = realloc(c->enq, c->capenq * sizeof *c->enq);
        if (!c->enq)
            abort();
    }
    tn_strlcpy(c->enq[c->nenq++], pid, UUID_BUFSZ);
    return false;
}

static void report(rec_ctx *c, const char *kind, const char *pid, const char *rid,
                   const char *detail)
{
    prov_finding f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    tn_strlcpy(f.person_id, pid ? pid : "", sizeof f.person_id);
    tn_strlcpy(f.resource_id, rid ? rid : "", sizeof f.resource_id);
    tn_strlcpy(f.detail, detail ? detail : "", sizeof f.detail);
    if (c->cb)
        c->cb(&f, c->cbctx);
    if (c->fix && pid && pid[0] && c->rc == TN_OK && !already_enqueued(c, pid)) {
        char reason[600];
        snprintf(reason, sizeof reason, "reconcile: %s", kind);
        c->rc = svc_prov_enqueue(c->s, c->a, c->t->name, pid, reason, c->e);
        if (c->rc == TN_OK)
            c->fixed++;
    }
}

/* Map a resource id to its person, for orphans the registry recorded. */
typedef struct res_map {
    char key[512];
    char pid[UUID_BUFSZ];
} res_map;
typedef struct res_ctx {
    const conf_target *t;
    res_map *m;
    size_t n, cap;
} res_ctx;

static int on_res(const svc_prov_resource *r, void *ctx)
{
    res_ctx *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->m = realloc(c->m, c->cap * sizeof *c->m);
        if (!c->m)
            abort();
    }
    key_of(c->t, r->resource_id, c->m[c->n].key, sizeof c->m[0].key);
    tn_strlcpy(c->m[c->n].pid, r->person_id, UUID_BUFSZ);
    c->n++;
    return 0;
}

/* ---- group members (SCIM, groups = kinds) -------------------------------- */

/* The memberships person x should have, as the registry recorded their
 * user: none for a person without one (reported missing already). */
static void want_groups(rec_ctx *c, const svc_prov_subject *x, const prov_entry *en)
{
    if (!x->has_resource || strcmp(x->resource_state, "deleted") == 0)
        return;
    if (en->want == PROV_SKIP) {
        /* on_close = keep, on_purge = keep: whatever groups it is in stay. */
        if (c->nkeep == c->capkeep) {
            c->capkeep = c->capkeep ? c->capkeep * 2 : 64;
            c->keep = realloc(c->keep, c->capkeep * sizeof *c->keep);
            if (!c->keep)
                abort();
        }
        tn_strlcpy(c->keep[c->nkeep++], x->resource_id, sizeof c->keep[0]);
        return;
    }
    for (size_t g = 0; g < en->ngroups; g++) {
        if (c->nwm == c->capwm) {
            c->capwm = c->capwm ? c->capwm * 2 : 256;
            c->wm = realloc(c->wm, c->capwm * sizeof *c->wm);
            if (!c->wm)
                abort();
        }
        want_member *w = &c->wm[c->nwm++];
        tn_strlcpy(w->group, en->groups[g], sizeof w->group);
        tn_strlcpy(w->uid, x->resource_id, sizeof w->uid);
        tn_strlcpy(w->pid, x->person_id, sizeof w->pid);
    }
}

typedef struct grp_ctx {
    rec_ctx *c;
    const res_ctx *res;
    svc_prov_group *rec;     /* recorded groups */
    size_t nrec, caprec;
    bool *seen;              /* per wm: its group was found at the target */
    const char *gname;       /* the group being compared */
} grp_ctx;

static int on_rec_group(const svc_prov_group *g, void *ctx)
{
    grp_ctx *gc = ctx;
    if (gc->nrec == gc->caprec) {
        gc->caprec = gc->caprec ? gc->caprec * 2 : 16;
        gc->rec = realloc(gc->rec, gc->caprec * sizeof *gc->rec);
        if (!gc->rec)
            abort();
    }
    gc->rec[gc->nrec++] = *g;
    return 0;
}

static const char *wanted_pid(const grp_ctx *gc, const char *uid)
{
    const rec_ctx *c = gc->c;
    for (size_t i = 0; i < c->nwm; i++)
        if (strcasecmp(c->wm[i].group, gc->gname) == 0 && strcmp(c->wm[i].uid, uid) == 0)
            return c->wm[i].pid;
    return NULL;
}

static const char *recorded_pid(const grp_ctx *gc, const char *uid)
{
    for (size_t k = 0; k < gc->res->n; k++)
        if (strcmp(gc->res->m[k].key, uid) == 0)
            return gc->res->m[k].pid;
    return NULL;
}

static void on_member_drift(const char *uid, bool missing, void *ctx)
{
    grp_ctx *gc = ctx;
    rec_ctx *c = gc->c;
    if (missing) {
        report(c, "member-missing", wanted_pid(gc, uid), gc->gname, uid);
        return;
    }
    for (size_t i = 0; i < c->nkeep; i++)
        if (strcmp(c->keep[i], uid) == 0)
            return;
    /* A member tunnus never made is reported only (pid NULL: no fix). */
    report(c, "member-extra", recorded_pid(gc, uid), gc->gname, uid);
}

static int on_target_group(const prov_group_seen *g, void *ctx)
{
    grp_ctx *gc = ctx;
    rec_ctx *c = gc->c;
    bool ours = false;
    for (size_t i = 0; i < gc->nrec && !ours; i++)
        ours = strcmp(gc->rec[i].resource_id, g->id) == 0;
    for (size_t i = 0; i < c->nwm && !ours; i++)
        ours = strcasecmp(c->wm[i].group, g->name) == 0;
    if (!ours)
        return 0;
    const char **want = calloc(c->nwm + 1, sizeof *want);
    const char **have = calloc(g->nmembers + 1, sizeof *have);
    if (!want || !have)
        abort();
    size_t nw = 0;
    for (size_t i = 0; i < c->nwm; i++)
        if (strcasecmp(c->wm[i].group, g->name) == 0) {
            want[nw++] = c->wm[i].uid;
            gc->seen[i] = true;
        }
    memcpy(have, g->members, g->nmembers * sizeof *have);
    gc->gname = g->name;
    prov_member_drift(want, nw, have, g->nmembers, on_member_drift, gc);
    free(want);
    free(have);
    return c->rc != TN_OK;
}

/* Every member of tunnus's groups (recorded, or named as one a person
 * should be in) against the persons who should be there. */
static tn_code reconcile_groups(rec_ctx *c, prov_conn *conn, const res_ctx *res, tn_err *e)
{
    grp_ctx gc;
    memset(&gc, 0, sizeof gc);
    gc.c = c;
    gc.res = res;
    gc.seen = calloc(c->nwm + 1, sizeof *gc.seen);
    if (!gc.seen)
        abort();
    char msg[512];
    tn_code rc = svc_prov_groups(c->s, c->a, c->t->name, on_rec_group, &gc, e);
    if (rc == TN_OK && prov_scim_list_groups(conn->scim, on_target_group, &gc, msg, sizeof msg) !=
                           PROV_OK)
        rc = tn_err_set(e, TN_EIO, NULL, "target %s: %s", c->t->name, msg);
    /* Groups the target does not hold at all: each of their members. */
    for (size_t i = 0; rc == TN_OK && c->rc == TN_OK && i < c->nwm; i++)
        if (!gc.seen[i])
            report(c, "member-missing", c->wm[i].pid, c->wm[i].group, c->wm[i].uid);
    free(gc.seen);
    free(gc.rec);
    return rc;
}

tn_code prov_reconcile(svc *s, const svc_actor *a, const conf_target *t, bool fix,
                       prov_finding_cb cb, void *ctx, int64_t *fixed, tn_err *e)
{
    rec_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.a = a;
    c.t = t;
    c.cb = cb;
    c.cbctx = ctx;
    c.fix = fix;
    c.e = e;
    *fixed = 0;
    res_ctx rc_map = {t, NULL, 0, 0};
    prov_entry *en = malloc(sizeof *en);
    prov_conn *conn = prov_conn_new(t);
    char msg[512];
    tn_code rc = TN_OK;
    if (prov_conn_open(conn, msg, sizeof msg) != PROV_OK ||
        prov_conn_list(conn, on_seen, &c, msg, sizeof msg) != PROV_OK) {
        rc = tn_err_set(e, TN_EIO, NULL, "target %s: %s", t->name, msg);
        goto out;
    }
    qsort(c.rows, c.n, sizeof *c.rows, cmp_row);
    svc_person_query q;
    memset(&q, 0, sizeof q);
    if ((rc = svc_person_list(s, a, &q, on_person, &c, e)) != TN_OK)
        goto out;
    if ((rc = svc_prov_resources(s, a, t->name, on_res, &rc_map, e)) != TN_OK)
        goto out;
    for (size_t i = 0; i < c.npids && c.rc == TN_OK; i++) {
        svc_prov_subject x;
        if ((rc = svc_prov_subject_get(s, a, t->name, c.pids[i], &x, e)) != TN_OK)
            goto out;
        tn_err be;
        tn_err_clear(&be);
        bool ok = prov_entry_build(t, &x, svc_today(s), en, &be) == TN_OK;
        /* Group members are compared on SCIM targets only (an LDAP
         * target's groups are not read: docs/provisioning.md). */
        if (ok && t->groups[0] && !strcmp(t->type, "scim"))
            want_groups(&c, &x, en);
        svc_prov_subject_free(&x);
        if (!ok || (en->want != PROV_PRESENT && en->want != PROV_DISABLED))
            continue;
        seen_row key;
        key_of(t, en->id, key.key, sizeof key.key);
        seen_row *r = bsearch(&key, c.rows, c.n, sizeof *c.rows, cmp_row);
        if (!r) {
            report(&c, "missing", c.pids[i], en->id, NULL);
            continue;
        }
        r->matched = true;
        char d[512];
        drift(t, en, &r->s, d, sizeof d);
        if (d[0])
            report(&c, "drift", c.pids[i], en->id, d);
    }
    for (size_t i = 0; i < c.n && c.rc == TN_OK; i++) {
        if (c.rows[i].matched)
            continue;
        const char *pid = NULL;
        for (size_t k = 0; k < rc_map.n; k++)
            if (strcmp(rc_map.m[k].key, c.rows[i].key) == 0)
                pid = rc_map.m[k].pid;
        report(&c, "orphan", pid, c.rows[i].s.id, pid ? "recorded for a person the target should not hold"
                                                     : "no registry record");
    }
    if (c.rc == TN_OK && t->groups[0] && conn->scim &&
        (rc = reconcile_groups(&c, conn, &rc_map, e)) != TN_OK)
        goto out;
    rc = c.rc;
    *fixed = c.fixed;
out:
    for (size_t i = 0; i < c.n; i++)
        free(c.rows[i].s.attrs);
    free(c.rows);
    free(c.pids);
    free(c.wm);
    free(c.keep);
    free(c.enq);
    free(rc_map.m);
    free(en);
    prov_conn_free(conn);
    return rc;
}
