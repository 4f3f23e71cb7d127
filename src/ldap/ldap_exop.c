/* ExtendedRequest (RFC 4511 4.12): WhoAmI (RFC 4532), StartTLS (RFC 4511
 * 4.14) and Password Modify (RFC 3062). Any other request name is not
 * recognised and gets protocolError as the RFC requires. */
#include <string.h>

#include "ldap_int.h"

/* The response goes out in clear; the connection loop then does the
 * handshake before it reads another byte. */
static bool start_tls(ld_sess *ss, const ld_msg *m)
{
    int code = LD_SUCCESS;
    const char *msg = "";
    if (!ss->tls_ctx) {
        code = LD_PROTOCOL_ERROR; /* RFC 4511 4.14.2: TLS not supported */
        msg = "TLS is not configured on this server";
    } else if (ss->ssl) {
        code = LD_OPERATIONS_ERROR;
        msg = "TLS is already established";
    }
    BerElement *out = ld_out_ber(&ss->out);
    if (ber_printf(out, "{it{essts}}", m->msgid, (ber_tag_t)LD_RES_EXTENDED, (ber_int_t)code, "",
                   msg, (ber_tag_t)LD_TAG_EXRES_NAME, LD_OID_STARTTLS) == -1)
        return false;
    if (!ld_sess_flush(ss))
        return false;
    ss->start_tls = code == LD_SUCCESS;
    return true;
}

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
    if (oid.bv_len == strlen(LD_OID_STARTTLS) &&
        memcmp(oid.bv_val, LD_OID_STARTTLS, oid.bv_len) == 0)
        return start_tls(ss, m);
    if (oid.bv_len == strlen(LD_OID_PASSWD_MODIFY) &&
        memcmp(oid.bv_val, LD_OID_PASSWD_MODIFY, oid.bv_len) == 0)
        return ld_op_passwd(ss, m, ber);
    char msg[160];
    snprintf(msg, sizeof msg, "extended operation %.*s is not supported",
             (int)(oid.bv_len > 100 ? 100 : oid.bv_len), oid.bv_val);
    return ld_sess_result(ss, m->msgid, LD_RES_EXTENDED, LD_PROTOCOL_ERROR, "", msg);
}
