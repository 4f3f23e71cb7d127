/* dir_entry — one account as the directory shows it: the account, its
 * POSIX uid number and what the directory publishes of its person.
 *
 * Shared by the store (which fills it in one query), the service (which
 * decides who may see it) and the LDAP front end (which maps it to
 * attributes), so that a search copies each row once. */
#ifndef DIR_ENTRY_H
#define DIR_ENTRY_H

#include <stdint.h>

#include "model.h"

#define DIR_AFFS_MAX 2048
#define DIR_GROUPS_MAX 4096

typedef struct dir_entry {
    int64_t account_id;
    char username[USERNAME_BUFSZ];
    char mail[EMAIL_BUFSZ];          /* organisation address */
    account_state state;
    int64_t uid_number;              /* allocated once per account, never reused */
    char person_id[UUID_BUFSZ];
    int64_t person_number;
    char given_names[NAME_BUFSZ];
    char family_name[NAME_BUFSZ];
    char preferred_name[NAME_BUFSZ];
    char phone[PHONE_BUFSZ];
    char language[LANG_BUFSZ];
    /* Affiliations in force on the day asked for: records
     * "kind\x1funit\x1ftitle" separated by \x1e. */
    char affs[DIR_AFFS_MAX];
    /* cn values of the groups (ou=groups) the account is in today,
     * separated by \x1e; filled only when asked for (memberOf). */
    char groups[DIR_GROUPS_MAX];
} dir_entry;

/* One group of ou=groups: derived from the registry (org unit,
 * affiliation kind, school, class or teaching group), its gidNumber and cn
 * allocated once (migration 0009). */
#define DIR_GROUP_VAL_MAX 512
typedef struct dir_group {
    int64_t gid_number;
    char gtype[8];                /* unit, kind, school, class, tgroup */
    char v1[DIR_GROUP_VAL_MAX];   /* unit code, kind or school */
    char v2[DIR_GROUP_VAL_MAX];   /* class or teaching group ("" otherwise) */
    char cn[DIR_GROUP_VAL_MAX];
    char unit_name[NAME_BUFSZ];   /* the org unit's name (unit groups) */
    /* Usernames of the visible accounts in the group today, each
     * NUL-terminated, back to back, in username order; malloc'd. */
    char *members;
    size_t members_len;
    int64_t nmembers;
} dir_group;

#endif
