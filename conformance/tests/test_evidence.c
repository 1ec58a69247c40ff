/* test_evidence: what the reports show of an exchange: readable bytes,
 * excerpts around the offending byte, and no API key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evidence.h"

/* Bytes that are not printable UTF-8 become visible \xNN text. */
static void test_bytes(void **state)
{
    json_t *s;

    (void)state;
    s = evidence_bytes("a\0b\xff\n\r\t\x7f\xc3\xa9\xe2\x82", 12);
    assert_string_equal(json_string_value(s),
                        "a\\x00b\\xff\n\r\t\\x7f\xc3\xa9\\xe2\\x82");
    json_decref(s);
    /* An overlong encoding of '/' and a UTF-16 surrogate are not UTF-8. */
    s = evidence_bytes("\xc0\xaf\xed\xa0\x80", 5);
    assert_string_equal(json_string_value(s), "\\xc0\\xaf\\xed\\xa0\\x80");
    json_decref(s);
    assert_int_equal(evidence_utf8_error("ok \xc3\xa9", 5), EVIDENCE_NO_FOCUS);
    assert_int_equal(evidence_utf8_error("ok \xff", 4), 3);
    assert_int_equal(evidence_utf8_error("ok \xe2\x82", 5), 3);
}

/* A long body is cut around the focus, never inside a character. */
static void test_excerpt(void **state)
{
    char body[10000];
    const char *s;
    json_t *e;

    (void)state;
    memset(body, 'a', sizeof(body));
    memcpy(body + 6000, "OFFENDING", 9);
    e = evidence_excerpt(body, sizeof(body), 6000, 1000);
    s = json_string_value(e);
    assert_non_null(strstr(s, "OFFENDING"));
    assert_memory_equal(s, "...", 3);
    assert_memory_equal(s + strlen(s) - 3, "...", 3);
    assert_true(strlen(s) <= 1006 + 3);
    json_decref(e);
    e = evidence_excerpt(body, sizeof(body), EVIDENCE_NO_FOCUS, 100);
    s = json_string_value(e);
    assert_int_equal(strlen(s), 103);
    assert_memory_equal(s + 100, "...", 3);
    json_decref(e);
    /* Three-byte characters: the cut moves to a character boundary. */
    for (size_t i = 0; i + 3 <= sizeof(body); i += 3)
        memcpy(body + i, "\xe2\x82\xac", 3);
    e = evidence_excerpt(body, 9999, 5000, 100);
    assert_non_null(e);
    assert_null(strstr(json_string_value(e), "\\x"));
    json_decref(e);
    e = evidence_excerpt("short", 5, 2, 100);
    assert_string_equal(json_string_value(e), "short");
    json_decref(e);
}

/* The mark says where the text of the focus byte begins in the excerpt:
 * after the "..." of a cut and after escapes, which are longer than the
 * bytes they stand for; and that a focus outside the excerpt has none. */
static void test_excerpt_mark(void **state)
{
    char body[400];
    size_t mark;
    json_t *e;

    (void)state;
    e = evidence_excerpt_marked("ab\x01"
                                "cd",
                                5, 3, 100, &mark);
    assert_string_equal(json_string_value(e), "ab\\x01cd");
    assert_int_equal(mark, 6);
    assert_memory_equal(json_string_value(e) + mark, "cd", 2);
    json_decref(e);
    memset(body, 'a', sizeof(body));
    body[300] = 'X';
    e = evidence_excerpt_marked(body, sizeof(body), 300, 100, &mark);
    assert_memory_equal(json_string_value(e), "...", 3);
    assert_int_equal(json_string_value(e)[mark], 'X');
    json_decref(e);
    e = evidence_excerpt_marked(body, sizeof(body), EVIDENCE_NO_FOCUS, 100,
                                &mark);
    assert_int_equal(mark, EVIDENCE_NO_FOCUS);
    json_decref(e);
}

/* The key never reaches a report. */
static void test_redact(void **state)
{
    char out[64];

    (void)state;
    evidence_redact("Bearer sk-ai-nexus-test", out, sizeof(out));
    assert_string_equal(out, "Bearer sk-a...(redacted)");
    evidence_redact("Basic sk-ai-nexus-test", out, sizeof(out));
    assert_string_equal(out, "Basic sk-a...(redacted)");
    evidence_redact("sk-secret", out, sizeof(out));
    assert_string_equal(out, "sk-s...(redacted)");
    evidence_redact("Bearer ", out, sizeof(out));
    assert_string_equal(out, "Bearer ...(redacted)");
}

/* The whole evidence of an exchange. */
static void test_exchange(void **state)
{
    struct http_request req = {.method = "POST",
                               .path = "/chat/completions",
                               .authorization = "Bearer sk-ai-nexus-test",
                               .body = "{\"model\":\"m\"}",
                               .body_len = 13};
    struct http_response resp;
    json_t *ev, *r;
    char *text;

    (void)state;
    http_response_init(&resp, 1 << 20);
    resp.url = strdup("http://h/v1/chat/completions");
    resp.status = 500;
    http_response_add_header(&resp, "X-Request-Id", 12, "abc", 3);
    http_response_add_header(&resp, "Vary", 4, "a", 1);
    http_response_add_header(&resp, "Vary", 4, "b", 1);
    assert_int_equal(buf_appends(&resp.body, "oops\xff"), 0);
    ev = evidence_new(&req, &resp, 4);
    text = json_dumps(ev, JSON_SORT_KEYS);
    assert_null(strstr(text, "nexus-test"));
    free(text);
    r = json_object_get(ev, "request");
    assert_string_equal(json_string_value(json_object_get(r, "url")),
                        "http://h/v1/chat/completions");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r, "headers"), "Authorization")),
                        "Bearer sk-a...(redacted)");
    assert_string_equal(json_string_value(json_object_get(r, "body")),
                        "{\"model\":\"m\"}");
    r = json_object_get(ev, "response");
    assert_int_equal(json_integer_value(json_object_get(r, "status")), 500);
    assert_int_equal(json_integer_value(json_object_get(r, "offending_offset")),
                     4);
    assert_int_equal(json_integer_value(json_object_get(r, "offending_at")), 4);
    assert_string_equal(json_string_value(json_object_get(r, "body")),
                        "oops\\xff");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r, "headers"), "Vary")),
                        "a, b");
    assert_null(json_object_get(r, "transport"));
    json_decref(ev);
    http_response_fail(&resp, TRANSPORT_TIMEOUT, "took %d s", 3);
    ev = evidence_new(&req, &resp, EVIDENCE_NO_FOCUS);
    r = json_object_get(ev, "response");
    assert_string_equal(json_string_value(json_object_get(r, "transport")),
                        "timeout");
    assert_string_equal(json_string_value(json_object_get(r, "error")),
                        "took 3 s");
    json_decref(ev);
    http_response_cleanup(&resp);
}

/* A header repeated with long values is shown whole, every value joined:
 * five 8000-byte values make 40008 bytes, not a value cut to a trailing
 * ", ". */
static void test_long_repeated_header(void **state)
{
    struct http_request req = {.method = "GET", .path = "/models"};
    struct http_response resp;
    char value[8000];
    const char *shown;
    json_t *ev;
    size_t i;

    (void)state;
    memset(value, 'v', sizeof(value));
    http_response_init(&resp, 1 << 20);
    resp.status = 200;
    for (i = 0; i < 5; i++)
        assert_int_equal(
            http_response_add_header(&resp, "Link", 4, value, sizeof(value)),
            0);
    ev = evidence_new(&req, &resp, EVIDENCE_NO_FOCUS);
    shown = json_string_value(json_object_get(
        json_object_get(json_object_get(ev, "response"), "headers"), "Link"));
    assert_non_null(shown);
    assert_int_equal(strlen(shown), 5 * sizeof(value) + 4 * 2);
    assert_memory_equal(shown + sizeof(value), ", vvv", 5);
    assert_int_equal(shown[strlen(shown) - 1], 'v');
    json_decref(ev);
    http_response_cleanup(&resp);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_excerpt),
        cmocka_unit_test(test_excerpt_mark),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_long_repeated_header),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
