/* api_json — JSON renderings of domain objects for the admin REST API.
 * Field names follow the CLI's --json output (src/cli/cli_out.c), so a
 * script moving from `tunnus --json` to the API reads the same keys. The
 * national ID is never rendered: a person carries has_national_id only
 * (revealing it is svc_person_reveal_nid, which the API does not offer).
 *
 * Every function returns a new reference the caller owns. */
#ifndef API_JSON_H
#define API_JSON_H

#include <jansson.h>

#include "model.h"
#include "service.h"
#include "svc_audit.h"
#include "svc_lifecycle.h"
#include "svc_role.h"

json_t *aj_date(tn_date d);
/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" of µs UTC; null for 0. */
json_t *aj_time(int64_t us);
json_t *aj_person(const person *p);
json_t *aj_affiliation(const affiliation *a);
json_t *aj_account(const account *a);
json_t *aj_unit(const org_unit *u);
json_t *aj_person_view(const svc_person_view *v);
json_t *aj_forecast(const svc_lc_forecast *f);
json_t *aj_handovers(const svc_lc_handover *h, size_t n);
json_t *aj_event(const svc_audit_event *ev);
json_t *aj_check(const svc_audit_check *c);
json_t *aj_grant(const svc_role_grant *g);
json_t *aj_error_report(const svc_error_report *r);
json_t *aj_import_run(const svc_import_record *r);
json_t *aj_review(const svc_review_entry *r);

#endif
