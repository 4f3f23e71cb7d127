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
} dir_entry;

#endif
