/* sec — secrets: the registry key file, national ID sealing and lookup
 * hashing, password hashing, random identifiers. Built on libsodium.
 *
 * The key file (created by `tunnus init`, mode 0600, refused when readable
 * by group or others) holds three independent keys:
 *   - seal:  XChaCha20-Poly1305 key that encrypts national IDs at rest;
 *   - hash:  BLAKE2b key of the keyed hash used to find a person by national
 *            ID without decrypting every row;
 *   - sign:  Ed25519 key pair for signing audit checkpoints.
 * Keys never leave this module in any printed form. */
#ifndef SEC_H
#define SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tn_err.h"

#define SEC_KEY_BYTES 32
#define SEC_SIGN_SK_BYTES 64
#define SEC_SIGN_PK_BYTES 32
#define SEC_HASH_BYTES 32
/* Sealed national ID: 24-byte nonce + 11-byte plaintext + 16-byte tag. */
#define SEC_SEALED_MAX 64
#define SEC_PWHASH_BUFSZ 128

typedef struct sec_keys {
    unsigned char seal[SEC_KEY_BYTES];
    unsigned char hash[SEC_KEY_BYTES];
    unsigned char sign_sk[SEC_SIGN_SK_BYTES];
    unsigned char sign_pk[SEC_SIGN_PK_BYTES];
} sec_keys;

/* Initialise libsodium once; safe to call repeatedly. */
tn_code sec_init(tn_err *e);
/* Create a new key file at path (fails if it exists), mode 0600. */
tn_code sec_keys_create(const char *path, tn_err *e);
/* Load keys; refuses a file that group or others may read. */
tn_code sec_keys_load(const char *path, sec_keys *out, tn_err *e);
/* Wipe keys from memory. */
void sec_keys_wipe(sec_keys *k);

/* Encrypt a canonical national ID; writes the sealed blob and its length. */
tn_code sec_nid_seal(const sec_keys *k, const char *nid, unsigned char out[SEC_SEALED_MAX],
                     size_t *outlen, tn_err *e);
/* Decrypt; out receives the NUL-terminated national ID. */
tn_code sec_nid_open(const sec_keys *k, const unsigned char *blob, size_t len, char *out,
                     size_t cap, tn_err *e);
/* Keyed lookup hash of a canonical national ID. */
void sec_nid_hash(const sec_keys *k, const char *nid, unsigned char out[SEC_HASH_BYTES]);

/* Time-ordered version-7 UUID, lower-case, 36 characters + NUL: unique,
 * unguessable (74 random bits) and increasing within a process. */
void sec_uuid(char out[37]);
/* Fill buf with n cryptographically random bytes. */
void sec_random(void *buf, size_t n);

/* Password hashing with argon2id (libsodium crypto_pwhash_str). opslimit and
 * memlimit 0 mean the interactive defaults. */
tn_code sec_password_hash(const char *password, unsigned long long opslimit, size_t memlimit,
                          char out[SEC_PWHASH_BUFSZ], tn_err *e);
bool sec_password_verify(const char *stored, const char *password);
/* Verify against any stored form tunnus accepts: argon2id, or a salted
 * SHA hash migrated from another directory ({SSHA}, {SSHA256},
 * {SSHA512}), {CRYPT} (crypt(3)) or {ARGON2} (sec_pwlegacy.c). Unknown forms never match. */
bool sec_password_check(const char *stored, const char *password);
/* Whether a stored hash is any other form than argon2id (one a migrated
 * directory brought), to be replaced at the next successful bind. */
bool sec_password_is_legacy(const char *stored);

/* Ed25519 detached signature over msg. */
void sec_sign(const sec_keys *k, const void *msg, size_t len, unsigned char sig[64]);
bool sec_sign_verify(const unsigned char pk[SEC_SIGN_PK_BYTES], const void *msg, size_t len,
                     const unsigned char sig[64]);

/* Unkeyed BLAKE2b-256 (sec_hash.c): the audit chain's hash. sec_hash2
 * hashes the concatenation a || b without copying. */
void sec_hash(const void *in, size_t n, unsigned char out[SEC_HASH_BYTES]);
void sec_hash2(const void *a, size_t alen, const void *b, size_t blen,
               unsigned char out[SEC_HASH_BYTES]);
/* Keyed BLAKE2b-256 fingerprint of feed rows (import_fp): keyed with the
 * lookup-hash key, so a fingerprint of a row holding a national ID cannot
 * be brute-forced without the key file. */
void sec_fp_hash(const sec_keys *k, const void *in, size_t n, unsigned char out[SEC_HASH_BYTES]);
/* The same hash begun once for many fingerprints that share a prefix (an
 * import run's context): sec_fp_finish(b, in) equals sec_fp_hash(k,
 * prefix || in), without hashing the key block and the prefix again for
 * every row. A begun hash is a plain value (copy it, share it read-only
 * between threads) but holds what the key became: sodium_memzero it when
 * done. */
typedef struct sec_fp_begun {
    _Alignas(64) unsigned char state[384];
} sec_fp_begun;
void sec_fp_begin(const sec_keys *k, const void *prefix, size_t n, sec_fp_begun *out);
void sec_fp_finish(const sec_fp_begun *b, const void *in, size_t n,
                   unsigned char out[SEC_HASH_BYTES]);
/* Parse exactly 2n hex digits into n bytes; false if malformed. */
bool sec_unhex(const char *hex, unsigned char *out, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void sec_hex(const unsigned char *in, size_t n, char *out);

#endif
