/* scim_meta — the SCIM discovery endpoints: ServiceProviderConfig,
 * ResourceTypes and Schemas (RFC 7644 §4), each also by id. */
#ifndef SCIM_META_H
#define SCIM_META_H

#include <stdbool.h>

#include "http_int.h"

/* Answer rq if its path is a discovery endpoint; false if it is not. */
bool scim_meta_handle(const hreq *rq, hresp *r);

#endif
