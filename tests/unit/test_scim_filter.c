/* Unit tests for src/http/scim_filter.c and scim_path.c: the SCIM filter
 * grammar (operators, precedence, grouping, value paths, URIs), precise
 * errors with offsets, case-exactness by schema, and PATCH paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "scim_filter.h"
#include "scim_path.h"

static json_t *user(void)
{
    json_t *u = json_loads(
        "{\"id\":\"01AB\",\"userName\":\"Maija\",\"externalId\":\"Ext-1\","
        "\"name\":{\"givenName\":\"Maija Liisa\",\"familyName\":\"Meikalainen\"},"
        "\"active\":true,\"emails\":[{\"value\":\"maija@x.fi\",\"type\":\"work\",\"primary\":true},"
        "{\"value\":\"m@koti.fi\",\"type\":\"home\"}],"
        "\"meta\":{\"lastModified\":\"2026-01-02T03:04:05Z\"},"
        "\"" SCIM_ENTERPRISE "\":{\"employeeNumber\":\"7\",\"department\":\"HR/Palkat\"},"
        "\"" SCIM_TUNNUS "\":{\"identityNumber\":7,\"teachingGroups\":[\"MA1\",\"FY2\"]}}",
        0, NULL);
    assert_non_null(u);
    return u;
}

static bool matches(const char *filter)
{
    json_t *u = user();
    tn_err e;
    tn_err_clear(&e);
    sf_node *f = scim_filter_parse(filter, strlen(filter), &e);
    if (!f)
        fail_msg("%s: %s", filter, e.msg);
    bool m = scim_filter_match(f, u);
    scim_filter_free(f);
    json_decref(u);
    return m;
}

static void test_operators(void **state)
{
    (void)state;
    static const struct {
        const char *f;
        bool want;
    } cases[] = {
        {"userName eq \"maija\"", true},       /* userName is caseExact false */
        {"USERNAME EQ \"MAIJA\"", true},       /* names and keywords ignore case */
        {"userName ne \"maija\"", false},
        {"userName co \"aij\"", true},
        {"userName sw \"ma\"", true},
        {"userName ew \"JA\"", true},
        {"userName gt \"m\"", true},
        {"userName lt \"m\"", false},
        {"userName ge \"maija\"", true},
        {"userName le \"maiJa\"", true},
        {"id eq \"01ab\"", false},             /* id is caseExact */
        {"id eq \"01AB\"", true},
        {"externalId eq \"ext-1\"", false},
        {"userName pr", true},
        {"nickName pr", false},
        {"nickName eq null", true},
        {"active eq true", true},
        {"active eq false", false},
        {"active gt true", false},
        {"name.familyName sw \"meik\"", true},
        {"emails co \"koti\"", true},          /* complex multi-valued: by value */
        {"emails.type eq \"home\"", true},
        {"emails.type eq \"other\"", false},
        {"emails[type eq \"work\" and value ew \"x.fi\"]", true},
        {"emails[type eq \"home\" and value ew \"x.fi\"]", false},
        {"emails[not (type eq \"work\")]", true},
        {"meta.lastModified gt \"2026-01-01T00:00:00Z\"", true},
        {"meta.lastModified lt \"2025-01-01T00:00:00Z\"", false},
        {SCIM_ENTERPRISE ":department sw \"hr/\"", true},
        {SCIM_ENTERPRISE ":employeeNumber eq \"7\"", true},
        {SCIM_TUNNUS ":identityNumber ge 7", true},
        {SCIM_TUNNUS ":identityNumber gt 7", false},
        {SCIM_TUNNUS ":teachingGroups eq \"fy2\"", true},
        {SCIM_CORE_USER ":userName eq \"maija\"", true},
        {"not (userName eq \"x\")", true},
        {"userName eq \"x\" or userName eq \"maija\" and active eq false", false},
        {"(userName eq \"x\" or userName eq \"maija\") and active eq true", true},
        {"userName eq \"x\" or userName eq \"maija\" and active eq true", true},
        {"not (userName eq \"maija\") or not (active eq true)", false},
        {"userName eq \"ma\\u0069ja\"", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (matches(cases[i].f) != cases[i].want)
            fail_msg("%s: expected %s", cases[i].f, cases[i].want ? "match" : "no match");
}

static void test_errors_name_offset(void **state)
{
    (void)state;
    static const struct {
        const char *f;
        const char *msg;
    } cases[] = {
        {"", "empty"},
        {"userName", "at offset 8: expected an operator"},
        {"userName eq", "at offset 11: expected a value"},
        {"userName eq \"x", "at offset 12: unterminated string"},
        {"userName xx \"a\"", "at offset 9: expected an operator"},
        {"userName eq \"a\" junk", "unexpected text"},
        {"(userName pr", "expected ')'"},
        {"not userName pr", "expected '(' after not"},
        {"emails[type eq \"work\"", "expected ']'"},
        {"emails[value[type eq \"x\"]]", "value paths do not nest"},
        {"1abc eq \"x\"", "invalid attribute name"},
        {"foo:bar eq \"x\"", "urn:"},
        {"userName eq {}", "expected a value"},
        {"userName eq \"a\" and", "at offset 19: expected a space"},
        {"userName eq \"a\" and ", "at offset 20: expected an attribute name"},
        {"name.family.x eq \"a\"", "invalid sub-attribute name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tn_err e;
        tn_err_clear(&e);
        sf_node *f = scim_filter_parse(cases[i].f, strlen(cases[i].f), &e);
        if (f)
            fail_msg("%s: parsed", cases[i].f);
        assert_int_equal(e.code, TN_EINVAL);
        assert_string_equal(e.field, "filter");
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].f, e.msg, cases[i].msg);
    }
}

static void test_depth_cap(void **state)
{
    (void)state;
    char buf[512] = "";
    for (int i = 0; i < 40; i++)
        strcat(buf, "(");
    strcat(buf, "userName pr");
    for (int i = 0; i < 40; i++)
        strcat(buf, ")");
    tn_err e;
    tn_err_clear(&e);
    assert_null(scim_filter_parse(buf, strlen(buf), &e));
    assert_non_null(strstr(e.msg, "nested too deeply"));
    /* Within the cap it parses. */
    char ok[128] = "((((userName pr))))";
    sf_node *f = scim_filter_parse(ok, strlen(ok), &e);
    assert_non_null(f);
    scim_filter_free(f);
}

static void test_patch_paths(void **state)
{
    (void)state;
    scim_patch_path p;
    tn_err e;
    tn_err_clear(&e);
    const char *s = "emails[type eq \"work\"].value";
    assert_int_equal(scim_patch_path_parse(s, strlen(s), &p, &e), TN_OK);
    assert_string_equal(p.attr.attr, "emails");
    assert_null(p.attr.sub);
    assert_non_null(p.filter);
    assert_string_equal(p.sub, "value");
    scim_patch_path_free(&p);

    s = "name.givenName";
    assert_int_equal(scim_patch_path_parse(s, strlen(s), &p, &e), TN_OK);
    assert_string_equal(p.attr.attr, "name");
    assert_string_equal(p.attr.sub, "givenName");
    assert_null(p.filter);
    scim_patch_path_free(&p);

    s = SCIM_ENTERPRISE ":department";
    assert_int_equal(scim_patch_path_parse(s, strlen(s), &p, &e), TN_OK);
    assert_string_equal(p.attr.uri, SCIM_ENTERPRISE);
    assert_string_equal(p.attr.attr, "department");
    scim_patch_path_free(&p);

    s = "emails[value ew \"]x\"]";
    assert_int_equal(scim_patch_path_parse(s, strlen(s), &p, &e), TN_OK);
    scim_patch_path_free(&p);

    static const struct {
        const char *p, *msg;
    } bad[] = {
        {"", "empty"},
        {"emails[type eq \"work\"]value", "at offset 22: expected '.'"},
        {"emails[type eq \"work\"].", "invalid sub-attribute"},
        {"emails[type eq \"work\"", "expected ']'"},
        {"emails[type zz \"work\"]", "in the value filter: at offset 5"},
        {"name.givenName[type eq \"x\"]", "not a sub-attribute"},
        {"name..x", "invalid sub-attribute"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tn_err_clear(&e);
        if (scim_patch_path_parse(bad[i].p, strlen(bad[i].p), &p, &e) == TN_OK)
            fail_msg("%s: parsed", bad[i].p);
        assert_string_equal(e.field, "path");
        if (!strstr(e.msg, bad[i].msg))
            fail_msg("%s: got \"%s\", want \"%s\"", bad[i].p, e.msg, bad[i].msg);
    }
}

static void test_compare_order(void **state)
{
    (void)state;
    json_t *a = json_string("alpha"), *b = json_string("Beta"), *n1 = json_integer(2),
           *n2 = json_real(10.5);
    assert_true(scim_compare(a, SF_LT, b, false));
    assert_false(scim_compare(a, SF_LT, b, true) && scim_compare(b, SF_LT, a, true));
    assert_true(scim_compare(n1, SF_LT, n2, false));
    assert_false(scim_compare(n1, SF_CO, n2, false));
    assert_true(scim_compare(NULL, SF_NE, a, false));
    assert_false(scim_compare(NULL, SF_EQ, a, false));
    json_decref(a);
    json_decref(b);
    json_decref(n1);
    json_decref(n2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_errors_name_offset),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_patch_paths),
        cmocka_unit_test(test_compare_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
