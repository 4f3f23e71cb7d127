/* contact — e-mail addresses and phone numbers.
 *
 * E-mail: a pragmatic RFC 5321 subset that directories and mail systems
 * accept: local part of [A-Za-z0-9._%+'-], no leading, trailing or double
 * dots, ≤ 64 bytes; a domain of at least two dot-separated LDH labels, each
 * ≤ 63, the last alphabetic; ≤ 254 bytes in all. Stored lower-cased.
 *
 * Phone: normalised to E.164 ("+358401234567"). A national Finnish number
 * starting with a trunk 0 becomes +358 without the 0; "00" international
 * prefixes become "+"; spaces, hyphens, dots and parentheses are dropped.
 * Finnish numbers must have 7–12 digits after +358 (subscriber numbers
 * with area codes); others 7–15 digits in all as E.164 allows. */
#ifndef CONTACT_H
#define CONTACT_H

#include <stddef.h>

#include "tn_err.h"

#define EMAIL_BUFSZ 255
#define PHONE_BUFSZ 17 /* '+' + 15 digits + NUL */

/* Validate and write the canonical lower-case form into out. */
tn_code email_normalize(const char *s, char out[EMAIL_BUFSZ], const char *field, tn_err *e);
tn_code phone_normalize(const char *s, char out[PHONE_BUFSZ], const char *field, tn_err *e);

#endif
