/* BER framing, the LDAPMessage envelope and response encoding, on liblber.
 *
 * Decoding reads in place: every value is a berval into the PDU buffer
 * ('m' in ber_scanf), and the BerElement is the session's, reinitialised
 * per PDU. Encoding reuses one malloc'd buffer per session, handed to
 * liblber with ber_init2 (liblber grows it with realloc when a response
 * needs more), so steady traffic allocates nothing per request. */
#include <stdlib.h>
#include <string.h>

#include "ldap_int.h"
#include "tn_mem.h"

#define OUT_INITIAL 8192

ld_frame ld_frame_check(const unsigned char *buf, size_t n, size_t max_pdu, size_t *pdu_len)
{
    if (n < 2)
        return n && buf[0] != LBER_SEQUENCE ? LD_FRAME_MALFORMED : LD_FRAME_NEED_MORE;
    if (buf[0] != LBER_SEQUENCE)
        return LD_FRAME_MALFORMED;
    size_t hdr = 2;
    if (buf[1] & 0x80) {
        size_t nlen = buf[1] & 0x7f;
        /* Indefinite lengths are not allowed in LDAP (RFC 4511 5.1). */
        if (nlen == 0 || nlen > 4)
            return LD_FRAME_MALFORMED;
        hdr += nlen;
        if (n < hdr)
            return LD_FRAME_NEED_MORE;
    }
    /* Framing only needs the header (liblber wants the whole element
     * before it decodes a length); the PDU itself is decoded by liblber. */
    size_t len = 0;
    if (buf[1] & 0x80) {
        for (size_t i = 2; i < hdr; i++)
            len = (len << 8) | buf[i];
    } else {
        len = buf[1];
    }
    if (len > max_pdu || hdr + len > max_pdu)
        return LD_FRAME_TOO_BIG;
    if (n < hdr + len)
        return LD_FRAME_NEED_MORE;
    *pdu_len = hdr + len;
    return LD_FRAME_OK;
}

bool ld_msg_decode(BerElement *ber, const unsigned char *pdu, size_t len, ld_msg *out)
{
    memset(out, 0, sizeof *out);
    struct berval bv = {len, (char *)pdu};
    ber_init2(ber, &bv, 0);
    ber_len_t l;
    if (ber_scanf(ber, "{i", &out->msgid) == LBER_ERROR || out->msgid < 0)
        return false;
    /* The protocolOp, kept whole (tag and length too) for its decoder:
     * where it starts and how much skipping it consumed. */
    ber_len_t before = 0, after = 0;
    ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &before);
    out->op = ber_peek_tag(ber, &l);
    if (out->op == LBER_DEFAULT || ber_scanf(ber, "x") == LBER_ERROR)
        return false;
    ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &after);
    out->op_elem.bv_val = (char *)pdu + (len - before);
    out->op_elem.bv_len = before - after;
    ber_tag_t tag = ber_peek_tag(ber, &l);
    if (tag == LD_TAG_CONTROLS) {
        char *last;
        for (tag = ber_first_element(ber, &l, &last); tag != LBER_DEFAULT;
             tag = ber_next_element(ber, &l, last)) {
            if (out->ncontrols == LD_MAX_CONTROLS)
                return false;
            ld_control *c = &out->controls[out->ncontrols++];
            if (ber_scanf(ber, "{m", &c->oid) == LBER_ERROR || c->oid.bv_len == 0)
                return false;
            tag = ber_peek_tag(ber, &l);
            if (tag == LBER_BOOLEAN) {
                ber_int_t b;
                if (ber_scanf(ber, "b", &b) == LBER_ERROR)
                    return false;
                c->critical = b != 0;
                tag = ber_peek_tag(ber, &l);
            }
            if (tag == LBER_OCTETSTRING) {
                if (ber_scanf(ber, "m", &c->value) == LBER_ERROR)
                    return false;
                c->has_value = true;
            }
            if (ber_scanf(ber, "}") == LBER_ERROR)
                return false;
        }
        tag = ber_peek_tag(ber, &l);
    }
    /* Nothing may follow but the end of the message (an unknown trailing
     * element is tolerated by RFC 4511 4.1.1 only inside extensions). */
    return ber_scanf(ber, "}") != LBER_ERROR;
}

void ld_op_begin(BerElement *ber, const ld_msg *m)
{
    struct berval bv = m->op_elem;
    ber_init2(ber, &bv, 0);
}

const ld_control *ld_unsupported_critical(const ld_msg *m)
{
    for (int i = 0; i < m->ncontrols; i++) {
        const ld_control *c = &m->controls[i];
        if (!c->critical)
            continue;
        /* ManageDsaIT asks that referral objects be treated as ordinary
         * entries; this tree has none, so honouring it changes nothing. */
        if (c->oid.bv_len == strlen(LD_OID_MANAGE_DSA_IT) &&
            memcmp(c->oid.bv_val, LD_OID_MANAGE_DSA_IT, c->oid.bv_len) == 0)
            continue;
        if (m->op == LD_REQ_SEARCH && c->oid.bv_len == strlen(LD_OID_PAGED_RESULTS) &&
            memcmp(c->oid.bv_val, LD_OID_PAGED_RESULTS, c->oid.bv_len) == 0)
            continue;
        return c;
    }
    return NULL;
}

void ld_out_init(ld_out *o)
{
    o->ber = ber_alloc_t(LBER_USE_DER);
    if (!o->ber)
        abort();
    o->cap = OUT_INITIAL;
    o->buf = tn_malloc(o->cap);
    o->open = false;
}

void ld_out_free(ld_out *o)
{
    if (o->ber)
        ber_free(o->ber, 0);
    o->ber = NULL;
    free(o->buf);
    o->buf = NULL;
}

BerElement *ld_out_ber(ld_out *o)
{
    if (!o->open) {
        /* One byte short: ber_flatten2 terminates the data with a NUL. */
        struct berval bv = {o->cap - 1, o->buf};
        ber_init2(o->ber, &bv, LBER_USE_DER);
        o->open = true;
    }
    return o->ber;
}

bool ld_out_take(ld_out *o, struct berval *bv)
{
    if (!o->open) {
        bv->bv_len = 0;
        bv->bv_val = o->buf;
        return true;
    }
    o->open = false;
    if (ber_flatten2(o->ber, bv, 0) != 0) {
        /* Only an unbalanced encoding fails here, and liblber then keeps
         * its buffer to itself: start a fresh one (the session closes). */
        o->cap = OUT_INITIAL;
        o->buf = tn_malloc(o->cap);
        return false;
    }
    /* liblber may have moved the buffer while growing it; it stays ours,
     * at least as large as what it holds. */
    o->buf = bv->bv_val;
    if (bv->bv_len + 1 > o->cap)
        o->cap = bv->bv_len + 1;
    return true;
}

bool ld_put_result(ld_out *o, ber_int_t msgid, ber_tag_t tag, int code, const char *matched,
                   const char *msg)
{
    BerElement *ber = ld_out_ber(o);
    return ber_printf(ber, "{it{ess}}", msgid, tag, (ber_int_t)code, matched ? matched : "",
                      msg ? msg : "") != -1;
}
