/* The SCIM discovery documents (RFC 7644 §4): ServiceProviderConfig,
 * ResourceTypes and Schemas, each also by id. They describe what
 * scim.c and scim_filter.c really do. */
#include "scim_meta.h"

#include <stdio.h>
#include <string.h>

#include "scim_filter.h"
#include "tn_str.h"

#define SCIM_SPC "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define SCIM_RT "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCIM_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:Schema"
#define SCIM_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"

/* One attribute definition (RFC 7643 §7). flags: m multi-valued, r
 * required, x caseExact; mut: readWrite, readOnly, immutable, writeOnly. */
static json_t *attr(const char *name, const char *type, const char *flags, const char *mut,
                    const char *returned, json_t *subs)
{
    json_t *a = json_pack("{s:s,s:s,s:b,s:s,s:b,s:s,s:s,s:s}", "name", name, "type", type,
                          "multiValued", strchr(flags, 'm') != NULL, "description", name,
                          "required", strchr(flags, 'r') != NULL, "mutability", mut, "returned",
                          returned, "uniqueness", strchr(flags, 'u') ? "server" : "none");
    if (strcmp(type, "string") == 0 || strcmp(type, "reference") == 0)
        json_object_set_new(a, "caseExact", json_boolean(strchr(flags, 'x') != NULL));
    if (subs)
        json_object_set_new(a, "subAttributes", subs);
    return a;
}

static json_t *typed_value(const char *mut)
{
    return json_pack("[o,o,o]", attr("value", "string", "", mut, "default", NULL),
                     attr("type", "string", "", mut, "default", NULL),
                     attr("primary", "boolean", "", mut, "default", NULL));
}

static json_t *schema(const char *id, const char *name, json_t *attrs, const char *base)
{
    char loc[640];
    snprintf(loc, sizeof loc, "%s/Schemas/%s", base, id);
    return json_pack("{s:[s],s:s,s:s,s:s,s:o,s:{s:s,s:s}}", "schemas", SCIM_SCHEMA, "id", id,
                     "name", name, "description", name, "attributes", attrs, "meta",
                     "resourceType", "Schema", "location", loc);
}

static json_t *user_schema(const char *base)
{
    json_t *name = json_pack("[o,o,o]", attr("formatted", "string", "", "readOnly", "default", NULL),
                             attr("familyName", "string", "r", "readWrite", "default", NULL),
                             attr("givenName", "string", "r", "readWrite", "default", NULL));
    json_t *a = json_pack(
        "[o,o,o,o,o,o,o,o,o,o]", attr("id", "string", "x", "readOnly", "always", NULL),
        attr("userName", "string", "u", "immutable", "default", NULL),
        attr("name", "complex", "r", "readWrite", "default", name),
        attr("displayName", "string", "", "readOnly", "default", NULL),
        attr("nickName", "string", "", "readWrite", "default", NULL),
        attr("preferredLanguage", "string", "", "readWrite", "default", NULL),
        attr("active", "boolean", "", "readOnly", "default", NULL),
        attr("emails", "complex", "m", "readWrite", "default", typed_value("readWrite")),
        attr("phoneNumbers", "complex", "m", "readWrite", "default", typed_value("readWrite")),
        attr("password", "string", "", "writeOnly", "never", NULL));
    return schema(SCIM_CORE_USER, "User", a, base);
}

static json_t *enterprise_schema(const char *base)
{
    json_t *mgr = json_pack("[o,o]", attr("value", "string", "x", "readOnly", "default", NULL),
                            attr("$ref", "reference", "x", "readOnly", "default", NULL));
    json_t *a = json_pack("[o,o,o,o]", attr("employeeNumber", "string", "x", "readOnly", "default", NULL),
                          attr("organization", "string", "", "readOnly", "default", NULL),
                          attr("department", "string", "", "readOnly", "default", NULL),
                          attr("manager", "complex", "", "readOnly", "default", mgr));
    return schema(SCIM_ENTERPRISE, "EnterpriseUser", a, base);
}

static json_t *tunnus_schema(const char *base)
{
    json_t *aff = json_pack(
        "[o,o,o,o,o,o,o,o,o,o,o,o,o]", attr("kind", "string", "r", "readOnly", "default", NULL),
        attr("source", "string", "", "readOnly", "default", NULL),
        attr("sourceKey", "string", "x", "readOnly", "default", NULL),
        attr("orgUnit", "string", "", "readOnly", "default", NULL),
        attr("title", "string", "", "readOnly", "default", NULL),
        attr("school", "string", "", "readOnly", "default", NULL),
        attr("class", "string", "", "readOnly", "default", NULL),
        attr("teachingGroups", "string", "m", "readOnly", "default", NULL),
        attr("programme", "string", "", "readOnly", "default", NULL),
        attr("manager", "string", "x", "readOnly", "default", NULL),
        attr("validFrom", "string", "r", "readOnly", "default", NULL),
        attr("validTo", "string", "", "readOnly", "default", NULL),
        attr("endReason", "string", "", "readOnly", "default", NULL));
    json_t *a = json_pack(
        "[o,o,o,o,o,o,o,o,o,o,o,o]", attr("identityNumber", "integer", "", "readOnly", "default", NULL),
        attr("lifecycleState", "string", "", "readOnly", "default", NULL),
        attr("accountState", "string", "", "readOnly", "default", NULL),
        attr("birthDate", "string", "", "immutable", "default", NULL),
        attr("deathDate", "string", "", "readOnly", "default", NULL),
        attr("legalHoldUntil", "string", "", "readOnly", "default", NULL),
        attr("accountClosedOn", "string", "", "readOnly", "default", NULL),
        attr("school", "string", "", "readOnly", "default", NULL),
        attr("class", "string", "", "readOnly", "default", NULL),
        attr("teachingGroups", "string", "m", "readOnly", "default", NULL),
        attr("affiliations", "complex", "m", "immutable", "default", aff),
        attr("nationalId", "string", "", "writeOnly", "never", NULL));
    return schema(SCIM_TUNNUS, "FinnishUser", a, base);
}

static json_t *group_schema(const char *base)
{
    json_t *mem = json_pack("[o,o,o,o]", attr("value", "string", "x", "readOnly", "default", NULL),
                            attr("$ref", "reference", "x", "readOnly", "default", NULL),
                            attr("display", "string", "", "readOnly", "default", NULL),
                            attr("type", "string", "", "readOnly", "default", NULL));
    json_t *a = json_pack("[o,o,o]", attr("id", "string", "x", "readOnly", "always", NULL),
                          attr("displayName", "string", "", "readOnly", "default", NULL),
                          attr("members", "complex", "m", "readOnly", "default", mem));
    return schema(SCIM_CORE_GROUP, "Group", a, base);
}

static json_t *spc(const hreq *rq)
{
    char loc[640];
    snprintf(loc, sizeof loc, "%s/ServiceProviderConfig", rq->base_url);
    return json_pack(
        "{s:[s],s:{s:b},s:{s:b,s:i,s:I},s:{s:b,s:i},s:{s:b},s:{s:b},s:{s:b},"
        "s:[{s:s,s:s,s:s,s:b},{s:s,s:s,s:s}],s:{s:s,s:s}}",
        "schemas", SCIM_SPC, "patch", "supported", 1, "bulk",
        "supported", 1, "maxOperations", 100, "maxPayloadSize", (json_int_t)rq->max_body,
        "filter", "supported", 1, "maxResults", 1000, "changePassword", "supported", 0, "sort",
        "supported", 1, "etag", "supported", 1, "authenticationSchemes", "type", "oauthbearertoken",
        "name", "Bearer token", "description",
        "An API client's token (tunnus client add), in Authorization: Bearer", "primary", 1,
        "type", "httpbasic", "name", "HTTP Basic", "description",
        "A person's username and password, for /Me (loopback or HTTPS only)", "meta",
        "resourceType", "ServiceProviderConfig", "location", loc);
}

static json_t *resource_type(const hreq *rq, bool user)
{
    char loc[640];
    snprintf(loc, sizeof loc, "%s/ResourceTypes/%s", rq->base_url, user ? "User" : "Group");
    json_t *rt = json_pack("{s:[s],s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}}", "schemas", SCIM_RT, "id",
                           user ? "User" : "Group", "name", user ? "User" : "Group", "endpoint",
                           user ? "/Users" : "/Groups", "description",
                           user ? "A person and their account" : "A directory group",
                           "schema", user ? SCIM_CORE_USER : SCIM_CORE_GROUP, "meta",
                           "resourceType", "ResourceType", "location", loc);
    if (user)
        json_object_set_new(rt, "schemaExtensions",
                            json_pack("[{s:s,s:b},{s:s,s:b}]", "schema", SCIM_ENTERPRISE,
                                      "required", 0, "schema", SCIM_TUNNUS, "required", 0));
    return rt;
}

static json_t *list_of(json_t *arr)
{
    size_t n = json_array_size(arr);
    return json_pack("{s:[s],s:I,s:I,s:I,s:o}", "schemas", SCIM_LIST, "totalResults",
                     (json_int_t)n, "startIndex", (json_int_t)1, "itemsPerPage", (json_int_t)n,
                     "Resources", arr);
}

static json_t *by_id(json_t *arr, const char *id)
{
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) {
        if (strcmp(json_string_value(json_object_get(el, "id")), id) == 0)
            return json_incref(el);
    }
    return NULL;
}

bool scim_meta_handle(const hreq *rq, hresp *r)
{
    const char *p = rq->path;
    json_t *all = NULL;
    const char *rest = NULL;
    if (strcmp(p, "/ServiceProviderConfig") == 0) {
        if (strcmp(rq->method, "GET") != 0) {
            scim_error(r, 405, NULL, "read-only");
            return true;
        }
        r->status = 200;
        r->body = spc(rq);
        return true;
    }
    if (tn_str_startswith(p, "/ResourceTypes") && (p[14] == '\0' || p[14] == '/')) {
        all = json_pack("[o,o]", resource_type(rq, true), resource_type(rq, false));
        rest = p + 14;
    } else if (tn_str_startswith(p, "/Schemas") && (p[8] == '\0' || p[8] == '/')) {
        all = json_pack("[o,o,o,o]", user_schema(rq->base_url), enterprise_schema(rq->base_url),
                        tunnus_schema(rq->base_url), group_schema(rq->base_url));
        rest = p + 8;
    } else {
        return false;
    }
    if (strcmp(rq->method, "GET") != 0) {
        json_decref(all);
        scim_error(r, 405, NULL, "read-only");
        return true;
    }
    if (!*rest) {
        r->status = 200;
        r->body = list_of(all);
        return true;
    }
    json_t *one = rest[0] == '/' ? by_id(all, rest + 1) : NULL;
    json_decref(all);
    if (!one) {
        scim_error(r, 404, NULL, "no such resource");
        return true;
    }
    r->status = 200;
    r->body = one;
    return true;
}
