/* Add, modify, delete and modify DN (RFC 4511 4.6-4.9): the directory is
 * read-only over LDAP in this release. Each gets its own response type
 * with unwillingToPerform and says where changes are made. */
#include "ldap_int.h"

bool ld_op_update(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    (void)ber;
    ber_tag_t res = m->op == LD_REQ_ADD      ? LD_RES_ADD
                    : m->op == LD_REQ_DELETE ? LD_RES_DELETE
                    : m->op == LD_REQ_MODDN  ? LD_RES_MODDN
                                             : LD_RES_MODIFY;
    return ld_sess_result(ss, m->msgid, res, LD_UNWILLING_TO_PERFORM, "",
                          "the directory is read-only over LDAP; changes are made in the "
                          "registry (tunnus person/account commands)");
}
