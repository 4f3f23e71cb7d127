/* Unit tests: the service layer (src/service) over a real SQLite registry:
 * access decisions and their audit, batches, reservations, audit of reads. */
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
#include "store.h"
#include "svc_report.h"

typedef struct fixture {
    char dir[64];
    conf c;
    svc *s;
    svc_actor admin;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tunnus-svc-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    conf_defaults(&f->c);
    snprintf(f->c.db, sizeof f->c.db, "%s/r.db", f->dir);
    snprintf(f->c.email_domain, sizeof f->c.email_domain, "example.fi");
    tn_err e;
    if (conf_finish(&f->c, &e) != TN_OK || svc_init_registry(&f->c, &e) != TN_OK ||
        svc_open(&f->c, &f->s, &e) != TN_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
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

/* Count audit rows of an action (through a second store handle, as an
 * auditor would read them). */
struct count_ctx {
    const char *action;
    const char *result;
    int n;
};

static int count_cb(const store_audit_rec *x, void *ctx)
{
    struct count_ctx *c = ctx;
    const store_audit_row *r = &x->r;
    if (strcmp(r->action, c->action) == 0 && (!c->result || strcmp(r->result, c->result) == 0))
        c->n++;
    return 0;
}

static int count_events(fixture *f, const char *action, const char *result)
{
    tn_err e;
    assert_int_equal(svc_flush(f->s, &e), TN_OK);
    int64_t moved;
    assert_int_equal(svc_readlog_ingest(f->s, &moved, &e), TN_OK);
    store *st;
    assert_int_equal(store_open(f->c.db, STORE_OPEN_EXISTING, &st, &e), TN_OK);
    struct count_ctx c = {action, result, 0};
    assert_int_equal(store_audit_scan(st, 1, 0, NULL, count_cb, &c, &e), TN_OK);
    store_close(st);
    /* Allowed reads are in the read log, a file of their own. */
    char rl[sizeof f->c.db + 8];
    snprintf(rl, sizeof rl, "%s.reads", f->c.db);
    assert_int_equal(store_open_readlog(rl, f->c.db, STORE_OPEN_EXISTING, &st, &e), TN_OK);
    assert_int_equal(store_audit_scan(st, 1, 0, NULL, count_cb, &c, &e), TN_OK);
    store_close(st);
    return c.n;
}

static person add(fixture *f, const char *given, const char *family, const char *nid)
{
    person_input in = {.given_names = given, .family_name = family, .national_id = nid};
    person p;
    tn_err e;
    tn_code rc = svc_person_add(f->s, &f->admin, &in, &p, &e);
    if (rc != TN_OK)
        fail_msg("person add: %s: %s", e.field, e.msg);
    return p;
}

static void access_rules(void **state)
{
    fixture *f = *state;
    person me = add(f, "Aino", "Laine", NULL);
    person other = add(f, "Eino", "Laine", NULL);
    char sel_me[48], sel_other[48];
    snprintf(sel_me, sizeof sel_me, "id:%s", me.id);
    snprintf(sel_other, sizeof sel_other, "id:%s", other.id);

    svc_actor self = f->admin;
    self.kind = SVC_ACTOR_PERSON;
    snprintf(self.id, sizeof self.id, "%s", me.id);
    self.channel = SVC_CH_API;

    svc_person_view v;
    tn_err e;
    assert_int_equal(svc_person_show(f->s, &self, sel_me, &v, &e), TN_OK);
    svc_person_view_free(&v);
    assert_int_equal(svc_person_show(f->s, &self, sel_other, &v, &e), TN_EDENIED);

    person_input phone = {.phone = "0401234567"};
    person out;
    assert_int_equal(svc_person_update(f->s, &self, sel_me, &phone, &out, &e), TN_OK);
    assert_string_equal(out.phone, "+358401234567");
    person_input name = {.family_name = "Muu"};
    assert_int_equal(svc_person_update(f->s, &self, sel_me, &name, &out, &e), TN_EDENIED);
    person_input in = {.given_names = "X", .family_name = "Y"};
    assert_int_equal(svc_person_add(f->s, &self, &in, &out, &e), TN_EDENIED);

    svc_actor client = f->admin;
    client.kind = SVC_ACTOR_CLIENT;
    snprintf(client.id, sizeof client.id, "some-app");
    assert_int_equal(svc_person_show(f->s, &client, sel_me, &v, &e), TN_EDENIED);
    char nid[HETU_BUFSZ];
    assert_int_equal(svc_person_reveal_nid(f->s, &client, sel_me, nid, &e), TN_EDENIED);

    /* Every denial is on record; allowed reads are recorded too. */
    assert_int_equal(count_events(f, "person.read", "denied"), 2);
    assert_int_equal(count_events(f, "person.update", "denied"), 1);
    assert_int_equal(count_events(f, "person.add", "denied"), 1);
    assert_int_equal(count_events(f, "person.read_national_id", "denied"), 1);
    assert_int_equal(count_events(f, "person.read", "allowed"), 1);
}

static void batch_isolates_failures(void **state)
{
    fixture *f = *state;
    tn_err e;
    assert_int_equal(svc_batch_begin(f->s, &e), TN_OK);
    add(f, "Aino", "Laine", "131052-308T");
    person_input dup = {.given_names = "Toinen", .family_name = "Laine",
                        .national_id = "131052-308T"};
    person p;
    assert_int_equal(svc_person_add(f->s, &f->admin, &dup, &p, &e), TN_ECONFLICT);
    assert_non_null(strstr(e.msg, "number 1"));
    assert_null(strstr(e.msg, "131052"));
    add(f, "Eino", "Laine", NULL);
    assert_int_equal(svc_batch_commit(f->s, &e), TN_OK);
    svc_person_view v;
    assert_int_equal(svc_person_show(f->s, &f->admin, "number:2", &v, &e), TN_OK);
    assert_string_equal(v.p.given_names, "Eino");
    svc_person_view_free(&v);
    /* The failed add left nothing behind; the number it would have had is
     * not reused either way (AUTOINCREMENT). */
    assert_int_equal(count_events(f, "person.add", "allowed"), 2);

    /* A rolled-back batch leaves nothing. */
    assert_int_equal(svc_batch_begin(f->s, &e), TN_OK);
    add(f, "Kolmas", "Laine", NULL);
    svc_batch_rollback(f->s);
    assert_int_equal(svc_person_show(f->s, &f->admin, "number:3", &v, &e), TN_ENOTFOUND);
}

static void reservations(void **state)
{
    fixture *f = *state;
    add(f, "Matti", "Virtanen", NULL);
    add(f, "Matti", "Virtanen", NULL);
    account a1, a2;
    tn_err e;
    assert_int_equal(svc_account_create(f->s, &f->admin, "number:1", NULL, &a1, &e), TN_OK);
    assert_string_equal(a1.username, "matti.virtanen");
    assert_string_equal(a1.email, "matti.virtanen@example.fi");
    assert_int_equal(svc_account_create(f->s, &f->admin, "number:2", "matti.virtanen", &a2, &e),
                     TN_ECONFLICT);
    assert_int_equal(svc_account_create(f->s, &f->admin, "number:2", NULL, &a2, &e), TN_OK);
    assert_string_equal(a2.username, "matti.virtanen2");
    assert_string_equal(a2.email, "matti.virtanen2@example.fi");
    /* A third namesake skips both, and a bad hand-given name is refused. */
    add(f, "Matti", "Virtanen", NULL);
    assert_int_equal(svc_account_create(f->s, &f->admin, "number:3", "9bad", &a2, &e), TN_EINVAL);
    assert_string_equal(e.field, "username");
    assert_int_equal(svc_account_create(f->s, &f->admin, "number:3", NULL, &a2, &e), TN_OK);
    assert_string_equal(a2.username, "matti.virtanen3");
}

static void read_audit_is_grouped_and_durable(void **state)
{
    fixture *f = *state;
    add(f, "Aino", "Laine", NULL);
    svc_person_view v;
    tn_err e;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(svc_person_show(f->s, &f->admin, "number:1", &v, &e), TN_OK);
        svc_person_view_free(&v);
    }
    /* count_events flushes first, as a front end does before answering. */
    assert_int_equal(count_events(f, "person.read", "allowed"), 10);
    svc_set_read_audit(f->s, false);
    assert_int_equal(svc_person_show(f->s, &f->admin, "number:1", &v, &e), TN_OK);
    svc_person_view_free(&v);
    assert_int_equal(count_events(f, "person.read", "allowed"), 10);
}

static void wrong_key_file_is_refused(void **state)
{
    fixture *f = *state;
    conf other = f->c;
    snprintf(other.db, sizeof other.db, "%s/other.db", f->dir);
    snprintf(other.key_file, sizeof other.key_file, "%s/other.db.key", f->dir);
    tn_err e;
    assert_int_equal(svc_init_registry(&other, &e), TN_OK);
    conf mixed = f->c;
    snprintf(mixed.key_file, sizeof mixed.key_file, "%s", other.key_file);
    svc *s2 = NULL;
    assert_int_equal(svc_open(&mixed, &s2, &e), TN_EIO);
    assert_non_null(strstr(e.msg, "not the key file of this registry"));
    char path[128];
    snprintf(path, sizeof path, "%s/other.db", f->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/other.db.key", f->dir);
    unlink(path);
}

static int count_audit_cb(const svc_audit_event *ev, void *ctx)
{
    (void)ev;
    (*(int *)ctx)++;
    return 0;
}

/* AU-2 for the self-service APIs: a person may read their own audit
 * report and nobody else's; the self view is for persons only. */
static void self_audit_report(void **state)
{
    fixture *f = *state;
    person me = add(f, "Aino", "Laine", NULL);
    person other = add(f, "Eino", "Laine", NULL);
    char sel_me[48], sel_other[48];
    snprintf(sel_me, sizeof sel_me, "id:%s", me.id);
    snprintf(sel_other, sizeof sel_other, "id:%s", other.id);
    svc_person_view v;
    tn_err e;
    assert_int_equal(svc_person_show(f->s, &f->admin, sel_me, &v, &e), TN_OK);
    svc_person_view_free(&v);

    svc_actor self = f->admin;
    self.kind = SVC_ACTOR_PERSON;
    self.channel = SVC_CH_API;
    snprintf(self.id, sizeof self.id, "%s", me.id);
    int n = 0;
    assert_int_equal(svc_audit_self(f->s, &self, 0, 0, count_audit_cb, &n, &e), TN_OK);
    /* person.add and the administrator's person.read. */
    assert_int_equal(n, 2);
    /* The subject report of somebody else is refused to a person. */
    assert_int_equal(svc_audit_subject(f->s, &self, sel_other, 0, 0, count_audit_cb, &n, &e),
                     TN_EDENIED);
    /* The self view is not for administrators, clients or jobs. */
    svc_actor client = f->admin;
    client.kind = SVC_ACTOR_CLIENT;
    snprintf(client.id, sizeof client.id, "%s", me.id);
    svc_actor job = f->admin;
    job.kind = SVC_ACTOR_SYSTEM;
    n = 0;
    assert_int_equal(svc_audit_self(f->s, &f->admin, 0, 0, count_audit_cb, &n, &e), TN_EDENIED);
    assert_int_equal(svc_audit_self(f->s, &client, 0, 0, count_audit_cb, &n, &e), TN_EDENIED);
    assert_int_equal(svc_audit_self(f->s, &job, 0, 0, count_audit_cb, &n, &e), TN_EDENIED);
    svc_actor nobody = self;
    nobody.id[0] = '\0';
    assert_int_equal(svc_audit_self(f->s, &nobody, 0, 0, count_audit_cb, &n, &e), TN_EDENIED);
    assert_int_equal(n, 0);
    /* A person id that is no person: nothing to report. */
    svc_actor ghost = self;
    snprintf(ghost.id, sizeof ghost.id, "00000000-0000-7000-8000-000000000000");
    assert_int_equal(svc_audit_self(f->s, &ghost, 0, 0, count_audit_cb, &n, &e), TN_ENOTFOUND);
    assert_int_equal(count_events(f, "audit.self", "denied"), 4);
    assert_int_equal(count_events(f, "audit.subject", "denied"), 1);
    assert_int_equal(count_events(f, "audit.subject", "allowed"), 1);
}

static int count_rows(const char *const *cols, size_t n, void *ctx)
{
    (void)cols;
    (void)n;
    (*(int *)ctx)++;
    return 0;
}

/* AU-4 reports are for administrators (and jobs); each listed person gets
 * a read event. */
static void reports_access(void **state)
{
    fixture *f = *state;
    person me = add(f, "Aino", "Laine", NULL);
    tn_err e;
    char sel[48];
    snprintf(sel, sizeof sel, "id:%s", me.id);
    account acct;
    assert_int_equal(svc_account_create(f->s, &f->admin, sel, NULL, &acct, &e), TN_OK);
    svc_report_query q = {.kind = SVC_REPORT_ACCOUNTS, .as_of = TN_DATE_NONE};
    int n = 0;
    assert_int_equal(svc_report(f->s, &f->admin, &q, count_rows, &n, &e), TN_OK);
    assert_int_equal(n, 1);
    svc_actor self = f->admin;
    self.kind = SVC_ACTOR_PERSON;
    snprintf(self.id, sizeof self.id, "%s", me.id);
    svc_actor client = f->admin;
    client.kind = SVC_ACTOR_CLIENT;
    for (int k = 0; k < SVC_REPORT_MAX; k++) {
        q.kind = (svc_report_kind)k;
        assert_int_equal(svc_report(f->s, &self, &q, count_rows, &n, &e), TN_EDENIED);
        assert_int_equal(svc_report(f->s, &client, &q, count_rows, &n, &e), TN_EDENIED);
    }
    assert_int_equal(n, 1);
    q.kind = SVC_REPORT_ACCOUNTS;
    q.org_unit = "Nowhere";
    assert_int_equal(svc_report(f->s, &f->admin, &q, count_rows, &n, &e), TN_ENOTFOUND);
    assert_string_equal(e.field, "org_unit");
    assert_int_equal(count_events(f, "report.accounts", "denied"), 2);
    assert_int_equal(count_events(f, "report.changes", "denied"), 2);
    /* The report event (no subject) and one read of the listed person. */
    assert_int_equal(count_events(f, "report.accounts", "allowed"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(access_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_isolates_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(reservations, setup, teardown),
        cmocka_unit_test_setup_teardown(read_audit_is_grouped_and_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_key_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(self_audit_report, setup, teardown),
        cmocka_unit_test_setup_teardown(reports_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
