/* Fuzz the read log's block parser (store_audit_block_next and
 * store_audit_decode, store_sqlite_rlblock.c): any bytes are split into
 * entries or rejected with a reason, never a crash or a read past the
 * block; an entry that decodes re-encodes to exactly its bytes, and a
 * block rebuilt from the entries read is the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0, good = 0;
    tn_buf again;
    tn_buf_init(&again, size + 64);
    store_audit_entry en;
    const char *why = NULL;
    int f;
    while ((f = store_audit_block_next(data, size, &off, &en, &why)) == 1) {
        if (off > size || en.enc < data || en.hash + STORE_HASH_BYTES > data + off ||
            en.seq <= 0 || en.time_us < 0)
            __builtin_trap();
        char *scratch = malloc(en.len + 16);
        store_audit_row r;
        int64_t seq = 0;
        if (store_audit_decode(en.enc, en.len, &seq, &r, scratch, en.len + 16, &why)) {
            tn_buf b;
            tn_buf_init(&b, en.len + 64);
            if (seq != en.seq || r.time_us != en.time_us || !store_audit_encode(seq, &r, &b) ||
                b.len != en.len || memcmp(b.data, en.enc, en.len) != 0)
                __builtin_trap();
            tn_buf_free(&b);
        } else if (!why || !why[0]) {
            __builtin_trap();
        }
        free(scratch);
        store_audit_block_add(&again, en.enc, en.len, en.hash);
        good = off;
    }
    if (f == -1 && (!why || !why[0]))
        __builtin_trap(); /* a rejection without a reason is a bug */
    if (f == 0 && off != size)
        __builtin_trap();
    if (again.len != good || (good && memcmp(again.data, data, good) != 0))
        __builtin_trap();
    tn_buf_free(&again);
    return 0;
}
