/* The groups of a SCIM target (groups = kinds; docs/provisioning.md,
 * "Groups on a SCIM target"): each User is a member of one Group per
 * affiliation kind in force ([group_prefix]KIND). A delivery reads the
 * user's groups at the target; the joins and leaves it needs are
 * collected over the round and sent at its end as one PATCH per group
 * (add/remove on members), never as a rewrite of the member list. A
 * group is made on first need, or found again by displayName. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prov_scim_diff.h"
#include "prov_scim_int.h"
#include "tn_str.h"

static scim_group *group_lookup(prov_scim *s, const char *name)
{
    for (size_t i = 0; i < s->ngroups; i++)
        if (strcasecmp(s->groups[i].name, name) == 0)
            return &s->groups[i];
    return NULL;
}

static scim_group *group_by_id(prov_scim *s, const char *id)
{
    for (size_t i = 0; i < s->ngroups; i++)
        if (s->groups[i].id[0] && strcmp(s->groups[i].id, id) == 0)
            return &s->groups[i];
    return NULL;
}

/* Remember name's id ("" = gone); changed marks it for recording. */
static void group_put(prov_scim *s, const char *name, const char *id, bool changed)
{
    scim_group *g = group_lookup(s, name);
    if (!g) {
        if (s->ngroups == s->capgroups) {
            s->capgroups = s->capgroups ? s->capgroups * 2 : 16;
            s->groups = realloc(s->groups, s->capgroups * sizeof *s->groups);
            if (!s->groups)
                abort();
        }
        g = &s->groups[s->ngroups++];
        memset(g, 0, sizeof *g);
        tn_strlcpy(g->name, name, sizeof g->name);
    } else if (strcmp(g->id, id) == 0) {
        return;
    }
    tn_strlcpy(g->id, id, sizeof g->id);
    g->changed |= changed;
}

void prov_scim_group_known(prov_scim *s, const char *name, const char *id)
{
    group_put(s, name, id, false);
}

void prov_scim_group_changes(prov_scim *s, prov_group_rec_cb cb, void *ctx)
{
    for (size_t i = 0; i < s->ngroups; i++)
        if (s->groups[i].changed) {
            cb(s->groups[i].name, s->groups[i].id, ctx);
            s->groups[i].changed = false;
        }
}

bool prov_scim_groups_on(const prov_scim *s)
{
    return s->t->groups[0] != '\0';
}

/* GET /Groups with filter (raw), paged; cb per resource. Only the
 * displayName is asked for: a group's member list can be long. */
typedef bool (*group_page_cb)(prov_scim *s, json_t *g, void *ctx);
static prov_result groups_where(prov_scim *s, const char *filter, group_page_cb cb, void *ctx,
                                char *msg, size_t cap)
{
    char *enc = curl_easy_escape(s->curl, filter, 0);
    if (!enc) {
        snprintf(msg, cap, "cannot encode a filter");
        return PROV_ITEM_FAILED;
    }
    prov_result r = PROV_OK;
    for (long start = 1;;) {
        char path[2048];
        if ((size_t)snprintf(path, sizeof path,
                             "/Groups?filter=%s&attributes=displayName&startIndex=%ld&count=100",
                             enc, start) >= sizeof path) {
            snprintf(msg, cap, "filter too long");
            r = PROV_ITEM_FAILED;
            break;
        }
        long st;
        json_t *resp = NULL;
        r = prov_scim_request(s, "GET", path, NULL, &st, &resp, msg, cap);
        if (r != PROV_OK || st >= 400) {
            json_decref(resp);
            r = r != PROV_OK ? r : PROV_ITEM_FAILED;
            break;
        }
        json_t *list = json_object_get(resp, "Resources");
        size_t n = json_array_size(list);
        bool more = true;
        for (size_t i = 0; i < n && more; i++)
            more = cb(s, json_array_get(list, i), ctx);
        json_int_t total = json_integer_value(json_object_get(resp, "totalResults"));
        json_decref(resp);
        start += (long)n;
        if (!more || n == 0 || start > total)
            break;
    }
    curl_free(enc);
    return r;
}

/* The groups of one user that are tunnus's: recorded ones, and those
 * named as one the entry wants (adopted: an administrator may have made
 * "staff" before tunnus needed it). */
typedef struct member_ctx {
    const prov_entry *e;
    char (*have)[PROV_GROUP_NAME_MAX];
    size_t nhave;
} member_ctx;

static bool on_member_group(prov_scim *s, json_t *g, void *ctx)
{
    member_ctx *c = ctx;
    const char *id = json_string_value(json_object_get(g, "id"));
    const char *dn = json_string_value(json_object_get(g, "displayName"));
    if (!id)
        return true;
    const char *name = NULL;
    scim_group *known = group_by_id(s, id);
    if (known) {
        name = known->name;
    } else if (dn) {
        for (size_t k = 0; k < c->e->ngroups && !name; k++)
            if (strcasecmp(dn, c->e->groups[k]) == 0)
                name = c->e->groups[k];
        if (name)
            group_put(s, name, id, true);
    }
    if (name && c->nhave < PROV_GROUPS_MAX)
        tn_strlcpy(c->have[c->nhave++], name, PROV_GROUP_NAME_MAX);
    return true;
}

static void queue_op(prov_scim *s, const char *group, const char *user, bool add)
{
    if (s->nops == s->capops) {
        s->capops = s->capops ? s->capops * 2 : 256;
        s->ops = realloc(s->ops, s->capops * sizeof *s->ops);
        if (!s->ops)
            abort();
    }
    member_op *o = &s->ops[s->nops++];
    tn_strlcpy(o->group, group, sizeof o->group);
    tn_strlcpy(o->user, user, sizeof o->user);
    o->add = add;
}

prov_result prov_scim_plan_groups(prov_scim *s, const prov_entry *e, const char *uid, bool fresh,
                                  char *msg, size_t cap)
{
    char have[PROV_GROUPS_MAX][PROV_GROUP_NAME_MAX];
    member_ctx c = {e, have, 0};
    if (!fresh) {
        char f[700], filter[720];
        if (!prov_scim_eq_filter("value", uid, f, sizeof f)) {
            snprintf(msg, cap, "user id too long for a filter");
            return PROV_ITEM_FAILED;
        }
        snprintf(filter, sizeof filter, "members[%s]", f);
        prov_result r = groups_where(s, filter, on_member_group, &c, msg, cap);
        if (r != PROV_OK)
            return r;
    }
    prov_group_delta d;
    prov_group_diff((const char(*)[PROV_GROUP_NAME_MAX])have, c.nhave,
                    (const char(*)[PROV_GROUP_NAME_MAX])e->groups, e->ngroups, &d);
    for (size_t i = 0; i < d.njoin; i++)
        queue_op(s, e->groups[d.join[i]], uid, true);
    for (size_t i = 0; i < d.nleave; i++)
        queue_op(s, have[d.leave[i]], uid, false);
    return PROV_OK;
}

typedef struct find_ctx {
    const char *name;
    char *id;
    size_t cap;
} find_ctx;

static bool on_named_group(prov_scim *s, json_t *g, void *ctx)
{
    (void)s;
    find_ctx *c = ctx;
    const char *id = json_string_value(json_object_get(g, "id"));
    const char *dn = json_string_value(json_object_get(g, "displayName"));
    if (!id || !dn || strcasecmp(dn, c->name) != 0)
        return true;
    tn_strlcpy(c->id, id, c->cap);
    return false;
}

/* The id of the group named name: recorded, else found by displayName
 * (a group created before a crash, or by hand); "" when there is none. */
static prov_result group_id(prov_scim *s, const char *name, char *id, size_t idcap, char *msg,
                            size_t cap)
{
    scim_group *g = group_lookup(s, name);
    id[0] = '\0';
    if (g && g->id[0]) {
        tn_strlcpy(id, g->id, idcap);
        return PROV_OK;
    }
    char filter[PROV_GROUP_NAME_MAX * 2 + 32];
    if (!prov_scim_eq_filter("displayName", name, filter, sizeof filter)) {
        snprintf(msg, cap, "group name too long for a filter");
        return PROV_ITEM_FAILED;
    }
    find_ctx c = {name, id, idcap};
    prov_result r = groups_where(s, filter, on_named_group, &c, msg, cap);
    if (r == PROV_OK && id[0])
        group_put(s, name, id, true);
    return r;
}

/* POST /Groups with its first members; *id the new group's. */
static prov_result create_group(prov_scim *s, const char *name, const char *const *add,
                                size_t nadd, char *id, size_t idcap, char *msg, size_t cap)
{
    json_t *members = json_array();
    for (size_t i = 0; i < nadd; i++)
        json_array_append_new(members, json_pack("{s:s}", "value", add[i]));
    json_t *body = json_pack("{s:[s],s:s,s:o}", "schemas",
                             "urn:ietf:params:scim:schemas:core:2.0:Group", "displayName", name,
                             "members", members);
    long st;
    json_t *resp = NULL;
    prov_result r = prov_scim_request(s, "POST", "/Groups", body, &st, &resp, msg, cap);
    json_decref(body);
    if (r == PROV_OK && st >= 300)
        r = PROV_ITEM_FAILED;
    const char *nid = r == PROV_OK ? json_string_value(json_object_get(resp, "id")) : NULL;
    if (r == PROV_OK && !nid) {
        snprintf(msg, cap, "POST /Groups: no id in the response");
        r = PROV_ITEM_FAILED;
    }
    if (r == PROV_OK) {
        tn_strlcpy(id, nid, idcap);
        group_put(s, name, id, true);
    }
    json_decref(resp);
    return r;
}

/* One PATCH; *gone when the group is not there (404). */
static prov_result patch_once(prov_scim *s, const char *gid, const char *const *add, size_t nadd,
                              const char *const *rem, size_t nrem, bool *gone, bool *no_target,
                              char *msg, size_t cap)
{
    json_t *body = prov_scim_members_patch(add, nadd, rem, nrem);
    if (!body)
        return PROV_OK;
    /* No "attributes" to spare the member list in the response (RFC 7644
     * §3.9 allows it): scimmy applies it to the resource it patches and
     * writes back, dropping every member. */
    char path[600];
    snprintf(path, sizeof path, "/Groups/%s", gid);
    long st;
    json_t *resp = NULL;
    prov_result r = prov_scim_request(s, "PATCH", path, body, &st, &resp, msg, cap);
    json_decref(body);
    *gone = r == PROV_OK && st == 404;
    const char *type = json_string_value(json_object_get(resp, "scimType"));
    *no_target = r == PROV_OK && st == 400 && type && strcmp(type, "noTarget") == 0;
    json_decref(resp);
    if (r == PROV_OK && st >= 300 && !*gone)
        r = PROV_ITEM_FAILED;
    return r;
}

static void refuse(prov_scim *s, const char *group, const char *user, const char *why)
{
    if (s->nfails == s->capfails) {
        s->capfails = s->capfails ? s->capfails * 2 : 16;
        s->fails = realloc(s->fails, s->capfails * sizeof *s->fails);
        if (!s->fails)
            abort();
    }
    member_fail *f = &s->fails[s->nfails++];
    tn_strlcpy(f->user, user, sizeof f->user);
    snprintf(f->msg, sizeof f->msg, "group %s: %s", group, why);
}

bool prov_scim_refused(prov_scim *s, const char *user, char *msg, size_t cap)
{
    for (size_t i = 0; i < s->nfails; i++)
        if (strcmp(s->fails[i].user, user) == 0) {
            tn_strlcpy(msg, s->fails[i].msg, cap);
            return true;
        }
    return false;
}

/* Each change of a refused PATCH alone, so that one user the service
 * will not have does not hold the others back. A leave refused with
 * noTarget (not a member: a strict service, after a change by hand or
 * a service that drops a deleted user's memberships itself) is done. */
static prov_result one_by_one(prov_scim *s, const char *name, const char *gid,
                              const char *const *add, size_t nadd, const char *const *rem,
                              size_t nrem, bool *gone, char *msg, size_t cap)
{
    for (size_t i = 0; i < nrem + nadd; i++) {
        bool leave = i < nrem, no_target = false;
        const char *const *one = leave ? rem + i : add + (i - nrem);
        prov_result r = patch_once(s, gid, leave ? NULL : one, leave ? 0 : 1, leave ? one : NULL,
                                   leave ? 1 : 0, gone, &no_target, msg, cap);
        if (r == PROV_TARGET_DOWN || *gone)
            return r;
        if (r == PROV_ITEM_FAILED && !(leave && no_target))
            refuse(s, name, *one, msg);
    }
    return PROV_OK;
}

/* The changes of one group, SCIM_PATCH_MAX joins and leaves a PATCH; a
 * refused PATCH goes again change by change. */
static prov_result patch_group(prov_scim *s, const char *name, const char *gid,
                               const char *const *add, size_t nadd, const char *const *rem,
                               size_t nrem, bool *gone, char *msg, size_t cap)
{
    *gone = false;
    for (size_t a = 0, d = 0; a < nadd || d < nrem;) {
        size_t na = nadd - a < SCIM_PATCH_MAX ? nadd - a : SCIM_PATCH_MAX;
        size_t nd = nrem - d < SCIM_PATCH_MAX ? nrem - d : SCIM_PATCH_MAX;
        bool no_target = false;
        prov_result r = patch_once(s, gid, add + a, na, rem + d, nd, gone, &no_target, msg, cap);
        if (r == PROV_ITEM_FAILED)
            r = one_by_one(s, name, gid, add + a, na, rem + d, nd, gone, msg, cap);
        if (r != PROV_OK || *gone)
            return r;
        a += na;
        d += nd;
    }
    return PROV_OK;
}

static void refuse_all(prov_scim *s, const char *name, const char *const *v, size_t n,
                       const char *why)
{
    for (size_t i = 0; i < n; i++)
        refuse(s, name, v[i], why);
}

/* Make the group with its first members; if the service refuses that
 * (one member it will not have), make it empty: the members then join
 * one PATCH at a time. *skip: the members already in. */
static prov_result make_group(prov_scim *s, const char *name, const char *const *add,
                              size_t nadd, char *gid, size_t gcap, size_t *skip, char *msg,
                              size_t cap)
{
    *skip = nadd < SCIM_PATCH_MAX ? nadd : SCIM_PATCH_MAX;
    prov_result r = create_group(s, name, add, *skip, gid, gcap, msg, cap);
    if (r == PROV_ITEM_FAILED) {
        *skip = 0;
        r = create_group(s, name, NULL, 0, gid, gcap, msg, cap);
    }
    return r;
}

static prov_result flush_group(prov_scim *s, size_t from, size_t to, char *msg, size_t cap)
{
    const char *name = s->ops[from].group;
    size_t n = to - from, nadd = 0, nrem = 0;
    const char **add = calloc(n, sizeof *add), **rem = calloc(n, sizeof *rem);
    if (!add || !rem)
        abort();
    for (size_t i = from; i < to; i++) {
        if (s->ops[i].add)
            add[nadd++] = s->ops[i].user;
        else
            rem[nrem++] = s->ops[i].user;
    }
    prov_result r = PROV_OK;
    /* A second pass only when the recorded group turned out to be gone. */
    for (int pass = 0; pass < 2; pass++) {
        char gid[512];
        size_t skip = 0, nr = nrem;
        r = group_id(s, name, gid, sizeof gid, msg, cap);
        if (r == PROV_OK && !gid[0]) {
            if (!nadd)
                break; /* leaving a group that is not there */
            r = make_group(s, name, add, nadd, gid, sizeof gid, &skip, msg, cap);
            nr = 0;
        }
        if (r == PROV_ITEM_FAILED) {
            /* The group itself is refused: every change of it waits. */
            refuse_all(s, name, add, nadd, msg);
            refuse_all(s, name, rem, nrem, msg);
            r = PROV_OK;
            break;
        }
        if (r != PROV_OK)
            break;
        bool gone = false;
        r = patch_group(s, name, gid, add + skip, nadd - skip, rem, nr, &gone, msg, cap);
        if (r != PROV_OK || !gone)
            break;
        group_put(s, name, "", true);
    }
    free(add);
    free(rem);
    return r;
}

static int cmp_op(const void *a, const void *b)
{
    const member_op *x = a, *y = b;
    int c = strcasecmp(x->group, y->group);
    return c ? c : strcmp(x->user, y->user);
}

prov_result prov_scim_commit(prov_scim *s, char *msg, size_t cap)
{
    s->nfails = 0;
    if (!s->nops)
        return PROV_OK;
    qsort(s->ops, s->nops, sizeof *s->ops, cmp_op);
    prov_result r = PROV_OK;
    for (size_t i = 0; i < s->nops && r == PROV_OK;) {
        size_t j = i;
        while (j < s->nops && strcasecmp(s->ops[j].group, s->ops[i].group) == 0)
            j++;
        r = flush_group(s, i, j, msg, cap);
        i = j;
    }
    s->nops = 0;
    /* The service gone mid-way: the round is not recorded and its persons
     * are delivered again, which reads their groups afresh. */
    return r == PROV_OK ? PROV_OK : PROV_TARGET_DOWN;
}

void prov_scim_abort(prov_scim *s)
{
    s->nops = 0;
    s->nfails = 0;
}

prov_result prov_scim_list_groups(prov_scim *s, prov_group_seen_cb cb, void *ctx, char *msg,
                                  size_t cap)
{
    prov_result r = prov_scim_open(s, msg, cap);
    if (r != PROV_OK)
        return r;
    for (long start = 1;;) {
        char path[128];
        snprintf(path, sizeof path, "/Groups?startIndex=%ld&count=100", start);
        long st;
        json_t *resp = NULL;
        r = prov_scim_request(s, "GET", path, NULL, &st, &resp, msg, cap);
        if (r != PROV_OK || st >= 400) {
            json_decref(resp);
            return r != PROV_OK ? r : PROV_TARGET_DOWN;
        }
        json_t *list = json_object_get(resp, "Resources");
        size_t n = json_array_size(list);
        int stop = 0;
        for (size_t i = 0; i < n && !stop; i++) {
            json_t *g = json_array_get(list, i);
            json_t *mem = json_object_get(g, "members");
            prov_group_seen gs = {json_string_value(json_object_get(g, "id")),
                                  json_string_value(json_object_get(g, "displayName")), NULL, 0};
            if (!gs.id || !gs.name)
                continue;
            gs.members = calloc(json_array_size(mem) + 1, sizeof *gs.members);
            if (!gs.members)
                abort();
            size_t k;
            json_t *m;
            json_array_foreach(mem, k, m) {
                const char *v = json_string_value(json_object_get(m, "value"));
                if (v)
                    gs.members[gs.nmembers++] = v;
            }
            stop = cb(&gs, ctx);
            free(gs.members);
        }
        json_int_t total = json_integer_value(json_object_get(resp, "totalResults"));
        json_decref(resp);
        start += (long)n;
        if (stop || n == 0 || start > total)
            break;
    }
    return PROV_OK;
}
