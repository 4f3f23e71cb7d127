/* http_int — what the HTTP front end's files share (private to src/http):
 * one request as the SCIM handlers see it (also a Bulk operation, which
 * has no connection of its own) and the answer they build. */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "service.h"
#include "tn_buf.h"

typedef struct hreq {
    const char *method;          /* "GET", "POST" … */
    const char *path;            /* below /scim/v2, e.g. "/Users/ID" */
    /* Query parameter lookup; NULL for a Bulk operation. */
    const char *(*query)(void *qctx, const char *name);
    void *qctx;
    json_t *body;                /* parsed request body, or NULL */
    bool text_ok;                /* the answer may be text (hresp.text); not in a Bulk */
    const char *if_match;        /* header values or NULL */
    const char *if_none_match;
    const char *base_url;        /* "http://host:port/scim/v2", for meta.location */
    svc *s;
    const svc_actor *actor;
    const conf *cfg;
    size_t max_body;
} hreq;

typedef struct hresp {
    int status;
    json_t *body;                /* JSON answer (owned), or NULL */
    char *text;                  /* or the answer as JSON text (owned, malloc) */
    size_t text_len;
    char etag[48];               /* "" = none */
    char location[640];          /* "" = none */
    char allow[48];              /* a 405's Allow header, "" = none */
} hresp;

/* Drop the answer's body, tree or text. */
void hresp_drop_body(hresp *r);
/* Make b's contents the answer's body, as text (b is left empty). */
void hresp_set_text(hresp *r, tn_buf *b);

/* The SCIM service (scim.c): answer one request under /scim/v2. */
void scim_handle(const hreq *rq, hresp *out);
/* Set out to a SCIM error (RFC 7644 §3.12); scim_type may be NULL. */
void scim_error(hresp *out, int status, const char *scim_type, const char *detail);
/* The route label of a path for /metrics. */
const char *scim_route(const char *method, const char *path);

#endif
