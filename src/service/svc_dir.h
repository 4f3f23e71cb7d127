/* svc_dir — the directory use cases behind the LDAP front end: who may
 * bind, who may look whom up, and the audit of both.
 *
 * The front end parses the protocol and evaluates its filter against a
 * dir_entry; the service decides which accounts exist for the directory
 * (those the lifecycle lets log in: active and grace), whether the actor
 * may read them, and records every entry shown and every failed bind. */
#ifndef SVC_DIR_H
#define SVC_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "dir_entry.h"
#include "service.h"

/* Actor ids of the LDAP clients that are not persons. */
#define SVC_DIR_ANONYMOUS "ldap:anonymous"
#define SVC_DIR_SERVICE "ldap:service"

/* Memory use of a directory server's handle (store_tune): its private
 * page cache, and how much of the registry it may read through a map. */
tn_code svc_dir_tune(svc *s, int64_t cache_kib, int64_t mmap_bytes, tn_err *e);

/* The actor for an unauthenticated LDAP session from source. */
void svc_dir_actor_anonymous(svc_actor *a, const char *source);

/* Simple bind as an account: on success *out is the person acting on their
 * own behalf over LDAP. Every failure is TN_EDENIED with one message
 * ("invalid credentials") whatever the reason (unknown, closed, locked,
 * wrong password), is audited with the reason, and counts towards the
 * account's lockout. A success is audited as a read (flush before
 * answering) and clears the count. */
tn_code svc_dir_bind(svc *s, const char *source, const char *username, const char *password,
                     svc_actor *out, tn_err *e);
/* Simple bind as the configured application account ([ldap] service_dn and
 * service_password_hash), from an address in [ldap] service_allow. *out is
 * an LDAP client. */
tn_code svc_dir_bind_client(svc *s, const char *source, const char *password, svc_actor *out,
                            tn_err *e);
/* Simple bind as the API client name (tunnus client add) with its token
 * as the password: the client's expiry, revocation and source-address
 * allowlist apply as over HTTP (svc_client_auth). *out is that client,
 * with its role. Failures as svc_dir_bind's. */
tn_code svc_dir_bind_api_client(svc *s, const char *source, const char *name, const char *token,
                                svc_actor *out, tn_err *e);

/* The front end's throttle began a wait for source after repeated failed
 * binds: audited once (dir.bind, failed), counted. */
void svc_dir_source_throttled(svc *s, const char *source);
/* A bind refused unchecked while its source waits: counted only (auditing
 * each would let a flood of attempts write the audit trail). */
void svc_dir_bind_refused(void);

/* Process-wide directory counters, for /metrics. */
typedef struct svc_dir_stats {
    uint64_t binds;            /* successful */
    uint64_t bind_failures;    /* every failed bind, whatever the reason */
    uint64_t binds_refused;    /* while the source waited */
    uint64_t sources_throttled; /* waits begun */
} svc_dir_stats;
void svc_dir_stats_get(svc_dir_stats *out);

/* Whether the actor may search the directory at all (TN_EDENIED, audited,
 * if not): anonymous sessions only when [ldap] anonymous_search is on. */
tn_code svc_dir_may_search(svc *s, const svc_actor *a, tn_err *e);

/* One visible entry by uid. TN_ENOTFOUND when there is none or it is not
 * visible. attrs names what the caller will show (for the audit event). */
tn_code svc_dir_get(svc *s, const svc_actor *a, const char *uid, const char *attrs,
                    dir_entry *out, tn_err *e);

/* Returns true if the entry matches the caller's filter. */
typedef bool (*svc_dir_match_fn)(const dir_entry *d, void *ctx);
/* Called for each matching visible entry (audited as a read); non-zero
 * stops the search, not an error. */
typedef int (*svc_dir_cb)(const dir_entry *d, void *ctx);

typedef struct svc_dir_query {
    const char *uid;        /* non-NULL: only this uid (an index lookup) */
    svc_dir_match_fn match; /* NULL: every entry matches */
    void *match_ctx;
    const char *attrs;      /* what the caller shows, for the audit event */
    bool member_of;         /* fill dir_entry.groups before matching */
} svc_dir_query;

/* Search visible entries. Without uid the accounts are scanned, at most
 * [ldap] scan_limit of them: *capped says the scan stopped there. */
tn_code svc_dir_search(svc *s, const svc_actor *a, const svc_dir_query *q, svc_dir_cb cb,
                       void *ctx, bool *capped, tn_err *e);

/* One page of a search (RFC 2696 paging): entries are delivered in
 * account id order, only those after after_id, at most max of them
 * (max < 0: no limit). *more says another matching entry follows (it is
 * neither delivered nor audited). cb sees dir_entry.account_id, the
 * after_id of the next page. */
tn_code svc_dir_search_page(svc *s, const svc_actor *a, const svc_dir_query *q, int64_t after_id,
                            int64_t max, svc_dir_cb cb, void *ctx, bool *capped, bool *more,
                            tn_err *e);

/* Set an account's password (argon2id) from the clear text; "" removes
 * it. selector is a username or a person selector (their account).
 * Audited as a change of the secret, never its value. */
tn_code svc_account_set_password(svc *s, const svc_actor *a, const char *selector,
                                 const char *password, tn_err *e);

/* Password Modify (RFC 3062) by the person a, for their own account: the
 * old password is checked as a bind checks it (a wrong one is TN_EDENIED,
 * audited, and counts towards the lockout); the new one is stored as
 * argon2id and audited as account.password (that the secret changed,
 * never a value). Only persons may: other actors get TN_EDENIED. */
tn_code svc_dir_passwd(svc *s, const svc_actor *a, const char *old_pw, const char *new_pw,
                       tn_err *e);

/* Store a password hash made elsewhere (a directory migration): argon2id
 * ("$argon2id$…") or {SSHA}, {SSHA256}, {SSHA512}; anything else is
 * TN_EINVAL. selector and audit as svc_account_set_password. */
tn_code svc_account_set_password_hash(svc *s, const svc_actor *a, const char *selector,
                                      const char *hash, tn_err *e);

/* ---- writes (svc_dir_write.c) ----------------------------------------- */

/* One attribute of a directory modify, after the front end has folded the
 * request's add/delete/replace steps into the value it should end with:
 * value NULL or "" removes it. */
typedef struct svc_dir_set {
    const char *attr;  /* directory attribute name, as the client spelled it */
    const char *value;
} svc_dir_set;

/* Is the directory attribute one that a modify may write (REG-5: the
 * self-editable contact attributes telephoneNumber and preferredLanguage)? */
bool svc_dir_writable(const char *attr);

/* Modify the entry uid: every attribute must be writable (else TN_EDENIED,
 * audited as a denied dir.modify naming the attribute) and the actor must
 * be allowed to edit that person's self-editable attributes (REG-5: the
 * person themselves). All sets apply in one transaction with one audit
 * event, or none does. TN_ENOTFOUND if uid is not a visible entry;
 * TN_EINVAL (field = the attribute) if a value fails validation. */
tn_code svc_dir_modify(svc *s, const svc_actor *a, const char *uid, const svc_dir_set *sets,
                       size_t n, tn_err *e);

/* An LDAP add, delete or modify DN, or a modify of an entry that is not a
 * person: the tree is the registry's, so these are refused for every
 * actor, on record (TN_EDENIED, audited as a denied action). */
tn_code svc_dir_refuse(svc *s, const svc_actor *a, const char *action, tn_err *e);

/* ---- groups (ou=groups; svc_dir_groups.c) ----------------------------- */

/* Fill d->groups with the cn values of the groups the account is in
 * today (memberOf). Part of the person's read, which is audited. */
tn_code svc_dir_member_of(svc *s, const svc_actor *a, dir_entry *d, tn_err *e);

/* Returns true if the group (members filled) matches the caller's filter. */
typedef bool (*svc_dir_group_match_fn)(const dir_group *g, void *ctx);
/* Called for each matching group shown (audited); non-zero stops. */
typedef int (*svc_dir_group_cb)(const dir_group *g, void *ctx);

typedef struct svc_dir_group_query {
    const char *cn;               /* non-NULL: only this cn (an index lookup) */
    svc_dir_group_match_fn match; /* NULL: every group matches */
    void *match_ctx;
    const char *attrs;            /* what the caller shows, for the audit event */
} svc_dir_group_query;

/* One group by cn, members filled (free with svc_dir_group_free).
 * TN_ENOTFOUND when there is none or it has no member today. */
tn_code svc_dir_group_get(svc *s, const svc_actor *a, const char *cn, const char *attrs,
                          dir_group *out, tn_err *e);
/* Groups in gid order after after_gid with at least one member today; at
 * most max delivered (max < 0: no limit), *more when another matches. At
 * most [ldap] scan_limit groups are examined (*capped). */
tn_code svc_dir_group_search(svc *s, const svc_actor *a, const svc_dir_group_query *q,
                             int64_t after_gid, int64_t max, svc_dir_group_cb cb, void *ctx,
                             bool *capped, bool *more, tn_err *e);
void svc_dir_group_free(dir_group *g);

#endif
