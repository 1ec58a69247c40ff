/* test_clients: real OpenAI-compatible clients (tests/clients/drive.mjs:
 * the openai package, the Vercel AI SDK with @ai-sdk/openai-compatible,
 * LangChain.js) against nexus-mock over loopback. What each client's user
 * sees must equal, exactly, the mock's own JSON answer to the request that
 * client sent. Needs Node.js 20 or later and tests/clients/node_modules
 * (scripts/test installs them); exits 77 (skipped) only when node is not
 * installed at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "testutil.h"

#define KEY "sk-ai-nexus-test"
#define MODEL "deepseek-v4"
/* How long one driver run (one node process, several scenarios) may take. */
#define DRIVE_TIMEOUT_S 120

static struct testproc mock;
static char drive_path[1024];

static const char *const clients[] = {"openai", "ai-sdk", "langchain"};

static int start_mock(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return mock_start(&mock, NULL);
}

static int stop_mock(void **state)
{
    (void)state;
    return testproc_stop(&mock) == 0 ? 0 : -1;
}

/* Runs drive.mjs against the server at url with one client, key and model,
 * for the comma-separated scenarios, each HTTP attempt bounded by
 * timeout_ms. Returns the results, one per scenario, in order (new). */
static json_t *drive(const char *url, const char *client, const char *key,
                     const char *model, const char *scenarios,
                     const char *timeout_ms)
{
    char base[300];
    const char *args[] = {"--client",   client,    "--base-url",   base,
                          "--api-key",  key,       "--model",      model,
                          "--scenario", scenarios, "--timeout-ms", timeout_ms,
                          NULL};
    json_t *results;

    snprintf(base, sizeof(base), "%s/v1", url);
    results = drive_run(drive_path, args, DRIVE_TIMEOUT_S);
    assert_non_null(results);
    return results;
}

/* The string member name of o, or NULL when it is absent or not a string. */
static const char *str(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Asserts that a result's outcome is want, saying what happened if not. */
static void assert_outcome(const json_t *r, const char *want)
{
    const char *got = str(r, "outcome");

    if (got == NULL || strcmp(got, want) != 0) {
        char *dump = json_dumps(r, JSON_COMPACT);

        print_error("%s %s: outcome %s, want %s:\n%.2000s\n", str(r, "client"),
                    str(r, "scenario"), got, want, dump);
        free(dump);
    }
    assert_non_null(got);
    assert_string_equal(got, want);
}

/* Asserts one call, one HTTP request, no retry; returns that request. */
static const json_t *single_request(const json_t *r)
{
    const json_t *reqs = json_object_get(r, "requests");

    assert_int_equal(json_integer_value(json_object_get(r, "calls")), 1);
    assert_int_equal(json_integer_value(json_object_get(r, "retries")), 0);
    assert_int_equal(json_array_size(reqs), 1);
    return json_array_get(reqs, 0);
}

/* The mock's own non-streamed answer to the body a client sent (stream and
 * stream_options taken out): a new reference to the completion. */
static json_t *reference(const char *sent)
{
    json_t *req = json_loads(sent, 0, NULL), *answer;
    struct http_reply hr;
    char *body;

    assert_non_null(req);
    json_object_del(req, "stream");
    json_object_del(req, "stream_options");
    body = json_dumps(req, JSON_COMPACT);
    assert_non_null(body);
    assert_int_equal(
        http_do(&mock, "POST", "/v1/chat/completions", KEY, body, NULL, &hr),
        0);
    assert_int_equal(hr.status, 200);
    answer = json_incref(hr.json);
    assert_non_null(answer);
    http_reply_free(&hr);
    free(body);
    json_decref(req);
    return answer;
}

/* Asserts that the usage a user saw is the reference's, number by number. */
static void assert_usage(const json_t *seen, const json_t *want)
{
    static const char *const keys[] = {"prompt_tokens", "completion_tokens",
                                       "total_tokens"};
    size_t i;

    assert_true(json_is_object(seen));
    for (i = 0; i < 3; i++) {
        assert_true(json_is_integer(json_object_get(want, keys[i])));
        assert_true(json_is_integer(json_object_get(seen, keys[i])));
        assert_int_equal(json_integer_value(json_object_get(seen, keys[i])),
                         json_integer_value(json_object_get(want, keys[i])));
    }
}

/* Asserts that the tool calls a user saw are the reference's: same ids and
 * names, arguments parsing to the same JSON object. */
static void assert_tool_calls(const json_t *seen, const json_t *want)
{
    const json_t *s, *w;
    json_t *args;
    size_t i;

    assert_true(json_array_size(want) > 0);
    assert_int_equal(json_array_size(seen), json_array_size(want));
    json_array_foreach(want, i, w)
    {
        s = json_array_get(seen, i);
        assert_string_equal(str(s, "id"), str(w, "id"));
        assert_string_equal(str(s, "name"),
                            str(json_object_get(w, "function"), "name"));
        args = json_loads(str(json_object_get(w, "function"), "arguments"), 0,
                          NULL);
        assert_true(json_is_object(args));
        assert_true(json_is_object(json_object_get(s, "arguments_parsed")));
        assert_true(json_equal(json_object_get(s, "arguments_parsed"), args));
        json_decref(args);
    }
}

/* Checks a chat scenario's result against the mock's answer to the same
 * request: content, finish_reason, usage (none unless asked for in a
 * stream) and tool calls, exactly. */
static void check_chat(const json_t *r)
{
    const char *scenario = str(r, "scenario");
    const json_t *req = single_request(r);
    const json_t *seen = json_object_get(r, "seen");
    const json_t *choice, *message, *content;
    json_t *want = reference(str(req, "body")), *parsed;
    bool streamed = strstr(scenario, "stream") != NULL;
    bool tools = strncmp(scenario, "tools", 5) == 0;

    assert_int_equal(json_integer_value(json_object_get(req, "status")), 200);
    choice = json_array_get(json_object_get(want, "choices"), 0);
    message = json_object_get(choice, "message");
    content = json_object_get(message, "content");
    if (json_is_null(content)) {
        /* The AI SDK says "" for no text, the others null. */
        assert_true(json_is_null(json_object_get(seen, "content")) ||
                    strcmp(str(seen, "content"), "") == 0);
    } else {
        assert_non_null(str(seen, "content"));
        assert_string_equal(str(seen, "content"), json_string_value(content));
    }
    assert_string_equal(str(seen, "finish_reason"),
                        str(choice, "finish_reason"));
    if (streamed && strcmp(scenario, "stream-usage") != 0)
        assert_true(json_is_null(json_object_get(seen, "usage")));
    else
        assert_usage(json_object_get(seen, "usage"),
                     json_object_get(want, "usage"));
    if (tools) {
        assert_string_equal(str(seen, "finish_reason"), "tool_calls");
        assert_tool_calls(json_object_get(seen, "tool_calls"),
                          json_object_get(message, "tool_calls"));
    } else {
        assert_int_equal(json_array_size(json_object_get(seen, "tool_calls")),
                         0);
    }
    if (strcmp(scenario, "json") == 0) {
        parsed = json_loads(str(seen, "content"), 0, NULL);
        assert_true(json_is_object(parsed));
        json_decref(parsed);
    }
    json_decref(want);
}

/* GETs path from the mock with the test key; returns its JSON (new). */
static json_t *get_json(const char *path)
{
    struct http_reply hr;
    json_t *j;

    assert_int_equal(http_do(&mock, "GET", path, KEY, NULL, NULL, &hr), 0);
    assert_int_equal(hr.status, 200);
    j = json_incref(hr.json);
    assert_non_null(j);
    http_reply_free(&hr);
    return j;
}

/* One client through every scenario; each sees exactly the mock's answer. */
static void check_client(const char *client)
{
    json_t *results = drive(mock.url, client, KEY, MODEL,
                            "chat,stream,stream-usage,tools,tools-stream,json,"
                            "models-list,models-retrieve,balance",
                            "10000");
    const json_t *r, *seen, *m;
    json_t *want;
    bool openai = strcmp(client, "openai") == 0;
    const char *scenario, *rc;
    size_t i;

    assert_int_equal(json_array_size(results), 9);
    /* The balance first: the reference requests below are charged. */
    r = json_array_get(results, 8);
    assert_string_equal(str(r, "scenario"), "balance");
    assert_outcome(r, "works");
    single_request(r);
    want = get_json("/v1/balance");
    assert_true(json_equal(
        json_object_get(json_object_get(r, "seen"), "balance"), want));
    json_decref(want);
    json_array_foreach(results, i, r)
    {
        scenario = str(r, "scenario");
        assert_string_equal(str(r, "client"), client);
        seen = json_object_get(r, "seen");
        if (strncmp(scenario, "models", 6) == 0 && !openai) {
            /* Neither the AI SDK nor LangChain has a models API. */
            assert_outcome(r, "n/a");
            assert_int_equal(json_array_size(json_object_get(r, "requests")),
                             0);
            continue;
        }
        assert_outcome(r, "works");
        if (strcmp(scenario, "models-list") == 0) {
            single_request(r);
            want = get_json("/v1/models");
            assert_int_equal(json_array_size(json_object_get(seen, "models")),
                             json_array_size(json_object_get(want, "data")));
            json_array_foreach(json_object_get(want, "data"), i, m)
            {
                assert_string_equal(json_string_value(json_array_get(
                                        json_object_get(seen, "models"), i)),
                                    str(m, "id"));
            }
            json_decref(want);
        } else if (strcmp(scenario, "models-retrieve") == 0) {
            single_request(r);
            want = get_json("/v1/models/" MODEL);
            assert_true(
                json_equal(json_object_get(seen, "model_object"), want));
            json_decref(want);
        } else if (strcmp(scenario, "balance") != 0) {
            check_chat(r);
            /* The openai package (LangChain's too) says which try it is. */
            rc = str(json_array_get(json_object_get(r, "requests"), 0),
                     "retry_count");
            if (strcmp(client, "ai-sdk") == 0)
                assert_null(rc);
            else
                assert_string_equal(rc, "0");
        }
    }
    json_decref(results);
}

static void test_openai(void **state)
{
    (void)state;
    check_client("openai");
}

static void test_ai_sdk(void **state)
{
    (void)state;
    check_client("ai-sdk");
}

static void test_langchain(void **state)
{
    (void)state;
    check_client("langchain");
}

/* A 402 and a 401 reach each client's user as thrown errors with their
 * status, at once: neither is retried. */
static void test_errors_are_thrown_not_retried(void **state)
{
    static const struct {
        const char *key;
        long status;
        const char *cls[3]; /* per client, in the order of clients[] */
    } cases[] = {
        {"sk-ai-nexus-empty", 402, {"APIError", "APICallError", "APIError"}},
        {"sk-nexus-unknown",
         401,
         {"AuthenticationError", "APICallError", "AuthenticationError"}},
    };
    const json_t *r, *e;
    json_t *results;
    size_t c, k, i;

    (void)state;
    for (c = 0; c < 3; c++)
        for (k = 0; k < 2; k++) {
            results = drive(mock.url, clients[c], cases[k].key, MODEL,
                            "chat,stream", "10000");
            assert_int_equal(json_array_size(results), 2);
            json_array_foreach(results, i, r)
            {
                assert_outcome(r, "throws");
                single_request(r);
                e = json_object_get(r, "error");
                assert_int_equal(
                    json_integer_value(json_object_get(r, "status")),
                    cases[k].status);
                assert_int_equal(
                    json_integer_value(json_object_get(e, "status")),
                    cases[k].status);
                assert_string_equal(str(e, "class"), cases[k].cls[c]);
            }
            json_decref(results);
        }
}

/* A stream slower than the bound is reported as a hang, in bounded time,
 * by every client: the harness's own "hangs" works against a real server. */
static void test_slow_stream_is_a_hang(void **state)
{
    char *path = temp_fixture("version: 1\n"
                              "plans:\n"
                              "  p: {requests_per_minute: 600}\n"
                              "models:\n"
                              "  - id: slow\n"
                              "    created: 1735689600\n"
                              "    price: {input_per_million: 1,"
                              " output_per_million: 1}\n"
                              "    stream: {tokens_per_second: 2}\n"
                              "keys:\n"
                              "  - {key: sk-slow, plan: p, balance: 10}\n");
    const char *extra[] = {"--fixtures", path, NULL};
    struct testproc slow;
    const json_t *r, *hang;
    json_t *results;
    size_t c;

    (void)state;
    assert_int_equal(mock_start(&slow, extra), 0);
    for (c = 0; c < 3; c++) {
        results =
            drive(slow.url, clients[c], "sk-slow", "slow", "stream", "1000");
        r = json_array_get(results, 0);
        assert_outcome(r, "hangs");
        hang = json_object_get(r, "hang");
        assert_string_equal(str(hang, "phase"), "body");
        /* The bound, plus at most the two seconds of the backstop. */
        assert_in_range(json_integer_value(json_object_get(r, "elapsed_ms")),
                        1000, 3500);
        json_decref(results);
    }
    assert_int_equal(testproc_stop(&slow), 0);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai),
        cmocka_unit_test(test_ai_sdk),
        cmocka_unit_test(test_langchain),
        cmocka_unit_test(test_errors_are_thrown_not_retried),
        cmocka_unit_test(test_slow_stream_is_a_hang),
    };
    int rc = drive_prepare("test_clients", drive_path, sizeof(drive_path));

    if (rc != 0)
        return rc;
    return cmocka_run_group_tests(tests, start_mock, stop_mock);
}
