/* test_jsonw: the small JSON writer. Every output is parsed back with
 * jansson and compared with what was written: strings byte for byte,
 * numbers by their exact text and by the double jansson reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "billing.h"
#include "buf.h"
#include "jsonw.h"

/* Writes {"k": s} and checks that jansson reads s back unchanged. */
static void roundtrip_string(const char *s)
{
    struct buf out;
    struct jsonw w;
    json_t *v;

    buf_init(&out, 1 << 16);
    jsonw_init(&w, &out);
    jsonw_object_open(&w);
    jsonw_key(&w, s);
    jsonw_string(&w, s);
    jsonw_object_close(&w);
    assert_int_equal(jsonw_finish(&w), 0);
    v = json_loadb(out.data, out.len, 0, NULL);
    assert_non_null(v);
    assert_int_equal(json_object_size(v), 1);
    assert_string_equal(json_string_value(json_object_get(v, s)), s);
    json_decref(v);
    buf_cleanup(&out);
}

static void test_strings_roundtrip(void **state)
{
    char all[128];
    int c;

    (void)state;
    /* Every ASCII byte but NUL, the control characters included. */
    for (c = 1; c < 128; c++)
        all[c - 1] = (char)c;
    all[127] = '\0';
    roundtrip_string(all);
    roundtrip_string("");
    roundtrip_string("\"quoted\" \\back\\slash\\");
    roundtrip_string("line\nbreak\ttab\rreturn\b\f\x01\x1f");
    roundtrip_string("caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80");
    roundtrip_string("\xe2\x80\xa8 separators \xe2\x80\xa9");
}

/* Renders {"amount": text} and checks the exact text is in the output and
 * that jansson reads the double strtod reads from it. */
static void roundtrip_number(const char *text)
{
    struct buf out;
    struct jsonw w;
    json_t *v;
    char want[96];

    buf_init(&out, 256);
    jsonw_init(&w, &out);
    jsonw_object_open(&w);
    jsonw_key(&w, "amount");
    jsonw_number(&w, text);
    jsonw_object_close(&w);
    assert_int_equal(jsonw_finish(&w), 0);
    snprintf(want, sizeof(want), "{\"amount\":%s}", text);
    assert_string_equal(out.data, want);
    v = json_loadb(out.data, out.len, 0, NULL);
    assert_non_null(v);
    assert_true(json_number_value(json_object_get(v, "amount")) ==
                strtod(text, NULL));
    json_decref(v);
    buf_cleanup(&out);
}

/* Pico-USD amounts across the whole range a ledger can hold, each
 * rendered by billing_format_usd: the text must survive as it is, and
 * read back as the decimal's nearest double. */
static void test_money_roundtrip(void **state)
{
    static const int64_t edges[] = {
        0,
        1,
        150000,
        INT64_C(999999999999),
        INT64_C(1000000000000),
        INT64_C(42500000000000),
        INT64_C(157300027500000),
        INT64_C(8999999123456789011),
        INT64_C(9000000000000000000),
        -INT64_C(1500000000000),
    };
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    char text[48];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        billing_format_usd(edges[i], text, sizeof(text));
        roundtrip_number(text);
    }
    for (i = 0; i < 2000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        billing_format_usd((int64_t)(x % UINT64_C(9000000000000000001)), text,
                           sizeof(text));
        assert_null(strchr(text, 'e'));
        roundtrip_number(text);
    }
    roundtrip_number("0");
    roundtrip_number("-0");
    roundtrip_number("1.5e-7");
    roundtrip_number("2E+10");
}

static void test_nested(void **state)
{
    struct buf out;
    struct jsonw w;
    json_t *v, *want;

    (void)state;
    buf_init(&out, 256);
    jsonw_init(&w, &out);
    jsonw_object_open(&w);
    jsonw_key(&w, "a");
    jsonw_object_open(&w);
    jsonw_key(&w, "b");
    jsonw_string(&w, "c");
    jsonw_key(&w, "e");
    jsonw_object_open(&w);
    jsonw_object_close(&w);
    jsonw_object_close(&w);
    jsonw_key(&w, "d");
    jsonw_number(&w, "1.25");
    jsonw_object_close(&w);
    assert_int_equal(jsonw_finish(&w), 0);
    assert_string_equal(out.data, "{\"a\":{\"b\":\"c\",\"e\":{}},\"d\":1.25}");
    v = json_loadb(out.data, out.len, 0, NULL);
    want = json_pack("{s:{s:s, s:{}}, s:f}", "a", "b", "c", "e", "d", 1.25);
    assert_true(json_equal(v, want));
    json_decref(v);
    json_decref(want);
    buf_cleanup(&out);
}

/* A number text outside the JSON grammar is refused. */
static void test_bad_numbers(void **state)
{
    static const char *const bad[] = {
        "",    "01", "1.",  ".5",  "+1",  "1e",   "1e+", "-",
        "--1", "1 ", "NaN", "inf", "0x1", "1.5.", "1,5", "1e5.0",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf out;
        struct jsonw w;

        buf_init(&out, 64);
        jsonw_init(&w, &out);
        jsonw_number(&w, bad[i]);
        assert_int_equal(jsonw_finish(&w), -1);
        buf_cleanup(&out);
    }
}

/* Calls out of order, strings that are not UTF-8, nesting past the limit
 * and a buffer too small all fail, and stay failed. */
static void test_misuse_fails(void **state)
{
    struct buf out;
    struct jsonw w;
    unsigned i;

    (void)state;
    buf_init(&out, 256);
    jsonw_init(&w, &out); /* a key outside an object */
    jsonw_key(&w, "k");
    assert_int_equal(jsonw_finish(&w), -1);
    buf_reset(&out);
    jsonw_init(&w, &out); /* a value without a key */
    jsonw_object_open(&w);
    jsonw_string(&w, "v");
    jsonw_object_close(&w);
    assert_int_equal(jsonw_finish(&w), -1);
    buf_reset(&out);
    jsonw_init(&w, &out); /* an object left open */
    jsonw_object_open(&w);
    assert_int_equal(jsonw_finish(&w), -1);
    buf_reset(&out);
    jsonw_init(&w, &out); /* a key without its value */
    jsonw_object_open(&w);
    jsonw_key(&w, "k");
    jsonw_object_close(&w);
    assert_int_equal(jsonw_finish(&w), -1);
    buf_reset(&out);
    jsonw_init(&w, &out); /* two top-level values */
    jsonw_string(&w, "a");
    jsonw_string(&w, "b");
    assert_int_equal(jsonw_finish(&w), -1);
    buf_reset(&out);
    jsonw_init(&w, &out); /* not UTF-8 */
    jsonw_string(&w, "\xc3\x28");
    assert_int_equal(jsonw_finish(&w), -1);
    buf_reset(&out);
    jsonw_init(&w, &out); /* deeper than JSONW_MAX_DEPTH */
    for (i = 0; i <= JSONW_MAX_DEPTH; i++) {
        if (i > 0)
            jsonw_key(&w, "k");
        jsonw_object_open(&w);
    }
    assert_int_equal(jsonw_finish(&w), -1);
    buf_cleanup(&out);
    buf_init(&out, 8); /* the buffer's cap */
    jsonw_init(&w, &out);
    jsonw_string(&w, "longer than eight");
    assert_int_equal(jsonw_finish(&w), -1);
    buf_cleanup(&out);
}

/* Writes {"id":"x1","k\u00e9":"caf\u00e9 \"q\"","n":[1,null],"a":"plain"}
 * (as jansson writes it) into out. */
static int write_sample(struct buf *out)
{
    struct jsonw w;

    jsonw_init(&w, out);
    jsonw_object_open(&w);
    jsonw_key(&w, "id");
    jsonw_string(&w, "x1");
    jsonw_key(&w, "k\xc3\xa9");
    jsonw_string(&w, "caf\xc3\xa9 \"q\"");
    jsonw_key(&w, "n");
    jsonw_array_open(&w);
    jsonw_int(&w, 1);
    jsonw_null(&w);
    jsonw_array_close(&w);
    jsonw_key(&w, "a");
    jsonw_stringn(&w, "plain", 5);
    jsonw_object_close(&w);
    return jsonw_finish(&w);
}

/* A buffer capped at every size short of the whole value fails (plain
 * strings and keys, written in one piece, as much as escaped ones); the
 * exact size holds jansson's bytes. */
static void test_cap_at_every_size(void **state)
{
    json_t *v = json_pack("{s:s, s:s, s:[i,n], s:s}", "id", "x1", "k\xc3\xa9",
                          "caf\xc3\xa9 \"q\"", "n", 1, "a", "plain");
    char *want = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    struct buf out;
    size_t cap, n;

    (void)state;
    assert_non_null(want);
    n = strlen(want);
    for (cap = 0; cap < n; cap++) {
        buf_init(&out, cap);
        assert_int_equal(write_sample(&out), -1);
        buf_cleanup(&out);
    }
    buf_init(&out, n);
    assert_int_equal(write_sample(&out), 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);
    buf_cleanup(&out);
    free(want);
    json_decref(v);
}

/* Asserts that jsonw_escape writes s (n bytes) between quotes exactly as
 * jansson's compact dump does, and refuses it exactly when jansson
 * does. */
static void assert_escape_as_jansson(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    char *want = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    struct buf out;
    int rc;

    buf_init(&out, 1 << 16);
    rc = buf_append(&out, "\"", 1);
    assert_int_equal(rc, 0);
    rc = jsonw_escape(&out, s, n);
    assert_int_equal(rc, v != NULL ? 0 : -1);
    if (v != NULL) {
        assert_int_equal(buf_append(&out, "\"", 1), 0);
        assert_non_null(want);
        assert_int_equal(out.len, strlen(want));
        assert_memory_equal(out.data, want, out.len);
    }
    free(want);
    json_decref(v);
    buf_cleanup(&out);
}

/* The escaper the stream's token chunks use writes what jansson writes:
 * every byte alone (NUL, the control characters, '/', DEL), quotes,
 * backslashes and UTF-8; and refuses what is not UTF-8 as jansson does. */
static void test_escape_as_jansson(void **state)
{
    static const char *const bad[] = {
        "\xff",       "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "ok\xe4\xb8", "\x80x",
    };
    static const char mixed[] = "\"q\" \\ a/b caf\xc3\xa9 \xe4\xb8\xad "
                                "\xf0\x9f\x98\x80 \xe2\x80\xa8";
    char all[256];
    size_t c;

    (void)state;
    for (c = 0; c < 128; c++) {
        all[c] = (char)c;
        assert_escape_as_jansson(all + c, 1);
    }
    assert_escape_as_jansson(all, 128);
    assert_escape_as_jansson("", 0);
    assert_escape_as_jansson(mixed, strlen(mixed));
    for (c = 0; c < sizeof(bad) / sizeof(bad[0]); c++)
        assert_escape_as_jansson(bad[c], strlen(bad[c]));
}

/* Every byte at every place of plain text of 19 bytes (two steps of the
 * eight-byte scan and a tail) is escaped, kept or refused as jansson
 * does. */
static void test_escape_every_place(void **state)
{
    char text[19];
    size_t c, at;

    (void)state;
    for (c = 0; c < 256; c++) {
        for (at = 0; at < sizeof(text); at++) {
            memset(text, 'a', sizeof(text));
            text[at] = (char)c;
            assert_escape_as_jansson(text, sizeof(text));
        }
    }
}

/* Arrays, integers, null and counted strings come out as jansson's
 * compact dump writes the same value; misplaced keys and mismatched
 * closes fail. */
static void test_arrays_ints_null(void **state)
{
    static const long long ints[] = {0,
                                     7,
                                     -1,
                                     9007199254740993LL,
                                     -9223372036854775807LL - 1,
                                     9223372036854775807LL};
    json_t *want = json_pack("{s:[], s:[n,{},[n]], s:s#, s:n}", "empty",
                             "mixed", "nul", "a\0b", 3, "none");
    json_t *arr = json_array();
    char *text;
    struct buf out;
    struct jsonw w;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        json_array_append_new(arr, json_integer(ints[i]));
    json_object_set_new(want, "ints", arr);
    text = json_dumps(want, JSON_COMPACT);
    buf_init(&out, 1 << 16);
    jsonw_init(&w, &out);
    jsonw_object_open(&w);
    jsonw_key(&w, "empty");
    jsonw_array_open(&w);
    jsonw_array_close(&w);
    jsonw_key(&w, "mixed");
    jsonw_array_open(&w);
    jsonw_null(&w);
    jsonw_object_open(&w);
    jsonw_object_close(&w);
    jsonw_array_open(&w);
    jsonw_stringn(&w, NULL, 0);
    jsonw_array_close(&w);
    jsonw_array_close(&w);
    jsonw_key(&w, "nul");
    jsonw_stringn(&w, "a\0b", 3);
    jsonw_key(&w, "none");
    jsonw_null(&w);
    jsonw_key(&w, "ints");
    jsonw_array_open(&w);
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        jsonw_int(&w, ints[i]);
    jsonw_array_close(&w);
    jsonw_object_close(&w);
    assert_int_equal(jsonw_finish(&w), 0);
    assert_string_equal(buf_str(&out), text);
    free(text);
    json_decref(want);
    /* A key inside an array, and a close of the wrong kind, fail. */
    buf_reset(&out);
    jsonw_init(&w, &out);
    jsonw_array_open(&w);
    jsonw_key(&w, "k");
    assert_int_equal(jsonw_finish(&w), -1);
    jsonw_init(&w, &out);
    jsonw_array_open(&w);
    jsonw_object_close(&w);
    assert_int_equal(jsonw_finish(&w), -1);
    jsonw_init(&w, &out);
    jsonw_object_open(&w);
    jsonw_array_close(&w);
    assert_int_equal(jsonw_finish(&w), -1);
    buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_as_jansson),
        cmocka_unit_test(test_escape_every_place),
        cmocka_unit_test(test_strings_roundtrip),
        cmocka_unit_test(test_money_roundtrip),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_misuse_fails),
        cmocka_unit_test(test_cap_at_every_size),
        cmocka_unit_test(test_arrays_ints_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
