/* lifecycle — the pure evaluation of a person's lifecycle (docs/lifecycle.md).
 *
 * From a person's relationships, death date, legal hold, recorded state,
 * the policy and a date, decide the state the person must be in on that
 * date and when each step falls. No I/O and no clock: the service loads the
 * facts, calls lc_evaluate and applies the difference, so the rules can be
 * tested day by day without a registry.
 *
 * Rules in brief: valid_to is the last day of a relationship; a step of N
 * days is due on date D when D > valid_to + N. Each relationship keeps its
 * own timers; the person is active while any relationship is active (or
 * within activate_before_days of its start), in grace while none is active
 * and some is within its close window, closed otherwise once any has
 * started. Archive, purge and erase are due when every relationship is past
 * that step and no legal hold is in force. */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "policy.h"
#include "tn_err.h"

typedef struct lc_facts {
    const affiliation *affs;
    size_t naffs;
    tn_date death_date;       /* TN_DATE_NONE if not recorded */
    tn_date legal_hold_until; /* last day of the hold; TN_DATE_NONE if none */
    person_state stored;      /* the state recorded now */
    /* For an archived person (whose affiliations were removed): the dates
     * fixed when they were archived. */
    tn_date archived_purge_on;
    tn_date archived_erase_on;
} lc_facts;

typedef struct lc_eval {
    person_state state;   /* the state on the date */
    bool purge_due;       /* purge of connected systems is due */
    bool hold_in_force;
    tn_date death_date;   /* recorded or from an end_reason "death" */
    /* The date each step falls on (the first day it is due), given the
     * relationships known; TN_DATE_NONE when it does not fall (an open
     * relationship, no erase timer). Archive, purge and erase include the
     * delay by a legal hold. */
    tn_date active_on;    /* the first day of the earliest relationship's window */
    tn_date grace_on;     /* the day after the last relationship ends */
    tn_date close_on;
    tn_date archive_on;
    tn_date purge_on;
    tn_date erase_on;
    tn_date handover_until; /* last day of the manager's access, or NONE */
    /* Last day of the handover window whether or not a manager was named:
     * after it a closed account is never reopened (LC-8). NONE: no kind
     * with handover_days, or not closing. */
    tn_date reopen_until;
    tn_date first_start;  /* earliest valid_from; NONE without relationships */
    tn_date last_end;     /* latest effective end; NONE if any is open */
} lc_eval;

/* TN_EINVAL (field "kind") when a relationship's kind has no timers in the
 * policy: the person cannot be evaluated and must not be changed. */
tn_code lc_evaluate(const policy *p, const lc_facts *f, tn_date d, lc_eval *out, tn_err *e);

/* The dates on which lc_evaluate's result may change: between two
 * consecutive ones (and before the first, and from the last on) every
 * field of the result that depends on the date is the same, so evaluating
 * one day of each such piece covers all of them. Writes up to cap dates to
 * out (unsorted, maybe repeated) and returns how many there are; a result
 * above cap means out was too small. Relationships of a kind the policy
 * lacks add nothing (lc_evaluate rejects them). */
size_t lc_breakpoints(const policy *p, const lc_facts *f, tn_date *out, size_t cap);

#endif
