/* store_sqlite_lc2 — the SQLite side of the lifecycle scan (the facts of
 * a page of persons in one ordered query, so that plan and run over a
 * million persons cost one pass, not several queries per person), of the
 * LC-8 handover grants and of sealed accounts. Schema:
 * migrations/0005_handover.sql. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "tn_mem.h"
#include "tn_str.h"

/* Persons in primary-key order joined with what the evaluation reads;
 * affiliations come through the affiliation_person index, so the rows of
 * one person are adjacent and nothing is sorted. The page ends in C, at
 * the first row of the person after the last one wanted (a LIMIT would
 * count rows, not persons; a limited subquery costs a sort). */
#define SCAN_FROM                                                                          \
    "SELECT p.number, p.id, p.state, p.death_date, p.legal_hold_until, "                   \
    "EXISTS (SELECT 1 FROM account a WHERE a.person_num = p.number), "                     \
    "ar.person_num IS NOT NULL, ar.purge_on, ar.erase_on, ar.purged_on, NULL, "            \
    "f.id, f.kind, f.valid_from, f.valid_to, f.end_reason, f.manager_num, "                \
    "d.gen, d.ver, d.lo, d.hi "                                                            \
    "FROM person p "                                                                       \
    "LEFT JOIN lc_archive ar ON ar.person_num = p.number "                                 \
    "LEFT JOIN lc_due d ON d.person_num = p.number "                                       \
    "LEFT JOIN affiliation f ON f.person_num = p.number "
static const char SQL_SCAN[] = SCAN_FROM "WHERE p.number > ?1 ORDER BY p.number";
/* One person of a scan by number (the persons lc_due says are due). */
static const char SQL_SCAN_ONE[] = SCAN_FROM "WHERE p.number = ?1";
/* Active handover windows are few (leavers of the last weeks): one range
 * query per page instead of a lookup per person. */
static const char SQL_SCAN_HANDOVER[] =
    "SELECT leaver_num, min(until_date) FROM lc_handover "
    "WHERE leaver_num > ?1 AND leaver_num <= ?2 AND state = 'active' GROUP BY leaver_num "
    "ORDER BY leaver_num";
static const char SQL_HANDOVER_ADD[] =
    "INSERT INTO lc_handover (leaver_num, grantee_num, from_date, until_date, state, "
    "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?5)";
static const char SQL_HANDOVER_LIST[] =
    "SELECT h.id, l.id, l.number, g.id, g.number, h.from_date, h.until_date, h.state, "
    "h.ended_on FROM lc_handover h JOIN person l ON l.number = h.leaver_num "
    "LEFT JOIN person g ON g.number = h.grantee_num "
    "WHERE h.leaver_num = ?1 OR h.grantee_num = ?1 ORDER BY h.id";
static const char SQL_HANDOVER_END[] =
    "UPDATE lc_handover SET state = ?2, ended_on = ?3, updated_at = ?4 "
    "WHERE id = ?1 AND state = 'active'";
static const char SQL_SEAL[] =
    "INSERT INTO lc_account_sealed (account_id, sealed_on, reason, created_at) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id) DO NOTHING";
static const char SQL_SEALED[] = "SELECT 1 FROM lc_account_sealed WHERE account_id = ?1";

static void grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    *arr = tn_realloc(*arr, n * elem);
    *cap = n;
}

/* The person's lc_due row: a missing row or bound reads as stale or
 * unbounded. */
static bool read_due(sqlite3_stmt *st, store_lc_person *p)
{
    p->due_gen = sqlite3_column_int64(st, 17);
    p->due_ver = sqlite3_column_int64(st, 18);
    p->due_lo = sqlite3_column_type(st, 19) == SQLITE_NULL ? TN_DATE_NONE
                                                           : (tn_date)sqlite3_column_int64(st, 19);
    p->due_hi = sqlite3_column_type(st, 20) == SQLITE_NULL ? STORE_LC_DUE_NEVER
                                                           : (tn_date)sqlite3_column_int64(st, 20);
    return true;
}

static bool read_person(sqlite3_stmt *st, store_lc_person *p)
{
    char state[STATE_BUFSZ];
    p->number = sqlite3_column_int64(st, 0);
    p->has_account = sqlite3_column_int(st, 5) != 0;
    p->has_arch = sqlite3_column_int(st, 6) != 0;
    return sq_col_str(st, 1, p->id, sizeof p->id) && sq_col_str(st, 2, state, sizeof state) &&
           person_state_parse(state, &p->state) && sq_col_date(st, 3, &p->death_date) &&
           sq_col_date(st, 4, &p->legal_hold_until) && sq_col_date(st, 7, &p->arch_purge_on) &&
           sq_col_date(st, 8, &p->arch_erase_on) && sq_col_date(st, 9, &p->arch_purged_on) &&
           sq_col_date(st, 10, &p->handover_until) && read_due(st, p);
}

/* Only the fields the evaluation reads are set; the rest of the struct is
 * left as it is (the page reuses its buffer). The manager is marked, not
 * resolved: resolving the manager's id for every relationship cost a
 * third of a plan (a join per row), and only a close with a handover
 * needs it (STORE_LC_MANAGER_MARK). */
static bool read_aff(sqlite3_stmt *st, affiliation *a)
{
    a->id = sqlite3_column_int64(st, 11);
    tn_strlcpy(a->manager_id, sqlite3_column_type(st, 16) == SQLITE_NULL ? "" : STORE_LC_MANAGER_MARK,
               sizeof a->manager_id);
    return sq_col_str(st, 12, a->kind, sizeof a->kind) &&
           sq_col_date(st, 13, &a->valid_from) && sq_col_date(st, 14, &a->valid_to) &&
           sq_col_str(st, 15, a->end_reason, sizeof a->end_reason);
}

/* Fill handover_until of the page's persons (numbers above after, in
 * order) from their active handover windows. */
static tn_code scan_handovers(sq *q, int64_t after, store_lc_page *pg, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_SCAN_HANDOVER, &st, &own, e);
    if (code != TN_OK)
        return code;
    if (sqlite3_bind_int64(st, 1, after) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, pg->persons[pg->npersons - 1].number) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    size_t i = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t num = sqlite3_column_int64(st, 0);
        while (i < pg->npersons && pg->persons[i].number < num)
            i++;
        if (i == pg->npersons || pg->persons[i].number != num)
            continue;
        if (!sq_col_date(st, 1, &pg->persons[i].handover_until)) {
            code = sq_corrupt("lc_handover", e);
            goto out;
        }
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

/* Append the persons of a running scan statement to pg, up to max in all;
 * *cur is the person being read (NULL before the first). */
static tn_code scan_rows(sq *q, sqlite3_stmt *st, size_t max, store_lc_page *pg,
                         store_lc_person **curp, tn_err *e)
{
    int rc;
    store_lc_person *cur = *curp;
    tn_code code = TN_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t num = sqlite3_column_int64(st, 0);
        if (!cur || cur->number != num) {
            if (pg->npersons == max) {
                rc = SQLITE_DONE;
                break;
            }
            grow((void **)&pg->persons, &pg->cap_persons, pg->npersons + 1, sizeof *pg->persons);
            cur = &pg->persons[pg->npersons++];
            if (!read_person(st, cur)) {
                code = sq_corrupt("person", e);
                goto out;
            }
            cur->aff0 = pg->naffs;
            cur->naffs = 0;
        }
        if (sqlite3_column_type(st, 11) == SQLITE_NULL)
            continue;
        grow((void **)&pg->affs, &pg->cap_affs, pg->naffs + 1, sizeof *pg->affs);
        if (!read_aff(st, &pg->affs[pg->naffs])) {
            code = sq_corrupt("affiliation", e);
            goto out;
        }
        tn_strlcpy(pg->affs[pg->naffs].person_id, cur->id, sizeof pg->affs[pg->naffs].person_id);
        pg->naffs++;
        cur->naffs++;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    *curp = cur;
    return code;
}

tn_code sq_lc_scan(void *priv, int64_t after, size_t max, store_lc_page *pg, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    pg->npersons = pg->naffs = 0;
    tn_code code = sq_prep_sql(q, SQL_SCAN, &st, &own, e);
    if (code != TN_OK)
        return code;
    store_lc_person *cur = NULL;
    if (sqlite3_bind_int64(st, 1, after) != SQLITE_OK)
        code = sq_bind_fail(q, e);
    else
        code = scan_rows(q, st, max, pg, &cur, e);
    sq_done(st, own);
    if (code == TN_OK && pg->npersons)
        code = scan_handovers(q, after, pg, e);
    return code;
}

tn_code sq_lc_scan_nums(void *priv, const int64_t *nums, size_t n, store_lc_page *pg, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    pg->npersons = pg->naffs = 0;
    tn_code code = sq_prep_sql(q, SQL_SCAN_ONE, &st, &own, e);
    if (code != TN_OK)
        return code;
    for (size_t i = 0; code == TN_OK && i < n; i++) {
        store_lc_person *cur = NULL;
        sqlite3_reset(st);
        if (sqlite3_bind_int64(st, 1, nums[i]) != SQLITE_OK)
            code = sq_bind_fail(q, e);
        else
            code = scan_rows(q, st, SIZE_MAX, pg, &cur, e);
    }
    sq_done(st, own);
    /* nums ascend, so the page's handovers are one range query. */
    if (code == TN_OK && pg->npersons)
        code = scan_handovers(q, pg->persons[0].number - 1, pg, e);
    return code;
}

/* Run a prepared, bound write; the statement is returned either way. */
static tn_code finish_write(sq *q, sqlite3_stmt *st, bool own, int bind_rc, tn_err *e)
{
    tn_code code = TN_OK;
    if (bind_rc != SQLITE_OK)
        code = sq_bind_fail(q, e);
    else if ((bind_rc = sq_step_write(st)) != SQLITE_OK)
        code = sq_fail(q, bind_rc, e);
    sq_done(st, own);
    return code;
}

tn_code sq_lc_handover_add(void *priv, store_lc_handover *h, int64_t created_at, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char fd[DATE_ISO_LEN], ud[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK)
        code = sq_person_num(q, h->leaver_id, false, "leaver", "person", &h->leaver_number, e);
    h->grantee_number = 0;
    if (code == TN_OK && h->grantee_id[0])
        code = sq_person_num(q, h->grantee_id, false, "grantee", "person", &h->grantee_number,
                             e);
    if (code == TN_OK)
        code = sq_prep_sql(q, SQL_HANDOVER_ADD, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sqlite3_bind_int64(st, 1, h->leaver_number);
    rc |= sq_b_num(st, 2, h->grantee_number);
    rc |= sq_b_date(st, 3, h->from, fd);
    rc |= sq_b_date(st, 4, h->until, ud);
    rc |= sqlite3_bind_int64(st, 5, created_at);
    code = finish_write(q, st, own, rc, e);
    if (code == TN_OK) {
        h->id = sqlite3_last_insert_rowid(q->db);
        tn_strlcpy(h->state, "active", sizeof h->state);
        h->ended_on = TN_DATE_NONE;
    }
    return code;
}

tn_code sq_lc_handover_list(void *priv, const char *person_id, store_lc_handover **out,
                            size_t *n, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t num = 0;
    store_lc_handover *arr = NULL;
    size_t len = 0, cap = 0;
    *out = NULL;
    *n = 0;
    tn_code code = sq_person_num(q, person_id, false, "person_id", "person", &num, e);
    if (code == TN_OK)
        code = sq_prep_sql(q, SQL_HANDOVER_LIST, &st, &own, e);
    if (code != TN_OK)
        return code;
    if (sqlite3_bind_int64(st, 1, num) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        grow((void **)&arr, &cap, len + 1, sizeof *arr);
        store_lc_handover *h = &arr[len];
        memset(h, 0, sizeof *h);
        h->id = sqlite3_column_int64(st, 0);
        h->leaver_number = sqlite3_column_int64(st, 2);
        h->grantee_number = sqlite3_column_int64(st, 4);
        if (!sq_col_str(st, 1, h->leaver_id, sizeof h->leaver_id) ||
            (sqlite3_column_type(st, 3) != SQLITE_NULL &&
             !sq_col_str(st, 3, h->grantee_id, sizeof h->grantee_id)) ||
            !sq_col_date(st, 5, &h->from) || !sq_col_date(st, 6, &h->until) ||
            !sq_col_str(st, 7, h->state, sizeof h->state) || !sq_col_date(st, 8, &h->ended_on)) {
            code = sq_corrupt("lc_handover", e);
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
    sq_done(st, own);
    free(arr);
    return code;
}

tn_code sq_lc_handover_end(void *priv, int64_t id, const char *state, tn_date ended_on,
                           int64_t updated_at, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char ed[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK)
        code = sq_prep_sql(q, SQL_HANDOVER_END, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sqlite3_bind_int64(st, 1, id);
    rc |= sq_b_text(st, 2, state);
    rc |= sq_b_date(st, 3, ended_on, ed);
    rc |= sqlite3_bind_int64(st, 4, updated_at);
    return finish_write(q, st, own, rc, e);
}

tn_code sq_lc_account_seal(void *priv, int64_t account_id, tn_date on, const char *reason,
                           int64_t created_at, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char od[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code == TN_OK)
        code = sq_prep_sql(q, SQL_SEAL, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sqlite3_bind_int64(st, 1, account_id);
    rc |= sq_b_date(st, 2, on, od);
    rc |= sq_b_text(st, 3, reason);
    rc |= sqlite3_bind_int64(st, 4, created_at);
    return finish_write(q, st, own, rc, e);
}

tn_code sq_lc_account_sealed(void *priv, int64_t account_id, bool *sealed, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_SEALED, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sqlite3_bind_int64(st, 1, account_id);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
    } else {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            *sealed = rc == SQLITE_ROW;
        else
            code = sq_fail(q, rc, e);
    }
    sq_done(st, own);
    return code;
}
