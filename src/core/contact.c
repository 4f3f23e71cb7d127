#include "contact.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tn_str.h"

#define EMAIL_MAX 254
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63

static bool c_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool c_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char c_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool email_local_char(char c)
{
    return c_is_alpha(c) || c_is_digit(c) || (c && strchr("._%+'-", c));
}

static tn_code email_check_local(const char *s, size_t n, const char *field, tn_err *e)
{
    if (n == 0)
        return tn_err_set(e, TN_EINVAL, field, "has nothing before the '@'");
    if (n > EMAIL_LOCAL_MAX)
        return tn_err_set(e, TN_EINVAL, field, "part before the '@' is longer than %d characters",
                          EMAIL_LOCAL_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!email_local_char(s[i]))
            return tn_err_set(e, TN_EINVAL, field,
                              "contains a character that is not allowed before the '@'");
        if (s[i] == '.' && (i == 0 || i == n - 1 || s[i - 1] == '.'))
            return tn_err_set(e, TN_EINVAL, field,
                              "part before the '@' has a leading, trailing or double dot");
    }
    return TN_OK;
}

static tn_code email_check_domain(const char *s, size_t n, const char *field, tn_err *e)
{
    size_t labels = 0;
    size_t start = 0;
    while (start <= n) {
        size_t end = start;
        while (end < n && s[end] != '.')
            end++;
        size_t len = end - start;
        if (len == 0)
            return tn_err_set(e, TN_EINVAL, field, "domain has an empty label");
        if (len > EMAIL_LABEL_MAX)
            return tn_err_set(e, TN_EINVAL, field, "domain label is longer than %d characters",
                              EMAIL_LABEL_MAX);
        for (size_t i = start; i < end; i++) {
            if (!c_is_alpha(s[i]) && !c_is_digit(s[i]) && s[i] != '-')
                return tn_err_set(e, TN_EINVAL, field,
                                  "domain may contain only letters, digits, hyphens and dots");
        }
        if (s[start] == '-' || s[end - 1] == '-')
            return tn_err_set(e, TN_EINVAL, field,
                              "domain label must not start or end with a hyphen");
        labels++;
        if (end == n) {
            /* The top-level domain: alphabetic, and real ones are at
             * least two letters. A numeric one would be an IP address. */
            if (len < 2)
                return tn_err_set(e, TN_EINVAL, field, "top-level domain is too short");
            for (size_t i = start; i < end; i++)
                if (!c_is_alpha(s[i]))
                    return tn_err_set(e, TN_EINVAL, field,
                                      "top-level domain must be letters only");
        }
        start = end + 1;
    }
    if (labels < 2)
        return tn_err_set(e, TN_EINVAL, field, "domain must have at least two parts");
    return TN_OK;
}

tn_code email_normalize(const char *s, char out[EMAIL_BUFSZ], const char *field, tn_err *e)
{
    /* Addresses are personal data: messages never quote them. */
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, field, "is required");
    size_t n = strnlen(s, EMAIL_MAX + 1);
    if (n > EMAIL_MAX)
        return tn_err_set(e, TN_EINVAL, field, "is longer than %d characters", EMAIL_MAX);
    const char *at = memchr(s, '@', n);
    if (!at)
        return tn_err_set(e, TN_EINVAL, field, "must contain an '@'");
    size_t local_len = (size_t)(at - s);
    if (memchr(at + 1, '@', n - local_len - 1))
        return tn_err_set(e, TN_EINVAL, field, "must contain exactly one '@'");
    tn_code rc = email_check_local(s, local_len, field, e);
    if (rc != TN_OK)
        return rc;
    rc = email_check_domain(at + 1, n - local_len - 1, field, e);
    if (rc != TN_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        out[i] = c_lower(s[i]);
    out[n] = '\0';
    return TN_OK;
}

/* Finnish national significant numbers never start with 0, so a 0 right
 * after +358 can only be the trunk prefix written in out of habit, as in
 * "+358 (0)40 123 4567". */
#define PHONE_FI_CC "358"
#define PHONE_FI_MIN 7
#define PHONE_FI_MAX 12
#define PHONE_MIN 7
#define PHONE_MAX 15
#define PHONE_SCRATCH 40

tn_code phone_normalize(const char *s, char out[PHONE_BUFSZ], const char *field, tn_err *e)
{
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, field, "is required");

    char digits[PHONE_SCRATCH];
    size_t nd = 0;
    bool plus = false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (c_is_digit(c)) {
            /* Anything this long is already invalid; stop before the
             * scratch buffer fills. */
            if (nd >= sizeof digits - 1)
                return tn_err_set(e, TN_EINVAL, field, "has too many digits");
            digits[nd++] = c;
        } else if (c == '+') {
            if (plus || nd > 0)
                return tn_err_set(e, TN_EINVAL, field, "'+' may only start the number");
            plus = true;
        } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
            continue;
        } else {
            return tn_err_set(e, TN_EINVAL, field,
                              "may contain only digits, a leading '+', spaces, hyphens, dots "
                              "and parentheses");
        }
    }
    digits[nd] = '\0';
    if (nd == 0)
        return tn_err_set(e, TN_EINVAL, field, "has no digits");

    /* intl: the number without any prefix, country code first. */
    char intl[PHONE_SCRATCH + sizeof PHONE_FI_CC];
    if (plus) {
        tn_strlcpy(intl, digits, sizeof intl);
    } else if (nd >= 2 && digits[0] == '0' && digits[1] == '0') {
        tn_strlcpy(intl, digits + 2, sizeof intl);
    } else if (digits[0] == '0') {
        snprintf(intl, sizeof intl, "%s%s", PHONE_FI_CC, digits + 1);
    } else {
        return tn_err_set(e, TN_EINVAL, field,
                          "must start with +, 00 or the trunk prefix 0");
    }

    size_t ni = strlen(intl);
    if (ni == 0 || intl[0] == '0')
        return tn_err_set(e, TN_EINVAL, field, "country code must not start with 0");
    if (tn_str_startswith(intl, PHONE_FI_CC)) {
        char *nsn = intl + strlen(PHONE_FI_CC);
        if (nsn[0] == '0')
            memmove(nsn, nsn + 1, strlen(nsn));
        if (nsn[0] == '0')
            return tn_err_set(e, TN_EINVAL, field,
                              "is not a Finnish number: too many zeros after +358");
        size_t nn = strlen(nsn);
        if (nn < PHONE_FI_MIN)
            return tn_err_set(e, TN_EINVAL, field, "is too short for a Finnish number");
        if (nn > PHONE_FI_MAX)
            return tn_err_set(e, TN_EINVAL, field, "is too long for a Finnish number");
        ni = strlen(intl);
    }
    if (ni < PHONE_MIN)
        return tn_err_set(e, TN_EINVAL, field, "is too short");
    if (ni > PHONE_MAX)
        return tn_err_set(e, TN_EINVAL, field, "is too long (at most %d digits)", PHONE_MAX);
    out[0] = '+';
    memcpy(out + 1, intl, ni + 1);
    return TN_OK;
}
