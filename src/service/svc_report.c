/* The AU-4 reports and the person's own audit report (svc_report.h). */
#include "svc_report.h"

#include <stdio.h>
#include <string.h>

#include "svc_internal.h"
#include "tn_str.h"

static const char *const NAMES[SVC_REPORT_MAX] = {"accounts", "rights", "changes"};

/* In the column order of src/store/store_sqlite_report.c. */
static const char *const COLS_ACCOUNTS[] = {
    "person_id", "person_number", "username", "email", "account_state", "created_on",
    "closed_on", "given_names", "family_name", "preferred_name", "person_state",
    "affiliations"};
static const char *const COLS_RIGHTS[] = {
    "person_id", "person_number", "username", "given_names", "family_name", "person_state",
    "kind", "source", "org_unit", "title", "school", "class", "programme", "valid_from",
    "valid_to"};
static const char *const COLS_CHANGES[] = {
    "person_id", "seq", "time_us", "actor_kind", "actor_id", "channel", "action",
    "attributes", "changes", "result", "request_id"};

/* What a row discloses about its person, for the read event. */
static const char *const READ_ATTRS[SVC_REPORT_MAX] = {
    "number,username,email,account_state,given_names,family_name,preferred_name,state,"
    "affiliations",
    "number,username,given_names,family_name,state,affiliations",
    "audit_trail"};

#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

bool svc_report_parse(const char *name, svc_report_kind *out)
{
    for (int k = 0; k < SVC_REPORT_MAX; k++)
        if (name && strcmp(name, NAMES[k]) == 0) {
            *out = (svc_report_kind)k;
            return true;
        }
    return false;
}

const char *svc_report_name(svc_report_kind k)
{
    return (unsigned)k < SVC_REPORT_MAX ? NAMES[k] : "unknown";
}

const char *const *svc_report_columns(svc_report_kind k, size_t *n)
{
    switch (k) {
    case SVC_REPORT_ACCOUNTS:
        *n = COUNT(COLS_ACCOUNTS);
        return COLS_ACCOUNTS;
    case SVC_REPORT_RIGHTS:
        *n = COUNT(COLS_RIGHTS);
        return COLS_RIGHTS;
    case SVC_REPORT_CHANGES:
        *n = COUNT(COLS_CHANGES);
        return COLS_CHANGES;
    case SVC_REPORT_MAX:
        break;
    }
    *n = 0;
    return NULL;
}

struct row_ctx {
    svc *s;
    const svc_actor *a;
    svc_report_kind kind;
    char action[32];
    size_t ncols;
    svc_report_cb cb;
    void *ctx;
    tn_err *e;
    tn_code rc;
};

static int row(const char *const *cols, size_t n, void *vctx)
{
    struct row_ctx *c = vctx;
    if (n != c->ncols) {
        c->rc = tn_err_set(c->e, TN_EINTERNAL, NULL, "report row has %zu columns, want %zu", n,
                           c->ncols);
        return 1;
    }
    /* Listing a person is reading their data: it shows in their report. */
    if (cols[0][0]) {
        store_audit_row r;
        svc_audit_row(&r, c->a, c->action, cols[0], READ_ATTRS[c->kind], "allowed");
        if ((c->rc = audit_read(c->s->au, &r, c->e)) != TN_OK)
            return 1;
    }
    return c->cb(cols, n, c->ctx);
}

tn_code svc_report(svc *s, const svc_actor *a, const svc_report_query *q, svc_report_cb cb,
                   void *ctx, tn_err *e)
{
    if ((unsigned)q->kind >= SVC_REPORT_MAX)
        return tn_err_set(e, TN_EUSAGE, "report", "must be accounts, rights or changes");
    struct row_ctx c = {.s = s, .a = a, .kind = q->kind, .cb = cb, .ctx = ctx, .e = e};
    snprintf(c.action, sizeof c.action, "report.%s", NAMES[q->kind]);
    svc_report_columns(q->kind, &c.ncols);
    tn_code rc = svc_authorize(s, a, SVC_OP_REPORT, NULL, c.action, e);
    if (rc != TN_OK)
        return rc;
    if (q->kind == SVC_REPORT_CHANGES && q->from_us && q->to_us && q->to_us <= q->from_us)
        return tn_err_set(e, TN_EINVAL, "to", "must not be before from");
    const char *unit = q->org_unit && *q->org_unit ? q->org_unit : NULL;
    if (unit) {
        org_unit u;
        if ((rc = store_unit_get(s->st, unit, &u, e)) != TN_OK) {
            if (rc == TN_ENOTFOUND)
                tn_err_set(e, TN_ENOTFOUND, "org_unit", "no organisation unit %s", unit);
            return rc;
        }
    }
    char day[DATE_ISO_LEN];
    date_format(q->as_of == TN_DATE_NONE ? s->today : q->as_of, day);

    /* The report itself is on record with its query, also when it lists
     * nobody. */
    char detail[200];
    if (q->kind == SVC_REPORT_CHANGES)
        snprintf(detail, sizeof detail, "from_us=%lld to_us=%lld org_unit=%.64s",
                 (long long)q->from_us, (long long)q->to_us, unit ? unit : "");
    else
        snprintf(detail, sizeof detail, "as_of=%s org_unit=%.64s", day, unit ? unit : "");
    store_audit_row r;
    svc_audit_row(&r, a, c.action, NULL, "", "allowed");
    r.detail = detail;
    if ((rc = audit_write(s->au, &r, e)) != TN_OK)
        return rc;

    switch (q->kind) {
    case SVC_REPORT_ACCOUNTS:
        rc = store_report_accounts(s->st, day, unit, row, &c, e);
        break;
    case SVC_REPORT_RIGHTS:
        rc = store_report_rights(s->st, day, unit, row, &c, e);
        break;
    case SVC_REPORT_CHANGES:
    case SVC_REPORT_MAX:
        rc = store_report_changes(s->st, q->from_us, q->to_us, unit, row, &c, e);
        break;
    }
    if (rc == TN_OK)
        rc = c.rc;
    return rc;
}

tn_code svc_audit_self(svc *s, const svc_actor *a, int64_t from_us, int64_t to_us,
                       svc_audit_cb cb, void *ctx, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_AUDIT_SELF, a->id, "audit.self", e);
    if (rc != TN_OK)
        return rc;
    char sel[8 + sizeof a->id];
    snprintf(sel, sizeof sel, "id:%s", a->id);
    return svc_audit_subject(s, a, sel, from_us, to_us, cb, ctx, e);
}
