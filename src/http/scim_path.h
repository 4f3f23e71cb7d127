/* scim_path — the PATCH "path" of RFC 7644 §3.5.2:
 *
 *   PATH = attrPath / valuePath [subAttr]
 *
 * e.g. "name.givenName", "emails[type eq \"work\"].value",
 * "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".
 * Errors name the byte offset and the reason (scimType invalidPath). Has
 * a libFuzzer target (fuzz_scim_path). */
#ifndef SCIM_PATH_H
#define SCIM_PATH_H

#include "scim_filter.h"

typedef struct scim_patch_path {
    sf_path attr;      /* the attribute (attr.sub set for "name.givenName") */
    sf_node *filter;   /* value filter of a valuePath, or NULL */
    char *sub;         /* the sub-attribute after a valuePath, or NULL */
} scim_patch_path;

tn_code scim_patch_path_parse(const char *text, size_t len, scim_patch_path *out, tn_err *e);
void scim_patch_path_free(scim_patch_path *p);

#endif
