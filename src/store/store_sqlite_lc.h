/* store_sqlite_lc — the lifecycle methods of the SQLite backend
 * (store_sqlite_lifecycle.c), for the method table in store_sqlite.c. */
#ifndef STORE_SQLITE_LC_H
#define STORE_SQLITE_LC_H

#include "store_impl.h"

tn_code sq_lc_policy_add(void *priv, const char *body, int64_t applied_at, const char *actor_id,
                         int64_t *version_out, tn_err *e);
tn_code sq_lc_policy_current(void *priv, int64_t *version, char **body_out, tn_err *e);
tn_code sq_lc_kinds_in_use(void *priv, store_kind_cb cb, void *ctx, tn_err *e);
tn_code sq_lc_aff_delete_by_person(void *priv, const char *person_id, tn_err *e);
tn_code sq_lc_archive_get(void *priv, const char *person_id, store_lc_archive *out, tn_err *e);
tn_code sq_lc_archive_put(void *priv, const char *person_id, const store_lc_archive *a,
                          tn_err *e);
tn_code sq_lc_archive_delete(void *priv, const char *person_id, tn_err *e);
tn_code sq_lc_outbox_add(void *priv, const char *target, const char *person_id,
                         const char *event, const char *payload, int64_t created_at, tn_err *e);
tn_code sq_lc_run_add(void *priv, int64_t run_at, tn_date as_of, int64_t policy_version,
                      const char *counts, bool changed, const char *actor_id, tn_err *e);
tn_code sq_lc_account_detach(void *priv, const char *person_id, int64_t updated_at, tn_err *e);

#endif
