/* Fuzz the LDIF feed reader (src/feed/feed_ldif.c) through a mapping and
 * with canonical names: no crash and bounded rows on any bytes; every row
 * has non-NULL cells and a line within the input. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char mapping[] =
    "{\"columns\": {\"source_key\": \"employeeNumber\", \"username\": \"uid\","
    " \"given_names\": \"givenName\", \"family_name\": {\"from\": \"sn\", \"trim\": true},"
    " \"email\": {\"from\": \"mail\", \"case\": \"lower\"}, \"password_hash\": \"userPassword\","
    " \"teaching_groups\": \"ou\", \"valid_from\": {\"value\": \"2026-08-01\"}}}";

static void run(const uint8_t *data, size_t size, const feed_map *map)
{
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return;
    long lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    feed_reader *r = NULL;
    tn_err e;
    tn_err_clear(&e);
    if (feed_open_as(f, map, FEED_FMT_LDIF, &r, &e) == TN_OK) {
        feed_row row;
        tn_code rc;
        int n = 0;
        while ((rc = feed_next(r, &row, &e)) == TN_OK && n++ < 100000) {
            assert(row.line >= 1 && row.line <= lines);
            for (int i = 0; i < FEED_NCOLS; i++)
                assert(row.v[i] != NULL);
            feed_checked c;
            feed_issue iss;
            if (!feed_row_check(&row, &c, &iss))
                assert(iss.reason[0] != '\0');
            else
                assert(row.v[FEED_SOURCE_KEY][0] != '\0');
        }
        assert(rc == TN_OK || rc == TN_ENOTFOUND || rc == TN_EINVAL || rc == TN_EIO);
        feed_close(r);
    } else {
        assert(e.msg[0] != '\0');
    }
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static feed_map *map;
    if (!map) {
        tn_err e;
        tn_err_clear(&e);
        if (feed_map_parse(mapping, strlen(mapping), &map, &e) != TN_OK)
            return 0;
    }
    run(data, size, map);
    run(data, size, NULL);
    return 0;
}
