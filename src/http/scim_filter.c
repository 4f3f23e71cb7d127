/* The SCIM filter parser and evaluator (scim_filter.h): a recursive descent
 * over RFC 7644's grammar with "not" binding tighter than "and", and "and"
 * tighter than "or". */
#include "scim_filter.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tn_mem.h"

typedef struct parser {
    const char *s;
    size_t n, i;
    int depth;
    bool in_valpath;
    tn_err *e;
    bool failed;
} parser;

static bool perr(parser *p, const char *what)
{
    if (!p->failed)
        tn_err_set(p->e, TN_EINVAL, "filter", "at offset %zu: %s", p->i, what);
    p->failed = true;
    return false;
}

static void skip_ws(parser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t'))
        p->i++;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '$' || c == ':' || c == '.';
}

/* A keyword (case-insensitive) followed by a non-name character. */
static bool at_word(const parser *p, const char *w)
{
    size_t k = strlen(w);
    if (p->n - p->i < k || strncasecmp(p->s + p->i, w, k) != 0)
        return false;
    return p->i + k == p->n || !is_name_char(p->s[p->i + k]);
}

static char *dupn(const char *s, size_t n)
{
    char *d = tn_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static bool valid_name(const char *s, size_t n, bool sub)
{
    if (n == 0 || n > 64)
        return false;
    if (sub && n == 4 && memcmp(s, "$ref", 4) == 0)
        return true;
    if (!isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

void scim_path_clear(sf_path *p)
{
    free(p->uri);
    free(p->attr);
    free(p->sub);
    memset(p, 0, sizeof *p);
}

static bool path_at(parser *p, sf_path *out)
{
    memset(out, 0, sizeof *out);
    size_t start = p->i;
    while (p->i < p->n && is_name_char(p->s[p->i]))
        p->i++;
    size_t len = p->i - start;
    if (len == 0)
        return perr(p, "expected an attribute name");
    if (len > 512) {
        p->i = start;
        return perr(p, "attribute path too long");
    }
    const char *t = p->s + start;
    size_t name_off = 0;
    /* A schema URI ends at the last ':'; URIs contain dots ("2.0"), so
     * the sub-attribute is only looked for after it. */
    for (size_t k = len; k > 0; k--)
        if (t[k - 1] == ':') {
            name_off = k;
            break;
        }
    if (name_off) {
        if (name_off < 5 || strncasecmp(t, "urn:", 4) != 0) {
            p->i = start;
            return perr(p, "an attribute URI must be a urn: followed by ':' and a name");
        }
        out->uri = dupn(t, name_off - 1);
    }
    const char *name = t + name_off;
    size_t nlen = len - name_off;
    const char *dot = memchr(name, '.', nlen);
    size_t alen = dot ? (size_t)(dot - name) : nlen;
    if (!valid_name(name, alen, false)) {
        p->i = start + name_off;
        scim_path_clear(out);
        return perr(p, "invalid attribute name");
    }
    out->attr = dupn(name, alen);
    if (dot) {
        size_t slen = nlen - alen - 1;
        if (!valid_name(dot + 1, slen, true)) {
            p->i = start + name_off + alen + 1;
            scim_path_clear(out);
            return perr(p, "invalid sub-attribute name");
        }
        out->sub = dupn(dot + 1, slen);
    }
    return true;
}

bool scim_path_parse_at(const char *text, size_t len, size_t *pos, sf_path *out, tn_err *e)
{
    parser p = {text, len, *pos, 0, false, e, false};
    bool ok = path_at(&p, out);
    *pos = p.i;
    return ok;
}

static sf_node *node_new(sf_kind k)
{
    sf_node *n = tn_calloc(1, sizeof *n);
    n->kind = k;
    return n;
}

void scim_filter_free(sf_node *n)
{
    if (!n)
        return;
    scim_filter_free(n->l);
    scim_filter_free(n->r);
    scim_path_clear(&n->path);
    if (n->value)
        json_decref(n->value);
    free(n);
}

static json_t *literal(parser *p)
{
    size_t start = p->i;
    if (p->i < p->n && p->s[p->i] == '"') {
        p->i++;
        while (p->i < p->n && p->s[p->i] != '"') {
            if (p->s[p->i] == '\\')
                p->i++;
            p->i++;
        }
        if (p->i >= p->n) {
            p->i = start;
            perr(p, "unterminated string");
            return NULL;
        }
        p->i++;
    } else {
        while (p->i < p->n && p->s[p->i] != ' ' && p->s[p->i] != ')' && p->s[p->i] != ']')
            p->i++;
    }
    if (p->i == start) {
        perr(p, "expected a value: a string, number, true, false or null");
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(p->s + start, p->i - start, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK,
                           &je);
    if (!v || json_is_object(v) || json_is_array(v) || je.position != (int)(p->i - start)) {
        if (v)
            json_decref(v);
        p->i = start;
        perr(p, "expected a value: a string, number, true, false or null");
        return NULL;
    }
    return v;
}

static const struct {
    const char *word;
    sf_op op;
} OPS[] = {{"eq", SF_EQ}, {"ne", SF_NE}, {"co", SF_CO}, {"sw", SF_SW}, {"ew", SF_EW},
           {"gt", SF_GT}, {"ge", SF_GE}, {"lt", SF_LT}, {"le", SF_LE}};

static sf_node *or_expr(parser *p);

static sf_node *attr_expr(parser *p)
{
    sf_path path;
    if (!path_at(p, &path))
        return NULL;
    sf_node *n = NULL;
    if (p->i < p->n && p->s[p->i] == '[') {
        if (p->in_valpath) {
            scim_path_clear(&path);
            perr(p, "value paths do not nest");
            return NULL;
        }
        if (path.sub) {
            scim_path_clear(&path);
            perr(p, "a value path filters a multi-valued attribute, not a sub-attribute");
            return NULL;
        }
        p->i++;
        p->in_valpath = true;
        sf_node *inner = or_expr(p);
        p->in_valpath = false;
        skip_ws(p);
        if (!inner || p->i >= p->n || p->s[p->i] != ']') {
            scim_filter_free(inner);
            scim_path_clear(&path);
            perr(p, "expected ']'");
            return NULL;
        }
        p->i++;
        n = node_new(SF_VALPATH);
        n->path = path;
        n->l = inner;
        return n;
    }
    skip_ws(p);
    if (at_word(p, "pr")) {
        p->i += 2;
        n = node_new(SF_PR);
        n->path = path;
        return n;
    }
    for (size_t k = 0; k < sizeof OPS / sizeof OPS[0]; k++) {
        if (!at_word(p, OPS[k].word))
            continue;
        p->i += 2;
        skip_ws(p);
        json_t *v = literal(p);
        if (!v) {
            scim_path_clear(&path);
            return NULL;
        }
        n = node_new(SF_CMP);
        n->op = OPS[k].op;
        n->path = path;
        n->value = v;
        return n;
    }
    scim_path_clear(&path);
    perr(p, "expected an operator: eq ne co sw ew gt ge lt le pr");
    return NULL;
}

static sf_node *unary(parser *p)
{
    skip_ws(p);
    if (++p->depth > SCIM_FILTER_DEPTH) {
        perr(p, "filter nested too deeply");
        return NULL;
    }
    sf_node *n = NULL;
    bool negate = false;
    if (at_word(p, "not")) {
        p->i += 3;
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != '(') {
            perr(p, "expected '(' after not");
            goto out;
        }
        negate = true;
    }
    if (p->i < p->n && p->s[p->i] == '(') {
        p->i++;
        n = or_expr(p);
        skip_ws(p);
        if (n && (p->i >= p->n || p->s[p->i] != ')')) {
            scim_filter_free(n);
            n = NULL;
            perr(p, "expected ')'");
            goto out;
        }
        if (n)
            p->i++;
        if (n && negate) {
            sf_node *m = node_new(SF_NOT);
            m->l = n;
            n = m;
        }
    } else {
        n = attr_expr(p);
    }
out:
    p->depth--;
    return n;
}

static sf_node *binary(parser *p, bool is_or)
{
    sf_node *l = is_or ? binary(p, false) : unary(p);
    while (l) {
        size_t save = p->i;
        skip_ws(p);
        const char *w = is_or ? "or" : "and";
        if (!at_word(p, w)) {
            p->i = save;
            break;
        }
        p->i += strlen(w);
        if (p->i >= p->n || p->s[p->i] != ' ') {
            perr(p, "expected a space after the logical operator");
            scim_filter_free(l);
            return NULL;
        }
        sf_node *r = is_or ? binary(p, false) : unary(p);
        if (!r) {
            scim_filter_free(l);
            return NULL;
        }
        sf_node *m = node_new(is_or ? SF_OR : SF_AND);
        m->l = l;
        m->r = r;
        l = m;
    }
    return l;
}

static sf_node *or_expr(parser *p)
{
    return binary(p, true);
}

sf_node *scim_filter_parse(const char *text, size_t len, tn_err *e)
{
    parser p = {text, len, 0, 0, false, e, false};
    if (len == 0) {
        perr(&p, "the filter is empty");
        return NULL;
    }
    if (len > SCIM_FILTER_MAX) {
        tn_err_set(e, TN_EINVAL, "filter", "longer than %d bytes", SCIM_FILTER_MAX);
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        tn_err_set(e, TN_EINVAL, "filter", "contains a NUL byte");
        return NULL;
    }
    sf_node *n = or_expr(&p);
    if (n) {
        skip_ws(&p);
        if (p.i != p.n) {
            scim_filter_free(n);
            perr(&p, "unexpected text after the filter");
            return NULL;
        }
    }
    return n;
}

/* ---- evaluation ---------------------------------------------------------- */

json_t *scim_obj_get(json_t *obj, const char *key)
{
    if (!json_is_object(obj) || !key)
        return NULL;
    json_t *v = json_object_get(obj, key);
    if (v)
        return v;
    const char *k;
    json_object_foreach(obj, k, v) {
        if (strcasecmp(k, key) == 0)
            return v;
    }
    return NULL;
}

json_t *scim_path_get(json_t *resource, const sf_path *p, bool *multi)
{
    json_t *base = resource;
    if (p->uri && strcasecmp(p->uri, SCIM_CORE_USER) != 0 &&
        strcasecmp(p->uri, SCIM_CORE_GROUP) != 0)
        base = scim_obj_get(resource, p->uri);
    json_t *v = scim_obj_get(base, p->attr);
    if (multi)
        *multi = json_is_array(v);
    return v;
}

bool scim_case_exact(const sf_path *p)
{
    static const char *const exact[] = {"id", "externalId", "employeeNumber", "identityNumber"};
    if (p->sub) {
        if (strcasecmp(p->attr, "meta") == 0)
            return strcasecmp(p->sub, "version") == 0 || strcasecmp(p->sub, "location") == 0;
        return strcasecmp(p->sub, "$ref") == 0;
    }
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcasecmp(p->attr, exact[i]) == 0)
            return true;
    return false;
}

/* A copy folded for comparison: ASCII letters, and the Latin-1 capitals
 * of UTF-8 (C3 80..C3 9E but the multiplication sign: Å Ä Ö É …), lower
 * case, so that Finnish and Swedish names compare without case. */
static char *fold(const char *s)
{
    size_t n = strlen(s);
    char *d = tn_malloc(n + 1);
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        else if (c == 0xC3 && i + 1 < n) {
            unsigned char c2 = (unsigned char)s[i + 1];
            d[i++] = (char)c;
            c = c2 >= 0x80 && c2 <= 0x9E && c2 != 0x97 ? (unsigned char)(c2 + 0x20) : c2;
        }
        d[i] = (char)c;
    }
    return d;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a, b);
}

static bool has_sub(const char *h, const char *n, int where)
{
    size_t hl = strlen(h), nl = strlen(n);
    if (nl > hl)
        return false;
    if (where == 1) /* sw */
        return strncmp(h, n, nl) == 0;
    if (where == 2) /* ew */
        return strcmp(h + hl - nl, n) == 0;
    return strstr(h, n) != NULL;
}

bool scim_compare(json_t *have, sf_op op, json_t *lit, bool case_exact)
{
    if (json_is_null(lit))
        return op == SF_EQ ? (!have || json_is_null(have)) : op == SF_NE ? (have && !json_is_null(have))
                                                                            : false;
    if (!have || json_is_null(have))
        return op == SF_NE;
    int c;
    if (json_is_string(have) && json_is_string(lit)) {
        char *h = case_exact ? NULL : fold(json_string_value(have));
        char *l = case_exact ? NULL : fold(json_string_value(lit));
        const char *hs = h ? h : json_string_value(have), *ls = l ? l : json_string_value(lit);
        int where = op == SF_CO ? 0 : op == SF_SW ? 1 : op == SF_EW ? 2 : -1;
        bool sub = where >= 0 && has_sub(hs, ls, where);
        c = cmp_str(hs, ls);
        free(h);
        free(l);
        if (where >= 0)
            return sub;
    } else if (json_is_number(have) && json_is_number(lit)) {
        double a = json_number_value(have), b = json_number_value(lit);
        c = a < b ? -1 : a > b ? 1 : 0;
        if (op == SF_CO || op == SF_SW || op == SF_EW)
            return false;
    } else if (json_is_boolean(have) && json_is_boolean(lit)) {
        if (op != SF_EQ && op != SF_NE)
            return false;
        c = json_is_true(have) == json_is_true(lit) ? 0 : 1;
    } else {
        return op == SF_NE;
    }
    switch (op) {
    case SF_EQ:
        return c == 0;
    case SF_NE:
        return c != 0;
    case SF_GT:
        return c > 0;
    case SF_GE:
        return c >= 0;
    case SF_LT:
        return c < 0;
    case SF_LE:
        return c <= 0;
    default:
        return false;
    }
}

static bool present(json_t *v)
{
    if (!v || json_is_null(v))
        return false;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    return true;
}

/* The scalar of one value for a comparison: a complex value compares by
 * its sub-attribute, or by "value" when none is named (RFC 7644). */
static json_t *scalar_of(json_t *v, const char *sub)
{
    if (json_is_object(v))
        return scim_obj_get(v, sub ? sub : "value");
    return sub ? NULL : v;
}

static bool match_cmp(const sf_node *f, json_t *res)
{
    json_t *v = scim_path_get(res, &f->path, NULL);
    bool exact = scim_case_exact(&f->path);
    if (f->kind == SF_PR) {
        if (json_is_array(v) && f->path.sub) {
            size_t i;
            json_t *el;
            json_array_foreach(v, i, el) {
                if (present(scim_obj_get(el, f->path.sub)))
                    return true;
            }
            return false;
        }
        return present(f->path.sub ? scim_obj_get(v, f->path.sub) : v);
    }
    if (json_is_array(v)) {
        /* Multi-valued: some value matches (ne: none equals). */
        if (f->op == SF_NE) {
            size_t i;
            json_t *el;
            json_array_foreach(v, i, el) {
                if (scim_compare(scalar_of(el, f->path.sub), SF_EQ, f->value, exact))
                    return false;
            }
            return true;
        }
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el) {
            if (scim_compare(scalar_of(el, f->path.sub), f->op, f->value, exact))
                return true;
        }
        return false;
    }
    json_t *s = f->path.sub ? scim_obj_get(v, f->path.sub) : (json_is_object(v) ? NULL : v);
    return scim_compare(s, f->op, f->value, exact);
}

bool scim_filter_match(const sf_node *f, json_t *res)
{
    switch (f->kind) {
    case SF_AND:
        return scim_filter_match(f->l, res) && scim_filter_match(f->r, res);
    case SF_OR:
        return scim_filter_match(f->l, res) || scim_filter_match(f->r, res);
    case SF_NOT:
        return !scim_filter_match(f->l, res);
    case SF_CMP:
    case SF_PR:
        return match_cmp(f, res);
    case SF_VALPATH: {
        json_t *v = scim_path_get(res, &f->path, NULL);
        if (json_is_object(v))
            return scim_filter_match(f->l, v);
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el) {
            if (json_is_object(el) && scim_filter_match(f->l, el))
                return true;
        }
        return false;
    }
    }
    return false;
}
