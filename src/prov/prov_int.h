/* prov_int — what the provisioning files share (private to src/prov):
 * the connector of each target type behind prov_conn. */
#ifndef PROV_INT_H
#define PROV_INT_H

#include "prov.h"

typedef struct prov_ldap prov_ldap;
typedef struct prov_file prov_file;
typedef struct prov_scim prov_scim;

struct prov_conn {
    const conf_target *t;
    prov_ldap *ldap;
    prov_file *file;
    prov_scim *scim;
};

/* One entry as a target holds it, for reconciliation. */
typedef struct prov_seen {
    char id[512];
    prov_attr *attrs; /* the managed attributes only */
    size_t nattrs;
} prov_seen;
typedef int (*prov_seen_cb)(const prov_seen *s, void *ctx);

prov_ldap *prov_ldap_new(const conf_target *t);
void prov_ldap_free(prov_ldap *l);
prov_result prov_ldap_open(prov_ldap *l, char *msg, size_t cap);
prov_result prov_ldap_apply(prov_ldap *l, const prov_entry *e, const char *old_id,
                            const char *old_state, char *res_id, size_t res_cap,
                            const char **res_state, char *msg, size_t cap);
/* End of a round: the deferred group memberships. */
prov_result prov_ldap_commit(prov_ldap *l, char *msg, size_t cap);
void prov_ldap_abort(prov_ldap *l);
prov_result prov_ldap_list(prov_ldap *l, prov_seen_cb cb, void *ctx, char *msg, size_t cap);

prov_file *prov_file_new(const conf_target *t);
void prov_file_free(prov_file *f);
prov_result prov_file_open(prov_file *f, char *msg, size_t cap);
prov_result prov_file_apply(prov_file *f, const prov_entry *e, const char *old_id,
                            char *res_id, size_t res_cap, const char **res_state, char *msg,
                            size_t cap);
prov_result prov_file_commit(prov_file *f, char *msg, size_t cap);
void prov_file_abort(prov_file *f);
prov_result prov_file_list(prov_file *f, prov_seen_cb cb, void *ctx, char *msg, size_t cap);

prov_scim *prov_scim_new(const conf_target *t);
void prov_scim_free(prov_scim *s);
prov_result prov_scim_open(prov_scim *s, char *msg, size_t cap);
prov_result prov_scim_apply(prov_scim *s, const prov_entry *e, const char *old_id,
                            const char *old_state, char *res_id, size_t res_cap,
                            const char **res_state, char *msg, size_t cap);
prov_result prov_scim_list(prov_scim *s, prov_seen_cb cb, void *ctx, char *msg, size_t cap);
/* End of a round: the membership changes collected by apply, one PATCH
 * per group (and per 100 members); a group is created (or found by
 * displayName) on first need. A change the service refuses is tried
 * alone and, refused again, held against its user (prov_scim_refused);
 * the others go on. PROV_TARGET_DOWN when the service could not be
 * reached. */
prov_result prov_scim_commit(prov_scim *s, char *msg, size_t cap);
void prov_scim_abort(prov_scim *s);
/* Whether the last commit could not make a membership of user (a SCIM
 * id); msg gets the service's reason. */
bool prov_scim_refused(prov_scim *s, const char *user, char *msg, size_t cap);
/* Seed the groups the registry has recorded (name and id; borrowed). */
void prov_scim_group_known(prov_scim *s, const char *name, const char *id);
/* Each group whose id was learned (created, found again) or lost since
 * the last call: cb(name, id or "" when gone). */
typedef void (*prov_group_rec_cb)(const char *name, const char *id, void *ctx);
void prov_scim_group_changes(prov_scim *s, prov_group_rec_cb cb, void *ctx);

/* A group as the target holds it, for reconciliation (borrowed). */
typedef struct prov_group_seen {
    const char *id, *name;
    const char **members; /* member ids */
    size_t nmembers;
} prov_group_seen;
typedef int (*prov_group_seen_cb)(const prov_group_seen *g, void *ctx);
/* Every Group the target holds (open first). */
prov_result prov_scim_list_groups(prov_scim *s, prov_group_seen_cb cb, void *ctx, char *msg,
                                  size_t cap);

/* Every entry the target holds (open first). */
prov_result prov_conn_list(prov_conn *c, prov_seen_cb cb, void *ctx, char *msg, size_t cap);
/* The groups of a target (SCIM with groups = kinds): what the registry
 * recorded, seeded before a run; what a round learned, to record. No-ops
 * for other targets. */
void prov_conn_group_known(prov_conn *c, const char *name, const char *id);
/* Whether the round's commit could not complete the delivery that left
 * resource res_id (a group membership the target refused): the item then
 * counts as failed, with msg. */
bool prov_conn_refused(prov_conn *c, const char *res_id, char *msg, size_t cap);
void prov_conn_group_changes(prov_conn *c, prov_group_rec_cb cb, void *ctx);

/* The attribute names the target manages: the map's, the disable
 * attribute and the RDN attribute; names[] gets pointers into t. */
size_t prov_managed_attrs(const conf_target *t, const char **names, size_t cap);

#endif
