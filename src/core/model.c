#include "model.h"

#include <stddef.h>
#include <string.h>

#include "tn_str.h"

#define TOKEN_MAX (KIND_BUFSZ - 1)
#define SOURCE_KEY_MAX (KEY_BUFSZ - 1)
#define UNIT_CODE_MAX (CODE_BUFSZ - 1)
#define GROUPS_MAX (GROUPS_BUFSZ - 1)
#define CLASS_MAX (KIND_BUFSZ - 1)

static const char *const person_state_names[PSTATE_MAX] = {
    [PSTATE_PENDING] = "pending", [PSTATE_ACTIVE] = "active",     [PSTATE_GRACE] = "grace",
    [PSTATE_CLOSED] = "closed",   [PSTATE_ARCHIVED] = "archived", [PSTATE_ERASED] = "erased",
};

static const char *const account_state_names[ASTATE_MAX] = {
    [ASTATE_ACTIVE] = "active", [ASTATE_GRACE] = "grace",     [ASTATE_CLOSED] = "closed",
    [ASTATE_LOCKED] = "locked", [ASTATE_PENDING] = "pending",
};

/* Out-of-range values print as "unknown" rather than NULL: these names go
 * straight into output and logs, where a NULL would be a crash. */
const char *person_state_name(person_state s)
{
    return (unsigned)s < PSTATE_MAX ? person_state_names[s] : "unknown";
}

bool person_state_parse(const char *s, person_state *out)
{
    for (int i = 0; s && i < PSTATE_MAX; i++) {
        if (strcmp(s, person_state_names[i]) == 0) {
            if (out)
                *out = (person_state)i;
            return true;
        }
    }
    return false;
}

const char *account_state_name(account_state s)
{
    return (unsigned)s < ASTATE_MAX ? account_state_names[s] : "unknown";
}

bool account_state_parse(const char *s, account_state *out)
{
    for (int i = 0; s && i < ASTATE_MAX; i++) {
        if (strcmp(s, account_state_names[i]) == 0) {
            if (out)
                *out = (account_state)i;
            return true;
        }
    }
    return false;
}

tn_code model_check_token(const char *s, const char *field, tn_err *e)
{
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, field, "is required");
    if (!(s[0] >= 'a' && s[0] <= 'z'))
        return tn_err_set(e, TN_EINVAL, field, "must start with a letter a-z");
    size_t i;
    for (i = 1; s[i]; i++) {
        char c = s[i];
        if (i >= TOKEN_MAX)
            return tn_err_set(e, TN_EINVAL, field, "is longer than %d characters", TOKEN_MAX);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return tn_err_set(e, TN_EINVAL, field, "may contain only a-z, 0-9 and '_'");
    }
    return TN_OK;
}

tn_code model_check_source_key(const char *s, const char *field, tn_err *e)
{
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, field, "is required");
    size_t n = strnlen(s, SOURCE_KEY_MAX + 1);
    if (n > SOURCE_KEY_MAX)
        return tn_err_set(e, TN_EINVAL, field, "is longer than %d bytes", SOURCE_KEY_MAX);
    tn_code rc = text_validate(s, SOURCE_KEY_MAX, field, e);
    if (rc != TN_OK)
        return rc;
    /* Keys are matched byte for byte against the source's next feed; a
     * stray space would make the same record look like a new one. */
    if (s[0] == ' ' || s[n - 1] == ' ')
        return tn_err_set(e, TN_EINVAL, field, "must not start or end with a space");
    return TN_OK;
}

tn_code model_check_unit_code(const char *s, const char *field, tn_err *e)
{
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, field, "is required");
    size_t n = strnlen(s, UNIT_CODE_MAX + 1);
    if (n > UNIT_CODE_MAX)
        return tn_err_set(e, TN_EINVAL, field, "is longer than %d bytes", UNIT_CODE_MAX);
    tn_code rc = text_validate(s, UNIT_CODE_MAX, field, e);
    if (rc != TN_OK)
        return rc;
    if (s[0] == ' ' || s[n - 1] == ' ')
        return tn_err_set(e, TN_EINVAL, field, "must not start or end with a space");
    if (s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
        return tn_err_set(e, TN_EINVAL, field, "has an empty path segment");
    return TN_OK;
}

/* Span [*b, *end) of s with the spaces around it removed. */
static void trim_span(const char *s, size_t *b, size_t *end)
{
    while (*b < *end && s[*b] == ' ')
        (*b)++;
    while (*end > *b && s[*end - 1] == ' ')
        (*end)--;
}

/* Is the token t (n bytes) already one of the ';'-separated tokens in
 * list[0..len)? */
static bool groups_contains(const char *list, size_t len, const char *t, size_t n)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && list[j] != ';')
            j++;
        if (j - i == n && memcmp(list + i, t, n) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

tn_code model_check_groups(char *groups, const char *field, tn_err *e)
{
    if (!groups)
        return TN_OK;
    size_t len = strnlen(groups, GROUPS_MAX + 1);
    if (len > GROUPS_MAX)
        return tn_err_set(e, TN_EINVAL, field, "is longer than %d bytes", GROUPS_MAX);
    tn_code rc = text_validate(groups, GROUPS_MAX, field, e);
    if (rc != TN_OK)
        return rc;
    size_t b = 0, end = len;
    trim_span(groups, &b, &end);
    if (b == end) {
        groups[0] = '\0';
        return TN_OK;
    }
    /* Check every token before rewriting anything, so that a rejected
     * value is left as the caller gave it. */
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && groups[j] != ';')
            j++;
        size_t tb = i, te = j;
        trim_span(groups, &tb, &te);
        if (tb == te)
            return tn_err_set(e, TN_EINVAL, field, "has an empty group name");
        i = j + 1;
    }
    /* Rewrite in place: the write position never passes the read
     * position because trimming and dropping only shorten the text. */
    size_t w = 0;
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && groups[j] != ';')
            j++;
        size_t tb = i, te = j;
        trim_span(groups, &tb, &te);
        size_t tn = te - tb;
        if (!groups_contains(groups, w, groups + tb, tn)) {
            if (w > 0)
                groups[w++] = ';';
            memmove(groups + w, groups + tb, tn);
            w += tn;
        }
        i = j + 1;
    }
    groups[w] = '\0';
    return TN_OK;
}

static bool fixed_terminated(const char *buf, size_t cap)
{
    return memchr(buf, '\0', cap) != NULL;
}

/* A school class such as "7A", "9C", "ES1" or "1-2B": short, no spaces,
 * letters (Latin, as in names), digits and a few joiners. */
static tn_code check_class(const char *s, const char *field, tn_err *e)
{
    size_t n = strlen(s);
    if (n > CLASS_MAX)
        return tn_err_set(e, TN_EINVAL, field, "is longer than %d bytes", CLASS_MAX);
    size_t i = 0;
    while (i < n) {
        unsigned cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (k == 0)
            return tn_err_set(e, TN_EINVAL, field, "is not valid UTF-8");
        i += k;
        bool ok = (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
                  (cp >= '0' && cp <= '9') || cp == '-' || cp == '_' || cp == '.' ||
                  (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
        if (!ok)
            return tn_err_set(e, TN_EINVAL, field,
                              "may contain only letters, digits, '-', '_' and '.'");
    }
    return TN_OK;
}

tn_code affiliation_validate(const affiliation *a, tn_err *e)
{
    static const struct {
        size_t off, cap;
        const char *field;
    } fixed[] = {
        {offsetof(affiliation, person_id), UUID_BUFSZ, "person_id"},
        {offsetof(affiliation, kind), KIND_BUFSZ, "kind"},
        {offsetof(affiliation, source), KIND_BUFSZ, "source"},
        {offsetof(affiliation, source_key), KEY_BUFSZ, "source_key"},
        {offsetof(affiliation, org_unit), CODE_BUFSZ, "org_unit"},
        {offsetof(affiliation, title), TEXT_BUFSZ, "title"},
        {offsetof(affiliation, school), TEXT_BUFSZ, "school"},
        {offsetof(affiliation, class_), KIND_BUFSZ, "class"},
        {offsetof(affiliation, teaching_groups), GROUPS_BUFSZ, "teaching_groups"},
        {offsetof(affiliation, programme), TEXT_BUFSZ, "programme"},
        {offsetof(affiliation, manager_id), UUID_BUFSZ, "manager_id"},
        {offsetof(affiliation, sponsor_id), UUID_BUFSZ, "sponsor_id"},
        {offsetof(affiliation, end_reason), REASON_BUFSZ, "end_reason"},
    };
    if (!a)
        return tn_err_set(e, TN_EINTERNAL, NULL, "no affiliation");
    /* The struct may have been filled by memcpy from a row or a feed; an
     * unterminated field would make every check below read past it. */
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!fixed_terminated((const char *)a + fixed[i].off, fixed[i].cap))
            return tn_err_set(e, TN_EINVAL, fixed[i].field, "is too long");

    tn_code rc;
    if ((rc = model_check_token(a->kind, "kind", e)) != TN_OK)
        return rc;
    if ((rc = model_check_token(a->source, "source", e)) != TN_OK)
        return rc;
    if ((rc = model_check_source_key(a->source_key, "source_key", e)) != TN_OK)
        return rc;
    if (a->valid_from == TN_DATE_NONE)
        return tn_err_set(e, TN_EINVAL, "valid_from", "is required");
    if (a->valid_to != TN_DATE_NONE && a->valid_to < a->valid_from)
        return tn_err_set(e, TN_EINVAL, "valid_to", "ends before it starts");
    if (a->org_unit[0] && (rc = model_check_unit_code(a->org_unit, "org_unit", e)) != TN_OK)
        return rc;
    if ((rc = text_validate(a->title, TEXT_MAX_CHARS, "title", e)) != TN_OK)
        return rc;
    if ((rc = text_validate(a->school, TEXT_MAX_CHARS, "school", e)) != TN_OK)
        return rc;
    if ((rc = check_class(a->class_, "class", e)) != TN_OK)
        return rc;
    /* model_check_groups normalises in place; a is const, so check a copy. */
    char groups[GROUPS_BUFSZ];
    tn_strlcpy(groups, a->teaching_groups, sizeof groups);
    if ((rc = model_check_groups(groups, "teaching_groups", e)) != TN_OK)
        return rc;
    if ((rc = text_validate(a->programme, TEXT_MAX_CHARS, "programme", e)) != TN_OK)
        return rc;
    if (a->end_reason[0] && (rc = model_check_token(a->end_reason, "end_reason", e)) != TN_OK)
        return rc;
    return TN_OK;
}

bool affiliation_kind_known(const char *kind)
{
    static const char *const kinds[] = {
        "staff", "student", "pupil", "elected_official", "partner", "visitor",
    };
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}
