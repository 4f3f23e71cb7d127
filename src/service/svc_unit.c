/* Org units: the tree that affiliations point into. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "svc_internal.h"
#include "tn_str.h"

static tn_code audit_unit(svc *s, const svc_actor *a, const org_unit *u, tn_err *e)
{
    svc_changes ch;
    svc_changes_init(&ch);
    svc_changes_add(&ch, "code", NULL, u->code);
    svc_changes_add(&ch, "name", NULL, u->name);
    svc_changes_add(&ch, "parent", NULL, u->parent_code[0] ? u->parent_code : NULL);
    tn_code rc = svc_changes_write(s, a, "orgunit.add", NULL, &ch, e);
    svc_changes_free(&ch);
    return rc;
}

static tn_code insert_unit(svc *s, const svc_actor *a, org_unit *u, tn_err *e)
{
    tn_code rc = svc_tx_begin(s, e);
    if (rc != TN_OK)
        return rc;
    rc = store_unit_insert(s->st, u, e);
    if (rc == TN_OK)
        rc = audit_unit(s, a, u, e);
    return svc_tx_end(s, rc, e);
}

tn_code svc_unit_add(svc *s, const svc_actor *a, const char *code, const char *name,
                     const char *parent_code, org_unit *out, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_UNIT_WRITE, NULL, "orgunit.add", e);
    if (rc != TN_OK)
        return rc;
    if (!code || !*code)
        return tn_err_set(e, TN_EINVAL, "code", "is required");
    if ((rc = model_check_unit_code(code, "code", e)) != TN_OK)
        return rc;
    org_unit u;
    memset(&u, 0, sizeof u);
    tn_strlcpy(u.code, code, sizeof u.code);
    const char *last = strrchr(code, '/');
    const char *nm = name && *name ? name : (last ? last + 1 : code);
    if (!tn_strlcpy(u.name, nm, sizeof u.name))
        return tn_err_set(e, TN_EINVAL, "name", "is too long");
    if ((rc = text_validate(u.name, TEXT_MAX_CHARS, "name", e)) != TN_OK)
        return rc;
    if (parent_code && *parent_code) {
        tn_strlcpy(u.parent_code, parent_code, sizeof u.parent_code);
    } else if (last) {
        /* A path code names its parent. */
        tn_strlcpyn(u.parent_code, code, (size_t)(last - code), sizeof u.parent_code);
    }
    u.created_at = audit_now_us();
    rc = insert_unit(s, a, &u, e);
    if (rc == TN_ENOTFOUND && e)
        tn_err_set(e, TN_ENOTFOUND, "parent", "parent unit %s does not exist", u.parent_code);
    if (rc == TN_OK && out)
        *out = u;
    return rc;
}

tn_code svc_unit_ensure_path(svc *s, const svc_actor *a, const char *code, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_UNIT_WRITE, NULL, "orgunit.add", e);
    if (rc != TN_OK)
        return rc;
    if ((rc = model_check_unit_code(code, "org_unit", e)) != TN_OK)
        return rc;
    org_unit u;
    tn_err ignored;
    if (store_unit_get(s->st, code, &u, &ignored) == TN_OK)
        return TN_OK;
    /* Walk from the root so each parent exists before its child. */
    size_t len = strlen(code);
    for (size_t i = 0; i <= len; i++) {
        if (code[i] != '/' && code[i] != '\0')
            continue;
        char prefix[CODE_BUFSZ];
        tn_strlcpyn(prefix, code, i, sizeof prefix);
        if (store_unit_get(s->st, prefix, &u, &ignored) == TN_OK)
            continue;
        if ((rc = svc_unit_add(s, a, prefix, NULL, NULL, NULL, e)) != TN_OK)
            return rc;
    }
    return TN_OK;
}

tn_code svc_unit_list(svc *s, const svc_actor *a, org_unit **out, size_t *n, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_UNIT_READ, NULL, "orgunit.list", e);
    if (rc != TN_OK)
        return rc;
    return store_unit_list(s->st, out, n, e);
}
