/* Unit tests: the access matrix (SEC-4). Every public service use case
 * (each `tn_code svc_…(svc *s, const svc_actor *a, …)` declared in
 * src/service's public headers) is called directly by every kind of actor
 * on an object that is the actor's own record, one in the unit_admin's
 * org-unit subtree, and one outside it (or once, for a use case without a
 * person). The expected outcome is written down here, independently of
 * the rule table in service.c: allowed means anything but TN_EDENIED and
 * no denial event; denied means TN_EDENIED and a denial event naming the
 * actor. A use case without rows here fails the test.
 *
 * Also: role grants with validity (AZ-4) give an actor their roles on the
 * days they are in force, and an LDAP bind carries them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service.h"
#include "store.h"
#include "svc_audit.h"
#include "svc_client.h"
#include "svc_dir.h"
#include "svc_prov.h"
#include "svc_lifecycle.h"
#include "svc_report.h"
#include "svc_role.h"

#ifndef TN_SRC_DIR
#error "TN_SRC_DIR must name the source tree (tests/meson.build)"
#endif

#define PASSWORD "Kissa-Koira-42"

/* Actors, in the column order of the expectation strings. */
enum {
    AC_ADMIN,      /* the local operator */
    AC_SYSTEM,     /* an internal job */
    AC_SELF,       /* a person without roles */
    AC_HELPDESK,   /* the same person with one role each … */
    AC_UNIT_ADMIN, /* scope city/north */
    AC_HR,
    AC_AUDITOR,
    AC_DPO,
    AC_RADMIN,     /* role admin */
    AC_ANON,       /* anonymous LDAP session (anonymous_search off) */
    AC_CLIENT,     /* an API client without roles */
    AC_N
};
static const char *const actor_names[AC_N] = {
    "admin", "system", "self", "helpdesk", "unit_admin", "hr_integration",
    "auditor", "dpo", "role-admin", "ldap-anonymous", "client",
};

/* Objects: the acting person's own record (in city/south, so outside the
 * unit_admin's scope), a person in city/north, a person in city/south. */
enum { OB_OWN, OB_IN, OB_OUT, OB_NONE, OB_N };
static const char *const object_names[OB_N] = {"own", "in scope", "out of scope", "-"};

typedef struct fx {
    char dir[64];
    conf c;
    svc *s;
    store *st2; /* reads the audit trail as an auditor would */
    int64_t seq;
    svc_actor ac[AC_N];
    char id[3][UUID_BUFSZ];
    char sel[3][48];
    char user[3][USERNAME_BUFSZ];
    int64_t number[3];
    int64_t report[3]; /* an open error report about each */
    int64_t grant;     /* a role grant to revoke */
    int64_t review;    /* a pending review queue entry */
} fx;

static tn_date day(int y, int m, int d)
{
    return date_from_ymd(y, m, d);
}

/* ---- fixture -------------------------------------------------------------- */

static void must(tn_code rc, const tn_err *e, const char *what)
{
    if (rc != TN_OK)
        fail_msg("%s: %s: %s", what, e->field, e->msg);
}

/* A valid national ID born on birth (ISO, 1900s) with an individual number
 * from the 900s, which the population register never assigns. Tests
 * never print it. */
static void make_nid(const char *birth, int serial, char out[HETU_BUFSZ])
{
    static const char check[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
    char dmy[7];
    snprintf(dmy, sizeof dmy, "%.2s%.2s%.2s", birth + 8, birth + 5, birth + 2);
    long n = atol(dmy) * 1000 + serial;
    snprintf(out, HETU_BUFSZ, "%s-%03d%c", dmy, serial, check[n % 31]);
}

static const char policy_text[] =
    "{\"name\": \"access test\", \"timezone\": \"Europe/Helsinki\", \"legal_hold_days\": 30, "
    "\"kinds\": {"
    "\"staff\": {\"activate_before_days\": 0, \"close_after_days\": 7, "
    "\"archive_after_days\": 30, \"purge_after_days\": 30}, "
    "\"student\": {\"activate_before_days\": 0, \"close_after_days\": 7, "
    "\"archive_after_days\": 30, \"purge_after_days\": 30}, "
    "\"guest\": {\"activate_before_days\": 0, \"close_after_days\": 0, "
    "\"archive_after_days\": 30, \"purge_after_days\": 30}}}";

static void add_person(fx *f, int i, const char *given, const char *family, const char *birth,
                       const char *unit)
{
    tn_err e;
    char nid[HETU_BUFSZ];
    make_nid(birth, 940 + i, nid);
    svc_aff_input aff = {.kind = "staff", .org_unit = unit, .valid_from = "2000-01-01"};
    svc_enrol_input in = {
        .person = {.given_names = given, .family_name = family, .national_id = nid},
        .affiliation = &aff,
        .account = true,
    };
    svc_enrolled out;
    must(svc_person_enrol(f->s, &f->ac[AC_ADMIN], &in, &out, &e), &e, "enrol");
    explicit_bzero(nid, sizeof nid);
    snprintf(f->id[i], sizeof f->id[i], "%s", out.person.id);
    snprintf(f->sel[i], sizeof f->sel[i], "id:%s", out.person.id);
    snprintf(f->user[i], sizeof f->user[i], "%s", out.account.username);
    f->number[i] = out.person.number;
    must(svc_account_set_password(f->s, &f->ac[AC_ADMIN], f->user[i], PASSWORD, &e), &e,
         "password");
    svc_error_report r;
    must(svc_error_report_file(f->s, &f->ac[AC_ADMIN], f->sel[i], "phone", "old number", &r, &e),
         &e, "error report");
    f->report[i] = r.id;
}

static int review_cb(const svc_review_entry *r, void *ctx)
{
    *(int64_t *)ctx = r->id;
    return 0;
}

static void person_actor(fx *f, svc_actor *a, uint32_t roles)
{
    memset(a, 0, sizeof *a);
    a->kind = SVC_ACTOR_PERSON;
    a->channel = SVC_CH_API;
    snprintf(a->id, sizeof a->id, "%s", f->id[OB_OWN]);
    snprintf(a->source, sizeof a->source, "127.0.0.1");
    a->roles = roles;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tunnus-access-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    conf_defaults(&f->c);
    snprintf(f->c.db, sizeof f->c.db, "%s/r.db", f->dir);
    tn_err e;
    if (conf_finish(&f->c, &e) != TN_OK || svc_init_registry(&f->c, &e) != TN_OK ||
        svc_open(&f->c, &f->s, &e) != TN_OK ||
        store_open(f->c.db, STORE_OPEN_EXISTING, &f->st2, &e) != TN_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    svc_set_today(f->s, day(2025, 6, 2));
    svc_actor *adm = &f->ac[AC_ADMIN];
    svc_actor_local(adm, SVC_CH_CLI);
    org_unit u;
    must(svc_unit_add(f->s, adm, "city", "City", NULL, &u, &e), &e, "unit");
    must(svc_unit_add(f->s, adm, "city/north", "North", "city", &u, &e), &e, "unit");
    must(svc_unit_add(f->s, adm, "city/south", "South", "city", &u, &e), &e, "unit");
    must(svc_unit_add(f->s, adm, "other", "Other", NULL, &u, &e), &e, "unit");
    add_person(f, OB_OWN, "Aktor", "Testinen", "1970-05-05", "city/south");
    add_person(f, OB_IN, "Ilona", "Sisänen", "1980-01-01", "city/north");
    add_person(f, OB_OUT, "Ulla", "Ulkonen", "1990-02-02", "city/south");
    int64_t version;
    must(svc_policy_apply(f->s, adm, policy_text, strlen(policy_text), &version, &e), &e,
         "policy");

    /* A row with Ilona's names and birth date but no national ID from
     * another source waits in the review queue. */
    static const char feed[] = "source_key,given_names,family_name,birth_date,valid_from\n"
                               "S1,Ilona,Sisänen,1980-01-01,2020-01-01\n";
    FILE *in = tmpfile();
    fputs(feed, in);
    rewind(in);
    svc_import_opts o = {.source = "sis", .kind = "student", .file_name = "sis.csv", .in = in,
                         .max_ended_pct = 100};
    svc_import_summary sum;
    must(svc_import(f->s, adm, &o, NULL, NULL, &sum, &e), &e, "import");
    fclose(in);
    assert_int_equal(sum.queued, 1);
    must(svc_review_list(f->s, adm, "pending", review_cb, &f->review, &e), &e, "review");
    assert_true(f->review > 0);

    svc_role_grant g;
    svc_role_grant_input gi = {.person = f->sel[OB_OUT], .role = "auditor"};
    must(svc_role_grant_add(f->s, adm, &gi, &g, &e), &e, "grant");
    f->grant = g.id;

    svc_actor *sys = &f->ac[AC_SYSTEM];
    memset(sys, 0, sizeof *sys);
    sys->kind = SVC_ACTOR_SYSTEM;
    sys->channel = SVC_CH_LIFECYCLE;
    snprintf(sys->id, sizeof sys->id, "lifecycle");
    person_actor(f, &f->ac[AC_SELF], 0);
    person_actor(f, &f->ac[AC_HELPDESK], SVC_ROLE_BIT(SVC_ROLE_HELPDESK));
    person_actor(f, &f->ac[AC_UNIT_ADMIN], SVC_ROLE_BIT(SVC_ROLE_UNIT_ADMIN));
    snprintf(f->ac[AC_UNIT_ADMIN].scope_unit, SVC_SCOPE_MAX, "city/north");
    person_actor(f, &f->ac[AC_HR], SVC_ROLE_BIT(SVC_ROLE_HR_INTEGRATION));
    person_actor(f, &f->ac[AC_AUDITOR], SVC_ROLE_BIT(SVC_ROLE_AUDITOR));
    person_actor(f, &f->ac[AC_DPO], SVC_ROLE_BIT(SVC_ROLE_DPO));
    person_actor(f, &f->ac[AC_RADMIN], SVC_ROLE_BIT(SVC_ROLE_ADMIN));
    svc_dir_actor_anonymous(&f->ac[AC_ANON], "127.0.0.1");
    svc_actor *cl = &f->ac[AC_CLIENT];
    memset(cl, 0, sizeof *cl);
    cl->kind = SVC_ACTOR_CLIENT;
    cl->channel = SVC_CH_API;
    snprintf(cl->id, sizeof cl->id, "client:plain");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->st2);
    svc_close(f->s);
    char path[128];
    const char *files[] = {"r.db", "r.db.key", "r.db-wal", "r.db-shm"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- the calls -------------------------------------------------------------- */

typedef tn_code (*call_fn)(fx *f, const svc_actor *a, int ob, tn_err *e);

static int no_person(const person *p, void *ctx)
{
    (void)p;
    (void)ctx;
    return 1;
}
static int no_dir(const dir_entry *d, void *ctx)
{
    (void)d;
    (void)ctx;
    return 1;
}
static int no_group(const dir_group *g, void *ctx)
{
    (void)g;
    (void)ctx;
    return 1;
}
static int no_event(const svc_audit_event *ev, void *ctx)
{
    (void)ev;
    (void)ctx;
    return 0;
}
static int no_source(const svc_source *x, void *ctx)
{
    (void)x;
    (void)ctx;
    return 0;
}
static int no_run(const svc_import_record *x, void *ctx)
{
    (void)x;
    (void)ctx;
    return 0;
}
static int no_review(const svc_review_entry *x, void *ctx)
{
    (void)x;
    (void)ctx;
    return 0;
}
static int no_row(const char *const *cols, size_t n, void *ctx)
{
    (void)cols;
    (void)n;
    (void)ctx;
    return 1;
}
static int no_grant(const svc_role_grant *g, void *ctx)
{
    (void)g;
    (void)ctx;
    return 0;
}
static int no_report(const svc_error_report *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}

static tn_code c_person_add(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)f;
    (void)ob;
    person_input in = {.given_names = "Uusi", .family_name = "Henkilö"};
    person p;
    return svc_person_add(f->s, a, &in, &p, e);
}

static tn_code c_person_enrol(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_enrol_input in = {.person = {.given_names = "Uusi", .family_name = "Oppilas"}};
    svc_enrolled out;
    return svc_person_enrol(f->s, a, &in, &out, e);
}

static tn_code c_person_show(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_person_view v;
    tn_code rc = svc_person_show(f->s, a, f->sel[ob], &v, e);
    if (rc == TN_OK)
        svc_person_view_free(&v);
    return rc;
}

/* Only self-editable attributes: the phone. */
static tn_code c_person_update(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    static int n;
    char phone[32];
    snprintf(phone, sizeof phone, "04012%05d", ++n);
    person_input in = {.phone = phone};
    person p;
    return svc_person_update(f->s, a, f->sel[ob], &in, &p, e);
}

/* A name is not self-editable: a write of any attribute. */
static tn_code c_person_update_name(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    static int n;
    person_input w = {.given_names = (++n % 2) ? "Anna" : "Berta"};
    person p;
    return svc_person_update(f->s, a, f->sel[ob], &w, &p, e);
}

static tn_code c_person_reveal_nid(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    char nid[HETU_BUFSZ];
    tn_code rc = svc_person_reveal_nid(f->s, a, f->sel[ob], nid, e);
    explicit_bzero(nid, sizeof nid);
    return rc;
}

/* own: no unit filter; in/out: filtered by a unit inside/outside scope. */
static tn_code c_person_list(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    static const char *const units[] = {NULL, "city/north", "city/south"};
    svc_person_query q = {.org_unit = units[ob]};
    return svc_person_list(f->s, a, &q, no_person, NULL, e);
}

static tn_code c_aff_add(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_aff_input in = {.kind = "guest", .org_unit = "other", .valid_from = "2024-01-01"};
    affiliation out;
    return svc_aff_add(f->s, a, f->sel[ob], &in, &out, e);
}

/* Ends a throwaway affiliation in unit "other", added by the operator. */
static tn_code c_aff_end(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_aff_input in = {.kind = "guest", .org_unit = "other", .valid_from = "2024-01-01"};
    affiliation af;
    tn_err ignored;
    if (svc_aff_add(f->s, &f->ac[AC_ADMIN], f->sel[ob], &in, &af, &ignored) != TN_OK)
        fail_msg("aff_end setup: %s", ignored.msg);
    char sel[32];
    snprintf(sel, sizeof sel, "%lld", (long long)af.id);
    return svc_aff_end(f->s, a, sel, "2025-06-01", "contract_end", &af, e);
}

static tn_code c_account_create(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    account out;
    return svc_account_create(f->s, a, f->sel[ob], NULL, &out, e);
}

static tn_code c_account_show(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    account out;
    return svc_account_show(f->s, a, f->user[ob], &out, e);
}

static tn_code c_username_reservation(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    char id[UUID_BUFSZ];
    tn_code rc = svc_username_reservation(f->s, a, f->user[ob], id, e);
    if (rc == TN_OK && strcmp(id, f->id[ob]) != 0)
        fail_msg("username %s reserved for %s, not %s", f->user[ob], id, f->id[ob]);
    return rc;
}

static tn_code c_unit_add(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    static int n;
    char code[32];
    snprintf(code, sizeof code, "new%d", ++n);
    org_unit u;
    return svc_unit_add(f->s, a, code, "New", NULL, &u, e);
}

static tn_code c_unit_ensure_path(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_unit_ensure_path(f->s, a, "city/north/room", e);
}

static tn_code c_unit_list(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    org_unit *u = NULL;
    size_t n = 0;
    tn_code rc = svc_unit_list(f->s, a, &u, &n, e);
    free(u);
    return rc;
}

static tn_code c_import(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    FILE *in = tmpfile();
    fputs("source_key,given_names,family_name,valid_from\n", in);
    rewind(in);
    svc_import_opts o = {.source = "hr", .kind = "staff", .file_name = "hr.csv", .in = in,
                         .max_ended_pct = 100};
    svc_import_summary sum;
    tn_code rc = svc_import(f->s, a, &o, NULL, NULL, &sum, e);
    fclose(in);
    return rc;
}

static tn_code c_import_runs(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_import_runs(f->s, a, 0, no_run, NULL, e);
}

static tn_code c_review_list(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_review_list(f->s, a, NULL, no_review, NULL, e);
}

static tn_code c_review_decide(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    person p;
    return svc_review_decide(f->s, a, f->review, true, &p, e);
}

static tn_code c_source_add(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_source src = {.name = "hr", .kind = "staff", .precedence = -1};
    return svc_source_add(f->s, a, &src, e);
}

static tn_code c_source_list(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_source_list(f->s, a, no_source, NULL, e);
}

static tn_code c_audit_verify(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_audit_check c;
    return svc_audit_verify(f->s, a, &c, e);
}

static tn_code c_audit_subject(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    return svc_audit_subject(f->s, a, f->sel[ob], 0, 0, no_event, NULL, e);
}

static tn_code c_audit_index(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    int64_t n;
    return svc_audit_index(f->s, a, &n, e);
}

static tn_code c_audit_checkpoint(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    int64_t seq;
    return svc_audit_checkpoint(f->s, a, &seq, e);
}

static tn_code c_audit_prune(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_audit_prune_result r;
    return svc_audit_prune(f->s, a, day(1990, 1, 1), &r, e);
}

static tn_code c_audit_export(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    FILE *out = fopen("/dev/null", "w");
    svc_audit_export_query q = {0};
    int64_t n;
    tn_code rc = svc_audit_export(f->s, a, &q, out, &n, e);
    fclose(out);
    return rc;
}

static tn_code c_dir_may_search(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_dir_may_search(f->s, a, e);
}

static tn_code c_dir_get(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    dir_entry d;
    return svc_dir_get(f->s, a, f->user[OB_IN], "uid", &d, e);
}

static tn_code c_dir_search(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_dir_query q = {.attrs = "uid"};
    bool capped;
    return svc_dir_search(f->s, a, &q, no_dir, NULL, &capped, e);
}

static tn_code c_dir_search_page(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_dir_query q = {.attrs = "uid"};
    bool capped, more;
    return svc_dir_search_page(f->s, a, &q, 0, 1, no_dir, NULL, &capped, &more, e);
}

static tn_code c_account_set_password(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    return svc_account_set_password(f->s, a, f->user[ob], PASSWORD, e);
}

static tn_code c_dir_passwd(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_dir_passwd(f->s, a, PASSWORD, PASSWORD, e);
}

static tn_code c_dir_modify(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    const svc_dir_set set = {"telephoneNumber", "+358 40 765 4321"};
    return svc_dir_modify(f->s, a, f->user[ob], &set, 1, e);
}

static tn_code c_dir_refuse(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_dir_refuse(f->s, a, "dir.delete", e);
}

/* Provisioning (svc_prov.h): the workers' use cases, for a target "t1". */
static tn_code c_prov_ingest(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)f, (void)ob;
    int64_t added;
    return svc_prov_ingest(f->s, a, "t1", 10, &added, e);
}

static tn_code c_prov_due(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_prov_item *it = NULL;
    size_t n = 0;
    tn_code rc = svc_prov_due(f->s, a, "t1", 10, &it, &n, e);
    free(it);
    return rc;
}

static tn_code c_prov_parked(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_prov_item *it = NULL;
    size_t n = 0;
    tn_code rc = svc_prov_parked(f->s, a, "t1", &it, &n, e);
    free(it);
    return rc;
}

static tn_code c_prov_subject_get(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_prov_subject x;
    tn_code rc = svc_prov_subject_get(f->s, a, "t1", f->id[ob], &x, e);
    if (rc == TN_OK)
        svc_prov_subject_free(&x);
    return rc;
}

static void prov_item(fx *f, int ob, svc_prov_item *it)
{
    memset(it, 0, sizeof *it);
    snprintf(it->target, sizeof it->target, "t1");
    snprintf(it->person_id, sizeof it->person_id, "%s", f->id[ob]);
}

static tn_code c_prov_delivered(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_prov_item it;
    prov_item(f, ob, &it);
    bool finished;
    return svc_prov_delivered(f->s, a, "t1", &it, "uid=x", "present", "uid", &finished, e);
}

static tn_code c_prov_failed(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_prov_item it;
    prov_item(f, ob, &it);
    conf_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "t1");
    t.max_attempts = 5;
    t.backoff = 2;
    return svc_prov_failed(f->s, a, &t, &it, "refused", e);
}

static tn_code c_prov_counts_get(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_prov_counts c;
    return svc_prov_counts_get(f->s, a, "t1", &c, e);
}

static tn_code c_prov_retry(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    int64_t n;
    return svc_prov_retry(f->s, a, "t1", 0, &n, e);
}

static int no_resource(const svc_prov_resource *r, void *ctx)
{
    (void)r, (void)ctx;
    return 0;
}

static tn_code c_prov_resources(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_prov_resources(f->s, a, "t1", no_resource, NULL, e);
}

static tn_code c_prov_enqueue(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    return svc_prov_enqueue(f->s, a, "t1", f->id[ob], "reconcile", e);
}

static int no_prov_group(const svc_prov_group *g, void *ctx)
{
    (void)g, (void)ctx;
    return 0;
}

static tn_code c_prov_groups(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_prov_groups(f->s, a, "t1", no_prov_group, NULL, e);
}

static tn_code c_prov_group_record(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_prov_group_record(f->s, a, "t1", "staff", "g-1", e);
}

static tn_code c_account_set_password_hash(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    /* {SSHA} of another password: the account keeps working with
     * c_account_set_password's, which runs later for every object. */
    return svc_account_set_password_hash(f->s, a, f->user[ob],
                                         "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=c2FsdA==", e);
}

static tn_code c_dir_member_of(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    dir_entry d;
    memset(&d, 0, sizeof d);
    d.person_number = f->number[OB_IN];
    return svc_dir_member_of(f->s, a, &d, e);
}

static tn_code c_dir_group_get(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    dir_group g;
    tn_code rc = svc_dir_group_get(f->s, a, "staff", "cn", &g, e);
    if (rc == TN_OK)
        svc_dir_group_free(&g);
    return rc;
}

static tn_code c_dir_group_search(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_dir_group_query q = {.attrs = "cn"};
    bool capped, more;
    return svc_dir_group_search(f->s, a, &q, 0, 1, no_group, NULL, &capped, &more, e);
}

/* Not a valid policy: the check comes after the access decision, and no
 * policy gets stored to change what the other rows see. */
static tn_code c_policy_apply(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    int64_t v;
    return svc_policy_apply(f->s, a, "{", 1, &v, e);
}

static tn_code c_policy_show(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    policy p;
    int64_t v;
    return svc_policy_show(f->s, a, &p, &v, e);
}

static tn_code c_lifecycle_plan(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_lc_report r;
    tn_code rc = svc_lifecycle_plan(f->s, a, TN_DATE_NONE, false, &r, e);
    svc_lc_report_free(&r);
    return rc;
}

static tn_code c_lifecycle_run(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_lc_report r;
    tn_code rc = svc_lifecycle_run(f->s, a, TN_DATE_NONE, &r, e);
    svc_lc_report_free(&r);
    return rc;
}

static tn_code c_lifecycle_forecast(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_lc_forecast out;
    return svc_lifecycle_forecast(f->s, a, f->sel[ob], TN_DATE_NONE, &out, e);
}

static tn_code c_lifecycle_whatif(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_lc_whatif w;
    return svc_lifecycle_whatif(f->s, a, "{", 1, TN_DATE_NONE, &w, e);
}

static tn_code c_lifecycle_handovers(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_lc_handover *h = NULL;
    size_t n = 0;
    tn_code rc = svc_lifecycle_handovers(f->s, a, f->sel[ob], &h, &n, e);
    free(h);
    return rc;
}

static tn_code c_person_hold(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    person p;
    return svc_person_hold(f->s, a, f->sel[ob], 1, "investigation", TN_DATE_NONE, &p, e);
}

static tn_code c_report(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_report_query q = {.kind = SVC_REPORT_ACCOUNTS, .as_of = TN_DATE_NONE};
    return svc_report(f->s, a, &q, no_row, NULL, e);
}

static tn_code c_audit_self(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_audit_self(f->s, a, 0, 0, no_event, NULL, e);
}

static tn_code c_role_grant_add(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_role_grant_input in = {.person = f->sel[ob], .role = "helpdesk", .valid_to = "2025-12-31"};
    svc_role_grant g;
    return svc_role_grant_add(f->s, a, &in, &g, e);
}

/* The grant to revoke belongs to the out-of-scope person. */
static tn_code c_role_revoke(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    svc_role_grant g;
    return svc_role_revoke(f->s, a, f->grant, &g, e);
}

/* own: everybody's grants; in/out: that person's. */
static tn_code c_role_list(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    return svc_role_list(f->s, a, ob == OB_OWN ? NULL : f->sel[ob], no_grant, NULL, e);
}

static tn_code c_error_report_file(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_error_report r;
    return svc_error_report_file(f->s, a, f->sel[ob], "email", "the address is misspelt", &r, e);
}

static tn_code c_error_report_list(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    return svc_error_report_list(f->s, a, ob == OB_NONE ? NULL : f->sel[ob], NULL, no_report,
                                 NULL, e);
}

static tn_code c_error_report_close(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    svc_error_report r;
    return svc_error_report_close(f->s, a, f->report[ob], true, "corrected", &r, e);
}

/* API clients and the SCIM person scan (svc_client.h, issue-http). */
static tn_code c_client_add(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    static int n;
    char name[32], token[SVC_TOKEN_BUFSZ];
    snprintf(name, sizeof name, "matrix-%d", n++);
    svc_client_input in = {.name = name, .role = "helpdesk"};
    return svc_client_add(f->s, a, &in, token, NULL, e);
}

static int count_client(const svc_client_info *c, void *ctx)
{
    (void)c;
    ++*(int *)ctx;
    return 0;
}

static tn_code c_client_list(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    int n = 0;
    return svc_client_list(f->s, a, count_client, &n, e);
}

static tn_code c_client_rotate(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    char token[SVC_TOKEN_BUFSZ];
    return svc_client_rotate(f->s, a, "no-such-client", token, e);
}

static tn_code c_client_revoke(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_client_revoke(f->s, a, "no-such-client", e);
}

static tn_code c_client_bind(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    return svc_client_bind_cert(f->s, a, "no-such-client", NULL, e);
}

static int scan_one_view(const svc_person_view *v, void *ctx)
{
    (void)v;
    ++*(int *)ctx;
    return 0;
}

static tn_code c_person_scan(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    int n = 0;
    svc_person_query q = {.limit = 10};
    return svc_person_scan(f->s, a, &q, scan_one_view, &n, e);
}

static tn_code c_dir_group_member_ids(fx *f, const svc_actor *a, int ob, tn_err *e)
{
    (void)ob;
    dir_group g;
    memset(&g, 0, sizeof g);
    char ids[1][UUID_BUFSZ];
    return svc_dir_group_member_ids(f->s, a, &g, ids, e);
}

/* ---- the matrix --------------------------------------------------------------
 *
 * One character per actor, in the order of the AC_ enum:
 *   admin system self helpdesk unit_admin hr auditor dpo role-admin anon client
 * 'Y' allowed, '.' denied. NULL: the object does not apply. */
typedef struct row {
    const char *fn;
    call_fn call;
    const char *own, *in, *out, *none;
} row;

#define PERSON_READ "YYYYYYYYY..", "YY.YYY.YY..", "YY.Y.Y.YY..", NULL
#define PERSON_WRITE "YY...Y..Y..", "YY..YY..Y..", "YY...Y..Y..", NULL
#define SELF_EDIT "YYYYYYYYY..", "YY..YY..Y..", "YY...Y..Y..", NULL
#define GLOBAL(x) NULL, NULL, NULL, x

static const row matrix[] = {
    {"svc_person_add", c_person_add, GLOBAL("YY...Y..Y..")},
    {"svc_person_enrol", c_person_enrol, GLOBAL("YY...Y..Y..")},
    {"svc_person_show", c_person_show, PERSON_READ},
    {"svc_person_update", c_person_update, SELF_EDIT},
    {"svc_person_update", c_person_update_name, PERSON_WRITE},
    {"svc_person_reveal_nid", c_person_reveal_nid, "YY.....YY..", "YY.....YY..", "YY.....YY..",
     NULL},
    /* own = no unit filter, in/out = a unit filter inside/outside scope */
    {"svc_person_list", c_person_list, "YY.Y.Y.YY..", "YY.YYY.YY..", "YY.Y.Y.YY..", NULL},
    {"svc_aff_add", c_aff_add, PERSON_WRITE},
    {"svc_aff_end", c_aff_end, PERSON_WRITE},
    {"svc_account_create", c_account_create, PERSON_WRITE},
    {"svc_account_show", c_account_show, PERSON_READ},
    {"svc_username_reservation", c_username_reservation, PERSON_READ},
    {"svc_unit_add", c_unit_add, GLOBAL("YY......Y..")},
    {"svc_unit_ensure_path", c_unit_ensure_path, GLOBAL("YY......Y..")},
    {"svc_unit_list", c_unit_list, GLOBAL("YY.YYYYYY..")},
    {"svc_import", c_import, GLOBAL("YY...Y..Y..")},
    {"svc_import_runs", c_import_runs, GLOBAL("YY...Y..Y..")},
    {"svc_review_list", c_review_list, GLOBAL("YY...Y..Y..")},
    {"svc_review_decide", c_review_decide, GLOBAL("YY...Y..Y..")},
    {"svc_source_add", c_source_add, GLOBAL("YY......Y..")},
    {"svc_source_list", c_source_list, GLOBAL("YY.YYYYYY..")},
    {"svc_audit_verify", c_audit_verify, GLOBAL("YY....Y.Y..")},
    {"svc_audit_subject", c_audit_subject, "YYYYYYYYY..", "YY....YYY..", "YY....YYY..", NULL},
    {"svc_audit_index", c_audit_index, GLOBAL("YY......Y..")},
    {"svc_audit_checkpoint", c_audit_checkpoint, GLOBAL("YY......Y..")},
    {"svc_audit_prune", c_audit_prune, GLOBAL("YY......Y..")},
    {"svc_audit_export", c_audit_export, GLOBAL("YY....Y.Y..")},
    {"svc_dir_may_search", c_dir_may_search, GLOBAL("YYYYYYYYY..")},
    {"svc_dir_get", c_dir_get, GLOBAL("YYYYYYYYY..")},
    {"svc_dir_search", c_dir_search, GLOBAL("YYYYYYYYY..")},
    {"svc_dir_search_page", c_dir_search_page, GLOBAL("YYYYYYYYY..")},
    {"svc_account_set_password_hash", c_account_set_password_hash, PERSON_WRITE},
    {"svc_account_set_password", c_account_set_password, "YY.Y....Y..", "YY.YY...Y..",
     "YY.Y....Y..", NULL},
    {"svc_dir_passwd", c_dir_passwd, GLOBAL("..YYYYYYY..")},
    /* An LDAP modify of the self-editable attributes: as svc_person_update. */
    {"svc_dir_modify", c_dir_modify, SELF_EDIT},
    /* LDAP add, delete and modify DN: refused for everyone, on record. */
    {"svc_dir_refuse", c_dir_refuse, GLOBAL("...........")},
    /* Provisioning: the registry's own workers (and the operator). */
    {"svc_prov_ingest", c_prov_ingest, GLOBAL("YY......Y..")},
    {"svc_prov_due", c_prov_due, GLOBAL("YY......Y..")},
    {"svc_prov_parked", c_prov_parked, GLOBAL("YY......Y..")},
    {"svc_prov_subject_get", c_prov_subject_get, GLOBAL("YY......Y..")},
    {"svc_prov_delivered", c_prov_delivered, GLOBAL("YY......Y..")},
    {"svc_prov_failed", c_prov_failed, GLOBAL("YY......Y..")},
    {"svc_prov_counts_get", c_prov_counts_get, GLOBAL("YY......Y..")},
    {"svc_prov_retry", c_prov_retry, GLOBAL("YY......Y..")},
    {"svc_prov_resources", c_prov_resources, GLOBAL("YY......Y..")},
    {"svc_prov_enqueue", c_prov_enqueue, GLOBAL("YY......Y..")},
    {"svc_prov_groups", c_prov_groups, GLOBAL("YY......Y..")},
    {"svc_prov_group_record", c_prov_group_record, GLOBAL("YY......Y..")},
    {"svc_dir_member_of", c_dir_member_of, GLOBAL("YYYYYYYYY..")},
    {"svc_dir_group_get", c_dir_group_get, GLOBAL("YYYYYYYYY..")},
    {"svc_dir_group_search", c_dir_group_search, GLOBAL("YYYYYYYYY..")},
    {"svc_policy_apply", c_policy_apply, GLOBAL("YY......Y..")},
    {"svc_policy_show", c_policy_show, GLOBAL("YY......Y..")},
    {"svc_lifecycle_plan", c_lifecycle_plan, GLOBAL("YY......Y..")},
    {"svc_lifecycle_run", c_lifecycle_run, GLOBAL("YY......Y..")},
    {"svc_lifecycle_forecast", c_lifecycle_forecast, PERSON_READ},
    {"svc_lifecycle_whatif", c_lifecycle_whatif, GLOBAL("YY......Y..")},
    {"svc_lifecycle_handovers", c_lifecycle_handovers, PERSON_READ},
    {"svc_person_hold", c_person_hold, "YY.....YY..", "YY..Y..YY..", "YY.....YY..", NULL},
    {"svc_report", c_report, GLOBAL("YY....Y.Y..")},
    {"svc_audit_self", c_audit_self, GLOBAL("..YYYYYYY..")},
    {"svc_role_grant_add", c_role_grant_add, "YY......Y..", "YY......Y..", "YY......Y..", NULL},
    {"svc_role_revoke", c_role_revoke, GLOBAL("YY......Y..")},
    /* own = everybody's grants */
    {"svc_role_list", c_role_list, "YY....Y.Y..", "YY....Y.Y..", "YY....Y.Y..", NULL},
    {"svc_error_report_file", c_error_report_file, "YYYYYYYYY..", "YY.YY...Y..", "YY.Y....Y..",
     NULL},
    {"svc_error_report_list", c_error_report_list, "YYYYYYYYY..", "YY.YYY.YY..", "YY.Y.Y.YY..",
     "YY.Y.Y.YY.."},
    {"svc_error_report_close", c_error_report_close, PERSON_WRITE},
    /* API clients: administrators only; the SCIM person scan: as a list. */
    {"svc_client_add", c_client_add, GLOBAL("YY......Y..")},
    {"svc_client_list", c_client_list, GLOBAL("YY......Y..")},
    {"svc_client_rotate", c_client_rotate, GLOBAL("YY......Y..")},
    {"svc_client_revoke", c_client_revoke, GLOBAL("YY......Y..")},
    {"svc_client_bind_cert", c_client_bind, GLOBAL("YY......Y..")},
    {"svc_person_scan", c_person_scan, GLOBAL("YY.Y.Y.YY..")},
    {"svc_dir_group_member_ids", c_dir_group_member_ids, GLOBAL("YYYYYYYYY..")},
};
#define NROWS (sizeof matrix / sizeof matrix[0])

/* ---- the audit side ------------------------------------------------------- */

typedef struct scan_ctx {
    const char *actor_id;
    int64_t last;
    int denied;
} scan_ctx;

static int scan_cb(const store_audit_rec *x, void *vctx)
{
    scan_ctx *c = vctx;
    if (x->seq > c->last)
        c->last = x->seq;
    if (strcmp(x->r.result, "denied") == 0 && strcmp(x->r.actor_id, c->actor_id) == 0)
        c->denied++;
    return 0;
}

/* Denial events by this actor since the last look. */
static int new_denials(fx *f, const svc_actor *a)
{
    tn_err e;
    assert_int_equal(svc_flush(f->s, &e), TN_OK);
    scan_ctx c = {a->id, f->seq, 0};
    assert_int_equal(store_audit_scan(f->st2, f->seq + 1, 0, NULL, scan_cb, &c, &e), TN_OK);
    f->seq = c.last;
    return c.denied;
}

static void access_matrix(void **state)
{
    fx *f = *state;
    (void)new_denials(f, &f->ac[AC_ADMIN]);
    int cells = 0, wrong = 0, done = 0;
    for (size_t r = 0; r < NROWS; r++) {
        const row *w = &matrix[r];
        const char *expect[OB_N] = {w->own, w->in, w->out, w->none};
        for (int ob = 0; ob < OB_N; ob++) {
            if (!expect[ob])
                continue;
            assert_int_equal(strlen(expect[ob]), AC_N);
            for (int ac = 0; ac < AC_N; ac++) {
                const svc_actor *a = &f->ac[ac];
                tn_err e;
                tn_err_clear(&e);
                tn_code rc = w->call(f, a, ob, &e);
                int denials = new_denials(f, a);
                bool want = expect[ob][ac] == 'Y';
                bool ok = want ? rc != TN_EDENIED && denials == 0
                               : rc == TN_EDENIED && denials >= 1;
                cells++;
                if (want && rc == TN_OK)
                    done++;
                else if (want && getenv("ACCESS_VERBOSE"))
                    printf("allowed, then %s by %s on %s: rc %d %s\n", w->fn, actor_names[ac],
                           object_names[ob], (int)rc, e.msg);
                if (!ok) {
                    wrong++;
                    printf("MISMATCH %s by %s on %s: expected %s, got rc %d (%s) with %d denial "
                           "event(s)\n",
                           w->fn, actor_names[ac], object_names[ob], want ? "allow" : "deny",
                           (int)rc, e.msg, denials);
                }
            }
        }
    }
    printf("access matrix: %d cells, %d wrong, %d allowed calls succeeded\n", cells, wrong, done);
    assert_int_equal(wrong, 0);
    assert_true(cells > 1000);
}

/* ---- every use case has rows --------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += k;
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    fclose(fp);
    /* Declarations may wrap: one space for every run of white space. */
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        bool ws = buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t';
        if (ws && o > 0 && buf[o - 1] == ' ')
            continue;
        buf[o++] = ws ? ' ' : buf[i];
    }
    buf[o] = '\0';
    return buf;
}

static bool in_matrix(const char *name)
{
    for (size_t r = 0; r < NROWS; r++)
        if (strcmp(matrix[r].fn, name) == 0)
            return true;
    return false;
}

static void every_use_case_has_rows(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "tn_code (svc_[a-z0-9_]+) ?\\( ?svc \\*[a-z_]+, ?const svc_actor "
                             "\\*[a-z_]+",
                             REG_EXTENDED),
                     0);
    const char *dir = TN_SRC_DIR "/src/service";
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int found = 0, missing = 0, headers = 0;
    char names[128][64];
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 3 || strcmp(de->d_name + len - 2, ".h") != 0 ||
            strcmp(de->d_name, "svc_internal.h") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        char *text = slurp(path);
        assert_non_null(text);
        headers++;
        const char *p = text;
        regmatch_t m[2];
        while (regexec(&re, p, 2, m, 0) == 0) {
            char name[64];
            int n = (int)(m[1].rm_eo - m[1].rm_so);
            snprintf(name, sizeof name, "%.*s", n, p + m[1].rm_so);
            if (found < 128)
                snprintf(names[found], sizeof names[found], "%s", name);
            found++;
            if (!in_matrix(name)) {
                printf("no access-matrix rows for %s (%s)\n", name, de->d_name);
                missing++;
            }
            p += m[0].rm_eo;
        }
        free(text);
    }
    closedir(d);
    regfree(&re);
    /* Rows for a use case that no longer exists are stale. */
    int stale = 0;
    for (size_t r = 0; r < NROWS; r++) {
        bool declared = false;
        for (int i = 0; i < found && i < 128; i++)
            declared = declared || strcmp(names[i], matrix[r].fn) == 0;
        if (!declared) {
            printf("access-matrix rows for %s, which no header declares\n", matrix[r].fn);
            stale++;
        }
    }
    printf("%d use cases in %d headers\n", found, headers);
    assert_true(headers >= 6);
    assert_true(found >= 50);
    assert_int_equal(missing, 0);
    assert_int_equal(stale, 0);
}

/* ---- grants with validity (AZ-4) ---------------------------------------- */

static void grant(fx *f, const char *role, const char *unit, const char *from, const char *to,
                  int64_t *id)
{
    tn_err e;
    svc_role_grant_input in = {.person = f->sel[OB_OWN], .role = role, .unit = unit,
                               .valid_from = from, .valid_to = to, .reason = "test"};
    svc_role_grant g;
    must(svc_role_grant_add(f->s, &f->ac[AC_ADMIN], &in, &g, &e), &e, role);
    if (id)
        *id = g.id;
}

static void grants_expire_by_themselves(void **state)
{
    fx *f = *state;
    tn_err e;
    int64_t unit_grant;
    svc_set_today(f->s, day(2025, 6, 1));
    grant(f, "helpdesk", NULL, "2025-06-01", "2025-06-30", NULL);
    grant(f, "auditor", NULL, "2025-06-10", NULL, NULL); /* from a later day */
    grant(f, "unit_admin", "city/north", NULL, NULL, &unit_grant);
    grant(f, "dpo", NULL, "2025-06-01", "2025-06-01", NULL); /* one day */
    svc_set_today(f->s, day(2025, 6, 2));

    /* Today (2025-06-02): helpdesk and unit_admin; dpo ended yesterday. */
    svc_actor a = f->ac[AC_SELF];
    assert_int_equal(svc_actor_load_roles(f->s, &a, &e), TN_OK);
    assert_int_equal(a.roles,
                     SVC_ROLE_BIT(SVC_ROLE_HELPDESK) | SVC_ROLE_BIT(SVC_ROLE_UNIT_ADMIN));
    assert_string_equal(a.scope_unit, "city/north");

    /* The LDAP bind carries the same roles. */
    svc_actor bound;
    assert_int_equal(svc_dir_bind(f->s, "127.0.0.1", f->user[OB_OWN], PASSWORD, &bound, &e),
                     TN_OK);
    assert_int_equal(bound.kind, SVC_ACTOR_PERSON);
    assert_int_equal(bound.roles, a.roles);
    assert_string_equal(bound.scope_unit, "city/north");
    /* … and they work: the in-scope person's record is now writable. */
    person_input ch = {.given_names = "Ilona Maria"};
    person p;
    assert_int_equal(svc_person_update(f->s, &bound, f->sel[OB_IN], &ch, &p, &e), TN_OK);
    assert_int_equal(svc_person_update(f->s, &bound, f->sel[OB_OUT], &ch, &p, &e), TN_EDENIED);

    /* A revoked grant gives nothing from the day of revocation. */
    svc_role_grant g;
    assert_int_equal(svc_role_revoke(f->s, &f->ac[AC_ADMIN], unit_grant, &g, &e), TN_OK);
    assert_string_equal(g.status, "revoked");
    assert_int_equal(svc_role_revoke(f->s, &f->ac[AC_ADMIN], unit_grant, &g, &e), TN_ESTATE);
    assert_int_equal(svc_actor_load_roles(f->s, &a, &e), TN_OK);
    assert_int_equal(a.roles, SVC_ROLE_BIT(SVC_ROLE_HELPDESK));
    assert_string_equal(a.scope_unit, "");

    /* Days pass; no job runs. */
    svc_set_today(f->s, day(2025, 6, 15));
    assert_int_equal(svc_actor_load_roles(f->s, &a, &e), TN_OK);
    assert_int_equal(a.roles,
                     SVC_ROLE_BIT(SVC_ROLE_HELPDESK) | SVC_ROLE_BIT(SVC_ROLE_AUDITOR));
    svc_set_today(f->s, day(2025, 7, 1));
    assert_int_equal(svc_actor_load_roles(f->s, &a, &e), TN_OK);
    assert_int_equal(a.roles, SVC_ROLE_BIT(SVC_ROLE_AUDITOR));

    /* Other actors are left as they are. */
    svc_actor adm = f->ac[AC_ADMIN];
    assert_int_equal(svc_actor_load_roles(f->s, &adm, &e), TN_OK);
    assert_int_equal(adm.roles, 0);
}

static int count_grant(const svc_role_grant *g, void *ctx)
{
    (void)g;
    (*(int *)ctx)++;
    return 0;
}

static void grant_input_is_checked(void **state)
{
    fx *f = *state;
    const svc_actor *adm = &f->ac[AC_ADMIN];
    tn_err e;
    svc_role_grant g;
    struct {
        svc_role_grant_input in;
        tn_code rc;
        const char *field;
    } bad[] = {
        {{.person = f->sel[OB_IN], .role = "root"}, TN_EINVAL, "role"},
        {{.person = f->sel[OB_IN], .role = "unit_admin"}, TN_EINVAL, "unit"},
        {{.person = f->sel[OB_IN], .role = "helpdesk", .unit = "city"}, TN_EINVAL, "unit"},
        {{.person = f->sel[OB_IN], .role = "unit_admin", .unit = "nowhere"}, TN_ENOTFOUND,
         "unit"},
        {{.person = f->sel[OB_IN], .role = "dpo", .valid_from = "2025-13-01"}, TN_EINVAL,
         "valid_from"},
        {{.person = f->sel[OB_IN], .role = "dpo", .valid_from = "2025-07-01",
          .valid_to = "2025-06-30"},
         TN_EINVAL, "valid_to"},
        {{.person = f->sel[OB_IN], .role = "dpo", .valid_from = "2020-01-01",
          .valid_to = "2020-12-31"},
         TN_EINVAL, "valid_to"},
    };
    int before = 0, after = 0;
    assert_int_equal(svc_role_list(f->s, adm, NULL, count_grant, &before, &e), TN_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tn_err_clear(&e);
        assert_int_equal(svc_role_grant_add(f->s, adm, &bad[i].in, &g, &e), bad[i].rc);
        assert_string_equal(e.field, bad[i].field);
    }
    /* Nothing was written. */
    assert_int_equal(svc_role_list(f->s, adm, NULL, count_grant, &after, &e), TN_OK);
    assert_int_equal(after, before);
    assert_true(before >= 1);

    /* An error report naming a national ID is refused; so is an unknown
     * attribute. */
    svc_error_report r;
    assert_int_equal(svc_error_report_file(f->s, adm, f->sel[OB_IN], "phone",
                                           "it is 131052-308T not mine", &r, &e),
                     TN_EINVAL);
    assert_string_equal(e.field, "description");
    assert_int_equal(svc_error_report_file(f->s, adm, f->sel[OB_IN], "shoe_size", "x", &r, &e),
                     TN_EINVAL);
    assert_string_equal(e.field, "attribute");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_use_case_has_rows),
        cmocka_unit_test_setup_teardown(access_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(grants_expire_by_themselves, setup, teardown),
        cmocka_unit_test_setup_teardown(grant_input_is_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
