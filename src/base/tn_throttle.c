#include "tn_throttle.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "tn_mem.h"
#include "tn_str.h"

#define SLOTS 1024

typedef struct slot {
    char source[64];
    uint32_t failures; /* in the bucket */
    int64_t leak_us;   /* monotonic: when the next one leaks away */
    int64_t until_us;  /* monotonic: the end of the wait */
} slot;

struct tn_throttle {
    pthread_mutex_t mu;
    unsigned max_failures, max_delay_s;
    int64_t leak_us;
    uint64_t key[2];
    slot slots[SLOTS];
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

tn_throttle *tn_throttle_new(unsigned max_failures, unsigned max_delay_s, unsigned leak_s)
{
    tn_throttle *t = tn_calloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->max_failures = max_failures;
    t->max_delay_s = max_delay_s;
    t->leak_us = (int64_t)(leak_s ? leak_s : 1) * 1000000;
    if (getrandom(t->key, sizeof t->key, 0) != (ssize_t)sizeof t->key) {
        /* No entropy: still a working table, only with a guessable key. */
        t->key[0] = (uint64_t)now_us();
        t->key[1] = (uint64_t)(uintptr_t)t;
    }
    return t;
}

void tn_throttle_free(tn_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* The address a source counts as (see the header), into out. */
static void source_key(const char *src, char out[64])
{
    struct in6_addr a;
    if (inet_pton(AF_INET6, src, &a) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a) && inet_ntop(AF_INET, a.s6_addr + 12, out, 64))
            return;
        memset(a.s6_addr + 8, 0, 8);
        if (inet_ntop(AF_INET6, &a, out, 48)) {
            strcat(out, "/64");
            return;
        }
    }
    tn_strlcpy(out, src, 64);
}

/* A keyed mix of the key string (FNV-1a with a random basis and a final
 * multiply-xorshift by the second key). */
static uint32_t slot_of(const tn_throttle *t, const char *k)
{
    uint64_t x = 14695981039346656037u ^ t->key[0];
    for (const char *p = k; *p; p++)
        x = (x ^ (unsigned char)*p) * 1099511628211u;
    x ^= t->key[1];
    x *= 0x9e3779b97f4a7c15u;
    x ^= x >> 29;
    return (uint32_t)(x % SLOTS);
}

/* The source's slot with its bucket leaked up to now, NULL when the slot
 * is held by another source in its wait. Under t->mu. */
static slot *find(tn_throttle *t, const char *src, int64_t now)
{
    char k[64];
    source_key(src, k);
    slot *s = &t->slots[slot_of(t, k)];
    if (strcmp(s->source, k) != 0) {
        if (s->source[0] && s->until_us > now)
            return NULL;
        memset(s, 0, sizeof *s);
        tn_strlcpy(s->source, k, sizeof s->source);
    }
    if (s->failures && now >= s->leak_us) {
        int64_t n = (now - s->leak_us) / t->leak_us + 1;
        if (n >= s->failures) {
            s->failures = 0;
        } else {
            s->failures -= (uint32_t)n;
            s->leak_us += n * t->leak_us;
        }
    }
    return s;
}

int64_t tn_throttle_wait(tn_throttle *t, const char *source)
{
    pthread_mutex_lock(&t->mu);
    int64_t now = now_us();
    slot *s = find(t, source, now);
    int64_t left = s && s->until_us > now ? (s->until_us - now + 999999) / 1000000 : 0;
    pthread_mutex_unlock(&t->mu);
    return left;
}

bool tn_throttle_fail(tn_throttle *t, const char *source)
{
    bool started = false;
    pthread_mutex_lock(&t->mu);
    int64_t now = now_us();
    slot *s = t->max_failures ? find(t, source, now) : NULL;
    if (s) {
        if (s->failures++ == 0)
            s->leak_us = now + t->leak_us;
        if (s->failures >= t->max_failures) {
            unsigned over = s->failures - t->max_failures;
            int64_t secs = over >= 30 ? t->max_delay_s : (int64_t)1 << over;
            if (secs > t->max_delay_s)
                secs = t->max_delay_s;
            s->until_us = now + secs * 1000000;
            started = true;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return started;
}
