/* bench_prov_delay — change-to-target delay of provisioning (bench/prov.sh).
 *
 * Changes the family name of persons 1, 2, 3 … of a bench_ldap_load
 * registry (account u000001 …) through the service layer at RATE changes
 * per second for SECONDS, while an observer thread polls the target
 * directory for each new value in turn (a base search of the entry with
 * an equality filter, every millisecond) and records the delay from the
 * change's commit to its appearance. A `tunnus serve` with the target
 * configured must be running on the same registry.
 *
 * usage: bench_prov_delay DB LDAP_URL PEOPLE_BASE RATE SECONDS PERSONS
 * prints: changes N seen M p50_ms P p99_ms Q max_ms R */
#include <ldap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service.h"
#include "tn_str.h"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void family_of(long i, char *out)
{
    /* letters only: names may not hold digits */
    char d[16];
    int n = 0;
    do {
        d[n++] = (char)('a' + i % 26);
        i /= 26;
    } while (i);
    out[0] = 'Z';
    out[1] = 'q';
    for (int k = 0; k < n; k++)
        out[2 + k] = d[n - 1 - k];
    out[2 + n] = '\0';
}

static long total;
static _Atomic int64_t *commit_at;
static int64_t *delay;
static const char *url, *base;
static long persons;
static atomic_bool done;

static void *observe(void *arg)
{
    (void)arg;
    LDAP *ld;
    if (ldap_initialize(&ld, url) != LDAP_SUCCESS)
        return NULL;
    int v3 = LDAP_VERSION3;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    struct berval cred = {0, ""};
    ldap_sasl_bind_s(ld, NULL, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    char *attrs[] = {"1.1", NULL};
    for (long i = 0; i < total; i++) {
        while (!commit_at[i] && !done) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
        if (!commit_at[i])
            break;
        char dn[256], fam[32], filter[64];
        snprintf(dn, sizeof dn, "uid=u%06ld,%s", i % persons + 1, base);
        family_of(i, fam);
        snprintf(filter, sizeof filter, "(sn=%s)", fam);
        int64_t deadline = commit_at[i] + 30000000;
        for (;;) {
            LDAPMessage *res = NULL;
            int rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL,
                                       NULL, 1, &res);
            bool found = rc == LDAP_SUCCESS && ldap_count_entries(ld, res) > 0;
            ldap_msgfree(res);
            int64_t t = now_us();
            if (found) {
                delay[i] = t - commit_at[i];
                break;
            }
            if (t > deadline) {
                delay[i] = -1;
                break;
            }
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    ldap_unbind_ext_s(ld, NULL, NULL);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: bench_prov_delay DB LDAP_URL PEOPLE_BASE RATE SECONDS PERSONS\n");
        return 2;
    }
    url = argv[2];
    base = argv[3];
    long rate = atol(argv[4]), secs = atol(argv[5]);
    persons = atol(argv[6]);
    total = rate * secs;
    commit_at = calloc((size_t)total, sizeof *commit_at);
    delay = calloc((size_t)total, sizeof *delay);
    conf c;
    conf_defaults(&c);
    tn_strlcpy(c.db, argv[1], sizeof c.db);
    tn_err e;
    tn_err_clear(&e);
    svc *s;
    if (conf_finish(&c, &e) != TN_OK || svc_open(&c, &s, &e) != TN_OK) {
        fprintf(stderr, "bench_prov_delay: %s\n", e.msg);
        return 1;
    }
    svc_actor a;
    svc_actor_local(&a, SVC_CH_CLI);
    pthread_t th;
    pthread_create(&th, NULL, observe, NULL);
    int64_t start = now_us() + 200000;
    for (long i = 0; i < total; i++) {
        int64_t at = start + i * 1000000 / rate, t = now_us();
        if (at > t) {
            struct timespec ts = {(at - t) / 1000000, ((at - t) % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        char sel[32], fam[32];
        snprintf(sel, sizeof sel, "number:%ld", i % persons + 1);
        family_of(i, fam);
        person_input in = {.family_name = fam};
        person out;
        if (svc_person_update(s, &a, sel, &in, &out, &e) != TN_OK) {
            fprintf(stderr, "bench_prov_delay: update %s: %s\n", sel, e.msg);
            break;
        }
        commit_at[i] = now_us();
    }
    done = true;
    pthread_join(th, NULL);
    svc_close(s);
    long seen = 0, lost = 0;
    int64_t *d = malloc((size_t)total * sizeof *d);
    for (long i = 0; i < total; i++) {
        if (delay[i] > 0)
            d[seen++] = delay[i];
        else if (delay[i] < 0)
            lost++;
    }
    qsort(d, (size_t)seen, sizeof *d, cmp64);
    if (!seen) {
        printf("changes %ld seen 0 timed_out %ld\n", total, lost);
        return 1;
    }
    printf("changes %ld seen %ld timed_out %ld p50_ms %.1f p99_ms %.1f max_ms %.1f\n", total, seen,
           lost, (double)d[seen / 2] / 1000.0, (double)d[seen * 99 / 100] / 1000.0,
           (double)d[seen - 1] / 1000.0);
    free(d);
    return 0;
}
