/* test_budget: nexus-mock as a real process, sent the requests that once
 * stopped it (a schema bound that crashed the generator) or kept it busy
 * without bound (huge minItems, a $ref cycle, n=128 with a 3 MB message).
 * Each test starts its own mock, so one that dies takes no other with it;
 * each proves the mock answers, within a generous bound, and still answers
 * afterwards. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "testutil.h"

#define KEY "sk-ai-nexus-test"
#define HEAD                                                                   \
    "{\"model\":\"deepseek-v4\",\"messages\":[{\"role\":\"user\","             \
    "\"content\":\"hi\"}]"
/* A request whose one tool takes parameters P (JSON text). */
#define TOOL(P)                                                                \
    HEAD ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","    \
         "\"parameters\":" P "}}]}"
/* A request asking for structured output of schema S (JSON text). */
#define FORMAT(S)                                                              \
    HEAD ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"     \
         "{\"name\":\"s\",\"schema\":" S "}}}"
/* An object schema with the one required property x of schema X. */
#define PROP_X(X)                                                              \
    "{\"type\":\"object\",\"properties\":{\"x\":" X "},\"required\":[\"x\"]}"

/* "Answers within 2 s" proves a request is bounded; it is no speed test. */
#define BOUND_MS 2000

static int start(void **state)
{
    static struct testproc mock;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (mock_start(&mock, NULL) != 0)
        return -1;
    *state = &mock;
    return 0;
}

static int stop(void **state)
{
    struct testproc *mock = *state;

    return mock->pid > 0 ? (testproc_stop(mock) == 0 ? 0 : -1) : 0;
}

/* Posts body to the chat endpoint; asserts it was answered within
 * BOUND_MS, with a body in JSON. */
static void post(const struct testproc *mock, const char *body,
                 struct http_reply *r)
{
    uint64_t t0 = clock_real_ms(), ms;

    if (http_do(mock, "POST", "/v1/chat/completions", KEY, body, NULL, r) != 0)
        fail_msg("no answer: the mock died or hung");
    ms = clock_real_ms() - t0;
    if (ms >= BOUND_MS)
        fail_msg("answered after %llu ms (bound %d ms)", (unsigned long long)ms,
                 BOUND_MS);
    assert_non_null(r->json);
}

/* Asserts the mock still serves a plain request. */
static void assert_alive(const struct testproc *mock)
{
    struct http_reply r;

    post(mock, HEAD "}", &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
}

/* The tool call's arguments of choice i, parsed (a new reference). */
static json_t *arguments_of(const struct http_reply *r, size_t i)
{
    json_t *fn = json_object_get(
        json_array_get(
            json_object_get(
                json_object_get(
                    json_array_get(json_object_get(r->json, "choices"), i),
                    "message"),
                "tool_calls"),
            0),
        "function");
    const char *text = json_string_value(json_object_get(fn, "arguments"));

    assert_non_null(text);
    return json_loads(text, 0, NULL);
}

/* Posts a tool request, asserts a 200 and returns arguments.x's number. */
static double tool_x(const struct testproc *mock, const char *body,
                     bool integer)
{
    struct http_reply r;
    json_t *args, *x;
    double v;

    post(mock, body, &r);
    if (r.status != 200)
        fail_msg("status %ld: %s", r.status, r.body);
    args = arguments_of(&r, 0);
    x = json_object_get(args, "x");
    assert_true(json_is_number(x));
    v = json_number_value(x);
    /* Beyond int64 an integer can only be written as an integral real. */
    if (integer)
        assert_true(json_is_integer(x) || v == floor(v));
    json_decref(args);
    http_reply_free(&r);
    return v;
}

/* Asserts a 400 invalid_request_error naming param, with code. */
static void assert_400(const struct testproc *mock, const char *body,
                       const char *param, const char *code)
{
    struct http_reply r;
    json_t *e;

    post(mock, body, &r);
    e = json_object_get(r.json, "error");
    if (r.status != 400)
        fail_msg("status %ld, expected 400 naming %s", r.status, param);
    assert_string_equal(json_string_value(json_object_get(e, "type")),
                        "invalid_request_error");
    assert_string_equal(json_string_value(json_object_get(e, "param")), param);
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    http_reply_free(&r);
}

/* Defect: an integer bound beyond int64 made the generator divide by zero
 * (SIGFPE), killing the mock. */
static void test_integer_bound_1e300(void **state)
{
    double x = tool_x(
        *state, TOOL(PROP_X("{\"type\":\"integer\",\"maximum\":1e300}")), true);

    assert_true(x >= 0 && x <= 100);
    assert_alive(*state);
}

/* Defect: bounds whose span overflows a double answered 500. Huge bounds
 * are clamped: the value lies inside them. */
static void test_huge_bounds_are_clamped(void **state)
{
    double x;

    x = tool_x(*state,
               TOOL(PROP_X("{\"type\":\"number\",\"minimum\":-1.7e308,"
                           "\"maximum\":1.7e308}")),
               false);
    assert_true(x >= 0 && x <= 100);
    /* Zod's .int() bounds. */
    x = tool_x(*state,
               TOOL(PROP_X("{\"type\":\"integer\",\"minimum\":"
                           "-9007199254740991,\"maximum\":9007199254740991}")),
               true);
    assert_true(x >= 0 && x <= 100);
    x = tool_x(*state, TOOL(PROP_X("{\"type\":\"integer\",\"minimum\":1e300}")),
               true);
    assert_true(x >= 1e300);
    x = tool_x(*state,
               TOOL(PROP_X("{\"type\":\"integer\",\"maximum\":-1e300}")), true);
    assert_true(x <= -1e300);
    x = tool_x(*state,
               TOOL(PROP_X("{\"type\":\"number\",\"exclusiveMinimum\":0,"
                           "\"exclusiveMaximum\":1}")),
               false);
    assert_true(x > 0 && x < 1);
    x = tool_x(*state,
               TOOL(PROP_X("{\"type\":\"integer\",\"minimum\":20,"
                           "\"maximum\":30,\"multipleOf\":7}")),
               true);
    assert_true(x == 21 || x == 28);
    assert_alive(*state);
}

/* What no value can satisfy is a 400 naming the keyword, decided at
 * validation: the request is not counted by the rate limiter. */
static void test_empty_ranges_are_400(void **state)
{
    struct http_reply r;
    char *before, *after;

    post(*state, HEAD "}", &r);
    before = http_header(&r, "x-ratelimit-remaining-requests");
    http_reply_free(&r);
    assert_400(*state,
               TOOL(PROP_X("{\"type\":\"integer\",\"minimum\":5,"
                           "\"maximum\":1}")),
               "tools[0].function.parameters.properties.x.maximum",
               "invalid_function_parameters");
    assert_400(*state,
               TOOL(PROP_X("{\"type\":\"integer\",\"exclusiveMinimum\":5,"
                           "\"exclusiveMaximum\":6}")),
               "tools[0].function.parameters.properties.x.exclusiveMaximum",
               "invalid_function_parameters");
    assert_400(*state,
               TOOL(PROP_X("{\"type\":\"integer\",\"minimum\":1,"
                           "\"maximum\":6,\"multipleOf\":7}")),
               "tools[0].function.parameters.properties.x.multipleOf",
               "invalid_function_parameters");
    assert_400(*state,
               TOOL(PROP_X("{\"type\":\"array\",\"minItems\":3,"
                           "\"maxItems\":2}")),
               "tools[0].function.parameters.properties.x.maxItems",
               "invalid_function_parameters");
    assert_400(*state,
               FORMAT(PROP_X("{\"type\":\"number\",\"minimum\":1e300,"
                             "\"maximum\":-1e300}")),
               "response_format.json_schema.schema.properties.x.maximum",
               "invalid_value");
    post(*state, HEAD "}", &r);
    after = http_header(&r, "x-ratelimit-remaining-requests");
    http_reply_free(&r);
    /* Only the two plain requests were counted. */
    assert_non_null(before);
    assert_non_null(after);
    assert_int_equal(strtoul(before, NULL, 10), strtoul(after, NULL, 10) + 1);
    free(before);
    free(after);
    assert_alive(*state);
}

/* Defect: minItems 3000000 built three million values (seconds, hundreds
 * of MB); it is beyond the budget, so refused at once. */
static void test_huge_min_items(void **state)
{
    assert_400(*state,
               TOOL(PROP_X("{\"type\":\"array\",\"minItems\":3000000,"
                           "\"items\":{\"type\":\"integer\"}}")),
               "tools[0].function.parameters.properties.x.minItems",
               "invalid_function_parameters");
    assert_alive(*state);
}

/* Defect: a required $ref cycle grew without bound (GBs, seconds). It has
 * no finite instance: refused at once, naming the $ref. */
static void test_ref_cycle(void **state)
{
    assert_400(*state,
               TOOL("{\"type\":\"array\",\"minItems\":25,\"items\":"
                    "{\"$ref\":\"#\"}}"),
               "tools[0].function.parameters.items.$ref",
               "invalid_function_parameters");
    assert_400(*state,
               FORMAT("{\"type\":\"array\",\"minItems\":25,\"items\":"
                      "{\"$ref\":\"#\"}}"),
               "response_format.json_schema.schema.items.$ref",
               "invalid_value");
    assert_alive(*state);
}

/* Defect: n=128 with a 3 MB message took seconds (the whole request was
 * serialised and hashed three times per choice). */
static void test_n128_big_message(void **state)
{
    struct http_reply r;
    struct buf body;
    size_t i;

    buf_init(&body, 4u << 20);
    assert_int_equal(
        buf_appends(&body, "{\"model\":\"deepseek-v4\",\"n\":128,"
                           "\"messages\":[{\"role\":\"user\",\"content\":\""),
        0);
    for (i = 0; i < 3000000 / 50; i++)
        assert_int_equal(
            buf_appends(&body,
                        "lorem ipsum dolor sit amet consectetur adipiscing "),
            0);
    assert_int_equal(buf_appends(&body, "\"}]}"), 0);
    post(*state, body.data, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "choices")), 128);
    http_reply_free(&r);
    buf_cleanup(&body);
    assert_alive(*state);
}

/* Defect: a mock busy with such a request ignored SIGTERM for seconds; the
 * README promises an exit within 2 s. */
static void test_sigterm_after_worst_request(void **state)
{
    struct testproc *mock = *state;
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char url[512];
    uint64_t t0;
    int status;
    static const char body[] =
        TOOL("{\"type\":\"array\",\"minItems\":25,\"items\":{\"$ref\":\"#\"}}");

    /* The client gives up after 300 ms; the mock must not keep working. */
    assert_non_null(c);
    snprintf(url, sizeof(url), "%s/v1/chat/completions", mock->url);
    hdrs = curl_slist_append(hdrs, "Authorization: Bearer " KEY);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 300L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_sink_write);
    {
        struct stream_sink sink;

        memset(&sink, 0, sizeof(sink));
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        curl_easy_perform(c);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    t0 = clock_real_ms();
    status = testproc_stop(mock);
    if (clock_real_ms() - t0 >= BOUND_MS)
        fail_msg("SIGTERM took %llu ms (status %d)",
                 (unsigned long long)(clock_real_ms() - t0), status);
    assert_int_equal(status, 0);
}

/* The budget's flags: documented in --help, out-of-range values refused
 * with one line naming the flag (exit 2). */
static void test_flags_checked(void **state)
{
    static const char *const runs[][2] = {
        /* the last asks for --help */
        {"--max-gen-nodes", "999"},  {"--max-gen-bytes", "4095"},
        {"--max-schema-depth", "0"}, {"--max-schema-depth", "257"},
        {"--max-gen-nodes", "x"},    {"--help", NULL},
    };
    const char *argv[4] = {getenv("NEXUS_MOCK_BIN"), NULL, NULL, NULL};
    char *out, *err;
    size_t i, nbad = sizeof(runs) / sizeof(runs[0]) - 1;

    (void)state;
    for (i = 0; i <= nbad; i++) {
        argv[1] = runs[i][0];
        argv[2] = runs[i][1];
        if (i == nbad) { /* --help documents them */
            assert_int_equal(
                testproc_capture((char *const *)argv, 60, &out, &err), 0);
            assert_non_null(strstr(out, "--max-gen-nodes N"));
            assert_non_null(strstr(out, "--max-gen-bytes BYTES"));
            assert_non_null(strstr(out, "--max-schema-depth N"));
        } else {
            assert_int_equal(
                testproc_capture((char *const *)argv, 60, &out, &err), 2);
            assert_memory_equal(err, "nexus-mock: ", 12);
            assert_non_null(strstr(err, runs[i][0]));
            assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
        }
        free(out);
        free(err);
    }
}

/* Given values replace the defaults: what fits by default is refused
 * under smaller limits, naming the keyword. */
static void test_flags_apply(void **state)
{
    static const char *const extra[] = {"--max-gen-nodes", "1000",
                                        "--max-schema-depth", "4", NULL};
    static const char body[] =
        TOOL(PROP_X("{\"type\":\"array\",\"minItems\":1500,\"items\":"
                    "{\"type\":\"integer\"}}"));
    static const char deep[] =
        TOOL("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
             "\"object\",\"properties\":{\"a\":{\"type\":\"object\","
             "\"properties\":{\"a\":{\"type\":\"object\",\"properties\":"
             "{\"a\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
             "\"integer\"}},\"required\":[\"a\"]}},\"required\":[\"a\"]}},"
             "\"required\":[\"a\"]}},\"required\":[\"a\"]}},\"required\":"
             "[\"a\"]}");
    struct testproc *mock = *state, small;
    struct http_reply r;

    post(mock, body, &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    post(mock, deep, &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    assert_int_equal(mock_start(&small, extra), 0);
    assert_400(&small, body,
               "tools[0].function.parameters.properties.x.minItems",
               "invalid_function_parameters");
    assert_400(&small, deep,
               "tools[0].function.parameters.properties.a.properties.a."
               "properties.a.properties.a.properties.a",
               "invalid_function_parameters");
    assert_alive(&small);
    assert_int_equal(testproc_stop(&small), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_integer_bound_1e300, start, stop),
        cmocka_unit_test_setup_teardown(test_huge_bounds_are_clamped, start,
                                        stop),
        cmocka_unit_test_setup_teardown(test_empty_ranges_are_400, start, stop),
        cmocka_unit_test_setup_teardown(test_huge_min_items, start, stop),
        cmocka_unit_test_setup_teardown(test_ref_cycle, start, stop),
        cmocka_unit_test_setup_teardown(test_n128_big_message, start, stop),
        cmocka_unit_test_setup_teardown(test_sigterm_after_worst_request, start,
                                        stop),
        cmocka_unit_test(test_flags_checked),
        cmocka_unit_test_setup_teardown(test_flags_apply, start, stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
