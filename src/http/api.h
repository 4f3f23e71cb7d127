/* api — the admin REST API under /api/v1 (docs/api.md).
 *
 * One route table: method, path pattern ("/persons/{id}/affiliations",
 * relative to /api/v1), handler, route label for /metrics, a summary and
 * the schema fragments of the OpenAPI 3.1 document served at
 * /openapi.json, which is generated from this table and nothing else.
 *
 * Each handler parses the path, query and JSON body, calls ONE service
 * function with the request's actor and encodes its result. Access is
 * decided in the service layer only: a denial comes back as TN_EDENIED and
 * becomes 403 here. Errors are JSON objects
 *   {"status": 400, "error": "invalid", "detail": "…", "field": "…"}
 * and never carry a national ID (service messages name fields, not
 * values).
 *
 * Ownership: api_handle fills out->body with a new reference the caller
 * releases; api_openapi returns a new reference. Route entries are static. */
#ifndef API_H
#define API_H

#include <jansson.h>
#include <stddef.h>

#include "http_int.h"

#define API_PREFIX "/api/v1"
/* Upper bound on the table's size, for the server's metric slots. */
#define API_ROUTES_MAX 64

typedef struct api_route {
    const char *method;   /* "GET", "POST", "PATCH", "PUT" */
    const char *pattern;  /* below API_PREFIX; "{name}" is one path segment */
    void (*fn)(const hreq *rq, const char *const *params, hresp *out);
    const char *label;    /* /metrics route label, unique */
    const char *op;       /* OpenAPI operationId, unique */
    const char *tag;      /* route group */
    const char *summary;
    const char *service;  /* the service function it calls (for the docs and tests) */
    const char *query;    /* comma-separated query parameters, "" = none */
    const char *request;  /* request body schema (JSON text), NULL = no body */
    const char *response; /* success response schema (JSON text) */
    int status;           /* success status: 200 or 201 */
} api_route;

size_t api_route_count(void);
const api_route *api_route_at(size_t i);

/* Answer one request; rq->path is below API_PREFIX. */
void api_handle(const hreq *rq, hresp *out);
/* The route label of a request for /metrics: the matched route's label,
 * or "api_other". */
const char *api_route_label(const char *method, const char *path);
/* Set out to an API error; field and detail may be NULL. */
void api_error(hresp *out, int status, const char *error, const char *detail, const char *field);
/* The OpenAPI 3.1 document of the table (a new reference). */
json_t *api_openapi(void);

#endif
