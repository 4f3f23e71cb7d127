/* The audit trail's use cases (svc_audit.h). The chain itself lives in
 * src/audit; this file authorises, wraps transactions, writes the audit
 * events of the audit functions and speaks the export format. */
#include "svc_audit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "svc_internal.h"
#include "tn_json.h"
#include "tn_mem.h"
#include "tn_str.h"

/* Format 2: the chains of the registry and of the read log, each in a
 * section opened by a `log` line. Format 1 (one chain, no sections) is
 * still verified. */
#define EXPORT_FORMAT "tunnus-audit-export-2"
#define EXPORT_FORMAT_1 "tunnus-audit-export-1"
#define US_PER_DAY INT64_C(86400000000)

static void to_event(const store_audit_rec *x, svc_audit_event *ev)
{
    ev->log = "registry";
    ev->seq = x->seq;
    ev->time_us = x->r.time_us;
    ev->actor_kind = x->r.actor_kind;
    ev->actor_id = x->r.actor_id;
    ev->channel = x->r.channel;
    ev->action = x->r.action;
    ev->subject_id = x->r.subject_id;
    ev->attrs = x->r.attrs;
    ev->changes = x->r.changes;
    ev->result = x->r.result;
    ev->request_id = x->r.request_id;
    ev->source = x->r.source;
    ev->detail = x->r.detail;
}

static void check_from(const audit_verify_result *v, svc_audit_check *out)
{
    out->ok = v->ok;
    out->events = v->events;
    out->checkpoints = v->checkpoints;
    out->first_seq = v->first_seq;
    out->last_seq = v->last_seq;
    out->signed_seq = v->signed_seq;
    out->cut_seq = v->cut_seq;
    out->kept = v->kept;
    out->bad_seq = v->bad_seq;
    memcpy(out->reason, v->reason, sizeof out->reason);
}

static tn_code write_event(svc *s, const svc_actor *a, const char *action, const char *subject,
                           const char *changes, tn_err *e)
{
    store_audit_row r;
    svc_audit_row(&r, a, action, subject, "", "allowed");
    r.changes = changes;
    return audit_write(s->au, &r, e);
}

/* The read log with every read so far in its tables (the tail file
 * moved in), or the reason it cannot be used. */
static store *readlog(svc *s, tn_err *e)
{
    int64_t moved;
    return svc_readlog_ingest(s, &moved, e) == TN_OK ? s->rl : NULL;
}

tn_code svc_audit_verify(svc *s, const svc_actor *a, svc_audit_check *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_code rc = svc_authorize(s, a, SVC_OP_AUDIT_ADMIN, NULL, "audit.verify", e);
    if (rc != TN_OK)
        return rc;
    audit_verify_result v, r;
    if ((rc = audit_verify(s->st, s->keys.sign_pk, &v, e)) != TN_OK)
        return rc;
    check_from(&v, out);
    sec_hex(s->keys.sign_pk, SEC_SIGN_PK_BYTES, out->key_id);
    if (!v.ok)
        snprintf(out->bad_log, sizeof out->bad_log, "registry");
    /* The read log is checked whatever the registry's result: its numbers
     * are reported either way, its break only if the registry has none. */
    if (s->rl_broken[0] || !s->rl) {
        if (out->ok) {
            out->ok = false;
            out->bad_seq = 0;
            snprintf(out->bad_log, sizeof out->bad_log, "reads");
            tn_strlcpy(out->reason, s->rl_broken[0] ? s->rl_broken : "the read log is not open",
                       sizeof out->reason);
        }
    } else {
        /* The tail file first: its events are checked link by link as
         * they move, and a break there stops the move at it. */
        int64_t moved, tail_bad;
        char tail_why[256];
        if ((rc = audit_ingest(s->au, &moved, &tail_bad, tail_why, sizeof tail_why, e)) !=
                TN_OK ||
            (rc = audit_verify(s->rl, s->keys.sign_pk, &r, e)) != TN_OK)
            return rc;
        if (r.ok && tail_bad) {
            r.ok = false;
            r.bad_seq = tail_bad;
            tn_strlcpy(r.reason, tail_why, sizeof r.reason);
        }
        out->read_events = r.events;
        out->read_checkpoints = r.checkpoints;
        out->read_last_seq = r.last_seq;
        out->read_signed_seq = r.signed_seq;
        out->read_cut_seq = r.cut_seq;
        out->read_kept = r.kept;
        if (out->ok && !r.ok) {
            out->ok = false;
            out->bad_seq = r.bad_seq;
            snprintf(out->bad_log, sizeof out->bad_log, "reads");
            memcpy(out->reason, r.reason, sizeof out->reason);
        }
    }
    /* Recorded after the check, so the check saw the log as it was. */
    return write_event(s, a, "audit.verify", NULL, NULL, e);
}

/* The read log's maintenance in its own transaction (it is another
 * database than the registry's). */
static tn_code rl_index(svc *s, int64_t *n, tn_err *e)
{
    store *rl = readlog(s, e);
    if (!rl)
        return TN_ESTATE;
    tn_code rc = store_tx_begin(rl, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = store_audit_index_catch_up(rl, n, e)) == TN_OK)
        return store_tx_commit(rl, e);
    store_tx_rollback(rl);
    return rc;
}

tn_code svc_audit_index(svc *s, const svc_actor *a, int64_t *indexed, tn_err *e)
{
    int64_t n = 0;
    tn_code rc = svc_authorize(s, a, SVC_OP_AUDIT_MAINT, NULL, "audit.index", e);
    if (rc != TN_OK || (rc = audit_flush(s->au, e)) != TN_OK || (rc = rl_index(s, &n, e)) != TN_OK ||
        (rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = svc_tx_end(s, store_audit_index_catch_up(s->st, indexed, e), e);
    *indexed += n;
    return rc;
}

tn_code svc_audit_checkpoint(svc *s, const svc_actor *a, int64_t *seq, tn_err *e)
{
    int64_t rseq = 0;
    tn_code rc = svc_authorize(s, a, SVC_OP_AUDIT_MAINT, NULL, "audit.checkpoint", e);
    if (rc != TN_OK || (rc = audit_flush(s->au, e)) != TN_OK)
        return rc;
    store *rl = readlog(s, e);
    if (!rl)
        return TN_ESTATE;
    if ((rc = store_tx_begin(rl, e)) != TN_OK)
        return rc;
    if ((rc = audit_checkpoint_now(rl, &s->keys, &rseq, e)) != TN_OK) {
        store_tx_rollback(rl);
        return rc;
    }
    if ((rc = store_tx_commit(rl, e)) != TN_OK || (rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    return svc_tx_end(s, audit_checkpoint_now(s->st, &s->keys, seq, e), e);
}

/* ---- the person's report ------------------------------------------------ */

/* The events of both logs are copied and merged by time: each log is in
 * time order by itself (its seq order), the merge keeps that. */
typedef struct subj_ev {
    svc_audit_event ev;
    char *mem; /* the copied strings */
} subj_ev;

typedef struct subj_list {
    subj_ev *v;
    size_t n, cap;
    const char *log;
} subj_list;

static char *put(char **p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*p, s, n);
    char *r = *p;
    *p += n;
    return r;
}

static int subj_cb(const store_audit_rec *x, void *vctx)
{
    subj_list *l = vctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = tn_realloc(l->v, l->cap * sizeof *l->v);
    }
    subj_ev *y = &l->v[l->n++];
    svc_audit_event ev;
    to_event(x, &ev);
    const char *f[] = {ev.actor_kind, ev.actor_id, ev.channel, ev.action, ev.subject_id,
                       ev.attrs,      ev.changes,  ev.result,  ev.request_id, ev.source,
                       ev.detail};
    size_t len = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        len += f[i] ? strlen(f[i]) + 1 : 0;
    y->mem = tn_malloc(len + 1);
    char *p = y->mem;
    y->ev = ev;
    y->ev.actor_kind = put(&p, ev.actor_kind);
    y->ev.actor_id = put(&p, ev.actor_id);
    y->ev.channel = put(&p, ev.channel);
    y->ev.action = put(&p, ev.action);
    y->ev.subject_id = put(&p, ev.subject_id);
    y->ev.attrs = put(&p, ev.attrs);
    y->ev.changes = put(&p, ev.changes);
    y->ev.result = put(&p, ev.result);
    y->ev.request_id = put(&p, ev.request_id);
    y->ev.source = put(&p, ev.source);
    y->ev.detail = put(&p, ev.detail);
    y->ev.log = l->log;
    return 0;
}

static void subj_free(subj_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].mem);
    free(l->v);
}

tn_code svc_audit_subject(svc *s, const svc_actor *a, const char *selector, int64_t from_us,
                          int64_t to_us, svc_audit_cb cb, void *ctx, tn_err *e)
{
    person p;
    int64_t n = 0;
    subj_list w = {.log = "registry"}, r = {.log = "reads"};
    tn_code rc = svc_resolve_person(s, selector, &p, e);
    if (rc != TN_OK)
        return rc;
    if ((rc = svc_authorize(s, a, SVC_OP_AUDIT_SUBJECT, p.id, "audit.subject", e)) != TN_OK)
        return rc;
    /* Queued reads may concern this person: write them first so that the
     * report includes them. */
    if ((rc = audit_flush(s->au, e)) != TN_OK || (rc = rl_index(s, &n, e)) != TN_OK ||
        (rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = store_audit_index_catch_up(s->st, &n, e);
    if ((rc = svc_tx_end(s, rc, e)) != TN_OK)
        return rc;
    if ((rc = store_audit_by_subject(s->st, p.id, from_us, to_us, subj_cb, &w, e)) != TN_OK ||
        (rc = store_audit_by_subject(s->rl, p.id, from_us, to_us, subj_cb, &r, e)) != TN_OK)
        goto out;
    size_t i = 0, j = 0;
    while (i < w.n || j < r.n) {
        /* On equal times the write goes first: a read at the same
         * microsecond saw it. */
        bool take_w = j == r.n || (i < w.n && w.v[i].ev.time_us <= r.v[j].ev.time_us);
        const svc_audit_event *ev = take_w ? &w.v[i++].ev : &r.v[j++].ev;
        if (cb(ev, ctx) != 0)
            break;
    }
    store_audit_row row;
    svc_audit_row(&row, a, "audit.subject", p.id, "audit_trail", "allowed");
    rc = audit_read(s->au, &row, e);
out:
    subj_free(&w);
    subj_free(&r);
    return rc;
}

/* ---- retention ---------------------------------------------------------- */

/* The read log's cut, on a connection of its own that has the registry
 * attached (legal holds live there). Made before the registry's, outside
 * any registry transaction. */
static tn_code rl_prune(svc *s, int64_t cut_us, const char *today, svc_audit_prune_result *out,
                        tn_err *e)
{
    if (!readlog(s, e))
        return TN_ESTATE;
    char path[4200];
    store *rl = NULL;
    const char *reg = tn_str_startswith(s->cfg.db, "sqlite:") ? s->cfg.db + 7 : s->cfg.db;
    svc_readlog_path(reg, path, sizeof path);
    tn_code rc = store_open_readlog(path, reg, STORE_OPEN_EXISTING, &rl, e);
    if (rc != TN_OK || (rc = store_tx_begin(rl, e)) != TN_OK)
        goto out;
    rc = audit_prune(rl, &s->keys, cut_us, today, &out->read_deleted, &out->read_cut_seq, e);
    if (rc == TN_OK)
        rc = store_tx_commit(rl, e);
    else
        store_tx_rollback(rl);
out:
    store_close(rl);
    return rc;
}

tn_code svc_audit_prune(svc *s, const svc_actor *a, tn_date before, svc_audit_prune_result *out,
                        tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_code rc = svc_authorize(s, a, SVC_OP_AUDIT_MAINT, NULL, "audit.prune", e);
    if (rc != TN_OK)
        return rc;
    if (before > s->today)
        return tn_err_set(e, TN_EINVAL, "before", "the cut may not lie in the future");
    char today[DATE_ISO_LEN];
    date_format(s->today, today);
    if ((rc = audit_flush(s->au, e)) != TN_OK ||
        (rc = rl_prune(s, (int64_t)before * US_PER_DAY, today, out, e)) != TN_OK ||
        (rc = svc_tx_begin(s, e)) != TN_OK)
        return rc;
    rc = audit_prune(s->st, &s->keys, (int64_t)before * US_PER_DAY, today, &out->deleted,
                     &out->cut_seq, e);
    /* Nothing cut, nothing to record: a daily run that finds nothing old
     * enough leaves no trace. */
    if (rc == TN_OK && (out->cut_seq > 0 || out->read_cut_seq > 0)) {
        svc_changes ch;
        svc_changes_init(&ch);
        char d[DATE_ISO_LEN];
        svc_changes_add(&ch, "before", NULL, date_format(before, d));
        svc_changes_add_i64(&ch, "cut_seq", out->cut_seq);
        svc_changes_add_i64(&ch, "deleted", out->deleted);
        svc_changes_add_i64(&ch, "read_cut_seq", out->read_cut_seq);
        svc_changes_add_i64(&ch, "read_deleted", out->read_deleted);
        rc = svc_changes_write(s, a, "audit.prune", NULL, &ch, e);
        svc_changes_free(&ch);
    }
    return svc_tx_end(s, rc, e);
}

/* ---- export ------------------------------------------------------------- */

static void hexkey(tn_buf *b, const char *key, const unsigned char *bin, size_t n)
{
    char hex[2 * 4096 + 1];
    tn_json_key(b, key);
    if (n > 4096) {
        tn_buf_puts(b, "null");
        return;
    }
    sec_hex(bin, n, hex);
    tn_json_str(b, hex);
}

/* The kept list of a cut can be long; hex it on the heap. */
static void hexkey_big(tn_buf *b, const char *key, const unsigned char *bin, size_t n)
{
    char *hex = tn_malloc(2 * n + 1);
    sec_hex(bin, n, hex);
    tn_json_key(b, key);
    tn_json_str(b, hex);
    free(hex);
}

static void json_cp(tn_buf *b, const char *type, const store_audit_cp *c)
{
    tn_buf_putc(b, '{');
    tn_json_key(b, "type");
    tn_json_str(b, type);
    tn_json_key(b, "kind");
    tn_json_str(b, c->kind);
    tn_json_key(b, "seq");
    tn_json_i64(b, c->seq);
    hexkey(b, "hash", c->hash, c->hash_len);
    tn_json_key(b, "time_us");
    tn_json_i64(b, c->time_us);
    tn_json_key(b, "cut_us");
    tn_json_i64(b, c->cut_us);
    hexkey_big(b, "kept", c->kept, c->kept_len);
    hexkey(b, "sig", c->sig, c->sig_len);
    tn_buf_puts(b, "}\n");
}

typedef struct cp_list {
    store_audit_cp *v;
    size_t n, cap;
} cp_list;

static int cp_keep(const store_audit_cp *c, void *ctx)
{
    cp_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = tn_realloc(l->v, l->cap * sizeof *l->v);
    }
    store_audit_cp *x = &l->v[l->n++];
    *x = *c;
    unsigned char *hash = tn_malloc(c->hash_len + 1), *kept = tn_malloc(c->kept_len + 1),
                  *sig = tn_malloc(c->sig_len + 1);
    memcpy(hash, c->hash ? c->hash : (const unsigned char *)"", c->hash_len);
    memcpy(kept, c->kept ? c->kept : (const unsigned char *)"", c->kept_len);
    memcpy(sig, c->sig ? c->sig : (const unsigned char *)"", c->sig_len);
    x->hash = hash;
    x->kept = kept;
    x->sig = sig;
    x->kind = strcmp(c->kind, "cut") == 0 ? "cut" : "periodic";
    return 0;
}

static void cp_list_free(cp_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((void *)l->v[i].hash);
        free((void *)l->v[i].kept);
        free((void *)l->v[i].sig);
    }
    free(l->v);
}

typedef struct exp_ctx {
    const svc_audit_export_query *q;
    const char *person_id;
    const store_audit_cp *cut;
    FILE *out;
    tn_buf line;
    int64_t exported, linked;
    bool io_error;
    int64_t damaged_seq; /* an event whose stored bytes cannot be read */
} exp_ctx;

static bool matches(const exp_ctx *x, const store_audit_rec *r)
{
    if (x->q->from_us && r->r.time_us < x->q->from_us)
        return false;
    if (x->q->to_us && r->r.time_us >= x->q->to_us)
        return false;
    if (x->person_id && (!r->r.subject_id || strcmp(r->r.subject_id, x->person_id) != 0))
        return false;
    if (x->q->actor && strcmp(r->r.actor_id ? r->r.actor_id : "", x->q->actor) != 0)
        return false;
    return true;
}

static void json_event(tn_buf *b, const store_audit_rec *r, const unsigned char *prev)
{
    tn_buf_putc(b, '{');
    tn_json_key(b, "type");
    tn_json_str(b, "event");
    tn_json_key(b, "seq");
    tn_json_i64(b, r->seq);
    tn_json_key(b, "time_us");
    tn_json_i64(b, r->r.time_us);
    const char *names[] = {"actor_kind", "actor_id", "channel", "action",     "subject_id", "attrs",
                           "changes",    "result",   "request_id", "source", "detail"};
    const char *vals[] = {r->r.actor_kind, r->r.actor_id, r->r.channel,    r->r.action,
                          r->r.subject_id, r->r.attrs,    r->r.changes,    r->r.result,
                          r->r.request_id, r->r.source,   r->r.detail};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tn_json_key(b, names[i]);
        tn_json_str(b, vals[i]);
    }
    if (prev)
        hexkey(b, "prev", prev, AUDIT_HASH_BYTES);
    hexkey(b, "hash", r->hash, r->hash_len);
    tn_buf_puts(b, "}\n");
}

static void flush_line(exp_ctx *x)
{
    if (x->line.toobig || fwrite(x->line.data, 1, x->line.len, x->out) != x->line.len)
        x->io_error = true;
    tn_buf_reset(&x->line);
}

/* Events before the cut that were kept for legal hold: each carries the
 * prev hash from the cut's signed list. */
static int exp_held_cb(const store_audit_rec *r, void *vctx)
{
    exp_ctx *x = vctx;
    if (r->damaged) {
        x->damaged_seq = r->seq;
        return 1;
    }
    if (!matches(x, r))
        return 0;
    size_t n = x->cut->kept_len / AUDIT_KEPT_ENTRY;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *k = x->cut->kept + i * AUDIT_KEPT_ENTRY;
        int64_t seq = 0;
        for (int j = 0; j < 8; j++)
            seq = (seq << 8) | k[j];
        if (seq == r->seq) {
            json_event(&x->line, r, k + 8);
            flush_line(x);
            x->exported++;
        }
    }
    return x->io_error;
}

static int exp_cb(const store_audit_rec *r, void *vctx)
{
    exp_ctx *x = vctx;
    if (r->damaged) {
        x->damaged_seq = r->seq;
        return 1;
    }
    if (matches(x, r)) {
        json_event(&x->line, r, NULL);
        x->exported++;
    } else {
        /* An omitted event is proven by its digest alone: the recipient
         * can follow the chain without learning what it says. */
        unsigned char d[AUDIT_HASH_BYTES];
        audit_digest(r->seq, &r->r, d);
        tn_buf_putc(&x->line, '{');
        tn_json_key(&x->line, "type");
        tn_json_str(&x->line, "link");
        tn_json_key(&x->line, "seq");
        tn_json_i64(&x->line, r->seq);
        hexkey(&x->line, "digest", d, sizeof d);
        tn_buf_puts(&x->line, "}\n");
        x->linked++;
    }
    flush_line(x);
    return x->io_error;
}

typedef struct start_ctx {
    unsigned char prev[AUDIT_HASH_BYTES];
    bool found;
    int64_t damaged_seq;
} start_ctx;

static int start_cb(const store_audit_rec *r, void *vctx)
{
    start_ctx *c = vctx;
    if (r->damaged)
        c->damaged_seq = r->seq;
    if (r->hash_len == AUDIT_HASH_BYTES)
        memcpy(c->prev, r->hash, AUDIT_HASH_BYTES);
    c->found = true;
    return 1;
}

/* An export stops at an event it cannot read rather than leave it out. */
static tn_code damaged(int64_t seq, tn_err *e)
{
    return seq ? tn_err_set(e, TN_ESTATE, NULL,
                            "audit event %lld cannot be read (its stored bytes are damaged); "
                            "run tunnus audit verify",
                            (long long)seq)
               : TN_OK;
}

/* One chain's part of the export, after the header: the cut and its held
 * events, then start, events or links up to the checkpoint that covers the
 * range, and that checkpoint. head: the chain's head, just signed. */
static tn_code export_chain(store *st, exp_ctx *x, int64_t head, tn_err *e)
{
    const svc_audit_export_query *q = x->q;
    cp_list cps = {0};
    tn_buf *b = &x->line;
    x->cut = NULL;
    tn_code rc = store_audit_cp_list(st, cp_keep, &cps, e);
    if (rc != TN_OK)
        goto out;
    for (size_t i = 0; i < cps.n; i++)
        if (strcmp(cps.v[i].kind, "cut") == 0)
            x->cut = &cps.v[i];
    int64_t cut_seq = x->cut ? x->cut->seq : 0;
    int64_t lo = 0, hi = head;
    if ((rc = store_audit_cut_seq(st, q->from_us, &lo, e)) != TN_OK)
        goto out;
    lo = lo + 1 > cut_seq + 1 ? lo + 1 : cut_seq + 1;
    if (q->to_us && (rc = store_audit_cut_seq(st, q->to_us, &hi, e)) != TN_OK)
        goto out;
    /* End at the first checkpoint after the cut that covers hi. */
    const store_audit_cp *end = NULL;
    for (size_t i = 0; i < cps.n && !end; i++)
        if (strcmp(cps.v[i].kind, "periodic") == 0 && cps.v[i].seq > cut_seq &&
            cps.v[i].seq >= hi && cps.v[i].seq >= lo)
            end = &cps.v[i];
    if (x->cut) {
        json_cp(&x->line, "checkpoint", x->cut);
        flush_line(x);
        if ((rc = store_audit_scan(st, 1, cut_seq, NULL, exp_held_cb, x, e)) != TN_OK ||
            (rc = damaged(x->damaged_seq, e)) != TN_OK)
            goto out;
    }
    if (end && lo <= end->seq) {
        start_ctx sc = {0};
        if (lo - 1 > cut_seq) {
            if ((rc = store_audit_scan(st, lo - 1, lo - 1, NULL, start_cb, &sc, e)) != TN_OK ||
                (rc = damaged(sc.damaged_seq, e)) != TN_OK)
                goto out;
        } else if (x->cut) {
            memcpy(sc.prev, x->cut->hash, AUDIT_HASH_BYTES);
        }
        tn_buf_putc(b, '{');
        tn_json_key(b, "type");
        tn_json_str(b, "start");
        tn_json_key(b, "seq");
        tn_json_i64(b, lo);
        hexkey(b, "prev", sc.prev, sizeof sc.prev);
        tn_buf_puts(b, "}\n");
        flush_line(x);
        if ((rc = store_audit_scan(st, lo, end->seq, NULL, exp_cb, x, e)) != TN_OK ||
            (rc = damaged(x->damaged_seq, e)) != TN_OK)
            goto out;
        json_cp(&x->line, "checkpoint", end);
        flush_line(x);
    }
out:
    x->cut = NULL;
    cp_list_free(&cps);
    return rc;
}

tn_code svc_audit_export(svc *s, const svc_actor *a, const svc_audit_export_query *q, FILE *out,
                         int64_t *exported, tn_err *e)
{
    *exported = 0;
    person p;
    const char *pid = NULL;
    exp_ctx x = {.q = q, .out = out};
    tn_buf_init(&x.line, 2 * 1024 * 1024);
    tn_code rc = TN_OK;
    store *rl = NULL;
    if (q->person) {
        if ((rc = svc_resolve_person(s, q->person, &p, e)) != TN_OK)
            goto out;
        pid = p.id;
    }
    x.person_id = pid;
    if ((rc = svc_authorize(s, a, SVC_OP_AUDIT_ADMIN, pid, "audit.export", e)) != TN_OK)
        goto out;
    if (!(rl = readlog(s, e))) {
        rc = TN_ESTATE;
        goto out;
    }
    /* The export event and a checkpoint covering it commit first, and a
     * checkpoint at the read log's head; the export then reads up to
     * those checkpoints, which sign everything in it. */
    int64_t head = 0, rhead = 0;
    if ((rc = audit_flush(s->au, e)) != TN_OK || (rc = store_tx_begin(rl, e)) != TN_OK)
        goto out;
    if ((rc = audit_checkpoint_now(rl, &s->keys, &rhead, e)) != TN_OK) {
        store_tx_rollback(rl);
        goto out;
    }
    if ((rc = store_tx_commit(rl, e)) != TN_OK || (rc = svc_tx_begin(s, e)) != TN_OK)
        goto out;
    rc = write_event(s, a, "audit.export", pid, NULL, e);
    if (rc == TN_OK)
        rc = audit_checkpoint_now(s->st, &s->keys, &head, e);
    if ((rc = svc_tx_end(s, rc, e)) != TN_OK)
        goto out;
    char kid[2 * SEC_SIGN_PK_BYTES + 1];
    sec_hex(s->keys.sign_pk, SEC_SIGN_PK_BYTES, kid);
    tn_buf *b = &x.line;
    tn_buf_putc(b, '{');
    tn_json_key(b, "type");
    tn_json_str(b, "header");
    tn_json_key(b, "format");
    tn_json_str(b, EXPORT_FORMAT);
    tn_json_key(b, "public_key");
    tn_json_str(b, kid);
    tn_json_key(b, "from_us");
    tn_json_i64(b, q->from_us);
    tn_json_key(b, "to_us");
    tn_json_i64(b, q->to_us);
    tn_json_key(b, "person");
    tn_json_str(b, pid);
    tn_json_key(b, "actor");
    tn_json_str(b, q->actor);
    tn_json_key(b, "created_us");
    tn_json_i64(b, audit_now_us());
    tn_json_key(b, "logs");
    tn_buf_puts(b, "[\"registry\",\"reads\"]");
    tn_buf_puts(b, "}\n");
    flush_line(&x);
    /* Each chain is a section opened by a `log` line (format 2). */
    static const char *const logs[] = {"registry", "reads"};
    store *stores[] = {s->st, rl};
    int64_t heads[] = {head, rhead};
    for (size_t i = 0; i < 2 && rc == TN_OK; i++) {
        tn_buf_putc(b, '{');
        tn_json_key(b, "type");
        tn_json_str(b, "log");
        tn_json_key(b, "log");
        tn_json_str(b, logs[i]);
        tn_buf_puts(b, "}\n");
        flush_line(&x);
        rc = export_chain(stores[i], &x, heads[i], e);
    }
    if (rc != TN_OK)
        goto out;
    if (x.io_error || fflush(out) != 0) {
        rc = tn_err_set(e, TN_EIO, "out", "writing the export failed");
        goto out;
    }
    *exported = x.exported;
out:
    tn_buf_free(&x.line);
    return rc;
}

/* ---- offline verification of an export --------------------------------- */

typedef struct xv {
    svc_audit_check *res;
    unsigned char pk[SEC_SIGN_PK_BYTES];
    bool have_header;
    bool in_chain;    /* after a start line */
    int64_t expected; /* next seq in the chain */
    unsigned char prev[AUDIT_HASH_BYTES];
    int64_t last_event_seq; /* newest full event after the cut */
    unsigned char *kept;    /* of the cut in the export */
    size_t kept_len;
    int64_t cut_seq;
    int64_t line;
    int format;            /* 1 or 2 */
    svc_audit_check *out;  /* the whole result; res is the current section's */
    int nsec;              /* sections begun (format 2) */
    const char *log;       /* name of the current section */
} xv;

/* Format 2's sections, in this order. */
static const char *const x_logs[] = {"registry", "reads"};

static bool xfail(xv *v, int64_t seq, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool xfail(xv *v, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    v->res->ok = false;
    v->res->bad_seq = seq;
    v->res->bad_line = v->line;
    va_start(ap, fmt);
    vsnprintf(v->res->reason, sizeof v->res->reason, fmt, ap);
    va_end(ap);
    return false;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool jhex(json_t *o, const char *k, unsigned char *out, size_t n)
{
    return sec_unhex(jstr(o, k), out, n);
}

static bool jint(json_t *o, const char *k, int64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

static bool x_checkpoint(xv *v, json_t *o)
{
    store_audit_cp c = {0};
    unsigned char hash[AUDIT_HASH_BYTES], sig[64];
    const char *kind = jstr(o, "kind"), *kept_hex = jstr(o, "kept");
    if (!kind || (strcmp(kind, "cut") != 0 && strcmp(kind, "periodic") != 0) || !kept_hex ||
        strlen(kept_hex) % (2 * AUDIT_KEPT_ENTRY) != 0 || !jint(o, "seq", &c.seq) ||
        !jint(o, "time_us", &c.time_us) || !jint(o, "cut_us", &c.cut_us) ||
        !jhex(o, "hash", hash, sizeof hash) || !jhex(o, "sig", sig, sizeof sig))
        return xfail(v, 0, "malformed checkpoint line");
    size_t klen = strlen(kept_hex) / 2;
    unsigned char *kept = tn_malloc(klen + 1);
    if (klen && !sec_unhex(kept_hex, kept, klen)) {
        free(kept);
        return xfail(v, c.seq, "malformed kept list");
    }
    c.kind = kind;
    c.hash = hash;
    c.hash_len = sizeof hash;
    c.kept = kept;
    c.kept_len = klen;
    tn_buf m;
    tn_buf_init(&m, 4096);
    audit_cp_message(&c, &m);
    bool ok = sec_sign_verify(v->pk, m.data, m.len, sig);
    tn_buf_free(&m);
    if (!ok) {
        free(kept);
        return xfail(v, c.seq, "checkpoint signature invalid");
    }
    v->res->checkpoints++;
    if (strcmp(kind, "cut") == 0) {
        if (v->kept || v->in_chain) {
            free(kept);
            return xfail(v, c.seq, "unexpected second retention cut");
        }
        v->kept = kept;
        v->kept_len = klen;
        v->cut_seq = c.seq;
        v->res->cut_seq = c.seq;
        return true;
    }
    free(kept);
    if (!v->in_chain || c.seq != v->expected - 1 || memcmp(hash, v->prev, sizeof hash) != 0)
        return xfail(v, c.seq, "the chain does not lead to the signed checkpoint");
    v->res->signed_seq = c.seq;
    return true;
}

static bool x_event(xv *v, json_t *o)
{
    store_audit_row r = {0};
    int64_t seq;
    unsigned char hash[AUDIT_HASH_BYTES], d[AUDIT_HASH_BYTES], h[AUDIT_HASH_BYTES];
    if (!jint(o, "seq", &seq) || !jint(o, "time_us", &r.time_us) ||
        !jhex(o, "hash", hash, sizeof hash))
        return xfail(v, 0, "malformed event line");
    r.actor_kind = jstr(o, "actor_kind");
    r.actor_id = jstr(o, "actor_id");
    r.channel = jstr(o, "channel");
    r.action = jstr(o, "action");
    r.subject_id = jstr(o, "subject_id");
    r.attrs = jstr(o, "attrs");
    r.changes = jstr(o, "changes");
    r.result = jstr(o, "result");
    r.request_id = jstr(o, "request_id");
    r.source = jstr(o, "source");
    r.detail = jstr(o, "detail");
    audit_digest(seq, &r, d);
    v->res->events++;
    if (seq <= v->cut_seq) {
        unsigned char prev[AUDIT_HASH_BYTES];
        if (!jhex(o, "prev", prev, sizeof prev))
            return xfail(v, seq, "event before the retention cut without its prev hash");
        audit_link(prev, d, h);
        if (memcmp(h, hash, sizeof h) != 0)
            return xfail(v, seq, "event content does not match its hash");
        for (size_t i = 0; i < v->kept_len / AUDIT_KEPT_ENTRY; i++) {
            const unsigned char *k = v->kept + i * AUDIT_KEPT_ENTRY;
            int64_t ks = 0;
            for (int j = 0; j < 8; j++)
                ks = (ks << 8) | k[j];
            if (ks == seq && memcmp(k + 8, prev, sizeof prev) == 0 &&
                memcmp(k + 40, hash, sizeof hash) == 0)
                return true;
        }
        return xfail(v, seq, "event is not in the signed list of the retention cut");
    }
    if (!v->in_chain || seq != v->expected)
        return xfail(v, seq, "event out of sequence (expected seq %lld)", (long long)v->expected);
    audit_link(v->prev, d, h);
    if (memcmp(h, hash, sizeof h) != 0)
        return xfail(v, seq, "event content or its predecessor does not match its hash");
    memcpy(v->prev, h, sizeof h);
    v->expected++;
    v->last_event_seq = seq;
    if (!v->res->first_seq)
        v->res->first_seq = seq;
    v->res->last_seq = seq;
    return true;
}

/* Close the current section: check that its chain ends at a signed
 * checkpoint, hand its numbers to the whole result and start afresh. */
static bool x_section_end(xv *v)
{
    svc_audit_check *r = v->res, *out = v->out;
    if (r->ok && v->last_event_seq > r->signed_seq)
        xfail(v, v->last_event_seq, "events after the last signed checkpoint");
    if (r->ok && v->in_chain && v->expected - 1 != r->signed_seq)
        xfail(v, v->expected - 1, "the chain does not end at a signed checkpoint");
    bool reads = v->log && strcmp(v->log, "reads") == 0;
    if (reads) {
        out->read_events = r->events;
        out->read_checkpoints = r->checkpoints;
        out->read_last_seq = r->last_seq;
        out->read_signed_seq = r->signed_seq;
        out->read_cut_seq = r->cut_seq;
        out->read_kept = r->kept;
        out->links += r->links;
    } else {
        out->events = r->events;
        out->links += r->links;
        out->checkpoints = r->checkpoints;
        out->first_seq = r->first_seq;
        out->last_seq = r->last_seq;
        out->signed_seq = r->signed_seq;
        out->cut_seq = r->cut_seq;
        out->kept = r->kept;
    }
    bool ok = r->ok;
    if (!ok && out->ok) {
        out->ok = false;
        out->bad_seq = r->bad_seq;
        out->bad_line = r->bad_line;
        memcpy(out->reason, r->reason, sizeof out->reason);
        snprintf(out->bad_log, sizeof out->bad_log, "%s", v->log ? v->log : "");
    }
    memset(r, 0, sizeof *r);
    r->ok = ok;
    v->in_chain = false;
    v->expected = 0;
    memset(v->prev, 0, sizeof v->prev);
    v->last_event_seq = 0;
    free(v->kept);
    v->kept = NULL;
    v->kept_len = 0;
    v->cut_seq = 0;
    return ok;
}

static bool x_line(xv *v, json_t *o)
{
    const char *type = jstr(o, "type");
    if (!type)
        return xfail(v, 0, "line without a type");
    if (!v->have_header) {
        const char *f = jstr(o, "format");
        v->format = !f ? 0 : strcmp(f, EXPORT_FORMAT) == 0 ? 2 : strcmp(f, EXPORT_FORMAT_1) == 0 ? 1 : 0;
        if (strcmp(type, "header") != 0 || !v->format ||
            !jhex(o, "public_key", v->pk, sizeof v->pk))
            return xfail(v, 0, "not a tunnus audit export (missing or unknown header)");
        v->have_header = true;
        sec_hex(v->pk, sizeof v->pk, v->out->key_id);
        /* Format 1 is one section: the registry's chain. */
        if (v->format == 1) {
            v->log = "registry";
            v->nsec = 1;
        }
        return true;
    }
    if (strcmp(type, "log") == 0) {
        const char *name = jstr(o, "log");
        if (v->format != 2 || v->nsec >= 2 || !name || strcmp(name, x_logs[v->nsec]) != 0)
            return xfail(v, 0, "unexpected log section (expected %s)",
                         v->format == 2 && v->nsec < 2 ? x_logs[v->nsec] : "none");
        if (v->nsec > 0 && !x_section_end(v))
            return false;
        v->log = x_logs[v->nsec++];
        return true;
    }
    if (!v->log)
        return xfail(v, 0, "line outside a log section");
    if (strcmp(type, "checkpoint") == 0)
        return x_checkpoint(v, o);
    if (strcmp(type, "event") == 0)
        return x_event(v, o);
    if (strcmp(type, "start") == 0) {
        if (v->in_chain || !jint(o, "seq", &v->expected) || v->expected <= v->cut_seq ||
            !jhex(o, "prev", v->prev, sizeof v->prev))
            return xfail(v, 0, "malformed or repeated start line");
        v->in_chain = true;
        return true;
    }
    if (strcmp(type, "link") == 0) {
        int64_t seq;
        unsigned char d[AUDIT_HASH_BYTES];
        if (!jint(o, "seq", &seq) || !jhex(o, "digest", d, sizeof d))
            return xfail(v, 0, "malformed link line");
        if (!v->in_chain || seq != v->expected)
            return xfail(v, seq, "link out of sequence (expected seq %lld)",
                         (long long)v->expected);
        audit_link(v->prev, d, v->prev);
        v->expected++;
        v->res->links++;
        return true;
    }
    return xfail(v, 0, "unknown line type");
}

tn_code svc_audit_verify_export(const char *data, size_t len, const char *trusted_key,
                                svc_audit_check *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_code rc = sec_init(e);
    if (rc != TN_OK)
        return rc;
    svc_audit_check sec = {.ok = true};
    xv v = {.res = &sec, .out = out};
    out->ok = true;
    size_t pos = 0;
    while (pos < len && out->ok && sec.ok) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
        v.line++;
        if (n > 0) {
            json_error_t jerr;
            json_t *o = json_loadb(data + pos, n, JSON_REJECT_DUPLICATES, &jerr);
            if (!json_is_object(o))
                xfail(&v, 0, "line is not a JSON object");
            else
                x_line(&v, o);
            json_decref(o);
        }
        pos += n + (nl ? 1 : 0);
    }
    if (sec.ok && !v.have_header)
        xfail(&v, 0, "empty export");
    if (sec.ok && v.have_header && v.format == 2 && v.nsec < 2)
        xfail(&v, 0, "the %s section is missing", x_logs[v.nsec]);
    x_section_end(&v);
    if (out->ok && trusted_key) {
        unsigned char tk[SEC_SIGN_PK_BYTES];
        if (!sec_unhex(trusted_key, tk, sizeof tk))
            rc = tn_err_set(e, TN_EUSAGE, "key", "the trusted key must be 64 hex digits");
        else if (memcmp(tk, v.pk, sizeof tk) != 0) {
            out->ok = false;
            out->bad_seq = 0;
            out->bad_line = 1;
            snprintf(out->reason, sizeof out->reason,
                     "the export is signed by another key than the trusted one");
        }
    }
    free(v.kept);
    return rc;
}
