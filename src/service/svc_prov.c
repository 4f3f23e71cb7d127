/* Provisioning use cases (svc_prov.h): the delivery state of each target
 * and the registry facts its entries derive from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_internal.h"
#include "svc_prov.h"
#include "tn_json.h"
#include "tn_str.h"

int64_t svc_prov_now(void)
{
    return audit_now_us();
}

void svc_prov_actor(svc_actor *a, const char *target)
{
    memset(a, 0, sizeof *a);
    a->kind = SVC_ACTOR_SYSTEM;
    snprintf(a->id, sizeof a->id, "provision:%s", target);
    a->channel = SVC_CH_LIFECYCLE;
    tn_strlcpy(a->source, "local", sizeof a->source);
}

static tn_code may(svc *s, const svc_actor *a, const char *action, tn_err *e)
{
    return svc_authorize(s, a, SVC_OP_LIFECYCLE, NULL, action, e);
}

/* An event of the provisioning machinery itself. It goes through
 * audit_write, not svc_changes_write, so that it writes no outbox row: a
 * delivery must not announce a change to be delivered. */
static tn_code prov_audit(svc *s, const svc_actor *a, const char *action, const char *subject,
                          const char *const *kv, tn_err *e)
{
    tn_buf j, names;
    tn_buf_init(&j, 8192);
    tn_buf_init(&names, 1024);
    tn_buf_putc(&j, '{');
    for (size_t i = 0; kv[i]; i += 2) {
        if (names.len)
            tn_buf_putc(&names, ',');
        tn_buf_puts(&names, kv[i]);
        tn_json_key(&j, kv[i]);
        tn_buf_putc(&j, '[');
        tn_json_str(&j, NULL);
        tn_buf_putc(&j, ',');
        tn_json_str(&j, kv[i + 1]);
        tn_buf_putc(&j, ']');
    }
    tn_buf_putc(&j, '}');
    tn_code rc;
    if (j.toobig || names.toobig) {
        rc = tn_err_set(e, TN_EINTERNAL, NULL, "provisioning audit record too large");
    } else {
        store_audit_row r;
        svc_audit_row(&r, a, action, subject, names.data, "allowed");
        r.changes = j.data;
        rc = audit_write(s->au, &r, e);
    }
    tn_buf_free(&j);
    tn_buf_free(&names);
    return rc;
}

tn_code svc_prov_ingest(svc *s, const svc_actor *a, const char *target, int64_t max,
                        int64_t *added, tn_err *e)
{
    *added = 0;
    tn_code rc = may(s, a, "provision.run", e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_prov_ingest(s->st, target, audit_now_us(), max, added, e);
    return svc_tx_end(s, rc, e);
}

static void copy_items(store_prov_item *in, size_t n, svc_prov_item **out)
{
    *out = NULL;
    if (!n)
        return;
    svc_prov_item *v = calloc(n, sizeof *v);
    if (!v)
        abort();
    for (size_t i = 0; i < n; i++) {
        v[i].id = in[i].id;
        memcpy(v[i].target, in[i].target, sizeof v[i].target);
        memcpy(v[i].person_id, in[i].person_id, sizeof v[i].person_id);
        v[i].last_outbox_id = in[i].last_outbox_id;
        v[i].attempts = in[i].attempts;
        v[i].parked = in[i].parked;
        memcpy(v[i].last_error, in[i].last_error, sizeof v[i].last_error);
    }
    *out = v;
}

tn_code svc_prov_due(svc *s, const svc_actor *a, const char *target, int64_t max,
                     svc_prov_item **out, size_t *n, tn_err *e)
{
    *out = NULL;
    *n = 0;
    tn_code rc = may(s, a, "provision.run", e);
    if (rc != TN_OK)
        return rc;
    store_prov_item *raw = NULL;
    if ((rc = store_prov_due(s->st, target, audit_now_us(), max, &raw, n, e)) == TN_OK)
        copy_items(raw, *n, out);
    free(raw);
    return rc;
}

tn_code svc_prov_parked(svc *s, const svc_actor *a, const char *target, svc_prov_item **out,
                        size_t *n, tn_err *e)
{
    *out = NULL;
    *n = 0;
    tn_code rc = may(s, a, "provision.status", e);
    if (rc != TN_OK)
        return rc;
    store_prov_item *raw = NULL;
    if ((rc = store_prov_parked(s->st, target ? target : "", &raw, n, e)) == TN_OK)
        copy_items(raw, *n, out);
    free(raw);
    return rc;
}

tn_code svc_prov_subject_get(svc *s, const svc_actor *a, const char *target,
                             const char *person_id, svc_prov_subject *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_strlcpy(out->person_id, person_id, sizeof out->person_id);
    tn_code rc = may(s, a, "provision.run", e);
    if (rc != TN_OK)
        return rc;
    store_prov_resource res;
    bool found = false;
    if ((rc = store_prov_resource_get(s->st, target, person_id, &res, &found, e)) != TN_OK)
        return rc;
    if (found) {
        out->has_resource = true;
        memcpy(out->resource_id, res.resource_id, sizeof out->resource_id);
        memcpy(out->resource_state, res.state, sizeof out->resource_state);
    }
    rc = store_person_get(s->st, person_id, &out->p, e);
    if (rc == TN_ENOTFOUND) {
        tn_err_clear(e);
        return TN_OK;
    }
    if (rc != TN_OK)
        return rc;
    out->exists = true;
    if (out->p.state == PSTATE_ARCHIVED) {
        store_lc_archive ar;
        rc = store_lc_archive_get(s->st, person_id, &ar, e);
        if (rc == TN_OK)
            out->purged = ar.purged_on != TN_DATE_NONE;
        else if (rc == TN_ENOTFOUND)
            tn_err_clear(e);
        else
            return rc;
    }
    if ((rc = store_aff_list_by_person(s->st, person_id, &out->affs, &out->naffs, e)) != TN_OK)
        goto fail;
    if (out->naffs && (!(out->unit_cns = calloc(out->naffs, sizeof *out->unit_cns)) ||
                       !(out->school_cns = calloc(out->naffs, sizeof *out->school_cns)) ||
                       !(out->class_cns = calloc(out->naffs, sizeof *out->class_cns))))
        abort();
    /* Only the group families the target holds are looked up: up to three
     * queries per affiliation that a target with kind groups alone (the
     * default) never needs. An unknown target name looks up all. */
    const conf_target *ct = conf_target_find(&s->cfg, target);
    const bool want[3] = {!ct || ct->group_units, !ct || ct->group_schools,
                          !ct || ct->group_classes};
    for (size_t i = 0; i < out->naffs; i++) {
        const affiliation *f = &out->affs[i];
        const struct {
            const char *gtype, *v1, *v2;
            char *out;
        } keys[] = {
            {"unit", f->org_unit, "", out->unit_cns[i]},
            {"school", f->school, "", out->school_cns[i]},
            {"class", f->school, f->class_, out->class_cns[i]},
        };
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            if (!want[k] || !keys[k].v1[0] || (!strcmp(keys[k].gtype, "class") && !keys[k].v2[0]))
                continue;
            rc = store_dir_group_cn(s->st, keys[k].gtype, keys[k].v1, keys[k].v2, keys[k].out,
                                    DIR_GROUP_VAL_MAX, e);
            /* Every key has its group (triggers make it with the unit or
             * the affiliation); none leaves "", which the entry refuses
             * for such a group. */
            if (rc == TN_ENOTFOUND)
                tn_err_clear(e);
            else if (rc != TN_OK)
                goto fail;
        }
    }
    rc = TN_OK;
    account *accts = NULL;
    size_t nacct = 0;
    if ((rc = store_account_list_by_person(s->st, person_id, &accts, &nacct, e)) != TN_OK)
        goto fail;
    for (size_t i = 0; i < nacct; i++)
        if (!out->has_account || accts[i].id > out->acct.id) {
            out->acct = accts[i];
            out->has_account = true;
        }
    free(accts);
    store_lc_handover *h = NULL;
    size_t nh = 0;
    if ((rc = store_lc_handover_list(s->st, person_id, &h, &nh, e)) != TN_OK)
        goto fail;
    for (size_t i = 0; i < nh && !out->handover_uid[0]; i++) {
        if (strcmp(h[i].leaver_id, person_id) != 0 || strcmp(h[i].state, "active") != 0 ||
            !h[i].grantee_id[0])
            continue;
        account *ga = NULL;
        size_t ng = 0;
        rc = store_account_list_by_person(s->st, h[i].grantee_id, &ga, &ng, e);
        if (rc != TN_OK) {
            free(h);
            goto fail;
        }
        for (size_t k = 0; k < ng; k++)
            if (ga[k].state == ASTATE_ACTIVE || ga[k].state == ASTATE_GRACE)
                tn_strlcpy(out->handover_uid, ga[k].username, sizeof out->handover_uid);
        free(ga);
    }
    free(h);
    return TN_OK;
fail:
    svc_prov_subject_free(out);
    return rc;
}

void svc_prov_subject_free(svc_prov_subject *x)
{
    free(x->affs);
    x->affs = NULL;
    free(x->unit_cns);
    free(x->school_cns);
    free(x->class_cns);
    x->unit_cns = x->school_cns = x->class_cns = NULL;
    x->naffs = 0;
}

static void to_store_item(const svc_prov_item *it, store_prov_item *o)
{
    memset(o, 0, sizeof *o);
    o->id = it->id;
    memcpy(o->target, it->target, sizeof o->target);
    memcpy(o->person_id, it->person_id, sizeof o->person_id);
    o->last_outbox_id = it->last_outbox_id;
    o->attempts = it->attempts;
}

tn_code svc_prov_delivered(svc *s, const svc_actor *a, const char *target,
                           const svc_prov_item *it, const char *resource_id, const char *state,
                           const char *attrs, bool *finished, tn_err *e)
{
    *finished = false;
    tn_code rc = may(s, a, "provision.deliver", e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    store_prov_item si;
    to_store_item(it, &si);
    rc = store_prov_done(s->st, target, &si, resource_id, state, audit_now_us(), finished, e);
    if (rc == TN_OK && resource_id) {
        const char *kv[] = {"target", target, "resource", resource_id, "state", state,
                            "attributes", attrs ? attrs : "", NULL};
        rc = prov_audit(s, a, "provision.deliver", it->person_id, kv, e);
    }
    return svc_tx_end(s, rc, e);
}

tn_code svc_prov_failed(svc *s, const svc_actor *a, const conf_target *t,
                        const svc_prov_item *it, const char *error, tn_err *e)
{
    tn_code rc = may(s, a, "provision.deliver", e);
    if (rc != TN_OK)
        return rc;
    int64_t attempts = it->attempts + 1;
    bool parked = attempts >= (int64_t)t->max_attempts;
    int64_t delay_s = t->backoff;
    for (int64_t i = 1; i < attempts && delay_s < 3600; i++)
        delay_s *= 2;
    if (delay_s > 3600)
        delay_s = 3600;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_prov_fail(s->st, it->id, attempts, audit_now_us() + delay_s * 1000000, error,
                         parked, e);
    if (rc == TN_OK && parked) {
        char n[24];
        snprintf(n, sizeof n, "%lld", (long long)attempts);
        const char *kv[] = {"target", t->name, "attempts", n, "error", error, NULL};
        rc = prov_audit(s, a, "provision.park", it->person_id, kv, e);
    }
    return svc_tx_end(s, rc, e);
}

tn_code svc_prov_counts_get(svc *s, const svc_actor *a, const char *target,
                            svc_prov_counts *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_code rc = may(s, a, "provision.status", e);
    if (rc != TN_OK)
        return rc;
    store_prov_counts c;
    if ((rc = store_prov_stats(s->st, target, audit_now_us(), &c, e)) != TN_OK)
        return rc;
    out->started = c.started;
    out->pending = c.pending;
    out->parked = c.parked;
    out->due = c.due;
    out->delivered = c.delivered;
    out->last_success_at = c.last_success_at;
    out->cursor = c.cursor;
    out->outbox_max = c.outbox_max;
    out->resources = c.resources;
    return TN_OK;
}

tn_code svc_prov_retry(svc *s, const svc_actor *a, const char *target, int64_t id, int64_t *n,
                       tn_err *e)
{
    *n = 0;
    tn_code rc = may(s, a, "provision.retry", e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_prov_retry(s->st, target ? target : "", id, audit_now_us(), n, e);
    if (rc == TN_OK && *n == 0 && id)
        rc = tn_err_set(e, TN_ENOTFOUND, "id", "no parked item %lld", (long long)id);
    if (rc == TN_OK && *n > 0) {
        char ids[24], cnt[24];
        snprintf(ids, sizeof ids, "%lld", (long long)id);
        snprintf(cnt, sizeof cnt, "%lld", (long long)*n);
        const char *kv[] = {"target", target && *target ? target : "*", "item",
                            id ? ids : "all parked", "released", cnt, NULL};
        rc = prov_audit(s, a, "provision.retry", NULL, kv, e);
    }
    return svc_tx_end(s, rc, e);
}

struct res_ctx {
    svc_prov_resource_cb cb;
    void *ctx;
};

static int res_tramp(const store_prov_resource *r, void *ctx)
{
    struct res_ctx *c = ctx;
    svc_prov_resource o;
    memcpy(o.person_id, r->person_id, sizeof o.person_id);
    memcpy(o.resource_id, r->resource_id, sizeof o.resource_id);
    memcpy(o.state, r->state, sizeof o.state);
    o.created_at = r->created_at;
    o.updated_at = r->updated_at;
    return c->cb(&o, c->ctx);
}

tn_code svc_prov_resources(svc *s, const svc_actor *a, const char *target,
                           svc_prov_resource_cb cb, void *ctx, tn_err *e)
{
    tn_code rc = may(s, a, "provision.status", e);
    if (rc != TN_OK)
        return rc;
    struct res_ctx c = {cb, ctx};
    return store_prov_resource_list(s->st, target, res_tramp, &c, e);
}

tn_code svc_prov_enqueue(svc *s, const svc_actor *a, const char *target, const char *person_id,
                         const char *reason, tn_err *e)
{
    tn_code rc = may(s, a, "provision.enqueue", e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_lc_outbox_add(s->st, target, person_id, "reconcile", "{}", audit_now_us(), e);
    if (rc == TN_OK) {
        const char *kv[] = {"target", target, "reason", reason, NULL};
        rc = prov_audit(s, a, "provision.enqueue", person_id, kv, e);
    }
    return svc_tx_end(s, rc, e);
}

struct group_ctx {
    svc_prov_group_cb cb;
    void *ctx;
};

static int group_tramp(const store_prov_group *g, void *ctx)
{
    struct group_ctx *c = ctx;
    svc_prov_group o;
    memcpy(o.name, g->name, sizeof o.name);
    memcpy(o.resource_id, g->resource_id, sizeof o.resource_id);
    return c->cb(&o, c->ctx);
}

tn_code svc_prov_groups(svc *s, const svc_actor *a, const char *target, svc_prov_group_cb cb,
                        void *ctx, tn_err *e)
{
    tn_code rc = may(s, a, "provision.status", e);
    if (rc != TN_OK)
        return rc;
    struct group_ctx c = {cb, ctx};
    return store_prov_group_list(s->st, target, group_tramp, &c, e);
}

/* The id recorded for (target, name), "" when none. */
struct group_find {
    const char *name;
    char id[512];
};

static int group_find_cb(const store_prov_group *g, void *ctx)
{
    struct group_find *f = ctx;
    if (strcmp(g->name, f->name) != 0)
        return 0;
    memcpy(f->id, g->resource_id, sizeof f->id);
    return 1;
}

tn_code svc_prov_group_record(svc *s, const svc_actor *a, const char *target, const char *name,
                              const char *resource_id, tn_err *e)
{
    tn_code rc = may(s, a, "provision.deliver", e);
    if (rc != TN_OK)
        return rc;
    if (!name[0] || strlen(name) >= SVC_PROV_GROUP_NAME_BUFSZ || strlen(resource_id) >= 512)
        return tn_err_set(e, TN_EINVAL, "name", "bad group name or id");
    struct group_find f = {name, ""};
    if ((rc = store_prov_group_list(s->st, target, group_find_cb, &f, e)) != TN_OK)
        return rc;
    /* The worker reports every group it used; only a change is news. */
    if (strcmp(f.id, resource_id) == 0)
        return TN_OK;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_prov_group_put(s->st, target, name, resource_id, audit_now_us(), e);
    if (rc == TN_OK) {
        const char *kv[] = {"target", target, "group", name, "resource",
                            resource_id[0] ? resource_id : f.id, "state",
                            resource_id[0] ? "present" : "forgotten", NULL};
        rc = prov_audit(s, a, "provision.group", NULL, kv, e);
    }
    return svc_tx_end(s, rc, e);
}
