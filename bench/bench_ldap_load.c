/* bench_ldap_load — a registry for the LDAP benchmark (bench/ldap.sh).
 *
 * Creates N persons through the service layer, each with a staff
 * affiliation and an account named u000001 … (the uids of the peer
 * benchmark's gen_ldif.py), and gives the first B accounts the {SSHA}
 * hash of "pw-" + uid, as gen_ldif.py gives its users, through
 * svc_account_set_password_hash (what a directory migration does).
 *
 * usage: bench_ldap_load DB N B */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "svc_dir.h"

static void die(const char *what, const tn_err *e)
{
    fprintf(stderr, "bench_ldap_load: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static void ssha(const char *password, char *out, size_t cap)
{
    unsigned char salt[8], raw[20 + sizeof salt];
    unsigned int n = 20;
    randombytes_buf(salt, sizeof salt);
    gnutls_hash_hd_t h;
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA1) < 0 || gnutls_hash(h, password, strlen(password)) ||
        gnutls_hash(h, salt, sizeof salt))
        die("sha1", NULL);
    gnutls_hash_deinit(h, raw);
    memcpy(raw + n, salt, sizeof salt);
    char b64[128];
    sodium_bin2base64(b64, sizeof b64, raw, n + sizeof salt, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, cap, "{SSHA}%s", b64);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_ldap_load DB N B\n");
        return 2;
    }
    long n = atol(argv[2]), b = atol(argv[3]);
    conf c;
    conf_defaults(&c);
    snprintf(c.db, sizeof c.db, "%s", argv[1]);
    snprintf(c.email_domain, sizeof c.email_domain, "example.fi");
    tn_err e;
    if (conf_finish(&c, &e) != TN_OK || svc_init_registry(&c, &e) != TN_OK)
        die("init", &e);
    svc *s;
    if (svc_open(&c, &s, &e) != TN_OK)
        die("open", &e);
    svc_set_read_audit(s, false);
    svc_actor a;
    svc_actor_local(&a, SVC_CH_IMPORT);
    a.kind = SVC_ACTOR_SYSTEM;
    if (svc_unit_ensure_path(s, &a, "Konserni/Digi", &e) != TN_OK)
        die("unit", &e);
    static const char *const given[] = {"Aino", "Helmi", "Juhani", "Olavi", "Märta", "Björn"};
    static const char *const family[] = {"Korhonen", "Virtanen", "Mäkinen", "Nieminen"};
    for (long i = 1; i <= n; i++) {
        if ((i - 1) % 1000 == 0 && svc_batch_begin(s, &e) != TN_OK)
            die("batch", &e);
        char uid[24], key[24];
        snprintf(uid, sizeof uid, "u%06ld", i);
        snprintf(key, sizeof key, "B%ld", i);
        person_input in = {.given_names = given[i % 6], .family_name = family[i % 4],
                           .birth_date = "1980-01-01"};
        svc_aff_input af = {.kind = "staff", .source = "hr", .source_key = key,
                            .org_unit = "Konserni/Digi", .title = "asiantuntija",
                            .valid_from = "2020-01-01"};
        svc_enrol_input ei = {.person = in, .affiliation = &af, .account = true, .username = uid};
        svc_enrolled r;
        if (svc_person_enrol(s, &a, &ei, &r, &e) != TN_OK)
            die("enrol", &e);
        if (i <= b) {
            char pw[32], h[160];
            snprintf(pw, sizeof pw, "pw-%s", uid);
            ssha(pw, h, sizeof h);
            if (svc_account_set_password_hash(s, &a, uid, h, &e) != TN_OK)
                die("password", &e);
        }
        if (i % 1000 == 0 || i == n)
            if (svc_batch_commit(s, &e) != TN_OK)
                die("commit", &e);
    }
    svc_close(s);
    return 0;
}
