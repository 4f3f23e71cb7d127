/* Unit tests of the store and its SQLite backend, against real registry
 * files in a temporary directory. Raw SQLite is used only to inspect or
 * tamper with a registry from the outside (schema, triggers, versions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "lock_holder.h"
#include "store_sqlite_int.h"

#define ID_A "00000000-0000-4000-8000-00000000000a"
#define ID_B "00000000-0000-4000-8000-00000000000b"
#define ID_C "00000000-0000-4000-8000-00000000000c"
#define ID_X "00000000-0000-4000-8000-0000000000ff" /* never inserted */

typedef struct fx {
    char dir[64];
    char path[128];
    store *s;
} fx;

/* ---- helpers ------------------------------------------------------------ */

static void rm_registry(const char *path)
{
    char side[160];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static int setup_dir(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tn_store_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/registry.db", f->dir);
    *state = f;
    return 0;
}

static int teardown_dir(void **state)
{
    fx *f = *state;
    store_close(f->s);
    rm_registry(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int setup_store(void **state)
{
    if (setup_dir(state) != 0)
        return -1;
    fx *f = *state;
    tn_err e;
    return store_open(f->path, STORE_OPEN_CREATE, &f->s, &e) == TN_OK ? 0 : -1;
}

/* Run one SQL text on the registry file from the outside; returns the
 * SQLite result code. */
static int raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void raw_text(const char *path, const char *sql, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void mk_person(person *p, const char *id, const char *given, const char *family)
{
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->state = PSTATE_ACTIVE;
    snprintf(p->given_names, sizeof p->given_names, "%s", given);
    snprintf(p->family_name, sizeof p->family_name, "%s", family);
    p->birth_date = TN_DATE_NONE;
    p->legal_hold_until = TN_DATE_NONE;
    p->death_date = TN_DATE_NONE;
    p->created_at = 1000;
    p->updated_at = 1000;
}

static void add_person(store *s, person *p, const char *id, const char *given, const char *family)
{
    tn_err e;
    mk_person(p, id, given, family);
    assert_int_equal(store_tx_begin(s, &e), TN_OK);
    assert_int_equal(store_person_insert(s, p, NULL, 0, NULL, &e), TN_OK);
    assert_int_equal(store_tx_commit(s, &e), TN_OK);
}

static void mk_aff(affiliation *a, const char *pid, const char *kind, const char *source,
                   const char *key, const char *unit, tn_date from)
{
    memset(a, 0, sizeof *a);
    snprintf(a->person_id, sizeof a->person_id, "%s", pid);
    snprintf(a->kind, sizeof a->kind, "%s", kind);
    snprintf(a->source, sizeof a->source, "%s", source);
    snprintf(a->source_key, sizeof a->source_key, "%s", key);
    snprintf(a->org_unit, sizeof a->org_unit, "%s", unit);
    a->valid_from = from;
    a->valid_to = TN_DATE_NONE;
    a->created_at = 2000;
    a->updated_at = 2000;
}

static void mk_account(account *a, const char *pid, const char *username)
{
    memset(a, 0, sizeof *a);
    snprintf(a->person_id, sizeof a->person_id, "%s", pid);
    snprintf(a->username, sizeof a->username, "%s", username);
    a->state = ASTATE_ACTIVE;
    a->created_on = date_from_ymd(2024, 8, 1);
    a->closed_on = TN_DATE_NONE;
    a->created_at = 3000;
    a->updated_at = 3000;
}

static void add_unit(store *s, const char *code, const char *parent)
{
    tn_err e;
    org_unit u;
    memset(&u, 0, sizeof u);
    snprintf(u.code, sizeof u.code, "%s", code);
    snprintf(u.name, sizeof u.name, "Unit %s", code);
    snprintf(u.parent_code, sizeof u.parent_code, "%s", parent);
    u.created_at = 5;
    assert_int_equal(store_tx_begin(s, &e), TN_OK);
    assert_int_equal(store_unit_insert(s, &u, &e), TN_OK);
    assert_true(u.id > 0);
    assert_int_equal(store_tx_commit(s, &e), TN_OK);
}

/* ---- open, create, migrations ------------------------------------------- */

static void test_open_modes(void **state)
{
    fx *f = *state;
    tn_err e;
    store *s = NULL;
    char target[160];
    struct stat sb;

    assert_int_equal(store_open(f->path, STORE_OPEN_EXISTING, &s, &e), TN_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(e.msg, "no registry at"));
    assert_non_null(strstr(e.msg, "run `tunnus init` first"));
    assert_int_not_equal(stat(f->path, &sb), 0); /* EXISTING never creates */

    assert_int_equal(store_open(f->path, STORE_OPEN_CREATE, &s, &e), TN_OK);
    assert_string_equal(store_backend(s), "sqlite");
    assert_int_equal(store_tx_depth(s), 0);
    store_close(s);
    s = NULL;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    assert_int_equal(store_open(f->path, STORE_OPEN_CREATE, &s, &e), TN_ECONFLICT);
    assert_null(s);
    assert_int_equal(store_open(f->path, STORE_OPEN_EXISTING, &s, &e), TN_OK);
    store_close(s);
    s = NULL;

    snprintf(target, sizeof target, "sqlite:%s", f->path);
    assert_int_equal(store_open(target, STORE_OPEN_EXISTING, &s, &e), TN_OK);
    store_close(s);
    s = NULL;

    assert_int_equal(store_open("postgresql://db/tunnus", STORE_OPEN_EXISTING, &s, &e),
                     TN_EUSAGE);
    assert_non_null(strstr(e.msg, "PostgreSQL backend is not available"));
    assert_int_equal(store_open("postgres://db/tunnus", STORE_OPEN_CREATE, &s, &e), TN_EUSAGE);
    assert_int_equal(store_open("mysql://db/tunnus", STORE_OPEN_CREATE, &s, &e), TN_EUSAGE);
    assert_int_equal(store_open("", STORE_OPEN_CREATE, &s, &e), TN_EUSAGE);
    assert_int_equal(store_open("sqlite:", STORE_OPEN_CREATE, &s, &e), TN_EUSAGE);
    assert_null(s);
}

static void test_open_not_a_registry(void **state)
{
    fx *f = *state;
    tn_err e;
    store *s = NULL;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("this is not a database, just some text long enough to have a header\n", fp);
    for (int i = 0; i < 20; i++)
        fputs("0123456789abcdef0123456789abcdef0123456789abcdef\n", fp);
    fclose(fp);
    assert_int_equal(store_open(f->path, STORE_OPEN_CREATE, &s, &e), TN_ECONFLICT);
    assert_int_equal(store_open(f->path, STORE_OPEN_EXISTING, &s, &e), TN_EIO);
    assert_null(s);
}

static void test_migrations(void **state)
{
    fx *f = *state;
    tn_err e;
    int v = -1;
    char mode[16];

    assert_true(store_schema_latest() >= 1);
    assert_int_equal(store_schema_version(f->s, &v, &e), TN_OK);
    assert_int_equal(v, store_schema_latest());
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), store_schema_latest());
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                                      "AND name IN ('meta', 'person', 'org_unit', 'affiliation', "
                                      "'account', 'reserved_name', 'audit_event')"),
                     7);
    raw_text(f->path, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");

    /* Reopening applies nothing again (the migration would fail on the
     * existing tables if it ran). */
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->path, STORE_OPEN_EXISTING, &f->s, &e), TN_OK);
    assert_int_equal(store_schema_version(f->s, &v, &e), TN_OK);
    assert_int_equal(v, store_schema_latest());
    store_close(f->s);
    f->s = NULL;

    /* A registry from a newer tunnus is refused. */
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_latest() + 1);
    assert_int_equal(raw_exec(f->path, sql), SQLITE_OK);
    assert_int_equal(store_open(f->path, STORE_OPEN_EXISTING, &f->s, &e), TN_ESTATE);
    assert_null(f->s);
    assert_non_null(strstr(e.msg, "newer than this build"));
}

static void test_meta(void **state)
{
    fx *f = *state;
    tn_err e;
    char buf[64], tiny[3];

    assert_int_equal(store_meta_get(f->s, "org", buf, sizeof buf, &e), TN_ENOTFOUND);
    assert_int_equal(store_meta_set(f->s, "org", "Example", &e), TN_EINTERNAL);
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_meta_set(f->s, "org", "Example", &e), TN_OK);
    assert_int_equal(store_meta_set(f->s, "org", "Example City", &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(store_meta_get(f->s, "org", buf, sizeof buf, &e), TN_OK);
    assert_string_equal(buf, "Example City");
    assert_int_equal(store_meta_get(f->s, "org", tiny, sizeof tiny, &e), TN_EINTERNAL);
}

/* A read scope is one snapshot: another connection's commit shows only
 * after it ends; a write transaction inside ends it first and sees the
 * newest data; inside a transaction it changes nothing. */
static void test_read_scope(void **state)
{
    fx *f = *state;
    tn_err e;
    char buf[64];
    store *other;
    assert_int_equal(store_open(f->path, STORE_OPEN_EXISTING, &other, &e), TN_OK);
    assert_int_equal(store_tx_begin(other, &e), TN_OK);
    assert_int_equal(store_meta_set(other, "org", "One", &e), TN_OK);
    assert_int_equal(store_tx_commit(other, &e), TN_OK);

    assert_int_equal(store_read_begin(f->s, &e), TN_OK);
    assert_int_equal(store_meta_get(f->s, "org", buf, sizeof buf, &e), TN_OK);
    assert_string_equal(buf, "One");
    assert_int_equal(store_tx_begin(other, &e), TN_OK);
    assert_int_equal(store_meta_set(other, "org", "Two", &e), TN_OK);
    assert_int_equal(store_tx_commit(other, &e), TN_OK);
    assert_int_equal(store_meta_get(f->s, "org", buf, sizeof buf, &e), TN_OK);
    assert_string_equal(buf, "One"); /* the snapshot */
    /* A write inside: the scope ends, the write sees "Two" and succeeds
     * (an upgrade of the stale snapshot would fail with BUSY_SNAPSHOT). */
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_meta_get(f->s, "org", buf, sizeof buf, &e), TN_OK);
    assert_string_equal(buf, "Two");
    assert_int_equal(store_meta_set(f->s, "org", "Three", &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    store_read_end(f->s); /* already ended: harmless */
    assert_int_equal(store_meta_get(other, "org", buf, sizeof buf, &e), TN_OK);
    assert_string_equal(buf, "Three");

    /* Inside a transaction a scope is a no-op, and ending it leaves the
     * transaction open. */
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_read_begin(f->s, &e), TN_OK);
    store_read_end(f->s);
    assert_int_equal(store_tx_depth(f->s), 1);
    assert_int_equal(store_meta_set(f->s, "org", "Four", &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    /* Scopes come and go without a trace. */
    assert_int_equal(store_read_begin(f->s, &e), TN_OK);
    store_read_end(f->s);
    assert_int_equal(store_tx_depth(f->s), 0);
    assert_int_equal(store_meta_get(other, "org", buf, sizeof buf, &e), TN_OK);
    assert_string_equal(buf, "Four");
    store_close(other);
}

/* ---- persons ------------------------------------------------------------ */

static void test_person_crud(void **state)
{
    fx *f = *state;
    tn_err e;
    person a, b, got;

    add_person(f->s, &a, ID_A, "Anna Maria", "Äijälä");
    add_person(f->s, &b, ID_B, "Bertil", "Berg");
    assert_true(a.number > 0);
    assert_true(b.number > a.number);
    assert_false(a.has_national_id);

    assert_int_equal(store_person_get(f->s, ID_A, &got, &e), TN_OK);
    assert_string_equal(got.id, ID_A);
    assert_int_equal(got.number, a.number);
    assert_int_equal(got.state, PSTATE_ACTIVE);
    assert_string_equal(got.given_names, "Anna Maria");
    assert_string_equal(got.family_name, "Äijälä");
    assert_int_equal(got.birth_date, TN_DATE_NONE);
    assert_int_equal(got.death_date, TN_DATE_NONE);
    assert_int_equal(got.created_at, 1000);

    assert_int_equal(store_person_get_by_number(f->s, b.number, &got, &e), TN_OK);
    assert_string_equal(got.id, ID_B);
    assert_int_equal(store_person_get_by_number(f->s, 9999, &got, &e), TN_ENOTFOUND);
    assert_int_equal(store_person_get(f->s, ID_X, &got, &e), TN_ENOTFOUND);

    /* update writes the mutable attributes */
    a.state = PSTATE_GRACE;
    snprintf(a.preferred_name, sizeof a.preferred_name, "Maria");
    snprintf(a.email, sizeof a.email, "anna@example.org");
    snprintf(a.phone, sizeof a.phone, "+358401234567");
    snprintf(a.language, sizeof a.language, "fi");
    a.birth_date = date_from_ymd(1990, 2, 28);
    a.legal_hold_until = date_from_ymd(2030, 1, 1);
    a.updated_at = 1234;
    a.created_at = 1; /* not mutable: ignored */
    a.number = 4242;  /* not mutable: ignored */
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_update(f->s, &a, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(store_person_get(f->s, ID_A, &got, &e), TN_OK);
    assert_int_equal(got.state, PSTATE_GRACE);
    assert_string_equal(got.preferred_name, "Maria");
    assert_string_equal(got.email, "anna@example.org");
    assert_string_equal(got.phone, "+358401234567");
    assert_string_equal(got.language, "fi");
    assert_int_equal(got.birth_date, date_from_ymd(1990, 2, 28));
    assert_int_equal(got.legal_hold_until, date_from_ymd(2030, 1, 1));
    assert_int_equal(got.updated_at, 1234);
    assert_int_equal(got.created_at, 1000);
    assert_int_not_equal(got.number, 4242);

    person ghost;
    mk_person(&ghost, ID_X, "No", "Body");
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_update(f->s, &ghost, &e), TN_ENOTFOUND);
    /* the same UUID twice */
    person dup;
    mk_person(&dup, ID_A, "Dup", "Licate");
    assert_int_equal(store_person_insert(f->s, &dup, NULL, 0, NULL, &e), TN_ECONFLICT);
    store_tx_rollback(f->s);
    assert_int_equal(store_tx_depth(f->s), 0);
}

static void test_person_nid(void **state)
{
    fx *f = *state;
    tn_err e;
    person a, b;
    unsigned char h1[STORE_HASH_BYTES], h2[STORE_HASH_BYTES];
    unsigned char s1[51], s2[51], out[64];
    size_t n = 0;
    char id[UUID_BUFSZ];

    memset(h1, 0x11, sizeof h1);
    memset(h2, 0x22, sizeof h2);
    memset(s1, 0xA1, sizeof s1);
    memset(s2, 0xB2, sizeof s2);

    tn_date d1 = date_from_ymd(1980, 5, 17), d2 = date_from_ymd(1990, 1, 2);
    mk_person(&a, ID_A, "Anna", "Aalto");
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    /* The ID is stored with the birth date it encodes: none is refused. */
    assert_int_equal(store_person_insert(f->s, &a, s1, sizeof s1, h1, &e), TN_EINTERNAL);
    a.birth_date = d1;
    assert_int_equal(store_person_insert(f->s, &a, s1, sizeof s1, h1, &e), TN_OK);
    assert_true(a.has_national_id);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);

    assert_int_equal(store_person_get_nid(f->s, ID_A, out, sizeof out, &n, &e), TN_OK);
    assert_int_equal(n, sizeof s1);
    assert_memory_equal(out, s1, sizeof s1);
    assert_int_equal(store_person_get_nid(f->s, ID_A, out, 10, &n, &e), TN_EINTERNAL);
    assert_int_equal(store_person_get_nid(f->s, ID_X, out, sizeof out, &n, &e), TN_ENOTFOUND);
    assert_int_equal(store_person_find_by_nid_hash(f->s, d1, h1, id, &e), TN_OK);
    assert_string_equal(id, ID_A);
    assert_int_equal(store_person_find_by_nid_hash(f->s, d1, h2, id, &e), TN_ENOTFOUND);
    /* The same hash under another date is another key. */
    assert_int_equal(store_person_find_by_nid_hash(f->s, d2, h1, id, &e), TN_ENOTFOUND);
    assert_int_equal(store_person_find_by_nid_hash(f->s, TN_DATE_NONE, h1, id, &e),
                     TN_EINTERNAL);

    /* A second person with the same national ID is a conflict, and the
     * message does not carry the hash or ID. */
    mk_person(&b, ID_B, "Bo", "Berg");
    b.birth_date = d1;
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_insert(f->s, &b, s2, sizeof s2, h1, &e), TN_ECONFLICT);
    assert_string_equal(e.field, "national_id");
    assert_null(strstr(e.msg, "nid_hash"));
    /* Recorded without an ID, with the birth date of the ID it gets next
     * (the key's date is the row's birth date). */
    b.birth_date = d2;
    assert_int_equal(store_person_insert(f->s, &b, NULL, 0, NULL, &e), TN_OK);
    assert_false(b.has_national_id);
    assert_int_equal(store_person_get_nid(f->s, ID_B, out, sizeof out, &n, &e), TN_ENOTFOUND);
    assert_int_equal(store_person_set_nid(f->s, ID_B, d1, s2, sizeof s2, h1, &e), TN_ECONFLICT);
    assert_int_equal(store_person_set_nid(f->s, ID_B, d2, s2, sizeof s2, h2, &e), TN_OK);
    assert_int_equal(store_person_set_nid(f->s, ID_X, d2, s2, sizeof s2, h2, &e), TN_ECONFLICT);
    unsigned char h3[STORE_HASH_BYTES];
    memset(h3, 0x33, sizeof h3);
    assert_int_equal(store_person_set_nid(f->s, ID_X, d2, s2, sizeof s2, h3, &e), TN_ENOTFOUND);
    /* clearing */
    assert_int_equal(store_person_set_nid(f->s, ID_A, TN_DATE_NONE, NULL, 0, NULL, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);

    person got;
    assert_int_equal(store_person_get(f->s, ID_B, &got, &e), TN_OK);
    assert_true(got.has_national_id);
    assert_int_equal(store_person_get(f->s, ID_A, &got, &e), TN_OK);
    assert_false(got.has_national_id);
    assert_int_equal(store_person_find_by_nid_hash(f->s, d2, h2, id, &e), TN_OK);
    assert_string_equal(id, ID_B);
    assert_int_equal(store_person_find_by_nid_hash(f->s, d1, h1, id, &e), TN_ENOTFOUND);
}

/* How many national-ID keys in the file have this date part (YYYYMMDD, or
 * eight zeros) in front of a hash. */
static int64_t keys_with_date(const char *path, const char *date)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM person WHERE substr(nid_hash, 1, 8) = CAST('%s' AS BLOB) "
             "AND length(nid_hash) = 40",
             date);
    return raw_int(path, sql);
}

/* A person whose birth date is removed (archiving keeps the ID, not the
 * date) keeps the ID's key with zeros where the date stood: the key keeps
 * nothing the policy deleted. The person is still found by the ID, still
 * its only holder, and the date comes back into the key with the date. */
static void test_person_nid_undated(void **state)
{
    fx *f = *state;
    tn_err e;
    tn_date d1 = date_from_ymd(1980, 5, 17);
    unsigned char h1[STORE_HASH_BYTES], s1[20];
    memset(h1, 0x11, sizeof h1);
    memset(s1, 0xA1, sizeof s1);
    char id[UUID_BUFSZ];
    person a, b;
    mk_person(&a, ID_A, "Anna", "Aalto");
    a.birth_date = d1;
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_insert(f->s, &a, s1, sizeof s1, h1, &e), TN_OK);
    a.birth_date = TN_DATE_NONE;
    assert_int_equal(store_person_update(f->s, &a, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(keys_with_date(f->path, "00000000"), 1);
    assert_int_equal(store_person_find_by_nid_hash(f->s, d1, h1, id, &e), TN_OK);
    assert_string_equal(id, ID_A);

    /* The unique index does not see a dated key against the undated one. */
    mk_person(&b, ID_B, "Bo", "Berg");
    b.birth_date = d1;
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_insert(f->s, &b, s1, sizeof s1, h1, &e), TN_ECONFLICT);
    assert_string_equal(e.field, "national_id");
    assert_int_equal(store_person_insert(f->s, &b, NULL, 0, NULL, &e), TN_OK);
    assert_int_equal(store_person_set_nid(f->s, ID_B, d1, s1, sizeof s1, h1, &e), TN_ECONFLICT);
    /* The holder itself may set it again; without a birth date its key
     * stays undated. */
    assert_int_equal(store_person_set_nid(f->s, ID_A, d1, s1, sizeof s1, h1, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(keys_with_date(f->path, "00000000"), 1);

    /* Give the date back: the key follows. */
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    a.birth_date = d1;
    assert_int_equal(store_person_update(f->s, &a, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(keys_with_date(f->path, "19800517"), 1);
    assert_int_equal(store_person_find_by_nid_hash(f->s, d1, h1, id, &e), TN_OK);
    assert_string_equal(id, ID_A);
}

/* The search for a person of the same names and birth date reads the
 * date's range of the national ID's key and the partial index of persons
 * without an ID (migration 0017): both kinds are found, the day before
 * and after and other names are not, and the plan scans no table. */
static void test_person_similar(void **state)
{
    fx *f = *state;
    tn_err e;
    static const char *ids[] = {
        "00000000-0000-4000-8000-000000000101", "00000000-0000-4000-8000-000000000102",
        "00000000-0000-4000-8000-000000000103", "00000000-0000-4000-8000-000000000104",
        "00000000-0000-4000-8000-000000000105", "00000000-0000-4000-8000-000000000106",
        "00000000-0000-4000-8000-000000000107", "00000000-0000-4000-8000-000000000108",
    };
    struct {
        const char *given, *family;
        int day;
        unsigned char h; /* 0: no national ID */
    } rows[] = {
        {"Anna", "Aalto", 17, 0x11}, {"Anna", "Aalto", 17, 0},    {"Anna", "Aalto", 18, 0x33},
        {"Anna", "Aalto", 16, 0},    {"Bo", "Aalto", 17, 0x55},   {"Anna", "Aalto", 17, 0xFF},
        /* erased: never a namesake, with an ID or without */
        {"Anna", "Aalto", 17, 0x77}, {"Anna", "Aalto", 17, 0},
    };
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        person p;
        unsigned char h[STORE_HASH_BYTES], sealed[16];
        memset(h, rows[i].h, sizeof h);
        memset(sealed, 0xA0, sizeof sealed);
        mk_person(&p, ids[i], rows[i].given, rows[i].family);
        p.birth_date = date_from_ymd(1980, 5, rows[i].day);
        if (i >= 6)
            p.state = PSTATE_ERASED;
        assert_int_equal(store_person_insert(f->s, &p, rows[i].h ? sealed : NULL, sizeof sealed,
                                             rows[i].h ? h : NULL, &e),
                         TN_OK);
    }
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);

    char found[8][UUID_BUFSZ];
    size_t n = 0;
    assert_int_equal(store_person_find_similar(f->s, "Anna", "Aalto", date_from_ymd(1980, 5, 17),
                                               found, 8, &n, &e),
                     TN_OK);
    assert_int_equal(n, 3); /* in the order they were added */
    assert_string_equal(found[0], ids[0]);
    assert_string_equal(found[1], ids[1]);
    assert_string_equal(found[2], ids[5]);
    assert_int_equal(store_person_find_similar(f->s, "Anna", "Aalto", date_from_ymd(1980, 5, 18),
                                               found, 8, &n, &e),
                     TN_OK);
    assert_int_equal(n, 1);
    assert_string_equal(found[0], ids[2]);
    assert_int_equal(store_person_find_similar(f->s, "Anna", "Aalto", TN_DATE_NONE, found, 8, &n,
                                               &e),
                     TN_OK);
    assert_int_equal(n, 0);

    /* The plan: two index searches, no scan of person. */
    char sql[1024];
    snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", sq_sql_similar);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int searches = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        assert_non_null(d);
        assert_null(strstr(d, "SCAN person"));
        if (strstr(d, "SEARCH person USING INDEX sqlite_autoindex_person_") &&
            strstr(d, "nid_hash>? AND nid_hash<?"))
            searches |= 1;
        if (strstr(d, "SEARCH person USING INDEX person_nonid_birth (birth_date=?)"))
            searches |= 2;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(searches, 3);
    /* The index of names it replaces is gone. */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema "
                                      "WHERE name = 'person_names_birth'"),
                     0);
}

/* A statement journal of several hundred KiB works: with a spill size of
 * 256 KiB, SQLite 3.40 failed such statements with "database or disk is
 * full" (migration 0017 on a 200,000-person registry did). The store has
 * set the library up (setup_store opened one); this connection shares
 * that. */
static void test_big_statement_journal(void **state)
{
    fx *f = *state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA temp_store = FILE;"
                                  "CREATE TABLE big (k INTEGER PRIMARY KEY, v BLOB UNIQUE);"
                                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                                  "WHERE i < 400) INSERT INTO big SELECT i, randomblob(1500) FROM n;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    /* In a transaction, an UPDATE of every row that may fail half-way (a
     * unique column) journals each page it changes: ~4 pages of 4 KiB per
     * ten rows, over 600 KiB, several times the spill size. */
    char *err = NULL;
    int rc = sqlite3_exec(db,
                          "BEGIN; UPDATE big SET v = CAST(v || x'00' AS BLOB);"
                          "UPDATE big SET v = CAST(x'01' || v AS BLOB); COMMIT;",
                          NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("a statement journal of 600 KiB: %s", err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM big WHERE length(v) = 1502"), 400);
    sqlite3_close(db);
}

/* While one process migrates a large registry (migration 0017 takes
 * seconds per million persons), another that opens it waits for the write
 * lock instead of failing after the usual 5 s busy timeout: here a process
 * holds the lock past that timeout while the schema is one migration
 * behind (the latest, 0018, undone: a new migration must update this). */
static void test_opener_waits_for_a_migration(void **state)
{
    fx *f = *state;
    store_close(f->s);
    f->s = NULL;
    char sql[256];
    snprintf(sql, sizeof sql,
             "DROP INDEX person_held; PRAGMA user_version = %d;", store_schema_latest() - 1);
    assert_int_equal(raw_exec(f->path, sql), SQLITE_OK);
    pid_t kid = lock_holder_start(f->path, 6500); /* past the 5 s busy timeout */
    assert_true(kid > 0);
    tn_err e;
    assert_int_equal(store_open(f->path, STORE_OPEN_EXISTING, &f->s, &e), TN_OK);
    assert_true(lock_holder_end(kid));
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), store_schema_latest());
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema "
                                      "WHERE name = 'person_held'"),
                     1);
}

/* ---- affiliations ------------------------------------------------------- */

static void test_affiliations(void **state)
{
    fx *f = *state;
    tn_err e;
    person a, b;
    affiliation x, y, z, got, *list = NULL;
    size_t n = 0;
    char id[UUID_BUFSZ];

    add_person(f->s, &a, ID_A, "Anna", "Aalto");
    add_person(f->s, &b, ID_B, "Bo", "Berg");
    add_unit(f->s, "uni", "");
    add_unit(f->s, "uni/cs", "uni");

    mk_aff(&x, ID_A, "staff", "hr", "E100", "uni/cs", date_from_ymd(2024, 1, 1));
    snprintf(x.title, sizeof x.title, "Lecturer");
    snprintf(x.manager_id, sizeof x.manager_id, "%s", ID_B);
    mk_aff(&y, ID_A, "student", "sis", "S1", "", date_from_ymd(2020, 9, 1));
    y.valid_to = date_from_ymd(2023, 6, 30);
    mk_aff(&z, ID_A, "staff", "hr", "E100", "uni", date_from_ymd(2024, 1, 1));

    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_aff_insert(f->s, &x, &e), TN_OK);
    assert_int_equal(store_aff_insert(f->s, &y, &e), TN_OK);
    assert_true(x.id > 0 && y.id > x.id);
    assert_int_equal(store_aff_insert(f->s, &z, &e), TN_ECONFLICT);
    assert_string_equal(e.msg, "source key hr:E100 already exists");
    snprintf(z.source_key, sizeof z.source_key, "E101");
    snprintf(z.org_unit, sizeof z.org_unit, "nowhere");
    assert_int_equal(store_aff_insert(f->s, &z, &e), TN_ENOTFOUND);
    assert_string_equal(e.msg, "org unit nowhere not found");
    snprintf(z.org_unit, sizeof z.org_unit, "uni");
    snprintf(z.person_id, sizeof z.person_id, "%s", ID_X);
    assert_int_equal(store_aff_insert(f->s, &z, &e), TN_ENOTFOUND);
    assert_string_equal(e.msg, "person not found");
    snprintf(z.person_id, sizeof z.person_id, "%s", ID_B);
    snprintf(z.sponsor_id, sizeof z.sponsor_id, "%s", ID_X);
    assert_int_equal(store_aff_insert(f->s, &z, &e), TN_ENOTFOUND);
    assert_string_equal(e.msg, "sponsor not found");
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);

    assert_int_equal(store_aff_get(f->s, x.id, &got, &e), TN_OK);
    assert_string_equal(got.person_id, ID_A);
    assert_string_equal(got.kind, "staff");
    assert_string_equal(got.org_unit, "uni/cs");
    assert_string_equal(got.title, "Lecturer");
    assert_string_equal(got.manager_id, ID_B);
    assert_string_equal(got.sponsor_id, "");
    assert_int_equal(got.valid_from, date_from_ymd(2024, 1, 1));
    assert_int_equal(got.valid_to, TN_DATE_NONE);
    assert_int_equal(store_aff_get(f->s, 9999, &got, &e), TN_ENOTFOUND);

    assert_int_equal(store_aff_get_by_source_key(f->s, "sis", "S1", &got, &e), TN_OK);
    assert_int_equal(got.id, y.id);
    assert_string_equal(got.org_unit, "");
    assert_int_equal(got.valid_to, date_from_ymd(2023, 6, 30));
    assert_int_equal(store_aff_get_by_source_key(f->s, "sis", "S2", &got, &e), TN_ENOTFOUND);
    assert_int_equal(store_person_find_by_source_key(f->s, "hr", "E100", id, &e), TN_OK);
    assert_string_equal(id, ID_A);
    assert_int_equal(store_person_find_by_source_key(f->s, "hr", "E999", id, &e), TN_ENOTFOUND);

    /* ordered by valid_from: the older student affiliation first */
    assert_int_equal(store_aff_list_by_person(f->s, ID_A, &list, &n, &e), TN_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, y.id);
    assert_int_equal(list[1].id, x.id);
    free(list);
    assert_int_equal(store_aff_list_by_person(f->s, ID_B, &list, &n, &e), TN_OK);
    assert_int_equal(n, 0);
    free(list);
    assert_int_equal(store_aff_list_by_person(f->s, ID_X, &list, &n, &e), TN_ENOTFOUND);

    /* update: end it, move it, drop the manager */
    x.valid_to = date_from_ymd(2024, 12, 31);
    snprintf(x.end_reason, sizeof x.end_reason, "contract_ended");
    snprintf(x.org_unit, sizeof x.org_unit, "uni");
    x.manager_id[0] = '\0';
    snprintf(x.teaching_groups, sizeof x.teaching_groups, "g1;g2");
    x.updated_at = 2500;
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_aff_update(f->s, &x, &e), TN_OK);
    /* to_date before from_date: the schema's check refuses it */
    got = x;
    got.valid_to = date_from_ymd(2000, 1, 1);
    assert_int_equal(store_aff_update(f->s, &got, &e), TN_EINVAL);
    /* moving onto an existing source key */
    got = x;
    snprintf(got.source, sizeof got.source, "sis");
    snprintf(got.source_key, sizeof got.source_key, "S1");
    assert_int_equal(store_aff_update(f->s, &got, &e), TN_ECONFLICT);
    got.id = 9999;
    snprintf(got.source_key, sizeof got.source_key, "S9");
    assert_int_equal(store_aff_update(f->s, &got, &e), TN_ENOTFOUND);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(store_aff_get(f->s, x.id, &got, &e), TN_OK);
    assert_int_equal(got.valid_to, date_from_ymd(2024, 12, 31));
    assert_string_equal(got.end_reason, "contract_ended");
    assert_string_equal(got.org_unit, "uni");
    assert_string_equal(got.manager_id, "");
    assert_string_equal(got.teaching_groups, "g1;g2");
    assert_int_equal(got.updated_at, 2500);
    assert_int_equal(got.created_at, 2000);
}

/* ---- accounts ----------------------------------------------------------- */

static void test_accounts(void **state)
{
    fx *f = *state;
    tn_err e;
    person a, b;
    account x, y, z, got, *list = NULL;
    size_t n = 0;
    char id[UUID_BUFSZ];

    add_person(f->s, &a, ID_A, "Anna", "Aalto");
    add_person(f->s, &b, ID_B, "Bo", "Berg");
    mk_account(&x, ID_A, "anna.aalto");
    mk_account(&y, ID_A, "aaalto");
    mk_account(&z, ID_B, "anna.aalto");

    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_account_insert(f->s, &x, &e), TN_OK);
    assert_int_equal(store_account_insert(f->s, &y, &e), TN_OK);
    assert_true(y.id > x.id);
    assert_int_equal(store_account_insert(f->s, &z, &e), TN_ECONFLICT);
    assert_string_equal(e.field, "username");
    assert_non_null(strstr(e.msg, "already exists"));
    snprintf(z.person_id, sizeof z.person_id, "%s", ID_X);
    snprintf(z.username, sizeof z.username, "ghost");
    assert_int_equal(store_account_insert(f->s, &z, &e), TN_ENOTFOUND);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);

    assert_int_equal(store_account_get_by_username(f->s, "anna.aalto", &got, &e), TN_OK);
    assert_int_equal(got.id, x.id);
    assert_string_equal(got.person_id, ID_A);
    assert_int_equal(got.state, ASTATE_ACTIVE);
    assert_int_equal(got.created_on, date_from_ymd(2024, 8, 1));
    assert_int_equal(got.closed_on, TN_DATE_NONE);
    assert_int_equal(store_account_get_by_username(f->s, "nobody", &got, &e), TN_ENOTFOUND);
    assert_int_equal(store_person_find_by_username(f->s, "aaalto", id, &e), TN_OK);
    assert_string_equal(id, ID_A);
    assert_int_equal(store_person_find_by_username(f->s, "nobody", id, &e), TN_ENOTFOUND);

    assert_int_equal(store_account_list_by_person(f->s, ID_A, &list, &n, &e), TN_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, x.id);
    assert_int_equal(list[1].id, y.id);
    free(list);
    assert_int_equal(store_account_list_by_person(f->s, ID_B, &list, &n, &e), TN_OK);
    assert_int_equal(n, 0);
    free(list);

    x.state = ASTATE_CLOSED;
    x.closed_on = date_from_ymd(2025, 1, 31);
    snprintf(x.email, sizeof x.email, "anna.aalto@example.org");
    x.updated_at = 3500;
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_account_update(f->s, &x, &e), TN_OK);
    got = y;
    snprintf(got.username, sizeof got.username, "anna.aalto");
    assert_int_equal(store_account_update(f->s, &got, &e), TN_ECONFLICT);
    got.id = 9999;
    assert_int_equal(store_account_update(f->s, &got, &e), TN_ENOTFOUND);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(store_account_get_by_username(f->s, "anna.aalto", &got, &e), TN_OK);
    assert_int_equal(got.state, ASTATE_CLOSED);
    assert_int_equal(got.closed_on, date_from_ymd(2025, 1, 31));
    assert_string_equal(got.email, "anna.aalto@example.org");
    assert_int_equal(got.updated_at, 3500);
}

/* ---- reserved names ----------------------------------------------------- */

static void test_reserved_names(void **state)
{
    fx *f = *state;
    tn_err e;
    char owner[UUID_BUFSZ];

    assert_int_equal(store_name_reserve(f->s, STORE_NS_USERNAME, "anna", ID_A, &e),
                     TN_EINTERNAL);
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_name_reserve(f->s, STORE_NS_USERNAME, "anna", ID_A, &e), TN_OK);
    assert_int_equal(store_name_reserve(f->s, STORE_NS_USERNAME, "anna", ID_A, &e), TN_OK);
    assert_int_equal(store_name_reserve(f->s, STORE_NS_USERNAME, "anna", ID_B, &e),
                     TN_ECONFLICT);
    assert_string_equal(e.msg, "username anna is reserved for another person");
    /* the namespaces are separate */
    assert_int_equal(store_name_reserve(f->s, STORE_NS_EMAIL, "anna", ID_B, &e), TN_OK);
    assert_int_equal(store_name_reserve(f->s, STORE_NS_EMAIL, "anna@example.org", ID_A, &e),
                     TN_OK);
    assert_int_equal(store_name_reserve(f->s, STORE_NS_EMAIL, "anna@example.org", ID_B, &e),
                     TN_ECONFLICT);
    assert_non_null(strstr(e.msg, "e-mail address anna@example.org is reserved"));
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);

    assert_int_equal(store_name_owner(f->s, STORE_NS_USERNAME, "anna", owner, &e), TN_OK);
    assert_string_equal(owner, ID_A);
    assert_int_equal(store_name_owner(f->s, STORE_NS_EMAIL, "anna", owner, &e), TN_OK);
    assert_string_equal(owner, ID_B);
    assert_int_equal(store_name_owner(f->s, STORE_NS_USERNAME, "bo", owner, &e), TN_ENOTFOUND);

    /* Reservations survive: the schema refuses to delete or re-own them. */
    assert_int_not_equal(raw_exec(f->path, "DELETE FROM reserved_name"), SQLITE_OK);
    assert_int_not_equal(raw_exec(f->path, "UPDATE reserved_name SET person_id = 'x'"),
                         SQLITE_OK);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM reserved_name"), 3);
}

/* ---- org units ---------------------------------------------------------- */

static void test_units(void **state)
{
    fx *f = *state;
    tn_err e;
    org_unit u, *list = NULL;
    size_t n = 0;

    add_unit(f->s, "uni", "");
    add_unit(f->s, "uni/sci", "uni");
    add_unit(f->s, "uni/arts", "uni");
    add_unit(f->s, "uni/sci/cs", "uni/sci");

    memset(&u, 0, sizeof u);
    snprintf(u.code, sizeof u.code, "orphan");
    snprintf(u.name, sizeof u.name, "Orphan");
    snprintf(u.parent_code, sizeof u.parent_code, "missing");
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_unit_insert(f->s, &u, &e), TN_ENOTFOUND);
    assert_string_equal(e.field, "parent_code");
    snprintf(u.code, sizeof u.code, "uni/sci");
    u.parent_code[0] = '\0';
    assert_int_equal(store_unit_insert(f->s, &u, &e), TN_ECONFLICT);
    assert_string_equal(e.msg, "org unit uni/sci already exists");
    store_tx_rollback(f->s);

    assert_int_equal(store_unit_get(f->s, "uni/sci/cs", &u, &e), TN_OK);
    assert_string_equal(u.name, "Unit uni/sci/cs");
    assert_string_equal(u.parent_code, "uni/sci");
    assert_int_equal(u.created_at, 5);
    assert_int_equal(store_unit_get(f->s, "uni", &u, &e), TN_OK);
    assert_string_equal(u.parent_code, "");
    assert_int_equal(store_unit_get(f->s, "nope", &u, &e), TN_ENOTFOUND);

    assert_int_equal(store_unit_list(f->s, &list, &n, &e), TN_OK);
    assert_int_equal(n, 4);
    assert_string_equal(list[0].code, "uni");
    assert_string_equal(list[1].code, "uni/arts");
    assert_string_equal(list[2].code, "uni/sci");
    assert_string_equal(list[3].code, "uni/sci/cs");
    free(list);
}

/* ---- person_list -------------------------------------------------------- */

typedef struct collect_ctx {
    int64_t numbers[32];
    char ids[32][UUID_BUFSZ];
    int n;
    int stop_after; /* 0 = never */
} collect_ctx;

static int collect_cb(const person *p, void *ctx)
{
    collect_ctx *c = ctx;
    if (c->n < 32) {
        c->numbers[c->n] = p->number;
        snprintf(c->ids[c->n], UUID_BUFSZ, "%s", p->id);
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static int list_n(store *s, store_person_filter flt, collect_ctx *c)
{
    tn_err e;
    memset(c, 0, sizeof *c);
    assert_int_equal(store_person_list(s, &flt, collect_cb, c, &e), TN_OK);
    return c->n;
}

static store_person_filter no_filter(void)
{
    store_person_filter flt = {.state = -1};
    return flt;
}

static void test_person_list(void **state)
{
    fx *f = *state;
    tn_err e;
    person p[6];
    affiliation a;
    collect_ctx c;
    static const char *const ids[6] = {
        "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004",
        "00000000-0000-4000-8000-000000000005", "00000000-0000-4000-8000-000000000006",
    };
    static const char *const given[6] = {"Anna", "Bertil", "Cecilia", "Daniel", "Eeva", "Örjan"};
    static const char *const family[6] = {"Äijälä", "Berg", "Carlsson",
                                          "Dahl",   "Esko", "Öberg"};

    add_unit(f->s, "uni", "");
    add_unit(f->s, "uni/cs", "uni");
    add_unit(f->s, "uni/cs/ai", "uni/cs");
    add_unit(f->s, "uni/csx", "uni"); /* a prefix but not below uni/cs */
    for (int i = 0; i < 6; i++)
        add_person(f->s, &p[i], ids[i], given[i], family[i]);

    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    mk_aff(&a, ids[0], "staff", "hr", "E1", "uni/cs", 1);
    assert_int_equal(store_aff_insert(f->s, &a, &e), TN_OK);
    mk_aff(&a, ids[1], "student", "sis", "S2", "uni/cs/ai", 1);
    assert_int_equal(store_aff_insert(f->s, &a, &e), TN_OK);
    mk_aff(&a, ids[2], "staff", "hr", "E3", "uni/csx", 1);
    assert_int_equal(store_aff_insert(f->s, &a, &e), TN_OK);
    mk_aff(&a, ids[3], "staff", "hr", "E4", "uni", 1);
    assert_int_equal(store_aff_insert(f->s, &a, &e), TN_OK);
    mk_aff(&a, ids[3], "student", "sis", "S4", "uni/cs", 1);
    assert_int_equal(store_aff_insert(f->s, &a, &e), TN_OK);
    p[4].state = PSTATE_CLOSED;
    assert_int_equal(store_person_update(f->s, &p[4], &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);

    store_person_filter flt = no_filter();
    assert_int_equal(list_n(f->s, flt, &c), 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(c.numbers[i], p[i].number);

    flt.state = PSTATE_CLOSED;
    assert_int_equal(list_n(f->s, flt, &c), 1);
    assert_string_equal(c.ids[0], ids[4]);

    flt = no_filter();
    flt.kind = "staff";
    assert_int_equal(list_n(f->s, flt, &c), 3);
    assert_int_equal(c.numbers[0], p[0].number);
    assert_int_equal(c.numbers[1], p[2].number);
    assert_int_equal(c.numbers[2], p[3].number);

    /* subtree: uni/cs and uni/cs/ai but not uni/csx */
    flt = no_filter();
    flt.org_unit = "uni/cs";
    assert_int_equal(list_n(f->s, flt, &c), 3);
    assert_int_equal(c.numbers[0], p[0].number);
    assert_int_equal(c.numbers[1], p[1].number);
    assert_int_equal(c.numbers[2], p[3].number);
    flt.org_unit = "uni";
    assert_int_equal(list_n(f->s, flt, &c), 4);
    flt.org_unit = "uni/cs/ai";
    assert_int_equal(list_n(f->s, flt, &c), 1);
    flt.org_unit = "nowhere";
    assert_int_equal(list_n(f->s, flt, &c), 0);
    /* kind and unit on the same affiliation: Daniel is staff in uni only */
    flt.org_unit = "uni/cs";
    flt.kind = "staff";
    assert_int_equal(list_n(f->s, flt, &c), 1);
    assert_string_equal(c.ids[0], ids[0]);

    /* names: case-insensitive substrings, also for Ä/ä and Ö/ö */
    flt = no_filter();
    flt.name = "äijä";
    assert_int_equal(list_n(f->s, flt, &c), 1);
    assert_string_equal(c.ids[0], ids[0]);
    flt.name = "ÖBERG";
    assert_int_equal(list_n(f->s, flt, &c), 1);
    assert_string_equal(c.ids[0], ids[5]);
    flt.name = "BERG"; /* Berg and Öberg */
    assert_int_equal(list_n(f->s, flt, &c), 2);
    flt.name = "cecil";
    assert_int_equal(list_n(f->s, flt, &c), 1);
    flt.name = "%"; /* no wildcard meaning */
    assert_int_equal(list_n(f->s, flt, &c), 0);
    flt.name = "";
    assert_int_equal(list_n(f->s, flt, &c), 6);

    /* keyset pagination */
    flt = no_filter();
    flt.limit = 4;
    assert_int_equal(list_n(f->s, flt, &c), 4);
    flt.after_number = c.numbers[3];
    assert_int_equal(list_n(f->s, flt, &c), 2);
    assert_int_equal(c.numbers[0], p[4].number);
    flt.after_number = c.numbers[1];
    assert_int_equal(list_n(f->s, flt, &c), 0);
    flt = no_filter();
    flt.org_unit = "uni";
    flt.limit = 2;
    assert_int_equal(list_n(f->s, flt, &c), 2);
    flt.after_number = c.numbers[1];
    assert_int_equal(list_n(f->s, flt, &c), 2);
    assert_int_equal(c.numbers[0], p[2].number);
    assert_int_equal(c.numbers[1], p[3].number);

    /* the callback stops the iteration */
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    flt = no_filter();
    assert_int_equal(store_person_list(f->s, &flt, collect_cb, &c, &e), TN_OK);
    assert_int_equal(c.n, 2);

    flt.state = 99;
    assert_int_equal(store_person_list(f->s, &flt, collect_cb, &c, &e), TN_EINVAL);
}

/* A callback may call back into the store, also with the same query. */
typedef struct nest_ctx {
    store *s;
    int outer, inner;
} nest_ctx;

static int count_cb(const person *p, void *ctx)
{
    (void)p;
    (*(int *)ctx)++;
    return 0;
}

static int nest_cb(const person *p, void *ctx)
{
    nest_ctx *c = ctx;
    tn_err e;
    person got;
    store_person_filter flt = no_filter();
    c->outer++;
    assert_int_equal(store_person_get(c->s, p->id, &got, &e), TN_OK);
    assert_int_equal(store_person_list(c->s, &flt, count_cb, &c->inner, &e), TN_OK);
    return 0;
}

static void test_person_list_reentrant(void **state)
{
    fx *f = *state;
    tn_err e;
    person p;
    nest_ctx c = {.s = f->s};
    add_person(f->s, &p, ID_A, "Anna", "Aalto");
    add_person(f->s, &p, ID_B, "Bo", "Berg");
    add_person(f->s, &p, ID_C, "Cia", "Carr");
    store_person_filter flt = no_filter();
    assert_int_equal(store_person_list(f->s, &flt, nest_cb, &c, &e), TN_OK);
    assert_int_equal(c.outer, 3);
    assert_int_equal(c.inner, 9);
}

/* ---- audit -------------------------------------------------------------- */

typedef struct audit_ctx {
    int64_t seqs[8];
    char actions[8][32];
    int n;
} audit_ctx;

static int audit_cb(const store_audit_rec *x, void *ctx)
{
    audit_ctx *c = ctx;
    if (c->n < 8) {
        c->seqs[c->n] = x->seq;
        snprintf(c->actions[c->n], sizeof c->actions[0], "%s", x->r.action);
    }
    c->n++;
    return 0;
}

static store_audit_row mk_row(const char *action, const char *subject)
{
    store_audit_row r = {
        .time_us = 1700000000000000,
        .actor_kind = "admin",
        .actor_id = "root",
        .channel = "cli",
        .action = action,
        .subject_id = subject,
        .attrs = "given_names,family_name",
        .result = "allowed",
        .request_id = "r1",
        .source = "local",
    };
    return r;
}

static void test_audit(void **state)
{
    fx *f = *state;
    tn_err e;
    audit_ctx c;
    /* The chain hashes themselves are the audit layer's business (its own
     * tests); here any 32 bytes will do. */
    unsigned char h[STORE_HASH_BYTES];
    memset(h, 0xab, sizeof h);

    store_audit_row r = mk_row("person.add", ID_A);
    assert_int_equal(store_audit_insert(f->s, 1, &r, h, &e), TN_EINTERNAL);
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_audit_insert(f->s, 1, &r, h, &e), TN_OK);
    r = mk_row("person.read", ID_B);
    r.changes = "{\"a\":1}";
    assert_int_equal(store_audit_insert(f->s, 2, &r, h, &e), TN_OK);
    r = mk_row("unit.add", NULL);
    r.attrs = NULL;
    r.request_id = NULL;
    assert_int_equal(store_audit_insert(f->s, 3, &r, h, &e), TN_OK);
    r = mk_row("person.update", ID_A);
    assert_int_equal(store_audit_insert(f->s, 4, &r, h, &e), TN_OK);
    assert_int_not_equal(store_audit_insert(f->s, 4, &r, h, &e), TN_OK); /* seq is unique */
    r.result = "maybe"; /* not a result */
    assert_int_equal(store_audit_insert(f->s, 5, &r, h, &e), TN_EINVAL);
    int64_t indexed = 0;
    assert_int_equal(store_audit_index_catch_up(f->s, &indexed, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);

    memset(&c, 0, sizeof c);
    assert_int_equal(store_audit_by_subject(f->s, ID_A, 0, 0, audit_cb, &c, &e), TN_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.seqs[0], 1);
    assert_int_equal(c.seqs[1], 4);
    assert_string_equal(c.actions[1], "person.update");
    memset(&c, 0, sizeof c);
    assert_int_equal(store_audit_scan(f->s, 1, 0, NULL, audit_cb, &c, &e), TN_OK);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.actions[2], "unit.add");

    /* append-only, enforced by the schema */
    assert_int_not_equal(raw_exec(f->path, "UPDATE audit_event SET result = 'denied'"),
                         SQLITE_OK);
    assert_int_not_equal(raw_exec(f->path, "DELETE FROM audit_event"), SQLITE_OK);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit_event"), 4);
}

/* ---- transactions ------------------------------------------------------- */

static bool exists(store *s, const char *id)
{
    person p;
    tn_err e;
    return store_person_get(s, id, &p, &e) == TN_OK;
}

static void test_nested_tx(void **state)
{
    fx *f = *state;
    tn_err e;
    person a, b, c;
    account acc;

    mk_person(&a, ID_A, "Anna", "Aalto");
    mk_person(&b, ID_B, "Bo", "Berg");
    mk_person(&c, ID_C, "Cia", "Carr");

    /* inner rollback keeps the outer work */
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_insert(f->s, &a, NULL, 0, NULL, &e), TN_OK);
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_tx_depth(f->s), 2);
    assert_int_equal(store_person_insert(f->s, &b, NULL, 0, NULL, &e), TN_OK);
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_tx_depth(f->s), 3);
    store_tx_rollback(f->s);
    store_tx_rollback(f->s);
    assert_int_equal(store_tx_depth(f->s), 1);
    assert_false(exists(f->s, ID_B));
    /* the rolled-back person must not linger in the id->number cache */
    mk_account(&acc, ID_B, "bo");
    assert_int_equal(store_account_insert(f->s, &acc, &e), TN_ENOTFOUND);
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_insert(f->s, &c, NULL, 0, NULL, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(store_tx_depth(f->s), 1);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_int_equal(store_tx_depth(f->s), 0);
    assert_true(exists(f->s, ID_A));
    assert_false(exists(f->s, ID_B));
    assert_true(exists(f->s, ID_C));

    /* outer rollback discards everything, also committed inner levels */
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_insert(f->s, &b, NULL, 0, NULL, &e), TN_OK);
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    mk_account(&acc, ID_B, "bo");
    assert_int_equal(store_account_insert(f->s, &acc, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    store_tx_rollback(f->s);
    assert_int_equal(store_tx_depth(f->s), 0);
    assert_false(exists(f->s, ID_B));
    assert_int_equal(store_account_get_by_username(f->s, "bo", &acc, &e), TN_ENOTFOUND);

    /* misuse */
    assert_int_equal(store_tx_commit(f->s, &e), TN_EINTERNAL);
    store_tx_rollback(f->s); /* harmless at depth 0 */
    assert_int_equal(store_tx_depth(f->s), 0);

    /* Numbers are never reused, even after a rolled-back insert. */
    int64_t before = c.number;
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_insert(f->s, &b, NULL, 0, NULL, &e), TN_OK);
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_true(b.number > before);
}

/* A second handle sees committed work only, and waits for the writer. */
static void test_two_handles(void **state)
{
    fx *f = *state;
    tn_err e;
    store *s2 = NULL;
    person a;

    assert_int_equal(store_open(f->path, STORE_OPEN_EXISTING, &s2, &e), TN_OK);
    mk_person(&a, ID_A, "Anna", "Aalto");
    assert_int_equal(store_tx_begin(f->s, &e), TN_OK);
    assert_int_equal(store_person_insert(f->s, &a, NULL, 0, NULL, &e), TN_OK);
    assert_false(exists(s2, ID_A));
    assert_int_equal(store_tx_commit(f->s, &e), TN_OK);
    assert_true(exists(s2, ID_A));
    store_close(s2);
}

static void test_write_outside_tx(void **state)
{
    fx *f = *state;
    tn_err e;
    person p;
    affiliation a;
    account acc;
    org_unit u;
    unsigned char h[STORE_HASH_BYTES] = {0}, sealed[8] = {0};

    add_person(f->s, &p, ID_A, "Anna", "Aalto");
    mk_aff(&a, ID_A, "staff", "hr", "E1", "", 1);
    mk_account(&acc, ID_A, "anna");
    memset(&u, 0, sizeof u);
    snprintf(u.code, sizeof u.code, "x");

    mk_person(&p, ID_B, "Bo", "Berg");
    assert_int_equal(store_person_insert(f->s, &p, NULL, 0, NULL, &e), TN_EINTERNAL);
    assert_string_equal(e.msg, "write outside a transaction");
    assert_int_equal(store_person_update(f->s, &p, &e), TN_EINTERNAL);
    assert_int_equal(store_person_set_nid(f->s, ID_A, date_from_ymd(1980, 1, 1), sealed, sizeof sealed, h, &e),
                     TN_EINTERNAL);
    assert_int_equal(store_aff_insert(f->s, &a, &e), TN_EINTERNAL);
    assert_int_equal(store_aff_update(f->s, &a, &e), TN_EINTERNAL);
    assert_int_equal(store_account_insert(f->s, &acc, &e), TN_EINTERNAL);
    assert_int_equal(store_account_update(f->s, &acc, &e), TN_EINTERNAL);
    assert_int_equal(store_name_reserve(f->s, STORE_NS_EMAIL, "a@b.c", ID_A, &e), TN_EINTERNAL);
    assert_int_equal(store_unit_insert(f->s, &u, &e), TN_EINTERNAL);
    assert_int_equal(store_meta_set(f->s, "k", "v", &e), TN_EINTERNAL);
    store_audit_row r = mk_row("x", NULL);
    unsigned char chain[STORE_HASH_BYTES] = {0};
    assert_int_equal(store_audit_insert(f->s, 1, &r, chain, &e), TN_EINTERNAL);
    assert_false(exists(f->s, ID_B));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_modes, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open_not_a_registry, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_migrations, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_meta, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_read_scope, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_person_crud, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_person_nid, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_person_nid_undated, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_person_similar, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_big_statement_journal, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_opener_waits_for_a_migration, setup_store,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_affiliations, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_accounts, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_reserved_names, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_units, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_person_list, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_person_list_reentrant, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_audit, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_nested_tx, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_two_handles, setup_store, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_outside_tx, setup_store, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
