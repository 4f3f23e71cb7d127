/* Unit tests: the lifecycle policy parser and the pure evaluation
 * (src/policy), table-driven over the timers of seeds 001 and 002: the day
 * before, on and after every boundary, leap days, concurrent relationships,
 * rehire, death and legal hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "policy.h"

#define D(y, m, d) date_from_ymd(y, m, d)

static const char UNI001[] =
    "{\"name\":\"u\",\"kinds\":{"
    "\"student\":{\"activate_before_days\":14,\"close_after_days\":61,"
    "\"archive_after_days\":184,\"purge_after_days\":184},"
    "\"staff\":{\"activate_before_days\":14,\"close_after_days\":14,"
    "\"archive_after_days\":184,\"purge_after_days\":184},"
    "\"pupil\":{\"activate_before_days\":14,\"close_after_days\":14,"
    "\"archive_after_days\":184,\"purge_after_days\":184},"
    "\"visitor\":{\"activate_before_days\":0,\"close_after_days\":0,"
    "\"archive_after_days\":184,\"purge_after_days\":184}}}";

static const char UNI002[] =
    "{\"kinds\":{"
    "\"staff\":{\"activate_before_days\":14,\"close_after_days\":7,"
    "\"archive_after_days\":37,\"purge_after_days\":37,\"handover_days\":30},"
    "\"student\":{\"activate_before_days\":14,\"close_after_days\":14,"
    "\"archive_after_days\":184,\"purge_after_days\":184,\"erase_after_days\":400}}}";

static policy load(const char *text)
{
    policy p;
    tn_err e;
    tn_err_clear(&e);
    if (policy_parse(text, strlen(text), &p, &e) != TN_OK)
        fail_msg("policy: %s: %s", e.field, e.msg);
    return p;
}

static affiliation aff(const char *kind, tn_date from, tn_date to)
{
    affiliation a;
    memset(&a, 0, sizeof a);
    snprintf(a.kind, sizeof a.kind, "%s", kind);
    a.valid_from = from;
    a.valid_to = to;
    return a;
}

static lc_eval eval_at(const policy *p, const affiliation *affs, size_t n, person_state stored,
                       tn_date hold, tn_date death, tn_date d)
{
    lc_facts f = {affs, n, death, hold, stored, TN_DATE_NONE, TN_DATE_NONE};
    lc_eval ev;
    tn_err e;
    assert_int_equal(lc_evaluate(p, &f, d, &ev, &e), TN_OK);
    return ev;
}

static lc_eval eval1(const policy *p, affiliation a, tn_date d)
{
    return eval_at(p, &a, 1, PSTATE_ACTIVE, TN_DATE_NONE, TN_DATE_NONE, d);
}

/* ---- policy parser ------------------------------------------------------------ */

static void test_policy_defaults(void **state)
{
    (void)state;
    policy p = load(UNI001);
    assert_int_equal(p.nkinds, 4);
    assert_int_equal(p.legal_hold_days, 183);
    assert_string_equal(p.timezone, "Europe/Helsinki");
    assert_int_equal(p.archive_keep, PATTR_DEFAULT_KEEP);
    const policy_kind *k = policy_find_kind(&p, "student");
    assert_non_null(k);
    assert_int_equal(k->close_after_days, 61);
    assert_int_equal(k->erase_after_days, POLICY_NO_DAYS);
    assert_int_equal(k->handover_days, POLICY_NO_DAYS);
    assert_null(policy_find_kind(&p, "partner"));
}

static void test_policy_roundtrip(void **state)
{
    (void)state;
    policy a = load(UNI002);
    char *text = policy_to_json(&a);
    policy b = load(text);
    free(text);
    assert_int_equal(a.nkinds, b.nkinds);
    assert_memory_equal(a.kinds, b.kinds, sizeof a.kinds);
    assert_int_equal(a.archive_keep, b.archive_keep);
}

static const struct bad_policy {
    const char *text;
    const char *field; /* expected e.field */
    const char *msg;   /* substring of e.msg */
} bad_policies[] = {
    {"", "", "not valid JSON"},
    {"[]", "", "JSON object"},
    {"{}", "kinds", "is required"},
    {"{\"kinds\":{}}", "kinds", "non-empty"},
    {"{\"kinds\":{\"staff\":{\"activate_before_days\":0,\"close_after_days\":14,"
     "\"archive_after_days\":10,\"purge_after_days\":184}}}",
     "kinds.staff", "archive_after_days (10) is before close_after_days (14)"},
    {"{\"kinds\":{\"staff\":{\"activate_before_days\":0,\"close_after_days\":14,"
     "\"archive_after_days\":200,\"purge_after_days\":184}}}",
     "kinds.staff", "purge_after_days (184) is before archive_after_days (200)"},
    {"{\"kinds\":{\"staff\":{\"activate_before_days\":0,\"close_after_days\":14,"
     "\"archive_after_days\":20,\"purge_after_days\":184,\"erase_after_days\":100}}}",
     "kinds.staff", "erase_after_days (100) is before purge_after_days (184)"},
    {"{\"kinds\":{\"staff\":{\"activate_before_days\":0,\"close_after_days\":14,"
     "\"archive_after_days\":20}}}",
     "kinds.staff.purge_after_days", "is required"},
    {"{\"kinds\":{\"staff\":{\"activate_before_days\":-1,\"close_after_days\":14,"
     "\"archive_after_days\":20,\"purge_after_days\":30}}}",
     "kinds.staff.activate_before_days", "0 to"},
    {"{\"kinds\":{\"staff\":{\"activate_before_days\":1.5,\"close_after_days\":14,"
     "\"archive_after_days\":20,\"purge_after_days\":30}}}",
     "kinds.staff.activate_before_days", "whole number"},
    {"{\"kinds\":{\"staff\":{\"activate_before_days\":1,\"close_after_days\":14,"
     "\"archive_after_days\":20,\"purge_after_days\":30,\"grace\":3}}}",
     "kinds.staff.grace", "unknown timer"},
    {"{\"kinds\":{\"Staff\":{\"activate_before_days\":1,\"close_after_days\":14,"
     "\"archive_after_days\":20,\"purge_after_days\":30}}}",
     "kinds.Staff", ""},
    {"{\"colour\":\"red\",\"kinds\":{}}", "colour", "unknown policy setting"},
    {"{\"archive_keep\":[\"name\",\"identity_number\",\"org_email\"],\"kinds\":{}}",
     "archive_keep", "must keep usernames"},
    {"{\"archive_keep\":[\"shoe_size\"],\"kinds\":{}}", "archive_keep", "not a known"},
    {"{\"timezone\":\"../etc/passwd\",\"kinds\":{}}", "timezone", "time zone"},
    {"{\"legal_hold_days\":0,\"kinds\":{}}", "legal_hold_days", "at least 1"},
    {"{\"username_pattern\":\"{nope}\",\"kinds\":{}}", "username_pattern", ""},
    {"{\"kinds\":{\"staff\":{\"activate_before_days\":1,\"activate_before_days\":2}}}", "",
     "not valid JSON"},
};

static void test_policy_rejects(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_policies / sizeof bad_policies[0]; i++) {
        const struct bad_policy *b = &bad_policies[i];
        policy p;
        tn_err e;
        tn_err_clear(&e);
        tn_code rc = policy_parse(b->text, strlen(b->text), &p, &e);
        if (rc != TN_EINVAL || strcmp(e.field, b->field) != 0 || !strstr(e.msg, b->msg))
            fail_msg("case %zu: rc %d field '%s' msg '%s'", i, rc, e.field, e.msg);
    }
}

/* ---- evaluation: every seed timer at each boundary ------------------------------- */

typedef struct timer_case {
    const char *policy;
    const char *kind;
    int activate, close, archive, purge, erase;
} timer_case;

static const timer_case timers[] = {
    {UNI001, "student", 14, 61, 184, 184, -1}, {UNI001, "staff", 14, 14, 184, 184, -1},
    {UNI001, "pupil", 14, 14, 184, 184, -1},   {UNI001, "visitor", 0, 0, 184, 184, -1},
    {UNI002, "staff", 14, 7, 37, 37, -1},      {UNI002, "student", 14, 14, 184, 184, 400},
};

static void test_seed_timers(void **state)
{
    (void)state;
    const tn_date from = D(2023, 9, 1), end = D(2024, 6, 30);
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        const timer_case *t = &timers[i];
        policy p = load(t->policy);
        affiliation a = aff(t->kind, from, end);
        /* Activation: the window opens activate days before valid_from. */
        assert_int_equal(eval1(&p, a, from - t->activate - 1).state, PSTATE_PENDING);
        assert_int_equal(eval1(&p, a, from - t->activate).state, PSTATE_ACTIVE);
        assert_int_equal(eval1(&p, a, from).state, PSTATE_ACTIVE);
        /* valid_to is the last day. */
        assert_int_equal(eval1(&p, a, end).state, PSTATE_ACTIVE);
        /* Close: due when D > valid_to + close. */
        person_state before = t->close == 0 ? PSTATE_ACTIVE : PSTATE_GRACE;
        assert_int_equal(eval1(&p, a, end + t->close - 1).state, before);
        assert_int_equal(eval1(&p, a, end + t->close).state,
                         t->close == 0 ? PSTATE_ACTIVE : PSTATE_GRACE);
        assert_int_equal(eval1(&p, a, end + t->close + 1).state, PSTATE_CLOSED);
        lc_eval ev = eval1(&p, a, end);
        assert_int_equal(ev.grace_on, end + 1);
        assert_int_equal(ev.close_on, end + t->close + 1);
        assert_int_equal(ev.archive_on, end + t->archive + 1);
        assert_int_equal(ev.purge_on, end + t->purge + 1);
        assert_int_equal(ev.erase_on, t->erase < 0 ? TN_DATE_NONE : end + t->erase + 1);
        /* Archive and purge: the day before, on and after. */
        ev = eval1(&p, a, end + t->archive - 1);
        assert_int_equal(ev.state, PSTATE_CLOSED);
        ev = eval1(&p, a, end + t->archive);
        assert_int_equal(ev.state, PSTATE_CLOSED);
        ev = eval1(&p, a, end + t->archive + 1);
        assert_int_equal(ev.state, PSTATE_ARCHIVED);
        ev = eval_at(&p, &a, 1, PSTATE_CLOSED, TN_DATE_NONE, TN_DATE_NONE, end + t->purge);
        assert_false(ev.purge_due);
        ev = eval_at(&p, &a, 1, PSTATE_CLOSED, TN_DATE_NONE, TN_DATE_NONE, end + t->purge + 1);
        assert_true(ev.purge_due);
        assert_int_equal(ev.state, PSTATE_ARCHIVED);
    }
}

static void test_zero_grace_closes_next_day(void **state)
{
    (void)state;
    policy p = load(UNI001);
    affiliation a = aff("visitor", D(2024, 3, 1), D(2024, 3, 10));
    assert_int_equal(eval1(&p, a, D(2024, 3, 10)).state, PSTATE_ACTIVE);
    assert_int_equal(eval1(&p, a, D(2024, 3, 11)).state, PSTATE_CLOSED);
}

static void test_open_ended(void **state)
{
    (void)state;
    policy p = load(UNI001);
    lc_eval ev = eval1(&p, aff("staff", D(2020, 1, 1), TN_DATE_NONE), D(2040, 1, 1));
    assert_int_equal(ev.state, PSTATE_ACTIVE);
    assert_int_equal(ev.close_on, TN_DATE_NONE);
    assert_int_equal(ev.archive_on, TN_DATE_NONE);
}

static void test_leap_days(void **state)
{
    (void)state;
    policy p = load(UNI001);
    /* Ends on the leap day: grace through 14 days later in March. */
    affiliation a = aff("staff", D(2023, 1, 1), D(2024, 2, 29));
    lc_eval ev = eval1(&p, a, D(2024, 2, 29));
    assert_int_equal(ev.state, PSTATE_ACTIVE);
    assert_int_equal(ev.grace_on, D(2024, 3, 1));
    assert_int_equal(ev.close_on, D(2024, 3, 15));
    assert_int_equal(ev.archive_on, D(2024, 9, 1)); /* 2024-02-29 + 185 */
    assert_int_equal(eval1(&p, a, D(2024, 3, 14)).state, PSTATE_GRACE);
    assert_int_equal(eval1(&p, a, D(2024, 3, 15)).state, PSTATE_CLOSED);
    /* Ends the day before a leap day: a 0-day visitor closes on it. */
    a = aff("visitor", D(2024, 2, 1), D(2024, 2, 28));
    assert_int_equal(eval1(&p, a, D(2024, 2, 28)).state, PSTATE_ACTIVE);
    assert_int_equal(eval1(&p, a, D(2024, 2, 29)).state, PSTATE_CLOSED);
    /* A non-leap year has no 29th: the step falls on 1 March. */
    a = aff("visitor", D(2023, 2, 1), D(2023, 2, 28));
    assert_int_equal(eval1(&p, a, D(2023, 2, 28)).close_on, D(2023, 3, 1));
}

static void test_concurrent(void **state)
{
    (void)state;
    policy p = load(UNI001);
    /* Staff until June (14), student until December (61). */
    affiliation two[2] = {aff("staff", D(2022, 1, 1), D(2024, 6, 30)),
                          aff("student", D(2021, 9, 1), D(2024, 12, 31))};
    lc_eval ev = eval_at(&p, two, 2, PSTATE_ACTIVE, TN_DATE_NONE, TN_DATE_NONE, D(2024, 7, 20));
    assert_int_equal(ev.state, PSTATE_ACTIVE);
    ev = eval_at(&p, two, 2, PSTATE_ACTIVE, TN_DATE_NONE, TN_DATE_NONE, D(2025, 1, 15));
    assert_int_equal(ev.state, PSTATE_GRACE);
    assert_int_equal(ev.close_on, D(2024, 12, 31) + 62);
    assert_int_equal(ev.first_start, D(2021, 9, 1));
    assert_int_equal(ev.last_end, D(2024, 12, 31));
    /* The shorter timer ending later does not cut the longer one short:
     * student ended 20 June (grace to 20 August), staff 30 June (to 14 July). */
    affiliation b[2] = {aff("student", D(2021, 9, 1), D(2024, 6, 20)),
                        aff("staff", D(2022, 1, 1), D(2024, 6, 30))};
    ev = eval_at(&p, b, 2, PSTATE_GRACE, TN_DATE_NONE, TN_DATE_NONE, D(2024, 7, 20));
    assert_int_equal(ev.state, PSTATE_GRACE);
    assert_int_equal(ev.close_on, D(2024, 6, 20) + 62);
    assert_int_equal(ev.archive_on, D(2024, 6, 30) + 185);
    /* Unknown kind: not evaluated. */
    affiliation x = aff("partner", D(2024, 1, 1), TN_DATE_NONE);
    lc_facts f = {&x, 1, TN_DATE_NONE, TN_DATE_NONE, PSTATE_PENDING, TN_DATE_NONE, TN_DATE_NONE};
    lc_eval ev2;
    tn_err e;
    assert_int_equal(lc_evaluate(&p, &f, D(2024, 2, 1), &ev2, &e), TN_EINVAL);
    assert_string_equal(e.field, "kind");
}

static void test_rehire(void **state)
{
    (void)state;
    policy p = load(UNI001);
    const tn_date end = D(2024, 6, 30);
    /* Within grace, within closed (before archive), and after archive. */
    const struct {
        int gap;
        person_state stored;
    } cases[] = {{5, PSTATE_GRACE}, {14, PSTATE_GRACE}, {15, PSTATE_CLOSED},
                 {100, PSTATE_CLOSED}, {184, PSTATE_CLOSED}, {185, PSTATE_ARCHIVED},
                 {400, PSTATE_ARCHIVED}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_date back = end + cases[i].gap;
        affiliation two[2] = {aff("staff", D(2020, 1, 1), end), aff("staff", back + 14, back + 300)};
        /* The day before the new window opens: still the old state. */
        lc_eval ev = eval_at(&p, two, 2, cases[i].stored, TN_DATE_NONE, TN_DATE_NONE, back - 1);
        assert_int_equal(ev.state, cases[i].stored == PSTATE_ARCHIVED ? PSTATE_ARCHIVED
                                   : cases[i].gap - 1 <= 14           ? PSTATE_GRACE
                                                                      : PSTATE_CLOSED);
        /* A known future relationship keeps the person from being archived. */
        assert_true(ev.archive_on > back + 300);
        ev = eval_at(&p, two, 2, cases[i].stored, TN_DATE_NONE, TN_DATE_NONE, back);
        assert_int_equal(ev.state, PSTATE_ACTIVE);
    }
    /* Archived with relationships removed: stays archived; purge by the
     * dates fixed at archiving. */
    lc_facts f = {NULL, 0, TN_DATE_NONE, TN_DATE_NONE, PSTATE_ARCHIVED, D(2025, 1, 1), TN_DATE_NONE};
    lc_eval ev;
    tn_err e;
    assert_int_equal(lc_evaluate(&p, &f, D(2024, 12, 31), &ev, &e), TN_OK);
    assert_int_equal(ev.state, PSTATE_ARCHIVED);
    assert_false(ev.purge_due);
    assert_int_equal(lc_evaluate(&p, &f, D(2025, 1, 1), &ev, &e), TN_OK);
    assert_true(ev.purge_due);
}

static void test_death(void **state)
{
    (void)state;
    policy p = load(UNI001);
    const tn_date dd = D(2024, 5, 10);
    /* Death ends an open relationship on the death date; normal timers. */
    affiliation a = aff("staff", D(2020, 1, 1), TN_DATE_NONE);
    lc_eval ev = eval_at(&p, &a, 1, PSTATE_ACTIVE, TN_DATE_NONE, dd, dd);
    assert_int_equal(ev.state, PSTATE_ACTIVE);
    ev = eval_at(&p, &a, 1, PSTATE_ACTIVE, TN_DATE_NONE, dd, dd + 1);
    assert_int_equal(ev.state, PSTATE_GRACE);
    assert_int_equal(ev.close_on, dd + 15);
    assert_int_equal(ev.archive_on, dd + 185);
    /* end_reason "death" on a relationship means the same. */
    affiliation b[2] = {aff("staff", D(2020, 1, 1), dd), aff("student", D(2019, 1, 1), TN_DATE_NONE)};
    snprintf(b[0].end_reason, sizeof b[0].end_reason, "death");
    ev = eval_at(&p, b, 2, PSTATE_ACTIVE, TN_DATE_NONE, TN_DATE_NONE, dd + 20);
    assert_int_equal(ev.death_date, dd);
    assert_int_equal(ev.state, PSTATE_GRACE); /* the student's 61 days */
    assert_int_equal(ev.close_on, dd + 62);
    /* Never reopened: a relationship starting after death never starts. */
    affiliation c[2] = {aff("staff", D(2020, 1, 1), dd), aff("staff", dd + 30, TN_DATE_NONE)};
    snprintf(c[0].end_reason, sizeof c[0].end_reason, "death");
    ev = eval_at(&p, c, 2, PSTATE_CLOSED, TN_DATE_NONE, TN_DATE_NONE, dd + 40);
    assert_int_equal(ev.state, PSTATE_CLOSED);
    assert_int_equal(ev.archive_on, dd + 185);
}

static void test_legal_hold(void **state)
{
    (void)state;
    policy p = load(UNI001);
    const tn_date end = D(2024, 6, 30);
    affiliation a = aff("staff", D(2020, 1, 1), end);
    /* A hold set while active, ending before the archive step: no delay. */
    tn_date hold = end + 100;
    lc_eval ev = eval_at(&p, &a, 1, PSTATE_CLOSED, hold, TN_DATE_NONE, end + 185);
    assert_int_equal(ev.state, PSTATE_ARCHIVED);
    assert_false(ev.hold_in_force);
    /* A hold running past the archive step blocks archive and purge while
     * in force, and they proceed the day after its last day. */
    hold = end + 300;
    ev = eval_at(&p, &a, 1, PSTATE_CLOSED, hold, TN_DATE_NONE, end + 185);
    assert_int_equal(ev.state, PSTATE_CLOSED);
    assert_true(ev.hold_in_force);
    assert_false(ev.purge_due);
    assert_int_equal(ev.archive_on, hold + 1);
    assert_int_equal(ev.purge_on, hold + 1);
    ev = eval_at(&p, &a, 1, PSTATE_CLOSED, hold, TN_DATE_NONE, hold);
    assert_int_equal(ev.state, PSTATE_CLOSED);
    ev = eval_at(&p, &a, 1, PSTATE_CLOSED, hold, TN_DATE_NONE, hold + 1);
    assert_int_equal(ev.state, PSTATE_ARCHIVED);
    assert_true(ev.purge_due);
    /* The hold does not keep the account open: closing is not delayed. */
    ev = eval_at(&p, &a, 1, PSTATE_GRACE, hold, TN_DATE_NONE, end + 15);
    assert_int_equal(ev.state, PSTATE_CLOSED);
    /* Erase waits for the hold too. */
    policy q = load(UNI002);
    affiliation s = aff("student", D(2020, 1, 1), end);
    ev = eval_at(&q, &s, 1, PSTATE_ARCHIVED, end + 500, TN_DATE_NONE, end + 401);
    assert_int_equal(ev.state, PSTATE_ARCHIVED);
    assert_false(ev.purge_due); /* the hold blocks purge too */
    assert_int_equal(ev.erase_on, end + 501);
    ev = eval_at(&q, &s, 1, PSTATE_ARCHIVED, TN_DATE_NONE, TN_DATE_NONE, end + 401);
    assert_int_equal(ev.state, PSTATE_ERASED);
    assert_true(ev.purge_due);
}

static void test_handover_and_erased(void **state)
{
    (void)state;
    policy q = load(UNI002);
    affiliation a = aff("staff", D(2020, 1, 1), D(2024, 6, 30));
    lc_eval ev = eval1(&q, a, D(2024, 6, 1));
    assert_int_equal(ev.handover_until, TN_DATE_NONE); /* no manager */
    snprintf(a.manager_id, sizeof a.manager_id, "m");
    ev = eval1(&q, a, D(2024, 6, 1));
    assert_int_equal(ev.handover_until, D(2024, 6, 30) + 7 + 30);
    ev = eval_at(&q, &a, 1, PSTATE_ERASED, TN_DATE_NONE, TN_DATE_NONE, D(2024, 6, 1));
    assert_int_equal(ev.state, PSTATE_ERASED);
}

/* LC-8: the window after which a closed account is never reopened runs
 * with or without a manager; the manager's access only with one. Day
 * before, on and after its last day; a student relationship (no
 * handover_days) adds no window. */
static void test_reopen_window(void **state)
{
    (void)state;
    policy q = load(UNI002);
    affiliation a = aff("staff", D(2020, 1, 1), D(2024, 6, 30));
    tn_date last = D(2024, 6, 30) + 7 + 30; /* 2024-08-06 */
    assert_int_equal(last, D(2024, 8, 6));
    lc_eval ev = eval1(&q, a, last - 1);
    assert_int_equal(ev.reopen_until, last);
    assert_int_equal(ev.handover_until, TN_DATE_NONE);
    ev = eval1(&q, a, last);
    assert_int_equal(ev.reopen_until, last);
    ev = eval1(&q, a, last + 1);
    assert_int_equal(ev.reopen_until, last);
    assert_int_equal(ev.state, PSTATE_ARCHIVED); /* archive at 37 = the window's end + 1 */
    affiliation open = aff("staff", D(2020, 1, 1), TN_DATE_NONE);
    ev = eval1(&q, open, last);
    assert_int_equal(ev.reopen_until, TN_DATE_NONE);
    affiliation st = aff("student", D(2020, 1, 1), D(2024, 6, 30));
    ev = eval1(&q, st, last);
    assert_int_equal(ev.reopen_until, TN_DATE_NONE);
}

static void test_returning_username(void **state)
{
    (void)state;
    policy q = load(UNI002);
    assert_false(q.returning_new_username);
    static const char NEW[] = "{\"returning_username\":\"new\",\"kinds\":{\"staff\":{"
                              "\"activate_before_days\":0,\"close_after_days\":0,"
                              "\"archive_after_days\":0,\"purge_after_days\":0}}}";
    q = load(NEW);
    assert_true(q.returning_new_username);
    char *text = policy_to_json(&q);
    policy r = load(text);
    free(text);
    assert_true(r.returning_new_username);
    static const char BAD[] = "{\"returning_username\":1,\"kinds\":{\"staff\":{"
                              "\"activate_before_days\":0,\"close_after_days\":0,"
                              "\"archive_after_days\":0,\"purge_after_days\":0}}}";
    tn_err e;
    tn_err_clear(&e);
    assert_int_equal(policy_parse(BAD, strlen(BAD), &r, &e), TN_EINVAL);
    assert_string_equal(e.field, "returning_username");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reopen_window),
        cmocka_unit_test(test_returning_username),
        cmocka_unit_test(test_policy_defaults),
        cmocka_unit_test(test_policy_roundtrip),
        cmocka_unit_test(test_policy_rejects),
        cmocka_unit_test(test_seed_timers),
        cmocka_unit_test(test_zero_grace_closes_next_day),
        cmocka_unit_test(test_open_ended),
        cmocka_unit_test(test_leap_days),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_rehire),
        cmocka_unit_test(test_death),
        cmocka_unit_test(test_legal_hold),
        cmocka_unit_test(test_handover_and_erased),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
