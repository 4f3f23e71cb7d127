/* scim_filter — the SCIM filter language (RFC 7644 §3.4.2.2): parse a
 * filter into a tree and evaluate it against a resource as JSON.
 *
 * Every operator (eq ne co sw ew gt ge lt le pr), and, or, not, grouping
 * with parentheses and value paths (emails[type eq "work" and value co
 * "@x"]) are supported; keywords and attribute names are case-insensitive.
 * String comparisons fold ASCII case unless the attribute is caseExact in
 * the schema (scim_case_exact). A parse error names the byte offset and
 * what was expected, so the HTTP layer can answer 400 invalidFilter with
 * a useful detail. The parser has a libFuzzer target (fuzz_scim_filter). */
#ifndef SCIM_FILTER_H
#define SCIM_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "tn_err.h"

#define SCIM_FILTER_MAX 8192 /* bytes */
#define SCIM_FILTER_DEPTH 32 /* nesting of parentheses, not and value paths */

#define SCIM_CORE_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_CORE_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_TUNNUS "urn:tunnus:params:scim:schemas:extension:finnish:2.0:User"

typedef enum sf_kind { SF_AND, SF_OR, SF_NOT, SF_CMP, SF_PR, SF_VALPATH } sf_kind;
typedef enum sf_op { SF_EQ, SF_NE, SF_CO, SF_SW, SF_EW, SF_GT, SF_GE, SF_LT, SF_LE } sf_op;

/* An attribute path: [uri ":"] attr ["." sub]. uri and sub may be NULL. */
typedef struct sf_path {
    char *uri;
    char *attr;
    char *sub;
} sf_path;

typedef struct sf_node {
    sf_kind kind;
    sf_op op;              /* SF_CMP */
    sf_path path;          /* SF_CMP, SF_PR, SF_VALPATH */
    json_t *value;         /* SF_CMP: the literal (string, number, true, false, null) */
    struct sf_node *l, *r; /* AND/OR: both; NOT: l; VALPATH: l is the element filter */
} sf_node;

/* Parse len bytes of text. NULL with e set (field "filter") on error. */
sf_node *scim_filter_parse(const char *text, size_t len, tn_err *e);
void scim_filter_free(sf_node *n);
/* Whether resource (a SCIM resource as JSON) matches. */
bool scim_filter_match(const sf_node *f, json_t *resource);

/* Parse an attribute path at *pos (for PATCH paths, sortBy, attributes). */
bool scim_path_parse_at(const char *text, size_t len, size_t *pos, sf_path *out, tn_err *e);
void scim_path_clear(sf_path *p);
/* The value an attribute path names in resource (NULL if absent):
 * extension attributes through their schema URI, the core schema's URI
 * optional; names compared without case. */
json_t *scim_path_get(json_t *resource, const sf_path *p, bool *multi);
/* Case-insensitive object member lookup. */
json_t *scim_obj_get(json_t *obj, const char *key);
/* Whether the schema makes the attribute's string values case-exact. */
bool scim_case_exact(const sf_path *p);
/* Compare two scalars as the filter's op does (strings folded unless
 * case_exact); also the order used by sortBy (SF_LT). */
bool scim_compare(json_t *have, sf_op op, json_t *lit, bool case_exact);

#endif
