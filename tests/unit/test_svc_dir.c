/* Unit tests: the directory use cases (svc_dir.c) over a real registry:
 * who may search, which accounts are visible, binds, lockout and their
 * audit, the uid-indexed path against the scan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service.h"
#include "date.h"
#include "svc_dir.h"

typedef struct fixture {
    char dir[64];
    conf c;
    svc *s;
    svc_actor admin;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tunnus-dir-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    conf_defaults(&f->c);
    snprintf(f->c.db, sizeof f->c.db, "%s/r.db", f->dir);
    f->c.ldap_bind_max_failures = 2;
    tn_err e;
    if (conf_finish(&f->c, &e) != TN_OK || svc_init_registry(&f->c, &e) != TN_OK ||
        svc_open(&f->c, &f->s, &e) != TN_OK)
        return -1;
    svc_actor_local(&f->admin, SVC_CH_CLI);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    svc_close(f->s);
    char path[128];
    const char *files[] = {"r.db",       "r.db.key",       "r.db-wal",      "r.db-shm",
                           "r.db.reads", "r.db.reads-wal", "r.db.reads-shm"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void enrol(fixture *f, const char *given, const char *uid)
{
    svc_enrol_input in = {.person = {.given_names = given, .family_name = "Laine",
                                     .birth_date = "1990-01-01"},
                          .account = true, .username = uid};
    svc_enrolled out;
    tn_err e;
    if (svc_person_enrol(f->s, &f->admin, &in, &out, &e) != TN_OK)
        fail_msg("enrol: %s", e.msg);
}

static int count_cb(const dir_entry *d, void *ctx)
{
    (void)d;
    ++*(int *)ctx;
    return 0;
}

static int count_group(const dir_group *g, void *ctx)
{
    (void)g;
    ++*(int *)ctx;
    return 0;
}

static void access_and_visibility(void **state)
{
    fixture *f = *state;
    enrol(f, "Aino", "aino");
    enrol(f, "Eino", "eino");
    tn_err e;
    svc_actor anon;
    svc_dir_actor_anonymous(&anon, "127.0.0.1");
    assert_int_equal(svc_dir_may_search(f->s, &anon, &e), TN_EDENIED);
    svc_dir_query q = {NULL, NULL, NULL, "uid", false};
    int n = 0;
    bool capped;
    assert_int_equal(svc_dir_search(f->s, &anon, &q, count_cb, &n, &capped, &e), TN_EDENIED);

    /* An API client is not an LDAP client: still nothing. */
    svc_actor api = anon;
    api.channel = SVC_CH_API;
    snprintf(api.id, sizeof api.id, "some-app");
    assert_int_equal(svc_dir_may_search(f->s, &api, &e), TN_EDENIED);

    assert_int_equal(svc_account_set_password(f->s, &f->admin, "aino", "salasana", &e), TN_OK);
    svc_actor me;
    assert_int_equal(svc_dir_bind(f->s, "127.0.0.1", "aino", "salasana", &me, &e), TN_OK);
    assert_int_equal(me.kind, SVC_ACTOR_PERSON);
    assert_int_equal(svc_dir_search(f->s, &me, &q, count_cb, &n, &capped, &e), TN_OK);
    assert_int_equal(n, 2);
    assert_false(capped);
    /* By uid: one lookup, and a uid that does not exist is no error. */
    n = 0;
    q.uid = "eino";
    assert_int_equal(svc_dir_search(f->s, &me, &q, count_cb, &n, &capped, &e), TN_OK);
    assert_int_equal(n, 1);
    q.uid = "ghost";
    assert_int_equal(svc_dir_search(f->s, &me, &q, count_cb, &n, &capped, &e), TN_OK);
    assert_int_equal(n, 1);
    dir_entry d;
    assert_int_equal(svc_dir_get(f->s, &me, "eino", "cn", &d, &e), TN_OK);
    assert_string_equal(d.username, "eino");
    assert_true(d.uid_number >= 10000);

    /* The scan cap. */
    svc_close(f->s);
    f->c.ldap_scan_limit = 1;
    assert_int_equal(svc_open(&f->c, &f->s, &e), TN_OK);
    n = 0;
    q.uid = NULL;
    assert_int_equal(svc_dir_search(f->s, &me, &q, count_cb, &n, &capped, &e), TN_OK);
    assert_true(capped);
    assert_int_equal(n, 1);

    /* Anonymous search when configured. */
    svc_close(f->s);
    f->c.ldap_anonymous_search = true;
    assert_int_equal(svc_open(&f->c, &f->s, &e), TN_OK);
    assert_int_equal(svc_dir_may_search(f->s, &anon, &e), TN_OK);
}

static void binds_and_lockout(void **state)
{
    fixture *f = *state;
    enrol(f, "Aino", "aino");
    tn_err e;
    svc_actor who;
    /* No password yet: refused. */
    assert_int_equal(svc_dir_bind(f->s, "x", "aino", "x", &who, &e), TN_EDENIED);
    assert_int_equal(svc_account_set_password(f->s, &f->admin, "aino", "oikea", &e), TN_OK);
    assert_int_equal(svc_dir_bind(f->s, "x", "aino", "oikea", &who, &e), TN_OK);
    assert_int_equal(svc_dir_bind(f->s, "x", "aino", "väärä", &who, &e), TN_EDENIED);
    assert_string_equal(e.msg, "invalid credentials");
    assert_int_equal(svc_dir_bind(f->s, "x", "aino", "väärä", &who, &e), TN_EDENIED);
    /* Two failures: locked, the right password fails too. */
    assert_int_equal(svc_dir_bind(f->s, "x", "aino", "oikea", &who, &e), TN_EDENIED);
    assert_int_equal(svc_dir_bind(f->s, "x", "nobody", "x", &who, &e), TN_EDENIED);
    /* Hashes made elsewhere: only the known forms. */
    assert_int_equal(svc_account_set_password_hash(f->s, &f->admin, "aino", "{MD5}x", &e),
                     TN_EINVAL);
    assert_int_equal(svc_account_set_password_hash(f->s, &f->admin, "aino", "{SSHA}a b", &e),
                     TN_EINVAL);
    /* A person may not set someone's password. */
    svc_actor self = who;
    self.kind = SVC_ACTOR_PERSON;
    snprintf(self.id, sizeof self.id, "someone-else");
    assert_int_equal(svc_account_set_password(f->s, &self, "aino", "x", &e), TN_EDENIED);
}

/* ou=groups: members follow the affiliations in force on the service's
 * today; gidNumbers are allocated once and stay; reads need access. */
static void groups_follow_affiliations(void **state)
{
    fixture *f = *state;
    tn_err e;
    org_unit u;
    assert_int_equal(svc_unit_add(f->s, &f->admin, "HR", "Henkilöstö", NULL, &u, &e), TN_OK);
    svc_aff_input aff = {.kind = "staff", .org_unit = "HR", .school = "Koulu A", .class_ = "1A",
                         .teaching_groups = "1A-MA;1A-BI", .valid_from = "2020-01-01"};
    svc_enrol_input in = {.person = {.given_names = "Aino", .family_name = "Laine",
                                     .birth_date = "1990-01-01"},
                          .affiliation = &aff, .account = true, .username = "aino"};
    svc_enrolled aino;
    assert_int_equal(svc_person_enrol(f->s, &f->admin, &in, &aino, &e), TN_OK);
    svc_aff_input aff2 = {.kind = "staff", .valid_from = "2020-01-01"};
    in.person.given_names = "Eino";
    in.affiliation = &aff2;
    in.username = "eino";
    svc_enrolled eino;
    assert_int_equal(svc_person_enrol(f->s, &f->admin, &in, &eino, &e), TN_OK);
    tn_date today;
    assert_int_equal(date_parse_iso("2024-06-01", &today, "d", &e), TN_OK);
    svc_set_today(f->s, today);

    dir_group g;
    assert_int_equal(svc_dir_group_get(f->s, &f->admin, "staff", "*", &g, &e), TN_OK);
    int64_t staff_gid = g.gid_number;
    assert_true(staff_gid >= 1000000000);
    assert_int_equal(g.nmembers, 2);
    assert_string_equal(g.members, "aino");
    assert_string_equal(g.members + 5, "eino");
    svc_dir_group_free(&g);
    assert_int_equal(svc_dir_group_get(f->s, &f->admin, "tgroup-koulu-a-1a-bi", "*", &g, &e),
                     TN_OK);
    assert_int_equal(g.nmembers, 1);
    svc_dir_group_free(&g);

    dir_entry d;
    assert_int_equal(svc_dir_get(f->s, &f->admin, "aino", "memberOf", &d, &e), TN_OK);
    assert_int_equal(svc_dir_member_of(f->s, &f->admin, &d, &e), TN_OK);
    assert_string_equal(d.groups, "class-koulu-a-1a\x1eschool-koulu-a\x1estaff\x1e"
                                  "tgroup-koulu-a-1a-bi\x1etgroup-koulu-a-1a-ma\x1eunit-hr");

    /* Aino leaves: out of every group; the unit group has no member and
     * is gone, its number kept. */
    char sel[32];
    snprintf(sel, sizeof sel, "%lld", (long long)aino.affiliation.id);
    affiliation ended;
    assert_int_equal(svc_aff_end(f->s, &f->admin, sel, "2024-01-31", "resigned", &ended, &e),
                     TN_OK);
    assert_int_equal(svc_dir_group_get(f->s, &f->admin, "staff", "*", &g, &e), TN_OK);
    assert_int_equal(g.gid_number, staff_gid);
    assert_int_equal(g.nmembers, 1);
    assert_string_equal(g.members, "eino");
    svc_dir_group_free(&g);
    assert_int_equal(svc_dir_group_get(f->s, &f->admin, "unit-hr", "*", &g, &e), TN_ENOTFOUND);
    assert_int_equal(svc_dir_get(f->s, &f->admin, "aino", "memberOf", &d, &e), TN_OK);
    assert_int_equal(svc_dir_member_of(f->s, &f->admin, &d, &e), TN_OK);
    assert_string_equal(d.groups, "");

    svc_dir_group_query q = {NULL, NULL, NULL, "cn"};
    bool capped, more;
    int n = 0;
    assert_int_equal(svc_dir_group_search(f->s, &f->admin, &q, 0, -1, count_group, &n, &capped,
                                          &more, &e),
                     TN_OK);
    assert_int_equal(n, 1);
    svc_actor anon;
    svc_dir_actor_anonymous(&anon, "127.0.0.1");
    assert_int_equal(svc_dir_group_search(f->s, &anon, &q, 0, -1, count_group, &n, &capped,
                                          &more, &e),
                     TN_EDENIED);
    assert_int_equal(svc_dir_group_get(f->s, &anon, "staff", "*", &g, &e), TN_EDENIED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(access_and_visibility, setup, teardown),
        cmocka_unit_test_setup_teardown(binds_and_lockout, setup, teardown),
        cmocka_unit_test_setup_teardown(groups_follow_affiliations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
