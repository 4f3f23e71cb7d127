#include "tn_json.h"

#include <inttypes.h>
#include <string.h>

bool tn_json_str(tn_buf *b, const char *s)
{
    if (!s)
        return tn_buf_puts(b, "null");
    bool ok = tn_buf_putc(b, '"');
    const char *run = s; /* start of the bytes not yet copied */
    const char *p = s;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        ok &= tn_buf_append(b, run, (size_t)(p - run));
        run = p + 1;
        if (c == '"')
            ok &= tn_buf_puts(b, "\\\"");
        else if (c == '\\')
            ok &= tn_buf_puts(b, "\\\\");
        else if (c == '\n')
            ok &= tn_buf_puts(b, "\\n");
        else if (c == '\t')
            ok &= tn_buf_puts(b, "\\t");
        else
            ok &= tn_buf_printf(b, "\\u%04x", c);
    }
    ok &= tn_buf_append(b, run, (size_t)(p - run));
    return ok && tn_buf_putc(b, '"');
}

bool tn_json_key(tn_buf *b, const char *key)
{
    bool ok = true;
    if (b->len > 0 && b->data[b->len - 1] != '{')
        ok &= tn_buf_putc(b, ',');
    ok &= tn_json_str(b, key);
    return ok && tn_buf_putc(b, ':');
}

bool tn_json_i64(tn_buf *b, int64_t v)
{
    return tn_buf_printf(b, "%" PRId64, v);
}
