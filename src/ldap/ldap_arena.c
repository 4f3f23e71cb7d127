/* The per-operation arena: filter nodes and other request-sized data of
 * one operation come from here and are released together when the
 * operation ends, so a steady stream of searches allocates nothing. */
#include <stdlib.h>

#include "ldap_int.h"
#include "tn_mem.h"

#define CHUNK_MIN 16384

struct ld_chunk {
    ld_chunk *next;
    size_t cap;
    _Alignas(max_align_t) unsigned char data[];
};

void ld_arena_init(ld_arena *a, size_t limit)
{
    a->head = a->cur = NULL;
    a->used = a->total = 0;
    a->limit = limit;
}

void *ld_arena_alloc(ld_arena *a, size_t n)
{
    n = (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    if (n > a->limit || a->total + n > a->limit)
        return NULL;
    if (!a->cur || a->cur->cap - a->used < n) {
        /* Reuse a kept chunk after a reset before allocating a new one. */
        ld_chunk *c = a->cur ? a->cur->next : a->head;
        if (!c || c->cap < n) {
            size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
            c = tn_malloc(sizeof *c + cap);
            c->cap = cap;
            if (a->cur) {
                c->next = a->cur->next;
                a->cur->next = c;
            } else {
                c->next = a->head;
                a->head = c;
            }
        }
        a->cur = c;
        a->used = 0;
    }
    void *p = a->cur->data + a->used;
    a->used += n;
    a->total += n;
    return p;
}

void ld_arena_reset(ld_arena *a)
{
    /* Keep the first chunk (the common case fits in it); return the rest. */
    if (a->head) {
        ld_chunk *c = a->head->next;
        while (c) {
            ld_chunk *n = c->next;
            free(c);
            c = n;
        }
        a->head->next = NULL;
    }
    a->cur = NULL;
    a->used = a->total = 0;
}

void ld_arena_free(ld_arena *a)
{
    ld_arena_reset(a);
    free(a->head);
    a->head = NULL;
}
