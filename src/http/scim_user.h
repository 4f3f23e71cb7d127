/* scim_user — a person as a SCIM User (RFC 7643 §4.1) with the enterprise
 * extension and the tunnus extension, and a User's JSON as service input.
 * The national ID is never rendered (it may only be given on create). */
#ifndef SCIM_USER_H
#define SCIM_USER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "service.h"
#include "tn_buf.h"

/* The account shown as userName: an active or grace one, else the last. */
const account *scim_main_account(const svc_person_view *v);
/* The version behind the ETag: the newest change of the person, their
 * affiliations and accounts (µs). */
int64_t scim_user_version(const svc_person_view *v);
void scim_user_etag(const svc_person_view *v, char out[48]);
json_t *scim_user_render(const svc_person_view *v, tn_date today, const char *base_url);
/* The same User as compact JSON text, appended to out (key order as
 * rendered; the same members and values as scim_user_render). */
void scim_user_write(const svc_person_view *v, tn_date today, const char *base_url,
                     tn_buf *out);

/* A User's JSON as service input; strings are borrowed from the JSON. */
typedef struct scim_user_in {
    person_input p;
    const char *username;
    bool has_aff;
    svc_aff_input aff;
    char groups[GROUPS_BUFSZ];
} scim_user_in;

/* Only the attributes of the User schemas may appear (why says which). */
bool scim_user_check_attrs(json_t *u, char *why, size_t cap);
/* Read a whole User (POST, PUT, or the result of a PATCH). create: also
 * the create-only attributes (tunnus nationalId, birthDate, one
 * affiliation). Optional attributes absent are "" (cleared). */
bool scim_user_input(json_t *u, bool create, scim_user_in *out, char *why, size_t cap);

#endif
