/* Unit tests: provisioning targets in the configuration and the entry a
 * target should hold (src/prov/prov_entry.c, src/conf). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "conf.h"
#include "prov.h"

static const char *CONF_TEXT =
    "[registry]\ndb = /tmp/r.db\n"
    "[target dir]\ntype = ldap\nurl = ldap://127.0.0.1:1389\nbase = ou=people,dc=x\n"
    "group_base = ou=groups,dc=x\nkinds = staff, teacher\nunits = city/school\n"
    "map.cn = {display_name}\nmap.sn = {family_name}\nmap.employeeType = {kinds}\n"
    "map.seeAlso = uid={handover_uid},ou=people,dc=x\n"
    "[target cards]\ntype = file\ndir = /tmp\nformat = json\nmap.id = {number}\n"
    "on_close = delete\nmax_attempts = 3\n";

static void load(conf *c)
{
    tn_err e;
    conf_defaults(c);
    assert_int_equal(conf_load_string(c, CONF_TEXT, "t.conf", &e), TN_OK);
    assert_int_equal(conf_finish(c, &e), TN_OK);
}

static void conf_targets(void **state)
{
    (void)state;
    static conf c;
    load(&c);
    assert_int_equal(c.ntargets, 2);
    const conf_target *t = conf_target_find(&c, "dir");
    assert_non_null(t);
    assert_string_equal(t->type, "ldap");
    assert_string_equal(t->rdn_attr, "uid");
    assert_string_equal(t->on_close, "disable");
    assert_string_equal(t->disable_attr, "pwdAccountLockedTime");
    assert_int_equal(t->nmap, 4);
    assert_string_equal(t->map[3].attr, "seeAlso");
    t = conf_target_find(&c, "cards");
    assert_int_equal(t->max_attempts, 3);
    assert_int_equal(t->backoff, 2);
    assert_null(conf_target_find(&c, "nope"));
}

static void conf_target_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *field;
    } bad[] = {
        {"[target a]\ntype = ldap\nbogus = 1\n", "bogus"},
        {"[target a]\ntype = ldap\nurl = x\nurl = y\n", "url"},
        {"[target a]\nmax_attempts = 0\n", "max_attempts"},
        {"[target A!]\ntype = file\n", "type"},
        {"[target a]\ntype = ftp\nmap.x = {uid}\n", "type"},
        {"[target a]\ntype = ldap\nmap.cn = {uid}\n", "url"},
        {"[target a]\ntype = file\ndir = /tmp\n", "map"},
        {"[target a]\ntype = file\ndir = /tmp\nmap.x = {uid}\non_close = burn\n", "on_close"},
        {"[target a]\ntype = file\ndir = /tmp\nmap.x = 1\nmap.X = 2\n", "map.X"},
        /* Group families: kinds, units (or none alone), each once; ldap
         * and scim only; an ldap target needs group_base for any. */
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\ngroups = teams\n",
         "groups"},
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\n"
         "groups = kinds, tgroups\n", "groups"},
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\n"
         "groups = classes, classes\n", "groups"},
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\n"
         "groups = units,kinds, units\n", "groups"},
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\n"
         "groups = none, units\n", "groups"},
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\ngroups = ,\n",
         "groups"},
        {"[target a]\ntype = ldap\nurl = ldap://x\nbase = dc=x\nmap.cn = {uid}\n"
         "groups = units\n", "groups"},
        {"[target a]\ntype = file\ndir = /tmp\nmap.x = {uid}\ngroups = kinds\n", "groups"},
        {"[target a]\ntype = ldap\nurl = ldap://x\nbase = dc=x\ngroup_base = dc=g\n"
         "map.cn = {uid}\ngroup_prefix = tn-\n", "group_prefix"},
        {"[target a]\ntype = ldap\nurl = ldap://x\nbase = dc=x\nmap.cn = {uid}\n"
         "groups = kinds\n", "groups"},
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\n"
         "group_prefix = tn-\n", "group_prefix"},
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\ngroups = none\n"
         "group_prefix = tn-\n", "group_prefix"},
        {"[target a]\ntype = scim\nurl = http://x\nmap.userName = {uid}\ngroups = kinds\n"
         "groups = kinds\n", "groups"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        static conf c;
        tn_err e;
        tn_err_clear(&e);
        conf_defaults(&c);
        tn_code rc = conf_load_string(&c, bad[i].text, "t.conf", &e);
        if (rc == TN_OK)
            rc = conf_finish(&c, &e);
        assert_int_equal(rc, TN_EINVAL);
        assert_string_equal(e.field, bad[i].field);
    }
}

static affiliation aff(const char *kind, const char *unit, tn_date from, tn_date to)
{
    affiliation a;
    memset(&a, 0, sizeof a);
    strcpy(a.kind, kind);
    strcpy(a.org_unit, unit);
    a.valid_from = from;
    a.valid_to = to;
    return a;
}

static void subject(svc_prov_subject *x, affiliation *affs, size_t n)
{
    memset(x, 0, sizeof *x);
    strcpy(x->person_id, "0190aaaa-0000-7000-8000-000000000001");
    x->exists = true;
    x->p.number = 42;
    x->p.state = PSTATE_ACTIVE;
    strcpy(x->p.given_names, "Aino Maria");
    strcpy(x->p.family_name, "Virtanen");
    x->has_account = true;
    strcpy(x->acct.username, "aino.virtanen");
    x->acct.state = ASTATE_ACTIVE;
    x->affs = affs;
    x->naffs = n;
}

static size_t values(const prov_entry *en, const char *name, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < en->nattrs; i++)
        if (strcmp(en->attrs[i].name, name) == 0)
            out[n++] = en->attrs[i].value;
    return n;
}

static void entry_present_selected(void **state)
{
    (void)state;
    static conf c;
    load(&c);
    const conf_target *t = conf_target_find(&c, "dir");
    tn_date today;
    tn_err e;
    assert_int_equal(date_parse_iso("2025-01-01", &today, "d", &e), TN_OK);
    affiliation affs[3] = {aff("staff", "city/school/a", today - 10, TN_DATE_NONE),
                           aff("teacher", "city/school", today - 5, TN_DATE_NONE),
                           aff("staff", "city/hall", today - 5, TN_DATE_NONE)};
    svc_prov_subject x;
    subject(&x, affs, 3);
    static prov_entry en;
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_PRESENT);
    assert_string_equal(en.id, "uid=aino.virtanen,ou=people,dc=x");
    const char *v[8];
    assert_int_equal(values(&en, "cn", v), 1);
    assert_string_equal(v[0], "Aino Virtanen");
    /* Only the selected units' kinds; a value once. */
    assert_int_equal(values(&en, "employeeType", v), 2);
    assert_string_equal(v[0], "staff");
    assert_string_equal(v[1], "teacher");
    /* No handover: the attribute is left out, not sent empty. */
    assert_int_equal(values(&en, "seeAlso", v), 0);
    assert_int_equal(en.ngroups, 2);
    /* Outside the units: not for this target. */
    affiliation other[1] = {aff("staff", "city/hall", today - 5, TN_DATE_NONE)};
    subject(&x, other, 1);
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_SKIP);
    /* ... unless it holds one already: then it goes. */
    x.has_resource = true;
    strcpy(x.resource_id, "uid=aino.virtanen,ou=people,dc=x");
    strcpy(x.resource_state, "present");
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_ABSENT);
    assert_string_equal(en.id, x.resource_id);
}

static void entry_lifecycle(void **state)
{
    (void)state;
    static conf c;
    load(&c);
    const conf_target *t = conf_target_find(&c, "dir");
    tn_date today;
    tn_err e;
    assert_int_equal(date_parse_iso("2025-01-01", &today, "d", &e), TN_OK);
    affiliation affs[1] = {aff("staff", "city/school", today - 100, today - 20)};
    svc_prov_subject x;
    subject(&x, affs, 1);
    x.acct.state = ASTATE_CLOSED;
    x.p.state = PSTATE_CLOSED;
    static prov_entry en;
    /* Never created: closing creates nothing. */
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_SKIP);
    x.has_resource = true;
    strcpy(x.resource_id, "uid=aino.virtanen,ou=people,dc=x");
    strcpy(x.resource_state, "present");
    strcpy(x.handover_uid, "maija.esihenkilo");
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_DISABLED);
    const char *v[4];
    assert_int_equal(values(&en, "pwdAccountLockedTime", v), 1);
    assert_int_equal(values(&en, "seeAlso", v), 1);
    assert_string_equal(v[0], "uid=maija.esihenkilo,ou=people,dc=x");
    assert_int_equal(en.ngroups, 0);
    /* Purged: deleted. Erased (no person): deleted. */
    x.purged = true;
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_ABSENT);
    x.purged = false;
    x.exists = false;
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_ABSENT);
    /* on_close = delete (the file target) */
    const conf_target *f = conf_target_find(&c, "cards");
    x.exists = true;
    assert_int_equal(prov_entry_build(f, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_ABSENT);
}

static void templates(void **state)
{
    (void)state;
    affiliation affs[1] = {aff("staff", "city/school", 0, TN_DATE_NONE)};
    svc_prov_subject x;
    subject(&x, affs, 1);
    char out[128];
    bool bad;
    assert_true(prov_expand("{first_name}.{family_name}@x", &x, 1, out, sizeof out, &bad));
    assert_string_equal(out, "Aino.Virtanen@x");
    assert_false(prov_expand("{phone}", &x, 1, out, sizeof out, &bad));
    assert_false(bad);
    assert_false(prov_expand("{nope}", &x, 1, out, sizeof out, &bad));
    assert_true(bad);
    assert_false(prov_expand("{uid", &x, 1, out, sizeof out, &bad));
    assert_true(bad);
    /* The RDN value is escaped in the DN (RFC 4514). */
    static conf c;
    load(&c);
    strcpy(x.acct.username, "a,b+c");
    static prov_entry en;
    tn_err e;
    assert_int_equal(prov_entry_build(conf_target_find(&c, "dir"), &x, 1, &en, &e), TN_OK);
    assert_string_equal(en.id, "uid=a\\,b\\+c,ou=people,dc=x");
}

/* A SCIM target's groups: [group_prefix]KIND per selected kind in force,
 * for an enabled user only (a disabled one leaves every group). */
static void entry_scim_groups(void **state)
{
    (void)state;
    static conf c;
    tn_err e;
    conf_defaults(&c);
    assert_int_equal(conf_load_string(&c,
                                      "[target cloud]\ntype = scim\nurl = http://127.0.0.1:1/v2\n"
                                      "kinds = staff, student, teacher\ngroups = kinds\n"
                                      "group_prefix = tn-\nmap.userName = {uid}\n"
                                      "[target plain]\ntype = scim\nurl = http://127.0.0.1:1/v2\n"
                                      "map.userName = {uid}\ngroups = none\n",
                                      "t.conf", &e),
                     TN_OK);
    assert_int_equal(conf_finish(&c, &e), TN_OK);
    const conf_target *t = conf_target_find(&c, "cloud");
    assert_string_equal(t->groups, "kinds");
    assert_string_equal(t->group_prefix, "tn-");
    assert_string_equal(conf_target_find(&c, "plain")->groups, "");
    tn_date today;
    assert_int_equal(date_parse_iso("2025-01-01", &today, "d", &e), TN_OK);
    affiliation affs[5] = {aff("staff", "a", today - 10, TN_DATE_NONE),
                           aff("student", "b", today - 10, today - 1), /* ended */
                           aff("teacher", "c", today - 5, TN_DATE_NONE),
                           aff("staff", "d", today - 5, TN_DATE_NONE),  /* a kind once */
                           aff("guest", "e", today - 5, TN_DATE_NONE)}; /* not selected */
    svc_prov_subject x;
    subject(&x, affs, 5);
    static prov_entry en;
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_PRESENT);
    assert_string_equal(en.id, "aino.virtanen");
    assert_int_equal(en.ngroups, 2);
    assert_string_equal(en.groups[0], "tn-staff");
    assert_string_equal(en.groups[1], "tn-teacher");
    /* groups = none: no groups at all. */
    assert_int_equal(prov_entry_build(conf_target_find(&c, "plain"), &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_PRESENT);
    assert_int_equal(en.ngroups, 0);
    /* Closed (on_close = disable): the user stays, in no group. */
    x.acct.state = ASTATE_CLOSED;
    x.has_resource = true;
    strcpy(x.resource_id, "3f0c");
    strcpy(x.resource_state, "present");
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_DISABLED);
    assert_int_equal(en.ngroups, 0);
    /* Purged: deleted, in no group. */
    x.purged = true;
    assert_int_equal(prov_entry_build(t, &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_ABSENT);
    assert_int_equal(en.ngroups, 0);
}

/* groups = …: the families in canonical order; the LDAP default (kinds
 * with a group_base) kept; none alone turns groups off. */
static void conf_group_families(void **state)
{
    (void)state;
    static conf c;
    tn_err e;
    conf_defaults(&c);
    assert_int_equal(conf_load_string(&c,
                                      "[target l1]\ntype = ldap\nurl = ldap://x\nbase = dc=x\n"
                                      "group_base = ou=g,dc=x\nmap.cn = {uid}\n"
                                      "[target l2]\ntype = ldap\nurl = ldap://x\nbase = dc=x\n"
                                      "group_base = ou=g,dc=x\nmap.cn = {uid}\n"
                                      "groups = units , kinds\n"
                                      "[target l3]\ntype = ldap\nurl = ldap://x\nbase = dc=x\n"
                                      "group_base = ou=g,dc=x\nmap.cn = {uid}\ngroups = none\n"
                                      "[target l4]\ntype = ldap\nurl = ldap://x\nbase = dc=x\n"
                                      "map.cn = {uid}\n"
                                      "[target s1]\ntype = scim\nurl = http://x\n"
                                      "map.userName = {uid}\ngroups = units\n"
                                      "[target s2]\ntype = scim\nurl = http://x\n"
                                      "map.userName = {uid}\n"
                                      "[target s3]\ntype = scim\nurl = http://x\n"
                                      "map.userName = {uid}\ngroups = classes,schools , kinds\n",
                                      "t.conf", &e),
                     TN_OK);
    assert_int_equal(conf_finish(&c, &e), TN_OK);
    static const struct {
        const char *name, *groups;
        bool kinds, units;
    } want[] = {{"l1", "kinds", true, false}, {"l2", "kinds,units", true, true},
                {"l3", "", false, false},     {"l4", "", false, false},
                {"s1", "units", false, true}, {"s2", "", false, false},
                {"s3", "kinds,schools,classes", true, false}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const conf_target *t = conf_target_find(&c, want[i].name);
        assert_non_null(t);
        assert_string_equal(t->groups, want[i].groups);
        assert_int_equal(t->group_kinds, want[i].kinds);
        assert_int_equal(t->group_units, want[i].units);
    }
    assert_true(conf_target_find(&c, "s3")->group_schools);
    assert_true(conf_target_find(&c, "s3")->group_classes);
    assert_false(conf_target_find(&c, "l2")->group_schools);
    assert_false(conf_target_find(&c, "l2")->group_classes);
}

/* A group's name: the prefix and the name, never shortened; the LDAP DN
 * escapes it (RFC 4514). */
static void group_names(void **state)
{
    (void)state;
    char out[PROV_GROUP_NAME_MAX], dn[PROV_GROUP_NAME_MAX * 2];
    assert_true(prov_group_name("", "unit-sivistys-perusopetus", out, sizeof out));
    assert_string_equal(out, "unit-sivistys-perusopetus");
    assert_true(prov_group_name("tn-", "staff", out, sizeof out));
    assert_string_equal(out, "tn-staff");
    assert_true(prov_dn_escape("tn-unit-A, B+C", dn, sizeof dn));
    assert_string_equal(dn, "tn-unit-A\\, B\\+C");
    assert_true(prov_dn_escape("# a=b;<c>\\ \"", dn, sizeof dn));
    assert_string_equal(dn, "\\# a\\=b\\;\\<c\\>\\\\ \\\"");
    assert_true(prov_dn_escape("x ", dn, sizeof dn));
    assert_string_equal(dn, "x\\ ");
    /* The longest name: a 63-byte prefix and the longest unit cn
     * ("unit-", a 256-byte slug, "-" and a gidNumber). */
    char prefix[64], cn[5 + 256 + 11 + 1];
    memset(prefix, 'p', 63);
    prefix[63] = '\0';
    memcpy(cn, "unit-", 5);
    memset(cn + 5, 'c', 256);
    memcpy(cn + 261, "-1000000007", 12);
    assert_true(prov_group_name(prefix, cn, out, sizeof out));
    assert_int_equal(strlen(out), 63 + 5 + 256 + 11);
    /* Too small: false, never a shorter name. */
    char small[8];
    assert_false(prov_group_name("", "unit-sivistys", small, sizeof small));
    assert_false(prov_dn_escape("a,b,c,d", small, sizeof small));
    assert_string_equal(small, "");
}

/* groups = kinds,units: a group per kind and per (own) unit of the
 * selected affiliations in force, each once; not the parent units. */
static void entry_unit_groups(void **state)
{
    (void)state;
    static conf c;
    tn_err e;
    conf_defaults(&c);
    assert_int_equal(conf_load_string(&c,
                                      "[target dir]\ntype = ldap\nurl = ldap://x\nbase = dc=x\n"
                                      "group_base = ou=g,dc=x\nmap.cn = {uid}\n"
                                      "groups = kinds,units\nunits = city\n"
                                      "[target cloud]\ntype = scim\nurl = http://x\n"
                                      "map.userName = {uid}\ngroups = units\ngroup_prefix = tn-\n",
                                      "t.conf", &e),
                     TN_OK);
    assert_int_equal(conf_finish(&c, &e), TN_OK);
    tn_date today;
    assert_int_equal(date_parse_iso("2025-01-01", &today, "d", &e), TN_OK);
    affiliation affs[5] = {aff("staff", "city/school/a", today - 10, TN_DATE_NONE),
                           aff("teacher", "city/school", today - 5, TN_DATE_NONE),
                           aff("staff", "city/school/a", today - 5, TN_DATE_NONE), /* once */
                           aff("teacher", "city/hall", today - 50, today - 1),    /* ended */
                           aff("staff", "", today - 5, TN_DATE_NONE)}; /* no unit: kind only */
    /* The units' group cns as the directory has them (the service reads
     * them from dir_group). */
    char cns[5][DIR_GROUP_VAL_MAX] = {"unit-city-school-a", "unit-city-school",
                                      "unit-city-school-a", "unit-city-hall", ""};
    svc_prov_subject x;
    subject(&x, affs, 5);
    x.unit_cns = cns;
    static prov_entry en;
    assert_int_equal(prov_entry_build(conf_target_find(&c, "dir"), &x, today, &en, &e), TN_OK);
    assert_int_equal(en.want, PROV_PRESENT);
    /* The last affiliation has no unit, so is outside units = city. */
    assert_int_equal(en.ngroups, 4);
    assert_string_equal(en.groups[0], "staff");
    assert_string_equal(en.groups[1], "unit-city-school-a");
    assert_string_equal(en.groups[2], "teacher");
    assert_string_equal(en.groups[3], "unit-city-school");
    assert_int_equal(prov_entry_build(conf_target_find(&c, "cloud"), &x, today, &en, &e), TN_OK);
    assert_int_equal(en.ngroups, 2);
    assert_string_equal(en.groups[0], "tn-unit-city-school-a");
    assert_string_equal(en.groups[1], "tn-unit-city-school");
    /* A unit whose directory group is not known: refused, not left out. */
    cns[1][0] = '\0';
    tn_err_clear(&e);
    assert_int_equal(prov_entry_build(conf_target_find(&c, "cloud"), &x, today, &en, &e),
                     TN_EINVAL);
    assert_string_equal(e.field, "groups");
    /* schools, classes: the directory's school and class groups; a
     * class needs its school. */
    static conf c2;
    conf_defaults(&c2);
    assert_int_equal(conf_load_string(&c2,
                                      "[target edu]\ntype = scim\nurl = http://x\n"
                                      "map.userName = {uid}\ngroups = schools, classes\n",
                                      "t.conf", &e),
                     TN_OK);
    assert_int_equal(conf_finish(&c2, &e), TN_OK);
    affiliation pupil[3] = {aff("pupil", "", today - 5, TN_DATE_NONE),
                            aff("pupil", "", today - 5, TN_DATE_NONE),
                            aff("pupil", "", today - 5, TN_DATE_NONE)};
    strcpy(pupil[0].school, "Ylikylän koulu");
    strcpy(pupil[0].class_, "7A");
    strcpy(pupil[1].school, "Alakylän koulu"); /* no class: the school only */
    strcpy(pupil[2].class_, "9B");               /* no school: no class group */
    char school_cns[3][DIR_GROUP_VAL_MAX] = {"school-ylikylän-koulu", "school-alakylän-koulu",
                                             ""};
    char class_cns[3][DIR_GROUP_VAL_MAX] = {"class-ylikylän-koulu-7a", "", ""};
    subject(&x, pupil, 3);
    x.school_cns = school_cns;
    x.class_cns = class_cns;
    assert_int_equal(prov_entry_build(conf_target_find(&c2, "edu"), &x, today, &en, &e), TN_OK);
    assert_int_equal(en.ngroups, 3);
    assert_string_equal(en.groups[0], "school-ylikylän-koulu");
    assert_string_equal(en.groups[1], "class-ylikylän-koulu-7a");
    assert_string_equal(en.groups[2], "school-alakylän-koulu");
    /* Two kinds and N - 2 units: exactly as many groups as an entry
     * holds; one unit more is an error, not a shorter list. */
    enum { N = PROV_GROUPS_MAX - 1 };
    static affiliation many[N];
    static char many_cns[N][DIR_GROUP_VAL_MAX];
    for (size_t i = 0; i < N; i++) {
        char unit[32];
        snprintf(unit, sizeof unit, "city/u%zu", i);
        many[i] = aff(i % 2 ? "staff" : "teacher", unit, today - 1, TN_DATE_NONE);
        snprintf(many_cns[i], sizeof many_cns[i], "unit-city-u%zu", i);
    }
    subject(&x, many, N - 1);
    x.unit_cns = many_cns;
    assert_int_equal(prov_entry_build(conf_target_find(&c, "dir"), &x, today, &en, &e), TN_OK);
    assert_int_equal(en.ngroups, PROV_GROUPS_MAX);
    subject(&x, many, N);
    x.unit_cns = many_cns;
    tn_err_clear(&e);
    assert_int_equal(prov_entry_build(conf_target_find(&c, "dir"), &x, today, &en, &e),
                     TN_EINVAL);
    assert_string_equal(e.field, "groups");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conf_targets),
        cmocka_unit_test(conf_target_errors),
        cmocka_unit_test(conf_group_families),
        cmocka_unit_test(group_names),
        cmocka_unit_test(entry_unit_groups),
        cmocka_unit_test(entry_present_selected),
        cmocka_unit_test(entry_lifecycle),
        cmocka_unit_test(templates),
        cmocka_unit_test(entry_scim_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
