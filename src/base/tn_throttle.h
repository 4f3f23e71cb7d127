/* tn_throttle — slowing down repeated failed authentication per source
 * address, shared by the front ends (HTTP, LDAP).
 *
 * A fixed table of slots hashed by source: no allocation per source, so a
 * flood of addresses cannot grow memory. A slot still holding a source in
 * its delay is never taken over by another source (that one then goes
 * unthrottled rather than freeing an attacker); an idle or expired slot
 * is. After max_failures consecutive failures the source waits 1 s,
 * doubling with each further failure, at most max_delay_s; a success
 * clears it. Thread-safe. */
#ifndef TN_THROTTLE_H
#define TN_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tn_throttle tn_throttle;

/* max_failures 0: never throttle. The caller frees with tn_throttle_free. */
tn_throttle *tn_throttle_new(unsigned max_failures, unsigned max_delay_s);
void tn_throttle_free(tn_throttle *t);
/* Seconds the source must still wait (rounded up), 0 if none. */
int64_t tn_throttle_wait(tn_throttle *t, const char *source);
/* Count a failure; true when this one starts (or extends) a delay. */
bool tn_throttle_fail(tn_throttle *t, const char *source);
/* A success: the source's failures are forgotten. */
void tn_throttle_ok(tn_throttle *t, const char *source);

#endif
