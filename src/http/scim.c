/* The SCIM 2.0 service under /scim/v2 (RFC 7644): Users, Groups, /Me,
 * the discovery documents and Bulk. Every read and write goes through a
 * service function with the request's actor; this file only maps SCIM to
 * those calls and back (docs/scim.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_int.h"
#include "scim_filter.h"
#include "scim_meta.h"
#include "scim_path.h"
#include "scim_user.h"
#include "svc_client.h"
#include "svc_dir.h"
#include "tn_json.h"
#include "tn_mem.h"
#include "tn_str.h"

#define SCIM_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_PATCH "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_BULK_REQ "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define SCIM_BULK_RESP "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
#define COUNT_MAX 1000
#define BULK_MAX_OPS 100

void scim_error(hresp *out, int status, const char *scim_type, const char *detail)
{
    hresp_drop_body(out);
    out->status = status;
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    out->body = json_pack("{s:[s],s:s}", "schemas", SCIM_ERROR, "status", st);
    if (scim_type)
        json_object_set_new(out->body, "scimType", json_string(scim_type));
    if (detail)
        json_object_set_new(out->body, "detail", json_string(detail));
    out->etag[0] = out->location[0] = '\0';
}

/* A service error as SCIM: field and reason in the detail, never a value. */
static void svc_error(hresp *out, const tn_err *e)
{
    char d[420];
    if (e->field[0])
        snprintf(d, sizeof d, "%s: %s", e->field, e->msg);
    else
        snprintf(d, sizeof d, "%s", e->msg);
    switch (e->code) {
    case TN_EINVAL:
    case TN_EUSAGE:
        scim_error(out, 400, "invalidValue", d);
        break;
    case TN_ENOTFOUND:
        scim_error(out, 404, NULL, d);
        break;
    case TN_ECONFLICT:
        scim_error(out, 409, "uniqueness", d);
        break;
    case TN_EDENIED:
        scim_error(out, 403, NULL, d);
        break;
    case TN_ESTATE:
        scim_error(out, 409, NULL, d);
        break;
    default:
        scim_error(out, 500, NULL, "internal error");
        break;
    }
}

static const char *q(const hreq *rq, const char *name)
{
    return rq->query ? rq->query(rq->qctx, name) : NULL;
}

const char *scim_route(const char *method, const char *path)
{
    (void)method;
    if (strncmp(path, "/Users", 6) == 0)
        return path[6] ? "users_id" : "users";
    if (strncmp(path, "/Groups", 7) == 0)
        return path[7] ? "groups_id" : "groups";
    if (strncmp(path, "/Me", 3) == 0)
        return "me";
    if (strncmp(path, "/Bulk", 5) == 0)
        return "bulk";
    if (strncmp(path, "/ServiceProviderConfig", 22) == 0 || strncmp(path, "/Schemas", 8) == 0 ||
        strncmp(path, "/ResourceTypes", 14) == 0)
        return "discovery";
    return "other";
}

/* ---- attributes and excludedAttributes ------------------------------------ */

static const char *actual_key(json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (strcasecmp(k, key) == 0)
            return k;
    }
    return NULL;
}

static json_t *base_of(json_t *res, const sf_path *p, bool create, const char **uri_key)
{
    *uri_key = NULL;
    if (!p->uri || strcasecmp(p->uri, SCIM_CORE_USER) == 0 ||
        strcasecmp(p->uri, SCIM_CORE_GROUP) == 0)
        return res;
    const char *k = actual_key(res, p->uri);
    *uri_key = k;
    json_t *b = k ? json_object_get(res, k) : NULL;
    if (!b && create) {
        b = json_object();
        json_object_set_new(res, p->uri, b);
    }
    return b;
}

/* Parse a comma-separated attribute list; false (and a 400) if one is bad. */
static bool parse_attr_list(const char *text, sf_path **out, size_t *n, hresp *r)
{
    *out = NULL;
    *n = 0;
    size_t len = strlen(text), pos = 0;
    while (pos < len) {
        while (pos < len && (text[pos] == ' ' || text[pos] == ','))
            pos++;
        if (pos >= len)
            break;
        sf_path p;
        tn_err e;
        tn_err_clear(&e);
        if (!scim_path_parse_at(text, len, &pos, &p, &e) ||
            (pos < len && text[pos] != ',' && text[pos] != ' ')) {
            if (p.attr)
                scim_path_clear(&p);
            char d[400];
            snprintf(d, sizeof d, "attributes: %s", e.msg[0] ? e.msg : "expected a comma");
            scim_error(r, 400, "invalidPath", d);
            for (size_t i = 0; i < *n; i++)
                scim_path_clear(&(*out)[i]);
            free(*out);
            *out = NULL;
            return false;
        }
        *out = tn_realloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = p;
    }
    return true;
}

static void free_paths(sf_path *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        scim_path_clear(&p[i]);
    free(p);
}

/* "urn:…:2.0:User" names a whole extension, parsed as URI "urn:…:2.0"
 * and attribute "User": the resource's key for it, or NULL. */
static const char *whole_ext(json_t *res, const sf_path *p)
{
    if (!p->uri || p->sub)
        return NULL;
    char full[600];
    snprintf(full, sizeof full, "%s:%s", p->uri, p->attr);
    return actual_key(res, full);
}

static void copy_path(json_t *src, json_t *dst, const sf_path *p)
{
    const char *ext = whole_ext(src, p);
    if (ext) {
        json_object_set(dst, ext, json_object_get(src, ext));
        return;
    }
    const char *uk;
    json_t *sb = base_of(src, p, false, &uk);
    if (!sb)
        return;
    const char *k = actual_key(sb, p->attr);
    if (!k)
        return;
    json_t *v = json_object_get(sb, k);
    json_t *db = uk ? json_object_get(dst, uk) : dst;
    if (!db) {
        db = json_object();
        json_object_set_new(dst, uk, db);
    }
    if (!p->sub) {
        json_object_set(db, k, v);
        return;
    }
    if (json_is_object(v)) {
        const char *sk = actual_key(v, p->sub);
        if (!sk)
            return;
        json_t *d = json_object_get(db, k);
        if (!json_is_object(d)) {
            d = json_object();
            json_object_set_new(db, k, d);
        }
        json_object_set(d, sk, json_object_get(v, sk));
    } else if (json_is_array(v)) {
        json_t *arr = json_array();
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el) {
            const char *sk = json_is_object(el) ? actual_key(el, p->sub) : NULL;
            if (sk)
                json_array_append_new(arr, json_pack("{sO}", sk, json_object_get(el, sk)));
        }
        json_object_set_new(db, k, arr);
    }
}

static void drop_path(json_t *res, const sf_path *p)
{
    const char *ext = whole_ext(res, p);
    if (ext) {
        json_object_del(res, ext);
        return;
    }
    const char *uk;
    json_t *b = base_of(res, p, false, &uk);
    const char *k = b ? actual_key(b, p->attr) : NULL;
    if (!k || strcmp(k, "id") == 0 || strcmp(k, "schemas") == 0)
        return;
    if (!p->sub) {
        json_object_del(b, k);
        return;
    }
    json_t *v = json_object_get(b, k);
    if (json_is_object(v)) {
        const char *sk = actual_key(v, p->sub);
        if (sk)
            json_object_del(v, sk);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el) {
            const char *sk = json_is_object(el) ? actual_key(el, p->sub) : NULL;
            if (sk)
                json_object_del(el, sk);
        }
    }
}

typedef struct projection {
    sf_path *inc, *exc;
    size_t ninc, nexc;
} projection;

static bool projection_parse(const hreq *rq, projection *pj, hresp *r)
{
    memset(pj, 0, sizeof *pj);
    const char *a = q(rq, "attributes"), *x = q(rq, "excludedAttributes");
    if (a && !parse_attr_list(a, &pj->inc, &pj->ninc, r))
        return false;
    if (x && !parse_attr_list(x, &pj->exc, &pj->nexc, r)) {
        free_paths(pj->inc, pj->ninc);
        return false;
    }
    return true;
}

static void projection_free(projection *pj)
{
    free_paths(pj->inc, pj->ninc);
    free_paths(pj->exc, pj->nexc);
}

/* Returns the projected resource (a new reference). */
static json_t *project(json_t *res, const projection *pj)
{
    if (pj->ninc) {
        json_t *out = json_object();
        json_object_set(out, "schemas", json_object_get(res, "schemas"));
        json_object_set(out, "id", json_object_get(res, "id"));
        for (size_t i = 0; i < pj->ninc; i++)
            copy_path(res, out, &pj->inc[i]);
        json_decref(res);
        res = out;
    }
    for (size_t i = 0; i < pj->nexc; i++)
        drop_path(res, &pj->exc[i]);
    return res;
}

/* ---- Users ---------------------------------------------------------------- */

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') ||
              (id[i] >= 'A' && id[i] <= 'F') || id[i] == '-'))
            return false;
    return true;
}

static bool etag_matches(const char *header, const char *etag)
{
    if (!header)
        return false;
    if (strcmp(header, "*") == 0)
        return true;
    /* A list of tags; weak comparison (RFC 7232 §2.3.2). */
    const char *want = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
    size_t wl = strlen(want);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, want, wl) == 0 && (p[wl] == '\0' || p[wl] == ',' || p[wl] == ' '))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

static tn_code show(const hreq *rq, const char *id, svc_person_view *v, tn_err *e)
{
    char sel[48];
    snprintf(sel, sizeof sel, "id:%s", id);
    return svc_person_show(rq->s, rq->actor, sel, v, e);
}

static void answer_user(const hreq *rq, const svc_person_view *v, int status, hresp *r,
                        const projection *pj)
{
    r->status = status;
    if (rq->text_ok && (!pj || (!pj->ninc && !pj->nexc))) {
        /* Nothing to project: the User straight as text. */
        tn_buf b;
        tn_buf_init(&b, SIZE_MAX);
        scim_user_write(v, svc_today(rq->s), rq->base_url, &b);
        hresp_set_text(r, &b);
    } else {
        json_t *u = scim_user_render(v, svc_today(rq->s), rq->base_url);
        r->body = pj ? project(u, pj) : u;
    }
    scim_user_etag(v, r->etag);
    if (status == 201)
        snprintf(r->location, sizeof r->location, "%s/Users/%s", rq->base_url, v->p.id);
}

static void get_user(const hreq *rq, const char *id, hresp *r)
{
    projection pj;
    if (!projection_parse(rq, &pj, r))
        return;
    svc_person_view v;
    tn_err e;
    tn_err_clear(&e);
    if (!valid_id(id)) {
        scim_error(r, 404, NULL, "no such User");
    } else if (show(rq, id, &v, &e) != TN_OK) {
        if (e.code == TN_ENOTFOUND)
            scim_error(r, 404, NULL, "no such User");
        else
            svc_error(r, &e);
    } else {
        char etag[48];
        scim_user_etag(&v, etag);
        if (etag_matches(rq->if_none_match, etag)) {
            r->status = 304;
            tn_strlcpy(r->etag, etag, sizeof r->etag);
        } else {
            answer_user(rq, &v, 200, r, &pj);
        }
        svc_person_view_free(&v);
    }
    projection_free(&pj);
}

typedef struct hit {
    char id[UUID_BUFSZ];
    json_t *key; /* sort key or NULL */
    json_t *res; /* the resource, when already read through svc_person_show */
} hit;

typedef struct list_ctx {
    const hreq *rq;
    const sf_node *filter;
    const sf_path *sort;
    hit *hits;
    size_t n, cap;
    int64_t examined;
} list_ctx;

static json_t *sort_key(json_t *res, const sf_path *p)
{
    json_t *v = scim_path_get(res, p, NULL);
    if (json_is_array(v)) {
        /* A multi-valued attribute sorts by its primary (else first) value. */
        json_t *pick = json_array_get(v, 0);
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el) {
            if (json_is_true(scim_obj_get(el, "primary")))
                pick = el;
        }
        v = pick;
    }
    if (json_is_object(v))
        v = scim_obj_get(v, p->sub ? p->sub : "value");
    else if (p->sub)
        v = NULL;
    return v && !json_is_null(v) ? json_incref(v) : NULL;
}

static void add_hit(list_ctx *lc, const char *id, json_t *key)
{
    if (lc->n == lc->cap) {
        lc->cap = lc->cap ? 2 * lc->cap : 256;
        lc->hits = tn_realloc(lc->hits, lc->cap * sizeof *lc->hits);
    }
    tn_strlcpy(lc->hits[lc->n].id, id, UUID_BUFSZ);
    lc->hits[lc->n].key = key;
    lc->hits[lc->n].res = NULL;
    lc->n++;
}

static int scan_one(const svc_person_view *v, void *ctx)
{
    list_ctx *lc = ctx;
    lc->examined++;
    if (!lc->filter && !lc->sort) {
        add_hit(lc, v->p.id, NULL);
        return 0;
    }
    json_t *u = scim_user_render(v, svc_today(lc->rq->s), lc->rq->base_url);
    if (!lc->filter || scim_filter_match(lc->filter, u))
        add_hit(lc, v->p.id, lc->sort ? sort_key(u, lc->sort) : NULL);
    json_decref(u);
    return 0;
}

static int cmp_hits(const void *a, const void *b, void *ctx)
{
    const hit *x = a, *y = b;
    bool sort_exact = *(const bool *)ctx;
    if (!x->key || !y->key)
        return x->key ? -1 : y->key ? 1 : strcmp(x->id, y->id);
    int c = scim_compare(x->key, SF_LT, y->key, sort_exact) ? -1
            : scim_compare(y->key, SF_LT, x->key, sort_exact) ? 1
                                                              : 0;
    return c ? c : strcmp(x->id, y->id);
}

static bool ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* "userName eq X" (alone or and-ed at the top) is answered through the
 * username index instead of a scan. */
static const char *indexed_username(const sf_node *f)
{
    if (!f)
        return NULL;
    if (f->kind == SF_AND) {
        const char *u = indexed_username(f->l);
        return u ? u : indexed_username(f->r);
    }
    if (f->kind == SF_CMP && f->op == SF_EQ && !f->path.sub && json_is_string(f->value) &&
        strcasecmp(f->path.attr, "userName") == 0 &&
        (!f->path.uri || strcasecmp(f->path.uri, SCIM_CORE_USER) == 0))
        return json_string_value(f->value);
    return NULL;
}

static bool int_param(const hreq *rq, const char *name, int64_t *out, hresp *r)
{
    const char *v = q(rq, name);
    if (!v)
        return true;
    if (!tn_parse_i64(v, out)) {
        char d[96];
        snprintf(d, sizeof d, "%s must be a whole number", name);
        scim_error(r, 400, "invalidValue", d);
        return false;
    }
    return true;
}

static void list_users(const hreq *rq, hresp *r)
{
    int64_t start = 1, count = 100;
    if (!int_param(rq, "startIndex", &start, r) || !int_param(rq, "count", &count, r))
        return;
    if (start < 1)
        start = 1;
    if (count < 0)
        count = 0;
    if (count > COUNT_MAX)
        count = COUNT_MAX;
    const char *ftext = q(rq, "filter"), *sort_by = q(rq, "sortBy"), *order = q(rq, "sortOrder");
    if (order && strcasecmp(order, "ascending") != 0 && strcasecmp(order, "descending") != 0) {
        scim_error(r, 400, "invalidValue", "sortOrder must be ascending or descending");
        return;
    }
    projection pj;
    if (!projection_parse(rq, &pj, r))
        return;
    /* A plain answer (no projection) to a userName lookup is written as
     * text, as a GET of one User is. */
    bool plain = rq->text_ok && !pj.ninc && !pj.nexc;
    tn_buf utext;
    tn_buf_init(&utext, SIZE_MAX);
    tn_err e;
    tn_err_clear(&e);
    sf_node *f = NULL;
    sf_path sp;
    memset(&sp, 0, sizeof sp);
    list_ctx lc = {.rq = rq};
    if (ftext && !(f = scim_filter_parse(ftext, strlen(ftext), &e))) {
        scim_error(r, 400, "invalidFilter", e.msg);
        goto out;
    }
    if (sort_by) {
        size_t pos = 0, len = strlen(sort_by);
        if (!scim_path_parse_at(sort_by, len, &pos, &sp, &e) || pos != len) {
            scim_error(r, 400, "invalidPath", e.msg[0] ? e.msg : "sortBy: unexpected text");
            goto out;
        }
        lc.sort = &sp;
    }
    lc.filter = f;
    const char *uname = indexed_username(f);
    if (uname) {
        svc_person_view v;
        char sel[USERNAME_BUFSZ + 16];
        /* Usernames are lower case; userName is not case-exact. */
        snprintf(sel, sizeof sel, "username:%.64s", uname);
        for (char *c = sel + 9; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
        tn_code rc = svc_person_show(rq->s, rq->actor, sel, &v, &e);
        /* "userName eq X" alone, answered as text: the User matches when
         * X is its userName (ASCII, not case-exact), no tree needed. */
        bool alone = plain && !lc.sort && f->kind == SF_CMP && ascii(uname);
        if (rc == TN_OK && alone) {
            const account *ac = scim_main_account(&v);
            if (ac && strcasecmp(ac->username, uname) == 0) {
                add_hit(&lc, v.p.id, NULL);
                scim_user_write(&v, svc_today(rq->s), rq->base_url, &utext);
            }
            svc_person_view_free(&v);
        } else if (rc == TN_OK) {
            json_t *u = scim_user_render(&v, svc_today(rq->s), rq->base_url);
            if (scim_filter_match(f, u)) {
                /* Shown (and audited) already: no second read. */
                add_hit(&lc, v.p.id, NULL);
                lc.hits[lc.n - 1].res = json_incref(u);
                if (plain)
                    scim_user_write(&v, svc_today(rq->s), rq->base_url, &utext);
            }
            json_decref(u);
            svc_person_view_free(&v);
        } else if (rc != TN_ENOTFOUND && rc != TN_EDENIED) {
            /* Not found or not the caller's to see: an empty list. */
            svc_error(r, &e);
            goto out;
        }
    } else {
        int64_t cap = rq->cfg->ldap_scan_limit;
        svc_person_query all = {.limit = cap + 1};
        if (svc_person_scan(rq->s, rq->actor, &all, scan_one, &lc, &e) != TN_OK) {
            svc_error(r, &e);
            goto out;
        }
        if (lc.examined > cap) {
            scim_error(r, 400, "tooMany",
                       "the query would examine more persons than [ldap] scan_limit; narrow it "
                       "(userName eq ...)");
            goto out;
        }
    }
    if (lc.sort) {
        bool exact = scim_case_exact(lc.sort);
        if (lc.n > 1)
            qsort_r(lc.hits, lc.n, sizeof *lc.hits, cmp_hits, &exact);
        if (order && strcasecmp(order, "descending") == 0)
            for (size_t i = 0; i < lc.n / 2; i++) {
                hit t = lc.hits[i];
                lc.hits[i] = lc.hits[lc.n - 1 - i];
                lc.hits[lc.n - 1 - i] = t;
            }
    }
    if (uname && plain) {
        /* At most the one User of the lookup. */
        bool shown = lc.n == 1 && start == 1 && count >= 1;
        tn_buf b;
        tn_buf_init(&b, SIZE_MAX);
        tn_buf_reserve(&b, utext.len + 160);
        tn_buf_puts(&b, "{\"schemas\":[\"" SCIM_LIST "\"],\"totalResults\":");
        tn_json_i64(&b, (int64_t)lc.n);
        tn_buf_puts(&b, ",\"startIndex\":");
        tn_json_i64(&b, start);
        tn_buf_puts(&b, shown ? ",\"itemsPerPage\":1,\"Resources\":[" : ",\"itemsPerPage\":0,\"Resources\":[");
        if (shown)
            tn_buf_append(&b, utext.data, utext.len);
        tn_buf_puts(&b, "]}");
        r->status = 200;
        hresp_set_text(r, &b);
        goto out;
    }
    json_t *res = json_array();
    for (size_t i = (size_t)(start - 1); i < lc.n && (int64_t)json_array_size(res) < count; i++) {
        if (lc.hits[i].res) {
            json_array_append_new(res, project(json_incref(lc.hits[i].res), &pj));
            continue;
        }
        svc_person_view v;
        if (show(rq, lc.hits[i].id, &v, &e) != TN_OK) {
            if (e.code == TN_ENOTFOUND)
                continue;
            json_decref(res);
            svc_error(r, &e);
            goto out;
        }
        json_t *u = scim_user_render(&v, svc_today(rq->s), rq->base_url);
        json_array_append_new(res, project(u, &pj));
        svc_person_view_free(&v);
    }
    r->status = 200;
    r->body = json_pack("{s:[s],s:I,s:I,s:I,s:o}", "schemas", SCIM_LIST, "totalResults",
                        (json_int_t)lc.n, "startIndex", (json_int_t)start, "itemsPerPage",
                        (json_int_t)json_array_size(res), "Resources", res);
out:
    tn_buf_free(&utext);
    for (size_t i = 0; i < lc.n; i++) {
        if (lc.hits[i].key)
            json_decref(lc.hits[i].key);
        if (lc.hits[i].res)
            json_decref(lc.hits[i].res);
    }
    free(lc.hits);
    scim_filter_free(f);
    scim_path_clear(&sp);
    projection_free(&pj);
}

static void create_user(const hreq *rq, hresp *r)
{
    scim_user_in in;
    char why[256];
    if (!scim_user_input(rq->body, true, &in, why, sizeof why)) {
        scim_error(r, 400, "invalidValue", why);
        return;
    }
    svc_enrol_input en = {.person = in.p, .affiliation = in.has_aff ? &in.aff : NULL,
                          .account = true, .username = in.username};
    svc_enrolled out;
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_enrol(rq->s, rq->actor, &en, &out, &e) != TN_OK) {
        svc_error(r, &e);
        return;
    }
    svc_person_view v;
    if (show(rq, out.person.id, &v, &e) != TN_OK) {
        svc_error(r, &e);
        return;
    }
    answer_user(rq, &v, 201, r, NULL);
    svc_person_view_free(&v);
}

/* Compare what may not change; PATCH refuses a change, PUT ignores it
 * (RFC 7644 §3.5.1), except userName, which is immutable. */
static const char *readonly_changed(json_t *before, json_t *after, bool put)
{
    json_t *bu = scim_obj_get(before, "userName"), *au = scim_obj_get(after, "userName");
    if (au && !json_is_null(au) && (!bu || !json_equal(bu, au)))
        return "userName";
    if (!bu != !au && !put)
        return "userName";
    if (put)
        return NULL;
    static const char *const ro[] = {"id", "active", "displayName", "meta", "groups",
                                     SCIM_ENTERPRISE, SCIM_TUNNUS, "externalId"};
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
        json_t *b = scim_obj_get(before, ro[i]), *a = scim_obj_get(after, ro[i]);
        if (!b != !a || (a && !json_equal(a, b)))
            return ro[i];
    }
    /* The work address is the account's, made by the naming rules. */
    json_t *be = scim_obj_get(before, "emails"), *ae = scim_obj_get(after, "emails");
    const char *bw = NULL, *aw = NULL;
    size_t i;
    json_t *el;
    json_array_foreach(be, i, el) {
        json_t *t = scim_obj_get(el, "type");
        if (json_is_string(t) && strcasecmp(json_string_value(t), "work") == 0)
            bw = json_string_value(scim_obj_get(el, "value"));
    }
    if (json_is_array(ae))
        json_array_foreach(ae, i, el) {
            json_t *t = scim_obj_get(el, "type");
            if (json_is_string(t) && strcasecmp(json_string_value(t), "work") == 0)
                aw = json_string_value(scim_obj_get(el, "value"));
        }
    if ((bw || aw) && (!bw || !aw || strcasecmp(bw, aw) != 0))
        return "emails[type eq \"work\"]";
    return NULL;
}

static bool apply_patch(json_t *res, json_t *ops, hresp *r);

/* PUT and PATCH: in one transaction, check the version, compute the new
 * resource, write the changed attributes. */
static void modify_user(const hreq *rq, const char *id, bool put, hresp *r)
{
    tn_err e;
    tn_err_clear(&e);
    if (!valid_id(id)) {
        scim_error(r, 404, NULL, "no such User");
        return;
    }
    if (put && !json_is_object(rq->body)) {
        scim_error(r, 400, "invalidSyntax", "the body must be a User object");
        return;
    }
    json_t *ops = NULL;
    if (!put) {
        json_t *schemas = scim_obj_get(rq->body, "schemas");
        bool ok = false;
        size_t i;
        json_t *el;
        json_array_foreach(schemas, i, el) {
            if (json_is_string(el) && strcmp(json_string_value(el), SCIM_PATCH) == 0)
                ok = true;
        }
        ops = scim_obj_get(rq->body, "Operations");
        if (!ok || !json_is_array(ops) || json_array_size(ops) == 0) {
            scim_error(r, 400, "invalidSyntax",
                       "a PatchOp with schemas [" SCIM_PATCH "] and Operations");
            return;
        }
    }
    if (svc_batch_begin(rq->s, &e) != TN_OK) {
        svc_error(r, &e);
        return;
    }
    svc_person_view v;
    json_t *before = NULL, *after = NULL;
    if (show(rq, id, &v, &e) != TN_OK) {
        if (e.code == TN_ENOTFOUND)
            scim_error(r, 404, NULL, "no such User");
        else
            svc_error(r, &e);
        goto out;
    }
    char etag[48];
    scim_user_etag(&v, etag);
    before = scim_user_render(&v, svc_today(rq->s), rq->base_url);
    person cur = v.p;
    svc_person_view_free(&v);
    if (rq->if_match && !etag_matches(rq->if_match, etag)) {
        scim_error(r, 412, NULL, "the User changed since the version given in If-Match");
        goto out;
    }
    if (put) {
        after = json_incref(rq->body);
    } else {
        after = json_deep_copy(before);
        if (!apply_patch(after, ops, r))
            goto out;
    }
    const char *ro = readonly_changed(before, after, put);
    if (ro) {
        char d[160];
        snprintf(d, sizeof d, "%s is read-only or immutable", ro);
        scim_error(r, 400, "mutability", d);
        goto out;
    }
    scim_user_in in;
    char why[256];
    if (!scim_user_input(after, false, &in, why, sizeof why)) {
        scim_error(r, 400, "invalidValue", why);
        goto out;
    }
    /* Only what differs is a change: a person may then change their own
     * contact attributes without touching the rest (REG-5). */
    const char **fields[] = {&in.p.given_names, &in.p.family_name, &in.p.preferred_name,
                             &in.p.language, &in.p.email, &in.p.phone};
    const char *now[] = {cur.given_names, cur.family_name, cur.preferred_name,
                         cur.language, cur.email, cur.phone};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (*fields[i] && strcmp(*fields[i], now[i]) == 0)
            *fields[i] = NULL;
    char sel[48];
    snprintf(sel, sizeof sel, "id:%s", id);
    person p;
    if (svc_person_update(rq->s, rq->actor, sel, &in.p, &p, &e) != TN_OK) {
        svc_error(r, &e);
        goto out;
    }
    if (show(rq, id, &v, &e) != TN_OK) {
        svc_error(r, &e);
        goto out;
    }
    answer_user(rq, &v, 200, r, NULL);
    svc_person_view_free(&v);
out:
    if (before)
        json_decref(before);
    if (after)
        json_decref(after);
    /* Committed either way: a failed update undid itself (its savepoint),
     * and a denial's audit event must stay on record. */
    tn_err ce;
    tn_err_clear(&ce);
    if (svc_batch_commit(rq->s, &ce) != TN_OK)
        svc_error(r, &ce);
}

/* ---- PATCH on the JSON of the resource ----------------------------------- */

static json_t *target_obj(json_t *res, const sf_path *p, bool create)
{
    const char *uk;
    return base_of(res, p, create, &uk);
}

static void set_attr(json_t *obj, const char *name, json_t *value, bool add)
{
    const char *k = actual_key(obj, name);
    json_t *cur = k ? json_object_get(obj, k) : NULL;
    if (add && json_is_array(cur)) {
        if (json_is_array(value))
            json_array_extend(cur, value);
        else
            json_array_append(cur, value);
        return;
    }
    if (add && json_is_object(cur) && json_is_object(value)) {
        json_object_update(cur, value);
        return;
    }
    json_object_set(obj, k ? k : name, value);
}

/* A patch without path: value's members are attributes, extension
 * objects, or attribute paths ("name.givenName", as some clients send). */
static bool patch_no_path(json_t *res, json_t *value, bool add, hresp *r)
{
    if (!json_is_object(value)) {
        scim_error(r, 400, "invalidValue", "a patch without path needs an object value");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(value, k, v) {
        if (json_is_object(v) &&
            (strcasecmp(k, SCIM_ENTERPRISE) == 0 || strcasecmp(k, SCIM_TUNNUS) == 0)) {
            /* An extension URI as a key: merge its object. */
            const char *ak = actual_key(res, k);
            json_t *ext = ak ? json_object_get(res, ak) : NULL;
            if (json_is_object(ext))
                json_object_update(ext, v);
            else
                json_object_set(res, k, v);
            continue;
        }
        sf_path p;
        tn_err e;
        tn_err_clear(&e);
        size_t pos = 0, len = strlen(k);
        if (!scim_path_parse_at(k, len, &pos, &p, &e) || pos != len) {
            scim_path_clear(&p);
            if (!e.msg[0])
                snprintf(e.msg, sizeof e.msg, "at offset %zu: unexpected text after the path", pos);
            scim_error(r, 400, "invalidPath", e.msg);
            return false;
        }
        json_t *obj = target_obj(res, &p, true);
        if (p.sub) {
            const char *ak = actual_key(obj, p.attr);
            json_t *parent = ak ? json_object_get(obj, ak) : NULL;
            if (!json_is_object(parent)) {
                parent = json_object();
                json_object_set_new(obj, p.attr, parent);
            }
            set_attr(parent, p.sub, v, add);
        } else {
            set_attr(obj, p.attr, v, add);
        }
        scim_path_clear(&p);
    }
    return true;
}

/* The eq constraints of a simple value filter, to make the element an
 * add creates when none matches (emails[type eq "work"].value). */
static void seed_from_filter(const sf_node *f, json_t *el)
{
    if (f->kind == SF_AND) {
        seed_from_filter(f->l, el);
        seed_from_filter(f->r, el);
    } else if (f->kind == SF_CMP && f->op == SF_EQ && !f->path.sub) {
        json_object_set(el, f->path.attr, f->value);
    }
}

static bool patch_one(json_t *res, json_t *op, hresp *r)
{
    if (!json_is_object(op)) {
        scim_error(r, 400, "invalidSyntax", "an operation must be an object");
        return false;
    }
    json_t *jop = scim_obj_get(op, "op"), *jpath = scim_obj_get(op, "path"),
           *value = scim_obj_get(op, "value");
    const char *o = json_string_value(jop);
    bool add = o && strcasecmp(o, "add") == 0, rep = o && strcasecmp(o, "replace") == 0,
         rem = o && strcasecmp(o, "remove") == 0;
    if (!add && !rep && !rem) {
        scim_error(r, 400, "invalidSyntax", "op must be add, replace or remove");
        return false;
    }
    if (jpath && !json_is_string(jpath)) {
        scim_error(r, 400, "invalidPath", "path must be a string");
        return false;
    }
    if (!jpath) {
        if (rem) {
            scim_error(r, 400, "noTarget", "remove needs a path");
            return false;
        }
        return patch_no_path(res, value, add, r);
    }
    if (!rem && !value) {
        scim_error(r, 400, "invalidValue", "add and replace need a value");
        return false;
    }
    scim_patch_path pp;
    tn_err e;
    tn_err_clear(&e);
    const char *path = json_string_value(jpath);
    if (scim_patch_path_parse(path, strlen(path), &pp, &e) != TN_OK) {
        scim_error(r, 400, "invalidPath", e.msg);
        return false;
    }
    bool ok = true;
    json_t *obj = target_obj(res, &pp.attr, !rem);
    const char *ak = obj ? actual_key(obj, pp.attr.attr) : NULL;
    json_t *cur = ak ? json_object_get(obj, ak) : NULL;
    if (!pp.filter) {
        if (!obj) {
            ok = true; /* removing from an absent extension: nothing to do */
        } else if (!pp.attr.sub) {
            if (rem) {
                if (ak)
                    json_object_del(obj, ak);
            } else {
                set_attr(obj, pp.attr.attr, value, add);
            }
        } else if (json_is_array(cur)) {
            size_t i;
            json_t *el;
            json_array_foreach(cur, i, el) {
                if (!json_is_object(el))
                    continue;
                if (rem) {
                    const char *sk = actual_key(el, pp.attr.sub);
                    if (sk)
                        json_object_del(el, sk);
                } else {
                    set_attr(el, pp.attr.sub, value, add);
                }
            }
        } else {
            if (!json_is_object(cur)) {
                if (rem)
                    goto done;
                cur = json_object();
                json_object_set_new(obj, ak ? ak : pp.attr.attr, cur);
            }
            if (rem) {
                const char *sk = actual_key(cur, pp.attr.sub);
                if (sk)
                    json_object_del(cur, sk);
            } else {
                set_attr(cur, pp.attr.sub, value, add);
            }
        }
        goto done;
    }
    /* A value path: act on the matching elements. */
    if (cur && !json_is_array(cur)) {
        scim_error(r, 400, "invalidPath", "a value filter needs a multi-valued attribute");
        ok = false;
        goto done;
    }
    size_t matched = 0;
    for (size_t i = 0; cur && i < json_array_size(cur);) {
        json_t *el = json_array_get(cur, i);
        if (!json_is_object(el) || !scim_filter_match(pp.filter, el)) {
            i++;
            continue;
        }
        matched++;
        if (rem && !pp.sub) {
            json_array_remove(cur, i);
            continue;
        }
        if (rem) {
            const char *sk = actual_key(el, pp.sub);
            if (sk)
                json_object_del(el, sk);
        } else if (pp.sub) {
            set_attr(el, pp.sub, value, add);
        } else if (json_is_object(value)) {
            json_object_update(el, value);
        } else {
            scim_error(r, 400, "invalidValue", "a value-path replace needs an object value");
            ok = false;
            goto done;
        }
        i++;
    }
    if (!matched && !rem) {
        if (!add && !rep) {
            scim_error(r, 400, "noTarget", "the value filter matches no value");
            ok = false;
            goto done;
        }
        json_t *el = json_object();
        seed_from_filter(pp.filter, el);
        if (pp.sub)
            json_object_set(el, pp.sub, value);
        else if (json_is_object(value))
            json_object_update(el, value);
        if (!cur) {
            cur = json_array();
            json_object_set_new(obj, pp.attr.attr, cur);
        }
        json_array_append_new(cur, el);
    }
done:
    scim_patch_path_free(&pp);
    return ok;
}

static bool apply_patch(json_t *res, json_t *ops, hresp *r)
{
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        if (!patch_one(res, op, r))
            return false;
    }
    char why[256];
    if (!scim_user_check_attrs(res, why, sizeof why)) {
        scim_error(r, 400, "invalidPath", why);
        return false;
    }
    return true;
}

static void delete_user(const hreq *rq, const char *id, hresp *r)
{
    svc_person_view v;
    tn_err e;
    tn_err_clear(&e);
    if (!valid_id(id) || show(rq, id, &v, &e) != TN_OK) {
        if (!valid_id(id) || e.code == TN_ENOTFOUND)
            scim_error(r, 404, NULL, "no such User");
        else
            svc_error(r, &e);
        return;
    }
    svc_person_view_free(&v);
    /* Persons are never deleted: the identity number and usernames stay
     * theirs, and the lifecycle policy closes, archives and erases. */
    scim_error(r, 403, "mutability",
               "persons are never deleted over SCIM: end their affiliations at the source and "
               "the lifecycle policy closes the account (docs/scim.md)");
}

static void users(const hreq *rq, const char *rest, hresp *r)
{
    const char *m = rq->method;
    if (!*rest) {
        if (strcmp(m, "GET") == 0)
            list_users(rq, r);
        else if (strcmp(m, "POST") == 0)
            create_user(rq, r);
        else
            scim_error(r, 405, NULL, "method not allowed on /Users");
        return;
    }
    if (*rest != '/' || strchr(rest + 1, '/')) {
        scim_error(r, 404, NULL, "no such resource");
        return;
    }
    const char *id = rest + 1;
    if (strcmp(m, "GET") == 0)
        get_user(rq, id, r);
    else if (strcmp(m, "PUT") == 0)
        modify_user(rq, id, true, r);
    else if (strcmp(m, "PATCH") == 0)
        modify_user(rq, id, false, r);
    else if (strcmp(m, "DELETE") == 0)
        delete_user(rq, id, r);
    else
        scim_error(r, 405, NULL, "method not allowed on a User");
}

/* ---- Groups (the directory's derived groups, read-only) ------------------ */

static json_t *render_group(const hreq *rq, const dir_group *g)
{
    const char *base = rq->base_url;
    json_t *members = json_array();
    char(*ids)[UUID_BUFSZ] = tn_calloc((size_t)g->nmembers + 1, UUID_BUFSZ);
    tn_err e;
    if (svc_dir_group_member_ids(rq->s, rq->actor, g, ids, &e) != TN_OK)
        ids[0][0] = '\0';
    size_t i = 0;
    for (size_t off = 0; off < g->members_len; i++) {
        const char *u = g->members + off;
        json_t *m = json_pack("{s:s,s:s}", "display", u, "type", "User");
        if ((int64_t)i < g->nmembers && ids[i][0]) {
            char ref[640];
            snprintf(ref, sizeof ref, "%s/Users/%s", base, ids[i]);
            json_object_set_new(m, "value", json_string(ids[i]));
            json_object_set_new(m, "$ref", json_string(ref));
        }
        json_array_append_new(members, m);
        off += strlen(u) + 1;
    }
    free(ids);
    char loc[640];
    snprintf(loc, sizeof loc, "%s/Groups/%s", base, g->cn);
    return json_pack("{s:[s],s:s,s:s,s:o,s:{s:s,s:s}}", "schemas", SCIM_CORE_GROUP, "id", g->cn,
                     "displayName", g->unit_name[0] ? g->unit_name : g->cn, "members", members,
                     "meta", "resourceType", "Group", "location", loc);
}

typedef struct group_ctx {
    const hreq *rq;
    const sf_node *f;
    json_t *res;
    int64_t total, start, count;
} group_ctx;

static bool group_match(const dir_group *g, void *ctx)
{
    group_ctx *gc = ctx;
    if (!gc->f)
        return true;
    json_t *j = render_group(gc->rq, g);
    bool m = scim_filter_match(gc->f, j);
    json_decref(j);
    return m;
}

static int group_one(const dir_group *g, void *ctx)
{
    group_ctx *gc = ctx;
    gc->total++;
    if (gc->total >= gc->start && (int64_t)json_array_size(gc->res) < gc->count)
        json_array_append_new(gc->res, render_group(gc->rq, g));
    return 0;
}

static void groups(const hreq *rq, const char *rest, hresp *r)
{
    if (strcmp(rq->method, "GET") != 0) {
        scim_error(r, 405, "mutability",
                   "groups are derived from affiliations (org units, schools, classes, teaching "
                   "groups) and are read-only");
        return;
    }
    tn_err e;
    tn_err_clear(&e);
    if (*rest == '/') {
        dir_group g;
        if (svc_dir_group_get(rq->s, rq->actor, rest + 1, "cn,member", &g, &e) != TN_OK) {
            if (e.code == TN_ENOTFOUND)
                scim_error(r, 404, NULL, "no such Group");
            else
                svc_error(r, &e);
            return;
        }
        r->status = 200;
        r->body = render_group(rq, &g);
        svc_dir_group_free(&g);
        return;
    }
    group_ctx gc = {rq, NULL, NULL, 0, 1, 100};
    if (!int_param(rq, "startIndex", &gc.start, r) || !int_param(rq, "count", &gc.count, r))
        return;
    if (gc.count > COUNT_MAX)
        gc.count = COUNT_MAX;
    const char *ftext = q(rq, "filter");
    sf_node *f = NULL;
    if (ftext && !(f = scim_filter_parse(ftext, strlen(ftext), &e))) {
        scim_error(r, 400, "invalidFilter", e.msg);
        return;
    }
    gc.f = f;
    gc.res = json_array();
    svc_dir_group_query gq = {.match = group_match, .match_ctx = &gc, .attrs = "cn,member"};
    bool capped = false, more = false;
    if (svc_dir_group_search(rq->s, rq->actor, &gq, 0, -1, group_one, &gc, &capped, &more, &e) !=
        TN_OK) {
        json_decref(gc.res);
        svc_error(r, &e);
    } else {
        r->status = 200;
        r->body = json_pack("{s:[s],s:I,s:I,s:I,s:o}", "schemas", SCIM_LIST, "totalResults",
                            (json_int_t)gc.total, "startIndex", (json_int_t)gc.start,
                            "itemsPerPage", (json_int_t)json_array_size(gc.res), "Resources",
                            gc.res);
    }
    scim_filter_free(f);
}

/* ---- Bulk ----------------------------------------------------------------- */

typedef struct bulk_ids {
    char (*key)[72];
    char (*id)[UUID_BUFSZ];
    size_t n;
} bulk_ids;

/* Replace "bulkId:X" strings in v (in place); false if one is unknown. */
static bool resolve_bulk(json_t *v, const bulk_ids *b, char *missing, size_t cap)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!tn_str_startswith(s, "bulkId:"))
            return true;
        for (size_t i = 0; i < b->n; i++)
            if (strcmp(s + 7, b->key[i]) == 0) {
                json_string_set(v, b->id[i]);
                return true;
            }
        snprintf(missing, cap, "%s", s + 7);
        return false;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (!resolve_bulk(x, b, missing, cap))
                return false;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!resolve_bulk(x, b, missing, cap))
                return false;
        }
    }
    return true;
}

static void bulk(const hreq *rq, hresp *r)
{
    if (strcmp(rq->method, "POST") != 0) {
        scim_error(r, 405, NULL, "Bulk takes POST");
        return;
    }
    json_t *ops = scim_obj_get(rq->body, "Operations");
    json_t *schemas = scim_obj_get(rq->body, "schemas");
    bool schema_ok = false;
    size_t i;
    json_t *el;
    json_array_foreach(schemas, i, el) {
        if (json_is_string(el) && strcmp(json_string_value(el), SCIM_BULK_REQ) == 0)
            schema_ok = true;
    }
    if (!schema_ok || !json_is_array(ops)) {
        scim_error(r, 400, "invalidSyntax",
                   "a BulkRequest with schemas [" SCIM_BULK_REQ "] and Operations");
        return;
    }
    if (json_array_size(ops) > BULK_MAX_OPS) {
        scim_error(r, 413, "tooMany", "at most 100 operations per Bulk request");
        return;
    }
    json_t *foe = scim_obj_get(rq->body, "failOnErrors");
    int64_t fail_on = 0;
    if (foe && (!json_is_integer(foe) || json_integer_value(foe) < 1)) {
        scim_error(r, 400, "invalidValue", "failOnErrors must be a positive integer");
        return;
    }
    if (foe)
        fail_on = json_integer_value(foe);
    size_t nops = json_array_size(ops);
    bulk_ids ids = {tn_calloc(nops + 1, sizeof *ids.key), tn_calloc(nops + 1, sizeof *ids.id), 0};
    json_t *results = json_array();
    int64_t errors = 0;
    json_array_foreach(ops, i, el) {
        if (fail_on && errors >= fail_on)
            break;
        hresp sub = {0};
        json_t *res = json_object();
        const char *method = json_string_value(scim_obj_get(el, "method"));
        const char *path = json_string_value(scim_obj_get(el, "path"));
        const char *bulk_id = json_string_value(scim_obj_get(el, "bulkId"));
        const char *version = json_string_value(scim_obj_get(el, "version"));
        json_t *data = scim_obj_get(el, "data");
        if (method)
            json_object_set_new(res, "method", json_string(method));
        if (bulk_id)
            json_object_set_new(res, "bulkId", json_string(bulk_id));
        char rpath[256], missing[80];
        json_t *body = data ? json_deep_copy(data) : NULL;
        if (!method || !path || !tn_strlcpy(rpath, path, sizeof rpath)) {
            scim_error(&sub, 400, "invalidSyntax", "an operation needs method and path");
        } else if (tn_str_startswith(rpath, "/Bulk")) {
            scim_error(&sub, 400, "invalidValue", "a Bulk operation cannot be a Bulk request");
        } else if (strcasecmp(method, "POST") == 0 && !bulk_id) {
            scim_error(&sub, 400, "invalidValue", "a POST operation needs a bulkId");
        } else if (strcasecmp(method, "DELETE") != 0 && !json_is_object(body)) {
            scim_error(&sub, 400, "invalidSyntax", "the operation needs data");
        } else if (body && !resolve_bulk(body, &ids, missing, sizeof missing)) {
            char d[160];
            snprintf(d, sizeof d, "bulkId %s is not defined by an earlier operation", missing);
            scim_error(&sub, 409, "invalidValue", d);
        } else {
            /* A path may name an earlier operation's resource: /Users/bulkId:X */
            char *bid = strstr(rpath, "bulkId:");
            bool resolved = true;
            if (bid) {
                resolved = false;
                for (size_t k = 0; k < ids.n; k++)
                    if (strcmp(bid + 7, ids.key[k]) == 0) {
                        snprintf(bid, sizeof rpath - (size_t)(bid - rpath), "%s", ids.id[k]);
                        resolved = true;
                    }
            }
            if (!resolved) {
                scim_error(&sub, 409, "invalidValue", "the path's bulkId is not defined");
            } else {
                char upper[8];
                tn_strlcpy(upper, method, sizeof upper);
                for (char *c = upper; *c; c++)
                    *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
                hreq one = *rq;
                one.method = upper;
                one.path = rpath;
                one.query = NULL;
                one.text_ok = false;
                one.body = body;
                one.if_match = version;
                one.if_none_match = NULL;
                if (strcmp(upper, "GET") == 0 || strcmp(upper, "POST") == 0 ||
                    strcmp(upper, "PUT") == 0 || strcmp(upper, "PATCH") == 0 ||
                    strcmp(upper, "DELETE") == 0)
                    scim_handle(&one, &sub);
                else
                    scim_error(&sub, 400, "invalidSyntax", "unknown method");
            }
        }
        if (body)
            json_decref(body);
        char st[8];
        snprintf(st, sizeof st, "%d", sub.status);
        json_object_set_new(res, "status", json_string(st));
        if (sub.location[0])
            json_object_set_new(res, "location", json_string(sub.location));
        else if (sub.status < 300 && json_is_object(sub.body)) {
            json_t *loc = json_object_get(json_object_get(sub.body, "meta"), "location");
            if (loc)
                json_object_set(res, "location", loc);
        }
        if (sub.etag[0])
            json_object_set_new(res, "version", json_string(sub.etag));
        if (sub.status >= 400) {
            errors++;
            json_object_set(res, "response", sub.body);
        } else if (bulk_id && strcasecmp(method, "POST") == 0 && json_is_object(sub.body)) {
            tn_strlcpy(ids.key[ids.n], bulk_id, sizeof ids.key[0]);
            tn_strlcpy(ids.id[ids.n], json_string_value(json_object_get(sub.body, "id")),
                       UUID_BUFSZ);
            ids.n++;
        }
        if (sub.body)
            json_decref(sub.body);
        json_array_append_new(results, res);
    }
    free(ids.key);
    free(ids.id);
    r->status = 200;
    r->body = json_pack("{s:[s],s:o}", "schemas", SCIM_BULK_RESP, "Operations", results);
}

/* ---- dispatch --------------------------------------------------------------- */

static void me(const hreq *rq, const char *rest, hresp *r)
{
    if (rq->actor->kind != SVC_ACTOR_PERSON) {
        scim_error(r, 501, NULL,
                   "/Me is for a person signed in with their username and password; an API "
                   "client has no User of its own");
        return;
    }
    if (*rest) {
        scim_error(r, 404, NULL, "no such resource");
        return;
    }
    /* The service decides what a person may change about themselves
     * (REG-5: the contact attributes). */
    if (strcmp(rq->method, "GET") == 0)
        get_user(rq, rq->actor->id, r);
    else if (strcmp(rq->method, "PATCH") == 0)
        modify_user(rq, rq->actor->id, false, r);
    else if (strcmp(rq->method, "PUT") == 0)
        modify_user(rq, rq->actor->id, true, r);
    else
        scim_error(r, 405, NULL, "/Me takes GET, PUT and PATCH");
}

void scim_handle(const hreq *rq, hresp *r)
{
    const char *p = rq->path;
    r->status = 0;
    if (tn_str_startswith(p, "/Users") && (p[6] == '\0' || p[6] == '/'))
        users(rq, p + 6, r);
    else if (tn_str_startswith(p, "/Groups") && (p[7] == '\0' || p[7] == '/'))
        groups(rq, p + 7, r);
    else if (tn_str_startswith(p, "/Me") && (p[3] == '\0' || p[3] == '/'))
        me(rq, p + 3, r);
    else if (strcmp(p, "/Bulk") == 0)
        bulk(rq, r);
    else if (!scim_meta_handle(rq, r))
        scim_error(r, 404, NULL, "no such resource");
}
