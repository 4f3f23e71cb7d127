/* The sources registry: which attributes each source system is
 * authoritative for and its precedence for shared person attributes. The
 * import reads it (svc_import.c); unregistered sources keep the built-in
 * precedence and own every shared attribute. */
#include <string.h>

#include "svc_internal.h"
#include "tn_str.h"

/* Attributes an owns list may name: the shared person attributes, then the
 * attributes of the source's own affiliations. */
static const char *const owned_attrs[] = {
    "given_names", "family_name", "preferred_name", "email", "phone",
    "org_unit", "title", "manager_key", "school", "class", "teaching_groups", "programme",
};

int64_t svc_source_default_precedence(const char *name)
{
    static const struct {
        const char *name;
        int rank;
    } ranks[] = {{"hr", 50}, {"officials", 40}, {"sis", 30}, {"pupils", 20}, {"sponsored", 10}};
    for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++)
        if (strcmp(name, ranks[i].name) == 0)
            return ranks[i].rank;
    return 5;
}

bool svc_source_owns(const char *owns, const char *attr)
{
    if (!owns || !*owns)
        return true;
    size_t n = strlen(attr);
    for (const char *p = owns; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, attr, n) == 0)
            return true;
        p += len + (end ? 1 : 0);
    }
    return false;
}

/* Check and normalise an owns list: known names, none twice. */
static tn_code check_owns(const char *in, char *out, size_t cap, tn_err *e)
{
    char buf[512];
    out[0] = '\0';
    if (!tn_strlcpy(buf, in, sizeof buf))
        return tn_err_set(e, TN_EINVAL, "owns", "is too long");
    bool seen[sizeof owned_attrs / sizeof owned_attrs[0]] = {false};
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        tn_trim(t);
        size_t i = 0;
        while (i < sizeof owned_attrs / sizeof owned_attrs[0] && strcmp(owned_attrs[i], t) != 0)
            i++;
        if (i == sizeof owned_attrs / sizeof owned_attrs[0])
            return tn_err_set(e, TN_EINVAL, "owns",
                              "unknown attribute %s (given_names, family_name, preferred_name, "
                              "email, phone, org_unit, title, manager_key, school, class, "
                              "teaching_groups, programme)",
                              t);
        if (seen[i])
            return tn_err_set(e, TN_EINVAL, "owns", "%s is named twice", t);
        seen[i] = true;
    }
    /* Stored in the canonical order, so that the same set compares equal. */
    for (size_t i = 0; i < sizeof owned_attrs / sizeof owned_attrs[0]; i++)
        if (seen[i]) {
            if (out[0])
                tn_strlcpy(out + strlen(out), ",", cap - strlen(out));
            tn_strlcpy(out + strlen(out), owned_attrs[i], cap - strlen(out));
        }
    return TN_OK;
}

tn_code svc_source_add(svc *s, const svc_actor *a, const svc_source *in, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_UNIT_WRITE, NULL, "source.add", e);
    if (rc != TN_OK)
        return rc;
    if ((rc = model_check_token(in->name, "name", e)) != TN_OK ||
        (rc = model_check_token(in->kind, "kind", e)) != TN_OK)
        return rc;
    store_source src, old;
    memset(&src, 0, sizeof src);
    memset(&old, 0, sizeof old); /* read below only when had, but formatted before the test */
    tn_strlcpy(src.name, in->name, sizeof src.name);
    tn_strlcpy(src.kind, in->kind, sizeof src.kind);
    if ((rc = check_owns(in->owns, src.owns, sizeof src.owns, e)) != TN_OK)
        return rc;
    if (in->precedence > 1000)
        return tn_err_set(e, TN_EINVAL, "precedence", "must be 0..1000");
    src.precedence =
        in->precedence < 0 ? svc_source_default_precedence(in->name) : in->precedence;
    src.require_known_units = in->require_known_units;
    src.created_at = src.updated_at = audit_now_us();
    bool had = false;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_source_put(s->st, &src, &old, &had, e);
    svc_changes ch;
    svc_changes_init(&ch);
    if (rc == TN_OK) {
        char a1[24], a2[24];
        if (!had || strcmp(old.kind, src.kind) != 0)
            svc_changes_add(&ch, "source.kind", had ? old.kind : NULL, src.kind);
        if (!had || strcmp(old.owns, src.owns) != 0)
            svc_changes_add(&ch, "source.owns", had ? old.owns : NULL, src.owns);
        if (!had || old.precedence != src.precedence) {
            snprintf(a1, sizeof a1, "%lld", (long long)old.precedence);
            snprintf(a2, sizeof a2, "%lld", (long long)src.precedence);
            svc_changes_add(&ch, "source.precedence", had ? a1 : NULL, a2);
        }
        if (!had || old.require_known_units != src.require_known_units)
            svc_changes_add(&ch, "source.require_known_units",
                            had ? (old.require_known_units ? "true" : "false") : NULL,
                            src.require_known_units ? "true" : "false");
        svc_changes_add(&ch, "source.name", NULL, src.name);
        /* An unchanged re-registration writes nothing. */
        if (had && strcmp(ch.names.data, "source.name") == 0)
            rc = svc_tx_end(s, TN_OK, e);
        else
            rc = svc_tx_end(s, svc_changes_write(s, a, "source.add", NULL, &ch, e), e);
    } else {
        rc = svc_tx_end(s, rc, e);
    }
    svc_changes_free(&ch);
    return rc;
}

typedef struct list_ctx {
    svc_source_cb cb;
    void *ctx;
} list_ctx;

static int list_one(const store_source *r, void *vctx)
{
    list_ctx *c = vctx;
    svc_source o;
    memset(&o, 0, sizeof o);
    tn_strlcpy(o.name, r->name, sizeof o.name);
    tn_strlcpy(o.kind, r->kind, sizeof o.kind);
    tn_strlcpy(o.owns, r->owns, sizeof o.owns);
    o.precedence = r->precedence;
    o.require_known_units = r->require_known_units;
    return c->cb(&o, c->ctx);
}

tn_code svc_source_list(svc *s, const svc_actor *a, svc_source_cb cb, void *ctx, tn_err *e)
{
    /* Source settings hold no personal data. */
    tn_code rc = svc_authorize(s, a, SVC_OP_UNIT_READ, NULL, "source.list", e);
    if (rc != TN_OK)
        return rc;
    list_ctx c = {cb, ctx};
    return store_source_list(s->st, list_one, &c, e);
}
