/* svc_audit — the audit trail's use cases: verification of the hash chain
 * and its signatures, the per-person report (AU-2), the verifiable export
 * for an investigation (AU-6) and the retention cut. docs/audit.md
 * specifies the chain and the export format.
 *
 * The report and the export are themselves audited: reading who saw a
 * person's data is a read of that person's data. */
#ifndef SVC_AUDIT_H
#define SVC_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "service.h"

typedef struct svc_audit_event {
    int64_t seq;
    int64_t time_us;
    const char *actor_kind;
    const char *actor_id;
    const char *channel;
    const char *action;
    const char *subject_id;
    const char *attrs;
    const char *changes;
    const char *result;
    const char *request_id;
    const char *source;
    const char *detail;
    const char *log; /* "registry" (writes, denials) or "reads" (the read log) */
} svc_audit_event;
typedef int (*svc_audit_cb)(const svc_audit_event *ev, void *ctx);

typedef struct svc_audit_check {
    bool ok;
    int64_t events;      /* events (export: full events) checked */
    int64_t links;       /* export: omitted events proven by digest */
    int64_t checkpoints; /* signatures checked */
    int64_t first_seq, last_seq, signed_seq, cut_seq, kept;
    int64_t bad_seq;     /* first broken link (0 if the fault has no seq) */
    int64_t bad_line;    /* export: line of the fault */
    char reason[200];
    char key_id[65];     /* hex Ed25519 public key that signed */
    /* svc_audit_verify: the fields above describe the registry's chain;
     * these the read log's (docs/audit.md). ok covers both; bad_log names
     * the chain with the first broken link ("registry" or "reads"). */
    char bad_log[16];
    int64_t read_events, read_checkpoints, read_last_seq, read_signed_seq, read_cut_seq,
        read_kept;
} svc_audit_check;

/* Check the whole chain and every checkpoint signature against the
 * registry's key. A broken log is TN_OK with out->ok false. */
tn_code svc_audit_verify(svc *s, const svc_actor *a, svc_audit_check *out, tn_err *e);

/* Who read or changed the selected person's data, from_us <= time < to_us
 * (0 = open), in seq order. Catches the subject index up first, so the
 * result is complete. */
tn_code svc_audit_subject(svc *s, const svc_actor *a, const char *selector, int64_t from_us,
                          int64_t to_us, svc_audit_cb cb, void *ctx, tn_err *e);

/* Maintenance: bring the subject index up to date; sign a checkpoint at
 * the head. */
tn_code svc_audit_index(svc *s, const svc_actor *a, int64_t *indexed, tn_err *e);
tn_code svc_audit_checkpoint(svc *s, const svc_actor *a, int64_t *seq, tn_err *e);

/* The retention cut: remove events before the start of day `before` (UTC)
 * except those of persons under legal hold today, and sign a checkpoint at
 * the cut. Called by `tunnus audit prune` and the lifecycle run. */
typedef struct svc_audit_prune_result {
    int64_t deleted;
    int64_t cut_seq; /* 0: nothing to cut */
    int64_t read_deleted, read_cut_seq; /* the same for the read log */
} svc_audit_prune_result;
tn_code svc_audit_prune(svc *s, const svc_actor *a, tn_date before, svc_audit_prune_result *out,
                        tn_err *e);

typedef struct svc_audit_export_query {
    int64_t from_us; /* 0 = open */
    int64_t to_us;   /* 0 = open */
    const char *person; /* selector or NULL */
    const char *actor;  /* actor id or NULL */
} svc_audit_export_query;
/* Write the JSON-lines export to out; *exported receives the number of
 * events written in full. */
tn_code svc_audit_export(svc *s, const svc_actor *a, const svc_audit_export_query *q, FILE *out,
                         int64_t *exported, tn_err *e);

/* Verify an export offline, using only the public key in it; trusted_key
 * (hex, or NULL) must equal that key when given. A failed check is TN_OK
 * with out->ok false. */
tn_code svc_audit_verify_export(const char *data, size_t len, const char *trusted_key,
                                svc_audit_check *out, tn_err *e);

#endif
