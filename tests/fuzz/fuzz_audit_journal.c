/* Fuzz the read log's tail-file parser (audit_journal_frame and
 * store_audit_decode): any bytes are split into frames or rejected with a
 * reason, never a crash; a frame whose encoding decodes re-encodes to
 * exactly the same bytes (the hash covers those bytes, so a parse that
 * loses or invents anything would break the chain unseen). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit_journal.h"
#include "tn_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    char *scratch = malloc(AUDIT_JOURNAL_MAX_ENC + 16);
    while (off < size) {
        size_t len = 0, el = 0;
        int64_t seq = 0;
        const unsigned char *enc = NULL, *hash = NULL;
        const char *why = NULL;
        int f = audit_journal_frame(data + off, size - off, &len, &seq, &enc, &el, &hash, &why);
        if (f == -1 && (!why || !why[0]))
            __builtin_trap(); /* a rejection without a reason is a bug */
        if (f != 1)
            break;
        if (len > size - off || seq <= 0 || el == 0)
            __builtin_trap();
        store_audit_row r;
        int64_t eseq = 0;
        if (store_audit_decode(enc, el, &eseq, &r, scratch, el + 16, &why)) {
            tn_buf b;
            tn_buf_init(&b, AUDIT_JOURNAL_MAX_ENC + 64);
            if (!store_audit_encode(eseq, &r, &b) || b.len != el || memcmp(b.data, enc, el) != 0)
                __builtin_trap();
            tn_buf_free(&b);
        } else if (!why || !why[0]) {
            __builtin_trap();
        }
        off += len;
    }
    free(scratch);
    return 0;
}
