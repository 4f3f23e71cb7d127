/* Unit tests: the pure part of a SCIM target's groups
 * (src/prov/prov_scim_diff.c): the membership diff of a delivery, the
 * PatchOp it sends, the filters it asks with, and the membership drift
 * reconciliation reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov_scim_diff.h"

typedef char gname[PROV_GROUP_NAME_MAX];

static void diff_joins_and_leaves(void **state)
{
    (void)state;
    gname have[3] = {"tn-staff", "tn-student", "tn-old"};
    gname want[3] = {"tn-teacher", "tn-staff", "tn-guest"};
    prov_group_delta d;
    prov_group_diff((const gname *)have, 3, (const gname *)want, 3, &d);
    assert_int_equal(d.njoin, 2);
    assert_string_equal(want[d.join[0]], "tn-teacher");
    assert_string_equal(want[d.join[1]], "tn-guest");
    assert_int_equal(d.nleave, 2);
    assert_string_equal(have[d.leave[0]], "tn-student");
    assert_string_equal(have[d.leave[1]], "tn-old");
}

static void diff_nothing_to_do(void **state)
{
    (void)state;
    /* Same set, another order, another case (displayName is not
     * case-exact): nothing to send. */
    gname have[2] = {"TN-Staff", "tn-student"};
    gname want[2] = {"tn-student", "tn-staff"};
    prov_group_delta d;
    prov_group_diff((const gname *)have, 2, (const gname *)want, 2, &d);
    assert_int_equal(d.njoin, 0);
    assert_int_equal(d.nleave, 0);
    /* Nothing wanted (disabled, deleted): leave every group, once each. */
    gname dup[3] = {"tn-staff", "tn-student", "tn-staff"};
    prov_group_diff((const gname *)dup, 3, NULL, 0, &d);
    assert_int_equal(d.njoin, 0);
    assert_int_equal(d.nleave, 2);
    /* A fresh user: join everything wanted, a name twice once. */
    gname w2[3] = {"tn-staff", "tn-staff", "tn-teacher"};
    prov_group_diff(NULL, 0, (const gname *)w2, 3, &d);
    assert_int_equal(d.nleave, 0);
    assert_int_equal(d.njoin, 2);
    assert_int_equal(d.join[0], 0);
    assert_int_equal(d.join[1], 2);
}

static void eq_filter_escapes(void **state)
{
    (void)state;
    char out[64];
    assert_true(prov_scim_eq_filter("displayName", "tn-staff", out, sizeof out));
    assert_string_equal(out, "displayName eq \"tn-staff\"");
    assert_true(prov_scim_eq_filter("value", "a\"b\\c", out, sizeof out));
    assert_string_equal(out, "value eq \"a\\\"b\\\\c\"");
    /* Exactly fitting, and one byte short. */
    const char *want = "value eq \"0123456789\"";
    char fit[22];
    assert_int_equal(strlen(want) + 1, sizeof fit);
    assert_true(prov_scim_eq_filter("value", "0123456789", fit, sizeof fit));
    assert_string_equal(fit, want);
    char small[21];
    assert_false(prov_scim_eq_filter("value", "0123456789", small, sizeof small));
    assert_string_equal(small, "");
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(s);
    return s;
}

static void patch_body(void **state)
{
    (void)state;
    assert_null(prov_scim_members_patch(NULL, 0, NULL, 0));
    const char *add[] = {"u1", "u2"};
    const char *rem[] = {"u3", "we\"ird"};
    json_t *j = prov_scim_members_patch(add, 2, rem, 2);
    assert_non_null(j);
    char *s = dump(j);
    assert_string_equal(
        s, "{\"Operations\":["
           "{\"op\":\"remove\",\"path\":\"members[value eq \\\"u3\\\"]\"},"
           "{\"op\":\"remove\",\"path\":\"members[value eq \\\"we\\\\\\\"ird\\\"]\"},"
           "{\"op\":\"add\",\"path\":\"members\","
           "\"value\":[{\"value\":\"u1\"},{\"value\":\"u2\"}]}],"
           "\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]}");
    free(s);
    json_decref(j);
    /* Only joins: one add; only leaves: removes. */
    j = prov_scim_members_patch(add, 1, NULL, 0);
    assert_int_equal(json_array_size(json_object_get(j, "Operations")), 1);
    json_decref(j);
    j = prov_scim_members_patch(NULL, 0, rem, 1);
    json_t *op = json_array_get(json_object_get(j, "Operations"), 0);
    assert_string_equal(json_string_value(json_object_get(op, "op")), "remove");
    assert_null(json_object_get(op, "value"));
    json_decref(j);
}

typedef struct drift_log {
    char text[256];
} drift_log;

static void on_drift(const char *id, bool missing, void *ctx)
{
    drift_log *l = ctx;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s%c%s", n ? " " : "", missing ? '+' : '-', id);
}

static void member_drift(void **state)
{
    (void)state;
    const char *want[] = {"c", "a", "d", "a"};
    const char *have[] = {"b", "c", "e", "b"};
    drift_log l = {""};
    prov_member_drift(want, 4, have, 4, on_drift, &l);
    assert_string_equal(l.text, "+a -b +d -e");
    /* In step: nothing. Empty sides. */
    const char *w2[] = {"x", "y"};
    const char *h2[] = {"y", "x"};
    l.text[0] = '\0';
    prov_member_drift(w2, 2, h2, 2, on_drift, &l);
    assert_string_equal(l.text, "");
    prov_member_drift(NULL, 0, h2, 2, on_drift, &l);
    assert_string_equal(l.text, "-x -y");
    l.text[0] = '\0';
    prov_member_drift(w2, 2, NULL, 0, on_drift, &l);
    assert_string_equal(l.text, "+x +y");
    /* Ids are case-exact. */
    const char *w3[] = {"AB"};
    const char *h3[] = {"ab"};
    l.text[0] = '\0';
    prov_member_drift(w3, 1, h3, 1, on_drift, &l);
    assert_string_equal(l.text, "+AB -ab");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(diff_joins_and_leaves),
        cmocka_unit_test(diff_nothing_to_do),
        cmocka_unit_test(eq_filter_escapes),
        cmocka_unit_test(patch_body),
        cmocka_unit_test(member_drift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
