/* store_sqlite — the SQLite backend of the registry store.
 *
 * One connection per handle. Every statement is a constant SQL text with
 * bound parameters; statements are prepared lazily the first time they are
 * used and kept for the life of the connection (reset and unbound after
 * each use), because preparing costs more than running most of them.
 *
 * Nothing SQLite-specific leaves this file: result codes become tn_codes
 * with messages that name the thing in conflict, never a national ID or its
 * hash. A handle is not thread-safe (the connection is opened NOMUTEX);
 * use one handle per thread. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_impl.h"
#include "store_sqlite_int.h"
#include "store_sqlite_lc.h"
#include "tn_mem.h"
#include "tn_str.h"

#define BUSY_TIMEOUT_MS 5000
#define SEALED_MAX_BYTES 4096 /* far above any real sealed national ID */

/* ---- statements --------------------------------------------------------- */

typedef enum stmt_id {
    ST_BEGIN,
    ST_BEGIN_READ,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_DATA_VERSION,
    ST_USER_VERSION,
    ST_META_GET,
    ST_META_SET,
    ST_PERSON_INSERT,
    ST_PERSON_UPDATE,
    ST_PERSON_SET_NID,
    ST_PERSON_GET_NID,
    ST_PERSON_GET,
    ST_PERSON_GET_BY_NUMBER,
    ST_PERSON_NUMBER,
    ST_PERSON_BY_NID_HASH,
    ST_PERSON_BY_USERNAME,
    ST_PERSON_GET_BY_USERNAME,
    ST_PERSON_BY_SOURCE_KEY,
    ST_PERSON_LIST,
    ST_PERSON_LIST_UNIT,
    ST_UNIT_ID,
    ST_AFF_INSERT,
    ST_AFF_UPDATE,
    ST_AFF_GET,
    ST_AFF_GET_BY_SOURCE_KEY,
    ST_AFF_LIST,
    ST_ACCOUNT_INSERT,
    ST_ACCOUNT_UPDATE,
    ST_ACCOUNT_GET_BY_USERNAME,
    ST_ACCOUNT_LIST,
    ST_NAME_RESERVE,
    ST_NAME_OWNER,
    ST_UNIT_INSERT,
    ST_UNIT_GET,
    ST_UNIT_LIST,
    ST__COUNT
} stmt_id;

/* Column lists shared by the readers below (read_person & co. depend on
 * their order). */
#define PERSON_COLS                                                                   \
    "p.number, p.id, p.state, p.given_names, p.family_name, p.preferred_name, "      \
    "p.email, p.phone, p.birth_date, p.gender, p.nationality, p.language, "          \
    "p.nid_hash IS NOT NULL, p.legal_hold_until, p.death_date, p.created_at, "       \
    "p.updated_at"

/* The affiliation columns read_aff expects, with the person's id taken
 * from PID (joined in by JOIN). */
#define AFF_SELECT_WITH(PID, JOIN)                                                    \
    "SELECT a.id, " PID ", a.kind, a.source, a.source_key, a.org_unit, a.title, "    \
    "a.school, "                                                                     \
    "a.class, a.teaching_groups, a.programme, m.id, sp.id, a.valid_from, "           \
    "a.valid_to, a.end_reason, a.created_at, a.updated_at "                          \
    "FROM affiliation a " JOIN                                                       \
    "LEFT JOIN person m ON m.number = a.manager_num "                                \
    "LEFT JOIN person sp ON sp.number = a.sponsor_num "

#define AFF_SELECT AFF_SELECT_WITH("p.id", "JOIN person p ON p.number = a.person_num ")
/* A person's own affiliations: their id is known, so no person row is
 * read per affiliation (sq_aff_list_by_person fills it in). */
#define AFF_SELECT_OWN AFF_SELECT_WITH("NULL", "")

#define ACCOUNT_SELECT                                                                \
    "SELECT a.id, a.owner_id, a.username, a.email, a.state, a.created_on, "          \
    "a.closed_on, a.created_at, a.updated_at FROM account a "

#define UNIT_SELECT                                                                   \
    "SELECT u.id, u.code, u.name, pu.code, u.created_at "                            \
    "FROM org_unit u LEFT JOIN org_unit pu ON pu.id = u.parent_id "


/* The predicates of store_person_list other than the org unit: each is
 * switched off by binding NULL, so one parameterised statement serves every
 * combination. ?1 after_number, ?2 state, ?3 kind, ?4 folded name,
 * ?5 limit (-1 = none), ?6 unit code. */
#define PERSON_LIST_WHERE                                                             \
    "p.number > ?1 AND (?2 IS NULL OR p.state = ?2) "                                 \
    "AND (?4 IS NULL OR instr(tn_fold(p.given_names), ?4) > 0 "                       \
    "     OR instr(tn_fold(p.family_name), ?4) > 0) "

/* Savepoints all carry the one name "sp": SQLite keeps savepoints on a
 * stack and RELEASE / ROLLBACK TO act on the innermost one of that name, so
 * a per-depth name (sp1, sp2 …) would add nothing but a statement to
 * prepare per level. With a fixed name the three statements are prepared
 * once like every other. */
_Static_assert(ST__COUNT <= SQ_CORE_STMTS, "raise SQ_CORE_STMTS");

static const char *const sql_text[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN DEFERRED",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT sp",
    [ST_RELEASE] = "RELEASE sp",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_ROLLBACK_TO] = "ROLLBACK TO sp",
    [ST_USER_VERSION] = "PRAGMA user_version",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_PERSON_INSERT] =
        "INSERT INTO person (id, state, given_names, family_name, preferred_name, email, "
        "phone, birth_date, gender, nationality, language, nid_sealed, nid_hash, "
        "legal_hold_until, death_date, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [ST_PERSON_UPDATE] =
        "UPDATE person SET state = ?2, given_names = ?3, family_name = ?4, "
        "preferred_name = ?5, email = ?6, phone = ?7, birth_date = ?8, gender = ?9, "
        "nationality = ?10, language = ?11, legal_hold_until = ?12, death_date = ?13, "
        "updated_at = ?14 WHERE id = ?1",
    /* The key's date is the row's birth date, or zeros without one (0017). */
    [ST_PERSON_SET_NID] =
        "UPDATE person SET nid_sealed = ?2, nid_hash = CASE WHEN ?3 IS NULL THEN NULL "
        "ELSE CAST(COALESCE(replace(birth_date, '-', ''), '00000000') || ?3 AS BLOB) END "
        "WHERE id = ?1",
    [ST_PERSON_GET_NID] = "SELECT nid_sealed FROM person WHERE id = ?1",
    [ST_PERSON_GET] = "SELECT " PERSON_COLS " FROM person p WHERE p.id = ?1",
    [ST_PERSON_GET_BY_NUMBER] = "SELECT " PERSON_COLS " FROM person p WHERE p.number = ?1",
    [ST_PERSON_NUMBER] = "SELECT number FROM person WHERE id = ?1",
    [ST_PERSON_BY_NID_HASH] = "SELECT id FROM person WHERE nid_hash = ?1",
    [ST_PERSON_BY_USERNAME] = "SELECT p.id FROM account a JOIN person p "
                              "ON p.number = a.person_num WHERE a.username = ?1",
    [ST_PERSON_GET_BY_USERNAME] = "SELECT " PERSON_COLS " FROM account a JOIN person p "
                                  "ON p.number = a.person_num WHERE a.username = ?1",
    [ST_PERSON_BY_SOURCE_KEY] = "SELECT p.id FROM affiliation a JOIN person p "
                                "ON p.number = a.person_num "
                                "WHERE a.source = ?1 AND a.source_key = ?2",
    /* Without a unit: walk persons in number order (the rowid), testing
     * each; the kind test is an index probe on affiliation(person_num). */
    [ST_PERSON_LIST] =
        "SELECT " PERSON_COLS " FROM person p WHERE " PERSON_LIST_WHERE
        "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM affiliation a "
        "     WHERE a.person_num = p.number AND a.kind = ?3)) "
        "ORDER BY p.number LIMIT ?5",
    /* With a unit: start from the unit's subtree, which the unique index on
     * org_unit(code) finds as a range (codes below "X" are "X/…", and '0'
     * is the byte after '/'), so a small unit does not scan every person.
     * Kind and unit must hold for the same affiliation. */
    [ST_PERSON_LIST_UNIT] =
        "SELECT " PERSON_COLS " FROM person p WHERE p.number IN ("
        "  SELECT a.person_num FROM affiliation a "
        "  WHERE (a.org_unit = ?6 OR (a.org_unit >= (?6 || '/') AND a.org_unit < (?6 || '0'))) "
        "    AND (?3 IS NULL OR a.kind = ?3)) "
        "AND " PERSON_LIST_WHERE "ORDER BY p.number LIMIT ?5",
    [ST_UNIT_ID] = "SELECT id FROM org_unit WHERE code = ?1",
    [ST_AFF_INSERT] =
        "INSERT INTO affiliation (person_num, kind, source, source_key, org_unit, title, "
        "school, class, teaching_groups, programme, manager_num, sponsor_num, valid_from, "
        "valid_to, end_reason, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [ST_AFF_UPDATE] =
        "UPDATE affiliation SET kind = ?2, source = ?3, source_key = ?4, org_unit = ?5, "
        "title = ?6, school = ?7, class = ?8, teaching_groups = ?9, programme = ?10, "
        "manager_num = ?11, sponsor_num = ?12, valid_from = ?13, valid_to = ?14, "
        "end_reason = ?15, updated_at = ?16 WHERE id = ?1",
    [ST_AFF_GET] = AFF_SELECT "WHERE a.id = ?1",
    [ST_AFF_GET_BY_SOURCE_KEY] = AFF_SELECT "WHERE a.source = ?1 AND a.source_key = ?2",
    [ST_AFF_LIST] = AFF_SELECT_OWN "WHERE a.person_num = ?1 ORDER BY a.valid_from, a.id",
    [ST_ACCOUNT_INSERT] =
        "INSERT INTO account (person_num, username, email, state, created_on, closed_on, "
        "created_at, updated_at, owner_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_ACCOUNT_UPDATE] = "UPDATE account SET username = ?2, email = ?3, state = ?4, "
                          "closed_on = ?5, updated_at = ?6 WHERE id = ?1",
    [ST_ACCOUNT_GET_BY_USERNAME] = ACCOUNT_SELECT "WHERE a.username = ?1",
    [ST_ACCOUNT_LIST] = ACCOUNT_SELECT "WHERE a.person_num = ?1 ORDER BY a.id",
    [ST_NAME_RESERVE] = "INSERT INTO reserved_name (ns, value, person_id, reserved_at) "
                        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (ns, value) DO NOTHING",
    /* A name is held by the account that carries it or by a reservation
     * (see 0001_registry.sql); each branch is one probe of a unique index. */
    [ST_NAME_OWNER] = "SELECT owner_id FROM account WHERE ?1 = 0 AND username = ?2 "
                      "UNION ALL SELECT owner_id FROM account WHERE ?1 = 1 AND email = ?2 "
                      "UNION ALL SELECT person_id FROM reserved_name WHERE ns = ?1 AND value = ?2 "
                      "LIMIT 1",
    [ST_UNIT_INSERT] = "INSERT INTO org_unit (code, name, parent_id, created_at) "
                       "VALUES (?1, ?2, ?3, ?4)",
    [ST_UNIT_GET] = UNIT_SELECT "WHERE u.code = ?1",
    [ST_UNIT_LIST] = UNIT_SELECT "ORDER BY u.code",
};


/* ---- errors ------------------------------------------------------------- */

/* Map a failed SQLite call to a tn_code. Callers that can name the thing
 * in conflict test sq_is_unique() first; this is the generic rest. SQLite's
 * own messages name tables and columns, never bound values, so they are
 * safe to pass on. */
tn_code sq_fail(sq *q, int rc, tn_err *e)
{
    const char *msg = sqlite3_errmsg(q->db);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return tn_err_set(e, TN_EIO, NULL, "registry is busy");
    case SQLITE_CONSTRAINT:
        switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            return tn_err_set(e, TN_ECONFLICT, NULL, "already exists (%s)", msg);
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            return tn_err_set(e, TN_ENOTFOUND, NULL, "a referenced object does not exist");
        case SQLITE_CONSTRAINT_TRIGGER:
            return tn_err_set(e, TN_ESTATE, NULL, "%s", msg);
        default:
            return tn_err_set(e, TN_EINVAL, NULL, "rejected by the registry: %s", msg);
        }
    default:
        return tn_err_set(e, TN_EIO, NULL, "registry error: %s", msg);
    }
}

bool sq_is_unique(int rc)
{
    return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

tn_code sq_bind_fail(sq *q, tn_err *e)
{
    return tn_err_set(e, TN_EINTERNAL, NULL, "cannot bind a query parameter: %s",
                      sqlite3_errmsg(q->db));
}

tn_code sq_corrupt(const char *what, tn_err *e)
{
    return tn_err_set(e, TN_EIO, NULL, "malformed %s row in the registry", what);
}

/* ---- statement cache ---------------------------------------------------- */

/* Hand out the cached statement for id, preparing it on first use. If the
 * cached one is mid-iteration (a list callback calling back into the store
 * with the same query), a private copy is prepared and *owned is set. */
static tn_code prep(sq *q, stmt_id id, sqlite3_stmt **out, bool *owned, tn_err *e)
{
    sqlite3_stmt *c = q->st[id];
    *owned = false;
    if (c && !sqlite3_stmt_busy(c)) {
        *out = c;
        return TN_OK;
    }
    int rc = sqlite3_prepare_v3(q->db, sql_text[id], -1, c ? 0 : SQLITE_PREPARE_PERSISTENT, out,
                                NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return sq_fail(q, rc, e);
    }
    if (c)
        *owned = true;
    else
        q->st[id] = *out;
    return TN_OK;
}

tn_code sq_prep_sql(sq *q, const char *sql, sqlite3_stmt **out, bool *owned, tn_err *e)
{
    *owned = false;
    int slot = -1;
    for (int i = 0; i < q->nxst; i++)
        if (q->xst[i].sql == sql) {
            slot = i;
            break;
        }
    sqlite3_stmt *c = slot >= 0 ? q->xst[slot].st : NULL;
    if (c && !sqlite3_stmt_busy(c)) {
        *out = c;
        return TN_OK;
    }
    bool cache = !c && q->nxst < SQ_XSTMTS;
    int rc = sqlite3_prepare_v3(q->db, sql, -1, cache ? SQLITE_PREPARE_PERSISTENT : 0, out, NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return sq_fail(q, rc, e);
    }
    if (cache) {
        q->xst[q->nxst].sql = sql;
        q->xst[q->nxst].st = *out;
        q->nxst++;
    } else {
        *owned = true;
    }
    return TN_OK;
}

/* Return a statement: reset it and drop its bindings, which matters because
 * text is bound SQLITE_STATIC and must not outlive the caller's strings. */
void sq_done(sqlite3_stmt *st, bool owned)
{
    if (!st)
        return;
    if (owned) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Run a statement without parameters or rows. */
static tn_code run(sq *q, stmt_id id, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, id, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

/* ---- binding and reading ------------------------------------------------ */

int sq_b_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Optional text: "" and NULL are both stored as NULL. */
int sq_b_opt(sqlite3_stmt *st, int i, const char *s)
{
    return (s && *s) ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Text in a NOT NULL DEFAULT '' column: NULL is stored as "". */
int sq_b_str(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

int sq_b_date(sqlite3_stmt *st, int i, tn_date d, char buf[DATE_ISO_LEN])
{
    if (d == TN_DATE_NONE)
        return sqlite3_bind_null(st, i);
    date_format(d, buf);
    return sqlite3_bind_text(st, i, buf, -1, SQLITE_STATIC);
}

int sq_b_num(sqlite3_stmt *st, int i, int64_t n)
{
    return n ? sqlite3_bind_int64(st, i, n) : sqlite3_bind_null(st, i);
}

/* Copy a text column; NULL reads as "". False if it does not fit, which a
 * registry written through this store never does. */
/* Text is read through sqlite3_column_blob: a string in a record is not
 * NUL-terminated, so sqlite3_column_text would copy it into a fresh
 * allocation just to add the terminator, once per column per row. The
 * database encoding is UTF-8, so the blob view is the same bytes. */
bool sq_col_str(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        out[0] = '\0';
        return true;
    }
    const void *t = sqlite3_column_blob(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    if (n >= cap || memchr(t ? t : "", '\0', n)) {
        out[0] = '\0';
        return false;
    }
    if (n)
        memcpy(out, t, n);
    out[n] = '\0';
    return true;
}

bool sq_col_date(sqlite3_stmt *st, int i, tn_date *d)
{
    char t[DATE_ISO_LEN + 1];
    tn_err e;
    if (!sq_col_str(st, i, t, sizeof t))
        return false;
    if (!*t) {
        *d = TN_DATE_NONE;
        return true;
    }
    return date_parse_iso_opt(t, d, "date", &e) == TN_OK;
}

static bool read_person(sqlite3_stmt *st, person *p)
{
    bool ok = true;
    p->number = sqlite3_column_int64(st, 0);
    ok &= sq_col_str(st, 1, p->id, sizeof p->id);
    char state[STATE_BUFSZ];
    ok &= sq_col_str(st, 2, state, sizeof state) && person_state_parse(state, &p->state);
    ok &= sq_col_str(st, 3, p->given_names, sizeof p->given_names);
    ok &= sq_col_str(st, 4, p->family_name, sizeof p->family_name);
    ok &= sq_col_str(st, 5, p->preferred_name, sizeof p->preferred_name);
    ok &= sq_col_str(st, 6, p->email, sizeof p->email);
    ok &= sq_col_str(st, 7, p->phone, sizeof p->phone);
    ok &= sq_col_date(st, 8, &p->birth_date);
    ok &= sq_col_str(st, 9, p->gender, sizeof p->gender);
    ok &= sq_col_str(st, 10, p->nationality, sizeof p->nationality);
    ok &= sq_col_str(st, 11, p->language, sizeof p->language);
    p->has_national_id = sqlite3_column_int(st, 12) != 0;
    ok &= sq_col_date(st, 13, &p->legal_hold_until);
    ok &= sq_col_date(st, 14, &p->death_date);
    p->created_at = sqlite3_column_int64(st, 15);
    p->updated_at = sqlite3_column_int64(st, 16);
    return ok;
}

static bool read_aff(sqlite3_stmt *st, affiliation *a)
{
    bool ok = true;
    a->id = sqlite3_column_int64(st, 0);
    ok &= sq_col_str(st, 1, a->person_id, sizeof a->person_id);
    ok &= sq_col_str(st, 2, a->kind, sizeof a->kind);
    ok &= sq_col_str(st, 3, a->source, sizeof a->source);
    ok &= sq_col_str(st, 4, a->source_key, sizeof a->source_key);
    ok &= sq_col_str(st, 5, a->org_unit, sizeof a->org_unit);
    ok &= sq_col_str(st, 6, a->title, sizeof a->title);
    ok &= sq_col_str(st, 7, a->school, sizeof a->school);
    ok &= sq_col_str(st, 8, a->class_, sizeof a->class_);
    ok &= sq_col_str(st, 9, a->teaching_groups, sizeof a->teaching_groups);
    ok &= sq_col_str(st, 10, a->programme, sizeof a->programme);
    ok &= sq_col_str(st, 11, a->manager_id, sizeof a->manager_id);
    ok &= sq_col_str(st, 12, a->sponsor_id, sizeof a->sponsor_id);
    ok &= sq_col_date(st, 13, &a->valid_from);
    ok &= sq_col_date(st, 14, &a->valid_to);
    ok &= sq_col_str(st, 15, a->end_reason, sizeof a->end_reason);
    a->created_at = sqlite3_column_int64(st, 16);
    a->updated_at = sqlite3_column_int64(st, 17);
    return ok;
}

static bool read_account(sqlite3_stmt *st, account *a)
{
    bool ok = true;
    a->id = sqlite3_column_int64(st, 0);
    ok &= sq_col_str(st, 1, a->person_id, sizeof a->person_id);
    ok &= sq_col_str(st, 2, a->username, sizeof a->username);
    ok &= sq_col_str(st, 3, a->email, sizeof a->email);
    char state[STATE_BUFSZ];
    ok &= sq_col_str(st, 4, state, sizeof state) && account_state_parse(state, &a->state);
    ok &= sq_col_date(st, 5, &a->created_on);
    ok &= sq_col_date(st, 6, &a->closed_on);
    a->created_at = sqlite3_column_int64(st, 7);
    a->updated_at = sqlite3_column_int64(st, 8);
    return ok;
}

static bool read_unit(sqlite3_stmt *st, org_unit *u)
{
    bool ok = true;
    u->id = sqlite3_column_int64(st, 0);
    ok &= sq_col_str(st, 1, u->code, sizeof u->code);
    ok &= sq_col_str(st, 2, u->name, sizeof u->name);
    ok &= sq_col_str(st, 3, u->parent_code, sizeof u->parent_code);
    u->created_at = sqlite3_column_int64(st, 4);
    return ok;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- case folding for the name filter ------------------------------------ */

/* Lower-case the letters a personal name may hold (name.h): ASCII,
 * Latin-1, Latin Extended-A and the Latin Extended-B letters of Sámi and
 * other European orthographies. SQLite's lower() folds ASCII only, which
 * would make "Ä" and "ä" different. Every mapping stays within two-byte
 * UTF-8, so folding never changes a string's length. */
static unsigned fold_cp(unsigned c)
{
    if (c >= 0xC0 && c <= 0xDE)
        return c == 0xD7 ? c : c + 0x20; /* À..Þ, not × */
    if (c >= 0x100 && c <= 0x137)
        return c == 0x130 ? c : (c | 1); /* Ā..ķ pairs; İ has no one-letter lower */
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E) ||
        (c >= 0x1CD && c <= 0x1DC))
        return (c & 1) ? c + 1 : c; /* odd upper, even lower */
    if ((c >= 0x14A && c <= 0x177) || (c >= 0x1DE && c <= 0x1EF) ||
        (c >= 0x1F8 && c <= 0x21F))
        return c | 1; /* even upper, odd lower */
    if (c == 0x178)
        return 0xFF; /* Ÿ */
    if (c == 0x1B7)
        return 0x292; /* Ʒ (Skolt Sámi) */
    return c;
}

/* out receives n + 1 bytes. */
static void fold_utf8(const unsigned char *s, size_t n, unsigned char *out)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        if (b >= 'A' && b <= 'Z') {
            out[i] = (unsigned char)(b + 32);
            i++;
        } else if (b >= 0xC2 && b <= 0xDF && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            unsigned c = fold_cp(((unsigned)(b & 0x1F) << 6) | (s[i + 1] & 0x3F));
            out[i] = (unsigned char)(0xC0 | (c >> 6));
            out[i + 1] = (unsigned char)(0x80 | (c & 0x3F));
            i += 2;
        } else {
            out[i] = b;
            i++;
        }
    }
    out[n] = '\0';
}

static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const unsigned char *s = sqlite3_value_text(argv[0]);
    if (!s) {
        sqlite3_result_null(ctx);
        return;
    }
    int n = sqlite3_value_bytes(argv[0]);
    unsigned char small[512];
    unsigned char *buf = (size_t)n < sizeof small ? small : sqlite3_malloc(n + 1);
    if (!buf) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    fold_utf8(s, (size_t)n, buf);
    sqlite3_result_text(ctx, (const char *)buf, n, buf == small ? SQLITE_TRANSIENT : sqlite3_free);
}

/* ---- schema and migrations ---------------------------------------------- */

static tn_code read_user_version(sq *q, int *out, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, ST_USER_VERSION, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    *out = sqlite3_column_int(st, 0);
out:
    sq_done(st, own);
    return code;
}

static tn_code too_new(int v, tn_err *e)
{
    return tn_err_set(e, TN_ESTATE, NULL,
                      "the registry has schema version %d, newer than this build of tunnus "
                      "knows (%d); use a newer tunnus",
                      v, store_migrations_count);
}

/* Bring the schema up to date: each numbered migration runs in its own
 * write transaction together with the user_version bump that records it,
 * so a failure leaves the registry at the previous version. The version
 * is re-read under the write lock in case another process migrated first. */
static tn_code migrate(sq *q, tn_err *e)
{
    int v = 0;
    tn_code code = read_user_version(q, &v, e);
    if (code != TN_OK)
        return code;
    if (v > store_migrations_count)
        return too_new(v, e);
    if (v < store_migrations_count)
        sqlite3_busy_timeout(q->db, SQ_MIGRATE_WAIT_MS);
    while (v < store_migrations_count) {
        if ((code = run(q, ST_BEGIN, e)) != TN_OK)
            goto fail;
        if ((code = read_user_version(q, &v, e)) != TN_OK)
            goto fail;
        if (v >= store_migrations_count) {
            code = v > store_migrations_count ? too_new(v, e) : run(q, ST_COMMIT, e);
            if (code != TN_OK)
                goto fail;
            break;
        }
        const store_migration *m = &store_migrations[v];
        if (m->version != v + 1) {
            code = tn_err_set(e, TN_EINTERNAL, NULL, "migration %s is out of order", m->name);
            goto fail;
        }
        /* The version is an integer from this build, not input; PRAGMA
         * takes no parameters. */
        char pragma[48];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
        if (sqlite3_exec(q->db, m->sql, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(q->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
            code = tn_err_set(e, TN_EIO, NULL, "schema migration %s failed: %s", m->name,
                              sqlite3_errmsg(q->db));
            goto fail;
        }
        if ((code = run(q, ST_COMMIT, e)) != TN_OK)
            goto fail;
        v = m->version;
    }
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
    return TN_OK;
fail:
    if (!sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
    return code;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void sq_close(void *priv)
{
    sq *q = priv;
    if (!q)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(q->st[i]);
    for (int i = 0; i < q->nxst; i++)
        sqlite3_finalize(q->xst[i].st);
    /* An open transaction is rolled back by the close. */
    sqlite3_close_v2(q->db);
    sq_rl_free(q);
    free(q);
}

static void unlink_created(const char *path)
{
    char side[PATH_MAX];
    unlink(path);
    if ((size_t)snprintf(side, sizeof side, "%s-wal", path) < sizeof side)
        unlink(side);
    if ((size_t)snprintf(side, sizeof side, "%s-shm", path) < sizeof side)
        unlink(side);
}

/* Connection settings, applied on every open:
 * - WAL lets readers (LDAP, SCIM) run while a writer commits.
 * - synchronous=NORMAL: in WAL mode a commit is only appended to the WAL
 *   and not fsync'ed; the WAL is synced at checkpoints. Every committed
 *   transaction survives a crash of the application; a power loss or OS
 *   crash may lose the last commits but never corrupts the registry. FULL
 *   would fsync on each commit and make commit latency the disk's.
 * - foreign keys are off by default in SQLite and must be asked for.
 * - a 64 MiB page cache and memory temp store keep the indexes of a large
 *   registry hot. No mmap by default: for one connection it made reads no
 *   faster and it counts the mapped file into the process's resident size.
 *   The HTTP workers map the registry ([http] mmap_mib): several handles
 *   each with its own page cache read most pages with pread(2), and the
 *   map shares the OS page cache between them (+17-40 % req/s measured).
 * - wal_autocheckpoint of 16384 pages (64 MiB of WAL): a checkpoint copies
 *   each changed page back once however often it changed since the last
 *   one, and each costs an fsync, so bulk loads that touch index pages all
 *   over the registry write several times less with fewer checkpoints.
 * - trusted_schema=OFF: SQL functions in the schema may not touch
 *   anything outside it (defence against a tampered registry file). */
/* temp_store = FILE: large ephemeral tables (a DISTINCT or GROUP BY without
 * an index) go to a temporary file instead of memory; sub-journals stay in
 * memory regardless (sq_lib_config); docs/architecture.md has the
 * trade-off. */
static const char open_pragmas[] = "PRAGMA foreign_keys = ON;"
                                   "PRAGMA synchronous = NORMAL;"
                                   "PRAGMA cache_size = -65536;"
                                   "PRAGMA temp_store = FILE;"
                                   "PRAGMA mmap_size = 0;"
                                   "PRAGMA wal_autocheckpoint = 16384;"
                                   "PRAGMA trusted_schema = OFF;";

int sq_set_wal(sqlite3 *db, int budget_ms)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    /* SQLITE_BUSY here can come without the busy handler (a lock
     * escalation SQLite refuses to avoid a deadlock with another
     * connection's write transaction): it is over when that transaction
     * ends, so retry for the budget. */
    for (int waited = 0; rc == SQLITE_OK;) {
        rc = sqlite3_step(st);
        if ((rc & 0xff) != SQLITE_BUSY || waited >= budget_ms)
            break;
        sqlite3_reset(st);
        sqlite3_sleep(10);
        waited += 10;
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        rc = mode && strcmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc;
}

static tn_code set_wal(sq *q, const char *path, tn_err *e)
{
    int rc = sq_set_wal(q->db, BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK)
        return TN_OK;
    if (rc == SQLITE_NOTADB)
        return tn_err_set(e, TN_EIO, "registry", "%s is not a tunnus registry", path);
    if ((rc & 0xff) == SQLITE_BUSY)
        return tn_err_set(e, TN_EIO, "registry", "registry is busy");
    if (rc == SQLITE_ERROR)
        return tn_err_set(e, TN_EIO, NULL, "cannot switch registry %s to WAL mode", path);
    return tn_err_set(e, TN_EIO, "registry", "cannot open registry %s: %s", path,
                      sqlite3_errmsg(q->db));
}

/* SQLite's memory statistics take a global mutex and update counters on
 * every allocation and free, about a tenth of the work of an insert; the
 * registry never reads them. Every service call in a batch is a savepoint,
 * whose sub-journal copies each page the call first changes. Those
 * journals stay in memory (a negative statement-journal spill size), in
 * SQLite's 1 KiB chunks. Tried and given up: a spill size of 256 KiB kept
 * an enrolment's journal in one block (10-15 % faster inserts), but with
 * SQLite 3.40 any spill size from about 136 KiB up fails a statement whose
 * journal outgrows it with "database or disk is full" (migration 0017 on a
 * 200,000-person registry did; so would a large retention cut), and at
 * 128 KiB an enrolment's journal (about 40 pages) spills to a temporary
 * file every time: 40 % slower inserts. test_store checks a journal far
 * past 256 KiB. Both settings are library-wide, so set once, before the
 * first connection initialises the library (later they are refused,
 * harmlessly: only slower). */
static pthread_once_t sq_lib_once = PTHREAD_ONCE_INIT;
static void sq_lib_config(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STORE_STMTJRNL_SPILL);
}

static tn_code sq_open(const char *path, store_open_mode mode, void **priv, tn_err *e)
{
    sq *q = tn_calloc(1, sizeof *q);
    bool created = false;
    tn_code code = TN_OK;
    int rc;

    *priv = NULL;
    if (mode == STORE_OPEN_CREATE) {
        /* O_EXCL makes "fail if it exists" atomic, and the registry is
         * born private (it holds personal data). An empty file is a valid
         * empty SQLite database. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            code = errno == EEXIST
                       ? tn_err_set(e, TN_ECONFLICT, "registry", "a registry already exists at %s",
                                    path)
                       : tn_err_set(e, TN_EIO, "registry", "cannot create registry %s: %s", path,
                                    strerror(errno));
            goto out;
        }
        close(fd);
        created = true;
    }

    pthread_once(&sq_lib_once, sq_lib_config);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_EXRESCODE
    flags |= SQLITE_OPEN_EXRESCODE;
#endif
    rc = sqlite3_open_v2(path, &q->db, flags, NULL);
    if (rc != SQLITE_OK) {
        struct stat sb;
        if (mode == STORE_OPEN_EXISTING && stat(path, &sb) != 0 && errno == ENOENT)
            code = tn_err_set(e, TN_ENOTFOUND, "registry",
                              "no registry at %s; run `tunnus init` first", path);
        else
            code = tn_err_set(e, TN_EIO, "registry", "cannot open registry %s: %s", path,
                              q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);

    if ((code = set_wal(q, path, e)) != TN_OK)
        goto out;
    if (sqlite3_exec(q->db, open_pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        code = tn_err_set(e, TN_EIO, "registry", "cannot configure registry %s: %s", path,
                          sqlite3_errmsg(q->db));
        goto out;
    }
    rc = sqlite3_create_function(q->db, "tn_fold", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                 sql_fold, NULL, NULL);
    if (rc != SQLITE_OK) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    if ((code = migrate(q, e)) != TN_OK)
        goto out;
    *priv = q;
    q = NULL;
out:
    if (q) {
        sq_close(q);
        if (created)
            unlink_created(path);
    }
    return code;
}

static tn_code sq_schema_version(void *priv, int *out, tn_err *e)
{
    return read_user_version(priv, out, e);
}

/* ---- transactions ------------------------------------------------------- */

static void cache_clear(sq *q)
{
    q->cache_num = 0;
    q->cache_id[0] = '\0';
}

/* SQLite rolls a whole transaction back by itself after some errors (disk
 * full, I/O error, out of memory). Then it is in autocommit mode although
 * our depth says otherwise; the levels must be rolled back by the caller
 * and no statement may run as if it were still inside. */
static bool tx_lost(sq *q)
{
    return q->depth > 0 && sqlite3_get_autocommit(q->db);
}

static tn_code lost(sq *q, tn_err *e)
{
    cache_clear(q);
    return tn_err_set(e, TN_EIO, NULL,
                      "the transaction was rolled back after an earlier error");
}

/* Every mutating method starts here: a write outside a transaction would
 * autocommit on its own and break the atomicity of a service call, so it
 * is a programming error worth catching early. */
tn_code sq_need_tx(sq *q, tn_err *e)
{
    if (q->depth == 0)
        return tn_err_set(e, TN_EINTERNAL, NULL, "write outside a transaction");
    if (sqlite3_get_autocommit(q->db))
        return lost(q, e);
    return TN_OK;
}

/* A read scope ends where a write begins: the snapshot is given up, and
 * the write transaction starts fresh (upgrading a read snapshot that
 * another connection has overtaken fails with SQLITE_BUSY_SNAPSHOT). */
static void read_close(sq *q)
{
    if (!q->reading)
        return;
    q->reading = false;
    if (!sqlite3_get_autocommit(q->db))
        run(q, ST_COMMIT, NULL);
}

static tn_code sq_read_begin(void *priv, tn_err *e)
{
    sq *q = priv;
    if (q->depth > 0 || q->reading)
        return TN_OK; /* already inside a transaction: it is the snapshot */
    tn_code code = run(q, ST_BEGIN_READ, e);
    if (code == TN_OK)
        q->reading = true;
    return code;
}

static void sq_read_end(void *priv)
{
    read_close(priv);
}

/* SQLite's data_version moves with other connections' commits only; the
 * count of this connection's write transactions covers its own. The
 * PRAGMA also starts the read scope's snapshot, which the scope's first
 * read would have done anyway. */
static tn_code sq_data_version(void *priv, uint64_t *out, tn_err *e)
{
    sq *q = priv;
    *out = 0;
    if (q->depth > 0)
        return TN_OK;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, ST_DATA_VERSION, &st, &own, e);
    if (code != TN_OK)
        return code;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) /* both halves 32 bits, as SQLite's own counter is */
        *out = ((uint64_t)(uint32_t)sqlite3_column_int64(st, 0) << 32) | (uint32_t)q->writes;
    else
        code = sq_fail(q, rc == SQLITE_DONE ? SQLITE_ERROR : rc, e);
    sq_done(st, own);
    return code;
}

static tn_code sq_tx_begin(void *priv, tn_err *e)
{
    sq *q = priv;
    if (tx_lost(q))
        return lost(q, e);
    if (q->depth == 0) {
        read_close(q);
        q->writes++; /* before: what a reader saw under the old number may change now */
    }
    /* IMMEDIATE takes the write lock now, so a transaction never fails
     * half-way with SQLITE_BUSY when it first writes; waiting happens here,
     * under the busy timeout. */
    tn_code code = run(q, q->depth == 0 ? ST_BEGIN : ST_SAVEPOINT, e);
    if (code == TN_OK)
        q->depth++;
    return code;
}

static void sq_tx_rollback(void *priv);

/* A failed commit rolls its level back and closes it, so a caller never
 * has to clean up after a commit (the service layer relies on this). */
static tn_code sq_tx_commit(void *priv, tn_err *e)
{
    sq *q = priv;
    tn_code code;
    if (q->depth == 0)
        return tn_err_set(e, TN_EINTERNAL, NULL, "commit without a transaction");
    if (tx_lost(q))
        code = lost(q, e);
    else
        code = run(q, q->depth == 1 ? ST_COMMIT : ST_RELEASE, e);
    if (code == TN_OK)
        q->depth--;
    else
        sq_tx_rollback(q);
    return code;
}

static void sq_tx_rollback(void *priv)
{
    sq *q = priv;
    if (q->depth == 0)
        return;
    q->depth--;
    cache_clear(q);
    if (sqlite3_get_autocommit(q->db))
        return; /* SQLite already rolled everything back */
    if (q->depth == 0) {
        run(q, ST_ROLLBACK, NULL);
    } else {
        /* ROLLBACK TO undoes the level but keeps the savepoint open. */
        run(q, ST_ROLLBACK_TO, NULL);
        run(q, ST_RELEASE, NULL);
    }
}

static int sq_tx_depth(void *priv)
{
    return ((sq *)priv)->depth;
}

/* ---- shared lookups ----------------------------------------------------- */

/* Run a statement with up to two text parameters that selects one text
 * column. A missing row is a bare TN_ENOTFOUND (e untouched): the caller
 * words the message, only when it is needed. */
static tn_code select_text(sq *q, stmt_id id, const char *p1, const char *p2, char *out,
                           size_t cap, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, id, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, p1) != SQLITE_OK || (p2 && sq_b_text(st, 2, p2) != SQLITE_OK)) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = TN_ENOTFOUND;
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!sq_col_str(st, 0, out, cap))
        code = sq_corrupt("lookup", e);
out:
    sq_done(st, own);
    return code;
}

/* Like select_text for one integer column. */
static tn_code select_int(sq *q, stmt_id id, const char *p1, int64_t *out, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, id, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, p1) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = TN_ENOTFOUND; /* the caller words the message */
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else
        *out = sqlite3_column_int64(st, 0);
out:
    sq_done(st, own);
    return code;
}

/* Person UUID -> internal number. remember: keep the pair in the one-slot
 * cache (for the subject of a call, not for its manager or sponsor). */
tn_code sq_person_num(sq *q, const char *id, bool remember, const char *field,
                          const char *what, int64_t *out, tn_err *e)
{
    if (q->cache_num > 0 && strcmp(q->cache_id, id) == 0) {
        *out = q->cache_num;
        return TN_OK;
    }
    tn_code code = select_int(q, ST_PERSON_NUMBER, id, out, e);
    if (code == TN_ENOTFOUND)
        return tn_err_set(e, TN_ENOTFOUND, field, "%s not found", what);
    if (code == TN_OK && remember && tn_strlcpy(q->cache_id, id, sizeof q->cache_id))
        q->cache_num = *out;
    return code;
}

/* Org unit code -> id; "" -> 0 (none). */
static tn_code unit_id(sq *q, const char *code_, const char *field, const char *what,
                       int64_t *out, tn_err *e)
{
    *out = 0;
    if (!code_ || !*code_)
        return TN_OK;
    tn_code code = select_int(q, ST_UNIT_ID, code_, out, e);
    if (code == TN_ENOTFOUND)
        return tn_err_set(e, TN_ENOTFOUND, field, "%s %s not found", what, code_);
    return code;
}

/* Run a single-row INSERT/UPDATE whose parameters are bound. */
int sq_step_write(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- metadata ----------------------------------------------------------- */

static tn_code sq_meta_get(void *priv, const char *key, char *out, size_t cap, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, ST_META_GET, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, key) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "key", "registry setting %s is not set", key);
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (cap == 0 || !sq_col_str(st, 0, out, cap))
        code = tn_err_set(e, TN_EINTERNAL, "key", "buffer too small for setting %s", key);
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_meta_set(void *priv, const char *key, const char *value, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = prep(q, ST_META_SET, &st, &own, e)) != TN_OK)
        goto out;
    if (sq_b_text(st, 1, key) != SQLITE_OK || sq_b_text(st, 2, value) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

/* ---- persons ------------------------------------------------------------ */

tn_code sq_bad_state(const char *what, tn_err *e)
{
    return tn_err_set(e, TN_EINVAL, "state", "invalid %s state", what);
}

bool nid_date_prefix(tn_date birth, unsigned char out[NID_DATE_BYTES])
{
    char iso[DATE_ISO_LEN];
    if (birth == TN_DATE_NONE || strlen(date_format(birth, iso)) != 10 || iso[4] != '-')
        return false;
    memcpy(out, iso, 4);
    memcpy(out + 4, iso + 5, 2);
    memcpy(out + 6, iso + 8, 2);
    return true;
}

tn_code nid_key(tn_date birth, const unsigned char hash[STORE_HASH_BYTES],
                unsigned char out[NID_KEY_BYTES], tn_err *e)
{
    if (!nid_date_prefix(birth, out))
        return tn_err_set(e, TN_EINTERNAL, "national_id",
                          "a national ID is stored with the birth date it encodes");
    memcpy(out + NID_DATE_BYTES, hash, STORE_HASH_BYTES);
    return TN_OK;
}

/* The person holding one form of a national ID's key (TN_ENOTFOUND: none). */
static tn_code nid_holder(sq *q, const unsigned char key[NID_KEY_BYTES], char *id_out, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, ST_PERSON_BY_NID_HASH, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sqlite3_bind_blob(st, 1, key, NID_KEY_BYTES, SQLITE_STATIC) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "national_id", "no person has this national ID");
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!sq_col_str(st, 0, id_out, UUID_BUFSZ))
        code = sq_corrupt("person", e);
out:
    sq_done(st, own);
    return code;
}

/* The person holding a national ID: under its dated key (unless
 * !dated_too), else under the undated one, eight zeros where the date
 * stood (a person whose birth date was removed). TN_ENOTFOUND: nobody. */
static tn_code nid_lookup(sq *q, const unsigned char dated[NID_KEY_BYTES], bool dated_too,
                          char *id_out, tn_err *e)
{
    tn_code code = dated_too ? nid_holder(q, dated, id_out, e) : TN_ENOTFOUND;
    if (code == TN_ENOTFOUND) {
        unsigned char undated[NID_KEY_BYTES];
        memset(undated, '0', NID_DATE_BYTES);
        memcpy(undated + NID_DATE_BYTES, dated + NID_DATE_BYTES, STORE_HASH_BYTES);
        code = nid_holder(q, undated, id_out, e);
    }
    return code;
}

/* Before a national ID is written: nobody but self may hold it, under
 * either form of its key, which the unique index does not tell apart.
 * check_dated: false when the key written is the dated one (the unique
 * index itself refuses a second). */
static tn_code nid_free(sq *q, const unsigned char dated[NID_KEY_BYTES], bool check_dated,
                        const char *self, tn_err *e)
{
    char holder[UUID_BUFSZ];
    tn_code code = nid_lookup(q, dated, check_dated, holder, e);
    if (code == TN_ENOTFOUND || (code == TN_OK && self && strcmp(holder, self) == 0))
        return TN_OK;
    if (code == TN_OK)
        code = tn_err_set(e, TN_ECONFLICT, "national_id",
                          "another person has the same national ID");
    return code;
}

static tn_code sq_person_insert(void *priv, person *p, const unsigned char *sealed,
                                size_t sealed_len, const unsigned char *hash, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char bd[DATE_ISO_LEN], lh[DATE_ISO_LEN], dd[DATE_ISO_LEN];
    const char *state = person_state_name(p->state);
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK)
        goto out;
    if (!state || (unsigned)p->state >= PSTATE_MAX) {
        code = sq_bad_state("person", e);
        goto out;
    }
    if ((sealed == NULL) != (hash == NULL) || sealed_len > SEALED_MAX_BYTES) {
        code = tn_err_set(e, TN_EINTERNAL, "national_id",
                          "a national ID needs its sealed form and its hash");
        goto out;
    }
    unsigned char key[NID_KEY_BYTES];
    /* The unique index sees a dated twin; the undated one is probed. */
    if (hash && ((code = nid_key(p->birth_date, hash, key, e)) != TN_OK ||
                 (code = nid_free(q, key, false, NULL, e)) != TN_OK))
        goto out;
    if ((code = prep(q, ST_PERSON_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sq_b_text(st, 1, p->id);
    rc |= sq_b_text(st, 2, state);
    rc |= sq_b_text(st, 3, p->given_names);
    rc |= sq_b_text(st, 4, p->family_name);
    rc |= sq_b_text(st, 5, p->preferred_name);
    rc |= sq_b_text(st, 6, p->email);
    rc |= sq_b_text(st, 7, p->phone);
    rc |= sq_b_date(st, 8, p->birth_date, bd);
    rc |= sq_b_text(st, 9, p->gender);
    rc |= sq_b_text(st, 10, p->nationality);
    rc |= sq_b_text(st, 11, p->language);
    rc |= sealed ? sqlite3_bind_blob(st, 12, sealed, (int)sealed_len, SQLITE_STATIC)
                 : sqlite3_bind_null(st, 12);
    rc |= hash ? sqlite3_bind_blob(st, 13, key, sizeof key, SQLITE_STATIC)
               : sqlite3_bind_null(st, 13);
    rc |= sq_b_date(st, 14, p->legal_hold_until, lh);
    rc |= sq_b_date(st, 15, p->death_date, dd);
    rc |= sqlite3_bind_int64(st, 16, p->created_at);
    rc |= sqlite3_bind_int64(st, 17, p->updated_at);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK) {
        if (!sq_is_unique(rc))
            code = sq_fail(q, rc, e);
        else if (strstr(sqlite3_errmsg(q->db), "nid_hash"))
            code = tn_err_set(e, TN_ECONFLICT, "national_id",
                              "another person has the same national ID");
        else
            code = tn_err_set(e, TN_ECONFLICT, "id", "person %s already exists", p->id);
        goto out;
    }
    p->number = sqlite3_last_insert_rowid(q->db);
    p->has_national_id = sealed != NULL;
    if (tn_strlcpy(q->cache_id, p->id, sizeof q->cache_id))
        q->cache_num = p->number;
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_person_update(void *priv, const person *p, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char bd[DATE_ISO_LEN], lh[DATE_ISO_LEN], dd[DATE_ISO_LEN];
    const char *state = person_state_name(p->state);
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK)
        goto out;
    if (!state || (unsigned)p->state >= PSTATE_MAX) {
        code = sq_bad_state("person", e);
        goto out;
    }
    if ((code = prep(q, ST_PERSON_UPDATE, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sq_b_text(st, 1, p->id);
    rc |= sq_b_text(st, 2, state);
    rc |= sq_b_text(st, 3, p->given_names);
    rc |= sq_b_text(st, 4, p->family_name);
    rc |= sq_b_text(st, 5, p->preferred_name);
    rc |= sq_b_text(st, 6, p->email);
    rc |= sq_b_text(st, 7, p->phone);
    rc |= sq_b_date(st, 8, p->birth_date, bd);
    rc |= sq_b_text(st, 9, p->gender);
    rc |= sq_b_text(st, 10, p->nationality);
    rc |= sq_b_text(st, 11, p->language);
    rc |= sq_b_date(st, 12, p->legal_hold_until, lh);
    rc |= sq_b_date(st, 13, p->death_date, dd);
    rc |= sqlite3_bind_int64(st, 14, p->updated_at);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
    else if (sqlite3_changes(q->db) == 0)
        code = tn_err_set(e, TN_ENOTFOUND, "id", "person not found");
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_person_set_nid(void *priv, const char *id, tn_date birth,
                                 const unsigned char *sealed, size_t sealed_len,
                                 const unsigned char *hash, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK)
        goto out;
    if ((sealed == NULL) != (hash == NULL) || sealed_len > SEALED_MAX_BYTES) {
        code = tn_err_set(e, TN_EINTERNAL, "national_id",
                          "a national ID needs its sealed form and its hash");
        goto out;
    }
    unsigned char key[NID_KEY_BYTES];
    if (hash && ((code = nid_key(birth, hash, key, e)) != TN_OK ||
                 (code = nid_free(q, key, true, id, e)) != TN_OK))
        goto out;
    if ((code = prep(q, ST_PERSON_SET_NID, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sq_b_text(st, 1, id);
    rc |= sealed ? sqlite3_bind_blob(st, 2, sealed, (int)sealed_len, SQLITE_STATIC)
                 : sqlite3_bind_null(st, 2);
    rc |= hash ? sqlite3_bind_blob(st, 3, hash, STORE_HASH_BYTES, SQLITE_STATIC)
               : sqlite3_bind_null(st, 3);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_is_unique(rc) ? tn_err_set(e, TN_ECONFLICT, "national_id",
                                          "another person has the same national ID")
                             : sq_fail(q, rc, e);
    else if (sqlite3_changes(q->db) == 0)
        code = tn_err_set(e, TN_ENOTFOUND, "id", "person not found");
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_person_get_nid(void *priv, const char *id, unsigned char *out, size_t cap,
                                 size_t *outlen, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, ST_PERSON_GET_NID, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, id) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        code = tn_err_set(e, TN_ENOTFOUND, "id", "person not found");
        goto out;
    }
    if (rc != SQLITE_ROW) {
        code = sq_fail(q, rc, e);
        goto out;
    }
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        code = tn_err_set(e, TN_ENOTFOUND, "national_id", "the person has no national ID");
        goto out;
    }
    const void *blob = sqlite3_column_blob(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    if (n > cap) {
        code = tn_err_set(e, TN_EINTERNAL, "national_id", "buffer too small for the sealed ID");
        goto out;
    }
    if (n)
        memcpy(out, blob, n);
    *outlen = n;
out:
    sq_done(st, own);
    return code;
}

static tn_code get_person(sq *q, stmt_id id, const char *key, int64_t number, person *out,
                          tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, id, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc = key ? sq_b_text(st, 1, key) : sqlite3_bind_int64(st, 1, number);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, key ? "id" : "number", "person not found");
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!read_person(st, out))
        code = sq_corrupt("person", e);
    else if (tn_strlcpy(q->cache_id, out->id, sizeof q->cache_id))
        q->cache_num = out->number; /* the lists that usually follow need it */
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_person_get(void *priv, const char *id, person *out, tn_err *e)
{
    return get_person(priv, ST_PERSON_GET, id, 0, out, e);
}

static tn_code sq_person_get_by_number(void *priv, int64_t number, person *out, tn_err *e)
{
    return get_person(priv, ST_PERSON_GET_BY_NUMBER, NULL, number, out, e);
}

static tn_code sq_person_get_by_username(void *priv, const char *username, person *out,
                                         tn_err *e)
{
    tn_code code = get_person(priv, ST_PERSON_GET_BY_USERNAME, username, 0, out, e);
    if (code == TN_ENOTFOUND)
        return tn_err_set(e, code, "username", "no account has username %s", username);
    return code;
}

static tn_code sq_person_find_by_nid_hash(void *priv, tn_date birth, const unsigned char *hash,
                                          char *id_out, tn_err *e)
{
    unsigned char key[NID_KEY_BYTES];
    tn_code code = nid_key(birth, hash, key, e);
    return code == TN_OK ? nid_lookup(priv, key, true, id_out, e) : code;
}

static tn_code sq_person_find_by_username(void *priv, const char *username, char *id_out,
                                          tn_err *e)
{
    tn_code code =
        select_text(priv, ST_PERSON_BY_USERNAME, username, NULL, id_out, UUID_BUFSZ, e);
    if (code == TN_ENOTFOUND)
        return tn_err_set(e, code, "username", "no account has username %s", username);
    return code;
}

static tn_code sq_person_find_by_source_key(void *priv, const char *source, const char *key,
                                            char *id_out, tn_err *e)
{
    tn_code code = select_text(priv, ST_PERSON_BY_SOURCE_KEY, source ? source : "",
                               key ? key : "", id_out, UUID_BUFSZ, e);
    if (code == TN_ENOTFOUND)
        return tn_err_set(e, code, "source_key", "no affiliation has source key %s:%s", source,
                          key);
    return code;
}

static tn_code sq_person_list(void *priv, const store_person_filter *f, store_person_cb cb,
                              void *ctx, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    unsigned char *name = NULL;
    person *p = NULL;
    tn_code code = TN_OK;
    bool by_unit = f->org_unit && *f->org_unit;
    const char *state = NULL;

    if (f->state >= 0) {
        state = (unsigned)f->state < PSTATE_MAX ? person_state_name((person_state)f->state) : NULL;
        if (!state) {
            code = sq_bad_state("person", e);
            goto out;
        }
    }
    if (f->name && *f->name) {
        size_t n = strlen(f->name);
        name = tn_malloc(n + 1);
        fold_utf8((const unsigned char *)f->name, n, name);
    }
    if ((code = prep(q, by_unit ? ST_PERSON_LIST_UNIT : ST_PERSON_LIST, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, f->after_number > 0 ? f->after_number : 0);
    rc |= sq_b_text(st, 2, state);
    rc |= sq_b_opt(st, 3, f->kind);
    rc |= sq_b_text(st, 4, (const char *)name);
    rc |= sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : -1);
    if (by_unit)
        rc |= sq_b_text(st, 6, f->org_unit);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    p = tn_malloc(sizeof *p);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!read_person(st, p)) {
            code = sq_corrupt("person", e);
            goto out;
        }
        if (cb(p, ctx) != 0)
            goto out;
    }
    if (rc != SQLITE_DONE)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    free(name);
    free(p);
    return code;
}

/* ---- affiliations ------------------------------------------------------- */

/* Resolve the references of an affiliation to row numbers. */
static tn_code aff_refs(sq *q, const affiliation *a, bool with_person, int64_t nums[4], tn_err *e)
{
    tn_code code = TN_OK;
    nums[0] = nums[1] = nums[2] = nums[3] = 0;
    if (with_person &&
        (code = sq_person_num(q, a->person_id, true, "person_id", "person", &nums[0], e)) != TN_OK)
        return code;
    if (a->manager_id[0] &&
        (code = sq_person_num(q, a->manager_id, false, "manager_id", "manager", &nums[2], e)) !=
            TN_OK)
        return code;
    if (a->sponsor_id[0] &&
        (code = sq_person_num(q, a->sponsor_id, false, "sponsor_id", "sponsor", &nums[3], e)) !=
            TN_OK)
        return code;
    return TN_OK;
}

/* The person, manager and sponsor were resolved before the write, so a
 * foreign key that fails here is the org unit (referenced by code). */
static tn_code aff_conflict(sq *q, int rc, const affiliation *a, tn_err *e)
{
    if (sq_is_unique(rc))
        return tn_err_set(e, TN_ECONFLICT, "source_key", "source key %s:%s already exists",
                          a->source, a->source_key);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return tn_err_set(e, TN_ENOTFOUND, "org_unit", "org unit %s not found", a->org_unit);
    return sq_fail(q, rc, e);
}

static tn_code sq_aff_insert(void *priv, affiliation *a, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t nums[4];
    char vf[DATE_ISO_LEN], vt[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = aff_refs(q, a, true, nums, e)) != TN_OK ||
        (code = prep(q, ST_AFF_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, nums[0]);
    rc |= sq_b_text(st, 2, a->kind);
    rc |= sq_b_text(st, 3, a->source);
    rc |= sq_b_text(st, 4, a->source_key);
    rc |= sq_b_opt(st, 5, a->org_unit);
    rc |= sq_b_text(st, 6, a->title);
    rc |= sq_b_text(st, 7, a->school);
    rc |= sq_b_text(st, 8, a->class_);
    rc |= sq_b_text(st, 9, a->teaching_groups);
    rc |= sq_b_text(st, 10, a->programme);
    rc |= sq_b_num(st, 11, nums[2]);
    rc |= sq_b_num(st, 12, nums[3]);
    rc |= sq_b_date(st, 13, a->valid_from, vf);
    rc |= sq_b_date(st, 14, a->valid_to, vt);
    rc |= sq_b_text(st, 15, a->end_reason);
    rc |= sqlite3_bind_int64(st, 16, a->created_at);
    rc |= sqlite3_bind_int64(st, 17, a->updated_at);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK) {
        code = aff_conflict(q, rc, a, e);
        goto out;
    }
    a->id = sqlite3_last_insert_rowid(q->db);
out:
    sq_done(st, own);
    return code;
}

/* Writes everything but id, person and created_at: an affiliation stays
 * with the person it was made for. */
static tn_code sq_aff_update(void *priv, const affiliation *a, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t nums[4];
    char vf[DATE_ISO_LEN], vt[DATE_ISO_LEN];
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK || (code = aff_refs(q, a, false, nums, e)) != TN_OK ||
        (code = prep(q, ST_AFF_UPDATE, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, a->id);
    rc |= sq_b_text(st, 2, a->kind);
    rc |= sq_b_text(st, 3, a->source);
    rc |= sq_b_text(st, 4, a->source_key);
    rc |= sq_b_opt(st, 5, a->org_unit);
    rc |= sq_b_text(st, 6, a->title);
    rc |= sq_b_text(st, 7, a->school);
    rc |= sq_b_text(st, 8, a->class_);
    rc |= sq_b_text(st, 9, a->teaching_groups);
    rc |= sq_b_text(st, 10, a->programme);
    rc |= sq_b_num(st, 11, nums[2]);
    rc |= sq_b_num(st, 12, nums[3]);
    rc |= sq_b_date(st, 13, a->valid_from, vf);
    rc |= sq_b_date(st, 14, a->valid_to, vt);
    rc |= sq_b_text(st, 15, a->end_reason);
    rc |= sqlite3_bind_int64(st, 16, a->updated_at);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = aff_conflict(q, rc, a, e);
    else if (sqlite3_changes(q->db) == 0)
        code = tn_err_set(e, TN_ENOTFOUND, "id", "affiliation not found");
out:
    sq_done(st, own);
    return code;
}

static tn_code get_aff(sq *q, stmt_id id, int64_t rowid, const char *source, const char *key,
                       affiliation *out, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, id, &st, &own, e);
    if (code != TN_OK)
        goto out;
    int rc = source ? (sq_b_text(st, 1, source) | sq_b_text(st, 2, key ? key : ""))
                    : sqlite3_bind_int64(st, 1, rowid);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = source ? tn_err_set(e, TN_ENOTFOUND, "source_key",
                                   "no affiliation has source key %s:%s", source, key)
                      : tn_err_set(e, TN_ENOTFOUND, "id", "affiliation not found");
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!read_aff(st, out))
        code = sq_corrupt("affiliation", e);
out:
    sq_done(st, own);
    return code;
}

/* For the area files (store_sqlite_int.h): every affiliation of the person
 * holding a source key, in one statement. */
const char SQ_AFF_LIST_BY_SOURCE_KEY[] =
    AFF_SELECT "WHERE a.person_num = (SELECT person_num FROM affiliation "
               "WHERE source = ?1 AND source_key = ?2) ORDER BY a.valid_from, a.id";

bool sq_read_aff(sqlite3_stmt *st, affiliation *a)
{
    return read_aff(st, a);
}

static tn_code sq_aff_get(void *priv, int64_t id, affiliation *out, tn_err *e)
{
    return get_aff(priv, ST_AFF_GET, id, NULL, NULL, out, e);
}

static tn_code sq_aff_get_by_source_key(void *priv, const char *source, const char *key,
                                        affiliation *out, tn_err *e)
{
    return get_aff(priv, ST_AFF_GET_BY_SOURCE_KEY, 0, source ? source : "", key, out, e);
}

/* Rows of one person into a growing array; read is read_aff or
 * read_account, elem the element size. */
typedef bool (*row_reader)(sqlite3_stmt *st, void *out);

static bool rd_aff(sqlite3_stmt *st, void *out)
{
    return read_aff(st, out);
}

static bool rd_account(sqlite3_stmt *st, void *out)
{
    return read_account(st, out);
}

static bool rd_unit(sqlite3_stmt *st, void *out)
{
    return read_unit(st, out);
}

/* Collect all rows of a statement (bound to person number num unless
 * num < 0) into a malloc'ed array. */
static tn_code collect(sq *q, stmt_id id, int64_t num, row_reader read, size_t elem,
                       const char *what, void **out, size_t *n, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    char *arr = NULL;
    size_t len = 0, cap = 0;
    tn_code code = prep(q, id, &st, &own, e);
    *out = NULL;
    *n = 0;
    if (code != TN_OK)
        goto out;
    if (num >= 0 && sqlite3_bind_int64(st, 1, num) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4;
            arr = tn_realloc(arr, cap * elem);
        }
        if (!read(st, arr + len * elem)) {
            code = sq_corrupt(what, e);
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

static tn_code sq_aff_list_by_person(void *priv, const char *person_id, affiliation **out,
                                     size_t *n, tn_err *e)
{
    sq *q = priv;
    int64_t num = 0;
    *out = NULL;
    *n = 0;
    tn_code code = sq_person_num(q, person_id, true, "person_id", "person", &num, e);
    if (code != TN_OK)
        return code;
    code = collect(q, ST_AFF_LIST, num, rd_aff, sizeof **out, "affiliation", (void **)out, n,
                   e);
    for (size_t i = 0; code == TN_OK && i < *n; i++)
        tn_strlcpy((*out)[i].person_id, person_id, sizeof (*out)[i].person_id);
    return code;
}

/* ---- accounts ----------------------------------------------------------- */

static tn_code account_conflict(sq *q, int rc, const account *a, tn_err *e)
{
    if (sq_is_unique(rc)) {
        if (strstr(sqlite3_errmsg(q->db), "account.email"))
            return tn_err_set(e, TN_ECONFLICT, "email", "e-mail address %s already exists",
                              a->email);
        return tn_err_set(e, TN_ECONFLICT, "username", "username %s already exists",
                          a->username);
    }
    return sq_fail(q, rc, e);
}

static tn_code sq_account_insert(void *priv, account *a, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t num = 0;
    char co[DATE_ISO_LEN], cl[DATE_ISO_LEN];
    const char *state = (unsigned)a->state < ASTATE_MAX ? account_state_name(a->state) : NULL;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK)
        goto out;
    if (!state) {
        code = sq_bad_state("account", e);
        goto out;
    }
    if ((code = sq_person_num(q, a->person_id, true, "person_id", "person", &num, e)) != TN_OK ||
        (code = prep(q, ST_ACCOUNT_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, num);
    rc |= sq_b_text(st, 2, a->username);
    rc |= sq_b_opt(st, 3, a->email);
    rc |= sq_b_text(st, 4, state);
    rc |= sq_b_date(st, 5, a->created_on, co);
    rc |= sq_b_date(st, 6, a->closed_on, cl);
    rc |= sqlite3_bind_int64(st, 7, a->created_at);
    rc |= sqlite3_bind_int64(st, 8, a->updated_at);
    rc |= sq_b_text(st, 9, a->person_id);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK) {
        code = account_conflict(q, rc, a, e);
        goto out;
    }
    a->id = sqlite3_last_insert_rowid(q->db);
out:
    sq_done(st, own);
    return code;
}

/* Writes username, email, state, closed_on and updated_at; the owner and
 * creation date of an account never change. */
static tn_code sq_account_update(void *priv, const account *a, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char cl[DATE_ISO_LEN];
    const char *state = (unsigned)a->state < ASTATE_MAX ? account_state_name(a->state) : NULL;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK)
        goto out;
    if (!state) {
        code = sq_bad_state("account", e);
        goto out;
    }
    if ((code = prep(q, ST_ACCOUNT_UPDATE, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int64(st, 1, a->id);
    rc |= sq_b_text(st, 2, a->username);
    rc |= sq_b_opt(st, 3, a->email);
    rc |= sq_b_text(st, 4, state);
    rc |= sq_b_date(st, 5, a->closed_on, cl);
    rc |= sqlite3_bind_int64(st, 6, a->updated_at);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = account_conflict(q, rc, a, e);
    else if (sqlite3_changes(q->db) == 0)
        code = tn_err_set(e, TN_ENOTFOUND, "id", "account not found");
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_account_get_by_username(void *priv, const char *username, account *out,
                                          tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, ST_ACCOUNT_GET_BY_USERNAME, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, username) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "username", "no account has this username");
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!read_account(st, out))
        code = sq_corrupt("account", e);
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_account_list_by_person(void *priv, const char *person_id, account **out,
                                         size_t *n, tn_err *e)
{
    sq *q = priv;
    int64_t num = 0;
    *out = NULL;
    *n = 0;
    tn_code code = sq_person_num(q, person_id, true, "person_id", "person", &num, e);
    if (code != TN_OK)
        return code;
    return collect(q, ST_ACCOUNT_LIST, num, rd_account, sizeof **out, "account", (void **)out,
                   n, e);
}

/* ---- reserved names ----------------------------------------------------- */

static tn_code name_owner(sq *q, store_name_ns ns, const char *value, char *owner, tn_err *e)
{
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, ST_NAME_OWNER, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if ((sqlite3_bind_int(st, 1, (int)ns) | sq_b_text(st, 2, value)) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, ns == STORE_NS_EMAIL ? "email" : "username",
                          "%s %s is not reserved",
                          ns == STORE_NS_EMAIL ? "e-mail address" : "username", value);
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!sq_col_str(st, 0, owner, UUID_BUFSZ))
        code = sq_corrupt("reserved name", e);
out:
    sq_done(st, own);
    return code;
}

/* Reserve a name without an account (names brought from an older
 * directory, or given up by an account). A name already held, by an
 * account or a reservation, is fine for its own person and a conflict for
 * anyone else. */
static tn_code sq_name_reserve(void *priv, store_name_ns ns, const char *value,
                               const char *person_id, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    char owner[UUID_BUFSZ];
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK)
        goto out;
    if (ns != STORE_NS_USERNAME && ns != STORE_NS_EMAIL) {
        code = tn_err_set(e, TN_EINTERNAL, NULL, "unknown name space %d", (int)ns);
        goto out;
    }
    tn_err why;
    code = name_owner(q, ns, value, owner, &why);
    if (code == TN_OK) {
        if (strcmp(owner, person_id) != 0)
            code = ns == STORE_NS_EMAIL
                       ? tn_err_set(e, TN_ECONFLICT, "email",
                                    "e-mail address %s is reserved for another person", value)
                       : tn_err_set(e, TN_ECONFLICT, "username",
                                    "username %s is reserved for another person", value);
        goto out;
    }
    if (code != TN_ENOTFOUND) {
        if (e)
            *e = why;
        goto out;
    }
    if ((code = prep(q, ST_NAME_RESERVE, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sqlite3_bind_int(st, 1, (int)ns);
    rc |= sq_b_text(st, 2, value);
    rc |= sq_b_text(st, 3, person_id);
    rc |= sqlite3_bind_int64(st, 4, now_us());
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK)
        code = sq_fail(q, rc, e);
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_name_owner(void *priv, store_name_ns ns, const char *value, char *owner,
                             tn_err *e)
{
    return name_owner(priv, ns, value, owner, e);
}

/* ---- org units ---------------------------------------------------------- */

static tn_code sq_unit_insert(void *priv, org_unit *u, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    int64_t parent = 0;
    tn_code code = sq_need_tx(q, e);
    if (code != TN_OK ||
        (code = unit_id(q, u->parent_code, "parent_code", "parent org unit", &parent, e)) !=
            TN_OK ||
        (code = prep(q, ST_UNIT_INSERT, &st, &own, e)) != TN_OK)
        goto out;
    int rc = sq_b_text(st, 1, u->code);
    rc |= sq_b_text(st, 2, u->name);
    rc |= sq_b_num(st, 3, parent);
    rc |= sqlite3_bind_int64(st, 4, u->created_at);
    if (rc != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    rc = sq_step_write(st);
    if (rc != SQLITE_OK) {
        code = sq_is_unique(rc) ? tn_err_set(e, TN_ECONFLICT, "code", "org unit %s already exists",
                                          u->code)
                             : sq_fail(q, rc, e);
        goto out;
    }
    u->id = sqlite3_last_insert_rowid(q->db);
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_unit_get(void *priv, const char *code_, org_unit *out, tn_err *e)
{
    sq *q = priv;
    sqlite3_stmt *st = NULL;
    bool own = false;
    tn_code code = prep(q, ST_UNIT_GET, &st, &own, e);
    if (code != TN_OK)
        goto out;
    if (sq_b_text(st, 1, code_) != SQLITE_OK) {
        code = sq_bind_fail(q, e);
        goto out;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        code = tn_err_set(e, TN_ENOTFOUND, "code", "org unit %s not found", code_);
    else if (rc != SQLITE_ROW)
        code = sq_fail(q, rc, e);
    else if (!read_unit(st, out))
        code = sq_corrupt("org unit", e);
out:
    sq_done(st, own);
    return code;
}

static tn_code sq_unit_list(void *priv, org_unit **out, size_t *n, tn_err *e)
{
    return collect(priv, ST_UNIT_LIST, -1, rd_unit, sizeof **out, "org unit", (void **)out, n,
                   e);
}

/* ---- audit -------------------------------------------------------------- */

/* ---- method table ------------------------------------------------------- */

const store_ops store_sqlite_ops = {
    .version = 1,
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .tx_begin = sq_tx_begin,
    .read_begin = sq_read_begin,
    .read_end = sq_read_end,
    .data_version = sq_data_version,
    .tx_commit = sq_tx_commit,
    .tx_rollback = sq_tx_rollback,
    .tx_depth = sq_tx_depth,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .person_insert = sq_person_insert,
    .person_update = sq_person_update,
    .person_set_nid = sq_person_set_nid,
    .person_get_nid = sq_person_get_nid,
    .person_get = sq_person_get,
    .person_get_by_number = sq_person_get_by_number,
    .person_find_by_nid_hash = sq_person_find_by_nid_hash,
    .person_find_by_username = sq_person_find_by_username,
    .person_get_by_username = sq_person_get_by_username,
    .person_find_by_source_key = sq_person_find_by_source_key,
    .person_list = sq_person_list,
    .aff_insert = sq_aff_insert,
    .aff_update = sq_aff_update,
    .aff_get = sq_aff_get,
    .aff_get_by_source_key = sq_aff_get_by_source_key,
    .aff_list_by_person = sq_aff_list_by_person,
    .account_insert = sq_account_insert,
    .account_update = sq_account_update,
    .account_get_by_username = sq_account_get_by_username,
    .account_list_by_person = sq_account_list_by_person,
    .name_reserve = sq_name_reserve,
    .name_owner = sq_name_owner,
    .unit_insert = sq_unit_insert,
    .unit_get = sq_unit_get,
    .unit_list = sq_unit_list,
    .audit_head = sq_audit_head,
    .audit_insert = sq_audit_insert,
    .audit_scan = sq_audit_scan,
    .audit_cp_insert = sq_audit_cp_insert,
    .audit_cp_list = sq_audit_cp_list,
    .audit_cut_seq = sq_audit_cut_seq,
    .audit_prune = sq_audit_prune,
    .audit_index_catch_up = sq_audit_index_catch_up,
    .audit_by_subject = sq_audit_by_subject,
    .audit_insert_block = sq_audit_insert_block,
    .lc_policy_add = sq_lc_policy_add,
    .lc_policy_current = sq_lc_policy_current,
    .lc_kinds_in_use = sq_lc_kinds_in_use,
    .lc_aff_delete_by_person = sq_lc_aff_delete_by_person,
    .lc_archive_get = sq_lc_archive_get,
    .lc_archive_put = sq_lc_archive_put,
    .lc_archive_delete = sq_lc_archive_delete,
    .lc_outbox_add = sq_lc_outbox_add,
    .lc_run_add = sq_lc_run_add,
    .lc_account_detach = sq_lc_account_detach,
    .import_run_insert = sq_import_run_insert,
    .import_run_update = sq_import_run_update,
    .import_run_list = sq_import_run_list,
    .review_put = sq_review_put,
    .review_get = sq_review_get,
    .review_list = sq_review_list,
    .review_decide = sq_review_decide,
    .person_find_similar = sq_person_find_similar,
    .aff_list_active_by_source = sq_aff_list_active_by_source,
    .report_accounts = sq_report_accounts,
    .report_rights = sq_report_rights,
    .report_changes = sq_report_changes,
    .lc_scan = sq_lc_scan,
    .lc_handover_add = sq_lc_handover_add,
    .lc_handover_list = sq_lc_handover_list,
    .lc_handover_end = sq_lc_handover_end,
    .lc_account_seal = sq_lc_account_seal,
    .lc_account_sealed = sq_lc_account_sealed,
    .set_busy_timeout = sq_set_busy_timeout,
    .aff_list_by_source_key = sq_aff_list_by_source_key,
    .source_put = sq_source_put,
    .source_list = sq_source_list,
    .dir_get = sq_dir_get,
    .dir_scan = sq_dir_scan,
    .dir_auth_get = sq_dir_auth_get,
    .dir_bind_fail = sq_dir_bind_fail,
    .dir_bind_reset = sq_dir_bind_reset,
    .account_set_password = sq_account_set_password,
    .tune = sq_tune,
    .import_fp_get = sq_import_fp_get,
    .import_fp_put = sq_import_fp_put,
    .dir_group_get = sq_dir_group_get,
    .dir_group_scan = sq_dir_group_scan,
    .dir_group_members = sq_dir_group_members,
    .dir_member_of = sq_dir_member_of,
    .dir_group_cn = sq_dir_group_cn,
    .person_in_unit = sq_person_in_unit,
    .unit_in_subtree = sq_unit_in_subtree,
    .role_grant_insert = sq_role_grant_insert,
    .role_grant_get = sq_role_grant_get,
    .role_grant_revoke = sq_role_grant_revoke,
    .role_grant_list = sq_role_grant_list,
    .error_report_insert = sq_error_report_insert,
    .error_report_get = sq_error_report_get,
    .error_report_close = sq_error_report_close,
    .error_report_list = sq_error_report_list,
    .prov_ingest = sq_prov_ingest,
    .prov_due = sq_prov_due,
    .prov_parked = sq_prov_parked,
    .prov_done = sq_prov_done,
    .prov_fail = sq_prov_fail,
    .prov_retry = sq_prov_retry,
    .prov_resource_get = sq_prov_resource_get,
    .prov_resource_list = sq_prov_resource_list,
    .prov_group_put = sq_prov_group_put,
    .prov_group_list = sq_prov_group_list,
    .prov_stats = sq_prov_stats,
    .open_readlog = sq_open_readlog,
    .lc_scan_nums = sq_lc_scan_nums,
    .lc_due_list = sq_lc_due_list,
    .lc_due_put = sq_lc_due_put,
    .client_insert = sq_client_insert,
    .client_get = sq_client_get,
    .client_get_by_token = sq_client_get_by_token,
    .client_list = sq_client_list,
    .client_set_token = sq_client_set_token,
    .client_revoke = sq_client_revoke,
    .client_set_cert = sq_client_set_cert,
    .client_source_seen = sq_client_source_seen,
    .client_source_known = sq_client_source_known,
};
