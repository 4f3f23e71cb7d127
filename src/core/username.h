/* username — generating usernames and e-mail local parts from names.
 *
 * A pattern is literal text with placeholders:
 *   {given}      first given name        {given:N}    its first N letters
 *   {preferred}  preferred name (or first given name)
 *   {family}     whole family name       {family:N}   its first N letters
 *   {initials}   first letter of every given name
 * Letters are folded to ASCII lower case (ä→a, ö→o, å→a, é→e, ü→u, ß→ss,
 * æ→ae, ø→o, š→s, ž→z …); spaces, hyphens and apostrophes inside a name are
 * dropped; any other non-letter is dropped. Literal characters allowed in a
 * pattern: a-z, 0-9, '.', '-', '_'. The result is cut to the maximum length
 * (20 by default, the AD sAMAccountName limit) without leaving a trailing
 * separator; a collision is resolved by a numeric suffix (2, 3, …) that
 * replaces the tail so the total stays within the maximum.
 *
 * Reservation (a username is never given to another person) is enforced by
 * the service and store layers; this module only produces candidates. */
#ifndef USERNAME_H
#define USERNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "tn_err.h"

#define USERNAME_DEFAULT_MAX 20
#define USERNAME_BUFSZ 65
#define USERNAME_DEFAULT_PATTERN "{given}.{family}"

/* Fold UTF-8 name text to [a-z] letters only (separators dropped). Writes at
 * most cap-1 bytes; returns the number of letters written. */
size_t uname_fold(const char *utf8, char *out, size_t cap);
/* Check a pattern: known placeholders, allowed literals, produces at least
 * one name letter. */
tn_code uname_pattern_check(const char *pattern, tn_err *e);
/* Expand the pattern for a person; preferred may be NULL or "". maxlen is
 * 1..USERNAME_BUFSZ-1. Fails with TN_EINVAL when the names fold to nothing. */
tn_code uname_expand(const char *pattern, const char *given, const char *preferred,
                     const char *family, size_t maxlen, char out[USERNAME_BUFSZ], tn_err *e);
/* Candidate number n (n >= 2) for a base name: base with its tail replaced
 * by the decimal n so that the result is ≤ maxlen ("matti.virtanen" →
 * "matti.virtanen2"; at the limit "matti.virtanenkosk2"). */
void uname_with_suffix(const char *base, unsigned n, size_t maxlen, char out[USERNAME_BUFSZ]);
/* A syntactically acceptable username given by hand or migrated:
 * [a-z0-9._-], starts with a letter, ≤ maxlen. */
tn_code uname_validate(const char *s, size_t maxlen, const char *field, tn_err *e);

#endif
