/* Unit tests: configuration parsing (src/conf). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "conf.h"

static void load_ok(void **state)
{
    (void)state;
    conf c;
    conf_defaults(&c);
    tn_err e;
    assert_int_equal(conf_load_string(&c,
                                      "; comment\n[registry]\ndb = /tmp/r.db\n\n[naming]\n"
                                      "username_pattern = {given:1}{family}\nusername_max = 8\n"
                                      "email_domain = Example.FI\n",
                                      "t.conf", &e),
                     TN_OK);
    assert_int_equal(conf_finish(&c, &e), TN_OK);
    assert_string_equal(c.db, "/tmp/r.db");
    assert_string_equal(c.key_file, "/tmp/r.db.key");
    assert_string_equal(c.username_pattern, "{given:1}{family}");
    assert_int_equal(c.username_max, 8);
    assert_string_equal(c.email_domain, "example.fi");
}

static void defaults(void **state)
{
    (void)state;
    conf c;
    conf_defaults(&c);
    tn_err e;
    assert_int_equal(conf_load_string(&c, "[registry]\ndb = sqlite:/x/y.db\n", "t", &e), TN_OK);
    assert_int_equal(conf_finish(&c, &e), TN_OK);
    assert_string_equal(c.username_pattern, "{given}.{family}");
    assert_int_equal(c.username_max, 20);
    assert_string_equal(c.key_file, "/x/y.db.key");
    assert_string_equal(c.email_domain, "");
}

static void ldap_keys(void **state)
{
    (void)state;
    conf c;
    conf_defaults(&c);
    tn_err e;
    assert_int_equal(c.ldap_port, 3389);
    assert_false(c.ldap_anonymous_search);
    assert_true(c.ldap_read_audit);
    assert_int_equal(conf_load_string(&c,
                                      "[ldap]\nlisten = ::1\nport = 0\nbase = o=Koulu,c=FI\n"
                                      "max_pdu = 4096\nanonymous_search = yes\nread_audit = off\n"
                                      "bind_max_failures = 0\nservice_dn = cn=app,o=Koulu,c=FI\n"
                                      "service_password_hash = {SSHA}abc\n",
                                      "t.conf", &e),
                     TN_OK);
    assert_string_equal(c.ldap_listen, "::1");
    assert_int_equal(c.ldap_port, 0);
    assert_string_equal(c.ldap_base, "o=Koulu,c=FI");
    assert_int_equal(c.ldap_max_pdu, 4096);
    assert_true(c.ldap_anonymous_search);
    assert_false(c.ldap_read_audit);
    assert_int_equal(c.ldap_bind_max_failures, 0);
    assert_string_equal(c.ldap_service_password_hash, "{SSHA}abc");
    assert_int_equal(c.ldap_filter_depth, 32); /* untouched default */
}

static void ldap_tls_keys(void **state)
{
    (void)state;
    conf c;
    conf_defaults(&c);
    tn_err e;
    assert_int_equal(c.ldap_ldaps_port, -1);
    assert_true(c.ldap_bind_require_tls);
    assert_int_equal(conf_load_string(&c,
                                      "[ldap]\ntls_cert = /etc/t.crt\ntls_key = /etc/t.key\n"
                                      "workers = 3\n"
                                      "ldaps_port = 0\nbind_require_tls = false\n",
                                      "t.conf", &e),
                     TN_OK);
    assert_int_equal(conf_finish(&c, &e), TN_OK);
    assert_string_equal(c.ldap_tls_cert, "/etc/t.crt");
    assert_string_equal(c.ldap_tls_key, "/etc/t.key");
    assert_int_equal(c.ldap_ldaps_port, 0);
    assert_false(c.ldap_bind_require_tls);
    assert_int_equal(c.ldap_workers, 3);
    assert_int_equal(conf_load_string(&c, "[ldap]\nldaps_port = off\n", "u.conf", &e), TN_OK);
    assert_int_equal(c.ldap_ldaps_port, -1);
}

static void http_keys(void **state)
{
    (void)state;
    conf c;
    conf_defaults(&c);
    tn_err e;
    assert_int_equal(c.http_port, -1);
    assert_int_equal(c.http_https_port, -1);
    assert_true(c.http_read_audit);
    assert_int_equal(conf_load_string(&c,
                                      "[ldap]\ntls_cert = /etc/t.crt\ntls_key = /etc/t.key\n"
                                      "[http]\nlisten = ::1\nport = 0\nhttps_port = 8443\n"
                                      "max_body = 4096\ntimeout = 5\nthreads = 3\ncache_kib = 128\nmmap_mib = 0\n"
                                      "max_connections = 9\nread_audit = false\n"
                                      "auth_max_failures = 0\nauth_lockout = 60\n",
                                      "t.conf", &e),
                     TN_OK);
    assert_int_equal(conf_finish(&c, &e), TN_OK);
    assert_string_equal(c.http_listen, "::1");
    assert_int_equal(c.http_port, 0);
    assert_int_equal(c.http_https_port, 8443);
    assert_int_equal(c.http_max_body, 4096);
    assert_int_equal(c.http_timeout, 5);
    assert_int_equal(c.http_threads, 3);
    assert_int_equal(c.http_cache_kib, 128);
    assert_int_equal(c.http_mmap_mib, 0);
    assert_int_equal(c.http_max_connections, 9);
    assert_false(c.http_read_audit);
    assert_int_equal(c.http_auth_max_failures, 0);
    assert_int_equal(c.http_auth_lockout, 60);
    /* One certificate for both front ends unless [http] names its own. */
    assert_string_equal(c.http_tls_cert, "/etc/t.crt");
    assert_string_equal(c.http_tls_key, "/etc/t.key");
    assert_int_equal(conf_load_string(&c, "[http]\nport = off\n", "u.conf", &e), TN_OK);
    assert_int_equal(c.http_port, CONF_HTTP_OFF);
}

static void expect_error(const char *text, const char *field, const char *fragment)
{
    conf c;
    conf_defaults(&c);
    tn_err e;
    tn_err_clear(&e);
    tn_code rc = conf_load_string(&c, text, "t.conf", &e);
    if (rc == TN_OK)
        rc = conf_finish(&c, &e);
    assert_int_not_equal(rc, TN_OK);
    if (field)
        assert_string_equal(e.field, field);
    if (!strstr(e.msg, fragment))
        fail_msg("message '%s' lacks '%s'", e.msg, fragment);
}

static void errors(void **state)
{
    (void)state;
    expect_error("[registry]\ndb = a\n[nope]\nx = 1\n", "x", "line 4: unknown section [nope]");
    expect_error("[registry]\n\ndbx = a\n", "dbx", "line 3: unknown key");
    expect_error("[registry]\ndb = a\ndb = b\n", "db", "line 3: key given twice");
    expect_error("[naming]\nusername_max = 2\n", "username_max", "from 3 to 64");
    expect_error("[naming]\nusername_max = 12x\n", "username_max", "whole number");
    expect_error("[naming]\nusername_pattern = {bogus}\n", "username_pattern", "");
    expect_error("[naming]\nemail_domain = not a domain\n", "email_domain", "mail domain");
    expect_error("[registry\n", NULL, "line 1: malformed line");
    expect_error("top = 1\n", "top", "unknown section");
    expect_error("[ldap]\nport = 70000\n", "port", "from 0 to 65535");
    expect_error("[ldap]\nmax_pdu = 10\n", "max_pdu", "whole number from 1024");
    expect_error("[ldap]\nworkers = 5000\n", "workers", "from 0 to 1024");
    expect_error("[ldap]\nanonymous_search = maybe\n", "anonymous_search", "true or false");
    expect_error("[ldap]\nbase =\n", "base", "must not be empty");
    expect_error("[ldap]\nport = 1\nport = 2\n", "port", "key given twice");
    expect_error("[ldap]\nbogus = 1\n", "bogus", "unknown key");
    expect_error("[ldap]\nldaps_port = -1\n", "ldaps_port", "off or a whole number");
    expect_error("[ldap]\nldaps_port = 636\n", "ldaps_port", "needs [ldap] tls_cert");
    expect_error("[ldap]\ntls_cert = a.crt\n", "tls_key", "go together");
    expect_error("[ldap]\ntls_key = a.key\n", "tls_cert", "go together");
    expect_error("[ldap]\nbind_require_tls = sometimes\n", "bind_require_tls", "true or false");
    expect_error("[http]\nport = 70000\n", "port", "0 to 65535");
    expect_error("[http]\nport = of\n", "port", "off or a whole number");
    expect_error("[http]\nmax_body = 10\n", "max_body", "from 1024");
    expect_error("[http]\nthreads = 257\n", "threads", "to 256");
    expect_error("[http]\nhttps_port = 443\n", "https_port", "needs tls_cert");
    expect_error("[http]\ntls_cert = a.crt\n", "tls_key", "go together");
    expect_error("[http]\nread_audit = maybe\n", "read_audit", "true or false");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_ok),
        cmocka_unit_test(defaults),
        cmocka_unit_test(ldap_keys),
        cmocka_unit_test(ldap_tls_keys),
        cmocka_unit_test(http_keys),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
