/* store_audit_codec — the canonical encoding of an audit event (format v1,
 * docs/audit.md) and the read log's blocks of encoded events. Both are
 * storage formats: the chain hashes the encoding, the tail file frames it,
 * and the read log keeps it verbatim, so the codec lives with the store. */
#include <string.h>

#include "store.h"
#include "tn_be.h"

#define EVENT_TAG STORE_AUDIT_EVENT_TAG

#define FIELDS(r)                                                                    \
    {                                                                                \
        (r)->actor_kind, (r)->actor_id, (r)->channel, (r)->action, (r)->subject_id, \
            (r)->attrs, (r)->changes, (r)->result, (r)->request_id, (r)->source,     \
            (r)->detail                                                              \
    }

size_t store_audit_encoded_len(const store_audit_row *r)
{
    const char *f[] = FIELDS(r);
    size_t n = sizeof EVENT_TAG + 16;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        n += 4 + (f[i] ? strlen(f[i]) : 0);
    return n;
}

void store_audit_encode_into(int64_t seq, const store_audit_row *r, unsigned char *p)
{
    const char *f[] = FIELDS(r);
    memcpy(p, EVENT_TAG, sizeof EVENT_TAG); /* with its NUL */
    p += sizeof EVENT_TAG;
    be_put64(p, (uint64_t)seq);
    be_put64(p + 8, (uint64_t)r->time_us);
    p += 16;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        /* NULL and "" encode alike: the store keeps some absent values as
         * NULL and others as "", and the distinction carries no meaning. */
        size_t n = f[i] ? strlen(f[i]) : 0;
        be_put32(p, (uint32_t)n);
        p += 4;
        if (n)
            memcpy(p, f[i], n);
        p += n;
    }
}

bool store_audit_encode(int64_t seq, const store_audit_row *r, tn_buf *out)
{
    /* One reservation and direct writes: every read's event is encoded
     * here. */
    size_t n = store_audit_encoded_len(r);
    if (!tn_buf_reserve(out, n))
        return false;
    store_audit_encode_into(seq, r, (unsigned char *)out->data + out->len);
    out->len += n;
    out->data[out->len] = '\0';
    return true;
}

/* The fields in the order store_audit_encode writes them. */
static const char **decode_slot(store_audit_row *r, size_t i)
{
    const char **f[] = {&r->actor_kind, &r->actor_id, &r->channel,    &r->action,
                        &r->subject_id, &r->attrs,    &r->changes,    &r->result,
                        &r->request_id, &r->source,   &r->detail};
    return f[i];
}

bool store_audit_decode(const unsigned char *p, size_t n, int64_t *seq, store_audit_row *r,
                        char *scratch, size_t cap, const char **why)
{
    memset(r, 0, sizeof *r);
    if (n < sizeof EVENT_TAG + 16 || memcmp(p, EVENT_TAG, sizeof EVENT_TAG) != 0) {
        *why = "not an audit event encoding";
        return false;
    }
    size_t off = sizeof EVENT_TAG, used = 0;
    uint64_t s = be_get64(p + off), t = be_get64(p + off + 8);
    off += 16;
    if (s == 0 || s > INT64_MAX || t > INT64_MAX) {
        *why = "sequence number or time out of range";
        return false;
    }
    for (size_t i = 0; i < 11; i++) {
        if (n - off < 4) {
            *why = "field length cut short";
            return false;
        }
        size_t len = be_get32(p + off);
        off += 4;
        if (len > n - off || len >= cap - used) {
            *why = "field longer than the event";
            return false;
        }
        if (memchr(p + off, 0, len)) {
            *why = "field holds a NUL byte";
            return false;
        }
        char *dst = scratch + used;
        memcpy(dst, p + off, len);
        dst[len] = '\0';
        used += len + 1;
        off += len;
        /* As the direct path stores them: absent optional values NULL. */
        bool optional = i == 4 || i == 6 || i == 10;
        *decode_slot(r, i) = optional && len == 0 ? NULL : dst;
    }
    if (off != n) {
        *why = "bytes after the last field";
        return false;
    }
    *seq = (int64_t)s;
    r->time_us = (int64_t)t;
    return true;
}

int store_audit_block_next(const unsigned char *p, size_t n, size_t *off,
                           store_audit_entry *out, const char **why)
{
    size_t at = *off;
    if (at == n)
        return 0;
    if (n - at < 4) {
        *why = "an entry's length is cut short";
        return -1;
    }
    size_t el = be_get32(p + at);
    if (el < sizeof EVENT_TAG + 16 || el > n - at - 4 ||
        n - at - 4 - el < STORE_HASH_BYTES) {
        *why = "an entry's length runs past the block";
        return -1;
    }
    const unsigned char *enc = p + at + 4;
    if (memcmp(enc, EVENT_TAG, sizeof EVENT_TAG) != 0) {
        *why = "an entry is not an audit event encoding";
        return -1;
    }
    uint64_t s = be_get64(enc + sizeof EVENT_TAG), t = be_get64(enc + sizeof EVENT_TAG + 8);
    if (s == 0 || s > INT64_MAX || t > INT64_MAX) {
        *why = "an entry's sequence number or time is out of range";
        return -1;
    }
    out->enc = enc;
    out->len = el;
    out->hash = enc + el;
    out->seq = (int64_t)s;
    out->time_us = (int64_t)t;
    *off = at + 4 + el + STORE_HASH_BYTES;
    return 1;
}

void store_audit_block_add(tn_buf *block, const unsigned char *enc, size_t len,
                           const unsigned char hash[STORE_HASH_BYTES])
{
    if (!tn_buf_reserve(block, 4 + len + STORE_HASH_BYTES))
        return; /* toobig is set */
    unsigned char *p = (unsigned char *)block->data + block->len;
    be_put32(p, (uint32_t)len);
    memcpy(p + 4, enc, len);
    memcpy(p + 4 + len, hash, STORE_HASH_BYTES);
    block->len += 4 + len + STORE_HASH_BYTES;
    block->data[block->len] = '\0';
}

bool store_audit_block_put(tn_buf *block, int64_t seq, const store_audit_row *r,
                           const unsigned char hash[STORE_HASH_BYTES])
{
    size_t n = store_audit_encoded_len(r);
    if (!tn_buf_reserve(block, 4 + n + STORE_HASH_BYTES))
        return false;
    unsigned char *p = (unsigned char *)block->data + block->len;
    be_put32(p, (uint32_t)n);
    store_audit_encode_into(seq, r, p + 4);
    memcpy(p + 4 + n, hash, STORE_HASH_BYTES);
    block->len += 4 + n + STORE_HASH_BYTES;
    block->data[block->len] = '\0';
    return true;
}
