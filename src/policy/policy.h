/* policy — the lifecycle policy: per-kind timers, the archive set and the
 * global settings (docs/policy.md), parsed from JSON with jansson.
 *
 * Pure: the parser reads text, never a file, so the fuzz target and the
 * service see the same code. A policy that parses is also valid: steps in
 * order (close <= archive <= purge <= erase), known archive attributes, the
 * attributes that hold the permanent name reservations kept. Whether every
 * kind in use has timers is checked by the service, which knows the kinds. */
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "tn_err.h"

#define POLICY_MAX_KINDS 32
#define POLICY_MAX_DAYS 36500 /* a century: anything longer is a typo */
#define POLICY_NO_DAYS (-1)   /* an optional step that is not taken */
#define POLICY_TEXT_MAX (64 * 1024)
#define POLICY_TZ_BUFSZ 64
#define POLICY_NAME_BUFSZ 129
#define POLICY_DEFAULT_HOLD_DAYS 183
/* Audit events are kept 9 months (seed 000, AU-6): 274 days. */
#define POLICY_DEFAULT_AUDIT_RETENTION_DAYS 274
#define POLICY_DEFAULT_TZ "Europe/Helsinki"

typedef struct policy_kind {
    char kind[KIND_BUFSZ];
    int activate_before_days;
    int close_after_days;
    int archive_after_days;
    int purge_after_days;
    int erase_after_days; /* POLICY_NO_DAYS: never erased */
    int handover_days;    /* POLICY_NO_DAYS: no handover */
} policy_kind;

/* The attributes an archived identity may keep (LC-5). Bit positions. */
typedef enum policy_attr {
    PATTR_IDENTITY_NUMBER = 0,
    PATTR_NAME,
    PATTR_IDENTITY_DATES,
    PATTR_USERNAMES,
    PATTR_TERMS_OF_USE,
    PATTR_MARKETING_PERMISSION,
    PATTR_AUTHENTICATION_STRENGTH,
    PATTR_NATIONAL_ID,
    PATTR_GENDER,
    PATTR_NATIONALITY,
    PATTR_ORG_EMAIL,
    PATTR_PREFERRED_NAME,
    PATTR_PERSONAL_EMAIL,
    PATTR_PHONE,
    PATTR_BIRTH_DATE,
    PATTR_LANGUAGE,
    PATTR_MAX
} policy_attr;

#define PATTR_BIT(a) (1u << (a))
/* The LC-5 list of seed 001. */
#define PATTR_DEFAULT_KEEP                                                                  \
    (PATTR_BIT(PATTR_IDENTITY_NUMBER) | PATTR_BIT(PATTR_NAME) |                             \
     PATTR_BIT(PATTR_IDENTITY_DATES) | PATTR_BIT(PATTR_USERNAMES) |                         \
     PATTR_BIT(PATTR_TERMS_OF_USE) | PATTR_BIT(PATTR_MARKETING_PERMISSION) |                \
     PATTR_BIT(PATTR_AUTHENTICATION_STRENGTH) | PATTR_BIT(PATTR_NATIONAL_ID) |              \
     PATTR_BIT(PATTR_GENDER) | PATTR_BIT(PATTR_NATIONALITY) | PATTR_BIT(PATTR_ORG_EMAIL))
/* Kept whatever the policy says: account rows are the permanent
 * reservation of usernames and addresses (0001 migration, LC-6). */
#define PATTR_REQUIRED_KEEP                                                                 \
    (PATTR_BIT(PATTR_IDENTITY_NUMBER) | PATTR_BIT(PATTR_USERNAMES) | PATTR_BIT(PATTR_ORG_EMAIL))

typedef struct policy {
    char name[POLICY_NAME_BUFSZ];
    policy_kind kinds[POLICY_MAX_KINDS];
    size_t nkinds;
    uint32_t archive_keep; /* PATTR_BIT set */
    int legal_hold_days;
    int audit_retention_days; /* the lifecycle run prunes older audit events */
    char timezone[POLICY_TZ_BUFSZ];
    char username_pattern[128]; /* "" = the one in tunnus.conf */
    /* A person returning after archiving gets their old username back
     * (false, "same", the default) or a new account with a new username
     * (true, "new"). The old name stays theirs, reserved, either way. */
    bool returning_new_username;
} policy;

const char *policy_attr_name(policy_attr a);
/* Parse and validate len bytes of JSON text. On failure out is unspecified
 * and e names the field ("kinds.staff.purge_after_days") and the reason. */
tn_code policy_parse(const char *text, size_t len, policy *out, tn_err *e);
/* The timers of a kind, or NULL. */
const policy_kind *policy_find_kind(const policy *p, const char *kind);
/* Canonical JSON text of p (keys in a fixed order); caller frees. */
char *policy_to_json(const policy *p);

#endif
