/* Unit tests of the read log's blocks (store_sqlite_rlblock.c): a chain
 * stored in blocks reads back exactly as the registry's row per event
 * (scans, bounds, the cut's first event, the per-subject index with time
 * bounds); the retention cut rewrites the blocks it cuts into, keeps held
 * persons' events and their index entries, and the chain still verifies;
 * a read log of format version 1 (a row per event) is converted in place
 * and verifies as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "audit.h"
#include "lock_holder.h"
#include "sec.h"
#include "store.h"

#define N_EVENTS 700
#define T0 1700000000000000LL

typedef struct fx {
    char dir[64], reg[96], rl[112], fake[112], v1[112];
    sec_keys k;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    tn_err e;
    char key[96];
    snprintf(f->dir, sizeof f->dir, "/tmp/tn_readlog_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(key, sizeof key, "%s/r.key", f->dir);
    snprintf(f->reg, sizeof f->reg, "%s/r.db", f->dir);
    snprintf(f->rl, sizeof f->rl, "%s/r.db.reads", f->dir);
    snprintf(f->fake, sizeof f->fake, "%s/holds.db", f->dir);
    snprintf(f->v1, sizeof f->v1, "%s/v1.reads", f->dir);
    if (sec_init(&e) != TN_OK || sec_keys_create(key, &e) != TN_OK ||
        sec_keys_load(key, &f->k, &e) != TN_OK)
        return -1;
    unlink(key);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    sec_keys_wipe(&f->k);
    free(f);
    return 0;
}

static const char *const SUBJECTS[] = {"p-anna", "p-bertta", "p-cecilia", "p-held", NULL};

/* Event i: five subjects (one of them none), times 10 ms apart with a few
 * out of order (threads stamp before they append), optional fields. */
static store_audit_row row(int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "req-%d", i);
    return (store_audit_row){
        .time_us = T0 + 10000LL * i - (i % 13 == 0 ? 15000 : 0),
        .actor_kind = i % 3 ? "person" : "client",
        .actor_id = "0b6f1e2a-actor",
        .channel = i % 2 ? "ldap" : "scim",
        .action = "person.read",
        .subject_id = SUBJECTS[i % 5],
        .attrs = "given_names,family_name,email",
        .changes = i % 7 == 0 ? "{\"phone\":[\"a\",\"b\"]}" : NULL,
        .result = "allowed",
        .request_id = buf,
        .source = "127.0.0.1",
        .detail = i % 11 == 0 ? "paged" : NULL,
    };
}

/* The same events into st as the ingest puts them: blocks of up to
 * `per` events, hashes chained ahead. */
static void put_blocks(store *st, const sec_keys *k, int from, int to, int per)
{
    tn_err e;
    audit_head h;
    assert_int_equal(store_tx_begin(st, &e), TN_OK);
    assert_int_equal(audit_chain_head(st, &h, &e), TN_OK);
    tn_buf blk, enc;
    tn_buf_init(&blk, 1 << 24);
    tn_buf_init(&enc, 1 << 20);
    int n = 0;
    char buf[32];
    for (int i = from; i < to; i++) {
        store_audit_row r = row(i, buf, sizeof buf);
        unsigned char d[AUDIT_HASH_BYTES];
        int64_t seq = h.seq + 1;
        audit_digest(seq, &r, d);
        audit_link(h.hash, d, h.hash);
        h.seq = seq;
        tn_buf_reset(&enc);
        assert_true(store_audit_encode(seq, &r, &enc));
        store_audit_block_add(&blk, (const unsigned char *)enc.data, enc.len, h.hash);
        if (++n == per || i + 1 == to) {
            assert_int_equal(
                audit_chain_put_block(st, k, (const unsigned char *)blk.data, blk.len, &e), TN_OK);
            tn_buf_reset(&blk);
            n = 0;
        }
    }
    assert_int_equal(store_tx_commit(st, &e), TN_OK);
    tn_buf_free(&blk);
    tn_buf_free(&enc);
}

/* A scan flattened to one line per event, hash included. */
static int flat_cb(const store_audit_rec *x, void *ctx)
{
    tn_buf *b = ctx;
    assert_null(x->damaged);
    const store_audit_row *r = &x->r;
    tn_buf_printf(b, "%lld|%lld|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%d|", (long long)x->seq,
                  (long long)r->time_us, r->actor_kind, r->actor_id, r->channel, r->action,
                  r->subject_id ? r->subject_id : "-", r->attrs, r->changes ? r->changes : "-",
                  r->result, r->request_id, r->source, r->detail ? r->detail : "-", x->held);
    for (size_t i = 0; i < x->hash_len; i++)
        tn_buf_printf(b, "%02x", x->hash[i]);
    tn_buf_putc(b, '\n');
    return 0;
}

static char *scan(store *st, int64_t from, int64_t to, const char *held_on)
{
    tn_err e;
    tn_buf b;
    tn_buf_init(&b, 1 << 26);
    assert_int_equal(store_audit_scan(st, from, to, held_on, flat_cb, &b, &e), TN_OK);
    return b.data ? b.data : strdup("");
}

static char *by_subject(store *st, const char *id, int64_t from_us, int64_t to_us)
{
    tn_err e;
    tn_buf b;
    tn_buf_init(&b, 1 << 26);
    int64_t n;
    assert_int_equal(store_tx_begin(st, &e), TN_OK);
    assert_int_equal(store_audit_index_catch_up(st, &n, &e), TN_OK);
    assert_int_equal(store_audit_by_subject(st, id, from_us, to_us, flat_cb, &b, &e), TN_OK);
    assert_int_equal(store_tx_commit(st, &e), TN_OK);
    return b.data ? b.data : strdup("");
}

static void same(char *a, char *b)
{
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void verify_ok(store *st, const fx *f, int64_t last)
{
    tn_err e;
    audit_verify_result v;
    assert_int_equal(audit_verify(st, f->k.sign_pk, &v, &e), TN_OK);
    if (!v.ok)
        fail_msg("verify: %s at %lld", v.reason, (long long)v.bad_seq);
    assert_int_equal(v.last_seq, last);
}

static void test_blocks_read_back_as_rows(void **state)
{
    fx *f = *state;
    tn_err e;
    store *reg, *rl;
    assert_int_equal(store_open(f->reg, STORE_OPEN_CREATE, &reg, &e), TN_OK);
    assert_int_equal(store_open_readlog(f->rl, NULL, STORE_OPEN_CREATE, &rl, &e), TN_OK);
    /* Uneven blocks, and a second batch that continues the chain. */
    put_blocks(reg, &f->k, 0, 450, 37);
    put_blocks(rl, &f->k, 0, 450, 37);
    put_blocks(reg, &f->k, 450, N_EVENTS, 256);
    put_blocks(rl, &f->k, 450, N_EVENTS, 256);
    verify_ok(rl, f, N_EVENTS);
    int64_t s1, s2;
    unsigned char h1[STORE_HASH_BYTES], h2[STORE_HASH_BYTES];
    bool has;
    assert_int_equal(store_audit_head(reg, &s1, h1, &has, &e), TN_OK);
    assert_int_equal(store_audit_head(rl, &s2, h2, &has, &e), TN_OK);
    assert_int_equal(s1, N_EVENTS);
    assert_int_equal(s2, N_EVENTS);
    assert_memory_equal(h1, h2, STORE_HASH_BYTES);
    same(scan(reg, 1, 0, NULL), scan(rl, 1, 0, NULL));
    /* Bounds inside blocks and across them. */
    same(scan(reg, 30, 40, NULL), scan(rl, 30, 40, NULL));
    same(scan(reg, 37, 75, NULL), scan(rl, 37, 75, NULL));
    same(scan(reg, 449, 451, NULL), scan(rl, 449, 451, NULL));
    same(scan(reg, N_EVENTS, 0, NULL), scan(rl, N_EVENTS, 0, NULL));
    /* The cut's first event: before everything, between events, at an
     * event stamped out of order, after everything. */
    int64_t cuts[] = {0, T0 + 5000, T0 + 10000 * 130 - 15000, T0 + 10000 * 131 + 1,
                      T0 + 10000LL * N_EVENTS};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(store_audit_cut_seq(reg, cuts[i], &s1, &e), TN_OK);
        assert_int_equal(store_audit_cut_seq(rl, cuts[i], &s2, &e), TN_OK);
        assert_int_equal(s1, s2);
    }
    /* The person's report, whole and within times. */
    for (int i = 0; SUBJECTS[i]; i++) {
        same(by_subject(reg, SUBJECTS[i], 0, 0), by_subject(rl, SUBJECTS[i], 0, 0));
        same(by_subject(reg, SUBJECTS[i], T0 + 10000 * 100, T0 + 10000 * 333),
             by_subject(rl, SUBJECTS[i], T0 + 10000 * 100, T0 + 10000 * 333));
    }
    store_close(reg);
    store_close(rl);
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

static int64_t count_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static int count_cb(const store_audit_rec *x, void *ctx)
{
    (void)x;
    ++*(int64_t *)ctx;
    return 0;
}

static void test_cut_rewrites_blocks_and_keeps_held_events(void **state)
{
    fx *f = *state;
    tn_err e;
    /* The legal holds come from the registry the prune attaches: here a
     * file with only the column it reads. */
    exec_sql(f->fake, "CREATE TABLE person (id TEXT PRIMARY KEY, legal_hold_until TEXT);"
                      "INSERT INTO person VALUES ('p-held', '2099-12-31'), "
                      "('p-anna', '2020-01-01');");
    store *rl;
    assert_int_equal(store_open_readlog(f->rl, f->fake, STORE_OPEN_CREATE, &rl, &e), TN_OK);
    put_blocks(rl, &f->k, 0, N_EVENTS, 50);
    int64_t n;
    assert_int_equal(store_tx_begin(rl, &e), TN_OK);
    assert_int_equal(store_audit_index_catch_up(rl, &n, &e), TN_OK);
    assert_int_equal(store_tx_commit(rl, &e), TN_OK);
    /* Cut inside the sixth block: events 1..275 go, except p-held's. */
    int64_t cut_us = T0 + 10000LL * 274 + 1, deleted = 0, cut_seq = 0;
    assert_int_equal(store_tx_begin(rl, &e), TN_OK);
    assert_int_equal(audit_prune(rl, &f->k, cut_us, "2026-11-22", &deleted, &cut_seq, &e), TN_OK);
    assert_int_equal(store_tx_commit(rl, &e), TN_OK);
    assert_int_equal(cut_seq, 275);
    /* Event i (0-based) has seq i + 1 and subject SUBJECTS[i % 5]:
     * p-held is i % 5 == 3, 55 of the first 275. */
    assert_int_equal(deleted, 275 - 55);
    verify_ok(rl, f, N_EVENTS);
    int64_t kept = 0;
    assert_int_equal(store_audit_scan(rl, 1, 275, NULL, count_cb, &kept, &e), TN_OK);
    assert_int_equal(kept, 55);
    /* The index: p-held keeps all of its events, p-anna only those after
     * the cut; nothing of p-anna before the cut is listed any more. */
    char *held = by_subject(rl, "p-held", 0, 0), *anna = by_subject(rl, "p-anna", 0, 0);
    size_t lines_held = 0, lines_anna = 0;
    for (char *p = held; *p; p++)
        lines_held += *p == '\n';
    for (char *p = anna; *p; p++)
        lines_anna += *p == '\n';
    assert_int_equal(lines_held, N_EVENTS / 5);
    assert_int_equal(lines_anna, (N_EVENTS - 275) / 5);
    free(held);
    free(anna);
    assert_int_equal(count_rows(f->rl, "SELECT count(*) FROM audit_subject WHERE seq <= 275 "
                                       "AND subject_id <> 'p-held'"),
                     0);
    /* A second cut later on starts from the first: still verifies. */
    assert_int_equal(store_tx_begin(rl, &e), TN_OK);
    assert_int_equal(audit_prune(rl, &f->k, T0 + 10000LL * 499 + 1, "2026-11-22", &deleted,
                                 &cut_seq, &e),
                     TN_OK);
    assert_int_equal(store_tx_commit(rl, &e), TN_OK);
    assert_int_equal(cut_seq, 500);
    verify_ok(rl, f, N_EVENTS);
    /* Before the second cut only held events are left. */
    char *before = scan(rl, 1, 500, NULL);
    size_t lines = 0;
    for (char *p = before, *nl; (nl = strchr(p, '\n')); p = nl + 1, lines++)
        assert_non_null(strstr(p, "|p-held|") && strstr(p, "|p-held|") < nl ? p : NULL);
    assert_int_equal(lines, 100);
    free(before);
    store_close(rl);
}

typedef struct first_rec {
    int64_t seq;
    const char *damaged;
    int n;
} first_rec;

static int first_cb(const store_audit_rec *x, void *ctx)
{
    first_rec *r = ctx;
    if (r->n++ == 0) {
        r->seq = x->seq;
        r->damaged = x->damaged;
    }
    return 0;
}

/* A block whose stored bytes no longer unpack is reported at the first
 * event a scan asks for, also when the scan starts inside it (an export
 * of a later period), and verify names its first event. */
static void test_damage_is_reported_where_a_scan_starts(void **state)
{
    fx *f = *state;
    tn_err e;
    store *rl;
    assert_int_equal(store_open_readlog(f->rl, NULL, STORE_OPEN_CREATE, &rl, &e), TN_OK);
    put_blocks(rl, &f->k, 0, 200, 50); /* blocks 1-50, 51-100, ... */
    store_close(rl);
    exec_sql(f->rl, "DROP TRIGGER audit_block_no_update;"
                    "UPDATE audit_block SET events = substr(events, 1, 20) WHERE seq = 100;");
    assert_int_equal(store_open_readlog(f->rl, NULL, STORE_OPEN_EXISTING, &rl, &e), TN_OK);
    first_rec r = {0};
    assert_int_equal(store_audit_scan(rl, 70, 80, NULL, first_cb, &r, &e), TN_OK);
    assert_int_equal(r.n, 1); /* the rest of the block cannot be read */
    assert_int_equal(r.seq, 70);
    assert_non_null(r.damaged);
    r = (first_rec){0};
    assert_int_equal(store_audit_scan(rl, 40, 0, NULL, first_cb, &r, &e), TN_OK);
    assert_int_equal(r.seq, 40);
    assert_null(r.damaged);
    audit_verify_result v;
    assert_int_equal(audit_verify(rl, f->k.sign_pk, &v, &e), TN_OK);
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, 51);
    assert_non_null(strstr(v.reason, "damaged"));
    store_close(rl);
}

/* Version 1 of the read log, as it was created. */
static const char V1_SCHEMA[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE audit_event ("
    " seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, actor_kind TEXT NOT NULL,"
    " actor_id TEXT NOT NULL, channel TEXT NOT NULL, action TEXT NOT NULL, subject_id TEXT,"
    " attrs TEXT NOT NULL DEFAULT '', changes TEXT,"
    " result TEXT NOT NULL CHECK (result = 'allowed' OR result = 'denied' OR result = 'failed'),"
    " request_id TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', detail TEXT,"
    " hash BLOB);"
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;"
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    " WHEN (SELECT value FROM meta WHERE key = 'audit_prune') IS NOT 'open' "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;"
    "CREATE TABLE audit_checkpoint ("
    " id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, hash BLOB NOT NULL,"
    " time_us INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind = 'periodic' OR kind = 'cut'),"
    " cut_us INTEGER NOT NULL DEFAULT 0, kept BLOB NOT NULL DEFAULT x'', sig BLOB NOT NULL);"
    "CREATE INDEX audit_checkpoint_seq ON audit_checkpoint(seq);"
    "CREATE INDEX audit_checkpoint_cut ON audit_checkpoint(seq DESC, id DESC) "
    " WHERE kind = 'cut';"
    "CREATE TABLE audit_subject (subject_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY (subject_id, seq)) WITHOUT ROWID;"
    "PRAGMA user_version = 1;";

static void test_version_1_is_converted(void **state)
{
    fx *f = *state;
    tn_err e;
    /* The registry's rows of the same chain are what version 1 held: copy
     * them, checkpoints too, into a version 1 file. */
    store *reg;
    assert_int_equal(store_open(f->reg, STORE_OPEN_CREATE, &reg, &e), TN_OK);
    put_blocks(reg, &f->k, 0, 300, 1000);
    char *want = scan(reg, 1, 0, NULL);
    store_close(reg);
    exec_sql(f->v1, V1_SCHEMA);
    char sql[512];
    snprintf(sql, sizeof sql,
             "ATTACH DATABASE '%s' AS reg;"
             "INSERT INTO audit_event SELECT seq, time_us, actor_kind, actor_id, channel, "
             "action, subject_id, attrs, changes, result, request_id, source, detail, hash "
             "FROM reg.audit_event;"
             "INSERT INTO audit_checkpoint SELECT id, seq, hash, time_us, kind, cut_us, kept, "
             "sig FROM reg.audit_checkpoint;",
             f->reg);
    exec_sql(f->v1, sql);
    assert_int_equal(count_rows(f->v1, "SELECT count(*) FROM audit_checkpoint"),
                     300 / AUDIT_CHECKPOINT_EVERY);
    store *rl;
    assert_int_equal(store_open_readlog(f->v1, NULL, STORE_OPEN_EXISTING, &rl, &e), TN_OK);
    char *got = scan(rl, 1, 0, NULL);
    assert_string_equal(got, want);
    free(got);
    free(want);
    audit_verify_result v;
    assert_int_equal(audit_verify(rl, f->k.sign_pk, &v, &e), TN_OK);
    assert_true(v.ok);
    assert_int_equal(v.last_seq, 300);
    assert_int_equal(v.signed_seq, 300 / AUDIT_CHECKPOINT_EVERY * AUDIT_CHECKPOINT_EVERY);
    /* The chain goes on in blocks. */
    put_blocks(rl, &f->k, 300, 320, 8);
    verify_ok(rl, f, 320);
    store_close(rl);
    assert_int_equal(count_rows(f->v1, "PRAGMA user_version"), 2);
    assert_int_equal(count_rows(f->v1, "SELECT count(*) FROM sqlite_master "
                                       "WHERE name = 'audit_event'"),
                     0);
    /* A conversion whose process stopped before the old table went: the
     * next open drops it, and nothing else changes. */
    exec_sql(f->v1, "CREATE TABLE audit_event (seq INTEGER PRIMARY KEY, x);"
                    "INSERT INTO audit_event VALUES (1, 'old');");
    assert_int_equal(store_open_readlog(f->v1, NULL, STORE_OPEN_EXISTING, &rl, &e), TN_OK);
    verify_ok(rl, f, 320);
    store_close(rl);
    assert_int_equal(count_rows(f->v1, "SELECT count(*) FROM sqlite_master "
                                       "WHERE name = 'audit_event'"),
                     0);
}

/* While one process converts a version 1 read log (minutes for a large
 * one), another that opens it waits for the conversion instead of failing
 * after the usual busy timeout: here a process holds the write lock for
 * longer than that timeout. */
static void test_opener_waits_for_a_conversion(void **state)
{
    fx *f = *state;
    exec_sql(f->v1, V1_SCHEMA);
    exec_sql(f->v1, "PRAGMA journal_mode = WAL");
    pid_t kid = lock_holder_start(f->v1, 6500); /* past the 5 s busy timeout */
    assert_true(kid > 0);
    tn_err e;
    store *rl;
    assert_int_equal(store_open_readlog(f->v1, NULL, STORE_OPEN_EXISTING, &rl, &e), TN_OK);
    store_close(rl);
    assert_true(lock_holder_end(kid));
    assert_int_equal(count_rows(f->v1, "PRAGMA user_version"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blocks_read_back_as_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_rewrites_blocks_and_keeps_held_events, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_version_1_is_converted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_is_reported_where_a_scan_starts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_opener_waits_for_a_conversion, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
