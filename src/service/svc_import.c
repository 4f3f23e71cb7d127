/* Source feed imports: correlate feed rows to persons and bring the
 * registry to what the source says.
 *
 * Crash safety comes from idempotence, not from bookkeeping: every row is
 * applied as "make the registry agree with this row" and an agreeing row
 * writes nothing, rows are committed in chunks in file order, and the end
 * step of a full snapshot runs only after the whole file is in, in one
 * transaction. So a run killed at any point and run again reaches the state
 * of an uninterrupted run. */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "feed.h"
#include "feed_ahead.h"
#include "service.h"
#include "svc_internal.h"
#include "tn_buf.h"
#include "tn_mem.h"
#include "tn_str.h"

#define END_REASON_ABSENT "absent_from_source"
#define END_REASON_DEATH "death"
#define SIMILAR_MAX 8

/* ---- a set of source keys with the line each first appeared on ------------ */

typedef struct keyslot {
    uint64_t hash;
    char *key; /* NULL = empty */
    long line;
} keyslot;

/* The keys' bytes live in blocks of KEY_BLOCK bytes: one allocation per
 * few thousand keys instead of one each. */
#define KEY_BLOCK (64 * 1024)

typedef struct keymap {
    keyslot *slot;
    size_t cap, n;
    char **block;
    size_t nblock, used; /* used: bytes taken in the last block */
} keymap;

static char *keymap_copy(keymap *m, const char *key)
{
    size_t len = strlen(key) + 1;
    if (len > KEY_BLOCK / 4) {
        /* A long key (the prescan sees unchecked ones) gets a block of its
         * own, kept behind the block being filled. */
        m->block = tn_realloc(m->block, (m->nblock + 1) * sizeof *m->block);
        char *p = tn_malloc(len);
        memcpy(p, key, len);
        m->block[m->nblock++] = p;
        if (m->nblock >= 2) {
            m->block[m->nblock - 1] = m->block[m->nblock - 2];
            m->block[m->nblock - 2] = p;
        } else {
            m->used = KEY_BLOCK; /* full: the next key starts a block */
        }
        return p;
    }
    if (!m->nblock || m->used + len > KEY_BLOCK) {
        m->block = tn_realloc(m->block, (m->nblock + 1) * sizeof *m->block);
        m->block[m->nblock++] = tn_malloc(KEY_BLOCK);
        m->used = 0;
    }
    char *p = m->block[m->nblock - 1] + m->used;
    memcpy(p, key, len);
    m->used += len;
    return p;
}

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static keyslot *keymap_find(keymap *m, const char *key, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        keyslot *k = &m->slot[i];
        if (!k->key || (k->hash == h && strcmp(k->key, key) == 0))
            return k;
    }
}

/* The line key was first seen on; records line if it is new. */
static long keymap_put(keymap *m, const char *key, long line)
{
    if (2 * (m->n + 1) > m->cap) {
        keymap bigger = *m; /* the same key blocks, a table twice the size */
        bigger.cap = m->cap ? 2 * m->cap : 1024;
        bigger.slot = tn_calloc(bigger.cap, sizeof(keyslot));
        for (size_t i = 0; i < m->cap; i++)
            if (m->slot[i].key)
                *keymap_find(&bigger, m->slot[i].key, m->slot[i].hash) = m->slot[i];
        free(m->slot);
        *m = bigger;
    }
    uint64_t h = key_hash(key);
    keyslot *k = keymap_find(m, key, h);
    if (k->key)
        return k->line;
    k->hash = h;
    k->key = keymap_copy(m, key);
    k->line = line;
    m->n++;
    return line;
}

static bool keymap_has(keymap *m, const char *key)
{
    keyslot *k = keymap_find(m, key, key_hash(key));
    return k && k->key;
}

static void keymap_free(keymap *m)
{
    for (size_t i = 0; i < m->nblock; i++)
        free(m->block[i]);
    free(m->block);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* ---- the run ------------------------------------------------------------ */

typedef struct deferred {
    char key[KEY_BUFSZ];
    char manager_key[KEY_BUFSZ];
    long line;
} deferred;

typedef struct imp {
    svc *s;
    const svc_actor *a;
    const char *source;
    const char *kind;
    bool known_units;
    keymap keys;       /* source keys of the file */
    bool prescanned;   /* keys holds the whole file already */
    keymap units;      /* org units known to exist */
    deferred *defer;   /* rows whose manager comes later in the file */
    size_t ndefer, capdefer;
    svc_import_issue_cb cb;
    void *ctx;
    svc_import_summary *sum;
    store_source *srcs; /* the sources registry */
    size_t nsrcs, capsrcs;
    /* Fingerprints (docs/feeds.md, "Re-imports"): the digest of what
     * besides the row decides its outcome (kind, units rule, the sources
     * registry), and the current row's fingerprint when it should be
     * recorded once the row is applied. */
    unsigned char fpctx[SEC_HASH_BYTES];
    sec_fp_begun fpbegun; /* the keyed hash over fpctx, row_fp's start */
    unsigned char fp[SEC_HASH_BYTES];
    bool fp_want;
    tn_buf fpbuf;
} imp;

typedef enum row_result {
    ROW_CREATED,
    ROW_UPDATED,
    ROW_UNCHANGED,
    ROW_QUEUED,
    ROW_REJECTED,
} row_result;

static void note(imp *im, const char *what, long line, const char *column, const char *reason)
{
    if (im->cb)
        im->cb(im->ctx, what, line, column, reason);
}

/* A source's settings: the registered ones (docs/feeds.md, sources
 * registry), else the built-in precedence and every attribute owned. */
static const store_source *source_entry(const imp *im, const char *source)
{
    for (size_t i = 0; i < im->nsrcs; i++)
        if (strcmp(im->srcs[i].name, source) == 0)
            return &im->srcs[i];
    return NULL;
}

/* Which source governs a person's shared attributes (names, contact) when
 * two disagree. Higher wins. */
static int64_t source_precedence(const imp *im, const char *source)
{
    const store_source *r = source_entry(im, source);
    return r ? r->precedence : svc_source_default_precedence(source);
}

static bool source_owns(const imp *im, const char *source, const char *attr)
{
    const store_source *r = source_entry(im, source);
    return !r || svc_source_owns(r->owns, attr);
}

static int aff_rank_cmp(const imp *im, const affiliation *a, const affiliation *b,
                        tn_date today)
{
    bool ia = a->valid_to == TN_DATE_NONE || a->valid_to >= today;
    bool ib = b->valid_to == TN_DATE_NONE || b->valid_to >= today;
    if (ia != ib)
        return ia ? 1 : -1;
    int64_t pa = source_precedence(im, a->source), pb = source_precedence(im, b->source);
    if (pa != pb)
        return pa > pb ? 1 : -1;
    if (a->valid_from != b->valid_from)
        return a->valid_from > b->valid_from ? 1 : -1;
    int c = strcmp(a->source, b->source);
    if (c)
        return c;
    return strcmp(a->source_key, b->source_key);
}

static tn_code copy_cell(char *dst, size_t cap, const char *v, const char *col, tn_err *e)
{
    if (!tn_strlcpy(dst, v, cap))
        return tn_err_set(e, TN_EINVAL, col, "is too long");
    return TN_OK;
}

/* The affiliation a row describes (person and manager filled by caller). */
static tn_code row_affiliation(const imp *im, const feed_row *r, const feed_checked *c,
                               affiliation *af, tn_err *e)
{
    memset(af, 0, sizeof *af);
    tn_code rc;
    if ((rc = copy_cell(af->kind, sizeof af->kind, im->kind, "kind", e)) ||
        (rc = copy_cell(af->source, sizeof af->source, im->source, "source", e)) ||
        (rc = copy_cell(af->source_key, sizeof af->source_key, r->v[FEED_SOURCE_KEY],
                        "source_key", e)) ||
        (rc = copy_cell(af->org_unit, sizeof af->org_unit, r->v[FEED_ORG_UNIT], "org_unit", e)) ||
        (rc = copy_cell(af->title, sizeof af->title, r->v[FEED_TITLE], "title", e)) ||
        (rc = copy_cell(af->school, sizeof af->school, r->v[FEED_SCHOOL], "school", e)) ||
        (rc = copy_cell(af->class_, sizeof af->class_, r->v[FEED_CLASS], "class", e)) ||
        (rc = copy_cell(af->teaching_groups, sizeof af->teaching_groups,
                        r->v[FEED_TEACHING_GROUPS], "teaching_groups", e)) ||
        (rc = copy_cell(af->programme, sizeof af->programme, r->v[FEED_PROGRAMME], "programme",
                        e)) ||
        (rc = copy_cell(af->end_reason, sizeof af->end_reason, r->v[FEED_END_REASON],
                        "end_reason", e)))
        return rc;
    af->valid_from = c->valid_from;
    af->valid_to = c->valid_to;
    return TN_OK;
}

static void row_person_input(const feed_row *r, person_input *in)
{
    memset(in, 0, sizeof *in);
    in->given_names = r->v[FEED_GIVEN_NAMES];
    in->family_name = r->v[FEED_FAMILY_NAME];
    /* An empty optional cell leaves the registry's value alone: sources
     * often lack contact data another source has. */
    if (*r->v[FEED_PREFERRED_NAME])
        in->preferred_name = r->v[FEED_PREFERRED_NAME];
    if (*r->v[FEED_EMAIL])
        in->email = r->v[FEED_EMAIL];
    if (*r->v[FEED_PHONE])
        in->phone = r->v[FEED_PHONE];
}

/* The feed row for the review queue, without its national ID and without
 * a password hash: a queued row is an uncertain match, and accepting it
 * must not hand the source's credential to an account that may belong to
 * someone else (the person sets a password, or the next import of the
 * now confirmed row carries it). It also keeps credentials out of a table
 * whose decided rows are kept. */
static bool row_json(const feed_row *r, char *out, size_t cap)
{
    json_t *o = json_object();
    for (int i = 0; i < FEED_NCOLS; i++)
        if (i != FEED_NATIONAL_ID && i != FEED_PASSWORD_HASH && *r->v[i])
            json_object_set_new(o, feed_col_name((feed_col)i), json_string(r->v[i]));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    bool ok = s && tn_strlcpy(out, s, cap);
    free(s);
    return ok;
}

static bool fatal(tn_code rc)
{
    return rc == TN_EIO || rc == TN_EINTERNAL;
}

/* Resolve manager_key to a person id, "" when the key is not (yet) there. */
static tn_code find_manager(imp *im, const char *mkey, char id[UUID_BUFSZ], tn_err *e)
{
    id[0] = '\0';
    tn_err nf;
    tn_code rc = store_person_find_by_source_key(im->s->st, im->source, mkey, id, &nf);
    if (rc == TN_ENOTFOUND) {
        id[0] = '\0';
        return TN_OK;
    }
    if (rc != TN_OK)
        *e = nf;
    return rc;
}

static tn_code ensure_unit(imp *im, const char *code, tn_err *e)
{
    if (!*code || keymap_has(&im->units, code))
        return TN_OK;
    org_unit u;
    tn_err nf;
    tn_code rc = store_unit_get(im->s->st, code, &u, &nf);
    if (rc == TN_ENOTFOUND) {
        if (im->known_units)
            return tn_err_set(e, TN_EINVAL, "org_unit", "unknown org unit");
        rc = svc_unit_ensure_path(im->s, im->a, code, e);
    } else if (rc != TN_OK) {
        *e = nf;
    }
    if (rc == TN_OK)
        keymap_put(&im->units, code, 0);
    return rc;
}

/* The last day a row's outcome cannot change by the passing of time: its
 * person's shared attributes go to the relationship in force that ranks
 * first, so the outcome may change the day after one of the person's
 * relationships ends. A person with one relationship has no such day. */
static tn_date fp_until(const affiliation *affs, size_t naffs, const affiliation *want,
                        tn_date today)
{
    bool others = false;
    tn_date until = TN_DATE_NONE;
    for (size_t i = 0; i <= naffs; i++) {
        const affiliation *a = i < naffs ? &affs[i] : want;
        if (i < naffs && strcmp(a->source, want->source) == 0 &&
            strcmp(a->source_key, want->source_key) == 0)
            continue;
        others |= i < naffs;
        if (a->valid_to != TN_DATE_NONE && a->valid_to >= today &&
            (until == TN_DATE_NONE || a->valid_to < until))
            until = a->valid_to;
    }
    return others ? until : TN_DATE_NONE;
}

/* The fingerprint of a checked row: keyed BLAKE2b of the run's context
 * digest and every canonical cell, each with its length. */
static void row_fp(imp *im, const feed_row *r, unsigned char out[SEC_HASH_BYTES])
{
    tn_buf *b = &im->fpbuf;
    tn_buf_reset(b);
    for (int i = 0; i < FEED_NCOLS; i++) {
        uint32_t n = (uint32_t)strlen(r->v[i]);
        tn_buf_append(b, &n, sizeof n);
        tn_buf_append(b, r->v[i], n);
    }
    sec_fp_finish(&im->fpbegun, b->data, b->len, out);
}

static void fp_context(imp *im)
{
    tn_buf b;
    tn_buf_init(&b, 1 << 20);
    tn_buf_printf(&b, "kind=%s\nknown_units=%d\n", im->kind, im->known_units ? 1 : 0);
    for (size_t i = 0; i < im->nsrcs; i++) {
        const store_source *r = &im->srcs[i];
        tn_buf_printf(&b, "source=%s\t%s\t%s\t%lld\t%d\n", r->name, r->kind, r->owns,
                      (long long)r->precedence, r->require_known_units ? 1 : 0);
    }
    sec_hash(b.data, b.len, im->fpctx);
    tn_buf_free(&b);
    sec_fp_begin(&im->s->keys, im->fpctx, sizeof im->fpctx, &im->fpbegun);
}

/* Whether the row is the one last applied for its key (and still
 * trustworthy today): then it changes nothing and is skipped. */
static tn_code fp_match(imp *im, const feed_row *r, bool *match, tn_err *e)
{
    unsigned char old[SEC_HASH_BYTES];
    tn_date until;
    bool found = false;
    *match = false;
    row_fp(im, r, im->fp);
    im->fp_want = true;
    tn_code rc = store_import_fp_get(im->s->st, im->source, r->v[FEED_SOURCE_KEY], old, &until,
                                     &found, e);
    if (rc == TN_OK && found && memcmp(old, im->fp, sizeof old) == 0 &&
        (until == TN_DATE_NONE || im->s->today <= until))
        *match = true;
    return rc;
}

/* The row's username becomes the person's account, created through the
 * service's building block (so the name is reserved as any other), and
 * its password hash is kept while the account has none: a password set
 * or rehashed since is never put back. A username the person cannot have
 * (another person's, or the person already has another account) is
 * reported on the row and the rest of the row applies; *complete = false
 * then, so the row is looked at again on the next import. */
static tn_code migrate_account(imp *im, const feed_row *r, const person *p, svc_changes *ch,
                               bool *changed, bool *complete, tn_err *e)
{
    svc *s = im->s;
    const char *uname = r->v[FEED_USERNAME], *hash = r->v[FEED_PASSWORD_HASH];
    account *have = NULL;
    size_t n = 0;
    char why_msg[200];
    tn_code rc = store_account_list_by_person(s->st, p->id, &have, &n, e);
    if (rc != TN_OK)
        return rc;
    bool mine = false;
    for (size_t i = 0; i < n; i++)
        mine |= strcmp(have[i].username, uname) == 0;
    if (!mine && n > 0) {
        snprintf(why_msg, sizeof why_msg,
                 "the person already has account %.64s; the file's username is not applied",
                 have[0].username);
        note(im, "warning", r->line, "username", why_msg);
        im->sum->warnings++;
        *complete = false;
        goto out;
    }
    if (!mine) {
        account acct;
        tn_err why;
        tn_err_clear(&why);
        ch->prefix = "account.";
        rc = svc_account_create_tx(s, p, uname, &acct, ch, &why);
        if (rc == TN_ECONFLICT || rc == TN_EINVAL || rc == TN_ESTATE) {
            note(im, "warning", r->line, why.field[0] ? why.field : "username", why.msg);
            im->sum->warnings++;
            *complete = false;
            rc = TN_OK;
            goto out;
        }
        if (rc != TN_OK) {
            *e = why;
            goto out;
        }
        *changed = true;
    }
    if (*hash) {
        store_dir_auth au;
        if ((rc = store_dir_auth_get(s->st, uname, &au, e)) != TN_OK)
            goto out;
        if (!au.password_hash[0]) {
            if ((rc = store_account_set_password(s->st, uname, hash, audit_now_us(), e)) != TN_OK)
                goto out;
            ch->prefix = "account.";
            svc_changes_add(ch, "password_hash", NULL, "kept from the source");
            *changed = true;
        }
    }
out:
    free(have);
    return rc;
}

/* Apply one checked row. force: NULL normally; for a review decision the
 * person to attach the row to ("" = a new person). */
static tn_code apply_row(imp *im, const feed_row *r, const feed_checked *c, const char *force,
                         row_result *res, tn_err *e)
{
    svc *s = im->s;
    tn_code rc;
    tn_err nf;
    *res = ROW_REJECTED;
    const char *key = r->v[FEED_SOURCE_KEY];
    affiliation want, old;
    bool has_old = false;
    /* The key's person's affiliations, in one statement: they give the
     * recorded affiliation and decide whether this row governs. */
    affiliation *affs = NULL;
    size_t naffs = 0;
    svc_changes ch;
    svc_changes_init(&ch);
    if ((rc = row_affiliation(im, r, c, &want, e)) != TN_OK)
        goto out;
    if (strcmp(want.end_reason, END_REASON_DEATH) == 0 && want.valid_to == TN_DATE_NONE) {
        rc = tn_err_set(e, TN_EINVAL, "valid_to", "end_reason death needs the date of death");
        goto out;
    }
    if ((rc = store_aff_list_by_source_key(s->st, im->source, key, &affs, &naffs, e)) != TN_OK)
        goto out;
    for (size_t i = 0; i < naffs && !has_old; i++)
        if (strcmp(affs[i].source, im->source) == 0 && strcmp(affs[i].source_key, key) == 0) {
            old = affs[i];
            has_old = true;
        }
    /* A registered source whose owns list names affiliation attributes
     * sets only those; the others keep their recorded values. */
    const store_source *self = source_entry(im, im->source);
    bool aff_limited = false;
    static const char *const aff_attrs[] = {"org_unit", "title", "manager_key", "school",
                                            "class", "teaching_groups", "programme"};
    for (size_t k = 0; self && k < 7; k++)
        aff_limited |= svc_source_owns(self->owns, aff_attrs[k]) && self->owns[0];
    bool own_mgr = !aff_limited || svc_source_owns(self->owns, "manager_key");
    if (aff_limited) {
        affiliation base;
        memset(&base, 0, sizeof base);
        const affiliation *from = has_old ? &old : &base;
#define KEEP(attr, field)                                                     \
    if (!svc_source_owns(self->owns, attr))                                   \
        tn_strlcpy(want.field, from->field, sizeof want.field);
        KEEP("org_unit", org_unit)
        KEEP("title", title)
        KEEP("school", school)
        KEEP("class", class_)
        KEEP("teaching_groups", teaching_groups)
        KEEP("programme", programme)
#undef KEEP
        if (!own_mgr)
            tn_strlcpy(want.manager_id, from->manager_id, sizeof want.manager_id);
    }

    /* Correlate: national ID first, then the source key. */
    char pid[UUID_BUFSZ] = "";
    bool attach_nid = false;
    if (c->has_nid) {
        char canon[HETU_BUFSZ];
        unsigned char hash[SEC_HASH_BYTES];
        hetu_info info;
        if ((rc = hetu_parse(r->v[FEED_NATIONAL_ID], canon, &info, e)) != TN_OK)
            goto out;
        sec_nid_hash(&s->keys, canon, hash);
        explicit_bzero(canon, sizeof canon);
        rc = store_person_find_by_nid_hash(s->st, info.birth_date, hash, pid, &nf);
        if (rc == TN_ENOTFOUND)
            pid[0] = '\0';
        else if (rc != TN_OK) {
            *e = nf;
            goto out;
        }
        if (has_old && pid[0] && strcmp(pid, old.person_id) != 0) {
            rc = tn_err_set(e, TN_ECONFLICT, "source_key",
                            "the key is recorded for another person than the national ID's");
            goto out;
        }
        if (has_old && !pid[0]) {
            /* No one has this ID: the key's person gets it, unless they
             * have another one. */
            person holder;
            if ((rc = store_person_get(s->st, old.person_id, &holder, e)) != TN_OK)
                goto out;
            if (holder.has_national_id) {
                rc = tn_err_set(e, TN_ECONFLICT, "national_id",
                                "differs from the person recorded for this source key");
                goto out;
            }
            attach_nid = true;
            tn_strlcpy(pid, old.person_id, sizeof pid);
        }
    } else if (has_old) {
        tn_strlcpy(pid, old.person_id, sizeof pid);
    }
    if (force) {
        tn_strlcpy(pid, force, sizeof pid);
    } else if (!pid[0] && !c->has_nid && c->birth_date != TN_DATE_NONE) {
        /* No national ID: someone with the same names and birth date may
         * be this person. A human decides (review queue). */
        char given[NAME_BUFSZ], family[NAME_BUFSZ];
        char ids[SIMILAR_MAX][UUID_BUFSZ];
        size_t n = 0;
        tn_strlcpy(given, r->v[FEED_GIVEN_NAMES], sizeof given);
        tn_strlcpy(family, r->v[FEED_FAMILY_NAME], sizeof family);
        name_normalize_space(given);
        name_normalize_space(family);
        if ((rc = store_person_find_similar(s->st, given, family, c->birth_date, ids,
                                            SIMILAR_MAX, &n, e)) != TN_OK)
            goto out;
        if (n > 0) {
            store_review q;
            memset(&q, 0, sizeof q);
            tn_strlcpy(q.source, im->source, sizeof q.source);
            tn_strlcpy(q.source_key, key, sizeof q.source_key);
            tn_strlcpy(q.kind, im->kind, sizeof q.kind);
            tn_strlcpy(q.candidate_id, ids[0], sizeof q.candidate_id);
            q.candidates = (int64_t)n;
            q.line = r->line;
            q.created_at = audit_now_us();
            if (!row_json(r, q.row, sizeof q.row)) {
                rc = tn_err_set(e, TN_EINVAL, NULL, "row is too large for the review queue");
                goto out;
            }
            bool changed = false;
            if ((rc = svc_tx_begin(s, e)) != TN_OK)
                goto out;
            rc = store_review_put(s->st, &q, &changed, e);
            if (rc == TN_OK && changed) {
                svc_changes_add(&ch, "review.source_key", NULL, key);
                svc_changes_add_i64(&ch, "review.id", q.id);
                rc = svc_changes_write(s, im->a, "import.queue", ids[0], &ch, e);
            }
            if ((rc = svc_tx_end(s, rc, e)) != TN_OK)
                goto out;
            /* Pending: queued. Decided already: "rejected" means a
             * different person, whose affiliation the decision created;
             * nothing more here. */
            *res = strcmp(q.state, "pending") == 0 ? ROW_QUEUED : ROW_UNCHANGED;
            goto out;
        }
    }

    if ((rc = ensure_unit(im, want.org_unit, e)) != TN_OK)
        goto out;

    /* The manager: now if known, else after the whole file. */
    const char *mkey = own_mgr ? r->v[FEED_MANAGER_KEY] : "";
    bool defer = false;
    if (*mkey) {
        if ((rc = find_manager(im, mkey, want.manager_id, e)) != TN_OK)
            goto out;
        if (!want.manager_id[0]) {
            defer = true;
            if (has_old)
                tn_strlcpy(want.manager_id, old.manager_id, sizeof want.manager_id);
        }
    }

    person p;
    person_input pin;
    row_person_input(r, &pin);
    bool created = false, changed = false;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        goto out;
    if (!pid[0]) {
        pin.national_id = c->has_nid ? r->v[FEED_NATIONAL_ID] : NULL;
        if (!c->has_nid && *r->v[FEED_BIRTH_DATE])
            pin.birth_date = r->v[FEED_BIRTH_DATE];
        ch.prefix = "person.";
        rc = svc_person_create_tx(s, &pin, &p, &ch, e);
        created = rc == TN_OK;
    } else {
        rc = store_person_get(s->st, pid, &p, e);
        if (rc == TN_OK && attach_nid) {
            ch.prefix = "person.";
            rc = svc_person_attach_nid_tx(s, &p, r->v[FEED_NATIONAL_ID], &ch, e);
        }
        if (rc == TN_OK && !force) {
            /* Only the governing affiliation's source sets shared
             * attributes; others would undo each other on every import. */
            tn_strlcpy(want.person_id, p.id, sizeof want.person_id);
            /* The key's person's list is this person's unless the key is
             * new here (matched by national ID). */
            if (!has_old) {
                free(affs);
                affs = NULL;
                rc = store_aff_list_by_person(s->st, p.id, &affs, &naffs, e);
            }
            /* Per attribute: this source must own it, and no other
             * affiliation whose source owns it may outrank this one. */
            static const char *const shared[] = {"given_names", "family_name",
                                                 "preferred_name", "email", "phone"};
            const char **field[] = {&pin.given_names, &pin.family_name, &pin.preferred_name,
                                    &pin.email, &pin.phone};
            bool any = false;
            for (size_t k = 0; k < 5; k++) {
                bool gov = source_owns(im, im->source, shared[k]);
                for (size_t i = 0; rc == TN_OK && i < naffs && gov; i++)
                    if (!(strcmp(affs[i].source, want.source) == 0 &&
                          strcmp(affs[i].source_key, want.source_key) == 0) &&
                        source_owns(im, affs[i].source, shared[k]) &&
                        aff_rank_cmp(im, &affs[i], &want, s->today) > 0)
                        gov = false;
                if (!gov)
                    *field[k] = NULL;
                any |= gov;
            }
            ch.prefix = "person.";
            if (rc == TN_OK && any)
                rc = svc_person_sync_tx(s, &p, &pin, &ch, &changed, e);
        }
    }
    if (rc == TN_OK) {
        bool aff_changed = false;
        tn_strlcpy(want.person_id, p.id, sizeof want.person_id);
        if (strcmp(want.manager_id, p.id) == 0) {
            note(im, "warning", r->line, "manager_key", "a person cannot be their own manager");
            im->sum->warnings++;
            want.manager_id[0] = '\0';
        }
        ch.prefix = "affiliation.";
        rc = svc_aff_sync_tx(s, has_old ? &old : NULL, &want, &ch, &aff_changed, e);
        changed |= aff_changed;
        if (!has_old)
            created = true;
    }
    /* A relationship that ended in death records the death on the person
     * (the lifecycle acts on it), in this row's audit event. */
    if (rc == TN_OK && strcmp(want.end_reason, END_REASON_DEATH) == 0) {
        bool died = false;
        ch.prefix = "person.";
        rc = svc_person_record_death_tx(s, &p, want.valid_to, &ch, &died, e);
        changed |= died;
    }
    /* A migrated directory's account: its username kept, its password
     * hash kept (docs/feeds.md, "Migration from a directory"). */
    bool complete = true;
    if (rc == TN_OK && *r->v[FEED_USERNAME]) {
        bool acc_changed = false;
        rc = migrate_account(im, r, &p, &ch, &acc_changed, &complete, e);
        changed |= acc_changed;
    }
    ch.prefix = NULL;
    changed |= attach_nid;
    if (rc == TN_OK && (created || changed))
        rc = svc_changes_write(s, im->a, "person.import", p.id, &ch, e);
    /* Remember the row as applied, in the row's own transaction; not for
     * a row whose manager is still to come (the row is not complete until
     * then, so a killed run must take the full path again). */
    if (rc == TN_OK && im->fp_want && !defer && !force && complete)
        rc = store_import_fp_put(s->st, im->source, key, im->fp,
                                 fp_until(affs, naffs, &want, s->today), e);
    rc = svc_tx_end(s, rc, e);
    if (rc == TN_OK) {
        *res = created ? ROW_CREATED : changed ? ROW_UPDATED : ROW_UNCHANGED;
        if (defer) {
            if (im->ndefer == im->capdefer) {
                im->capdefer = im->capdefer ? 2 * im->capdefer : 64;
                im->defer = tn_realloc(im->defer, im->capdefer * sizeof *im->defer);
            }
            deferred *d = &im->defer[im->ndefer++];
            tn_strlcpy(d->key, key, sizeof d->key);
            tn_strlcpy(d->manager_key, mkey, sizeof d->manager_key);
            d->line = r->line;
        }
    }
out:
    free(affs);
    svc_changes_free(&ch);
    return rc;
}

/* Set the managers that appeared after their staff in the file. */
static tn_code resolve_deferred(imp *im, tn_err *e)
{
    svc *s = im->s;
    for (size_t i = 0; i < im->ndefer; i++) {
        deferred *d = &im->defer[i];
        affiliation old, want;
        char mid[UUID_BUFSZ];
        tn_code rc = find_manager(im, d->manager_key, mid, e);
        if (rc != TN_OK)
            return rc;
        if (!mid[0]) {
            note(im, "warning", d->line, "manager_key", "no affiliation of this source has the key");
            im->sum->warnings++;
            continue;
        }
        if ((rc = store_aff_get_by_source_key(s->st, im->source, d->key, &old, e)) != TN_OK)
            return rc;
        if (strcmp(old.manager_id, mid) == 0)
            continue;
        if (strcmp(old.person_id, mid) == 0) {
            note(im, "warning", d->line, "manager_key", "a person cannot be their own manager");
            im->sum->warnings++;
            continue;
        }
        want = old;
        tn_strlcpy(want.manager_id, mid, sizeof want.manager_id);
        svc_changes ch;
        svc_changes_init(&ch);
        ch.prefix = "affiliation.";
        bool changed = false;
        if ((rc = svc_tx_begin(s, e)) == TN_OK) {
            rc = svc_aff_sync_tx(s, &old, &want, &ch, &changed, e);
            ch.prefix = NULL;
            if (rc == TN_OK && changed)
                rc = svc_changes_write(s, im->a, "person.import", old.person_id, &ch, e);
            rc = svc_tx_end(s, rc, e);
        }
        svc_changes_free(&ch);
        if (rc != TN_OK && fatal(rc))
            return rc;
        if (rc != TN_OK) {
            note(im, "warning", d->line, e->field[0] ? e->field : "manager_key", e->msg);
            im->sum->warnings++;
        }
    }
    return TN_OK;
}

/* ---- full snapshots ------------------------------------------------------ */

typedef struct absent_ctx {
    imp *im;
    int64_t active;
    int64_t *ids;
    size_t n, cap;
} absent_ctx;

static int absent_one(int64_t id, const char *key, void *vctx)
{
    absent_ctx *a = vctx;
    a->active++;
    if (keymap_has(&a->im->keys, key))
        return 0;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 256;
        a->ids = tn_realloc(a->ids, a->cap * sizeof *a->ids);
    }
    a->ids[a->n++] = id;
    return 0;
}

static tn_code find_absent(imp *im, absent_ctx *a, tn_err *e)
{
    memset(a, 0, sizeof *a);
    a->im = im;
    return store_aff_list_active_by_source(im->s->st, im->source, im->s->today, absent_one, a, e);
}

static bool too_many(const absent_ctx *a, double pct)
{
    return a->n > 0 && (double)a->n * 100.0 > pct * (double)a->active;
}

/* End every absent affiliation as of today, in one transaction. */
static tn_code end_absent(imp *im, const absent_ctx *a, tn_err *e)
{
    svc *s = im->s;
    tn_code rc = svc_tx_begin(s, e);
    if (rc != TN_OK)
        return rc;
    for (size_t i = 0; rc == TN_OK && i < a->n; i++) {
        affiliation old, want;
        if ((rc = store_aff_get(s->st, a->ids[i], &old, e)) != TN_OK)
            break;
        want = old;
        /* A relationship that had not started yet ends on its first day. */
        want.valid_to = s->today < old.valid_from ? old.valid_from : s->today;
        tn_strlcpy(want.end_reason, END_REASON_ABSENT, sizeof want.end_reason);
        svc_changes ch;
        svc_changes_init(&ch);
        ch.prefix = "affiliation.";
        bool changed = false;
        rc = svc_aff_sync_tx(s, &old, &want, &ch, &changed, e);
        ch.prefix = NULL;
        if (rc == TN_OK && changed) {
            rc = svc_changes_write(s, im->a, "affiliation.end", old.person_id, &ch, e);
            im->sum->ended++;
        }
        svc_changes_free(&ch);
    }
    return svc_tx_end(s, rc, e);
}

/* ---- the import ---------------------------------------------------------- */

static tn_code prescan(imp *im, FILE *f, const feed_map *map, feed_fmt fmt, tn_err *e)
{
    feed_reader *rd = NULL;
    tn_code rc = feed_open_as(f, map, fmt, &rd, e);
    feed_row row;
    while (rc == TN_OK && (rc = feed_next(rd, &row, e)) == TN_OK)
        if (*row.v[FEED_SOURCE_KEY])
            keymap_put(&im->keys, row.v[FEED_SOURCE_KEY], row.line);
    feed_close(rd);
    if (rc == TN_ENOTFOUND)
        rc = TN_OK;
    im->prescanned = true;
    return rc;
}

static void record_from(store_import_run *rec, const svc_import_summary *sum)
{
    rec->rows = sum->rows;
    rec->created = sum->created;
    rec->updated = sum->updated;
    rec->unchanged = sum->unchanged;
    rec->ended = sum->ended;
    rec->rejected = sum->rejected;
    rec->queued = sum->queued;
}

static tn_code save_run(svc *s, store_import_run *rec, bool insert, tn_err *e)
{
    tn_code rc = store_tx_begin(s->st, e);
    if (rc != TN_OK)
        return rc;
    rc = insert ? store_import_run_insert(s->st, rec, e) : store_import_run_update(s->st, rec, e);
    if (rc == TN_OK)
        return store_tx_commit(s->st, e);
    store_tx_rollback(s->st);
    return rc;
}

static int collect_source(const store_source *src, void *ctx)
{
    imp *im = ctx;
    if (im->nsrcs == im->capsrcs) {
        im->capsrcs = im->capsrcs ? 2 * im->capsrcs : 8;
        im->srcs = tn_realloc(im->srcs, im->capsrcs * sizeof *im->srcs);
    }
    im->srcs[im->nsrcs++] = *src;
    return 0;
}

static tn_code check_token(const char *v, const char *field, tn_err *e)
{
    if (!v || !*v)
        return tn_err_set(e, TN_EUSAGE, field, "is required");
    return model_check_token(v, field, e);
}

tn_code svc_import(svc *s, const svc_actor *a, const svc_import_opts *o, svc_import_issue_cb cb,
                   void *ctx, svc_import_summary *out, tn_err *e)
{
    memset(out, 0, sizeof *out);
    tn_code rc;
    if ((rc = check_token(o->source, "source", e)) != TN_OK)
        return rc;
    /* The sources registry: the source's kind, units rule and every
     * source's precedence and owned attributes. */
    imp reg = {.s = s};
    if ((rc = store_source_list(s->st, collect_source, &reg, e)) != TN_OK) {
        free(reg.srcs);
        return rc;
    }
    const store_source *self = source_entry(&reg, o->source);
    const char *kind = o->kind ? o->kind : self ? self->kind : NULL;
    bool known_units = o->known_units || (self && self->require_known_units);
    if (self && o->kind && strcmp(o->kind, self->kind) != 0) {
        rc = tn_err_set(e, TN_EUSAGE, "kind", "source %s is registered with kind %s", o->source,
                        self->kind);
        free(reg.srcs);
        return rc;
    }
    if ((rc = check_token(kind, "kind", e)) != TN_OK) {
        free(reg.srcs);
        return rc;
    }
    tn_strlcpy(out->kind, kind, sizeof out->kind);
    if (o->max_ended_pct < 0 || o->max_ended_pct > 100) {
        free(reg.srcs);
        return tn_err_set(e, TN_EUSAGE, "max-ended", "must be a percentage 0..100");
    }
    if ((rc = svc_authorize(s, a, SVC_OP_IMPORT, NULL, "person.import", e)) != TN_OK ||
        (s->in_batch &&
         (rc = tn_err_set(e, TN_EINTERNAL, NULL, "an import runs its own transactions")))) {
        free(reg.srcs);
        return rc;
    }

    imp im = {.s = s, .a = a, .source = o->source, .kind = kind,
              .known_units = known_units, .cb = cb, .ctx = ctx, .sum = out,
              .srcs = reg.srcs, .nsrcs = reg.nsrcs, .capsrcs = reg.capsrcs};
    tn_buf_init(&im.fpbuf, FEED_ROW_MAX + 4 * FEED_NCOLS + SEC_HASH_BYTES);
    fp_context(&im);
    absent_ctx absent;
    memset(&absent, 0, sizeof absent);
    store_import_run rec;
    memset(&rec, 0, sizeof rec);
    feed_reader *rd = NULL;
    feed_ahead *ahead = NULL;
    feed_map *map = NULL;
    feed_fmt fmt = FEED_FMT_AUTO;
    bool one_tx = o->dry_run || o->strict;
    size_t chunk = o->chunk_rows ? o->chunk_rows : 1000;
    char detail[256] = "";

    tn_strlcpy(rec.source, o->source, sizeof rec.source);
    tn_strlcpy(rec.kind, kind, sizeof rec.kind);
    tn_strlcpy(rec.file, o->file_name ? o->file_name : "-", sizeof rec.file);
    snprintf(rec.mode, sizeof rec.mode, "%s%s", o->full ? "full" : "delta",
             o->strict ? ",strict" : "");
    rec.started_at = audit_now_us();
    tn_strlcpy(rec.status, "running", sizeof rec.status);

    if (o->format && !feed_fmt_parse(o->format, &fmt)) {
        rc = tn_err_set(e, TN_EUSAGE, "format", "must be csv, json or ldif");
        goto out;
    }
    if (o->mapping && (rc = feed_map_load(o->mapping, &map, e)) != TN_OK)
        goto out;
    if (o->full) {
        if ((rc = prescan(&im, o->in, map, fmt, e)) != TN_OK)
            goto out;
        if (fseek(o->in, 0, SEEK_SET) != 0) {
            rc = tn_err_set(e, TN_EUSAGE, "file", "--full needs a file that can be read twice");
            goto out;
        }
        if ((rc = find_absent(&im, &absent, e)) != TN_OK)
            goto out;
        out->active_before = absent.active;
        if (too_many(&absent, o->max_ended_pct)) {
            out->refused = true;
            snprintf(detail, sizeof detail,
                     "the snapshot would end %zu of %lld active affiliations of source %s "
                     "(%.1f%%), more than --max-ended %.1f%%; nothing was applied",
                     absent.n, (long long)absent.active, o->source,
                     100.0 * (double)absent.n / (double)absent.active, o->max_ended_pct);
            if (!o->dry_run) {
                tn_strlcpy(rec.status, "refused", sizeof rec.status);
                tn_strlcpy(rec.detail, detail, sizeof rec.detail);
                rec.finished_at = audit_now_us();
                if ((rc = save_run(s, &rec, true, e)) != TN_OK)
                    goto out;
                out->run_id = rec.id;
            }
            rc = tn_err_set(e, TN_ESTATE, "max-ended", "%s", detail);
            goto out;
        }
    }
    if (!o->dry_run) {
        if ((rc = save_run(s, &rec, true, e)) != TN_OK)
            goto out;
        out->run_id = rec.id;
    }

    if ((rc = feed_open_as(o->in, map, fmt, &rd, e)) != TN_OK)
        goto out;
    if ((rc = svc_batch_begin(s, e)) != TN_OK)
        goto out;
    /* A file is read and its rows checked on a second thread; a pipe on
     * this one, so that an early stop never waits for its writer. */
    struct stat in_st;
    bool regular = fstat(fileno(o->in), &in_st) == 0 && S_ISREG(in_st.st_mode);
    if ((rc = feed_ahead_start(rd, regular, &ahead, e)) != TN_OK)
        goto abort;
    size_t in_chunk = 0;
    const feed_ahead_row *ar;
    while ((rc = feed_ahead_next(ahead, &ar, e)) == TN_OK) {
        const feed_row *row = &ar->row;
        out->rows++;
        feed_issue iss = ar->iss;
        bool ok = ar->ok;
        if (ok) {
            long first = keymap_put(&im.keys, row->v[FEED_SOURCE_KEY], row->line);
            if (first != row->line) {
                iss.line = row->line;
                tn_strlcpy(iss.column, "source_key", sizeof iss.column);
                snprintf(iss.reason, sizeof iss.reason, "duplicate key (first on line %ld)",
                         first);
                ok = false;
            }
        }
        row_result res = ROW_REJECTED;
        bool same = false;
        if (ok && (rc = fp_match(&im, row, &same, e)) != TN_OK)
            goto abort;
        if (same) {
            res = ROW_UNCHANGED;
        } else if (ok) {
            tn_err re;
            tn_err_clear(&re);
            rc = apply_row(&im, row, &ar->chk, NULL, &res, &re);
            if (rc != TN_OK) {
                if (fatal(rc)) {
                    *e = re;
                    break;
                }
                iss.line = row->line;
                tn_strlcpy(iss.column, re.field, sizeof iss.column);
                tn_strlcpy(iss.reason, re.msg, sizeof iss.reason);
                res = ROW_REJECTED;
                rc = TN_OK;
            }
        }
        switch (res) {
        case ROW_CREATED: out->created++; break;
        case ROW_UPDATED: out->updated++; break;
        case ROW_UNCHANGED: out->unchanged++; break;
        case ROW_QUEUED:
            out->queued++;
            note(&im, "queued", row->line, "", "looks like an existing person (same names and "
                                              "birth date) but has no national ID");
            break;
        case ROW_REJECTED:
            out->rejected++;
            note(&im, "rejected", iss.line, iss.column, iss.reason);
            if (o->strict) {
                rc = tn_err_set(e, TN_EINVAL, iss.column,
                                "line %ld: %s; --strict: nothing was applied", iss.line,
                                iss.reason);
                goto abort;
            }
            break;
        }
        if (!one_tx && ++in_chunk >= chunk) {
            in_chunk = 0;
            if ((rc = svc_batch_commit(s, e)) != TN_OK || (rc = svc_batch_begin(s, e)) != TN_OK)
                goto out;
        }
    }
    if (rc != TN_ENOTFOUND)
        goto abort;
    feed_ahead_stop(ahead);
    ahead = NULL;
    if ((rc = resolve_deferred(&im, e)) != TN_OK)
        goto abort;
    if (!one_tx && ((rc = svc_batch_commit(s, e)) != TN_OK || (rc = svc_batch_begin(s, e)) != TN_OK))
        goto out;
    if (o->full) {
        free(absent.ids);
        if ((rc = find_absent(&im, &absent, e)) != TN_OK)
            goto abort;
        if ((rc = end_absent(&im, &absent, e)) != TN_OK)
            goto abort;
    }
    if (o->dry_run) {
        svc_batch_rollback(s);
        rc = TN_OK;
        goto out;
    }
    if ((rc = svc_batch_commit(s, e)) != TN_OK)
        goto out;
    tn_strlcpy(rec.status, "done", sizeof rec.status);
    rec.finished_at = audit_now_us();
    record_from(&rec, out);
    rc = save_run(s, &rec, false, e);
    goto out;

abort:
    svc_batch_rollback(s);
    if (!o->dry_run && rec.id) {
        tn_err ignored;
        tn_strlcpy(rec.status, "failed", sizeof rec.status);
        tn_strlcpy(rec.detail, e->msg, sizeof rec.detail);
        rec.finished_at = audit_now_us();
        record_from(&rec, out);
        (void)save_run(s, &rec, false, &ignored);
    }
out:
    if (s->in_batch)
        svc_batch_rollback(s);
    feed_ahead_stop(ahead);
    feed_close(rd);
    feed_map_free(map);
    free(im.srcs);
    free(absent.ids);
    free(im.defer);
    keymap_free(&im.keys);
    keymap_free(&im.units);
    tn_buf_free(&im.fpbuf);
    sodium_memzero(&im.fpbegun, sizeof im.fpbegun);
    return rc;
}

/* ---- runs and the review queue ------------------------------------------ */

typedef struct runs_ctx {
    svc_import_record_cb cb;
    void *ctx;
} runs_ctx;

static int run_one(const store_import_run *r, void *vctx)
{
    runs_ctx *c = vctx;
    svc_import_record o;
    memset(&o, 0, sizeof o);
    o.id = r->id;
    tn_strlcpy(o.source, r->source, sizeof o.source);
    tn_strlcpy(o.kind, r->kind, sizeof o.kind);
    tn_strlcpy(o.file, r->file, sizeof o.file);
    tn_strlcpy(o.mode, r->mode, sizeof o.mode);
    tn_strlcpy(o.status, r->status, sizeof o.status);
    tn_strlcpy(o.detail, r->detail, sizeof o.detail);
    o.started_at = r->started_at;
    o.finished_at = r->finished_at;
    o.rows = r->rows;
    o.created = r->created;
    o.updated = r->updated;
    o.unchanged = r->unchanged;
    o.ended = r->ended;
    o.rejected = r->rejected;
    o.queued = r->queued;
    return c->cb(&o, c->ctx);
}

tn_code svc_import_runs(svc *s, const svc_actor *a, int64_t limit, svc_import_record_cb cb,
                        void *ctx, tn_err *e)
{
    /* Runs hold counts and file names, no personal data. */
    tn_code rc = svc_authorize(s, a, SVC_OP_IMPORT, NULL, "import.runs", e);
    if (rc != TN_OK)
        return rc;
    runs_ctx c = {cb, ctx};
    return store_import_run_list(s->st, limit, run_one, &c, e);
}

/* The queued row back as a feed row; strings live in o. */
static bool review_row(const store_review *q, json_t **o, feed_row *r)
{
    json_error_t jerr;
    *o = json_loads(q->row, 0, &jerr);
    if (!*o || !json_is_object(*o))
        return false;
    memset(r, 0, sizeof *r);
    r->line = (long)q->line;
    for (int i = 0; i < FEED_NCOLS; i++) {
        json_t *v = json_object_get(*o, feed_col_name((feed_col)i));
        r->v[i] = json_is_string(v) ? json_string_value(v) : "";
    }
    return true;
}

typedef struct review_ctx {
    svc *s;
    const svc_actor *a;
    svc_review_cb cb;
    void *ctx;
    tn_err *e;
    tn_code rc;
} review_ctx;

static int review_one(const store_review *q, void *vctx)
{
    review_ctx *c = vctx;
    svc_review_entry out;
    memset(&out, 0, sizeof out);
    out.id = q->id;
    tn_strlcpy(out.source, q->source, sizeof out.source);
    tn_strlcpy(out.source_key, q->source_key, sizeof out.source_key);
    tn_strlcpy(out.kind, q->kind, sizeof out.kind);
    tn_strlcpy(out.candidate_id, q->candidate_id, sizeof out.candidate_id);
    tn_strlcpy(out.state, q->state, sizeof out.state);
    out.candidates = q->candidates;
    out.line = q->line;
    person p;
    tn_err ignored;
    if (store_person_get(c->s->st, q->candidate_id, &p, &ignored) == TN_OK)
        out.candidate_number = p.number;
    json_t *o = NULL;
    feed_row r;
    if (review_row(q, &o, &r)) {
        tn_strlcpy(out.given_names, r.v[FEED_GIVEN_NAMES], sizeof out.given_names);
        tn_strlcpy(out.family_name, r.v[FEED_FAMILY_NAME], sizeof out.family_name);
        tn_strlcpy(out.birth_date, r.v[FEED_BIRTH_DATE], sizeof out.birth_date);
    }
    json_decref(o);
    store_audit_row ar;
    svc_audit_row(&ar, c->a, "import.review.read", q->candidate_id,
                  "given_names,family_name,birth_date", "allowed");
    if ((c->rc = audit_read(c->s->au, &ar, c->e)) != TN_OK)
        return 1;
    return c->cb(&out, c->ctx);
}

tn_code svc_review_list(svc *s, const svc_actor *a, const char *state, svc_review_cb cb,
                        void *ctx, tn_err *e)
{
    tn_code rc = svc_authorize(s, a, SVC_OP_IMPORT, NULL, "import.review.list", e);
    if (rc != TN_OK)
        return rc;
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "accepted") != 0 &&
        strcmp(state, "rejected") != 0)
        return tn_err_set(e, TN_EUSAGE, "state", "must be pending, accepted or rejected");
    review_ctx c = {s, a, cb, ctx, e, TN_OK};
    rc = store_review_list(s->st, state, review_one, &c, e);
    return rc == TN_OK ? c.rc : rc;
}

tn_code svc_review_decide(svc *s, const svc_actor *a, int64_t id, bool accept, person *out,
                          tn_err *e)
{
    store_review q;
    tn_code rc = store_review_get(s->st, id, &q, e);
    if (rc != TN_OK)
        return rc;
    const char *action = accept ? "import.review.accept" : "import.review.reject";
    if ((rc = svc_authorize(s, a, SVC_OP_IMPORT, q.candidate_id, action, e)) != TN_OK)
        return rc;
    if (strcmp(q.state, "pending") != 0)
        return tn_err_set(e, TN_ESTATE, "id", "review entry %lld is already %s", (long long)id,
                          q.state);
    json_t *o = NULL;
    feed_row r;
    feed_checked chk;
    feed_issue iss;
    svc_import_summary sum;
    memset(&sum, 0, sizeof sum);
    if (!review_row(&q, &o, &r)) {
        rc = tn_err_set(e, TN_EINTERNAL, "row", "the queued row is not readable");
        goto out;
    }
    if (!feed_row_check(&r, &chk, &iss)) {
        rc = tn_err_set(e, TN_EINVAL, iss.column, "%s", iss.reason);
        goto out;
    }
    imp im = {.s = s, .a = a, .source = q.source, .kind = q.kind, .sum = &sum};
    row_result res;
    if ((rc = svc_tx_begin(s, e)) != TN_OK)
        goto out;
    rc = apply_row(&im, &r, &chk, accept ? q.candidate_id : "", &res, e);
    if (rc == TN_OK)
        rc = store_review_decide(s->st, id, accept ? "accepted" : "rejected", audit_now_us(), e);
    if (rc == TN_OK) {
        svc_changes ch;
        svc_changes_init(&ch);
        svc_changes_add_i64(&ch, "review.id", id);
        svc_changes_add(&ch, "review.state", "pending", accept ? "accepted" : "rejected");
        rc = svc_changes_write(s, a, action, q.candidate_id, &ch, e);
        svc_changes_free(&ch);
    }
    if (rc == TN_OK && out) {
        affiliation af;
        if ((rc = store_aff_get_by_source_key(s->st, q.source, q.source_key, &af, e)) == TN_OK)
            rc = store_person_get(s->st, af.person_id, out, e);
    }
    rc = svc_tx_end(s, rc, e);
    keymap_free(&im.units);
    free(im.defer);
out:
    json_decref(o);
    return rc;
}
