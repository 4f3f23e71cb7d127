/* Fuzz the LDAP PDU decoder: framing with a small PDU cap, the message
 * envelope and controls, and the request decoders that run before any
 * registry access (bind, search with its filter and attribute list,
 * compare, extended) and the paged-results control. No crash, no read outside the input. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void search_fields(BerElement *ber, ld_arena *a)
{
    struct berval base;
    ber_int_t scope, deref, sz, tl, to;
    if (ber_scanf(ber, "{meeiib", &base, &scope, &deref, &sz, &tl, &to) == LBER_ERROR)
        return;
    bool deep;
    if (!ld_filter_parse(ber, a, 32, &deep))
        return;
    ber_len_t len;
    char *last;
    for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
         t = ber_next_element(ber, &len, last)) {
        struct berval at;
        if (ber_scanf(ber, "m", &at) == LBER_ERROR)
            return;
        (void)ld_attr_lookup(at.bv_val, at.bv_len);
    }
    char norm[512];
    (void)ld_dn_norm(base.bv_val, base.bv_len, norm, sizeof norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, exactly sized, so that ASan sees any overread. */
    /* One spare byte: liblber NUL-terminates strings in place (see
     * ldap_conn.c), the last one just past the data. */
    unsigned char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    BerElement *ber = ber_alloc_t(0);
    ld_arena a;
    ld_arena_init(&a, 1 << 20);
    size_t off = 0;
    while (off < size) {
        size_t plen = 0;
        ld_frame fr = ld_frame_check(buf + off, size - off, 4096, &plen);
        if (fr != LD_FRAME_OK)
            break;
        assert(plen > 0 && plen <= size - off);
        unsigned char after = buf[off + plen];
        ld_msg m;
        if (ld_msg_decode(ber, buf + off, plen, &m)) {
            assert(m.ncontrols <= LD_MAX_CONTROLS);
            (void)ld_unsupported_critical(&m);
            ld_paged pg;
            (void)ld_paged_get(&m, &pg);
            ld_op_begin(ber, &m);
            struct berval x, y, z;
            ber_int_t v;
            switch (m.op) {
            case LD_REQ_SEARCH:
                search_fields(ber, &a);
                break;
            case LD_REQ_BIND:
                (void)ber_scanf(ber, "{imm}", &v, &x, &y);
                break;
            case LD_REQ_COMPARE:
                (void)ber_scanf(ber, "{m{mm}}", &x, &y, &z);
                break;
            case LD_REQ_EXTENDED:
                (void)ber_scanf(ber, "{m", &x);
                break;
            default:
                break;
            }
        }
        ld_arena_reset(&a);
        buf[off + plen] = after;
        off += plen;
    }
    ld_arena_free(&a);
    ber_free(ber, 0);
    free(buf);
    return 0;
}
