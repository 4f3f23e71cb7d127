/* sec_hash — unkeyed BLAKE2b-256 for the audit chain, and hex parsing for
 * keys and hashes read back from exports. */
#include <string.h>

#include <sodium.h>

#include "sec.h"

void sec_hash(const void *in, size_t n, unsigned char out[SEC_HASH_BYTES])
{
    crypto_generichash(out, SEC_HASH_BYTES, in, n, NULL, 0);
}

void sec_hash2(const void *a, size_t alen, const void *b, size_t blen,
               unsigned char out[SEC_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, SEC_HASH_BYTES);
    crypto_generichash_update(&st, a, alen);
    crypto_generichash_update(&st, b, blen);
    crypto_generichash_final(&st, out, SEC_HASH_BYTES);
}

bool sec_unhex(const char *hex, unsigned char *out, size_t n)
{
    size_t bin_len = 0;
    if (!hex || strlen(hex) != 2 * n)
        return false;
    return sodium_hex2bin(out, n, hex, 2 * n, NULL, &bin_len, NULL) == 0 && bin_len == n;
}

/* Keyed with the lookup-hash key, after a domain tag that no national ID
 * (11 characters, no NUL) can begin with, so a fingerprint is never a
 * national ID's lookup hash and tells nothing without the key file. */
static const char fp_tag[] = "tunnus.import_fp"; /* with its NUL */

void sec_fp_hash(const sec_keys *k, const void *in, size_t n, unsigned char out[SEC_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->hash, SEC_KEY_BYTES, SEC_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)fp_tag, sizeof fp_tag);
    crypto_generichash_update(&st, in, n);
    crypto_generichash_final(&st, out, SEC_HASH_BYTES);
    sodium_memzero(&st, sizeof st);
}

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((sec_fp_begun *)0)->state),
               "sec_fp_begun holds a BLAKE2b state");
_Static_assert(_Alignof(crypto_generichash_state) <= 64, "sec_fp_begun is aligned for it");

void sec_fp_begin(const sec_keys *k, const void *prefix, size_t n, sec_fp_begun *out)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->hash, SEC_KEY_BYTES, SEC_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)fp_tag, sizeof fp_tag);
    crypto_generichash_update(&st, prefix, n);
    memset(out, 0, sizeof *out);
    memcpy(out->state, &st, sizeof st);
    sodium_memzero(&st, sizeof st);
}

void sec_fp_finish(const sec_fp_begun *b, const void *in, size_t n,
                   unsigned char out[SEC_HASH_BYTES])
{
    crypto_generichash_state st;
    memcpy(&st, b->state, sizeof st);
    crypto_generichash_update(&st, in, n);
    crypto_generichash_final(&st, out, SEC_HASH_BYTES);
    sodium_memzero(&st, sizeof st);
}
