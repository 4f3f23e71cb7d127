/* Unit tests: API clients (svc_client.c) over a real registry: tokens are
 * shown once and work, rotation invalidates the old one, revocation and
 * expiry deny, the source allowlist, the new-source alert, failures
 * audited, and only administrators manage clients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "date.h"
#include "service.h"
#include "svc_audit.h"
#include "svc_client.h"

typedef struct fixture {
    char dir[64];
    conf c;
    svc *s;
    svc_actor admin;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tunnus-client-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    conf_defaults(&f->c);
    snprintf(f->c.db, sizeof f->c.db, "%s/r.db", f->dir);
    tn_err e;
    if (conf_finish(&f->c, &e) != TN_OK || svc_init_registry(&f->c, &e) != TN_OK ||
        svc_open(&f->c, &f->s, &e) != TN_OK)
        return -1;
    svc_actor_local(&f->admin, SVC_CH_CLI);
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

/* How many audit events mention needle. */
static int audit_count(fixture *f, const char *needle)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    svc_audit_export_query q = {0};
    int64_t n;
    tn_err e;
    assert_int_equal(svc_audit_export(f->s, &f->admin, &q, m, &n, &e), TN_OK);
    fclose(m);
    int count = 0;
    for (char *p = buf; (p = strstr(p, needle)); p++)
        count++;
    free(buf);
    return count;
}

static void add(fixture *f, const char *name, const char *role, const char *const *allow,
                size_t nallow, char token[SVC_TOKEN_BUFSZ])
{
    svc_client_input in = {.name = name, .role = role, .allow = allow, .nallow = nallow};
    tn_err e;
    if (svc_client_add(f->s, &f->admin, &in, token, NULL, &e) != TN_OK)
        fail_msg("client add: %s", e.msg);
}

static void test_token_roundtrip_and_rotation(void **state)
{
    fixture *f = *state;
    char tok[SVC_TOKEN_BUFSZ], tok2[SVC_TOKEN_BUFSZ];
    add(f, "hr-sync", "hr_integration", NULL, 0, tok);
    assert_int_equal(strlen(tok), 47);
    assert_memory_equal(tok, "tnk_", 4);
    svc_actor a;
    bool fresh;
    tn_err e;
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e), TN_OK);
    assert_int_equal(a.kind, SVC_ACTOR_CLIENT);
    assert_string_equal(a.id, "hr-sync");
    assert_int_equal(a.channel, SVC_CH_SCIM);
    assert_int_equal(a.roles, SVC_ROLE_BIT(SVC_ROLE_HR_INTEGRATION));
    assert_true(fresh);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e), TN_OK);
    assert_false(fresh);
    assert_int_equal(audit_count(f, "client.new_source"), 1);
    /* A second client with the same name is a conflict. */
    svc_client_input dup = {.name = "hr-sync", .role = "admin"};
    assert_int_equal(svc_client_add(f->s, &f->admin, &dup, tok2, NULL, &e), TN_ECONFLICT);

    assert_int_equal(svc_client_rotate(f->s, &f->admin, "hr-sync", tok2, &e), TN_OK);
    assert_string_not_equal(tok, tok2);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_EDENIED);
    assert_string_equal(e.msg, "invalid credentials");
    assert_int_equal(svc_client_auth(f->s, tok2, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e), TN_OK);

    assert_int_equal(svc_client_revoke(f->s, &f->admin, "hr-sync", &e), TN_OK);
    assert_int_equal(svc_client_auth(f->s, tok2, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_EDENIED);
    assert_int_equal(svc_client_revoke(f->s, &f->admin, "hr-sync", &e), TN_ESTATE);
    /* The token is never in the audit trail; the failures are, with reasons. */
    assert_int_equal(audit_count(f, tok), 0);
    assert_int_equal(audit_count(f, tok2), 0);
    assert_true(audit_count(f, "client revoked") >= 1);
    assert_true(audit_count(f, "unknown token") >= 1);
}

/* Authenticate as a server's request does: inside a read scope. */
static tn_code auth_scoped(svc *s, const char *tok, const char *source, const char *cert)
{
    svc_actor a;
    bool fresh;
    tn_err e;
    svc_request_begin(s);
    tn_code rc = svc_client_auth(s, tok, source, cert, SVC_CH_SCIM, &a, &fresh, &e);
    svc_request_end(s);
    return rc;
}

/* A server remembers the clients it authenticated; what another process
 * changes (the CLI rotating, revoking, binding a certificate) takes effect
 * at the server's next request all the same, and so do its own changes. */
static void test_memo_follows_every_change(void **state)
{
    fixture *f = *state;
    svc *cli = NULL;
    tn_err e;
    assert_int_equal(svc_open(&f->c, &cli, &e), TN_OK);
    char tok[SVC_TOKEN_BUFSZ], tok2[SVC_TOKEN_BUFSZ];
    add(f, "sync", "admin", NULL, 0, tok);
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_scoped(f->s, tok, "127.0.0.1", NULL), TN_OK);

    assert_int_equal(svc_client_rotate(cli, &f->admin, "sync", tok2, &e), TN_OK);
    assert_int_equal(auth_scoped(f->s, tok, "127.0.0.1", NULL), TN_EDENIED);
    assert_int_equal(auth_scoped(f->s, tok2, "127.0.0.1", NULL), TN_OK);
    assert_int_equal(auth_scoped(f->s, tok2, "127.0.0.1", NULL), TN_OK);

    const char *fp = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:"
                     "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89";
    const char *fp_hex = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    assert_int_equal(svc_client_bind_cert(cli, &f->admin, "sync", fp, &e), TN_OK);
    assert_int_equal(auth_scoped(f->s, tok2, "127.0.0.1", NULL), TN_EDENIED);
    assert_int_equal(auth_scoped(f->s, tok2, "127.0.0.1", fp_hex), TN_OK);
    assert_int_equal(svc_client_bind_cert(cli, &f->admin, "sync", NULL, &e), TN_OK);
    assert_int_equal(auth_scoped(f->s, tok2, "127.0.0.1", NULL), TN_OK);

    /* A second source address is new once, whichever connection saw it. */
    assert_int_equal(audit_count(f, "client.new_source"), 1);
    assert_int_equal(auth_scoped(cli, tok2, "127.0.0.2", NULL), TN_OK);
    assert_int_equal(auth_scoped(f->s, tok2, "127.0.0.2", NULL), TN_OK);
    assert_int_equal(audit_count(f, "client.new_source"), 2);

    assert_int_equal(svc_client_revoke(cli, &f->admin, "sync", &e), TN_OK);
    assert_int_equal(auth_scoped(f->s, tok2, "127.0.0.1", NULL), TN_EDENIED);
    assert_int_equal(auth_scoped(f->s, tok2, "127.0.0.2", NULL), TN_EDENIED);

    /* The server's own change, with no other connection involved. */
    char tok3[SVC_TOKEN_BUFSZ];
    add(f, "own", "admin", NULL, 0, tok3);
    assert_int_equal(auth_scoped(f->s, tok3, "127.0.0.1", NULL), TN_OK);
    assert_int_equal(auth_scoped(f->s, tok3, "127.0.0.1", NULL), TN_OK);
    assert_int_equal(svc_client_revoke(f->s, &f->admin, "own", &e), TN_OK);
    assert_int_equal(auth_scoped(f->s, tok3, "127.0.0.1", NULL), TN_EDENIED);
    svc_close(cli);
}

static void test_bad_input_and_garbage_tokens(void **state)
{
    fixture *f = *state;
    char tok[SVC_TOKEN_BUFSZ];
    tn_err e;
    svc_client_input bad_name = {.name = "Bad Name", .role = "admin"};
    assert_int_equal(svc_client_add(f->s, &f->admin, &bad_name, tok, NULL, &e), TN_EINVAL);
    assert_string_equal(e.field, "name");
    svc_client_input bad_role = {.name = "x", .role = "root"};
    assert_int_equal(svc_client_add(f->s, &f->admin, &bad_role, tok, NULL, &e), TN_EINVAL);
    assert_string_equal(e.field, "role");
    svc_client_input no_unit = {.name = "x", .role = "unit_admin"};
    assert_int_equal(svc_client_add(f->s, &f->admin, &no_unit, tok, NULL, &e), TN_EINVAL);
    assert_string_equal(e.field, "unit");
    const char *cidr[] = {"10.0.0.0/33"};
    svc_client_input bad_cidr = {.name = "x", .role = "admin", .allow = cidr, .nallow = 1};
    assert_int_equal(svc_client_add(f->s, &f->admin, &bad_cidr, tok, NULL, &e), TN_EINVAL);
    assert_string_equal(e.field, "allow");
    svc_client_input past = {.name = "x", .role = "admin", .expires = "2000-01-01"};
    assert_int_equal(svc_client_add(f->s, &f->admin, &past, tok, NULL, &e), TN_EINVAL);
    assert_string_equal(e.field, "expires");

    svc_actor a;
    bool fresh;
    const char *garbage[] = {"", "tnk_", "tnk_short", "Bearer x",
                             "tnk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        assert_int_equal(svc_client_auth(f->s, garbage[i], "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e),
                         TN_EDENIED);
}

static void test_expiry(void **state)
{
    fixture *f = *state;
    char tok[SVC_TOKEN_BUFSZ];
    svc_client_input in = {.name = "temp", .role = "admin", .expires = "2099-12-31"};
    tn_err e;
    assert_int_equal(svc_client_add(f->s, &f->admin, &in, tok, NULL, &e), TN_OK);
    svc_actor a;
    bool fresh;
    /* The last valid day still works; the day after does not. */
    svc_set_today(f->s, date_from_ymd(2099, 12, 31));
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e), TN_OK);
    svc_set_today(f->s, date_from_ymd(2100, 1, 1));
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_EDENIED);
    assert_true(audit_count(f, "client expired") >= 1);
}

static void test_allowlist(void **state)
{
    fixture *f = *state;
    assert_true(svc_cidr_allows("", "192.0.2.1"));
    assert_true(svc_cidr_allows("10.0.0.0/8,192.0.2.7", "10.200.3.4"));
    assert_true(svc_cidr_allows("10.0.0.0/8,192.0.2.7", "192.0.2.7"));
    assert_false(svc_cidr_allows("10.0.0.0/8,192.0.2.7", "192.0.2.8"));
    assert_true(svc_cidr_allows("2001:db8::/32", "2001:db8:1::5"));
    assert_false(svc_cidr_allows("2001:db8::/32", "10.0.0.1"));
    assert_true(svc_cidr_allows("172.16.0.0/12", "172.31.255.255"));
    assert_false(svc_cidr_allows("172.16.0.0/12", "172.32.0.0"));

    char tok[SVC_TOKEN_BUFSZ];
    const char *allow[] = {"127.0.0.0/8"};
    add(f, "local-only", "admin", allow, 1, tok);
    svc_actor a;
    bool fresh;
    tn_err e;
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.9", NULL, SVC_CH_SCIM, &a, &fresh, &e), TN_OK);
    assert_int_equal(svc_client_auth(f->s, tok, "192.0.2.1", NULL, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_EDENIED);
    assert_true(audit_count(f, "source address not allowed") >= 1);
}

static void test_only_admins_manage_clients(void **state)
{
    fixture *f = *state;
    char tok[SVC_TOKEN_BUFSZ], t2[SVC_TOKEN_BUFSZ];
    add(f, "hr", "hr_integration", NULL, 0, tok);
    svc_actor a;
    bool fresh;
    tn_err e;
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e), TN_OK);
    svc_client_input in = {.name = "sneaky", .role = "admin"};
    assert_int_equal(svc_client_add(f->s, &a, &in, t2, NULL, &e), TN_EDENIED);
    assert_int_equal(svc_client_rotate(f->s, &a, "hr", t2, &e), TN_EDENIED);
    /* An admin client may (the stopgap rule until scoped roles land). */
    add(f, "boss", "admin", NULL, 0, tok);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e), TN_OK);
    assert_int_equal(svc_client_add(f->s, &a, &in, t2, NULL, &e), TN_OK);
}

static void test_certificate_binding(void **state)
{
    fixture *f = *state;
    static const char FP[] = "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:"
                             "A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08";
    static const char FPHEX[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    static const char OTHER[] = "0000000000000000000000000000000000000000000000000000000000000001";
    char out[65];
    assert_true(svc_cert_fingerprint_norm(FP, out));
    assert_string_equal(out, FPHEX);
    assert_false(svc_cert_fingerprint_norm("9f86d0", out));
    assert_false(svc_cert_fingerprint_norm("zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", out));
    assert_false(svc_cert_fingerprint_norm("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0800", out));

    char tok[SVC_TOKEN_BUFSZ];
    svc_actor a;
    bool fresh;
    tn_err e;
    svc_client_input bad = {.name = "badfp", .role = "admin", .cert_sha256 = "abc"};
    assert_int_equal(svc_client_add(f->s, &f->admin, &bad, tok, NULL, &e), TN_EINVAL);
    assert_string_equal(e.field, "cert_sha256");
    svc_client_input in = {.name = "pinned", .role = "hr_integration", .cert_sha256 = FP};
    svc_client_info info;
    assert_int_equal(svc_client_add(f->s, &f->admin, &in, tok, &info, &e), TN_OK);
    assert_string_equal(info.cert_sha256, FPHEX);
    /* No certificate, another certificate: refused and audited; the bound one: in. */
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_EDENIED);
    assert_true(audit_count(f, "no verified client certificate") >= 1);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", OTHER, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_EDENIED);
    assert_true(audit_count(f, "client certificate is not the bound one") >= 1);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", "short", SVC_CH_SCIM, &a, &fresh, &e),
                     TN_EDENIED);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", FPHEX, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_OK);
    /* Rebound to another certificate, then unbound. */
    assert_int_equal(svc_client_bind_cert(f->s, &f->admin, "pinned", OTHER, &e), TN_OK);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", FPHEX, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_EDENIED);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", OTHER, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_OK);
    assert_int_equal(svc_client_bind_cert(f->s, &f->admin, "pinned", NULL, &e), TN_OK);
    assert_int_equal(svc_client_auth(f->s, tok, "127.0.0.1", NULL, SVC_CH_SCIM, &a, &fresh, &e),
                     TN_OK);
    assert_int_equal(svc_client_bind_cert(f->s, &f->admin, "pinned", "nope", &e), TN_EINVAL);
    assert_int_equal(svc_client_bind_cert(f->s, &f->admin, "nobody", OTHER, &e), TN_ENOTFOUND);
    /* Only administrators bind. */
    assert_int_equal(svc_client_bind_cert(f->s, &a, "pinned", OTHER, &e), TN_EDENIED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token_roundtrip_and_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_follows_every_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_and_garbage_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allowlist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_admins_manage_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_binding, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
