/* Fuzz the lifecycle policy parser: any input either parses into a policy
 * that survives its own canonical form and an evaluation, or yields an
 * error with a message; never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    policy p;
    tn_err e;
    tn_err_clear(&e);
    if (policy_parse((const char *)data, size, &p, &e) != TN_OK) {
        if (e.msg[0] == '\0')
            __builtin_trap(); /* an error without a message is a bug */
        return 0;
    }
    char *text = policy_to_json(&p);
    policy q;
    if (!text || policy_parse(text, strlen(text), &q, &e) != TN_OK ||
        memcmp(p.kinds, q.kinds, sizeof p.kinds) != 0 || p.archive_keep != q.archive_keep)
        __builtin_trap(); /* the canonical form must read back the same */
    free(text);
    affiliation a;
    memset(&a, 0, sizeof a);
    memcpy(a.kind, p.kinds[0].kind, sizeof a.kind);
    a.valid_from = date_from_ymd(2024, 1, 1);
    a.valid_to = date_from_ymd(2024, 12, 31);
    lc_facts f = {&a, 1, TN_DATE_NONE, TN_DATE_NONE, PSTATE_ACTIVE, TN_DATE_NONE, TN_DATE_NONE};
    lc_eval ev;
    if (lc_evaluate(&p, &f, date_from_ymd(2025, 6, 1), &ev, &e) != TN_OK)
        __builtin_trap();
    return 0;
}
