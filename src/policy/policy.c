/* Parsing, validation and canonical form of the lifecycle policy. */
#include "policy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tn_str.h"

static const char *const attr_names[PATTR_MAX] = {
    [PATTR_IDENTITY_NUMBER] = "identity_number",
    [PATTR_NAME] = "name",
    [PATTR_IDENTITY_DATES] = "identity_dates",
    [PATTR_USERNAMES] = "usernames",
    [PATTR_TERMS_OF_USE] = "terms_of_use",
    [PATTR_MARKETING_PERMISSION] = "marketing_permission",
    [PATTR_AUTHENTICATION_STRENGTH] = "authentication_strength",
    [PATTR_NATIONAL_ID] = "national_id",
    [PATTR_GENDER] = "gender",
    [PATTR_NATIONALITY] = "nationality",
    [PATTR_ORG_EMAIL] = "org_email",
    [PATTR_PREFERRED_NAME] = "preferred_name",
    [PATTR_PERSONAL_EMAIL] = "personal_email",
    [PATTR_PHONE] = "phone",
    [PATTR_BIRTH_DATE] = "birth_date",
    [PATTR_LANGUAGE] = "language",
};

const char *policy_attr_name(policy_attr a)
{
    return (unsigned)a < PATTR_MAX ? attr_names[a] : "unknown";
}

static bool attr_parse(const char *s, policy_attr *out)
{
    for (int i = 0; i < PATTR_MAX; i++)
        if (strcmp(s, attr_names[i]) == 0) {
            *out = (policy_attr)i;
            return true;
        }
    return false;
}

const policy_kind *policy_find_kind(const policy *p, const char *kind)
{
    for (size_t i = 0; i < p->nkinds; i++)
        if (strcmp(p->kinds[i].kind, kind) == 0)
            return &p->kinds[i];
    return NULL;
}

/* A day count: a whole number 0..POLICY_MAX_DAYS. */
static tn_code take_days(json_t *v, const char *field, int *out, tn_err *e)
{
    if (!json_is_integer(v))
        return tn_err_set(e, TN_EINVAL, field, "must be a whole number of days");
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > POLICY_MAX_DAYS)
        return tn_err_set(e, TN_EINVAL, field, "must be 0 to %d days", POLICY_MAX_DAYS);
    *out = (int)n;
    return TN_OK;
}

static tn_code take_kind(const char *name, json_t *o, policy_kind *k, tn_err *e)
{
    char field[128];
    tn_code rc;
    memset(k, 0, sizeof *k);
    snprintf(field, sizeof field, "kinds.%.40s", name);
    if ((rc = model_check_token(name, field, e)) != TN_OK)
        return rc;
    tn_strlcpy(k->kind, name, sizeof k->kind);
    if (!json_is_object(o))
        return tn_err_set(e, TN_EINVAL, field, "must be an object of timers");
    static const char *const keys[] = {"activate_before_days", "close_after_days",
                                       "archive_after_days",   "purge_after_days",
                                       "erase_after_days",     "handover_days"};
    int *slots[] = {&k->activate_before_days, &k->close_after_days, &k->archive_after_days,
                    &k->purge_after_days,     &k->erase_after_days, &k->handover_days};
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        size_t i = 0;
        while (i < 6 && strcmp(key, keys[i]) != 0)
            i++;
        snprintf(field, sizeof field, "kinds.%.40s.%.40s", name, key);
        if (i == 6)
            return tn_err_set(e, TN_EINVAL, field, "unknown timer");
        if ((rc = take_days(v, field, slots[i], e)) != TN_OK)
            return rc;
    }
    for (size_t i = 0; i < 6; i++) {
        if (json_object_get(o, keys[i]))
            continue;
        if (i >= 4) {
            *slots[i] = POLICY_NO_DAYS;
            continue;
        }
        snprintf(field, sizeof field, "kinds.%.40s.%s", name, keys[i]);
        return tn_err_set(e, TN_EINVAL, field, "is required");
    }
    snprintf(field, sizeof field, "kinds.%.40s", name);
    if (k->archive_after_days < k->close_after_days)
        return tn_err_set(e, TN_EINVAL, field,
                          "steps out of order: archive_after_days (%d) is before "
                          "close_after_days (%d)",
                          k->archive_after_days, k->close_after_days);
    if (k->purge_after_days < k->archive_after_days)
        return tn_err_set(e, TN_EINVAL, field,
                          "steps out of order: purge_after_days (%d) is before "
                          "archive_after_days (%d)",
                          k->purge_after_days, k->archive_after_days);
    if (k->erase_after_days != POLICY_NO_DAYS && k->erase_after_days < k->purge_after_days)
        return tn_err_set(e, TN_EINVAL, field,
                          "steps out of order: erase_after_days (%d) is before "
                          "purge_after_days (%d)",
                          k->erase_after_days, k->purge_after_days);
    return TN_OK;
}

/* An IANA zone name, checked for form only ("Area/City", "UTC"); whether
 * the zone exists is a question for the system's tz database. */
static bool tz_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= POLICY_TZ_BUFSZ || s[0] == '/' || strstr(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    return true;
}

static tn_code take_string(json_t *v, const char *field, char *out, size_t cap, tn_err *e)
{
    if (!json_is_string(v))
        return tn_err_set(e, TN_EINVAL, field, "must be a string");
    if (!tn_strlcpy(out, json_string_value(v), cap))
        return tn_err_set(e, TN_EINVAL, field, "is longer than %zu bytes", cap - 1);
    if (strlen(out) != json_string_length(v))
        return tn_err_set(e, TN_EINVAL, field, "must not contain NUL");
    return TN_OK;
}

static tn_code take_keep(json_t *v, uint32_t *out, tn_err *e)
{
    if (!json_is_array(v))
        return tn_err_set(e, TN_EINVAL, "archive_keep", "must be a list of attribute names");
    uint32_t keep = 0;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        policy_attr a;
        if (!json_is_string(x) || !attr_parse(json_string_value(x), &a))
            return tn_err_set(e, TN_EINVAL, "archive_keep",
                              "item %zu is not a known attribute (see docs/policy.md)", i);
        keep |= PATTR_BIT(a);
    }
    for (int a = 0; a < PATTR_MAX; a++)
        if ((PATTR_REQUIRED_KEEP & PATTR_BIT(a)) && !(keep & PATTR_BIT(a)))
            return tn_err_set(e, TN_EINVAL, "archive_keep",
                              "must keep %s: account rows are the permanent reservation of "
                              "usernames and addresses",
                              attr_names[a]);
    *out = keep;
    return TN_OK;
}

static tn_code take_root(json_t *root, policy *p, tn_err *e)
{
    tn_code rc;
    if (!json_is_object(root))
        return tn_err_set(e, TN_EINVAL, NULL, "a policy is a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "name") == 0) {
            rc = take_string(v, "name", p->name, sizeof p->name, e);
        } else if (strcmp(key, "timezone") == 0) {
            rc = take_string(v, "timezone", p->timezone, sizeof p->timezone, e);
            if (rc == TN_OK && !tz_ok(p->timezone))
                rc = tn_err_set(e, TN_EINVAL, "timezone", "is not a time zone name such as "
                                                           "Europe/Helsinki");
        } else if (strcmp(key, "legal_hold_days") == 0) {
            rc = take_days(v, "legal_hold_days", &p->legal_hold_days, e);
            if (rc == TN_OK && p->legal_hold_days == 0)
                rc = tn_err_set(e, TN_EINVAL, "legal_hold_days", "must be at least 1 day");
        } else if (strcmp(key, "audit_retention_days") == 0) {
            rc = take_days(v, "audit_retention_days", &p->audit_retention_days, e);
            if (rc == TN_OK && p->audit_retention_days == 0)
                rc = tn_err_set(e, TN_EINVAL, "audit_retention_days", "must be at least 1 day");
        } else if (strcmp(key, "username_pattern") == 0) {
            rc = take_string(v, "username_pattern", p->username_pattern,
                             sizeof p->username_pattern, e);
            if (rc == TN_OK && (rc = uname_pattern_check(p->username_pattern, e)) != TN_OK &&
                e)
                tn_strlcpy(e->field, "username_pattern", sizeof e->field);
        } else if (strcmp(key, "returning_username") == 0) {
            const char *x = json_is_string(v) ? json_string_value(v) : "";
            rc = TN_OK;
            if (strcmp(x, "new") == 0)
                p->returning_new_username = true;
            else if (strcmp(x, "same") != 0)
                rc = tn_err_set(e, TN_EINVAL, "returning_username", "must be \"same\" or \"new\"");
        } else if (strcmp(key, "archive_keep") == 0) {
            rc = take_keep(v, &p->archive_keep, e);
        } else if (strcmp(key, "kinds") == 0) {
            if (!json_is_object(v) || json_object_size(v) == 0)
                return tn_err_set(e, TN_EINVAL, "kinds", "must be a non-empty object of kinds");
            if (json_object_size(v) > POLICY_MAX_KINDS)
                return tn_err_set(e, TN_EINVAL, "kinds", "at most %d kinds", POLICY_MAX_KINDS);
            const char *kname;
            json_t *kv;
            rc = TN_OK;
            json_object_foreach(v, kname, kv) {
                if ((rc = take_kind(kname, kv, &p->kinds[p->nkinds], e)) != TN_OK)
                    break;
                p->nkinds++;
            }
        } else {
            char field[80];
            snprintf(field, sizeof field, "%.64s", key);
            return tn_err_set(e, TN_EINVAL, field, "unknown policy setting");
        }
        if (rc != TN_OK)
            return rc;
    }
    if (p->nkinds == 0)
        return tn_err_set(e, TN_EINVAL, "kinds", "is required");
    return TN_OK;
}

tn_code policy_parse(const char *text, size_t len, policy *out, tn_err *e)
{
    if (len > POLICY_TEXT_MAX)
        return tn_err_set(e, TN_EINVAL, NULL, "policy is larger than %d bytes", POLICY_TEXT_MAX);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return tn_err_set(e, TN_EINVAL, NULL, "not valid JSON at line %d column %d: %.120s",
                          je.line, je.column, je.text);
    memset(out, 0, sizeof *out);
    out->archive_keep = PATTR_DEFAULT_KEEP;
    out->legal_hold_days = POLICY_DEFAULT_HOLD_DAYS;
    out->audit_retention_days = POLICY_DEFAULT_AUDIT_RETENTION_DAYS;
    tn_strlcpy(out->timezone, POLICY_DEFAULT_TZ, sizeof out->timezone);
    tn_code rc = take_root(root, out, e);
    json_decref(root);
    return rc;
}

char *policy_to_json(const policy *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "timezone", json_string(p->timezone));
    json_object_set_new(o, "legal_hold_days", json_integer(p->legal_hold_days));
    json_object_set_new(o, "audit_retention_days", json_integer(p->audit_retention_days));
    if (p->username_pattern[0])
        json_object_set_new(o, "username_pattern", json_string(p->username_pattern));
    json_object_set_new(o, "returning_username",
                        json_string(p->returning_new_username ? "new" : "same"));
    json_t *keep = json_array();
    for (int a = 0; a < PATTR_MAX; a++)
        if (p->archive_keep & PATTR_BIT(a))
            json_array_append_new(keep, json_string(attr_names[a]));
    json_object_set_new(o, "archive_keep", keep);
    json_t *kinds = json_object();
    for (size_t i = 0; i < p->nkinds; i++) {
        const policy_kind *k = &p->kinds[i];
        json_t *ko = json_object();
        json_object_set_new(ko, "activate_before_days", json_integer(k->activate_before_days));
        json_object_set_new(ko, "close_after_days", json_integer(k->close_after_days));
        json_object_set_new(ko, "archive_after_days", json_integer(k->archive_after_days));
        json_object_set_new(ko, "purge_after_days", json_integer(k->purge_after_days));
        if (k->erase_after_days != POLICY_NO_DAYS)
            json_object_set_new(ko, "erase_after_days", json_integer(k->erase_after_days));
        if (k->handover_days != POLICY_NO_DAYS)
            json_object_set_new(ko, "handover_days", json_integer(k->handover_days));
        json_object_set_new(kinds, k->kind, ko);
    }
    json_object_set_new(o, "kinds", kinds);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
