/* SCIM User resources: a person (with affiliations and account) as the
 * SCIM User of RFC 7643 with the enterprise and tunnus extensions, and
 * back from JSON to the service's inputs (scim_user.h). */
#include "scim_user.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "date.h"
#include "name.h"
#include "scim_filter.h"
#include "tn_json.h"
#include "tn_str.h"

/* By hand from the day number: gmtime_r and strftime were a tenth of
 * rendering a User. */
static void iso_time(int64_t us, char out[32])
{
    int64_t sec = us / 1000000, days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    date_format((tn_date)days, out);
    if (!out[0]) { /* outside four-digit years: the general way */
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return;
    }
    int hms[3] = {(int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60)};
    char *p = out + 10;
    for (int i = 0; i < 3; i++) {
        *p++ = i == 0 ? 'T' : ':';
        *p++ = (char)('0' + hms[i] / 10);
        *p++ = (char)('0' + hms[i] % 10);
    }
    *p++ = 'Z';
    *p = '\0';
}

const account *scim_main_account(const svc_person_view *v)
{
    for (size_t i = 0; i < v->naccts; i++)
        if (v->accts[i].state == ASTATE_ACTIVE || v->accts[i].state == ASTATE_GRACE)
            return &v->accts[i];
    return v->naccts ? &v->accts[v->naccts - 1] : NULL;
}

/* The affiliation that speaks for the person today: one in force, else
 * the one that ended last. */
static const affiliation *main_aff(const svc_person_view *v, tn_date today)
{
    const affiliation *best = NULL;
    for (size_t i = 0; i < v->naffs; i++) {
        const affiliation *a = &v->affs[i];
        bool in_force =
            a->valid_from <= today && (a->valid_to == TN_DATE_NONE || a->valid_to >= today);
        if (in_force)
            return a;
        if (!best || (a->valid_to != TN_DATE_NONE && best->valid_to != TN_DATE_NONE &&
                      a->valid_to > best->valid_to))
            best = a;
    }
    return best;
}

int64_t scim_user_version(const svc_person_view *v)
{
    int64_t m = v->p.updated_at;
    for (size_t i = 0; i < v->naffs; i++)
        if (v->affs[i].updated_at > m)
            m = v->affs[i].updated_at;
    for (size_t i = 0; i < v->naccts; i++)
        if (v->accts[i].updated_at > m)
            m = v->accts[i].updated_at;
    return m;
}

void scim_user_etag(const svc_person_view *v, char out[48])
{
    snprintf(out, 48, "W/\"%lld\"", (long long)scim_user_version(v));
}

/* ---- the User writer ------------------------------------------------------
 *
 * One walk over the person renders the User either as a jansson tree (for
 * projections, filters, sorting, PATCH and Bulk) or straight as compact
 * JSON text (a plain GET: building the tree and dumping it was a fifth of
 * such a request's CPU time). The walk is the same code for both, so the
 * two cannot drift apart; a unit test compares them. A string that is not
 * valid UTF-8 is left out in both, as jansson refuses it. */

#define UW_DEPTH 8

typedef struct uw {
    tn_buf *text;             /* text mode when not NULL */
    json_t *root;             /* tree mode: the result */
    json_t *stack[UW_DEPTH];  /* tree mode: open containers */
    int depth;
} uw;

/* Text mode: the separator and member name before a value. */
static void uw_text_prefix(uw *w, const char *key)
{
    tn_buf *b = w->text;
    if (key) {
        tn_json_key(b, key);
    } else if (w->depth > 0 && b->data[b->len - 1] != '[') {
        tn_buf_putc(b, ',');
    }
}

/* Tree mode: place v (owned) under key in the open container. */
static void uw_tree_put(uw *w, const char *key, json_t *v)
{
    if (!v)
        return;
    if (w->depth == 0) {
        w->root = v;
        return;
    }
    json_t *top = w->stack[w->depth - 1];
    if (key)
        json_object_set_new(top, key, v);
    else
        json_array_append_new(top, v);
}

static void uw_open(uw *w, const char *key, bool array)
{
    if (w->text) {
        uw_text_prefix(w, key);
        tn_buf_putc(w->text, array ? '[' : '{');
        w->depth++;
        return;
    }
    json_t *c = array ? json_array() : json_object();
    uw_tree_put(w, key, json_incref(c));
    w->stack[w->depth++] = c;
}

static void uw_close(uw *w, bool array)
{
    w->depth--;
    if (w->text)
        tn_buf_putc(w->text, array ? ']' : '}');
    else
        json_decref(w->stack[w->depth]);
}

static void uw_strn(uw *w, const char *key, const char *v, size_t n)
{
    if (!utf8_valid(v, n, NULL))
        return;
    if (w->text) {
        uw_text_prefix(w, key);
        tn_json_strn(w->text, v, n);
        return;
    }
    uw_tree_put(w, key, json_stringn(v, n));
}

static void uw_str(uw *w, const char *key, const char *v)
{
    uw_strn(w, key, v, strlen(v));
}

/* Only a non-empty value: empty attributes are left out of a User. */
static void uw_str_set(uw *w, const char *key, const char *v)
{
    if (v && *v)
        uw_str(w, key, v);
}

static void uw_int(uw *w, const char *key, int64_t v)
{
    if (w->text) {
        uw_text_prefix(w, key);
        tn_json_i64(w->text, v);
        return;
    }
    uw_tree_put(w, key, json_integer(v));
}

static void uw_bool(uw *w, const char *key, bool v)
{
    if (w->text) {
        uw_text_prefix(w, key);
        tn_buf_puts(w->text, v ? "true" : "false");
        return;
    }
    uw_tree_put(w, key, json_boolean(v));
}

static void uw_date(uw *w, const char *key, tn_date d)
{
    if (d == TN_DATE_NONE) {
        if (w->text) {
            uw_text_prefix(w, key);
            tn_buf_puts(w->text, "null");
        } else {
            uw_tree_put(w, key, json_null());
        }
        return;
    }
    char b[DATE_ISO_LEN];
    date_format(d, b);
    uw_str(w, key, b);
}

static void uw_groups(uw *w, const char *key, const char *groups)
{
    uw_open(w, key, true);
    const char *p = groups;
    while (p && *p) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        if (n)
            uw_strn(w, NULL, p, n);
        p += n;
        if (*p == ';')
            p++;
    }
    uw_close(w, true);
}

static void uw_aff(uw *w, const affiliation *a)
{
    uw_open(w, NULL, false);
    uw_str_set(w, "kind", a->kind);
    uw_str_set(w, "source", a->source);
    uw_str_set(w, "sourceKey", a->source_key);
    uw_str_set(w, "orgUnit", a->org_unit);
    uw_str_set(w, "title", a->title);
    uw_str_set(w, "school", a->school);
    uw_str_set(w, "class", a->class_);
    if (a->teaching_groups[0])
        uw_groups(w, "teachingGroups", a->teaching_groups);
    uw_str_set(w, "programme", a->programme);
    uw_str_set(w, "manager", a->manager_id);
    uw_date(w, "validFrom", a->valid_from);
    if (a->valid_to != TN_DATE_NONE)
        uw_date(w, "validTo", a->valid_to);
    uw_str_set(w, "endReason", a->end_reason);
    uw_close(w, false);
}

static void uw_email(uw *w, const char *value, const char *type, bool primary)
{
    uw_open(w, NULL, false);
    uw_str(w, "value", value);
    uw_str(w, "type", type);
    uw_bool(w, "primary", primary);
    uw_close(w, false);
}

static void render(uw *w, const svc_person_view *v, tn_date today, const char *base_url)
{
    const person *p = &v->p;
    const account *ac = scim_main_account(v);
    const affiliation *af = main_aff(v, today);
    uw_open(w, NULL, false);
    uw_open(w, "schemas", true);
    uw_str(w, NULL, SCIM_CORE_USER);
    uw_str(w, NULL, SCIM_ENTERPRISE);
    uw_str(w, NULL, SCIM_TUNNUS);
    uw_close(w, true);
    uw_str(w, "id", p->id);
    if (ac)
        uw_str(w, "userName", ac->username);
    char formatted[2 * NAME_BUFSZ + 2];
    snprintf(formatted, sizeof formatted, "%s %s", p->given_names, p->family_name);
    uw_open(w, "name", false);
    uw_str(w, "formatted", formatted);
    uw_str_set(w, "familyName", p->family_name);
    uw_str_set(w, "givenName", p->given_names);
    uw_close(w, false);
    char first[NAME_BUFSZ];
    tn_strlcpy(first, p->preferred_name[0] ? p->preferred_name : p->given_names, sizeof first);
    char *sp = strchr(first, ' ');
    if (sp)
        *sp = '\0';
    char display[2 * NAME_BUFSZ + 2];
    snprintf(display, sizeof display, "%s %s", first, p->family_name);
    uw_str(w, "displayName", display);
    uw_str_set(w, "nickName", p->preferred_name);
    uw_str_set(w, "preferredLanguage", p->language);
    uw_bool(w, "active", p->state == PSTATE_ACTIVE || p->state == PSTATE_GRACE);
    bool work = ac && ac->email[0];
    if (work || p->email[0]) {
        uw_open(w, "emails", true);
        if (work)
            uw_email(w, ac->email, "work", true);
        if (p->email[0])
            uw_email(w, p->email, "home", !work);
        uw_close(w, true);
    }
    if (p->phone[0]) {
        uw_open(w, "phoneNumbers", true);
        uw_open(w, NULL, false);
        uw_str(w, "value", p->phone);
        uw_str(w, "type", "mobile");
        uw_close(w, false);
        uw_close(w, true);
    }

    uw_open(w, SCIM_ENTERPRISE, false);
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)p->number);
    uw_str(w, "employeeNumber", num);
    if (af && af->org_unit[0]) {
        char org[CODE_BUFSZ];
        tn_strlcpy(org, af->org_unit, sizeof org);
        char *slash = strchr(org, '/');
        if (slash)
            *slash = '\0';
        uw_str(w, "organization", org);
        uw_str(w, "department", af->org_unit);
    }
    if (af && af->manager_id[0]) {
        char ref[640];
        snprintf(ref, sizeof ref, "%s/Users/%s", base_url ? base_url : "", af->manager_id);
        uw_open(w, "manager", false);
        uw_str(w, "value", af->manager_id);
        uw_str(w, "$ref", ref);
        uw_close(w, false);
    }
    uw_close(w, false);

    uw_open(w, SCIM_TUNNUS, false);
    uw_int(w, "identityNumber", p->number);
    uw_str(w, "lifecycleState", person_state_name(p->state));
    if (ac)
        uw_str(w, "accountState", account_state_name(ac->state));
    if (p->birth_date != TN_DATE_NONE)
        uw_date(w, "birthDate", p->birth_date);
    if (p->death_date != TN_DATE_NONE)
        uw_date(w, "deathDate", p->death_date);
    if (p->legal_hold_until != TN_DATE_NONE)
        uw_date(w, "legalHoldUntil", p->legal_hold_until);
    if (ac && ac->closed_on != TN_DATE_NONE)
        uw_date(w, "accountClosedOn", ac->closed_on);
    if (af) {
        uw_str_set(w, "school", af->school);
        uw_str_set(w, "class", af->class_);
        if (af->teaching_groups[0])
            uw_groups(w, "teachingGroups", af->teaching_groups);
    }
    uw_open(w, "affiliations", true);
    for (size_t i = 0; i < v->naffs; i++)
        uw_aff(w, &v->affs[i]);
    uw_close(w, true);
    uw_close(w, false);

    char created[32], modified[32], etag[48], loc[640];
    iso_time(p->created_at, created);
    iso_time(scim_user_version(v), modified);
    scim_user_etag(v, etag);
    snprintf(loc, sizeof loc, "%s/Users/%s", base_url ? base_url : "", p->id);
    uw_open(w, "meta", false);
    uw_str(w, "resourceType", "User");
    uw_str(w, "created", created);
    uw_str(w, "lastModified", modified);
    uw_str(w, "location", loc);
    uw_str(w, "version", etag);
    uw_close(w, false);
    uw_close(w, false);
}

json_t *scim_user_render(const svc_person_view *v, tn_date today, const char *base_url)
{
    uw w = {0};
    render(&w, v, today, base_url);
    return w.root;
}

void scim_user_write(const svc_person_view *v, tn_date today, const char *base_url,
                     tn_buf *out)
{
    uw w = {.text = out};
    tn_buf_reserve(out, 2048); /* a User is about 1.1 KB: one allocation */
    render(&w, v, today, base_url);
}

/* ---- from JSON ------------------------------------------------------------ */

static bool fail(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return false;
}

static const char *const CORE_ATTRS[] = {
    "schemas", "id", "externalId", "meta", "userName", "name", "displayName", "nickName",
    "preferredLanguage", "active", "emails", "phoneNumbers", "groups", SCIM_ENTERPRISE,
    SCIM_TUNNUS, "password"};
static const char *const ENT_ATTRS[] = {"employeeNumber", "organization", "department",
                                        "manager"};
static const char *const FI_ATTRS[] = {
    "identityNumber", "lifecycleState", "accountState", "birthDate", "deathDate",
    "legalHoldUntil", "accountClosedOn", "school", "class", "teachingGroups", "affiliations",
    "nationalId"};

static bool known(const char *k, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(k, set[i]) == 0)
            return true;
    return false;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

bool scim_user_check_attrs(json_t *u, char *why, size_t cap)
{
    if (!json_is_object(u))
        return fail(why, cap, "%sa User must be a JSON object", "");
    const char *k;
    json_t *v;
    json_object_foreach(u, k, v) {
        if (!known(k, CORE_ATTRS, N(CORE_ATTRS)))
            return fail(why, cap, "unknown attribute %.100s", k);
        if (strcasecmp(k, SCIM_ENTERPRISE) == 0 || strcasecmp(k, SCIM_TUNNUS) == 0) {
            bool ent = strcasecmp(k, SCIM_ENTERPRISE) == 0;
            if (!json_is_object(v))
                return fail(why, cap, "%.100s must be an object", k);
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2) {
                if (ent ? !known(k2, ENT_ATTRS, N(ENT_ATTRS)) : !known(k2, FI_ATTRS, N(FI_ATTRS)))
                    return fail(why, cap, "unknown attribute %.100s", k2);
            }
        }
    }
    return true;
}

static const char *str_at(json_t *o, const char *k, bool *bad)
{
    json_t *v = scim_obj_get(o, k);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* The first element of a multi-valued attribute whose type is (or is not) t. */
static const char *pick_value(json_t *arr, const char *t, bool negate, bool *bad)
{
    if (!arr || json_is_null(arr))
        return NULL;
    if (!json_is_array(arr)) {
        *bad = true;
        return NULL;
    }
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) {
        if (!json_is_object(el)) {
            *bad = true;
            return NULL;
        }
        const char *type = str_at(el, "type", bad);
        bool is_t = type && strcasecmp(type, t) == 0;
        if (is_t != negate)
            return str_at(el, "value", bad);
    }
    return NULL;
}

bool scim_user_input(json_t *u, bool create, scim_user_in *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (!scim_user_check_attrs(u, why, cap))
        return false;
    json_t *schemas = scim_obj_get(u, "schemas");
    bool has_core = false;
    size_t i;
    json_t *el;
    if (schemas && !json_is_array(schemas))
        return fail(why, cap, "%sschemas must be an array", "");
    json_array_foreach(schemas, i, el) {
        if (json_is_string(el) && strcasecmp(json_string_value(el), SCIM_CORE_USER) == 0)
            has_core = true;
    }
    if (!has_core)
        return fail(why, cap, "schemas must include %s", SCIM_CORE_USER);
    bool bad = false;
    json_t *name = scim_obj_get(u, "name");
    if (name && !json_is_object(name))
        return fail(why, cap, "%sname must be an object", "");
    out->p.given_names = str_at(name, "givenName", &bad);
    out->p.family_name = str_at(name, "familyName", &bad);
    if (bad)
        return fail(why, cap, "%sname.givenName and name.familyName must be strings", "");
    if (!out->p.given_names || !*out->p.given_names)
        return fail(why, cap, "%sname.givenName is required", "");
    if (!out->p.family_name || !*out->p.family_name)
        return fail(why, cap, "%sname.familyName is required", "");
    /* Optional attributes absent from a whole resource are cleared. */
    const char *nick = str_at(u, "nickName", &bad);
    const char *lang = str_at(u, "preferredLanguage", &bad);
    const char *email = pick_value(scim_obj_get(u, "emails"), "work", true, &bad);
    json_t *phones = scim_obj_get(u, "phoneNumbers");
    const char *phone = NULL;
    if (phones && !json_is_null(phones)) {
        if (!json_is_array(phones))
            bad = true;
        else if (json_array_size(phones))
            phone = str_at(json_array_get(phones, 0), "value", &bad);
    }
    out->username = str_at(u, "userName", &bad);
    if (bad)
        return fail(why, cap, "%sa string attribute has a value of another type", "");
    out->p.preferred_name = nick ? nick : "";
    out->p.language = lang ? lang : "";
    out->p.email = email ? email : "";
    out->p.phone = phone ? phone : "";
    json_t *fi = scim_obj_get(u, SCIM_TUNNUS);
    if (create && fi) {
        out->p.national_id = str_at(fi, "nationalId", &bad);
        out->p.birth_date = str_at(fi, "birthDate", &bad);
        json_t *affs = scim_obj_get(fi, "affiliations");
        if (affs && (!json_is_array(affs) || json_array_size(affs) > 1))
            return fail(why, cap, "%saffiliations: give at most one on create", "");
        json_t *a = affs ? json_array_get(affs, 0) : NULL;
        if (a) {
            if (!json_is_object(a))
                return fail(why, cap, "%san affiliation must be an object", "");
            svc_aff_input *ai = &out->aff;
            ai->kind = str_at(a, "kind", &bad);
            ai->source = str_at(a, "source", &bad);
            ai->source_key = str_at(a, "sourceKey", &bad);
            ai->org_unit = str_at(a, "orgUnit", &bad);
            ai->title = str_at(a, "title", &bad);
            ai->school = str_at(a, "school", &bad);
            ai->class_ = str_at(a, "class", &bad);
            ai->programme = str_at(a, "programme", &bad);
            ai->manager = NULL;
            ai->valid_from = str_at(a, "validFrom", &bad);
            ai->valid_to = str_at(a, "validTo", &bad);
            json_t *tg = scim_obj_get(a, "teachingGroups");
            if (tg && !json_is_null(tg)) {
                if (!json_is_array(tg))
                    return fail(why, cap, "%steachingGroups must be an array of strings", "");
                size_t k;
                json_t *g;
                json_array_foreach(tg, k, g) {
                    size_t used = strlen(out->groups);
                    if (!json_is_string(g) ||
                        (size_t)snprintf(out->groups + used, sizeof out->groups - used, "%s%s",
                                         used ? ";" : "", json_string_value(g)) >=
                            sizeof out->groups - used)
                        return fail(why, cap, "%steachingGroups must be an array of strings", "");
                }
                ai->teaching_groups = out->groups;
            }
            if (!ai->kind || !ai->valid_from)
                return fail(why, cap, "%san affiliation needs kind and validFrom", "");
            out->has_aff = true;
        }
        if (bad)
            return fail(why, cap, "%sa string attribute has a value of another type", "");
    }
    return true;
}
