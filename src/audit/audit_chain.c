/* audit_chain — the hash chain over audit events, its signed checkpoints,
 * verification and the retention cut. The format is specified in
 * docs/audit.md; any change here is a new format version. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "tn_be.h"
#include "tn_mem.h"

#define CP_TAG "tunnus.audit.checkpoint.v1"

static void put_u64(tn_buf *b, uint64_t v)
{
    unsigned char x[8];
    be_put64(x, v);
    tn_buf_append(b, x, sizeof x);
}

static void put_u32(tn_buf *b, uint32_t v)
{
    unsigned char x[4];
    be_put32(x, v);
    tn_buf_append(b, x, sizeof x);
}

/* NULL and "" encode alike: the store keeps some absent values as NULL and
 * others as "", and the distinction carries no meaning. */
static void put_str(tn_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u32(b, (uint32_t)n);
    if (n)
        tn_buf_append(b, s, n);
}

/* The digest of every appended event is computed here, so it avoids the
 * growable buffer: the encoding's length is known up front, and a typical
 * event fits on the stack. The bytes are those of store_audit_encode (a unit
 * test compares them). */
#define ENCODE_STACK 2048

void audit_digest(int64_t seq, const store_audit_row *r, unsigned char out[AUDIT_HASH_BYTES])
{
    size_t n = store_audit_encoded_len(r);
    unsigned char stack[ENCODE_STACK], *buf = n <= sizeof stack ? stack : tn_malloc(n);
    store_audit_encode_into(seq, r, buf);
    sec_hash(buf, n, out);
    if (buf != stack)
        free(buf);
}

void audit_link(const unsigned char prev[AUDIT_HASH_BYTES],
                const unsigned char digest[AUDIT_HASH_BYTES], unsigned char out[AUDIT_HASH_BYTES])
{
    sec_hash2(prev, AUDIT_HASH_BYTES, digest, AUDIT_HASH_BYTES, out);
}

void audit_cp_message(const store_audit_cp *c, tn_buf *out)
{
    static const unsigned char zero[AUDIT_HASH_BYTES];
    unsigned char kept[AUDIT_HASH_BYTES];
    tn_buf_append(out, CP_TAG, sizeof CP_TAG);
    put_str(out, c->kind);
    put_u64(out, (uint64_t)c->seq);
    tn_buf_append(out, c->hash_len == AUDIT_HASH_BYTES ? c->hash : zero, AUDIT_HASH_BYTES);
    put_u64(out, (uint64_t)c->time_us);
    put_u64(out, (uint64_t)c->cut_us);
    put_u64(out, (uint64_t)c->kept_len);
    sec_hash(c->kept_len ? (const void *)c->kept : "", c->kept_len, kept);
    tn_buf_append(out, kept, sizeof kept);
}

static tn_code cp_write(store *st, const sec_keys *k, int64_t seq, const unsigned char *hash,
                        const char *kind, int64_t cut_us, const unsigned char *kept,
                        size_t kept_len, tn_err *e)
{
    unsigned char sig[64];
    store_audit_cp c = {
        .seq = seq,
        .hash = hash,
        .hash_len = AUDIT_HASH_BYTES,
        .time_us = audit_now_us(),
        .kind = kind,
        .cut_us = cut_us,
        .kept = kept,
        .kept_len = kept_len,
        .sig = sig,
        .sig_len = sizeof sig,
    };
    tn_buf m;
    tn_buf_init(&m, 4096);
    audit_cp_message(&c, &m);
    sec_sign(k, m.data, m.len, sig);
    tn_buf_free(&m);
    return store_audit_cp_insert(st, &c, e);
}

tn_code audit_chain_put(store *st, const sec_keys *k, int64_t seq, const store_audit_row *r,
                        const unsigned char hash[AUDIT_HASH_BYTES], tn_err *e)
{
    tn_code rc = store_audit_insert(st, seq, r, hash, e);
    if (rc == TN_OK && k && seq % AUDIT_CHECKPOINT_EVERY == 0)
        rc = cp_write(st, k, seq, hash, "periodic", 0, NULL, 0, e);
    return rc;
}

tn_code audit_chain_put_block(store *st, const sec_keys *k, const unsigned char *events,
                              size_t len, tn_err *e)
{
    tn_code rc = store_audit_insert_block(st, events, len, e);
    size_t off = 0;
    store_audit_entry en;
    const char *why;
    while (rc == TN_OK && k && store_audit_block_next(events, len, &off, &en, &why) == 1)
        if (en.seq % AUDIT_CHECKPOINT_EVERY == 0)
            rc = cp_write(st, k, en.seq, en.hash, "periodic", 0, NULL, 0, e);
    return rc;
}

tn_code audit_chain_append_at(store *st, const sec_keys *k, const store_audit_row *r,
                              audit_head *head, tn_err *e)
{
    unsigned char d[AUDIT_HASH_BYTES], h[AUDIT_HASH_BYTES];
    int64_t seq = head->seq + 1;
    audit_digest(seq, r, d);
    audit_link(head->hash, d, h);
    tn_code rc = audit_chain_put(st, k, seq, r, h, e);
    if (rc == TN_OK) {
        head->seq = seq;
        memcpy(head->hash, h, AUDIT_HASH_BYTES);
    }
    return rc;
}

tn_code audit_chain_head(store *st, audit_head *head, tn_err *e)
{
    bool has = false;
    return store_audit_head(st, &head->seq, head->hash, &has, e);
}

tn_code audit_chain_append(store *st, const sec_keys *k, const store_audit_row *r,
                           int64_t *seq_out, tn_err *e)
{
    audit_head head;
    tn_code rc = audit_chain_head(st, &head, e);
    if (rc == TN_OK)
        rc = audit_chain_append_at(st, k, r, &head, e);
    if (rc == TN_OK && seq_out)
        *seq_out = head.seq;
    return rc;
}

/* ---- loading checkpoints ------------------------------------------------ */

typedef struct cp_copy {
    int64_t seq;
    unsigned char hash[AUDIT_HASH_BYTES];
    bool hash_ok;
    bool is_cut;
    bool sig_ok;
    unsigned char *kept;
    size_t kept_len;
} cp_copy;

typedef struct cp_set {
    const unsigned char *pk;
    cp_copy *v;
    size_t n, cap;
} cp_set;

static int cp_collect(const store_audit_cp *c, void *ctx)
{
    cp_set *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = tn_realloc(s->v, s->cap * sizeof *s->v);
    }
    cp_copy *x = &s->v[s->n++];
    memset(x, 0, sizeof *x);
    x->seq = c->seq;
    x->is_cut = strcmp(c->kind, "cut") == 0;
    x->hash_ok = c->hash_len == AUDIT_HASH_BYTES;
    if (x->hash_ok)
        memcpy(x->hash, c->hash, AUDIT_HASH_BYTES);
    if (c->kept_len) {
        x->kept = tn_malloc(c->kept_len);
        memcpy(x->kept, c->kept, c->kept_len);
        x->kept_len = c->kept_len;
    }
    if (s->pk && c->sig_len == 64 && x->hash_ok) {
        tn_buf m;
        tn_buf_init(&m, 4096);
        audit_cp_message(c, &m);
        x->sig_ok = sec_sign_verify(s->pk, m.data, m.len, c->sig);
        tn_buf_free(&m);
    }
    return 0;
}

static void cp_set_free(cp_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].kept);
    free(s->v);
}

/* ---- verification ------------------------------------------------------- */

typedef struct vstate {
    audit_verify_result *res;
    const cp_set *cps;
    const cp_copy *cut;
    size_t ki, nkept; /* position in the cut's kept list */
    size_t cpi;       /* next checkpoint after the cut to match */
    int64_t expected;
    unsigned char prev[AUDIT_HASH_BYTES];
} vstate;

static int vfail(vstate *v, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int vfail(vstate *v, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    v->res->ok = false;
    v->res->bad_seq = seq;
    va_start(ap, fmt);
    vsnprintf(v->res->reason, sizeof v->res->reason, fmt, ap);
    va_end(ap);
    return 1;
}

static const unsigned char *kept_at(const cp_copy *c, size_t i)
{
    return c->kept + i * AUDIT_KEPT_ENTRY;
}

static int verify_cb(const store_audit_rec *x, void *ctx)
{
    vstate *v = ctx;
    unsigned char d[AUDIT_HASH_BYTES], h[AUDIT_HASH_BYTES];
    bool stored = x->hash_len == AUDIT_HASH_BYTES;
    int64_t cut_seq = v->cut ? v->cut->seq : 0;
    v->res->events++;
    if (x->damaged)
        return vfail(v, x->seq, "event cannot be read, its stored bytes are damaged: %s",
                     x->damaged);
    audit_digest(x->seq, &x->r, d);
    if (x->seq <= cut_seq) {
        if (v->ki < v->nkept && (int64_t)be_get64(kept_at(v->cut, v->ki)) < x->seq)
            return vfail(v, (int64_t)be_get64(kept_at(v->cut, v->ki)),
                         "event kept at the retention cut is missing");
        if (v->ki == v->nkept || (int64_t)be_get64(kept_at(v->cut, v->ki)) != x->seq)
            return vfail(v, x->seq,
                         "event precedes the retention cut at seq %lld but is not in its "
                         "signed list of kept events (inserted or not pruned)",
                         (long long)cut_seq);
        const unsigned char *k = kept_at(v->cut, v->ki);
        audit_link(k + 8, d, h);
        if (memcmp(h, k + 40, AUDIT_HASH_BYTES) != 0 || !stored ||
            memcmp(x->hash, k + 40, AUDIT_HASH_BYTES) != 0)
            return vfail(v, x->seq,
                         "event content differs from the hash signed at the retention cut");
        v->ki++;
        v->res->kept++;
        return 0;
    }
    if (v->ki < v->nkept)
        return vfail(v, (int64_t)be_get64(kept_at(v->cut, v->ki)),
                     "event kept at the retention cut is missing");
    if (x->seq != v->expected)
        return vfail(v, v->expected,
                     "event missing: the next stored event is seq %lld (deleted, or "
                     "renumbered)",
                     (long long)x->seq);
    if (v->res->first_seq == 0)
        v->res->first_seq = x->seq;
    audit_link(v->prev, d, h);
    if (!stored)
        return vfail(v, x->seq, "event has no hash");
    if (memcmp(h, x->hash, AUDIT_HASH_BYTES) != 0)
        return vfail(v, x->seq,
                     "hash does not match the event's content and the previous event's hash "
                     "(altered, inserted, reordered, or a predecessor removed)");
    while (v->cpi < v->cps->n && v->cps->v[v->cpi].seq == x->seq) {
        const cp_copy *c = &v->cps->v[v->cpi++];
        if (memcmp(c->hash, h, AUDIT_HASH_BYTES) != 0)
            return vfail(v, x->seq, "event chain differs from the signed checkpoint");
        v->res->signed_seq = x->seq;
    }
    memcpy(v->prev, h, AUDIT_HASH_BYTES);
    v->res->last_seq = x->seq;
    v->expected = x->seq + 1;
    return 0;
}

/* Load and check the checkpoints; sets *cut to the newest cut. Returns
 * false (with the result filled) on a bad signature or malformed cut. */
static bool check_cps(cp_set *cps, audit_verify_result *res, const cp_copy **cut)
{
    *cut = NULL;
    for (size_t i = 0; i < cps->n; i++) {
        const cp_copy *c = &cps->v[i];
        if (!c->sig_ok) {
            res->ok = false;
            res->bad_seq = c->seq;
            snprintf(res->reason, sizeof res->reason,
                     "checkpoint signature invalid (checkpoint altered or not signed by this "
                     "registry's key)");
            return false;
        }
        res->checkpoints++;
        if (c->is_cut) {
            if (c->kept_len % AUDIT_KEPT_ENTRY != 0) {
                res->ok = false;
                res->bad_seq = c->seq;
                snprintf(res->reason, sizeof res->reason, "retention cut has a malformed kept list");
                return false;
            }
            *cut = c;
        }
    }
    return true;
}

tn_code audit_verify(store *st, const unsigned char pk[SEC_SIGN_PK_BYTES],
                     audit_verify_result *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    out->ok = true;
    cp_set cps = {.pk = pk};
    tn_code rc = store_audit_cp_list(st, cp_collect, &cps, e);
    if (rc != TN_OK)
        goto out;
    const cp_copy *cut = NULL;
    if (!check_cps(&cps, out, &cut))
        goto out;
    vstate v = {.res = out, .cps = &cps, .cut = cut};
    v.expected = cut ? cut->seq + 1 : 1;
    if (cut) {
        memcpy(v.prev, cut->hash, AUDIT_HASH_BYTES);
        v.nkept = cut->kept_len / AUDIT_KEPT_ENTRY;
        out->cut_seq = cut->seq;
        out->signed_seq = cut->seq;
        out->last_seq = cut->seq;
    }
    while (v.cpi < cps.n && cps.v[v.cpi].seq <= (cut ? cut->seq : 0))
        v.cpi++;
    rc = store_audit_scan(st, 1, 0, NULL, verify_cb, &v, e);
    if (rc != TN_OK || !out->ok)
        goto out;
    if (v.ki < v.nkept) {
        vfail(&v, (int64_t)be_get64(kept_at(cut, v.ki)),
              "event kept at the retention cut is missing");
        goto out;
    }
    if (v.cpi < cps.n)
        vfail(&v, cps.v[v.cpi].seq,
              "a signed checkpoint covers this event but it is missing (log truncated after seq "
              "%lld)",
              (long long)out->last_seq);
out:
    cp_set_free(&cps);
    return rc;
}

tn_code audit_checkpoint_now(store *st, const sec_keys *k, int64_t *seq_out, tn_err *e)
{
    int64_t seq = 0;
    unsigned char h[AUDIT_HASH_BYTES];
    bool has = false;
    cp_set cps = {0};
    tn_code rc = store_audit_head(st, &seq, h, &has, e);
    if (rc != TN_OK || !has)
        goto out;
    if ((rc = store_audit_cp_list(st, cp_collect, &cps, e)) != TN_OK)
        goto out;
    if (cps.n == 0 || cps.v[cps.n - 1].seq < seq)
        rc = cp_write(st, k, seq, h, "periodic", 0, NULL, 0, e);
out:
    if (seq_out)
        *seq_out = seq;
    cp_set_free(&cps);
    return rc;
}

/* ---- retention ---------------------------------------------------------- */

typedef struct pstate {
    const cp_copy *old;  /* previous cut or NULL */
    size_t oi;
    unsigned char prev[AUDIT_HASH_BYTES];
    unsigned char head[AUDIT_HASH_BYTES];
    tn_buf kept;
    bool bad;
} pstate;

static int prune_cb(const store_audit_rec *x, void *ctx)
{
    pstate *p = ctx;
    const unsigned char *prev = p->prev;
    if (x->hash_len != AUDIT_HASH_BYTES) {
        p->bad = true;
        return 1;
    }
    if (p->old && x->seq <= p->old->seq) {
        /* An event kept at the previous cut: its predecessor may be gone,
         * so its link comes from that cut's signed list. */
        size_t n = p->old->kept_len / AUDIT_KEPT_ENTRY;
        while (p->oi < n && (int64_t)be_get64(kept_at(p->old, p->oi)) < x->seq)
            p->oi++;
        if (p->oi == n) {
            p->bad = true;
            return 1;
        }
        prev = kept_at(p->old, p->oi) + 8;
    } else {
        memcpy(p->head, x->hash, AUDIT_HASH_BYTES);
    }
    if (x->held) {
        put_u64(&p->kept, (uint64_t)x->seq);
        tn_buf_append(&p->kept, prev, AUDIT_HASH_BYTES);
        tn_buf_append(&p->kept, x->hash, AUDIT_HASH_BYTES);
    }
    if (!(p->old && x->seq <= p->old->seq))
        memcpy(p->prev, x->hash, AUDIT_HASH_BYTES);
    return 0;
}

tn_code audit_prune(store *st, const sec_keys *k, int64_t cut_us, const char *held_on,
                    int64_t *deleted, int64_t *cut_seq, tn_err *e)
{
    *deleted = 0;
    *cut_seq = 0;
    audit_verify_result vr;
    /* Only the seq and hash of the last cut are read here, and only after
     * audit_verify has checked every signature; verifying each
     * checkpoint's signature on a day with nothing to cut cost more than
     * the lifecycle evaluation of the whole registry. */
    cp_set cps = {.pk = NULL};
    pstate p = {0};
    tn_buf_init(&p.kept, 64 * 1024 * 1024);
    /* Decide first whether anything lies before the cut that is not cut
     * already: the daily lifecycle run calls this, and most days there is
     * nothing to do, which must not cost a verification of the whole log. */
    int64_t seq = 0;
    tn_code rc;
    if ((rc = store_audit_cut_seq(st, cut_us, &seq, e)) != TN_OK ||
        (rc = store_audit_cp_list(st, cp_collect, &cps, e)) != TN_OK)
        goto out;
    for (size_t i = 0; i < cps.n; i++)
        if (cps.v[i].is_cut)
            p.old = &cps.v[i];
    int64_t old_seq = p.old ? p.old->seq : 0;
    if (seq <= old_seq)
        goto out; /* nothing before the cut that is not already cut */
    if ((rc = audit_verify(st, k->sign_pk, &vr, e)) != TN_OK)
        goto out;
    if (!vr.ok) {
        rc = tn_err_set(e, TN_ESTATE, NULL,
                        "the audit chain is broken at seq %lld; run tunnus audit verify and "
                        "investigate before pruning",
                        (long long)vr.bad_seq);
        goto out;
    }
    if (p.old)
        memcpy(p.prev, p.old->hash, AUDIT_HASH_BYTES);
    if ((rc = store_audit_scan(st, 1, seq, held_on, prune_cb, &p, e)) != TN_OK)
        goto out;
    if (p.bad || p.kept.toobig) {
        rc = tn_err_set(e, TN_ESTATE, NULL, "the events before the cut cannot be listed");
        goto out;
    }
    if ((rc = store_audit_prune(st, seq, held_on, deleted, e)) != TN_OK)
        goto out;
    rc = cp_write(st, k, seq, p.head, "cut", cut_us, (const unsigned char *)p.kept.data,
                  p.kept.len, e);
    if (rc == TN_OK)
        *cut_seq = seq;
out:
    tn_buf_free(&p.kept);
    cp_set_free(&cps);
    return rc;
}
