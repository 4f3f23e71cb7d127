/* sec — secrets on top of libsodium. See sec.h for the contract.
 *
 * Key file format (text, one item per line, '\n' line ends):
 *
 *   tunnus-keys 1
 *   seal <64 lower-case hex digits>
 *   hash <64 hex digits>
 *   sign-sk <128 hex digits>
 *
 * Text rather than raw bytes so that an operator can see at a glance which
 * version a file is and a truncated copy is detected by line, not by a
 * silently short read. The Ed25519 public key is not stored: it is part of
 * the secret key (libsodium's sk is seed || pk) and is re-derived from the
 * seed on load, which also catches a corrupted sign-sk line.
 *
 * Key material is only ever held in fixed stack buffers or the caller's
 * sec_keys, never in heap memory that realloc could copy around, and every
 * temporary copy is wiped with sodium_memzero before returning. */
#include "sec.h"

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tn_str.h"

#define KEYFILE_MAGIC "tunnus-keys 1"
/* A version-1 file is ~290 bytes; anything far larger is not ours. */
#define KEYFILE_MAX 2048
/* Associated data binds every sealed blob to this format without tying it
 * to a person: rows can be re-keyed or moved without knowing who they are. */
#define NID_AD "tunnus-nid-v1"
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define NID_MAX (SEC_SEALED_MAX - NONCE_BYTES - TAG_BYTES)

_Static_assert(SEC_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "seal key size");
_Static_assert(SEC_KEY_BYTES >= crypto_generichash_KEYBYTES_MIN &&
                   SEC_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX,
               "hash key size");
_Static_assert(SEC_HASH_BYTES >= crypto_generichash_BYTES_MIN &&
                   SEC_HASH_BYTES <= crypto_generichash_BYTES_MAX,
               "hash output size");
_Static_assert(SEC_SIGN_SK_BYTES == crypto_sign_ed25519_SECRETKEYBYTES, "sign sk size");
_Static_assert(SEC_SIGN_PK_BYTES == crypto_sign_ed25519_PUBLICKEYBYTES, "sign pk size");
_Static_assert(crypto_sign_ed25519_BYTES == 64, "signature size");
_Static_assert(SEC_PWHASH_BUFSZ >= crypto_pwhash_argon2id_STRBYTES, "pwhash buffer");
_Static_assert(NID_MAX >= 11, "sealed buffer must hold a HETU");

/* ---- initialisation ------------------------------------------------------ */

/* sodium_init is itself thread-safe but takes a global lock on every call;
 * the flag keeps hot paths (hashing every looked-up ID) lock-free. */
static atomic_bool sodium_ready;

tn_code sec_init(tn_err *e)
{
    if (atomic_load_explicit(&sodium_ready, memory_order_acquire))
        return TN_OK;
    if (sodium_init() < 0)
        return tn_err_set(e, TN_EINTERNAL, NULL, "libsodium cannot be initialised");
    atomic_store_explicit(&sodium_ready, true, memory_order_release);
    return TN_OK;
}

/* For the functions whose contract has no error path. Continuing without a
 * working random source would be worse than stopping. */
static void ensure_init(void)
{
    if (sec_init(NULL) != TN_OK) {
        fputs("tunnus: libsodium cannot be initialised\n", stderr);
        abort();
    }
}

/* ---- key file ------------------------------------------------------------ */

static tn_code write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return TN_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return TN_OK;
}

/* Make the new directory entry durable too, not only the file's data.
 * Some file systems refuse fsync on directories (EINVAL); that is not an
 * error worth failing `tunnus init` for. */
static tn_code fsync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        tn_strlcpy(dir, ".", sizeof dir);
    else if (slash == path)
        tn_strlcpy(dir, "/", sizeof dir);
    else if (!tn_strlcpyn(dir, path, (size_t)(slash - path), sizeof dir))
        return TN_OK; /* absurdly long path: skip, the file itself is synced */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return TN_OK;
    tn_code rc = TN_OK;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = TN_EIO;
    close(fd);
    return rc;
}

/* Append "name hex\n" to text at *len. */
static bool put_line(char *text, size_t cap, size_t *len, const char *name,
                     const unsigned char *key, size_t n)
{
    size_t nl = strlen(name);
    if (*len + nl + 1 + 2 * n + 1 >= cap)
        return false;
    memcpy(text + *len, name, nl);
    *len += nl;
    text[(*len)++] = ' ';
    sodium_bin2hex(text + *len, 2 * n + 1, key, n);
    *len += 2 * n;
    text[(*len)++] = '\n';
    text[*len] = '\0';
    return true;
}

tn_code sec_keys_create(const char *path, tn_err *e)
{
    sec_keys k;
    char text[KEYFILE_MAX];
    size_t len = 0;
    int fd = -1;
    bool created = false;
    tn_code rc = sec_init(e);
    if (rc != TN_OK)
        return rc;

    crypto_aead_xchacha20poly1305_ietf_keygen(k.seal);
    crypto_generichash_keygen(k.hash);
    crypto_sign_ed25519_keypair(k.sign_pk, k.sign_sk);

    len = strlen(KEYFILE_MAGIC);
    memcpy(text, KEYFILE_MAGIC "\n", len + 2);
    len++;
    if (!put_line(text, sizeof text, &len, "seal", k.seal, sizeof k.seal) ||
        !put_line(text, sizeof text, &len, "hash", k.hash, sizeof k.hash) ||
        !put_line(text, sizeof text, &len, "sign-sk", k.sign_sk, sizeof k.sign_sk)) {
        rc = tn_err_set(e, TN_EINTERNAL, NULL, "key file text does not fit its buffer");
        goto out;
    }

    /* O_EXCL: never overwrite keys that may already protect data.
     * O_NOFOLLOW: a planted symlink must not redirect the keys elsewhere. */
    fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            rc = tn_err_set(e, TN_ECONFLICT, NULL,
                            "key file %s already exists; refusing to overwrite it", path);
        else
            rc = tn_err_set(e, TN_EIO, NULL, "cannot create key file %s: %s", path,
                            strerror(errno));
        goto out;
    }
    created = true;
    if (write_all(fd, text, len) != TN_OK) {
        rc = tn_err_set(e, TN_EIO, NULL, "cannot write key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (fsync(fd) != 0) {
        rc = tn_err_set(e, TN_EIO, NULL, "cannot sync key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = tn_err_set(e, TN_EIO, NULL, "cannot close key file %s: %s", path, strerror(errno));
        goto out;
    }
    fd = -1;
    if (fsync_parent(path) != TN_OK) {
        rc = tn_err_set(e, TN_EIO, NULL, "cannot sync the directory of key file %s: %s", path,
                        strerror(errno));
        goto out;
    }
    rc = TN_OK;

out:
    if (fd >= 0)
        close(fd);
    /* A half-written key file would be refused on load anyway, but leaving
     * it would make the next `tunnus init` fail with "already exists". */
    if (rc != TN_OK && created)
        unlink(path);
    sodium_memzero(&k, sizeof k);
    sodium_memzero(text, sizeof text);
    return rc;
}

/* Decode exactly n bytes from a hex string of length hexlen. */
static bool unhex(unsigned char *dst, size_t n, const char *hex, size_t hexlen)
{
    size_t got = 0;
    const char *end = NULL;
    if (hexlen != 2 * n)
        return false;
    if (sodium_hex2bin(dst, n, hex, hexlen, NULL, &got, &end) != 0)
        return false;
    return got == n && end == hex + hexlen;
}

enum { ITEM_SEAL, ITEM_HASH, ITEM_SIGN_SK, ITEM_COUNT };

static const struct {
    const char *name;
    size_t bytes;
} items[ITEM_COUNT] = {
    [ITEM_SEAL] = {"seal", SEC_KEY_BYTES},
    [ITEM_HASH] = {"hash", SEC_KEY_BYTES},
    [ITEM_SIGN_SK] = {"sign-sk", SEC_SIGN_SK_BYTES},
};

/* Parse the text of a key file into k. Messages name the line and what is
 * wrong with it, never its content. */
static tn_code parse_keyfile(const char *path, char *text, size_t len, sec_keys *k, tn_err *e)
{
    bool seen[ITEM_COUNT] = {false};
    int lineno = 0;
    size_t pos = 0;

    if (len == 0)
        return tn_err_set(e, TN_EINVAL, NULL, "key file %s is empty", path);
    if (memchr(text, '\0', len))
        return tn_err_set(e, TN_EINVAL, NULL, "key file %s contains NUL bytes; not a key file",
                          path);
    if (text[len - 1] != '\n')
        return tn_err_set(e, TN_EINVAL, NULL,
                          "key file %s does not end with a newline (truncated?)", path);

    while (pos < len) {
        char *line = text + pos;
        char *nl = memchr(line, '\n', len - pos);
        size_t ll = (size_t)(nl - line);
        pos += ll + 1;
        lineno++;
        *nl = '\0';

        if (lineno == 1) {
            if (!tn_str_eq(line, KEYFILE_MAGIC))
                return tn_err_set(e, TN_EINVAL, NULL,
                                  "key file %s line 1: expected \"" KEYFILE_MAGIC
                                  "\" (not a tunnus key file, or an unsupported version)",
                                  path);
            continue;
        }
        char *sp = strchr(line, ' ');
        if (!sp)
            return tn_err_set(e, TN_EINVAL, NULL,
                              "key file %s line %d: expected \"NAME HEX\" (seal, hash or sign-sk)",
                              path, lineno);
        *sp = '\0';
        const char *hex = sp + 1;
        int which = -1;
        for (int i = 0; i < ITEM_COUNT; i++)
            if (tn_str_eq(line, items[i].name))
                which = i;
        if (which < 0)
            return tn_err_set(e, TN_EINVAL, NULL,
                              "key file %s line %d: unknown item (expected seal, hash or sign-sk)",
                              path, lineno);
        if (seen[which])
            return tn_err_set(e, TN_EINVAL, NULL, "key file %s line %d: %s appears twice", path,
                              lineno, items[which].name);
        seen[which] = true;
        unsigned char *dst = which == ITEM_SEAL ? k->seal
                             : which == ITEM_HASH ? k->hash
                                                  : k->sign_sk;
        if (!unhex(dst, items[which].bytes, hex, strlen(hex)))
            return tn_err_set(e, TN_EINVAL, NULL,
                              "key file %s line %d: %s must be exactly %zu hexadecimal digits",
                              path, lineno, items[which].name, 2 * items[which].bytes);
    }
    for (int i = 0; i < ITEM_COUNT; i++)
        if (!seen[i])
            return tn_err_set(e, TN_EINVAL, NULL, "key file %s has no %s line (truncated?)",
                              path, items[i].name);

    /* libsodium's secret key is seed || public key. Re-deriving the pair from
     * the seed detects a damaged sign-sk line that the hex check cannot. */
    unsigned char seed[crypto_sign_ed25519_SEEDBYTES];
    unsigned char sk2[SEC_SIGN_SK_BYTES];
    crypto_sign_ed25519_sk_to_seed(seed, k->sign_sk);
    crypto_sign_ed25519_seed_keypair(k->sign_pk, sk2, seed);
    bool same = sodium_memcmp(sk2, k->sign_sk, sizeof sk2) == 0;
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk2, sizeof sk2);
    if (!same)
        return tn_err_set(e, TN_EINVAL, NULL,
                          "key file %s: sign-sk is inconsistent (corrupted key file?)", path);
    return TN_OK;
}

tn_code sec_keys_load(const char *path, sec_keys *out, tn_err *e)
{
    char text[KEYFILE_MAX + 1];
    size_t len = 0;
    sec_keys k;
    struct stat st;
    int fd = -1;
    tn_code rc = sec_init(e);
    if (rc != TN_OK)
        return rc;
    sodium_memzero(&k, sizeof k);

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        rc = tn_err_set(e, errno == ENOENT ? TN_ENOTFOUND : TN_EIO, NULL,
                        "cannot open key file %s: %s", path, strerror(errno));
        goto out;
    }
    /* fstat on the open descriptor, not stat on the path: no window in
     * which the file could be swapped between the check and the read. */
    if (fstat(fd, &st) != 0) {
        rc = tn_err_set(e, TN_EIO, NULL, "cannot stat key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = tn_err_set(e, TN_EINVAL, NULL, "key file %s is not a regular file", path);
        goto out;
    }
    if (st.st_mode & 077) {
        rc = tn_err_set(e, TN_EDENIED, NULL,
                        "key file %s must not be readable by group or others (chmod 600)", path);
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, text + len, sizeof text - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = tn_err_set(e, TN_EIO, NULL, "cannot read key file %s: %s", path,
                            strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof text) {
            rc = tn_err_set(e, TN_EINVAL, NULL,
                            "key file %s is larger than %d bytes; not a tunnus key file", path,
                            KEYFILE_MAX);
            goto out;
        }
    }
    rc = parse_keyfile(path, text, len, &k, e);
    if (rc != TN_OK)
        goto out;
    memcpy(out, &k, sizeof k);

out:
    if (fd >= 0)
        close(fd);
    sodium_memzero(&k, sizeof k);
    sodium_memzero(text, sizeof text);
    return rc;
}

void sec_keys_wipe(sec_keys *k)
{
    if (k)
        sodium_memzero(k, sizeof *k);
}

/* ---- national ID sealing and hashing ------------------------------------- */

tn_code sec_nid_seal(const sec_keys *k, const char *nid, unsigned char out[SEC_SEALED_MAX],
                     size_t *outlen, tn_err *e)
{
    size_t n = nid ? strlen(nid) : 0;
    unsigned long long clen = 0;
    tn_code rc = sec_init(e);
    if (rc != TN_OK)
        return rc;
    if (n == 0 || n > NID_MAX)
        return tn_err_set(e, TN_EINVAL, "national_id", "national ID must be 1 to %d bytes",
                          (int)NID_MAX);
    /* A random 192-bit nonce never repeats in practice, so the same key can
     * seal any number of IDs with no counter to persist. */
    randombytes_buf(out, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, &clen, (const unsigned char *)nid,
                                               n, (const unsigned char *)NID_AD,
                                               sizeof NID_AD - 1, NULL, out, k->seal);
    *outlen = NONCE_BYTES + (size_t)clen;
    return TN_OK;
}

tn_code sec_nid_open(const sec_keys *k, const unsigned char *blob, size_t len, char *out,
                     size_t cap, tn_err *e)
{
    unsigned char plain[NID_MAX];
    unsigned long long plen = 0;
    tn_code rc = sec_init(e);
    if (rc != TN_OK)
        return rc;
    if (!blob || len <= NONCE_BYTES + TAG_BYTES || len > SEC_SEALED_MAX) {
        rc = tn_err_set(e, TN_EIO, "national_id",
                        "national ID cannot be decrypted (sealed value has an impossible length)");
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, &plen, NULL, blob + NONCE_BYTES, len - NONCE_BYTES,
            (const unsigned char *)NID_AD, sizeof NID_AD - 1, blob, k->seal) != 0) {
        rc = tn_err_set(e, TN_EIO, "national_id",
                        "national ID cannot be decrypted (wrong key file?)");
        goto out;
    }
    /* An authentic blob was produced by sec_nid_seal from a C string, so an
     * embedded NUL would mean a bug elsewhere; refuse rather than truncate. */
    if (memchr(plain, '\0', (size_t)plen)) {
        rc = tn_err_set(e, TN_EINTERNAL, "national_id", "decrypted national ID contains NUL");
        goto out;
    }
    if (!out || cap <= (size_t)plen) {
        rc = tn_err_set(e, TN_EUSAGE, "national_id", "output buffer too small for national ID");
        goto out;
    }
    memcpy(out, plain, (size_t)plen);
    out[plen] = '\0';
    rc = TN_OK;

out:
    sodium_memzero(plain, sizeof plain);
    return rc;
}

void sec_nid_hash(const sec_keys *k, const char *nid, unsigned char out[SEC_HASH_BYTES])
{
    ensure_init();
    crypto_generichash(out, SEC_HASH_BYTES, (const unsigned char *)nid, strlen(nid), k->hash,
                       sizeof k->hash);
}

/* ---- random identifiers -------------------------------------------------- */

void sec_random(void *buf, size_t n)
{
    ensure_init();
    randombytes_buf(buf, n);
}

/* Version 7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then a 12-bit
 * counter that starts at a random value each millisecond (method 1 of
 * §6.2), then 62 random bits. Ids made in one process sort in the order
 * they were made, so new persons append to the end of the id index instead
 * of landing on a random leaf page: at a million persons that is the
 * difference between writing one page and a few hundred per batch. */
static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid_last_ms;
static unsigned uuid_counter;

/* The random bits come from a per-thread pool filled 512 bytes at a time:
 * a server makes a request id per request, and one getrandom(2) per id was
 * about 2 % of an HTTP request's CPU time. A fork child would share its
 * parent's pool, so the generation bumped at fork makes it refill. */
#define UUID_POOL 512
static _Thread_local unsigned char uuid_pool[UUID_POOL];
static _Thread_local size_t uuid_pool_left;
static _Thread_local unsigned uuid_pool_gen;
static atomic_uint uuid_fork_gen = 1;
static pthread_once_t uuid_atfork_once = PTHREAD_ONCE_INIT;

static void uuid_on_fork(void)
{
    atomic_fetch_add(&uuid_fork_gen, 1);
}

static void uuid_atfork(void)
{
    pthread_atfork(NULL, NULL, uuid_on_fork);
}

static void uuid_random(unsigned char *b, size_t n)
{
    pthread_once(&uuid_atfork_once, uuid_atfork);
    unsigned gen = atomic_load(&uuid_fork_gen);
    if (uuid_pool_gen != gen || uuid_pool_left < n) {
        sec_random(uuid_pool, sizeof uuid_pool);
        uuid_pool_left = sizeof uuid_pool;
        uuid_pool_gen = gen;
    }
    unsigned char *p = uuid_pool + (sizeof uuid_pool - uuid_pool_left);
    memcpy(b, p, n);
    sodium_memzero(p, n);
    uuid_pool_left -= n;
}

void sec_uuid(char out[37])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char b[16];
    uuid_random(b, sizeof b);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    pthread_mutex_lock(&uuid_lock);
    if (ms <= uuid_last_ms) {
        /* Same millisecond (or the clock stepped back): count on. */
        ms = uuid_last_ms;
        if (++uuid_counter > 0xfff) {
            ms++;
            uuid_counter = (unsigned)(b[6] & 0x07) << 8 | b[7];
        }
    } else {
        /* A random start below 0x800 leaves room to count in a burst. */
        uuid_counter = (unsigned)(b[6] & 0x07) << 8 | b[7];
    }
    uuid_last_ms = ms;
    unsigned counter = uuid_counter;
    pthread_mutex_unlock(&uuid_lock);
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (counter >> 8));
    b[7] = (unsigned char)(counter & 0xff);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 9562 variant */
    size_t o = 0;
    for (size_t i = 0; i < sizeof b; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = digits[b[i] >> 4];
        out[o++] = digits[b[i] & 0x0f];
    }
    out[o] = '\0';
}

/* ---- passwords ----------------------------------------------------------- */

/* argon2id is memory-hard by design: each hash or verify holds memlimit
 * bytes (64 MiB by default) for its whole run. A server with one thread
 * per connection would otherwise hold that much per concurrent bind (32
 * binds: 2 GiB). The work is CPU-bound, so running more at once than there
 * are CPUs gains nothing: a process-wide gate admits one per online CPU,
 * bounding the memory at CPUs x memlimit without costing throughput. */
static sem_t pw_gate;
static pthread_once_t pw_gate_once = PTHREAD_ONCE_INIT;

static void pw_gate_init(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    (void)sem_init(&pw_gate, 0, n < 1 ? 1u : n > 64 ? 64u : (unsigned)n);
}

static void pw_gate_enter(void)
{
    pthread_once(&pw_gate_once, pw_gate_init);
    while (sem_wait(&pw_gate) != 0 && errno == EINTR)
        ;
}

static void pw_gate_leave(void)
{
    sem_post(&pw_gate);
}

tn_code sec_password_hash(const char *password, unsigned long long opslimit, size_t memlimit,
                          char out[SEC_PWHASH_BUFSZ], tn_err *e)
{
    tn_code rc = sec_init(e);
    if (rc != TN_OK)
        return rc;
    if (!password)
        return tn_err_set(e, TN_EUSAGE, "password", "no password given");
    if (opslimit == 0)
        opslimit = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
    if (memlimit == 0)
        memlimit = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
    /* Check the limits here so that a bad configuration gets a precise
     * message instead of libsodium's bare -1. */
    if (opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
        opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX)
        return tn_err_set(e, TN_EINVAL, "opslimit", "argon2id opslimit must be %llu to %llu",
                          (unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MIN,
                          (unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MAX);
    if (memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
        memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX)
        return tn_err_set(e, TN_EINVAL, "memlimit", "argon2id memlimit must be %zu to %zu bytes",
                          (size_t)crypto_pwhash_argon2id_MEMLIMIT_MIN,
                          (size_t)crypto_pwhash_argon2id_MEMLIMIT_MAX);
    pw_gate_enter();
    int hrc = crypto_pwhash_str_alg(out, password, strlen(password), opslimit, memlimit,
                                    crypto_pwhash_ALG_ARGON2ID13);
    pw_gate_leave();
    if (hrc != 0)
        return tn_err_set(e, TN_EIO, "password",
                          "password hashing failed (out of memory for memlimit %zu?)", memlimit);
    return TN_OK;
}

bool sec_password_verify(const char *stored, const char *password)
{
    ensure_init();
    if (!stored || !password)
        return false;
    /* libsodium reads stored as a crypto_pwhash_STRBYTES array: an
     * unterminated or over-long value from storage must not be read past. */
    if (strnlen(stored, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
        return false;
    pw_gate_enter();
    bool ok = crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
    pw_gate_leave();
    return ok;
}

/* ---- signatures ---------------------------------------------------------- */

void sec_sign(const sec_keys *k, const void *msg, size_t len, unsigned char sig[64])
{
    ensure_init();
    crypto_sign_ed25519_detached(sig, NULL, msg, len, k->sign_sk);
}

bool sec_sign_verify(const unsigned char pk[SEC_SIGN_PK_BYTES], const void *msg, size_t len,
                     const unsigned char sig[64])
{
    ensure_init();
    return crypto_sign_ed25519_verify_detached(sig, msg, len, pk) == 0;
}

/* ---- encoding ------------------------------------------------------------ */

void sec_hex(const unsigned char *in, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}
