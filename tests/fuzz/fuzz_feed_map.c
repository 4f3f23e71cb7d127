/* Fuzz the mapping file parser and the mapped reader: the input is a
 * mapping, optionally followed by a NUL byte and a feed to read through
 * it. No crash on any bytes; a refused mapping always says why; every
 * mapped row has non-NULL cells. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_through(const feed_map *m, const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return;
    feed_reader *r = NULL;
    tn_err e;
    tn_err_clear(&e);
    if (feed_open_mapped(f, m, &r, &e) == TN_OK) {
        feed_row row;
        int n = 0;
        while (feed_next(r, &row, &e) == TN_OK && n++ < 10000) {
            for (int i = 0; i < FEED_NCOLS; i++)
                assert(row.v[i] != NULL);
            if (row.error)
                assert(row.error[0] != '\0');
            feed_checked c;
            feed_issue iss;
            if (!feed_row_check(&row, &c, &iss))
                assert(iss.reason[0] != '\0');
        }
        feed_close(r);
    } else {
        assert(e.msg[0] != '\0');
    }
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t mlen = nul ? (size_t)(nul - data) : size;
    feed_map *m = NULL;
    tn_err e;
    tn_err_clear(&e);
    if (feed_map_parse((const char *)data, mlen, &m, &e) != TN_OK) {
        assert(m == NULL);
        assert(e.msg[0] != '\0');
        return 0;
    }
    if (nul)
        read_through(m, nul + 1, size - mlen - 1);
    feed_map_free(m);
    return 0;
}
