/* svc_internal — what the service modules share (private to src/service). */
#ifndef SVC_INTERNAL_H
#define SVC_INTERNAL_H

#include "audit.h"
#include "sec.h"
#include "service.h"
#include "store.h"

struct svc {
    store *st;
    audit *au;
    sec_keys keys;
    conf cfg;
    tn_date today;
    bool in_batch;
};

/* What an actor wants to do, for svc_authorize. */
typedef enum svc_op {
    SVC_OP_PERSON_READ = 0,
    SVC_OP_PERSON_CREATE,
    SVC_OP_PERSON_WRITE,     /* any attribute */
    SVC_OP_PERSON_SELF_EDIT, /* the self-editable contact attributes */
    SVC_OP_NID_READ,
    SVC_OP_PERSON_LIST,
    SVC_OP_UNIT_READ,
    SVC_OP_UNIT_WRITE,
    SVC_OP_MAX
} svc_op;

/* The one access decision point. subject_id is the person concerned (NULL
 * when none). A denial is audited under `action` and returns TN_EDENIED. */
tn_code svc_authorize(svc *s, const svc_actor *a, svc_op op, const char *subject_id,
                      const char *action, tn_err *e);

/* Fill an audit row's actor fields and the rest of the envelope. */
void svc_audit_row(store_audit_row *r, const svc_actor *a, const char *action,
                   const char *subject_id, const char *attrs, const char *result);

/* Resolve a person selector to the person. */
tn_code svc_resolve_person(svc *s, const char *selector, person *out, tn_err *e);

/* Run body inside a transaction (a savepoint when batched). */
tn_code svc_tx_begin(svc *s, tn_err *e);
tn_code svc_tx_end(svc *s, tn_code rc, tn_err *e);

#endif
