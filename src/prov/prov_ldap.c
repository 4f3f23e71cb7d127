/* The LDAP target through libldap: simple bind (StartTLS if asked), then
 * per person a base search of the entry and the smallest change that
 * makes it what the registry says (add, modify of the managed attributes
 * that differ, rename for a move, delete), and the entry's membership of
 * the groupOfNames entries under group_base. */
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prov_int.h"
#include "tn_str.h"

/* Memberships of entries added in this round, added to each group with
 * one modify at the end of the round: a groupOfNames is one entry, and
 * rewriting it once per member makes an initial load quadratic. */
typedef struct pending_member {
    char group[PROV_GROUP_NAME_MAX]; /* a unit group's cn is longer than a kind */
    char dn[512];
} pending_member;

struct prov_ldap {
    const conf_target *t;
    LDAP *ld;
    pending_member *pend;
    size_t npend, cap;
};

prov_ldap *prov_ldap_new(const conf_target *t)
{
    prov_ldap *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->t = t;
    return l;
}

static void drop(prov_ldap *l)
{
    if (l->ld)
        ldap_unbind_ext_s(l->ld, NULL, NULL);
    l->ld = NULL;
}

void prov_ldap_free(prov_ldap *l)
{
    drop(l);
    free(l->pend);
    free(l);
}

/* Errors that say the directory (not this entry) is the problem. */
static bool is_down(int rc)
{
    return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_UNAVAILABLE ||
           rc == LDAP_BUSY || rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED ||
           rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_STRONG_AUTH_REQUIRED ||
           rc == LDAP_CONFIDENTIALITY_REQUIRED || rc == LDAP_INAPPROPRIATE_AUTH ||
           rc == LDAP_LOCAL_ERROR || rc == LDAP_NO_MEMORY;
}

static prov_result fail(prov_ldap *l, int rc, const char *what, const char *dn, char *msg,
                        size_t cap)
{
    char *diag = NULL;
    if (l->ld)
        ldap_get_option(l->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    snprintf(msg, cap, "%s %s: %s (%d)%s%s", what, dn ? dn : "", ldap_err2string(rc), rc,
             diag && *diag ? ": " : "", diag && *diag ? diag : "");
    ldap_memfree(diag);
    if (is_down(rc)) {
        drop(l);
        return PROV_TARGET_DOWN;
    }
    return PROV_ITEM_FAILED;
}

static bool read_password(const conf_target *t, char *out, size_t cap)
{
    if (!t->bind_password_file[0])
        return tn_strlcpy(out, t->bind_password, cap);
    FILE *f = fopen(t->bind_password_file, "r");
    if (!f)
        return false;
    bool ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

prov_result prov_ldap_open(prov_ldap *l, char *msg, size_t cap)
{
    if (l->ld)
        return PROV_OK;
    int rc = ldap_initialize(&l->ld, l->t->url);
    if (rc != LDAP_SUCCESS) {
        l->ld = NULL;
        snprintf(msg, cap, "%s: %s", l->t->url, ldap_err2string(rc));
        return PROV_TARGET_DOWN;
    }
    int v3 = LDAP_VERSION3;
    ldap_set_option(l->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    struct timeval tv = {5, 0};
    ldap_set_option(l->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(l->ld, LDAP_OPT_TIMEOUT, &tv);
    ldap_set_option(l->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    if (l->t->starttls && (rc = ldap_start_tls_s(l->ld, NULL, NULL)) != LDAP_SUCCESS) {
        fail(l, rc, "StartTLS", l->t->url, msg, cap);
        drop(l);
        return PROV_TARGET_DOWN;
    }
    char pw[256] = "";
    if (l->t->bind_dn[0] && !read_password(l->t, pw, sizeof pw)) {
        snprintf(msg, cap, "%s: cannot read the bind password", l->t->bind_password_file);
        drop(l);
        return PROV_TARGET_DOWN;
    }
    struct berval cred = {strlen(pw), pw};
    rc = ldap_sasl_bind_s(l->ld, l->t->bind_dn[0] ? l->t->bind_dn : NULL, LDAP_SASL_SIMPLE,
                          &cred, NULL, NULL, NULL);
    memset(pw, 0, sizeof pw);
    if (rc != LDAP_SUCCESS) {
        fail(l, rc, "bind", l->t->bind_dn, msg, cap);
        drop(l);
        return PROV_TARGET_DOWN;
    }
    return PROV_OK;
}

/* The values of attribute name in e (pointers into e). */
static size_t want_values(const prov_entry *e, const char *name, char **vals, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nattrs && n < cap; i++)
        if (strcasecmp(e->attrs[i].name, name) == 0)
            vals[n++] = (char *)e->attrs[i].value;
    return n;
}

static prov_result do_add(prov_ldap *l, const prov_entry *e, int *rc_out, char *msg, size_t cap)
{
    const conf_target *t = l->t;
    const char *names[CONF_MAP_MAX + 2];
    size_t nn = prov_managed_attrs(t, names, CONF_MAP_MAX + 2);
    LDAPMod mods[CONF_MAP_MAX + 4], *mp[CONF_MAP_MAX + 5];
    char *vals[CONF_MAP_MAX + 3][PROV_ATTRS_MAX + 1];
    size_t nm = 0;
    /* objectClass from the comma-separated list */
    char oc[256];
    tn_strlcpy(oc, t->object_classes, sizeof oc);
    size_t noc = 0;
    for (char *sv = NULL, *tok = strtok_r(oc, ", ", &sv); tok && noc < PROV_ATTRS_MAX;
         tok = strtok_r(NULL, ", ", &sv))
        vals[nm][noc++] = tok;
    vals[nm][noc] = NULL;
    mods[nm] = (LDAPMod){.mod_op = LDAP_MOD_ADD, .mod_type = "objectClass",
                         .mod_values = vals[nm]};
    nm++;
    for (size_t i = 0; i < nn; i++) {
        size_t nv = want_values(e, names[i], vals[nm], PROV_ATTRS_MAX);
        if (!nv)
            continue;
        vals[nm][nv] = NULL;
        mods[nm] = (LDAPMod){.mod_op = LDAP_MOD_ADD, .mod_type = (char *)names[i],
                             .mod_values = vals[nm]};
        nm++;
    }
    for (size_t i = 0; i < nm; i++)
        mp[i] = &mods[i];
    mp[nm] = NULL;
    int rc = ldap_add_ext_s(l->ld, e->id, mp, NULL, NULL);
    *rc_out = rc;
    if (rc == LDAP_SUCCESS)
        return PROV_OK;
    if (rc == LDAP_ALREADY_EXISTS)
        return PROV_ITEM_FAILED;
    return fail(l, rc, "add", e->id, msg, cap);
}

/* Compare the entry as found with e and replace what differs. */
static prov_result do_modify(prov_ldap *l, const prov_entry *e, LDAPMessage *entry, char *msg,
                             size_t cap)
{
    const conf_target *t = l->t;
    const char *names[CONF_MAP_MAX + 2];
    size_t nn = prov_managed_attrs(t, names, CONF_MAP_MAX + 2);
    LDAPMod mods[CONF_MAP_MAX + 2], *mp[CONF_MAP_MAX + 3];
    char *vals[CONF_MAP_MAX + 2][PROV_ATTRS_MAX + 1];
    size_t nm = 0;
    for (size_t i = 0; i < nn; i++) {
        if (strcasecmp(names[i], t->rdn_attr) == 0)
            continue; /* the RDN is the DN's business */
        size_t nv = want_values(e, names[i], vals[nm], PROV_ATTRS_MAX);
        struct berval **have = ldap_get_values_len(l->ld, entry, names[i]);
        size_t nh = have ? (size_t)ldap_count_values_len(have) : 0;
        bool same = nh == nv;
        for (size_t k = 0; same && k < nv; k++) {
            bool found = false;
            for (size_t h = 0; h < nh && !found; h++)
                found = have[h]->bv_len == strlen(vals[nm][k]) &&
                        memcmp(have[h]->bv_val, vals[nm][k], have[h]->bv_len) == 0;
            same = found;
        }
        ldap_value_free_len(have);
        if (same)
            continue;
        vals[nm][nv] = NULL;
        mods[nm] = (LDAPMod){.mod_op = nv ? LDAP_MOD_REPLACE : LDAP_MOD_DELETE,
                             .mod_type = (char *)names[i], .mod_values = nv ? vals[nm] : NULL};
        nm++;
    }
    if (!nm)
        return PROV_OK;
    for (size_t i = 0; i < nm; i++)
        mp[i] = &mods[i];
    mp[nm] = NULL;
    int rc = ldap_modify_ext_s(l->ld, e->id, mp, NULL, NULL);
    if (rc != LDAP_SUCCESS)
        return fail(l, rc, "modify", e->id, msg, cap);
    return PROV_OK;
}

/* Search one entry by DN; *entry NULL when there is none. */
static prov_result get_entry(prov_ldap *l, const char *dn, LDAPMessage **res, LDAPMessage **entry,
                             char *msg, size_t cap)
{
    const char *names[CONF_MAP_MAX + 2];
    size_t nn = prov_managed_attrs(l->t, names, CONF_MAP_MAX + 2);
    char *attrs[CONF_MAP_MAX + 3];
    for (size_t i = 0; i < nn; i++)
        attrs[i] = (char *)names[i];
    attrs[nn] = NULL;
    *res = NULL;
    *entry = NULL;
    int rc = ldap_search_ext_s(l->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
                               NULL, NULL, 1, res);
    if (rc == LDAP_NO_SUCH_OBJECT) {
        ldap_msgfree(*res);
        *res = NULL;
        return PROV_OK;
    }
    if (rc != LDAP_SUCCESS) {
        ldap_msgfree(*res);
        *res = NULL;
        return fail(l, rc, "search", dn, msg, cap);
    }
    *entry = ldap_first_entry(l->ld, *res);
    return PROV_OK;
}

static prov_result del_entry(prov_ldap *l, const char *dn, char *msg, size_t cap)
{
    int rc = ldap_delete_ext_s(l->ld, dn, NULL, NULL);
    if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT)
        return PROV_OK;
    return fail(l, rc, "delete", dn, msg, cap);
}

/* The DN of the group whose cn is name, the cn RDN-escaped: a kind or a
 * unit group's slug holds no DN special character today, but a name
 * pasted into a DN unescaped would become another DN the day one does.
 * false when it does not fit. */
static bool group_dn(const conf_target *t, const char *name, char *out, size_t cap)
{
    char esc[PROV_GROUP_NAME_MAX * 2];
    if (!prov_dn_escape(name, esc, sizeof esc))
        return false;
    int n = snprintf(out, cap, "cn=%s,%s", esc, t->group_base);
    return n >= 0 && (size_t)n < cap;
}

#define GROUP_DN_MAX (PROV_GROUP_NAME_MAX * 2 + CONF_DN_MAX + 4)

/* Group membership: member of cn=NAME,group_base for each of e->groups,
 * of no other group there. known_new: the entry was just added (it can
 * be in no group yet, so no search is needed). */
static prov_result sync_groups(prov_ldap *l, const char *dn, const prov_entry *e, bool known_new,
                               char *msg, size_t cap)
{
    const conf_target *t = l->t;
    if (!t->group_base[0])
        return PROV_OK;
    size_t ng = e ? e->ngroups : 0;
    bool have[PROV_GROUPS_MAX] = {false};
    if (!known_new) {
        char filter[1200], edn[1100];
        /* RFC 4515 escaping of the DN as an assertion value */
        size_t o = 0;
        for (const char *p = dn; *p && o + 4 < sizeof edn; p++) {
            if (*p == '*' || *p == '(' || *p == ')' || *p == '\\') {
                o += (size_t)snprintf(edn + o, sizeof edn - o, "\\%02x", (unsigned char)*p);
            } else {
                edn[o++] = *p;
            }
        }
        edn[o] = '\0';
        snprintf(filter, sizeof filter, "(&(objectClass=groupOfNames)(member=%s))", edn);
        char *attrs[] = {"cn", NULL};
        LDAPMessage *res = NULL;
        int rc = ldap_search_ext_s(l->ld, t->group_base, LDAP_SCOPE_ONELEVEL, filter, attrs, 0,
                                   NULL, NULL, NULL, 0, &res);
        if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
            ldap_msgfree(res);
            return fail(l, rc, "search groups of", dn, msg, cap);
        }
        for (LDAPMessage *m = res ? ldap_first_entry(l->ld, res) : NULL; m;
             m = ldap_next_entry(l->ld, m)) {
            char *gdn = ldap_get_dn(l->ld, m);
            struct berval **cn = ldap_get_values_len(l->ld, m, "cn");
            bool keep = false;
            for (size_t g = 0; cn && cn[0] && g < ng; g++)
                if (cn[0]->bv_len == strlen(e->groups[g]) &&
                    memcmp(cn[0]->bv_val, e->groups[g], cn[0]->bv_len) == 0)
                    keep = have[g] = true;
            ldap_value_free_len(cn);
            if (!keep && gdn) {
                char *v[] = {(char *)dn, NULL};
                LDAPMod mod = {.mod_op = LDAP_MOD_DELETE, .mod_type = "member", .mod_values = v};
                LDAPMod *mp[] = {&mod, NULL};
                rc = ldap_modify_ext_s(l->ld, gdn, mp, NULL, NULL);
                if (rc == LDAP_OBJECT_CLASS_VIOLATION)
                    rc = ldap_delete_ext_s(l->ld, gdn, NULL, NULL); /* its last member */
                if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_ATTRIBUTE && rc != LDAP_NO_SUCH_OBJECT) {
                    prov_result r = fail(l, rc, "leave group", gdn, msg, cap);
                    ldap_memfree(gdn);
                    ldap_msgfree(res);
                    return r;
                }
            }
            ldap_memfree(gdn);
        }
        ldap_msgfree(res);
    }
    for (size_t g = 0; g < ng; g++) {
        if (have[g])
            continue;
        if (known_new) {
            if (l->npend == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 256;
                l->pend = realloc(l->pend, l->cap * sizeof *l->pend);
                if (!l->pend)
                    abort();
            }
            tn_strlcpy(l->pend[l->npend].group, e->groups[g], sizeof l->pend[0].group);
            tn_strlcpy(l->pend[l->npend].dn, dn, sizeof l->pend[0].dn);
            l->npend++;
            continue;
        }
        char gdn[GROUP_DN_MAX];
        if (!group_dn(t, e->groups[g], gdn, sizeof gdn)) {
            snprintf(msg, cap, "group %s: its DN is too long", e->groups[g]);
            return PROV_ITEM_FAILED;
        }
        char *v[] = {(char *)dn, NULL};
        LDAPMod mod = {.mod_op = LDAP_MOD_ADD, .mod_type = "member", .mod_values = v};
        LDAPMod *mp[] = {&mod, NULL};
        int rc = ldap_modify_ext_s(l->ld, gdn, mp, NULL, NULL);
        if (rc == LDAP_NO_SUCH_OBJECT) {
            char *ocv[] = {"groupOfNames", NULL};
            char *cnv[] = {(char *)e->groups[g], NULL};
            LDAPMod a1 = {.mod_op = LDAP_MOD_ADD, .mod_type = "objectClass", .mod_values = ocv};
            LDAPMod a2 = {.mod_op = LDAP_MOD_ADD, .mod_type = "cn", .mod_values = cnv};
            LDAPMod *ap[] = {&a1, &a2, &mod, NULL};
            rc = ldap_add_ext_s(l->ld, gdn, ap, NULL, NULL);
        }
        if (rc != LDAP_SUCCESS && rc != LDAP_TYPE_OR_VALUE_EXISTS)
            return fail(l, rc, "join group", gdn, msg, cap);
    }
    return PROV_OK;
}

/* The parent of a DN: what follows its first unescaped comma. */
static const char *dn_parent(const char *dn)
{
    for (const char *p = dn; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == ',')
            return p + 1;
    }
    return "";
}

prov_result prov_ldap_apply(prov_ldap *l, const prov_entry *e, const char *old_id,
                            const char *old_state, char *res_id, size_t res_cap,
                            const char **res_state, char *msg, size_t cap)
{
    prov_result r = prov_ldap_open(l, msg, cap);
    if (r != PROV_OK)
        return r;
    bool had = old_id && old_id[0] && old_state && strcmp(old_state, "deleted") != 0;
    if (e->want == PROV_ABSENT) {
        const char *dn = had ? old_id : e->id;
        if ((r = sync_groups(l, dn, NULL, false, msg, cap)) != PROV_OK ||
            (r = del_entry(l, dn, msg, cap)) != PROV_OK)
            return r;
        tn_strlcpy(res_id, dn, res_cap);
        *res_state = "deleted";
        return PROV_OK;
    }
    /* A move (on_close = move, a reopening, a new username): rename. */
    if (had && strcmp(old_id, e->id) != 0) {
        const char *rdn_end = e->id + (dn_parent(e->id) - e->id) - 1;
        char newrdn[PROV_VAL_MAX * 2];
        tn_strlcpyn(newrdn, e->id, (size_t)(rdn_end - e->id), sizeof newrdn);
        const char *parent = dn_parent(e->id);
        int rc = ldap_rename_s(l->ld, old_id, newrdn,
                               strcasecmp(parent, dn_parent(old_id)) ? parent : NULL, 1, NULL,
                               NULL);
        if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT && rc != LDAP_ALREADY_EXISTS)
            return fail(l, rc, "rename", old_id, msg, cap);
        if (rc == LDAP_ALREADY_EXISTS && (r = del_entry(l, old_id, msg, cap)) != PROV_OK)
            return r;
        /* The groups name the old DN. */
        if (rc == LDAP_SUCCESS && (r = sync_groups(l, old_id, NULL, false, msg, cap)) != PROV_OK)
            return r;
    }
    bool added = false;
    if (!had) {
        /* The common case of a first delivery: try the add at once. */
        int rc = 0;
        r = do_add(l, e, &rc, msg, cap);
        if (r == PROV_OK)
            added = true;
        else if (rc != LDAP_ALREADY_EXISTS)
            return r;
    }
    if (!added) {
        LDAPMessage *res = NULL, *entry = NULL;
        if ((r = get_entry(l, e->id, &res, &entry, msg, cap)) != PROV_OK)
            return r;
        if (!entry) {
            ldap_msgfree(res);
            int rc = 0;
            if ((r = do_add(l, e, &rc, msg, cap)) != PROV_OK)
                return r;
            added = true;
        } else {
            r = do_modify(l, e, entry, msg, cap);
            ldap_msgfree(res);
            if (r != PROV_OK)
                return r;
        }
    }
    if ((r = sync_groups(l, e->id, e, added && !had, msg, cap)) != PROV_OK)
        return r;
    tn_strlcpy(res_id, e->id, res_cap);
    *res_state = e->want == PROV_DISABLED ? "disabled" : "present";
    return PROV_OK;
}

/* Add one group's deferred members [from, to) with one modify; the
 * group is created with them if it does not exist. A value already there
 * (a delivery repeated after a crash) fails the whole modify: then one
 * by one. */
static prov_result flush_group(prov_ldap *l, size_t from, size_t to, char *msg, size_t cap)
{
    const char *group = l->pend[from].group;
    char gdn[GROUP_DN_MAX];
    if (!group_dn(l->t, group, gdn, sizeof gdn)) {
        snprintf(msg, cap, "group %s: its DN is too long", group);
        return PROV_ITEM_FAILED;
    }
    size_t n = to - from;
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        abort();
    for (size_t i = 0; i < n; i++)
        v[i] = l->pend[from + i].dn;
    LDAPMod mod = {.mod_op = LDAP_MOD_ADD, .mod_type = "member", .mod_values = v};
    LDAPMod *mp[] = {&mod, NULL};
    int rc = ldap_modify_ext_s(l->ld, gdn, mp, NULL, NULL);
    if (rc == LDAP_NO_SUCH_OBJECT) {
        char *ocv[] = {"groupOfNames", NULL};
        char *cnv[] = {(char *)group, NULL};
        LDAPMod a1 = {.mod_op = LDAP_MOD_ADD, .mod_type = "objectClass", .mod_values = ocv};
        LDAPMod a2 = {.mod_op = LDAP_MOD_ADD, .mod_type = "cn", .mod_values = cnv};
        LDAPMod *ap[] = {&a1, &a2, &mod, NULL};
        rc = ldap_add_ext_s(l->ld, gdn, ap, NULL, NULL);
    }
    for (size_t i = 0; rc == LDAP_TYPE_OR_VALUE_EXISTS && i < n; i++) {
        char *one[] = {v[i], NULL};
        LDAPMod m1 = {.mod_op = LDAP_MOD_ADD, .mod_type = "member", .mod_values = one};
        LDAPMod *m1p[] = {&m1, NULL};
        int r1 = ldap_modify_ext_s(l->ld, gdn, m1p, NULL, NULL);
        if (r1 != LDAP_SUCCESS && r1 != LDAP_TYPE_OR_VALUE_EXISTS)
            rc = r1;
        else if (i == n - 1)
            rc = LDAP_SUCCESS;
    }
    free(v);
    if (rc != LDAP_SUCCESS)
        return fail(l, rc, "join group", gdn, msg, cap);
    return PROV_OK;
}

static int cmp_pend(const void *a, const void *b)
{
    return strcmp(((const pending_member *)a)->group, ((const pending_member *)b)->group);
}

prov_result prov_ldap_commit(prov_ldap *l, char *msg, size_t cap)
{
    prov_result r = PROV_OK;
    if (!l->npend)
        return PROV_OK;
    if (!l->ld) {
        snprintf(msg, cap, "connection lost before the group memberships were added");
        l->npend = 0;
        return PROV_TARGET_DOWN;
    }
    qsort(l->pend, l->npend, sizeof *l->pend, cmp_pend);
    for (size_t i = 0; i < l->npend && r == PROV_OK;) {
        size_t j = i;
        while (j < l->npend && strcmp(l->pend[j].group, l->pend[i].group) == 0)
            j++;
        r = flush_group(l, i, j, msg, cap);
        i = j;
    }
    l->npend = 0;
    /* Memberships not made: the round is not recorded, its entries are
     * delivered again (they exist: the group sync then searches). */
    return r == PROV_OK ? PROV_OK : PROV_TARGET_DOWN;
}

void prov_ldap_abort(prov_ldap *l)
{
    l->npend = 0;
}

prov_result prov_ldap_list(prov_ldap *l, prov_seen_cb cb, void *ctx, char *msg, size_t cap)
{
    prov_result r = prov_ldap_open(l, msg, cap);
    if (r != PROV_OK)
        return r;
    const char *names[CONF_MAP_MAX + 2];
    size_t nn = prov_managed_attrs(l->t, names, CONF_MAP_MAX + 2);
    char *attrs[CONF_MAP_MAX + 3];
    for (size_t i = 0; i < nn; i++)
        attrs[i] = (char *)names[i];
    attrs[nn] = NULL;
    const char *bases[2] = {l->t->base, l->t->closed_base};
    for (int b = 0; b < 2; b++) {
        if (!bases[b][0] || (b == 1 && strcasecmp(bases[0], bases[1]) == 0))
            continue;
        LDAPMessage *res = NULL;
        int rc = ldap_search_ext_s(l->ld, bases[b], LDAP_SCOPE_ONELEVEL, "(objectClass=*)", attrs,
                                   0, NULL, NULL, NULL, 0, &res);
        if (rc == LDAP_NO_SUCH_OBJECT) {
            ldap_msgfree(res);
            continue;
        }
        if (rc != LDAP_SUCCESS) {
            ldap_msgfree(res);
            return fail(l, rc, "search", bases[b], msg, cap);
        }
        int stop = 0;
        for (LDAPMessage *m = ldap_first_entry(l->ld, res); m && !stop;
             m = ldap_next_entry(l->ld, m)) {
            prov_seen s;
            memset(&s, 0, sizeof s);
            char *dn = ldap_get_dn(l->ld, m);
            tn_strlcpy(s.id, dn ? dn : "", sizeof s.id);
            ldap_memfree(dn);
            s.attrs = calloc(PROV_ATTRS_MAX, sizeof *s.attrs);
            for (size_t i = 0; i < nn; i++) {
                struct berval **v = ldap_get_values_len(l->ld, m, names[i]);
                for (int k = 0; v && v[k] && s.nattrs < PROV_ATTRS_MAX; k++) {
                    tn_strlcpy(s.attrs[s.nattrs].name, names[i], sizeof s.attrs[0].name);
                    tn_strlcpyn(s.attrs[s.nattrs].value, v[k]->bv_val, v[k]->bv_len,
                                sizeof s.attrs[0].value);
                    s.nattrs++;
                }
                ldap_value_free_len(v);
            }
            stop = cb(&s, ctx);
            free(s.attrs);
        }
        ldap_msgfree(res);
    }
    return PROV_OK;
}
