/* svc_prov — the provisioning use cases (docs/provisioning.md): what the
 * workers in src/prov read from the registry and record about delivery.
 *
 * The outbox holds "sync this person" intents; a target folds them into
 * its pending set (svc_prov_ingest), takes the due items (svc_prov_due),
 * reads what the person should look like there (svc_prov_subject_get),
 * and records the outcome (svc_prov_delivered / svc_prov_failed). Each
 * outcome is audited: the delivery is the read of the person's data that
 * left the registry, and the record of the resource it created. */
#ifndef SVC_PROV_H
#define SVC_PROV_H

#include <stdbool.h>
#include <stdint.h>

#include "dir_entry.h"
#include "model.h"
#include "service.h"

typedef struct svc_prov_item {
    int64_t id;
    char target[33];
    char person_id[UUID_BUFSZ];
    int64_t last_outbox_id;
    int64_t attempts;
    bool parked;
    char last_error[512];
} svc_prov_item;

/* The registry's facts about one person that a target's entry derives
 * from, and what the target is recorded to hold. */
typedef struct svc_prov_subject {
    char person_id[UUID_BUFSZ];
    bool exists;                 /* false: no such person (never, or gone) */
    person p;
    bool purged;                 /* the lifecycle purged their resources */
    bool has_account;
    account acct;                /* the newest account */
    affiliation *affs;           /* every affiliation still recorded */
    size_t naffs;
    /* Per affiliation (parallel to affs; NULL when naffs is 0): the cn of
     * its org unit's group in the built-in directory (dir_group,
     * docs/ldap.md), "" without an org unit. A target's unit groups take
     * the same name, so a group is called the same everywhere. */
    char (*unit_cns)[DIR_GROUP_VAL_MAX];
    /* Likewise the cn of the affiliation's school group and class group
     * ("" without a school, or without a class). */
    char (*school_cns)[DIR_GROUP_VAL_MAX];
    char (*class_cns)[DIR_GROUP_VAL_MAX];
    char handover_uid[USERNAME_BUFSZ]; /* while a handover grant runs: the grantee's username */
    bool has_resource;
    char resource_id[512];
    char resource_state[16];     /* present, disabled, deleted */
} svc_prov_subject;

typedef struct svc_prov_counts {
    bool started;
    int64_t pending, parked, due, delivered, last_success_at, cursor, outbox_max, resources;
} svc_prov_counts;

typedef struct svc_prov_resource {
    char person_id[UUID_BUFSZ];
    char resource_id[512];
    char state[16];
    int64_t created_at, updated_at;
} svc_prov_resource;

/* A group the target holds for tunnus: its name there (a SCIM
 * displayName) and the id the target assigned. */
#define SVC_PROV_GROUP_NAME_BUFSZ 336 /* PROV_GROUP_NAME_MAX: a unit group's name */
typedef struct svc_prov_group {
    char name[SVC_PROV_GROUP_NAME_BUFSZ];
    char resource_id[512];
} svc_prov_group;
typedef int (*svc_prov_group_cb)(const svc_prov_group *g, void *ctx);

/* The actor of a provisioning worker. */
void svc_prov_actor(svc_actor *a, const char *target);

/* Fold new outbox rows into the target's pending set (at most max);
 * a new target starts with every person. */
tn_code svc_prov_ingest(svc *s, const svc_actor *a, const char *target, int64_t max,
                        int64_t *added, tn_err *e);
/* Due items, oldest change first; free *out. */
tn_code svc_prov_due(svc *s, const svc_actor *a, const char *target, int64_t max,
                     svc_prov_item **out, size_t *n, tn_err *e);
tn_code svc_prov_parked(svc *s, const svc_actor *a, const char *target, svc_prov_item **out,
                        size_t *n, tn_err *e);
/* What the person looks like now, for target. Free with
 * svc_prov_subject_free. Not audited by itself: the delivery is. */
tn_code svc_prov_subject_get(svc *s, const svc_actor *a, const char *target,
                             const char *person_id, svc_prov_subject *out, tn_err *e);
void svc_prov_subject_free(svc_prov_subject *x);
/* Record a delivery: resource_id NULL when the target holds nothing for
 * the person and never did; state present, disabled or deleted; attrs
 * names what was sent. *finished false: a newer change came meanwhile. */
tn_code svc_prov_delivered(svc *s, const svc_actor *a, const char *target,
                           const svc_prov_item *it, const char *resource_id, const char *state,
                           const char *attrs, bool *finished, tn_err *e);
/* Record a failure: retried after backoff·2^(attempts-1) seconds,
 * parked (and audited) at max_attempts. */
tn_code svc_prov_failed(svc *s, const svc_actor *a, const conf_target *t,
                        const svc_prov_item *it, const char *error, tn_err *e);
tn_code svc_prov_counts_get(svc *s, const svc_actor *a, const char *target,
                            svc_prov_counts *out, tn_err *e);
/* Release parked items: id 0 = all (of target; "" = of every target). */
tn_code svc_prov_retry(svc *s, const svc_actor *a, const char *target, int64_t id, int64_t *n,
                       tn_err *e);
typedef int (*svc_prov_resource_cb)(const svc_prov_resource *r, void *ctx);
tn_code svc_prov_resources(svc *s, const svc_actor *a, const char *target,
                           svc_prov_resource_cb cb, void *ctx, tn_err *e);
/* Ask for a person to be delivered to target again (reconcile --fix):
 * an outbox row for that target, audited with the reason. */
tn_code svc_prov_enqueue(svc *s, const svc_actor *a, const char *target, const char *person_id,
                         const char *reason, tn_err *e);
/* The groups recorded for target, by name; cb returning non-zero stops. */
tn_code svc_prov_groups(svc *s, const svc_actor *a, const char *target, svc_prov_group_cb cb,
                        void *ctx, tn_err *e);
/* Record that target holds the group name with id resource_id, or
 * (resource_id "") that it holds it no more. A new or changed id is
 * audited as provision.group (a forgotten one too); recording the same
 * id again writes nothing. Joins the caller's batch, if any. */
tn_code svc_prov_group_record(svc *s, const svc_actor *a, const char *target, const char *name,
                              const char *resource_id, tn_err *e);
/* Microseconds since the epoch (the registry's clock). */
int64_t svc_prov_now(void);

#endif
