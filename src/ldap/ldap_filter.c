/* Search filters (RFC 4511 4.5.1.7, RFC 4515): parsed from BER into an AST
 * in the operation's arena, with a cap on nesting, and evaluated with
 * three-valued logic against an entry's values. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_int.h"

/* ---- parsing ------------------------------------------------------------ */

static ld_filter *node(ld_arena *a, ld_fkind kind)
{
    ld_filter *f = ld_arena_alloc(a, sizeof *f);
    if (f) {
        memset(f, 0, sizeof *f);
        f->kind = kind;
        f->attr = -1;
    }
    return f;
}

static bool set_type(ld_filter *f, const struct berval *type)
{
    if (type->bv_len == 0)
        return false;
    f->type = *type;
    f->attr = ld_attr_lookup(type->bv_val, type->bv_len);
    return true;
}

static ld_filter *parse(BerElement *ber, ld_arena *a, unsigned depth, unsigned max,
                        bool *too_deep);

static ld_filter *parse_set(BerElement *ber, ld_arena *a, ld_fkind kind, unsigned depth,
                            unsigned max, bool *too_deep)
{
    ld_filter *f = node(a, kind), **tail;
    if (!f)
        return NULL;
    tail = &f->kid;
    ber_len_t len;
    char *last;
    /* An empty AND is true and an empty OR false (RFC 4526). */
    for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
         t = ber_next_element(ber, &len, last)) {
        ld_filter *k = parse(ber, a, depth + 1, max, too_deep);
        if (!k)
            return NULL;
        *tail = k;
        tail = &k->next;
    }
    return f;
}

static ld_filter *parse_substrings(BerElement *ber, ld_arena *a)
{
    ld_filter *f = node(a, LD_F_SUB);
    struct berval type;
    if (!f || ber_scanf(ber, "{m", &type) == LBER_ERROR || !set_type(f, &type))
        return NULL;
    ber_len_t len;
    char *last;
    int n = 0;
    struct berval parts[64];
    ber_tag_t kinds[64];
    for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
         t = ber_next_element(ber, &len, last)) {
        if (n == 64)
            return NULL;
        if (t != 0x80 && t != 0x81 && t != 0x82)
            return NULL;
        kinds[n] = t;
        if (ber_scanf(ber, "m", &parts[n]) == LBER_ERROR || parts[n].bv_len == 0)
            return NULL;
        n++;
    }
    if (n == 0 || ber_scanf(ber, "}") == LBER_ERROR)
        return NULL;
    f->any = ld_arena_alloc(a, sizeof *f->any * (size_t)n);
    if (!f->any)
        return NULL;
    for (int i = 0; i < n; i++) {
        /* initial only first, final only last, each at most once */
        if (kinds[i] == 0x80) {
            if (i != 0)
                return NULL;
            f->initial = parts[i];
        } else if (kinds[i] == 0x82) {
            if (i != n - 1)
                return NULL;
            f->final_ = parts[i];
        } else {
            f->any[f->nany++] = parts[i];
        }
    }
    return f;
}

static ld_filter *parse_extensible(BerElement *ber, ld_arena *a)
{
    ld_filter *f = node(a, LD_F_EXT);
    ber_len_t len;
    if (!f || ber_skip_tag(ber, &len) == LBER_DEFAULT)
        return NULL;
    struct berval rule = {0, NULL}, type = {0, NULL};
    ber_tag_t t = ber_peek_tag(ber, &len);
    if (t == 0x81) {
        if (ber_scanf(ber, "m", &rule) == LBER_ERROR)
            return NULL;
        t = ber_peek_tag(ber, &len);
    }
    if (t == 0x82) {
        if (ber_scanf(ber, "m", &type) == LBER_ERROR || !set_type(f, &type))
            return NULL;
        t = ber_peek_tag(ber, &len);
    }
    if (t != 0x83 || ber_scanf(ber, "m", &f->value) == LBER_ERROR)
        return NULL;
    t = ber_peek_tag(ber, &len);
    if (t == 0x84) {
        ber_int_t dn;
        if (ber_scanf(ber, "b", &dn) == LBER_ERROR)
            return NULL;
    }
    if (!rule.bv_val && !type.bv_val)
        return NULL; /* one of them is required */
    return f;
}

static ld_filter *parse(BerElement *ber, ld_arena *a, unsigned depth, unsigned max,
                        bool *too_deep)
{
    if (depth > max) {
        *too_deep = true;
        return NULL;
    }
    ber_len_t len;
    ber_tag_t tag = ber_peek_tag(ber, &len);
    ld_filter *f;
    struct berval type;
    switch (tag) {
    case 0xa0:
        return parse_set(ber, a, LD_F_AND, depth, max, too_deep);
    case 0xa1:
        return parse_set(ber, a, LD_F_OR, depth, max, too_deep);
    case 0xa2:
        f = node(a, LD_F_NOT);
        if (!f || ber_skip_tag(ber, &len) == LBER_DEFAULT)
            return NULL;
        f->kid = parse(ber, a, depth + 1, max, too_deep);
        return f->kid ? f : NULL;
    case 0xa3:
    case 0xa5:
    case 0xa6:
    case 0xa8:
        f = node(a, tag == 0xa3 ? LD_F_EQ : tag == 0xa5 ? LD_F_GE : tag == 0xa6 ? LD_F_LE
                                                                                  : LD_F_APPROX);
        if (!f || ber_scanf(ber, "{mm}", &type, &f->value) == LBER_ERROR || !set_type(f, &type))
            return NULL;
        return f;
    case 0xa4:
        return parse_substrings(ber, a);
    case 0x87:
        f = node(a, LD_F_PRESENT);
        if (!f || ber_scanf(ber, "m", &type) == LBER_ERROR || !set_type(f, &type))
            return NULL;
        return f;
    case 0xa9:
        return parse_extensible(ber, a);
    default:
        return NULL;
    }
}

ld_filter *ld_filter_parse(BerElement *ber, ld_arena *a, unsigned max_depth, bool *too_deep)
{
    *too_deep = false;
    return parse(ber, a, 1, max_depth, too_deep);
}

static bool uid_term(const ld_filter *f, char *out, size_t cap)
{
    if (f->kind != LD_F_EQ || f->attr != LD_A_UID || f->value.bv_len == 0 ||
        f->value.bv_len >= cap || memchr(f->value.bv_val, '\0', f->value.bv_len))
        return false;
    for (size_t i = 0; i < f->value.bv_len; i++)
        out[i] = (char)tolower((unsigned char)f->value.bv_val[i]);
    out[f->value.bv_len] = '\0';
    return true;
}

bool ld_filter_uid(const ld_filter *f, char *out, size_t cap)
{
    if (uid_term(f, out, cap))
        return true;
    if (f->kind == LD_F_AND)
        for (const ld_filter *k = f->kid; k; k = k->next)
            if (uid_term(k, out, cap))
                return true;
    return false;
}

/* ---- matching ----------------------------------------------------------- */

#define NORM_MAX 1024

/* The form compared by the attribute's matching rule: case-folded (ASCII)
 * with runs of spaces collapsed for strings; digits and '+' only for
 * telephone numbers. false: too long to compare. */
static bool norm(int attr, const char *in, size_t len, char *out, size_t *outlen)
{
    const ld_attr_info *ai = attr >= 0 ? ld_attr_get(attr) : NULL;
    size_t n = 0;
    bool phone = ai && ai->syntax == LD_SYN_PHONE;
    bool space = true; /* drops leading spaces */
    /* DN values (member, memberOf) compare in normalised form. */
    char dnb[NORM_MAX];
    if (ai && ai->syntax == LD_SYN_DN && ld_dn_norm(in, len, dnb, sizeof dnb)) {
        in = dnb;
        len = strlen(dnb);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (phone) {
            if (c == ' ' || c == '-')
                continue;
        } else if (c == ' ') {
            if (space)
                continue;
            space = true;
        } else {
            space = false;
        }
        if (n == NORM_MAX)
            return false;
        out[n++] = (char)tolower(c);
    }
    while (n > 0 && out[n - 1] == ' ' && !phone)
        n--;
    *outlen = n;
    return true;
}

static bool parse_int(const char *s, size_t len, long long *out)
{
    char buf[24];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (*end || end == buf)
        return false;
    *out = v;
    return true;
}

/* <0, 0, >0 like strcmp; *ok false when the values cannot be ordered. */
static int order(int attr, const char *a, size_t alen, const char *b, size_t blen, bool *ok)
{
    *ok = true;
    const ld_attr_info *ai = ld_attr_get(attr);
    if (ai && ai->syntax == LD_SYN_INTEGER) {
        long long x, y;
        if (!parse_int(a, alen, &x) || !parse_int(b, blen, &y)) {
            *ok = false;
            return 0;
        }
        return x < y ? -1 : x > y;
    }
    char na[NORM_MAX], nb[NORM_MAX];
    size_t la, lb;
    if (!norm(attr, a, alen, na, &la) || !norm(attr, b, blen, nb, &lb)) {
        *ok = false;
        return 0;
    }
    int c = memcmp(na, nb, la < lb ? la : lb);
    return c ? c : (la < lb ? -1 : la > lb);
}

bool ld_value_equal(int attr, const char *a, size_t alen, const char *b, size_t blen)
{
    bool ok;
    return order(attr, a, alen, b, blen, &ok) == 0 && ok;
}

static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0)
        return hay;
    return memmem(hay, hlen, needle, nlen);
}

static bool substr_match(const ld_filter *f, const char *v, size_t vlen)
{
    char nv[NORM_MAX], np[NORM_MAX];
    size_t lv, lp;
    if (!norm(f->attr, v, vlen, nv, &lv))
        return false;
    const char *p = nv, *end = nv + lv;
    if (f->initial.bv_val) {
        if (!norm(f->attr, f->initial.bv_val, f->initial.bv_len, np, &lp) ||
            lp > (size_t)(end - p) || memcmp(p, np, lp) != 0)
            return false;
        p += lp;
    }
    for (int i = 0; i < f->nany; i++) {
        if (!norm(f->attr, f->any[i].bv_val, f->any[i].bv_len, np, &lp))
            return false;
        const char *hit = find(p, (size_t)(end - p), np, lp);
        if (!hit)
            return false;
        p = hit + lp;
    }
    if (f->final_.bv_val) {
        if (!norm(f->attr, f->final_.bv_val, f->final_.bv_len, np, &lp) ||
            lp > (size_t)(end - p) || memcmp(end - lp, np, lp) != 0)
            return false;
    }
    return true;
}

static ld_tri eval_values(const ld_filter *f, const ld_view *e)
{
    if (f->attr < 0)
        return LD_UNDEF;
    if (e->kind == LD_E_GROUP && (f->attr == LD_A_MEMBER || f->attr == LD_A_MEMBERUID))
        return ld_group_eval_members(f, e);
    ld_vals vals;
    ld_values(e, f->attr, &vals);
    for (int i = 0; i < vals.n; i++) {
        bool ok = true;
        int c;
        switch (f->kind) {
        case LD_F_EQ:
        case LD_F_APPROX:
            if (ld_value_equal(f->attr, vals.v[i], vals.len[i], f->value.bv_val, f->value.bv_len))
                return LD_TRUE;
            break;
        case LD_F_GE:
            c = order(f->attr, vals.v[i], vals.len[i], f->value.bv_val, f->value.bv_len, &ok);
            if (ok && c >= 0)
                return LD_TRUE;
            break;
        case LD_F_LE:
            c = order(f->attr, vals.v[i], vals.len[i], f->value.bv_val, f->value.bv_len, &ok);
            if (ok && c <= 0)
                return LD_TRUE;
            break;
        case LD_F_SUB:
            if (substr_match(f, vals.v[i], vals.len[i]))
                return LD_TRUE;
            break;
        default:
            return LD_UNDEF;
        }
    }
    return LD_FALSE;
}

ld_tri ld_filter_eval(const ld_filter *f, const ld_view *e)
{
    ld_tri r;
    switch (f->kind) {
    case LD_F_AND:
        r = LD_TRUE;
        for (const ld_filter *k = f->kid; k; k = k->next) {
            ld_tri x = ld_filter_eval(k, e);
            if (x == LD_FALSE)
                return LD_FALSE;
            if (x == LD_UNDEF)
                r = LD_UNDEF;
        }
        return r;
    case LD_F_OR:
        r = LD_FALSE;
        for (const ld_filter *k = f->kid; k; k = k->next) {
            ld_tri x = ld_filter_eval(k, e);
            if (x == LD_TRUE)
                return LD_TRUE;
            if (x == LD_UNDEF)
                r = LD_UNDEF;
        }
        return r;
    case LD_F_NOT:
        r = ld_filter_eval(f->kid, e);
        return r == LD_UNDEF ? LD_UNDEF : r == LD_TRUE ? LD_FALSE : LD_TRUE;
    case LD_F_PRESENT: {
        if (f->attr < 0)
            return LD_FALSE;
        if (e->kind == LD_E_GROUP && (f->attr == LD_A_MEMBER || f->attr == LD_A_MEMBERUID))
            return ld_group_eval_members(f, e);
        ld_vals vals;
        ld_values(e, f->attr, &vals);
        return vals.n > 0 ? LD_TRUE : LD_FALSE;
    }
    case LD_F_EXT:
        /* No extensible matching rules are implemented: Undefined. */
        return LD_UNDEF;
    default:
        return eval_values(f, e);
    }
}

bool ld_filter_match_value(const ld_filter *f, const char *v, size_t len)
{
    bool ok = true;
    int c;
    switch (f->kind) {
    case LD_F_EQ:
    case LD_F_APPROX:
        return ld_value_equal(f->attr, v, len, f->value.bv_val, f->value.bv_len);
    case LD_F_GE:
        c = order(f->attr, v, len, f->value.bv_val, f->value.bv_len, &ok);
        return ok && c >= 0;
    case LD_F_LE:
        c = order(f->attr, v, len, f->value.bv_val, f->value.bv_len, &ok);
        return ok && c <= 0;
    case LD_F_SUB:
        return substr_match(f, v, len);
    default:
        return false;
    }
}
