/* test_lang: the fixture language's rules through a real nexus-mock over
 * loopback: chosen replies per prompt, templates, status and raw answers
 * on any path, the conditions on keys, plans, headers and the body, and
 * what scripted answers cost and count. */
#include <math.h>
#include <pthread.h>
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

#include "clock.h"
#include "testutil.h"

#define CHAT "/v1/chat/completions"
/* A chat body for model m1 whose one user message is the given text. */
#define SAY(text)                                                              \
    "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"" text   \
    "\"}]}"

static const char lang_fixture[] =
    "version: 2\n"
    "plans:\n"
    "  p: {requests_per_minute: 1000}\n"
    "  gold: {requests_per_minute: 1000}\n"
    "models:\n"
    "  - {id: m1, created: 1, price: {input_per_million: 1, "
    "output_per_million: 2}}\n"
    "keys:\n"
    "  - {key: k1, plan: p, balance: 10}\n"
    "  - {key: k2, plan: gold, balance: 10}\n"
    "rules:\n"
    "  - name: ping\n"
    "    match: {last_user_message: ping}\n"
    "    reply: {content: pong}\n"
    "  - name: weather\n"
    "    match: {any_message: {contains: weather}}\n"
    "    reply: {content: It is sunny.}\n"
    "  - name: echo\n"
    "    match: {last_user_message: {regex: '^echo[[:space:]]'}}\n"
    "    reply:\n"
    "      template: '{{last_user_message}} / {{ model }} / {{count}} / "
    "{{turn}} / {{{{x}}'\n"
    "      headers: {X-Scripted: 'yes'}\n"
    "  - name: gold-only\n"
    "    match: {plan: gold, last_user_message: plan}\n"
    "    reply: {content: gold plan}\n"
    "  - name: by-key\n"
    "    match: {key: k1, last_user_message: plan}\n"
    "    reply: {content: key k1}\n"
    "  - name: header\n"
    "    match: {headers: {X-Test-Case: {contains: boom}}}\n"
    "    reply:\n"
    "      status: 500\n"
    "      error: {message: scripted boom, code: boom}\n"
    "      headers: {X-Why: scripted}\n"
    "  - name: teapot\n"
    "    match: {path: /v1/teapot}\n"
    "    reply: {status: 418, body: I'm a teapot, content_type: text/plain}\n"
    "  - name: embeddings\n"
    "    match: {method: POST, path: /v1/embeddings}\n"
    "    reply:\n"
    "      json: {object: list, data: [{index: 0, embedding: [0.5, 1]}]}\n"
    "  - name: free\n"
    "    match: {last_user_message: free}\n"
    "    reply: {content: no charge, billing: false, rate_limit: false}\n"
    "  - name: slow\n"
    "    match: {last_user_message: slow}\n"
    "    reply: {content: finally, latency_ms: 400}\n"
    "  - name: slow-error\n"
    "    match: {path: /v1/slow-error}\n"
    "    reply: {status: 502, latency_ms: 300}\n"
    "  - name: json-mode\n"
    "    match: {json: {/response_format/type: json_object}}\n"
    "    reply: {content: '{\"answer\": 42}'}\n"
    "  - name: not-admin\n"
    "    match: {path: {contains: /_nexus/}}\n"
    "    reply: {status: 418}\n"
    "  - name: nested\n"
    "    match: {last_user_message: {regex: '^(a+)+$'}}\n"
    "    reply: {content: all a}\n"
    "  - name: order\n"
    "    match: {last_user_message: {regex: '^order \\d+\\b'}}\n"
    "    reply: {content: an order}\n"
    "  - name: second-turn\n"
    "    match: {turn: 2, stream: false}\n"
    "    reply: {content: second turn}\n";

static struct fixture_mock fm;

static int start(void **state)
{
    static const char *const extra[] = {"--threads", "1", "--regex-match-limit",
                                        "20000", NULL};

    (void)state;
    return fixture_mock_start(&fm, lang_fixture, extra);
}

static int stop(void **state)
{
    (void)state;
    return fixture_mock_stop(&fm);
}

/* Performs a request that must reach the server. */
static void req(const char *method, const char *path, const char *key,
                const char *body, const char *header, struct http_reply *r)
{
    assert_int_equal(http_do(&fm.proc, method, path, key, body, header, r), 0);
}

/* The content of choice 0 of a chat completion reply. */
static const char *content_of(const struct http_reply *r)
{
    return json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(r->json, "choices"), 0),
                        "message"),
        "content"));
}

/* The named usage count of a chat completion reply. */
static json_int_t usage_of(const struct http_reply *r, const char *name)
{
    return json_integer_value(
        json_object_get(json_object_get(r->json, "usage"), name));
}

/* The balance of key k, in USD. */
static double balance_of(const char *k)
{
    struct http_reply r;
    double v;

    req("GET", "/v1/balance", k, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    v = json_number_value(json_object_get(r.json, "balance"));
    http_reply_free(&r);
    return v;
}

/* A rule chooses the reply to a prompt; other prompts are generated. */
static void test_chosen_reply(void **state)
{
    struct http_reply r;

    (void)state;
    req("POST", CHAT, "k1", SAY("ping"), NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(content_of(&r), "pong");
    assert_int_equal(usage_of(&r, "completion_tokens"), 1);
    assert_int_equal(usage_of(&r, "prompt_tokens"), 8);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(r.json, "choices"), 0),
            "finish_reason")),
        "stop");
    http_reply_free(&r);
    req("POST", CHAT, "k1", SAY("ping!"), NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_not_equal(content_of(&r), "pong");
    http_reply_free(&r);
    req("POST", CHAT, "k1",
        "{\"model\":\"m1\",\"messages\":[{\"role\":\"system\",\"content\":"
        "\"About the weather.\"},{\"role\":\"user\",\"content\":\"hi\"}]}",
        NULL, &r);
    assert_string_equal(content_of(&r), "It is sunny.");
    http_reply_free(&r);
}

/* A template echoes the last user message, the model, the rule's count
 * and the turn; the rule's headers come with the answer. */
static void test_template(void **state)
{
    struct http_reply r;
    char *h;

    (void)state;
    req("POST", CHAT, "k1", SAY("echo hi"), NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(content_of(&r), "echo hi / m1 / 1 / 1 / {{x}}");
    h = http_header(&r, "x-scripted");
    assert_string_equal(h, "yes");
    free(h);
    http_reply_free(&r);
    req("POST", CHAT, "k1", SAY("echo again"), NULL, &r);
    assert_string_equal(content_of(&r), "echo again / m1 / 2 / 1 / {{x}}");
    http_reply_free(&r);
}

/* Conditions on the plan and on the key; the first rule that holds wins. */
static void test_key_and_plan(void **state)
{
    struct http_reply r;

    (void)state;
    req("POST", CHAT, "k2", SAY("plan"), NULL, &r);
    assert_string_equal(content_of(&r), "gold plan");
    http_reply_free(&r);
    req("POST", CHAT, "k1", SAY("plan"), NULL, &r);
    assert_string_equal(content_of(&r), "key k1");
    http_reply_free(&r);
}

/* A header chooses a scripted error: its status, its OpenAI body with the
 * rule's message and code and the status's type, its headers, and the
 * rate-limit headers of the key as for any answer. */
static void test_status_error(void **state)
{
    struct http_reply r;
    char *h;

    (void)state;
    req("GET", "/v1/models", "k1", NULL, "X-Test-Case: kaboom", &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.body, "{\"error\":{\"message\":\"scripted boom\","
                                "\"type\":\"server_error\",\"param\":null,"
                                "\"code\":\"boom\"}}\n");
    h = http_header(&r, "x-why");
    assert_string_equal(h, "scripted");
    free(h);
    h = http_header(&r, "x-ratelimit-limit-requests");
    assert_string_equal(h, "1000");
    free(h);
    h = http_header(&r, "content-type");
    assert_string_equal(h, "application/json");
    free(h);
    http_reply_free(&r);
}

/* Raw bodies on paths no route serves, with their media type; the method
 * is a condition like any other. */
static void test_raw_bodies(void **state)
{
    struct http_reply r;
    char *h;

    (void)state;
    req("GET", "/v1/teapot", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 418);
    assert_string_equal(r.body, "I'm a teapot");
    h = http_header(&r, "content-type");
    assert_string_equal(h, "text/plain");
    free(h);
    http_reply_free(&r);
    req("POST", "/v1/embeddings", "k1", "{}", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(
        r.body, "{\"object\":\"list\",\"data\":[{\"index\":0,\"embedding\":["
                "0.5,1]}]}");
    http_reply_free(&r);
    /* Rules never answer the admin API's paths, served or not. */
    req("POST", "/_nexus/clock", NULL, "{\"advance_ms\":1}", NULL, &r);
    assert_int_equal(r.status, 404);
    http_reply_free(&r);
    req("GET", "/v1/embeddings", "k1", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r.json, "error"), "code")),
                        "unknown_url");
    http_reply_free(&r);
}

/* A scripted completion is billed for its usage and counted by the rate
 * limiter, unless the rule says otherwise. */
static void test_billing_and_limits(void **state)
{
    struct http_reply r;
    double before = balance_of("k2"), after;
    json_int_t prompt, completion;
    char *left, *h;

    (void)state;
    req("POST", CHAT, "k2", SAY("ping"), NULL, &r);
    prompt = usage_of(&r, "prompt_tokens");
    completion = usage_of(&r, "completion_tokens");
    left = http_header(&r, "x-ratelimit-remaining-requests");
    http_reply_free(&r);
    after = balance_of("k2");
    assert_true(fabs((before - after) - ((double)prompt * 1e-6 +
                                         (double)completion * 2e-6)) < 1e-12);
    req("POST", CHAT, "k2", SAY("free"), NULL, &r);
    assert_string_equal(content_of(&r), "no charge");
    h = http_header(&r, "x-ratelimit-remaining-requests");
    assert_string_equal(h, left);
    free(h);
    http_reply_free(&r);
    assert_true(balance_of("k2") == after);
    free(left);
}

/* The last user message equals the rule's text, and a JSON pointer finds
 * the response format; the turn counts user messages. */
static void test_json_pointer_and_turn(void **state)
{
    struct http_reply r;

    (void)state;
    req("POST", CHAT, "k1",
        "{\"model\":\"m1\",\"response_format\":{\"type\":\"json_object\"},"
        "\"messages\":[{\"role\":\"user\",\"content\":\"reply in JSON\"}]}",
        NULL, &r);
    assert_string_equal(content_of(&r), "{\"answer\": 42}");
    http_reply_free(&r);
    req("POST", CHAT, "k1",
        "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},{\"role\":\"user\","
        "\"content\":\"c\"}]}",
        NULL, &r);
    assert_string_equal(content_of(&r), "second turn");
    http_reply_free(&r);
}

/* One slow request of a pair, run on its own thread. */
struct slow {
    const char *path;
    const char *body;
    long status;
    uint64_t ms;
};

static void *slow_request(void *arg)
{
    struct slow *s = arg;
    struct http_reply r;
    uint64_t t0 = clock_real_ms();

    if (http_do(&fm.proc, "POST", s->path, "k1", s->body, NULL, &r) == 0) {
        s->status = r.status;
        http_reply_free(&r);
    }
    s->ms = clock_real_ms() - t0;
    return NULL;
}

/* A latency delays a non-streamed answer, scripted completion or error;
 * waiting holds no worker: with one worker thread, four delayed answers
 * run side by side. */
static void test_latency(void **state)
{
    struct slow s[4] = {
        {CHAT, SAY("slow"), 0, 0},
        {CHAT, SAY("slow"), 0, 0},
        {"/v1/slow-error", "{}", 0, 0},
        {"/v1/slow-error", "{}", 0, 0},
    };
    pthread_t th[4];
    uint64_t t0 = clock_real_ms(), total;
    struct http_reply r;
    int i;

    (void)state;
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, slow_request, &s[i]), 0);
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    total = clock_real_ms() - t0;
    assert_int_equal(s[0].status, 200);
    assert_int_equal(s[2].status, 502);
    assert_true(s[0].ms >= 400 && s[1].ms >= 400);
    assert_true(s[2].ms >= 300 && s[3].ms >= 300);
    /* In turn they would take 1.4 s at least. */
    assert_true(total < 1300);
    req("POST", CHAT, "k1", SAY("slow"), NULL, &r);
    assert_string_equal(content_of(&r), "finally");
    http_reply_free(&r);
}

/* Patterns are PCRE2's (\\d, \\b), and one whose backtracking passes
 * --regex-match-limit on a request's text does not match: the request
 * gets the generated reply at once instead of holding a worker. */
static void test_regex_bounded(void **state)
{
    struct http_reply r;

    (void)state;
    req("POST", CHAT, "k1", SAY("aaaaaaaa"), NULL, &r);
    assert_string_equal(content_of(&r), "all a");
    http_reply_free(&r);
    req("POST", CHAT, "k1", SAY("order 66 now"), NULL, &r);
    assert_string_equal(content_of(&r), "an order");
    http_reply_free(&r);
    /* 2^40 ways to split: without the limit the worker never returns. */
    req("POST", CHAT, "k1", SAY("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"),
        NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_not_equal(content_of(&r), "all a");
    http_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chosen_reply),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_key_and_plan),
        cmocka_unit_test(test_status_error),
        cmocka_unit_test(test_raw_bodies),
        cmocka_unit_test(test_billing_and_limits),
        cmocka_unit_test(test_json_pointer_and_turn),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_regex_bounded),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
