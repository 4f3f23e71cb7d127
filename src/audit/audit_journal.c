#include "audit_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tn_be.h"
#include "tn_mem.h"
#include "tn_str.h"

#define HEAD_MAGIC "TNJ1"
#define TAIL_MAGIC "1JNT"
/* The ingest reads the file in chunks of this size (a frame always fits). */
#define READ_CHUNK (1024 * 1024)
/* Events per ingest transaction while appenders keep writing: bounds how
 * long the read log's write lock is held. */
#define INGEST_BATCH 50000
/* When no more than this is left, the ingest takes the file's lock, moves
 * the rest and empties the file: appenders wait for at most that much. */
#define INGEST_LOCKED_TAIL (256 * 1024)
/* Rounds without the lock before the ingest takes it anyway, so that a
 * steady stream of appends cannot keep the file from being emptied. */
#define INGEST_ROUNDS 8
/* A leased append copies its frames into a shared map of the file instead
 * of calling write(2) (docs/audit.md, "The tail file"). The file is
 * extended ahead of the appends by MAP_STEP at a time, and the map covers
 * exactly the file (never pages past its end); beyond MAP_SPAN bytes,
 * write(2) again. */
#define MAP_SPAN ((off_t)256 * 1024 * 1024)
#define MAP_STEP ((off_t)1024 * 1024)

struct audit_journal {
    struct audit_journal *next; /* in the process-wide list */
    char *key;
    pid_t pid; /* a forked child must not share its parent's open file: flock would not keep them apart */
    int refs;  /* guarded by list_mu */
    int fd;
    /* Orders this process's appenders and the ingest's final step before
     * the flock (a flock is per open file, not per thread). */
    pthread_mutex_t mu;
    /* One ingest at a time per process: ingests of the same file from
     * several threads (the ingester and closing handles) would otherwise
     * queue on the read log's write lock in SQLite's busy handler, whose
     * sleeps grow to 100 ms, while one of them holds mu for its last
     * round. Taken before mu. */
    pthread_mutex_t ingest_mu;
    /* Guarded by mu: where the ingest stopped (the frame of hint_seq
     * starts at hint_off), so the next one need not scan from the start. */
    int64_t hint_seq;
    off_t hint_off;
    audit_stats stats; /* guarded by mu */
    /* Guarded by mu: the lease (audit_journal_lease). While leased, this
     * process holds the flock between appends, so nobody else can have
     * appended, and end and head are the file's end and chain head. */
    bool lease_mode;
    bool leased;
    off_t end;
    audit_head head;
    /* Guarded by mu: where this process's leased appends began. The frames
     * from there to end were copied by this process from its own memory
     * (complete, and chained as it appended them), so its ingest takes
     * them as they are; verify checks the chain over the same bytes in
     * the read log. Frames before it (another process's, or a crash's)
     * are checked link by link as they move. */
    off_t own_from;
    uint64_t epoch; /* guarded by mu: leases ended so far */
    /* The head's number as the last append left it, read without mu (an
     * atomic): appenders number and hash their frames before the lock on
     * the guess that nobody appends in between. */
    int64_t seq_hint;
    /* Guarded by mu, leased appends only: the map (NULL until the first),
     * the file's size while leased (end plus room allocated ahead; the
     * room is cut off again before the lock is let go), and no_map: write(2)
     * only from now on (the file system cannot allocate ahead, or a map
     * failed). */
    unsigned char *map;
    size_t mapped;
    off_t alloc;
    bool no_map;
};

static void map_drop(audit_journal *j)
{
    if (j->map)
        munmap(j->map, j->mapped);
    j->map = NULL;
    j->mapped = 0;
}

/* Cut the file to len, and with it the room allocated ahead and the map. */
static int cut_to(audit_journal *j, off_t len)
{
    map_drop(j);
    int r = ftruncate(j->fd, len);
    if (r == 0)
        j->alloc = len;
    return r;
}

/* Before a lease's lock is let go: cut the room allocated ahead, so that
 * the file ends at its last frame for everyone else. */
static void lease_trim(audit_journal *j)
{
    if (j->alloc > j->end)
        cut_to(j, j->end);
    map_drop(j);
}

static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;
static audit_journal *journals;

static tn_code io_err(tn_err *e, const char *what)
{
    return tn_err_set(e, TN_EIO, "read_log", "the read log's tail file: %s: %s", what,
                      strerror(errno));
}

tn_code audit_journal_open(const char *path, audit_journal **out, tn_err *e)
{
    *out = NULL;
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return tn_err_set(e, TN_EIO, "read_log", "cannot open the read log's tail file %s: %s",
                          path, strerror(errno));
    /* Two spellings of one path must find the same handle: its mutex is
     * what keeps this process's appenders apart. */
    char real[PATH_MAX];
    const char *key = realpath(path, real) ? real : path;
    pthread_mutex_lock(&list_mu);
    audit_journal *j = journals;
    pid_t me = getpid();
    while (j && (j->pid != me || strcmp(j->key, key) != 0))
        j = j->next;
    if (j) {
        close(fd);
    } else {
        j = tn_calloc(1, sizeof *j);
        j->key = tn_strdup(key);
        j->pid = me;
        j->fd = fd;
        /* Held for a few µs by each append: spinning briefly beats
         * sleeping in the kernel when the threads outnumber the cores. */
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
        pthread_mutex_init(&j->mu, &ma);
        pthread_mutex_init(&j->ingest_mu, NULL);
        pthread_mutexattr_destroy(&ma);
        j->next = journals;
        journals = j;
    }
    j->refs++;
    pthread_mutex_unlock(&list_mu);
    *out = j;
    return TN_OK;
}

void audit_journal_close(audit_journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&list_mu);
    bool last = --j->refs == 0;
    if (last) {
        audit_journal **p = &journals;
        while (*p != j)
            p = &(*p)->next;
        *p = j->next;
    }
    pthread_mutex_unlock(&list_mu);
    if (!last)
        return;
    if (j->leased)
        lease_trim(j); /* should the cut fail, the next append cuts the zeros */
    map_drop(j);
    close(j->fd);
    pthread_mutex_destroy(&j->mu);
    pthread_mutex_destroy(&j->ingest_mu);
    free(j->key);
    free(j);
}

int audit_journal_frame(const unsigned char *p, size_t n, size_t *len, int64_t *seq,
                        const unsigned char **enc, size_t *enc_len, const unsigned char **hash,
                        const char **why)
{
    if (n < AUDIT_JOURNAL_HEAD)
        return 0;
    if (memcmp(p, HEAD_MAGIC, 4) != 0) {
        *why = "no frame starts here";
        return -1;
    }
    size_t el = be_get32(p + 4);
    if (el == 0 || el > AUDIT_JOURNAL_MAX_ENC) {
        *why = "frame length out of range";
        return -1;
    }
    size_t total = AUDIT_JOURNAL_HEAD + el + AUDIT_JOURNAL_TRAILER;
    if (n < total)
        return 0;
    const unsigned char *t = p + AUDIT_JOURNAL_HEAD + el;
    uint64_t s = be_get64(t);
    if (be_get32(t + 40) != el || memcmp(t + 44, TAIL_MAGIC, 4) != 0) {
        *why = "the frame's trailer does not match its head";
        return -1;
    }
    if (s == 0 || s > INT64_MAX) {
        *why = "sequence number out of range";
        return -1;
    }
    *len = total;
    *seq = (int64_t)s;
    *enc = p + AUDIT_JOURNAL_HEAD;
    *enc_len = el;
    *hash = t + 8;
    return 1;
}

static int lock_file(int fd, int op)
{
    int r;
    while ((r = flock(fd, op)) != 0 && errno == EINTR)
        ;
    return r;
}

/* Whether the bytes [from, to) of fd are all zero (false if they cannot be read). */
static bool all_zero(int fd, off_t from, off_t to)
{
    unsigned char buf[65536];
    for (off_t at = from; at < to;) {
        size_t want = (size_t)(to - at) < sizeof buf ? (size_t)(to - at) : sizeof buf;
        ssize_t got = pread(fd, buf, want, at);
        if (got <= 0)
            return false;
        for (ssize_t i = 0; i < got; i++)
            if (buf[i])
                return false;
        at += got;
    }
    return true;
}

/* ---- a buffered reader over the file ------------------------------------ */

typedef struct reader {
    int fd;
    unsigned char *buf;
    size_t len, pos; /* valid bytes in buf, the next frame's start in buf */
    off_t base;      /* file offset of buf[0] */
    off_t end;       /* read no further */
    /* Without the file's lock (zeros_end), zeros where a frame would
     * start, or a frame that does not parse, end the read: a lease holder
     * in another process may have allocated room ahead and be copying a
     * frame into it right now (the locked last round reads it again).
     * With the lock, only zeros up to the end do (the room a crashed lease
     * holder left), and a frame cut short with only zeros after it (its
     * copy cut by the crash) is a torn tail; anything else is damage. */
    bool zeros_end;
} reader;

/* Under the lock: whether the frame at r's position, which does not
 * parse, is a torn tail, nothing but zeros following the bytes it claims
 * (its head's alone when its length is not believable). */
static bool torn_tail(const reader *r)
{
    const unsigned char *p = r->buf + r->pos;
    size_t avail = r->len - r->pos;
    off_t start = r->base + (off_t)r->pos, after = start + AUDIT_JOURNAL_HEAD;
    if (avail >= AUDIT_JOURNAL_HEAD && memcmp(p, HEAD_MAGIC, 4) == 0) {
        uint32_t el = be_get32(p + 4);
        if (el > 0 && el <= AUDIT_JOURNAL_MAX_ENC)
            after += (off_t)el + AUDIT_JOURNAL_TRAILER;
    }
    return after >= r->end || all_zero(r->fd, after, r->end);
}

/* The frame at the reader's position: 1 one, 0 none (end or a torn tail),
 * -1 damage (*why), -2 a read error (errno). */
static int next_frame(reader *r, size_t *len, int64_t *seq, const unsigned char **enc,
                      size_t *enc_len, const unsigned char **hash, const char **why)
{
    for (;;) {
        if (r->len - r->pos >= 4 && memcmp(r->buf + r->pos, "\0\0\0\0", 4) == 0 &&
            (r->zeros_end || all_zero(r->fd, r->base + (off_t)r->pos, r->end)))
            return 0;
        int f = audit_journal_frame(r->buf + r->pos, r->len - r->pos, len, seq, enc, enc_len,
                                    hash, why);
        if (f == -1 && (r->zeros_end || torn_tail(r)))
            return 0;
        if (f != 0)
            return f;
        off_t at = r->base + (off_t)r->len;
        if (at >= r->end)
            return 0;
        /* Keep the partial frame, read what follows it. */
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->base += (off_t)r->pos;
        r->len -= r->pos;
        r->pos = 0;
        size_t want = READ_CHUNK - r->len;
        if ((off_t)want > r->end - at)
            want = (size_t)(r->end - at);
        ssize_t got;
        while ((got = pread(r->fd, r->buf + r->len, want, at)) < 0 && errno == EINTR)
            ;
        if (got < 0)
            return -2;
        if (got == 0)
            return 0;
        r->len += (size_t)got;
    }
}

static void reader_at(reader *r, int fd, off_t off, off_t end)
{
    r->fd = fd;
    r->len = r->pos = 0;
    r->base = off;
    r->end = end;
    r->zeros_end = false;
}

/* ---- append --------------------------------------------------------------- */


/* Keep the bytes [from, to) in a file of their own next to the tail file
 * (<tail>.cut-<µs>): what is cut may be evidence, not only a torn write. */
static tn_code keep_cut(audit_journal *j, off_t from, off_t to, tn_err *e)
{
    if (all_zero(j->fd, from, to))
        return TN_OK; /* room a leased appender allocated ahead: nothing was written there */
    char path[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s.cut-%lld", j->key, (long long)audit_now_us());
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return io_err(e, "keep the cut tail");
    unsigned char buf[65536];
    tn_code rc = TN_OK;
    for (off_t at = from; at < to && rc == TN_OK;) {
        size_t want = (size_t)(to - at) < sizeof buf ? (size_t)(to - at) : sizeof buf;
        ssize_t got = pread(j->fd, buf, want, at);
        if (got <= 0 || write(out, buf, (size_t)got) != got)
            rc = io_err(e, "keep the cut tail");
        else
            at += got;
    }
    if (close(out) != 0 && rc == TN_OK)
        rc = io_err(e, "keep the cut tail");
    return rc;
}

/* The end of the last whole frame: a torn tail (a write cut by a crash of
 * the machine) or trailing garbage is cut off before anything is appended
 * after it. A torn write was never acknowledged (its writer did not
 * return), but damage could also be an attacker's: the cut bytes are kept
 * (keep_cut), never just dropped. */
static tn_code repair(audit_journal *j, off_t size, off_t *good, int64_t *seq,
                      unsigned char hash[AUDIT_HASH_BYTES], bool *found, tn_err *e)
{
    reader r;
    reader_at(&r, j->fd, 0, size);
    r.buf = tn_malloc(READ_CHUNK);
    *good = 0;
    *found = false;
    size_t len, el;
    int64_t s;
    const unsigned char *enc, *h;
    const char *why;
    int f;
    while ((f = next_frame(&r, &len, &s, &enc, &el, &h, &why)) == 1) {
        *seq = s;
        memcpy(hash, h, AUDIT_HASH_BYTES);
        *found = true;
        r.pos += len;
        *good = r.base + (off_t)r.pos;
    }
    free(r.buf);
    if (f == -2)
        return io_err(e, "read");
    tn_code rc = keep_cut(j, *good, size, e);
    if (rc == TN_OK && ftruncate(j->fd, *good) != 0)
        rc = io_err(e, "cut a torn tail");
    return rc;
}

/* The chain head before an append, with the file locked: the last
 * frame's trailer, or the table's head when the file is empty. *size is
 * where the append starts. */
static tn_code tail_head(audit_journal *j, store *rl, off_t *size, audit_head *head, tn_err *e)
{
    if (*size >= AUDIT_JOURNAL_HEAD + AUDIT_JOURNAL_TRAILER) {
        unsigned char t[AUDIT_JOURNAL_TRAILER], h[AUDIT_JOURNAL_HEAD];
        if (pread(j->fd, t, sizeof t, *size - AUDIT_JOURNAL_TRAILER) == (ssize_t)sizeof t &&
            memcmp(t + 44, TAIL_MAGIC, 4) == 0) {
            uint32_t el = be_get32(t + 40);
            off_t start = *size - AUDIT_JOURNAL_TRAILER - (off_t)el - AUDIT_JOURNAL_HEAD;
            uint64_t s = be_get64(t);
            if (start >= 0 && el > 0 && el <= AUDIT_JOURNAL_MAX_ENC && s > 0 && s <= INT64_MAX &&
                pread(j->fd, h, sizeof h, start) == (ssize_t)sizeof h &&
                memcmp(h, HEAD_MAGIC, 4) == 0 && be_get32(h + 4) == el) {
                head->seq = (int64_t)s;
                memcpy(head->hash, t + 8, AUDIT_HASH_BYTES);
                return TN_OK;
            }
        }
    }
    if (*size > 0) {
        bool found = false;
        tn_code rc = repair(j, *size, size, &head->seq, head->hash, &found, e);
        if (rc != TN_OK || found)
            return rc;
    }
    bool has = false;
    return store_audit_head(rl, &head->seq, head->hash, &has, e);
}

/* Leased: make the file (and the map) reach need bytes, allocating room
 * ahead so that most appends are a copy and nothing else. 1: the map
 * covers them. 0: use write(2) (too far for the map, or the file system
 * said no); the room allocated before is cut off, so that an O_APPEND
 * write lands at the end of the last frame. -1: that cut failed, the
 * file's end is unknown. */
static int lease_room(audit_journal *j, off_t need)
{
    bool room = false;
    if (!j->no_map && need <= MAP_SPAN) {
        room = need <= j->alloc;
        if (!room) {
            off_t to = (need + MAP_STEP - 1) / MAP_STEP * MAP_STEP;
            if (to > MAP_SPAN)
                to = MAP_SPAN;
            /* fallocate, not ftruncate: a full disk is an error here, not
             * a SIGBUS when a page of a sparse file is first written. */
            if (fallocate(j->fd, 0, j->alloc, to - j->alloc) == 0) {
                j->alloc = to;
                room = true;
            } else {
                if (errno == EOPNOTSUPP)
                    j->no_map = true;
                /* A failed fallocate may have extended the file part way. */
                struct stat sb;
                if (fstat(j->fd, &sb) != 0)
                    return -1;
                j->alloc = sb.st_size;
            }
        }
        if (room && j->mapped < (size_t)j->alloc) {
            void *m = j->map ? mremap(j->map, j->mapped, (size_t)j->alloc, MREMAP_MAYMOVE)
                             : mmap(NULL, (size_t)j->alloc, PROT_READ | PROT_WRITE, MAP_SHARED,
                                    j->fd, 0);
            if (m == MAP_FAILED) { /* for good: address space is not expected to come back */
                map_drop(j);
                j->no_map = true;
                room = false;
            } else {
                j->map = m;
                j->mapped = (size_t)j->alloc;
            }
        }
        if (room)
            return 1;
    }
    if (j->alloc > j->end && cut_to(j, j->end) != 0)
        return -1;
    return 0;
}

tn_code audit_journal_append(audit_journal *j, store *rl, const store_audit_row *rows, size_t n,
                             tn_err *e)
{
    if (n == 0)
        return TN_OK;
    tn_buf b;
    tn_buf_init(&b, (size_t)64 * 1024 * 1024);
    tn_buf_reserve(&b, n * 640);
    tn_code rc = TN_OK;
    off_t size;
    audit_head head;
    /* The frames are built and their digests computed before the lock, on
     * the guess that the head does not move in between: under it only the
     * chain links are made (and, when the guess was wrong, the numbers and
     * digests made again), so that appenders wait on each other for as
     * little as possible. */
    typedef struct pre {
        size_t at;
        unsigned char d[AUDIT_HASH_BYTES];
    } pre;
    pre one, *v = n > 1 ? tn_malloc(n * sizeof *v) : &one;
    int64_t guess = __atomic_load_n(&j->seq_hint, __ATOMIC_RELAXED);
    for (size_t i = 0; i < n; i++) {
        unsigned char hd[AUDIT_JOURNAL_HEAD] = HEAD_MAGIC, t[AUDIT_JOURNAL_TRAILER] = {0};
        v[i].at = b.len;
        tn_buf_append(&b, hd, sizeof hd);
        if (!store_audit_encode(guess + 1 + (int64_t)i, &rows[i], &b) ||
            b.len - v[i].at - AUDIT_JOURNAL_HEAD > AUDIT_JOURNAL_MAX_ENC) {
            rc = tn_err_set(e, TN_EINVAL, "read_log", "a read event is too large to record");
            goto refused;
        }
        size_t el = b.len - v[i].at - AUDIT_JOURNAL_HEAD;
        be_put32((unsigned char *)b.data + v[i].at + 4, (uint32_t)el);
        be_put32(t + 40, (uint32_t)el);
        memcpy(t + 44, TAIL_MAGIC, 4);
        tn_buf_append(&b, t, sizeof t);
    }
    if (b.toobig) {
        rc = tn_err_set(e, TN_EINVAL, "read_log", "too many read events for one append");
        goto refused;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char *enc = (unsigned char *)b.data + v[i].at + AUDIT_JOURNAL_HEAD;
        sec_hash(enc, be_get32((unsigned char *)b.data + v[i].at + 4), v[i].d);
    }
    pthread_mutex_lock(&j->mu);
    if (j->leased) {
        size = j->end;
        head = j->head;
    } else {
        struct stat sb;
        if (lock_file(j->fd, LOCK_EX) != 0) {
            rc = io_err(e, "lock");
            goto unlock;
        }
        if (fstat(j->fd, &sb) != 0) {
            rc = io_err(e, "stat");
            goto unlock_file;
        }
        size = sb.st_size;
        if ((rc = tail_head(j, rl, &size, &head, e)) != TN_OK)
            goto unlock_file;
        j->leased = j->lease_mode;
        j->end = j->alloc = j->own_from = size;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char *f = (unsigned char *)b.data + v[i].at;
        size_t el = be_get32(f + 4);
        unsigned char *enc = f + AUDIT_JOURNAL_HEAD, *t = enc + el;
        int64_t seq = head.seq + 1;
        if (seq != guess + 1 + (int64_t)i) { /* someone appended in between */
            be_put64(enc + sizeof STORE_AUDIT_EVENT_TAG, (uint64_t)seq);
            sec_hash(enc, el, v[i].d);
        }
        audit_link(head.hash, v[i].d, head.hash);
        head.seq = seq;
        be_put64(t, (uint64_t)seq);
        memcpy(t + 8, head.hash, AUDIT_HASH_BYTES);
    }
    size_t done = 0;
    int room = j->leased ? lease_room(j, size + (off_t)b.len) : 0;
    if (room > 0) {
        memcpy(j->map + size, b.data, b.len); /* in the page cache now, as a write would be */
        done = b.len;
    } else if (room < 0) {
        rc = io_err(e, "cut the room allocated ahead");
        j->leased = false; /* the end is unknown: look again next time */
        j->epoch++;
        goto unlock_file;
    }
    while (done < b.len) {
        ssize_t w = write(j->fd, b.data + done, b.len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = io_err(e, "write");
            /* All or nothing: a part of a frame must not stay behind. */
            if (cut_to(j, size) != 0) {
                j->leased = false; /* the end is unknown: look again next time */
                j->epoch++;
            }
            break;
        }
        done += (size_t)w;
    }
    if (rc == TN_OK) {
        j->end = size + (off_t)b.len;
        if (j->alloc < j->end)
            j->alloc = j->end;
        j->head = head;
        __atomic_store_n(&j->seq_hint, head.seq, __ATOMIC_RELAXED);
    }
unlock_file:
    if (!j->leased)
        lock_file(j->fd, LOCK_UN);
unlock:
    j->stats.flushes++;
    if (rc == TN_OK) {
        j->stats.commits++;
        j->stats.events += n;
        if (n > j->stats.max_batch)
            j->stats.max_batch = n;
    } else {
        j->stats.failed_commits++;
    }
    pthread_mutex_unlock(&j->mu);
    goto out;
refused:
    pthread_mutex_lock(&j->mu);
    j->stats.flushes++;
    j->stats.failed_commits++;
    pthread_mutex_unlock(&j->mu);
out:
    if (n > 1)
        free(v);
    tn_buf_free(&b);
    return rc;
}

void audit_journal_lease(audit_journal *j, bool on)
{
    pthread_mutex_lock(&j->mu);
    j->lease_mode = on;
    if (!on && j->leased) {
        lease_trim(j);
        lock_file(j->fd, LOCK_UN);
        j->leased = false;
        j->epoch++;
    }
    pthread_mutex_unlock(&j->mu);
}

/* ---- ingest ---------------------------------------------------------------- */

typedef struct ingest_state {
    audit_head head;
    int64_t moved;
    int64_t bad_seq;
    char *why;
    size_t why_cap;
    char *scratch; /* decoded strings of one event */
    tn_buf blk;    /* events checked, not yet stored: one block of the read log */
    int nblk;
    off_t own_from; /* frames from here on are this process's own (-1: none) */
    uint64_t epoch; /* of the lease own_from belongs to */
    char reason[160];
} ingest_state;

/* Store the block being built (in the round's transaction). */
static tn_code put_block(store *rl, const sec_keys *k, ingest_state *g, tn_err *e)
{
    tn_code rc = g->nblk
                     ? audit_chain_put_block(rl, k, (const unsigned char *)g->blk.data, g->blk.len, e)
                     : TN_OK;
    tn_buf_reset(&g->blk);
    g->nblk = 0;
    return rc;
}

void (*audit_journal_round_hook)(audit_journal *j);

/* The checks an own frame still gets (a few loads): that it is an event
 * with its frame's number, so that the block it joins is well formed and in
 * order whatever was done to the file. The rest, and the chain, verify
 * checks in the read log. */
static bool own_frame_ok(const unsigned char *enc, size_t el, int64_t seq)
{
    size_t tag = sizeof STORE_AUDIT_EVENT_TAG;
    return el >= tag + 16 && memcmp(enc, STORE_AUDIT_EVENT_TAG, tag) == 0 &&
           be_get64(enc + tag) == (uint64_t)seq && be_get64(enc + tag + 8) <= INT64_MAX;
}

/* Whether a frame's encoding is one event with its frame's number, chained
 * to the head: *link its chain hash, or *why. */
static bool frame_checks(ingest_state *g, int64_t seq, const unsigned char *enc, size_t el,
                         const unsigned char *h, unsigned char link[AUDIT_HASH_BYTES],
                         const char **why)
{
    store_audit_row row;
    int64_t eseq = seq;
    const char *reason = "";
    if (!store_audit_decode(enc, el, &eseq, &row, g->scratch, el + 16, &reason) || eseq != seq) {
        snprintf(g->reason, sizeof g->reason, "is damaged: %s",
                 eseq != seq ? "its number differs from its frame's" : reason);
        *why = g->reason;
        return false;
    }
    unsigned char d[AUDIT_HASH_BYTES];
    sec_hash(enc, el, d);
    audit_link(g->head.hash, d, link);
    if (memcmp(link, h, AUDIT_HASH_BYTES) != 0) {
        *why = "does not match its hash (edited, or chained to another event)";
        return false;
    }
    return true;
}

/* Move the frames of [r's position, r->end) that follow the table's head,
 * at most limit of them (0: all). *off: where the move stopped. */
static tn_code move_frames(reader *r, store *rl, const sec_keys *k, ingest_state *g,
                           int64_t limit, off_t *off, tn_err *e)
{
    size_t len, el;
    int64_t seq, n = 0;
    const unsigned char *enc, *h;
    const char *why = "";
    int f = 1;
    *off = r->base + (off_t)r->pos;
    while ((limit == 0 || n < limit) &&
           (f = next_frame(r, &len, &seq, &enc, &el, &h, &why)) == 1) {
        off_t at = r->base + (off_t)r->pos;
        if (seq <= g->head.seq) { /* already in the table */
            r->pos += len;
            *off = r->base + (off_t)r->pos;
            continue;
        }
        /* Without the lock, a frame that fails a check may be one another
         * process is still copying (its bytes land in any order): stop
         * here, and let the last round, under the lock, judge it. */
        bool judge = !r->zeros_end;
        if (seq != g->head.seq + 1) {
            if (!judge)
                return TN_OK;
            g->bad_seq = g->head.seq + 1;
            snprintf(g->why, g->why_cap,
                     "event %lld is missing: the read log's tail file goes on at event %lld "
                     "(byte %lld)",
                     (long long)g->bad_seq, (long long)seq, (long long)at);
            return TN_OK;
        }
        unsigned char link[AUDIT_HASH_BYTES];
        if (g->own_from >= 0 && at >= g->own_from && own_frame_ok(enc, el, seq)) {
            /* Appended by this process during its lease: as it wrote them. */
            memcpy(link, h, AUDIT_HASH_BYTES);
        } else if (!frame_checks(g, seq, enc, el, h, link, &why)) {
            if (!judge)
                return TN_OK;
            g->bad_seq = seq;
            snprintf(g->why, g->why_cap, "event %lld in the read log's tail file %s",
                     (long long)seq, why);
            return TN_OK;
        }
        store_audit_block_add(&g->blk, enc, el, link);
        if (++g->nblk == STORE_AUDIT_BLOCK_EVENTS || g->blk.len >= STORE_AUDIT_BLOCK_BYTES) {
            tn_code rc = put_block(rl, k, g, e);
            if (rc != TN_OK)
                return rc;
        }
        g->head.seq = seq;
        memcpy(g->head.hash, link, AUDIT_HASH_BYTES);
        g->moved++;
        n++;
        r->pos += len;
        *off = r->base + (off_t)r->pos;
    }
    if (f == -2)
        return io_err(e, "read");
    if (f == -1) {
        g->bad_seq = g->head.seq + 1;
        snprintf(g->why, g->why_cap, "the read log's tail file is damaged at byte %lld: %s",
                 (long long)*off, why);
    }
    return TN_OK;
}

/* The hints are guarded by j->mu, which the final step holds throughout. */
static void hint_lock(audit_journal *j, bool held)
{
    if (!held)
        pthread_mutex_lock(&j->mu);
}

static void hint_unlock(audit_journal *j, bool held)
{
    if (!held)
        pthread_mutex_unlock(&j->mu);
}

/* One transaction: from the hint (or the start) to end, at most limit
 * events. *off: where it stopped. held: the caller holds j->mu. */
static tn_code ingest_round(audit_journal *j, reader *r, store *rl, const sec_keys *k,
                            ingest_state *g, off_t end, int64_t limit, bool held, off_t *off,
                            tn_err *e)
{
    int64_t moved0 = g->moved;
    tn_code rc = store_tx_begin(rl, e);
    if (rc != TN_OK)
        return rc;
    bool has = false;
    if ((rc = store_audit_head(rl, &g->head.seq, g->head.hash, &has, e)) != TN_OK)
        goto out;
    hint_lock(j, held);
    off_t start = j->hint_seq == g->head.seq + 1 && j->hint_off < end ? j->hint_off : 0;
    hint_unlock(j, held);
    /* A stale hint (another process emptied the file since) is found by
     * the frame there not being the next event: start over from 0. */
    for (int pass = 0; pass < 2; pass++) {
        reader_at(r, j->fd, start, end);
        r->zeros_end = !held;
        size_t len, el;
        int64_t seq = 0;
        const unsigned char *enc, *h;
        const char *why;
        if (start == 0 || (next_frame(r, &len, &seq, &enc, &el, &h, &why) == 1 &&
                           seq == g->head.seq + 1))
            break;
        start = 0;
    }
    rc = move_frames(r, rl, k, g, limit, off, e);
    /* What was checked before a stop moves too. */
    tn_code rc2 = put_block(rl, k, g, rc == TN_OK ? e : NULL);
    if (rc == TN_OK)
        rc = rc2;
    if (rc == TN_OK && !held && audit_journal_round_hook)
        audit_journal_round_hook(j);
    if (rc == TN_OK && g->own_from >= 0 && !held) {
        /* Frames were taken as this process's own only while its lease
         * kept every other process off the file. Had the lease ended in
         * the meantime, they may have been another's: undo the round; the
         * next one checks every frame it does not own. */
        pthread_mutex_lock(&j->mu);
        bool kept = j->epoch == g->epoch;
        pthread_mutex_unlock(&j->mu);
        if (!kept) {
            store_tx_rollback(rl);
            g->moved = moved0;
            g->bad_seq = 0;
            if (g->why_cap)
                g->why[0] = '\0';
            return TN_OK;
        }
    }
out:
    if (rc == TN_OK)
        rc = store_tx_commit(rl, e);
    else
        store_tx_rollback(rl);
    if (rc != TN_OK)
        g->moved = moved0; /* nothing of the round stayed */
    if (rc == TN_OK) {
        /* Counted as the round commits, before the file can be emptied:
         * whoever sees an empty tail file sees the events counted (the
         * server's metrics; a test waits for the one and reads the other). */
        hint_lock(j, held);
        j->hint_seq = g->head.seq + 1;
        j->hint_off = *off;
        j->stats.ingested += (uint64_t)(g->moved - moved0);
        hint_unlock(j, held);
    }
    return rc;
}

tn_code audit_journal_ingest(audit_journal *j, store *rl, const sec_keys *k, int64_t *moved,
                             int64_t *bad_seq, char *why, size_t why_cap, tn_err *e)
{
    ingest_state g = {.why = why, .why_cap = why_cap};
    pthread_mutex_lock(&j->ingest_mu);
    reader r = {0};
    tn_code rc = TN_OK;
    if (why_cap)
        why[0] = '\0';
    r.buf = tn_malloc(READ_CHUNK);
    g.scratch = tn_malloc(AUDIT_JOURNAL_MAX_ENC + 16);
    tn_buf_init(&g.blk, 2 * (STORE_AUDIT_BLOCK_BYTES + AUDIT_JOURNAL_MAX_ENC));
    for (int round = 0;; round++) {
        struct stat sb;
        if (fstat(j->fd, &sb) != 0) {
            rc = io_err(e, "stat");
            break;
        }
        pthread_mutex_lock(&j->mu);
        off_t hint = j->hint_off;
        off_t end = j->leased ? j->end : sb.st_size; /* not the room allocated ahead */
        /* Whether the lease held through the round is checked (epoch)
         * before the round commits. */
        g.own_from = j->leased ? j->own_from : -1;
        g.epoch = j->epoch;
        pthread_mutex_unlock(&j->mu);
        if (end == 0)
            break;
        bool locked = end - hint <= INGEST_LOCKED_TAIL || round >= INGEST_ROUNDS;
        if (locked) {
            /* The last step: nobody appends while the rest moves, then the
             * file is emptied. The mutex keeps this process's appenders
             * out (they share this open file, so its flock does not), the
             * flock the other processes'. */
            pthread_mutex_lock(&j->mu);
            if (lock_file(j->fd, LOCK_EX) != 0) {
                pthread_mutex_unlock(&j->mu);
                rc = io_err(e, "lock");
                break;
            }
            if (fstat(j->fd, &sb) != 0)
                rc = io_err(e, "stat");
            end = j->leased ? j->end : sb.st_size;
            g.own_from = j->leased ? j->own_from : -1;
            g.epoch = j->epoch;
        }
        off_t off = 0;
        if (rc == TN_OK)
            rc = ingest_round(j, &r, rl, k, &g, end, locked ? 0 : INGEST_BATCH, locked, &off, e);
        if (locked) {
            /* Emptied only when everything is in the table; a damaged or
             * torn file stays as it is for verify to report. */
            bool all = off == end || (off < end && all_zero(j->fd, off, end));
            if (rc == TN_OK && !g.bad_seq && all && end > 0) {
                if (cut_to(j, 0) != 0) {
                    rc = io_err(e, "empty");
                } else {
                    j->hint_off = 0;
                    j->end = 0;
                }
            }
            if (j->leased)
                lease_trim(j);
            /* The lease ends here too: the next append looks at the file
             * again. A process that held it pauses its appenders a moment,
             * so that another one waiting for the file gets its turn
             * rather than losing the race to the next append. */
            bool was_leased = j->leased;
            j->leased = false;
            j->epoch++;
            lock_file(j->fd, LOCK_UN);
            if (was_leased)
                nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
            pthread_mutex_unlock(&j->mu);
            break;
        }
        if (rc != TN_OK || g.bad_seq)
            break;
    }
    free(g.scratch);
    tn_buf_free(&g.blk);
    free(r.buf);
    pthread_mutex_lock(&j->mu);
    if (g.bad_seq)
        j->stats.ingest_stops++;
    pthread_mutex_unlock(&j->mu);
    pthread_mutex_unlock(&j->ingest_mu);
    *moved = g.moved;
    *bad_seq = g.bad_seq;
    return rc;
}

void audit_journal_get_stats(audit_journal *j, audit_stats *out)
{
    pthread_mutex_lock(&j->mu);
    *out = j->stats;
    struct stat sb;
    out->tail_bytes = j->leased ? (uint64_t)j->end
                                : fstat(j->fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    pthread_mutex_unlock(&j->mu);
}
