/* prov_scim_int — what the SCIM connector's files share (private to
 * prov_scim.c, the users, and prov_scim_groups.c, the groups). */
#ifndef PROV_SCIM_INT_H
#define PROV_SCIM_INT_H

#include <curl/curl.h>
#include <jansson.h>

#include "prov_int.h"

/* A group tunnus knows at the target: recorded in the registry, or
 * learned (created, found by displayName) in this run. */
typedef struct scim_group {
    char name[PROV_GROUP_NAME_MAX];
    char id[512];      /* "" once the group is known to be gone */
    bool changed;      /* learned or lost since prov_scim_group_changes */
} scim_group;

/* One membership change waiting for the end of the round. */
typedef struct member_op {
    char group[PROV_GROUP_NAME_MAX];
    char user[512];
    bool add;
} member_op;

/* A membership change the service refused, held against the delivery
 * of its user (prov_scim_refused). */
typedef struct member_fail {
    char user[512];
    char msg[512];
} member_fail;

struct prov_scim {
    const conf_target *t;
    CURL *curl;
    char auth[600];
    scim_group *groups;
    size_t ngroups, capgroups;
    member_op *ops;
    size_t nops, capops;
    member_fail *fails;     /* of the last commit */
    size_t nfails, capfails;
};

/* Members per PATCH: bounds a request body whatever the round's size. */
#define SCIM_PATCH_MAX 100

/* One request to the base URL + path; *status the HTTP status, *out the
 * parsed body or NULL (the caller owns it). PROV_TARGET_DOWN when the
 * service (not this entry) is the problem: no answer, 401, 403, 429, 5xx. */
prov_result prov_scim_request(prov_scim *s, const char *method, const char *path, json_t *body,
                              long *status, json_t **out, char *msg, size_t cap);

/* Whether the target keeps groups (groups = kinds). */
bool prov_scim_groups_on(const prov_scim *s);
/* Collect the joins and leaves that bring user uid's memberships to
 * e->groups, for prov_scim_commit. fresh: the user was just created and
 * is in no group yet (nothing to read). */
prov_result prov_scim_plan_groups(prov_scim *s, const prov_entry *e, const char *uid, bool fresh,
                                  char *msg, size_t cap);

#endif
