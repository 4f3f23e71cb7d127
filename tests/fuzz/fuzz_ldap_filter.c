/* Fuzz the search filter parser and evaluator: any bytes parsed as a BER
 * Filter with a depth cap; a parsed filter is evaluated against a person
 * entry and the fixed entries, and its uid index key extracted. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One spare byte: liblber NUL-terminates strings in place (see
     * ldap_conn.c), the last one just past the data. */
    unsigned char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    BerElement *ber = ber_alloc_t(0);
    struct berval bv = {size, (char *)buf};
    ber_init2(ber, &bv, 0);
    ld_arena a;
    ld_arena_init(&a, 1 << 20);
    bool deep = false;
    ld_filter *f = ld_filter_parse(ber, &a, 16, &deep);
    if (f) {
        static ld_tree t;
        static dir_entry d;
        if (!t.base[0]) {
            conf c;
            conf_defaults(&c);
            assert(ld_tree_init(&t, &c));
            strcpy(d.username, "maija");
            strcpy(d.given_names, "Maija Liisa");
            strcpy(d.family_name, "Meikäläinen");
            strcpy(d.phone, "+358401234567");
            strcpy(d.person_id, "01a1fec3-7b8c-7674-985b-da1fb7a72181");
            strcpy(d.affs, "staff\x1fHR\x1fKirjuri\x1estudent\x1f\x1f");
            d.state = ASTATE_ACTIVE;
            d.uid_number = 10000;
            d.person_number = 1;
        }
        strcpy(d.groups, "staff\x1eunit-hr");
        for (int k = LD_E_ROOTDSE; k <= LD_E_GROUPS; k++) {
            ld_view v = {(ld_ekind)k, &d, &t, NULL};
            ld_tri r = ld_filter_eval(f, &v);
            assert(r == LD_TRUE || r == LD_FALSE || r == LD_UNDEF);
        }
        /* A group with two members (member and memberUid are evaluated
         * from the list, not from ld_vals). */
        static char members[] = "maija\0teppo";
        dir_group g;
        memset(&g, 0, sizeof g);
        g.gid_number = 1000000000;
        strcpy(g.gtype, "class");
        strcpy(g.v1, "03022 Ylikylän koulu");
        strcpy(g.v2, "9B");
        strcpy(g.cn, "class-03022-ylikylän-koulu-9b");
        g.members = members;
        g.members_len = sizeof members;
        g.nmembers = 2;
        ld_view gv = {LD_E_GROUP, NULL, &t, &g};
        ld_tri gr = ld_filter_eval(f, &gv);
        assert(gr == LD_TRUE || gr == LD_FALSE || gr == LD_UNDEF);
        char cn[DIR_GROUP_VAL_MAX];
        (void)ld_filter_cn(f, cn, sizeof cn);
        (void)ld_filter_mentions(f, LD_A_MEMBEROF);
        char uid[USERNAME_BUFSZ];
        if (ld_filter_uid(f, uid, sizeof uid))
            assert(strlen(uid) < sizeof uid);
    }
    ld_arena_free(&a);
    ber_free(ber, 0);
    free(buf);
    return 0;
}
