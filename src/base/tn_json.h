/* tn_json — writing JSON text into a tn_buf.
 *
 * Only for the hot paths that emit small, fixed-shape objects (audit change
 * records): jansson builds a tree and then serialises it, which measured at
 * about 40,000 instructions per audit event; appending the text directly
 * costs a small fraction of that. Everything that parses JSON, and every
 * front end that renders documents, uses jansson. */
#ifndef TN_JSON_H
#define TN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tn_buf.h"

/* A JSON string literal of s (UTF-8 passed through; '"', '\\' and control
 * characters escaped). s NULL writes null. */
bool tn_json_str(tn_buf *b, const char *s);
/* The same for the n bytes at s (NUL bytes among them escaped). */
bool tn_json_strn(tn_buf *b, const char *s, size_t n);
/* An object member name and colon, preceded by a comma unless the object
 * was just opened (the buffer ends in '{'). */
bool tn_json_key(tn_buf *b, const char *key);
bool tn_json_i64(tn_buf *b, int64_t v);

#endif
