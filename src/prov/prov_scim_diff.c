/* The pure part of a SCIM target's groups (prov_scim_diff.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prov_scim_diff.h"

static bool has_name(const char (*v)[PROV_GROUP_NAME_MAX], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i], name) == 0)
            return true;
    return false;
}

void prov_group_diff(const char (*have)[PROV_GROUP_NAME_MAX], size_t nhave,
                     const char (*want)[PROV_GROUP_NAME_MAX], size_t nwant, prov_group_delta *d)
{
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < nwant && d->njoin < PROV_GROUPS_MAX; i++)
        if (!has_name(have, nhave, want[i]) && !has_name(want, i, want[i]))
            d->join[d->njoin++] = i;
    for (size_t i = 0; i < nhave && d->nleave < PROV_GROUPS_MAX; i++)
        if (!has_name(want, nwant, have[i]) && !has_name(have, i, have[i]))
            d->leave[d->nleave++] = i;
}

bool prov_scim_eq_filter(const char *attr, const char *value, char *out, size_t cap)
{
    /* attr, ` eq "`, the value, `"` and the NUL */
    size_t n = strlen(attr), o;
    if (n + 7 > cap)
        goto toolong;
    memcpy(out, attr, n);
    memcpy(out + n, " eq \"", 5);
    o = n + 5;
    for (const char *p = value; *p; p++) {
        bool esc = *p == '"' || *p == '\\';
        if (o + (esc ? 2 : 1) + 2 > cap)
            goto toolong;
        if (esc)
            out[o++] = '\\';
        out[o++] = *p;
    }
    out[o++] = '"';
    out[o] = '\0';
    return true;
toolong:
    if (cap)
        out[0] = '\0';
    return false;
}

json_t *prov_scim_members_patch(const char *const *add, size_t nadd, const char *const *remove,
                                size_t nremove)
{
    if (!nadd && !nremove)
        return NULL;
    json_t *ops = json_array();
    for (size_t i = 0; i < nremove; i++) {
        char f[600], path[640];
        /* An id that does not fit the filter cannot be ours (ids are
         * at most 511 bytes): leave it out rather than send a bad path. */
        if (!prov_scim_eq_filter("value", remove[i], f, sizeof f))
            continue;
        snprintf(path, sizeof path, "members[%s]", f);
        json_array_append_new(ops, json_pack("{s:s,s:s}", "op", "remove", "path", path));
    }
    if (nadd) {
        json_t *vals = json_array();
        for (size_t i = 0; i < nadd; i++)
            json_array_append_new(vals, json_pack("{s:s}", "value", add[i]));
        json_array_append_new(ops, json_pack("{s:s,s:s,s:o}", "op", "add", "path", "members",
                                             "value", vals));
    }
    return json_pack("{s:[s],s:o}", "schemas", "urn:ietf:params:scim:api:messages:2.0:PatchOp",
                     "Operations", ops);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void prov_member_drift(const char **want, size_t nwant, const char **have, size_t nhave,
                       prov_member_drift_cb cb, void *ctx)
{
    if (nwant)
        qsort(want, nwant, sizeof *want, cmp_str);
    if (nhave)
        qsort(have, nhave, sizeof *have, cmp_str);
    size_t i = 0, k = 0;
    while (i < nwant || k < nhave) {
        int c = i == nwant ? 1 : k == nhave ? -1 : strcmp(want[i], have[k]);
        const char *id = c <= 0 ? want[i] : have[k];
        if (c < 0)
            cb(id, true, ctx);
        else if (c > 0)
            cb(id, false, ctx);
        /* Step past every copy of id on both sides. */
        while (i < nwant && strcmp(want[i], id) == 0)
            i++;
        while (k < nhave && strcmp(have[k], id) == 0)
            k++;
    }
}
