/* Unit tests: the provisioning delivery state (svc_prov.c over a real
 * registry): a new target starts with everyone, changes fold into one
 * item per person, a delivery that raced a newer change leaves the item
 * due, failures back off and park, a new change or a retry releases. */
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
#include "svc_prov.h"
#include "tn_str.h"

typedef struct fixture {
    char dir[64];
    conf c;
    svc *s;
    svc_actor admin, worker;
    person p[3];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tunnus-prov-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    conf_defaults(&f->c);
    snprintf(f->c.db, sizeof f->c.db, "%s/r.db", f->dir);
    tn_err e;
    if (conf_finish(&f->c, &e) != TN_OK || svc_init_registry(&f->c, &e) != TN_OK ||
        svc_open(&f->c, &f->s, &e) != TN_OK)
        return -1;
    svc_actor_local(&f->admin, SVC_CH_CLI);
    svc_prov_actor(&f->worker, "t");
    static const char *const names[] = {"Aino", "Eero", "Sanna"};
    for (int i = 0; i < 3; i++) {
        person_input in = {.given_names = names[i], .family_name = "Laine",
                           .birth_date = "1990-01-01"};
        if (svc_person_add(f->s, &f->admin, &in, &f->p[i], &e) != TN_OK)
            return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
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

static size_t due(fixture *f, svc_prov_item **items)
{
    size_t n = 0;
    tn_err e;
    int64_t added;
    assert_int_equal(svc_prov_ingest(f->s, &f->worker, "t", 1000, &added, &e), TN_OK);
    assert_int_equal(svc_prov_due(f->s, &f->worker, "t", 100, items, &n, &e), TN_OK);
    return n;
}

static void rename_person(fixture *f, int i, const char *family)
{
    person_input in = {.family_name = family};
    person out;
    tn_err e;
    char sel[64];
    snprintf(sel, sizeof sel, "id:%s", f->p[i].id);
    assert_int_equal(svc_person_update(f->s, &f->admin, sel, &in, &out, &e), TN_OK);
}

static void first_run_takes_everyone_then_changes_fold(void **state)
{
    fixture *f = *state;
    svc_prov_item *it = NULL;
    assert_int_equal(due(f, &it), 3);
    tn_err e;
    for (size_t i = 0; i < 3; i++) {
        bool fin;
        assert_int_equal(svc_prov_delivered(f->s, &f->worker, "t", &it[i], "r", "present", "",
                                            &fin, &e),
                         TN_OK);
        assert_true(fin);
    }
    free(it);
    assert_int_equal(due(f, &it), 0);
    free(it);
    /* Three changes of one person are one item. */
    rename_person(f, 1, "Koski");
    rename_person(f, 1, "Mäki");
    rename_person(f, 1, "Salo");
    assert_int_equal(due(f, &it), 1);
    assert_string_equal(it[0].person_id, f->p[1].id);
    /* A change is folded in while the item is being delivered: the item
     * stays, due again at once. */
    rename_person(f, 1, "Niemi");
    svc_prov_item *again = NULL;
    assert_int_equal(due(f, &again), 1);
    assert_true(again[0].last_outbox_id > it[0].last_outbox_id);
    free(again);
    bool fin;
    assert_int_equal(svc_prov_delivered(f->s, &f->worker, "t", &it[0], "r", "present", "", &fin,
                                        &e),
                     TN_OK);
    assert_false(fin);
    free(it);
    assert_int_equal(due(f, &it), 1);
    assert_int_equal(svc_prov_delivered(f->s, &f->worker, "t", &it[0], "r", "present", "", &fin,
                                        &e),
                     TN_OK);
    assert_true(fin);
    free(it);
    /* A change not yet folded in when an item goes is a new item. */
    assert_int_equal(due(f, &it), 0);
    free(it);
    rename_person(f, 2, "Lahti");
    assert_int_equal(due(f, &it), 1);
    rename_person(f, 2, "Oja");
    assert_int_equal(svc_prov_delivered(f->s, &f->worker, "t", &it[0], "r", "present", "", &fin,
                                        &e),
                     TN_OK);
    assert_true(fin);
    free(it);
    assert_int_equal(due(f, &it), 1);
    assert_int_equal(svc_prov_delivered(f->s, &f->worker, "t", &it[0], "r", "present", "", &fin,
                                        &e),
                     TN_OK);
    free(it);
    svc_prov_counts k;
    assert_int_equal(svc_prov_counts_get(f->s, &f->admin, "t", &k, &e), TN_OK);
    assert_int_equal(k.pending, 0);
    assert_int_equal(k.delivered, 7);
    assert_int_equal(k.resources, 3);
    assert_int_equal(k.cursor, k.outbox_max);
}

static void failures_back_off_park_and_release(void **state)
{
    fixture *f = *state;
    conf_target t;
    memset(&t, 0, sizeof t);
    tn_strlcpy(t.name, "t", sizeof t.name);
    t.max_attempts = 2;
    t.backoff = 1;
    svc_prov_item *it = NULL;
    assert_int_equal(due(f, &it), 3);
    tn_err e;
    assert_int_equal(svc_prov_failed(f->s, &f->worker, &t, &it[0], "refused", &e), TN_OK);
    free(it);
    /* Backing off: not due now; the others are. */
    assert_int_equal(due(f, &it), 2);
    free(it);
    sleep(1);
    usleep(100000);
    assert_int_equal(due(f, &it), 3);
    assert_int_equal(it[0].attempts, 1);
    assert_int_equal(svc_prov_failed(f->s, &f->worker, &t, &it[0], "refused again", &e), TN_OK);
    svc_prov_item parked_one = it[0];
    free(it);
    svc_prov_item *pk = NULL;
    size_t np = 0;
    assert_int_equal(svc_prov_parked(f->s, &f->admin, "t", &pk, &np, &e), TN_OK);
    assert_int_equal(np, 1);
    assert_string_equal(pk[0].last_error, "refused again");
    assert_int_equal(pk[0].attempts, 2);
    free(pk);
    sleep(1);
    usleep(100000);
    assert_int_equal(due(f, &it), 2); /* parked stays out */
    free(it);
    /* Retry releases it with a fresh count. */
    int64_t n;
    assert_int_equal(svc_prov_retry(f->s, &f->admin, "t", parked_one.id, &n, &e), TN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(svc_prov_retry(f->s, &f->admin, "t", parked_one.id, &n, &e), TN_ENOTFOUND);
    assert_int_equal(due(f, &it), 3);
    assert_int_equal(it[0].attempts, 0);
    assert_int_equal(svc_prov_failed(f->s, &f->worker, &t, &it[0], "x", &e), TN_OK);
    assert_int_equal(svc_prov_failed(f->s, &f->worker, &t, &it[0], "x", &e), TN_OK);
    free(it);
    /* ... and so does a new change of the person. */
    for (int i = 0; i < 3; i++)
        if (strcmp(f->p[i].id, parked_one.person_id) == 0)
            rename_person(f, i, "Uusi");
    assert_int_equal(due(f, &it), 3);
    free(it);
    /* The provisioning worker is an internal job; a person may not. */
    svc_actor pa;
    memset(&pa, 0, sizeof pa);
    pa.kind = SVC_ACTOR_PERSON;
    tn_strlcpy(pa.id, f->p[0].id, sizeof pa.id);
    int64_t added;
    assert_int_equal(svc_prov_ingest(f->s, &pa, "t", 10, &added, &e), TN_EDENIED);
}

static void subject_facts(void **state)
{
    fixture *f = *state;
    svc_prov_subject x;
    tn_err e;
    assert_int_equal(svc_prov_subject_get(f->s, &f->worker, "t", f->p[0].id, &x, &e), TN_OK);
    assert_true(x.exists);
    assert_false(x.has_account);
    assert_false(x.has_resource);
    assert_string_equal(x.p.given_names, "Aino");
    svc_prov_subject_free(&x);
    assert_int_equal(svc_prov_subject_get(f->s, &f->worker, "t",
                                          "01900000-0000-7000-8000-000000000000", &x, &e),
                     TN_OK);
    assert_false(x.exists);
    svc_prov_subject_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(first_run_takes_everyone_then_changes_fold, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(failures_back_off_park_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(subject_facts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
