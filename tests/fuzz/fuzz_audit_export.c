/* Fuzz the audit export verifier (svc_audit_verify_export): any input is
 * verified or rejected with a reason; never a crash. */
#include <stdint.h>
#include <string.h>

#include "svc_audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    svc_audit_check c;
    tn_err e;
    tn_err_clear(&e);
    if (svc_audit_verify_export((const char *)data, size, NULL, &c, &e) == TN_OK && !c.ok &&
        c.reason[0] == '\0')
        __builtin_trap(); /* a failure without a reason is a bug */
    return 0;
}
