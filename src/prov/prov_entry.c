/* The entry a target should hold for a person: selection, lifecycle
 * state and the attribute templates of the target's map. */
#include <stdio.h>
#include <string.h>

#include "prov.h"
#include "tn_str.h"

const char *prov_want_name(prov_want w)
{
    static const char *const n[] = {"skip", "present", "disabled", "absent"};
    return (unsigned)w < sizeof n / sizeof n[0] ? n[w] : "?";
}

/* Whether a comma-separated list holds item (an empty list holds all). */
static bool list_has(const char *list, const char *item, bool prefix_path)
{
    if (!list[0])
        return true;
    const char *cur = list, *p;
    size_t n;
    while (tn_list_next(&cur, &p, &n)) {
        if (strlen(item) == n && strncmp(item, p, n) == 0)
            return true;
        /* An org unit code is a '/'-path: a unit covers its subtree. */
        if (prefix_path && strncmp(item, p, n) == 0 && item[n] == '/')
            return true;
    }
    return false;
}

static bool aff_selected(const conf_target *t, const affiliation *a)
{
    return list_has(t->kinds, a->kind, false) && (!t->units[0] ||
                                                 (a->org_unit[0] && list_has(t->units, a->org_unit, true)));
}

static bool aff_in_force(const affiliation *a, tn_date today)
{
    return a->valid_from <= today && (a->valid_to == TN_DATE_NONE || a->valid_to >= today);
}

/* The affiliation the single-valued variables ({kind}, {unit}, {title})
 * come from: a selected one in force, else the selected one that ended last. */
static const affiliation *main_aff(const conf_target *t, const svc_prov_subject *x, tn_date today)
{
    const affiliation *best = NULL;
    for (size_t i = 0; i < x->naffs; i++) {
        const affiliation *a = &x->affs[i];
        if (t && !aff_selected(t, a))
            continue;
        if (aff_in_force(a, today)) {
            if (!best || !aff_in_force(best, today) || a->valid_from < best->valid_from)
                best = a;
        } else if (!best || (!aff_in_force(best, today) && a->valid_to > best->valid_to)) {
            best = a;
        }
    }
    return best;
}

static void first_word(const char *s, char *out, size_t cap)
{
    size_t n = strcspn(s, " ");
    tn_strlcpyn(out, s, n, cap);
}

/* The value of one variable; "" when the person has none. NULL: unknown. */
static const char *var(const char *name, size_t n, const svc_prov_subject *x, tn_date today,
                       const conf_target *t, char *buf, size_t cap)
{
#define IS(s) (n == sizeof(s) - 1 && strncmp(name, s, n) == 0)
    const person *p = &x->p;
    buf[0] = '\0';
    if (IS("uid") || IS("username"))
        return x->has_account ? x->acct.username : "";
    if (IS("mail"))
        return x->has_account ? x->acct.email : "";
    if (IS("email"))
        return p->email;
    if (IS("given_names") || IS("given_name"))
        return p->given_names;
    if (IS("first_name")) {
        first_word(p->given_names, buf, cap);
        return buf;
    }
    if (IS("family_name"))
        return p->family_name;
    if (IS("preferred_name")) {
        if (p->preferred_name[0])
            return p->preferred_name;
        first_word(p->given_names, buf, cap);
        return buf;
    }
    if (IS("display_name")) {
        char first[NAME_BUFSZ];
        first_word(p->given_names, first, sizeof first);
        const char *pre = p->preferred_name[0] ? p->preferred_name : first;
        if (pre[0] && p->family_name[0] &&
            (size_t)snprintf(buf, cap, "%s %s", pre, p->family_name) >= cap)
            buf[0] = '\0';
        return buf;
    }
    if (IS("phone"))
        return p->phone;
    if (IS("language"))
        return p->language;
    if (IS("number")) {
        if (x->exists)
            snprintf(buf, cap, "%lld", (long long)p->number);
        return buf;
    }
    if (IS("person_id"))
        return x->person_id;
    if (IS("state"))
        return x->has_account ? account_state_name(x->acct.state) : "";
    if (IS("person_state"))
        return x->exists ? person_state_name(p->state) : "";
    if (IS("handover_uid"))
        return x->handover_uid;
    if (IS("kind") || IS("unit") || IS("title") || IS("school") || IS("class")) {
        const affiliation *a = main_aff(t, x, today);
        if (!a)
            return "";
        if (IS("kind"))
            return a->kind;
        if (IS("unit"))
            return a->org_unit;
        if (IS("title"))
            return a->title;
        if (IS("school"))
            return a->school;
        return a->class_;
    }
#undef IS
    return NULL;
}

static bool expand(const char *tmpl, const svc_prov_subject *x, tn_date today,
                   const conf_target *t, char *out, size_t cap, bool *bad)
{
    size_t o = 0;
    bool ok = true;
    *bad = false;
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (!end) {
                *bad = true;
                return false;
            }
            char buf[PROV_VAL_MAX];
            const char *v = var(p + 1, (size_t)(end - p - 1), x, today, t, buf, sizeof buf);
            if (!v) {
                *bad = true;
                return false;
            }
            if (!v[0])
                ok = false;
            size_t n = strlen(v);
            if (o + n >= cap)
                return false;
            memcpy(out + o, v, n);
            o += n;
            p = end + 1;
        } else {
            if (o + 1 >= cap)
                return false;
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return ok;
}

bool prov_expand(const char *tmpl, const svc_prov_subject *x, tn_date today, char *out,
                 size_t cap, bool *bad)
{
    return expand(tmpl, x, today, NULL, out, cap, bad);
}

tn_code prov_target_check(const conf_target *t, tn_err *e)
{
    svc_prov_subject x;
    memset(&x, 0, sizeof x);
    for (unsigned i = 0; i < t->nmap; i++) {
        char buf[PROV_VAL_MAX];
        bool bad = false;
        const char *m = t->map[i].tmpl;
        if (strcmp(m, "{kinds}") == 0 || strcmp(m, "{units}") == 0)
            continue;
        expand(m, &x, 0, t, buf, sizeof buf, &bad);
        if (bad)
            return tn_err_set(e, TN_EINVAL, t->map[i].attr,
                              "[target %s] map.%s: unknown variable or unclosed brace in \"%s\"",
                              t->name, t->map[i].attr, m);
    }
    return TN_OK;
}

static void add_attr(prov_entry *out, const char *name, const char *value)
{
    if (out->nattrs == PROV_ATTRS_MAX)
        return;
    /* The same value twice is one value. */
    for (size_t i = 0; i < out->nattrs; i++)
        if (strcasecmp(out->attrs[i].name, name) == 0 && strcmp(out->attrs[i].value, value) == 0)
            return;
    tn_strlcpy(out->attrs[out->nattrs].name, name, sizeof out->attrs[0].name);
    tn_strlcpy(out->attrs[out->nattrs].value, value, sizeof out->attrs[0].value);
    out->nattrs++;
}

bool prov_dn_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; in[i]; i++) {
        char c = in[i];
        bool esc = strchr(",+\"\\<>;=", c) != NULL || (i == 0 && (c == ' ' || c == '#')) ||
                   (in[i + 1] == '\0' && c == ' ');
        if (o + (esc ? 2 : 1) >= cap) {
            if (cap)
                out[0] = '\0';
            return false;
        }
        if (esc)
            out[o++] = '\\';
        out[o++] = c;
    }
    if (cap)
        out[o] = '\0';
    return cap > 0;
}

bool prov_group_name(const char *prefix, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s", prefix, name);
    return n >= 0 && (size_t)n < cap;
}

static void add_group(prov_entry *out, const char *name)
{
    for (size_t g = 0; g < out->ngroups; g++)
        if (strcmp(out->groups[g], name) == 0)
            return;
    tn_strlcpy(out->groups[out->ngroups++], name, PROV_GROUP_NAME_MAX);
}

/* The groups of the selected affiliations in force: per kind and/or per
 * org unit (t->groups). A unit group is named as the built-in directory
 * names it (unit-sivistys-perusopetus: docs/ldap.md), so one group has
 * one name in tunnus's directory and in every target. It has the
 * affiliation's own unit only, not its parents (as there, and as an AD or
 * OpenLDAP group of an OU holds that OU's people; a group of a subtree is
 * the directory's business: nesting, dynamic groups). */
static tn_code entry_groups(const conf_target *t, const svc_prov_subject *x, tn_date today,
                            const char *prefix, prov_entry *out, tn_err *e)
{
    for (size_t k = 0; k < x->naffs; k++) {
        const affiliation *a = &x->affs[k];
        if (!aff_selected(t, a) || !aff_in_force(a, today))
            continue;
        /* The families in a fixed order: the kind, then the groups the
         * directory names (docs/ldap.md), each when the affiliation has
         * that key (a class needs its school). */
        const struct {
            bool on, has;
            const char *cn, *what;
        } fam[] = {
            {t->group_kinds, a->kind[0] != '\0', a->kind, "kind"},
            {t->group_units, a->org_unit[0] != '\0', x->unit_cns ? x->unit_cns[k] : "",
             "org unit"},
            {t->group_schools, a->school[0] != '\0', x->school_cns ? x->school_cns[k] : "",
             "school"},
            {t->group_classes, a->school[0] && a->class_[0], x->class_cns ? x->class_cns[k] : "",
             "class"},
        };
        for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
            if (!fam[f].on || !fam[f].has)
                continue;
            const char *v = fam[f].cn;
            /* A key without its directory group cannot be: the triggers
             * that record units and affiliations make it. Refused rather
             * than left out. */
            if (!v[0])
                return tn_err_set(e, TN_EINVAL, "groups", "[target %s] a %s has no directory group",
                                  t->name, fam[f].what);
            char name[PROV_GROUP_NAME_MAX];
            if (!prov_group_name(prefix, v, name, sizeof name))
                return tn_err_set(e, TN_EINVAL, "groups", "[target %s] a group name is too long",
                                  t->name);
            if (out->ngroups == PROV_GROUPS_MAX) {
                bool dup = false;
                for (size_t g = 0; g < out->ngroups; g++)
                    dup |= strcmp(out->groups[g], name) == 0;
                if (!dup)
                    return tn_err_set(e, TN_EINVAL, "groups",
                                      "[target %s] more than %d groups for one person", t->name,
                                      PROV_GROUPS_MAX);
                continue;
            }
            add_group(out, name);
        }
    }
    return TN_OK;
}

tn_code prov_entry_build(const conf_target *t, const svc_prov_subject *x, tn_date today,
                         prov_entry *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    bool ldap = strcmp(t->type, "file") != 0;
    bool live = x->has_resource && strcmp(x->resource_state, "deleted") != 0;
    bool selected = false, active_selected = false;
    for (size_t i = 0; i < x->naffs; i++)
        if (aff_selected(t, &x->affs[i])) {
            selected = true;
            if (aff_in_force(&x->affs[i], today))
                active_selected = true;
        }
    (void)active_selected;
    /* What the lifecycle says. */
    prov_want w;
    if (!x->exists || x->p.state == PSTATE_ERASED || (ldap && !x->has_account)) {
        w = PROV_ABSENT;
    } else if (x->purged) {
        w = strcmp(t->on_purge, "keep") == 0 ? PROV_SKIP : PROV_ABSENT;
    } else {
        bool enabled = x->has_account ? (x->acct.state == ASTATE_ACTIVE ||
                                         x->acct.state == ASTATE_GRACE)
                                      : (x->p.state == PSTATE_ACTIVE || x->p.state == PSTATE_GRACE);
        bool closed = x->has_account ? (x->acct.state == ASTATE_CLOSED ||
                                        x->acct.state == ASTATE_LOCKED)
                                     : (x->p.state == PSTATE_CLOSED ||
                                        x->p.state == PSTATE_ARCHIVED);
        if (enabled && selected) {
            w = PROV_PRESENT;
        } else if (enabled) {
            /* Out of the target's selection (a change of kind or unit). */
            w = PROV_ABSENT;
        } else if (closed) {
            if (strcmp(t->on_close, "delete") == 0)
                w = PROV_ABSENT;
            else if (!live || strcmp(t->on_close, "keep") == 0)
                w = PROV_SKIP; /* never create an entry only to close it */
            else if (strcmp(t->on_close, "move") == 0)
                w = PROV_PRESENT;
            else
                w = PROV_DISABLED;
        } else {
            w = PROV_SKIP; /* pending: activation creates */
        }
    }
    if (w == PROV_ABSENT && !live) {
        out->want = PROV_SKIP;
        return TN_OK;
    }
    out->want = w;
    bool moved = w == PROV_PRESENT && x->has_account &&
                 (x->acct.state == ASTATE_CLOSED || x->acct.state == ASTATE_LOCKED);
    if (w == PROV_ABSENT || w == PROV_SKIP) {
        if (live)
            tn_strlcpy(out->id, x->resource_id, sizeof out->id);
        return TN_OK;
    }
    for (unsigned i = 0; i < t->nmap; i++) {
        const char *m = t->map[i].tmpl;
        if (strcmp(m, "{kinds}") == 0 || strcmp(m, "{units}") == 0) {
            bool kinds = m[1] == 'k';
            for (size_t k = 0; k < x->naffs; k++) {
                const affiliation *a = &x->affs[k];
                if (!aff_selected(t, a) || !aff_in_force(a, today))
                    continue;
                const char *v = kinds ? a->kind : a->org_unit;
                if (v[0])
                    add_attr(out, t->map[i].attr, v);
            }
            continue;
        }
        char buf[PROV_VAL_MAX];
        bool bad = false;
        if (expand(m, x, today, t, buf, sizeof buf, &bad))
            add_attr(out, t->map[i].attr, buf);
        else if (bad)
            return tn_err_set(e, TN_EINVAL, t->map[i].attr, "[target %s] map.%s: bad template",
                              t->name, t->map[i].attr);
    }
    bool scim = strcmp(t->type, "scim") == 0;
    /* A SCIM resource says it with active = false (the connector). */
    if (w == PROV_DISABLED && !scim)
        add_attr(out, t->disable_attr, t->disable_value);
    if (scim) {
        /* Like a directory's groups: an enabled entry only. A disabled
         * account keeps no access that a group grants. */
        tn_code rc;
        if (w == PROV_PRESENT && t->groups[0] &&
            (rc = entry_groups(t, x, today, t->group_prefix, out, e)) != TN_OK)
            return rc;
        tn_strlcpy(out->id, x->acct.username, sizeof out->id);
        tn_strlcpy(out->rdn_value, x->acct.username, sizeof out->rdn_value);
    } else if (ldap) {
        tn_strlcpy(out->rdn_value, x->acct.username, sizeof out->rdn_value);
        char esc[PROV_VAL_MAX * 2];
        prov_dn_escape(x->acct.username, esc, sizeof esc);
        if ((size_t)snprintf(out->id, sizeof out->id, "%s=%s,%s", t->rdn_attr, esc,
                             moved ? t->closed_base : t->base) >= sizeof out->id)
            return tn_err_set(e, TN_EINVAL, "dn", "[target %s] the entry's DN is too long",
                              t->name);
        /* The RDN's value is an attribute of the entry. */
        add_attr(out, t->rdn_attr, x->acct.username);
        tn_code rc;
        if (w == PROV_PRESENT && !moved && t->group_base[0] && t->groups[0] &&
            (rc = entry_groups(t, x, today, "", out, e)) != TN_OK)
            return rc;
    } else {
        snprintf(out->id, sizeof out->id, "%lld", (long long)x->p.number);
    }
    return TN_OK;
}
