/* Fuzz the SCIM filter parser and evaluator: any bytes as a filter; a
 * parsed filter is evaluated against a fixed User resource. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char USER[] =
    "{\"schemas\":[\"" SCIM_CORE_USER "\"],\"id\":\"01a1\",\"userName\":\"maija\","
    "\"name\":{\"givenName\":\"Maija Liisa\",\"familyName\":\"Meik\\u00e4l\\u00e4inen\"},"
    "\"active\":true,\"emails\":[{\"value\":\"m@x.fi\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"m@koti.fi\",\"type\":\"home\"}],\"meta\":{\"version\":\"W/\\\"1\\\"\"},"
    "\"" SCIM_ENTERPRISE "\":{\"employeeNumber\":\"7\",\"department\":\"HR\"},"
    "\"" SCIM_TUNNUS "\":{\"identityNumber\":7,\"affiliations\":[{\"kind\":\"staff\"}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *user;
    if (!user) {
        user = json_loads(USER, 0, NULL);
        assert(user);
    }
    tn_err e;
    tn_err_clear(&e);
    sf_node *f = scim_filter_parse((const char *)data, size, &e);
    if (f) {
        (void)scim_filter_match(f, user);
        scim_filter_free(f);
    } else {
        assert(e.code == TN_EINVAL && strcmp(e.field, "filter") == 0 && e.msg[0]);
    }
    return 0;
}
