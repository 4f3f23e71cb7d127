/* model — the domain objects of the registry and their validation.
 *
 * Plain structs with fixed-size fields, so that copying, arrays and freeing
 * need no per-field ownership rules: an array of persons is one allocation.
 * Sizes follow the validation limits in name.h, contact.h and username.h.
 *
 * Identity of objects: a person has an opaque UUID (`id`) and a human
 * identity number (`number`); affiliations, accounts and org units have
 * 64-bit row ids. The national ID never lives in a struct here in the
 * clear except in an explicit input (person_input) or an explicit reveal. */
#ifndef MODEL_H
#define MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "contact.h"
#include "date.h"
#include "hetu.h"
#include "name.h"
#include "tn_err.h"
#include "username.h"

#define UUID_BUFSZ 37
#define KIND_BUFSZ 33     /* affiliation kind, source name: [a-z0-9_]{1,32} */
#define KEY_BUFSZ 129     /* source key */
#define CODE_BUFSZ 257    /* org unit code (a '/'-separated path) */
#define GROUPS_BUFSZ 1025 /* ';'-separated teaching groups */
#define REASON_BUFSZ 65
#define STATE_BUFSZ 16
#define LANG_BUFSZ 8
#define GENDER_BUFSZ 8

typedef enum person_state {
    PSTATE_PENDING = 0,
    PSTATE_ACTIVE,
    PSTATE_GRACE,
    PSTATE_CLOSED,
    PSTATE_ARCHIVED,
    PSTATE_ERASED,
    PSTATE_MAX
} person_state;

const char *person_state_name(person_state s);
bool person_state_parse(const char *s, person_state *out);

typedef enum account_state {
    ASTATE_ACTIVE = 0, /* may log in */
    ASTATE_GRACE,      /* may log in; relationship ended, close pending */
    ASTATE_CLOSED,     /* may not log in; may be reopened */
    ASTATE_LOCKED,     /* locked by an administrator or by failed logins */
    ASTATE_PENDING,    /* created ahead of its first day */
    ASTATE_MAX
} account_state;

const char *account_state_name(account_state s);
bool account_state_parse(const char *s, account_state *out);

typedef struct person {
    char id[UUID_BUFSZ];
    int64_t number;          /* identity number, unique, never reused */
    person_state state;
    char given_names[NAME_BUFSZ];
    char family_name[NAME_BUFSZ];
    char preferred_name[NAME_BUFSZ];  /* "" = none; must be one of the given names */
    char email[EMAIL_BUFSZ];          /* personal contact address, "" = none */
    char phone[PHONE_BUFSZ];          /* E.164, "" = none */
    tn_date birth_date;               /* from the national ID or given */
    char gender[GENDER_BUFSZ];        /* "female", "male", "" */
    char nationality[LANG_BUFSZ];     /* ISO 3166-1 alpha-2 or "" */
    char language[LANG_BUFSZ];        /* "fi", "sv", "en" … or "" */
    bool has_national_id;
    tn_date legal_hold_until;
    tn_date death_date;
    int64_t created_at;  /* µs since the epoch, UTC */
    int64_t updated_at;
} person;

/* What a caller supplies to create or change a person. Pointers are
 * borrowed; NULL means "not given" (for an update: leave unchanged) and ""
 * means "clear" where the attribute is optional. */
typedef struct person_input {
    const char *national_id;
    const char *given_names;
    const char *family_name;
    const char *preferred_name;
    const char *email;
    const char *phone;
    const char *birth_date;   /* ISO; only when there is no national ID */
    const char *nationality;
    const char *language;
} person_input;

typedef struct affiliation {
    int64_t id;
    char person_id[UUID_BUFSZ];
    char kind[KIND_BUFSZ];      /* staff, student, pupil, elected_official, partner, visitor … */
    char source[KIND_BUFSZ];    /* hr, sis, pupils, manual … */
    char source_key[KEY_BUFSZ]; /* staff / student / pupil number in that source */
    char org_unit[CODE_BUFSZ];  /* org unit code, "" = none */
    char title[TEXT_BUFSZ];
    char school[TEXT_BUFSZ];
    char class_[KIND_BUFSZ];
    char teaching_groups[GROUPS_BUFSZ];
    char programme[TEXT_BUFSZ];
    char manager_id[UUID_BUFSZ];  /* person id, "" = none */
    char sponsor_id[UUID_BUFSZ];  /* person id, "" = none */
    tn_date valid_from;
    tn_date valid_to;             /* inclusive last day; TN_DATE_NONE = open */
    char end_reason[REASON_BUFSZ];
    int64_t created_at;
    int64_t updated_at;
} affiliation;

typedef struct account {
    int64_t id;
    char person_id[UUID_BUFSZ];
    char username[USERNAME_BUFSZ];
    char email[EMAIL_BUFSZ];  /* organisation address */
    account_state state;
    tn_date created_on;
    tn_date closed_on;        /* TN_DATE_NONE while not closed */
    int64_t created_at;
    int64_t updated_at;
} account;

typedef struct org_unit {
    int64_t id;
    char code[CODE_BUFSZ];    /* unique; '/'-separated path for feed units */
    char name[TEXT_BUFSZ];
    char parent_code[CODE_BUFSZ];  /* "" for a root */
    int64_t created_at;
} org_unit;

/* An identifier-like token: [a-z][a-z0-9_]{0,31}. */
tn_code model_check_token(const char *s, const char *field, tn_err *e);
/* A source key: printable ASCII or UTF-8 without control characters or
 * leading/trailing space, 1..128 bytes. */
tn_code model_check_source_key(const char *s, const char *field, tn_err *e);
/* An org unit code: 1..256 bytes of UTF-8 text, '/'-separated non-empty
 * segments. */
tn_code model_check_unit_code(const char *s, const char *field, tn_err *e);
/* Teaching groups: ';'-separated, non-empty tokens without control
 * characters; normalised in place (trimmed, duplicates removed). */
tn_code model_check_groups(char *groups, const char *field, tn_err *e);
/* Validate an affiliation's own fields (not references): kind, source,
 * source key, dates in order (valid_to >= valid_from), texts. */
tn_code affiliation_validate(const affiliation *a, tn_err *e);
/* Well-known affiliation kinds, for documentation and defaults. */
bool affiliation_kind_known(const char *kind);

#endif
