/* test_http: nexus-mock as a real process on loopback, driven over HTTP by
 * libcurl: every endpoint, every error status, the streamed bytes, billing
 * and the rate limiter (with the admin clock, so nothing sleeps). */
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

#include "buf.h"
#include "testutil.h"
#include "tokenize.h"

#define KEY "sk-ai-nexus-test"
#define FREE_KEY "sk-ai-nexus-free"
#define EMPTY_KEY "sk-ai-nexus-empty"
#define HELLO                                                                  \
    "{\"model\":\"deepseek-v4\",\"messages\":[{\"role\":\"user\","             \
    "\"content\":\"Hello!\"}]"

static struct testproc mock;

static int start_default(void **state)
{
    static const char *const extra[] = {"--admin", NULL};

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return mock_start(&mock, extra);
}

static int stop_default(void **state)
{
    (void)state;
    /* A graceful stop exits 0. */
    return testproc_stop(&mock) == 0 ? 0 : -1;
}

/* Asserts an OpenAI error body with exactly these fields. */
static void assert_error(const struct http_reply *r, long status,
                         const char *type, const char *param, const char *code)
{
    json_t *e = json_object_get(r->json, "error");
    char *rid = http_header(r, "x-request-id");

    assert_int_equal(r->status, status);
    assert_non_null(e);
    assert_int_equal(json_object_size(e), 4);
    assert_true(json_is_string(json_object_get(e, "message")));
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    assert_string_equal(json_string_value(json_object_get(e, "type")), type);
    if (param == NULL)
        assert_true(json_is_null(json_object_get(e, "param")));
    else
        assert_string_equal(json_string_value(json_object_get(e, "param")),
                            param);
    if (code == NULL)
        assert_true(json_is_null(json_object_get(e, "code")));
    else
        assert_string_equal(json_string_value(json_object_get(e, "code")),
                            code);
    assert_non_null(rid);
    assert_int_equal(strlen(rid), 36);
    assert_memory_equal(rid, "req_", 4);
    free(rid);
}

/* Performs a request that must reach the server. */
static void req(const char *method, const char *path, const char *key,
                const char *body, struct http_reply *r)
{
    assert_int_equal(http_do(&mock, method, path, key, body, NULL, r), 0);
}

static void test_models_list(void **state)
{
    struct http_reply r;
    json_t *data, *first;
    char *ct;

    (void)state;
    req("GET", "/v1/models", KEY, NULL, &r);
    assert_int_equal(r.status, 200);
    ct = http_header(&r, "content-type");
    assert_string_equal(ct, "application/json");
    free(ct);
    assert_string_equal(json_string_value(json_object_get(r.json, "object")),
                        "list");
    data = json_object_get(r.json, "data");
    assert_int_equal(json_array_size(data), 13);
    first = json_array_get(data, 0);
    assert_string_equal(json_string_value(json_object_get(first, "id")),
                        "deepseek-v4");
    assert_string_equal(json_string_value(json_object_get(first, "object")),
                        "model");
    assert_int_equal(json_integer_value(json_object_get(first, "created")),
                     1718000000);
    assert_string_equal(json_string_value(json_object_get(first, "owned_by")),
                        "ai-nexus");
    http_reply_free(&r);
}

static void test_model_get_and_404(void **state)
{
    struct http_reply r;

    (void)state;
    req("GET", "/v1/models/qwen-max", KEY, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"id\":\"qwen-max\",\"object\":\"model\","
                                "\"created\":1737504000,\"owned_by\":"
                                "\"ai-nexus\"}\n");
    http_reply_free(&r);
    req("GET", "/v1/models/gpt-9", KEY, NULL, &r);
    assert_error(&r, 404, "invalid_request_error", "model", "model_not_found");
    http_reply_free(&r);
}

static void test_auth(void **state)
{
    struct http_reply r;

    (void)state;
    req("GET", "/v1/models", NULL, NULL, &r);
    assert_error(&r, 401, "invalid_request_error", NULL, NULL);
    http_reply_free(&r);
    assert_int_equal(
        http_do(&mock, "GET", "/v1/models", NULL, NULL,
                "Authorization: Basic c2stYWktbmV4dXMtdGVzdA==", &r),
        0);
    assert_error(&r, 401, "invalid_request_error", NULL, NULL);
    http_reply_free(&r);
    req("POST", "/v1/chat/completions", "sk-nope", HELLO "}", &r);
    assert_error(&r, 401, "invalid_request_error", NULL, "invalid_api_key");
    http_reply_free(&r);
}

static void test_routing_errors(void **state)
{
    struct http_reply r;
    char *allow;

    (void)state;
    req("GET", "/v1/nothing", KEY, NULL, &r);
    assert_error(&r, 404, "invalid_request_error", NULL, "unknown_url");
    http_reply_free(&r);
    req("GET", "/v1/chat/completions", KEY, NULL, &r);
    assert_error(&r, 405, "invalid_request_error", NULL, "method_not_allowed");
    allow = http_header(&r, "allow");
    assert_string_equal(allow, "POST");
    free(allow);
    http_reply_free(&r);
    /* Admin routes exist only with --admin (this mock has it). */
    req("POST", "/_nexus/clock", NULL, "{\"advance_ms\":-1}", &r);
    assert_error(&r, 400, "invalid_request_error", "advance_ms",
                 "invalid_value");
    http_reply_free(&r);
}

static void test_validation_errors(void **state)
{
    static const struct {
        const char *body;
        const char *param;
    } cases[] = {
        {"{\"model\":\"deepseek-v4\",\"messages\":[]}", "messages"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model"},
        {HELLO ",\"temperature\":2.5}", "temperature"},
        {HELLO ",\"top_p\":1.5}", "top_p"},
        {HELLO ",\"max_tokens\":0}", "max_tokens"},
        {HELLO ",\"max_tokens\":\"5\"}", "max_tokens"},
        {HELLO ",\"presence_penalty\":-2.5}", "presence_penalty"},
        {HELLO ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "stop"},
        {HELLO ",\"stream_options\":{\"include_usage\":true}}",
         "stream_options"},
        {HELLO ",\"bogus\":1}", "bogus"},
        {"{\"model\":\"deepseek-v4\",\"messages\":[{\"role\":\"wizard\","
         "\"content\":\"x\"}]}",
         "messages[0].role"},
        {"{\"model\":\"deepseek-v4\",\"messages\":[{\"role\":\"tool\","
         "\"content\":\"x\"}]}",
         "messages[0].tool_call_id"},
    };
    struct http_reply r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        req("POST", "/v1/chat/completions", KEY, cases[i].body, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(r.json, "error"), "param")),
                            cases[i].param);
        http_reply_free(&r);
    }
    req("POST", "/v1/chat/completions", KEY, "{\"model\": ", &r);
    assert_error(&r, 400, "invalid_request_error", NULL, "invalid_json");
    http_reply_free(&r);
    /* An unknown model is checked after validation: 404. */
    req("POST", "/v1/chat/completions", KEY,
        "{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"x\"}]}",
        &r);
    assert_error(&r, 404, "invalid_request_error", "model", "model_not_found");
    http_reply_free(&r);
}

/* The content of choice i of a non-streamed reply. */
static const char *content_of(const struct http_reply *r, size_t i)
{
    return json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(r->json, "choices"), i),
                        "message"),
        "content"));
}

static json_int_t usage_of(const struct http_reply *r, const char *field)
{
    return json_integer_value(
        json_object_get(json_object_get(r->json, "usage"), field));
}

static void test_chat_deterministic(void **state)
{
    struct http_reply a, b;
    const char *text;
    json_t *choice;

    (void)state;
    req("POST", "/v1/chat/completions", KEY, HELLO "}", &a);
    req("POST", "/v1/chat/completions", KEY, HELLO ",\"temperature\":0}", &b);
    assert_int_equal(a.status, 200);
    assert_string_equal(json_string_value(json_object_get(a.json, "object")),
                        "chat.completion");
    assert_string_equal(json_string_value(json_object_get(a.json, "model")),
                        "deepseek-v4");
    text = content_of(&a, 0);
    assert_non_null(text);
    assert_string_equal(text, content_of(&b, 0));
    choice = json_array_get(json_object_get(a.json, "choices"), 0);
    assert_string_equal(
        json_string_value(json_object_get(choice, "finish_reason")), "stop");
    assert_true(json_is_null(json_object_get(choice, "logprobs")));
    /* "Hello!" as user: 3 priming + 3 per message + "user" + "Hello" "!". */
    assert_int_equal(usage_of(&a, "prompt_tokens"), 9);
    assert_int_equal(usage_of(&a, "completion_tokens"),
                     (json_int_t)tokenize_count(text, strlen(text)));
    assert_int_equal(usage_of(&a, "total_tokens"),
                     usage_of(&a, "prompt_tokens") +
                         usage_of(&a, "completion_tokens"));
    http_reply_free(&a);
    http_reply_free(&b);
}

static void test_chat_max_tokens_stop_n(void **state)
{
    struct http_reply full, cut, stopped, many;
    const char *text, *space;
    char body[512], word[64];
    size_t len;

    (void)state;
    req("POST", "/v1/chat/completions", KEY, HELLO "}", &full);
    text = content_of(&full, 0);
    req("POST", "/v1/chat/completions", KEY, HELLO ",\"max_tokens\":2}", &cut);
    assert_int_equal(usage_of(&cut, "completion_tokens"), 2);
    len = tokenize_next(text, strlen(text), 0);
    len = tokenize_next(text, strlen(text), len);
    assert_int_equal(strlen(content_of(&cut, 0)), len);
    assert_memory_equal(content_of(&cut, 0), text, len);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(cut.json, "choices"), 0),
            "finish_reason")),
        "length");
    /* Stop at the second word: the content ends before it. */
    space = strchr(text, ' ');
    assert_non_null(space);
    snprintf(word, sizeof(word), "%.*s", (int)strcspn(space + 1, " ."),
             space + 1);
    snprintf(body, sizeof(body), HELLO ",\"stop\":[\" %s\"]}", word);
    req("POST", "/v1/chat/completions", KEY, body, &stopped);
    assert_int_equal(strlen(content_of(&stopped, 0)), (size_t)(space - text));
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(stopped.json, "choices"), 0),
            "finish_reason")),
        "stop");
    req("POST", "/v1/chat/completions", KEY, HELLO ",\"n\":3}", &many);
    assert_int_equal(json_array_size(json_object_get(many.json, "choices")), 3);
    assert_string_equal(content_of(&many, 0), text);
    assert_int_equal(
        usage_of(&many, "completion_tokens"),
        (json_int_t)(tokenize_count(content_of(&many, 0),
                                    strlen(content_of(&many, 0))) +
                     tokenize_count(content_of(&many, 1),
                                    strlen(content_of(&many, 1))) +
                     tokenize_count(content_of(&many, 2),
                                    strlen(content_of(&many, 2)))));
    http_reply_free(&full);
    http_reply_free(&cut);
    http_reply_free(&stopped);
    http_reply_free(&many);
}

/* Replaces the value of every "id":"..." and "created":N with fixed text so
 * streamed bytes can be compared exactly. */
static void normalize(char *s)
{
    char *p;

    for (p = strstr(s, "\"id\":\"chatcmpl-"); p != NULL;
         p = strstr(p + 1, "\"id\":\"chatcmpl-")) {
        char *q = p + strlen("\"id\":\"chatcmpl-");

        while (*q != '"')
            *q++ = 'x';
    }
    for (p = strstr(s, "\"created\":"); p != NULL;
         p = strstr(p + 1, "\"created\":")) {
        char *q = p + strlen("\"created\":");

        while (*q >= '0' && *q <= '9')
            *q++ = '0';
    }
}

static void test_stream_exact_bytes(void **state)
{
    struct http_reply plain, st;
    struct buf want;
    const char *text;
    char *ct, *wire, *head;
    size_t pos = 0, end, len, i;
    json_int_t prompt, completion;
    int64_t before, after, spent;
    const char *id_x = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

    (void)state;
    req("POST", "/v1/chat/completions", KEY, HELLO ",\"seed\":7}", &plain);
    assert_int_equal(balance_pico(&mock, KEY, &before, &spent), 0);
    req("POST", "/v1/chat/completions", KEY,
        HELLO ",\"seed\":7,\"stream\":true,\"stream_options\":"
              "{\"include_usage\":true}}",
        &st);
    assert_int_equal(st.status, 200);
    /* The stream is settled when the server is done with it, a moment
     * after the client has read it: wait, so that the next test's ledger
     * does not move under it. */
    for (i = 0; i < 500; i++) {
        assert_int_equal(balance_pico(&mock, KEY, &after, &spent), 0);
        if (after != before)
            break;
        usleep(10000);
    }
    assert_true(after < before);
    ct = http_header(&st, "content-type");
    assert_string_equal(ct, "text/event-stream");
    free(ct);
    text = content_of(&plain, 0);
    len = strlen(text);
    prompt = usage_of(&plain, "prompt_tokens");
    completion = usage_of(&plain, "completion_tokens");
    buf_init(&want, 1 << 20);
    assert_int_equal(
        buf_appendf(&want,
                    "{\"id\":\"chatcmpl-%s\",\"object\":\"chat.completion."
                    "chunk\",\"created\":0000000000,\"model\":\"deepseek-v4\","
                    "\"choices\":",
                    id_x),
        0);
    head = buf_take(&want, NULL);
    buf_init(&want, 1 << 20);
    assert_int_equal(
        buf_appendf(&want,
                    "data: %s[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                    "\"content\":\"\",\"refusal\":null},\"logprobs\":null,"
                    "\"finish_reason\":null}],\"usage\":null}\n\n",
                    head),
        0);
    for (i = 0; pos < len; i++) {
        json_t *s;
        char *esc;

        end = tokenize_next(text, len, pos);
        s = json_stringn(text + pos, end - pos);
        esc = json_dumps(s, JSON_ENCODE_ANY);
        assert_int_equal(
            buf_appendf(&want,
                        "data: %s[{\"index\":0,\"delta\":{\"content\":%s},"
                        "\"logprobs\":null,\"finish_reason\":null}],"
                        "\"usage\":null}\n\n",
                        head, esc),
            0);
        free(esc);
        json_decref(s);
        pos = end;
    }
    assert_int_equal((json_int_t)i, completion);
    assert_int_equal(
        buf_appendf(&want,
                    "data: %s[{\"index\":0,\"delta\":{},\"logprobs\":null,"
                    "\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
                    head),
        0);
    assert_int_equal(
        buf_appendf(&want,
                    "data: %s[],\"usage\":{\"prompt_tokens\":%lld,"
                    "\"completion_tokens\":%lld,\"total_tokens\":%lld}}\n\n"
                    "data: [DONE]\n\n",
                    head, (long long)prompt, (long long)completion,
                    (long long)(prompt + completion)),
        0);
    wire = st.body;
    normalize(wire);
    assert_string_equal(wire, want.data);
    buf_cleanup(&want);
    free(head);
    http_reply_free(&plain);
    http_reply_free(&st);
}

/* Reads the balance and spend, in pico-USD from the printed decimals. */
static void balance_of(const char *key, double *bal, double *spent, char **when)
{
    struct http_reply r;

    req("GET", "/v1/balance", key, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_size(r.json), 4);
    assert_string_equal(json_string_value(json_object_get(r.json, "currency")),
                        "USD");
    *bal = json_number_value(json_object_get(r.json, "balance"));
    *spent = json_number_value(json_object_get(r.json, "total_spent"));
    *when = strdup(json_string_value(json_object_get(r.json, "last_updated")));
    assert_int_equal(strlen(*when), 20);
    assert_int_equal((*when)[19], 'Z');
    http_reply_free(&r);
}

static void test_billing(void **state)
{
    struct http_reply r;
    double b0, s0, b1, s1;
    char *w0, *w1;
    json_int_t p, c;
    double cost;

    (void)state;
    balance_of(KEY, &b0, &s0, &w0);
    req("POST", "/v1/chat/completions", KEY, HELLO ",\"n\":2}", &r);
    assert_int_equal(r.status, 200);
    p = usage_of(&r, "prompt_tokens");
    c = usage_of(&r, "completion_tokens");
    http_reply_free(&r);
    balance_of(KEY, &b1, &s1, &w1);
    /* deepseek-v4: 0.27 USD per million in, 1.10 per million out. */
    cost = ((double)p * 0.27 + (double)c * 1.10) / 1e6;
    assert_true(b0 - b1 > cost - 1e-12 && b0 - b1 < cost + 1e-12);
    assert_true(s1 - s0 > cost - 1e-12 && s1 - s0 < cost + 1e-12);
    /* Money is conserved in what the endpoint prints. */
    assert_true((b0 + s0) - (b1 + s1) < 1e-9 && (b1 + s1) - (b0 + s0) < 1e-9);
    assert_true(strcmp(w1, w0) >= 0);
    free(w0);
    free(w1);
    /* The empty account is refused with 402 and not charged. */
    req("POST", "/v1/chat/completions", EMPTY_KEY, HELLO "}", &r);
    assert_error(&r, 402, "insufficient_quota", NULL, "insufficient_quota");
    http_reply_free(&r);
    balance_of(EMPTY_KEY, &b0, &s0, &w0);
    assert_true(b0 == 0.0 && s0 == 0.0);
    free(w0);
}

/* A stream's money is held while it is made and settled once: the balance
 * falls by exactly the cost of the usage its last chunk reports, and
 * balance + total_spent does not move. */
static void test_stream_billed_once(void **state)
{
    struct http_reply st;
    double b0, s0, b1, s1, cost;
    char *w0, *w1;
    const char *usage, *line;
    json_t *chunk, *u;
    int i;

    (void)state;
    balance_of(KEY, &b0, &s0, &w0);
    req("POST", "/v1/chat/completions", KEY,
        HELLO ",\"n\":2,\"stream\":true,\"stream_options\":"
              "{\"include_usage\":true}}",
        &st);
    assert_int_equal(st.status, 200);
    usage = strstr(st.body, "\"choices\":[],\"usage\":{");
    assert_non_null(usage);
    for (line = usage; line > st.body && line[-1] != '\n'; line--)
        ;
    assert_memory_equal(line, "data: ", 6);
    chunk = json_loadb(line + 6, (size_t)(strstr(line, "\n\n") - line - 6), 0,
                       NULL);
    assert_non_null(chunk);
    u = json_object_get(chunk, "usage");
    /* deepseek-v4: 0.27 USD per million in, 1.10 per million out. */
    cost =
        ((double)json_integer_value(json_object_get(u, "prompt_tokens")) *
             0.27 +
         (double)json_integer_value(json_object_get(u, "completion_tokens")) *
             1.10) /
        1e6;
    json_decref(chunk);
    http_reply_free(&st);
    /* The stream is settled when the server is done with it, which can be
     * a moment after the client has read its last byte. */
    balance_of(KEY, &b1, &s1, &w1);
    for (i = 0; i < 200 && b1 == b0; i++) {
        free(w1);
        usleep(10000);
        balance_of(KEY, &b1, &s1, &w1);
    }
    assert_true(cost > 0);
    assert_true(b0 - b1 > cost - 1e-12 && b0 - b1 < cost + 1e-12);
    assert_true(s1 - s0 > cost - 1e-12 && s1 - s0 < cost + 1e-12);
    assert_true((b0 + s0) - (b1 + s1) < 1e-9 && (b1 + s1) - (b0 + s0) < 1e-9);
    free(w0);
    free(w1);
}

static void test_rate_limit(void **state)
{
    struct http_reply r;
    unsigned long i, retry, retry_ms;
    char *reset;

    (void)state;
    for (i = 0; i < 10; i++) {
        req("POST", "/v1/chat/completions", FREE_KEY, HELLO "}", &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(http_header_num(&r, "x-ratelimit-limit-requests"), 10);
        assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"),
                         9 - i);
        /* The free plan has no token limit, so no -tokens headers. */
        assert_null(http_header(&r, "x-ratelimit-limit-tokens"));
        http_reply_free(&r);
        /* Listing models or reading the balance spends nothing by default,
         * and reports the standing all the same. */
        req("GET", i % 2 ? "/v1/models" : "/v1/balance", FREE_KEY, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"),
                         9 - i);
        http_reply_free(&r);
    }
    req("POST", "/v1/chat/completions", FREE_KEY, HELLO "}", &r);
    assert_error(&r, 429, "requests", NULL, "rate_limit_exceeded");
    assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"), 0);
    retry = http_header_num(&r, "retry-after");
    retry_ms = http_header_num(&r, "retry-after-ms");
    assert_true(retry >= 1 && retry <= 60);
    assert_true(retry_ms > 0 && retry_ms <= 60000);
    assert_int_equal(retry, (retry_ms + 999) / 1000);
    reset = http_header(&r, "x-ratelimit-reset-requests");
    assert_non_null(reset);
    assert_int_equal(reset[strlen(reset) - 1], 's');
    free(reset);
    http_reply_free(&r);
    /* A 400 is answered before the limiter and still carries its numbers. */
    req("POST", "/v1/chat/completions", FREE_KEY, "{}", &r);
    assert_int_equal(r.status, 400);
    assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"), 0);
    http_reply_free(&r);
    /* Move the clock past the window: the key is whole again. */
    req("POST", "/_nexus/clock", NULL, "{\"advance_ms\":60000}", &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    req("POST", "/v1/chat/completions", FREE_KEY, HELLO "}", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(http_header_num(&r, "x-ratelimit-remaining-requests"), 9);
    http_reply_free(&r);
}

static void test_request_ids_unique(void **state)
{
    struct http_reply a, b;
    char *ia, *ib;

    (void)state;
    req("GET", "/v1/models", KEY, NULL, &a);
    req("GET", "/nowhere", NULL, NULL, &b);
    ia = http_header(&a, "x-request-id");
    ib = http_header(&b, "x-request-id");
    assert_non_null(ia);
    assert_non_null(ib);
    assert_string_not_equal(ia, ib);
    free(ia);
    free(ib);
    http_reply_free(&a);
    http_reply_free(&b);
}

/* A completion's id is "chatcmpl-" and its request id without "req_". */
static void test_completion_id_from_request_id(void **state)
{
    struct http_reply r;
    char *rid;

    (void)state;
    req("POST", "/v1/chat/completions", KEY, HELLO "}", &r);
    assert_int_equal(r.status, 200);
    rid = http_header(&r, "x-request-id");
    assert_non_null(rid);
    assert_memory_equal(rid, "req_", 4);
    assert_memory_equal(json_string_value(json_object_get(r.json, "id")),
                        "chatcmpl-", 9);
    assert_string_equal(json_string_value(json_object_get(r.json, "id")) + 9,
                        rid + 4);
    free(rid);
    http_reply_free(&r);
}

#define TOOLS                                                                  \
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"                \
    "\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":"      \
    "{\"city\":{\"type\":\"string\"},\"unit\":{\"type\":\"string\","           \
    "\"enum\":[\"c\",\"f\"]},\"days\":{\"type\":\"integer\",\"minimum\":"      \
    "1,\"maximum\":7}},\"required\":[\"city\",\"unit\",\"days\"]}}}]"

/* The first choice of a non-streamed reply. */
static json_t *choice0(const struct http_reply *r)
{
    return json_array_get(json_object_get(r->json, "choices"), 0);
}

static void test_tool_calls(void **state)
{
    struct http_reply r, st;
    json_t *msg, *call, *args, *unit;
    const char *arguments, *at;
    struct buf joined;
    json_int_t days;

    (void)state;
    req("POST", "/v1/chat/completions", KEY, HELLO "," TOOLS "}", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(
        json_string_value(json_object_get(choice0(&r), "finish_reason")),
        "tool_calls");
    msg = json_object_get(choice0(&r), "message");
    assert_true(json_is_null(json_object_get(msg, "content")));
    call = json_array_get(json_object_get(msg, "tool_calls"), 0);
    assert_memory_equal(json_string_value(json_object_get(call, "id")), "call_",
                        5);
    assert_string_equal(json_string_value(json_object_get(call, "type")),
                        "function");
    call = json_object_get(call, "function");
    assert_string_equal(json_string_value(json_object_get(call, "name")),
                        "get_weather");
    arguments = json_string_value(json_object_get(call, "arguments"));
    args = json_loads(arguments, 0, NULL);
    assert_non_null(args);
    assert_true(json_is_string(json_object_get(args, "city")));
    unit = json_object_get(args, "unit");
    assert_true(strcmp(json_string_value(unit), "c") == 0 ||
                strcmp(json_string_value(unit), "f") == 0);
    days = json_integer_value(json_object_get(args, "days"));
    assert_true(days >= 1 && days <= 7);
    assert_int_equal(usage_of(&r, "completion_tokens"),
                     (json_int_t)tokenize_count(arguments, strlen(arguments)));
    /* Streamed, the arguments arrive in pieces that join to the same text. */
    req("POST", "/v1/chat/completions", KEY,
        HELLO "," TOOLS ",\"stream\":true}", &st);
    buf_init(&joined, 1 << 16);
    for (at = strstr(st.body, "\"arguments\":\""); at != NULL;
         at = strstr(at + 1, "\"arguments\":\"")) {
        const char *v = strchr(at + 12, '"');
        json_t *piece;
        size_t len = 0;

        /* Decode the JSON string that starts at v. */
        while (v[1 + len] != '"' || v[len] == '\\')
            len++;
        piece = json_loadb(v, len + 2, JSON_DECODE_ANY, NULL);
        assert_non_null(piece);
        assert_int_equal(buf_appends(&joined, json_string_value(piece)), 0);
        json_decref(piece);
    }
    assert_string_equal(joined.data, arguments);
    assert_non_null(strstr(st.body, "\"finish_reason\":\"tool_calls\""));
    buf_cleanup(&joined);
    json_decref(args);
    http_reply_free(&st);
    http_reply_free(&r);
    /* After the tool's answer, or with tool_choice none: text again. */
    req("POST", "/v1/chat/completions", KEY,
        "{\"model\":\"deepseek-v4\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"Weather?\"},{\"role\":\"assistant\",\"tool_calls\":"
        "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"get_weather\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\","
        "\"tool_call_id\":\"call_1\",\"content\":\"sunny\"}]," TOOLS "}",
        &r);
    assert_string_equal(
        json_string_value(json_object_get(choice0(&r), "finish_reason")),
        "stop");
    assert_non_null(content_of(&r, 0));
    http_reply_free(&r);
    req("POST", "/v1/chat/completions", KEY,
        HELLO "," TOOLS ",\"tool_choice\":\"none\"}", &r);
    assert_non_null(content_of(&r, 0));
    http_reply_free(&r);
}

static void test_structured_output(void **state)
{
    struct http_reply r;
    json_t *v;

    (void)state;
    req("POST", "/v1/chat/completions", KEY,
        HELLO ",\"response_format\":{\"type\":\"json_schema\","
              "\"json_schema\":{\"name\":\"person\",\"strict\":true,"
              "\"schema\":{\"type\":\"object\",\"properties\":{\"name\":"
              "{\"type\":\"string\"},\"age\":{\"type\":\"integer\"},"
              "\"tags\":{\"type\":\"array\",\"items\":{\"$ref\":"
              "\"#/$defs/tag\"}}},\"required\":[\"name\",\"age\",\"tags\"],"
              "\"$defs\":{\"tag\":{\"type\":\"string\",\"enum\":[\"x\","
              "\"y\"]}}}}}}",
        &r);
    assert_int_equal(r.status, 200);
    v = json_loads(content_of(&r, 0), 0, NULL);
    assert_non_null(v);
    assert_true(json_is_string(json_object_get(v, "name")));
    assert_true(json_is_integer(json_object_get(v, "age")));
    assert_true(json_array_size(json_object_get(v, "tags")) >= 1);
    assert_true(json_is_string(json_array_get(json_object_get(v, "tags"), 0)));
    json_decref(v);
    http_reply_free(&r);
    req("POST", "/v1/chat/completions", KEY,
        HELLO ",\"response_format\":{\"type\":\"json_object\"}}", &r);
    v = json_loads(content_of(&r, 0), 0, NULL);
    assert_true(json_is_string(json_object_get(v, "reply")));
    json_decref(v);
    http_reply_free(&r);
}

static void test_logprobs(void **state)
{
    struct http_reply r, st;
    json_t *content, *entry;
    struct buf joined;
    size_t i;
    char *first;

    (void)state;
    req("POST", "/v1/chat/completions", KEY,
        HELLO ",\"logprobs\":true,\"top_logprobs\":3}", &r);
    assert_int_equal(r.status, 200);
    content =
        json_object_get(json_object_get(choice0(&r), "logprobs"), "content");
    assert_int_equal((json_int_t)json_array_size(content),
                     usage_of(&r, "completion_tokens"));
    buf_init(&joined, 1 << 16);
    json_array_foreach(content, i, entry)
    {
        json_t *top = json_object_get(entry, "top_logprobs");
        double lp = json_number_value(json_object_get(entry, "logprob"));

        assert_int_equal(buf_appends(&joined, json_string_value(json_object_get(
                                                  entry, "token"))),
                         0);
        assert_true(lp <= 0.0);
        assert_int_equal(json_array_size(top), 3);
        /* The chosen token leads its alternatives, which are less likely. */
        assert_true(json_equal(json_object_get(json_array_get(top, 0), "token"),
                               json_object_get(entry, "token")));
        assert_true(json_number_value(json_object_get(json_array_get(top, 2),
                                                      "logprob")) < lp);
        assert_int_equal(json_array_size(json_object_get(entry, "bytes")),
                         json_string_length(json_object_get(entry, "token")));
    }
    assert_string_equal(joined.data, content_of(&r, 0));
    buf_cleanup(&joined);
    /* The streamed logprob of the first token is the same number. */
    req("POST", "/v1/chat/completions", KEY,
        HELLO ",\"logprobs\":true,\"stream\":true}", &st);
    first = json_dumps(json_object_get(json_array_get(content, 0), "logprob"),
                       JSON_ENCODE_ANY);
    assert_non_null(strstr(st.body, first));
    free(first);
    http_reply_free(&st);
    http_reply_free(&r);
}

static void test_hostile_text_still_gets_error_bodies(void **state)
{
    struct http_reply r;
    struct buf body;
    int i;

    (void)state;
    /* A path that decodes to bytes that are not UTF-8. */
    req("GET", "/v1/%FF%FE", KEY, NULL, &r);
    assert_error(&r, 404, "invalid_request_error", NULL, "unknown_url");
    http_reply_free(&r);
    req("GET", "/v1/models/%FF", KEY, NULL, &r);
    assert_error(&r, 404, "invalid_request_error", "model", "model_not_found");
    http_reply_free(&r);
    /* Long non-ASCII names are cut at a character boundary, not inside. */
    buf_init(&body, 1 << 16);
    assert_int_equal(
        buf_appends(&body, "{\"model\":\"deepseek-v4\",\"messages\":[{\"role\":"
                           "\"user\",\"content\":\"x\"}],\""),
        0);
    for (i = 0; i < 100; i++)
        assert_int_equal(buf_appends(&body, "\xc3\xa9"), 0);
    assert_int_equal(buf_appends(&body, "\":1}"), 0);
    req("POST", "/v1/chat/completions", KEY, body.data, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r.json, "error"), "code")),
                        "unknown_parameter");
    http_reply_free(&r);
    buf_cleanup(&body);
}

static void test_numbers_beyond_the_parser(void **state)
{
    static const struct {
        const char *body;
        const char *param; /* NULL: null */
        const char *code;
    } cases[] = {
        {HELLO ",\"max_tokens\": 99999999999999999999}", "max_tokens",
         "integer_above_max_value"},
        {HELLO ",\"max_tokens\": -99999999999999999999}", "max_tokens",
         "integer_below_min_value"},
        {HELLO ",\"temperature\":1e400}", "temperature",
         "decimal_above_max_value"},
        {HELLO ",\"seed\":-99999999999999999999}", "seed",
         "integer_below_min_value"},
        /* Nested numbers are named by their full path. */
        {"{\"model\":\"qwen-max\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"hi\",\"name\":1e400}]}",
         "messages[0].name", "invalid_type"},
        {HELLO ",\"stop\":[1e400]}", "stop[0]", "invalid_type"},
        /* Every number beyond the parser is clamped, not only the first. */
        {HELLO ",\"temperature\":1e400,\"top_p\":1e400}", "temperature",
         "decimal_above_max_value"},
        {HELLO ",\"seed\":99999999999999999999,\"top_p\":-1e400}", "top_p",
         "decimal_below_min_value"},
        /* A token that is no JSON number is not taken for one. */
        {HELLO ",\"temperature\":1e400,\"top_p\":0099999999999999999999}", NULL,
         "invalid_json"},
        /* A negative real is below the range, not above it. */
        {HELLO ",\"tools\":[{\"type\":\"function\",\"function\":{"
               "\"name\":\"f\",\"parameters\":{\"type\":\"number\","
               "\"minimum\":-1e400}}}]}",
         "minimum", "decimal_below_min_value"},
        /* The number is not the only problem: the first one wins. */
        {HELLO ",\"bogus\":1e400}", "bogus", "unknown_parameter"},
        {HELLO ",\"temperature\":1e400, garbage", NULL, "invalid_json"},
        /* NUL inside a string is refused, never cut short. */
        {"{\"model\":\"qwen-max\\u0000evil\",\"messages\":[{\"role\":"
         "\"user\",\"content\":\"hi\"}]}",
         NULL, "invalid_json"},
    };
    struct http_reply r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *code;

        req("POST", "/v1/chat/completions", KEY, cases[i].body, &r);
        code = json_string_value(
            json_object_get(json_object_get(r.json, "error"), "code"));
        if (code == NULL || strcmp(code, cases[i].code) != 0)
            fail_msg("case %zu: expected %s, got %s", i, cases[i].code, r.body);
        assert_error(&r, 400, "invalid_request_error", cases[i].param,
                     cases[i].code);
        /* The message never quotes a stand-in the client did not send. */
        assert_null(strstr(r.body, "9223372036854775807"));
        assert_null(strstr(r.body, "1e+308"));
        http_reply_free(&r);
    }
}

static void test_unknown_model_not_counted(void **state)
{
    struct http_reply a, b;

    (void)state;
    req("GET", "/v1/models/kimi-k2", KEY, NULL, &a);
    req("GET", "/v1/models/nope", KEY, NULL, &b);
    assert_int_equal(b.status, 404);
    /* The 404 carries the standing but did not spend a request. */
    assert_int_equal(http_header_num(&b, "x-ratelimit-remaining-requests"),
                     http_header_num(&a, "x-ratelimit-remaining-requests"));
    http_reply_free(&a);
    http_reply_free(&b);
}

static void test_clock_is_bounded(void **state)
{
    struct http_reply r;

    (void)state;
    req("POST", "/_nexus/clock", NULL, "{\"advance_ms\":9223372036854775807}",
        &r);
    assert_error(&r, 400, "invalid_request_error", "advance_ms",
                 "invalid_value");
    http_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_list),
        cmocka_unit_test(test_model_get_and_404),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_routing_errors),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_chat_deterministic),
        cmocka_unit_test(test_chat_max_tokens_stop_n),
        cmocka_unit_test(test_stream_exact_bytes),
        cmocka_unit_test(test_billing),
        cmocka_unit_test(test_stream_billed_once),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_request_ids_unique),
        cmocka_unit_test(test_completion_id_from_request_id),
        cmocka_unit_test(test_tool_calls),
        cmocka_unit_test(test_structured_output),
        cmocka_unit_test(test_logprobs),
        cmocka_unit_test(test_hostile_text_still_gets_error_bodies),
        cmocka_unit_test(test_numbers_beyond_the_parser),
        cmocka_unit_test(test_unknown_model_not_counted),
        cmocka_unit_test(test_clock_is_bounded),
    };
    return cmocka_run_group_tests(tests, start_default, stop_default);
}
