/* JSON renderings for the admin REST API (api_json.h). */
#include "api_json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

json_t *aj_date(tn_date d)
{
    char buf[DATE_ISO_LEN];
    return d == TN_DATE_NONE ? json_null() : json_string(date_format(d, buf));
}

json_t *aj_time(int64_t us)
{
    if (us <= 0)
        return json_null();
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char day[24], out[40];
    gmtime_r(&t, &tm);
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sizeof out, "%.24s.%06dZ", day, (int)(us % 1000000));
    return json_string(out);
}

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* Text from the registry is UTF-8 (validated on the way in); a value
 * jansson would refuse still must not drop the whole answer. */
static json_t *str(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

json_t *aj_person(const person *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", str(p->id));
    json_object_set_new(o, "identity_number", json_integer(p->number));
    json_object_set_new(o, "state", str(person_state_name(p->state)));
    json_object_set_new(o, "given_names", str(p->given_names));
    json_object_set_new(o, "family_name", str(p->family_name));
    json_object_set_new(o, "preferred_name", str_or_null(p->preferred_name));
    json_object_set_new(o, "email", str_or_null(p->email));
    json_object_set_new(o, "phone", str_or_null(p->phone));
    json_object_set_new(o, "birth_date", aj_date(p->birth_date));
    json_object_set_new(o, "gender", str_or_null(p->gender));
    json_object_set_new(o, "nationality", str_or_null(p->nationality));
    json_object_set_new(o, "language", str_or_null(p->language));
    json_object_set_new(o, "has_national_id", json_boolean(p->has_national_id));
    json_object_set_new(o, "legal_hold_until", aj_date(p->legal_hold_until));
    json_object_set_new(o, "death_date", aj_date(p->death_date));
    return o;
}

json_t *aj_affiliation(const affiliation *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "person_id", str(a->person_id));
    json_object_set_new(o, "kind", str(a->kind));
    json_object_set_new(o, "source", str(a->source));
    json_object_set_new(o, "source_key", str(a->source_key));
    json_object_set_new(o, "org_unit", str_or_null(a->org_unit));
    json_object_set_new(o, "title", str_or_null(a->title));
    json_object_set_new(o, "school", str_or_null(a->school));
    json_object_set_new(o, "class", str_or_null(a->class_));
    json_t *groups = json_array();
    const char *p = a->teaching_groups;
    while (*p) {
        size_t n = strcspn(p, ";");
        if (n)
            json_array_append_new(groups, json_stringn(p, n));
        p += n;
        if (*p == ';')
            p++;
    }
    json_object_set_new(o, "teaching_groups", groups);
    json_object_set_new(o, "programme", str_or_null(a->programme));
    json_object_set_new(o, "manager_id", str_or_null(a->manager_id));
    json_object_set_new(o, "sponsor_id", str_or_null(a->sponsor_id));
    json_object_set_new(o, "valid_from", aj_date(a->valid_from));
    json_object_set_new(o, "valid_to", aj_date(a->valid_to));
    json_object_set_new(o, "end_reason", str_or_null(a->end_reason));
    return o;
}

json_t *aj_account(const account *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "username", str(a->username));
    json_object_set_new(o, "email", str_or_null(a->email));
    json_object_set_new(o, "state", str(account_state_name(a->state)));
    json_object_set_new(o, "person_id", str(a->person_id));
    json_object_set_new(o, "created_on", aj_date(a->created_on));
    json_object_set_new(o, "closed_on", aj_date(a->closed_on));
    return o;
}

json_t *aj_unit(const org_unit *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", str(u->code));
    json_object_set_new(o, "name", str(u->name));
    json_object_set_new(o, "parent", str_or_null(u->parent_code));
    return o;
}

json_t *aj_person_view(const svc_person_view *v)
{
    json_t *o = aj_person(&v->p);
    json_t *accts = json_array();
    for (size_t i = 0; i < v->naccts; i++)
        json_array_append_new(accts, aj_account(&v->accts[i]));
    json_object_set_new(o, "accounts", accts);
    json_t *affs = json_array();
    for (size_t i = 0; i < v->naffs; i++)
        json_array_append_new(affs, aj_affiliation(&v->affs[i]));
    json_object_set_new(o, "affiliations", affs);
    return o;
}

json_t *aj_handovers(const svc_lc_handover *h, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "leaver_id", str(h[i].leaver_id));
        json_object_set_new(o, "leaver_number", json_integer(h[i].leaver_number));
        json_object_set_new(o, "grantee_id", str_or_null(h[i].grantee_id));
        json_object_set_new(o, "grantee_number",
                            h[i].grantee_number ? json_integer(h[i].grantee_number) : json_null());
        json_object_set_new(o, "from", aj_date(h[i].from));
        json_object_set_new(o, "until", aj_date(h[i].until));
        json_object_set_new(o, "state", str(h[i].state));
        json_object_set_new(o, "ended_on", aj_date(h[i].ended_on));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The same steps and names as `tunnus lifecycle forecast --json`. */
json_t *aj_forecast(const svc_lc_forecast *f)
{
    const lc_eval *ev = &f->ev;
    const struct {
        const char *step;
        tn_date on;
    } steps[] = {
        {"active_from", ev->active_on},   {"grace_from", ev->grace_on},
        {"close", ev->close_on},          {"handover_until", ev->handover_until},
        {"reopen_until", ev->reopen_until}, {"archive", ev->archive_on},
        {"purge", ev->purge_on},          {"erase", ev->erase_on},
    };
    json_t *o = json_object();
    json_object_set_new(o, "id", str(f->p.id));
    json_object_set_new(o, "identity_number", json_integer(f->p.number));
    json_object_set_new(o, "as_of", aj_date(f->as_of));
    json_object_set_new(o, "policy_version", json_integer(f->policy_version));
    json_object_set_new(o, "recorded_state", str(person_state_name(f->p.state)));
    json_object_set_new(o, "state", str(person_state_name(ev->state)));
    json_object_set_new(o, "legal_hold_until", aj_date(f->p.legal_hold_until));
    json_object_set_new(o, "hold_in_force", json_boolean(ev->hold_in_force));
    json_object_set_new(o, "death_date", aj_date(ev->death_date));
    json_t *arr = json_array();
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i].on == TN_DATE_NONE)
            continue;
        json_t *s = json_object();
        json_object_set_new(s, "step", json_string(steps[i].step));
        json_object_set_new(s, "date", aj_date(steps[i].on));
        json_object_set_new(s, "past", json_boolean(steps[i].on <= f->as_of));
        json_array_append_new(arr, s);
    }
    json_object_set_new(o, "steps", arr);
    json_object_set_new(o, "handovers", aj_handovers(f->handovers, f->nhandovers));
    if (f->archived) {
        json_t *a = json_object();
        json_object_set_new(a, "kinds", str(f->kinds));
        json_object_set_new(a, "first_start", aj_date(f->first_start));
        json_object_set_new(a, "last_end", aj_date(f->last_end));
        json_object_set_new(a, "archived_on", aj_date(f->archived_on));
        json_object_set_new(a, "purged_on", aj_date(f->purged_on));
        json_object_set_new(o, "archive", a);
    }
    return o;
}

json_t *aj_event(const svc_audit_event *ev)
{
    json_t *o = json_object();
    json_object_set_new(o, "log", str(ev->log ? ev->log : "registry"));
    json_object_set_new(o, "seq", json_integer(ev->seq));
    json_object_set_new(o, "time", aj_time(ev->time_us));
    json_object_set_new(o, "actor_kind", str(ev->actor_kind));
    json_object_set_new(o, "actor_id", str(ev->actor_id));
    json_object_set_new(o, "channel", str(ev->channel));
    json_object_set_new(o, "action", str(ev->action));
    json_object_set_new(o, "subject_id", str_or_null(ev->subject_id));
    json_object_set_new(o, "attrs", str(ev->attrs));
    json_object_set_new(o, "result", str(ev->result));
    json_object_set_new(o, "source", str(ev->source));
    json_object_set_new(o, "request_id", str(ev->request_id));
    if (ev->changes && *ev->changes) {
        /* Stored as JSON text; secrets and national IDs are never in it. */
        json_t *ch = json_loads(ev->changes, 0, NULL);
        json_object_set_new(o, "changes", ch ? ch : str(ev->changes));
    }
    if (ev->detail && *ev->detail)
        json_object_set_new(o, "detail", str(ev->detail));
    return o;
}

json_t *aj_check(const svc_audit_check *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_boolean(c->ok));
    json_object_set_new(o, "events", json_integer(c->events));
    json_object_set_new(o, "checkpoints", json_integer(c->checkpoints));
    json_object_set_new(o, "first_seq", json_integer(c->first_seq));
    json_object_set_new(o, "last_seq", json_integer(c->last_seq));
    json_object_set_new(o, "signed_seq", json_integer(c->signed_seq));
    json_object_set_new(o, "cut_seq", json_integer(c->cut_seq));
    json_object_set_new(o, "kept", json_integer(c->kept));
    json_object_set_new(o, "key_id", str(c->key_id));
    json_t *r = json_object();
    json_object_set_new(r, "events", json_integer(c->read_events));
    json_object_set_new(r, "checkpoints", json_integer(c->read_checkpoints));
    json_object_set_new(r, "last_seq", json_integer(c->read_last_seq));
    json_object_set_new(r, "signed_seq", json_integer(c->read_signed_seq));
    json_object_set_new(r, "cut_seq", json_integer(c->read_cut_seq));
    json_object_set_new(r, "kept", json_integer(c->read_kept));
    json_object_set_new(o, "reads", r);
    if (!c->ok) {
        json_object_set_new(o, "bad_log", str_or_null(c->bad_log));
        json_object_set_new(o, "bad_seq", json_integer(c->bad_seq));
        json_object_set_new(o, "reason", str(c->reason));
    }
    return o;
}

json_t *aj_grant(const svc_role_grant *g)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(g->id));
    json_object_set_new(o, "person_id", str(g->person_id));
    json_object_set_new(o, "person_number", json_integer(g->person_number));
    json_object_set_new(o, "role", str(svc_role_name(g->role)));
    json_object_set_new(o, "unit", str_or_null(g->unit));
    json_object_set_new(o, "valid_from", aj_date(g->valid_from));
    json_object_set_new(o, "valid_to", aj_date(g->valid_to));
    json_object_set_new(o, "revoked_on", aj_date(g->revoked_on));
    json_object_set_new(o, "granted_by", str(g->granted_by));
    json_object_set_new(o, "revoked_by", str_or_null(g->revoked_by));
    json_object_set_new(o, "reason", str(g->reason));
    json_object_set_new(o, "status", str(g->status));
    return o;
}

json_t *aj_error_report(const svc_error_report *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "person_id", str(r->person_id));
    json_object_set_new(o, "person_number", json_integer(r->person_number));
    json_object_set_new(o, "attribute", str(r->attribute));
    json_object_set_new(o, "description", str(r->description));
    json_object_set_new(o, "filed_by", str(r->filed_by));
    json_object_set_new(o, "channel", str(r->channel));
    json_object_set_new(o, "filed_at", aj_time(r->filed_at));
    json_object_set_new(o, "state", str(r->state));
    json_object_set_new(o, "resolved_at", aj_time(r->resolved_at));
    json_object_set_new(o, "resolved_by", str_or_null(r->resolved_by));
    json_object_set_new(o, "resolution", str_or_null(r->resolution));
    return o;
}

json_t *aj_import_run(const svc_import_record *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "source", str(r->source));
    json_object_set_new(o, "kind", str(r->kind));
    json_object_set_new(o, "file", str(r->file));
    json_object_set_new(o, "mode", str(r->mode));
    json_object_set_new(o, "started_at", aj_time(r->started_at));
    json_object_set_new(o, "finished_at", aj_time(r->finished_at));
    json_object_set_new(o, "status", str(r->status));
    const struct {
        const char *k;
        int64_t v;
    } n[] = {{"rows", r->rows},       {"created", r->created}, {"updated", r->updated},
             {"unchanged", r->unchanged}, {"ended", r->ended}, {"rejected", r->rejected},
             {"queued", r->queued}};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        json_object_set_new(o, n[i].k, json_integer(n[i].v));
    json_object_set_new(o, "detail", str_or_null(r->detail));
    return o;
}

json_t *aj_review(const svc_review_entry *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "state", str(r->state));
    json_object_set_new(o, "source", str(r->source));
    json_object_set_new(o, "source_key", str(r->source_key));
    json_object_set_new(o, "kind", str(r->kind));
    json_object_set_new(o, "given_names", str(r->given_names));
    json_object_set_new(o, "family_name", str(r->family_name));
    json_object_set_new(o, "birth_date", str_or_null(r->birth_date));
    json_object_set_new(o, "candidate_id", str_or_null(r->candidate_id));
    json_object_set_new(o, "candidate_number", json_integer(r->candidate_number));
    json_object_set_new(o, "candidates", json_integer(r->candidates));
    json_object_set_new(o, "line", json_integer(r->line));
    return o;
}
