#include "tn_err.h"

#include <stdio.h>
#include <string.h>

tn_code tn_err_setv(tn_err *e, tn_code code, const char *field, const char *fmt, va_list ap)
{
    if (!e)
        return code;
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    return code;
}

tn_code tn_err_set(tn_err *e, tn_code code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tn_err_setv(e, code, field, fmt, ap);
    va_end(ap);
    return code;
}

void tn_err_clear(tn_err *e)
{
    if (!e)
        return;
    e->code = TN_OK;
    e->field[0] = '\0';
    e->msg[0] = '\0';
}

const char *tn_code_name(tn_code code)
{
    static const char *const names[TN_CODE_MAX] = {
        [TN_OK] = "ok",           [TN_EUSAGE] = "usage",       [TN_EINVAL] = "invalid",
        [TN_ENOTFOUND] = "not_found", [TN_ECONFLICT] = "conflict", [TN_EDENIED] = "denied",
        [TN_ESTATE] = "state",    [TN_EIO] = "io",             [TN_EINTERNAL] = "internal",
    };
    if ((unsigned)code >= TN_CODE_MAX)
        return "internal";
    return names[code];
}

const char *tn_err_text(const tn_err *e, char *buf, unsigned long cap)
{
    if (e->field[0])
        snprintf(buf, cap, "%s: %s", e->field, e->msg);
    else
        snprintf(buf, cap, "%s", e->msg);
    return buf;
}
