/* feed_ahead — a feed read and checked on a second thread, ahead of the
 * rows' use.
 *
 * Why: reading a row (libcsv, the mapping, JSON) and checking it
 * (feed_row_check) is about two fifths of an unchanged re-import's time,
 * work that needs nothing from the registry. On a second core it overlaps
 * with the registry's side (fingerprints, correlation, writes).
 *
 * Rows come out in file order, each with what feed_row_check found, and
 * the reader's end (TN_ENOTFOUND) or file-level error comes after the last
 * row read before it, as feed_next would have given them. The thread
 * reads at most about a thousand rows (four batches) further than the
 * caller has taken.
 *
 * Only for input that is at hand (a regular file): stopping waits for the
 * thread's current read, and a read from a pipe waits for its writer. For
 * other input the same interface reads each row in feed_ahead_next. */
#ifndef FEED_AHEAD_H
#define FEED_AHEAD_H

#include "feed.h"

typedef struct feed_ahead feed_ahead;

typedef struct feed_ahead_row {
    feed_row row;     /* cells, error and error_column point into the batch */
    bool ok;          /* feed_row_check passed: chk is set */
    feed_checked chk;
    feed_issue iss;   /* !ok: the first problem */
} feed_ahead_row;

/* Start reading r (borrowed: nobody else may use it until feed_ahead_stop)
 * on a new thread, or, when !threaded, on the caller's. */
tn_code feed_ahead_start(feed_reader *r, bool threaded, feed_ahead **out, tn_err *e);
/* The next row: TN_OK with *out set (valid until the next call or
 * feed_ahead_stop), TN_ENOTFOUND after the last row, or the reader's
 * error. After anything but TN_OK, every later call returns the same. */
tn_code feed_ahead_next(feed_ahead *a, const feed_ahead_row **out, tn_err *e);
/* Stop the thread (also before the end) and free a. NULL is fine. */
void feed_ahead_stop(feed_ahead *a);

#endif
