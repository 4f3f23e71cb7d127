/* bench_audit — the audit trail's cost (issue 5), through the service layer.
 *
 *   setup DIR N              a registry with N persons, each with one
 *                            affiliation and one account (svc_person_enrol,
 *                            1000 per transaction); usernames to DIR/names
 *   read DIR OPS THREADS FLUSH [noaudit]
 *                            THREADS threads, each with its own svc handle
 *                            (its own SQLite connection), each showing OPS
 *                            random persons by username (svc_person_show);
 *                            svc_flush after every FLUSH reads, as a front
 *                            end does before its answer leaves. noaudit:
 *                            svc_set_read_audit(false).
 *   write DIR OPS THREADS BATCH [noaudit]
 *                            THREADS threads each changing the phone of OPS
 *                            random persons (svc_person_update), BATCH
 *                            updates per transaction. noaudit: the same
 *                            update path with only the audit append skipped
 *                            by the bench-only svc_bench_skip_write_audit;
 *                            validation, authorisation, change record and
 *                            transaction are unchanged.
 *
 * Output: one RESULT line (ops, seconds, busy retries are inside SQLite's
 * busy timeout; for reads also the flushes and the group commits that
 * served them), parsed by bench/audit.sh. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "service.h"

static const char *const GIVEN[] = {"Aino", "Helmi", "Emma", "Sofia", "Olivia", "Juhani",
                                    "Olavi", "Matti", "Timo", "Kari", "Pekka", "Jukka",
                                    "Märta", "Åsa", "Björn", "Zoë"};
static const char *const SYL[] = {"Kor", "Vir", "Mä", "Nie", "Hä", "Lai", "Hei", "Kos",
                                  "Jär", "Leh", "Saa", "Sal", "Kin", "Tu", "Ran", "Kar"};
static const char *const END[] = {"nen", "la", "lä", "o", "inen", "kari", "niemi", "mäki",
                                  "salo", "järvi", "lahti", "vaara", "berg", "ström", "mo",
                                  "koski"};
static const char *const UNITS[] = {"Sivistys", "Sivistys/Perusopetus", "Tekninen",
                                    "Hyvinvointi", "Konserni"};
#define NUNITS (sizeof UNITS / sizeof UNITS[0])

static uint64_t rnd(uint64_t *st)
{
    /* xorshift64*: deterministic per thread. */
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 2685821657736338717ull;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const tn_err *e)
{
    fprintf(stderr, "bench_audit: %s: %s: %s\n", what, e ? e->field : "", e ? e->msg : "");
    exit(1);
}

static void open_conf(const char *dir, conf *c)
{
    tn_err e;
    conf_defaults(c);
    snprintf(c->db, sizeof c->db, "%s/audit.db", dir);
    snprintf(c->email_domain, sizeof c->email_domain, "example.fi");
    if (conf_finish(c, &e) != TN_OK)
        die("conf", &e);
}

static int setup(const char *dir, long n)
{
    conf c;
    tn_err e;
    mkdir(dir, 0700);
    open_conf(dir, &c);
    if (svc_init_registry(&c, &e) != TN_OK)
        die("init", &e);
    svc *s;
    if (svc_open(&c, &s, &e) != TN_OK)
        die("open", &e);
    svc_actor a;
    svc_actor_local(&a, SVC_CH_IMPORT);
    a.kind = SVC_ACTOR_SYSTEM;
    for (size_t i = 0; i < NUNITS; i++)
        if (svc_unit_ensure_path(s, &a, UNITS[i], &e) != TN_OK)
            die("unit", &e);
    char path[600];
    snprintf(path, sizeof path, "%s/names", dir);
    FILE *out = fopen(path, "w");
    if (!out)
        die("names file", NULL);
    uint64_t st = 0x9E3779B97F4A7C15ull;
    for (long i = 0; i < n; i++) {
        if (i % 1000 == 0 && svc_batch_begin(s, &e) != TN_OK)
            die("batch", &e);
        char given[64], family[64], key[24];
        snprintf(given, sizeof given, "%s", GIVEN[rnd(&st) % 16]);
        snprintf(family, sizeof family, "%s%s", SYL[rnd(&st) % 16], END[rnd(&st) % 16]);
        snprintf(key, sizeof key, "E%ld", 100000 + i);
        person_input in = {.given_names = given, .family_name = family, .phone = "+358401234567"};
        svc_aff_input af = {.kind = "staff", .source = "hr", .source_key = key,
                            .org_unit = UNITS[rnd(&st) % NUNITS], .valid_from = "2020-01-01"};
        svc_enrol_input ei = {.person = in, .affiliation = &af, .account = true};
        svc_enrolled r;
        if (svc_person_enrol(s, &a, &ei, &r, &e) != TN_OK)
            die("enrol", &e);
        fprintf(out, "%s\n", r.account.username);
        if ((i + 1) % 1000 == 0 || i + 1 == n)
            if (svc_batch_commit(s, &e) != TN_OK)
                die("commit", &e);
    }
    fclose(out);
    svc_close(s);
    printf("RESULT mode=setup persons=%ld\n", n);
    return 0;
}

/* ---- the measured phases ------------------------------------------------- */

typedef struct job {
    const conf *c;
    char (*names)[USERNAME_BUFSZ];
    long nnames;
    long ops;
    long group; /* reads per flush, or updates per transaction */
    bool write;
    bool audit;
    int index;
    const char *fail;
    tn_err e;
    svc_audit_stats stats; /* of the process-wide group, when this job ended */
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    svc *s;
    if (svc_open(j->c, &s, &j->e) != TN_OK) {
        j->fail = "open";
        return NULL;
    }
    svc_set_read_audit(s, j->audit);
    if (j->write)
        svc_bench_skip_write_audit(s, !j->audit);
    svc_actor a;
    svc_actor_local(&a, SVC_CH_API);
    uint64_t st = 0x2545F4914F6CDD1Dull * (uint64_t)(j->index + 1);
    for (long i = 0; i < j->ops && !j->fail; i++) {
        char sel[96];
        snprintf(sel, sizeof sel, "username:%s", j->names[rnd(&st) % (uint64_t)j->nnames]);
        if (j->write) {
            if (j->group > 1 && i % j->group == 0 && svc_batch_begin(s, &j->e) != TN_OK)
                j->fail = "batch";
            char phone[32];
            /* Always a new value: an unchanged one writes nothing. Every
             * run visits the same persons in the same order, so the value
             * also carries the mode: a run with auditing and one without
             * alternate in bench/audit.sh, and each changes what the one
             * before it wrote (with the same values, the second run would
             * find nothing to change and measure no write at all). */
            snprintf(phone, sizeof phone, "+35850%d%d%06ld", j->audit ? 1 : 2, j->index,
                     i % 1000000);
            person_input ch = {.phone = phone};
            person p;
            if (!j->fail && svc_person_update(s, &a, sel, &ch, &p, &j->e) != TN_OK)
                j->fail = "update";
            if (!j->fail && j->group > 1 && ((i + 1) % j->group == 0 || i + 1 == j->ops) &&
                svc_batch_commit(s, &j->e) != TN_OK)
                j->fail = "commit";
        } else {
            svc_person_view v;
            if (svc_person_show(s, &a, sel, &v, &j->e) != TN_OK) {
                j->fail = "show";
                break;
            }
            if (v.naccts != 1)
                j->fail = "show returned the wrong person";
            svc_person_view_free(&v);
            if (((i + 1) % j->group == 0 || i + 1 == j->ops) && svc_flush(s, &j->e) != TN_OK)
                j->fail = "flush";
        }
    }
    svc_read_audit_stats(s, &j->stats);
    svc_close(s);
    return NULL;
}

static int measure(const char *dir, bool write, long ops, int threads, long group, bool audit)
{
    conf c;
    open_conf(dir, &c);
    char path[600], line[USERNAME_BUFSZ + 2] = {0};
    snprintf(path, sizeof path, "%s/names", dir);
    FILE *in = fopen(path, "r");
    if (!in)
        die("names file (run setup first)", NULL);
    long cap = 1024, n = 0;
    char(*names)[USERNAME_BUFSZ] = malloc((size_t)cap * USERNAME_BUFSZ);
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        if (n == cap)
            names = realloc(names, (size_t)(cap *= 2) * USERNAME_BUFSZ);
        memcpy(names[n], line, USERNAME_BUFSZ);
        names[n++][USERNAME_BUFSZ - 1] = '\0';
    }
    fclose(in);
    if (n == 0)
        die("no names", NULL);
    job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    double t0 = now_s();
    /* As in `tunnus serve`: audited reads are appended to the read log's
     * tail file and moved into its tables by an ingester thread meanwhile.
     * Its work is inside the timing, and so is the rest that the threads'
     * svc_close and the ingester's stop move at the end: the time is that
     * of reads whose events are all in the read log's tables. */
    svc_ingester *ing = NULL;
    tn_err ie;
    if (audit && svc_ingester_start(&c, 0, stderr, &ing, &ie) != TN_OK)
        die("ingester", &ie);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){.c = &c, .names = names, .nnames = n, .ops = ops, .group = group,
                        .write = write, .audit = audit, .index = i};
        pthread_create(&tid[i], NULL, run_job, &jobs[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    svc_ingester_stop(ing);
    double t1 = now_s();
    svc_audit_stats st = {0};
    for (int i = 0; i < threads; i++) {
        if (jobs[i].fail)
            die(jobs[i].fail, &jobs[i].e);
        /* The counters only grow: the job that ended last saw them all. */
        if (jobs[i].stats.flushes > st.flushes)
            st = jobs[i].stats;
    }
    printf("RESULT mode=%s%s ops=%ld threads=%d group=%ld secs=%.4f flushes=%llu commits=%llu\n",
           write ? "write" : "read", audit ? "" : "-noaudit", ops * threads, threads, group,
           t1 - t0, (unsigned long long)st.flushes, (unsigned long long)st.commits);
    free(jobs);
    free(tid);
    free(names);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "setup") == 0)
        return setup(argv[2], strtol(argv[3], NULL, 10));
    if ((argc == 6 || argc == 7) &&
        (strcmp(argv[1], "read") == 0 || strcmp(argv[1], "write") == 0)) {
        long ops = strtol(argv[3], NULL, 10), group = strtol(argv[5], NULL, 10);
        int threads = (int)strtol(argv[4], NULL, 10);
        bool audit = !(argc == 7 && strcmp(argv[6], "noaudit") == 0);
        if (ops <= 0 || threads <= 0 || group <= 0)
            return 2;
        return measure(argv[2], strcmp(argv[1], "write") == 0, ops, threads, group, audit);
    }
    fprintf(stderr, "usage: bench_audit setup DIR N\n"
                    "       bench_audit read|write DIR OPS THREADS GROUP [noaudit]\n");
    return 2;
}
