/* conf — the tunnus.conf settings file.
 *
 * An INI file read with inih:
 *
 *   [registry]
 *   db = /var/lib/tunnus/tunnus.db      ; or sqlite:PATH
 *   key_file = /var/lib/tunnus/tunnus.key ; default: <db>.key
 *
 *   [naming]
 *   username_pattern = {given}.{family}
 *   username_max = 20
 *   email_pattern = {preferred}.{family}
 *   email_domain = example.fi           ; empty: accounts get no address
 *
 * Unknown sections or keys, malformed values and duplicate keys are errors
 * that name the file, the line and the key, so a typo never silently falls
 * back to a default. */
#ifndef CONF_H
#define CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "tn_err.h"

#define CONF_PATH_MAX 4096
#define CONF_PATTERN_MAX 128
#define CONF_DOMAIN_MAX 254

typedef struct conf {
    char db[CONF_PATH_MAX];
    char key_file[CONF_PATH_MAX];
    char username_pattern[CONF_PATTERN_MAX];
    unsigned username_max;
    char email_pattern[CONF_PATTERN_MAX];
    char email_domain[CONF_DOMAIN_MAX];
} conf;

void conf_defaults(conf *c);
/* Read a file over the defaults already in c. */
tn_code conf_load_file(conf *c, const char *path, tn_err *e);
/* Same for text in memory (name is used in messages). */
tn_code conf_load_string(conf *c, const char *text, const char *name, tn_err *e);
/* Check cross-field rules (patterns valid, lengths in range) and fill
 * derived defaults (key_file from db). */
tn_code conf_finish(conf *c, tn_err *e);

#endif
