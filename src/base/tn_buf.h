/* tn_buf — a growable byte buffer with a hard ceiling.
 *
 * Every buffer that grows from input carries a maximum size (curl's dynbuf
 * rule): appending past it fails with TN_EINVAL instead of growing. The
 * buffer owns its memory; tn_buf_free releases it. Contents are kept
 * NUL-terminated for convenience but may hold binary data. */
#ifndef TN_BUF_H
#define TN_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "tn_err.h"

typedef struct tn_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;   /* ceiling in bytes, excluding the terminator */
    bool toobig;  /* sticky: an append was refused */
} tn_buf;

void tn_buf_init(tn_buf *b, size_t max);
void tn_buf_free(tn_buf *b);
void tn_buf_reset(tn_buf *b);
/* Room for n more bytes now, so that a buffer of a known typical size is
 * allocated once rather than grown step by step. */
bool tn_buf_reserve(tn_buf *b, size_t n);
/* Appends return false (and set toobig) when the ceiling would be passed. */
bool tn_buf_append(tn_buf *b, const void *p, size_t n);
bool tn_buf_puts(tn_buf *b, const char *s);
bool tn_buf_putc(tn_buf *b, char c);
bool tn_buf_printf(tn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take ownership of the contents (NUL-terminated); the buffer is reset. */
char *tn_buf_steal(tn_buf *b);

#endif
