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

#include "scim_filter.h"
#include "tn_str.h"

static void iso_time(int64_t us, char out[32])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *date_json(tn_date d)
{
    if (d == TN_DATE_NONE)
        return json_null();
    char b[DATE_ISO_LEN];
    date_format(d, b);
    return json_string(b);
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

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

static json_t *groups_array(const char *groups)
{
    json_t *arr = json_array();
    const char *p = groups;
    while (p && *p) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        if (n)
            json_array_append_new(arr, json_stringn(p, n));
        p += n;
        if (*p == ';')
            p++;
    }
    return arr;
}

static json_t *aff_json(const affiliation *a)
{
    json_t *o = json_object();
    set_str(o, "kind", a->kind);
    set_str(o, "source", a->source);
    set_str(o, "sourceKey", a->source_key);
    set_str(o, "orgUnit", a->org_unit);
    set_str(o, "title", a->title);
    set_str(o, "school", a->school);
    set_str(o, "class", a->class_);
    if (a->teaching_groups[0])
        json_object_set_new(o, "teachingGroups", groups_array(a->teaching_groups));
    set_str(o, "programme", a->programme);
    set_str(o, "manager", a->manager_id);
    json_object_set_new(o, "validFrom", date_json(a->valid_from));
    if (a->valid_to != TN_DATE_NONE)
        json_object_set_new(o, "validTo", date_json(a->valid_to));
    set_str(o, "endReason", a->end_reason);
    return o;
}

json_t *scim_user_render(const svc_person_view *v, tn_date today, const char *base_url)
{
    const person *p = &v->p;
    const account *ac = scim_main_account(v);
    const affiliation *af = main_aff(v, today);
    json_t *u = json_object();
    json_object_set_new(u, "schemas", json_pack("[sss]", SCIM_CORE_USER, SCIM_ENTERPRISE,
                                                SCIM_TUNNUS));
    json_object_set_new(u, "id", json_string(p->id));
    if (ac)
        json_object_set_new(u, "userName", json_string(ac->username));
    char formatted[2 * NAME_BUFSZ + 2];
    snprintf(formatted, sizeof formatted, "%s %s", p->given_names, p->family_name);
    json_t *name = json_object();
    json_object_set_new(name, "formatted", json_string(formatted));
    set_str(name, "familyName", p->family_name);
    set_str(name, "givenName", p->given_names);
    json_object_set_new(u, "name", name);
    char first[NAME_BUFSZ];
    tn_strlcpy(first, p->preferred_name[0] ? p->preferred_name : p->given_names, sizeof first);
    char *sp = strchr(first, ' ');
    if (sp)
        *sp = '\0';
    char display[2 * NAME_BUFSZ + 2];
    snprintf(display, sizeof display, "%s %s", first, p->family_name);
    json_object_set_new(u, "displayName", json_string(display));
    set_str(u, "nickName", p->preferred_name);
    set_str(u, "preferredLanguage", p->language);
    json_object_set_new(u, "active",
                        json_boolean(p->state == PSTATE_ACTIVE || p->state == PSTATE_GRACE));
    json_t *emails = json_array();
    if (ac && ac->email[0])
        json_array_append_new(emails, json_pack("{s:s,s:s,s:b}", "value", ac->email, "type",
                                                "work", "primary", 1));
    if (p->email[0])
        json_array_append_new(emails, json_pack("{s:s,s:s,s:b}", "value", p->email, "type",
                                                "home", "primary", !(ac && ac->email[0])));
    if (json_array_size(emails))
        json_object_set_new(u, "emails", emails);
    else
        json_decref(emails);
    if (p->phone[0])
        json_object_set_new(u, "phoneNumbers",
                            json_pack("[{s:s,s:s}]", "value", p->phone, "type", "mobile"));

    json_t *ent = json_object();
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)p->number);
    json_object_set_new(ent, "employeeNumber", json_string(num));
    if (af && af->org_unit[0]) {
        char org[CODE_BUFSZ];
        tn_strlcpy(org, af->org_unit, sizeof org);
        char *slash = strchr(org, '/');
        if (slash)
            *slash = '\0';
        json_object_set_new(ent, "organization", json_string(org));
        json_object_set_new(ent, "department", json_string(af->org_unit));
    }
    if (af && af->manager_id[0]) {
        char ref[640];
        snprintf(ref, sizeof ref, "%s/Users/%s", base_url ? base_url : "", af->manager_id);
        json_object_set_new(ent, "manager",
                            json_pack("{s:s,s:s}", "value", af->manager_id, "$ref", ref));
    }
    json_object_set_new(u, SCIM_ENTERPRISE, ent);

    json_t *fi = json_object();
    json_object_set_new(fi, "identityNumber", json_integer(p->number));
    json_object_set_new(fi, "lifecycleState", json_string(person_state_name(p->state)));
    if (ac)
        json_object_set_new(fi, "accountState", json_string(account_state_name(ac->state)));
    if (p->birth_date != TN_DATE_NONE)
        json_object_set_new(fi, "birthDate", date_json(p->birth_date));
    if (p->death_date != TN_DATE_NONE)
        json_object_set_new(fi, "deathDate", date_json(p->death_date));
    if (p->legal_hold_until != TN_DATE_NONE)
        json_object_set_new(fi, "legalHoldUntil", date_json(p->legal_hold_until));
    if (ac && ac->closed_on != TN_DATE_NONE)
        json_object_set_new(fi, "accountClosedOn", date_json(ac->closed_on));
    if (af) {
        set_str(fi, "school", af->school);
        set_str(fi, "class", af->class_);
        if (af->teaching_groups[0])
            json_object_set_new(fi, "teachingGroups", groups_array(af->teaching_groups));
    }
    json_t *affs = json_array();
    for (size_t i = 0; i < v->naffs; i++)
        json_array_append_new(affs, aff_json(&v->affs[i]));
    json_object_set_new(fi, "affiliations", affs);
    json_object_set_new(u, SCIM_TUNNUS, fi);

    char created[32], modified[32], etag[48], loc[640];
    iso_time(p->created_at, created);
    iso_time(scim_user_version(v), modified);
    scim_user_etag(v, etag);
    snprintf(loc, sizeof loc, "%s/Users/%s", base_url ? base_url : "", p->id);
    json_object_set_new(u, "meta", json_pack("{s:s,s:s,s:s,s:s,s:s}", "resourceType", "User",
                                             "created", created, "lastModified", modified,
                                             "location", loc, "version", etag));
    return u;
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
