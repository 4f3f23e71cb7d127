/* SQLite backend: the second round of source feeds (the lookups that make
 * an import cheap, the sources registry). */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "tn_mem.h"

tn_code sq_aff_list_by_source_key(void *priv, const char *source, const char *key,
                                  affiliation **out, size_t *n, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    affiliation *arr = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    *n = 0;
    tn_code code = sq_prep_sql(q, SQ_AFF_LIST_BY_SOURCE_KEY, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sq_b_text(st, 1, source) | sq_b_text(st, 2, key)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4;
            arr = tn_realloc(arr, cap * sizeof *arr);
        }
        if (!sq_read_aff(st, &arr[len])) {
            code = sq_corrupt("affiliation", e);
            goto out;
        }
        len++;
    }
    if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    *out = arr;
    *n = len;
    arr = NULL;
out:
    free(arr);
    sq_done(st, own);
    return code;
}
