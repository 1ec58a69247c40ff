/* test_router: the request pipeline without a socket: router_dispatch on
 * hand-made requests against the embedded fixture, checking the order of
 * the checks (413, 404/405, 401, 400, 404 model, 429, 402). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app.h"
#include "billing.h"
#include "buf.h"
#include "clock.h"
#include "fixtures.h"
#include "ratelimit.h"
#include "router.h"

struct world {
    struct app app;
    struct fixtures *fx;
};

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    struct fixture_error err;

    if (w == NULL || fixtures_load_default(&w->fx, &err) != 0)
        return -1;
    w->app.fx = w->fx;
    w->app.clock = clock_new();
    w->app.rl = ratelimit_new(w->fx->nkeys);
    w->app.billing = billing_new(w->fx, 0);
    w->app.max_body = 1024;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    billing_free(w->app.billing);
    ratelimit_free(w->app.rl);
    clock_free(w->app.clock);
    fixtures_free(w->fx);
    free(w);
    return 0;
}

/* Dispatches one request and returns the status; resp is left for checks. */
static int dispatch(struct world *w, const char *method, const char *path,
                    const char *auth, const char *body, struct response *resp)
{
    struct request req;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    req.authorization = auth;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.request_id = "req_test";
    response_init(resp);
    router_dispatch(&w->app, &req, resp);
    return resp->status;
}

/* The error code of a response, or "" when it has none. */
static const char *code_of(const struct response *r)
{
    const char *c = json_string_value(
        json_object_get(json_object_get(r->body, "error"), "code"));

    return c ? c : "";
}

/* The value of a header the response carries, or NULL. */
static const char *header_of(const struct response *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

#define TEST_KEY "Bearer sk-ai-nexus-test"
#define OK_BODY                                                                \
    "{\"model\":\"qwen-max\",\"messages\":[{\"role\":\"user\","                \
    "\"content\":\"hi\"}]}"

static void test_order_of_checks(void **state)
{
    struct world *w = *state;
    struct response r;
    struct request big;

    /* Unknown path before auth; wrong method before auth. */
    assert_int_equal(dispatch(w, "GET", "/v2/x", NULL, NULL, &r), 404);
    assert_string_equal(code_of(&r), "unknown_url");
    response_cleanup(&r);
    assert_int_equal(dispatch(w, "PUT", "/v1/models", NULL, NULL, &r), 405);
    assert_string_equal(header_of(&r, "allow"), "GET");
    response_cleanup(&r);
    /* Auth before validation. */
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions", NULL, "{", &r),
                     401);
    assert_null(header_of(&r, "x-ratelimit-limit-requests"));
    response_cleanup(&r);
    /* Validation before the model lookup. */
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions", TEST_KEY,
                              "{\"model\":\"nope\",\"messages\":[]}", &r),
                     400);
    assert_string_equal(header_of(&r, "x-ratelimit-remaining-requests"),
                        "3000");
    response_cleanup(&r);
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions", TEST_KEY,
                              "{\"model\":\"nope\",\"messages\":[{\"role\":"
                              "\"user\",\"content\":\"x\"}]}",
                              &r),
                     404);
    assert_string_equal(code_of(&r), "model_not_found");
    response_cleanup(&r);
    /* 413 comes first of all, flagged by the server. */
    memset(&big, 0, sizeof(big));
    big.method = "GET";
    big.path = "/nowhere";
    big.request_id = "req_big";
    big.body_too_large = true;
    response_init(&r);
    router_dispatch(&w->app, &big, &r);
    assert_int_equal(r.status, 413);
    response_cleanup(&r);
}

static void test_chat_and_headers(void **state)
{
    struct world *w = *state;
    struct response r;

    assert_int_equal(
        dispatch(w, "POST", "/v1/chat/completions", TEST_KEY, OK_BODY, &r),
        200);
    assert_string_equal(json_string_value(json_object_get(r.body, "object")),
                        "chat.completion");
    assert_string_equal(header_of(&r, "x-ratelimit-limit-requests"), "3000");
    assert_string_equal(header_of(&r, "x-ratelimit-remaining-requests"),
                        "2999");
    assert_string_equal(header_of(&r, "x-ratelimit-reset-requests"), "1m0s");
    assert_string_equal(header_of(&r, "x-ratelimit-limit-tokens"), "2000000");
    response_cleanup(&r);
}

static void test_rate_limit_then_balance(void **state)
{
    struct world *w = *state;
    struct response r;
    unsigned long ms;
    int i;

    /* The free key: ten requests, then 429 before any balance check. */
    for (i = 0; i < 10; i++) {
        assert_int_equal(dispatch(w, "GET", "/v1/balance",
                                  "Bearer sk-ai-nexus-free", NULL, &r),
                         200);
        response_cleanup(&r);
    }
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions",
                              "Bearer sk-ai-nexus-free", OK_BODY, &r),
                     429);
    /* The window opened at the first request, moments ago. */
    ms = strtoul(header_of(&r, "retry-after-ms"), NULL, 10);
    assert_true(ms > 55000 && ms <= 60000);
    assert_int_equal(strtoul(header_of(&r, "retry-after"), NULL, 10),
                     (ms + 999) / 1000);
    response_cleanup(&r);
    /* The empty key passes the limiter and meets the balance check. */
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions",
                              "Bearer sk-ai-nexus-empty", OK_BODY, &r),
                     402);
    assert_string_equal(code_of(&r), "insufficient_quota");
    assert_string_equal(header_of(&r, "x-ratelimit-remaining-requests"),
                        "2999");
    response_cleanup(&r);
}

/* total_tokens of a completion's usage. */
static long total_of(const struct response *r)
{
    return (long)json_integer_value(
        json_object_get(json_object_get(r->body, "usage"), "total_tokens"));
}

/* The token limit admits a request by what it may use before its reply
 * exists (prompt + max_tokens, or the generation's cap, per choice), then
 * counts what it used: the headers show exact tokens. */
static void test_tokens_reserved_before_generation(void **state)
{
    struct world *w;
    struct response r;
    long used;

    (void)state;
    assert_int_equal(setup((void **)&w), 0);
    /* With this generation budget n=8 may use 8 x 262144 tokens, more than
     * the plan's 2,000,000: the first request of a window is let through
     * all the same. */
    w->app.gen.max_nodes = 8u * 262144u;
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions", TEST_KEY,
                              "{\"model\":\"qwen-max\",\"n\":8,"
                              "\"messages\":[{\"role\":\"user\","
                              "\"content\":\"hi\"}]}",
                              &r),
                     200);
    used = total_of(&r);
    assert_true(used > 8 && used < 2000);
    assert_int_equal(
        strtol(header_of(&r, "x-ratelimit-remaining-tokens"), NULL, 10),
        2000000 - used);
    response_cleanup(&r);
    /* Again: its reservation no longer fits beside what was used. */
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions", TEST_KEY,
                              "{\"model\":\"qwen-max\",\"n\":8,"
                              "\"messages\":[{\"role\":\"user\","
                              "\"content\":\"hi\"}]}",
                              &r),
                     429);
    assert_string_equal(code_of(&r), "rate_limit_exceeded");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r.body, "error"), "type")),
                        "tokens");
    response_cleanup(&r);
    /* With max_tokens it fits, and the headers count exact tokens. */
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions", TEST_KEY,
                              "{\"model\":\"qwen-max\",\"n\":8,"
                              "\"max_tokens\":5,\"messages\":[{\"role\":"
                              "\"user\",\"content\":\"hi\"}]}",
                              &r),
                     200);
    used += total_of(&r);
    assert_int_equal(
        strtol(header_of(&r, "x-ratelimit-remaining-tokens"), NULL, 10),
        2000000 - used);
    /* The refused request was not counted. */
    assert_string_equal(header_of(&r, "x-ratelimit-remaining-requests"),
                        "2998");
    response_cleanup(&r);
    teardown((void **)&w);
}

/* A streamed answer carries its money to its end: nothing is charged while
 * it is held by the response, a stream the server never sent (cleaned up
 * unsent) costs nothing, and one that sent its events is charged. */
static void test_stream_settled_when_it_ends(void **state)
{
    static const char stream_body[] =
        "{\"model\":\"qwen-max\",\"stream\":true,\"messages\":"
        "[{\"role\":\"user\",\"content\":\"hi\"}]}";
    struct world *w = *state;
    size_t key =
        (size_t)(fixtures_find_key(w->fx, "sk-ai-nexus-test") - w->fx->keys);
    struct billing_account before, during, after;
    struct source_end how;
    struct response r;
    struct buf out;

    assert_int_equal(billing_get(w->app.billing, key, &before), 0);
    assert_int_equal(
        dispatch(w, "POST", "/v1/chat/completions", TEST_KEY, stream_body, &r),
        200);
    assert_non_null(r.source.ops);
    assert_int_equal(billing_get(w->app.billing, key, &during), 0);
    assert_int_equal(during.spent, before.spent);
    assert_int_equal(during.balance, before.balance);
    response_cleanup(&r); /* never sent */
    assert_int_equal(billing_get(w->app.billing, key, &after), 0);
    assert_int_equal(after.spent, before.spent);
    assert_int_equal(after.balance, before.balance);
    /* Sent whole, it is charged once it ends. */
    assert_int_equal(
        dispatch(w, "POST", "/v1/chat/completions", TEST_KEY, stream_body, &r),
        200);
    memset(&how, 0, sizeof(how));
    buf_init(&out, 1 << 20);
    while (r.source.ops->next(r.source.self, &out) == SOURCE_PIECE) {
        how.pieces++;
        buf_reset(&out);
    }
    how.completed = true;
    r.source.ops->end(r.source.self, &how);
    r.source.ops = NULL;
    response_cleanup(&r);
    buf_cleanup(&out);
    assert_int_equal(billing_get(w->app.billing, key, &after), 0);
    assert_true(after.spent > before.spent);
    assert_int_equal(after.balance + after.spent,
                     before.balance + before.spent);
}

/* jansson's allocations succeed this many more times, then fail. */
static size_t json_allocs_left;

static void *failing_malloc(size_t size)
{
    if (json_allocs_left == 0)
        return NULL;
    json_allocs_left--;
    return malloc(size);
}

/* Money moves only with an answer: jansson's allocations fail from the
 * n-th on, for every n until one request runs whole, so the pipeline stops
 * at each place that builds JSON (parsing, errors, the rendered body). A
 * 200 must carry its body and cost exactly its usage; anything else must
 * cost nothing. */
static void test_no_charge_without_answer(void **state)
{
    struct world *w = *state;
    const struct fx_model *m = fixtures_find_model(w->fx, "qwen-max");
    size_t key =
        (size_t)(fixtures_find_key(w->fx, "sk-ai-nexus-test") - w->fx->keys);
    struct billing_account before, after;
    struct response r;
    size_t n;
    bool whole = false;

    for (n = 0; !whole; n++) {
        assert_int_equal(billing_get(w->app.billing, key, &before), 0);
        json_allocs_left = n;
        json_set_alloc_funcs(failing_malloc, free);
        dispatch(w, "POST", "/v1/chat/completions", TEST_KEY, OK_BODY, &r);
        json_set_alloc_funcs(malloc, free);
        whole = json_allocs_left > 0;
        assert_int_equal(billing_get(w->app.billing, key, &after), 0);
        if (r.status == 200) {
            json_t *usage = json_object_get(r.body, "usage");
            json_int_t p, c;

            if (r.body == NULL)
                print_error("n=%zu: 200 without a body, %lld pico-USD "
                            "charged\n",
                            n, (long long)(after.spent - before.spent));
            assert_non_null(r.body);
            p = json_integer_value(json_object_get(usage, "prompt_tokens"));
            c = json_integer_value(json_object_get(usage, "completion_tokens"));
            assert_true(p > 0 && c > 0);
            assert_int_equal(after.spent - before.spent,
                             billing_cost(m, (uint64_t)p, (uint64_t)c));
        } else {
            assert_int_equal(after.spent, before.spent);
        }
        assert_int_equal(after.balance + after.spent,
                         before.balance + before.spent);
        response_cleanup(&r);
    }
    assert_true(n > 10); /* the request did fail at many points */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_of_checks),
        cmocka_unit_test(test_chat_and_headers),
        cmocka_unit_test(test_rate_limit_then_balance),
        cmocka_unit_test(test_no_charge_without_answer),
        cmocka_unit_test(test_stream_settled_when_it_ends),
        cmocka_unit_test(test_tokens_reserved_before_generation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
