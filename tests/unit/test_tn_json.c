/* Unit tests: the JSON text writer (src/base/tn_json). The output is parsed
 * back with jansson, an independent parser, so escaping is checked against
 * a reader rather than against our own expectations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "tn_json.h"

static void roundtrip(void **state)
{
    (void)state;
    static const char *const values[] = {
        "", "plain", "Ylä-Outinen", "quote \" inside", "back\\slash", "new\nline",
        "tab\tand\rcr", "\x01\x1f control", "Zoë «Åsa» 日本", "'single'",
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        tn_buf b;
        tn_buf_init(&b, 4096);
        tn_buf_putc(&b, '{');
        tn_json_key(&b, "k");
        tn_json_str(&b, values[i]);
        tn_json_key(&b, "n");
        tn_json_str(&b, NULL);
        tn_json_key(&b, "i");
        tn_json_i64(&b, -1234567890123LL);
        tn_buf_putc(&b, '}');
        json_error_t err;
        json_t *o = json_loads(b.data, 0, &err);
        if (!o)
            fail_msg("not JSON: %s (%s)", b.data, err.text);
        assert_string_equal(json_string_value(json_object_get(o, "k")), values[i]);
        assert_true(json_is_null(json_object_get(o, "n")));
        assert_int_equal(json_integer_value(json_object_get(o, "i")), -1234567890123LL);
        json_decref(o);
        tn_buf_free(&b);
    }
}

/* The writer skips clean eight-byte words whole: each byte value that
 * needs escaping, at every position of strings around the word size, must
 * still come back from jansson as it went in (with the length given, NUL
 * bytes too). */
static void every_byte_at_every_position(void **state)
{
    (void)state;
    static const unsigned char special[] = {0x00, 0x01, 0x08, 0x09, 0x0a, 0x0d, 0x1f,
                                            '"',  '\\', 0x20, 0x21, 0x5b, 0x5d, 0x7f};
    for (size_t len = 1; len <= 26; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t k = 0; k < sizeof special; k++) {
                char in[32];
                memset(in, 'a' + (int)(len % 26), len);
                in[pos] = (char)special[k];
                if (len > 3 && pos != len - 1)
                    in[len - 1] = '"'; /* a second escape in the same string */
                tn_buf b;
                tn_buf_init(&b, 4096);
                assert_true(tn_json_strn(&b, in, len));
                json_error_t err;
                json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
                if (!v)
                    fail_msg("not JSON: %s (%s)", b.data, err.text);
                assert_int_equal(json_string_length(v), len);
                assert_memory_equal(json_string_value(v), in, len);
                json_decref(v);
                tn_buf_free(&b);
            }
        }
    }
}

static void ceiling_is_sticky(void **state)
{
    (void)state;
    tn_buf b;
    tn_buf_init(&b, 8);
    assert_false(tn_json_str(&b, "much too long for eight bytes"));
    assert_true(b.toobig);
    tn_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(every_byte_at_every_position),
        cmocka_unit_test(ceiling_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
