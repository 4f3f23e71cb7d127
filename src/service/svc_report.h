/* svc_report — the registry's reports (AU-4) and the person's own audit
 * report (AU-2).
 *
 * accounts: every account with its owner's attributes and the kind@unit of
 *           each affiliation in force on the date;
 * rights:   the affiliations in force on the date, which are the basis of
 *           all access this release grants (roles and entitlements are not
 *           modelled yet; see docs/audit.md);
 * changes:  the write events of the audit trail over a period, with their
 *           old and new values (secrets never are in them).
 * Reports are for administrators and internal jobs; each person in a
 * report gets a read event, so the person's own report shows who listed
 * them. */
#ifndef SVC_REPORT_H
#define SVC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "service.h"
#include "svc_audit.h"

typedef enum svc_report_kind {
    SVC_REPORT_ACCOUNTS = 0,
    SVC_REPORT_RIGHTS,
    SVC_REPORT_CHANGES,
    SVC_REPORT_MAX
} svc_report_kind;

typedef struct svc_report_query {
    svc_report_kind kind;
    tn_date as_of;        /* accounts, rights; TN_DATE_NONE = svc_today */
    const char *org_unit; /* this unit and the units below it; NULL = all */
    int64_t from_us;      /* changes: from_us <= time < to_us; 0 = open */
    int64_t to_us;
} svc_report_query;

/* "accounts", "rights", "changes"; false if unknown. */
bool svc_report_parse(const char *name, svc_report_kind *out);
const char *svc_report_name(svc_report_kind k);
/* The column names of a report, in the order of the row callback. */
const char *const *svc_report_columns(svc_report_kind k, size_t *n);

/* One row; cols[i] belongs to column i. Non-zero return stops. */
typedef int (*svc_report_cb)(const char *const *cols, size_t n, void *ctx);
tn_code svc_report(svc *s, const svc_actor *a, const svc_report_query *q, svc_report_cb cb,
                   void *ctx, tn_err *e);

/* The person's own view of the audit trail (AU-2) for the self-service
 * APIs: who read or changed the data of the person acting (a->kind must be
 * SVC_ACTOR_PERSON with a->id their person id), from_us <= time < to_us. */
tn_code svc_audit_self(svc *s, const svc_actor *a, int64_t from_us, int64_t to_us,
                       svc_audit_cb cb, void *ctx, tn_err *e);

#endif
