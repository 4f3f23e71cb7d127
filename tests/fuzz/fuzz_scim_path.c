/* Fuzz the SCIM PATCH path parser: any bytes as a path; a parsed value
 * filter is evaluated against a fixed multi-valued element. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *el;
    if (!el) {
        el = json_loads("{\"value\":\"m@x.fi\",\"type\":\"work\",\"primary\":true}", 0, NULL);
        assert(el);
    }
    scim_patch_path p;
    tn_err e;
    tn_err_clear(&e);
    if (scim_patch_path_parse((const char *)data, size, &p, &e) == TN_OK) {
        assert(p.attr.attr);
        if (p.filter)
            (void)scim_filter_match(p.filter, el);
        scim_patch_path_free(&p);
    } else {
        assert(e.code == TN_EINVAL && strcmp(e.field, "path") == 0 && e.msg[0]);
    }
    return 0;
}
