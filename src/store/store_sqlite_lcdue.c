/* store_sqlite_lcdue — the SQLite side of the lifecycle's due cache
 * (migrations/0012_lc_due.sql): which persons a plan or run on a date must
 * evaluate, and storing the interval a run found for a person. */
#include <stdlib.h>

#include "store_sqlite_int.h"
#include "tn_mem.h"

/* Stale rows (another policy version; ver 0 after any change) and rows
 * whose interval does not hold the date. Each arm is a range of one
 * index; UNION orders the numbers and drops repeats. */
static const char SQL_DUE[] = "SELECT person_num FROM lc_due WHERE ver < ?1 "
                              "UNION SELECT person_num FROM lc_due WHERE ver > ?1 "
                              "UNION SELECT person_num FROM lc_due WHERE lo > ?2 "
                              "UNION SELECT person_num FROM lc_due WHERE hi < ?2";
static const char SQL_COUNT[] = "SELECT count(*) FROM lc_due";
/* gen < 0: unconditional (the caller read the person in this transaction). */
static const char SQL_PUT[] = "UPDATE lc_due SET ver = ?3, lo = ?4, hi = ?5 "
                              "WHERE person_num = ?1 AND (?2 < 0 OR gen = ?2)";

tn_code sq_lc_due_list(void *priv, int64_t version, tn_date d, int64_t **nums, size_t *n,
                       size_t *total, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t *arr = NULL;
    size_t len = 0, cap = 0;
    *nums = NULL;
    *n = *total = 0;
    tn_code code = sq_prep_sql(q, SQL_COUNT, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *total = (size_t)sqlite3_column_int64(st, 0);
    else
        code = sq_fail(q, rc, e);
    sq_done(st, own);
    if (code != TN_OK || (code = sq_prep_sql(q, SQL_DUE, &st, &own, e)) != TN_OK)
        return code;
    if (sqlite3_bind_int64(st, 1, version) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, d) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 256;
            arr = tn_realloc(arr, cap * sizeof *arr);
        }
        arr[len++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    *nums = arr;
    *n = len;
    arr = NULL;
out:
    sq_done(st, own);
    free(arr);
    return code;
}

tn_code sq_lc_due_put(void *priv, int64_t number, int64_t gen, int64_t version, tn_date lo,
                      tn_date hi, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK)
        code = sq_prep_sql(q, SQL_PUT, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sqlite3_bind_int64(st, 1, number);
    rc |= sqlite3_bind_int64(st, 2, gen);
    rc |= sqlite3_bind_int64(st, 3, version);
    rc |= lo == TN_DATE_NONE ? sqlite3_bind_null(st, 4) : sqlite3_bind_int64(st, 4, lo);
    rc |= hi == STORE_LC_DUE_NEVER ? sqlite3_bind_null(st, 5) : sqlite3_bind_int64(st, 5, hi);
    if (rc != SQLITE_OK)
        code = sq_bind_fail(q, e);
    else if ((rc = sq_step_write(st)) != SQLITE_OK)
        code = sq_fail(q, rc, e);
    sq_done(st, own);
    return code;
}
