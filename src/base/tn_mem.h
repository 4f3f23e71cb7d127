/* tn_mem — aborting allocation wrappers.
 *
 * Out-of-memory is not a recoverable condition for tunnus: every size an
 * attacker controls is capped before allocation, so an allocation failure
 * means the machine is exhausted. These wrappers abort with a message
 * instead of letting NULL travel. */
#ifndef TN_MEM_H
#define TN_MEM_H

#include <stddef.h>

void *tn_malloc(size_t n);
void *tn_calloc(size_t nmemb, size_t size);
void *tn_realloc(void *p, size_t n);
char *tn_strdup(const char *s);
char *tn_strndup(const char *s, size_t n);

#endif
