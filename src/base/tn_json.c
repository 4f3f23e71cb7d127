#include "tn_json.h"

#include <inttypes.h>
#include <string.h>

/* Whether any of the eight bytes in x must be escaped: a control
 * character, a quote or a backslash. The tests are the exact "has a byte less than"
 * and "has a zero byte" word tricks, so a clean word is skipped whole. */
static bool word_needs_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t quote = x ^ (ones * '"'), bslash = x ^ (ones * '\\');
    uint64_t hit = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
                   ((bslash - ones) & ~bslash);
    return (hit & highs) != 0;
}

/* The length of the prefix of s[0..n) that needs no escaping. */
static size_t clean_prefix(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        uint64_t x;
        if (n - i >= 8 && (memcpy(&x, s + i, 8), !word_needs_escape(x))) {
            i += 8;
            continue;
        }
        if (i == n)
            return i;
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return i;
        i++;
    }
}

/* Write pre, the n bytes at s and post straight into b, which has room. */
static void put_raw(tn_buf *b, const char *pre, const char *s, size_t n, const char *post)
{
    char *d = b->data + b->len;
    while (*pre)
        *d++ = *pre++;
    memcpy(d, s, n);
    d += n;
    while (*post)
        *d++ = *post++;
    *d = '\0';
    b->len = (size_t)(d - b->data);
}

/* The escaping path: s[0..clean) needs none, s[clean] does. */
static bool strn_escaped(tn_buf *b, const char *s, size_t n, size_t clean)
{
    bool ok = tn_buf_putc(b, '"');
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = clean; i < n; i += clean_prefix(s + i, n - i)) {
        unsigned char c = (unsigned char)s[i];
        ok &= tn_buf_append(b, s + run, i - run);
        run = ++i;
        if (c == '"')
            ok &= tn_buf_append(b, "\\\"", 2);
        else if (c == '\\')
            ok &= tn_buf_append(b, "\\\\", 2);
        else if (c == '\n')
            ok &= tn_buf_append(b, "\\n", 2);
        else if (c == '\t')
            ok &= tn_buf_append(b, "\\t", 2);
        else
            ok &= tn_buf_printf(b, "\\u%04x", c);
        if (i >= n)
            break;
    }
    ok &= tn_buf_append(b, s + run, n - run);
    return ok && tn_buf_putc(b, '"');
}

bool tn_json_strn(tn_buf *b, const char *s, size_t n)
{
    size_t clean = clean_prefix(s, n);
    if (clean < n)
        return strn_escaped(b, s, n, clean);
    if (n > SIZE_MAX - 2 || !tn_buf_reserve(b, n + 2))
        return false;
    put_raw(b, "\"", s, n, "\"");
    return true;
}

bool tn_json_str(tn_buf *b, const char *s)
{
    if (!s)
        return tn_buf_puts(b, "null");
    return tn_json_strn(b, s, strlen(s));
}

bool tn_json_key(tn_buf *b, const char *key)
{
    bool comma = b->len > 0 && b->data[b->len - 1] != '{';
    size_t n = strlen(key);
    if (clean_prefix(key, n) == n) { /* member names are: one reservation, no calls */
        if (n > SIZE_MAX - 4 || !tn_buf_reserve(b, n + 4))
            return false;
        put_raw(b, comma ? ",\"" : "\"", key, n, "\":");
        return true;
    }
    bool ok = !comma || tn_buf_putc(b, ',');
    ok &= tn_json_strn(b, key, n);
    return ok && tn_buf_putc(b, ':');
}

bool tn_json_i64(tn_buf *b, int64_t v)
{
    return tn_buf_printf(b, "%" PRId64, v);
}
