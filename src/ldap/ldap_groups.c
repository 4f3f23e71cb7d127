/* ou=groups entries and memberOf: the attribute mapping of a dir_group
 * (groupOfNames + posixGroup), and member/memberUid, which may have far
 * more values than an ld_vals holds, so they are evaluated and encoded one
 * value at a time from the group's member list. */
#include <stdio.h>
#include <string.h>

#include "ldap_int.h"
#include "tn_str.h"

bool ld_dn_value_norm(const char *v, size_t len, char *out, size_t cap)
{
    return ld_dn_norm(v, len, out, cap);
}

static void put_val(ld_vals *v, const char *s, size_t len)
{
    if (v->n == LD_MAX_VALS || len == 0 || v->used + len + 1 > sizeof v->scratch)
        return;
    char *d = v->scratch + v->used;
    memcpy(d, s, len);
    d[len] = '\0';
    v->used += len + 1;
    v->v[v->n] = d;
    v->len[v->n] = len;
    v->n++;
}

static void put_str(ld_vals *v, const char *s)
{
    put_val(v, s, strlen(s));
}

static void describe(const dir_group *g, char *out, size_t cap)
{
    if (strcmp(g->gtype, "unit") == 0)
        snprintf(out, cap, "Org unit %s: %s", g->v1, g->unit_name);
    else if (strcmp(g->gtype, "kind") == 0)
        snprintf(out, cap, "Affiliation kind %s", g->v1);
    else if (strcmp(g->gtype, "school") == 0)
        snprintf(out, cap, "School %s", g->v1);
    else if (strcmp(g->gtype, "class") == 0)
        snprintf(out, cap, "Class %s, %s", g->v2, g->v1);
    else
        snprintf(out, cap, "Teaching group %s, %s", g->v2, g->v1);
}

void ld_group_values(const ld_view *e, int id, ld_vals *v)
{
    const dir_group *g = e->g;
    char buf[2 * DIR_GROUP_VAL_MAX + 64];
    switch (id) {
    case LD_A_OBJECTCLASS:
        put_str(v, "top");
        put_str(v, "groupOfNames");
        put_str(v, "posixGroup");
        break;
    case LD_A_CN:
        put_str(v, g->cn);
        break;
    case LD_A_DESCRIPTION:
        describe(g, buf, sizeof buf);
        put_str(v, buf);
        break;
    case LD_A_GIDNUMBER:
        snprintf(buf, sizeof buf, "%lld", (long long)g->gid_number);
        put_str(v, buf);
        break;
    case LD_A_MEMBER:
    case LD_A_MEMBERUID: {
        /* The first ones only; filters and output use the whole list. */
        size_t off = 0;
        for (int64_t i = 0; i < g->nmembers && v->n < LD_MAX_VALS; i++) {
            const char *u = g->members + off;
            off += strlen(u) + 1;
            if (id == LD_A_MEMBERUID)
                put_str(v, u);
            else {
                snprintf(buf, sizeof buf, "uid=%s,%s", u, e->t->people_dn);
                put_str(v, buf);
            }
        }
        break;
    }
    case LD_A_STRUCTURALOC:
        put_str(v, "groupOfNames");
        break;
    case LD_A_HASSUBORDINATES:
        put_str(v, "FALSE");
        break;
    case LD_A_SUBSCHEMA:
        put_str(v, "cn=Subschema");
        break;
    default:
        break;
    }
}

void ld_member_of_values(const ld_view *e, ld_vals *v)
{
    char buf[DIR_GROUP_VAL_MAX + CONF_DN_MAX + 32];
    const char *p = e->d->groups;
    while (*p) {
        const char *end = strchr(p, '\x1e');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        int n = snprintf(buf, sizeof buf, "cn=%.*s,%s", (int)l, p, e->t->groups_dn);
        if (n > 0 && (size_t)n < sizeof buf)
            put_val(v, buf, (size_t)n);
        if (!end)
            break;
        p = end + 1;
    }
}

/* The value of member or memberUid for one username. */
static size_t member_value(const ld_view *e, int id, const char *u, char *buf, size_t cap)
{
    int n = id == LD_A_MEMBERUID ? snprintf(buf, cap, "%s", u)
                                 : snprintf(buf, cap, "uid=%s,%s", u, e->t->people_dn);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

ld_tri ld_group_eval_members(const ld_filter *f, const ld_view *e)
{
    const dir_group *g = e->g;
    if (f->kind == LD_F_PRESENT)
        return g->nmembers > 0 ? LD_TRUE : LD_FALSE;
    char buf[USERNAME_BUFSZ + CONF_DN_MAX + 32];
    size_t off = 0;
    for (int64_t i = 0; i < g->nmembers; i++) {
        const char *u = g->members + off;
        off += strlen(u) + 1;
        size_t n = member_value(e, f->attr, u, buf, sizeof buf);
        if (n && ld_filter_match_value(f, buf, n))
            return LD_TRUE;
    }
    return LD_FALSE;
}

bool ld_group_encode_members(BerElement *ber, const ld_view *e, int id, bool types_only)
{
    const dir_group *g = e->g;
    if (g->nmembers == 0)
        return true;
    if (ber_printf(ber, "{s[", ld_attr_get(id)->name) == -1)
        return false;
    char buf[USERNAME_BUFSZ + CONF_DN_MAX + 32];
    size_t off = 0;
    for (int64_t i = 0; i < g->nmembers && !types_only; i++) {
        const char *u = g->members + off;
        off += strlen(u) + 1;
        size_t n = member_value(e, id, u, buf, sizeof buf);
        if (n && ber_printf(ber, "o", buf, (ber_len_t)n) == -1)
            return false;
    }
    return ber_printf(ber, "]}") != -1;
}

static bool cn_term(const ld_filter *f, char *out, size_t cap)
{
    if (f->kind != LD_F_EQ || f->attr != LD_A_CN || f->value.bv_len == 0 ||
        f->value.bv_len >= cap)
        return false;
    /* cn values are stored in lower case (migration 0009); trailing and
     * doubled spaces cannot occur in them, so folding ASCII case suffices. */
    for (size_t i = 0; i < f->value.bv_len; i++) {
        char c = f->value.bv_val[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[f->value.bv_len] = '\0';
    return true;
}

bool ld_filter_cn(const ld_filter *f, char *out, size_t cap)
{
    if (cn_term(f, out, cap))
        return true;
    if (f->kind == LD_F_AND)
        for (const ld_filter *k = f->kid; k; k = k->next)
            if (cn_term(k, out, cap))
                return true;
    return false;
}

bool ld_filter_mentions(const ld_filter *f, int attr)
{
    if (f->kind == LD_F_AND || f->kind == LD_F_OR) {
        for (const ld_filter *k = f->kid; k; k = k->next)
            if (ld_filter_mentions(k, attr))
                return true;
        return false;
    }
    if (f->kind == LD_F_NOT)
        return ld_filter_mentions(f->kid, attr);
    return f->attr == attr;
}
