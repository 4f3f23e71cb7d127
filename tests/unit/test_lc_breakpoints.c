/* Unit tests: lc_breakpoints, on which the lifecycle due cache rests. The
 * claim is that lc_evaluate gives the same result on every day between two
 * consecutive breakpoints; checked day by day over random relationships,
 * deaths, holds and archive summaries under two policies (with and without
 * erase and handover). */
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

static const char POL_A[] =
    "{\"kinds\":{"
    "\"staff\":{\"activate_before_days\":14,\"close_after_days\":7,"
    "\"archive_after_days\":37,\"purge_after_days\":37,\"handover_days\":30},"
    "\"student\":{\"activate_before_days\":14,\"close_after_days\":14,"
    "\"archive_after_days\":184,\"purge_after_days\":184,\"erase_after_days\":400}}}";
static const char POL_B[] =
    "{\"kinds\":{"
    "\"staff\":{\"activate_before_days\":0,\"close_after_days\":0,"
    "\"archive_after_days\":0,\"purge_after_days\":3,\"erase_after_days\":3},"
    "\"student\":{\"activate_before_days\":61,\"close_after_days\":61,"
    "\"archive_after_days\":184,\"purge_after_days\":365}}}";

static policy load(const char *text)
{
    policy p;
    tn_err e;
    tn_err_clear(&e);
    if (policy_parse(text, strlen(text), &p, &e) != TN_OK)
        fail_msg("policy: %s: %s", e.field, e.msg);
    return p;
}

static unsigned rnd_state = 12345;
static int rnd(int n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (int)((rnd_state >> 8) % (unsigned)n);
}

static int cmp(const void *a, const void *b)
{
    tn_date x = *(const tn_date *)a, y = *(const tn_date *)b;
    return (x > y) - (x < y);
}

static bool same(const lc_eval *a, const lc_eval *b)
{
    return a->state == b->state && a->purge_due == b->purge_due &&
           a->hold_in_force == b->hold_in_force && memcmp(a, b, sizeof *a) == 0;
}

/* One random person: every day from well before the first breakpoint to
 * well after the last evaluates like the first day of its piece. */
static void check_one(const policy *p, unsigned *days_checked)
{
    tn_date base = D(2026, 1, 1);
    affiliation affs[3];
    size_t n = (size_t)rnd(4);
    memset(affs, 0, sizeof affs);
    for (size_t i = 0; i < n; i++) {
        snprintf(affs[i].kind, sizeof affs[i].kind, "%s", rnd(2) ? "staff" : "student");
        affs[i].valid_from = base + rnd(400);
        affs[i].valid_to = rnd(5) == 0 ? TN_DATE_NONE : affs[i].valid_from + rnd(300);
        if (rnd(8) == 0)
            snprintf(affs[i].end_reason, sizeof affs[i].end_reason, "death");
        if (rnd(2))
            snprintf(affs[i].manager_id, sizeof affs[i].manager_id, "*");
    }
    static const person_state states[] = {PSTATE_PENDING, PSTATE_ACTIVE, PSTATE_GRACE,
                                          PSTATE_CLOSED, PSTATE_ARCHIVED};
    lc_facts f = {affs,
                  n,
                  rnd(6) == 0 ? base + rnd(700) : TN_DATE_NONE,
                  rnd(3) == 0 ? base + rnd(700) : TN_DATE_NONE,
                  states[rnd(5)],
                  TN_DATE_NONE,
                  TN_DATE_NONE};
    if (f.stored == PSTATE_ARCHIVED && rnd(2)) {
        f.archived_purge_on = base + rnd(900);
        f.archived_erase_on = rnd(2) ? f.archived_purge_on + rnd(200) : TN_DATE_NONE;
    }
    tn_date b[64];
    size_t nb = lc_breakpoints(p, &f, b, 64);
    assert_true(nb <= 64);
    qsort(b, nb, sizeof *b, cmp);
    tn_date from = base - 200, to = base + 1800;
    lc_eval first, ev;
    tn_err e;
    size_t k = 0;
    bool have = false;
    for (tn_date d = from; d <= to; d++) {
        bool new_piece = !have;
        while (k < nb && b[k] <= d) {
            if (b[k] == d)
                new_piece = true;
            k++;
        }
        assert_int_equal(lc_evaluate(p, &f, d, &ev, &e), TN_OK);
        if (new_piece) {
            first = ev;
            have = true;
        } else if (!same(&first, &ev)) {
            fail_msg("evaluation changed on a day that is no breakpoint (day %d)", (int)(d - base));
        }
        (*days_checked)++;
    }
}

static void test_pieces_constant(void **state)
{
    (void)state;
    policy pa = load(POL_A), pb = load(POL_B);
    unsigned days = 0;
    for (int i = 0; i < 1500; i++)
        check_one(i % 2 ? &pa : &pb, &days);
    assert_true(days > 1000000u);
}

/* The count is returned even when out is too small, so the caller can
 * grow it; nothing is written past cap. */
static void test_cap(void **state)
{
    (void)state;
    policy p = load(POL_A);
    affiliation a[2];
    memset(a, 0, sizeof a);
    snprintf(a[0].kind, sizeof a[0].kind, "student");
    snprintf(a[1].kind, sizeof a[1].kind, "student");
    a[0].valid_from = D(2026, 1, 1);
    a[0].valid_to = D(2026, 6, 30);
    a[1].valid_from = D(2026, 8, 1);
    a[1].valid_to = D(2027, 6, 30);
    lc_facts f = {a, 2, TN_DATE_NONE, D(2027, 1, 1), PSTATE_ACTIVE, TN_DATE_NONE, TN_DATE_NONE};
    tn_date out[4] = {0, 0, 0, 0};
    size_t n = lc_breakpoints(&p, &f, out, 2);
    /* per relationship: opens, end+1, close, archive, purge, erase; the hold */
    assert_int_equal(n, 13);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 0);
    tn_date all[16];
    assert_int_equal(lc_breakpoints(&p, &f, all, 16), 13);
    assert_int_equal(all[0], D(2026, 1, 1) - 14);
    assert_int_equal(all[12], D(2027, 1, 2));
}

/* An open relationship has only its opening; a kind the policy lacks adds
 * nothing. */
static void test_open_and_unknown(void **state)
{
    (void)state;
    policy p = load(POL_A);
    affiliation a[2];
    memset(a, 0, sizeof a);
    snprintf(a[0].kind, sizeof a[0].kind, "staff");
    a[0].valid_from = D(2026, 3, 1);
    a[0].valid_to = TN_DATE_NONE;
    snprintf(a[1].kind, sizeof a[1].kind, "visitor");
    a[1].valid_from = D(2026, 3, 1);
    a[1].valid_to = D(2026, 4, 1);
    lc_facts f = {a, 2, TN_DATE_NONE, TN_DATE_NONE, PSTATE_ACTIVE, TN_DATE_NONE, TN_DATE_NONE};
    tn_date out[8];
    assert_int_equal(lc_breakpoints(&p, &f, out, 8), 1);
    assert_int_equal(out[0], D(2026, 3, 1) - 14);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_constant),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_open_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
