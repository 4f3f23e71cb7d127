/* Fuzz hetu_parse: no crash on any bytes; an accepted ID re-parses
 * identically from its canonical form; errors never echo the value. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hetu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[FUZZ_MAX + 1];
    if (size > FUZZ_MAX)
        size = FUZZ_MAX;
    memcpy(s, data, size);
    s[size] = '\0';

    char canon[HETU_BUFSZ];
    hetu_info info;
    tn_err e;
    tn_err_clear(&e);
    tn_code rc = hetu_parse(s, canon, &info, &e);
    assert(rc == TN_OK || rc == TN_EINVAL);
    assert(hetu_valid(s) == (rc == TN_OK));
    if (rc != TN_OK) {
        assert(strcmp(e.field, "national_id") == 0);
        assert(e.msg[0] != '\0');
        /* A birth date must never show up in a message. */
        size_t n = strlen(s);
        if (n >= 6) {
            char head[7];
            memcpy(head, s, 6);
            head[6] = '\0';
            bool digits = true;
            for (int i = 0; i < 6; i++)
                digits = digits && head[i] >= '0' && head[i] <= '9';
            assert(!digits || !strstr(e.msg, head));
        }
        return 0;
    }
    assert(strlen(canon) == HETU_LEN);
    for (size_t i = 0; i < HETU_LEN; i++) {
        char c = s[i];
        char up = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
        assert(canon[i] == up);
        assert(!(canon[i] >= 'a' && canon[i] <= 'z'));
    }
    assert(info.individual >= 2 && info.individual <= 999);
    assert(info.temporary == (info.individual >= 900));
    assert(info.female == (info.individual % 2 == 0));
    int y, m, d;
    date_to_ymd(info.birth_date, &y, &m, &d);
    assert(y >= 1800 && y <= 2099);
    assert(date_valid_ymd(y, m, d));

    char canon2[HETU_BUFSZ];
    hetu_info info2;
    assert(hetu_parse(canon, canon2, &info2, NULL) == TN_OK);
    assert(strcmp(canon, canon2) == 0);
    assert(info2.birth_date == info.birth_date && info2.individual == info.individual);
    return 0;
}
