/* The lifecycle use cases (svc_lifecycle.h): the difference between the
 * state lc_evaluate decides and the state recorded becomes an ordered list
 * of transitions, applied per person in one transaction with their audit
 * events and outbox rows. */
#include "svc_audit.h"
#include "svc_lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svc_internal.h"
#include "tn_json.h"
#include "tn_mem.h"
#include "tn_str.h"

#define PAGE 512
#define KINDS_MAX 511

static const char *const transition_names[LC_T_MAX] = {
    [LC_T_HOLD_EXPIRE] = "hold_expire", [LC_T_HANDOVER_END] = "handover_end",
    [LC_T_ACTIVATE] = "activate",       [LC_T_REOPEN] = "reopen",
    [LC_T_EXTEND] = "extend",           [LC_T_GRACE] = "grace",       [LC_T_CLOSE] = "close",
    [LC_T_ARCHIVE] = "archive",         [LC_T_PURGE] = "purge",       [LC_T_ERASE] = "erase",
};

const char *lc_transition_name(lc_transition t)
{
    return (unsigned)t < LC_T_MAX ? transition_names[t] : "unknown";
}

const char *lc_step_name(int step)
{
    static const char *const names[LC_STEP_MAX] = {"close", "archive", "purge", "erase"};
    return step >= 0 && step < LC_STEP_MAX ? names[step] : "unknown";
}

void svc_lc_report_free(svc_lc_report *r)
{
    if (!r)
        return;
    free(r->items);
    free(r->errors);
    r->items = NULL;
    r->errors = NULL;
    r->nitems = r->nerrors = 0;
}

/* ---- dates ------------------------------------------------------------------ */

/* Today in the policy's time zone: the day a run without --as-of acts on
 * is the organisation's day, not the server's. */
static tn_date today_in(const char *tz)
{
    const char *old = getenv("TZ");
    char *saved = old ? tn_strdup(old) : NULL;
    setenv("TZ", tz, 1);
    tzset();
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
    return date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static tn_date resolve_date(const policy *pol, tn_date as_of)
{
    return as_of != TN_DATE_NONE ? as_of : today_in(pol->timezone);
}

/* ---- policy ------------------------------------------------------------------ */

static tn_code load_policy(svc *s, policy *out, int64_t *version, tn_err *e)
{
    char *body = NULL;
    tn_code rc = store_lc_policy_current(s->st, version, &body, e);
    if (rc == TN_OK) {
        rc = policy_parse(body, strlen(body), out, e);
        if (rc != TN_OK)
            rc = tn_err_set(e, TN_EIO, "policy", "the stored policy version %lld is unreadable",
                            (long long)*version);
    }
    free(body);
    return rc;
}

typedef struct kinds_check {
    const policy *pol;
    char missing[KINDS_MAX + 1];
} kinds_check;

static int kind_cb(const char *kind, void *ctx)
{
    kinds_check *k = ctx;
    if (!policy_find_kind(k->pol, kind)) {
        size_t n = strlen(k->missing);
        snprintf(k->missing + n, sizeof k->missing - n, "%s%s", n ? ", " : "", kind);
    }
    return 0;
}

/* Every kind that affiliations use must have timers, or the people holding
 * it could never be evaluated. */
static tn_code check_kinds(svc *s, const policy *pol, tn_err *e)
{
    kinds_check k = {pol, ""};
    tn_code rc = store_lc_kinds_in_use(s->st, kind_cb, &k, e);
    if (rc == TN_OK && k.missing[0])
        rc = tn_err_set(e, TN_EINVAL, "kinds",
                        "the policy has no timers for kind(s) in use in the registry: %s",
                        k.missing);
    return rc;
}

tn_code svc_policy_apply(svc *s, const svc_actor *a, const char *text, size_t len,
                         int64_t *version_out, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_LIFECYCLE, NULL, "policy.apply", e);
    if (rc != TN_OK)
        return rc;
    policy pol;
    if ((rc = policy_parse(text, len, &pol, e)) != TN_OK)
        return rc;
    char *canon = policy_to_json(&pol);
    if (!canon)
        return tn_err_set(e, TN_EINTERNAL, NULL, "cannot serialise the policy");
    int64_t version = 0;
    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = svc_tx_begin(s, e)) == TN_OK) {
        /* Checked inside the transaction, so no affiliation of a new kind
         * can slip in between the check and the store. */
        rc = check_kinds(s, &pol, e);
        if (rc == TN_OK)
            rc = store_lc_policy_add(s->st, canon, audit_now_us(), a->id, &version, e);
        if (rc == TN_OK) {
            svc_changes_add_i64(&ch, "version", version);
            svc_changes_add(&ch, "name", NULL, pol.name[0] ? pol.name : NULL);
            rc = svc_changes_write(s, a, "policy.apply", NULL, &ch, e);
        }
        rc = svc_tx_end(s, rc, e);
    }
    svc_changes_free(&ch);
    free(canon);
    if (rc == TN_OK && version_out)
        *version_out = version;
    return rc;
}

tn_code svc_policy_show(svc *s, const svc_actor *a, policy *out, int64_t *version, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_LIFECYCLE, NULL, "policy.read", e);
    if (rc != TN_OK)
        return rc;
    return load_policy(s, out, version, e);
}

/* ---- one person's facts -------------------------------------------------------- */

typedef struct facts {
    person p;
    affiliation *affs;
    size_t naffs;
    account *accts;
    bool *sealed; /* per account: never to be reopened */
    size_t naccts;
    bool has_arch;
    store_lc_archive arch;
    store_lc_handover *hos; /* grants where the person is leaver or grantee */
    size_t nhos;
} facts;

static void facts_free(facts *f)
{
    free(f->affs);
    free(f->accts);
    free(f->sealed);
    free(f->hos);
    f->affs = NULL;
    f->accts = NULL;
    f->sealed = NULL;
    f->hos = NULL;
}

static tn_code load_accounts(svc *s, facts *f, tn_err *e)
{
    free(f->accts);
    free(f->sealed);
    f->accts = NULL;
    f->sealed = NULL;
    f->naccts = 0;
    tn_code rc = store_account_list_by_person(s->st, f->p.id, &f->accts, &f->naccts, e);
    if (rc != TN_OK)
        return rc;
    f->sealed = tn_calloc(f->naccts ? f->naccts : 1, sizeof *f->sealed);
    for (size_t i = 0; rc == TN_OK && i < f->naccts; i++)
        rc = store_lc_account_sealed(s->st, f->accts[i].id, &f->sealed[i], e);
    return rc;
}

/* The earliest end of an active handover window where the person is the
 * leaver; NONE if there is none. */
static tn_date active_handover_until(const facts *f)
{
    tn_date u = TN_DATE_NONE;
    for (size_t i = 0; i < f->nhos; i++)
        if (f->hos[i].leaver_number == f->p.number && strcmp(f->hos[i].state, "active") == 0 &&
            (u == TN_DATE_NONE || f->hos[i].until < u))
            u = f->hos[i].until;
    return u;
}

static tn_code facts_load(svc *s, const person *p, facts *f, tn_err *e)
{
    memset(f, 0, sizeof *f);
    f->p = *p;
    tn_code rc = store_aff_list_by_person(s->st, p->id, &f->affs, &f->naffs, e);
    if (rc == TN_OK)
        rc = load_accounts(s, f, e);
    if (rc == TN_OK)
        rc = store_lc_handover_list(s->st, p->id, &f->hos, &f->nhos, e);
    if (rc == TN_OK && p->state == PSTATE_ARCHIVED) {
        rc = store_lc_archive_get(s->st, p->id, &f->arch, e);
        if (rc == TN_OK)
            f->has_arch = true;
        else if (rc == TN_ENOTFOUND)
            rc = TN_OK;
    }
    if (rc != TN_OK)
        facts_free(f);
    return rc;
}

static tn_code evaluate(const policy *pol, const facts *f, tn_date d, lc_eval *ev, tn_err *e)
{
    lc_facts lf = {
        .affs = f->affs,
        .naffs = f->naffs,
        .death_date = f->p.death_date,
        .legal_hold_until = f->p.legal_hold_until,
        .stored = f->p.state,
        .archived_purge_on = f->has_arch ? f->arch.purge_on : TN_DATE_NONE,
        .archived_erase_on = f->has_arch ? f->arch.erase_on : TN_DATE_NONE,
    };
    return lc_evaluate(pol, &lf, d, ev, e);
}

/* What the transitions depend on besides the evaluation: the recorded
 * facts, from a full load (facts) or from the scan (store_lc_person). */
typedef struct recorded {
    person_state state;
    tn_date legal_hold_until;
    bool has_account;
    bool has_arch;
    tn_date purged_on;
    tn_date handover_until; /* earliest end of an active handover as leaver */
} recorded;

static recorded recorded_of_facts(const facts *f)
{
    recorded r = {f->p.state,
                  f->p.legal_hold_until,
                  f->naccts > 0,
                  f->has_arch,
                  f->has_arch ? f->arch.purged_on : TN_DATE_NONE,
                  active_handover_until(f)};
    return r;
}

/* The transitions that take the recorded state to the evaluated one, as a
 * bit set applied in enum order. */
static uint32_t transitions_of(const recorded *f, const lc_eval *ev, tn_date d)
{
    uint32_t t = 0;
    person_state from = f->state, to = ev->state;
#define T(x) (1u << (x))
    if (f->legal_hold_until != TN_DATE_NONE && d > f->legal_hold_until)
        t |= T(LC_T_HOLD_EXPIRE);
    if (f->handover_until != TN_DATE_NONE && d > f->handover_until)
        t |= T(LC_T_HANDOVER_END);
    switch (to) {
    case PSTATE_ACTIVE:
    case PSTATE_GRACE:
        if (from == PSTATE_PENDING || !f->has_account)
            t |= T(LC_T_ACTIVATE);
        else if (from == PSTATE_CLOSED || from == PSTATE_ARCHIVED)
            t |= T(LC_T_REOPEN);
        else if (from == PSTATE_ACTIVE && to == PSTATE_GRACE)
            t |= T(LC_T_GRACE);
        else if (from == PSTATE_GRACE && to == PSTATE_ACTIVE)
            t |= T(LC_T_EXTEND);
        break;
    case PSTATE_CLOSED:
        if (from == PSTATE_PENDING || from == PSTATE_ACTIVE || from == PSTATE_GRACE)
            t |= T(LC_T_CLOSE);
        break;
    case PSTATE_ARCHIVED:
    case PSTATE_ERASED:
        if (from == PSTATE_ERASED)
            break;
        if (from == PSTATE_PENDING || from == PSTATE_ACTIVE || from == PSTATE_GRACE)
            t |= T(LC_T_CLOSE);
        if (from != PSTATE_ARCHIVED)
            t |= T(LC_T_ARCHIVE);
        if (ev->purge_due &&
            (from != PSTATE_ARCHIVED || !f->has_arch || f->purged_on == TN_DATE_NONE))
            t |= T(LC_T_PURGE);
        if (to == PSTATE_ERASED)
            t |= T(LC_T_ERASE);
        break;
    case PSTATE_PENDING:
    case PSTATE_MAX:
        break;
    }
#undef T
    return t;
}

/* ---- applying transitions ------------------------------------------------------- */

typedef struct apply_ctx {
    svc *s;
    const svc_actor *a;
    const policy *pol;
    tn_date d;
    facts *f;
    const lc_eval *ev;
} apply_ctx;

/* The provisioning event: what connected systems need to act on, never
 * personal attributes beyond the identifiers they already hold. */
static tn_code outbox(apply_ctx *c, const char *event, const char *const *extra, tn_err *e)
{
    tn_buf b;
    tn_buf_init(&b, 16 * 1024);
    char d[DATE_ISO_LEN];
    tn_buf_putc(&b, '{');
    tn_json_key(&b, "event");
    tn_json_str(&b, event);
    tn_json_key(&b, "person_id");
    tn_json_str(&b, c->f->p.id);
    tn_json_key(&b, "identity_number");
    tn_json_i64(&b, c->f->p.number);
    tn_json_key(&b, "date");
    tn_json_str(&b, date_format(c->d, d));
    tn_json_key(&b, "state");
    tn_json_str(&b, person_state_name(c->f->p.state));
    tn_json_key(&b, "usernames");
    tn_buf_putc(&b, '[');
    for (size_t i = 0; i < c->f->naccts; i++) {
        if (i)
            tn_buf_putc(&b, ',');
        tn_json_str(&b, c->f->accts[i].username);
    }
    tn_buf_putc(&b, ']');
    /* extra: key, value pairs, NULL-terminated; a NULL value is null. */
    for (size_t i = 0; extra && extra[i]; i += 2) {
        tn_json_key(&b, extra[i]);
        if (extra[i + 1])
            tn_json_str(&b, extra[i + 1]);
        else
            tn_buf_puts(&b, "null");
    }
    tn_buf_putc(&b, '}');
    tn_code rc = b.toobig ? tn_err_set(e, TN_EINTERNAL, NULL, "outbox payload too large")
                          : store_lc_outbox_add(c->s->st, "*", c->f->p.id, event, b.data,
                                                audit_now_us(), e);
    tn_buf_free(&b);
    return rc;
}

static account_state account_state_for(person_state ps)
{
    switch (ps) {
    case PSTATE_ACTIVE:
        return ASTATE_ACTIVE;
    case PSTATE_GRACE:
        return ASTATE_GRACE;
    case PSTATE_PENDING:
        return ASTATE_PENDING;
    default:
        return ASTATE_CLOSED;
    }
}

/* Put every account in the state that goes with the person's; a locked
 * account stays locked unless it is being closed. */
static tn_code sync_accounts(apply_ctx *c, person_state ps, svc_changes *ch, tn_err *e)
{
    account_state want = account_state_for(ps);
    for (size_t i = 0; i < c->f->naccts; i++) {
        account *ac = &c->f->accts[i];
        if (ac->state == want || (ac->state == ASTATE_LOCKED && want != ASTATE_CLOSED))
            continue;
        if (c->f->sealed[i] && want != ASTATE_CLOSED)
            continue; /* never reopened (LC-8) */
        char attr[USERNAME_BUFSZ + 16];
        snprintf(attr, sizeof attr, "account.%s.state", ac->username);
        svc_changes_add(ch, attr, account_state_name(ac->state), account_state_name(want));
        ac->state = want;
        ac->closed_on = want == ASTATE_CLOSED ? c->d : TN_DATE_NONE;
        ac->updated_at = audit_now_us();
        tn_code rc = store_account_update(c->s->st, ac, e);
        if (rc != TN_OK)
            return rc;
    }
    return TN_OK;
}

static tn_code set_state(apply_ctx *c, person_state to, svc_changes *ch, tn_err *e)
{
    if (c->f->p.state == to)
        return TN_OK;
    svc_changes_add(ch, "state", person_state_name(c->f->p.state), person_state_name(to));
    c->f->p.state = to;
    c->f->p.updated_at = audit_now_us();
    return store_person_update(c->s->st, &c->f->p, e);
}

static tn_code do_activate(apply_ctx *c, svc_changes *ch, tn_err *e)
{
    tn_code rc;
    person_state to = c->ev->state;
    if (c->f->naccts == 0) {
        /* The policy may name its own username pattern; the account module
         * reads the one in the configuration. */
        char saved[CONF_PATTERN_MAX];
        tn_strlcpy(saved, c->s->cfg.username_pattern, sizeof saved);
        if (c->pol->username_pattern[0])
            tn_strlcpy(c->s->cfg.username_pattern, c->pol->username_pattern,
                       sizeof c->s->cfg.username_pattern);
        person as_active = c->f->p;
        as_active.state = to;
        account acct;
        ch->prefix = "account.";
        rc = svc_account_create_tx(c->s, &as_active, NULL, &acct, ch, e);
        ch->prefix = NULL;
        tn_strlcpy(c->s->cfg.username_pattern, saved, sizeof c->s->cfg.username_pattern);
        if (rc != TN_OK)
            return rc;
        if ((rc = load_accounts(c->s, c->f, e)) != TN_OK)
            return rc;
    }
    if ((rc = sync_accounts(c, to, ch, e)) != TN_OK)
        return rc;
    return set_state(c, to, ch, e);
}

/* Seal every account of the person not sealed yet: it is never reopened. */
static tn_code seal_accounts(apply_ctx *c, const char *reason, svc_changes *ch, tn_err *e)
{
    for (size_t i = 0; i < c->f->naccts; i++) {
        if (c->f->sealed[i])
            continue;
        tn_code rc = store_lc_account_seal(c->s->st, c->f->accts[i].id, c->d, reason,
                                           audit_now_us(), e);
        if (rc != TN_OK)
            return rc;
        c->f->sealed[i] = true;
        char attr[USERNAME_BUFSZ + 16];
        snprintf(attr, sizeof attr, "account.%s.sealed", c->f->accts[i].username);
        svc_changes_add(ch, attr, NULL, reason);
    }
    return TN_OK;
}

/* End the person's active handover grants as leaver: "expired" when the
 * window is over, "returned" when they came back within it. Each ended
 * grant gets an outbox event so provisioning removes the manager's
 * access. */
static tn_code end_handovers(apply_ctx *c, const char *how, svc_changes *ch, tn_err *e)
{
    char d1[DATE_ISO_LEN], d2[DATE_ISO_LEN];
    for (size_t i = 0; i < c->f->nhos; i++) {
        store_lc_handover *h = &c->f->hos[i];
        if (h->leaver_number != c->f->p.number || strcmp(h->state, "active") != 0)
            continue;
        tn_code rc = store_lc_handover_end(c->s->st, h->id, how, c->d, audit_now_us(), e);
        if (rc != TN_OK)
            return rc;
        tn_strlcpy(h->state, how, sizeof h->state);
        h->ended_on = c->d;
        svc_changes_add(ch, "handover.state", "active", how);
        if (h->grantee_id[0])
            svc_changes_add(ch, "handover.grantee", NULL, h->grantee_id);
        const char *kv[] = {"grantee_id", h->grantee_id[0] ? h->grantee_id : NULL,
                            "handover_from", date_format(h->from, d1),
                            "handover_until", date_format(h->until, d2),
                            "reason", how, NULL};
        if ((rc = outbox(c, "handover_end", kv, e)) != TN_OK)
            return rc;
    }
    return TN_OK;
}

/* A return: within a handover window the same account is reconnected and
 * the manager's access removed (LC-8); after the window, or after
 * archiving under returning_username "new", the old accounts stay sealed
 * and the person gets a new one. */
static tn_code do_reopen(apply_ctx *c, svc_changes *ch, tn_err *e)
{
    tn_code rc = end_handovers(c, "returned", ch, e);
    if (rc == TN_OK && c->f->p.state == PSTATE_ARCHIVED && c->pol->returning_new_username)
        rc = seal_accounts(c, "returning_username new", ch, e);
    if (rc != TN_OK)
        return rc;
    bool open = false;
    for (size_t i = 0; i < c->f->naccts; i++)
        open = open || !c->f->sealed[i];
    if (!open) {
        person as_active = c->f->p;
        as_active.state = c->ev->state;
        account acct;
        ch->prefix = "account.";
        char saved[CONF_PATTERN_MAX];
        tn_strlcpy(saved, c->s->cfg.username_pattern, sizeof saved);
        if (c->pol->username_pattern[0])
            tn_strlcpy(c->s->cfg.username_pattern, c->pol->username_pattern,
                       sizeof c->s->cfg.username_pattern);
        rc = svc_account_create_another_tx(c->s, &as_active, &acct, ch, e);
        tn_strlcpy(c->s->cfg.username_pattern, saved, sizeof c->s->cfg.username_pattern);
        ch->prefix = NULL;
        if (rc == TN_OK)
            rc = load_accounts(c->s, c->f, e);
        if (rc != TN_OK)
            return rc;
    }
    rc = sync_accounts(c, c->ev->state, ch, e);
    if (rc == TN_OK)
        rc = set_state(c, c->ev->state, ch, e);
    return rc;
}

/* The window is over: the manager's access ends and the accounts closed
 * before it can never be reopened. */
static tn_code do_handover_end(apply_ctx *c, svc_changes *ch, tn_err *e)
{
    tn_code rc = end_handovers(c, "expired", ch, e);
    if (rc != TN_OK)
        return rc;
    for (size_t i = 0; i < c->f->naccts; i++) {
        if (c->f->sealed[i] || c->f->accts[i].state != ASTATE_CLOSED)
            continue;
        if ((rc = store_lc_account_seal(c->s->st, c->f->accts[i].id, c->d,
                                        "handover window over", audit_now_us(), e)) != TN_OK)
            return rc;
        c->f->sealed[i] = true;
        char attr[USERNAME_BUFSZ + 16];
        snprintf(attr, sizeof attr, "account.%s.sealed", c->f->accts[i].username);
        svc_changes_add(ch, attr, NULL, "handover window over");
    }
    return TN_OK;
}

/* The relationship that ended last with a handover and a manager. */
static const affiliation *handover_aff(apply_ctx *c)
{
    const affiliation *m = NULL;
    tn_date last = TN_DATE_NONE;
    for (size_t i = 0; i < c->f->naffs; i++) {
        const affiliation *a = &c->f->affs[i];
        const policy_kind *k = policy_find_kind(c->pol, a->kind);
        if (!k || k->handover_days == POLICY_NO_DAYS || !a->manager_id[0] ||
            a->valid_to == TN_DATE_NONE)
            continue;
        if (last == TN_DATE_NONE || a->valid_to >= last) {
            last = a->valid_to;
            m = a;
        }
    }
    return m;
}

static void join_kind(char *kinds, size_t cap, const char *kind)
{
    /* Comma-separated set: add kind unless present. */
    size_t kl = strlen(kind);
    for (const char *p = kinds; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == kl && strncmp(p, kind, n) == 0)
            return;
        p += n + (comma ? 1 : 0);
    }
    size_t n = strlen(kinds);
    if (n + kl + 2 <= cap)
        snprintf(kinds + n, cap - n, "%s%s", n ? "," : "", kind);
}

static tn_date min_date(tn_date a, tn_date b)
{
    return a == TN_DATE_NONE ? b : (b == TN_DATE_NONE || a < b) ? a : b;
}

static tn_date max_date(tn_date a, tn_date b)
{
    return a == TN_DATE_NONE ? b : (b == TN_DATE_NONE || a > b) ? a : b;
}

/* Archiving (LC-5): delete every attribute outside archive_keep and every
 * affiliation, keeping a summary of the relationships. Deleted values are
 * recorded in the audit event by name only: the audit trail must not keep
 * what archiving removes. */
static tn_code do_archive(apply_ctx *c, svc_changes *ch, tn_err *e)
{
    tn_code rc;
    person *p = &c->f->p;
    uint32_t keep = c->pol->archive_keep | PATTR_REQUIRED_KEEP;
    store_lc_archive ar;
    memset(&ar, 0, sizeof ar);
    ar.first_start = ar.last_end = ar.purged_on = TN_DATE_NONE;
    if (c->f->has_arch) {
        /* A person archived before, who returned: the summary grows. */
        ar = c->f->arch;
        ar.purged_on = TN_DATE_NONE;
    }
    for (size_t i = 0; i < c->f->naffs; i++)
        join_kind(ar.kinds, sizeof ar.kinds, c->f->affs[i].kind);
    ar.first_start = min_date(ar.first_start, c->ev->first_start);
    ar.last_end = max_date(ar.last_end, c->ev->last_end);
    ar.archived_on = c->d;
    ar.purge_on = c->ev->purge_on;
    ar.erase_on = c->ev->erase_on;
    if ((rc = store_lc_archive_put(c->s->st, p->id, &ar, e)) != TN_OK)
        return rc;
    c->f->arch = ar;
    c->f->has_arch = true;
    if (c->f->naffs) {
        if ((rc = store_lc_aff_delete_by_person(c->s->st, p->id, e)) != TN_OK)
            return rc;
        svc_changes_add_i64(ch, "affiliations_deleted", (int64_t)c->f->naffs);
        c->f->naffs = 0;
    }
    svc_changes_add(ch, "summary.kinds", NULL, ar.kinds);

#define DROP_TEXT(bit, field, name)                                       \
    if (!(keep & PATTR_BIT(bit)) && p->field[0]) {                        \
        svc_changes_add_secret(ch, name, true, false);                    \
        p->field[0] = '\0';                                               \
    }
    DROP_TEXT(PATTR_NAME, given_names, "given_names")
    DROP_TEXT(PATTR_NAME, family_name, "family_name")
    DROP_TEXT(PATTR_PREFERRED_NAME, preferred_name, "preferred_name")
    DROP_TEXT(PATTR_PERSONAL_EMAIL, email, "email")
    DROP_TEXT(PATTR_PHONE, phone, "phone")
    DROP_TEXT(PATTR_GENDER, gender, "gender")
    DROP_TEXT(PATTR_NATIONALITY, nationality, "nationality")
    DROP_TEXT(PATTR_LANGUAGE, language, "language")
#undef DROP_TEXT
    if (!(keep & PATTR_BIT(PATTR_BIRTH_DATE)) && p->birth_date != TN_DATE_NONE) {
        svc_changes_add_secret(ch, "birth_date", true, false);
        p->birth_date = TN_DATE_NONE;
    }
    if (!(keep & PATTR_BIT(PATTR_NATIONAL_ID)) && p->has_national_id) {
        if ((rc = store_person_set_nid(c->s->st, p->id, TN_DATE_NONE, NULL, 0, NULL, e)) != TN_OK)
            return rc;
        svc_changes_add_secret(ch, "national_id", true, false);
        p->has_national_id = false;
    }
    p->updated_at = audit_now_us();
    if ((rc = store_person_update(c->s->st, p, e)) != TN_OK)
        return rc;
    return set_state(c, PSTATE_ARCHIVED, ch, e);
}

static tn_code do_purge(apply_ctx *c, svc_changes *ch, tn_err *e)
{
    c->f->arch.purged_on = c->d;
    svc_changes_add_date(ch, "purged_on", TN_DATE_NONE, c->d);
    return store_lc_archive_put(c->s->st, c->f->p.id, &c->f->arch, e);
}

/* Erasure leaves a tombstone: the id, the identity number and the state.
 * Accounts stay, unlinked, as the reservation of their names. */
static tn_code do_erase(apply_ctx *c, svc_changes *ch, tn_err *e)
{
    person *p = &c->f->p;
    tn_code rc;
    if (p->has_national_id) {
        if ((rc = store_person_set_nid(c->s->st, p->id, TN_DATE_NONE, NULL, 0, NULL, e)) != TN_OK)
            return rc;
        p->has_national_id = false;
    }
    if ((rc = store_lc_archive_delete(c->s->st, p->id, e)) != TN_OK ||
        (rc = store_lc_account_detach(c->s->st, p->id, audit_now_us(), e)) != TN_OK)
        return rc;
    person t;
    memset(&t, 0, sizeof t);
    tn_strlcpy(t.id, p->id, sizeof t.id);
    t.number = p->number;
    t.state = p->state;
    t.birth_date = t.legal_hold_until = t.death_date = TN_DATE_NONE;
    t.created_at = p->created_at;
    t.updated_at = audit_now_us();
    *p = t;
    svc_changes_add(ch, "attributes", "(set)", NULL);
    return set_state(c, PSTATE_ERASED, ch, e);
}

/* Closing starts the handover window of a kind with handover_days
 * (LC-8): a grant row for the manager (none named: the window still
 * runs), ended by a return within it or by HANDOVER_END after it. A
 * window already over on the day of closing (a run that closes late)
 * seals the accounts at once. */
static tn_code handover_start(apply_ctx *c, svc_changes *ch, store_lc_handover *h, tn_err *e)
{
    memset(h, 0, sizeof *h);
    if (c->ev->reopen_until == TN_DATE_NONE)
        return TN_OK;
    if (c->d > c->ev->reopen_until)
        return seal_accounts(c, "handover window over", ch, e);
    tn_strlcpy(h->leaver_id, c->f->p.id, sizeof h->leaver_id);
    const affiliation *ma = c->ev->handover_until != TN_DATE_NONE ? handover_aff(c) : NULL;
    if (ma) {
        /* The scan marks managers without resolving them (STORE_LC_MANAGER_MARK). */
        affiliation full;
        tn_code grc = store_aff_get(c->s->st, ma->id, &full, e);
        if (grc != TN_OK)
            return grc;
        if (full.manager_id[0] && strcmp(full.manager_id, c->f->p.id) != 0)
            tn_strlcpy(h->grantee_id, full.manager_id, sizeof h->grantee_id);
    }
    h->from = c->d;
    h->until = c->ev->reopen_until;
    tn_code rc = store_lc_handover_add(c->s->st, h, audit_now_us(), e);
    if (rc != TN_OK)
        return rc;
    svc_changes_add(ch, "handover.grantee", NULL, h->grantee_id[0] ? h->grantee_id : NULL);
    svc_changes_add_date(ch, "handover.until", TN_DATE_NONE, h->until);
    return TN_OK;
}

/* One transition: the change, its audit event and its outbox row. */
static tn_code apply_one(apply_ctx *c, lc_transition t, tn_err *e)
{
    svc_changes ch;
    svc_changes_init(&ch);
    tn_code rc = TN_OK;
    const char *event = transition_names[t];
    store_lc_handover grant;
    grant.id = 0;
    switch (t) {
    case LC_T_HOLD_EXPIRE:
        svc_changes_add_date(&ch, "legal_hold_until", c->f->p.legal_hold_until, TN_DATE_NONE);
        c->f->p.legal_hold_until = TN_DATE_NONE;
        c->f->p.updated_at = audit_now_us();
        rc = store_person_update(c->s->st, &c->f->p, e);
        event = NULL; /* nothing for connected systems to do */
        break;
    case LC_T_HANDOVER_END:
        rc = do_handover_end(c, &ch, e);
        event = NULL; /* the handover_end rows are the events */
        break;
    case LC_T_ACTIVATE:
        rc = do_activate(c, &ch, e);
        break;
    case LC_T_REOPEN:
        rc = do_reopen(c, &ch, e);
        break;
    case LC_T_EXTEND:
    case LC_T_GRACE:
        rc = sync_accounts(c, c->ev->state, &ch, e);
        if (rc == TN_OK)
            rc = set_state(c, c->ev->state, &ch, e);
        break;
    case LC_T_CLOSE:
        rc = sync_accounts(c, PSTATE_CLOSED, &ch, e);
        if (rc == TN_OK)
            rc = set_state(c, PSTATE_CLOSED, &ch, e);
        if (rc == TN_OK)
            rc = handover_start(c, &ch, &grant, e);
        break;
    case LC_T_ARCHIVE:
        rc = do_archive(c, &ch, e);
        break;
    case LC_T_PURGE:
        rc = do_purge(c, &ch, e);
        break;
    case LC_T_ERASE:
        rc = do_erase(c, &ch, e);
        break;
    case LC_T_MAX:
        break;
    }
    char action[48];
    snprintf(action, sizeof action, "lifecycle.%s", transition_names[t]);
    if (rc == TN_OK)
        rc = svc_changes_write(c->s, c->a, action, c->f->p.id, &ch, e);
    if (rc == TN_OK && event)
        rc = outbox(c, event, NULL, e);
    if (rc == TN_OK && grant.id) {
        char d1[DATE_ISO_LEN], d2[DATE_ISO_LEN];
        const char *kv[] = {"grantee_id", grant.grantee_id[0] ? grant.grantee_id : NULL,
                            "handover_from", date_format(grant.from, d1),
                            "handover_until", date_format(grant.until, d2), NULL};
        rc = outbox(c, "handover_grant", kv, e);
    }
    svc_changes_free(&ch);
    return rc;
}

/* ---- plan and run over every person ---------------------------------------------- */

typedef struct run_ctx {
    svc *s;
    const svc_actor *a;
    const policy *pol;
    tn_date d;
    bool apply;
    bool list; /* keep the persons, not only the counts */
    svc_lc_report *rep;
    size_t cap_items, cap_errors;
    int64_t version; /* of the policy in force, for the due cache */
    /* run: the quiet intervals found for a page's persons, stored with the
     * page (store_lc_due_put) */
    struct due_put {
        int64_t number, gen;
        tn_date lo, hi;
    } *puts;
    size_t nputs, cap_puts;
} run_ctx;

static void add_error(run_ctx *r, int64_t number, const tn_err *err)
{
    svc_lc_report *rep = r->rep;
    if (rep->nerrors == r->cap_errors) {
        r->cap_errors = r->cap_errors ? 2 * r->cap_errors : 16;
        rep->errors = tn_realloc(rep->errors, r->cap_errors * sizeof *rep->errors);
    }
    rep->errors[rep->nerrors].number = number;
    rep->errors[rep->nerrors].err = *err;
    rep->nerrors++;
}

static void add_item(run_ctx *r, int64_t number, const char *id, person_state from,
                     person_state to, uint32_t t)
{
    svc_lc_report *rep = r->rep;
    if (!r->list) {
        for (int k = 0; k < LC_T_MAX; k++)
            if (t & (1u << k))
                rep->counts[k]++;
        rep->nchanged++;
        return;
    }
    if (rep->nitems == r->cap_items) {
        r->cap_items = r->cap_items ? 2 * r->cap_items : 64;
        rep->items = tn_realloc(rep->items, r->cap_items * sizeof *rep->items);
    }
    svc_lc_item *it = &rep->items[rep->nitems++];
    it->number = number;
    tn_strlcpy(it->person_id, id, sizeof it->person_id);
    it->from = from;
    it->to = to;
    it->transitions = t;
    for (int k = 0; k < LC_T_MAX; k++)
        if (t & (1u << k))
            rep->counts[k]++;
}

/* The evaluation input from a scanned person. */
static lc_facts facts_of_scan(const store_lc_page *pg, const store_lc_person *sp)
{
    lc_facts lf = {
        .affs = pg->affs + sp->aff0,
        .naffs = sp->naffs,
        .death_date = sp->death_date,
        .legal_hold_until = sp->legal_hold_until,
        .stored = sp->state,
        .archived_purge_on = sp->has_arch ? sp->arch_purge_on : TN_DATE_NONE,
        .archived_erase_on = sp->has_arch ? sp->arch_erase_on : TN_DATE_NONE,
    };
    return lf;
}

/* ---- the due cache (migrations/0012_lc_due.sql) ----------------------------------- */

static lc_facts lc_facts_of(const facts *f)
{
    lc_facts lf = {
        .affs = f->affs,
        .naffs = f->naffs,
        .death_date = f->p.death_date,
        .legal_hold_until = f->p.legal_hold_until,
        .stored = f->p.state,
        .archived_purge_on = f->has_arch ? f->arch.purge_on : TN_DATE_NONE,
        .archived_erase_on = f->has_arch ? f->arch.erase_on : TN_DATE_NONE,
    };
    return lf;
}

/* Would a run on x change anything for the person? A person who cannot be
 * evaluated counts as changing: they must stay visited. */
static bool changes_on(const policy *pol, const lc_facts *lf, const recorded *rec, tn_date x)
{
    lc_eval ev;
    tn_err pe;
    if (lc_evaluate(pol, lf, x, &ev, &pe) != TN_OK)
        return true;
    return transitions_of(rec, &ev, x) != 0;
}

static int date_cmp(const void *a, const void *b)
{
    tn_date x = *(const tn_date *)a, y = *(const tn_date *)b;
    return (x > y) - (x < y);
}

/* The widest interval [lo, hi] of dates around d on which a run would
 * change nothing for the person (lo NONE, hi STORE_LC_DUE_NEVER: no
 * bound); false if a run on d would change something. The evaluation and
 * the transitions are constant between consecutive breakpoints
 * (lc_breakpoints, plus the days after the recorded hold and handover
 * window end), so one evaluation per piece decides the piece. */
static bool quiet_interval(const policy *pol, const lc_facts *lf, const recorded *rec, tn_date d,
                           tn_date *lo, tn_date *hi)
{
    *lo = TN_DATE_NONE;
    *hi = STORE_LC_DUE_NEVER;
    if (lf->stored == PSTATE_ERASED)
        return true; /* never evaluated again (walk) */
    tn_date stack[64], *b = stack;
    size_t n = lc_breakpoints(pol, lf, b, 62);
    if (n > 62) {
        b = tn_calloc(n + 2, sizeof *b);
        n = lc_breakpoints(pol, lf, b, n);
    }
    if (rec->legal_hold_until != TN_DATE_NONE)
        b[n++] = rec->legal_hold_until + 1;
    if (rec->handover_until != TN_DATE_NONE)
        b[n++] = rec->handover_until + 1;
    qsort(b, n, sizeof *b, date_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || b[i] != b[u - 1])
            b[u++] = b[i];
    n = u;
    bool ok = !changes_on(pol, lf, rec, d);
    if (ok) {
        size_t k = 0;
        while (k < n && b[k] <= d)
            k++;
        /* Piece j (from b[j] to b[j+1]-1) above d; piece below b[j] under. */
        for (size_t j = k; j < n; j++)
            if (changes_on(pol, lf, rec, b[j])) {
                *hi = b[j] - 1;
                break;
            }
        for (size_t j = k; j-- > 0;)
            if (changes_on(pol, lf, rec, b[j] - 1)) {
                *lo = b[j];
                break;
            }
    }
    if (b != stack)
        free(b);
    return ok;
}

/* After a person's transitions, in their transaction: their interval from
 * what is now recorded. */
static tn_code due_after_apply(run_ctx *r, const char *id, tn_err *e)
{
    person p;
    facts f;
    tn_code rc = store_person_get(r->s->st, id, &p, e);
    if (rc != TN_OK || (rc = facts_load(r->s, &p, &f, e)) != TN_OK)
        return rc;
    lc_facts lf = lc_facts_of(&f);
    recorded rec = recorded_of_facts(&f);
    tn_date lo, hi;
    if (quiet_interval(r->pol, &lf, &rec, r->d, &lo, &hi))
        rc = store_lc_due_put(r->s->st, p.number, -1, r->version, lo, hi, e);
    facts_free(&f);
    return rc;
}

static void due_queue(run_ctx *r, int64_t number, int64_t gen, tn_date lo, tn_date hi)
{
    if (r->nputs == r->cap_puts) {
        r->cap_puts = r->cap_puts ? 2 * r->cap_puts : PAGE;
        r->puts = tn_realloc(r->puts, r->cap_puts * sizeof *r->puts);
    }
    r->puts[r->nputs++] = (struct due_put){number, gen, lo, hi};
}

/* Store the intervals found for a page's persons who needed nothing; each
 * only if the person did not change since the scan read them. */
static tn_code due_flush(run_ctx *r, tn_err *e)
{
    if (!r->nputs)
        return TN_OK;
    tn_code rc = svc_tx_begin(r->s, e);
    if (rc != TN_OK)
        return rc;
    for (size_t i = 0; rc == TN_OK && i < r->nputs; i++)
        rc = store_lc_due_put(r->s->st, r->puts[i].number, r->puts[i].gen, r->version,
                              r->puts[i].lo, r->puts[i].hi, e);
    r->nputs = 0;
    return svc_tx_end(r->s, rc, e);
}

/* Apply what a person needs, in their own transaction. The person is
 * re-read and re-evaluated inside it, so a run racing another sees the
 * other's result and does nothing twice. */
static tn_code apply_person(run_ctx *r, const char *id, tn_err *e)
{
    facts f;
    lc_eval ev;
    person p;
    tn_code rc = svc_tx_begin(r->s, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = store_person_get(r->s->st, id, &p, e)) != TN_OK ||
        (rc = facts_load(r->s, &p, &f, e)) != TN_OK)
        return svc_tx_end(r->s, rc, e);
    rc = evaluate(r->pol, &f, r->d, &ev, e);
    recorded rec = recorded_of_facts(&f);
    uint32_t t = rc == TN_OK ? transitions_of(&rec, &ev, r->d) : 0;
    const person before = p;
    apply_ctx c = {r->s, r->a, r->pol, r->d, &f, &ev};
    for (int k = 0; rc == TN_OK && k < LC_T_MAX; k++)
        if (t & (1u << k))
            rc = apply_one(&c, (lc_transition)k, e);
    facts_free(&f);
    if (rc == TN_OK)
        rc = due_after_apply(r, id, e);
    rc = svc_tx_end(r->s, rc, e);
    if (rc == TN_OK && t)
        add_item(r, before.number, before.id, before.state, ev.state, t);
    return rc;
}

/* Evaluate one scanned person; with apply, change them. Most persons need
 * nothing on most days: they cost no query beyond the scan and write
 * nothing. */
static tn_code one_person(run_ctx *r, const store_lc_page *pg, const store_lc_person *sp,
                          tn_err *e)
{
    lc_facts lf = facts_of_scan(pg, sp);
    lc_eval ev;
    tn_code rc = lc_evaluate(r->pol, &lf, r->d, &ev, e);
    if (rc != TN_OK)
        return rc;
    recorded rec = {sp->state,   sp->legal_hold_until, sp->has_account,
                    sp->has_arch, sp->arch_purged_on,  sp->handover_until};
    uint32_t t = transitions_of(&rec, &ev, r->d);
    if (!t) {
        tn_date lo, hi;
        bool stale = sp->due_ver != r->version || r->d < sp->due_lo || r->d > sp->due_hi;
        if (r->apply && stale && quiet_interval(r->pol, &lf, &rec, r->d, &lo, &hi))
            due_queue(r, sp->number, sp->due_gen, lo, hi);
        return TN_OK;
    }
    if (!r->apply) {
        add_item(r, sp->number, sp->id, sp->state, ev.state, t);
        return TN_OK;
    }
    return apply_person(r, sp->id, e);
}

/* The persons of one page evaluated (and changed) with the scan's
 * statement done. */
static tn_code walk_page(run_ctx *r, const store_lc_page *pg, tn_err *e)
{
    for (size_t i = 0; i < pg->npersons; i++) {
        const store_lc_person *sp = &pg->persons[i];
        tn_err pe;
        tn_err_clear(&pe);
        r->rep->evaluated++;
        if (sp->state == PSTATE_ERASED) {
            /* Never evaluated again: quiet on every date. */
            if (r->apply && sp->due_ver != r->version)
                due_queue(r, sp->number, sp->due_gen, TN_DATE_NONE, STORE_LC_DUE_NEVER);
            continue;
        }
        tn_code prc = one_person(r, pg, sp, &pe);
        if (prc == TN_EIO || prc == TN_EINTERNAL) {
            /* The registry itself failed: stop, a re-run resumes. */
            if (e)
                *e = pe;
            return prc;
        }
        if (prc != TN_OK)
            add_error(r, sp->number, &pe);
    }
    return due_flush(r, e);
}

/* Every person whom the due cache cannot prove quiet on the date: when
 * they are few (the daily case), each read by number; when many (a new
 * policy, a first run), every person, a page at a time, in one ordered
 * scan per page. Either way in number order. */
static tn_code walk(run_ctx *r, tn_err *e)
{
    store_lc_page pg;
    memset(&pg, 0, sizeof pg);
    int64_t *due = NULL;
    size_t ndue = 0, total = 0;
    tn_code rc = store_lc_due_list(r->s->st, r->version, r->d, &due, &ndue, &total, e);
    if (rc != TN_OK)
        return rc;
    r->rep->persons = total;
    if (ndue <= total / 4) {
        for (size_t i = 0; rc == TN_OK && i < ndue; i += PAGE) {
            size_t n = ndue - i < PAGE ? ndue - i : PAGE;
            if ((rc = store_lc_scan_nums(r->s->st, due + i, n, &pg, e)) == TN_OK)
                rc = walk_page(r, &pg, e);
        }
        goto out;
    }
    int64_t after = 0;
    for (;;) {
        if ((rc = store_lc_scan(r->s->st, after, PAGE, &pg, e)) != TN_OK ||
            (rc = walk_page(r, &pg, e)) != TN_OK)
            break;
        if (pg.npersons < PAGE)
            break;
        after = pg.persons[pg.npersons - 1].number;
    }
out:
    free(due);
    free(r->puts);
    r->puts = NULL;
    store_lc_page_free(&pg);
    return rc;
}

static tn_code plan_or_run(svc *s, const svc_actor *a, tn_date as_of, bool apply, bool list,
                           svc_lc_report *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    const char *action = apply ? "lifecycle.run" : "lifecycle.plan";
    tn_code rc = svc_authorize(s, a, SVC_OP_LIFECYCLE, NULL, action, e);
    if (rc != TN_OK)
        return rc;
    policy pol;
    if ((rc = load_policy(s, &pol, &out->policy_version, e)) != TN_OK)
        return rc;
    out->as_of = resolve_date(&pol, as_of);
    run_ctx r = {s, a, &pol, out->as_of, apply, list, out, 0, 0, out->policy_version, NULL, 0, 0};
    rc = walk(&r, e);
    if (rc != TN_OK)
        return rc;

    char counts[512];
    size_t n = 0;
    counts[n++] = '{';
    for (int k = 0; k < LC_T_MAX; k++)
        n += (size_t)snprintf(counts + n, sizeof counts - n, "%s\"%s\":%zu", k ? "," : "",
                              transition_names[k], out->counts[k]);
    snprintf(counts + n, sizeof counts - n, ",\"errors\":%zu}", out->nerrors);
    if (list)
        out->nchanged = out->nitems;
    if (!apply) {
        /* A plan reads every person's state and relationships, but only
         * as a bulk evaluation inside the service: one event records it,
         * with the actor. The persons the plan lists are shown to whoever
         * asked, so each listed person gets a read event of their own
         * (docs/lifecycle.md, "Audit of plan and run"). */
        for (size_t i = 0; i < out->nitems; i++) {
            store_audit_row pr;
            svc_audit_row(&pr, a, action, out->items[i].person_id, "state,affiliations",
                          "allowed");
            if ((rc = audit_read(s->au, &pr, e)) != TN_OK)
                return rc;
        }
        store_audit_row ar;
        svc_audit_row(&ar, a, action, NULL, "state,affiliations,accounts", "allowed");
        ar.detail = counts;
        return audit_read(s->au, &ar, e);
    }
    bool changed = out->nchanged > 0;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_lc_run_add(s->st, audit_now_us(), out->as_of, out->policy_version, counts, changed,
                          a->id, e);
    if (rc == TN_OK && changed) {
        /* A run that changed nothing leaves no audit event: the per-person
         * events are the record, and a repeated run must add none. */
        svc_changes ch;
        svc_changes_init(&ch);
        svc_changes_add_date(&ch, "as_of", TN_DATE_NONE, out->as_of);
        svc_changes_add_i64(&ch, "policy_version", out->policy_version);
        svc_changes_add(&ch, "counts", NULL, counts);
        rc = svc_changes_write(s, a, action, NULL, &ch, e);
        svc_changes_free(&ch);
    }
    if ((rc = svc_tx_end(s, rc, e)) != TN_OK)
        return rc;
    /* Retention of the audit trail (AU-6): events older than the policy's
     * retention are removed, except those of persons under legal hold.
     * Events carry the real time they happened, so the cut never lies past
     * the real clock even when the run simulates a later date. */
    tn_date now = svc_clock_today();
    tn_date cut = (out->as_of < now ? out->as_of : now) - pol.audit_retention_days;
    svc_audit_prune_result pr;
    rc = svc_audit_prune(s, a, cut, &pr, e);
    out->audit_pruned = pr.deleted + pr.read_deleted;
    return rc;
}

tn_code svc_lifecycle_plan(svc *s, const svc_actor *a, tn_date as_of, bool list,
                           svc_lc_report *out, tn_err *e)
{
    return plan_or_run(s, a, as_of, false, list, out, e);
}

tn_code svc_lifecycle_run(svc *s, const svc_actor *a, tn_date as_of, svc_lc_report *out,
                          tn_err *e)
{
    return plan_or_run(s, a, as_of, true, true, out, e);
}

static void handover_out(const store_lc_handover *h, svc_lc_handover *o);

/* ---- forecast ----------------------------------------------------------------------- */

tn_code svc_lifecycle_forecast(svc *s, const svc_actor *a, const char *selector, tn_date as_of,
                               svc_lc_forecast *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    person p;
    tn_code rc = svc_resolve_person(s, selector, &p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_PERSON_READ, p.id, "lifecycle.forecast", e)) != TN_OK)
        return rc;
    policy pol;
    if ((rc = load_policy(s, &pol, &out->policy_version, e)) != TN_OK)
        return rc;
    out->as_of = resolve_date(&pol, as_of);
    facts f;
    if ((rc = facts_load(s, &p, &f, e)) != TN_OK)
        return rc;
    rc = evaluate(&pol, &f, out->as_of, &out->ev, e);
    out->p = p;
    out->first_start = out->last_end = out->archived_on = out->purged_on = TN_DATE_NONE;
    if (f.has_arch) {
        out->archived = true;
        tn_strlcpy(out->kinds, f.arch.kinds, sizeof out->kinds);
        out->first_start = f.arch.first_start;
        out->last_end = f.arch.last_end;
        out->archived_on = f.arch.archived_on;
        out->purged_on = f.arch.purged_on;
    }
    size_t skip = f.nhos > SVC_LC_HANDOVERS_MAX ? f.nhos - SVC_LC_HANDOVERS_MAX : 0;
    for (size_t i = skip; i < f.nhos; i++)
        handover_out(&f.hos[i], &out->handovers[out->nhandovers++]);
    facts_free(&f);
    if (rc != TN_OK)
        return rc;
    store_audit_row ar;
    svc_audit_row(&ar, a, "lifecycle.forecast", p.id,
                  "state,affiliations,legal_hold_until,handovers", "allowed");
    return audit_read(s->au, &ar, e);
}

/* ---- what if ------------------------------------------------------------------------ */

typedef struct whatif_ctx {
    svc *s;
    const policy *cur, *prop;
    tn_date d;
    svc_lc_whatif *out;
} whatif_ctx;

static void compare(svc_lc_whatif *w, int step, tn_date a, tn_date b, tn_date d)
{
    /* Only steps still to come under either policy. */
    bool a_future = a == TN_DATE_NONE || a > d, b_future = b == TN_DATE_NONE || b > d;
    if (!a_future && !b_future)
        return;
    if (a == b)
        w->same[step]++;
    else if (a == TN_DATE_NONE || (b != TN_DATE_NONE && b < a))
        w->earlier[step]++;
    else
        w->later[step]++;
}

static tn_code whatif_person(whatif_ctx *c, const lc_facts *f, tn_err *e)
{
    tn_code rc;
    lc_eval a, b;
    if ((rc = lc_evaluate(c->cur, f, c->d, &a, e)) == TN_OK &&
        (rc = lc_evaluate(c->prop, f, c->d, &b, e)) == TN_OK) {
        compare(c->out, LC_STEP_CLOSE, a.close_on, b.close_on, c->d);
        compare(c->out, LC_STEP_ARCHIVE, a.archive_on, b.archive_on, c->d);
        compare(c->out, LC_STEP_PURGE, a.purge_on, b.purge_on, c->d);
        compare(c->out, LC_STEP_ERASE, a.erase_on, b.erase_on, c->d);
    }
    return rc;
}

tn_code svc_lifecycle_whatif(svc *s, const svc_actor *a, const char *text, size_t len,
                             tn_date as_of, svc_lc_whatif *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_code rc = svc_authorize(s, a, SVC_OP_LIFECYCLE, NULL, "lifecycle.whatif", e);
    if (rc != TN_OK)
        return rc;
    policy cur, prop;
    if ((rc = policy_parse(text, len, &prop, e)) != TN_OK)
        return rc;
    if ((rc = load_policy(s, &cur, &out->policy_version, e)) != TN_OK)
        return rc;
    if ((rc = check_kinds(s, &prop, e)) != TN_OK)
        return rc;
    out->as_of = resolve_date(&cur, as_of);
    whatif_ctx c = {s, &cur, &prop, out->as_of, out};
    store_lc_page pg;
    memset(&pg, 0, sizeof pg);
    int64_t after = 0;
    for (;;) {
        if ((rc = store_lc_scan(s->st, after, PAGE, &pg, e)) != TN_OK)
            break;
        for (size_t i = 0; i < pg.npersons; i++) {
            out->persons++;
            tn_err pe;
            lc_facts lf = facts_of_scan(&pg, &pg.persons[i]);
            if (pg.persons[i].state != PSTATE_ERASED && whatif_person(&c, &lf, &pe) != TN_OK)
                out->errors++;
        }
        if (pg.npersons < PAGE)
            break;
        after = pg.persons[pg.npersons - 1].number;
    }
    store_lc_page_free(&pg);
    if (rc != TN_OK)
        return rc;
    store_audit_row ar;
    svc_audit_row(&ar, a, "lifecycle.whatif", NULL, "state,affiliations", "allowed");
    return audit_read(s->au, &ar, e);
}

/* ---- handover ------------------------------------------------------------------------ */

static void handover_out(const store_lc_handover *h, svc_lc_handover *o)
{
    tn_strlcpy(o->leaver_id, h->leaver_id, sizeof o->leaver_id);
    o->leaver_number = h->leaver_number;
    tn_strlcpy(o->grantee_id, h->grantee_id, sizeof o->grantee_id);
    o->grantee_number = h->grantee_number;
    o->from = h->from;
    o->until = h->until;
    tn_strlcpy(o->state, h->state, sizeof o->state);
    o->ended_on = h->ended_on;
}

tn_code svc_lifecycle_handovers(svc *s, const svc_actor *a, const char *selector,
                                svc_lc_handover **out, size_t *n, tn_err *e)
{
    *out = NULL;
    *n = 0;
    person p;
    store_lc_handover *hs = NULL;
    size_t nh = 0;
    tn_code rc = svc_resolve_person(s, selector, &p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_PERSON_READ, p.id, "lifecycle.handovers", e)) != TN_OK)
        return rc;
    if ((rc = store_lc_handover_list(s->st, p.id, &hs, &nh, e)) != TN_OK)
        return rc;
    store_audit_row ar;
    svc_audit_row(&ar, a, "lifecycle.handovers", p.id, "handovers", "allowed");
    rc = audit_read(s->au, &ar, e);
    if (rc == TN_OK && nh) {
        *out = tn_calloc(nh, sizeof **out);
        for (size_t i = 0; i < nh; i++)
            handover_out(&hs[i], &(*out)[i]);
        *n = nh;
    }
    free(hs);
    return rc;
}

/* ---- legal hold ------------------------------------------------------------------------ */

tn_code svc_person_hold(svc *s, const svc_actor *a, const char *selector, int days,
                        const char *reason, tn_date as_of, person *out, tn_err *e)
{
    person p;
    tn_code rc = svc_resolve_person(s, selector, &p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_HOLD, p.id, "person.hold", e)) != TN_OK)
        return rc;
    if (!reason || !*reason)
        return tn_err_set(e, TN_EINVAL, "reason", "a legal hold needs a justification");
    if ((rc = text_validate(reason, TEXT_MAX_CHARS, "reason", e)) != TN_OK)
        return rc;
    policy pol;
    int64_t version;
    if ((rc = load_policy(s, &pol, &version, e)) != TN_OK)
        return rc;
    if (days <= 0)
        days = pol.legal_hold_days;
    if (days > POLICY_MAX_DAYS)
        return tn_err_set(e, TN_EINVAL, "days", "must be at most %d", POLICY_MAX_DAYS);
    tn_date d = resolve_date(&pol, as_of);

    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    facts f;
    lc_eval ev;
    if ((rc = store_person_get(s->st, p.id, &p, e)) != TN_OK ||
        (rc = facts_load(s, &p, &f, e)) != TN_OK)
        return svc_tx_end(s, rc, e);
    rc = evaluate(&pol, &f, d, &ev, e);
    facts_free(&f);
    /* LC-10: only while the account is still valid. The recorded state and
     * the state the policy gives today must both allow it, so a hold cannot
     * slip in between the end of grace and the next run. */
    person_state worst = p.state > ev.state ? p.state : ev.state;
    if (rc == TN_OK && worst >= PSTATE_CLOSED)
        rc = tn_err_set(e, TN_ESTATE, "state",
                        "a legal hold can only be set while the account is valid; person %lld "
                        "is %s",
                        (long long)p.number, person_state_name(worst));
    if (rc == TN_OK) {
        tn_date until = d + days;
        if (p.legal_hold_until == TN_DATE_NONE || until > p.legal_hold_until) {
            svc_changes ch;
            svc_changes_init(&ch);
            svc_changes_add_date(&ch, "legal_hold_until", p.legal_hold_until, until);
            svc_changes_add(&ch, "reason", NULL, reason);
            p.legal_hold_until = until;
            p.updated_at = audit_now_us();
            rc = store_person_update(s->st, &p, e);
            if (rc == TN_OK)
                rc = svc_changes_write(s, a, "person.hold", p.id, &ch, e);
            svc_changes_free(&ch);
        }
    }
    rc = svc_tx_end(s, rc, e);
    if (rc == TN_OK && out)
        *out = p;
    return rc;
}
