#include "tn_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tn_mem.h"

void tn_buf_init(tn_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->toobig = false;
}

void tn_buf_free(tn_buf *b)
{
    free(b->data);
    tn_buf_init(b, b->max);
}

void tn_buf_reset(tn_buf *b)
{
    b->len = 0;
    b->toobig = false;
    if (b->data)
        b->data[0] = '\0';
}

static bool reserve(tn_buf *b, size_t extra)
{
    if (b->toobig || extra > b->max || b->len > b->max - extra) {
        b->toobig = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
            cap *= 2;
        b->data = tn_realloc(b->data, cap);
        b->cap = cap;
    }
    return true;
}

bool tn_buf_reserve(tn_buf *b, size_t n)
{
    return reserve(b, n);
}

bool tn_buf_append(tn_buf *b, const void *p, size_t n)
{
    if (!reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool tn_buf_puts(tn_buf *b, const char *s)
{
    return tn_buf_append(b, s, strlen(s));
}

bool tn_buf_putc(tn_buf *b, char c)
{
    /* Change records and audit encodings are built a byte at a time in
     * places; with room already there, skip the general path. */
    if (!b->toobig && b->len + 1 < b->cap && b->len < b->max) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return true;
    }
    return tn_buf_append(b, &c, 1);
}

bool tn_buf_printf(tn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < sizeof small)
        return tn_buf_append(b, small, (size_t)n);
    if (!reserve(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

char *tn_buf_steal(tn_buf *b)
{
    char *p = b->data ? b->data : tn_strdup("");
    tn_buf_init(b, b->max);
    return p;
}
