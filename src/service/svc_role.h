/* svc_role — role grants to persons (AZ-2..4) and the error reports a
 * person files about their own data (PR-4).
 *
 * A grant gives a person one role (svc_role) from valid_from through
 * valid_to (inclusive; open when none) until revoked; a unit_admin grant
 * names the org unit whose subtree it covers. Validity is evaluated when
 * an actor's roles are loaded (svc_actor_load_roles, at every bind or
 * request), so a grant expires by itself without any job. What each role
 * may do is decided in one place (service.c) and documented in
 * docs/access.md. */
#ifndef SVC_ROLE_H
#define SVC_ROLE_H

#include <stdbool.h>
#include <stdint.h>

#include "service.h"

#define SVC_NOTE_MAX 1024 /* reasons, descriptions, resolutions (bytes) */

typedef struct svc_role_grant_input {
    const char *person;     /* person selector */
    const char *role;       /* a role name (svc_role_parse) */
    const char *unit;       /* org-unit code: required for unit_admin, refused otherwise */
    const char *valid_from; /* ISO; NULL or "" = today */
    const char *valid_to;   /* ISO; NULL or "" = open */
    const char *reason;     /* why; optional */
} svc_role_grant_input;

typedef struct svc_role_grant {
    int64_t id;
    char person_id[UUID_BUFSZ];
    int64_t person_number;
    svc_role role;
    char unit[CODE_BUFSZ];
    tn_date valid_from, valid_to; /* valid_to TN_DATE_NONE = open */
    tn_date revoked_on;           /* TN_DATE_NONE = not revoked */
    char granted_by[128];
    char revoked_by[128];
    char reason[SVC_NOTE_MAX + 1];
    const char *status;           /* on svc_today: active, future, expired, revoked */
} svc_role_grant;

/* Grant a role; audited as role.grant on the person. */
tn_code svc_role_grant_add(svc *s, const svc_actor *a, const svc_role_grant_input *in,
                           svc_role_grant *out, tn_err *e);
/* Revoke grant id from today on; audited as role.revoke. TN_ESTATE if it
 * already was. */
tn_code svc_role_revoke(svc *s, const svc_actor *a, int64_t id, svc_role_grant *out, tn_err *e);
typedef int (*svc_role_grant_cb)(const svc_role_grant *g, void *ctx);
/* The grants of the selected person (selector NULL: everybody's), revoked
 * and expired ones included; each person listed gets a read event. */
tn_code svc_role_list(svc *s, const svc_actor *a, const char *selector, svc_role_grant_cb cb,
                      void *ctx, tn_err *e);

/* ---- error reports (PR-4) ------------------------------------------------ */

typedef struct svc_error_report {
    int64_t id;
    char person_id[UUID_BUFSZ];
    int64_t person_number;
    char attribute[64];
    char description[SVC_NOTE_MAX + 1];
    char filed_by[128];
    char channel[16];
    int64_t filed_at;        /* µs UTC */
    char state[16];          /* open, resolved, rejected */
    int64_t resolved_at;     /* 0 while open */
    char resolved_by[128];
    char resolution[SVC_NOTE_MAX + 1];
} svc_error_report;

/* File a report that the selected person's attribute is wrong. attribute
 * is a person attribute name (given_names, family_name, preferred_name,
 * birth_date, email, phone, nationality, language, national_id) or
 * affiliation, account, other. The description (1..1024 bytes) must not
 * contain a national ID: it is shown to the staff who handle the report.
 * Audited as person.error_report (the description's text is not in the
 * event). */
tn_code svc_error_report_file(svc *s, const svc_actor *a, const char *selector,
                              const char *attribute, const char *description,
                              svc_error_report *out, tn_err *e);
typedef int (*svc_error_report_cb)(const svc_error_report *r, void *ctx);
/* Reports about the selected person (selector NULL: everybody's), state
 * NULL = any; each is audited as a read of that person. */
tn_code svc_error_report_list(svc *s, const svc_actor *a, const char *selector,
                              const char *state, svc_error_report_cb cb, void *ctx, tn_err *e);
/* Close an open report as resolved (true) or rejected, with a resolution
 * text; a write on the person the report concerns. */
tn_code svc_error_report_close(svc *s, const svc_actor *a, int64_t id, bool resolved,
                               const char *resolution, svc_error_report *out, tn_err *e);

#endif
