/* Unit tests for src/sec: key file handling, national ID sealing and
 * hashing, UUIDs, password hashing and signatures.
 *
 * Every test works in its own mkdtemp directory, removed afterwards. No
 * message printed by a test contains key material or a national ID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sec.h"
#include "tn_str.h"

/* Synthetic, valid HETUs; never real people. */
#define NID_A "131052-308T"
#define NID_B "010101A123N"

typedef struct fixture {
    char dir[64];
    char path[128]; /* dir/keys */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    tn_strlcpy(f->dir, "/tmp/tunnus-test-sec-XXXXXX", sizeof f->dir);
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/keys", f->dir);
    *state = f;
    return sec_init(NULL) == TN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(d)) != NULL) {
            if (tn_str_eq(de->d_name, ".") || tn_str_eq(de->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", f->dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Write a file with the given content and mode (mode applied with chmod so
 * the process umask cannot change it). */
static void write_file(const char *path, const char *content, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal((ssize_t)len, write(fd, content, len));
    assert_int_equal(0, fchmod(fd, mode));
    assert_int_equal(0, close(fd));
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, cap - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    close(fd);
    return (size_t)n;
}

static void load_ok(const char *path, sec_keys *k)
{
    tn_err e;
    tn_err_clear(&e);
    tn_code rc = sec_keys_load(path, k, &e);
    if (rc != TN_OK)
        fail_msg("load failed: %s", e.msg);
}

/* ---- key file ------------------------------------------------------------ */

static void test_create_load_round_trip(void **state)
{
    fixture *f = *state;
    tn_err e;
    sec_keys k1, k2;
    struct stat st;

    assert_int_equal(TN_OK, sec_keys_create(f->path, &e));
    assert_int_equal(0, stat(f->path, &st));
    assert_int_equal(0, st.st_mode & 077);
    assert_true(S_ISREG(st.st_mode));

    load_ok(f->path, &k1);
    load_ok(f->path, &k2);
    assert_memory_equal(&k1, &k2, sizeof k1);

    /* Three independent keys: none equal to another, none all zero. */
    static const unsigned char zero[SEC_KEY_BYTES];
    assert_memory_not_equal(k1.seal, k1.hash, SEC_KEY_BYTES);
    assert_memory_not_equal(k1.seal, k1.sign_sk, SEC_KEY_BYTES);
    assert_memory_not_equal(k1.seal, zero, SEC_KEY_BYTES);
    assert_memory_not_equal(k1.hash, zero, SEC_KEY_BYTES);

    /* The public key is derived and matches the secret key. */
    unsigned char sig[64];
    sec_sign(&k1, "x", 1, sig);
    assert_true(sec_sign_verify(k1.sign_pk, "x", 1, sig));

    /* The file is the documented text format. */
    char text[1024];
    read_file(f->path, text, sizeof text);
    assert_true(tn_str_startswith(text, "tunnus-keys 1\nseal "));
    assert_non_null(strstr(text, "\nhash "));
    assert_non_null(strstr(text, "\nsign-sk "));

    sec_keys_wipe(&k1);
    static const sec_keys zk;
    assert_memory_equal(&k1, &zk, sizeof k1);
    sec_keys_wipe(&k2);
    sec_keys_wipe(NULL);
}

static void test_create_two_files_differ(void **state)
{
    fixture *f = *state;
    char p2[160];
    sec_keys k1, k2;
    snprintf(p2, sizeof p2, "%s/keys2", f->dir);
    assert_int_equal(TN_OK, sec_keys_create(f->path, NULL));
    assert_int_equal(TN_OK, sec_keys_create(p2, NULL));
    load_ok(f->path, &k1);
    load_ok(p2, &k2);
    assert_memory_not_equal(k1.seal, k2.seal, SEC_KEY_BYTES);
    assert_memory_not_equal(k1.hash, k2.hash, SEC_KEY_BYTES);
    assert_memory_not_equal(k1.sign_sk, k2.sign_sk, SEC_SIGN_SK_BYTES);
    sec_keys_wipe(&k1);
    sec_keys_wipe(&k2);
}

static void test_create_refuses_existing(void **state)
{
    fixture *f = *state;
    tn_err e;
    char before[1024], after[1024];
    assert_int_equal(TN_OK, sec_keys_create(f->path, NULL));
    read_file(f->path, before, sizeof before);
    assert_int_equal(TN_ECONFLICT, sec_keys_create(f->path, &e));
    assert_int_equal(TN_ECONFLICT, e.code);
    assert_non_null(strstr(e.msg, "already exists"));
    read_file(f->path, after, sizeof after);
    assert_string_equal(before, after); /* untouched */
}

static void test_create_refuses_symlink(void **state)
{
    fixture *f = *state;
    char target[160];
    tn_err e;
    struct stat st;
    snprintf(target, sizeof target, "%s/target", f->dir);
    assert_int_equal(0, symlink(target, f->path)); /* dangling link */
    assert_int_not_equal(TN_OK, sec_keys_create(f->path, &e));
    assert_int_equal(-1, stat(target, &st)); /* nothing written through it */
    assert_int_equal(ENOENT, errno);
}

static void test_create_bad_directory(void **state)
{
    fixture *f = *state;
    char p[160];
    tn_err e;
    snprintf(p, sizeof p, "%s/missing/keys", f->dir);
    assert_int_equal(TN_EIO, sec_keys_create(p, &e));
    assert_non_null(strstr(e.msg, "cannot create key file"));
}

static void test_load_missing(void **state)
{
    fixture *f = *state;
    tn_err e;
    sec_keys k;
    assert_int_equal(TN_ENOTFOUND, sec_keys_load(f->path, &k, &e));
    assert_non_null(strstr(e.msg, "cannot open key file"));
}

static void test_load_refuses_open_mode(void **state)
{
    fixture *f = *state;
    static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0660};
    tn_err e;
    sec_keys k;
    assert_int_equal(TN_OK, sec_keys_create(f->path, NULL));
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(0, chmod(f->path, modes[i]));
        tn_err_clear(&e);
        assert_int_equal(TN_EDENIED, sec_keys_load(f->path, &k, &e));
        assert_non_null(strstr(e.msg, "must not be readable by group or others (chmod 600)"));
        assert_non_null(strstr(e.msg, f->path));
    }
    assert_int_equal(0, chmod(f->path, 0400)); /* read-only owner is fine */
    load_ok(f->path, &k);
    sec_keys_wipe(&k);
}

static void test_load_refuses_directory(void **state)
{
    fixture *f = *state;
    tn_err e;
    sec_keys k;
    assert_int_equal(0, mkdir(f->path, 0700));
    assert_int_equal(TN_EINVAL, sec_keys_load(f->path, &k, &e));
    assert_non_null(strstr(e.msg, "not a regular file"));
    rmdir(f->path);
}

/* Build a key file text with known keys, for the malformed-file cases. */
static const char hex32a[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char hex32b[] =
    "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";

/* A valid sign-sk: generate one and format it, seed || pk. */
static void sign_sk_hex(char out[2 * SEC_SIGN_SK_BYTES + 1])
{
    unsigned char seed[32], pk[32], sk[64];
    memset(seed, 0x5a, sizeof seed);
    crypto_sign_ed25519_seed_keypair(pk, sk, seed);
    sec_hex(sk, sizeof sk, out);
}

typedef struct bad_case {
    const char *what;
    const char *text;  /* printf format with %s for seal, hash, sign-sk */
    tn_code code;
    const char *expect; /* substring of the error message */
} bad_case;

static const bad_case bad_cases[] = {
    {"empty", "", TN_EINVAL, "is empty"},
    {"wrong magic", "tunnus-keys 2\nseal %s\nhash %s\nsign-sk %s\n", TN_EINVAL,
     "line 1: expected \"tunnus-keys 1\""},
    {"no final newline", "tunnus-keys 1\nseal %s\nhash %s\nsign-sk %s", TN_EINVAL,
     "does not end with a newline"},
    {"truncated: no sign-sk", "tunnus-keys 1\nseal %s\nhash %s\n%.0s", TN_EINVAL,
     "has no sign-sk line"},
    {"truncated: only magic", "tunnus-keys 1\n%.0s%.0s%.0s", TN_EINVAL, "has no seal line"},
    {"truncated in hex", "tunnus-keys 1\nseal %s\nhash %s\nsign-sk %.100s\n", TN_EINVAL,
     "line 4: sign-sk must be exactly 128 hexadecimal digits"},
    {"short seal", "tunnus-keys 1\nseal %.62s\nhash %s\nsign-sk %s\n", TN_EINVAL,
     "line 2: seal must be exactly 64 hexadecimal digits"},
    {"non-hex", "tunnus-keys 1\nseal %.63sg\nhash %s\nsign-sk %s\n", TN_EINVAL,
     "line 2: seal must be exactly 64 hexadecimal digits"},
    {"unknown item", "tunnus-keys 1\nseal %s\npepper %s\nsign-sk %s\n", TN_EINVAL,
     "line 3: unknown item"},
    {"duplicate", "tunnus-keys 1\nseal %s\nseal %s\nsign-sk %s\n", TN_EINVAL,
     "line 3: seal appears twice"},
    {"no separator", "tunnus-keys 1\nseal%s\nhash %s\nsign-sk %s\n", TN_EINVAL,
     "line 2: expected \"NAME HEX\""},
    {"blank line", "tunnus-keys 1\nseal %s\n\nhash %s\nsign-sk %s\n", TN_EINVAL,
     "line 3: expected \"NAME HEX\""},
    {"trailing space", "tunnus-keys 1\nseal %s \nhash %s\nsign-sk %s\n", TN_EINVAL,
     "line 2: seal must be exactly 64"},
    {"CRLF", "tunnus-keys 1\r\nseal %s\r\nhash %s\r\nsign-sk %s\r\n", TN_EINVAL, "line 1"},
};

static void test_load_malformed(void **state)
{
    fixture *f = *state;
    char sk[2 * SEC_SIGN_SK_BYTES + 1];
    char text[1024];
    tn_err e;
    sec_keys k;
    sign_sk_hex(sk);

    /* The well-formed variant loads, so the cases below fail for their
     * stated reason only. */
    int n = snprintf(text, sizeof text, "tunnus-keys 1\nseal %s\nhash %s\nsign-sk %s\n", hex32a,
                     hex32b, sk);
    write_file(f->path, text, (size_t)n, 0600);
    load_ok(f->path, &k);
    assert_int_equal(0x00, k.seal[0]);
    assert_int_equal(0xf0, k.hash[0]);

    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        n = snprintf(text, sizeof text, c->text, hex32a, hex32b, sk);
#pragma GCC diagnostic pop
        write_file(f->path, text, (size_t)n, 0600);
        memset(&k, 0xa5, sizeof k);
        tn_err_clear(&e);
        tn_code rc = sec_keys_load(f->path, &k, &e);
        if (rc != c->code || !strstr(e.msg, c->expect))
            fail_msg("case '%s': code %d, message '%s'", c->what, rc, e.msg);
        /* Never a trace of key material in the message. */
        if (strstr(e.msg, "0011223344") || strstr(e.msg, "f0e1d2c3") ||
            strstr(e.msg, "5a5a5a"))
            fail_msg("case '%s': message leaks key material", c->what);
        /* The output is untouched on failure. */
        for (size_t j = 0; j < sizeof k; j++)
            assert_int_equal(0xa5, ((unsigned char *)&k)[j]);
    }
}

static void test_load_inconsistent_sign_key(void **state)
{
    fixture *f = *state;
    char sk[2 * SEC_SIGN_SK_BYTES + 1];
    char text[1024];
    tn_err e;
    sec_keys k;
    sign_sk_hex(sk);
    sk[100] = sk[100] == '0' ? '1' : '0'; /* damage the public half */
    int n = snprintf(text, sizeof text, "tunnus-keys 1\nseal %s\nhash %s\nsign-sk %s\n", hex32a,
                     hex32b, sk);
    write_file(f->path, text, (size_t)n, 0600);
    assert_int_equal(TN_EINVAL, sec_keys_load(f->path, &k, &e));
    assert_non_null(strstr(e.msg, "sign-sk is inconsistent"));
}

static void test_load_too_large(void **state)
{
    fixture *f = *state;
    static char text[8192];
    tn_err e;
    sec_keys k;
    memset(text, 'a', sizeof text);
    write_file(f->path, text, sizeof text, 0600);
    assert_int_equal(TN_EINVAL, sec_keys_load(f->path, &k, &e));
    assert_non_null(strstr(e.msg, "not a tunnus key file"));

    write_file(f->path, "tunnus-keys 1\n\0\n", 16, 0600);
    assert_int_equal(TN_EINVAL, sec_keys_load(f->path, &k, &e));
    assert_non_null(strstr(e.msg, "NUL"));
}

/* ---- sealing and hashing ------------------------------------------------- */

static void make_keys(fixture *f, const char *name, sec_keys *k)
{
    char p[160];
    snprintf(p, sizeof p, "%s/%s", f->dir, name);
    assert_int_equal(TN_OK, sec_keys_create(p, NULL));
    load_ok(p, k);
}

static void test_seal_open_round_trip(void **state)
{
    fixture *f = *state;
    sec_keys k;
    unsigned char blob[SEC_SEALED_MAX];
    size_t len = 0;
    char back[32];
    tn_err e;
    make_keys(f, "k", &k);

    assert_int_equal(TN_OK, sec_nid_seal(&k, NID_A, blob, &len, &e));
    assert_int_equal(24 + 11 + 16, len);
    assert_true(len <= SEC_SEALED_MAX);
    /* The plaintext does not appear in the blob. */
    assert_null(memmem(blob, len, NID_A, 11));
    assert_int_equal(TN_OK, sec_nid_open(&k, blob, len, back, sizeof back, &e));
    assert_true(tn_str_eq(back, NID_A));

    /* Exactly enough room (11 + NUL), and one byte too little. */
    assert_int_equal(TN_OK, sec_nid_open(&k, blob, len, back, 12, &e));
    assert_int_equal(TN_EUSAGE, sec_nid_open(&k, blob, len, back, 11, &e));

    /* Empty and over-long inputs are refused. */
    assert_int_equal(TN_EINVAL, sec_nid_seal(&k, "", blob, &len, &e));
    assert_int_equal(TN_EINVAL,
                     sec_nid_seal(&k, "0123456789012345678901234", blob, &len, &e));
    sec_keys_wipe(&k);
}

static void test_seal_random_nonce_hash_stable(void **state)
{
    fixture *f = *state;
    sec_keys k;
    unsigned char b1[SEC_SEALED_MAX], b2[SEC_SEALED_MAX];
    unsigned char h1[SEC_HASH_BYTES], h2[SEC_HASH_BYTES], h3[SEC_HASH_BYTES];
    size_t l1 = 0, l2 = 0;
    make_keys(f, "k", &k);

    assert_int_equal(TN_OK, sec_nid_seal(&k, NID_A, b1, &l1, NULL));
    assert_int_equal(TN_OK, sec_nid_seal(&k, NID_A, b2, &l2, NULL));
    assert_int_equal(l1, l2);
    assert_memory_not_equal(b1, b2, l1);
    assert_memory_not_equal(b1, b2, 24); /* nonces differ */

    sec_nid_hash(&k, NID_A, h1);
    sec_nid_hash(&k, NID_A, h2);
    sec_nid_hash(&k, NID_B, h3);
    assert_memory_equal(h1, h2, SEC_HASH_BYTES);
    assert_memory_not_equal(h1, h3, SEC_HASH_BYTES);
    sec_keys_wipe(&k);
}

static void test_open_with_other_key_fails(void **state)
{
    fixture *f = *state;
    sec_keys k1, k2;
    unsigned char blob[SEC_SEALED_MAX];
    size_t len = 0;
    char back[32] = "unchanged";
    tn_err e;
    make_keys(f, "k1", &k1);
    make_keys(f, "k2", &k2);

    assert_int_equal(TN_OK, sec_nid_seal(&k1, NID_A, blob, &len, NULL));
    assert_int_equal(TN_EIO, sec_nid_open(&k2, blob, len, back, sizeof back, &e));
    assert_string_equal("national ID cannot be decrypted (wrong key file?)", e.msg);
    assert_string_equal("unchanged", back);
    assert_null(strstr(e.msg, NID_A));
    sec_keys_wipe(&k1);
    sec_keys_wipe(&k2);
}

static void test_tamper_any_byte_fails(void **state)
{
    fixture *f = *state;
    sec_keys k;
    unsigned char blob[SEC_SEALED_MAX], t[SEC_SEALED_MAX];
    size_t len = 0;
    char back[32];
    tn_err e;
    make_keys(f, "k", &k);
    assert_int_equal(TN_OK, sec_nid_seal(&k, NID_B, blob, &len, NULL));

    for (size_t i = 0; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(t, blob, len);
            t[i] ^= (unsigned char)(1u << bit);
            if (sec_nid_open(&k, t, len, back, sizeof back, &e) != TN_EIO)
                fail_msg("flipping bit %u of byte %zu was not detected", bit, i);
        }
    }
    /* Truncated and extended blobs fail too. */
    for (size_t l = 0; l < len; l++)
        assert_int_equal(TN_EIO, sec_nid_open(&k, blob, l, back, sizeof back, &e));
    memcpy(t, blob, len);
    t[len] = 0;
    assert_int_equal(TN_EIO, sec_nid_open(&k, t, len + 1, back, sizeof back, &e));
    assert_int_equal(TN_EIO, sec_nid_open(&k, NULL, 0, back, sizeof back, &e));
    assert_int_equal(TN_EIO, sec_nid_open(&k, blob, SEC_SEALED_MAX + 1, back, sizeof back, &e));
    /* The untouched blob still opens. */
    assert_int_equal(TN_OK, sec_nid_open(&k, blob, len, back, sizeof back, &e));
    assert_true(tn_str_eq(back, NID_B));
    sec_keys_wipe(&k);
}

static void test_hash_differs_across_keys(void **state)
{
    fixture *f = *state;
    sec_keys k1, k2;
    unsigned char h1[SEC_HASH_BYTES], h2[SEC_HASH_BYTES];
    make_keys(f, "k1", &k1);
    make_keys(f, "k2", &k2);
    sec_nid_hash(&k1, NID_A, h1);
    sec_nid_hash(&k2, NID_A, h2);
    assert_memory_not_equal(h1, h2, SEC_HASH_BYTES);

    /* The keyed hash is not the plain BLAKE2b of the ID. */
    unsigned char plain[SEC_HASH_BYTES];
    crypto_generichash(plain, sizeof plain, (const unsigned char *)NID_A, 11, NULL, 0);
    assert_memory_not_equal(h1, plain, SEC_HASH_BYTES);
    sec_keys_wipe(&k1);
    sec_keys_wipe(&k2);
}

/* A fingerprint begun over a prefix is the fingerprint of prefix || rest,
 * for every split around BLAKE2b's 128-byte blocks, and keyed: another key
 * gives another digest. Import fingerprints written before the begun form
 * existed stay valid through this equality. */
static void test_fp_begun_equals_whole(void **state)
{
    fixture *f = *state;
    sec_keys k1, k2;
    make_keys(f, "k1", &k1);
    make_keys(f, "k2", &k2);
    unsigned char buf[600];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    const size_t cuts[] = {0, 1, 32, 111, 127, 128, 129, 256, 300, 600};
    for (size_t a = 0; a < sizeof cuts / sizeof *cuts; a++) {
        for (size_t b = a; b < sizeof cuts / sizeof *cuts; b++) {
            size_t pre = cuts[a], total = cuts[b];
            unsigned char whole[SEC_HASH_BYTES], parts[SEC_HASH_BYTES], other[SEC_HASH_BYTES];
            sec_fp_hash(&k1, buf, total, whole);
            sec_fp_begun bg;
            sec_fp_begin(&k1, buf, pre, &bg);
            sec_fp_finish(&bg, buf + pre, total - pre, parts);
            assert_memory_equal(whole, parts, SEC_HASH_BYTES);
            /* Finishing does not use up the begun hash. */
            sec_fp_finish(&bg, buf + pre, total - pre, parts);
            assert_memory_equal(whole, parts, SEC_HASH_BYTES);
            sec_fp_begin(&k2, buf, pre, &bg);
            sec_fp_finish(&bg, buf + pre, total - pre, other);
            assert_memory_not_equal(whole, other, SEC_HASH_BYTES);
        }
    }
    sec_keys_wipe(&k1);
    sec_keys_wipe(&k2);
}

/* ---- UUIDs, randomness, hex ---------------------------------------------- */

static int cmp_uuid(const void *a, const void *b)
{
    return memcmp(a, b, 37);
}

static void test_uuid_format_and_uniqueness(void **state)
{
    (void)state;
    enum { N = 10000 };
    char(*u)[37] = malloc(sizeof(*u) * N);
    assert_non_null(u);
    for (int i = 0; i < N; i++) {
        sec_uuid(u[i]);
        const char *s = u[i];
        assert_int_equal(36, strlen(s));
        for (int j = 0; j < 36; j++) {
            if (j == 8 || j == 13 || j == 18 || j == 23)
                assert_int_equal('-', s[j]);
            else
                assert_non_null(strchr("0123456789abcdef", s[j]));
        }
        assert_int_equal('7', s[14]);
        assert_non_null(strchr("89ab", s[19]));
        /* Version 7 ids increase in the order they are made. */
        if (i > 0)
            assert_true(memcmp(u[i - 1], u[i], 37) < 0);
    }
    qsort(u, N, sizeof *u, cmp_uuid);
    for (int i = 1; i < N; i++)
        assert_int_not_equal(0, memcmp(u[i - 1], u[i], 37));
    free(u);
}

static void test_random_and_hex(void **state)
{
    (void)state;
    unsigned char a[32] = {0}, b[32] = {0};
    sec_random(a, sizeof a);
    sec_random(b, sizeof b);
    assert_memory_not_equal(a, b, sizeof a);

    static const unsigned char in[] = {0x00, 0x01, 0xab, 0xff};
    char out[9];
    sec_hex(in, sizeof in, out);
    assert_string_equal("0001abff", out);
    sec_hex(in, 0, out);
    assert_string_equal("", out);
}

/* ---- passwords ----------------------------------------------------------- */

#define OPS_MIN 1ULL
#define MEM_MIN 8192

static void test_password_hash_verify(void **state)
{
    (void)state;
    char h1[SEC_PWHASH_BUFSZ], h2[SEC_PWHASH_BUFSZ];
    tn_err e;
    assert_int_equal(TN_OK, sec_password_hash("correct horse", OPS_MIN, MEM_MIN, h1, &e));
    assert_int_equal(TN_OK, sec_password_hash("correct horse", OPS_MIN, MEM_MIN, h2, &e));
    assert_true(tn_str_startswith(h1, "$argon2id$"));
    assert_string_not_equal(h1, h2); /* random salt */
    assert_null(strstr(h1, "correct horse"));

    assert_true(sec_password_verify(h1, "correct horse"));
    assert_true(sec_password_verify(h2, "correct horse"));
    assert_false(sec_password_verify(h1, "correct horsE"));
    assert_false(sec_password_verify(h1, "correct hors"));
    assert_false(sec_password_verify(h1, ""));
    assert_false(sec_password_verify(NULL, "correct horse"));
    assert_false(sec_password_verify(h1, NULL));
    assert_false(sec_password_verify("", "correct horse"));
    assert_false(sec_password_verify("$argon2id$garbage", "correct horse"));

    /* A damaged stored hash does not verify. */
    char bad[SEC_PWHASH_BUFSZ];
    tn_strlcpy(bad, h1, sizeof bad);
    size_t n = strlen(bad);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    assert_false(sec_password_verify(bad, "correct horse"));

    /* Non-ASCII passwords are bytes like any other. */
    assert_int_equal(TN_OK, sec_password_hash("Äänekoski-Öljy", OPS_MIN, MEM_MIN, h1, &e));
    assert_true(sec_password_verify(h1, "Äänekoski-Öljy"));
    assert_false(sec_password_verify(h1, "Aanekoski-Oljy"));
}

/* Migrated forms: {CRYPT} through crypt(3), {ARGON2} through libsodium;
 * every form but argon2id is legacy (rehashed at bind). */
static void test_password_migrated_forms(void **state)
{
    (void)state;
    /* openssl passwd -6 -salt abcdefgh Salasana-1 */
    const char *c6 = "{CRYPT}$6$abcdefgh$yu1L74rxTnB5r7WyV1UKXohxHXvZKjmoRQl4VJhAADX7a3dNKAsH31S7A"
                     "C0rFSTqOqxRW39.qtQ2pM9mH2ANv/";
    assert_true(sec_password_check(c6, "Salasana-1"));
    assert_false(sec_password_check(c6, "Salasana-2"));
    assert_false(sec_password_check("{CRYPT}abJnggxhB/yWI", "x")); /* DES: refused */
    assert_false(sec_password_check("{CRYPT}", ""));
    assert_true(sec_password_is_legacy(c6));

    tn_err e;
    char h[SEC_PWHASH_BUFSZ], a2[SEC_PWHASH_BUFSZ + 8];
    assert_int_equal(sec_password_hash("Kissa-123", OPS_MIN, MEM_MIN, h, &e), TN_OK);
    snprintf(a2, sizeof a2, "{ARGON2}%s", h);
    assert_true(sec_password_check(a2, "Kissa-123"));
    assert_false(sec_password_check(a2, "Kissa-124"));
    assert_true(sec_password_is_legacy(a2));
    assert_false(sec_password_is_legacy(h));
    assert_false(sec_password_check("{ARGON2}nonsense", "Kissa-123"));
}

static void test_password_limits(void **state)
{
    (void)state;
    char h[SEC_PWHASH_BUFSZ];
    tn_err e;
    /* The default parameters: verify the encoded costs, not the wall clock. */
    assert_int_equal(TN_OK, sec_password_hash("pw", 0, 0, h, &e));
    assert_non_null(strstr(h, "$m=65536,t=2,"));
    assert_true(sec_password_verify(h, "pw"));

    tn_err_clear(&e);
    assert_int_equal(TN_EINVAL, sec_password_hash("pw", OPS_MIN, 1024, h, &e));
    assert_string_equal("memlimit", e.field);
    assert_int_equal(TN_EUSAGE, sec_password_hash(NULL, OPS_MIN, MEM_MIN, h, &e));
}

/* ---- signatures ---------------------------------------------------------- */

static void test_sign_verify(void **state)
{
    fixture *f = *state;
    sec_keys k, other;
    unsigned char sig[64], t[64];
    static const char msg[] = "checkpoint 42 0123abcd";
    make_keys(f, "k", &k);
    make_keys(f, "o", &other);

    sec_sign(&k, msg, sizeof msg - 1, sig);
    assert_true(sec_sign_verify(k.sign_pk, msg, sizeof msg - 1, sig));
    assert_false(sec_sign_verify(other.sign_pk, msg, sizeof msg - 1, sig));
    assert_false(sec_sign_verify(k.sign_pk, msg, sizeof msg - 2, sig));

    for (size_t i = 0; i < sizeof sig; i++) {
        memcpy(t, sig, sizeof t);
        t[i] ^= 0x01;
        if (sec_sign_verify(k.sign_pk, msg, sizeof msg - 1, t))
            fail_msg("flipped bit in signature byte %zu was accepted", i);
    }
    char m2[sizeof msg];
    for (size_t i = 0; i < sizeof msg - 1; i++) {
        memcpy(m2, msg, sizeof msg);
        m2[i] ^= 0x01;
        if (sec_sign_verify(k.sign_pk, m2, sizeof msg - 1, sig))
            fail_msg("flipped bit in message byte %zu was accepted", i);
    }
    /* Deterministic (Ed25519) and survives a reload of the key file. */
    sec_keys again;
    char p[160];
    snprintf(p, sizeof p, "%s/k", f->dir);
    load_ok(p, &again);
    sec_sign(&again, msg, sizeof msg - 1, t);
    assert_memory_equal(sig, t, sizeof sig);

    /* Empty message. */
    sec_sign(&k, "", 0, sig);
    assert_true(sec_sign_verify(k.sign_pk, "", 0, sig));
    sec_keys_wipe(&k);
    sec_keys_wipe(&other);
    sec_keys_wipe(&again);
}

static void test_init_idempotent(void **state)
{
    (void)state;
    tn_err e;
    for (int i = 0; i < 3; i++)
        assert_int_equal(TN_OK, sec_init(&e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_idempotent),
        cmocka_unit_test_setup_teardown(test_create_load_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_two_files_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_bad_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_open_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_inconsistent_sign_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_open_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_random_nonce_hash_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_with_other_key_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_any_byte_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_differs_across_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fp_begun_equals_whole, setup, teardown),
        cmocka_unit_test(test_uuid_format_and_uniqueness),
        cmocka_unit_test(test_random_and_hex),
        cmocka_unit_test(test_password_hash_verify),
        cmocka_unit_test(test_password_limits),
        cmocka_unit_test(test_password_migrated_forms),
        cmocka_unit_test_setup_teardown(test_sign_verify, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
