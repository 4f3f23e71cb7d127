/* service — one function per use case; the single place where access is
 * checked and audit is written.
 *
 * Front ends (CLI, LDAP, HTTP) parse their protocol, call one svc_*
 * function with an actor (who, through which channel, from where) and
 * encode the answer. They never see storage, keys or SQL: this header
 * exposes only domain types (model.h) and the opaque svc handle.
 *
 * Every function that reads or writes personal data
 *   1. resolves its target,
 *   2. asks svc_authorize whether the actor may do this to that person
 *      (a denial is audited and returns TN_EDENIED),
 *   3. does the work in one transaction (a savepoint inside a batch), and
 *   4. records an audit event: writes in the same transaction, reads queued
 *      and made durable by svc_flush before the answer is shown.
 *
 * Persons are selected by "id:UUID", "number:N", "username:NAME" or
 * "key:SOURCE:KEY".
 *
 * Ownership: out-structs are filled by the callee; svc_person_view owns
 * its arrays (free with svc_person_view_free). Input strings are borrowed. */
#ifndef SERVICE_H
#define SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "model.h"
#include "tn_err.h"

typedef struct svc svc;

typedef enum svc_channel {
    SVC_CH_CLI = 0,
    SVC_CH_IMPORT,
    SVC_CH_LIFECYCLE,
    SVC_CH_LDAP,
    SVC_CH_SCIM,
    SVC_CH_API,
    SVC_CH_UI,
    SVC_CH_MAX
} svc_channel;

typedef enum svc_actor_kind {
    SVC_ACTOR_ADMIN = 0, /* a registry administrator (local CLI user with the key file) */
    SVC_ACTOR_PERSON,    /* a person acting on their own behalf */
    SVC_ACTOR_CLIENT,    /* an API or LDAP service client */
    SVC_ACTOR_SYSTEM,    /* an internal job: import, lifecycle run */
    SVC_ACTOR_MAX
} svc_actor_kind;

/* Scoped roles (AZ-2..4). A person or an API client holds a set of them;
 * `self` is not a role but what every person actor may do to their own
 * data. SVC_ACTOR_ADMIN (the local operator with the key file) and
 * SVC_ACTOR_SYSTEM are not role-based. */
typedef enum svc_role {
    SVC_ROLE_ADMIN = 0,      /* everything over HTTP/LDAP that the CLI operator may do */
    SVC_ROLE_HELPDESK,       /* read persons, reset passwords, no national ID */
    SVC_ROLE_UNIT_ADMIN,     /* admin limited to persons in an org-unit subtree */
    SVC_ROLE_HR_INTEGRATION, /* create and update persons and affiliations */
    SVC_ROLE_AUDITOR,        /* read and verify the audit trail, reports */
    SVC_ROLE_DPO,            /* data protection officer: subject reports, holds, erasure */
    SVC_ROLE_MAX
} svc_role;

#define SVC_ROLE_BIT(r) (1u << (unsigned)(r))
#define SVC_SCOPE_MAX 64

typedef struct svc_actor {
    svc_actor_kind kind;
    char id[128];          /* admin: "os:USER"; person: person id; client: client name */
    svc_channel channel;
    char source[64];       /* source address, "local" for the CLI */
    char request_id[40];
    uint32_t roles;        /* SVC_ROLE_BIT set, for PERSON and CLIENT actors */
    char scope_unit[SVC_SCOPE_MAX]; /* unit_admin: the org-unit code whose subtree it covers */
} svc_actor;

const char *svc_role_name(svc_role r);
/* Parse a role name ("admin", "helpdesk", "unit_admin", "hr_integration",
 * "auditor", "dpo"); false if unknown. */
bool svc_role_parse(const char *name, svc_role *out);

const char *svc_channel_name(svc_channel c);
const char *svc_actor_kind_name(svc_actor_kind k);
/* The actor for a command run by the local operating-system user. */
void svc_actor_local(svc_actor *a, svc_channel channel);
/* Fill a PERSON actor's roles and unit scope from the role grants in force
 * on svc_today(s) (svc_role.h): front ends call it when a person
 * authenticates. Other actors are left unchanged. An expired or revoked
 * grant gives nothing. */
tn_code svc_actor_load_roles(svc *s, svc_actor *a, tn_err *e);

/* ---- registry handle ---------------------------------------------------- */

/* Create a new registry and its key file (mode 0600) as c says. */
tn_code svc_init_registry(const conf *c, tn_err *e);
/* Open an existing registry. c must have been through conf_finish. */
tn_code svc_open(const conf *c, svc **out, tn_err *e);
/* Flushes pending audit, moves this process's reads from the read log's
 * tail file into its tables (docs/audit.md), closes. */
void svc_close(svc *s);

/* Move the reads in the read log's tail file into its tables now
 * (audit_ingest); *moved counts them. A broken tail file is TN_ESTATE
 * with the reason. No access check: it changes where events are kept,
 * not what anyone sees. */
tn_code svc_readlog_ingest(svc *s, int64_t *moved, tn_err *e);

/* A server's background thread that moves read events from the read log's
 * tail file into its tables every every_ms (0: SVC_INGEST_EVERY_MS), on a
 * handle of its own; problems go to log, once each. Stop moves what is
 * left. */
#define SVC_INGEST_EVERY_MS 250
typedef struct svc_ingester svc_ingester;
tn_code svc_ingester_start(const conf *c, unsigned every_ms, FILE *log, svc_ingester **out,
                           tn_err *e);
void svc_ingester_stop(svc_ingester *g);
/* The date that counts as today for date-dependent rules (--as-of).
 * Default: today's date in the local time zone. */
void svc_set_today(svc *s, tn_date today);
tn_date svc_today(const svc *s);
/* Make queued read events durable (call before showing an answer). The
 * handles of one process on one registry share this: threads flushing at
 * the same time wait for one commit that holds all their reads. */
tn_code svc_flush(svc *s, tn_err *e);
/* Read events of this process on this registry, over all its handles:
 * flushes, the durable writes (appends to the read log's tail file, or
 * group commits without a read log), the events written and those moved
 * from the tail file into the read log's tables. */
typedef struct svc_audit_stats {
    uint64_t flushes, commits, events, ingested;
    uint64_t ingest_stops; /* ingests stopped by a broken link in the tail file */
    uint64_t tail_bytes;   /* the tail file's size now */
} svc_audit_stats;
void svc_read_audit_stats(svc *s, svc_audit_stats *out);
/* A front end's request: its reads share one registry snapshot and read
 * transaction (store_read_begin) until svc_request_end. A write inside
 * ends the shared snapshot first. Failing to begin only loses the
 * sharing: each read then runs on its own. */
void svc_request_begin(svc *s);
void svc_request_end(svc *s);
/* Read auditing on (default) or off, for benchmarks. */
void svc_set_read_audit(svc *s, bool on);
/* BENCHMARKS ONLY (bench/bench_audit.c): skip the audit append of writes,
 * to measure what it costs. Never call it anywhere else: a write without
 * its event breaks the audit trail's completeness (AU-1). */
void svc_bench_skip_write_audit(svc *s, bool on);
/* Registry facts for `tunnus status`. */
tn_code svc_schema_version(svc *s, int *version, int *latest, tn_err *e);

/* A batch groups many service calls into one transaction (bulk loads);
 * each call stays atomic on its own through a savepoint, so one failing
 * call undoes only itself. */
tn_code svc_batch_begin(svc *s, tn_err *e);
tn_code svc_batch_commit(svc *s, tn_err *e);
void svc_batch_rollback(svc *s);

/* ---- persons ------------------------------------------------------------ */

typedef struct svc_person_view {
    person p;
    affiliation *affs;
    size_t naffs;
    account *accts;
    size_t naccts;
} svc_person_view;

void svc_person_view_free(svc_person_view *v);

/* Validate and create a person in state pending. With a national ID, the
 * birth date and gender come from it and a second person with the same ID
 * is TN_ECONFLICT. */
tn_code svc_person_add(svc *s, const svc_actor *a, const person_input *in, person *out,
                       tn_err *e);
/* Create a person together with a first affiliation and, if asked, their
 * account, atomically: a new employee or pupil arrives whole or not at
 * all. One audit event records every change (affiliation and account
 * attributes prefixed "affiliation." and "account."). */
typedef struct svc_aff_input svc_aff_input;
typedef struct svc_enrol_input {
    person_input person;
    const svc_aff_input *affiliation; /* NULL: none */
    bool account;                     /* also create the account */
    const char *username;             /* NULL: generated */
} svc_enrol_input;

typedef struct svc_enrolled {
    person person;
    bool has_affiliation;
    affiliation affiliation;
    bool has_account;
    account account;
} svc_enrolled;

tn_code svc_person_enrol(svc *s, const svc_actor *a, const svc_enrol_input *in,
                         svc_enrolled *out, tn_err *e);

/* The person with their affiliations and accounts. Audited as a read. */
tn_code svc_person_show(svc *s, const svc_actor *a, const char *selector, svc_person_view *out,
                        tn_err *e);
/* Change the attributes given (non-NULL) in ch; "" clears an optional one.
 * Returns the updated person. Unchanged values write no event. */
tn_code svc_person_update(svc *s, const svc_actor *a, const char *selector,
                          const person_input *ch, person *out, tn_err *e);
/* The national ID in the clear, for an authorised actor who explicitly
 * asked; audited as a read of national_id. TN_ENOTFOUND if none. */
tn_code svc_person_reveal_nid(svc *s, const svc_actor *a, const char *selector,
                              char out[HETU_BUFSZ], tn_err *e);

typedef struct svc_person_query {
    const char *state;     /* NULL = any */
    const char *kind;
    const char *org_unit;
    const char *name;
    int64_t after_number;
    int64_t limit;         /* 0 = no limit */
} svc_person_query;

typedef int (*svc_person_cb)(const person *p, void *ctx);
/* Each listed person is audited as a read. */
tn_code svc_person_list(svc *s, const svc_actor *a, const svc_person_query *q, svc_person_cb cb,
                        void *ctx, tn_err *e);

/* ---- affiliations ------------------------------------------------------- */

struct svc_aff_input {
    const char *kind;
    const char *source;      /* default "manual" */
    const char *source_key;  /* default: generated "M<number>-<n>" for manual entries */
    const char *org_unit;
    const char *title;
    const char *school;
    const char *class_;
    const char *teaching_groups;
    const char *programme;
    const char *manager;     /* person selector */
    const char *sponsor;     /* person selector */
    const char *valid_from;  /* ISO; required */
    const char *valid_to;    /* ISO; NULL or "" = open */
    const char *end_reason;
};

tn_code svc_aff_add(svc *s, const svc_actor *a, const char *person_selector,
                    const svc_aff_input *in, affiliation *out, tn_err *e);
/* End an affiliation selected by "ID" or "key:SOURCE:KEY": valid_to becomes
 * last_day (ISO; NULL = today) with the given reason. */
tn_code svc_aff_end(svc *s, const svc_actor *a, const char *aff_selector, const char *last_day,
                    const char *reason, affiliation *out, tn_err *e);

/* ---- accounts ----------------------------------------------------------- */

/* Create the person's account. username NULL: generated from the naming
 * pattern, with a numeric suffix on collision. An address is generated
 * when an e-mail domain is configured. Usernames and addresses are
 * reserved for the person forever; a person may get their own back, nobody
 * else can. A person has at most one account (TN_ECONFLICT). */
tn_code svc_account_create(svc *s, const svc_actor *a, const char *person_selector,
                           const char *username, account *out, tn_err *e);
/* The account and its owner's person id. Audited as a read. */
tn_code svc_account_show(svc *s, const svc_actor *a, const char *username, account *out,
                         tn_err *e);

/* Who holds a username: usernames are reserved for their person forever
 * (also after the account is closed, the person archived or erased), so
 * this answers for names no account carries any more. person_id gets the
 * holder's id. Authorised and audited as a read of that person
 * (username.read); TN_ENOTFOUND when nobody holds the name. */
tn_code svc_username_reservation(svc *s, const svc_actor *a, const char *username,
                                 char person_id[UUID_BUFSZ], tn_err *e);

/* ---- org units ---------------------------------------------------------- */

tn_code svc_unit_add(svc *s, const svc_actor *a, const char *code, const char *name,
                     const char *parent_code, org_unit *out, tn_err *e);
/* Add code and any missing ancestors of a '/'-separated path; existing
 * units are kept. */
tn_code svc_unit_ensure_path(svc *s, const svc_actor *a, const char *code, tn_err *e);
/* Caller frees *out. */
tn_code svc_unit_list(svc *s, const svc_actor *a, org_unit **out, size_t *n, tn_err *e);

/* ---- source feed imports (svc_import.c, docs/feeds.md) ------------------ */

typedef struct svc_import_opts {
    const char *source;     /* source system: hr, sis, pupils … */
    const char *kind;       /* affiliation kind of every row: staff, student … */
    const char *file_name;  /* for the run record */
    FILE *in;               /* the feed; must be seekable with full */
    bool full;              /* a full snapshot: end what is absent */
    bool dry_run;           /* apply nothing, report what would happen */
    bool strict;            /* the first bad row aborts with nothing applied */
    bool known_units;       /* org units must exist (else they are created) */
    double max_ended_pct;   /* full: refuse to end more than this share */
    size_t chunk_rows;      /* rows per transaction (0: 1000) */
    const char *mapping;    /* a mapping file's path (docs/feeds.md), NULL = none */
    const char *format;     /* "csv", "json", "ldif"; NULL = CSV or JSON, detected */
} svc_import_opts;

typedef struct svc_import_summary {
    int64_t run_id;         /* 0 for a dry run */
    int64_t rows, created, updated, unchanged, ended, rejected, queued, warnings;
    int64_t active_before;  /* full: the source's affiliations in force before */
    bool refused;           /* full: too many would end; nothing applied */
    char kind[KIND_BUFSZ];  /* the kind applied (--kind or the registered one) */
} svc_import_summary;

/* A rejected, queued or noted row: what = "rejected", "queued", "warning". */
typedef void (*svc_import_issue_cb)(void *ctx, const char *what, long line, const char *column,
                                    const char *reason);

/* Import a feed: correlate each row to a person (national ID through its
 * keyed hash, then source and key), create or update persons and
 * affiliations, one audit event per changed row, none for an unchanged
 * one. Returns TN_OK also when rows were rejected (see the summary); an
 * error when the file cannot be read, with strict on a bad row, or
 * TN_ESTATE when a full snapshot is refused (out->refused). */
tn_code svc_import(svc *s, const svc_actor *a, const svc_import_opts *o, svc_import_issue_cb cb,
                   void *ctx, svc_import_summary *out, tn_err *e);

typedef struct svc_import_record {
    int64_t id;
    char source[KIND_BUFSZ];
    char kind[KIND_BUFSZ];
    char file[512];
    char mode[32];
    int64_t started_at, finished_at; /* µs UTC; finished 0 = still running or killed */
    char status[16];
    int64_t rows, created, updated, unchanged, ended, rejected, queued;
    char detail[256];
} svc_import_record;

typedef int (*svc_import_record_cb)(const svc_import_record *r, void *ctx);
/* Newest first; limit 0 = all. */
tn_code svc_import_runs(svc *s, const svc_actor *a, int64_t limit, svc_import_record_cb cb,
                        void *ctx, tn_err *e);

typedef struct svc_review_entry {
    int64_t id;
    char source[KIND_BUFSZ];
    char source_key[KEY_BUFSZ];
    char kind[KIND_BUFSZ];
    char candidate_id[UUID_BUFSZ];
    int64_t candidate_number;
    int64_t candidates;
    char given_names[NAME_BUFSZ];
    char family_name[NAME_BUFSZ];
    char birth_date[DATE_ISO_LEN];
    int64_t line;
    char state[16];
} svc_review_entry;

typedef int (*svc_review_cb)(const svc_review_entry *r, void *ctx);
/* Review queue entries (state NULL = any); each is audited as a read. */
tn_code svc_review_list(svc *s, const svc_actor *a, const char *state, svc_review_cb cb,
                        void *ctx, tn_err *e);
/* Decide a pending entry: accept attaches the row to the candidate person,
 * reject creates a new person for it. out (may be NULL) gets the person. */
tn_code svc_review_decide(svc *s, const svc_actor *a, int64_t id, bool accept, person *out,
                          tn_err *e);

/* ---- the sources registry (svc_source.c, docs/feeds.md) ---------------- */

typedef struct svc_source {
    char name[KIND_BUFSZ];
    char kind[KIND_BUFSZ];  /* affiliation kind of its rows */
    char owns[512];         /* comma-separated attributes; "" = all shared ones */
    int64_t precedence;     /* higher wins a shared attribute */
    bool require_known_units;
} svc_source;

/* The built-in precedence of an unregistered source (hr 50, officials 40,
 * sis 30, pupils 20, sponsored 10, others 5). */
int64_t svc_source_default_precedence(const char *name);
/* Register or change a source; precedence < 0 = the built-in one. Audited
 * as source.add when something changed. */
tn_code svc_source_add(svc *s, const svc_actor *a, const svc_source *in, tn_err *e);
typedef int (*svc_source_cb)(const svc_source *src, void *ctx);
tn_code svc_source_list(svc *s, const svc_actor *a, svc_source_cb cb, void *ctx, tn_err *e);
/* Whether a source with this owns list is authoritative for attr. */
bool svc_source_owns(const char *owns, const char *attr);

#endif
