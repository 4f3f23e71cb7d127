/* The SCIM 2.0 target (RFC 7643/7644) through libcurl: Users under the
 * base URL with a bearer token. The map's attribute names are SCIM paths
 * ("userName", "name.givenName", "emails"); a multi-valued attribute
 * (emails, phoneNumbers …) gets [{"value": …}], the first marked primary.
 * The entry says active = false when disabled. A delivery reads the
 * resource first and sends a PUT only when a managed attribute differs,
 * so repeating one changes nothing; a resource the registry does not know
 * yet (created before a crash) is found by its userName.
 * With groups = kinds the user's groups follow (prov_scim_groups.c). */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prov_scim_int.h"
#include "tn_buf.h"
#include "tn_str.h"


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
    free(s->fails);
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
prov_result prov_scim_request(prov_scim *s, const char *method, const char *path, json_t *body,
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
    prov_result pr = prov_scim_request(s, "GET", path, NULL, &st, &r, msg, cap);
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
        if (had && prov_scim_groups_on(s) &&
            (r = prov_scim_plan_groups(s, e, old_id, false, msg, cap)) != PROV_OK)
            return r;
        if (had) {
            snprintf(path, sizeof path, "/Users/%s", old_id);
            r = prov_scim_request(s, "DELETE", path, NULL, &st, &have, msg, cap);
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
        if ((r = prov_scim_request(s, "GET", path, NULL, &st, &have, msg, cap)) != PROV_OK) {
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
        r = prov_scim_request(s, "PUT", path, want, &st, &resp, msg, cap);
        if (r == PROV_OK && st >= 300)
            r = PROV_ITEM_FAILED;
    } else {
        r = prov_scim_request(s, "POST", "/Users", want, &st, &resp, msg, cap);
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
    if (r == PROV_OK && prov_scim_groups_on(s))
        r = prov_scim_plan_groups(s, e, id, fresh, msg, cap);
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
        r = prov_scim_request(s, "GET", path, NULL, &st, &resp, msg, cap);
        if (r != PROV_OK || st >= 400) {
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
