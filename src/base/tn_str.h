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
/* Whether a spreadsheet would take the value, as a CSV cell, for a formula
 * (CWE-1236): it starts with '=', '@', a tab or a carriage return, or with
 * '+' or '-' followed by anything but a plain number or phone number
 * (digits, spaces, '.', '-', '(', ')'), so "+358 40 123" and "-3" stay as
 * they are while "+cmd|…" or "-1+2" do not. */
bool tn_csv_formula_risk(const char *v);
/* The next item of a comma-separated list ("a, b,,c"): *cursor walks the
 * list; *item points at the item (not terminated), *len its length with
 * the spaces around it left out. Empty items are skipped. False at the
 * end of the list. */
bool tn_list_next(const char **cursor, const char **item, size_t *len);

#endif
