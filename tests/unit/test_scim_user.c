/* Unit tests for src/http/scim_user.c: the User written straight as text
 * (a plain GET) is the same JSON as the tree the other paths render, for
 * persons with and without each optional part, escapes, teaching groups,
 * invalid UTF-8 and an ended affiliation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "scim_filter.h"
#include "scim_user.h"

#define TODAY ((tn_date)20400)

static void base_person(svc_person_view *v, person *p, affiliation *af, account *ac)
{
    memset(v, 0, sizeof *v);
    memset(p, 0, sizeof *p);
    strcpy(p->id, "01a20184-6763-74cf-902e-8980999dd8dd");
    p->number = 4711;
    p->state = PSTATE_ACTIVE;
    strcpy(p->given_names, "Björn Olavi");
    strcpy(p->family_name, "Tukanen");
    p->birth_date = 10000;
    p->death_date = TN_DATE_NONE;
    p->legal_hold_until = TN_DATE_NONE;
    p->created_at = 1795321784163458;
    p->updated_at = 1795321784163459;
    v->p = *p;
    if (af) {
        memset(af, 0, sizeof *af);
        strcpy(af->kind, "staff");
        strcpy(af->source, "hr");
        strcpy(af->source_key, "E104989");
        strcpy(af->org_unit, "Sivistys/Lukio");
        af->valid_from = 16000;
        af->valid_to = TN_DATE_NONE;
        af->updated_at = 1795321784163460;
        v->affs = af;
        v->naffs = 1;
    }
    if (ac) {
        memset(ac, 0, sizeof *ac);
        strcpy(ac->username, "bjorn.tukanen");
        strcpy(ac->email, "bjorn.tukanen@example.fi");
        ac->state = ASTATE_ACTIVE;
        ac->closed_on = TN_DATE_NONE;
        ac->updated_at = 1795321784163458;
        v->accts = ac;
        v->naccts = 1;
    }
}

/* The text parses, and as JSON equals the tree. */
static void same(const svc_person_view *v)
{
    json_t *tree = scim_user_render(v, TODAY, "https://idm.example.fi/scim/v2");
    assert_non_null(tree);
    tn_buf b;
    tn_buf_init(&b, 1 << 20);
    scim_user_write(v, TODAY, "https://idm.example.fi/scim/v2", &b);
    json_error_t err;
    json_t *text = json_loadb(b.data, b.len, 0, &err);
    if (!text)
        fail_msg("text is not JSON (%s): %.*s", err.text, (int)b.len, b.data);
    if (!json_equal(tree, text)) {
        char *t = json_dumps(tree, JSON_COMPACT | JSON_SORT_KEYS);
        char *x = json_dumps(text, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("tree and text differ:\n%s\n%s", t, x);
    }
    json_decref(tree);
    json_decref(text);
    tn_buf_free(&b);
}

static void test_plain(void **state)
{
    (void)state;
    svc_person_view v;
    person p;
    affiliation af;
    account ac;
    base_person(&v, &p, &af, &ac);
    same(&v);
    json_t *u = scim_user_render(&v, TODAY, "");
    /* Some values, so that "equal" is not two empty documents. */
    assert_string_equal(json_string_value(json_object_get(u, "userName")), "bjorn.tukanen");
    assert_string_equal(json_string_value(json_object_get(json_object_get(u, "name"),
                                                          "givenName")),
                        "Björn Olavi");
    assert_true(json_is_true(json_object_get(u, "active")));
    json_decref(u);
}

static void test_bare(void **state)
{
    (void)state;
    svc_person_view v;
    person p;
    base_person(&v, &p, NULL, NULL);
    v.p.state = PSTATE_PENDING;
    v.p.birth_date = TN_DATE_NONE;
    same(&v);
}

static void test_everything(void **state)
{
    (void)state;
    svc_person_view v;
    person p;
    affiliation affs[2];
    account ac;
    base_person(&v, &p, &affs[0], &ac);
    strcpy(v.p.preferred_name, "Olavi");
    strcpy(v.p.email, "koti@example.org");
    strcpy(v.p.phone, "+358401234567");
    strcpy(v.p.language, "sv");
    v.p.death_date = 20300;
    v.p.legal_hold_until = 21000;
    ac.closed_on = 20350;
    ac.state = ASTATE_CLOSED;
    strcpy(affs[0].title, "Lehtori \"vanhempi\" \\ A\tB\nC");
    strcpy(affs[0].school, "Kaupungin lukio");
    strcpy(affs[0].class_, "2B");
    strcpy(affs[0].teaching_groups, "MA1;;FY2;ÄI3");
    strcpy(affs[0].programme, "Lukio");
    strcpy(affs[0].manager_id, "01a20184-6763-74cf-902e-8980999dd8de");
    affs[1] = affs[0];
    strcpy(affs[1].source_key, "E1");
    affs[1].valid_to = 20000;
    strcpy(affs[1].end_reason, "absent_from_source");
    affs[1].teaching_groups[0] = '\0';
    v.naffs = 2;
    same(&v);
}

static void test_bad_utf8_left_out(void **state)
{
    (void)state;
    svc_person_view v;
    person p;
    affiliation af;
    account ac;
    base_person(&v, &p, &af, &ac);
    strcpy(af.title, "bad \xff byte");
    strcpy(af.teaching_groups, "A1;\xc3;B2");
    same(&v);
    json_t *u = scim_user_render(&v, TODAY, "");
    json_t *a0 = json_array_get(json_object_get(json_object_get(u, SCIM_TUNNUS), "affiliations"), 0);
    assert_null(json_object_get(a0, "title"));
    assert_int_equal(json_array_size(json_object_get(a0, "teachingGroups")), 2);
    json_decref(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_bare),
        cmocka_unit_test(test_everything),
        cmocka_unit_test(test_bad_utf8_left_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
