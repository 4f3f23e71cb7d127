/* store — the backend-neutral front of the storage layer.
 *
 * All this file does is choose a backend from the target string and pass
 * every call through that backend's method table, so callers never learn
 * which database sits below. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "store_impl.h"
#include "tn_mem.h"
#include "tn_str.h"

struct store {
    const store_ops *ops;
    void *priv;
};

/* A target of the form "scheme://…" names a backend by URL. Anything else
 * that does not start with "sqlite:" is a path. */
static bool has_url_scheme(const char *t)
{
    size_t i = 0;
    while ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '+' ||
           t[i] == '-' || t[i] == '.')
        i++;
    return i > 0 && strncmp(t + i, "://", 3) == 0;
}

tn_code store_open(const char *target, store_open_mode mode, store **out, tn_err *e)
{
    const store_ops *ops = NULL;
    const char *where = target;
    void *priv = NULL;
    tn_code rc;

    *out = NULL;
    if (mode != STORE_OPEN_EXISTING && mode != STORE_OPEN_CREATE)
        return tn_err_set(e, TN_EINTERNAL, NULL, "invalid store open mode");
    if (tn_str_empty(target))
        return tn_err_set(e, TN_EUSAGE, "registry", "no registry given");
    if (tn_str_startswith(target, "postgresql://") || tn_str_startswith(target, "postgres://"))
        return tn_err_set(e, TN_EUSAGE, "registry",
                          "the PostgreSQL backend is not available in this build");
    if (tn_str_startswith(target, "sqlite:")) {
        where = target + strlen("sqlite:");
        if (!*where)
            return tn_err_set(e, TN_EUSAGE, "registry", "sqlite: needs a file path");
        ops = &store_sqlite_ops;
    } else if (has_url_scheme(target)) {
        return tn_err_set(e, TN_EUSAGE, "registry",
                          "unknown registry backend; use a file path or sqlite:PATH");
    } else {
        ops = &store_sqlite_ops;
    }

    rc = ops->open(where, mode, &priv, e);
    if (rc != TN_OK)
        return rc;
    store *s = tn_calloc(1, sizeof *s);
    s->ops = ops;
    s->priv = priv;
    *out = s;
    return TN_OK;
}

tn_code store_open_readlog(const char *path, const char *registry, store_open_mode mode,
                           store **out, tn_err *e)
{
    void *priv = NULL;
    *out = NULL;
    tn_code rc = store_sqlite_ops.open_readlog(path, registry, mode, &priv, e);
    if (rc != TN_OK)
        return rc;
    store *s = tn_calloc(1, sizeof *s);
    s->ops = &store_sqlite_ops;
    s->priv = priv;
    *out = s;
    return TN_OK;
}

void store_close(store *s)
{
    if (!s)
        return;
    s->ops->close(s->priv);
    free(s);
}

tn_code store_schema_version(store *s, int *out, tn_err *e)
{
    return s->ops->schema_version(s->priv, out, e);
}

int store_schema_latest(void)
{
    return store_migrations_count;
}

const char *store_backend(store *s)
{
    return s->ops->name;
}

tn_code store_tx_begin(store *s, tn_err *e)
{
    return s->ops->tx_begin(s->priv, e);
}

tn_code store_tx_commit(store *s, tn_err *e)
{
    return s->ops->tx_commit(s->priv, e);
}

void store_tx_rollback(store *s)
{
    s->ops->tx_rollback(s->priv);
}

int store_tx_depth(store *s)
{
    return s->ops->tx_depth(s->priv);
}

tn_code store_read_begin(store *s, tn_err *e)
{
    return s->ops->read_begin(s->priv, e);
}

void store_read_end(store *s)
{
    s->ops->read_end(s->priv);
}

tn_code store_data_version(store *s, uint64_t *out, tn_err *e)
{
    return s->ops->data_version(s->priv, out, e);
}

tn_code store_meta_get(store *s, const char *key, char *out, size_t cap, tn_err *e)
{
    return s->ops->meta_get(s->priv, key, out, cap, e);
}

tn_code store_meta_set(store *s, const char *key, const char *value, tn_err *e)
{
    return s->ops->meta_set(s->priv, key, value, e);
}

tn_code store_person_insert(store *s, person *p, const unsigned char *sealed_nid,
                            size_t sealed_len, const unsigned char *nid_hash, tn_err *e)
{
    return s->ops->person_insert(s->priv, p, sealed_nid, sealed_len, nid_hash, e);
}

tn_code store_person_update(store *s, const person *p, tn_err *e)
{
    return s->ops->person_update(s->priv, p, e);
}

tn_code store_person_set_nid(store *s, const char *person_id, tn_date birth,
                             const unsigned char *sealed_nid, size_t sealed_len,
                             const unsigned char *nid_hash, tn_err *e)
{
    return s->ops->person_set_nid(s->priv, person_id, birth, sealed_nid, sealed_len, nid_hash, e);
}

tn_code store_person_get_nid(store *s, const char *person_id, unsigned char *out, size_t cap,
                             size_t *outlen, tn_err *e)
{
    return s->ops->person_get_nid(s->priv, person_id, out, cap, outlen, e);
}

tn_code store_person_get(store *s, const char *person_id, person *out, tn_err *e)
{
    return s->ops->person_get(s->priv, person_id, out, e);
}

tn_code store_person_get_by_number(store *s, int64_t number, person *out, tn_err *e)
{
    return s->ops->person_get_by_number(s->priv, number, out, e);
}

tn_code store_person_find_by_nid_hash(store *s, tn_date birth,
                                      const unsigned char hash[STORE_HASH_BYTES],
                                      char id_out[UUID_BUFSZ], tn_err *e)
{
    return s->ops->person_find_by_nid_hash(s->priv, birth, hash, id_out, e);
}

tn_code store_person_find_by_username(store *s, const char *username, char id_out[UUID_BUFSZ],
                                      tn_err *e)
{
    return s->ops->person_find_by_username(s->priv, username, id_out, e);
}

tn_code store_person_get_by_username(store *s, const char *username, person *out, tn_err *e)
{
    return s->ops->person_get_by_username(s->priv, username, out, e);
}

tn_code store_person_find_by_source_key(store *s, const char *source, const char *key,
                                        char id_out[UUID_BUFSZ], tn_err *e)
{
    return s->ops->person_find_by_source_key(s->priv, source, key, id_out, e);
}

tn_code store_person_list(store *s, const store_person_filter *f, store_person_cb cb, void *ctx,
                          tn_err *e)
{
    return s->ops->person_list(s->priv, f, cb, ctx, e);
}

tn_code store_aff_insert(store *s, affiliation *a, tn_err *e)
{
    return s->ops->aff_insert(s->priv, a, e);
}

tn_code store_aff_update(store *s, const affiliation *a, tn_err *e)
{
    return s->ops->aff_update(s->priv, a, e);
}

tn_code store_aff_get(store *s, int64_t id, affiliation *out, tn_err *e)
{
    return s->ops->aff_get(s->priv, id, out, e);
}

tn_code store_aff_get_by_source_key(store *s, const char *source, const char *key,
                                    affiliation *out, tn_err *e)
{
    return s->ops->aff_get_by_source_key(s->priv, source, key, out, e);
}

tn_code store_aff_list_by_person(store *s, const char *person_id, affiliation **out, size_t *n,
                                 tn_err *e)
{
    return s->ops->aff_list_by_person(s->priv, person_id, out, n, e);
}

tn_code store_account_insert(store *s, account *a, tn_err *e)
{
    return s->ops->account_insert(s->priv, a, e);
}

tn_code store_account_update(store *s, const account *a, tn_err *e)
{
    return s->ops->account_update(s->priv, a, e);
}

tn_code store_account_get_by_username(store *s, const char *username, account *out, tn_err *e)
{
    return s->ops->account_get_by_username(s->priv, username, out, e);
}

tn_code store_account_list_by_person(store *s, const char *person_id, account **out, size_t *n,
                                     tn_err *e)
{
    return s->ops->account_list_by_person(s->priv, person_id, out, n, e);
}

tn_code store_name_reserve(store *s, store_name_ns ns, const char *value, const char *person_id,
                           tn_err *e)
{
    return s->ops->name_reserve(s->priv, ns, value, person_id, e);
}

tn_code store_name_owner(store *s, store_name_ns ns, const char *value,
                         char person_id_out[UUID_BUFSZ], tn_err *e)
{
    return s->ops->name_owner(s->priv, ns, value, person_id_out, e);
}

tn_code store_unit_insert(store *s, org_unit *u, tn_err *e)
{
    return s->ops->unit_insert(s->priv, u, e);
}

tn_code store_unit_get(store *s, const char *code, org_unit *out, tn_err *e)
{
    return s->ops->unit_get(s->priv, code, out, e);
}

tn_code store_unit_list(store *s, org_unit **out, size_t *n, tn_err *e)
{
    return s->ops->unit_list(s->priv, out, n, e);
}

tn_code store_audit_head(store *s, int64_t *seq, unsigned char hash[STORE_HASH_BYTES], bool *has,
                         tn_err *e)
{
    return s->ops->audit_head(s->priv, seq, hash, has, e);
}

tn_code store_audit_insert(store *s, int64_t seq, const store_audit_row *r,
                           const unsigned char hash[STORE_HASH_BYTES], tn_err *e)
{
    return s->ops->audit_insert(s->priv, seq, r, hash, e);
}

tn_code store_audit_insert_block(store *s, const unsigned char *events, size_t len, tn_err *e)
{
    return s->ops->audit_insert_block(s->priv, events, len, e);
}

tn_code store_audit_scan(store *s, int64_t from_seq, int64_t to_seq, const char *held_on,
                         store_audit_rec_cb cb, void *ctx, tn_err *e)
{
    return s->ops->audit_scan(s->priv, from_seq, to_seq, held_on, cb, ctx, e);
}

tn_code store_audit_cp_insert(store *s, const store_audit_cp *c, tn_err *e)
{
    return s->ops->audit_cp_insert(s->priv, c, e);
}

tn_code store_audit_cp_list(store *s, store_audit_cp_cb cb, void *ctx, tn_err *e)
{
    return s->ops->audit_cp_list(s->priv, cb, ctx, e);
}

tn_code store_audit_cut_seq(store *s, int64_t cut_us, int64_t *out, tn_err *e)
{
    return s->ops->audit_cut_seq(s->priv, cut_us, out, e);
}

tn_code store_audit_prune(store *s, int64_t cut_seq, const char *held_on, int64_t *deleted,
                          tn_err *e)
{
    return s->ops->audit_prune(s->priv, cut_seq, held_on, deleted, e);
}

tn_code store_audit_index_catch_up(store *s, int64_t *indexed, tn_err *e)
{
    return s->ops->audit_index_catch_up(s->priv, indexed, e);
}

tn_code store_audit_by_subject(store *s, const char *subject_id, int64_t from_us, int64_t to_us,
                               store_audit_rec_cb cb, void *ctx, tn_err *e)
{
    return s->ops->audit_by_subject(s->priv, subject_id, from_us, to_us, cb, ctx, e);
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Appended methods: a backend that predates them leaves them NULL. */
#define LC_CALL(method, ...)                                                              \
    (s->ops->method ? s->ops->method(s->priv, __VA_ARGS__)                              \
                    : tn_err_set(e, TN_EINTERNAL, NULL, "the %s backend lacks " #method, \
                                 s->ops->name))

tn_code store_lc_policy_add(store *s, const char *body, int64_t applied_at, const char *actor_id,
                            int64_t *version_out, tn_err *e)
{
    return LC_CALL(lc_policy_add, body, applied_at, actor_id, version_out, e);
}

tn_code store_lc_policy_current(store *s, int64_t *version, char **body_out, tn_err *e)
{
    return LC_CALL(lc_policy_current, version, body_out, e);
}

tn_code store_lc_kinds_in_use(store *s, store_kind_cb cb, void *ctx, tn_err *e)
{
    return LC_CALL(lc_kinds_in_use, cb, ctx, e);
}

tn_code store_lc_aff_delete_by_person(store *s, const char *person_id, tn_err *e)
{
    return LC_CALL(lc_aff_delete_by_person, person_id, e);
}

tn_code store_lc_archive_get(store *s, const char *person_id, store_lc_archive *out, tn_err *e)
{
    return LC_CALL(lc_archive_get, person_id, out, e);
}

tn_code store_lc_archive_put(store *s, const char *person_id, const store_lc_archive *a,
                             tn_err *e)
{
    return LC_CALL(lc_archive_put, person_id, a, e);
}

tn_code store_lc_archive_delete(store *s, const char *person_id, tn_err *e)
{
    return LC_CALL(lc_archive_delete, person_id, e);
}

tn_code store_lc_outbox_add(store *s, const char *target, const char *person_id,
                            const char *event, const char *payload, int64_t created_at,
                            tn_err *e)
{
    return LC_CALL(lc_outbox_add, target, person_id, event, payload, created_at, e);
}

tn_code store_lc_run_add(store *s, int64_t run_at, tn_date as_of, int64_t policy_version,
                         const char *counts, bool changed, const char *actor_id, tn_err *e)
{
    return LC_CALL(lc_run_add, run_at, as_of, policy_version, counts, changed, actor_id, e);
}

tn_code store_lc_account_detach(store *s, const char *person_id, int64_t updated_at, tn_err *e)
{
    return LC_CALL(lc_account_detach, person_id, updated_at, e);
}

/* ---- source feed imports ---------------------------------------------- */

tn_code store_import_run_insert(store *s, store_import_run *r, tn_err *e)
{
    return s->ops->import_run_insert(s->priv, r, e);
}

tn_code store_import_run_update(store *s, const store_import_run *r, tn_err *e)
{
    return s->ops->import_run_update(s->priv, r, e);
}

tn_code store_import_run_list(store *s, int64_t limit, store_import_run_cb cb, void *ctx,
                              tn_err *e)
{
    return s->ops->import_run_list(s->priv, limit, cb, ctx, e);
}

tn_code store_review_put(store *s, store_review *r, bool *changed, tn_err *e)
{
    return s->ops->review_put(s->priv, r, changed, e);
}

tn_code store_review_get(store *s, int64_t id, store_review *out, tn_err *e)
{
    return s->ops->review_get(s->priv, id, out, e);
}

tn_code store_review_list(store *s, const char *state, store_review_cb cb, void *ctx, tn_err *e)
{
    return s->ops->review_list(s->priv, state, cb, ctx, e);
}

tn_code store_review_decide(store *s, int64_t id, const char *state, int64_t decided_at,
                            tn_err *e)
{
    return s->ops->review_decide(s->priv, id, state, decided_at, e);
}

tn_code store_person_find_similar(store *s, const char *given, const char *family,
                                  tn_date birth, char (*ids)[UUID_BUFSZ], size_t max,
                                  size_t *n, tn_err *e)
{
    return s->ops->person_find_similar(s->priv, given, family, birth, ids, max, n, e);
}

tn_code store_aff_list_active_by_source(store *s, const char *source, tn_date as_of,
                                        store_aff_key_cb cb, void *ctx, tn_err *e)
{
    return s->ops->aff_list_active_by_source(s->priv, source, as_of, cb, ctx, e);
}

/* ---- reports ------------------------------------------------------------ */

tn_code store_report_accounts(store *s, const char *as_of, const char *unit, store_report_cb cb,
                              void *ctx, tn_err *e)
{
    return s->ops->report_accounts(s->priv, as_of, unit, cb, ctx, e);
}

tn_code store_report_rights(store *s, const char *as_of, const char *unit, store_report_cb cb,
                            void *ctx, tn_err *e)
{
    return s->ops->report_rights(s->priv, as_of, unit, cb, ctx, e);
}

tn_code store_report_changes(store *s, int64_t from_us, int64_t to_us, const char *unit,
                             store_report_cb cb, void *ctx, tn_err *e)
{
    return s->ops->report_changes(s->priv, from_us, to_us, unit, cb, ctx, e);
}

tn_code store_lc_scan(store *s, int64_t after, size_t max, store_lc_page *pg, tn_err *e)
{
    return s->ops->lc_scan(s->priv, after, max, pg, e);
}

void store_lc_page_free(store_lc_page *pg)
{
    free(pg->persons);
    free(pg->affs);
    pg->persons = NULL;
    pg->affs = NULL;
    pg->npersons = pg->cap_persons = pg->naffs = pg->cap_affs = 0;
}

tn_code store_lc_handover_add(store *s, store_lc_handover *h, int64_t created_at, tn_err *e)
{
    return s->ops->lc_handover_add(s->priv, h, created_at, e);
}

tn_code store_lc_handover_list(store *s, const char *person_id, store_lc_handover **out,
                               size_t *n, tn_err *e)
{
    return s->ops->lc_handover_list(s->priv, person_id, out, n, e);
}

tn_code store_lc_handover_end(store *s, int64_t id, const char *state, tn_date ended_on,
                              int64_t updated_at, tn_err *e)
{
    return s->ops->lc_handover_end(s->priv, id, state, ended_on, updated_at, e);
}

tn_code store_lc_account_seal(store *s, int64_t account_id, tn_date on, const char *reason,
                              int64_t created_at, tn_err *e)
{
    return s->ops->lc_account_seal(s->priv, account_id, on, reason, created_at, e);
}

tn_code store_lc_account_sealed(store *s, int64_t account_id, bool *sealed, tn_err *e)
{
    return s->ops->lc_account_sealed(s->priv, account_id, sealed, e);
}

void store_set_busy_timeout(store *s, int ms)
{
    s->ops->set_busy_timeout(s->priv, ms);
}

tn_code store_aff_list_by_source_key(store *s, const char *source, const char *key,
                                     affiliation **out, size_t *n, tn_err *e)
{
    return s->ops->aff_list_by_source_key(s->priv, source, key, out, n, e);
}

tn_code store_source_put(store *s, const store_source *src, store_source *old, bool *had,
                         tn_err *e)
{
    return s->ops->source_put(s->priv, src, old, had, e);
}

tn_code store_source_list(store *s, store_source_cb cb, void *ctx, tn_err *e)
{
    return s->ops->source_list(s->priv, cb, ctx, e);
}

/* ---- LDAP directory ---------------------------------------------------- */

tn_code store_dir_get(store *s, const char *username, tn_date today, store_dir_row *out,
                      tn_err *e)
{
    return s->ops->dir_get(s->priv, username, today, out, e);
}

tn_code store_dir_scan(store *s, tn_date today, int64_t after_account_id, int64_t limit,
                       store_dir_cb cb, void *ctx, tn_err *e)
{
    return s->ops->dir_scan(s->priv, today, after_account_id, limit, cb, ctx, e);
}

tn_code store_dir_auth_get(store *s, const char *username, store_dir_auth *out, tn_err *e)
{
    return s->ops->dir_auth_get(s->priv, username, out, e);
}

tn_code store_dir_bind_fail(store *s, int64_t account_id, int64_t now_us, int64_t max_failures,
                            int64_t lock_until_us, int64_t *failures, tn_err *e)
{
    return s->ops->dir_bind_fail(s->priv, account_id, now_us, max_failures, lock_until_us,
                                 failures, e);
}

tn_code store_dir_bind_reset(store *s, int64_t account_id, tn_err *e)
{
    return s->ops->dir_bind_reset(s->priv, account_id, e);
}

tn_code store_account_set_password(store *s, const char *username, const char *hash,
                                   int64_t updated_at, tn_err *e)
{
    return s->ops->account_set_password(s->priv, username, hash, updated_at, e);
}

tn_code store_tune(store *s, int64_t cache_kib, int64_t mmap_bytes, tn_err *e)
{
    return s->ops->tune(s->priv, cache_kib, mmap_bytes, e);
}

tn_code store_import_fp_get(store *s, const char *source, const char *key,
                            unsigned char fp[STORE_HASH_BYTES], tn_date *until, bool *found,
                            tn_err *e)
{
    return s->ops->import_fp_get(s->priv, source, key, fp, until, found, e);
}

tn_code store_import_fp_put(store *s, const char *source, const char *key,
                            const unsigned char fp[STORE_HASH_BYTES], tn_date until, tn_err *e)
{
    return s->ops->import_fp_put(s->priv, source, key, fp, until, e);
}

tn_code store_dir_group_get(store *s, const char *cn, dir_group *out, tn_err *e)
{
    return s->ops->dir_group_get(s->priv, cn, out, e);
}

tn_code store_dir_group_scan(store *s, int64_t after_gid, int64_t limit, store_dir_group_cb cb,
                             void *ctx, tn_err *e)
{
    return s->ops->dir_group_scan(s->priv, after_gid, limit, cb, ctx, e);
}

tn_code store_dir_group_members(store *s, dir_group *g, tn_date today, tn_err *e)
{
    return s->ops->dir_group_members(s->priv, g, today, e);
}

tn_code store_dir_group_cn(store *s, const char *gtype, const char *v1, const char *v2,
                           char *out, size_t cap, tn_err *e)
{
    return s->ops->dir_group_cn(s->priv, gtype, v1, v2, out, cap, e);
}

tn_code store_dir_member_of(store *s, int64_t person_number, tn_date today, char *out,
                            size_t cap, tn_err *e)
{
    return s->ops->dir_member_of(s->priv, person_number, today, out, cap, e);
}

tn_code store_person_in_unit(store *s, const char *person_id, const char *unit_code,
                             tn_date today, bool *in, tn_err *e)
{
    return s->ops->person_in_unit(s->priv, person_id, unit_code, today, in, e);
}

tn_code store_unit_in_subtree(store *s, const char *unit_code, const char *root_code, bool *in,
                              tn_err *e)
{
    return s->ops->unit_in_subtree(s->priv, unit_code, root_code, in, e);
}

tn_code store_role_grant_insert(store *s, store_role_grant *g, tn_err *e)
{
    return s->ops->role_grant_insert(s->priv, g, e);
}

tn_code store_role_grant_get(store *s, int64_t id, store_role_grant *out, tn_err *e)
{
    return s->ops->role_grant_get(s->priv, id, out, e);
}

tn_code store_role_grant_revoke(store *s, int64_t id, tn_date on, const char *by, tn_err *e)
{
    return s->ops->role_grant_revoke(s->priv, id, on, by, e);
}

tn_code store_role_grant_list(store *s, const char *person_id, store_role_grant_cb cb, void *ctx,
                              tn_err *e)
{
    return s->ops->role_grant_list(s->priv, person_id, cb, ctx, e);
}

tn_code store_error_report_insert(store *s, store_error_report *r, tn_err *e)
{
    return s->ops->error_report_insert(s->priv, r, e);
}

tn_code store_error_report_get(store *s, int64_t id, store_error_report *out, tn_err *e)
{
    return s->ops->error_report_get(s->priv, id, out, e);
}

tn_code store_error_report_close(store *s, int64_t id, const char *state, int64_t at,
                                 const char *by, const char *resolution, tn_err *e)
{
    return s->ops->error_report_close(s->priv, id, state, at, by, resolution, e);
}

tn_code store_error_report_list(store *s, const char *person_id, const char *state,
                                store_error_report_cb cb, void *ctx, tn_err *e)
{
    return s->ops->error_report_list(s->priv, person_id, state, cb, ctx, e);
}

/* ---- provisioning ------------------------------------------------------ */

tn_code store_prov_ingest(store *s, const char *target, int64_t now, int64_t max, int64_t *added,
                          tn_err *e)
{
    return s->ops->prov_ingest(s->priv, target, now, max, added, e);
}

tn_code store_prov_due(store *s, const char *target, int64_t now, int64_t max,
                       store_prov_item **out, size_t *n, tn_err *e)
{
    return s->ops->prov_due(s->priv, target, now, max, out, n, e);
}

tn_code store_prov_parked(store *s, const char *target, store_prov_item **out, size_t *n,
                          tn_err *e)
{
    return s->ops->prov_parked(s->priv, target, out, n, e);
}

tn_code store_prov_done(store *s, const char *target, const store_prov_item *it,
                        const char *resource_id, const char *state, int64_t now, bool *finished,
                        tn_err *e)
{
    return s->ops->prov_done(s->priv, target, it, resource_id, state, now, finished, e);
}

tn_code store_prov_fail(store *s, int64_t id, int64_t attempts, int64_t next_at,
                        const char *error, bool parked, tn_err *e)
{
    return s->ops->prov_fail(s->priv, id, attempts, next_at, error, parked, e);
}

tn_code store_prov_retry(store *s, const char *target, int64_t id, int64_t now, int64_t *n,
                         tn_err *e)
{
    return s->ops->prov_retry(s->priv, target, id, now, n, e);
}

tn_code store_prov_resource_get(store *s, const char *target, const char *person_id,
                                store_prov_resource *out, bool *found, tn_err *e)
{
    return s->ops->prov_resource_get(s->priv, target, person_id, out, found, e);
}

tn_code store_prov_resource_list(store *s, const char *target, store_prov_resource_cb cb,
                                 void *ctx, tn_err *e)
{
    return s->ops->prov_resource_list(s->priv, target, cb, ctx, e);
}

tn_code store_prov_group_put(store *s, const char *target, const char *name,
                             const char *resource_id, int64_t now, tn_err *e)
{
    return s->ops->prov_group_put(s->priv, target, name, resource_id, now, e);
}

tn_code store_prov_group_list(store *s, const char *target, store_prov_group_cb cb, void *ctx,
                              tn_err *e)
{
    return s->ops->prov_group_list(s->priv, target, cb, ctx, e);
}

tn_code store_prov_stats(store *s, const char *target, int64_t now, store_prov_counts *out,
                         tn_err *e)
{
    return s->ops->prov_stats(s->priv, target, now, out, e);
}

tn_code store_lc_scan_nums(store *s, const int64_t *nums, size_t n, store_lc_page *pg,
                           tn_err *e)
{
    return s->ops->lc_scan_nums(s->priv, nums, n, pg, e);
}

tn_code store_lc_due_list(store *s, int64_t version, tn_date d, int64_t **nums, size_t *n,
                          size_t *total, tn_err *e)
{
    return s->ops->lc_due_list(s->priv, version, d, nums, n, total, e);
}

tn_code store_lc_due_put(store *s, int64_t number, int64_t gen, int64_t version, tn_date lo,
                         tn_date hi, tn_err *e)
{
    return s->ops->lc_due_put(s->priv, number, gen, version, lo, hi, e);
}

/* ---- API clients -------------------------------------------------------- */

tn_code store_client_insert(store *s, store_api_client *c,
                            const unsigned char token_hash[STORE_HASH_BYTES], tn_err *e)
{
    return s->ops->client_insert(s->priv, c, token_hash, e);
}

tn_code store_client_get(store *s, const char *name, store_api_client *out, tn_err *e)
{
    return s->ops->client_get(s->priv, name, out, e);
}

tn_code store_client_get_by_token(store *s, const unsigned char token_hash[STORE_HASH_BYTES],
                                  store_api_client *out, tn_err *e)
{
    return s->ops->client_get_by_token(s->priv, token_hash, out, e);
}

tn_code store_client_list(store *s, store_client_cb cb, void *ctx, tn_err *e)
{
    return s->ops->client_list(s->priv, cb, ctx, e);
}

tn_code store_client_set_token(store *s, int64_t id,
                               const unsigned char token_hash[STORE_HASH_BYTES], int64_t now_us,
                               tn_err *e)
{
    return s->ops->client_set_token(s->priv, id, token_hash, now_us, e);
}

tn_code store_client_set_cert(store *s, int64_t id, const char *cert_sha256, tn_err *e)
{
    return s->ops->client_set_cert(s->priv, id, cert_sha256, e);
}

tn_code store_client_revoke(store *s, int64_t id, int64_t now_us, tn_err *e)
{
    return s->ops->client_revoke(s->priv, id, now_us, e);
}

tn_code store_client_source_seen(store *s, int64_t id, const char *source, int64_t now_us,
                                 bool *is_new, tn_err *e)
{
    return s->ops->client_source_seen(s->priv, id, source, now_us, is_new, e);
}

tn_code store_client_source_known(store *s, int64_t id, const char *source, bool *known,
                                  tn_err *e)
{
    return s->ops->client_source_known(s->priv, id, source, known, e);
}
