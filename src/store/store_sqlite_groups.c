/* SQLite backend: the LDAP directory's groups (ou=groups, migration 0009).
 * The group keys and their numbers are a table; members are read from the
 * affiliations in force on the day asked for, joined with the accounts the
 * directory shows (active, grace). */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

#define IN_FORCE "f.valid_from <= ?2 AND (f.valid_to IS NULL OR f.valid_to >= ?2) "
#define VISIBLE "a.state IN ('active', 'grace') "
/* The n-th character starts a teaching group of f (as in migration 0009). */
#define TG_EL "substr(f.teaching_groups, j.n, instr(substr(f.teaching_groups, j.n) || ';', ';') - 1)"
#define TG_AT                                                                             \
    "j.n <= length(f.teaching_groups) AND (j.n = 1 OR substr(f.teaching_groups, j.n - 1, 1) = ';') "

#define GROUP_COLS                                                                         \
    "SELECT g.gid_number, g.gtype, g.v1, g.v2, g.cn, COALESCE(u.name, '') FROM dir_group g " \
    "LEFT JOIN org_unit u ON g.gtype = 'unit' AND u.code = g.v1 "

static const char SQL_GROUP_GET[] = GROUP_COLS "WHERE g.cn = ?1";
static const char SQL_GROUP_CN[] =
    "SELECT cn FROM dir_group WHERE gtype = ?1 AND v1 = ?2 AND v2 = ?3";
static const char SQL_GROUP_SCAN[] =
    GROUP_COLS "WHERE g.gid_number > ?1 ORDER BY g.gid_number LIMIT ?2";

#define MEMBERS(cond)                                                                      \
    "SELECT DISTINCT a.username FROM affiliation f JOIN account a ON a.person_num = "       \
    "f.person_num WHERE " cond " AND " IN_FORCE "AND " VISIBLE "ORDER BY a.username"

static const char SQL_M_UNIT[] = MEMBERS("f.org_unit = ?1");
static const char SQL_M_KIND[] = MEMBERS("f.kind = ?1");
static const char SQL_M_SCHOOL[] = MEMBERS("f.school = ?1");
static const char SQL_M_CLASS[] = MEMBERS("f.school = ?1 AND f.class = ?3");
static const char SQL_M_TGROUP[] =
    MEMBERS("f.school = ?1 AND instr(';' || f.teaching_groups || ';', ';' || ?3 || ';') > 0");

#define MEMBER_OF(join)                                                                    \
    "SELECT g.cn FROM affiliation f JOIN dir_group g ON " join " WHERE f.person_num = ?1 "  \
    "AND " IN_FORCE

static const char SQL_MEMBER_OF[] =
    MEMBER_OF("g.gtype = 'unit' AND g.v1 = f.org_unit AND g.v2 = ''")
    "UNION " MEMBER_OF("g.gtype = 'kind' AND g.v1 = f.kind AND g.v2 = ''")
    "UNION " MEMBER_OF("g.gtype = 'school' AND g.v1 = f.school AND g.v2 = ''")
    "UNION " MEMBER_OF("g.gtype = 'class' AND g.v1 = f.school AND g.v2 = f.class")
    "UNION SELECT g.cn FROM affiliation f JOIN dir_seq j ON " TG_AT
    "JOIN dir_group g ON g.gtype = 'tgroup' AND g.v1 = f.school AND g.v2 = " TG_EL " "
    "WHERE f.person_num = ?1 AND f.teaching_groups <> '' AND " IN_FORCE "ORDER BY 1";

static bool read_group(sqlite3_stmt *st, dir_group *g)
{
    memset(g, 0, sizeof *g);
    g->gid_number = sqlite3_column_int64(st, 0);
    return sq_col_str(st, 1, g->gtype, sizeof g->gtype) && sq_col_str(st, 2, g->v1, sizeof g->v1) &&
           sq_col_str(st, 3, g->v2, sizeof g->v2) && sq_col_str(st, 4, g->cn, sizeof g->cn) &&
           sq_col_str(st, 5, g->unit_name, sizeof g->unit_name);
}

tn_code sq_dir_group_get(void *priv, const char *cn, dir_group *out, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_prep_sql(q, SQL_GROUP_GET, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, cn) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "cn", "no such group");
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!read_group(st, out))
        code = sq_corrupt("dir_group", e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_dir_group_scan(void *priv, int64_t after_gid, int64_t limit, store_dir_group_cb cb,
                          void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    dir_group g;
    tn_code code = sq_prep_sql(q, SQL_GROUP_SCAN, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sqlite3_bind_int64(st, 1, after_gid) | sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1)) !=
        SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!read_group(st, &g)) {
            code = sq_corrupt("dir_group", e);
            goto out;
        }
        if (cb(&g, ctx) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_dir_group_members(void *priv, dir_group *g, tn_date today, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char dbuf[DATE_ISO_LEN];
    const char *sql = strcmp(g->gtype, "unit") == 0     ? SQL_M_UNIT
                      : strcmp(g->gtype, "kind") == 0   ? SQL_M_KIND
                      : strcmp(g->gtype, "school") == 0 ? SQL_M_SCHOOL
                      : strcmp(g->gtype, "class") == 0  ? SQL_M_CLASS
                                                        : SQL_M_TGROUP;
    free(g->members);
    g->members = NULL;
    g->members_len = 0;
    g->nmembers = 0;
    size_t cap = 0;
    tn_code code = sq_prep_sql(q, sql, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int brc = sq_b_text(st, 1, g->v1) | sq_b_date(st, 2, today, dbuf);
    if (sql == SQL_M_CLASS || sql == SQL_M_TGROUP)
        brc |= sq_b_text(st, 3, g->v2);
    if (brc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *u = sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (!u)
            continue;
        if (g->members_len + n + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            while (ncap < g->members_len + n + 1)
                ncap *= 2;
            char *nb = realloc(g->members, ncap);
            if (!nb) {
                code = tn_err_set(e, TN_EINTERNAL, NULL, "out of memory");
                goto out;
            }
            g->members = nb;
            cap = ncap;
        }
        memcpy(g->members + g->members_len, u, n);
        g->members[g->members_len + n] = '\0';
        g->members_len += n + 1;
        g->nmembers++;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_dir_member_of(void *priv, int64_t person_number, tn_date today, char *out, size_t cap,
                         tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char dbuf[DATE_ISO_LEN];
    size_t used = 0;
    out[0] = '\0';
    tn_code code = sq_prep_sql(q, SQL_MEMBER_OF, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sqlite3_bind_int64(st, 1, person_number) | sq_b_date(st, 2, today, dbuf)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *c = sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        /* Very many groups are cut at a record boundary, like affiliations. */
        if (!c || used + n + 2 > cap)
            continue;
        if (used)
            out[used++] = '\x1e';
        memcpy(out + used, c, n);
        used += n;
        out[used] = '\0';
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

tn_code sq_dir_group_cn(void *priv, const char *gtype, const char *v1, const char *v2, char *out,
                        size_t cap, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    out[0] = '\0';
    tn_code code = sq_prep_sql(q, SQL_GROUP_CN, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sq_b_text(st, 1, gtype) | sq_b_text(st, 2, v1) | sq_b_text(st, 3, v2)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "cn", "no such group");
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!sq_col_str(st, 0, out, cap))
        code = sq_corrupt("dir_group", e);
out:
    sq_done(st, own);
    return code;
}
