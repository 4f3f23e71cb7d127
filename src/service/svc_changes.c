/* Change records for audit events: the names of the attributes a call
 * changed, and a JSON object mapping each name to [old, new] (null where
 * there was or is no value). Sensitive attributes are recorded by name and
 * "(set)" only, never by value. The pair form keeps an event that creates a
 * person with a relationship and an account under half a kilobyte. */
#include <stdio.h>
#include <string.h>

#include "svc_internal.h"
#include "tn_json.h"
#include "tn_str.h"

#define CHANGES_MAX (64 * 1024)

void svc_changes_init(svc_changes *c)
{
    tn_buf_init(&c->json, CHANGES_MAX);
    tn_buf_init(&c->names, 4096);
    /* Typical sizes: an enrolment's or an imported row's record. */
    tn_buf_reserve(&c->json, 1024);
    tn_buf_reserve(&c->names, 512);
    tn_buf_putc(&c->json, '{');
    c->prefix = NULL;
}

void svc_changes_free(svc_changes *c)
{
    tn_buf_free(&c->json);
    tn_buf_free(&c->names);
}

void svc_changes_add(svc_changes *c, const char *attr, const char *old, const char *new_)
{
    char key[128];
    if (c->prefix) {
        /* Two copies, not snprintf: this runs for every attribute of every
         * write, and formatting was a tenth of an enrolment's own work. */
        size_t n = strlen(c->prefix);
        tn_strlcpyn(key, c->prefix, n, sizeof key);
        if (n < sizeof key - 1)
            tn_strlcpy(key + n, attr, sizeof key - n);
        attr = key;
    }
    if (c->names.len)
        tn_buf_putc(&c->names, ',');
    tn_buf_puts(&c->names, attr);
    tn_json_key(&c->json, attr);
    tn_buf_putc(&c->json, '[');
    tn_json_str(&c->json, old);
    tn_buf_putc(&c->json, ',');
    tn_json_str(&c->json, new_);
    tn_buf_putc(&c->json, ']');
}

void svc_changes_add_secret(svc_changes *c, const char *attr, bool had, bool has)
{
    svc_changes_add(c, attr, had ? "(set)" : NULL, has ? "(set)" : NULL);
}

void svc_changes_add_date(svc_changes *c, const char *attr, tn_date old, tn_date new_)
{
    char a[DATE_ISO_LEN], b[DATE_ISO_LEN];
    svc_changes_add(c, attr, old == TN_DATE_NONE ? NULL : date_format(old, a),
                    new_ == TN_DATE_NONE ? NULL : date_format(new_, b));
}

void svc_changes_add_i64(svc_changes *c, const char *attr, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    svc_changes_add(c, attr, NULL, buf);
}

bool svc_changes_empty(const svc_changes *c)
{
    return c->names.len == 0;
}

tn_code svc_changes_write(svc *s, const svc_actor *a, const char *action, const char *subject_id,
                          svc_changes *c, tn_err *e)
{
    tn_buf_putc(&c->json, '}');
    if (c->json.toobig || c->names.toobig)
        return tn_err_set(e, TN_EINVAL, NULL, "change record larger than %d bytes", CHANGES_MAX);
    store_audit_row r;
    svc_audit_row(&r, a, action, subject_id, c->names.data ? c->names.data : "", "allowed");
    r.changes = c->json.data;
    tn_code rc = audit_write(s->au, &r, e);
    /* Provisioning (docs/provisioning.md): every change to a person is an
     * intent "sync this person" for every target, in the same
     * transaction. The lifecycle engine writes its own rows. */
    if (rc == TN_OK && subject_id && subject_id[0] && !svc_changes_empty(c) &&
        strncmp(action, "lifecycle.", 10) != 0)
        rc = store_lc_outbox_add(s->st, "*", subject_id, action, "{}", audit_now_us(), e);
    return rc;
}
