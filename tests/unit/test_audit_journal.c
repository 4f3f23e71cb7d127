/* Unit tests of the read log's tail file (audit_journal.c): ingested
 * events are exactly the rows and hashes the direct chain would have
 * written; an edit, a removed frame or a reordering in the file is found
 * at the right event and nothing after it moves; a torn tail is cut and
 * the chain goes on; processes appending together lose and double
 * nothing; frames already in the table are skipped. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "audit_journal.h"
#include "sec.h"
#include "store.h"

typedef struct fx {
    char dir[64], rl[112], rl2[112], tail[128];
    sec_keys k;
    store *st;       /* the read log */
    audit_journal *j;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    tn_err e;
    char key[96];
    snprintf(f->dir, sizeof f->dir, "/tmp/tn_audit_journal_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(key, sizeof key, "%s/r.key", f->dir);
    snprintf(f->rl, sizeof f->rl, "%s/r.db.reads", f->dir);
    snprintf(f->rl2, sizeof f->rl2, "%s/direct.reads", f->dir);
    snprintf(f->tail, sizeof f->tail, "%s.tail", f->rl);
    if (sec_init(&e) != TN_OK || sec_keys_create(key, &e) != TN_OK ||
        sec_keys_load(key, &f->k, &e) != TN_OK ||
        store_open_readlog(f->rl, NULL, STORE_OPEN_CREATE, &f->st, &e) != TN_OK ||
        audit_journal_open(f->tail, &f->j, &e) != TN_OK)
        return -1;
    unlink(key);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    audit_journal_close(f->j);
    store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    sec_keys_wipe(&f->k);
    free(f);
    return 0;
}

/* Event i: the fields vary, some absent, one with a change record. */
static store_audit_row row(int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "req-%d", i);
    return (store_audit_row){
        .time_us = 1700000000000000 + i,
        .actor_kind = i % 3 ? "person" : "client",
        .actor_id = "0b6f1e2a-actor",
        .channel = i % 2 ? "ldap" : "scim",
        .action = "person.read",
        .subject_id = i % 5 ? "9a1c-subject" : NULL,
        .attrs = "given_names,family_name,email",
        .changes = i % 7 == 0 ? "{\"phone\":[\"a\",\"b\"]}" : NULL,
        .result = "allowed",
        .request_id = buf,
        .source = "127.0.0.1",
        .detail = i % 11 == 0 ? "paged" : NULL,
    };
}

static void append_range(fx *f, int from, int to)
{
    tn_err e;
    char buf[32];
    for (int i = from; i < to; i++) {
        store_audit_row r = row(i, buf, sizeof buf);
        assert_int_equal(audit_journal_append(f->j, f->st, &r, 1, &e), TN_OK);
    }
}

static int64_t ingest(fx *f, int64_t *bad, char *why, size_t cap)
{
    tn_err e;
    int64_t moved = -1;
    assert_int_equal(audit_journal_ingest(f->j, f->st, &f->k, &moved, bad, why, cap, &e), TN_OK);
    return moved;
}

static off_t tail_size(const fx *f)
{
    struct stat sb;
    assert_int_equal(stat(f->tail, &sb), 0);
    return sb.st_size;
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

/* An ingest that moves `moved` events without a break, after which the
 * chain verifies up to event last. */
static void ingest_ok(fx *f, int64_t moved, int64_t last)
{
    int64_t bad = -1;
    char why[200] = "";
    assert_int_equal(ingest(f, &bad, why, sizeof why), moved);
    if (bad)
        fail_msg("ingest stopped at %lld: %s", (long long)bad, why);
    verify_ok(f->st, f, last);
}

static void test_rows_and_hashes_equal_the_direct_chain(void **state)
{
    fx *f = *state;
    tn_err e;
    char buf[32];
    /* One append of many and many of one, as flushes come. */
    store_audit_row rows[100];
    char bufs[100][32];
    for (int i = 0; i < 100; i++)
        rows[i] = row(i, bufs[i], sizeof bufs[i]);
    assert_int_equal(audit_journal_append(f->j, f->st, rows, 100, &e), TN_OK);
    append_range(f, 100, 600);
    int64_t bad = -1;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 600);
    assert_int_equal(bad, 0);
    assert_int_equal(tail_size(f), 0);
    verify_ok(f->st, f, 600);

    store *d;
    assert_int_equal(store_open_readlog(f->rl2, NULL, STORE_OPEN_CREATE, &d, &e), TN_OK);
    assert_int_equal(store_tx_begin(d, &e), TN_OK);
    audit_head h = {0};
    for (int i = 0; i < 600; i++) {
        store_audit_row r = row(i, buf, sizeof buf);
        assert_int_equal(audit_chain_append_at(d, &f->k, &r, &h, &e), TN_OK);
    }
    assert_int_equal(store_tx_commit(d, &e), TN_OK);
    int64_t s1, s2;
    unsigned char h1[AUDIT_HASH_BYTES], h2[AUDIT_HASH_BYTES];
    bool has;
    assert_int_equal(store_audit_head(f->st, &s1, h1, &has, &e), TN_OK);
    assert_int_equal(store_audit_head(d, &s2, h2, &has, &e), TN_OK);
    assert_int_equal(s1, s2);
    assert_memory_equal(h1, h2, AUDIT_HASH_BYTES);
    audit_verify_result v;
    assert_int_equal(audit_verify(f->st, f->k.sign_pk, &v, &e), TN_OK);
    assert_int_equal(v.checkpoints, 600 / AUDIT_CHECKPOINT_EVERY);
    store_close(d);

    /* The chain goes on from the table once the file is empty. */
    append_range(f, 600, 610);
    assert_int_equal(ingest(f, &bad, why, sizeof why), 10);
    verify_ok(f->st, f, 610);
}

/* The file's bytes, for the tampering tests. */
static unsigned char *slurp(const fx *f, size_t *n)
{
    FILE *fp = fopen(f->tail, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *n = (size_t)ftell(fp);
    rewind(fp);
    unsigned char *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, fp), *n);
    fclose(fp);
    return b;
}

static void spill(const fx *f, const unsigned char *b, size_t n)
{
    int fd = open(f->tail, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
}

/* Offsets of the frames in b. */
static size_t frames(const unsigned char *b, size_t n, size_t *at, size_t cap)
{
    size_t k = 0, off = 0, len, el;
    int64_t seq;
    const unsigned char *enc, *h;
    const char *why;
    while (k < cap && audit_journal_frame(b + off, n - off, &len, &seq, &enc, &el, &h, &why) == 1) {
        at[k++] = off;
        off += len;
    }
    return k;
}

static void test_edit_is_found_at_its_event(void **state)
{
    fx *f = *state;
    append_range(f, 0, 10);
    size_t n, at[16];
    unsigned char *b = slurp(f, &n);
    assert_int_equal(frames(b, n, at, 16), 10);
    /* Event 6 (the sixth frame): one letter of its attribute list. */
    unsigned char *p = memmem(b + at[5], at[6] - at[5], "family", 6);
    assert_non_null(p);
    *p = 'F';
    spill(f, b, n);
    int64_t bad = 0;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 5);
    assert_int_equal(bad, 6);
    assert_non_null(strstr(why, "does not match its hash"));
    /* The evidence stays; the table holds what came before the break. */
    assert_int_equal(tail_size(f), (off_t)n);
    verify_ok(f->st, f, 5);
    /* Monitoring sees it: one stopped ingest, the file's bytes left. */
    audit_stats st;
    audit_journal_get_stats(f->j, &st);
    assert_int_equal(st.ingest_stops, 1);
    assert_int_equal(st.ingested, 5);
    assert_int_equal(st.tail_bytes, n);
    free(b);
}

/* Lease the file, append events [0, count) and find their frames (the
 * room allocated ahead after them is zeros): *b the file's bytes, at[] the
 * frames' offsets. */
static unsigned char *leased_frames(fx *f, int count, size_t *at, size_t cap)
{
    audit_journal_lease(f->j, true);
    append_range(f, 0, count);
    size_t n;
    unsigned char *b = slurp(f, &n);
    assert_int_equal(frames(b, n, at, cap), cap < (size_t)count ? cap : (size_t)count);
    return b;
}

/* Overwrite n bytes of the tail file at off, as someone with access to
 * the file would. */
static void poke(const fx *f, off_t off, const void *p, size_t n)
{
    int fd = open(f->tail, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, n, off), (ssize_t)n);
    close(fd);
}

/* Lease, append events [0, count) and change one letter of the sixth
 * event's attribute list in the file. */
static void leased_then_edited(fx *f, int count)
{
    size_t at[16];
    unsigned char *b = leased_frames(f, count, at, 16);
    unsigned char *p = memmem(b + at[5], at[6] - at[5], "family", 6);
    assert_non_null(p);
    poke(f, (off_t)(p - b), "F", 1);
    free(b);
}

/* A lease holder's ingest takes the frames it copied itself as they are
 * (no second hash of each): an edit made to them in the file before the
 * ingest moves into the read log and verify finds it at its event, as it
 * finds one made in the read log. Frames it did not copy are still
 * checked as they move (the test above). */
static void test_own_leased_frames_are_checked_by_verify(void **state)
{
    fx *f = *state;
    leased_then_edited(f, 10);
    int64_t bad = -1;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 10);
    assert_int_equal(bad, 0);
    assert_int_equal(tail_size(f), 0);
    tn_err e;
    audit_verify_result v;
    assert_int_equal(audit_verify(f->st, f->k.sign_pk, &v, &e), TN_OK);
    assert_false(v.ok);
    assert_int_equal(v.bad_seq, 6);
    assert_non_null(strstr(v.reason, "hash does not match"));
    audit_journal_lease(f->j, false);
}

/* An own frame whose number was changed in the file is not taken as it
 * is: it would put the read log's blocks out of order. The ingest checks
 * it like any other frame and stops there. */
static void test_own_frame_with_another_number_is_checked(void **state)
{
    fx *f = *state;
    size_t at[16];
    free(leased_frames(f, 10, at, 16));
    /* Event 6's number inside its encoding (after the 8-byte frame head
     * and the 22-byte tag): 6 becomes 60. */
    unsigned char sixty[8] = {0, 0, 0, 0, 0, 0, 0, 60};
    poke(f, (off_t)(at[5] + 8 + 22), sixty, sizeof sixty);
    int64_t bad = -1;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 5);
    assert_int_equal(bad, 6);
    assert_non_null(strstr(why, "number differs"));
    verify_ok(f->st, f, 5);
    audit_journal_lease(f->j, false);
}

static int hook_calls;
static void end_lease_once(audit_journal *j)
{
    if (hook_calls++ == 0)
        audit_journal_lease(j, false);
}

/* The lease ends while a round without the file's lock is moving frames
 * it took as its own: they may be another process's by then, so the
 * round is undone and the next one checks them. The edit made to one of
 * them is then found by the ingest itself. */
static void test_round_undone_when_the_lease_ends(void **state)
{
    fx *f = *state;
    /* More than the locked tail: the ingest moves them in unlocked rounds. */
    leased_then_edited(f, 3000);
    hook_calls = 0;
    audit_journal_round_hook = end_lease_once;
    int64_t bad = -1;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 5);
    audit_journal_round_hook = NULL;
    assert_true(hook_calls >= 2);
    assert_int_equal(bad, 6);
    assert_non_null(strstr(why, "does not match its hash"));
    verify_ok(f->st, f, 5);
}

static void test_removed_or_swapped_frames_are_found(void **state)
{
    fx *f = *state;
    append_range(f, 0, 8);
    size_t n, at[16];
    unsigned char *b = slurp(f, &n);
    assert_int_equal(frames(b, n, at, 16), 8);
    /* Frame 4 taken out. */
    unsigned char *c = malloc(n);
    size_t m = at[3];
    memcpy(c, b, at[3]);
    memcpy(c + m, b + at[4], n - at[4]);
    m += n - at[4];
    spill(f, c, m);
    int64_t bad = 0;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 3);
    assert_int_equal(bad, 4);
    assert_non_null(strstr(why, "event 4 is missing"));
    /* Frames 5 and 6 swapped: 5 is missing where 6 stands. */
    size_t l5 = at[5] - at[4], l6 = at[6] - at[5];
    m = 0;
    memcpy(c, b + at[3], at[4] - at[3]);
    m = at[4] - at[3];
    memcpy(c + m, b + at[5], l6);
    m += l6;
    memcpy(c + m, b + at[4], l5);
    m += l5;
    spill(f, c, m);
    assert_int_equal(ingest(f, &bad, why, sizeof why), 1);
    assert_int_equal(bad, 5);
    verify_ok(f->st, f, 4);
    free(c);
    free(b);
}

static void test_torn_tail_is_cut_and_the_chain_goes_on(void **state)
{
    fx *f = *state;
    append_range(f, 0, 3);
    off_t n = tail_size(f);
    assert_int_equal(truncate(f->tail, n - 5), 0); /* event 3 torn */
    append_range(f, 3, 4);                         /* becomes event 3 */
    /* The torn bytes were kept beside the file, not dropped. */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "c=$(cat %s.cut-* | wc -c) && test $c -gt 100 && test $c -lt %lld",
             f->tail, (long long)n / 2);
    assert_int_equal(system(cmd), 0);
    int64_t bad = -1;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 3);
    assert_int_equal(bad, 0);
    verify_ok(f->st, f, 3);
    assert_int_equal(tail_size(f), 0);
}

static void test_frames_already_moved_are_skipped(void **state)
{
    fx *f = *state;
    append_range(f, 0, 5);
    size_t n;
    unsigned char *b = slurp(f, &n);
    int64_t bad;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 5);
    /* As after a crash between the commit and the emptying. */
    spill(f, b, n);
    append_range(f, 5, 8);
    assert_int_equal(ingest(f, &bad, why, sizeof why), 3);
    assert_int_equal(bad, 0);
    verify_ok(f->st, f, 8);
    free(b);
}

/* A child process's own connection and handle on the tail file. Kept
 * here, so that a child that ends with _exit (as a crash would) leaves
 * them reachable rather than leaked for valgrind. */
static audit_journal *child_j;
static store *child_st;

/* In a child process: open them (a failure ends the child with 2). */
static void child_open(const fx *f, audit_journal **j, store **st)
{
    tn_err e;
    if (store_open_readlog(f->rl, NULL, STORE_OPEN_EXISTING, &child_st, &e) != TN_OK ||
        audit_journal_open(f->tail, &child_j, &e) != TN_OK)
        _exit(2);
    *j = child_j;
    *st = child_st;
}

/* In a child process: its own handle, leased or not, appending events
 * [from, to). Returns the handle; a failed append ends the child with 1. */
static audit_journal *child_append(const fx *f, int from, int to, bool lease)
{
    audit_journal *j;
    store *st;
    tn_err e;
    char buf[32];
    child_open(f, &j, &st);
    audit_journal_lease(j, lease);
    for (int i = from; i < to; i++) {
        store_audit_row r = row(i, buf, sizeof buf);
        if (audit_journal_append(j, st, &r, 1, &e) != TN_OK)
            _exit(1);
    }
    return j;
}

#define PROCS 3
#define PER_PROC 300

static void test_processes_append_together(void **state)
{
    fx *f = *state;
    pid_t kids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        kids[p] = fork();
        assert_true(kids[p] >= 0);
        if (kids[p] == 0) {
            audit_journal *j;
            store *st;
            tn_err e;
            char buf[32];
            child_open(f, &j, &st);
            for (int i = 0; i < PER_PROC; i++) {
                store_audit_row r = row(p * 1000 + i, buf, sizeof buf);
                if (audit_journal_append(j, st, &r, 1, &e) != TN_OK)
                    _exit(1);
                /* The server's ingest runs meanwhile in another. */
                if (p == 0 && i % 50 == 0) {
                    int64_t moved, bad;
                    char why[100];
                    if (audit_journal_ingest(j, st, &f->k, &moved, &bad, why, sizeof why, &e) !=
                            TN_OK ||
                        bad)
                        _exit(3);
                }
            }
            _exit(0);
        }
    }
    append_range(f, 5000, 5000 + PER_PROC);
    for (int p = 0; p < PROCS; p++) {
        int status;
        assert_int_equal(waitpid(kids[p], &status, 0), kids[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    int64_t bad = -1;
    char why[200];
    ingest(f, &bad, why, sizeof why);
    assert_int_equal(bad, 0);
    assert_int_equal(tail_size(f), 0);
    verify_ok(f->st, f, (PROCS + 1) * PER_PROC);
}

/* A server's lease: its appends keep the file's lock, so another process's
 * append waits until the server's ingest releases it, and the chain then
 * goes on across both without a fork. */
static void test_lease_makes_others_wait_for_the_ingest(void **state)
{
    fx *f = *state;
    audit_journal_lease(f->j, true);
    append_range(f, 0, 5);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        child_append(f, 100, 105, false);
        _exit(0);
    }
    usleep(200 * 1000);
    int status;
    assert_int_equal(waitpid(kid, &status, WNOHANG), 0); /* still waiting for the lock */
    int64_t bad = -1;
    char why[200];
    assert_int_equal(ingest(f, &bad, why, sizeof why), 5); /* releases the lease */
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    append_range(f, 200, 205); /* takes the lease again, after the child's */
    assert_int_equal(ingest(f, &bad, why, sizeof why), 10);
    assert_int_equal(bad, 0);
    verify_ok(f->st, f, 15);
    audit_journal_lease(f->j, false);
}

/* A child that opens the tail file on its own, leases it, appends events
 * [from, to) and then either ends the lease or exits at once (a crash:
 * the room allocated ahead of the appends stays in the file). */
static pid_t lease_child(fx *f, int from, int to, bool crash, int ready_fd)
{
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid != 0)
        return kid;
    audit_journal *j = child_append(f, from, to, true);
    if (crash)
        _exit(0);
    if (ready_fd >= 0 && write(ready_fd, "x", 1) != 1)
        _exit(3);
    usleep(300 * 1000); /* hold the lease while the parent reads */
    audit_journal_lease(j, false);
    _exit(0);
}

static void wait_ok(pid_t kid)
{
    int status;
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A leased append copies into a map of the file, with room allocated
 * ahead. A crash leaves that room (zeros) after the last frame: the next
 * append cuts it without keeping a copy (it holds nothing), and the chain
 * goes on from the crashed process's last event. */
static void test_crash_while_leased_leaves_only_room(void **state)
{
    fx *f = *state;
    wait_ok(lease_child(f, 0, 20, true, -1));
    assert_true(tail_size(f) >= 1024 * 1024); /* the room is there */
    /* An ingest (a command after the crash) moves the frames, and the
     * zeros up to the end are no damage: the file is emptied. */
    int64_t bad = -1;
    char why[200] = "";
    assert_int_equal(ingest(f, &bad, why, sizeof why), 20);
    if (bad)
        fail_msg("ingest stopped at %lld: %s", (long long)bad, why);
    assert_int_equal(tail_size(f), 0);

    wait_ok(lease_child(f, 20, 40, true, -1));
    append_range(f, 40, 45); /* not leased: finds the head, cuts the room */
    assert_true(tail_size(f) < 64 * 1024);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "! ls %s.cut-* 2>/dev/null | grep -q .", f->tail);
    assert_int_equal(system(cmd), 0);
    ingest_ok(f, 25, 45);
}

/* Another process reads the file without its lock (the ingest's rounds
 * before the last) while a lease holder has allocated room ahead: the
 * zeros end its read, they are not damage; the last round, under the
 * lock, finds the file cut to its frames and moves the rest. */
static void test_room_ahead_is_not_damage(void **state)
{
    fx *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t kid = lease_child(f, 0, 2000, false, p[1]); /* far more than the locked tail */
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_true(tail_size(f) >= 1024 * 1024);
    ingest_ok(f, 2000, 2000);
    wait_ok(kid);
    close(p[0]);
    close(p[1]);
    assert_int_equal(tail_size(f), 0);
}

/* The file as a crash in the middle of a leased copy leaves it: the
 * frames before, the first part bytes of the last frame, then zeros (the
 * room allocated ahead). Returns the last frame (malloc'd) and where it
 * starts. */
static unsigned char *cut_last_frame(fx *f, size_t part, size_t *start, size_t *len)
{
    size_t n, at[4096];
    unsigned char *b = slurp(f, &n);
    size_t k = frames(b, n, at, 4096);
    assert_true(k >= 2);
    *start = at[k - 1];
    *len = n - *start;
    assert_true(part < *len);
    unsigned char *last = malloc(*len);
    memcpy(last, b + *start, *len);
    memset(b + *start + part, 0, *len - part);
    spill(f, b, *start + *len);
    assert_int_equal(truncate(f->tail, (off_t)(*start + 1024 * 1024)), 0);
    free(b);
    return last;
}

/* A crash cut a leased copy short: under the lock the part frame with
 * only zeros after it is a torn tail, not damage. It stays until the
 * next append cuts it, keeping its bytes beside the file. */
static void test_copy_cut_by_a_crash_is_a_torn_tail(void **state)
{
    fx *f = *state;
    append_range(f, 0, 10);
    size_t start, len;
    free(cut_last_frame(f, 60, &start, &len));
    int64_t bad = -1;
    char why[200] = "";
    assert_int_equal(ingest(f, &bad, why, sizeof why), 9);
    if (bad)
        fail_msg("ingest stopped at %lld: %s", (long long)bad, why);
    assert_true(tail_size(f) > 0); /* the torn frame is left for the append */
    append_range(f, 10, 12);
    char cmd[300];
    /* The 60 bytes the crash left (with the zeros after them). */
    snprintf(cmd, sizeof cmd,
             "n=$(cat %s.cut-* | tr -d '\\000' | wc -c) && test $n -gt 8 -a $n -le 60", f->tail);
    assert_int_equal(system(cmd), 0);
    ingest_ok(f, 2, 11);
}

/* Another process holds the lock and is copying a frame into the room it
 * allocated ahead when an ingest reads the file without the lock: the
 * frame read half-copied is not damage, and the ingest's last round,
 * under the lock, moves it whole. */
static void test_frame_being_copied_is_not_damage(void **state)
{
    fx *f = *state;
    append_range(f, 0, 800); /* well past the tail the ingest moves under the lock */
    size_t start, len;
    unsigned char *last = cut_last_frame(f, 100, &start, &len);
    /* Its trailer is there already: a copy's bytes land in any order, so
     * the frame parses but does not match its hash yet. */
    int wfd = open(f->tail, O_WRONLY);
    assert_true(wfd >= 0);
    assert_int_equal(pwrite(wfd, last + len - 48, 48, (off_t)(start + len - 48)), 48);
    close(wfd);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        int fd = open(f->tail, O_RDWR), rc = 0;
        if (fd < 0 || flock(fd, LOCK_EX) != 0 || write(p[1], "x", 1) != 1) {
            rc = 2;
        } else {
            usleep(300 * 1000);
            if (pwrite(fd, last + 100, len - 100, (off_t)(start + 100)) !=
                    (ssize_t)(len - 100) ||
                ftruncate(fd, (off_t)(start + len)) != 0)
                rc = 1;
        }
        free(last);
        _exit(rc); /* the lock goes with the process */
    }
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    ingest_ok(f, 800, 800);
    wait_ok(kid);
    close(p[0]);
    close(p[1]);
    free(last);
    assert_int_equal(tail_size(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_and_hashes_equal_the_direct_chain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_edit_is_found_at_its_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_leased_frames_are_checked_by_verify, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_round_undone_when_the_lease_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_frame_with_another_number_is_checked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_removed_or_swapped_frames_are_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_is_cut_and_the_chain_goes_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_frames_already_moved_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processes_append_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_while_leased_leaves_only_room, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_room_ahead_is_not_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_cut_by_a_crash_is_a_torn_tail, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_frame_being_copied_is_not_damage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lease_makes_others_wait_for_the_ingest, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
