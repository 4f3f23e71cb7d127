/* name — validation of personal names and other short human text.
 *
 * A personal name is valid UTF-8 made of letters (Latin script: ASCII
 * letters, Latin-1 and Latin Extended-A/B letters such as ä ö å é ü ø š ž
 * đ ŋ), separated by single spaces, hyphens or apostrophes (ASCII ' and
 * U+2019); it starts and ends with a letter; no digits, control characters
 * or other symbols. Length is counted in code points. */
#ifndef NAME_H
#define NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "tn_err.h"

#define NAME_MAX_CHARS 100  /* code points per name field */
#define NAME_BUFSZ 401      /* 100 code points × up to 4 bytes + NUL */
#define TEXT_MAX_CHARS 200  /* titles, programmes, school names … */
#define TEXT_BUFSZ 801

/* Valid UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF)? Counts code
 * points into *nchars when non-NULL. */
bool utf8_valid(const char *s, size_t len, size_t *nchars);
/* Decode one code point at s (len bytes available); returns its length in
 * bytes or 0 on malformation. */
size_t utf8_decode(const char *s, size_t len, unsigned *cp);

/* Personal name, required (non-empty), ≤ NAME_MAX_CHARS code points. */
tn_code name_validate(const char *s, const char *field, tn_err *e);
/* Free text: valid UTF-8, no control characters, ≤ maxchars code points.
 * Empty is allowed. */
tn_code text_validate(const char *s, size_t maxchars, const char *field, tn_err *e);
/* Collapse runs of whitespace to single spaces and trim both ends, in place
 * (names often arrive with double spaces from source systems). */
char *name_normalize_space(char *s);

#endif
