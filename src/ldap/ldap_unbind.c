/* UnbindRequest (RFC 4511 4.3): no response; the connection closes. */
#include "ldap_int.h"

bool ld_op_unbind(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    (void)m;
    (void)ber;
    ss->closing = true;
    return true;
}
