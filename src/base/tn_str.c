#include "tn_str.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

bool tn_strlcpy(char *dst, const char *src, size_t cap)
{
    return tn_strlcpyn(dst, src, strlen(src), cap);
}

bool tn_strlcpyn(char *dst, const char *src, size_t n, size_t cap)
{
    if (cap == 0)
        return n == 0;
    size_t take = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, take);
    dst[take] = '\0';
    return take == n;
}

char *tn_trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
    return s;
}

bool tn_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    bool neg = false;
    const char *p = s;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (!*p)
        return false;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (!neg && v > (uint64_t)INT64_MAX)
        return false;
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

bool tn_str_empty(const char *s)
{
    return !s || !*s;
}

bool tn_str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

bool tn_csv_formula_risk(const char *v)
{
    if (!v)
        return false;
    switch (v[0]) {
    case '=':
    case '@':
    case '\t':
    case '\r':
        return true;
    case '+':
    case '-':
        for (const char *p = v + 1; *p; p++)
            if (!((*p >= '0' && *p <= '9') || *p == ' ' || *p == '.' || *p == '-' || *p == '(' ||
                  *p == ')'))
                return true;
        return false;
    default:
        return false;
    }
}

bool tn_str_startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool tn_list_next(const char **cursor, const char **item, size_t *len)
{
    const char *p = *cursor;
    while (*p == ' ' || *p == ',')
        p++;
    const char *q = p;
    while (*q && *q != ',')
        q++;
    size_t n = (size_t)(q - p);
    while (n && p[n - 1] == ' ')
        n--;
    *cursor = q;
    *item = p;
    *len = n;
    return n > 0; /* p stops only at a character that can start an item, or the end */
}
