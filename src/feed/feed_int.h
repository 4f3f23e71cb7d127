/* feed_int — how the reader (feed.c) applies a mapping (feed_map.c);
 * private to src/feed. */
#ifndef FEED_INT_H
#define FEED_INT_H

#include "feed.h"
#include "tn_buf.h"

/* The lower-cased source column i of the mapping, and the index of one. */
int feed_map_nsources(const feed_map *m);
const char *feed_map_source_name(const feed_map *m, int i);
int feed_map_source_index(const feed_map *m, const char *lower_name);
bool feed_map_has(const feed_map *m, feed_col c);
/* Whether source column i gives canonical column c. */
bool feed_map_source_feeds(const feed_map *m, int source, feed_col c);
/* The canonical cells from the source cells (raw[i]: source i's cell, NULL
 * when the row lacks it), written into out one after another; off and set
 * say where. false with *err and *errcol (a canonical column name) when a
 * conversion fails. */
bool feed_map_apply(const feed_map *m, const char *const *raw, tn_buf *out,
                    size_t off[FEED_NCOLS], bool set[FEED_NCOLS], const char **err,
                    const char **errcol);

/* The LDIF reader (feed_ldif.c), behind feed_reader. */
typedef struct ldif_reader ldif_reader;
tn_code ldif_open(FILE *f, const feed_map *map, ldif_reader **out, tn_err *e);
tn_code ldif_next(ldif_reader *r, feed_row *row, tn_err *e);
void ldif_close(ldif_reader *r);

#endif
