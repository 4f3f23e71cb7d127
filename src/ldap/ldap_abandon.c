/* AbandonRequest (RFC 4511 4.11). Operations on a connection run one at a
 * time, so the one named has always finished when this is read; there is
 * nothing to stop and, as the RFC says, no response. A malformed abandon
 * is ignored for the same reason. */
#include "ldap_int.h"

bool ld_op_abandon(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    (void)ss;
    (void)m;
    ber_int_t id;
    (void)ber_scanf(ber, "i", &id);
    return true;
}
