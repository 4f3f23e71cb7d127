/* The simple paged results control (RFC 2696): decoding the request
 * control, the session's cookie and encoding the response control on
 * SearchResultDone. How a page resumes is ldap_search.c's. */
#include <string.h>
#include <sys/random.h>

#include "ldap_int.h"

bool ld_paged_get(const ld_msg *m, ld_paged *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < m->ncontrols; i++) {
        const ld_control *c = &m->controls[i];
        if (c->oid.bv_len != strlen(LD_OID_PAGED_RESULTS) ||
            memcmp(c->oid.bv_val, LD_OID_PAGED_RESULTS, c->oid.bv_len) != 0)
            continue;
        if (out->present || !c->has_value)
            return false;
        out->present = true;
        out->critical = c->critical;
        struct berval v = c->value;
        BerElement *ber = ber_init(&v);
        if (!ber)
            return false;
        ber_int_t size;
        struct berval ck = {0, NULL};
        bool ok = ber_scanf(ber, "{im}", &size, &ck) != LBER_ERROR && size >= 0 &&
                  ck.bv_len <= LD_COOKIE_LEN;
        if (ok) {
            out->size = size;
            out->cookie_len = ck.bv_len;
            if (ck.bv_len)
                memcpy(out->cookie, ck.bv_val, ck.bv_len);
        }
        ber_free(ber, 1);
        if (!ok)
            return false;
    }
    return true;
}

void ld_paged_new_cookie(ld_page *pg)
{
    size_t got = 0;
    while (got < LD_COOKIE_LEN) {
        ssize_t n = getrandom(pg->cookie + got, LD_COOKIE_LEN - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
}

uint64_t ld_paged_req_hash(const ld_msg *m)
{
    /* FNV-1a: not a security boundary (the cookie is random and stays on
     * its connection), only a check that the client continues the same search. */
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)m->op_elem.bv_val;
    for (ber_len_t i = 0; i < m->op_elem.bv_len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

bool ld_put_done_paged(ld_out *o, ber_int_t msgid, int code, const char *msg,
                       const unsigned char *cookie, size_t cookie_len)
{
    /* The control value is its own BER encoding, wrapped in an OCTET STRING. */
    BerElement *cv = ber_alloc_t(LBER_USE_DER);
    if (!cv)
        return false;
    struct berval val;
    bool ok = ber_printf(cv, "{io}", (ber_int_t)0, cookie_len ? (const char *)cookie : "",
                         (ber_len_t)cookie_len) !=
                  -1 &&
              ber_flatten2(cv, &val, 0) == 0;
    if (ok) {
        BerElement *ber = ld_out_ber(o);
        ok = ber_printf(ber, "{it{ess}t{{so}}}", msgid, (ber_tag_t)LD_RES_SEARCH_DONE,
                        (ber_int_t)code, "", msg ? msg : "", (ber_tag_t)LD_TAG_CONTROLS,
                        LD_OID_PAGED_RESULTS, val.bv_val, val.bv_len) != -1;
    }
    ber_free(cv, 1);
    return ok;
}
