/* test_lang_settings: a fixture's settings through a real nexus-mock over
 * loopback: the rate-limit window and the routes that count, and the
 * policy on request parameters the API does not define (vendor parameters
 * accepted with their types, unknown ones rejected or, for one model,
 * ignored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "testutil.h"

#define CHAT "/v1/chat/completions"
#define ASK(model, extra)                                                      \
    "{\"model\":\"" model "\",\"messages\":[{\"role\":\"user\",\"content\":"   \
    "\"hi\"}]" extra "}"

static const char settings_fixture[] =
    "version: 2\n"
    "rate_limits:\n"
    "  window_ms: 2000\n"
    "  routes: ['POST /v1/chat/completions', 'GET /v1/models*']\n"
    "parameters:\n"
    "  accept: {top_k: integer, enable_thinking: boolean, thinking: object}\n"
    "plans: {free: {requests_per_minute: 3}, paid: {requests_per_minute: 0}}\n"
    "models:\n"
    "  - {id: m1, created: 1, price: {input_per_million: 1, "
    "output_per_million: 2}}\n"
    "  - id: qwen\n"
    "    created: 1\n"
    "    price: {input_per_million: 1, output_per_million: 2}\n"
    "    parameters: {unknown: ignore}\n"
    "keys:\n"
    "  - {key: k1, plan: free, balance: 10}\n"
    "  - {key: k2, plan: paid, balance: 10}\n";

static struct fixture_mock fm;

static int start(void **state)
{
    static const char *const extra[] = {"--admin", NULL};

    (void)state;
    return fixture_mock_start(&fm, settings_fixture, extra);
}

static int stop(void **state)
{
    (void)state;
    return fixture_mock_stop(&fm);
}

/* Performs a request that must reach the server; returns its status. */
static long req(const char *method, const char *path, const char *key,
                const char *body, struct http_reply *r)
{
    assert_int_equal(http_do(&fm.proc, method, path, key, body, NULL, r), 0);
    return r->status;
}

/* The routes the fixture names count (chat and every /v1/models path);
 * the balance does not; the window is 2 s long. */
static void test_window_and_routes(void **state)
{
    struct http_reply r;
    char *reset;

    (void)state;
    assert_int_equal(req("POST", CHAT, "k1", ASK("m1", ""), &r), 200);
    assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"), 2);
    reset = http_header(&r, "x-ratelimit-reset-requests");
    /* Under 2 s, so OpenAI's format says milliseconds or "1.xs". */
    assert_true(strcmp(reset, "2s") == 0 || strstr(reset, "ms") != NULL ||
                strncmp(reset, "1.", 2) == 0);
    free(reset);
    http_reply_free(&r);
    assert_int_equal(req("GET", "/v1/balance", "k1", NULL, &r), 200);
    assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"), 2);
    http_reply_free(&r);
    assert_int_equal(req("GET", "/v1/models", "k1", NULL, &r), 200);
    assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"), 1);
    http_reply_free(&r);
    assert_int_equal(req("GET", "/v1/models/m1", "k1", NULL, &r), 200);
    assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"), 0);
    http_reply_free(&r);
    assert_int_equal(req("GET", "/v1/models", "k1", NULL, &r), 429);
    assert_true(http_header_num(&r, "retry-after-ms") <= 2000);
    assert_int_equal(http_header_num(&r, "retry-after"), 2);
    http_reply_free(&r);
    assert_int_equal(
        req("POST", "/_nexus/clock", NULL, "{\"advance_ms\":2000}", &r), 200);
    http_reply_free(&r);
    assert_int_equal(req("POST", CHAT, "k1", ASK("m1", ""), &r), 200);
    assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"), 2);
    http_reply_free(&r);
}

/* The error code and param of a 400. */
static void assert_400(const struct http_reply *r, const char *code,
                       const char *param)
{
    json_t *e = json_object_get(r->json, "error");

    assert_int_equal(r->status, 400);
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_string_equal(json_string_value(json_object_get(e, "param")), param);
}

/* Vendor parameters the fixture accepts pass when of their type and are
 * refused (invalid_type) when not; any other unknown one is refused as
 * OpenAI refuses it; the standard parameters are still validated. */
static void test_accepted_parameters(void **state)
{
    struct http_reply r;

    (void)state;
    assert_int_equal(req("POST", CHAT, "k2",
                         ASK("m1", ",\"top_k\":40,\"enable_thinking\":true,"
                                   "\"thinking\":{\"type\":\"enabled\"}"),
                         &r),
                     200);
    http_reply_free(&r);
    req("POST", CHAT, "k2", ASK("m1", ",\"top_k\":\"40\""), &r);
    assert_400(&r, "invalid_type", "top_k");
    assert_string_equal(
        json_string_value(
            json_object_get(json_object_get(r.json, "error"), "message")),
        "Invalid type for 'top_k': expected an integer, but got a string "
        "instead.");
    http_reply_free(&r);
    req("POST", CHAT, "k2", ASK("m1", ",\"repetition_penalty\":1.1"), &r);
    assert_400(&r, "unknown_parameter", "repetition_penalty");
    http_reply_free(&r);
    req("POST", CHAT, "k2", ASK("m1", ",\"top_k\":4,\"temperature\":5"), &r);
    assert_400(&r, "decimal_above_max_value", "temperature");
    http_reply_free(&r);
}

/* A model's own policy replaces the fixture's: this one ignores unknown
 * parameters (and so accepts none by type). */
static void test_model_ignores(void **state)
{
    struct http_reply r;

    (void)state;
    assert_int_equal(req("POST", CHAT, "k2",
                         ASK("qwen", ",\"repetition_penalty\":1.1,"
                                     "\"top_k\":\"anything\""),
                         &r),
                     200);
    http_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_and_routes),
        cmocka_unit_test(test_accepted_parameters),
        cmocka_unit_test(test_model_ignores),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
