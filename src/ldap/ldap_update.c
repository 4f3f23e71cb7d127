/* Add, modify, delete and modify DN (RFC 4511 4.6-4.9).
 *
 * The tree is the registry's: entries come and go with persons and their
 * relationships, so add, delete and modify DN are refused for everyone
 * (insufficientAccessRights, audited). A modify may change the attributes
 * the bound identity may edit (REG-5: a person's own telephoneNumber and
 * preferredLanguage). The front end folds the request's add, delete and
 * replace steps per attribute into the value it ends with, with RFC 4511's
 * result codes for steps that cannot apply; the service then applies all
 * of them in one transaction, or none. */
#include <stdio.h>
#include <string.h>

#include "ldap_int.h"
#include "tn_str.h"

#define MOD_MAX 16

enum { MOD_ADD = 0, MOD_DELETE = 1, MOD_REPLACE = 2, MOD_INCREMENT = 3 };

typedef struct mod_attr {
    int id;
    bool present;          /* the value it ends with exists */
    char value[256];
} mod_attr;

static bool reply(ld_sess *ss, const ld_msg *m, int code, const char *msg)
{
    return ld_sess_result(ss, m->msgid, LD_RES_MODIFY, code, "", msg);
}

/* The attribute's current value in the entry, as the directory shows it. */
static void current(const dir_entry *d, int id, mod_attr *out)
{
    const char *v = id == LD_A_TELEPHONE ? d->phone : d->language;
    out->present = v[0] != '\0';
    tn_strlcpy(out->value, v, sizeof out->value);
}

/* Apply one change step to *a: an LDAP result code, LD_SUCCESS if it applies. */
static int step(mod_attr *a, int op, const struct berval *vals, int nvals, const char **why)
{
    switch (op) {
    case MOD_ADD:
        if (nvals == 0) {
            *why = "an add needs at least one value";
            return LD_PROTOCOL_ERROR;
        }
        if (a->present) {
            for (int i = 0; i < nvals; i++)
                if (ld_value_equal(a->id, a->value, strlen(a->value), vals[i].bv_val,
                                   vals[i].bv_len)) {
                    *why = "the entry already has this value";
                    return 20; /* attributeOrValueExists */
                }
            *why = "the attribute is single-valued";
            return LD_CONSTRAINT_VIOLATION;
        }
        break;
    case MOD_DELETE:
        if (!a->present) {
            *why = "the entry has no such attribute";
            return LD_NO_SUCH_ATTRIBUTE;
        }
        for (int i = 0; i < nvals; i++)
            if (!ld_value_equal(a->id, a->value, strlen(a->value), vals[i].bv_val,
                                vals[i].bv_len)) {
                *why = "the entry has no such value";
                return LD_NO_SUCH_ATTRIBUTE;
            }
        a->present = false;
        a->value[0] = '\0';
        return LD_SUCCESS;
    case MOD_REPLACE:
        if (nvals == 0) {
            a->present = false;
            a->value[0] = '\0';
            return LD_SUCCESS;
        }
        break;
    default:
        *why = "increment applies only to integer attributes";
        return LD_CONSTRAINT_VIOLATION;
    }
    if (nvals > 1) {
        *why = "the attribute is single-valued";
        return LD_CONSTRAINT_VIOLATION;
    }
    if (vals[0].bv_len == 0 || vals[0].bv_len >= sizeof a->value ||
        memchr(vals[0].bv_val, '\0', vals[0].bv_len)) {
        *why = "invalid value";
        return 21; /* invalidAttributeSyntax */
    }
    memcpy(a->value, vals[0].bv_val, vals[0].bv_len);
    a->value[vals[0].bv_len] = '\0';
    a->present = true;
    return LD_SUCCESS;
}

static bool op_modify(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    struct berval dn;
    ber_len_t len;
    char *last;
    if (ber_scanf(ber, "{m", &dn) == LBER_ERROR || ber_peek_tag(ber, &len) != LBER_SEQUENCE)
        return reply(ss, m, LD_PROTOCOL_ERROR, "malformed modify request");
    char norm[CONF_DN_MAX + 80];
    if (!ld_dn_norm(dn.bv_val, dn.bv_len, norm, sizeof norm))
        return reply(ss, m, LD_INVALID_DN_SYNTAX, "invalid DN");

    /* Decode every change before acting on any: a malformed request
     * changes nothing. */
    struct {
        int op, id, nvals;
        struct berval type, vals[2];
    } ch[MOD_MAX];
    int nch = 0;
    for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
         t = ber_next_element(ber, &len, last)) {
        if (nch == MOD_MAX)
            return reply(ss, m, LD_ADMINLIMIT_EXCEEDED, "too many changes in one request");
        ber_int_t op;
        if (ber_scanf(ber, "{e{m", &op, &ch[nch].type) == LBER_ERROR || op < 0 ||
            op > MOD_INCREMENT || ch[nch].type.bv_len == 0)
            return reply(ss, m, LD_PROTOCOL_ERROR, "malformed change");
        ch[nch].op = op;
        ch[nch].nvals = 0;
        char *vlast;
        ber_len_t vlen;
        if (ber_peek_tag(ber, &vlen) != LBER_SET)
            return reply(ss, m, LD_PROTOCOL_ERROR, "malformed change: values are not a set");
        for (ber_tag_t vt = ber_first_element(ber, &vlen, &vlast); vt != LBER_DEFAULT;
             vt = ber_next_element(ber, &vlen, vlast)) {
            struct berval v;
            if (ber_scanf(ber, "m", &v) == LBER_ERROR)
                return reply(ss, m, LD_PROTOCOL_ERROR, "malformed value");
            if (ch[nch].nvals == 2)
                continue; /* counted as "more than one"; single-valued attributes refuse it */
            ch[nch].vals[ch[nch].nvals++] = v;
        }
        if (ber_scanf(ber, "}}") == LBER_ERROR)
            return reply(ss, m, LD_PROTOCOL_ERROR, "malformed change");
        ch[nch].id = ld_attr_lookup(ch[nch].type.bv_val, ch[nch].type.bv_len);
        nch++;
    }
    if (ber_scanf(ber, "}") == LBER_ERROR)
        return reply(ss, m, LD_PROTOCOL_ERROR, "malformed modify request");

    ld_target tg;
    ld_tree_resolve(ss->tree, norm, &tg);
    if (!tg.found)
        return ld_sess_result(ss, m->msgid, LD_RES_MODIFY, LD_NO_SUCH_OBJECT, tg.matched,
                              "no such entry");
    for (int i = 0; i < nch; i++)
        if (ch[i].id < 0)
            return reply(ss, m, LD_UNDEFINED_TYPE, "unknown attribute type");
    tn_err e;
    tn_err_clear(&e);
    if (tg.kind != LD_E_PERSON) {
        tn_code rc = svc_dir_refuse(ss->s, &ss->actor, "dir.modify", &e);
        return reply(ss, m, ld_code_for(rc), "this entry is maintained by the registry");
    }

    dir_entry d;
    tn_code rc = svc_dir_get(ss->s, &ss->actor, tg.uid, "telephoneNumber preferredLanguage", &d, &e);
    if (rc == TN_ENOTFOUND)
        return ld_sess_result(ss, m->msgid, LD_RES_MODIFY, LD_NO_SUCH_OBJECT,
                              ss->tree->people_dn, "no such entry");
    if (rc != TN_OK)
        return reply(ss, m, ld_code_for(rc), e.msg);

    mod_attr attrs[MOD_MAX];
    int na = 0;
    svc_dir_set sets[MOD_MAX];
    for (int i = 0; i < nch; i++) {
        const char *name = ld_attr_get(ch[i].id)->name;
        mod_attr *a = NULL;
        for (int j = 0; j < na; j++)
            if (attrs[j].id == ch[i].id)
                a = &attrs[j];
        if (!a) {
            a = &attrs[na];
            sets[na].attr = name;
            a->id = ch[i].id;
            if (svc_dir_writable(name))
                current(&d, ch[i].id, a);
            else
                a->present = false, a->value[0] = '\0';
            na++;
        }
        if (!svc_dir_writable(name))
            continue; /* the service refuses it, on record */
        int nv = ch[i].nvals;
        const char *why = "";
        int code = step(a, ch[i].op, ch[i].vals, nv, &why);
        if (code != LD_SUCCESS)
            return reply(ss, m, code, why);
    }
    for (int j = 0; j < na; j++)
        sets[j].value = attrs[j].present ? attrs[j].value : NULL;
    rc = svc_dir_modify(ss->s, &ss->actor, tg.uid, sets, (size_t)na, &e);
    if (rc == TN_OK)
        return reply(ss, m, LD_SUCCESS, "");
    if (rc == TN_EINVAL) {
        char msg[sizeof e.field + sizeof e.msg + 4];
        snprintf(msg, sizeof msg, "%s: %s", e.field[0] ? e.field : "value", e.msg);
        return reply(ss, m, 21 /* invalidAttributeSyntax */, msg);
    }
    if (rc == TN_ENOTFOUND)
        return ld_sess_result(ss, m->msgid, LD_RES_MODIFY, LD_NO_SUCH_OBJECT,
                              ss->tree->people_dn, "no such entry");
    return reply(ss, m, ld_code_for(rc), e.msg);
}

bool ld_op_update(ld_sess *ss, const ld_msg *m, BerElement *ber)
{
    if (m->op == LD_REQ_MODIFY)
        return op_modify(ss, m, ber);
    ber_tag_t res = m->op == LD_REQ_ADD ? LD_RES_ADD
                    : m->op == LD_REQ_DELETE ? LD_RES_DELETE
                                             : LD_RES_MODDN;
    const char *action = m->op == LD_REQ_ADD      ? "dir.add"
                         : m->op == LD_REQ_DELETE ? "dir.delete"
                                                  : "dir.moddn";
    tn_err e;
    tn_err_clear(&e);
    tn_code rc = svc_dir_refuse(ss->s, &ss->actor, action, &e);
    return ld_sess_result(ss, m->msgid, res, ld_code_for(rc), "",
                          "entries are made, removed and renamed by the registry, not over LDAP "
                          "(tunnus person, affiliation and account commands)");
}
