/* The OpenAPI 3.1 document of the admin REST API, generated from the
 * route table (api.h) and the schema fragments below: a route cannot be
 * served without being described, nor described without being served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* The shared schemas. Kept as JSON text so that they read like the
 * document they become; parsed once per request of /openapi.json. */
static const char COMPONENTS[] =
    "{"
    "\"Error\":{\"type\":\"object\",\"required\":[\"status\",\"error\"],\"properties\":{"
    "\"status\":{\"type\":\"integer\"},\"error\":{\"type\":\"string\"},"
    "\"detail\":{\"type\":[\"string\",\"null\"]},\"field\":{\"type\":[\"string\",\"null\"]}}},"
    "\"Person\":{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"identity_number\":{\"type\":\"integer\"},"
    "\"state\":{\"type\":\"string\",\"enum\":[\"pending\",\"active\",\"grace\",\"closed\","
    "\"archived\",\"erased\"]},"
    "\"given_names\":{\"type\":\"string\"},\"family_name\":{\"type\":\"string\"},"
    "\"preferred_name\":{\"type\":[\"string\",\"null\"]},\"email\":{\"type\":[\"string\",\"null\"]},"
    "\"phone\":{\"type\":[\"string\",\"null\"]},"
    "\"birth_date\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"},"
    "\"gender\":{\"type\":[\"string\",\"null\"]},\"nationality\":{\"type\":[\"string\",\"null\"]},"
    "\"language\":{\"type\":[\"string\",\"null\"]},\"has_national_id\":{\"type\":\"boolean\"},"
    "\"legal_hold_until\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"},"
    "\"death_date\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"}}},"
    "\"PersonView\":{\"allOf\":[{\"$ref\":\"#/components/schemas/Person\"},{\"type\":\"object\","
    "\"properties\":{\"accounts\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/Account\"}},\"affiliations\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/Affiliation\"}}}}]},"
    "\"PersonPage\":{\"type\":\"object\",\"properties\":{\"persons\":{\"type\":\"array\","
    "\"items\":{\"$ref\":\"#/components/schemas/Person\"}},"
    "\"next_after\":{\"type\":[\"integer\",\"null\"],\"description\":\"pass as after= for the "
    "next page\"}}},"
    "\"PersonInput\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"national_id\":{\"type\":[\"string\",\"null\"],\"writeOnly\":true},"
    "\"given_names\":{\"type\":\"string\"},\"family_name\":{\"type\":\"string\"},"
    "\"preferred_name\":{\"type\":[\"string\",\"null\"]},\"email\":{\"type\":[\"string\",\"null\"]},"
    "\"phone\":{\"type\":[\"string\",\"null\"]},\"birth_date\":{\"type\":[\"string\",\"null\"],"
    "\"format\":\"date\"},\"nationality\":{\"type\":[\"string\",\"null\"]},"
    "\"language\":{\"type\":[\"string\",\"null\"]}}},"
    "\"PersonCreate\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"given_names\",\"family_name\"],\"properties\":{"
    "\"national_id\":{\"type\":\"string\",\"writeOnly\":true},"
    "\"given_names\":{\"type\":\"string\"},\"family_name\":{\"type\":\"string\"},"
    "\"preferred_name\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"},"
    "\"phone\":{\"type\":\"string\"},\"birth_date\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"nationality\":{\"type\":\"string\"},\"language\":{\"type\":\"string\"},"
    "\"affiliation\":{\"$ref\":\"#/components/schemas/AffiliationInput\"},"
    "\"account\":{\"type\":\"boolean\"},\"username\":{\"type\":\"string\"}}},"
    "\"Affiliation\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
    "\"person_id\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
    "\"source\":{\"type\":\"string\"},\"source_key\":{\"type\":\"string\"},"
    "\"org_unit\":{\"type\":[\"string\",\"null\"]},\"title\":{\"type\":[\"string\",\"null\"]},"
    "\"school\":{\"type\":[\"string\",\"null\"]},\"class\":{\"type\":[\"string\",\"null\"]},"
    "\"teaching_groups\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"programme\":{\"type\":[\"string\",\"null\"]},\"manager_id\":{\"type\":[\"string\",\"null\"]},"
    "\"sponsor_id\":{\"type\":[\"string\",\"null\"]},"
    "\"valid_from\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"valid_to\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"},"
    "\"end_reason\":{\"type\":[\"string\",\"null\"]}}},"
    "\"AffiliationInput\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"kind\",\"valid_from\"],\"properties\":{"
    "\"kind\":{\"type\":\"string\"},\"source\":{\"type\":\"string\"},"
    "\"source_key\":{\"type\":\"string\"},\"org_unit\":{\"type\":\"string\"},"
    "\"title\":{\"type\":\"string\"},\"school\":{\"type\":\"string\"},"
    "\"class\":{\"type\":\"string\"},\"teaching_groups\":{\"type\":\"string\","
    "\"description\":\"';'-separated\"},\"programme\":{\"type\":\"string\"},"
    "\"manager\":{\"type\":\"string\",\"description\":\"person selector\"},"
    "\"sponsor\":{\"type\":\"string\",\"description\":\"person selector\"},"
    "\"valid_from\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"valid_to\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"}}},"
    "\"AffiliationEnd\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"last_day\":{\"type\":\"string\",\"format\":\"date\",\"description\":\"default today\"},"
    "\"reason\":{\"type\":\"string\"}}},"
    "\"Account\":{\"type\":\"object\",\"properties\":{\"username\":{\"type\":\"string\"},"
    "\"email\":{\"type\":[\"string\",\"null\"]},\"state\":{\"type\":\"string\"},"
    "\"person_id\":{\"type\":\"string\"},"
    "\"created_on\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"},"
    "\"closed_on\":{\"type\":[\"string\",\"null\"],\"format\":\"date\"}}},"
    "\"AccountCreate\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"username\":{\"type\":\"string\",\"description\":\"default: generated\"}}},"
    "\"PasswordReset\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"password\"],\"properties\":{\"password\":{\"type\":\"string\","
    "\"writeOnly\":true}}},"
    "\"UsernameReservation\":{\"type\":\"object\",\"properties\":{\"username\":{\"type\":"
    "\"string\"},\"reserved\":{\"type\":\"boolean\"},\"person_id\":{\"type\":\"string\"}}},"
    "\"Handover\":{\"type\":\"object\",\"properties\":{\"leaver_id\":{\"type\":\"string\"},"
    "\"leaver_number\":{\"type\":\"integer\"},\"grantee_id\":{\"type\":[\"string\",\"null\"]},"
    "\"grantee_number\":{\"type\":[\"integer\",\"null\"]},\"from\":{\"type\":\"string\"},"
    "\"until\":{\"type\":\"string\"},\"state\":{\"type\":\"string\"},"
    "\"ended_on\":{\"type\":[\"string\",\"null\"]}}},"
    "\"Forecast\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"
    "\"identity_number\":{\"type\":\"integer\"},\"as_of\":{\"type\":\"string\"},"
    "\"policy_version\":{\"type\":\"integer\"},\"recorded_state\":{\"type\":\"string\"},"
    "\"state\":{\"type\":\"string\"},\"legal_hold_until\":{\"type\":[\"string\",\"null\"]},"
    "\"hold_in_force\":{\"type\":\"boolean\"},\"death_date\":{\"type\":[\"string\",\"null\"]},"
    "\"steps\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"step\":{\"type\":\"string\"},\"date\":{\"type\":\"string\"},\"past\":{\"type\":"
    "\"boolean\"}}}},\"handovers\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/Handover\"}},\"archive\":{\"type\":\"object\"}}},"
    "\"HoldInput\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"reason\"],\"properties\":{\"days\":{\"type\":\"integer\",\"minimum\":1,"
    "\"description\":\"default: the policy's legal_hold_days\"},"
    "\"reason\":{\"type\":\"string\"}}},"
    "\"AuditEvent\":{\"type\":\"object\",\"properties\":{\"log\":{\"type\":\"string\"},"
    "\"seq\":{\"type\":\"integer\"},\"time\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"actor_kind\":{\"type\":\"string\"},\"actor_id\":{\"type\":\"string\"},"
    "\"channel\":{\"type\":\"string\"},\"action\":{\"type\":\"string\"},"
    "\"subject_id\":{\"type\":[\"string\",\"null\"]},\"attrs\":{\"type\":\"string\"},"
    "\"result\":{\"type\":\"string\"},\"source\":{\"type\":\"string\"},"
    "\"request_id\":{\"type\":\"string\"},\"changes\":{},\"detail\":{\"type\":\"string\"}}},"
    "\"AuditCheck\":{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"},"
    "\"events\":{\"type\":\"integer\"},\"checkpoints\":{\"type\":\"integer\"},"
    "\"first_seq\":{\"type\":\"integer\"},\"last_seq\":{\"type\":\"integer\"},"
    "\"signed_seq\":{\"type\":\"integer\"},\"cut_seq\":{\"type\":\"integer\"},"
    "\"kept\":{\"type\":\"integer\"},\"key_id\":{\"type\":\"string\"},"
    "\"reads\":{\"type\":\"object\"},\"bad_log\":{\"type\":[\"string\",\"null\"]},"
    "\"bad_seq\":{\"type\":\"integer\"},\"reason\":{\"type\":\"string\"}}},"
    "\"ImportRun\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
    "\"source\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
    "\"file\":{\"type\":\"string\"},\"mode\":{\"type\":\"string\"},"
    "\"started_at\":{\"type\":[\"string\",\"null\"]},\"finished_at\":{\"type\":[\"string\","
    "\"null\"]},\"status\":{\"type\":\"string\"},\"rows\":{\"type\":\"integer\"},"
    "\"created\":{\"type\":\"integer\"},\"updated\":{\"type\":\"integer\"},"
    "\"unchanged\":{\"type\":\"integer\"},\"ended\":{\"type\":\"integer\"},"
    "\"rejected\":{\"type\":\"integer\"},\"queued\":{\"type\":\"integer\"},"
    "\"detail\":{\"type\":[\"string\",\"null\"]}}},"
    "\"ReviewEntry\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
    "\"state\":{\"type\":\"string\"},\"source\":{\"type\":\"string\"},"
    "\"source_key\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
    "\"given_names\":{\"type\":\"string\"},\"family_name\":{\"type\":\"string\"},"
    "\"birth_date\":{\"type\":[\"string\",\"null\"]},"
    "\"candidate_id\":{\"type\":[\"string\",\"null\"]},"
    "\"candidate_number\":{\"type\":\"integer\"},\"candidates\":{\"type\":\"integer\"},"
    "\"line\":{\"type\":\"integer\"}}},"
    "\"ReviewDecision\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"decision\"],\"properties\":{\"decision\":{\"type\":\"string\","
    "\"enum\":[\"accept\",\"reject\"]}}},"
    "\"ReviewResult\":{\"type\":\"object\",\"properties\":{\"decision\":{\"type\":\"string\"},"
    "\"person\":{\"$ref\":\"#/components/schemas/Person\"}}},"
    "\"PolicyVersion\":{\"type\":\"object\",\"properties\":{\"version\":{\"type\":\"integer\"},"
    "\"policy\":{\"type\":\"object\",\"description\":\"docs/policy.md\"}}},"
    "\"PolicyApplied\":{\"type\":\"object\",\"properties\":{\"version\":{\"type\":\"integer\"}}},"
    "\"RoleGrant\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
    "\"person_id\":{\"type\":\"string\"},\"person_number\":{\"type\":\"integer\"},"
    "\"role\":{\"type\":\"string\"},\"unit\":{\"type\":[\"string\",\"null\"]},"
    "\"valid_from\":{\"type\":\"string\"},\"valid_to\":{\"type\":[\"string\",\"null\"]},"
    "\"revoked_on\":{\"type\":[\"string\",\"null\"]},\"granted_by\":{\"type\":\"string\"},"
    "\"revoked_by\":{\"type\":[\"string\",\"null\"]},\"reason\":{\"type\":\"string\"},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"active\",\"future\",\"expired\","
    "\"revoked\"]}}},"
    "\"RoleGrantInput\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"person\",\"role\"],\"properties\":{\"person\":{\"type\":\"string\"},"
    "\"role\":{\"type\":\"string\",\"enum\":[\"admin\",\"helpdesk\",\"unit_admin\","
    "\"hr_integration\",\"auditor\",\"dpo\"]},\"unit\":{\"type\":\"string\"},"
    "\"valid_from\":{\"type\":\"string\",\"format\":\"date\"},"
    "\"valid_to\":{\"type\":\"string\",\"format\":\"date\"},\"reason\":{\"type\":\"string\"}}},"
    "\"ErrorReport\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
    "\"person_id\":{\"type\":\"string\"},\"person_number\":{\"type\":\"integer\"},"
    "\"attribute\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},"
    "\"filed_by\":{\"type\":\"string\"},\"channel\":{\"type\":\"string\"},"
    "\"filed_at\":{\"type\":[\"string\",\"null\"]},\"state\":{\"type\":\"string\"},"
    "\"resolved_at\":{\"type\":[\"string\",\"null\"]},"
    "\"resolved_by\":{\"type\":[\"string\",\"null\"]},"
    "\"resolution\":{\"type\":[\"string\",\"null\"]}}},"
    "\"ErrorReportInput\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"attribute\",\"description\"],\"properties\":{"
    "\"attribute\":{\"type\":\"string\"},\"description\":{\"type\":\"string\","
    "\"maxLength\":1024}}},"
    "\"ErrorReportClose\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"outcome\"],\"properties\":{\"outcome\":{\"type\":\"string\","
    "\"enum\":[\"resolved\",\"rejected\"]},\"resolution\":{\"type\":\"string\"}}},"
    "\"Unit\":{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\"},"
    "\"name\":{\"type\":\"string\"},\"parent\":{\"type\":[\"string\",\"null\"]}}}"
    "}";

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) /* a bug in a fragment above or in the table: show it in the document */
        j = json_pack("{s:s}", "description", je.text);
    return j;
}

static json_t *parameters(const api_route *r)
{
    json_t *arr = json_array();
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
        size_t n = strcspn(p + 1, "}");
        json_array_append_new(arr, json_pack("{s:s%,s:s,s:b,s:{s:s}}", "name", p + 1, n, "in",
                                             "path", "required", 1, "schema", "type", "string"));
    }
    for (const char *q = r->query; q && *q;) {
        size_t n = strcspn(q, ",");
        bool num = (n == 5 && strncmp(q, "limit", 5) == 0) ||
                   (n == 5 && strncmp(q, "after", 5) == 0);
        bool date = (n == 5 && strncmp(q, "as_of", 5) == 0) ||
                    (n == 4 && strncmp(q, "from", 4) == 0) || (n == 2 && strncmp(q, "to", 2) == 0);
        json_t *schema = num    ? json_pack("{s:s}", "type", "integer")
                         : date ? json_pack("{s:s,s:s}", "type", "string", "format", "date")
                                : json_pack("{s:s}", "type", "string");
        json_array_append_new(arr, json_pack("{s:s%,s:s,s:b,s:o}", "name", q, n, "in", "query",
                                             "required", 0, "schema", schema));
        q += n;
        if (*q == ',')
            q++;
    }
    return arr;
}

static json_t *operation(const api_route *r)
{
    json_t *op = json_object();
    json_object_set_new(op, "operationId", json_string(r->op));
    json_object_set_new(op, "summary", json_string(r->summary));
    json_object_set_new(op, "tags", json_pack("[s]", r->tag));
    json_object_set_new(op, "x-service", json_string(r->service));
    json_t *params = parameters(r);
    if (json_array_size(params))
        json_object_set_new(op, "parameters", params);
    else
        json_decref(params);
    if (r->request)
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b,s:{s:{s:o}}}", "required", 1, "content",
                                      "application/json", "schema", parse(r->request)));
    json_t *resp = json_object();
    char st[8];
    snprintf(st, sizeof st, "%d", r->status);
    json_t *okr = json_pack("{s:s}", "description", r->status == 204 ? "done" : "success");
    if (r->response)
        json_object_set_new(okr, "content",
                            json_pack("{s:{s:o}}", "application/json", "schema",
                                      parse(r->response)));
    json_object_set_new(resp, st, okr);
    static const char *const errs[] = {"400", "401", "403", "404", "409"};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        json_object_set_new(resp, errs[i],
                            json_pack("{s:s}", "$ref", "#/components/responses/Error"));
    json_object_set_new(op, "responses", resp);
    return op;
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

json_t *api_openapi(void)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < api_route_count(); i++) {
        const api_route *r = api_route_at(i);
        json_t *item = json_object_get(paths, r->pattern);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, r->pattern, item);
        }
        char m[8];
        lower(r->method, m, sizeof m);
        json_object_set_new(item, m, operation(r));
    }
    json_t *doc = json_pack(
        "{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:[{s:[]},{s:[]}]}", "openapi", "3.1.0", "info",
        "title", "tunnus admin REST API", "version", "1",
        "description", "The registry's administration API. Access is decided per role by the "
                       "service layer (docs/access.md); errors are JSON objects.",
        "servers", "url", API_PREFIX, "security", "bearer", "basic");
    json_t *comp = json_object();
    json_object_set_new(comp, "schemas", parse(COMPONENTS));
    json_object_set_new(
        comp, "securitySchemes",
        json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s}}", "bearer", "type", "http", "scheme",
                  "bearer", "description", "an API client's token (tunnus client add)", "basic",
                  "type", "http", "scheme", "basic", "description",
                  "a person's username and password (loopback or HTTPS only)"));
    json_object_set_new(
        comp, "responses",
        json_pack("{s:{s:s,s:{s:{s:{s:s}}}}}", "Error", "description", "an error", "content",
                  "application/json", "schema", "$ref", "#/components/schemas/Error"));
    json_object_set_new(doc, "components", comp);
    json_object_set_new(doc, "paths", paths);
    return doc;
}
