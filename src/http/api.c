/* The admin REST API under /api/v1 (api.h, docs/api.md): the route table,
 * request parsing helpers and one handler per route. A handler parses,
 * calls one service function and encodes; it decides nothing about
 * access (the service layer does, and its denial becomes 403). */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_json.h"
#include "policy.h"
#include "svc_audit.h"
#include "svc_dir.h"
#include "svc_lifecycle.h"
#include "svc_report.h"
#include "svc_role.h"
#include "tn_str.h"

#define PARAMS_MAX 3
#define SEG_MAX 320
#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define US_PER_DAY INT64_C(86400000000)

/* ---- errors ----------------------------------------------------------------- */

void api_error(hresp *out, int status, const char *error, const char *detail, const char *field)
{
    hresp_drop_body(out);
    out->status = status;
    out->body = json_object();
    json_object_set_new(out->body, "status", json_integer(status));
    json_object_set_new(out->body, "error", json_string(error ? error : "error"));
    /* Service messages are valid UTF-8 except where they quote a value cut
     * short; an unencodable detail must not lose the error itself. */
    json_t *d = detail ? json_string(detail) : NULL;
    json_object_set_new(out->body, "detail", d ? d : json_null());
    json_object_set_new(out->body, "field", field && *field ? json_string(field) : json_null());
    out->etag[0] = out->location[0] = '\0';
}

/* A service error: the code decides the status; field and reason go to
 * the client, never a value (tn_err messages carry none). */
static void svc_fail(hresp *out, const tn_err *e)
{
    int status;
    switch (e->code) {
    case TN_EINVAL:
    case TN_EUSAGE:
        status = 400;
        break;
    case TN_ENOTFOUND:
        status = 404;
        break;
    case TN_ECONFLICT:
    case TN_ESTATE:
        status = 409;
        break;
    case TN_EDENIED:
        status = 403;
        break;
    default:
        api_error(out, 500, "internal", "internal error", NULL);
        return;
    }
    api_error(out, status, tn_code_name(e->code), e->msg, e->field);
}

static void bad(hresp *out, const char *field, const char *detail)
{
    api_error(out, 400, "invalid", detail, field);
}

static void ok(hresp *out, int status, json_t *body)
{
    out->status = status;
    out->body = body;
}

/* ---- request parsing ---------------------------------------------------------- */

static const char *qarg(const hreq *rq, const char *name)
{
    const char *v = rq->query ? rq->query(rq->qctx, name) : NULL;
    return v && *v ? v : NULL;
}

/* The body must be a JSON object whose keys are all in allowed (NULL-
 * terminated); required says a body must be there at all. */
static bool body_ok(const hreq *rq, hresp *out, const char *const *allowed, bool required)
{
    if (!rq->body) {
        if (required)
            bad(out, NULL, "a JSON object body is required");
        return !required;
    }
    if (!json_is_object(rq->body)) {
        bad(out, NULL, "the body must be a JSON object");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(rq->body, k, v) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(k, allowed[i]) == 0;
        if (!known) {
            char d[120];
            snprintf(d, sizeof d, "unknown attribute %.64s", k);
            bad(out, k, d);
            return false;
        }
    }
    return true;
}

/* A string member: absent -> NULL; null -> "" (clears an optional one). */
static bool bstr(const json_t *obj, const char *key, const char **dst, hresp *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *dst = NULL;
    if (!v)
        return true;
    if (json_is_null(v)) {
        *dst = "";
        return true;
    }
    if (!json_is_string(v)) {
        bad(out, key, "must be a string");
        return false;
    }
    *dst = json_string_value(v);
    return true;
}

static bool bbool(const json_t *obj, const char *key, bool *dst, hresp *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        bad(out, key, "must be true or false");
        return false;
    }
    *dst = json_is_true(v);
    return true;
}

static bool bint(const json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t *dst,
                 hresp *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char d[80];
        snprintf(d, sizeof d, "must be a whole number from %lld to %lld", (long long)lo,
                 (long long)hi);
        bad(out, key, d);
        return false;
    }
    *dst = json_integer_value(v);
    return true;
}

static bool qint(const hreq *rq, const char *name, int64_t lo, int64_t hi, int64_t *dst,
                 hresp *out)
{
    const char *v = qarg(rq, name);
    if (!v)
        return true;
    int64_t n;
    if (!tn_parse_i64(v, &n) || n < lo || n > hi) {
        char d[80];
        snprintf(d, sizeof d, "must be a whole number from %lld to %lld", (long long)lo,
                 (long long)hi);
        bad(out, name, d);
        return false;
    }
    *dst = n;
    return true;
}

static bool qdate(const hreq *rq, const char *name, tn_date *dst, hresp *out)
{
    const char *v = qarg(rq, name);
    *dst = TN_DATE_NONE;
    if (!v)
        return true;
    tn_err e;
    tn_err_clear(&e);
    if (date_parse_iso(v, dst, name, &e) != TN_OK) {
        svc_fail(out, &e);
        return false;
    }
    return true;
}

/* from=DATE is the start of that day (UTC), to=DATE the end of it, as on
 * the CLI. */
static bool qrange(const hreq *rq, int64_t *from_us, int64_t *to_us, hresp *out)
{
    tn_date f, t;
    if (!qdate(rq, "from", &f, out) || !qdate(rq, "to", &t, out))
        return false;
    *from_us = f == TN_DATE_NONE ? 0 : (int64_t)f * US_PER_DAY;
    *to_us = t == TN_DATE_NONE ? 0 : ((int64_t)t + 1) * US_PER_DAY;
    if (*from_us && *to_us && *to_us <= *from_us) {
        bad(out, "to", "must not be before from");
        return false;
    }
    return true;
}

/* A person in a path: "UUID" means id:UUID; any other selector
 * ("number:N", "username:NAME", "key:SOURCE:KEY") is used as given. */
static void person_sel(const char *seg, char out[SEG_MAX + 8])
{
    if (strchr(seg, ':'))
        tn_strlcpy(out, seg, SEG_MAX + 8);
    else
        snprintf(out, SEG_MAX + 8, "id:%s", seg);
}

/* The optional ?person= filter as a selector in sel: *who is sel, or
 * NULL without the parameter; false (and the 400 set) if it is too long. */
static bool query_person(const hreq *rq, char sel[SEG_MAX + 8], const char **who, hresp *out)
{
    const char *p = qarg(rq, "person");
    *who = NULL;
    if (!p)
        return true;
    if (strlen(p) > SEG_MAX) {
        bad(out, "person", "is too long");
        return false;
    }
    person_sel(p, sel);
    *who = sel;
    return true;
}

static bool path_id(const char *seg, int64_t *id, hresp *out)
{
    if (!tn_parse_i64(seg, id) || *id <= 0) {
        bad(out, "id", "must be a positive number");
        return false;
    }
    return true;
}

static const char *const PERSON_FIELDS[] = {"national_id", "given_names", "family_name",
                                            "preferred_name", "email", "phone", "birth_date",
                                            "nationality", "language", NULL};

static bool person_input_from(const json_t *b, person_input *in, hresp *out)
{
    memset(in, 0, sizeof *in);
    return bstr(b, "national_id", &in->national_id, out) &&
           bstr(b, "given_names", &in->given_names, out) &&
           bstr(b, "family_name", &in->family_name, out) &&
           bstr(b, "preferred_name", &in->preferred_name, out) &&
           bstr(b, "email", &in->email, out) && bstr(b, "phone", &in->phone, out) &&
           bstr(b, "birth_date", &in->birth_date, out) &&
           bstr(b, "nationality", &in->nationality, out) &&
           bstr(b, "language", &in->language, out);
}

static const char *const AFF_FIELDS[] = {"kind", "source", "source_key", "org_unit", "title",
                                         "school", "class", "teaching_groups", "programme",
                                         "manager", "sponsor", "valid_from", "valid_to", NULL};

static bool aff_input_from(const json_t *b, svc_aff_input *in, hresp *out)
{
    memset(in, 0, sizeof *in);
    return bstr(b, "kind", &in->kind, out) && bstr(b, "source", &in->source, out) &&
           bstr(b, "source_key", &in->source_key, out) &&
           bstr(b, "org_unit", &in->org_unit, out) && bstr(b, "title", &in->title, out) &&
           bstr(b, "school", &in->school, out) && bstr(b, "class", &in->class_, out) &&
           bstr(b, "teaching_groups", &in->teaching_groups, out) &&
           bstr(b, "programme", &in->programme, out) && bstr(b, "manager", &in->manager, out) &&
           bstr(b, "sponsor", &in->sponsor, out) &&
           bstr(b, "valid_from", &in->valid_from, out) &&
           bstr(b, "valid_to", &in->valid_to, out);
}

/* ---- persons -------------------------------------------------------------------- */

typedef struct list_ctx {
    json_t *arr;
    int64_t last;
} list_ctx;

static int person_cb(const person *p, void *ctx)
{
    list_ctx *c = ctx;
    json_array_append_new(c->arr, aj_person(p));
    c->last = p->number;
    return 0;
}

/* Paging by identity number: next_after is the cursor of the next page,
 * null when this page was not full. */
static void h_persons_list(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    svc_person_query q = {.state = qarg(rq, "state"),
                          .kind = qarg(rq, "kind"),
                          .org_unit = qarg(rq, "org_unit"),
                          .name = qarg(rq, "name"),
                          .limit = LIST_DEFAULT};
    if (!qint(rq, "after", 0, INT64_MAX, &q.after_number, out) ||
        !qint(rq, "limit", 1, LIST_MAX, &q.limit, out))
        return;
    list_ctx c = {json_array(), 0};
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_list(rq->s, rq->actor, &q, person_cb, &c, &e) != TN_OK) {
        json_decref(c.arr);
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    bool full = (int64_t)json_array_size(c.arr) == q.limit;
    json_object_set_new(o, "persons", c.arr);
    json_object_set_new(o, "next_after", full ? json_integer(c.last) : json_null());
    ok(out, 200, o);
}

/* Location of a new resource: the API path of collection/name. */
static void set_location(hresp *out, const char *collection, const char *name)
{
    snprintf(out->location, sizeof out->location, API_PREFIX "/%s/%s", collection, name);
}

/* A person with, optionally, a first affiliation and the account, in one
 * atomic step (svc_person_enrol). */
static void h_persons_create(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    static const char *const fields[] = {"national_id", "given_names", "family_name",
                                         "preferred_name", "email", "phone", "birth_date",
                                         "nationality", "language", "affiliation", "account",
                                         "username", NULL};
    if (!body_ok(rq, out, fields, true))
        return;
    svc_enrol_input in;
    memset(&in, 0, sizeof in);
    svc_aff_input aff;
    json_t *ja = json_object_get(rq->body, "affiliation");
    if (!person_input_from(rq->body, &in.person, out) ||
        !bbool(rq->body, "account", &in.account, out) ||
        !bstr(rq->body, "username", &in.username, out))
        return;
    if (ja && !json_is_null(ja)) {
        if (!json_is_object(ja)) {
            bad(out, "affiliation", "must be an object");
            return;
        }
        hreq sub = *rq;
        sub.body = ja;
        if (!body_ok(&sub, out, AFF_FIELDS, true) || !aff_input_from(ja, &aff, out))
            return;
        in.affiliation = &aff;
    }
    if (in.username && !*in.username)
        in.username = NULL;
    svc_enrolled r;
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_enrol(rq->s, rq->actor, &in, &r, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    json_t *o = aj_person(&r.person);
    json_t *affs = json_array(), *accts = json_array();
    if (r.has_affiliation)
        json_array_append_new(affs, aj_affiliation(&r.affiliation));
    if (r.has_account)
        json_array_append_new(accts, aj_account(&r.account));
    json_object_set_new(o, "accounts", accts);
    json_object_set_new(o, "affiliations", affs);
    set_location(out, "persons", r.person.id);
    ok(out, 201, o);
}

static void h_person_get(const hreq *rq, const char *const *pm, hresp *out)
{
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    svc_person_view v;
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_show(rq->s, rq->actor, sel, &v, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_person_view(&v));
    svc_person_view_free(&v);
}

static void h_person_update(const hreq *rq, const char *const *pm, hresp *out)
{
    if (!body_ok(rq, out, PERSON_FIELDS, true))
        return;
    person_input in;
    if (!person_input_from(rq->body, &in, out))
        return;
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    person p;
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_update(rq->s, rq->actor, sel, &in, &p, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_person(&p));
}

/* ---- affiliations ------------------------------------------------------------------- */

/* A person's affiliations are part of the person read (svc_person_show),
 * which audits the read; only the affiliations are answered. */
static void h_affs_list(const hreq *rq, const char *const *pm, hresp *out)
{
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    svc_person_view v;
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_show(rq->s, rq->actor, sel, &v, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < v.naffs; i++)
        json_array_append_new(arr, aj_affiliation(&v.affs[i]));
    svc_person_view_free(&v);
    json_t *o = json_object();
    json_object_set_new(o, "affiliations", arr);
    ok(out, 200, o);
}

static void h_aff_add(const hreq *rq, const char *const *pm, hresp *out)
{
    svc_aff_input in;
    if (!body_ok(rq, out, AFF_FIELDS, true) || !aff_input_from(rq->body, &in, out))
        return;
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    affiliation a;
    tn_err e;
    tn_err_clear(&e);
    if (svc_aff_add(rq->s, rq->actor, sel, &in, &a, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 201, aj_affiliation(&a));
}

static void h_aff_end(const hreq *rq, const char *const *pm, hresp *out)
{
    static const char *const fields[] = {"last_day", "reason", NULL};
    const char *last = NULL, *reason = NULL;
    if (!body_ok(rq, out, fields, false) || !bstr(rq->body, "last_day", &last, out) ||
        !bstr(rq->body, "reason", &reason, out))
        return;
    affiliation a;
    tn_err e;
    tn_err_clear(&e);
    if (svc_aff_end(rq->s, rq->actor, pm[0], last && *last ? last : NULL, reason, &a, &e) !=
        TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_affiliation(&a));
}

/* ---- accounts ------------------------------------------------------------------------ */

static void h_account_create(const hreq *rq, const char *const *pm, hresp *out)
{
    static const char *const fields[] = {"username", NULL};
    const char *username = NULL;
    if (!body_ok(rq, out, fields, false) || !bstr(rq->body, "username", &username, out))
        return;
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    account a;
    tn_err e;
    tn_err_clear(&e);
    if (svc_account_create(rq->s, rq->actor, sel, username && *username ? username : NULL, &a,
                           &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    set_location(out, "accounts", a.username);
    ok(out, 201, aj_account(&a));
}

static void h_account_get(const hreq *rq, const char *const *pm, hresp *out)
{
    account a;
    tn_err e;
    tn_err_clear(&e);
    if (svc_account_show(rq->s, rq->actor, pm[0], &a, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_account(&a));
}

/* A reset by the helpdesk: the new password is chosen by the caller and
 * handed to the person out of band; it is never echoed or logged. */
static void h_account_password(const hreq *rq, const char *const *pm, hresp *out)
{
    static const char *const fields[] = {"password", NULL};
    const char *pw = NULL;
    if (!body_ok(rq, out, fields, true) || !bstr(rq->body, "password", &pw, out))
        return;
    if (!pw || !*pw) {
        bad(out, "password", "is required");
        return;
    }
    tn_err e;
    tn_err_clear(&e);
    if (svc_account_set_password(rq->s, rq->actor, pm[0], pw, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    out->status = 204;
}

static void h_username_get(const hreq *rq, const char *const *pm, hresp *out)
{
    char id[UUID_BUFSZ];
    tn_err e;
    tn_err_clear(&e);
    if (svc_username_reservation(rq->s, rq->actor, pm[0], id, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "username", json_string(pm[0]));
    json_object_set_new(o, "reserved", json_true());
    json_object_set_new(o, "person_id", json_string(id));
    ok(out, 200, o);
}

/* ---- lifecycle and holds ------------------------------------------------------------- */

static void h_forecast(const hreq *rq, const char *const *pm, hresp *out)
{
    tn_date as_of;
    if (!qdate(rq, "as_of", &as_of, out))
        return;
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    svc_lc_forecast f;
    tn_err e;
    tn_err_clear(&e);
    if (svc_lifecycle_forecast(rq->s, rq->actor, sel, as_of, &f, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_forecast(&f));
}

static void h_handovers(const hreq *rq, const char *const *pm, hresp *out)
{
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    svc_lc_handover *h = NULL;
    size_t n = 0;
    tn_err e;
    tn_err_clear(&e);
    if (svc_lifecycle_handovers(rq->s, rq->actor, sel, &h, &n, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "handovers", aj_handovers(h, n));
    free(h);
    ok(out, 200, o);
}

/* A hold is placed from today for days (default: the policy's
 * legal_hold_days); it expires by itself and is never shortened (LC-10),
 * so there is no release. */
static void h_hold(const hreq *rq, const char *const *pm, hresp *out)
{
    static const char *const fields[] = {"days", "reason", NULL};
    int64_t days = 0;
    const char *reason = NULL;
    if (!body_ok(rq, out, fields, true) ||
        !bint(rq->body, "days", 1, POLICY_MAX_DAYS, &days, out) ||
        !bstr(rq->body, "reason", &reason, out))
        return;
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    person p;
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_hold(rq->s, rq->actor, sel, (int)days, reason, TN_DATE_NONE, &p, &e) !=
        TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_person(&p));
}

/* ---- audit ------------------------------------------------------------------------------ */

static int event_cb(const svc_audit_event *ev, void *ctx)
{
    json_array_append_new(ctx, aj_event(ev));
    return 0;
}

static void events_answer(hresp *out, json_t *arr)
{
    json_t *o = json_object();
    json_object_set_new(o, "events", arr);
    ok(out, 200, o);
}

static void h_audit_subject(const hreq *rq, const char *const *pm, hresp *out)
{
    int64_t from, to;
    if (!qrange(rq, &from, &to, out))
        return;
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    json_t *arr = json_array();
    tn_err e;
    tn_err_clear(&e);
    if (svc_audit_subject(rq->s, rq->actor, sel, from, to, event_cb, arr, &e) != TN_OK) {
        json_decref(arr);
        svc_fail(out, &e);
        return;
    }
    events_answer(out, arr);
}

static void h_audit_self(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    int64_t from, to;
    if (!qrange(rq, &from, &to, out))
        return;
    json_t *arr = json_array();
    tn_err e;
    tn_err_clear(&e);
    if (svc_audit_self(rq->s, rq->actor, from, to, event_cb, arr, &e) != TN_OK) {
        json_decref(arr);
        svc_fail(out, &e);
        return;
    }
    events_answer(out, arr);
}

static void h_audit_verify(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    svc_audit_check c;
    tn_err e;
    tn_err_clear(&e);
    if (svc_audit_verify(rq->s, rq->actor, &c, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_check(&c));
}

/* ---- imports and the review queue --------------------------------------------------------- */

static int run_cb(const svc_import_record *r, void *ctx)
{
    json_array_append_new(ctx, aj_import_run(r));
    return 0;
}

static void h_imports(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    int64_t limit = LIST_DEFAULT;
    if (!qint(rq, "limit", 1, LIST_MAX, &limit, out))
        return;
    json_t *arr = json_array();
    tn_err e;
    tn_err_clear(&e);
    if (svc_import_runs(rq->s, rq->actor, limit, run_cb, arr, &e) != TN_OK) {
        json_decref(arr);
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "runs", arr);
    ok(out, 200, o);
}

static int review_cb(const svc_review_entry *r, void *ctx)
{
    json_array_append_new(ctx, aj_review(r));
    return 0;
}

static void h_review_list(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    json_t *arr = json_array();
    tn_err e;
    tn_err_clear(&e);
    if (svc_review_list(rq->s, rq->actor, qarg(rq, "state"), review_cb, arr, &e) != TN_OK) {
        json_decref(arr);
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "entries", arr);
    ok(out, 200, o);
}

static void h_review_decide(const hreq *rq, const char *const *pm, hresp *out)
{
    static const char *const fields[] = {"decision", NULL};
    const char *d = NULL;
    int64_t id;
    if (!path_id(pm[0], &id, out) || !body_ok(rq, out, fields, true) ||
        !bstr(rq->body, "decision", &d, out))
        return;
    if (!d || (strcmp(d, "accept") != 0 && strcmp(d, "reject") != 0)) {
        bad(out, "decision", "must be accept or reject");
        return;
    }
    person p;
    tn_err e;
    tn_err_clear(&e);
    if (svc_review_decide(rq->s, rq->actor, id, strcmp(d, "accept") == 0, &p, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "decision", json_string(d));
    json_object_set_new(o, "person", aj_person(&p));
    ok(out, 200, o);
}

/* ---- policy -------------------------------------------------------------------------------- */

static void h_policy_get(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    policy p;
    int64_t version;
    tn_err e;
    tn_err_clear(&e);
    if (svc_policy_show(rq->s, rq->actor, &p, &version, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    char *text = policy_to_json(&p);
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(version));
    json_t *pj = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    json_object_set_new(o, "policy", pj ? pj : json_null());
    ok(out, 200, o);
}

/* The body is the policy document itself (docs/policy.md); it is handed
 * to the service as text, which validates and stores it as a new
 * version. */
static void h_policy_put(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    if (!rq->body || !json_is_object(rq->body)) {
        bad(out, NULL, "the body must be the policy, a JSON object");
        return;
    }
    char *text = json_dumps(rq->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) {
        api_error(out, 500, "internal", "internal error", NULL);
        return;
    }
    int64_t version = 0;
    tn_err e;
    tn_err_clear(&e);
    tn_code rc = svc_policy_apply(rq->s, rq->actor, text, strlen(text), &version, &e);
    free(text);
    if (rc != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(version));
    ok(out, 200, o);
}

/* ---- role grants -------------------------------------------------------------------------- */

static int grant_cb(const svc_role_grant *g, void *ctx)
{
    json_array_append_new(ctx, aj_grant(g));
    return 0;
}

static void h_roles_list(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    char sel[SEG_MAX + 8];
    const char *who;
    if (!query_person(rq, sel, &who, out))
        return;
    json_t *arr = json_array();
    tn_err e;
    tn_err_clear(&e);
    if (svc_role_list(rq->s, rq->actor, who, grant_cb, arr, &e) != TN_OK) {
        json_decref(arr);
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "grants", arr);
    ok(out, 200, o);
}

static void h_role_grant(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    static const char *const fields[] = {"person", "role", "unit", "valid_from", "valid_to",
                                         "reason", NULL};
    svc_role_grant_input in;
    memset(&in, 0, sizeof in);
    if (!body_ok(rq, out, fields, true) || !bstr(rq->body, "person", &in.person, out) ||
        !bstr(rq->body, "role", &in.role, out) || !bstr(rq->body, "unit", &in.unit, out) ||
        !bstr(rq->body, "valid_from", &in.valid_from, out) ||
        !bstr(rq->body, "valid_to", &in.valid_to, out) ||
        !bstr(rq->body, "reason", &in.reason, out))
        return;
    char sel[SEG_MAX + 8];
    if (in.person && *in.person && strlen(in.person) <= SEG_MAX) {
        person_sel(in.person, sel);
        in.person = sel;
    }
    if (in.unit && !*in.unit)
        in.unit = NULL;
    svc_role_grant g;
    tn_err e;
    tn_err_clear(&e);
    if (svc_role_grant_add(rq->s, rq->actor, &in, &g, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 201, aj_grant(&g));
}

static void h_role_revoke(const hreq *rq, const char *const *pm, hresp *out)
{
    int64_t id;
    if (!path_id(pm[0], &id, out))
        return;
    svc_role_grant g;
    tn_err e;
    tn_err_clear(&e);
    if (svc_role_revoke(rq->s, rq->actor, id, &g, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_grant(&g));
}

/* ---- error reports (PR-4) ------------------------------------------------------------------ */

static int report_cb(const svc_error_report *r, void *ctx)
{
    json_array_append_new(ctx, aj_error_report(r));
    return 0;
}

static void h_reports_list(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    char sel[SEG_MAX + 8];
    const char *who;
    if (!query_person(rq, sel, &who, out))
        return;
    json_t *arr = json_array();
    tn_err e;
    tn_err_clear(&e);
    if (svc_error_report_list(rq->s, rq->actor, who, qarg(rq, "state"),
                              report_cb, arr, &e) != TN_OK) {
        json_decref(arr);
        svc_fail(out, &e);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "reports", arr);
    ok(out, 200, o);
}

static void h_report_file(const hreq *rq, const char *const *pm, hresp *out)
{
    static const char *const fields[] = {"attribute", "description", NULL};
    const char *attr = NULL, *desc = NULL;
    if (!body_ok(rq, out, fields, true) || !bstr(rq->body, "attribute", &attr, out) ||
        !bstr(rq->body, "description", &desc, out))
        return;
    char sel[SEG_MAX + 8];
    person_sel(pm[0], sel);
    svc_error_report r;
    tn_err e;
    tn_err_clear(&e);
    if (svc_error_report_file(rq->s, rq->actor, sel, attr, desc, &r, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 201, aj_error_report(&r));
}

static void h_report_close(const hreq *rq, const char *const *pm, hresp *out)
{
    static const char *const fields[] = {"outcome", "resolution", NULL};
    const char *outcome = NULL, *res = NULL;
    int64_t id;
    if (!path_id(pm[0], &id, out) || !body_ok(rq, out, fields, true) ||
        !bstr(rq->body, "outcome", &outcome, out) || !bstr(rq->body, "resolution", &res, out))
        return;
    if (!outcome || (strcmp(outcome, "resolved") != 0 && strcmp(outcome, "rejected") != 0)) {
        bad(out, "outcome", "must be resolved or rejected");
        return;
    }
    svc_error_report r;
    tn_err e;
    tn_err_clear(&e);
    if (svc_error_report_close(rq->s, rq->actor, id, strcmp(outcome, "resolved") == 0, res, &r,
                               &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    ok(out, 200, aj_error_report(&r));
}

/* ---- org units ---------------------------------------------------------------------------- */

static void h_units(const hreq *rq, const char *const *pm, hresp *out)
{
    (void)pm;
    org_unit *u = NULL;
    size_t n = 0;
    tn_err e;
    tn_err_clear(&e);
    if (svc_unit_list(rq->s, rq->actor, &u, &n, &e) != TN_OK) {
        svc_fail(out, &e);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, aj_unit(&u[i]));
    free(u);
    json_t *o = json_object();
    json_object_set_new(o, "units", arr);
    ok(out, 200, o);
}

/* ---- the route table ------------------------------------------------------------------------ */

#define REF(x) "{\"$ref\":\"#/components/schemas/" x "\"}"
#define LIST(key, x) "{\"type\":\"object\",\"properties\":{\"" key "\":{\"type\":\"array\",\"items\":" REF(x) "}}}"

static const api_route ROUTES_[] = {
    {"GET", "/persons", h_persons_list, "api_persons", "listPersons", "persons",
     "List persons (paged by identity number)", "svc_person_list",
     "state,kind,org_unit,name,after,limit", NULL, REF("PersonPage"), 200},
    {"POST", "/persons", h_persons_create, "api_persons_create", "createPerson", "persons",
     "Create a person, optionally with a first affiliation and the account",
     "svc_person_enrol", "", REF("PersonCreate"), REF("PersonView"), 201},
    {"GET", "/persons/{id}", h_person_get, "api_person", "getPerson", "persons",
     "A person with affiliations and accounts", "svc_person_show", "", NULL, REF("PersonView"),
     200},
    {"PATCH", "/persons/{id}", h_person_update, "api_person_update", "updatePerson", "persons",
     "Change attributes (null or an empty string clears an optional one)", "svc_person_update", "",
     REF("PersonInput"), REF("Person"), 200},
    {"GET", "/persons/{id}/affiliations", h_affs_list, "api_affiliations", "listAffiliations",
     "affiliations", "A person's affiliations", "svc_person_show", "", NULL,
     LIST("affiliations", "Affiliation"), 200},
    {"POST", "/persons/{id}/affiliations", h_aff_add, "api_affiliations_add", "addAffiliation",
     "affiliations", "Add an affiliation", "svc_aff_add", "", REF("AffiliationInput"),
     REF("Affiliation"), 201},
    {"POST", "/affiliations/{id}/end", h_aff_end, "api_affiliation_end", "endAffiliation",
     "affiliations", "End an affiliation (by id or key:SOURCE:KEY)", "svc_aff_end", "",
     REF("AffiliationEnd"), REF("Affiliation"), 200},
    {"POST", "/persons/{id}/account", h_account_create, "api_account_create", "createAccount",
     "accounts", "Create the person's account", "svc_account_create", "",
     REF("AccountCreate"), REF("Account"), 201},
    {"GET", "/accounts/{username}", h_account_get, "api_account", "getAccount", "accounts",
     "An account", "svc_account_show", "", NULL, REF("Account"), 200},
    {"POST", "/accounts/{username}/password", h_account_password, "api_account_password",
     "resetPassword", "accounts", "Set a new password (helpdesk reset)",
     "svc_account_set_password", "", REF("PasswordReset"), NULL, 204},
    {"GET", "/usernames/{username}", h_username_get, "api_username", "getUsernameReservation",
     "accounts", "Who holds a username (reserved forever)", "svc_username_reservation", "",
     NULL, REF("UsernameReservation"), 200},
    {"GET", "/persons/{id}/lifecycle", h_forecast, "api_lifecycle", "getLifecycleForecast",
     "lifecycle", "The person's lifecycle forecast", "svc_lifecycle_forecast", "as_of", NULL,
     REF("Forecast"), 200},
    {"GET", "/persons/{id}/handovers", h_handovers, "api_handovers", "listHandovers",
     "lifecycle", "Handover windows where the person is leaver or grantee",
     "svc_lifecycle_handovers", "", NULL, LIST("handovers", "Handover"), 200},
    {"POST", "/persons/{id}/hold", h_hold, "api_hold", "placeHold", "lifecycle",
     "Place a legal hold (it expires by itself)", "svc_person_hold", "", REF("HoldInput"),
     REF("Person"), 200},
    {"GET", "/persons/{id}/audit", h_audit_subject, "api_audit_subject", "auditSubjectReport",
     "audit", "Who read or changed the person's data", "svc_audit_subject", "from,to", NULL,
     LIST("events", "AuditEvent"), 200},
    {"GET", "/me/audit", h_audit_self, "api_audit_self", "auditSelf", "audit",
     "Who read or changed my data (persons only)", "svc_audit_self", "from,to", NULL,
     LIST("events", "AuditEvent"), 200},
    {"GET", "/audit/verify", h_audit_verify, "api_audit_verify", "auditVerify", "audit",
     "Verify the audit trail's chains and signatures", "svc_audit_verify", "", NULL,
     REF("AuditCheck"), 200},
    {"GET", "/imports", h_imports, "api_imports", "listImportRuns", "imports",
     "Feed import runs, newest first", "svc_import_runs", "limit", NULL,
     LIST("runs", "ImportRun"), 200},
    {"GET", "/review", h_review_list, "api_review", "listReview", "imports",
     "The review queue", "svc_review_list", "state", NULL, LIST("entries", "ReviewEntry"), 200},
    {"POST", "/review/{id}", h_review_decide, "api_review_decide", "decideReview", "imports",
     "Accept (attach to the candidate) or reject (a new person) an entry",
     "svc_review_decide", "", REF("ReviewDecision"), REF("ReviewResult"), 200},
    {"GET", "/policy", h_policy_get, "api_policy", "getPolicy", "policy",
     "The lifecycle policy in force", "svc_policy_show", "", NULL, REF("PolicyVersion"), 200},
    {"PUT", "/policy", h_policy_put, "api_policy_put", "applyPolicy", "policy",
     "Apply a new policy version (docs/policy.md)", "svc_policy_apply", "",
     "{\"type\":\"object\"}", REF("PolicyApplied"), 200},
    {"GET", "/roles", h_roles_list, "api_roles", "listRoleGrants", "roles",
     "Role grants (of one person with ?person=)", "svc_role_list", "person", NULL,
     LIST("grants", "RoleGrant"), 200},
    {"POST", "/roles", h_role_grant, "api_roles_grant", "grantRole", "roles", "Grant a role",
     "svc_role_grant_add", "", REF("RoleGrantInput"), REF("RoleGrant"), 201},
    {"POST", "/roles/{id}/revoke", h_role_revoke, "api_role_revoke", "revokeRole", "roles",
     "Revoke a grant from today", "svc_role_revoke", "", NULL, REF("RoleGrant"), 200},
    {"GET", "/error-reports", h_reports_list, "api_error_reports", "listErrorReports",
     "error-reports", "Error reports (of one person with ?person=)", "svc_error_report_list",
     "person,state", NULL, LIST("reports", "ErrorReport"), 200},
    {"POST", "/persons/{id}/error-reports", h_report_file, "api_error_report_file",
     "fileErrorReport", "error-reports", "Report that an attribute of the person is wrong",
     "svc_error_report_file", "", REF("ErrorReportInput"), REF("ErrorReport"), 201},
    {"POST", "/error-reports/{id}/close", h_report_close, "api_error_report_close",
     "closeErrorReport", "error-reports", "Close a report as resolved or rejected",
     "svc_error_report_close", "", REF("ErrorReportClose"), REF("ErrorReport"), 200},
    {"GET", "/units", h_units, "api_units", "listUnits", "units", "The org units",
     "svc_unit_list", "", NULL, LIST("units", "Unit"), 200},
};
#define NROUTES_ (sizeof ROUTES_ / sizeof ROUTES_[0])
_Static_assert(NROUTES_ <= API_ROUTES_MAX, "raise API_ROUTES_MAX");

size_t api_route_count(void)
{
    return NROUTES_;
}

const api_route *api_route_at(size_t i)
{
    return i < NROUTES_ ? &ROUTES_[i] : NULL;
}

/* ---- matching and dispatch -------------------------------------------------------------- */

/* Whether path matches pattern segment by segment; "{x}" takes one
 * non-empty segment, copied to params in order. */
static bool match(const char *pattern, const char *path, char params[PARAMS_MAX][SEG_MAX + 1])
{
    size_t np = 0;
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p != '/' || *q != '/')
            return false;
        p++, q++;
        size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");
        if (*p == '{') {
            if (ql == 0 || ql > SEG_MAX || np == PARAMS_MAX)
                return false;
            memcpy(params[np], q, ql);
            params[np++][ql] = '\0';
        } else if (pl != ql || memcmp(p, q, pl) != 0) {
            return false;
        }
        p += pl, q += ql;
    }
    return !*p && !*q;
}

/* The route for method and path; NULL if none, with allow (if not NULL)
 * listing the methods the path has ("" when the path is unknown). */
static const api_route *find(const char *method, const char *path, char *allow, size_t cap,
                             char params[PARAMS_MAX][SEG_MAX + 1])
{
    if (allow)
        allow[0] = '\0';
    for (size_t i = 0; i < NROUTES_; i++) {
        if (!match(ROUTES_[i].pattern, path, params))
            continue;
        if (strcmp(ROUTES_[i].method, method) == 0)
            return &ROUTES_[i];
        if (allow) {
            size_t n = strlen(allow);
            snprintf(allow + n, cap - n, "%s%s", n ? ", " : "", ROUTES_[i].method);
        }
    }
    return NULL;
}

const char *api_route_label(const char *method, const char *path)
{
    char params[PARAMS_MAX][SEG_MAX + 1];
    const api_route *r = find(method, path, NULL, 0, params);
    return r ? r->label : "api_other";
}

void api_handle(const hreq *rq, hresp *out)
{
    char params[PARAMS_MAX][SEG_MAX + 1];
    char allow[sizeof out->allow];
    const api_route *r = find(rq->method, rq->path, allow, sizeof allow, params);
    if (!r) {
        if (allow[0]) {
            api_error(out, 405, "method_not_allowed", "this method is not allowed here", NULL);
            memcpy(out->allow, allow, sizeof out->allow);
        } else {
            api_error(out, 404, "not_found", "no such resource", NULL);
        }
        return;
    }
    const char *pm[PARAMS_MAX] = {params[0], params[1], params[2]};
    r->fn(rq, pm, out);
}
