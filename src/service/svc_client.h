/* svc_client — API clients (SEC-2, AN-3) and the person scan behind the
 * HTTP front end (SCIM, src/http).
 *
 * An API client is a service identity with one role, an optional org-unit
 * scope, an optional expiry and source-address allowlist, and a bearer
 * token: 256 random bits, shown once when made or rotated, stored only as
 * its keyed hash. A request's token becomes an svc_actor of kind
 * SVC_ACTOR_CLIENT; every failure is audited (client.auth, denied) and a
 * first request from a source address the client never used before is an
 * audit alert (client.new_source). A client may also be bound to a client
 * certificate (its SHA-256 fingerprint): its token then works only over
 * HTTPS from a peer that proved it holds that certificate. */
#ifndef SVC_CLIENT_H
#define SVC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "dir_entry.h"
#include "service.h"

#define SVC_CLIENT_NAME_MAX 64
#define SVC_TOKEN_BUFSZ 64 /* "tnk_" + 43 base64url characters + NUL */
#define SVC_CLIENT_ALLOW_MAX 16

typedef struct svc_client_input {
    const char *name;          /* [a-z0-9][a-z0-9._-]{0,63} */
    const char *role;          /* svc_role_name */
    const char *unit;          /* org-unit code; NULL = none (required for unit_admin) */
    const char *expires;       /* ISO date, last valid day; NULL = never */
    const char *const *allow;  /* CIDRs ("10.0.0.0/8", "::1/128", a bare address) */
    size_t nallow;
    const char *cert_sha256;   /* SHA-256 of the client certificate (hex, colons allowed); NULL = unbound */
} svc_client_input;

typedef struct svc_client_info {
    char name[SVC_CLIENT_NAME_MAX + 1];
    char role[33];
    char scope_unit[257];
    char allow[1024];          /* comma-separated */
    char expires[11];          /* "" = never */
    bool revoked;
    int64_t created_at, rotated_at, revoked_at; /* µs UTC */
    char cert_sha256[65];      /* lowercase hex; "" = not bound */
} svc_client_info;

/* Create a client; token gets its bearer token (show it once). */
tn_code svc_client_add(svc *s, const svc_actor *a, const svc_client_input *in,
                       char token[SVC_TOKEN_BUFSZ], svc_client_info *out, tn_err *e);
typedef int (*svc_client_cb)(const svc_client_info *c, void *ctx);
tn_code svc_client_list(svc *s, const svc_actor *a, svc_client_cb cb, void *ctx, tn_err *e);
/* A new token; the old one stops working at once. */
tn_code svc_client_rotate(svc *s, const svc_actor *a, const char *name,
                          char token[SVC_TOKEN_BUFSZ], tn_err *e);
tn_code svc_client_revoke(svc *s, const svc_actor *a, const char *name, tn_err *e);
/* Bind the client to a certificate fingerprint (SHA-256, hex, colons
 * allowed, as `openssl x509 -fingerprint -sha256` prints it); NULL or ""
 * unbinds. Takes effect at the next request. */
tn_code svc_client_bind_cert(svc *s, const svc_actor *a, const char *name,
                             const char *cert_sha256, tn_err *e);

/* Authenticate a bearer token from source (an IP address) for channel.
 * peer_cert_sha256 is the fingerprint (lowercase hex) of the client
 * certificate the TLS layer verified for this connection, or NULL. Every
 * failure is TN_EDENIED with one message whatever the reason (unknown,
 * revoked, expired, source not allowed, certificate missing or another),
 * audited with the reason. *new_source says this was the client's first
 * request from source (audited as client.new_source). */
tn_code svc_client_auth(svc *s, const char *token, const char *source,
                        const char *peer_cert_sha256, svc_channel ch, svc_actor *out,
                        bool *new_source, tn_err *e);
/* Normalise a SHA-256 fingerprint (hex, optional colons, any case) into
 * out (64 lowercase hex digits); false if it is not one. */
bool svc_cert_fingerprint_norm(const char *in, char out[65]);
/* Audit a failed authentication that never reached a token check (a
 * malformed Authorization header, a throttled source). */
void svc_client_auth_failed(svc *s, const char *source, svc_channel ch, const char *reason);

/* Whether source (an IPv4 or IPv6 address) lies in one of the
 * comma-separated CIDRs of allow ("" allows every source). */
bool svc_cidr_allows(const char *allow, const char *source);
/* Is every element of a comma-separated CIDR list well-formed? If not,
 * the first bad one goes to bad. */
bool svc_cidr_list_valid(const char *allow, char *bad, size_t cap);

/* ---- the person scan (svc_scan.c) -------------------------------------- */

/* Decides whether a person (with affiliations and accounts) matches the
 * caller's query; return non-zero to stop the scan. Nothing is shown to
 * anyone here, so nothing is audited: the caller shows the matches it
 * picks through svc_person_show, which audits each read. */
typedef int (*svc_scan_fn)(const svc_person_view *v, void *ctx);
/* Authorised as a person list; at most q->limit persons examined (0 = all). */
tn_code svc_person_scan(svc *s, const svc_actor *a, const svc_person_query *q, svc_scan_fn fn,
                        void *ctx, tn_err *e);

/* The person id of each member of a group the caller has been shown
 * (from svc_dir_group_get or _search, which audited the read): ids[i] for
 * the i-th username in g->members, "" when it has none. Authorised as a
 * directory read. ids holds g->nmembers entries. */
tn_code svc_dir_group_member_ids(svc *s, const svc_actor *a, const dir_group *g,
                                 char (*ids)[UUID_BUFSZ], tn_err *e);

#endif
