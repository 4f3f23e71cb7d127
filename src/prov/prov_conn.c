/* The connector of a target: dispatch to its type. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prov_int.h"
#include "tn_str.h"

size_t prov_managed_attrs(const conf_target *t, const char **names, size_t cap)
{
    size_t n = 0;
    const char *cand[CONF_MAP_MAX + 2];
    size_t nc = 0;
    for (unsigned i = 0; i < t->nmap; i++)
        cand[nc++] = t->map[i].attr;
    cand[nc++] = t->disable_attr;
    if (strcmp(t->type, "ldap") == 0)
        cand[nc++] = t->rdn_attr;
    for (size_t i = 0; i < nc && n < cap; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= strcasecmp(names[k], cand[i]) == 0;
        if (!dup)
            names[n++] = cand[i];
    }
    return n;
}

prov_conn *prov_conn_new(const conf_target *t)
{
    prov_conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->t = t;
    if (strcmp(t->type, "ldap") == 0)
        c->ldap = prov_ldap_new(t);
    else if (strcmp(t->type, "file") == 0)
        c->file = prov_file_new(t);
    else if (strcmp(t->type, "scim") == 0)
        c->scim = prov_scim_new(t);
    return c;
}

void prov_conn_free(prov_conn *c)
{
    if (!c)
        return;
    if (c->ldap)
        prov_ldap_free(c->ldap);
    if (c->file)
        prov_file_free(c->file);
    if (c->scim)
        prov_scim_free(c->scim);
    free(c);
}

static prov_result unsupported(const prov_conn *c, char *msg, size_t cap)
{
    snprintf(msg, cap, "target type %s is not supported by this build", c->t->type);
    return PROV_TARGET_DOWN;
}

prov_result prov_conn_open(prov_conn *c, char *msg, size_t cap)
{
    if (c->ldap)
        return prov_ldap_open(c->ldap, msg, cap);
    if (c->file)
        return prov_file_open(c->file, msg, cap);
    if (c->scim)
        return prov_scim_open(c->scim, msg, cap);
    return unsupported(c, msg, cap);
}

prov_result prov_conn_apply(prov_conn *c, const prov_entry *e, const char *old_id,
                            const char *old_state, char *res_id, size_t res_cap,
                            const char **res_state, char *msg, size_t cap)
{
    if (c->ldap)
        return prov_ldap_apply(c->ldap, e, old_id, old_state, res_id, res_cap, res_state, msg,
                               cap);
    if (c->file)
        return prov_file_apply(c->file, e, old_id, res_id, res_cap, res_state, msg, cap);
    if (c->scim)
        return prov_scim_apply(c->scim, e, old_id, old_state, res_id, res_cap, res_state, msg,
                               cap);
    return unsupported(c, msg, cap);
}

prov_result prov_conn_commit(prov_conn *c, char *msg, size_t cap)
{
    if (c->file)
        return prov_file_commit(c->file, msg, cap);
    if (c->ldap)
        return prov_ldap_commit(c->ldap, msg, cap);
    if (c->scim)
        return prov_scim_commit(c->scim, msg, cap);
    return PROV_OK;
}

void prov_conn_abort(prov_conn *c)
{
    if (c->file)
        prov_file_abort(c->file);
    if (c->ldap)
        prov_ldap_abort(c->ldap);
    if (c->scim)
        prov_scim_abort(c->scim);
}

void prov_conn_group_known(prov_conn *c, const char *name, const char *id)
{
    if (c->scim)
        prov_scim_group_known(c->scim, name, id);
}

bool prov_conn_refused(prov_conn *c, const char *res_id, char *msg, size_t cap)
{
    return c->scim && prov_scim_refused(c->scim, res_id, msg, cap);
}

void prov_conn_group_changes(prov_conn *c, prov_group_rec_cb cb, void *ctx)
{
    if (c->scim)
        prov_scim_group_changes(c->scim, cb, ctx);
}

prov_result prov_conn_list(prov_conn *c, prov_seen_cb cb, void *ctx, char *msg, size_t cap)
{
    if (c->ldap)
        return prov_ldap_list(c->ldap, cb, ctx, msg, cap);
    if (c->file)
        return prov_file_list(c->file, cb, ctx, msg, cap);
    if (c->scim)
        return prov_scim_list(c->scim, cb, ctx, msg, cap);
    return unsupported(c, msg, cap);
}
