/* test_jsonread: the quick reader against jansson itself. Every text is
 * read by both: where jansson fails the quick reader must leave the text
 * to it; where jansson reads a tree the quick reader reads the same tree
 * (same values, types and member order) or leaves the text to it; the
 * usual texts must be read quickly. Then random and mutated texts, read
 * both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonio.h"
#include "jsonread.h"

/* Reads n bytes of text both ways and asserts they agree; when quick is
 * set the quick reader must have read it. Returns whether it did. */
static bool agree(const char *text, size_t n, bool quick)
{
    json_error_t e;
    json_t *want = json_loadb(text, n, 0, &e);
    bool oom = true;
    json_t *got = jsonread_doc(text, n, &oom);
    char *a, *b;

    assert_false(oom);
    if (want == NULL) {
        assert_null(got);
        return false;
    }
    if (quick)
        assert_non_null(got);
    if (got != NULL) {
        /* The compact dump keeps member order and tells 1 from 1.0. */
        a = json_dumps(want, JSON_COMPACT);
        b = json_dumps(got, JSON_COMPACT);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(b, a);
        assert_true(json_equal(want, got));
        free(a);
        free(b);
    }
    json_decref(want);
    json_decref(got);
    return got != NULL;
}

/* agree() on a NUL-terminated text. */
static bool agree_s(const char *text, bool quick)
{
    return agree(text, strlen(text), quick);
}

/* What chat clients send, and every JSON feature, read quickly and as
 * jansson reads them. */
static void test_usual_texts_read_quickly(void **state)
{
    static const char *const texts[] = {
        "{}",
        "[]",
        " \t\r\n{ \"a\" : 1 , \"b\" :[ ] } \n",
        "{\"model\":\"bench-model\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"Hello!\"}]}",
        "{\"model\":\"gpt\",\"messages\":[{\"role\":\"system\",\"content\":"
        "\"You are\\nhelpful.\"},{\"role\":\"user\",\"content\":\"Hi "
        "\\\"you\\\""
        "\"}],\"max_tokens\":64,\"temperature\":0.7,\"top_p\":1,\"stream\":"
        "false,\"stop\":null,\"seed\":-42}",
        "[0,-0,1,-1,123456789012345678,-123456789012345678]",
        "[0.0,-0.0,1.5,-2.25,1e5,1E5,1e+5,1e-5,2.5E-3,1e-400,0.1,"
        "179769313486231570000000000000000000000000000000000000.0]",
        "[true,false,null,[true],{\"t\":false}]",
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\\u00e9\\u4e2d\\uFFFF\\u0041\","
        "\"\\ud83d\\ude00\",\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\","
        "\"del \x7f slash /\",\"\"]",
        "{\"k\\\"ey\":1,\"caf\xc3\xa9\":2,\"\\u00e9\":3,\"\":4}",
        "{\"a\":1,\"b\":2,\"a\":3}",
        "{\"z\":1,\"y\":{\"x\":[1,{\"w\":[]}]},\"a\":\"end\"}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        agree_s(texts[i], true);
}

/* Bad JSON, and JSON jansson refuses, is left to jansson. */
static void test_refusals_left_to_jansson(void **state)
{
    static const char *const texts[] = {"",
                                        " ",
                                        "1",
                                        "\"s\"",
                                        "null",
                                        "{",
                                        "}",
                                        "[",
                                        "{\"a\"}",
                                        "{\"a\":}",
                                        "{\"a\" 1}",
                                        "{a:1}",
                                        "{'a':1}",
                                        "[1,]",
                                        "{\"a\":1,}",
                                        "[,1]",
                                        "[01]",
                                        "[-]",
                                        "[-a]",
                                        "[1.]",
                                        "[.5]",
                                        "[1e]",
                                        "[1e+]",
                                        "[+1]",
                                        "[tru]",
                                        "[truex]",
                                        "[nul]",
                                        "[NaN]",
                                        "[Infinity]",
                                        "{\"a\":1}x",
                                        "{} {}",
                                        "[1]]",
                                        "[\"\\u0000\"]",
                                        "{\"\\u0000\":1}",
                                        "[\"\\ud800\"]",
                                        "[\"\\udc00\"]",
                                        "[\"\\ud800\\u0041\"]",
                                        "[\"\\ud800x\"]",
                                        "[\"\\u12\"]",
                                        "[\"\\u12g4\"]",
                                        "[\"\\x\"]",
                                        "[\"\\\"]",
                                        "[\"\x01\"]",
                                        "[\"a\x1f\"]",
                                        "[\"\xff\"]",
                                        "[\"\xc3\"]",
                                        "[\"\xc0\x80\"]",
                                        "[\"\xed\xa0\x80\"]",
                                        "{\"\xff\":1}",
                                        "[1e400]",
                                        "[-1e400]",
                                        "[9223372036854775808]",
                                        "[-9223372036854775809]",
                                        "[\"abc",
                                        "[\"abc\\",
                                        "\xef\xbb\xbf{}",
                                        "[1 2]",
                                        "{\"a\":1 \"b\":2}",
                                        "[\"a\"\"b\"]"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        agree_s(texts[i], false);
    /* NUL bytes inside the length, in and after a document. */
    agree("[1]\0", 4, false);
    agree("[\"a\0b\"]", 7, false);
    agree("{\"a\0\":1}", 8, false);
}

/* Valid JSON the quick reader leaves to jansson: the long integers it
 * does not parse and nesting past its depth; jansson reads them. */
static void test_left_to_jansson_when_valid(void **state)
{
    char deep[2 * JSONREAD_MAX_DEPTH + 3];
    size_t i;

    (void)state;
    assert_false(agree_s("[1234567890123456789]", false));
    assert_false(agree_s("[-9223372036854775808]", false));
    for (i = 0; i < JSONREAD_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[JSONREAD_MAX_DEPTH + i] = ']';
    }
    assert_true(agree(deep, 2 * JSONREAD_MAX_DEPTH, true));
    memmove(deep + 1, deep, 2 * JSONREAD_MAX_DEPTH);
    deep[0] = '[';
    deep[2 * JSONREAD_MAX_DEPTH + 1] = ']';
    assert_false(agree(deep, 2 * JSONREAD_MAX_DEPTH + 2, false));
}

/* jsonio_loadb gives the same tree and leaves err as jansson leaves it
 * after a success, whichever reader read the text. */
static void test_loadb_error_state(void **state)
{
    static const char *const texts[] = {"{\"a\":[1,2.5,\"x\"]}",
                                        " [ {} ] \n\t "};
    json_error_t want, got;
    bool oom = true;
    json_t *a, *b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        memset(&want, 0, sizeof(want));
        a = json_loadb(texts[i], strlen(texts[i]), 0, &want);
        b = jsonio_loadb(texts[i], strlen(texts[i]), 0, &got, &oom);
        assert_non_null(a);
        assert_non_null(b);
        assert_false(oom);
        assert_true(json_equal(a, b));
        assert_memory_equal(&got, &want, sizeof(want));
        json_decref(a);
        json_decref(b);
    }
    /* A refusal is jansson's report, word for word. */
    b = jsonio_loadb("{\"a\":01}", 8, 0, &got, &oom);
    assert_null(b);
    assert_false(oom);
    memset(&want, 0, sizeof(want));
    assert_null(json_loadb("{\"a\":01}", 8, 0, &want));
    assert_string_equal(got.text, want.text);
    assert_int_equal(got.line, want.line);
    assert_int_equal(got.column, want.column);
    assert_int_equal(got.position, want.position);
}

/* A small deterministic random source (xorshift64). */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Texts pieced together from JSON's tokens and near misses, and valid
 * documents with a byte changed, dropped or doubled: both readers agree on
 * every one. Bounded: 40,000 texts of at most 64 pieces. */
static void test_random_texts_agree(void **state)
{
    static const char *const pieces[] = {"{",
                                         "}",
                                         "[",
                                         "]",
                                         ":",
                                         ",",
                                         " ",
                                         "\n",
                                         "\"",
                                         "\"a\"",
                                         "\"k\":",
                                         "\\",
                                         "\\u",
                                         "00e9",
                                         "d83d",
                                         "\\ude00",
                                         "\\n",
                                         "0",
                                         "1",
                                         "-",
                                         ".",
                                         "e",
                                         "E",
                                         "+",
                                         "12",
                                         "99999999999999999999",
                                         "true",
                                         "false",
                                         "null",
                                         "\xc3\xa9",
                                         "\xff",
                                         "\x01",
                                         "x",
                                         "1.5",
                                         "-0",
                                         "\"\\\"\"",
                                         "\"\xe4\xb8"
                                         "\xad\""};
    static const char *const docs[] = {
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"Hi \\u00e9\\n\"}],\"n\":2,\"temperature\":0.5}",
        "[1,-2,3.5e2,true,false,null,\"s\",{\"a\":[{}]}]",
    };
    uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
    char text[1024];
    size_t n, k, count, len, at, quick = 0;
    const char *doc;

    (void)state;
    for (count = 0; count < 20000; count++) {
        n = 0;
        text[n++] = next_rand(&seed) % 2 ? '{' : '[';
        for (k = next_rand(&seed) % 64; k > 0; k--) {
            const char *p =
                pieces[next_rand(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];

            len = strlen(p);
            if (n + len >= sizeof(text))
                break;
            memcpy(text + n, p, len);
            n += len;
        }
        quick += agree(text, n, false);
    }
    for (count = 0; count < 20000; count++) {
        doc = docs[count % 2];
        len = strlen(doc);
        memcpy(text, doc, len);
        at = next_rand(&seed) % len;
        switch (next_rand(&seed) % 3) {
        case 0:
            text[at] = (char)(next_rand(&seed) & 0xFF);
            break;
        case 1:
            memmove(text + at, text + at + 1, len - at - 1);
            len--;
            break;
        default:
            memmove(text + at + 1, text + at, len - at);
            len++;
            break;
        }
        quick += agree(text, len, false);
    }
    /* Some of them were valid and read quickly: the comparison ran. */
    assert_true(quick > 1000);
}

/* Reals of every shape (up to 20 integer and 20 fraction digits, with and
 * without an exponent of up to 30) read to the very double jansson reads
 * (the compact dump prints 17 significant digits and the sign of zero). */
static void test_reals_as_strtod(void **state)
{
    uint64_t seed = UINT64_C(0x2545f4914f6cdd1d);
    char text[96];
    size_t count, n, k, digits;

    (void)state;
    for (count = 0; count < 100000; count++) {
        n = 0;
        text[n++] = '[';
        if (next_rand(&seed) % 2)
            text[n++] = '-';
        digits = 1 + next_rand(&seed) % 20;
        text[n++] = digits > 1 ? (char)('1' + next_rand(&seed) % 9)
                               : (char)('0' + next_rand(&seed) % 10);
        for (k = 1; k < digits; k++)
            text[n++] = (char)('0' + next_rand(&seed) % 10);
        if (next_rand(&seed) % 4 != 0) {
            text[n++] = '.';
            digits = 1 + next_rand(&seed) % 20;
            for (k = 0; k < digits; k++)
                text[n++] = (char)('0' + next_rand(&seed) % 10);
        } else {
            text[n++] = 'e'; /* a real either way */
        }
        if (text[n - 1] != 'e' && next_rand(&seed) % 2)
            text[n++] = next_rand(&seed) % 2 ? 'e' : 'E';
        if (text[n - 1] == 'e' || text[n - 1] == 'E') {
            k = next_rand(&seed) % 3;
            if (k > 0)
                text[n++] = k == 1 ? '-' : '+';
            n += (size_t)snprintf(text + n, sizeof(text) - n, "%d",
                                  (int)(next_rand(&seed) % 31));
        }
        text[n++] = ']';
        agree(text, n, true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usual_texts_read_quickly),
        cmocka_unit_test(test_refusals_left_to_jansson),
        cmocka_unit_test(test_left_to_jansson_when_valid),
        cmocka_unit_test(test_loadb_error_state),
        cmocka_unit_test(test_random_texts_agree),
        cmocka_unit_test(test_reals_as_strtod),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
