/* Unit tests of the group commit of read events across threads
 * (audit_share / audit_group.c): every event lands exactly once, the chain
 * verifies, many flushes share a commit, and a failed commit reaches every
 * waiter whose events were in it. */
#include <pthread.h>
#include <sys/stat.h>
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

#define THREADS 4
#define READS 2000

typedef struct fx {
    char dir[64], db[96], key[96], rl[112];
    sec_keys k;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    tn_err e;
    store *st;
    snprintf(f->dir, sizeof f->dir, "/tmp/tn_audit_group_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof f->db, "%s/r.db", f->dir);
    snprintf(f->key, sizeof f->key, "%s/r.key", f->dir);
    snprintf(f->rl, sizeof f->rl, "%s.reads", f->db);
    if (sec_init(&e) != TN_OK || sec_keys_create(f->key, &e) != TN_OK ||
        sec_keys_load(f->key, &f->k, &e) != TN_OK ||
        store_open(f->db, STORE_OPEN_CREATE, &st, &e) != TN_OK)
        return -1;
    store_close(st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char p[128];
    unlink(f->db);
    snprintf(p, sizeof p, "%s-wal", f->db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->db);
    unlink(p);
    unlink(f->key);
    const char *side[] = {"", "-wal", "-shm", ".tail"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->rl, side[i]);
        unlink(p);
    }
    rmdir(f->dir);
    sec_keys_wipe(&f->k);
    free(f);
    return 0;
}

/* One thread's handle: its own connection, in the registry's group. */
typedef struct worker {
    const fx *f;
    int index;
    int reads;
    int busy_ms; /* 0: the default busy timeout */
    pthread_barrier_t *start;
    store *st;
    audit *a;
    bool readlog; /* reads go to the read log (the server's set-up) */
    store *rl;
    int failures; /* flushes that returned an error */
    int busy_errors; /* of which "registry is busy" (TN_EIO) */
} worker;

static void worker_open(worker *w)
{
    tn_err e;
    assert_int_equal(store_open(w->f->db, STORE_OPEN_EXISTING, &w->st, &e), TN_OK);
    if (w->busy_ms)
        store_set_busy_timeout(w->st, w->busy_ms);
    w->a = audit_new(w->st);
    audit_set_signer(w->a, &w->f->k);
    audit_share(w->a, w->f->db);
    if (w->readlog) {
        assert_int_equal(store_open_readlog(w->f->rl, NULL, STORE_OPEN_EXISTING, &w->rl, &e),
                         TN_OK);
        assert_int_equal(audit_set_readlog(w->a, w->rl, w->f->rl, &e), TN_OK);
    }
}

static void worker_close(worker *w)
{
    audit_free(w->a);
    store_close(w->rl);
    store_close(w->st);
}

static void queue_read(worker *w, int i)
{
    char rid[40];
    tn_err e;
    snprintf(rid, sizeof rid, "t%d-r%d", w->index, i);
    store_audit_row r = {
        .time_us = audit_now_us(),
        .actor_kind = "client",
        .actor_id = "test",
        .channel = "api",
        .action = "person.read",
        .subject_id = "01a1feb0-0000-7000-8000-000000000001",
        .attrs = "given_names,family_name",
        .result = "allowed",
        .request_id = rid,
        .source = "127.0.0.1",
    };
    assert_int_equal(audit_read(w->a, &r, &e), TN_OK);
}

/* Every answer is one read, flushed before it "leaves". */
static void *read_loop(void *arg)
{
    worker *w = arg;
    tn_err e;
    pthread_barrier_wait(w->start);
    for (int i = 0; i < w->reads; i++) {
        queue_read(w, i);
        /* Like a request building its answer between recording what it
         * shows and flushing: the window in which a leader waits for it. */
        usleep(20);
        if (audit_flush(w->a, &e) != TN_OK)
            w->failures++;
        else if (audit_pending(w->a) != 0)
            w->failures++; /* acknowledged but still queued */
    }
    return NULL;
}

/* Counts every (thread, read) request id seen in the log. */
typedef struct tally {
    int seen[THREADS][READS];
    int64_t events, foreign;
} tally;

static int count_cb(const store_audit_rec *x, void *ctx)
{
    const store_audit_row *r = &x->r;
    tally *t = ctx;
    int th, i;
    t->events++;
    if (sscanf(r->request_id ? r->request_id : "", "t%d-r%d", &th, &i) == 2 && th >= 0 &&
        th < THREADS && i >= 0 && i < READS)
        t->seen[th][i]++;
    else
        t->foreign++;
    return 0;
}

static void check_log_in(const fx *f, int reads_per_thread, bool readlog)
{
    tn_err e;
    store *st;
    tally *t = calloc(1, sizeof *t);
    if (readlog)
        assert_int_equal(store_open_readlog(f->rl, NULL, STORE_OPEN_EXISTING, &st, &e), TN_OK);
    else
        assert_int_equal(store_open(f->db, STORE_OPEN_EXISTING, &st, &e), TN_OK);
    assert_int_equal(store_audit_scan(st, 1, 0, NULL, count_cb, t, &e), TN_OK);
    int missing = 0, doubled = 0;
    for (int th = 0; th < THREADS; th++)
        for (int i = 0; i < reads_per_thread; i++) {
            missing += t->seen[th][i] == 0;
            doubled += t->seen[th][i] > 1;
        }
    assert_int_equal(missing, 0);
    assert_int_equal(doubled, 0);
    assert_int_equal(t->foreign, 0);
    assert_int_equal(t->events, (int64_t)THREADS * reads_per_thread);
    audit_verify_result vr;
    assert_int_equal(audit_verify(st, f->k.sign_pk, &vr, &e), TN_OK);
    assert_true(vr.ok);
    assert_int_equal(vr.last_seq, (int64_t)THREADS * reads_per_thread);
    /* Periodic checkpoints were signed by whichever thread led. */
    assert_true(vr.checkpoints >= (int64_t)THREADS * reads_per_thread / AUDIT_CHECKPOINT_EVERY);
    store_close(st);
    free(t);
}

static void check_log(const fx *f, int reads_per_thread)
{
    check_log_in(f, reads_per_thread, false);
}

static void test_many_threads_share_commits(void **state)
{
    fx *f = *state;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    worker w[THREADS];
    pthread_t tid[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.f = f, .index = i, .reads = READS, .start = &start};
        worker_open(&w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, read_loop, &w[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(tid[i], NULL);
    audit_stats s;
    audit_get_stats(w[0].a, &s);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].failures, 0);
        worker_close(&w[i]);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(s.flushes, (uint64_t)THREADS * READS);
    assert_int_equal(s.events, (uint64_t)THREADS * READS);
    assert_int_equal(s.failed_commits, 0);
    /* Flushes share commits. How many depends on the scheduler: a leader
     * waits only for members holding recorded events (see gather), so
     * no fixed ratio is promised, but some sharing must happen. */
    assert_true(s.commits < s.flushes);
    assert_true(s.max_batch >= 2 && s.max_batch <= THREADS);
    check_log(f, READS);
}

/* The single-threaded path (the CLI): a lone handle never waits for
 * others and commits its own queue at every flush. */
static void test_single_handle_commits_alone(void **state)
{
    fx *f = *state;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 1);
    worker w = {.f = f, .index = 0, .reads = 10, .start = &start};
    worker_open(&w);
    read_loop(&w);
    audit_stats s;
    audit_get_stats(w.a, &s);
    assert_int_equal(w.failures, 0);
    /* Alone, each flush is its own commit, as without a group. */
    assert_int_equal(s.flushes, 10);
    assert_int_equal(s.commits, 10);
    assert_int_equal(s.max_batch, 1);
    worker_close(&w);
    pthread_barrier_destroy(&start);
    tn_err e;
    store *st;
    assert_int_equal(store_open(f->db, STORE_OPEN_EXISTING, &st, &e), TN_OK);
    audit_verify_result vr;
    assert_int_equal(audit_verify(st, f->k.sign_pk, &vr, &e), TN_OK);
    assert_true(vr.ok);
    assert_int_equal(vr.last_seq, 10);
    store_close(st);
}

static void *flush_once(void *arg)
{
    worker *w = arg;
    tn_err e;
    queue_read(w, 0);
    pthread_barrier_wait(w->start);
    tn_code rc = audit_flush(w->a, &e);
    if (rc != TN_OK) {
        w->failures++;
        if (rc == TN_EIO && strstr(e.msg, "busy"))
            w->busy_errors++;
    }
    return NULL;
}

static void test_failed_commit_reaches_every_waiter(void **state)
{
    fx *f = *state;
    tn_err e;
    store *holder;
    /* Another connection holds the write lock for longer than the
     * members' busy timeout: every group commit must fail. */
    assert_int_equal(store_open(f->db, STORE_OPEN_EXISTING, &holder, &e), TN_OK);
    assert_int_equal(store_tx_begin(holder, &e), TN_OK);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    worker w[THREADS];
    pthread_t tid[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.f = f, .index = i, .reads = 1, .busy_ms = 300, .start = &start};
        worker_open(&w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, flush_once, &w[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(tid[i], NULL);
    audit_stats s;
    audit_get_stats(w[0].a, &s);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].failures, 1);
        assert_int_equal(w[i].busy_errors, 1);
        /* Not acknowledged, so still queued for a retry. */
        assert_int_equal(audit_pending(w[i].a), 1);
    }
    assert_int_equal(s.commits, 0);
    assert_true(s.failed_commits >= 1);
    /* Some failed commit carried more than one waiter's events. */
    assert_true(s.failed_commits < THREADS);
    store_tx_rollback(holder);
    store_close(holder);
    /* Once the lock is free the queued events commit, each exactly once. */
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(audit_flush(w[i].a, &e), TN_OK);
        assert_int_equal(audit_pending(w[i].a), 0);
    }
    for (int i = 0; i < THREADS; i++)
        worker_close(&w[i]);
    pthread_barrier_destroy(&start);
    check_log(f, 1);
}

/* The server's set-up: the threads append their reads to the read log's
 * tail file, each answer's reads durable when its flush returns, and one
 * ingest moves them into the read log; the registry gets no read event. */
static void test_threads_append_to_the_read_log(void **state)
{
    fx *f = *state;
    tn_err e;
    store *rl;
    assert_int_equal(store_open_readlog(f->rl, NULL, STORE_OPEN_CREATE, &rl, &e), TN_OK);
    store_close(rl);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    worker w[THREADS];
    pthread_t tid[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.f = f, .index = i, .reads = READS, .start = &start, .readlog = true};
        worker_open(&w[i]);
    }
    /* A registry transaction open in one handle does not hold the reads
     * back: they go to the read log's file. */
    assert_int_equal(store_tx_begin(w[0].st, &e), TN_OK);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, read_loop, &w[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(tid[i], NULL);
    store_tx_rollback(w[0].st);
    char tail[600];
    snprintf(tail, sizeof tail, "%s.tail", f->rl);
    struct stat sb;
    assert_int_equal(stat(tail, &sb), 0);
    assert_true(sb.st_size > 0);
    int64_t moved = 0, bad = -1;
    char why[200];
    assert_int_equal(audit_ingest(w[0].a, &moved, &bad, why, sizeof why, &e), TN_OK);
    assert_int_equal(moved, THREADS * READS);
    assert_int_equal(bad, 0);
    assert_int_equal(stat(tail, &sb), 0);
    assert_int_equal(sb.st_size, 0); /* everything moved: emptied */
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].failures, 0);
        worker_close(&w[i]);
    }
    pthread_barrier_destroy(&start);
    check_log_in(f, READS, true);
    /* Nothing of it in the registry. */
    store *st;
    audit_verify_result vr;
    assert_int_equal(store_open(f->db, STORE_OPEN_EXISTING, &st, &e), TN_OK);
    assert_int_equal(audit_verify(st, f->k.sign_pk, &vr, &e), TN_OK);
    assert_true(vr.ok);
    assert_int_equal(vr.events, 0);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_threads_share_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_handle_commits_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_reaches_every_waiter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_append_to_the_read_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
