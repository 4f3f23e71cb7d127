/* CompareRequest (RFC 4511 4.10): equality of one value with the
 * attribute's matching rule. A person's entry is read through the service
 * (access check and audit) like a search. */
#include <string.h>

#include "ldap_int.h"

static bool reply(ld_sess *ss, const ld_msg *m, int code, const char *matched, const char *msg)
{
    return ld_sess_result(ss, m->msgid, LD_RES_COMPARE, code, matched, msg);
}

bool ld_op_compare(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    struct berval dn, type, value;
    if (ber_scanf(ber, "{m{mm}}", &dn, &type, &value) == LBER_ERROR || type.bv_len == 0)
        return reply(ss, m, LD_PROTOCOL_ERROR, "", "malformed compare request");
    char norm[CONF_DN_MAX + 80];
    if (!ld_dn_norm(dn.bv_val, dn.bv_len, norm, sizeof norm))
        return reply(ss, m, LD_INVALID_DN_SYNTAX, "", "invalid DN");
    ld_target tg;
    ld_tree_resolve(ss->tree, norm, &tg);
    if (!tg.found)
        return reply(ss, m, LD_NO_SUCH_OBJECT, tg.matched, "no such entry");
    int id = ld_attr_lookup(type.bv_val, type.bv_len);
    if (id < 0)
        return reply(ss, m, LD_UNDEFINED_TYPE, "", "unknown attribute type");
    tn_err e;
    tn_err_clear(&e);
    dir_entry d;
    ld_view v = {tg.kind, NULL, ss->tree, NULL};
    if (tg.kind == LD_E_PERSON) {
        tn_code rc = svc_dir_get(ss->s, &ss->actor, tg.uid, ld_attr_get(id)->name, &d, &e);
        if (rc == TN_ENOTFOUND)
            return reply(ss, m, LD_NO_SUCH_OBJECT, ss->tree->people_dn, "no such entry");
        if (rc != TN_OK)
            return reply(ss, m, ld_code_for(rc), "", e.msg);
        if (id == LD_A_MEMBEROF && (rc = svc_dir_member_of(ss->s, &ss->actor, &d, &e)) != TN_OK)
            return reply(ss, m, ld_code_for(rc), "", e.msg);
        v.d = &d;
    } else if (tg.kind == LD_E_GROUP) {
        dir_group g;
        tn_code rc = svc_dir_group_get(ss->s, &ss->actor, tg.cn, ld_attr_get(id)->name, &g, &e);
        if (rc == TN_ENOTFOUND)
            return reply(ss, m, LD_NO_SUCH_OBJECT, ss->tree->groups_dn, "no such entry");
        if (rc != TN_OK)
            return reply(ss, m, ld_code_for(rc), "", e.msg);
        v.g = &g;
        int code = LD_NO_SUCH_ATTRIBUTE;
        if (id == LD_A_MEMBER || id == LD_A_MEMBERUID) {
            /* Every member, not only the first LD_MAX_VALS. */
            ld_filter f;
            memset(&f, 0, sizeof f);
            f.kind = LD_F_EQ;
            f.attr = id;
            f.value = value;
            code = g.nmembers == 0 ? LD_NO_SUCH_ATTRIBUTE
                   : ld_group_eval_members(&f, &v) == LD_TRUE ? LD_COMPARE_TRUE
                                                              : LD_COMPARE_FALSE;
        } else {
            ld_vals gv;
            ld_values(&v, id, &gv);
            if (gv.n > 0)
                code = LD_COMPARE_FALSE;
            for (int i = 0; i < gv.n; i++)
                if (ld_value_equal(id, gv.v[i], gv.len[i], value.bv_val, value.bv_len))
                    code = LD_COMPARE_TRUE;
        }
        svc_dir_group_free(&g);
        return reply(ss, m, code, "", code == LD_NO_SUCH_ATTRIBUTE ? "the entry has no such attribute" : "");
    } else if (tg.kind != LD_E_ROOTDSE && tg.kind != LD_E_SUBSCHEMA &&
               svc_dir_may_search(ss->s, &ss->actor, &e) != TN_OK) {
        return reply(ss, m, LD_INSUFFICIENT_ACCESS, "", "not permitted");
    }
    ld_vals vals;
    ld_values(&v, id, &vals);
    if (vals.n == 0)
        return reply(ss, m, LD_NO_SUCH_ATTRIBUTE, "", "the entry has no such attribute");
    for (int i = 0; i < vals.n; i++)
        if (ld_value_equal(id, vals.v[i], vals.len[i], value.bv_val, value.bv_len))
            return reply(ss, m, LD_COMPARE_TRUE, "", "");
    return reply(ss, m, LD_COMPARE_FALSE, "", "");
}
