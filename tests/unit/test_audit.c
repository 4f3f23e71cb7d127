/* Unit tests of the audit chain: the canonical encoding, the chain step,
 * checkpoint signatures and verification over a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "sec.h"
#include "store.h"

static store_audit_row sample(void)
{
    store_audit_row r = {
        .time_us = 1700000000000001,
        .actor_kind = "admin",
        .actor_id = "os:ops",
        .channel = "cli",
        .action = "person.read",
        .subject_id = "01a1feb0-0000-7000-8000-000000000001",
        .attrs = "given_names",
        .changes = NULL,
        .result = "allowed",
        .request_id = "r1",
        .source = "local",
        .detail = NULL,
    };
    return r;
}

static void test_encoding_layout(void **state)
{
    (void)state;
    store_audit_row r = sample();
    tn_buf b;
    tn_buf_init(&b, 4096);
    assert_true(store_audit_encode(7, &r, &b));
    /* tag with NUL, seq, time, then 11 length-prefixed fields */
    const char tag[] = "tunnus.audit.event.v1";
    assert_memory_equal(b.data, tag, sizeof tag);
    const unsigned char *p = (const unsigned char *)b.data + sizeof tag;
    const unsigned char seq[8] = {0, 0, 0, 0, 0, 0, 0, 7};
    assert_memory_equal(p, seq, 8);
    p += 16;
    const unsigned char len5[4] = {0, 0, 0, 5};
    assert_memory_equal(p, len5, 4);
    assert_memory_equal(p + 4, "admin", 5);
    size_t want = sizeof tag + 16;
    const char *f[] = {"admin", "os:ops", "cli", "person.read",
                       "01a1feb0-0000-7000-8000-000000000001", "given_names", "", "allowed", "r1",
                       "local", ""};
    for (size_t i = 0; i < 11; i++)
        want += 4 + strlen(f[i]);
    assert_int_equal(b.len, want);
    tn_buf_free(&b);
}

static void test_digest_sensitivity(void **state)
{
    (void)state;
    store_audit_row r = sample(), r2 = sample();
    unsigned char a[32], b[32];
    audit_digest(1, &r, a);
    audit_digest(1, &r2, b);
    assert_memory_equal(a, b, 32);
    /* NULL and "" are the same value. */
    r2.detail = "";
    audit_digest(1, &r2, b);
    assert_memory_equal(a, b, 32);
    /* seq, every field and field boundaries count. */
    audit_digest(2, &r, b);
    assert_memory_not_equal(a, b, 32);
    r2 = sample();
    r2.actor_id = "os:opt";
    audit_digest(1, &r2, b);
    assert_memory_not_equal(a, b, 32);
    r2 = sample();
    r2.actor_kind = "admi";
    r2.actor_id = "nos:ops";
    audit_digest(1, &r2, b);
    assert_memory_not_equal(a, b, 32);
    /* The link is BLAKE2b(prev || digest) and depends on prev. */
    unsigned char z[32] = {0}, one[32] = {1}, l1[32], l2[32], manual[32], cat[64];
    audit_link(z, a, l1);
    audit_link(one, a, l2);
    assert_memory_not_equal(l1, l2, 32);
    memcpy(cat, z, 32);
    memcpy(cat + 32, a, 32);
    sec_hash(cat, 64, manual);
    assert_memory_equal(l1, manual, 32);
}

/* audit_digest encodes on its own (no growable buffer); it must hash the
 * very bytes of store_audit_encode, for small events (stack) and big ones. */
static void test_digest_is_the_hash_of_the_encoding(void **state)
{
    (void)state;
    static char big[3000];
    memset(big, 'x', sizeof big - 1);
    store_audit_row rows[3] = {sample(), sample(), sample()};
    rows[1].changes = "{\"phone\":{\"old\":\"+358401\",\"new\":\"+358402\"}}";
    rows[1].subject_id = NULL;
    rows[2].detail = big;
    for (size_t i = 0; i < 3; i++) {
        tn_buf b;
        unsigned char want[32], got[32];
        tn_buf_init(&b, 1024 * 1024);
        assert_true(store_audit_encode(42, &rows[i], &b));
        sec_hash(b.data, b.len, want);
        audit_digest(42, &rows[i], got);
        assert_memory_equal(want, got, 32);
        tn_buf_free(&b);
    }
}

typedef struct fx {
    char dir[64];
    char db[96];
    char key[96];
    store *st;
    sec_keys k;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    tn_err e;
    snprintf(f->dir, sizeof f->dir, "/tmp/tn_audit_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/r.db", f->dir);
    snprintf(f->key, sizeof f->key, "%s/r.key", f->dir);
    if (sec_init(&e) != TN_OK || sec_keys_create(f->key, &e) != TN_OK ||
        sec_keys_load(f->key, &f->k, &e) != TN_OK ||
        store_open(f->db, STORE_OPEN_CREATE, &f->st, &e) != TN_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char p[128];
    store_close(f->st);
    unlink(f->db);
    snprintf(p, sizeof p, "%s-wal", f->db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->db);
    unlink(p);
    unlink(f->key);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void append_n(fx *f, int n)
{
    tn_err e;
    store_audit_row r = sample();
    assert_int_equal(store_tx_begin(f->st, &e), TN_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(audit_chain_append(f->st, &f->k, &r, NULL, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->st, &e), TN_OK);
}

static void test_chain_verifies_and_checkpoints(void **state)
{
    fx *f = *state;
    tn_err e;
    audit_verify_result v;
    assert_int_equal(audit_verify(f->st, f->k.sign_pk, &v, &e), TN_OK);
    assert_true(v.ok);
    assert_int_equal(v.events, 0);
    append_n(f, AUDIT_CHECKPOINT_EVERY + 3);
    assert_int_equal(audit_verify(f->st, f->k.sign_pk, &v, &e), TN_OK);
    assert_true(v.ok);
    assert_int_equal(v.events, AUDIT_CHECKPOINT_EVERY + 3);
    assert_int_equal(v.checkpoints, 1);
    assert_int_equal(v.signed_seq, AUDIT_CHECKPOINT_EVERY);
    /* Another key does not verify the checkpoints. */
    sec_keys other;
    char p2[128];
    snprintf(p2, sizeof p2, "%s/other.key", f->dir);
    assert_int_equal(sec_keys_create(p2, &e), TN_OK);
    assert_int_equal(sec_keys_load(p2, &other, &e), TN_OK);
    unlink(p2);
    assert_int_equal(audit_verify(f->st, other.sign_pk, &v, &e), TN_OK);
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, AUDIT_CHECKPOINT_EVERY);
    /* An explicit checkpoint covers the tail; a second is not written. */
    int64_t seq = 0;
    assert_int_equal(store_tx_begin(f->st, &e), TN_OK);
    assert_int_equal(audit_checkpoint_now(f->st, &f->k, &seq, &e), TN_OK);
    assert_int_equal(audit_checkpoint_now(f->st, &f->k, &seq, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->st, &e), TN_OK);
    assert_int_equal(audit_verify(f->st, f->k.sign_pk, &v, &e), TN_OK);
    assert_true(v.ok);
    assert_int_equal(v.checkpoints, 2);
    assert_int_equal(v.signed_seq, AUDIT_CHECKPOINT_EVERY + 3);
}

static void test_prune_all_then_continue(void **state)
{
    fx *f = *state;
    tn_err e;
    append_n(f, 10);
    int64_t deleted = 0, cut = 0;
    assert_int_equal(store_tx_begin(f->st, &e), TN_OK);
    /* Events are from 2023; cut at 2030 takes all (nobody on hold). */
    assert_int_equal(audit_prune(f->st, &f->k, INT64_C(1893456000000000), "2030-01-01", &deleted,
                                 &cut, &e),
                     TN_OK);
    assert_int_equal(store_tx_commit(f->st, &e), TN_OK);
    assert_int_equal(deleted, 10);
    assert_int_equal(cut, 10);
    append_n(f, 2);
    audit_verify_result v;
    assert_int_equal(audit_verify(f->st, f->k.sign_pk, &v, &e), TN_OK);
    assert_true(v.ok);
    assert_int_equal(v.cut_seq, 10);
    assert_int_equal(v.first_seq, 11);
    assert_int_equal(v.last_seq, 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding_layout),
        cmocka_unit_test(test_digest_sensitivity),
        cmocka_unit_test(test_digest_is_the_hash_of_the_encoding),
        cmocka_unit_test_setup_teardown(test_chain_verifies_and_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_all_then_continue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
