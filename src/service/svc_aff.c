/* Affiliations: a person's relationships with the organisation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "svc_internal.h"
#include "tn_str.h"

static tn_code copy_text(const char *in, const char *field, size_t maxchars, char *out,
                         size_t cap, tn_err *e)
{
    if (!in) {
        out[0] = '\0';
        return TN_OK;
    }
    if (!tn_strlcpy(out, in, cap))
        return tn_err_set(e, TN_EINVAL, field, "is too long");
    tn_trim(out);
    return text_validate(out, maxchars, field, e);
}

static tn_code resolve_ref(svc *s, const char *sel, const char *field, char id_out[UUID_BUFSZ],
                           tn_err *e)
{
    id_out[0] = '\0';
    if (!sel || !*sel)
        return TN_OK;
    person ref;
    tn_code rc = svc_resolve_person(s, sel, &ref, e);
    if (rc != TN_OK) {
        if (e)
            tn_strlcpy(e->field, field, sizeof e->field);
        return rc;
    }
    tn_strlcpy(id_out, ref.id, UUID_BUFSZ);
    return TN_OK;
}

/* The change record of an affiliation: every attribute an auditor needs
 * to see which relationship changed how. */
static void aff_changes(svc_changes *ch, const affiliation *old, const affiliation *af)
{
    char a[DATE_ISO_LEN], b[DATE_ISO_LEN];
    svc_changes_add_i64(ch, "affiliation_id", af->id);
#define TEXT(field, name)                                                          \
    if (old ? strcmp(old->field, af->field) != 0 : af->field[0] != '\0')          \
        svc_changes_add(ch, name, old && old->field[0] ? old->field : NULL,        \
                        af->field[0] ? af->field : NULL);
    TEXT(kind, "kind")
    TEXT(source, "source")
    TEXT(source_key, "source_key")
    TEXT(org_unit, "org_unit")
    TEXT(title, "title")
    TEXT(school, "school")
    TEXT(class_, "class")
    TEXT(teaching_groups, "teaching_groups")
    TEXT(programme, "programme")
    TEXT(manager_id, "manager_id")
    TEXT(sponsor_id, "sponsor_id")
    TEXT(end_reason, "end_reason")
#undef TEXT
    if (!old || old->valid_from != af->valid_from)
        svc_changes_add(ch, "valid_from", old ? date_format(old->valid_from, a) : NULL,
                        date_format(af->valid_from, b));
    if (old ? old->valid_to != af->valid_to : af->valid_to != TN_DATE_NONE)
        svc_changes_add_date(ch, "valid_to", old ? old->valid_to : TN_DATE_NONE, af->valid_to);
}

static tn_code audit_aff(svc *s, const svc_actor *a, const char *action, const affiliation *old,
                         const affiliation *new_, tn_err *e)
{
    svc_changes ch;
    svc_changes_init(&ch);
    aff_changes(&ch, old, new_);
    tn_code rc = svc_changes_write(s, a, action, new_->person_id, &ch, e);
    svc_changes_free(&ch);
    return rc;
}

tn_code svc_aff_create_tx(svc *s, const person *p, const svc_aff_input *in, affiliation *out,
                          svc_changes *ch, tn_err *e)
{
    tn_code rc;
    /* An archived person may return (the lifecycle run reactivates them);
     * an erased one is only a tombstone. */
    if (p->state == PSTATE_ERASED)
        return tn_err_set(e, TN_ESTATE, NULL, "person %lld is %s", (long long)p->number,
                          person_state_name(p->state));
    if (p->death_date != TN_DATE_NONE)
        return tn_err_set(e, TN_ESTATE, NULL, "person %lld is deceased", (long long)p->number);

    affiliation af;
    memset(&af, 0, sizeof af);
    tn_strlcpy(af.person_id, p->id, sizeof af.person_id);
    if (!in->kind || !*in->kind)
        return tn_err_set(e, TN_EINVAL, "kind", "is required");
    if (!tn_strlcpy(af.kind, in->kind, sizeof af.kind))
        return tn_err_set(e, TN_EINVAL, "kind", "is too long");
    tn_strlcpy(af.source, in->source && *in->source ? in->source : "manual", sizeof af.source);
    if (in->source_key && *in->source_key &&
        !tn_strlcpy(af.source_key, in->source_key, sizeof af.source_key))
        return tn_err_set(e, TN_EINVAL, "source_key", "is too long");
    if ((rc = copy_text(in->org_unit, "org_unit", TEXT_MAX_CHARS, af.org_unit, sizeof af.org_unit, e)) ||
        (rc = copy_text(in->title, "title", TEXT_MAX_CHARS, af.title, sizeof af.title, e)) ||
        (rc = copy_text(in->school, "school", TEXT_MAX_CHARS, af.school, sizeof af.school, e)) ||
        (rc = copy_text(in->class_, "class", 32, af.class_, sizeof af.class_, e)) ||
        (rc = copy_text(in->teaching_groups, "teaching_groups", 1024, af.teaching_groups,
                        sizeof af.teaching_groups, e)) ||
        (rc = copy_text(in->programme, "programme", TEXT_MAX_CHARS, af.programme,
                        sizeof af.programme, e)) ||
        (rc = copy_text(in->end_reason, "end_reason", 64, af.end_reason, sizeof af.end_reason, e)))
        return rc;
    if (af.teaching_groups[0] && (rc = model_check_groups(af.teaching_groups, "teaching_groups", e)))
        return rc;
    if (!in->valid_from || !*in->valid_from)
        return tn_err_set(e, TN_EINVAL, "valid_from", "is required");
    if ((rc = date_parse_iso(in->valid_from, &af.valid_from, "valid_from", e)) ||
        (rc = date_parse_iso_opt(in->valid_to, &af.valid_to, "valid_to", e)))
        return rc;
    if ((rc = resolve_ref(s, in->manager, "manager", af.manager_id, e)) ||
        (rc = resolve_ref(s, in->sponsor, "sponsor", af.sponsor_id, e)))
        return rc;
    if (af.manager_id[0] && strcmp(af.manager_id, p->id) == 0)
        return tn_err_set(e, TN_EINVAL, "manager", "a person cannot be their own manager");
    af.created_at = af.updated_at = audit_now_us();
    if (!af.source_key[0]) {
        /* Manual entries get a key from the identity number; the suffix
         * grows past keys that exist. */
        for (unsigned n = 1; n < 1000; n++) {
            snprintf(af.source_key, sizeof af.source_key, "%lld-%u", (long long)p->number, n);
            affiliation other;
            tn_err ignored;
            if (store_aff_get_by_source_key(s->st, af.source, af.source_key, &other, &ignored) ==
                TN_ENOTFOUND)
                break;
        }
    }
    if ((rc = affiliation_validate(&af, e)) != TN_OK ||
        (rc = store_aff_insert(s->st, &af, e)) != TN_OK)
        return rc;
    aff_changes(ch, NULL, &af);
    *out = af;
    return TN_OK;
}

tn_code svc_aff_add(svc *s, const svc_actor *a, const char *person_selector,
                    const svc_aff_input *in, affiliation *out, tn_err *e)
{
    person p;
    tn_code rc = svc_resolve_person(s, person_selector, &p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_PERSON_WRITE, p.id, "affiliation.add", e)) != TN_OK)
        return rc;
    affiliation af;
    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = svc_tx_begin(s, e)) == TN_OK) {
        rc = svc_aff_create_tx(s, &p, in, &af, &ch, e);
        if (rc == TN_OK)
            rc = svc_changes_write(s, a, "affiliation.add", p.id, &ch, e);
        rc = svc_tx_end(s, rc, e);
    }
    svc_changes_free(&ch);
    if (rc == TN_OK && out)
        *out = af;
    return rc;
}

static tn_code resolve_aff(svc *s, const char *sel, affiliation *out, tn_err *e)
{
    tn_code rc;
    if (!sel || !*sel)
        return tn_err_set(e, TN_EUSAGE, "affiliation", "an affiliation id or key:SOURCE:KEY is required");
    if (tn_str_startswith(sel, "key:")) {
        const char *src = sel + 4, *colon = strchr(src, ':');
        char source[KIND_BUFSZ];
        if (!colon || colon == src || !colon[1] ||
            !tn_strlcpyn(source, src, (size_t)(colon - src), sizeof source))
            return tn_err_set(e, TN_EUSAGE, "affiliation", "key: needs SOURCE:KEY");
        rc = store_aff_get_by_source_key(s->st, source, colon + 1, out, e);
    } else {
        int64_t id;
        if (!tn_parse_i64(sel, &id) || id <= 0)
            return tn_err_set(e, TN_EUSAGE, "affiliation",
                              "an affiliation is selected by its id or key:SOURCE:KEY");
        rc = store_aff_get(s->st, id, out, e);
    }
    if (rc == TN_ENOTFOUND)
        return tn_err_set(e, TN_ENOTFOUND, NULL, "no affiliation matches %.200s", sel);
    return rc;
}

tn_code svc_aff_end(svc *s, const svc_actor *a, const char *aff_selector, const char *last_day,
                    const char *reason, affiliation *out, tn_err *e)
{
    affiliation af;
    tn_code rc = resolve_aff(s, aff_selector, &af, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_PERSON_WRITE, af.person_id, "affiliation.end", e)) != TN_OK)
        return rc;
    tn_date end = s->today;
    if (last_day && *last_day && (rc = date_parse_iso(last_day, &end, "valid_to", e)) != TN_OK)
        return rc;
    if (end < af.valid_from)
        return tn_err_set(e, TN_EINVAL, "valid_to", "ends before it starts");
    const affiliation old = af;
    af.valid_to = end;
    if (reason && *reason) {
        if ((rc = model_check_token(reason, "end_reason", e)) != TN_OK)
            return rc;
        tn_strlcpy(af.end_reason, reason, sizeof af.end_reason);
    } else if (!af.end_reason[0]) {
        tn_strlcpy(af.end_reason, "ended", sizeof af.end_reason);
    }
    if (old.valid_to == af.valid_to && strcmp(old.end_reason, af.end_reason) == 0) {
        if (out)
            *out = af;
        return TN_OK; /* already so: no change, no event */
    }
    af.updated_at = audit_now_us();
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_aff_update(s->st, &af, e);
    if (rc == TN_OK)
        rc = audit_aff(s, a, "affiliation.end", &old, &af, e);
    rc = svc_tx_end(s, rc, e);
    if (rc == TN_OK && out)
        *out = af;
    return rc;
}

/* Validate the text of an affiliation built from a feed in place. */
static tn_code aff_norm(affiliation *af, tn_err *e)
{
    tn_code rc;
#define TXT(field, name, max)                                                 \
    tn_trim(af->field);                                                       \
    if ((rc = text_validate(af->field, max, name, e)) != TN_OK)               \
        return rc;
    TXT(org_unit, "org_unit", TEXT_MAX_CHARS)
    TXT(title, "title", TEXT_MAX_CHARS)
    TXT(school, "school", TEXT_MAX_CHARS)
    TXT(class_, "class", 32)
    TXT(teaching_groups, "teaching_groups", 1024)
    TXT(programme, "programme", TEXT_MAX_CHARS)
    TXT(end_reason, "end_reason", 64)
#undef TXT
    if (af->teaching_groups[0] &&
        (rc = model_check_groups(af->teaching_groups, "teaching_groups", e)) != TN_OK)
        return rc;
    if (af->manager_id[0] && strcmp(af->manager_id, af->person_id) == 0)
        return tn_err_set(e, TN_EINVAL, "manager", "a person cannot be their own manager");
    return affiliation_validate(af, e);
}

static bool aff_same(const affiliation *a, const affiliation *b)
{
    return strcmp(a->person_id, b->person_id) == 0 && strcmp(a->kind, b->kind) == 0 &&
           strcmp(a->source, b->source) == 0 && strcmp(a->source_key, b->source_key) == 0 &&
           strcmp(a->org_unit, b->org_unit) == 0 && strcmp(a->title, b->title) == 0 &&
           strcmp(a->school, b->school) == 0 && strcmp(a->class_, b->class_) == 0 &&
           strcmp(a->teaching_groups, b->teaching_groups) == 0 &&
           strcmp(a->programme, b->programme) == 0 &&
           strcmp(a->manager_id, b->manager_id) == 0 &&
           strcmp(a->sponsor_id, b->sponsor_id) == 0 && a->valid_from == b->valid_from &&
           a->valid_to == b->valid_to && strcmp(a->end_reason, b->end_reason) == 0;
}

tn_code svc_aff_sync_tx(svc *s, const affiliation *old, affiliation *want, svc_changes *ch,
                        bool *changed, tn_err *e)
{
    *changed = false;
    tn_code rc = aff_norm(want, e);
    if (rc != TN_OK)
        return rc;
    if (!old) {
        want->created_at = want->updated_at = audit_now_us();
        if ((rc = store_aff_insert(s->st, want, e)) != TN_OK)
            return rc;
        aff_changes(ch, NULL, want);
        *changed = true;
        return TN_OK;
    }
    if (strcmp(old->person_id, want->person_id) != 0)
        return tn_err_set(e, TN_ECONFLICT, "source_key",
                          "the key %s:%s belongs to another person", old->source,
                          old->source_key);
    want->id = old->id;
    want->created_at = old->created_at;
    want->updated_at = old->updated_at;
    if (aff_same(old, want))
        return TN_OK;
    want->updated_at = audit_now_us();
    if ((rc = store_aff_update(s->st, want, e)) != TN_OK)
        return rc;
    aff_changes(ch, old, want);
    *changed = true;
    return TN_OK;
}
