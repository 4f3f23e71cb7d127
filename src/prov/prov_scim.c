/* The SCIM 2.0 target (RFC 7643/7644) through libcurl: Users under the
 * base URL with a bearer token. The map's attribute names are SCIM paths
 * ("userName", "name.givenName", "emails"); a multi-valued attribute
 * (emails, phoneNumbers …) gets [{"value": …}], the first marked primary.
 * The entry says active = false when disabled. A delivery reads the
 * resource first and sends a PUT only when a managed attribute differs,
 * so repeating one changes nothing; a resource the registry does not know
 * yet (created before a crash) is found by its userName.
 *
 * With groups = kinds, each User is also a member of one Group per
 * affiliation kind in force ([group_prefix]KIND): a delivery reads the
 * user's groups at the target, and the joins and leaves it needs are
 * collected over the round and sent at its end as one PATCH per group
 * (add/remove on members), never as a rewrite of the member list. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prov_int.h"
#include "prov_scim_group.h"
#include "tn_buf.h"
#include "tn_str.h"

/* A group tunnus knows at the target: recorded in the registry, or
 * learned (created, found by displayName) in this run. */
typedef struct scim_group {
    char name[PROV_GROUP_NAME_MAX];
    char id[512];      /* "" once the group is known to be gone */
    bool changed;      /* learned or lost since prov_scim_group_changes */
} scim_group;

/* One membership change waiting for the end of the round. */
typedef struct member_op {
    char group[PROV_GROUP_NAME_MAX];
    char user[512];
    bool add;
} member_op;

struct prov_scim {
    const conf_target *t;
    CURL *curl;
    char auth[600];
    scim_group *groups;
    size_t ngroups, capgroups;
    member_op *ops;
    size_t nops, capops;
};

/* Members per PATCH: bounds a request body whatever the round's size. */
#define SCIM_PATCH_MAX 100

static bool multi_valued(const char *attr)
{
    static const char *const m[] = {"emails", "phoneNumbers", "ims", "photos", "addresses",
                                    "entitlements", "roles", "x509Certificates"};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(attr, m[i]) == 0)
            return true;
    return false;
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

prov_scim *prov_scim_new(const conf_target *t)
{
    /* curl_global_init is not thread-safe; workers start together. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    prov_scim *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->t = t;
    return s;
}

void prov_scim_free(prov_scim *s)
{
    if (s->curl)
        curl_easy_cleanup(s->curl);
    memset(s->auth, 0, sizeof s->auth);
    free(s->groups);
    free(s->ops);
    free(s);
}

prov_result prov_scim_open(prov_scim *s, char *msg, size_t cap)
{
    if (s->curl)
        return PROV_OK;
    char tok[512] = "";
    if (s->t->bind_password_file[0]) {
        FILE *f = fopen(s->t->bind_password_file, "r");
        if (!f || !fgets(tok, sizeof tok, f)) {
            if (f)
                fclose(f);
            snprintf(msg, cap, "%s: cannot read the token", s->t->bind_password_file);
            return PROV_TARGET_DOWN;
        }
        fclose(f);
        tok[strcspn(tok, "\r\n")] = '\0';
    } else {
        tn_strlcpy(tok, s->t->bind_password, sizeof tok);
    }
    snprintf(s->auth, sizeof s->auth, "Authorization: Bearer %s", tok);
    memset(tok, 0, sizeof tok);
    s->curl = curl_easy_init();
    if (!s->curl) {
        snprintf(msg, cap, "cannot start libcurl");
        return PROV_TARGET_DOWN;
    }
    return PROV_OK;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    tn_buf *b = ud;
    tn_buf_append(b, p, size * n);
    return size * n;
}

/* One request; *status the HTTP status, *out the parsed body (or NULL). */
static prov_result request(prov_scim *s, const char *method, const char *path, json_t *body,
                           long *status, json_t **out, char *msg, size_t cap)
{
    char url[2400];
    if ((size_t)snprintf(url, sizeof url, "%s%s", s->t->url, path) >= sizeof url) {
        snprintf(msg, cap, "%s %s: URL too long", method, path);
        *out = NULL;
        *status = 0;
        return PROV_ITEM_FAILED;
    }
    tn_buf resp;
    tn_buf_init(&resp, 64 << 20);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, s->auth);
    h = curl_slist_append(h, "Accept: application/scim+json");
    if (payload)
        h = curl_slist_append(h, "Content-Type: application/scim+json");
    CURL *c = s->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (payload)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    free(payload);
    *out = NULL;
    *status = 0;
    prov_result r = PROV_OK;
    if (cc != CURLE_OK) {
        snprintf(msg, cap, "%s %s: %s", method, url, curl_easy_strerror(cc));
        r = PROV_TARGET_DOWN;
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (resp.len && !resp.toobig)
        *out = json_loadb(resp.data, resp.len, 0, NULL);
    if (*status >= 400) {
        const char *detail = *out ? json_string_value(json_object_get(*out, "detail")) : NULL;
        snprintf(msg, cap, "%s %s: HTTP %ld%s%s", method, path, *status, detail ? ": " : "",
                 detail ? detail : "");
        /* The service or our credentials, not this entry. */
        if (*status == 401 || *status == 403 || *status == 429 || *status >= 500)
            r = PROV_TARGET_DOWN;
    }
out:
    tn_buf_free(&resp);
    return r;
}

/* The resource the target should hold: the map's paths, active. */
static json_t *want_json(const conf_target *t, const prov_entry *e)
{
    json_t *o = json_pack("{s:[s],s:b}", "schemas", "urn:ietf:params:scim:schemas:core:2.0:User",
                          "active", e->want != PROV_DISABLED);
    for (unsigned i = 0; i < t->nmap; i++) {
        const char *attr = t->map[i].attr;
        json_t *vals = json_array();
        for (size_t k = 0; k < e->nattrs; k++)
            if (strcmp(e->attrs[k].name, attr) == 0)
                json_array_append_new(vals, json_string(e->attrs[k].value));
        if (json_array_size(vals) == 0) {
            json_decref(vals);
            continue;
        }
        json_t *v;
        if (multi_valued(attr)) {
            v = json_array();
            size_t idx;
            json_t *x;
            json_array_foreach(vals, idx, x) {
                json_t *item = json_pack("{s:O}", "value", x);
                if (idx == 0)
                    json_object_set_new(item, "primary", json_true());
                if (!strcmp(attr, "emails") || !strcmp(attr, "phoneNumbers"))
                    json_object_set_new(item, "type", json_string("work"));
                json_array_append_new(v, item);
            }
        } else {
            v = json_incref(json_array_get(vals, 0));
        }
        json_decref(vals);
        /* "name.givenName": nested */
        const char *dot = strchr(attr, '.');
        if (dot) {
            char head[64];
            tn_strlcpyn(head, attr, (size_t)(dot - attr), sizeof head);
            json_t *sub = json_object_get(o, head);
            if (!sub) {
                sub = json_object();
                json_object_set_new(o, head, sub);
            }
            json_object_set_new(sub, dot + 1, v);
        } else {
            json_object_set_new(o, attr, v);
        }
    }
    return o;
}

/* The values of one map path in a SCIM resource, as strings. */
static size_t values_at(json_t *res, const char *attr, prov_attr *out, size_t cap)
{
    json_t *v;
    const char *dot = strchr(attr, '.');
    if (dot) {
        char head[64];
        tn_strlcpyn(head, attr, (size_t)(dot - attr), sizeof head);
        v = json_object_get(json_object_get(res, head), dot + 1);
    } else {
        v = json_object_get(res, attr);
    }
    size_t n = 0;
    if (json_is_string(v) && n < cap) {
        tn_strlcpy(out[n].name, attr, sizeof out[0].name);
        tn_strlcpy(out[n++].value, json_string_value(v), sizeof out[0].value);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            const char *s = json_string_value(json_object_get(x, "value"));
            if (s && n < cap) {
                tn_strlcpy(out[n].name, attr, sizeof out[0].name);
                tn_strlcpy(out[n++].value, s, sizeof out[0].value);
            }
        }
    }
    return n;
}

static bool same(const conf_target *t, const prov_entry *e, json_t *have)
{
    if (json_is_true(json_object_get(have, "active")) != (e->want != PROV_DISABLED))
        return false;
    prov_attr got[PROV_ATTRS_MAX];
    for (unsigned i = 0; i < t->nmap; i++) {
        size_t nh = values_at(have, t->map[i].attr, got, PROV_ATTRS_MAX), nw = 0;
        for (size_t k = 0; k < e->nattrs; k++) {
            if (strcmp(e->attrs[k].name, t->map[i].attr) != 0)
                continue;
            if (nw >= nh || strcmp(got[nw].value, e->attrs[k].value) != 0)
                return false;
            nw++;
        }
        if (nw != nh)
            return false;
    }
    return true;
}

/* Find a resource by userName; *id "" when there is none. */
static prov_result find(prov_scim *s, const char *user, char *id, size_t idcap, json_t **found,
                        char *msg, size_t cap)
{
    char esc[600], path[800];
    size_t o = 0;
    for (const char *p = user; *p && o + 3 < sizeof esc; p++) {
        if (*p == '"' || *p == '\\')
            esc[o++] = '\\';
        esc[o++] = *p;
    }
    esc[o] = '\0';
    char filter[700];
    snprintf(filter, sizeof filter, "userName eq \"%s\"", esc);
    char *enc = curl_easy_escape(s->curl, filter, 0);
    snprintf(path, sizeof path, "/Users?filter=%s", enc ? enc : "");
    curl_free(enc);
    long st;
    json_t *r = NULL;
    id[0] = '\0';
    *found = NULL;
    prov_result pr = request(s, "GET", path, NULL, &st, &r, msg, cap);
    if (pr != PROV_OK || st >= 400) {
        json_decref(r);
        return pr != PROV_OK ? pr : PROV_ITEM_FAILED;
    }
    json_t *first = json_array_get(json_object_get(r, "Resources"), 0);
    if (first && json_is_string(json_object_get(first, "id"))) {
        tn_strlcpy(id, json_string_value(json_object_get(first, "id")), idcap);
        *found = json_incref(first);
    }
    json_decref(r);
    return PROV_OK;
}

/* ---- groups ------------------------------------------------------------- */

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

static bool groups_on(const prov_scim *s)
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
        if ((r = request(s, "GET", path, NULL, &st, &resp, msg, cap)) != PROV_OK || st >= 400) {
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

/* Collect the joins and leaves that bring user uid's memberships to
 * e->groups. fresh: the user was just created and is in no group yet. */
static prov_result plan_groups(prov_scim *s, const prov_entry *e, const char *uid, bool fresh,
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
    prov_result r = request(s, "POST", "/Groups", body, &st, &resp, msg, cap);
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
    prov_result r = request(s, "PATCH", path, body, &st, &resp, msg, cap);
    json_decref(body);
    *gone = r == PROV_OK && st == 404;
    const char *type = json_string_value(json_object_get(resp, "scimType"));
    *no_target = r == PROV_OK && st == 400 && type && strcmp(type, "noTarget") == 0;
    json_decref(resp);
    if (r == PROV_OK && st >= 300 && !*gone)
        r = PROV_ITEM_FAILED;
    return r;
}

/* Leaves one PATCH each, "not a member" (noTarget) counting as done. */
static prov_result leave_one_by_one(prov_scim *s, const char *gid, const char *const *rem,
                                    size_t nrem, bool *gone, char *msg, size_t cap)
{
    for (size_t i = 0; i < nrem; i++) {
        bool no_target = false;
        prov_result r = patch_once(s, gid, NULL, 0, rem + i, 1, gone, &no_target, msg, cap);
        if (no_target)
            continue;
        if (r != PROV_OK || *gone)
            return r;
    }
    return PROV_OK;
}

/* The changes of one group, SCIM_PATCH_MAX joins and leaves a PATCH. A
 * strict service refuses a whole PATCH (noTarget, RFC 7644 §3.5.2) when
 * one leaving user is no longer a member (a delivery repeated after a
 * crash, a change by hand): then that request's leaves go one by one and
 * its joins after them. */
static prov_result patch_group(prov_scim *s, const char *gid, const char *const *add,
                               size_t nadd, const char *const *rem, size_t nrem, bool *gone,
                               char *msg, size_t cap)
{
    *gone = false;
    for (size_t a = 0, d = 0; a < nadd || d < nrem;) {
        size_t na = nadd - a < SCIM_PATCH_MAX ? nadd - a : SCIM_PATCH_MAX;
        size_t nd = nrem - d < SCIM_PATCH_MAX ? nrem - d : SCIM_PATCH_MAX;
        bool no_target = false;
        prov_result r = patch_once(s, gid, add + a, na, rem + d, nd, gone, &no_target, msg, cap);
        if (no_target && nd > 0) {
            r = leave_one_by_one(s, gid, rem + d, nd, gone, msg, cap);
            if (r == PROV_OK && !*gone && na > 0)
                r = patch_once(s, gid, add + a, na, NULL, 0, gone, &no_target, msg, cap);
        }
        if (r != PROV_OK || *gone)
            return r;
        a += na;
        d += nd;
    }
    return PROV_OK;
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
        if ((r = group_id(s, name, gid, sizeof gid, msg, cap)) != PROV_OK)
            break;
        size_t skip = 0, nr = nrem;
        if (!gid[0]) {
            if (!nadd)
                break; /* leaving a group that is not there */
            skip = nadd < SCIM_PATCH_MAX ? nadd : SCIM_PATCH_MAX;
            if ((r = create_group(s, name, add, skip, gid, sizeof gid, msg, cap)) != PROV_OK)
                break;
            nr = 0;
        }
        bool gone = false;
        r = patch_group(s, gid, add + skip, nadd - skip, rem, nr, &gone, msg, cap);
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
    /* Memberships not made: the round is not recorded and its persons
     * are delivered again, which reads their groups afresh. */
    return r == PROV_OK ? PROV_OK : PROV_TARGET_DOWN;
}

void prov_scim_abort(prov_scim *s)
{
    s->nops = 0;
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
        if ((r = request(s, "GET", path, NULL, &st, &resp, msg, cap)) != PROV_OK || st >= 400) {
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

/* ---- users ------------------------------------------------------------- */

prov_result prov_scim_apply(prov_scim *s, const prov_entry *e, const char *old_id,
                            const char *old_state, char *res_id, size_t res_cap,
                            const char **res_state, char *msg, size_t cap)
{
    prov_result r = prov_scim_open(s, msg, cap);
    if (r != PROV_OK)
        return r;
    bool had = old_id && old_id[0] && old_state && strcmp(old_state, "deleted") != 0;
    char path[700];
    long st;
    json_t *have = NULL;
    if (e->want == PROV_ABSENT) {
        /* Out of its groups first: a service need not drop a deleted
         * user's memberships by itself. */
        if (had && groups_on(s) && (r = plan_groups(s, e, old_id, false, msg, cap)) != PROV_OK)
            return r;
        if (had) {
            snprintf(path, sizeof path, "/Users/%s", old_id);
            r = request(s, "DELETE", path, NULL, &st, &have, msg, cap);
            json_decref(have);
            if (r != PROV_OK)
                return r;
            if (st >= 400 && st != 404)
                return PROV_ITEM_FAILED;
        }
        tn_strlcpy(res_id, had ? old_id : "", res_cap);
        *res_state = "deleted";
        return PROV_OK;
    }
    char id[512] = "";
    if (had) {
        snprintf(path, sizeof path, "/Users/%s", old_id);
        if ((r = request(s, "GET", path, NULL, &st, &have, msg, cap)) != PROV_OK) {
            json_decref(have);
            return r;
        }
        if (st == 200)
            tn_strlcpy(id, old_id, sizeof id);
        else if (st != 404) {
            json_decref(have);
            return PROV_ITEM_FAILED;
        } else {
            json_decref(have);
            have = NULL;
        }
    }
    if (!id[0] && (r = find(s, e->id, id, sizeof id, &have, msg, cap)) != PROV_OK)
        return r;
    json_t *want = want_json(s->t, e);
    json_t *resp = NULL;
    bool fresh = false;
    if (id[0] && have && same(s->t, e, have)) {
        r = PROV_OK; /* already right */
    } else if (id[0]) {
        snprintf(path, sizeof path, "/Users/%s", id);
        r = request(s, "PUT", path, want, &st, &resp, msg, cap);
        if (r == PROV_OK && st >= 300)
            r = PROV_ITEM_FAILED;
    } else {
        r = request(s, "POST", "/Users", want, &st, &resp, msg, cap);
        if (r == PROV_OK && st >= 300)
            r = PROV_ITEM_FAILED;
        if (r == PROV_OK) {
            const char *nid = json_string_value(json_object_get(resp, "id"));
            if (!nid) {
                snprintf(msg, cap, "POST /Users: no id in the response");
                r = PROV_ITEM_FAILED;
            } else {
                tn_strlcpy(id, nid, sizeof id);
                fresh = true;
            }
        }
    }
    json_decref(want);
    json_decref(resp);
    json_decref(have);
    if (r == PROV_OK && groups_on(s))
        r = plan_groups(s, e, id, fresh, msg, cap);
    if (r != PROV_OK)
        return r;
    tn_strlcpy(res_id, id, res_cap);
    *res_state = e->want == PROV_DISABLED ? "disabled" : "present";
    return PROV_OK;
}

prov_result prov_scim_list(prov_scim *s, prov_seen_cb cb, void *ctx, char *msg, size_t cap)
{
    prov_result r = prov_scim_open(s, msg, cap);
    if (r != PROV_OK)
        return r;
    for (long start = 1;;) {
        char path[128];
        snprintf(path, sizeof path, "/Users?startIndex=%ld&count=100", start);
        long st;
        json_t *resp = NULL;
        if ((r = request(s, "GET", path, NULL, &st, &resp, msg, cap)) != PROV_OK || st >= 400) {
            json_decref(resp);
            return r != PROV_OK ? r : PROV_TARGET_DOWN;
        }
        json_t *list = json_object_get(resp, "Resources");
        size_t n = json_array_size(list);
        int stop = 0;
        for (size_t i = 0; i < n && !stop; i++) {
            json_t *u = json_array_get(list, i);
            prov_seen sn;
            memset(&sn, 0, sizeof sn);
            const char *un = json_string_value(json_object_get(u, "userName"));
            tn_strlcpy(sn.id, un ? un : "", sizeof sn.id);
            sn.attrs = calloc(PROV_ATTRS_MAX, sizeof *sn.attrs);
            for (unsigned k = 0; k < s->t->nmap && sn.nattrs < PROV_ATTRS_MAX; k++)
                sn.nattrs += values_at(u, s->t->map[k].attr, sn.attrs + sn.nattrs,
                                       PROV_ATTRS_MAX - sn.nattrs);
            stop = cb(&sn, ctx);
            free(sn.attrs);
        }
        json_int_t total = json_integer_value(json_object_get(resp, "totalResults"));
        json_decref(resp);
        start += (long)n;
        if (stop || n == 0 || start > total)
            break;
    }
    return PROV_OK;
}
