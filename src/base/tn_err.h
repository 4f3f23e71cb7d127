/* tn_err — the one protocol-neutral error type of tunnus.
 *
 * Every fallible function returns a tn_code and, when given a non-NULL
 * tn_err, fills it with the code, the offending field (if any) and a
 * human-readable reason. Front ends map codes to exit codes, LDAP result
 * codes and HTTP statuses at the edge; nothing below them logs.
 *
 * Messages must never contain secrets or the national ID: callers pass
 * field names and reasons, never the offending value of a sensitive field. */
#ifndef TN_ERR_H
#define TN_ERR_H

#include <stdarg.h>

typedef enum tn_code {
    TN_OK = 0,
    TN_EUSAGE,     /* wrong command-line or API usage */
    TN_EINVAL,     /* input fails validation */
    TN_ENOTFOUND,  /* the selected object does not exist */
    TN_ECONFLICT,  /* uniqueness or state conflict (already exists, reserved) */
    TN_EDENIED,    /* the actor may not do this */
    TN_ESTATE,     /* operation not allowed in the object's current state */
    TN_EIO,        /* file, database or network failure */
    TN_EINTERNAL,  /* a bug or an impossible state */
    TN_CODE_MAX
} tn_code;

typedef struct tn_err {
    tn_code code;
    char field[64]; /* offending field or attribute name, "" if none */
    char msg[320];  /* reason, without sensitive values */
} tn_err;

/* Fill e (if non-NULL) and return code. field may be NULL. */
tn_code tn_err_set(tn_err *e, tn_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
tn_code tn_err_setv(tn_err *e, tn_code code, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
void tn_err_clear(tn_err *e);
/* Stable lower-case name of a code ("invalid", "not_found" …) for JSON output. */
const char *tn_code_name(tn_code code);
/* "field: msg" or "msg", into a caller buffer; returns buf. */
const char *tn_err_text(const tn_err *e, char *buf, unsigned long cap);

#endif
