/* The LDAP front end's pure parts: DN normalisation and the tree, filter
 * parsing (with the depth cap) and evaluation, attribute values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ldap_int.h"

static ld_tree tree;
static dir_entry maija;

static int setup(void **state)
{
    (void)state;
    conf c;
    conf_defaults(&c);
    strcpy(c.ldap_base, "DC=Example, dc=FI");
    if (!ld_tree_init(&tree, &c))
        return -1;
    memset(&maija, 0, sizeof maija);
    strcpy(maija.username, "maija");
    strcpy(maija.given_names, "Maija Liisa");
    strcpy(maija.family_name, "Meikäläinen");
    strcpy(maija.phone, "+358401234567");
    strcpy(maija.affs, "staff\x1fHR\x1fKirjuri\x1estudent\x1fIT\x1f");
    maija.uid_number = 10042;
    maija.person_number = 7;
    maija.state = ASTATE_ACTIVE;
    return 0;
}

static void test_dn(void **state)
{
    (void)state;
    char out[256];
    assert_true(ld_dn_norm(" UID = Maija , OU=People,dc=example,  DC=fi ", 44, out, sizeof out));
    assert_string_equal(out, "uid=maija,ou=people,dc=example,dc=fi");
    assert_true(ld_dn_norm("uid=m\\61ija,ou=people", 21, out, sizeof out));
    assert_string_equal(out, "uid=maija,ou=people");
    assert_false(ld_dn_norm("uid=a\\2cb,ou=people", 19, out, sizeof out)); /* escaped comma */
    assert_false(ld_dn_norm("uid=a+cn=b", 10, out, sizeof out));          /* multi-valued */
    assert_false(ld_dn_norm("novalue", 7, out, sizeof out));
    assert_false(ld_dn_norm("uid=,dc=fi", 10, out, sizeof out));
    assert_true(ld_dn_norm("", 0, out, sizeof out));
    assert_string_equal(out, "");
    assert_false(ld_dn_norm("uid=aaaaaaaaaaaaaaaaaaaa", 24, out, 8)); /* does not fit */
}

static void test_tree(void **state)
{
    (void)state;
    assert_string_equal(tree.base_norm, "dc=example,dc=fi");
    assert_string_equal(tree.domain, "example.fi");
    ld_target t;
    ld_tree_resolve(&tree, "uid=maija,ou=people,dc=example,dc=fi", &t);
    assert_true(t.found && t.kind == LD_E_PERSON);
    assert_string_equal(t.uid, "maija");
    ld_tree_resolve(&tree, "cn=x,ou=people,dc=example,dc=fi", &t);
    assert_false(t.found);
    ld_tree_resolve(&tree, "uid=a,ou=x,ou=people,dc=example,dc=fi", &t);
    assert_false(t.found);
    ld_tree_resolve(&tree, "ou=groups,dc=example,dc=fi", &t);
    assert_true(t.found && t.kind == LD_E_GROUPS);
    ld_tree_resolve(&tree, "cn=staff,ou=groups,dc=example,dc=fi", &t);
    assert_true(t.found && t.kind == LD_E_GROUP);
    assert_string_equal(t.cn, "staff");
    ld_tree_resolve(&tree, "uid=a,ou=groups,dc=example,dc=fi", &t);
    assert_false(t.found);
    ld_tree_resolve(&tree, "cn=a,ou=x,ou=groups,dc=example,dc=fi", &t);
    assert_false(t.found);
    ld_tree_resolve(&tree, "ou=others,dc=example,dc=fi", &t);
    assert_false(t.found);
    assert_string_equal(t.matched, "DC=Example, dc=FI");
    ld_tree_resolve(&tree, "dc=other", &t);
    assert_false(t.found);
    assert_string_equal(t.matched, "");
    ld_tree_resolve(&tree, "", &t);
    assert_true(t.found && t.kind == LD_E_ROOTDSE);
    ld_tree_resolve(&tree, "cn=subschema", &t);
    assert_true(t.found && t.kind == LD_E_SUBSCHEMA);
}

/* Hand-made BER for filters. */
static size_t tlv(unsigned char *out, unsigned tag, const void *c, size_t n)
{
    out[0] = (unsigned char)tag;
    out[1] = (unsigned char)n;
    memcpy(out + 2, c, n);
    return n + 2;
}

static size_t ava(unsigned char *out, unsigned tag, const char *a, const char *v)
{
    unsigned char inner[256];
    size_t n = tlv(inner, 0x04, a, strlen(a));
    n += tlv(inner + n, 0x04, v, strlen(v));
    return tlv(out, tag, inner, n);
}

static ld_tri eval_bytes(const unsigned char *b, size_t n, unsigned depth, bool *deep)
{
    unsigned char copy[512];
    memcpy(copy, b, n);
    BerElement *ber = ber_alloc_t(0);
    struct berval bv = {n, (char *)copy};
    ber_init2(ber, &bv, 0);
    ld_arena a;
    ld_arena_init(&a, 65536);
    ld_filter *f = ld_filter_parse(ber, &a, depth, deep);
    ld_tri r = (ld_tri)-1;
    if (f) {
        ld_view v = {LD_E_PERSON, &maija, &tree, NULL};
        r = ld_filter_eval(f, &v);
    }
    ld_arena_free(&a);
    ber_free(ber, 0);
    return r;
}

static void test_filter_eval(void **state)
{
    (void)state;
    unsigned char b[512];
    bool deep;
    size_t n = ava(b, 0xa3, "UID", "MAIJA");
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_TRUE);
    n = ava(b, 0xa3, "telephoneNumber", "+358 40-123 4567");
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_TRUE);
    n = ava(b, 0xa5, "uidNumber", "10042");
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_TRUE);
    n = ava(b, 0xa6, "uidNumber", "9999");
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_FALSE);
    n = ava(b, 0xa3, "ou", "it");
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_TRUE);
    n = ava(b, 0xa3, "eduPersonAffiliation", "student");
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_TRUE);
    n = ava(b, 0xa3, "userPassword", "x");
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_UNDEF);
    /* NOT of undefined stays undefined */
    unsigned char nb[512];
    size_t nn = tlv(nb, 0xa2, b, n);
    assert_int_equal(eval_bytes(nb, nn, 8, &deep), LD_UNDEF);
    /* substrings cn=ma*ija*nen */
    unsigned char sub[256], seq[128];
    size_t s = 0;
    s += tlv(seq + s, 0x80, "ma", 2);
    s += tlv(seq + s, 0x81, "LIISA", 5);
    s += tlv(seq + s, 0x82, "nen", 3);
    size_t k = tlv(sub, 0x04, "cn", 2);
    k += tlv(sub + k, 0x30, seq, s);
    n = tlv(b, 0xa4, sub, k);
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_TRUE);
    /* present */
    n = tlv(b, 0x87, "title", 5);
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_TRUE);
    n = tlv(b, 0x87, "mail", 4);
    assert_int_equal(eval_bytes(b, n, 8, &deep), LD_FALSE);
}

static void test_filter_depth(void **state)
{
    (void)state;
    unsigned char b[512], t[512];
    size_t n = ava(b, 0xa3, "uid", "maija");
    for (int i = 0; i < 10; i++) {
        memcpy(t, b, n);
        n = tlv(b, 0xa2, t, n);
    }
    bool deep = false;
    assert_int_equal(eval_bytes(b, n, 11, &deep), LD_TRUE); /* ten NOTs: true */
    assert_false(deep);
    assert_int_equal((int)eval_bytes(b, n, 10, &deep), -1);
    assert_true(deep);
    /* malformed: unknown choice, truncated */
    unsigned char bad[] = {0xbf, 0x00};
    assert_int_equal((int)eval_bytes(bad, sizeof bad, 8, &deep), -1);
    assert_false(deep);
    unsigned char trunc[] = {0xa3, 0x10, 0x04, 0x03, 'u'};
    assert_int_equal((int)eval_bytes(trunc, sizeof trunc, 8, &deep), -1);
}

static void test_frame(void **state)
{
    (void)state;
    size_t len;
    const unsigned char ok[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    assert_int_equal(ld_frame_check(ok, sizeof ok, 100, &len), LD_FRAME_OK);
    assert_int_equal(len, 5);
    assert_int_equal(ld_frame_check(ok, 3, 100, &len), LD_FRAME_NEED_MORE);
    const unsigned char big[] = {0x30, 0x84, 0x00, 0x10, 0x00, 0x00};
    assert_int_equal(ld_frame_check(big, sizeof big, 4096, &len), LD_FRAME_TOO_BIG);
    const unsigned char indef[] = {0x30, 0x80};
    assert_int_equal(ld_frame_check(indef, sizeof indef, 4096, &len), LD_FRAME_MALFORMED);
    const unsigned char notseq[] = {0x04, 0x00};
    assert_int_equal(ld_frame_check(notseq, sizeof notseq, 4096, &len), LD_FRAME_MALFORMED);
}

static void test_values(void **state)
{
    (void)state;
    ld_view v = {LD_E_PERSON, &maija, &tree, NULL};
    ld_vals vals;
    ld_values(&v, LD_A_CN, &vals);
    assert_int_equal(vals.n, 2);
    assert_memory_equal(vals.v[0], "Maija Meikäläinen", vals.len[0]);
    ld_values(&v, LD_A_EPAFFILIATION, &vals);
    assert_int_equal(vals.n, 4); /* staff, employee, member, student */
    ld_values(&v, LD_A_EPPRIMARY, &vals);
    assert_int_equal(vals.n, 1);
    assert_memory_equal(vals.v[0], "staff", 5);
    ld_values(&v, LD_A_EPPN, &vals);
    assert_memory_equal(vals.v[0], "maija@example.fi", vals.len[0]);
    assert_int_equal(ld_attr_lookup("userPassword", 12), -1);
    assert_int_equal(ld_attr_lookup("SURNAME;lang-fi", 15), LD_A_SN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dn),          cmocka_unit_test(test_tree),
        cmocka_unit_test(test_filter_eval), cmocka_unit_test(test_filter_depth),
        cmocka_unit_test(test_frame),       cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
