/* Persons, affiliations and accounts: the registry's core use cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "svc_internal.h"
#include "tn_mem.h"
#include "tn_str.h"

/* Attribute names recorded for a person read (what the caller was shown).
 * The national ID is not among them: it is only shown by reveal_nid. */
#define PERSON_READ_ATTRS \
    "number,state,given_names,family_name,preferred_name,email,phone,birth_date,gender," \
    "nationality,language,legal_hold_until,death_date"
#define PERSON_VIEW_ATTRS PERSON_READ_ATTRS ",affiliations,accounts"

static tn_code audit_read_event(svc *s, const svc_actor *a, const char *action,
                                const char *subject_id, const char *attrs, tn_err *e)
{
    store_audit_row r;
    svc_audit_row(&r, a, action, subject_id, attrs, "allowed");
    return audit_read(s->au, &r, e);
}

/* ---- field validation ----------------------------------------------------- */

/* A name as given, with runs of spaces collapsed; validated. */
static tn_code take_name(const char *in, const char *field, char out[NAME_BUFSZ], tn_err *e)
{
    if (!tn_strlcpy(out, in, NAME_BUFSZ))
        return tn_err_set(e, TN_EINVAL, field, "is longer than %d characters", NAME_MAX_CHARS);
    name_normalize_space(out);
    return name_validate(out, field, e);
}

static tn_code take_code(const char *in, const char *field, size_t minlen, size_t maxlen,
                         bool upper, char *out, size_t cap, tn_err *e)
{
    size_t n = strlen(in);
    if (n == 0) {
        out[0] = '\0';
        return TN_OK;
    }
    if (n < minlen || n > maxlen || n >= cap)
        return tn_err_set(e, TN_EINVAL, field, "must be %zu to %zu letters", minlen, maxlen);
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch >= 'a' && ch <= 'z')
            out[i] = upper ? (char)(ch - 32) : ch;
        else if (ch >= 'A' && ch <= 'Z')
            out[i] = upper ? ch : (char)(ch + 32);
        else
            return tn_err_set(e, TN_EINVAL, field, "must contain letters only");
    }
    out[n] = '\0';
    return TN_OK;
}

/* The national ID, if given, decides birth date and gender. */
typedef struct nid_parts {
    bool present;
    char canon[HETU_BUFSZ];
    hetu_info info;
} nid_parts;

static tn_code take_nid(const char *in, nid_parts *np, tn_err *e)
{
    memset(np, 0, sizeof *np);
    if (!in || !*in)
        return TN_OK;
    tn_code rc = hetu_parse(in, np->canon, &np->info, e);
    if (rc != TN_OK) {
        if (e && !e->field[0])
            tn_strlcpy(e->field, "national_id", sizeof e->field);
        return rc;
    }
    np->present = true;
    return TN_OK;
}

/* Apply the attributes given in `in` to p, recording changes. Used for
 * both add (p zeroed, all changes recorded) and update. */
static tn_code apply_person_input(const person_input *in, person *p, const nid_parts *np,
                                  bool creating, svc_changes *ch, tn_err *e)
{
    tn_code rc;
    char buf[NAME_BUFSZ];

    if (creating && (!in->given_names || !*in->given_names))
        return tn_err_set(e, TN_EINVAL, "given_names", "is required");
    if (creating && (!in->family_name || !*in->family_name))
        return tn_err_set(e, TN_EINVAL, "family_name", "is required");

#define NAME_FIELD(field)                                                        \
    if (in->field) {                                                             \
        if ((rc = take_name(in->field, #field, buf, e)) != TN_OK)                \
            return rc;                                                           \
        if (strcmp(buf, p->field) != 0) {                                        \
            svc_changes_add(ch, #field, creating ? NULL : p->field, buf);            \
            tn_strlcpy(p->field, buf, sizeof p->field);                          \
        }                                                                        \
    }
    NAME_FIELD(given_names)
    NAME_FIELD(family_name)
#undef NAME_FIELD

    if (in->preferred_name) {
        buf[0] = '\0';
        if (*in->preferred_name && (rc = take_name(in->preferred_name, "preferred_name", buf, e)) != TN_OK)
            return rc;
        if (strcmp(buf, p->preferred_name) != 0) {
            svc_changes_add(ch, "preferred_name", creating || !p->preferred_name[0] ? NULL : p->preferred_name,
                        buf[0] ? buf : NULL);
            tn_strlcpy(p->preferred_name, buf, sizeof p->preferred_name);
        }
    }
    if (in->email) {
        char em[EMAIL_BUFSZ] = "";
        if (*in->email && (rc = email_normalize(in->email, em, "email", e)) != TN_OK)
            return rc;
        if (strcmp(em, p->email) != 0) {
            svc_changes_add(ch, "email", p->email[0] ? p->email : NULL, em[0] ? em : NULL);
            tn_strlcpy(p->email, em, sizeof p->email);
        }
    }
    if (in->phone) {
        char ph[PHONE_BUFSZ] = "";
        if (*in->phone && (rc = phone_normalize(in->phone, ph, "phone", e)) != TN_OK)
            return rc;
        if (strcmp(ph, p->phone) != 0) {
            svc_changes_add(ch, "phone", p->phone[0] ? p->phone : NULL, ph[0] ? ph : NULL);
            tn_strlcpy(p->phone, ph, sizeof p->phone);
        }
    }
    if (in->nationality) {
        char v[LANG_BUFSZ];
        if ((rc = take_code(in->nationality, "nationality", 2, 2, true, v, sizeof v, e)) != TN_OK)
            return rc;
        if (strcmp(v, p->nationality) != 0) {
            svc_changes_add(ch, "nationality", p->nationality[0] ? p->nationality : NULL, v[0] ? v : NULL);
            tn_strlcpy(p->nationality, v, sizeof p->nationality);
        }
    }
    if (in->language) {
        char v[LANG_BUFSZ];
        if ((rc = take_code(in->language, "language", 2, 3, false, v, sizeof v, e)) != TN_OK)
            return rc;
        if (strcmp(v, p->language) != 0) {
            svc_changes_add(ch, "language", p->language[0] ? p->language : NULL, v[0] ? v : NULL);
            tn_strlcpy(p->language, v, sizeof p->language);
        }
    }

    /* Birth date and gender: from the national ID when there is one. */
    if (np->present) {
        if (in->birth_date && *in->birth_date) {
            tn_date bd;
            if ((rc = date_parse_iso(in->birth_date, &bd, "birth_date", e)) != TN_OK)
                return rc;
            if (bd != np->info.birth_date)
                return tn_err_set(e, TN_EINVAL, "birth_date",
                                  "does not match the birth date in the national ID");
        }
        if (p->birth_date != np->info.birth_date) {
            svc_changes_add_date(ch, "birth_date", creating ? TN_DATE_NONE : p->birth_date,
                             np->info.birth_date);
            p->birth_date = np->info.birth_date;
        }
        const char *g = np->info.female ? "female" : "male";
        if (strcmp(g, p->gender) != 0) {
            svc_changes_add(ch, "gender", p->gender[0] ? p->gender : NULL, g);
            tn_strlcpy(p->gender, g, sizeof p->gender);
        }
    } else if (in->birth_date) {
        tn_date bd = TN_DATE_NONE;
        if ((rc = date_parse_iso_opt(in->birth_date, &bd, "birth_date", e)) != TN_OK)
            return rc;
        if (p->has_national_id && bd != p->birth_date)
            return tn_err_set(e, TN_EINVAL, "birth_date",
                              "comes from the national ID and cannot be set separately");
        if (bd != p->birth_date) {
            svc_changes_add_date(ch, "birth_date", p->birth_date, bd);
            p->birth_date = bd;
        }
    }
    return TN_OK;
}

static void person_blank(person *p)
{
    memset(p, 0, sizeof *p);
    p->birth_date = TN_DATE_NONE;
    p->legal_hold_until = TN_DATE_NONE;
    p->death_date = TN_DATE_NONE;
    p->state = PSTATE_PENDING;
}

/* Map a uniqueness conflict on the national ID to a message that names the
 * existing person by number, never by the ID. */
static tn_code nid_conflict(svc *s, const nid_parts *np, const unsigned char hash[SEC_HASH_BYTES],
                            tn_err *e)
{
    char id[UUID_BUFSZ];
    person other;
    tn_err ignored;
    if (store_person_find_by_nid_hash(s->st, np->info.birth_date, hash, id, &ignored) == TN_OK &&
        store_person_get(s->st, id, &other, &ignored) == TN_OK)
        return tn_err_set(e, TN_ECONFLICT, "national_id",
                          "a person with this national ID already exists (number %lld)",
                          (long long)other.number);
    return tn_err_set(e, TN_ECONFLICT, "national_id",
                      "a person with this national ID already exists");
}

tn_code svc_person_create_tx(svc *s, const person_input *in, person *out, svc_changes *ch,
                             tn_err *e)
{
    person p;
    person_blank(&p);
    nid_parts np;
    unsigned char sealed[SEC_SEALED_MAX], hash[SEC_HASH_BYTES];
    size_t sealed_len = 0;
    tn_code rc;
    if ((rc = take_nid(in->national_id, &np, e)) != TN_OK)
        goto out;
    if ((rc = apply_person_input(in, &p, &np, true, ch, e)) != TN_OK)
        goto out;
    if (np.present) {
        if ((rc = sec_nid_seal(&s->keys, np.canon, sealed, &sealed_len, e)) != TN_OK)
            goto out;
        sec_nid_hash(&s->keys, np.canon, hash);
        p.has_national_id = true;
        svc_changes_add_secret(ch, "national_id", false, true);
    }
    sec_uuid(p.id);
    p.created_at = p.updated_at = audit_now_us();
    rc = store_person_insert(s->st, &p, np.present ? sealed : NULL, sealed_len,
                             np.present ? hash : NULL, e);
    if (rc == TN_ECONFLICT && np.present)
        rc = nid_conflict(s, &np, hash, e);
    if (rc == TN_OK) {
        svc_changes_add(ch, "state", NULL, person_state_name(p.state));
        *out = p;
    }
out:
    explicit_bzero(&np, sizeof np);
    return rc;
}

tn_code svc_person_add(svc *s, const svc_actor *a, const person_input *in, person *out,
                       tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_PERSON_CREATE, NULL, "person.add", e);
    if (rc != TN_OK)
        return rc;
    person p;
    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = svc_tx_begin(s, e)) == TN_OK) {
        rc = svc_person_create_tx(s, in, &p, &ch, e);
        if (rc == TN_OK)
            rc = svc_changes_write(s, a, "person.add", p.id, &ch, e);
        rc = svc_tx_end(s, rc, e);
    }
    if (rc == TN_OK && out)
        *out = p;
    svc_changes_free(&ch);
    return rc;
}

tn_code svc_person_enrol(svc *s, const svc_actor *a, const svc_enrol_input *in,
                         svc_enrolled *out, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_PERSON_CREATE, NULL, "person.enrol", e);
    if (rc != TN_OK)
        return rc;
    svc_enrolled r;
    memset(&r, 0, sizeof r);
    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        goto out;
    rc = svc_person_create_tx(s, &in->person, &r.person, &ch, e);
    if (rc == TN_OK && in->affiliation) {
        ch.prefix = "affiliation.";
        rc = svc_aff_create_tx(s, &r.person, in->affiliation, &r.affiliation, &ch, e);
        r.has_affiliation = rc == TN_OK;
    }
    if (rc == TN_OK && in->account) {
        ch.prefix = "account.";
        rc = svc_account_create_tx(s, &r.person, in->username, &r.account, &ch, e);
        r.has_account = rc == TN_OK;
    }
    ch.prefix = NULL;
    if (rc == TN_OK)
        rc = svc_changes_write(s, a, "person.enrol", r.person.id, &ch, e);
    rc = svc_tx_end(s, rc, e);
    if (rc == TN_OK && out)
        *out = r;
out:
    svc_changes_free(&ch);
    return rc;
}

tn_code svc_person_show(svc *s, const svc_actor *a, const char *selector, svc_person_view *out,
                        tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_code rc = svc_resolve_person(s, selector, &out->p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_PERSON_READ, out->p.id, "person.read", e)) != TN_OK)
        goto fail;
    if ((rc = store_aff_list_by_person(s->st, out->p.id, &out->affs, &out->naffs, e)) != TN_OK)
        goto fail;
    if ((rc = store_account_list_by_person(s->st, out->p.id, &out->accts, &out->naccts, e)) !=
        TN_OK)
        goto fail;
    if ((rc = audit_read_event(s, a, "person.read", out->p.id, PERSON_VIEW_ATTRS, e)) != TN_OK)
        goto fail;
    return TN_OK;
fail:
    svc_person_view_free(out);
    return rc;
}

void svc_person_view_free(svc_person_view *v)
{
    free(v->affs);
    free(v->accts);
    v->affs = NULL;
    v->accts = NULL;
    v->naffs = v->naccts = 0;
}

/* Attributes a person may change about themselves (REG-5). */
static bool only_self_editable(const person_input *ch)
{
    return !ch->national_id && !ch->given_names && !ch->family_name && !ch->birth_date &&
           !ch->nationality;
}

tn_code svc_person_update(svc *s, const svc_actor *a, const char *selector,
                          const person_input *in, person *out, tn_err *e)
{
    person p;
    tn_code rc = svc_resolve_person(s, selector, &p, e);
    if (rc != TN_OK)
        return rc;
    svc_op op = only_self_editable(in) ? SVC_OP_PERSON_SELF_EDIT : SVC_OP_PERSON_WRITE;
    if ((rc = svc_authorize(s, a, op, p.id, "person.update", e)) != TN_OK)
        return rc;
    if (p.state == PSTATE_ARCHIVED || p.state == PSTATE_ERASED)
        return tn_err_set(e, TN_ESTATE, NULL, "person %lld is %s and cannot be changed",
                          (long long)p.number, person_state_name(p.state));

    nid_parts np;
    svc_changes ch;
    svc_changes_init(&ch);
    unsigned char sealed[SEC_SEALED_MAX], hash[SEC_HASH_BYTES];
    size_t sealed_len = 0;
    const bool had_nid = p.has_national_id;
    bool nid_change = false, nid_clear = false;

    if ((rc = take_nid(in->national_id, &np, e)) != TN_OK)
        goto out;
    if (in->national_id && !*in->national_id && had_nid) {
        nid_clear = true;
        p.has_national_id = false;
    } else if (np.present) {
        /* Only a different ID is a change; compare through the keyed hash. */
        char holder[UUID_BUFSZ];
        tn_err ignored;
        sec_nid_hash(&s->keys, np.canon, hash);
        bool same = had_nid &&
                    store_person_find_by_nid_hash(s->st, np.info.birth_date, hash, holder,
                                                  &ignored) == TN_OK &&
                    strcmp(holder, p.id) == 0;
        if (!same) {
            nid_change = true;
            if ((rc = sec_nid_seal(&s->keys, np.canon, sealed, &sealed_len, e)) != TN_OK)
                goto out;
        }
    }
    /* Birth date and gender follow a new ID; with the ID unchanged,
     * apply_person_input refuses a birth date that differs from it. */
    if ((rc = apply_person_input(in, &p, &np, false, &ch, e)) != TN_OK)
        goto out;
    if (nid_change || nid_clear)
        svc_changes_add_secret(&ch, "national_id", had_nid, nid_change);

    if (svc_changes_empty(&ch)) {
        if (out)
            *out = p;
        goto out;
    }
    p.updated_at = audit_now_us();
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        goto out;
    if (nid_change || nid_clear) {
        rc = store_person_set_nid(s->st, p.id, np.info.birth_date, nid_change ? sealed : NULL,
                                  sealed_len, nid_change ? hash : NULL, e);
        if (rc == TN_ECONFLICT)
            rc = nid_conflict(s, &np, hash, e);
        p.has_national_id = nid_change;
    }
    if (rc == TN_OK)
        rc = store_person_update(s->st, &p, e);
    if (rc == TN_OK)
        rc = svc_changes_write(s, a, "person.update", p.id, &ch, e);
    rc = svc_tx_end(s, rc, e);
    if (rc == TN_OK && out)
        *out = p;
out:
    explicit_bzero(&np, sizeof np);
    svc_changes_free(&ch);
    return rc;
}

tn_code svc_person_reveal_nid(svc *s, const svc_actor *a, const char *selector,
                              char out[HETU_BUFSZ], tn_err *e)
{
    person p;
    tn_code rc = svc_resolve_person(s, selector, &p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_NID_READ, p.id, "person.read_national_id", e)) != TN_OK)
        return rc;
    unsigned char blob[SEC_SEALED_MAX];
    size_t len = 0;
    if ((rc = store_person_get_nid(s->st, p.id, blob, sizeof blob, &len, e)) != TN_OK) {
        if (rc == TN_ENOTFOUND)
            tn_err_set(e, TN_ENOTFOUND, "national_id", "person %lld has no national ID",
                       (long long)p.number);
        return rc;
    }
    if ((rc = sec_nid_open(&s->keys, blob, len, out, HETU_BUFSZ, e)) != TN_OK)
        return rc;
    /* Revealing the ID is rare and sensitive: its event is written at once,
     * not queued with ordinary reads. */
    store_audit_row r;
    svc_audit_row(&r, a, "person.read_national_id", p.id, "national_id", "allowed");
    if ((rc = audit_write(s->au, &r, e)) != TN_OK)
        explicit_bzero(out, HETU_BUFSZ);
    return rc;
}

struct list_ctx {
    svc *s;
    const svc_actor *a;
    svc_person_cb cb;
    void *ctx;
    tn_err *e;
    tn_code rc;
};

static int list_one(const person *p, void *vctx)
{
    struct list_ctx *lc = vctx;
    lc->rc = audit_read_event(lc->s, lc->a, "person.list", p->id, PERSON_READ_ATTRS, lc->e);
    if (lc->rc != TN_OK)
        return 1;
    return lc->cb(p, lc->ctx);
}

tn_code svc_person_list(svc *s, const svc_actor *a, const svc_person_query *q, svc_person_cb cb,
                        void *ctx, tn_err *e)
{
    tn_code rc = svc_authorize_unit(s, a, SVC_OP_PERSON_LIST, q->org_unit, "person.list", e);
    if (rc != TN_OK)
        return rc;
    store_person_filter f = {
        .state = -1,
        .kind = q->kind,
        .org_unit = q->org_unit,
        .name = q->name,
        .after_number = q->after_number,
        .limit = q->limit,
    };
    if (q->state) {
        person_state st;
        if (!person_state_parse(q->state, &st))
            return tn_err_set(e, TN_EINVAL, "state",
                              "must be pending, active, grace, closed, archived or erased");
        f.state = (int)st;
    }
    if (q->limit < 0)
        return tn_err_set(e, TN_EINVAL, "limit", "must not be negative");
    struct list_ctx lc = {s, a, cb, ctx, e, TN_OK};
    rc = store_person_list(s->st, &f, list_one, &lc, e);
    if (rc == TN_OK)
        rc = lc.rc;
    return rc;
}

tn_code svc_person_sync_tx(svc *s, person *p, const person_input *in, svc_changes *ch,
                           bool *changed, tn_err *e)
{
    *changed = false;
    if (in->national_id || in->birth_date)
        return tn_err_set(e, TN_EINTERNAL, NULL, "sync does not change the national ID");
    if (p->state == PSTATE_ARCHIVED || p->state == PSTATE_ERASED)
        return TN_OK; /* a source keeps sending old rows; the record stays as it is */
    person next = *p;
    size_t before = ch->names.len;
    nid_parts none;
    memset(&none, 0, sizeof none);
    tn_code rc = apply_person_input(in, &next, &none, false, ch, e);
    if (rc != TN_OK || ch->names.len == before)
        return rc;
    next.updated_at = audit_now_us();
    if ((rc = store_person_update(s->st, &next, e)) != TN_OK)
        return rc;
    *p = next;
    *changed = true;
    return TN_OK;
}

tn_code svc_person_record_death_tx(svc *s, person *p, tn_date date, svc_changes *ch,
                                   bool *changed, tn_err *e)
{
    *changed = false;
    if (date == TN_DATE_NONE)
        return tn_err_set(e, TN_EINVAL, "death_date", "is required");
    /* A recorded date stands: a second source must not move it. */
    if (p->death_date != TN_DATE_NONE || p->state == PSTATE_ERASED)
        return TN_OK;
    person next = *p;
    next.death_date = date;
    next.updated_at = audit_now_us();
    tn_code rc = store_person_update(s->st, &next, e);
    if (rc != TN_OK)
        return rc;
    svc_changes_add_date(ch, "death_date", TN_DATE_NONE, date);
    *p = next;
    *changed = true;
    return TN_OK;
}

tn_code svc_person_attach_nid_tx(svc *s, person *p, const char *national_id, svc_changes *ch,
                                 tn_err *e)
{
    if (p->has_national_id)
        return tn_err_set(e, TN_ECONFLICT, "national_id", "person %lld has a national ID",
                          (long long)p->number);
    nid_parts np;
    unsigned char sealed[SEC_SEALED_MAX], hash[SEC_HASH_BYTES];
    size_t sealed_len = 0;
    tn_code rc = take_nid(national_id, &np, e);
    if (rc == TN_OK && !np.present)
        rc = tn_err_set(e, TN_EINVAL, "national_id", "is required");
    if (rc != TN_OK)
        goto out;
    /* A birth date recorded without the ID must agree with the ID's. */
    if (p->birth_date != TN_DATE_NONE && p->birth_date != np.info.birth_date) {
        rc = tn_err_set(e, TN_EINVAL, "national_id",
                        "its birth date differs from the one recorded for the person");
        goto out;
    }
    person next = *p;
    person_input none;
    memset(&none, 0, sizeof none);
    if ((rc = apply_person_input(&none, &next, &np, false, ch, e)) != TN_OK)
        goto out;
    if ((rc = sec_nid_seal(&s->keys, np.canon, sealed, &sealed_len, e)) != TN_OK)
        goto out;
    sec_nid_hash(&s->keys, np.canon, hash);
    rc = store_person_set_nid(s->st, p->id, np.info.birth_date, sealed, sealed_len, hash, e);
    if (rc == TN_ECONFLICT)
        rc = nid_conflict(s, &np, hash, e);
    if (rc != TN_OK)
        goto out;
    next.has_national_id = true;
    next.updated_at = audit_now_us();
    if ((rc = store_person_update(s->st, &next, e)) != TN_OK)
        goto out;
    svc_changes_add_secret(ch, "national_id", false, true);
    *p = next;
out:
    explicit_bzero(&np, sizeof np);
    return rc;
}
