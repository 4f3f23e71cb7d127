#include "tn_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "tunnus: out of memory allocating %zu bytes\n", n);
    abort();
}

void *tn_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *tn_calloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *tn_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *tn_strdup(const char *s)
{
    return tn_strndup(s, strlen(s));
}

char *tn_strndup(const char *s, size_t n)
{
    char *p = tn_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
