/* Unit tests for src/core/model.c: state names, identifier checks, teaching
 * group normalisation and affiliation validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "tn_str.h"

static void test_person_states(void **state)
{
    (void)state;
    static const char *const names[PSTATE_MAX] = {
        "pending", "active", "grace", "closed", "archived", "erased",
    };
    for (int i = 0; i < PSTATE_MAX; i++) {
        assert_string_equal(person_state_name((person_state)i), names[i]);
        person_state s = PSTATE_MAX;
        assert_true(person_state_parse(names[i], &s));
        assert_int_equal(s, i);
    }
    static const char *const bad[] = {"", "Active", "active ", "locked", "unknown", "erase"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        person_state s = PSTATE_ACTIVE;
        assert_false(person_state_parse(bad[i], &s));
        assert_int_equal(s, PSTATE_ACTIVE);
    }
    assert_false(person_state_parse(NULL, NULL));
    assert_true(person_state_parse("grace", NULL));
    assert_string_equal(person_state_name(PSTATE_MAX), "unknown");
    assert_string_equal(person_state_name((person_state)-1), "unknown");
}

static void test_account_states(void **state)
{
    (void)state;
    static const char *const names[ASTATE_MAX] = {
        "active", "grace", "closed", "locked", "pending",
    };
    for (int i = 0; i < ASTATE_MAX; i++) {
        assert_string_equal(account_state_name((account_state)i), names[i]);
        account_state s = ASTATE_MAX;
        assert_true(account_state_parse(names[i], &s));
        assert_int_equal(s, i);
    }
    static const char *const bad[] = {"", "Locked", "archived", "erased", "activ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(account_state_parse(bad[i], NULL));
    assert_false(account_state_parse(NULL, NULL));
    assert_string_equal(account_state_name(ASTATE_MAX), "unknown");
}

typedef struct check_case {
    const char *in;
    tn_code want;
} check_case;

static void run_checks(tn_code (*fn)(const char *, const char *, tn_err *),
                       const check_case *cases, size_t n, const char *field)
{
    for (size_t i = 0; i < n; i++) {
        tn_err e;
        tn_err_clear(&e);
        tn_code rc = fn(cases[i].in, field, &e);
        if (rc != cases[i].want)
            fail_msg("%s \"%s\": got %d, expected %d (%s)", field,
                     cases[i].in ? cases[i].in : "(null)", rc, cases[i].want, e.msg);
        if (rc != TN_OK)
            assert_string_equal(e.field, field);
    }
}

static void test_check_token(void **state)
{
    (void)state;
    static const check_case cases[] = {
        {"staff", TN_OK},
        {"a", TN_OK},
        {"elected_official", TN_OK},
        {"a1_b", TN_OK},
        {"hr2", TN_OK},
        {"abcdefghijklmnopqrstuvwxyz012345", TN_OK},    /* 32 */
        {"abcdefghijklmnopqrstuvwxyz0123456", TN_EINVAL}, /* 33 */
        {"", TN_EINVAL},
        {NULL, TN_EINVAL},
        {"Staff", TN_EINVAL},
        {"staFF", TN_EINVAL},
        {"1a", TN_EINVAL},
        {"_a", TN_EINVAL},
        {"a-b", TN_EINVAL},
        {"a b", TN_EINVAL},
        {"a.b", TN_EINVAL},
        {"\xc3\xa4", TN_EINVAL},
        {"a\xc3\xa4", TN_EINVAL},
        {"a\n", TN_EINVAL},
    };
    run_checks(model_check_token, cases, sizeof cases / sizeof cases[0], "kind");
}

static void test_check_source_key(void **state)
{
    (void)state;
    char k128[129], k129[130];
    memset(k128, '7', 128);
    k128[128] = '\0';
    memset(k129, '7', 129);
    k129[129] = '\0';
    const check_case cases[] = {
        {"12345", TN_OK},
        {"S-2024/001", TN_OK},
        {"\xc3\x84\xc3\x96-1", TN_OK},
        {"x y", TN_OK},
        {k128, TN_OK},
        {k129, TN_EINVAL},
        {"", TN_EINVAL},
        {NULL, TN_EINVAL},
        {" x", TN_EINVAL},
        {"x ", TN_EINVAL},
        {"a\tb", TN_EINVAL},
        {"a\nb", TN_EINVAL},
        {"a\x7f", TN_EINVAL},
        {"a\xff", TN_EINVAL},
        {"\xc0\xaf", TN_EINVAL},
    };
    run_checks(model_check_source_key, cases, sizeof cases / sizeof cases[0], "source_key");
}

static void test_check_unit_code(void **state)
{
    (void)state;
    char c256[257], c257[258];
    memset(c256, 'u', 256);
    c256[256] = '\0';
    c256[100] = '/';
    memset(c257, 'u', 257);
    c257[257] = '\0';
    const check_case cases[] = {
        {"kasvatus/perusopetus/koulu1", TN_OK},
        {"HR", TN_OK},
        {"\xc3\x85" "bo Akademi/Fakultet", TN_OK},
        {"1000", TN_OK},
        {c256, TN_OK},
        {c257, TN_EINVAL},
        {"", TN_EINVAL},
        {NULL, TN_EINVAL},
        {"/a", TN_EINVAL},
        {"a/", TN_EINVAL},
        {"/", TN_EINVAL},
        {"a//b", TN_EINVAL},
        {" a", TN_EINVAL},
        {"a ", TN_EINVAL},
        {"a\x01/b", TN_EINVAL},
        {"a/\xff", TN_EINVAL},
    };
    run_checks(model_check_unit_code, cases, sizeof cases / sizeof cases[0], "org_unit");
}

static void test_check_groups(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out; /* NULL = rejected, value unchanged */
    } cases[] = {
        {"", ""},
        {"   ", ""},
        {"7A", "7A"},
        {"7A;7B", "7A;7B"},
        {" 7A ; 7B ", "7A;7B"},
        {"7A;7B;7A", "7A;7B"},
        {"MA1;MA1;MA1", "MA1"},
        {"\xc3\x84I7;\xc3\x84I7 ", "\xc3\x84I7"},
        {"a;ab;a b;ab", "a;ab;a b"},
        {"ab;a", "ab;a"},
        {"b;a;b;c;a", "b;a;c"},
        {"Fysiikka 7 ; Kemia 8", "Fysiikka 7;Kemia 8"},
        {"7A;;7B", NULL},
        {"7A;", NULL},
        {";7A", NULL},
        {";", NULL},
        {"7A; ;7B", NULL},
        {"7A\t;7B", NULL},
        {"7A\n", NULL},
        {"7A\xff", NULL},
        {"7A;\xc0\xbb", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[GROUPS_BUFSZ];
        tn_strlcpy(buf, cases[i].in, sizeof buf);
        tn_err e;
        tn_err_clear(&e);
        tn_code rc = model_check_groups(buf, "teaching_groups", &e);
        if (cases[i].out) {
            if (rc != TN_OK)
                fail_msg("\"%s\" rejected: %s", cases[i].in, e.msg);
            assert_string_equal(buf, cases[i].out);
        } else {
            if (rc != TN_EINVAL)
                fail_msg("\"%s\" accepted as \"%s\"", cases[i].in, buf);
            assert_string_equal(e.field, "teaching_groups");
            assert_string_equal(buf, cases[i].in);
        }
    }
    assert_int_equal(model_check_groups(NULL, "g", NULL), TN_OK);
    char big[GROUPS_BUFSZ + 10];
    memset(big, 'g', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(model_check_groups(big, "g", NULL), TN_EINVAL);
    big[GROUPS_BUFSZ - 1] = '\0';
    assert_int_equal(model_check_groups(big, "g", NULL), TN_OK);
}

static void valid_affiliation(affiliation *a)
{
    memset(a, 0, sizeof *a);
    tn_strlcpy(a->kind, "pupil", sizeof a->kind);
    tn_strlcpy(a->source, "pupils", sizeof a->source);
    tn_strlcpy(a->source_key, "P-2024-0042", sizeof a->source_key);
    tn_strlcpy(a->org_unit, "kasvatus/perusopetus/koulu1", sizeof a->org_unit);
    tn_strlcpy(a->school, "Yl\xc3\xa4kartanon koulu", sizeof a->school);
    tn_strlcpy(a->class_, "7A", sizeof a->class_);
    tn_strlcpy(a->teaching_groups, "7A;MA7;\xc3\x84I7", sizeof a->teaching_groups);
    a->valid_from = date_from_ymd(2024, 8, 8);
    a->valid_to = TN_DATE_NONE;
}

typedef void (*aff_mut)(affiliation *);

static void m_none(affiliation *a) { (void)a; }
static void m_to_same_day(affiliation *a) { a->valid_to = a->valid_from; }
static void m_to_later(affiliation *a) { a->valid_to = a->valid_from + 300; }
static void m_to_before(affiliation *a) { a->valid_to = a->valid_from - 1; }
static void m_no_from(affiliation *a) { a->valid_from = TN_DATE_NONE; }
static void m_kind_empty(affiliation *a) { a->kind[0] = '\0'; }
static void m_kind_upper(affiliation *a) { tn_strlcpy(a->kind, "Staff", sizeof a->kind); }
static void m_kind_custom(affiliation *a) { tn_strlcpy(a->kind, "board_member", sizeof a->kind); }
static void m_source_bad(affiliation *a) { tn_strlcpy(a->source, "h r", sizeof a->source); }
static void m_key_empty(affiliation *a) { a->source_key[0] = '\0'; }
static void m_key_space(affiliation *a) { tn_strlcpy(a->source_key, "42 ", sizeof a->source_key); }
static void m_unit_empty(affiliation *a) { a->org_unit[0] = '\0'; }
static void m_unit_bad(affiliation *a) { tn_strlcpy(a->org_unit, "a//b", sizeof a->org_unit); }
static void m_title_ctrl(affiliation *a) { tn_strlcpy(a->title, "Rehtori\n", sizeof a->title); }
static void m_title_ok(affiliation *a) { tn_strlcpy(a->title, "Lehtori (MA, FY)", sizeof a->title); }
static void m_school_long(affiliation *a)
{
    memset(a->school, 'k', TEXT_MAX_CHARS + 1);
    a->school[TEXT_MAX_CHARS + 1] = '\0';
}
static void m_class_space(affiliation *a) { tn_strlcpy(a->class_, "7 A", sizeof a->class_); }
static void m_class_nordic(affiliation *a) { tn_strlcpy(a->class_, "7\xc3\x84", sizeof a->class_); }
static void m_class_range(affiliation *a) { tn_strlcpy(a->class_, "1-2B", sizeof a->class_); }
static void m_class_empty(affiliation *a) { a->class_[0] = '\0'; }
static void m_class_semicolon(affiliation *a) { tn_strlcpy(a->class_, "7A;7B", sizeof a->class_); }
static void m_groups_empty_token(affiliation *a)
{
    tn_strlcpy(a->teaching_groups, "7A;;7B", sizeof a->teaching_groups);
}
static void m_programme_utf8(affiliation *a)
{
    tn_strlcpy(a->programme, "Tietotekniikka \xff", sizeof a->programme);
}
static void m_reason_ok(affiliation *a) { tn_strlcpy(a->end_reason, "graduated", sizeof a->end_reason); }
static void m_reason_bad(affiliation *a) { tn_strlcpy(a->end_reason, "Graduated!", sizeof a->end_reason); }
static void m_kind_unterminated(affiliation *a) { memset(a->kind, 'a', sizeof a->kind); }
static void m_title_unterminated(affiliation *a) { memset(a->title, 'a', sizeof a->title); }

static void test_affiliation_validate(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        aff_mut mut;
        const char *field; /* NULL = valid */
        const char *msg;
    } cases[] = {
        {"base", m_none, NULL, NULL},
        {"ends the day it starts", m_to_same_day, NULL, NULL},
        {"ends later", m_to_later, NULL, NULL},
        {"ends before it starts", m_to_before, "valid_to", "ends before it starts"},
        {"no start", m_no_from, "valid_from", "is required"},
        {"no kind", m_kind_empty, "kind", "is required"},
        {"kind upper case", m_kind_upper, "kind", NULL},
        {"kind not well-known", m_kind_custom, NULL, NULL},
        {"source with space", m_source_bad, "source", NULL},
        {"no source key", m_key_empty, "source_key", "is required"},
        {"source key space", m_key_space, "source_key", NULL},
        {"no org unit", m_unit_empty, NULL, NULL},
        {"bad org unit", m_unit_bad, "org_unit", NULL},
        {"title newline", m_title_ctrl, "title", "control"},
        {"title ok", m_title_ok, NULL, NULL},
        {"school too long", m_school_long, "school", "too long"},
        {"class with space", m_class_space, "class", NULL},
        {"class 7Ä", m_class_nordic, NULL, NULL},
        {"class 1-2B", m_class_range, NULL, NULL},
        {"no class", m_class_empty, NULL, NULL},
        {"class with ;", m_class_semicolon, "class", NULL},
        {"empty group", m_groups_empty_token, "teaching_groups", NULL},
        {"programme bad UTF-8", m_programme_utf8, "programme", "UTF-8"},
        {"end reason", m_reason_ok, NULL, NULL},
        {"bad end reason", m_reason_bad, "end_reason", NULL},
        {"kind unterminated", m_kind_unterminated, "kind", "too long"},
        {"title unterminated", m_title_unterminated, "title", "too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        affiliation a;
        valid_affiliation(&a);
        cases[i].mut(&a);
        tn_err e;
        tn_err_clear(&e);
        tn_code rc = affiliation_validate(&a, &e);
        if (!cases[i].field) {
            if (rc != TN_OK)
                fail_msg("%s: rejected: %s: %s", cases[i].name, e.field, e.msg);
            continue;
        }
        if (rc != TN_EINVAL)
            fail_msg("%s: accepted", cases[i].name);
        if (strcmp(e.field, cases[i].field) != 0)
            fail_msg("%s: field \"%s\", expected \"%s\"", cases[i].name, e.field,
                     cases[i].field);
        if (cases[i].msg && !strstr(e.msg, cases[i].msg))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].name, e.msg, cases[i].msg);
    }
    assert_int_equal(affiliation_validate(NULL, NULL), TN_EINTERNAL);
}

static void test_kind_known(void **state)
{
    (void)state;
    static const char *const known[] = {
        "staff", "student", "pupil", "elected_official", "partner", "visitor",
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        assert_true(affiliation_kind_known(known[i]));
    static const char *const unknown[] = {"", "Staff", "staf", "staff ", "guest", "employee"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_false(affiliation_kind_known(unknown[i]));
    assert_false(affiliation_kind_known(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_person_states),
        cmocka_unit_test(test_account_states),
        cmocka_unit_test(test_check_token),
        cmocka_unit_test(test_check_source_key),
        cmocka_unit_test(test_check_unit_code),
        cmocka_unit_test(test_check_groups),
        cmocka_unit_test(test_affiliation_validate),
        cmocka_unit_test(test_kind_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
