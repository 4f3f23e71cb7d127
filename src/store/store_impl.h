/* store_impl — what a storage backend implements (private to src/store).
 *
 * A backend fills a store_ops table. The table is internal to this tree:
 * every backend is built with store.c and changes with it, so methods are
 * added and their signatures changed as the store needs (the "(appended)"
 * notes below only say when a group arrived). `version` is 1 and nothing
 * checks it; a backend kept outside the tree would need a stable,
 * versioned table first. */
#ifndef STORE_IMPL_H
#define STORE_IMPL_H

#include "store.h"

typedef struct store_migration {
    int version;
    const char *name;
    const char *sql;
} store_migration;

/* Generated from src/store/migrations/NNNN_*.sql by scripts/embed_sql.py. */
extern const store_migration store_migrations[];
extern const int store_migrations_count;

typedef struct store_ops {
    int version; /* 1 */
    const char *name;
    tn_code (*open)(const char *target, store_open_mode mode, void **priv, tn_err *e);
    void (*close)(void *priv);
    tn_code (*schema_version)(void *priv, int *out, tn_err *e);
    tn_code (*tx_begin)(void *priv, tn_err *e);
    /* On failure the level is rolled back and closed (depth drops by one). */
    tn_code (*tx_commit)(void *priv, tn_err *e);
    void (*tx_rollback)(void *priv);
    int (*tx_depth)(void *priv);
    tn_code (*meta_get)(void *priv, const char *key, char *out, size_t cap, tn_err *e);
    tn_code (*meta_set)(void *priv, const char *key, const char *value, tn_err *e);
    tn_code (*person_insert)(void *priv, person *p, const unsigned char *sealed, size_t sealed_len,
                             const unsigned char *hash, tn_err *e);
    tn_code (*person_update)(void *priv, const person *p, tn_err *e);
    tn_code (*person_set_nid)(void *priv, const char *id, tn_date birth,
                              const unsigned char *sealed, size_t sealed_len,
                              const unsigned char *hash, tn_err *e);
    tn_code (*person_get_nid)(void *priv, const char *id, unsigned char *out, size_t cap,
                              size_t *outlen, tn_err *e);
    tn_code (*person_get)(void *priv, const char *id, person *out, tn_err *e);
    tn_code (*person_get_by_number)(void *priv, int64_t number, person *out, tn_err *e);
    tn_code (*person_find_by_nid_hash)(void *priv, tn_date birth, const unsigned char *hash,
                                       char *id_out, tn_err *e);
    tn_code (*person_find_by_username)(void *priv, const char *username, char *id_out, tn_err *e);
    tn_code (*person_get_by_username)(void *priv, const char *username, person *out, tn_err *e);
    tn_code (*person_find_by_source_key)(void *priv, const char *source, const char *key,
                                         char *id_out, tn_err *e);
    tn_code (*person_list)(void *priv, const store_person_filter *f, store_person_cb cb,
                           void *ctx, tn_err *e);
    tn_code (*aff_insert)(void *priv, affiliation *a, tn_err *e);
    tn_code (*aff_update)(void *priv, const affiliation *a, tn_err *e);
    tn_code (*aff_get)(void *priv, int64_t id, affiliation *out, tn_err *e);
    tn_code (*aff_get_by_source_key)(void *priv, const char *source, const char *key,
                                     affiliation *out, tn_err *e);
    tn_code (*aff_list_by_person)(void *priv, const char *person_id, affiliation **out,
                                  size_t *n, tn_err *e);
    tn_code (*account_insert)(void *priv, account *a, tn_err *e);
    tn_code (*account_update)(void *priv, const account *a, tn_err *e);
    tn_code (*account_get_by_username)(void *priv, const char *username, account *out,
                                       tn_err *e);
    tn_code (*account_list_by_person)(void *priv, const char *person_id, account **out,
                                      size_t *n, tn_err *e);
    tn_code (*name_reserve)(void *priv, store_name_ns ns, const char *value,
                            const char *person_id, tn_err *e);
    tn_code (*name_owner)(void *priv, store_name_ns ns, const char *value, char *person_id_out,
                          tn_err *e);
    tn_code (*unit_insert)(void *priv, org_unit *u, tn_err *e);
    tn_code (*unit_get)(void *priv, const char *code, org_unit *out, tn_err *e);
    tn_code (*unit_list)(void *priv, org_unit **out, size_t *n, tn_err *e);
    /* audit chain (store_sqlite_audit.c) */
    tn_code (*audit_head)(void *priv, int64_t *seq, unsigned char *hash, bool *has, tn_err *e);
    tn_code (*audit_insert)(void *priv, int64_t seq, const store_audit_row *r,
                            const unsigned char *hash, tn_err *e);
    tn_code (*audit_scan)(void *priv, int64_t from_seq, int64_t to_seq, const char *held_on,
                          store_audit_rec_cb cb, void *ctx, tn_err *e);
    tn_code (*audit_cp_insert)(void *priv, const store_audit_cp *c, tn_err *e);
    tn_code (*audit_cp_list)(void *priv, store_audit_cp_cb cb, void *ctx, tn_err *e);
    tn_code (*audit_cut_seq)(void *priv, int64_t cut_us, int64_t *out, tn_err *e);
    tn_code (*audit_prune)(void *priv, int64_t cut_seq, const char *held_on, int64_t *deleted,
                           tn_err *e);
    tn_code (*audit_index_catch_up)(void *priv, int64_t *indexed, tn_err *e);
    tn_code (*audit_by_subject)(void *priv, const char *subject_id, int64_t from_us,
                                int64_t to_us, store_audit_rec_cb cb, void *ctx, tn_err *e);
    /* lifecycle (appended) */
    tn_code (*lc_policy_add)(void *priv, const char *body, int64_t applied_at,
                             const char *actor_id, int64_t *version_out, tn_err *e);
    tn_code (*lc_policy_current)(void *priv, int64_t *version, char **body_out, tn_err *e);
    tn_code (*lc_kinds_in_use)(void *priv, store_kind_cb cb, void *ctx, tn_err *e);
    tn_code (*lc_aff_delete_by_person)(void *priv, const char *person_id, tn_err *e);
    tn_code (*lc_archive_get)(void *priv, const char *person_id, store_lc_archive *out,
                              tn_err *e);
    tn_code (*lc_archive_put)(void *priv, const char *person_id, const store_lc_archive *a,
                              tn_err *e);
    tn_code (*lc_archive_delete)(void *priv, const char *person_id, tn_err *e);
    tn_code (*lc_outbox_add)(void *priv, const char *target, const char *person_id,
                             const char *event, const char *payload, int64_t created_at,
                             tn_err *e);
    tn_code (*lc_run_add)(void *priv, int64_t run_at, tn_date as_of, int64_t policy_version,
                          const char *counts, bool changed, const char *actor_id, tn_err *e);
    tn_code (*lc_account_detach)(void *priv, const char *person_id, int64_t updated_at,
                                 tn_err *e);
    /* version 1, feeds (store_sqlite_feed.c) */
    tn_code (*import_run_insert)(void *priv, store_import_run *r, tn_err *e);
    tn_code (*import_run_update)(void *priv, const store_import_run *r, tn_err *e);
    tn_code (*import_run_list)(void *priv, int64_t limit, store_import_run_cb cb, void *ctx,
                               tn_err *e);
    tn_code (*review_put)(void *priv, store_review *r, bool *changed, tn_err *e);
    tn_code (*review_get)(void *priv, int64_t id, store_review *out, tn_err *e);
    tn_code (*review_list)(void *priv, const char *state, store_review_cb cb, void *ctx,
                           tn_err *e);
    tn_code (*review_decide)(void *priv, int64_t id, const char *state, int64_t decided_at,
                             tn_err *e);
    tn_code (*person_find_similar)(void *priv, const char *given, const char *family,
                                   tn_date birth, char (*ids)[UUID_BUFSZ], size_t max,
                                   size_t *n, tn_err *e);
    tn_code (*aff_list_active_by_source)(void *priv, const char *source, tn_date as_of,
                                         store_aff_key_cb cb, void *ctx, tn_err *e);
    /* reports (appended) */
    tn_code (*report_accounts)(void *priv, const char *as_of, const char *unit,
                               store_report_cb cb, void *ctx, tn_err *e);
    tn_code (*report_rights)(void *priv, const char *as_of, const char *unit,
                             store_report_cb cb, void *ctx, tn_err *e);
    tn_code (*report_changes)(void *priv, int64_t from_us, int64_t to_us, const char *unit,
                              store_report_cb cb, void *ctx, tn_err *e);
    /* lifecycle scan, handover, sealed accounts (store_sqlite_lc2.c) */
    tn_code (*lc_scan)(void *priv, int64_t after, size_t max, store_lc_page *pg, tn_err *e);
    tn_code (*lc_handover_add)(void *priv, store_lc_handover *h, int64_t created_at, tn_err *e);
    tn_code (*lc_handover_list)(void *priv, const char *person_id, store_lc_handover **out,
                                size_t *n, tn_err *e);
    tn_code (*lc_handover_end)(void *priv, int64_t id, const char *state, tn_date ended_on,
                               int64_t updated_at, tn_err *e);
    tn_code (*lc_account_seal)(void *priv, int64_t account_id, tn_date on, const char *reason,
                               int64_t created_at, tn_err *e);
    tn_code (*lc_account_sealed)(void *priv, int64_t account_id, bool *sealed, tn_err *e);
    /* connection tuning (appended) */
    void (*set_busy_timeout)(void *priv, int ms);
    tn_code (*aff_list_by_source_key)(void *priv, const char *source, const char *key,
                                      affiliation **out, size_t *n, tn_err *e);
    tn_code (*source_put)(void *priv, const store_source *src, store_source *old, bool *had,
                          tn_err *e);
    tn_code (*source_list)(void *priv, store_source_cb cb, void *ctx, tn_err *e);
    /* LDAP directory (store_sqlite_dir.c) */
    tn_code (*dir_get)(void *priv, const char *username, tn_date today, store_dir_row *out,
                       tn_err *e);
    tn_code (*dir_scan)(void *priv, tn_date today, int64_t after_account_id, int64_t limit,
                        store_dir_cb cb, void *ctx, tn_err *e);
    tn_code (*dir_auth_get)(void *priv, const char *username, store_dir_auth *out, tn_err *e);
    tn_code (*dir_bind_fail)(void *priv, int64_t account_id, int64_t now_us,
                             int64_t max_failures, int64_t lock_until_us, int64_t *failures,
                             tn_err *e);
    tn_code (*dir_bind_reset)(void *priv, int64_t account_id, tn_err *e);
    tn_code (*account_set_password)(void *priv, const char *username, const char *hash,
                                    int64_t updated_at, tn_err *e);
    tn_code (*tune)(void *priv, int64_t cache_kib, int64_t mmap_bytes, tn_err *e);
    tn_code (*import_fp_get)(void *priv, const char *source, const char *key,
                             unsigned char fp[STORE_HASH_BYTES], tn_date *until, bool *found,
                             tn_err *e);
    tn_code (*import_fp_put)(void *priv, const char *source, const char *key,
                             const unsigned char fp[STORE_HASH_BYTES], tn_date until, tn_err *e);
    /* LDAP groups (store_sqlite_groups.c) */
    tn_code (*dir_group_get)(void *priv, const char *cn, dir_group *out, tn_err *e);
    tn_code (*dir_group_scan)(void *priv, int64_t after_gid, int64_t limit,
                              store_dir_group_cb cb, void *ctx, tn_err *e);
    tn_code (*dir_group_members)(void *priv, dir_group *g, tn_date today, tn_err *e);
    tn_code (*dir_member_of)(void *priv, int64_t person_number, tn_date today, char *out,
                             size_t cap, tn_err *e);
    tn_code (*dir_group_cn)(void *priv, const char *gtype, const char *v1, const char *v2,
                            char *out, size_t cap, tn_err *e);
    /* store_sqlite_authz.c: scoped roles and error reports */
    tn_code (*person_in_unit)(void *priv, const char *person_id, const char *unit_code,
                              tn_date today, bool *in, tn_err *e);
    tn_code (*unit_in_subtree)(void *priv, const char *unit_code, const char *root_code, bool *in,
                               tn_err *e);
    tn_code (*role_grant_insert)(void *priv, store_role_grant *g, tn_err *e);
    tn_code (*role_grant_get)(void *priv, int64_t id, store_role_grant *out, tn_err *e);
    tn_code (*role_grant_revoke)(void *priv, int64_t id, tn_date on, const char *by, tn_err *e);
    tn_code (*role_grant_list)(void *priv, const char *person_id, store_role_grant_cb cb,
                               void *ctx, tn_err *e);
    tn_code (*error_report_insert)(void *priv, store_error_report *r, tn_err *e);
    tn_code (*error_report_get)(void *priv, int64_t id, store_error_report *out, tn_err *e);
    tn_code (*error_report_close)(void *priv, int64_t id, const char *state, int64_t at,
                                  const char *by, const char *resolution, tn_err *e);
    tn_code (*error_report_list)(void *priv, const char *person_id, const char *state,
                                 store_error_report_cb cb, void *ctx, tn_err *e);
    /* provisioning (store_sqlite_prov.c) */
    tn_code (*prov_ingest)(void *priv, const char *target, int64_t now, int64_t max,
                           int64_t *added, tn_err *e);
    tn_code (*prov_due)(void *priv, const char *target, int64_t now, int64_t max,
                        store_prov_item **out, size_t *n, tn_err *e);
    tn_code (*prov_parked)(void *priv, const char *target, store_prov_item **out, size_t *n,
                           tn_err *e);
    tn_code (*prov_done)(void *priv, const char *target, const store_prov_item *it,
                         const char *resource_id, const char *state, int64_t now, bool *finished,
                         tn_err *e);
    tn_code (*prov_fail)(void *priv, int64_t id, int64_t attempts, int64_t next_at,
                         const char *error, bool parked, tn_err *e);
    tn_code (*prov_retry)(void *priv, const char *target, int64_t id, int64_t now, int64_t *n,
                          tn_err *e);
    tn_code (*prov_resource_get)(void *priv, const char *target, const char *person_id,
                                 store_prov_resource *out, bool *found, tn_err *e);
    tn_code (*prov_resource_list)(void *priv, const char *target, store_prov_resource_cb cb,
                                  void *ctx, tn_err *e);
    tn_code (*prov_group_put)(void *priv, const char *target, const char *name,
                              const char *resource_id, int64_t now, tn_err *e);
    tn_code (*prov_group_list)(void *priv, const char *target, store_prov_group_cb cb,
                               void *ctx, tn_err *e);
    tn_code (*prov_stats)(void *priv, const char *target, int64_t now, store_prov_counts *out,
                          tn_err *e);
    /* store_sqlite_readlog.c: open the read log (the result is used with
     * this same table) */
    tn_code (*open_readlog)(const char *path, const char *registry, store_open_mode mode,
                            void **priv, tn_err *e);
    /* lifecycle due cache (store_sqlite_lcdue.c, store_sqlite_lc2.c) */
    tn_code (*lc_scan_nums)(void *priv, const int64_t *nums, size_t n, store_lc_page *pg,
                            tn_err *e);
    tn_code (*lc_due_list)(void *priv, int64_t version, tn_date d, int64_t **nums, size_t *n,
                           size_t *total, tn_err *e);
    tn_code (*lc_due_put)(void *priv, int64_t number, int64_t gen, int64_t version, tn_date lo,
                          tn_date hi, tn_err *e);
    /* API clients (store_sqlite_client.c) */
    tn_code (*client_insert)(void *priv, store_api_client *c,
                             const unsigned char token_hash[STORE_HASH_BYTES], tn_err *e);
    tn_code (*client_get)(void *priv, const char *name, store_api_client *out, tn_err *e);
    tn_code (*client_get_by_token)(void *priv, const unsigned char token_hash[STORE_HASH_BYTES],
                                   store_api_client *out, tn_err *e);
    tn_code (*client_list)(void *priv, store_client_cb cb, void *ctx, tn_err *e);
    tn_code (*client_set_token)(void *priv, int64_t id,
                                const unsigned char token_hash[STORE_HASH_BYTES], int64_t now_us,
                                tn_err *e);
    tn_code (*client_revoke)(void *priv, int64_t id, int64_t now_us, tn_err *e);
    tn_code (*client_set_cert)(void *priv, int64_t id, const char *cert_sha256, tn_err *e);
    tn_code (*client_source_seen)(void *priv, int64_t id, const char *source, int64_t now_us,
                                  bool *is_new, tn_err *e);
    tn_code (*client_source_known)(void *priv, int64_t id, const char *source, bool *known,
                                   tn_err *e);
    /* Read scopes (store_read_begin / store_read_end). */
    tn_code (*read_begin)(void *priv, tn_err *e);
    void (*read_end)(void *priv);
    tn_code (*data_version)(void *priv, uint64_t *out, tn_err *e);
    /* the read log's blocks (appended) */
    tn_code (*audit_insert_block)(void *priv, const unsigned char *events, size_t len,
                                  tn_err *e);
} store_ops;


extern const store_ops store_sqlite_ops;

/* store_sqlite_feed.c */
tn_code sq_import_run_insert(void *priv, store_import_run *r, tn_err *e);
tn_code sq_import_run_update(void *priv, const store_import_run *r, tn_err *e);
tn_code sq_import_run_list(void *priv, int64_t limit, store_import_run_cb cb, void *ctx,
                           tn_err *e);
tn_code sq_review_put(void *priv, store_review *r, bool *changed, tn_err *e);
tn_code sq_review_get(void *priv, int64_t id, store_review *out, tn_err *e);
tn_code sq_review_list(void *priv, const char *state, store_review_cb cb, void *ctx, tn_err *e);
tn_code sq_review_decide(void *priv, int64_t id, const char *state, int64_t decided_at,
                         tn_err *e);
tn_code sq_person_find_similar(void *priv, const char *given, const char *family, tn_date birth,
                               char (*ids)[UUID_BUFSZ], size_t max, size_t *n, tn_err *e);
tn_code sq_aff_list_active_by_source(void *priv, const char *source, tn_date as_of,
                                     store_aff_key_cb cb, void *ctx, tn_err *e);

/* store_sqlite_conn.c */
void sq_set_busy_timeout(void *priv, int ms);

/* store_sqlite_report.c */
tn_code sq_report_accounts(void *priv, const char *as_of, const char *unit, store_report_cb cb,
                           void *ctx, tn_err *e);
tn_code sq_report_rights(void *priv, const char *as_of, const char *unit, store_report_cb cb,
                         void *ctx, tn_err *e);
tn_code sq_report_changes(void *priv, int64_t from_us, int64_t to_us, const char *unit,
                          store_report_cb cb, void *ctx, tn_err *e);
/* store_sqlite_lc2.c */
tn_code sq_lc_scan(void *priv, int64_t after, size_t max, store_lc_page *pg, tn_err *e);
tn_code sq_lc_handover_add(void *priv, store_lc_handover *h, int64_t created_at, tn_err *e);
tn_code sq_lc_handover_list(void *priv, const char *person_id, store_lc_handover **out,
                            size_t *n, tn_err *e);
tn_code sq_lc_handover_end(void *priv, int64_t id, const char *state, tn_date ended_on,
                           int64_t updated_at, tn_err *e);
tn_code sq_lc_account_seal(void *priv, int64_t account_id, tn_date on, const char *reason,
                           int64_t created_at, tn_err *e);
tn_code sq_lc_account_sealed(void *priv, int64_t account_id, bool *sealed, tn_err *e);
/* store_sqlite_feeds2.c */
tn_code sq_aff_list_by_source_key(void *priv, const char *source, const char *key,
                                  affiliation **out, size_t *n, tn_err *e);
tn_code sq_source_put(void *priv, const store_source *src, store_source *old, bool *had,
                      tn_err *e);
tn_code sq_source_list(void *priv, store_source_cb cb, void *ctx, tn_err *e);
/* store_sqlite_dir.c */
tn_code sq_dir_get(void *priv, const char *username, tn_date today, store_dir_row *out,
                   tn_err *e);
tn_code sq_dir_scan(void *priv, tn_date today, int64_t after_account_id, int64_t limit,
                    store_dir_cb cb, void *ctx, tn_err *e);
tn_code sq_dir_auth_get(void *priv, const char *username, store_dir_auth *out, tn_err *e);
tn_code sq_dir_bind_fail(void *priv, int64_t account_id, int64_t now_us, int64_t max_failures,
                         int64_t lock_until_us, int64_t *failures, tn_err *e);
tn_code sq_dir_bind_reset(void *priv, int64_t account_id, tn_err *e);
tn_code sq_account_set_password(void *priv, const char *username, const char *hash,
                                int64_t updated_at, tn_err *e);
tn_code sq_tune(void *priv, int64_t cache_kib, int64_t mmap_bytes, tn_err *e);
/* store_sqlite_fp.c */
tn_code sq_import_fp_get(void *priv, const char *source, const char *key,
                         unsigned char fp[STORE_HASH_BYTES], tn_date *until, bool *found,
                         tn_err *e);
tn_code sq_import_fp_put(void *priv, const char *source, const char *key,
                         const unsigned char fp[STORE_HASH_BYTES], tn_date until, tn_err *e);

/* store_sqlite_readlog.c */
tn_code sq_open_readlog(const char *path, const char *registry, store_open_mode mode, void **priv,
                        tn_err *e);

/* store_sqlite_groups.c */
tn_code sq_dir_group_get(void *priv, const char *cn, dir_group *out, tn_err *e);
tn_code sq_dir_group_scan(void *priv, int64_t after_gid, int64_t limit, store_dir_group_cb cb,
                          void *ctx, tn_err *e);
tn_code sq_dir_group_members(void *priv, dir_group *g, tn_date today, tn_err *e);
tn_code sq_dir_member_of(void *priv, int64_t person_number, tn_date today, char *out, size_t cap,
                         tn_err *e);
tn_code sq_dir_group_cn(void *priv, const char *gtype, const char *v1, const char *v2, char *out,
                        size_t cap, tn_err *e);
/* store_sqlite_client.c */
tn_code sq_client_insert(void *priv, store_api_client *c,
                         const unsigned char token_hash[STORE_HASH_BYTES], tn_err *e);
tn_code sq_client_get(void *priv, const char *name, store_api_client *out, tn_err *e);
tn_code sq_client_get_by_token(void *priv, const unsigned char token_hash[STORE_HASH_BYTES],
                               store_api_client *out, tn_err *e);
tn_code sq_client_list(void *priv, store_client_cb cb, void *ctx, tn_err *e);
tn_code sq_client_set_token(void *priv, int64_t id, const unsigned char token_hash[STORE_HASH_BYTES],
                            int64_t now_us, tn_err *e);
tn_code sq_client_revoke(void *priv, int64_t id, int64_t now_us, tn_err *e);
tn_code sq_client_set_cert(void *priv, int64_t id, const char *cert_sha256, tn_err *e);
tn_code sq_client_source_seen(void *priv, int64_t id, const char *source, int64_t now_us,
                              bool *is_new, tn_err *e);
tn_code sq_client_source_known(void *priv, int64_t id, const char *source, bool *known,
                               tn_err *e);

/* store_sqlite_authz.c */
tn_code sq_person_in_unit(void *priv, const char *person_id, const char *unit_code,
                          tn_date today, bool *in, tn_err *e);
tn_code sq_unit_in_subtree(void *priv, const char *unit_code, const char *root_code, bool *in,
                           tn_err *e);
tn_code sq_role_grant_insert(void *priv, store_role_grant *g, tn_err *e);
tn_code sq_role_grant_get(void *priv, int64_t id, store_role_grant *out, tn_err *e);
tn_code sq_role_grant_revoke(void *priv, int64_t id, tn_date on, const char *by, tn_err *e);
tn_code sq_role_grant_list(void *priv, const char *person_id, store_role_grant_cb cb, void *ctx,
                           tn_err *e);
tn_code sq_error_report_insert(void *priv, store_error_report *r, tn_err *e);
tn_code sq_error_report_get(void *priv, int64_t id, store_error_report *out, tn_err *e);
tn_code sq_error_report_close(void *priv, int64_t id, const char *state, int64_t at,
                              const char *by, const char *resolution, tn_err *e);
tn_code sq_error_report_list(void *priv, const char *person_id, const char *state,
                             store_error_report_cb cb, void *ctx, tn_err *e);
/* store_sqlite_prov.c */
tn_code sq_prov_ingest(void *priv, const char *target, int64_t now, int64_t max, int64_t *added,
                       tn_err *e);
tn_code sq_prov_due(void *priv, const char *target, int64_t now, int64_t max,
                    store_prov_item **out, size_t *n, tn_err *e);
tn_code sq_prov_parked(void *priv, const char *target, store_prov_item **out, size_t *n,
                       tn_err *e);
tn_code sq_prov_done(void *priv, const char *target, const store_prov_item *it,
                     const char *resource_id, const char *state, int64_t now, bool *finished,
                     tn_err *e);
tn_code sq_prov_fail(void *priv, int64_t id, int64_t attempts, int64_t next_at, const char *error,
                     bool parked, tn_err *e);
tn_code sq_prov_retry(void *priv, const char *target, int64_t id, int64_t now, int64_t *n,
                      tn_err *e);
tn_code sq_prov_resource_get(void *priv, const char *target, const char *person_id,
                             store_prov_resource *out, bool *found, tn_err *e);
tn_code sq_prov_resource_list(void *priv, const char *target, store_prov_resource_cb cb,
                              void *ctx, tn_err *e);
tn_code sq_prov_group_put(void *priv, const char *target, const char *name,
                          const char *resource_id, int64_t now, tn_err *e);
tn_code sq_prov_group_list(void *priv, const char *target, store_prov_group_cb cb, void *ctx,
                           tn_err *e);
tn_code sq_prov_stats(void *priv, const char *target, int64_t now, store_prov_counts *out,
                      tn_err *e);
/* store_sqlite_lcdue.c (and sq_lc_scan_nums in store_sqlite_lc2.c) */
tn_code sq_lc_scan_nums(void *priv, const int64_t *nums, size_t n, store_lc_page *pg, tn_err *e);
tn_code sq_lc_due_list(void *priv, int64_t version, tn_date d, int64_t **nums, size_t *n,
                       size_t *total, tn_err *e);
tn_code sq_lc_due_put(void *priv, int64_t number, int64_t gen, int64_t version, tn_date lo,
                      tn_date hi, tn_err *e);

#endif
