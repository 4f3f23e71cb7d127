/* Fuzz the date parser and the day-number conversions: an accepted date
 * formats back to exactly its input, and day numbers round-trip. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[FUZZ_MAX + 1];
    if (size > FUZZ_MAX)
        size = FUZZ_MAX;
    memcpy(s, data, size);
    s[size] = '\0';

    tn_date d = 0;
    tn_err e;
    tn_code rc = date_parse_iso(s, &d, "date", &e);
    assert(rc == TN_OK || rc == TN_EINVAL);
    if (rc == TN_OK) {
        char out[DATE_ISO_LEN];
        /* The format is strict, so the canonical form is the input. */
        assert(strcmp(date_format(d, out), s) == 0);
        int y, m, dd;
        date_to_ymd(d, &y, &m, &dd);
        assert(y >= 1800 && y <= 2999 && date_valid_ymd(y, m, dd));
        assert(date_from_ymd(y, m, dd) == d);
    } else {
        assert(strcmp(e.field, "date") == 0);
    }
    tn_date o = 0;
    tn_code rc2 = date_parse_iso_opt(s, &o, "date", NULL);
    assert(rc2 == (s[0] ? rc : TN_OK));
    if (!s[0])
        assert(o == TN_DATE_NONE);

    /* Any four bytes as a day number: conversions must not overflow and
     * must be inverse. */
    if (size >= 4) {
        uint32_t u;
        memcpy(&u, data, 4);
        tn_date dn = (tn_date)u;
        int y, m, dd;
        date_to_ymd(dn, &y, &m, &dd);
        assert(m >= 1 && m <= 12 && dd >= 1 && dd <= 31);
        assert(date_from_ymd(y, m, dd) == dn);
        char out[DATE_ISO_LEN];
        date_format(dn, out);
        if (out[0]) {
            tn_date back;
            if (y >= 1800 && y <= 2999) {
                assert(date_parse_iso(out, &back, "d", NULL) == TN_OK);
                assert(back == dn);
            }
        }
    }
    return 0;
}
