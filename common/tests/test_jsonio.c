/* test_jsonio: the text is whole or absent, both ways. Rendering: the same
 * bytes as json_dumps, or a refusal that leaves the buffer as it was, even
 * where jansson ignores a piece it could not write (an object's key).
 * Parsing: with each of jansson's allocations failing in turn, the same
 * document or NULL saying out of memory, never a syntax error or a
 * document that lost bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonio.h"

/* jansson's allocations, counted; the fail_at-th fails (0: none). Set up
 * as jansson's allocator before jsonio_init wraps it. */
static struct {
    unsigned long count;
    unsigned long fail_at;
} alloc;

static void *counting_malloc(size_t size)
{
    if (++alloc.count == alloc.fail_at)
        return NULL;
    return malloc(size);
}

/* A document whose one long string makes jansson's lexer grow its token
 * buffer in the middle of the string (at its 16th byte), where a failed
 * growth loses a byte; every other token is too short to grow it. (A
 * growth that fails at a string's closing quote makes jansson 2.14 write
 * past its buffer: no caller can survive that, so no token ends there.) */
static const char doc_text[] =
    "{\"id\":\"abcdefghijklmnopqrs\",\"n\":[1,2.5,true,null],"
    "\"city\":\"K\\u00f6ln\",\"o\":{\"k\":\"v\"}}";

/* The same bytes as json_dumps, for every flag that changes the text. */
static void test_dumps_like_jansson(void **state)
{
    static const size_t flags[] = {
        0,
        JSON_COMPACT,
        JSON_COMPACT | JSON_SORT_KEYS,
        JSON_INDENT(2) | JSON_ENSURE_ASCII,
        JSON_COMPACT | JSON_ENCODE_ANY,
    };
    json_t *doc = json_loads(doc_text, 0, NULL);
    size_t i;

    (void)state;
    assert_non_null(doc);
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        char *want = json_dumps(doc, flags[i]);
        char *got = jsonio_dumps(doc, flags[i]);

        assert_non_null(want);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(want);
        free(got);
    }
    /* A bare string only with JSON_ENCODE_ANY, as json_dumps. */
    assert_null(jsonio_dumps(json_object_get(doc, "city"), JSON_COMPACT));
    json_decref(doc);
}

/* Under every cap below the text's length the append is refused and the
 * buffer keeps what it held; at the length it succeeds. With room for 5
 * bytes after "x=", "{\"" goes in, the key is refused and ":1}" fits: a
 * sink that did not remember the refusal would leave "{\":1}" and jansson
 * would report no error. */
static void test_append_whole_or_nothing(void **state)
{
    json_t *o = json_pack("{s:i}", "abcdefgh", 1);
    const char want[] = "{\"abcdefgh\":1}";
    struct buf b;
    size_t cap;

    (void)state;
    assert_non_null(o);
    for (cap = 2; cap < 2 + strlen(want); cap++) {
        buf_init(&b, cap);
        assert_int_equal(buf_appends(&b, "x="), 0);
        assert_int_equal(jsonio_append(&b, o, JSON_COMPACT), -1);
        assert_string_equal(buf_str(&b), "x=");
        buf_cleanup(&b);
    }
    buf_init(&b, cap);
    assert_int_equal(buf_appends(&b, "x="), 0);
    assert_int_equal(jsonio_append(&b, o, JSON_COMPACT), 0);
    assert_string_equal(buf_str(&b), "x={\"abcdefgh\":1}");
    buf_cleanup(&b);
    json_decref(o);
}

/* Bad JSON is bad JSON, with jansson's message, and not out of memory. */
static void test_load_bad_json(void **state)
{
    json_error_t err;
    bool oom = true;

    (void)state;
    assert_null(jsonio_loadb("{\"a\":}", 6, 0, &err, &oom));
    assert_false(oom);
    assert_int_equal(json_error_code(&err), json_error_invalid_syntax);
    assert_int_equal(err.column, 6);
    assert_null(jsonio_loadb("", 0, 0, &err, &oom));
    assert_false(oom);
    assert_true(err.text[0] != '\0');
}

/* Each of jansson's allocations while parsing fails once: the same
 * document, or NULL with oom set. Then the same for rendering it sorted
 * (the sort allocates): the same text or NULL. */
static void test_every_allocation_fails(void **state)
{
    json_t *ref, *doc;
    json_error_t err;
    char *want, *got;
    unsigned long total, n, oom_runs = 0;
    bool oom;

    (void)state;
    alloc.count = 0;
    alloc.fail_at = 0;
    ref = jsonio_loadb(doc_text, strlen(doc_text), 0, &err, &oom);
    total = alloc.count;
    assert_non_null(ref);
    assert_false(oom);
    assert_true(total > 10);
    for (n = 1; n <= total; n++) {
        alloc.count = 0;
        alloc.fail_at = n;
        doc = jsonio_loadb(doc_text, strlen(doc_text), 0, &err, &oom);
        alloc.fail_at = 0;
        if (doc == NULL) {
            if (!oom)
                print_error("allocation %lu of %lu: %s\n", n, total, err.text);
            assert_true(oom);
            oom_runs++;
        } else {
            assert_false(oom);
            assert_true(json_equal(doc, ref));
        }
        json_decref(doc);
    }
    assert_int_equal(oom_runs, total);
    want = json_dumps(ref, JSON_SORT_KEYS);
    alloc.count = 0;
    got = jsonio_dumps(ref, JSON_SORT_KEYS);
    total = alloc.count;
    assert_string_equal(got, want);
    free(got);
    assert_true(total > 0);
    for (n = 1; n <= total; n++) {
        alloc.count = 0;
        alloc.fail_at = n;
        got = jsonio_dumps(ref, JSON_SORT_KEYS);
        alloc.fail_at = 0;
        assert_null(got);
    }
    free(want);
    json_decref(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dumps_like_jansson),
        cmocka_unit_test(test_append_whole_or_nothing),
        cmocka_unit_test(test_load_bad_json),
        cmocka_unit_test(test_every_allocation_fails),
    };

    /* jsonio's hook wraps the counting allocator. */
    json_set_alloc_funcs(counting_malloc, free);
    jsonio_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
