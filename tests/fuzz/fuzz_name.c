/* Fuzz the UTF-8 decoder, the name and text validators, space
 * normalisation and teaching-group normalisation. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 4096

static void check_normalize(const char *s)
{
    char a[FUZZ_MAX + 1], b[FUZZ_MAX + 1];
    size_t n = strlen(s);
    memcpy(a, s, n + 1);
    name_normalize_space(a);
    size_t an = strlen(a);
    assert(an <= n);
    assert(an == 0 || (a[0] != ' ' && a[an - 1] != ' '));
    assert(!strstr(a, "  "));
    memcpy(b, a, an + 1);
    name_normalize_space(b);
    assert(strcmp(a, b) == 0); /* idempotent */
    /* A valid name has nothing to normalise. */
    if (name_validate(s, "n", NULL) == TN_OK)
        assert(strcmp(a, s) == 0);
}

static void check_groups(const char *s)
{
    char g[FUZZ_MAX + 1];
    size_t n = strlen(s);
    memcpy(g, s, n + 1);
    tn_code rc = model_check_groups(g, "g", NULL);
    if (rc != TN_OK) {
        assert(strcmp(g, s) == 0); /* untouched on failure */
        return;
    }
    size_t gn = strlen(g);
    assert(gn <= n);
    if (gn) {
        assert(g[0] != ';' && g[gn - 1] != ';' && g[0] != ' ' && g[gn - 1] != ' ');
        assert(!strstr(g, ";;") && !strstr(g, " ;") && !strstr(g, "; "));
    }
    char again[FUZZ_MAX + 1];
    memcpy(again, g, gn + 1);
    assert(model_check_groups(again, "g", NULL) == TN_OK);
    assert(strcmp(again, g) == 0);
    /* No duplicates remain. */
    for (const char *p = g; *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        for (const char *q = end ? end + 1 : p + len; *q;) {
            const char *qe = strchr(q, ';');
            size_t ql = qe ? (size_t)(qe - q) : strlen(q);
            assert(!(ql == len && memcmp(p, q, len) == 0));
            q = qe ? qe + 1 : q + ql;
        }
        p = end ? end + 1 : p + len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[FUZZ_MAX + 1];
    if (size > FUZZ_MAX)
        size = FUZZ_MAX;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);

    /* The decoder and the validator agree, byte by byte. */
    size_t chars = 0;
    bool valid = utf8_valid((const char *)data, size, &chars);
    size_t i = 0, count = 0;
    bool ok = true;
    while (i < size) {
        unsigned cp;
        size_t k = utf8_decode((const char *)data + i, size - i, &cp);
        if (k == 0) {
            ok = false;
            break;
        }
        assert(k <= 4 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
        i += k;
        count++;
    }
    assert(ok == valid);
    if (valid)
        assert(count == chars);

    tn_err e;
    tn_code rc = name_validate(s, "given_names", &e);
    assert(rc == TN_OK || rc == TN_EINVAL);
    if (rc == TN_OK) {
        assert(len > 0);
        assert(text_validate(s, NAME_MAX_CHARS, "t", NULL) == TN_OK);
        assert(s[0] != ' ' && s[len - 1] != ' ' && !strstr(s, "  "));
    } else {
        assert(strcmp(e.field, "given_names") == 0);
    }
    rc = text_validate(s, TEXT_MAX_CHARS, "title", NULL);
    assert(rc == TN_OK || rc == TN_EINVAL);
    if (rc == TN_OK)
        assert(utf8_valid(s, len, NULL));

    check_normalize(s);
    check_groups(s);
    (void)model_check_source_key(s, "k", NULL);
    (void)model_check_unit_code(s, "u", NULL);
    (void)model_check_token(s, "t", NULL);
    return 0;
}
