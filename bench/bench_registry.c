/* bench_registry — the registry core benchmark (issue 2).
 *
 *   service:  insert N persons, each with one affiliation and one account,
 *             through the service layer (validation, sealing, username
 *             generation and reservation, audit), then look up N random
 *             usernames through svc_person_show (read audit on or off);
 *   ceiling:  the same fields into the same kind of tables with plain
 *             prepared INSERTs, and the same reads with plain prepared
 *             SELECTs, on bare SQLite with the same pragmas.
 *
 * Both sides commit every --batch operations. Each phase runs in its own
 * child process so that its peak RSS is its own. Output: one RESULT line
 * per phase, parsed by bench/registry.sh.
 *
 * usage: bench_registry MODE DIR N LOOKUPS BATCH
 *   MODE: service         one svc_person_enrol per person (person, first
 *                         affiliation and account, atomically), read audit on
 *         service-noaudit the same with read auditing off
 *         service-calls   three calls per person: svc_person_add,
 *                         svc_aff_add, svc_account_create
 *         ceiling         bare SQLite */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "service.h"

static const char *const GIVEN[] = {
    "Aino", "Helmi", "Emma", "Sofia", "Olivia", "Aada", "Ellen", "Venla", "Lilja", "Linnea",
    "Anna", "Maria", "Kaisa", "Liisa", "Sanna", "Päivi", "Tiina", "Minna", "Riikka", "Johanna",
    "Sari", "Hanna", "Laura", "Elina", "Satu", "Eeva", "Ilona", "Noora", "Iida", "Siiri",
    "Juhani", "Olavi", "Antero", "Tapani", "Johannes", "Mikael", "Matti", "Timo", "Kari",
    "Pekka", "Jukka", "Mikko", "Jari", "Antti", "Markku", "Ville", "Juha", "Janne", "Tuomas",
    "Eino", "Väinö", "Leo", "Oliver", "Elias", "Onni", "Eetu", "Aatu", "Niilo", "Toivo", "Lauri",
    "Märta", "Åsa", "Björn", "Göran", "Zoë", "Amélie", "René", "José"};
/* Family names are built from syllables, as Finnish ones largely are, so a
 * million persons have realistic namesake rates rather than a few dozen
 * names shared by thousands. */
static const char *const SYL[] = {"Kor", "Vir", "Mä", "Nie", "Hä", "Lai", "Hei", "Kos", "Jär",
                                  "Leh", "Saa", "Sal", "Kin", "Tu", "Ran", "Kar", "Jo", "Mat",
                                  "Sa", "Lah", "A", "Ö", "Lind", "Py", "Yli", "Ke", "Ru", "Pel",
                                  "Hal", "Tik"};
static const char *const MID[] = {"ho", "ta", "ki", "me", "lä", "ri", "ja", "su", "no", "va",
                                  "lo", "pi", "ka", "te", "ro", ""};
static const char *const END[] = {"nen", "la", "lä", "o", "inen", "kari", "niemi", "mäki",
                                  "salo", "järvi", "lahti", "vaara", "berg", "ström", "mo", "koski"};
static const char *const UNITS[] = {"Sivistys", "Sivistys/Perusopetus", "Sivistys/Lukio",
                                    "Tekninen", "Tekninen/Kiinteistöt", "Hyvinvointi",
                                    "Hyvinvointi/Kirjasto", "Konserni", "Konserni/Digi",
                                    "Konserni/Talous"};
#define NUNITS (sizeof UNITS / sizeof UNITS[0])
static const char CHECK[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so both sides see the same population. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

typedef struct gen_person {
    char given[64], family[64], nid[16], phone[24], from[16], unit[40], key[24];
} gen_person;

static void gen(long i, gen_person *g)
{
    rng_state = 0x9E3779B97F4A7C15ull ^ ((uint64_t)i * 0xD1B54A32D192ED03ull);
    snprintf(g->given, sizeof g->given, "%s %s", GIVEN[rnd() % 68], GIVEN[rnd() % 68]);
    char fam[64];
    snprintf(fam, sizeof fam, "%s%s%s", SYL[rnd() % 30], MID[rnd() % 16], END[rnd() % 16]);
    snprintf(g->family, sizeof g->family, "%s", fam);
    /* Unique valid national IDs: one day per i modulo ~100 years, the
     * individual number from the quotient. */
    long day = i % 36500, ind = 2 + (i / 36500) % 898;
    time_t t = (time_t)(-2208988800LL + 86400LL * (day + 365 * 1)); /* from 1901 */
    struct tm tm;
    gmtime_r(&t, &tm);
    int yy = tm.tm_year % 100;
    char sign = tm.tm_year >= 100 ? 'A' : '-';
    char digits[32];
    snprintf(digits, sizeof digits, "%02d%02d%02d%03ld", tm.tm_mday, tm.tm_mon + 1, yy, ind);
    long num = strtol(digits, NULL, 10);
    snprintf(g->nid, sizeof g->nid, "%.6s%c%03ld%c", digits, sign, ind, CHECK[num % 31]);
    snprintf(g->phone, sizeof g->phone, "+35840%07lu", (unsigned long)(rnd() % 10000000));
    snprintf(g->from, sizeof g->from, "20%02d-%02d-01", (int)(10 + rnd() % 16), (int)(1 + rnd() % 12));
    snprintf(g->unit, sizeof g->unit, "%s", UNITS[rnd() % NUNITS]);
    snprintf(g->key, sizeof g->key, "E%ld", 100000 + i);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const tn_err *e)
{
    fprintf(stderr, "bench: %s: %s: %s\n", what, e ? e->field : "", e ? e->msg : "");
    exit(1);
}

/* ---- service side ---------------------------------------------------------- */

static int run_service(const char *dir, long n, long lookups, long batch, bool read_audit,
                       bool enrol)
{
    conf c;
    conf_defaults(&c);
    snprintf(c.db, sizeof c.db, "%s/service.db", dir);
    snprintf(c.email_domain, sizeof c.email_domain, "example.fi");
    tn_err e;
    if (conf_finish(&c, &e) != TN_OK || svc_init_registry(&c, &e) != TN_OK)
        die("init", &e);
    svc *s;
    if (svc_open(&c, &s, &e) != TN_OK)
        die("open", &e);
    svc_set_read_audit(s, read_audit);
    svc_actor a;
    svc_actor_local(&a, SVC_CH_IMPORT);
    a.kind = SVC_ACTOR_SYSTEM;
    for (size_t i = 0; i < NUNITS; i++)
        if (svc_unit_ensure_path(s, &a, UNITS[i], &e) != TN_OK)
            die("unit", &e);

    char (*names)[USERNAME_BUFSZ] = calloc((size_t)n, USERNAME_BUFSZ);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (i % batch == 0 && svc_batch_begin(s, &e) != TN_OK)
            die("batch", &e);
        gen_person g;
        gen(i, &g);
        person_input in = {.given_names = g.given, .family_name = g.family,
                           .national_id = g.nid, .phone = g.phone};
        svc_aff_input af = {.kind = "staff", .source = "hr", .source_key = g.key,
                            .org_unit = g.unit, .title = "asiantuntija", .valid_from = g.from};
        if (enrol) {
            svc_enrol_input ei = {.person = in, .affiliation = &af, .account = true};
            svc_enrolled r;
            if (svc_person_enrol(s, &a, &ei, &r, &e) != TN_OK)
                die("person enrol", &e);
            memcpy(names[i], r.account.username, USERNAME_BUFSZ);
        } else {
            person p;
            if (svc_person_add(s, &a, &in, &p, &e) != TN_OK)
                die("person add", &e);
            char sel[48];
            snprintf(sel, sizeof sel, "id:%s", p.id);
            if (svc_aff_add(s, &a, sel, &af, NULL, &e) != TN_OK)
                die("affiliation add", &e);
            account acct;
            if (svc_account_create(s, &a, sel, NULL, &acct, &e) != TN_OK)
                die("account create", &e);
            memcpy(names[i], acct.username, USERNAME_BUFSZ);
        }
        if ((i + 1) % batch == 0 || i + 1 == n)
            if (svc_batch_commit(s, &e) != TN_OK)
                die("commit", &e);
    }
    double t1 = now_s();
    rng_state = 42;
    for (long i = 0; i < lookups; i++) {
        if (i % batch == 0 && svc_batch_begin(s, &e) != TN_OK)
            die("batch", &e);
        char sel[96];
        snprintf(sel, sizeof sel, "username:%s", names[rnd() % (uint64_t)n]);
        svc_person_view v;
        if (svc_person_show(s, &a, sel, &v, &e) != TN_OK)
            die("show", &e);
        if (v.naffs != 1 || v.naccts != 1)
            die("show returned the wrong person", NULL);
        svc_person_view_free(&v);
        if ((i + 1) % batch == 0 || i + 1 == lookups)
            if (svc_batch_commit(s, &e) != TN_OK)
                die("commit", &e);
    }
    double t2 = now_s();
    svc_close(s);
    free(names);
    printf("insert_s=%.3f lookup_s=%.3f", t1 - t0, t2 - t1);
    return 0;
}

/* ---- ceiling side ------------------------------------------------------------ */

/* Lower-case ASCII letters of s: the ceiling's usernames are made from the
 * names like the service's (so they land at the same kind of positions in
 * the unique index), without validation or reservation. */
static void ascii_letters(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && *s != ' ' && o + 1 < cap; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
            out[o++] = (char)(*s | 0x20);
    out[o] = '\0';
}

static void sq(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench: %s: %s\n", sql, err);
        exit(1);
    }
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: prepare: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    return st;
}

static void step_done(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE) {
        fprintf(stderr, "bench: step: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_reset(st);
}

static int run_ceiling(const char *dir, long n, long lookups, long batch)
{
    char path[512];
    snprintf(path, sizeof path, "%s/ceiling.db", dir);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return 1;
    /* The store's own connection settings (src/store/store_sqlite.c). */
    sq(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
           "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0;"
           "PRAGMA wal_autocheckpoint=16384;");
    sq(db, "CREATE TABLE person(number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
           " state TEXT, given_names TEXT, family_name TEXT, phone TEXT, birth_date TEXT,"
           " gender TEXT, nid_sealed BLOB, nid_hash BLOB UNIQUE, created_at INT, updated_at INT);"
           "CREATE TABLE affiliation(id INTEGER PRIMARY KEY, person_num INT NOT NULL"
           " REFERENCES person(number), kind TEXT, source TEXT, source_key TEXT, org_unit TEXT,"
           " title TEXT, valid_from TEXT, valid_to TEXT, created_at INT, updated_at INT,"
           " UNIQUE(source, source_key));"
           "CREATE INDEX affiliation_person ON affiliation(person_num);"
           "CREATE TABLE account(id INTEGER PRIMARY KEY, person_num INT NOT NULL"
           " REFERENCES person(number), username TEXT NOT NULL UNIQUE, email TEXT, state TEXT,"
           " created_on TEXT, created_at INT, updated_at INT);"
           "CREATE INDEX account_person ON account(person_num);");
    sqlite3_stmt *ip = prep(db, "INSERT INTO person(id,state,given_names,family_name,phone,"
                                "birth_date,gender,nid_sealed,nid_hash,created_at,updated_at)"
                                " VALUES(?,'pending',?,?,?,?,?,?,?,?,?)");
    sqlite3_stmt *ia = prep(db, "INSERT INTO affiliation(person_num,kind,source,source_key,"
                                "org_unit,title,valid_from,created_at,updated_at)"
                                " VALUES(?,'staff','hr',?,?,'asiantuntija',?,?,?)");
    sqlite3_stmt *ic = prep(db, "INSERT INTO account(person_num,username,email,state,created_on,"
                                "created_at,updated_at) VALUES(?,?,?,'active','2026-11-21',?,?)");
    unsigned char blob[51], hash[32];
    char (*names)[USERNAME_BUFSZ] = calloc((size_t)n, USERNAME_BUFSZ);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (i % batch == 0)
            sq(db, "BEGIN");
        gen_person g;
        gen(i, &g);
        char id[64], uname[USERNAME_BUFSZ], email[96];
        snprintf(id, sizeof id, "%08lx-0000-7000-8000-%012lx", (unsigned long)i,
                 (unsigned long)rnd() & 0xffffffffffffUL);
        /* The same kinds of values the service stores, without validation,
         * sealing or name generation: name-shaped usernames made unique by
         * the row number, a random 32-byte hash as the keyed hash is, and
         * ids that increase like the service's version-7 UUIDs. */
        char gv[32], fm[32];
        ascii_letters(g.given, gv, sizeof gv);
        ascii_letters(g.family, fm, sizeof fm);
        snprintf(uname, sizeof uname, "%.8s.%.8s%ld", gv, fm, i);
        snprintf(email, sizeof email, "%s@example.fi", uname);
        memcpy(names[i], uname, sizeof uname);
        for (size_t k = 0; k < sizeof blob; k++)
            blob[k] = (unsigned char)rnd();
        for (size_t k = 0; k < sizeof hash; k += 8) {
            uint64_t r = rnd();
            memcpy(hash + k, &r, 8);
        }
        int64_t ts = (int64_t)i;
        sqlite3_bind_text(ip, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 2, g.given, -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 3, g.family, -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 4, g.phone, -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 5, "1980-01-01", -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 6, "female", -1, SQLITE_STATIC);
        sqlite3_bind_blob(ip, 7, blob, sizeof blob, SQLITE_STATIC);
        sqlite3_bind_blob(ip, 8, hash, sizeof hash, SQLITE_STATIC);
        sqlite3_bind_int64(ip, 9, ts);
        sqlite3_bind_int64(ip, 10, ts);
        step_done(db, ip);
        int64_t num = sqlite3_last_insert_rowid(db);
        sqlite3_bind_int64(ia, 1, num);
        sqlite3_bind_text(ia, 2, g.key, -1, SQLITE_STATIC);
        sqlite3_bind_text(ia, 3, g.unit, -1, SQLITE_STATIC);
        sqlite3_bind_text(ia, 4, g.from, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ia, 5, ts);
        sqlite3_bind_int64(ia, 6, ts);
        step_done(db, ia);
        sqlite3_bind_int64(ic, 1, num);
        sqlite3_bind_text(ic, 2, uname, -1, SQLITE_STATIC);
        sqlite3_bind_text(ic, 3, email, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ic, 4, ts);
        sqlite3_bind_int64(ic, 5, ts);
        step_done(db, ic);
        if ((i + 1) % batch == 0 || i + 1 == n)
            sq(db, "COMMIT");
    }
    double t1 = now_s();
    sqlite3_stmt *q1 = prep(db, "SELECT p.number,p.id,p.state,p.given_names,p.family_name,"
                                "p.phone,p.birth_date,p.gender,p.created_at,p.updated_at"
                                " FROM account c JOIN person p ON p.number=c.person_num"
                                " WHERE c.username=?");
    sqlite3_stmt *q2 = prep(db, "SELECT id,kind,source,source_key,org_unit,title,valid_from,"
                                "valid_to,created_at,updated_at FROM affiliation"
                                " WHERE person_num=? ORDER BY valid_from,id");
    sqlite3_stmt *q3 = prep(db, "SELECT id,username,email,state,created_on,created_at,updated_at"
                                " FROM account WHERE person_num=? ORDER BY id");
    rng_state = 42;
    long found = 0;
    for (long i = 0; i < lookups; i++) {
        if (i % batch == 0)
            sq(db, "BEGIN");
        sqlite3_bind_text(q1, 1, names[rnd() % (uint64_t)n], -1, SQLITE_STATIC);
        if (sqlite3_step(q1) == SQLITE_ROW) {
            int64_t num = sqlite3_column_int64(q1, 0);
            /* Touch the columns, as the service copies them out. */
            for (int c = 1; c < 10; c++)
                (void)sqlite3_column_text(q1, c);
            sqlite3_bind_int64(q2, 1, num);
            while (sqlite3_step(q2) == SQLITE_ROW)
                for (int c = 0; c < 10; c++)
                    (void)sqlite3_column_text(q2, c);
            sqlite3_reset(q2);
            sqlite3_bind_int64(q3, 1, num);
            while (sqlite3_step(q3) == SQLITE_ROW)
                for (int c = 0; c < 7; c++)
                    (void)sqlite3_column_text(q3, c);
            sqlite3_reset(q3);
            found++;
        }
        sqlite3_reset(q1);
        if ((i + 1) % batch == 0 || i + 1 == lookups)
            sq(db, "COMMIT");
    }
    double t2 = now_s();
    if (found != lookups)
        return 1;
    sqlite3_finalize(ip);
    sqlite3_finalize(ia);
    sqlite3_finalize(ic);
    sqlite3_finalize(q1);
    sqlite3_finalize(q2);
    sqlite3_finalize(q3);
    sqlite3_close(db);
    free(names);
    printf("insert_s=%.3f lookup_s=%.3f", t1 - t0, t2 - t1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_registry service|service-noaudit|service-calls|ceiling DIR N LOOKUPS BATCH\n");
        return 2;
    }
    const char *mode = argv[1], *dir = argv[2];
    long n = strtol(argv[3], NULL, 10), lookups = strtol(argv[4], NULL, 10);
    long batch = strtol(argv[5], NULL, 10);
    if (n <= 0 || lookups < 0 || batch <= 0)
        return 2;
    mkdir(dir, 0700);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        printf("RESULT mode=%s persons=%ld lookups=%ld batch=%ld ", mode, n, lookups, batch);
        int rc;
        if (strcmp(mode, "ceiling") == 0)
            rc = run_ceiling(dir, n, lookups, batch);
        else if (strcmp(mode, "service") == 0)
            rc = run_service(dir, n, lookups, batch, true, true);
        else if (strcmp(mode, "service-noaudit") == 0)
            rc = run_service(dir, n, lookups, batch, false, true);
        else if (strcmp(mode, "service-calls") == 0)
            rc = run_service(dir, n, lookups, batch, true, false);
        else
            rc = 2;
        fflush(stdout);
        _exit(rc);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: %s phase failed\n", mode);
        return 1;
    }
    printf(" maxrss_kb=%ld\n", ru.ru_maxrss);
    return 0;
}
