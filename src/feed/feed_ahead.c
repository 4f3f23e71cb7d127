/* The read-ahead thread and its batches. The reader thread fills a ring of
 * batches, each a few hundred rows whose cells are copied into the batch's
 * own text; the caller reads one batch at a time and gives it back when it
 * asks past its last row. Handing over whole batches keeps the two threads
 * off the mutex for all but one row in BATCH_ROWS. */
#include "feed_ahead.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tn_buf.h"
#include "tn_mem.h"

#define BATCH_ROWS 256
/* A batch is closed once its text passes this; one row's cells are at most
 * FEED_ROW_MAX, its error texts a few hundred bytes. */
#define BATCH_TEXT (1024 * 1024)
#define BATCH_TEXT_MAX (BATCH_TEXT + 2 * FEED_ROW_MAX)
#define NBATCH 4
#define NO_TEXT SIZE_MAX

typedef struct slot {
    feed_ahead_row r;
    size_t off[FEED_NCOLS];
    size_t err_off, errcol_off;
} slot;

typedef struct batch {
    slot rows[BATCH_ROWS];
    size_t n;
    tn_buf text;
    bool last;  /* the reader's end follows these rows */
    tn_code rc; /* last: TN_ENOTFOUND or the reader's error */
    tn_err err;
} batch;

struct feed_ahead {
    feed_reader *rd;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a batch filled or given back, or stop */
    batch *b;          /* NBATCH of them */
    size_t head;       /* the batch the caller reads (or reads next) */
    size_t nfull;      /* filled and not yet given back, from head on */
    atomic_bool stop;  /* set under mu; also read between rows */
    bool threaded;     /* false: rows are read in feed_ahead_next */
    feed_ahead_row one; /* !threaded: the row just read */
    /* the caller's side */
    batch *cur;
    size_t pos;
    bool done;
    tn_code end_rc;
    tn_err end_err;
};

static size_t put_text(tn_buf *t, const char *s)
{
    if (!s)
        return NO_TEXT;
    size_t off = t->len;
    tn_buf_append(t, s, strlen(s) + 1);
    return off;
}

static const char *text_at(const tn_buf *t, size_t off)
{
    return off == NO_TEXT ? NULL : t->data + off;
}

/* Read rows into b until it is full or the reader ends. */
static void fill(feed_ahead *a, batch *b)
{
    b->n = 0;
    b->last = false;
    tn_buf_reset(&b->text);
    tn_err_clear(&b->err);
    while (b->n < BATCH_ROWS && b->text.len < BATCH_TEXT) {
        /* A caller that stopped waits for this thread: do not read on. */
        if (atomic_load_explicit(&a->stop, memory_order_relaxed)) {
            b->last = true;
            b->rc = TN_ENOTFOUND;
            break;
        }
        feed_row row;
        tn_code rc = feed_next(a->rd, &row, &b->err);
        if (rc != TN_OK) {
            b->last = true;
            b->rc = rc;
            if (rc == TN_ENOTFOUND)
                tn_err_clear(&b->err);
            break;
        }
        slot *s = &b->rows[b->n++];
        memset(&s->r, 0, sizeof s->r);
        s->r.row.line = row.line;
        s->r.ok = feed_row_check(&row, &s->r.chk, &s->r.iss);
        for (int i = 0; i < FEED_NCOLS; i++)
            s->off[i] = put_text(&b->text, row.v[i]);
        s->err_off = put_text(&b->text, row.error);
        s->errcol_off = put_text(&b->text, row.error_column);
    }
    /* The text is complete: the cells can be pointed at now. It cannot
     * overflow (a batch closes past BATCH_TEXT, a row is at most
     * FEED_ROW_MAX); if it ever did, the read stops with an error rather
     * than hand out cut rows. */
    if (b->text.toobig) {
        b->n = 0;
        b->last = true;
        b->rc = tn_err_set(&b->err, TN_EINTERNAL, NULL, "a row overflowed the read-ahead buffer");
        return;
    }
    for (size_t k = 0; k < b->n; k++) {
        slot *s = &b->rows[k];
        for (int i = 0; i < FEED_NCOLS; i++)
            s->r.row.v[i] = text_at(&b->text, s->off[i]);
        s->r.row.error = text_at(&b->text, s->err_off);
        s->r.row.error_column = text_at(&b->text, s->errcol_off);
    }
}

static void *reader_main(void *arg)
{
    feed_ahead *a = arg;
    size_t tail = 0;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        while (a->nfull == NBATCH && !atomic_load(&a->stop))
            pthread_cond_wait(&a->cv, &a->mu);
        bool stop = atomic_load(&a->stop);
        pthread_mutex_unlock(&a->mu);
        if (stop)
            return NULL;
        batch *b = &a->b[tail];
        fill(a, b);
        pthread_mutex_lock(&a->mu);
        a->nfull++;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        if (b->last)
            return NULL;
        tail = (tail + 1) % NBATCH;
    }
}

/* What feed_ahead_start set up for a thread, once none runs. */
static void ahead_free(feed_ahead *a)
{
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    for (size_t i = 0; i < NBATCH; i++)
        tn_buf_free(&a->b[i].text);
    free(a->b);
    free(a);
}

tn_code feed_ahead_start(feed_reader *r, bool threaded, feed_ahead **out, tn_err *e)
{
    *out = NULL;
    feed_ahead *a = tn_calloc(1, sizeof *a);
    a->rd = r;
    atomic_init(&a->stop, false);
    a->threaded = threaded;
    if (!threaded) {
        *out = a;
        return TN_OK;
    }
    a->b = tn_calloc(NBATCH, sizeof *a->b);
    for (size_t i = 0; i < NBATCH; i++)
        tn_buf_init(&a->b[i].text, BATCH_TEXT_MAX);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (pthread_create(&a->th, NULL, reader_main, a) != 0) {
        ahead_free(a);
        return tn_err_set(e, TN_EINTERNAL, NULL, "cannot start the feed reader thread");
    }
    *out = a;
    return TN_OK;
}

/* Without a thread: the reader's row as it is, checked here. */
static tn_code next_here(feed_ahead *a, const feed_ahead_row **out, tn_err *e)
{
    if (!a->done) {
        feed_ahead_row *x = &a->one;
        memset(x, 0, sizeof *x);
        tn_err_clear(&a->end_err);
        tn_code rc = feed_next(a->rd, &x->row, &a->end_err);
        if (rc == TN_OK) {
            x->ok = feed_row_check(&x->row, &x->chk, &x->iss);
            *out = x;
            return TN_OK;
        }
        a->done = true;
        a->end_rc = rc;
    }
    if (a->end_rc != TN_ENOTFOUND)
        *e = a->end_err;
    return a->end_rc;
}

tn_code feed_ahead_next(feed_ahead *a, const feed_ahead_row **out, tn_err *e)
{
    *out = NULL;
    if (!a->threaded)
        return next_here(a, out, e);
    for (;;) {
        if (a->done) {
            if (a->end_rc != TN_ENOTFOUND)
                *e = a->end_err;
            return a->end_rc;
        }
        if (a->cur && a->pos < a->cur->n) {
            *out = &a->cur->rows[a->pos++].r;
            return TN_OK;
        }
        if (a->cur) {
            if (a->cur->last) {
                a->done = true;
                a->end_rc = a->cur->rc;
                a->end_err = a->cur->err;
                continue;
            }
            pthread_mutex_lock(&a->mu);
            a->nfull--;
            a->head = (a->head + 1) % NBATCH;
            pthread_cond_broadcast(&a->cv);
            pthread_mutex_unlock(&a->mu);
            a->cur = NULL;
        }
        pthread_mutex_lock(&a->mu);
        while (a->nfull == 0)
            pthread_cond_wait(&a->cv, &a->mu);
        a->cur = &a->b[a->head];
        a->pos = 0;
        pthread_mutex_unlock(&a->mu);
    }
}

void feed_ahead_stop(feed_ahead *a)
{
    if (!a)
        return;
    if (!a->threaded) {
        free(a);
        return;
    }
    pthread_mutex_lock(&a->mu);
    atomic_store(&a->stop, true);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->th, NULL);
    ahead_free(a);
}
