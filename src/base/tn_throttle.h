/* tn_throttle — slowing down repeated failed authentication per source
 * address, shared by the front ends (HTTP, LDAP).
 *
 * Each source has a leaky bucket of failures: every failure adds one, and
 * one leaks away every leak_s seconds. From max_failures in the bucket on,
 * the source waits 1 s, doubling with each further failure, at most
 * max_delay_s. A success forgives nothing: one identity's success says
 * nothing about guesses at others from the same address (an insider with
 * one good password must not reset the count between guesses); the leak
 * is what lets a crowd behind one NAT address, with its ordinary share of
 * typing errors, go on unthrottled.
 *
 * Sources are IP addresses as text: an IPv4-mapped IPv6 address counts as
 * its IPv4 address, and an IPv6 address as its /64 (one host has a whole
 * /64 to pick from). A fixed table of slots, hashed with a key random per
 * table (colliding addresses cannot be computed in advance), so a flood of
 * addresses cannot grow memory. A slot still holding a source in its wait
 * is never taken over by another source (that one then goes unthrottled
 * rather than freeing the waiting one). Thread-safe. */
#ifndef TN_THROTTLE_H
#define TN_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tn_throttle tn_throttle;

/* The front ends' leak: one failure forgiven every 6 s, so at most 10
 * guesses a minute from one address once its bucket is full. */
#define TN_THROTTLE_LEAK_S 6

/* max_failures 0: never throttle. leak_s 0 is taken as 1. The caller frees
 * with tn_throttle_free. */
tn_throttle *tn_throttle_new(unsigned max_failures, unsigned max_delay_s, unsigned leak_s);
void tn_throttle_free(tn_throttle *t);
/* Seconds the source must still wait (rounded up), 0 if none. */
int64_t tn_throttle_wait(tn_throttle *t, const char *source);
/* Count a failure; true when this one starts (or extends) a wait. */
bool tn_throttle_fail(tn_throttle *t, const char *source);

#endif
