#include "tn_throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tn_mem.h"
#include "tn_str.h"

#define SLOTS 1024

typedef struct slot {
    char source[64];
    uint32_t failures;
    int64_t until_us; /* monotonic */
} slot;

struct tn_throttle {
    pthread_mutex_t mu;
    unsigned max_failures, max_delay_s;
    slot slots[SLOTS];
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

tn_throttle *tn_throttle_new(unsigned max_failures, unsigned max_delay_s)
{
    tn_throttle *t = tn_calloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->max_failures = max_failures;
    t->max_delay_s = max_delay_s;
    return t;
}

void tn_throttle_free(tn_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* The source's slot, NULL when it is held by another source in its delay.
 * Under t->mu. */
static slot *find(tn_throttle *t, const char *src)
{
    uint32_t x = 2166136261u; /* FNV-1a */
    for (const char *p = src; *p; p++)
        x = (x ^ (unsigned char)*p) * 16777619u;
    slot *s = &t->slots[x % SLOTS];
    if (strcmp(s->source, src) != 0) {
        if (s->source[0] && s->until_us > now_us())
            return NULL;
        memset(s, 0, sizeof *s);
        tn_strlcpy(s->source, src, sizeof s->source);
    }
    return s;
}

int64_t tn_throttle_wait(tn_throttle *t, const char *source)
{
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, source);
    int64_t now = now_us();
    int64_t left = s && s->until_us > now ? (s->until_us - now + 999999) / 1000000 : 0;
    pthread_mutex_unlock(&t->mu);
    return left;
}

bool tn_throttle_fail(tn_throttle *t, const char *source)
{
    bool started = false;
    pthread_mutex_lock(&t->mu);
    slot *s = t->max_failures ? find(t, source) : NULL;
    if (s) {
        s->failures++;
        if (s->failures >= t->max_failures) {
            unsigned over = s->failures - t->max_failures;
            int64_t secs = over >= 30 ? t->max_delay_s : (int64_t)1 << over;
            if (secs > t->max_delay_s)
                secs = t->max_delay_s;
            s->until_us = now_us() + secs * 1000000;
            started = true;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return started;
}

void tn_throttle_ok(tn_throttle *t, const char *source)
{
    pthread_mutex_lock(&t->mu);
    slot *s = find(t, source);
    if (s && s->failures) {
        s->failures = 0;
        s->until_us = 0;
    }
    pthread_mutex_unlock(&t->mu);
}
