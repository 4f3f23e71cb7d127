/* The PATCH path parser (scim_path.h), built on the filter parser's
 * attribute paths and value filters. */
#include "scim_path.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tn_mem.h"
#include "tn_str.h"

void scim_patch_path_free(scim_patch_path *p)
{
    scim_path_clear(&p->attr);
    scim_filter_free(p->filter);
    free(p->sub);
    memset(p, 0, sizeof *p);
}

static tn_code bad(tn_err *e, size_t at, const char *why)
{
    return tn_err_set(e, TN_EINVAL, "path", "at offset %zu: %s", at, why);
}

tn_code scim_patch_path_parse(const char *text, size_t len, scim_patch_path *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return bad(e, 0, "the path is empty");
    if (len > SCIM_FILTER_MAX)
        return tn_err_set(e, TN_EINVAL, "path", "longer than %d bytes", SCIM_FILTER_MAX);
    if (memchr(text, '\0', len))
        return tn_err_set(e, TN_EINVAL, "path", "contains a NUL byte");
    size_t pos = 0;
    if (!scim_path_parse_at(text, len, &pos, &out->attr, e)) {
        if (e)
            tn_strlcpy(e->field, "path", sizeof e->field);
        scim_patch_path_free(out);
        return TN_EINVAL;
    }
    if (pos < len && text[pos] == '[') {
        if (out->attr.sub) {
            scim_patch_path_free(out);
            return bad(e, pos, "a value filter follows a multi-valued attribute, not a sub-attribute");
        }
        /* The filter runs to the matching ']' (strings may hold ']'). */
        size_t start = ++pos;
        bool in_str = false;
        while (pos < len && (in_str || text[pos] != ']')) {
            if (text[pos] == '"')
                in_str = !in_str;
            else if (in_str && text[pos] == '\\')
                pos++;
            pos++;
        }
        if (pos >= len) {
            scim_patch_path_free(out);
            return bad(e, start, "expected ']'");
        }
        tn_err fe;
        tn_err_clear(&fe);
        out->filter = scim_filter_parse(text + start, pos - start, &fe);
        if (!out->filter) {
            scim_patch_path_free(out);
            return tn_err_set(e, TN_EINVAL, "path", "in the value filter: %s", fe.msg);
        }
        pos++;
        if (pos < len) {
            if (text[pos] != '.') {
                scim_patch_path_free(out);
                return bad(e, pos, "expected '.' and a sub-attribute after ']'");
            }
            size_t s = ++pos;
            while (pos < len && (isalnum((unsigned char)text[pos]) || text[pos] == '-' ||
                                 text[pos] == '_' || text[pos] == '$'))
                pos++;
            if (pos == s || pos - s > 64 || !isalpha((unsigned char)text[s])) {
                scim_patch_path_free(out);
                return bad(e, s, "invalid sub-attribute name");
            }
            out->sub = tn_malloc(pos - s + 1);
            memcpy(out->sub, text + s, pos - s);
            out->sub[pos - s] = '\0';
        }
    }
    if (pos != len) {
        scim_patch_path_free(out);
        return bad(e, pos, "unexpected text after the path");
    }
    return TN_OK;
}
