/* ExtendedRequest (RFC 4511 4.12): WhoAmI (RFC 4532). Any other request
 * name, StartTLS and Password Modify included for now, is not recognised
 * and gets protocolError as the RFC requires. */
#include <string.h>

#include "ldap_int.h"

bool ld_op_extended(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    struct berval oid;
    if (ber_scanf(ber, "{m", &oid) == LBER_ERROR)
        return ld_sess_result(ss, m->msgid, LD_RES_EXTENDED, LD_PROTOCOL_ERROR, "",
                              "malformed extended request");
    if (oid.bv_len == strlen(LD_OID_WHOAMI) && memcmp(oid.bv_val, LD_OID_WHOAMI, oid.bv_len) == 0) {
        BerElement *out = ld_out_ber(&ss->out);
        if (ber_printf(out, "{it{essto}}", m->msgid, (ber_tag_t)LD_RES_EXTENDED,
                       (ber_int_t)LD_SUCCESS, "", "", (ber_tag_t)LD_TAG_EXRES_VALUE, ss->authz,
                       (ber_len_t)strlen(ss->authz)) == -1)
            return false;
        return ld_sess_flush(ss);
    }
    char msg[160];
    snprintf(msg, sizeof msg, "extended operation %.*s is not supported",
             (int)(oid.bv_len > 100 ? 100 : oid.bv_len), oid.bv_val);
    return ld_sess_result(ss, m->msgid, LD_RES_EXTENDED, LD_PROTOCOL_ERROR, "", msg);
}
