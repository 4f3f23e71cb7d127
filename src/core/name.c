#include "name.h"

#include <stdint.h>
#include <string.h>

size_t utf8_decode(const char *s, size_t len, unsigned *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (len == 0)
        return 0;
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    unsigned min, v;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, v = c & 0x07;
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or > U+10FFFF */
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms would let "/" or NUL hide behind another spelling;
     * surrogates are not characters in UTF-8. */
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

bool utf8_valid(const char *s, size_t len, size_t *nchars)
{
    size_t count = 0;
    size_t i = 0;
    while (i < len) {
        uint64_t word; /* eight ASCII bytes at a time: most text */
        if (len - i >= 8 && (memcpy(&word, s + i, 8), (word & 0x8080808080808080u) == 0)) {
            i += 8;
            count += 8;
            continue;
        }
        if ((unsigned char)s[i] < 0x80) { /* most text: no decoding */
            i++;
            count++;
            continue;
        }
        unsigned cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
        count++;
    }
    if (nchars)
        *nchars = count;
    return true;
}

static bool is_control(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Latin letters only: the registry feeds systems (AD, mail, school
 * software) that cope with Latin-1 and Latin Extended-A/B, and limiting the
 * repertoire keeps look-alike letters from other scripts out of names.
 * × and ÷ sit inside Latin-1, and the click letters U+01C0..U+01C3 look
 * like | ‖ ǂ !, so they are refused although Unicode calls them letters. */
static bool name_is_letter(unsigned cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'))
        return true;
    if (cp < 0xC0 || cp > 0x24F)
        return false;
    return cp != 0xD7 && cp != 0xF7 && !(cp >= 0x1C0 && cp <= 0x1C3);
}

static bool is_separator(unsigned cp)
{
    return cp == ' ' || cp == '-' || cp == '\'' || cp == 0x2019;
}

tn_code name_validate(const char *s, const char *field, tn_err *e)
{
    /* Names are personal data too: messages describe, never quote. */
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, field, "is required");
    size_t len = strlen(s);
    size_t nchars = 0;
    if (!utf8_valid(s, len, &nchars))
        return tn_err_set(e, TN_EINVAL, field, "is not valid UTF-8");
    if (nchars > NAME_MAX_CHARS)
        return tn_err_set(e, TN_EINVAL, field, "is too long (at most %d characters)",
                          NAME_MAX_CHARS);

    bool prev_sep = false;
    bool first = true;
    size_t i = 0;
    while (i < len) {
        unsigned cp;
        i += utf8_decode(s + i, len - i, &cp);
        if (name_is_letter(cp)) {
            prev_sep = false;
        } else if (is_separator(cp)) {
            if (first)
                return tn_err_set(e, TN_EINVAL, field, "must start with a letter");
            if (prev_sep)
                return tn_err_set(e, TN_EINVAL, field,
                                  "has two separators in a row (space, hyphen or apostrophe)");
            prev_sep = true;
        } else if (cp >= '0' && cp <= '9') {
            return tn_err_set(e, TN_EINVAL, field, "must not contain digits");
        } else if (is_control(cp)) {
            return tn_err_set(e, TN_EINVAL, field, "must not contain control characters");
        } else {
            return tn_err_set(e, TN_EINVAL, field,
                              "contains a character that is not allowed in a name");
        }
        first = false;
    }
    if (prev_sep)
        return tn_err_set(e, TN_EINVAL, field, "must end with a letter");
    return TN_OK;
}

tn_code text_validate(const char *s, size_t maxchars, const char *field, tn_err *e)
{
    if (!s)
        return TN_OK;
    size_t len = strlen(s);
    size_t nchars = 0;
    if (!utf8_valid(s, len, &nchars))
        return tn_err_set(e, TN_EINVAL, field, "is not valid UTF-8");
    if (nchars > maxchars)
        return tn_err_set(e, TN_EINVAL, field, "is too long (at most %zu characters)", maxchars);
    size_t i = 0;
    while (i < len) {
        unsigned cp;
        i += utf8_decode(s + i, len - i, &cp);
        if (is_control(cp))
            return tn_err_set(e, TN_EINVAL, field, "must not contain control characters");
    }
    return TN_OK;
}

/* Length of the whitespace sequence at s, or 0. NO-BREAK SPACE counts:
 * spreadsheets and HR exports put it between names. */
static size_t space_len(const char *s)
{
    unsigned char c = (unsigned char)s[0];
    if (c == ' ' || (c >= '\t' && c <= '\r'))
        return 1;
    if (c == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    return 0;
}

char *name_normalize_space(char *s)
{
    if (!s)
        return s;
    size_t r = 0, w = 0;
    bool pending = false;
    while (s[r]) {
        size_t n = space_len(s + r);
        if (n) {
            pending = w > 0;
            r += n;
            continue;
        }
        if (pending) {
            s[w++] = ' ';
            pending = false;
        }
        s[w++] = s[r++];
    }
    s[w] = '\0';
    return s;
}
