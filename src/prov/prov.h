/* prov — provisioning: delivering the registry's persons to connected
 * systems (LDAP directories, file drops; docs/provisioning.md).
 *
 * The service layer (svc_prov.h) owns the outbox, the delivery state and
 * the audit. This layer turns a person's registry facts into the entry a
 * target should hold (prov_entry_build, pure), talks to the target
 * (a connector per type), and runs the delivery loop per target. */
#ifndef PROV_H
#define PROV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "service.h"
#include "svc_prov.h"
#include "tn_err.h"

/* What the target should hold for a person. */
typedef enum prov_want {
    PROV_SKIP = 0,   /* leave the target as it is (nothing to create, or "keep") */
    PROV_PRESENT,    /* an enabled entry */
    PROV_DISABLED,   /* an entry marked disabled (on_close = disable) */
    PROV_ABSENT,     /* no entry: delete what is there */
} prov_want;

#define PROV_ATTRS_MAX 64
#define PROV_VAL_MAX 512
/* Groups per entry: a kind group and a unit group per affiliation in
 * force; more is an error of that entry (prov_entry_build), never a
 * silently shorter list (which would take the person out of a group). */
#define PROV_GROUPS_MAX 32
/* A group's name at the target: [group_prefix]KIND or [group_prefix]
 * and the unit group's cn in the built-in directory ("unit-", a 256-byte
 * code made a slug, at worst "-" and a gidNumber): 63 + 5 + 256 + 11, and
 * the NUL. */
#define PROV_GROUP_NAME_MAX 336
_Static_assert(PROV_GROUP_NAME_MAX <= SVC_PROV_GROUP_NAME_BUFSZ,
               "the registry records every group name a target can have");

typedef struct prov_attr {
    char name[64];
    char value[PROV_VAL_MAX];
} prov_attr;

typedef struct prov_entry {
    prov_want want;
    char id[512];           /* the resource id: a DN (ldap) or the identity number (file) */
    char rdn_value[PROV_VAL_MAX];
    /* Attribute values; a name appearing more than once is multi-valued.
     * Names are those of the map (and the disable attribute), in map order. */
    prov_attr attrs[PROV_ATTRS_MAX];
    size_t nattrs;
    /* Groups the entry belongs to: cn values under group_base (ldap),
     * displayNames (scim: group_prefix and the name); prov_group_name. */
    char groups[PROV_GROUPS_MAX][PROV_GROUP_NAME_MAX];
    size_t ngroups;
} prov_entry;

const char *prov_want_name(prov_want w);

/* The entry target t should hold for subject x at today. Pure. */
tn_code prov_entry_build(const conf_target *t, const svc_prov_subject *x, tn_date today,
                         prov_entry *out, tn_err *e);
/* Expand one template for x: false when a variable used is empty (the
 * attribute is then left out) or unknown (*bad set). */
bool prov_expand(const char *tmpl, const svc_prov_subject *x, tn_date today, char *out,
                 size_t cap, bool *bad);
/* The name of a group at a target: prefix + name (a kind, or a unit
 * group's cn in the built-in directory: svc_prov_subject.unit_cns).
 * false when it does not fit cap: never a shortened name. */
bool prov_group_name(const char *prefix, const char *name, char *out, size_t cap);
/* RFC 4514: value escaped to be an RDN value; false when it does not fit
 * cap (out is then ""). */
bool prov_dn_escape(const char *value, char *out, size_t cap);
/* Check a target's templates name only known variables. */
tn_code prov_target_check(const conf_target *t, tn_err *e);

/* ---- connectors -------------------------------------------------------- */

typedef struct prov_conn prov_conn;

/* The outcome of one delivery. */
typedef enum prov_result {
    PROV_OK = 0,
    PROV_ITEM_FAILED,   /* the target refused this entry: retry it later, park it */
    PROV_TARGET_DOWN,   /* the target cannot be reached: stop, retry the round later */
} prov_result;

prov_conn *prov_conn_new(const conf_target *t);
void prov_conn_free(prov_conn *c);
/* Connect (if not connected). PROV_TARGET_DOWN with msg on failure. */
prov_result prov_conn_open(prov_conn *c, char *msg, size_t cap);
/* Bring the target to e for the person whose recorded resource is
 * (old_id, old_state) ("" when none). On PROV_OK, *res_id and *res_state
 * are what to record (res_id "" = nothing recorded). */
prov_result prov_conn_apply(prov_conn *c, const prov_entry *e, const char *old_id,
                            const char *old_state, char *res_id, size_t res_cap,
                            const char **res_state, char *msg, size_t cap);
/* Make a round's changes durable at the target (the file target writes
 * its files here); PROV_OK when there was nothing to do. */
prov_result prov_conn_commit(prov_conn *c, char *msg, size_t cap);
/* Forget a round's uncommitted changes (file target). */
void prov_conn_abort(prov_conn *c);

/* ---- the delivery loop -------------------------------------------------- */

typedef struct prov_run_stats {
    int64_t delivered, failed, parked, rounds;
    bool target_down;
    char last_error[512];
} prov_run_stats;

/* Deliver what is due to target t until nothing is due (once) or until
 * *stop becomes true; log gets one line per problem. */
tn_code prov_run(svc *s, const conf_target *t, bool once, atomic_bool *stop, FILE *log,
                 prov_run_stats *st, tn_err *e);

/* Worker threads for `tunnus serve`: one per configured target, each with
 * its own registry handle, polling every poll_ms. */
typedef struct prov_workers prov_workers;
tn_code prov_workers_start(const conf *c, FILE *log, unsigned poll_ms, prov_workers **out,
                           tn_err *e);
void prov_workers_stop(prov_workers *w);

/* ---- reconciliation ----------------------------------------------------- */

typedef struct prov_finding {
    const char *kind;     /* missing, orphan, drift */
    char person_id[UUID_BUFSZ];  /* "" for an orphan the registry never recorded */
    char resource_id[512];
    char detail[512];     /* drift: the attributes that differ */
} prov_finding;

typedef void (*prov_finding_cb)(const prov_finding *f, void *ctx);
/* Compare the target with the registry; fix: enqueue corrections through
 * the outbox (audited). *fixed counts the persons enqueued. */
tn_code prov_reconcile(svc *s, const svc_actor *a, const conf_target *t, bool fix,
                       prov_finding_cb cb, void *ctx, int64_t *fixed, tn_err *e);

#endif
