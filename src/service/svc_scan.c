/* The person scan behind filtered SCIM lists (svc_client.h): the caller's
 * filter sees each person whole; what it picks is shown (and audited)
 * through svc_person_show. */
#include <stdlib.h>
#include <string.h>

#include "svc_client.h"
#include "svc_internal.h"

struct scan_ctx {
    svc *s;
    svc_scan_fn fn;
    void *ctx;
    tn_err *e;
    tn_code rc;
};

static int scan_one(const person *p, void *vctx)
{
    struct scan_ctx *sc = vctx;
    svc_person_view v;
    memset(&v, 0, sizeof v);
    v.p = *p;
    if ((sc->rc = store_aff_list_by_person(sc->s->st, p->id, &v.affs, &v.naffs, sc->e)) != TN_OK ||
        (sc->rc = store_account_list_by_person(sc->s->st, p->id, &v.accts, &v.naccts, sc->e)) !=
            TN_OK) {
        svc_person_view_free(&v);
        return 1;
    }
    int stop = sc->fn(&v, sc->ctx);
    svc_person_view_free(&v);
    return stop;
}

tn_code svc_person_scan(svc *s, const svc_actor *a, const svc_person_query *q, svc_scan_fn fn,
                        void *ctx, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_PERSON_LIST, NULL, "person.list", e);
    if (rc != TN_OK)
        return rc;
    store_person_filter f = {
        .state = -1,
        .kind = q->kind,
        .org_unit = q->org_unit,
        .name = q->name,
        .after_number = q->after_number,
        .limit = q->limit,
    };
    struct scan_ctx sc = {s, fn, ctx, e, TN_OK};
    rc = store_person_list(s->st, &f, scan_one, &sc, e);
    return rc == TN_OK ? sc.rc : rc;
}

tn_code svc_dir_group_member_ids(svc *s, const svc_actor *a, const dir_group *g,
                                 char (*ids)[UUID_BUFSZ], tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_DIR_READ, NULL, "dir.read", e);
    if (rc != TN_OK)
        return rc;
    size_t off = 0;
    for (int64_t i = 0; i < g->nmembers && off < g->members_len; i++) {
        const char *uname = g->members + off;
        person p;
        tn_err ignored;
        ids[i][0] = '\0';
        if (store_person_get_by_username(s->st, uname, &p, &ignored) == TN_OK)
            memcpy(ids[i], p.id, UUID_BUFSZ);
        off += strlen(uname) + 1;
    }
    return TN_OK;
}
