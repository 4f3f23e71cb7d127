/* tn_str — small string helpers shared by every layer (no allocation
 * unless stated). */
#ifndef TN_STR_H
#define TN_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy src into dst of capacity cap, always NUL-terminated. Returns true if
 * src fit whole, false if it was truncated. */
bool tn_strlcpy(char *dst, const char *src, size_t cap);
/* Copy at most n bytes of src (which need not be terminated). */
bool tn_strlcpyn(char *dst, const char *src, size_t n, size_t cap);
/* Trim ASCII whitespace at both ends in place; returns s. */
char *tn_trim(char *s);
/* Parse a decimal signed 64-bit integer: whole string, no sign games,
 * no overflow. Returns false on any malformation. */
bool tn_parse_i64(const char *s, int64_t *out);
bool tn_str_empty(const char *s);
bool tn_str_eq(const char *a, const char *b);
bool tn_str_startswith(const char *s, const char *prefix);

#endif
