/* hetu — the Finnish national identity number (henkilötunnus).
 *
 * Format DDMMYYCZZZQ: birth date, century sign C, individual number ZZZ,
 * check character Q = "0123456789ABCDEFHJKLMNPRSTUVWXY"[DDMMYYZZZ mod 31].
 * Century signs valid since 2023: '+' (1800s); '-', 'Y', 'X', 'W', 'V', 'U'
 * (1900s); 'A', 'B', 'C', 'D', 'E', 'F' (2000s). Individual numbers 002–899
 * are ordinary, 900–999 temporary; 000 and 001 are never issued. An even
 * individual number denotes a woman, an odd one a man.
 *
 * Error messages never echo the value: it is personal data. */
#ifndef HETU_H
#define HETU_H

#include <stdbool.h>

#include "date.h"
#include "tn_err.h"

#define HETU_LEN 11
#define HETU_BUFSZ 12

typedef struct hetu_info {
    tn_date birth_date;
    int individual;  /* 2..999 */
    bool temporary;  /* individual number 900..999 */
    bool female;     /* even individual number */
} hetu_info;

/* Validate s; on success write the canonical (upper-case) form into
 * canon (may be NULL) and the decoded facts into info (may be NULL).
 * Surrounding whitespace is not accepted; lower-case letters are. */
tn_code hetu_parse(const char *s, char canon[HETU_BUFSZ], hetu_info *info, tn_err *e);
bool hetu_valid(const char *s);

#endif
