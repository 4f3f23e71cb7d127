/* Role grants with validity (AZ-4), the roles of a person actor, and the
 * error reports persons file about their own data (PR-4). */
#include "svc_role.h"

#include <stdlib.h>
#include <string.h>

#include "hetu.h"
#include "svc_internal.h"
#include "tn_str.h"

/* ---- role grants ---------------------------------------------------------- */

static bool in_force(const store_role_grant *g, tn_date day)
{
    return g->valid_from <= day && (g->valid_to == TN_DATE_NONE || g->valid_to >= day) &&
           (g->revoked_on == TN_DATE_NONE || g->revoked_on > day);
}

static const char *grant_status(const store_role_grant *g, tn_date day)
{
    if (g->revoked_on != TN_DATE_NONE && g->revoked_on <= day)
        return "revoked";
    if (g->valid_from > day)
        return "future";
    if (g->valid_to != TN_DATE_NONE && g->valid_to < day)
        return "expired";
    return "active";
}

static bool to_view(const store_role_grant *g, tn_date day, svc_role_grant *out)
{
    memset(out, 0, sizeof *out);
    out->id = g->id;
    tn_strlcpy(out->person_id, g->person_id, sizeof out->person_id);
    out->person_number = g->person_number;
    if (!svc_role_parse(g->role, &out->role))
        return false;
    tn_strlcpy(out->unit, g->unit, sizeof out->unit);
    out->valid_from = g->valid_from;
    out->valid_to = g->valid_to;
    out->revoked_on = g->revoked_on;
    tn_strlcpy(out->granted_by, g->granted_by, sizeof out->granted_by);
    tn_strlcpy(out->revoked_by, g->revoked_by, sizeof out->revoked_by);
    tn_strlcpy(out->reason, g->reason, sizeof out->reason);
    out->status = grant_status(g, day);
    return true;
}

typedef struct load_ctx {
    svc_actor *a;
    tn_date day;
} load_ctx;

static int load_one(const store_role_grant *g, void *vctx)
{
    load_ctx *c = vctx;
    svc_role r;
    if (!in_force(g, c->day) || !svc_role_parse(g->role, &r))
        return 0;
    c->a->roles |= SVC_ROLE_BIT(r);
    /* One scope per actor: the oldest unit_admin grant in force wins
     * (docs/access.md). */
    if (r == SVC_ROLE_UNIT_ADMIN && !c->a->scope_unit[0])
        tn_strlcpy(c->a->scope_unit, g->unit, sizeof c->a->scope_unit);
    return 0;
}

tn_code svc_actor_load_roles(svc *s, svc_actor *a, tn_err *e)
{
    if (a->kind != SVC_ACTOR_PERSON)
        return TN_OK;
    a->roles = 0;
    a->scope_unit[0] = '\0';
    if (!a->id[0])
        return TN_OK;
    load_ctx c = {a, s->today};
    tn_code rc = store_role_grant_list(s->st, a->id, load_one, &c, e);
    if (rc != TN_OK) {
        /* Fail closed: no role rather than a partial set. */
        a->roles = 0;
        a->scope_unit[0] = '\0';
    }
    return rc;
}

static tn_code check_note(const char *text, const char *field, bool required, tn_err *e)
{
    size_t n = text ? strlen(text) : 0;
    if (required && n == 0)
        return tn_err_set(e, TN_EINVAL, field, "is required");
    if (n > SVC_NOTE_MAX)
        return tn_err_set(e, TN_EINVAL, field, "is longer than %d bytes", SVC_NOTE_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] < 0x20 && text[i] != '\n' && text[i] != '\t')
            return tn_err_set(e, TN_EINVAL, field, "contains a control character");
    return TN_OK;
}

tn_code svc_role_grant_add(svc *s, const svc_actor *a, const svc_role_grant_input *in,
                           svc_role_grant *out, tn_err *e)
{
    person p;
    tn_code rc = svc_resolve_person(s, in->person, &p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_ROLE_ADMIN, p.id, "role.grant", e)) != TN_OK)
        return rc;
    store_role_grant g;
    memset(&g, 0, sizeof g);
    svc_role role;
    if (!in->role || !svc_role_parse(in->role, &role))
        return tn_err_set(e, TN_EINVAL, "role",
                          "must be admin, helpdesk, unit_admin, hr_integration, auditor or dpo");
    tn_strlcpy(g.role, svc_role_name(role), sizeof g.role);
    bool has_unit = in->unit && *in->unit;
    if (role == SVC_ROLE_UNIT_ADMIN && !has_unit)
        return tn_err_set(e, TN_EINVAL, "unit", "is required for unit_admin");
    if (role != SVC_ROLE_UNIT_ADMIN && has_unit)
        return tn_err_set(e, TN_EINVAL, "unit", "only a unit_admin grant has a unit");
    if (has_unit) {
        if (strlen(in->unit) >= SVC_SCOPE_MAX)
            return tn_err_set(e, TN_EINVAL, "unit", "is longer than %d bytes",
                              SVC_SCOPE_MAX - 1);
        org_unit u;
        if ((rc = store_unit_get(s->st, in->unit, &u, e)) == TN_ENOTFOUND)
            return tn_err_set(e, TN_ENOTFOUND, "unit", "org unit %s not found", in->unit);
        if (rc != TN_OK)
            return rc;
        tn_strlcpy(g.unit, in->unit, sizeof g.unit);
    }
    if (in->valid_from && *in->valid_from) {
        if ((rc = date_parse_iso(in->valid_from, &g.valid_from, "valid_from", e)) != TN_OK)
            return rc;
    } else {
        g.valid_from = s->today;
    }
    if ((rc = date_parse_iso_opt(in->valid_to, &g.valid_to, "valid_to", e)) != TN_OK)
        return rc;
    if (g.valid_to != TN_DATE_NONE && g.valid_to < g.valid_from)
        return tn_err_set(e, TN_EINVAL, "valid_to", "is before valid_from");
    if (g.valid_to != TN_DATE_NONE && g.valid_to < s->today)
        return tn_err_set(e, TN_EINVAL, "valid_to", "is in the past");
    if ((rc = check_note(in->reason, "reason", false, e)) != TN_OK)
        return rc;
    if (p.state == PSTATE_CLOSED || p.state == PSTATE_ARCHIVED || p.state == PSTATE_ERASED)
        return tn_err_set(e, TN_ESTATE, NULL, "person %lld is %s: no roles can be granted",
                          (long long)p.number, person_state_name(p.state));
    tn_strlcpy(g.person_id, p.id, sizeof g.person_id);
    tn_strlcpy(g.granted_by, a->id, sizeof g.granted_by);
    tn_strlcpy(g.reason, in->reason ? in->reason : "", sizeof g.reason);
    g.revoked_on = TN_DATE_NONE;
    g.created_at = audit_now_us();

    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = svc_tx_begin(s, e)) == TN_OK) {
        rc = store_role_grant_insert(s->st, &g, e);
        if (rc == TN_OK) {
            svc_changes_add_i64(&ch, "grant", g.id);
            svc_changes_add(&ch, "role", NULL, g.role);
            if (g.unit[0])
                svc_changes_add(&ch, "unit", NULL, g.unit);
            svc_changes_add_date(&ch, "valid_from", TN_DATE_NONE, g.valid_from);
            if (g.valid_to != TN_DATE_NONE)
                svc_changes_add_date(&ch, "valid_to", TN_DATE_NONE, g.valid_to);
            if (g.reason[0])
                svc_changes_add(&ch, "reason", NULL, g.reason);
            rc = svc_changes_write(s, a, "role.grant", p.id, &ch, e);
        }
        rc = svc_tx_end(s, rc, e);
    }
    svc_changes_free(&ch);
    if (rc == TN_OK && out && !to_view(&g, s->today, out))
        rc = tn_err_set(e, TN_EINTERNAL, "role", "unknown role %s", g.role);
    return rc;
}

tn_code svc_role_revoke(svc *s, const svc_actor *a, int64_t id, svc_role_grant *out, tn_err *e)
{
    store_role_grant g;
    tn_code rc = store_role_grant_get(s->st, id, &g, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_ROLE_ADMIN, g.person_id, "role.revoke", e)) != TN_OK)
        return rc;
    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = svc_tx_begin(s, e)) == TN_OK) {
        rc = store_role_grant_revoke(s->st, id, s->today, a->id, e);
        if (rc == TN_OK) {
            svc_changes_add_i64(&ch, "grant", id);
            svc_changes_add(&ch, "role", g.role, g.role);
            svc_changes_add_date(&ch, "revoked_on", TN_DATE_NONE, s->today);
            rc = svc_changes_write(s, a, "role.revoke", g.person_id, &ch, e);
        }
        rc = svc_tx_end(s, rc, e);
    }
    svc_changes_free(&ch);
    if (rc == TN_OK && out) {
        g.revoked_on = s->today;
        tn_strlcpy(g.revoked_by, a->id, sizeof g.revoked_by);
        if (!to_view(&g, s->today, out))
            rc = tn_err_set(e, TN_EINTERNAL, "role", "unknown role %s", g.role);
    }
    return rc;
}

typedef struct list_ctx {
    svc *s;
    const svc_actor *a;
    svc_role_grant_cb cb;
    void *ctx;
    tn_code rc;
    tn_err *e;
} list_ctx;

static int list_one(const store_role_grant *g, void *vctx)
{
    list_ctx *c = vctx;
    svc_role_grant v;
    if (!to_view(g, c->s->today, &v)) {
        c->rc = tn_err_set(c->e, TN_EINTERNAL, "role", "unknown role %s", g->role);
        return 1;
    }
    store_audit_row r;
    svc_audit_row(&r, c->a, "role.list", g->person_id, "roles", "allowed");
    if ((c->rc = audit_read(c->s->au, &r, c->e)) != TN_OK)
        return 1;
    return c->cb(&v, c->ctx);
}

tn_code svc_role_list(svc *s, const svc_actor *a, const char *selector, svc_role_grant_cb cb,
                      void *ctx, tn_err *e)
{
    person p;
    tn_code rc;
    const char *pid = NULL;
    if (selector) {
        if ((rc = svc_resolve_person(s, selector, &p, e)) != TN_OK)
            return rc;
        pid = p.id;
    }
    if ((rc = svc_authorize(s, a, SVC_OP_ROLE_READ, pid, "role.list", e)) != TN_OK)
        return rc;
    list_ctx c = {s, a, cb, ctx, TN_OK, e};
    rc = store_role_grant_list(s->st, pid, list_one, &c, e);
    return rc != TN_OK ? rc : c.rc;
}

/* ---- error reports (PR-4) ------------------------------------------------ */

static bool known_attribute(const char *name)
{
    static const char *const names[] = {
        "given_names", "family_name", "preferred_name", "birth_date", "email",
        "phone",       "nationality", "language",       "national_id", "affiliation",
        "account",     "other",
    };
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* Whether text holds something that is a valid national ID: free text
 * shown to staff must not carry one in the clear. */
static bool holds_nid(const char *text)
{
    size_t n = strlen(text);
    char win[12];
    for (size_t i = 0; i + 11 <= n; i++) {
        memcpy(win, text + i, 11);
        win[11] = '\0';
        if (hetu_valid(win)) {
            explicit_bzero(win, sizeof win);
            return true;
        }
    }
    explicit_bzero(win, sizeof win);
    return false;
}

static void report_view(const store_error_report *r, svc_error_report *out)
{
    memset(out, 0, sizeof *out);
    out->id = r->id;
    tn_strlcpy(out->person_id, r->person_id, sizeof out->person_id);
    out->person_number = r->person_number;
    tn_strlcpy(out->attribute, r->attribute, sizeof out->attribute);
    tn_strlcpy(out->description, r->description, sizeof out->description);
    tn_strlcpy(out->filed_by, r->filed_by, sizeof out->filed_by);
    tn_strlcpy(out->channel, r->channel, sizeof out->channel);
    out->filed_at = r->filed_at;
    tn_strlcpy(out->state, r->state, sizeof out->state);
    out->resolved_at = r->resolved_at;
    tn_strlcpy(out->resolved_by, r->resolved_by, sizeof out->resolved_by);
    tn_strlcpy(out->resolution, r->resolution, sizeof out->resolution);
}

tn_code svc_error_report_file(svc *s, const svc_actor *a, const char *selector,
                              const char *attribute, const char *description,
                              svc_error_report *out, tn_err *e)
{
    person p;
    tn_code rc = svc_resolve_person(s, selector, &p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_ERROR_REPORT, p.id, "person.error_report", e)) != TN_OK)
        return rc;
    if (!known_attribute(attribute))
        return tn_err_set(e, TN_EINVAL, "attribute",
                          "must be a person attribute (given_names, family_name, "
                          "preferred_name, birth_date, email, phone, nationality, language, "
                          "national_id), affiliation, account or other");
    if ((rc = check_note(description, "description", true, e)) != TN_OK)
        return rc;
    if (holds_nid(description))
        return tn_err_set(e, TN_EINVAL, "description",
                          "must not contain a national ID (staff can see the one recorded)");
    if (p.state == PSTATE_ERASED)
        return tn_err_set(e, TN_ESTATE, NULL, "person %lld is erased", (long long)p.number);
    store_error_report r;
    memset(&r, 0, sizeof r);
    tn_strlcpy(r.person_id, p.id, sizeof r.person_id);
    tn_strlcpy(r.attribute, attribute, sizeof r.attribute);
    tn_strlcpy(r.description, description, sizeof r.description);
    tn_strlcpy(r.filed_by, a->id, sizeof r.filed_by);
    tn_strlcpy(r.channel, svc_channel_name(a->channel), sizeof r.channel);
    r.filed_at = audit_now_us();
    tn_strlcpy(r.state, "open", sizeof r.state);
    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = svc_tx_begin(s, e)) == TN_OK) {
        rc = store_error_report_insert(s->st, &r, e);
        if (rc == TN_OK) {
            svc_changes_add_i64(&ch, "report", r.id);
            svc_changes_add(&ch, "attribute", NULL, r.attribute);
            /* The text may describe personal data: the event says only
             * that there is one. */
            svc_changes_add_secret(&ch, "description", false, true);
            svc_changes_add(&ch, "state", NULL, "open");
            rc = svc_changes_write(s, a, "person.error_report", p.id, &ch, e);
        }
        rc = svc_tx_end(s, rc, e);
    }
    svc_changes_free(&ch);
    if (rc == TN_OK && out)
        report_view(&r, out);
    return rc;
}

typedef struct rlist_ctx {
    svc *s;
    const svc_actor *a;
    svc_error_report_cb cb;
    void *ctx;
    tn_code rc;
    tn_err *e;
} rlist_ctx;

static int rlist_one(const store_error_report *r, void *vctx)
{
    rlist_ctx *c = vctx;
    store_audit_row row;
    svc_audit_row(&row, c->a, "person.error_report.read", r->person_id, "error_report",
                  "allowed");
    if ((c->rc = audit_read(c->s->au, &row, c->e)) != TN_OK)
        return 1;
    svc_error_report v;
    report_view(r, &v);
    return c->cb(&v, c->ctx);
}

tn_code svc_error_report_list(svc *s, const svc_actor *a, const char *selector,
                              const char *state, svc_error_report_cb cb, void *ctx, tn_err *e)
{
    if (state && strcmp(state, "open") != 0 && strcmp(state, "resolved") != 0 &&
        strcmp(state, "rejected") != 0)
        return tn_err_set(e, TN_EINVAL, "state", "must be open, resolved or rejected");
    person p;
    tn_code rc;
    const char *pid = NULL;
    if (selector) {
        if ((rc = svc_resolve_person(s, selector, &p, e)) != TN_OK)
            return rc;
        pid = p.id;
        rc = svc_authorize(s, a, SVC_OP_PERSON_READ, pid, "person.error_report.read", e);
    } else {
        rc = svc_authorize(s, a, SVC_OP_PERSON_LIST, NULL, "person.error_report.read", e);
    }
    if (rc != TN_OK)
        return rc;
    rlist_ctx c = {s, a, cb, ctx, TN_OK, e};
    rc = store_error_report_list(s->st, pid, state, rlist_one, &c, e);
    return rc != TN_OK ? rc : c.rc;
}

tn_code svc_error_report_close(svc *s, const svc_actor *a, int64_t id, bool resolved,
                               const char *resolution, svc_error_report *out, tn_err *e)
{
    store_error_report r;
    tn_code rc = store_error_report_get(s->st, id, &r, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_PERSON_WRITE, r.person_id, "person.error_report.close",
                            e)) != TN_OK)
        return rc;
    if ((rc = check_note(resolution, "resolution", true, e)) != TN_OK)
        return rc;
    if (holds_nid(resolution))
        return tn_err_set(e, TN_EINVAL, "resolution", "must not contain a national ID");
    const char *state = resolved ? "resolved" : "rejected";
    int64_t now = audit_now_us();
    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = svc_tx_begin(s, e)) == TN_OK) {
        rc = store_error_report_close(s->st, id, state, now, a->id, resolution, e);
        if (rc == TN_OK) {
            svc_changes_add_i64(&ch, "report", id);
            svc_changes_add(&ch, "state", r.state, state);
            svc_changes_add_secret(&ch, "resolution", false, true);
            rc = svc_changes_write(s, a, "person.error_report.close", r.person_id, &ch, e);
        }
        rc = svc_tx_end(s, rc, e);
    }
    svc_changes_free(&ch);
    if (rc == TN_OK && out) {
        tn_strlcpy(r.state, state, sizeof r.state);
        r.resolved_at = now;
        tn_strlcpy(r.resolved_by, a->id, sizeof r.resolved_by);
        tn_strlcpy(r.resolution, resolution, sizeof r.resolution);
        report_view(&r, out);
    }
    return rc;
}
