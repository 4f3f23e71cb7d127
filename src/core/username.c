#include "username.h"

#include <stdio.h>
#include <string.h>

#include "name.h"

#define PATTERN_MAX 256
#define PATTERN_FIELD "pattern"
#define FOLD_FIRST 0xC0
#define FOLD_LAST 0x24F

/* ASCII spelling of U+00C0..U+024F: the base letter, or two letters for
 * ligatures and letters conventionally written so (ß ss, æ ae, œ oe, þ th).
 * NULL marks non-letters (× ÷ and the click letters, which name_validate
 * refuses too); "" marks letters without a Latin base, which simply drop
 * out of a username. Derived from the Unicode decompositions and character
 * names, then checked by hand for the Nordic and Sámi letters. */
static const char *const fold_table[FOLD_LAST - FOLD_FIRST + 1] = {
    /* U+00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
    /* U+00C8 */ "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00D0 */ "d", "n", "o", "o", "o", "o", "o", NULL,
    /* U+00D8 */ "o", "u", "u", "u", "u", "y", "th", "ss",
    /* U+00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
    /* U+00E8 */ "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00F0 */ "d", "n", "o", "o", "o", "o", "o", NULL,
    /* U+00F8 */ "o", "u", "u", "u", "u", "y", "th", "y",
    /* U+0100 */ "a", "a", "a", "a", "a", "a", "c", "c",
    /* U+0108 */ "c", "c", "c", "c", "c", "c", "d", "d",
    /* U+0110 */ "d", "d", "e", "e", "e", "e", "e", "e",
    /* U+0118 */ "e", "e", "e", "e", "g", "g", "g", "g",
    /* U+0120 */ "g", "g", "g", "g", "h", "h", "h", "h",
    /* U+0128 */ "i", "i", "i", "i", "i", "i", "i", "i",
    /* U+0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k",
    /* U+0138 */ "k", "l", "l", "l", "l", "l", "l", "l",
    /* U+0140 */ "l", "l", "l", "n", "n", "n", "n", "n",
    /* U+0148 */ "n", "n", "n", "n", "o", "o", "o", "o",
    /* U+0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r",
    /* U+0158 */ "r", "r", "s", "s", "s", "s", "s", "s",
    /* U+0160 */ "s", "s", "t", "t", "t", "t", "t", "t",
    /* U+0168 */ "u", "u", "u", "u", "u", "u", "u", "u",
    /* U+0170 */ "u", "u", "u", "u", "w", "w", "y", "y",
    /* U+0178 */ "y", "z", "z", "z", "z", "z", "z", "s",
    /* U+0180 */ "b", "b", "b", "b", "", "", "o", "c",
    /* U+0188 */ "c", "d", "d", "d", "d", "", "e", "e",
    /* U+0190 */ "e", "f", "f", "g", "g", "hv", "i", "i",
    /* U+0198 */ "k", "k", "l", "", "m", "n", "n", "o",
    /* U+01A0 */ "o", "o", "oi", "oi", "p", "p", "r", "",
    /* U+01A8 */ "", "s", "s", "t", "t", "t", "t", "u",
    /* U+01B0 */ "u", "u", "v", "y", "y", "z", "z", "z",
    /* U+01B8 */ "z", "z", "z", "", "", "", "", "w",
    /* U+01C0 */ NULL, NULL, NULL, NULL, "dz", "dz", "dz", "lj",
    /* U+01C8 */ "lj", "lj", "nj", "nj", "nj", "a", "a", "i",
    /* U+01D0 */ "i", "o", "o", "u", "u", "u", "u", "u",
    /* U+01D8 */ "u", "u", "u", "u", "u", "e", "a", "a",
    /* U+01E0 */ "a", "a", "ae", "ae", "g", "g", "g", "g",
    /* U+01E8 */ "k", "k", "o", "o", "o", "o", "z", "z",
    /* U+01F0 */ "j", "dz", "dz", "dz", "g", "g", "hv", "w",
    /* U+01F8 */ "n", "n", "a", "a", "ae", "ae", "o", "o",
    /* U+0200 */ "a", "a", "a", "a", "e", "e", "e", "e",
    /* U+0208 */ "i", "i", "i", "i", "o", "o", "o", "o",
    /* U+0210 */ "r", "r", "r", "r", "u", "u", "u", "u",
    /* U+0218 */ "s", "s", "t", "t", "g", "g", "h", "h",
    /* U+0220 */ "n", "d", "ou", "ou", "z", "z", "a", "a",
    /* U+0228 */ "e", "e", "o", "o", "o", "o", "o", "o",
    /* U+0230 */ "o", "o", "y", "y", "l", "n", "t", "j",
    /* U+0238 */ "db", "qp", "a", "c", "c", "l", "t", "s",
    /* U+0240 */ "z", "", "", "b", "u", "v", "e", "e",
    /* U+0248 */ "j", "j", "q", "q", "r", "r", "y", "y",
};

static bool u_is_sep(char c)
{
    return c == '.' || c == '-' || c == '_';
}

static bool u_is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool u_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Fold len bytes; bytes that do not decode are skipped rather than fatal,
 * so that a name which slipped past validation still yields something. */
static size_t fold_n(const char *s, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t w = 0;
    size_t i = 0;
    while (i < len && w + 1 < cap) {
        unsigned cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            i++;
            continue;
        }
        i += n;
        const char *letters = NULL;
        char one[2] = {0, 0};
        if (cp >= 'a' && cp <= 'z') {
            one[0] = (char)cp;
            letters = one;
        } else if (cp >= 'A' && cp <= 'Z') {
            one[0] = (char)(cp - 'A' + 'a');
            letters = one;
        } else if (cp >= FOLD_FIRST && cp <= FOLD_LAST) {
            letters = fold_table[cp - FOLD_FIRST];
        }
        for (; letters && *letters && w + 1 < cap; letters++)
            out[w++] = *letters;
    }
    out[w] = '\0';
    return w;
}

size_t uname_fold(const char *utf8, char *out, size_t cap)
{
    if (!utf8) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    return fold_n(utf8, strlen(utf8), out, cap);
}

typedef enum uname_part {
    PART_LITERAL,
    PART_GIVEN,
    PART_PREFERRED,
    PART_FAMILY,
    PART_INITIALS,
} uname_part;

typedef struct uname_tok {
    uname_part part;
    char lit;     /* PART_LITERAL */
    size_t limit; /* {given:N}, {family:N}; 0 = whole */
} uname_tok;

static bool lit_allowed(char c)
{
    return u_is_lower(c) || u_is_digit(c) || u_is_sep(c);
}

/* Read one element of the pattern at p; returns the bytes consumed, or 0
 * after filling e. */
static size_t uname_next(const char *p, uname_tok *t, tn_err *e)
{
    if (*p != '{') {
        if (*p == '}') {
            tn_err_set(e, TN_EINVAL, PATTERN_FIELD, "has a '}' without a '{'");
            return 0;
        }
        if (!lit_allowed(*p)) {
            tn_err_set(e, TN_EINVAL, PATTERN_FIELD,
                       "may contain only a-z, 0-9, '.', '-', '_' outside placeholders");
            return 0;
        }
        t->part = PART_LITERAL;
        t->lit = *p;
        t->limit = 0;
        return 1;
    }
    const char *close = strchr(p, '}');
    if (!close) {
        tn_err_set(e, TN_EINVAL, PATTERN_FIELD, "has a '{' without a '}'");
        return 0;
    }
    const char *name = p + 1;
    size_t inner = (size_t)(close - name);
    const char *colon = memchr(name, ':', inner);
    size_t nlen = colon ? (size_t)(colon - name) : inner;
    static const struct {
        const char *name;
        uname_part part;
        bool takes_n;
    } known[] = {
        {"given", PART_GIVEN, true},
        {"preferred", PART_PREFERRED, false},
        {"family", PART_FAMILY, true},
        {"initials", PART_INITIALS, false},
    };
    size_t k;
    for (k = 0; k < sizeof known / sizeof known[0]; k++)
        if (strlen(known[k].name) == nlen && memcmp(known[k].name, name, nlen) == 0)
            break;
    if (k == sizeof known / sizeof known[0]) {
        tn_err_set(e, TN_EINVAL, PATTERN_FIELD,
                   "has an unknown placeholder (known: {given}, {given:N}, {preferred}, "
                   "{family}, {family:N}, {initials})");
        return 0;
    }
    t->part = known[k].part;
    t->lit = 0;
    t->limit = 0;
    if (colon) {
        const char *d = colon + 1;
        size_t dn = (size_t)(close - d);
        if (!known[k].takes_n) {
            tn_err_set(e, TN_EINVAL, PATTERN_FIELD, "only {given} and {family} take a length");
            return 0;
        }
        size_t v = 0;
        for (size_t i = 0; i < dn; i++) {
            if (!u_is_digit(d[i]) || v > USERNAME_BUFSZ) {
                v = 0;
                break;
            }
            v = v * 10 + (size_t)(d[i] - '0');
        }
        if (dn == 0 || v < 1 || v > USERNAME_BUFSZ - 1) {
            tn_err_set(e, TN_EINVAL, PATTERN_FIELD, "placeholder length must be 1..%d",
                       USERNAME_BUFSZ - 1);
            return 0;
        }
        t->limit = v;
    }
    return (size_t)(close - p) + 1;
}

tn_code uname_pattern_check(const char *pattern, tn_err *e)
{
    if (!pattern || !*pattern)
        return tn_err_set(e, TN_EINVAL, PATTERN_FIELD, "is required");
    if (strnlen(pattern, PATTERN_MAX + 1) > PATTERN_MAX)
        return tn_err_set(e, TN_EINVAL, PATTERN_FIELD, "is longer than %d characters",
                          PATTERN_MAX);
    size_t placeholders = 0;
    const char *p = pattern;
    while (*p) {
        uname_tok t;
        size_t n = uname_next(p, &t, e);
        if (n == 0)
            return TN_EINVAL;
        /* A username must start with a letter; placeholders always yield
         * letters (or fail), so only a leading literal can break that. */
        if (p == pattern && t.part == PART_LITERAL && !u_is_lower(t.lit))
            return tn_err_set(e, TN_EINVAL, PATTERN_FIELD,
                              "must start with a letter or a placeholder");
        if (t.part != PART_LITERAL)
            placeholders++;
        p += n;
    }
    if (placeholders == 0)
        return tn_err_set(e, TN_EINVAL, PATTERN_FIELD, "must contain at least one name placeholder");
    return TN_OK;
}

/* Bounds of the next whitespace-separated word at or after *pos. */
static bool next_word(const char *s, size_t *pos, size_t *start, size_t *len)
{
    size_t i = *pos;
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    if (!s[i])
        return false;
    size_t b = i;
    while (s[i] && s[i] != ' ' && s[i] != '\t')
        i++;
    *start = b;
    *len = i - b;
    *pos = i;
    return true;
}

typedef struct uname_parts {
    char given[USERNAME_BUFSZ];
    char preferred[USERNAME_BUFSZ];
    char family[USERNAME_BUFSZ];
    char initials[USERNAME_BUFSZ];
    bool has_preferred; /* preferred came from the preferred name itself */
} uname_parts;

static void uname_fold_parts(const char *given, const char *preferred, const char *family,
                             uname_parts *ps)
{
    ps->given[0] = ps->preferred[0] = ps->initials[0] = '\0';
    size_t pos = 0, start, len;
    if (given && next_word(given, &pos, &start, &len))
        fold_n(given + start, len, ps->given, sizeof ps->given);
    /* Initials skip given names that fold to nothing rather than failing:
     * one non-Latin middle name should not block the whole pattern. */
    size_t ni = 0;
    pos = 0;
    while (given && ni + 1 < sizeof ps->initials && next_word(given, &pos, &start, &len)) {
        char first[USERNAME_BUFSZ];
        if (fold_n(given + start, len, first, sizeof first) > 0)
            ps->initials[ni++] = first[0];
    }
    ps->initials[ni] = '\0';
    /* A preferred name is one of the given names, so only its first word
     * counts; a caller passing all given names as "preferred" then gets
     * the first given name, the same as passing none. */
    pos = 0;
    ps->has_preferred = preferred && next_word(preferred, &pos, &start, &len);
    if (ps->has_preferred)
        fold_n(preferred + start, len, ps->preferred, sizeof ps->preferred);
    else
        memcpy(ps->preferred, ps->given, sizeof ps->preferred);
    uname_fold(family, ps->family, sizeof ps->family);
}

tn_code uname_expand(const char *pattern, const char *given, const char *preferred,
                     const char *family, size_t maxlen, char out[USERNAME_BUFSZ], tn_err *e)
{
    out[0] = '\0';
    if (maxlen < 1 || maxlen > USERNAME_BUFSZ - 1)
        return tn_err_set(e, TN_EUSAGE, "maxlen", "must be 1..%d", USERNAME_BUFSZ - 1);
    tn_code rc = uname_pattern_check(pattern, e);
    if (rc != TN_OK)
        return rc;

    uname_parts ps;
    uname_fold_parts(given, preferred, family, &ps);

    size_t w = 0;
    const char *p = pattern;
    while (*p) {
        uname_tok t = {0};
        size_t n = uname_next(p, &t, NULL);
        if (n == 0) { /* cannot happen: the pattern was checked above */
            out[0] = '\0';
            return tn_err_set(e, TN_EINTERNAL, PATTERN_FIELD, "pattern changed while in use");
        }
        p += n;
        if (t.part == PART_LITERAL) {
            if (w < maxlen)
                out[w++] = t.lit;
            continue;
        }
        const char *src = NULL;
        const char *field = NULL;
        switch (t.part) {
        case PART_GIVEN:
            src = ps.given, field = "given_names";
            break;
        case PART_PREFERRED:
            src = ps.preferred, field = ps.has_preferred ? "preferred_name" : "given_names";
            break;
        case PART_FAMILY:
            src = ps.family, field = "family_name";
            break;
        case PART_INITIALS:
        default:
            src = ps.initials, field = "given_names";
            break;
        }
        if (!*src) {
            out[0] = '\0';
            return tn_err_set(e, TN_EINVAL, field,
                              "has no Latin letters to build a username from; "
                              "set the username by hand");
        }
        for (size_t i = 0; src[i] && (t.limit == 0 || i < t.limit) && w < maxlen; i++)
            out[w++] = src[i];
    }
    while (w > 0 && u_is_sep(out[w - 1]))
        w--;
    out[w] = '\0';
    return TN_OK;
}

void uname_with_suffix(const char *base, unsigned n, size_t maxlen, char out[USERNAME_BUFSZ])
{
    char num[16];
    int nn = snprintf(num, sizeof num, "%u", n);
    size_t ndig = nn > 0 ? (size_t)nn : 0;
    if (maxlen > USERNAME_BUFSZ - 1)
        maxlen = USERNAME_BUFSZ - 1;
    out[0] = '\0';
    if (!base || ndig >= maxlen)
        return; /* no room for even one letter of the base: no candidate */
    size_t keep = strnlen(base, USERNAME_BUFSZ);
    if (keep + ndig > maxlen) {
        keep = maxlen - ndig;
        /* The cut may have landed just after a separator: "abc.2" reads
         * worse than "abc2" and looks like a different pattern. */
        while (keep > 0 && u_is_sep(base[keep - 1]))
            keep--;
    }
    if (keep == 0)
        return;
    memcpy(out, base, keep);
    memcpy(out + keep, num, ndig + 1);
}

tn_code uname_validate(const char *s, size_t maxlen, const char *field, tn_err *e)
{
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, field, "is required");
    size_t n = strlen(s);
    if (n > maxlen)
        return tn_err_set(e, TN_EINVAL, field, "is longer than %zu characters", maxlen);
    if (!u_is_lower(s[0]))
        return tn_err_set(e, TN_EINVAL, field, "must start with a letter a-z");
    for (size_t i = 0; i < n; i++)
        if (!u_is_lower(s[i]) && !u_is_digit(s[i]) && !u_is_sep(s[i]))
            return tn_err_set(e, TN_EINVAL, field,
                              "may contain only a-z, 0-9, '.', '-' and '_'");
    return TN_OK;
}
