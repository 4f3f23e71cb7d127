/* svc_internal — what the service modules share (private to src/service). */
#ifndef SVC_INTERNAL_H
#define SVC_INTERNAL_H

#include "audit.h"
#include "sec.h"
#include "service.h"
#include "store.h"
#include "tn_buf.h"

/* An API client found by its token hash in an earlier request, with the
 * source addresses it was known to have used, valid while the registry's
 * data version (store_data_version) is the one it was read under: then
 * the rows are exactly what the lookups would return again. */
#define SVC_CLIENT_MEMOS 4
#define SVC_CLIENT_MEMO_SOURCES 4
typedef struct svc_client_memo {
    uint64_t version; /* 0: empty */
    unsigned char hash[STORE_HASH_BYTES];
    store_api_client c;
    char sources[SVC_CLIENT_MEMO_SOURCES][64];
    unsigned nsources;
} svc_client_memo;

struct svc {
    store *st;
    audit *au;
    sec_keys keys;
    conf cfg;
    tn_date today;
    bool in_batch;
    store *rl;            /* the read log (svc_readlog.c); NULL if it cannot be opened */
    char rl_broken[4400]; /* why reads cannot be audited ("" if they can) */
    svc_client_memo memo[SVC_CLIENT_MEMOS]; /* svc_client.c */
    unsigned memo_next;
};

/* svc_readlog.c: the read log's path, and opening it at svc_open. */
void svc_readlog_path(const char *registry, char *out, size_t cap);
tn_code svc_readlog_open(svc *s, const char *registry, tn_err *e);

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
    SVC_OP_AUDIT_ADMIN,      /* verify, export, prune the audit trail */
    SVC_OP_LIFECYCLE,        /* policies, plans and runs over every person */
    SVC_OP_REPORT,           /* AU-4 reports over every account */
    SVC_OP_AUDIT_SELF,       /* a person's own audit report (persons only) */
    SVC_OP_DIR_READ,         /* the directory's published attributes (svc_dir.c) */
    SVC_OP_PASSWORD_RESET,   /* set another person's password (helpdesk) */
    SVC_OP_HOLD,             /* place a legal hold */
    SVC_OP_ERASE,            /* erase a person's data on request (no function yet) */
    SVC_OP_IMPORT,           /* feed imports, their runs and the review queue */
    SVC_OP_ROLE_ADMIN,       /* grant and revoke roles */
    SVC_OP_ROLE_READ,        /* list role grants */
    SVC_OP_AUDIT_SUBJECT,    /* who read or changed a person's data (AU-2) */
    SVC_OP_AUDIT_MAINT,      /* index, checkpoint and prune the audit trail */
    SVC_OP_ERROR_REPORT,     /* file an error report about a person's data (PR-4) */
    SVC_OP_PASSWORD_CHANGE,  /* a person changes their own password (persons only) */
    SVC_OP_CLIENT_ADMIN,     /* create, rotate, revoke API clients (svc_client.c) */
    SVC_OP_MAX
} svc_op;

/* The one access decision point. subject_id is the person concerned (NULL
 * when none). A denial is audited under `action` and returns TN_EDENIED. */
/* Record a denied attempt (AU-1) and return TN_EDENIED with a message
 * naming the actor and the action; why goes into the event's detail. */
tn_code svc_deny(svc *s, const svc_actor *a, const char *subject_id, const char *action,
                 const char *why, tn_err *e);
tn_code svc_authorize(svc *s, const svc_actor *a, svc_op op, const char *subject_id,
                      const char *action, tn_err *e);

/* The same for an operation on the persons of an org unit (a list with a
 * unit filter): unit-scoped roles may when unit_code is in their subtree. */
tn_code svc_authorize_unit(svc *s, const svc_actor *a, svc_op op, const char *unit_code,
                           const char *action, tn_err *e);

/* Fill an audit row's actor fields and the rest of the envelope. */
void svc_audit_row(store_audit_row *r, const svc_actor *a, const char *action,
                   const char *subject_id, const char *attrs, const char *result);

/* Resolve a person selector to the person. */
tn_code svc_resolve_person(svc *s, const char *selector, person *out, tn_err *e);

/* A change record for an audit event (svc_changes.c). */
typedef struct svc_changes {
    tn_buf json;        /* the JSON object, "{" … */
    tn_buf names;       /* attribute names, comma-separated */
    const char *prefix; /* put before each name ("affiliation.") when one
                           event records changes to several objects */
} svc_changes;

void svc_changes_init(svc_changes *c);
void svc_changes_free(svc_changes *c);
void svc_changes_add(svc_changes *c, const char *attr, const char *old, const char *new_);
void svc_changes_add_secret(svc_changes *c, const char *attr, bool had, bool has);
void svc_changes_add_date(svc_changes *c, const char *attr, tn_date old, tn_date new_);
void svc_changes_add_i64(svc_changes *c, const char *attr, int64_t v);
bool svc_changes_empty(const svc_changes *c);
/* Close the record and write the event in the current transaction. */
tn_code svc_changes_write(svc *s, const svc_actor *a, const char *action, const char *subject_id,
                          svc_changes *c, tn_err *e);

/* Building blocks that do their work inside the caller's transaction and
 * record what they changed into ch; the public use cases authorise, open
 * the transaction and write the one audit event around them. */
tn_code svc_person_create_tx(svc *s, const person_input *in, person *out, svc_changes *ch,
                             tn_err *e);
tn_code svc_aff_create_tx(svc *s, const person *p, const svc_aff_input *in, affiliation *out,
                          svc_changes *ch, tn_err *e);
tn_code svc_account_create_tx(svc *s, const person *p, const char *username, account *out,
                              svc_changes *ch, tn_err *e);
/* A further account for a person whose earlier accounts are sealed: a new
 * generated username and address (the old ones stay theirs, reserved). */
tn_code svc_account_create_another_tx(svc *s, const person *p, account *out, svc_changes *ch,
                                      tn_err *e);
/* Feed imports (svc_import.c): apply the attributes given in `in` (never
 * the national ID or birth date) and write the person only if one
 * changed; *changed says so. */
tn_code svc_person_sync_tx(svc *s, person *p, const person_input *in, svc_changes *ch,
                           bool *changed, tn_err *e);
/* Record a person's death date (feed rows ending with end_reason death);
 * a date already recorded is kept. *changed says whether it was written. */
tn_code svc_person_record_death_tx(svc *s, person *p, tn_date date, svc_changes *ch,
                                   bool *changed, tn_err *e);
/* Give a person recorded without a national ID one (a feed row carrying
 * the ID for a key already known); refused if another person has it or
 * the recorded birth date differs from the ID's. */
tn_code svc_person_attach_nid_tx(svc *s, person *p, const char *national_id, svc_changes *ch,
                                 tn_err *e);
/* Create (old NULL) or bring an affiliation to `want` (an affiliation of
 * the same person and key): validated, written and recorded in ch only
 * when something differs. */
tn_code svc_aff_sync_tx(svc *s, const affiliation *old, affiliation *want, svc_changes *ch,
                        bool *changed, tn_err *e);

/* Today's date by the system clock in the local time zone, whatever
 * --as-of says: for rules about the real age of records (audit retention). */
tn_date svc_clock_today(void);

/* Run body inside a transaction (a savepoint when batched). */
tn_code svc_tx_begin(svc *s, tn_err *e);
tn_code svc_tx_end(svc *s, tn_code rc, tn_err *e);

#endif
