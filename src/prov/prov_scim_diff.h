/* prov_scim_diff — the pure part of a SCIM target's groups
 * (docs/provisioning.md, "Groups on a SCIM target"): which memberships a
 * delivery changes, the PatchOp that changes them, and the membership
 * drift reconciliation reports. No I/O; private to src/prov (and its unit
 * tests). */
#ifndef PROV_SCIM_DIFF_H
#define PROV_SCIM_DIFF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "prov.h"

/* What one user's memberships need: join[] indexes want, leave[] indexes
 * have. Names compare without regard to case: a Group's displayName is
 * not case-exact (RFC 7643 §4.2, §8.7.1), so "Staff" there is our
 * "staff". A name given twice counts once. */
typedef struct prov_group_delta {
    size_t join[PROV_GROUPS_MAX], njoin;
    size_t leave[PROV_GROUPS_MAX], nleave;
} prov_group_delta;

void prov_group_diff(const char (*have)[PROV_GROUP_NAME_MAX], size_t nhave,
                     const char (*want)[PROV_GROUP_NAME_MAX], size_t nwant, prov_group_delta *d);

/* A PatchOp (RFC 7644 §3.5.2) on a Group's members: one "remove" per
 * leaving user id (path members[value eq "ID"], §3.5.2.2) and one "add"
 * with every joining id (§3.5.2.1). NULL when both lists are empty. The
 * caller owns the result (json_decref). */
json_t *prov_scim_members_patch(const char *const *add, size_t nadd, const char *const *remove,
                                size_t nremove);

/* `attr eq "value"` (RFC 7644 §3.4.2.2), the value's '"' and '\' escaped
 * as in a JSON string. false (out "") when it does not fit in cap. */
bool prov_scim_eq_filter(const char *attr, const char *value, char *out, size_t cap);

/* Membership drift of one group: cb(id, true) for each id in want that
 * is not in have (missing), cb(id, false) for each id in have that is
 * not in want (extra), each id once, in id order. Sorts want and have in
 * place (the strings themselves are not touched). Ids are case-exact. */
typedef void (*prov_member_drift_cb)(const char *id, bool missing, void *ctx);
void prov_member_drift(const char **want, size_t nwant, const char **have, size_t nhave,
                       prov_member_drift_cb cb, void *ctx);

#endif
