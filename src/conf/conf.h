/* conf — the tunnus.conf settings file.
 *
 * An INI file read with inih:
 *
 *   [registry]
 *   db = /var/lib/tunnus/tunnus.db      ; or sqlite:PATH
 *   key_file = /var/lib/tunnus/tunnus.key ; default: <db>.key
 *
 *   [naming]
 *   username_pattern = {given}.{family}
 *   username_max = 20
 *   email_pattern = {preferred}.{family}
 *   email_domain = example.fi           ; empty: accounts get no address
 *
 *   [ldap]                              ; `tunnus serve` (docs/ldap.md)
 *   listen = 127.0.0.1
 *   port = 3389
 *   base = dc=example,dc=fi
 *   max_pdu = 262144                    ; bytes; a larger request closes the connection
 *   max_connections = 256
 *   idle_timeout = 300                  ; seconds
 *   filter_depth = 32
 *   size_limit = 1000                   ; entries per search, at most
 *   time_limit = 60                     ; seconds per search, at most
 *   scan_limit = 1000000                ; accounts a non-indexed filter may examine
 *   anonymous_search = false
 *   read_audit = true                   ; false only for benchmarks
 *   cache_kib = 1024                    ; SQLite page cache per connection
 *   mmap_mib = 0                        ; memory-map up to this much of the registry per connection
 *   bind_max_failures = 5               ; 0 = never lock
 *   bind_lockout = 900                  ; seconds
 *   service_dn = cn=app,dc=example,dc=fi ; an application's bind DN
 *   service_password_hash = $argon2id$… ; or {SSHA}/{SSHA512}
 *   rehash_legacy = true                ; replace a migrated {SSHA}/{CRYPT}/{ARGON2} hash by argon2id at bind
 *
 *   [target NAME]                       ; a provisioning target (docs/provisioning.md)
 *   type = ldap | file | scim
 *   map.ATTR = {given_name} {family_name} ; the target attribute and its template
 *   …                                   ; see conf_target below
 *   [http]                              ; `tunnus serve`: SCIM and /metrics (docs/scim.md)
 *   listen = 127.0.0.1
 *   port = 8080                         ; unset: 8080, or any free port with serve --port 0; off: no HTTP
 *   https_port = off                    ; needs tls_cert/tls_key (default: [ldap]'s)
 *   max_body = 1048576                  ; bytes; a larger request body is 413
 *   timeout = 30                        ; seconds a connection may idle or trickle
 *   threads = 16                        ; worker threads, each with its registry handle
 *   cache_kib = 4096                    ; SQLite page cache per worker thread
 *   max_connections = 512
 *   read_audit = true                   ; false only for benchmarks
 *   auth_max_failures = 5               ; failed authentications per source before delays
 *   auth_lockout = 900                  ; longest delay, seconds
 *   tls_cert = / tls_key =              ; PEM files; default the [ldap] ones
 *   client_ca = FILE                    ; PEM CAs: HTTPS asks for client certificates (docs/api.md)
 *
 * Unknown sections or keys, malformed values and duplicate keys are errors
 * that name the file, the line and the key, so a typo never silently falls
 * back to a default. */
#ifndef CONF_H
#define CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tn_err.h"

#define CONF_PATH_MAX 4096
#define CONF_PATTERN_MAX 128
#define CONF_DOMAIN_MAX 254
#define CONF_DN_MAX 256
#define CONF_HASH_MAX 256
#define CONF_HTTP_OFF (-2)

/* One provisioning target ([target NAME]). Strings are "" when not given. */
#define CONF_TARGETS_MAX 8
#define CONF_MAP_MAX 24
#define CONF_TNAME_MAX 33
typedef struct conf_map {
    char attr[64];
    char tmpl[192];
} conf_map;

typedef struct conf_target {
    char name[CONF_TNAME_MAX];
    char type[8];                  /* ldap, file, scim */
    char url[256];                 /* ldap://host:port, or the SCIM base URL */
    char bind_dn[CONF_DN_MAX];
    char bind_password[128];
    char bind_password_file[256];  /* or the token file of a SCIM target */
    bool starttls;
    char base[CONF_DN_MAX];        /* the people subtree */
    char rdn_attr[32];             /* default uid */
    char object_classes[256];      /* comma-separated */
    char kinds[256];               /* affiliation kinds it receives; "" = all */
    char units[512];               /* org-unit subtrees (codes) it receives; "" = all */
    char on_close[16];             /* disable (default), move, delete, keep */
    char disable_attr[64];         /* default pwdAccountLockedTime */
    char disable_value[128];       /* default 000001010000Z */
    char closed_base[CONF_DN_MAX]; /* on_close = move */
    char on_purge[16];             /* delete (default), keep */
    char group_base[CONF_DN_MAX];  /* ldap: where the groupOfNames live; "" = no groups */
    /* The group families the target holds, a comma list of kinds, units,
     * schools, classes (or none); conf_finish leaves the canonical form
     * (those given, in that order, e.g. "kinds,units"; "" = none) and
     * the flags. Default: ldap with group_base "kinds"; scim none. */
    char groups[64];
    bool group_kinds;              /* a group per affiliation kind in force */
    bool group_units;              /* a group per org unit of an affiliation in force */
    bool group_schools;            /* a group per school of an affiliation in force */
    bool group_classes;            /* a group per class (of a school) of one in force */
    char group_prefix[64];         /* scim: prepended to the group name to make the displayName */
    char dir[256];                 /* file: the output directory */
    char format[8];                /* file: csv (default) or json */
    unsigned max_attempts;         /* parked after this many failures (default 5) */
    unsigned backoff;              /* seconds before the first retry, doubling (default 2) */
    unsigned batch;                /* persons per delivery round (default 500) */
    conf_map map[CONF_MAP_MAX];
    unsigned nmap;
    uint64_t seen;                 /* keys given, to reject duplicates */
} conf_target;

typedef struct conf {
    char db[CONF_PATH_MAX];
    char key_file[CONF_PATH_MAX];
    char username_pattern[CONF_PATTERN_MAX];
    unsigned username_max;
    char email_pattern[CONF_PATTERN_MAX];
    char email_domain[CONF_DOMAIN_MAX];
    /* [ldap] */
    char ldap_listen[64];
    unsigned ldap_port;
    char ldap_base[CONF_DN_MAX];
    unsigned ldap_max_pdu;
    unsigned ldap_max_connections;
    unsigned ldap_idle_timeout;
    unsigned ldap_filter_depth;
    unsigned ldap_size_limit;
    unsigned ldap_time_limit;
    unsigned ldap_scan_limit;
    bool ldap_anonymous_search;
    bool ldap_read_audit;
    unsigned ldap_cache_kib;
    unsigned ldap_mmap_mib;
    unsigned ldap_workers;             /* threads serving plain sessions; 0: one per CPU, at least 2 */
    unsigned ldap_bind_max_failures;
    unsigned ldap_bind_lockout;
    unsigned ldap_source_max_failures; /* failed binds from one address before it waits; 0: never */
    char ldap_service_allow[1024];     /* CIDRs the service_dn account may bind from; "" = any */
    char ldap_service_dn[CONF_DN_MAX];
    char ldap_service_password_hash[CONF_HASH_MAX];
    /* A password hash kept from a migrated directory ({SSHA}, {CRYPT} …)
     * is replaced by argon2id at the next successful bind. */
    bool ldap_rehash_legacy;
    char ldap_tls_cert[CONF_PATH_MAX]; /* PEM chain; "" = no TLS (no StartTLS, no LDAPS) */
    char ldap_tls_key[CONF_PATH_MAX];
    int ldap_ldaps_port;               /* -1: no LDAPS listener; 0: any free port */
    bool ldap_bind_require_tls;        /* password binds from non-loopback peers need TLS */
    /* [target NAME] sections, in file order */
    conf_target targets[CONF_TARGETS_MAX];
    unsigned ntargets;
    /* [http] (src/http) */
    char http_listen[64];
    int http_port;                     /* -1: not set (8080, or free with serve --port 0);
                                          CONF_HTTP_OFF: no HTTP listener */
    int http_https_port;               /* -1: no HTTPS listener; 0: any free port */
    unsigned http_max_body;
    unsigned http_timeout;
    unsigned http_threads;
    unsigned http_cache_kib;
    unsigned http_mmap_mib;            /* memory map of the registry per worker handle */
    unsigned http_max_connections;
    bool http_read_audit;
    unsigned http_auth_max_failures;
    unsigned http_auth_lockout;
    char http_tls_cert[CONF_PATH_MAX]; /* "" = the [ldap] ones */
    char http_tls_key[CONF_PATH_MAX];
    char http_client_ca[CONF_PATH_MAX]; /* PEM CAs for client certificates; "" = none asked */
} conf;

void conf_defaults(conf *c);
/* Read a file over the defaults already in c. */
tn_code conf_load_file(conf *c, const char *path, tn_err *e);
/* Same for text in memory (name is used in messages). */
tn_code conf_load_string(conf *c, const char *text, const char *name, tn_err *e);
/* Check cross-field rules (patterns valid, lengths in range) and fill
 * derived defaults (key_file from db). */
tn_code conf_finish(conf *c, tn_err *e);
/* The target named name, NULL if none. */
const conf_target *conf_target_find(const conf *c, const char *name);

#endif
