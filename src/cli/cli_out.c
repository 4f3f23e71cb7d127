#include "cli_out.h"

#include <string.h>

static json_t *jdate(tn_date d)
{
    char buf[DATE_ISO_LEN];
    return d == TN_DATE_NONE ? json_null() : json_string(date_format(d, buf));
}

static json_t *jstr_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

json_t *cli_json_person(const person *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(p->id));
    json_object_set_new(o, "identity_number", json_integer(p->number));
    json_object_set_new(o, "state", json_string(person_state_name(p->state)));
    json_object_set_new(o, "given_names", json_string(p->given_names));
    json_object_set_new(o, "family_name", json_string(p->family_name));
    json_object_set_new(o, "preferred_name", jstr_or_null(p->preferred_name));
    json_object_set_new(o, "email", jstr_or_null(p->email));
    json_object_set_new(o, "phone", jstr_or_null(p->phone));
    json_object_set_new(o, "birth_date", jdate(p->birth_date));
    json_object_set_new(o, "gender", jstr_or_null(p->gender));
    json_object_set_new(o, "nationality", jstr_or_null(p->nationality));
    json_object_set_new(o, "language", jstr_or_null(p->language));
    json_object_set_new(o, "has_national_id", json_boolean(p->has_national_id));
    json_object_set_new(o, "legal_hold_until", jdate(p->legal_hold_until));
    json_object_set_new(o, "death_date", jdate(p->death_date));
    return o;
}

json_t *cli_json_affiliation(const affiliation *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "kind", json_string(a->kind));
    json_object_set_new(o, "source", json_string(a->source));
    json_object_set_new(o, "source_key", json_string(a->source_key));
    json_object_set_new(o, "org_unit", jstr_or_null(a->org_unit));
    json_object_set_new(o, "title", jstr_or_null(a->title));
    json_object_set_new(o, "school", jstr_or_null(a->school));
    json_object_set_new(o, "class", jstr_or_null(a->class_));
    json_t *groups = json_array();
    if (a->teaching_groups[0]) {
        const char *p = a->teaching_groups;
        while (*p) {
            const char *semi = strchr(p, ';');
            size_t n = semi ? (size_t)(semi - p) : strlen(p);
            json_array_append_new(groups, json_stringn(p, n));
            p += n;
            if (*p == ';')
                p++;
        }
    }
    json_object_set_new(o, "teaching_groups", groups);
    json_object_set_new(o, "programme", jstr_or_null(a->programme));
    json_object_set_new(o, "manager_id", jstr_or_null(a->manager_id));
    json_object_set_new(o, "sponsor_id", jstr_or_null(a->sponsor_id));
    json_object_set_new(o, "valid_from", jdate(a->valid_from));
    json_object_set_new(o, "valid_to", jdate(a->valid_to));
    json_object_set_new(o, "end_reason", jstr_or_null(a->end_reason));
    return o;
}

json_t *cli_json_account(const account *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "username", json_string(a->username));
    json_object_set_new(o, "email", jstr_or_null(a->email));
    json_object_set_new(o, "state", json_string(account_state_name(a->state)));
    json_object_set_new(o, "person_id", json_string(a->person_id));
    json_object_set_new(o, "created_on", jdate(a->created_on));
    json_object_set_new(o, "closed_on", jdate(a->closed_on));
    return o;
}

json_t *cli_json_unit(const org_unit *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(u->code));
    json_object_set_new(o, "name", json_string(u->name));
    json_object_set_new(o, "parent", jstr_or_null(u->parent_code));
    return o;
}

json_t *cli_json_person_view(const svc_person_view *v)
{
    json_t *o = cli_json_person(&v->p);
    json_t *accts = json_array();
    for (size_t i = 0; i < v->naccts; i++)
        json_array_append_new(accts, cli_json_account(&v->accts[i]));
    json_object_set_new(o, "accounts", accts);
    json_t *affs = json_array();
    for (size_t i = 0; i < v->naffs; i++)
        json_array_append_new(affs, cli_json_affiliation(&v->affs[i]));
    json_object_set_new(o, "affiliations", affs);
    return o;
}

void cli_print_json(json_t *o)
{
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(o);
}

static const char *or_dash(const char *s)
{
    return s[0] ? s : "-";
}

void cli_text_person_line(FILE *f, const person *p)
{
    fprintf(f, "%-8lld %-8s %s %s\n", (long long)p->number, person_state_name(p->state),
            p->given_names, p->family_name);
}

void cli_text_account(FILE *f, const account *a)
{
    char d[DATE_ISO_LEN];
    fprintf(f, "  account      %s <%s> %s since %s\n", a->username, or_dash(a->email),
            account_state_name(a->state), date_format(a->created_on, d));
}

void cli_text_affiliation(FILE *f, const affiliation *af)
{
    char from[DATE_ISO_LEN], to[DATE_ISO_LEN];
    fprintf(f, "  affiliation  #%lld %s %s:%s %s..%s", (long long)af->id, af->kind, af->source,
            af->source_key, date_format(af->valid_from, from),
            af->valid_to == TN_DATE_NONE ? "" : date_format(af->valid_to, to));
    if (af->end_reason[0])
        fprintf(f, " (%s)", af->end_reason);
    if (af->org_unit[0])
        fprintf(f, " unit=%s", af->org_unit);
    if (af->title[0])
        fprintf(f, " title=%s", af->title);
    if (af->school[0])
        fprintf(f, " school=%s", af->school);
    if (af->class_[0])
        fprintf(f, " class=%s", af->class_);
    if (af->programme[0])
        fprintf(f, " programme=%s", af->programme);
    fputc('\n', f);
}

void cli_text_person_view(FILE *f, const svc_person_view *v)
{
    const person *p = &v->p;
    char d[DATE_ISO_LEN];
    fprintf(f, "person %lld  %s %s  [%s]\n", (long long)p->number, p->given_names, p->family_name,
            person_state_name(p->state));
    fprintf(f, "  id           %s\n", p->id);
    if (p->preferred_name[0])
        fprintf(f, "  preferred    %s\n", p->preferred_name);
    if (p->birth_date != TN_DATE_NONE)
        fprintf(f, "  born         %s\n", date_format(p->birth_date, d));
    fprintf(f, "  national id  %s\n", p->has_national_id ? "on record (hidden)" : "none");
    if (p->email[0])
        fprintf(f, "  email        %s\n", p->email);
    if (p->phone[0])
        fprintf(f, "  phone        %s\n", p->phone);
    for (size_t i = 0; i < v->naccts; i++)
        cli_text_account(f, &v->accts[i]);
    for (size_t i = 0; i < v->naffs; i++)
        cli_text_affiliation(f, &v->affs[i]);
}
