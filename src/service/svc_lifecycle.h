/* svc_lifecycle — the lifecycle use cases: the policy, plan and run over
 * every person, one person's forecast, what a proposed policy would change,
 * and the legal hold (docs/lifecycle.md, docs/policy.md).
 *
 * Like every service function these authorise the actor and write audit.
 * Dates: as_of TN_DATE_NONE means today in the policy's time zone. A run
 * changes each person in a transaction of their own, writing the state
 * change, one audit event per transition and one outbox row per
 * provisioning event together; a run killed half-way leaves every person
 * either before or after their change, and the next run finishes the rest. */
#ifndef SVC_LIFECYCLE_H
#define SVC_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lifecycle.h"
#include "policy.h"
#include "service.h"

/* ---- policy --------------------------------------------------------------- */

/* Parse, validate against the kinds in use and store text as the next
 * policy version. On any failure nothing is stored and the previous policy
 * stays in force. */
tn_code svc_policy_apply(svc *s, const svc_actor *a, const char *text, size_t len,
                         int64_t *version_out, tn_err *e);
/* The policy in force; TN_ENOTFOUND when none was applied. */
tn_code svc_policy_show(svc *s, const svc_actor *a, policy *out, int64_t *version, tn_err *e);

/* ---- plan and run --------------------------------------------------------- */

typedef enum lc_transition {
    LC_T_HOLD_EXPIRE = 0, /* a legal hold ran out */
    LC_T_HANDOVER_END,    /* a handover window is over: the manager's access ends and
                             the closed accounts are sealed (LC-8) */
    LC_T_ACTIVATE,        /* pending -> active (the account is created if none) */
    LC_T_REOPEN,          /* closed or archived -> active/grace: the same account again */
    LC_T_EXTEND,          /* grace -> active */
    LC_T_GRACE,           /* active -> grace */
    LC_T_CLOSE,           /* -> closed: accounts closed */
    LC_T_ARCHIVE,         /* -> archived: data outside archive_keep deleted */
    LC_T_PURGE,           /* connected systems told to purge */
    LC_T_ERASE,           /* -> erased: a tombstone */
    LC_T_MAX
} lc_transition;

const char *lc_transition_name(lc_transition t);

typedef struct svc_lc_item {
    int64_t number;
    char person_id[UUID_BUFSZ];
    person_state from, to;
    uint32_t transitions; /* bit (1 << lc_transition) per transition */
} svc_lc_item;

typedef struct svc_lc_error {
    int64_t number;
    tn_err err;
} svc_lc_error;

typedef struct svc_lc_report {
    tn_date as_of;
    int64_t policy_version;
    size_t counts[LC_T_MAX];
    size_t persons;          /* persons covered (every person in the registry) */
    size_t evaluated;        /* of them, those the due cache could not prove quiet */
    svc_lc_item *items;      /* persons with at least one transition (listed only) */
    size_t nitems;
    size_t nchanged;         /* persons with at least one transition */
    svc_lc_error *errors;    /* persons that could not be evaluated or changed */
    size_t nerrors;
    int64_t audit_pruned;    /* audit events removed by the retention cut (run only) */
} svc_lc_report;

void svc_lc_report_free(svc_lc_report *r);

/* What a run on as_of would do; changes nothing. With list, out->items
 * names the persons affected, and each of them gets a read audit event
 * (they are shown to the actor); without, only the counts are kept and the
 * plan writes one summary event. */
tn_code svc_lifecycle_plan(svc *s, const svc_actor *a, tn_date as_of, bool list,
                           svc_lc_report *out, tn_err *e);
/* Do it, and record the run. Per-person failures are reported in
 * out->errors (the person is left unchanged) and do not stop the run. */
tn_code svc_lifecycle_run(svc *s, const svc_actor *a, tn_date as_of, svc_lc_report *out,
                          tn_err *e);

/* ---- one person ----------------------------------------------------------- */

#define SVC_LC_HANDOVERS_MAX 8

/* A handover window (LC-8): the grantee (the leaver's manager; "" and 0
 * when none was named) has access to the leaver's resources from `from`
 * through `until`. state: active, expired (the window is over; the
 * leaver's closed accounts are sealed) or returned (the leaver came back
 * within it). */
typedef struct svc_lc_handover {
    char leaver_id[UUID_BUFSZ];
    int64_t leaver_number;
    char grantee_id[UUID_BUFSZ];
    int64_t grantee_number;
    tn_date from, until;
    char state[16];
    tn_date ended_on;
} svc_lc_handover;

typedef struct svc_lc_forecast {
    tn_date as_of;
    int64_t policy_version;
    person p;
    lc_eval ev;
    bool archived;          /* an archive summary exists */
    char kinds[512];        /* of the summary */
    tn_date first_start, last_end, archived_on, purged_on;
    /* The latest handover windows (LC-8) where the person is the leaver
     * or the grantee, oldest first. */
    svc_lc_handover handovers[SVC_LC_HANDOVERS_MAX];
    size_t nhandovers;
} svc_lc_forecast;

tn_code svc_lifecycle_forecast(svc *s, const svc_actor *a, const char *selector, tn_date as_of,
                               svc_lc_forecast *out, tn_err *e);

/* How a proposed policy would move each step compared with the current
 * one: per step, the number of persons for whom it would fall earlier,
 * later, newly (never before) or never (before: on a date). Only steps
 * still to come on as_of under either policy count. */
enum { LC_STEP_CLOSE = 0, LC_STEP_ARCHIVE, LC_STEP_PURGE, LC_STEP_ERASE, LC_STEP_MAX };
const char *lc_step_name(int step);

typedef struct svc_lc_whatif {
    tn_date as_of;
    int64_t policy_version;
    size_t persons;
    size_t earlier[LC_STEP_MAX], later[LC_STEP_MAX], same[LC_STEP_MAX];
    size_t errors;
} svc_lc_whatif;

tn_code svc_lifecycle_whatif(svc *s, const svc_actor *a, const char *text, size_t len,
                             tn_date as_of, svc_lc_whatif *out, tn_err *e);

/* ---- handover (LC-8) ------------------------------------------------------ */

/* The handover windows where the selected person is the leaver or the
 * grantee, oldest first (*out allocated; free it). An audited read. */
tn_code svc_lifecycle_handovers(svc *s, const svc_actor *a, const char *selector,
                                svc_lc_handover **out, size_t *n, tn_err *e);

/* ---- legal hold (LC-10) --------------------------------------------------- */

/* Hold the person's data for days (<= 0: the policy's legal_hold_days)
 * from as_of: archive, purge and erase wait until the hold's last day has
 * passed. Accepted only while the person's account is still valid (state
 * pending, active or grace); TN_ESTATE afterwards. A hold is never
 * shortened by a later one. reason is required and recorded in the audit
 * event only. */
tn_code svc_person_hold(svc *s, const svc_actor *a, const char *selector, int days,
                        const char *reason, tn_date as_of, person *out, tn_err *e);

#endif
