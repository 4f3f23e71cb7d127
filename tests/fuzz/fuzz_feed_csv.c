/* Fuzz the CSV feed reader and row checks: no crash and bounded rows on
 * any bytes; every row has non-NULL cells and a line within the input. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return;
    /* Line ends as the readers count them: LF, CRLF, and a lone CR (which
     * libcsv also takes as the end of a record). */
    long lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
    feed_reader *r = NULL;
    tn_err e;
    tn_err_clear(&e);
    if (feed_open(f, &r, &e) == TN_OK) {
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
    run(data, size);
    return 0;
}
