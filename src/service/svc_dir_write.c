/* Directory writes: the attributes a bound identity may change through an
 * LDAP modify, mapped onto a person update so that validation, access and
 * audit are the registry's own (REG-5). */
#include "svc_dir.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "svc_internal.h"
#include "tn_str.h"

/* Directory name -> the person_input field it writes. Only the contact
 * attributes a person may edit themselves: names, the national ID and
 * everything derived from relationships belong to their sources. */
enum { W_PHONE, W_LANGUAGE, W_MAX };
static const char *const writable[W_MAX] = {
    [W_PHONE] = "telephoneNumber",
    [W_LANGUAGE] = "preferredLanguage",
};

static int writable_index(const char *attr)
{
    for (int i = 0; i < W_MAX; i++)
        if (attr && strcasecmp(attr, writable[i]) == 0)
            return i;
    return -1;
}

bool svc_dir_writable(const char *attr)
{
    return writable_index(attr) >= 0;
}

tn_code svc_dir_modify(svc *s, const svc_actor *a, const char *uid, const svc_dir_set *sets,
                       size_t n, tn_err *e)
{
    dir_entry d;
    tn_code rc = store_dir_get(s->st, uid, s->today, &d, e);
    if (rc == TN_OK && d.state != ASTATE_ACTIVE && d.state != ASTATE_GRACE)
        rc = tn_err_set(e, TN_ENOTFOUND, "uid", "no such entry");
    if (rc != TN_OK)
        return rc;

    const char *val[W_MAX] = {NULL};
    for (size_t i = 0; i < n; i++) {
        int w = writable_index(sets[i].attr);
        if (w < 0) {
            char why[160];
            snprintf(why, sizeof why, "attribute %.100s is not writable over the directory",
                     sets[i].attr ? sets[i].attr : "");
            rc = svc_deny(s, a, d.person_id, "dir.modify", why, e);
            tn_err_set(e, rc, sets[i].attr, "%s", why);
            return rc;
        }
        val[w] = sets[i].value ? sets[i].value : "";
    }
    person_input in;
    memset(&in, 0, sizeof in);
    in.phone = val[W_PHONE];
    in.language = val[W_LANGUAGE];
    char sel[8 + UUID_BUFSZ];
    snprintf(sel, sizeof sel, "id:%s", d.person_id);
    /* svc_person_update authorises SVC_OP_PERSON_SELF_EDIT (only these
     * fields are set), validates, and writes one event in one transaction. */
    rc = svc_person_update(s, a, sel, &in, NULL, e);
    if (rc == TN_EINVAL && e->field[0]) {
        /* Name the attribute as the client knows it. */
        const char *dn = strcmp(e->field, "phone") == 0      ? writable[W_PHONE]
                         : strcmp(e->field, "language") == 0 ? writable[W_LANGUAGE]
                                                              : NULL;
        if (dn)
            tn_strlcpy(e->field, dn, sizeof e->field);
    }
    return rc;
}

tn_code svc_dir_refuse(svc *s, const svc_actor *a, const char *action, tn_err *e)
{
    return svc_deny(s, a, NULL, action, "the directory tree is maintained by the registry", e);
}
