/* Fuzz username generation. Input layout: the first byte picks maxlen
 * (1..64) and the suffix number; the rest is split at '\n' into pattern,
 * given names, preferred name and family name. Results must be valid
 * usernames: [a-z0-9._-], a letter first, no separator last, ≤ maxlen. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "username.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 4096

static bool is_sep(char c)
{
    return c == '.' || c == '-' || c == '_';
}

static void check_username(const char *u, size_t maxlen)
{
    size_t n = strlen(u);
    assert(n >= 1 && n <= maxlen);
    assert(u[0] >= 'a' && u[0] <= 'z');
    for (size_t i = 0; i < n; i++)
        assert((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= '0' && u[i] <= '9') || is_sep(u[i]));
    assert(uname_validate(u, maxlen, "username", NULL) == TN_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[FUZZ_MAX + 1];
    if (size > FUZZ_MAX)
        size = FUZZ_MAX;
    memcpy(s, data, size);
    s[size] = '\0';

    /* Folding the whole input: letters only, count matches. */
    char fold[USERNAME_BUFSZ];
    size_t fn = uname_fold(s, fold, sizeof fold);
    assert(fn == strlen(fold) && fn < sizeof fold);
    for (size_t i = 0; i < fn; i++)
        assert(fold[i] >= 'a' && fold[i] <= 'z');

    (void)uname_validate(s, USERNAME_DEFAULT_MAX, "username", NULL);

    if (size < 1)
        return 0;
    size_t maxlen = (size_t)((unsigned char)s[0] % (USERNAME_BUFSZ - 1)) + 1;
    unsigned n = (unsigned)(unsigned char)s[0] * 37u + 2u;
    char *fields[4] = {s + 1, NULL, NULL, NULL};
    for (int i = 1; i < 4; i++) {
        char *nl = fields[i - 1] ? strchr(fields[i - 1], '\n') : NULL;
        if (!nl)
            break;
        *nl = '\0';
        fields[i] = nl + 1;
    }
    const char *pattern = fields[0];
    const char *given = fields[1] ? fields[1] : "Matti Juhani";
    const char *preferred = fields[2];
    const char *family = fields[3] ? fields[3] : "Virtanen";

    tn_code pc = uname_pattern_check(pattern, NULL);
    char out[USERNAME_BUFSZ];
    tn_err e;
    tn_err_clear(&e);
    tn_code rc = uname_expand(pattern, given, preferred, family, maxlen, out, &e);
    assert(rc == TN_OK || rc == TN_EINVAL);
    if (pc != TN_OK)
        assert(rc == TN_EINVAL && strcmp(e.field, "pattern") == 0);
    if (rc != TN_OK) {
        assert(out[0] == '\0');
        return 0;
    }
    check_username(out, maxlen);
    assert(!is_sep(out[strlen(out) - 1]));

    char cand[USERNAME_BUFSZ];
    uname_with_suffix(out, n, maxlen, cand);
    char num[16];
    snprintf(num, sizeof num, "%u", n);
    if (strlen(num) >= maxlen) {
        assert(cand[0] == '\0');
    } else {
        check_username(cand, maxlen);
        size_t cl = strlen(cand), nl = strlen(num);
        assert(cl > nl && strcmp(cand + cl - nl, num) == 0);
        assert(!is_sep(cand[cl - nl - 1]));
    }
    return 0;
}
