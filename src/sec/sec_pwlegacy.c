/* Salted SHA password hashes ({SSHA}, {SSHA256}, {SSHA512}) kept from a
 * migrated directory, so that people can bind with the password they had
 * before the move. Verification only: tunnus never creates these. The
 * digests are GnuTLS's (the TLS library of the front ends), Base64 and
 * constant-time comparison libsodium's. */
#include <crypt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sec.h"

#define LEGACY_MAX 512 /* decoded digest plus salt */

static bool check_salted(gnutls_digest_algorithm_t md, const char *b64, const char *password)
{
    unsigned char raw[LEGACY_MAX];
    size_t rawlen = 0;
    size_t dlen = gnutls_hash_get_len(md);
    if (sodium_base642bin(raw, sizeof raw, b64, strlen(b64), NULL, &rawlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        rawlen <= dlen)
        return false;
    const unsigned char *salt = raw + dlen;
    size_t saltlen = rawlen - dlen;
    unsigned char got[64]; /* SHA-512 is the longest */
    gnutls_hash_hd_t h;
    if (dlen == 0 || dlen > sizeof got || gnutls_hash_init(&h, md) < 0)
        return false;
    bool ok = gnutls_hash(h, password, strlen(password)) == 0 &&
              gnutls_hash(h, salt, saltlen) == 0;
    gnutls_hash_deinit(h, got);
    ok = ok && sodium_memcmp(got, raw, dlen) == 0;
    sodium_memzero(got, sizeof got);
    return ok;
}

/* {CRYPT}: whatever crypt(3) (libxcrypt) knows: $6$, $5$, $y$, $2b$ …
 * The old DES form and unknown methods are refused: crypt returns a
 * failure token ("*0"/"*1") or NULL, neither of which can equal a hash
 * that starts with its own setting. */
static bool check_crypt(const char *hash, const char *password)
{
    if (hash[0] != '$' || strlen(hash) >= CRYPT_OUTPUT_SIZE)
        return false;
    /* crypt_r's work area is ~32 KiB: on the heap, not a server thread's
     * stack. */
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return false;
    /* crypt_rn, not crypt_r: the sanitizers intercept crypt_r and lose
     * the real one when libcrypt is linked directly. */
    const char *got = crypt_rn(password, hash, cd, (int)sizeof *cd);
    size_t n = strlen(hash);
    bool ok = got && got[0] == '$' && strlen(got) == n && sodium_memcmp(got, hash, n) == 0;
    sodium_memzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

bool sec_password_is_legacy(const char *stored)
{
    return stored && *stored && strncmp(stored, "$argon2id$", 10) != 0;
}

bool sec_password_check(const char *stored, const char *password)
{
    if (!stored || !*stored || !password)
        return false;
    if (strncmp(stored, "$argon2", 7) == 0)
        return sec_password_verify(stored, password);
    if (strncmp(stored, "{SSHA}", 6) == 0)
        return check_salted(GNUTLS_DIG_SHA1, stored + 6, password);
    if (strncmp(stored, "{SSHA256}", 9) == 0)
        return check_salted(GNUTLS_DIG_SHA256, stored + 9, password);
    if (strncmp(stored, "{SSHA512}", 9) == 0)
        return check_salted(GNUTLS_DIG_SHA512, stored + 9, password);
    /* {ARGON2} (OpenLDAP's pw-argon2): the PHC string libsodium reads,
     * argon2id or argon2i. */
    if (strncmp(stored, "{ARGON2}", 8) == 0)
        return strncmp(stored + 8, "$argon2", 7) == 0 &&
               sec_password_verify(stored + 8, password);
    if (strncmp(stored, "{CRYPT}", 7) == 0)
        return check_crypt(stored + 7, password);
    return false;
}
