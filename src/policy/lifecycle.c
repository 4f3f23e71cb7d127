/* The lifecycle evaluation: see lifecycle.h and docs/lifecycle.md. */
#include "lifecycle.h"

#include <string.h>

static tn_date later(tn_date a, tn_date b)
{
    if (a == TN_DATE_NONE)
        return b;
    if (b == TN_DATE_NONE)
        return a;
    return a > b ? a : b;
}

static tn_date earlier(tn_date a, tn_date b)
{
    if (a == TN_DATE_NONE)
        return b;
    if (b == TN_DATE_NONE)
        return a;
    return a < b ? a : b;
}

/* The death date: recorded on the person, or the last day of a
 * relationship that ended by death. */
static tn_date death_of(const lc_facts *f)
{
    tn_date dd = f->death_date;
    for (size_t i = 0; i < f->naffs; i++)
        if (strcmp(f->affs[i].end_reason, "death") == 0 && f->affs[i].valid_to != TN_DATE_NONE)
            dd = earlier(dd, f->affs[i].valid_to);
    return dd;
}

/* A step of n days after last day E falls on E + n + 1 (due when D > E + n). */
static tn_date step_on(tn_date end, int n)
{
    return end == TN_DATE_NONE ? TN_DATE_NONE : end + n + 1;
}

/* The step date that must wait for every relationship: NONE if any one
 * never reaches it. */
typedef struct all_of {
    tn_date on;
    bool never;
} all_of;

static void all_add(all_of *a, tn_date on)
{
    if (on == TN_DATE_NONE)
        a->never = true;
    else
        a->on = later(a->on, on);
}

static tn_date all_result(const all_of *a)
{
    return a->never ? TN_DATE_NONE : a->on;
}

/* A legal hold keeps a step from falling while it is in force: the step
 * falls at the earliest on the day after the hold's last day. */
static tn_date held(tn_date on, tn_date hold_until)
{
    if (on == TN_DATE_NONE || hold_until == TN_DATE_NONE)
        return on;
    return later(on, hold_until + 1);
}

tn_code lc_evaluate(const policy *p, const lc_facts *f, tn_date d, lc_eval *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    out->death_date = death_of(f);
    out->hold_in_force = f->legal_hold_until != TN_DATE_NONE && d <= f->legal_hold_until;
    out->active_on = out->grace_on = out->close_on = TN_DATE_NONE;
    out->archive_on = out->purge_on = out->erase_on = TN_DATE_NONE;
    out->handover_until = out->first_start = out->last_end = TN_DATE_NONE;
    out->reopen_until = TN_DATE_NONE;

    if (f->stored == PSTATE_ERASED) {
        out->state = PSTATE_ERASED;
        return TN_OK;
    }

    bool any_started = false, any_active = false, any_grace = false, any_open = false;
    size_t nrel = 0;
    all_of close = {TN_DATE_NONE, false}, archive = close, purge = close, erase = close;
    tn_date handover = TN_DATE_NONE, window = TN_DATE_NONE;
    for (size_t i = 0; i < f->naffs; i++) {
        const affiliation *a = &f->affs[i];
        const policy_kind *k = policy_find_kind(p, a->kind);
        if (!k)
            return tn_err_set(e, TN_EINVAL, "kind", "the policy has no timers for kind %s",
                              a->kind);
        /* Death ends every relationship on the death date; one that would
         * start after it never starts (LC-9: never reopened). */
        if (out->death_date != TN_DATE_NONE && a->valid_from > out->death_date)
            continue;
        tn_date end = earlier(a->valid_to, out->death_date);
        nrel++;
        tn_date opens = a->valid_from - k->activate_before_days;
        out->active_on = earlier(out->active_on, opens);
        out->first_start = earlier(out->first_start, a->valid_from);
        if (end == TN_DATE_NONE)
            any_open = true;
        else
            out->last_end = later(out->last_end, end);
        if (d >= opens) {
            any_started = true;
            if (end == TN_DATE_NONE || d <= end)
                any_active = true;
            else if (d <= end + k->close_after_days)
                any_grace = true;
        }
        all_add(&close, step_on(end, k->close_after_days));
        all_add(&archive, step_on(end, k->archive_after_days));
        all_add(&purge, step_on(end, k->purge_after_days));
        all_add(&erase, k->erase_after_days == POLICY_NO_DAYS
                            ? TN_DATE_NONE
                            : step_on(end, k->erase_after_days));
        if (k->handover_days != POLICY_NO_DAYS && end != TN_DATE_NONE) {
            window = later(window, end + k->close_after_days + k->handover_days);
            if (a->manager_id[0])
                handover = later(handover, end + k->close_after_days + k->handover_days);
        }
    }
    if (any_open)
        out->last_end = TN_DATE_NONE;

    if (nrel > 0) {
        out->grace_on = any_open ? TN_DATE_NONE : out->last_end + 1;
        out->close_on = all_result(&close);
        out->archive_on = held(all_result(&archive), f->legal_hold_until);
        out->purge_on = held(all_result(&purge), f->legal_hold_until);
        out->erase_on = held(all_result(&erase), f->legal_hold_until);
        out->handover_until = out->close_on == TN_DATE_NONE ? TN_DATE_NONE : handover;
        out->reopen_until = out->close_on == TN_DATE_NONE ? TN_DATE_NONE : window;
    } else if (f->stored == PSTATE_ARCHIVED) {
        out->purge_on = held(f->archived_purge_on, f->legal_hold_until);
        out->erase_on = held(f->archived_erase_on, f->legal_hold_until);
    }

    if (any_active)
        out->state = PSTATE_ACTIVE;
    else if (any_grace)
        out->state = PSTATE_GRACE;
    else if (any_started)
        out->state = PSTATE_CLOSED;
    else
        out->state = PSTATE_PENDING;

    /* Archived data stays archived until a relationship makes the person
     * active again. */
    if (f->stored == PSTATE_ARCHIVED &&
        (out->state == PSTATE_CLOSED || out->state == PSTATE_PENDING))
        out->state = PSTATE_ARCHIVED;
    if (out->state == PSTATE_CLOSED && nrel > 0 && out->archive_on != TN_DATE_NONE &&
        d >= out->archive_on)
        out->state = PSTATE_ARCHIVED;
    if (out->state == PSTATE_ARCHIVED) {
        out->purge_due = out->purge_on != TN_DATE_NONE && d >= out->purge_on;
        if (out->erase_on != TN_DATE_NONE && d >= out->erase_on)
            out->state = PSTATE_ERASED;
    }
    return TN_OK;
}

static void bp_add(tn_date *out, size_t cap, size_t *n, tn_date d)
{
    if (d == TN_DATE_NONE)
        return;
    if (*n < cap)
        out[*n] = d;
    (*n)++;
}

/* The steps of one relationship ending on end (NONE: open). */
static void bp_steps(const policy_kind *k, tn_date end, tn_date *out, size_t cap, size_t *n)
{
    if (end == TN_DATE_NONE)
        return;
    bp_add(out, cap, n, end + 1);
    bp_add(out, cap, n, step_on(end, k->close_after_days));
    bp_add(out, cap, n, step_on(end, k->archive_after_days));
    bp_add(out, cap, n, step_on(end, k->purge_after_days));
    if (k->erase_after_days != POLICY_NO_DAYS)
        bp_add(out, cap, n, step_on(end, k->erase_after_days));
}

size_t lc_breakpoints(const policy *p, const lc_facts *f, tn_date *out, size_t cap)
{
    size_t n = 0;
    tn_date dd = death_of(f);
    /* Every comparison lc_evaluate makes with the date is against one of
     * these (a held step falls on the hold's day after); the relationship's
     * own end is listed as well as the one death cuts it to, which costs a
     * repeat at most. */
    for (size_t i = 0; i < f->naffs; i++) {
        const affiliation *a = &f->affs[i];
        const policy_kind *k = policy_find_kind(p, a->kind);
        if (!k)
            continue;
        if (a->valid_from != TN_DATE_NONE)
            bp_add(out, cap, &n, a->valid_from - k->activate_before_days);
        bp_steps(k, a->valid_to, out, cap, &n);
        tn_date end = earlier(a->valid_to, dd);
        if (end != a->valid_to)
            bp_steps(k, end, out, cap, &n);
    }
    if (f->legal_hold_until != TN_DATE_NONE)
        bp_add(out, cap, &n, f->legal_hold_until + 1);
    bp_add(out, cap, &n, f->archived_purge_on);
    bp_add(out, cap, &n, f->archived_erase_on);
    return n;
}
