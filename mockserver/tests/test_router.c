/* test_router: the request pipeline without a socket: router_dispatch on
 * hand-made requests against the embedded fixture, checking the order of
 * the checks (413, 404/405, 401, 400, 404 model, 429, 402), and the control
 * API's token, reset and state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "app.h"
#include "billing.h"
#include "buf.h"
#include "clock.h"
#include "fixtures.h"
#include "journal.h"
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

/* The headers of a request made by hand: "Name", "value", ..., NULL. */
static const char *hand_header(const void *ctx, const char *name)
{
    const char *const *h = ctx;

    for (; h != NULL && h[0] != NULL; h += 2)
        if (strcasecmp(h[0], name) == 0)
            return h[1];
    return NULL;
}

/* Dispatches one request, auth its Authorization (or NULL) and headers
 * more of them (or NULL), and returns the status; resp is left for
 * checks. */
static int dispatch_with(struct world *w, const char *method, const char *path,
                         const char *auth, const char *const *headers,
                         const char *body, struct response *resp)
{
    struct request req;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    req.authorization = auth;
    req.header = hand_header;
    req.header_ctx = headers;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.request_id = "req_test";
    response_init(resp);
    router_dispatch(&w->app, &req, resp);
    /* A body rendered as text (a chat completion) is read back, for the
     * assertions below, with allocations that do not fail (a test may make
     * the answer's own fail); response_cleanup frees both. */
    if (resp->body == NULL && resp->json_text != NULL) {
        json_malloc_t m;
        json_free_t f;

        json_get_alloc_funcs(&m, &f);
        json_set_alloc_funcs(malloc, free);
        resp->body = json_loadb(resp->json_text, resp->json_text_len, 0, NULL);
        json_set_alloc_funcs(m, f);
        assert_non_null(resp->body);
    }
    return resp->status;
}

/* dispatch_with without more headers. */
static int dispatch(struct world *w, const char *method, const char *path,
                    const char *auth, const char *body, struct response *resp)
{
    return dispatch_with(w, method, path, auth, NULL, body, resp);
}

/* The error code of a response, or "" when it has none. */
static const char *code_of(const struct response *r)
{
    const char *c = json_string_value(
        json_object_get(json_object_get(r->body, "error"), "code"));

    return c ? c : "";
}

#define TEST_KEY "Bearer sk-ai-nexus-test"
#define FREE_KEY "sk-ai-nexus-free"
#define FREE_INDEX 1
/* The request the control API's tests spend the free key with. */
#define CHAT OK_BODY
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
    assert_string_equal(response_header_get(&r, "allow"), "GET");
    response_cleanup(&r);
    /* Auth before validation. */
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions", NULL, "{", &r),
                     401);
    assert_null(response_header_get(&r, "x-ratelimit-limit-requests"));
    response_cleanup(&r);
    /* Validation before the model lookup. */
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions", TEST_KEY,
                              "{\"model\":\"nope\",\"messages\":[]}", &r),
                     400);
    assert_string_equal(
        response_header_get(&r, "x-ratelimit-remaining-requests"), "3000");
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
    assert_string_equal(response_header_get(&r, "x-ratelimit-limit-requests"),
                        "3000");
    assert_string_equal(
        response_header_get(&r, "x-ratelimit-remaining-requests"), "2999");
    assert_string_equal(response_header_get(&r, "x-ratelimit-reset-requests"),
                        "1m0s");
    assert_string_equal(response_header_get(&r, "x-ratelimit-limit-tokens"),
                        "2000000");
    response_cleanup(&r);
}

static void test_rate_limit_then_balance(void **state)
{
    struct world *w = *state;
    struct response r;
    unsigned long ms;
    int i;

    /* The free key: ten requests, then 429 before any balance check;
     * reading the balance in between counts for nothing. */
    for (i = 0; i < 10; i++) {
        assert_int_equal(dispatch(w, "POST", "/v1/chat/completions",
                                  "Bearer sk-ai-nexus-free", OK_BODY, &r),
                         200);
        response_cleanup(&r);
        assert_int_equal(dispatch(w, "GET", "/v1/balance",
                                  "Bearer sk-ai-nexus-free", NULL, &r),
                         200);
        response_cleanup(&r);
    }
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions",
                              "Bearer sk-ai-nexus-free", OK_BODY, &r),
                     429);
    /* The window opened at the first request, moments ago. */
    ms = strtoul(response_header_get(&r, "retry-after-ms"), NULL, 10);
    assert_true(ms > 55000 && ms <= 60000);
    assert_int_equal(strtoul(response_header_get(&r, "retry-after"), NULL, 10),
                     (ms + 999) / 1000);
    response_cleanup(&r);
    /* The empty key passes the limiter and meets the balance check. */
    assert_int_equal(dispatch(w, "POST", "/v1/chat/completions",
                              "Bearer sk-ai-nexus-empty", OK_BODY, &r),
                     402);
    assert_string_equal(code_of(&r), "insufficient_quota");
    assert_string_equal(
        response_header_get(&r, "x-ratelimit-remaining-requests"), "2999");
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
        strtol(response_header_get(&r, "x-ratelimit-remaining-tokens"), NULL,
               10),
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
        strtol(response_header_get(&r, "x-ratelimit-remaining-tokens"), NULL,
               10),
        2000000 - used);
    /* The refused request was not counted. */
    assert_string_equal(
        response_header_get(&r, "x-ratelimit-remaining-requests"), "2998");
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

/* The param of a response's error, or "" when it has none. */
static const char *param_of(const struct response *r)
{
    const char *p = json_string_value(
        json_object_get(json_object_get(r->body, "error"), "param"));

    return p ? p : "";
}

/* Turns the control API on, with a journal, and puts every balance and
 * window back as the fixture has them. */
static void admin_on(struct world *w)
{
    struct response r;

    w->app.admin = true;
    w->app.journal = journal_new(1 << 20, 1024, clock_real_ms());
    assert_non_null(w->app.journal);
    assert_int_equal(
        dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL, NULL, &r), 200);
    response_cleanup(&r);
}

static void admin_off(struct world *w)
{
    w->app.admin = false;
    w->app.admin_token = NULL;
    journal_free(w->app.journal);
    w->app.journal = NULL;
}

/* With a token, every path under /_nexus/ (a route or not) needs it, as
 * a Bearer or in X-Nexus-Admin-Token; the API itself does not. */
static void test_admin_token(void **state)
{
    struct world *w = *state;
    static const char *const good[] = {"X-Nexus-Admin-Token", "s3cret", NULL};
    static const char *const bad[] = {"x-nexus-admin-token", "s3cre", NULL};
    struct response r;

    admin_on(w);
    w->app.admin_token = "s3cret";
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/health", NULL, NULL, NULL, &r), 401);
    assert_string_equal(code_of(&r), "");
    response_cleanup(&r);
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/nothing", NULL, NULL, NULL, &r), 401);
    response_cleanup(&r);
    assert_int_equal(dispatch_with(w, "GET", "/_nexus/health", "Bearer s3cre",
                                   NULL, NULL, &r),
                     401);
    assert_string_equal(code_of(&r), "invalid_admin_token");
    response_cleanup(&r);
    assert_int_equal(dispatch_with(w, "GET", "/_nexus/health", "Bearer s3cret2",
                                   NULL, NULL, &r),
                     401);
    response_cleanup(&r);
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/health", NULL, bad, NULL, &r), 401);
    response_cleanup(&r);
    assert_int_equal(dispatch_with(w, "GET", "/_nexus/health", "Bearer s3cret",
                                   NULL, NULL, &r),
                     200);
    assert_string_equal(json_string_value(json_object_get(r.body, "status")),
                        "ok");
    response_cleanup(&r);
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/health", NULL, good, NULL, &r), 200);
    response_cleanup(&r);
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/nothing", NULL, good, NULL, &r), 404);
    response_cleanup(&r);
    assert_int_equal(dispatch_with(w, "GET", "/v1/models", "Bearer " FREE_KEY,
                                   NULL, NULL, &r),
                     200);
    response_cleanup(&r);
    w->app.admin_token = NULL;
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/health", NULL, NULL, NULL, &r), 200);
    response_cleanup(&r);
    /* Without --admin there is no /_nexus/ at all. */
    w->app.admin = false;
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/health", NULL, NULL, NULL, &r), 404);
    response_cleanup(&r);
    admin_off(w);
}

/* Spends the free key's window (10 requests) and some of its balance. */
static void spend_free_key(struct world *w)
{
    struct response r;
    int i;

    for (i = 0; i < 10; i++) {
        assert_int_equal(dispatch_with(w, "POST", "/v1/chat/completions",
                                       "Bearer " FREE_KEY, NULL, CHAT, &r),
                         200);
        response_cleanup(&r);
    }
    assert_int_equal(dispatch_with(w, "POST", "/v1/chat/completions",
                                   "Bearer " FREE_KEY, NULL, CHAT, &r),
                     429);
    response_cleanup(&r);
}

/* POST /_nexus/reset: the parts asked for, for one key or all, back to
 * the fixture's; bad bodies are 400s naming the parameter. */
static void test_admin_reset(void **state)
{
    struct world *w = *state;
    struct billing_account a;
    struct response r;

    admin_on(w);
    spend_free_key(w);
    assert_int_equal(billing_get(w->app.billing, FREE_INDEX, &a), 0);
    assert_true(a.balance < w->fx->keys[FREE_INDEX].balance);
    /* Only the window: the balance stays spent, the next request passes. */
    assert_int_equal(dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL,
                                   "{\"key\":\"" FREE_KEY
                                   "\",\"parts\":[\"rate_limits\"]}",
                                   &r),
                     200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(r.body, "reset"), "rate_limits")),
                     1);
    assert_null(json_object_get(json_object_get(r.body, "reset"), "balances"));
    assert_int_equal(json_integer_value(json_object_get(r.body, "key_index")),
                     FREE_INDEX);
    response_cleanup(&r);
    assert_int_equal(billing_get(w->app.billing, FREE_INDEX, &a), 0);
    assert_true(a.balance < w->fx->keys[FREE_INDEX].balance);
    assert_int_equal(dispatch_with(w, "POST", "/v1/chat/completions",
                                   "Bearer " FREE_KEY, NULL, CHAT, &r),
                     200);
    response_cleanup(&r);
    /* Everything, for every key: the fixture's balance to the pico-USD. */
    assert_int_equal(
        dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL, NULL, &r), 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(r.body, "reset"), "balances")),
                     3);
    assert_true(json_is_null(json_object_get(r.body, "key_index")));
    response_cleanup(&r);
    assert_int_equal(billing_get(w->app.billing, FREE_INDEX, &a), 0);
    assert_int_equal(a.balance, w->fx->keys[FREE_INDEX].balance);
    assert_int_equal(a.spent, w->fx->keys[FREE_INDEX].spent);
    assert_int_equal(a.reserved, 0);
    /* Bad bodies. */
    assert_int_equal(dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL,
                                   "{\"keys\":1}", &r),
                     400);
    assert_string_equal(code_of(&r), "unknown_parameter");
    assert_string_equal(param_of(&r), "keys");
    response_cleanup(&r);
    assert_int_equal(dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL,
                                   "{\"key\":\"sk-nope\"}", &r),
                     400);
    assert_string_equal(param_of(&r), "key");
    response_cleanup(&r);
    assert_int_equal(dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL,
                                   "{\"parts\":[\"balances\",\"scenery\"]}",
                                   &r),
                     400);
    assert_string_equal(code_of(&r), "invalid_value");
    response_cleanup(&r);
    assert_int_equal(dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL,
                                   "{\"parts\":\"journal\"}", &r),
                     400);
    response_cleanup(&r);
    assert_int_equal(
        dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL, "[1]", &r), 400);
    response_cleanup(&r);
    assert_int_equal(
        dispatch_with(w, "POST", "/_nexus/reset", NULL, NULL, "{", &r), 400);
    assert_string_equal(code_of(&r), "invalid_json");
    response_cleanup(&r);
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/reset", NULL, NULL, NULL, &r), 405);
    response_cleanup(&r);
    admin_off(w);
}

/* GET /_nexus/state: a key's balance as exact decimals and its window. */
static void test_admin_state(void **state)
{
    struct world *w = *state;
    struct response r;
    const json_t *key, *rl;

    admin_on(w);
    spend_free_key(w);
    assert_int_equal(
        dispatch_with(w, "GET", "/_nexus/state", NULL, NULL, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.body, "object")),
                        "nexus.state");
    key = json_array_get(json_object_get(r.body, "keys"), FREE_INDEX);
    assert_string_equal(json_string_value(json_object_get(key, "key")),
                        "sk-ai-...free");
    assert_string_equal(json_string_value(json_object_get(key, "plan")),
                        "free");
    rl = json_object_get(key, "rate_limit");
    assert_int_equal(
        json_integer_value(json_object_get(rl, "requests_per_minute")), 10);
    assert_true(json_is_null(json_object_get(rl, "tokens_per_minute")));
    assert_int_equal(json_integer_value(json_object_get(rl, "used_requests")),
                     10);
    assert_int_equal(
        json_integer_value(json_object_get(rl, "remaining_requests")), 0);
    assert_true(
        json_integer_value(json_object_get(rl, "resets_in_ms")) > 50000 &&
        json_integer_value(json_object_get(rl, "resets_in_ms")) <= 60000);
    /* Ten answers of the same completion at qwen-max's prices: 8 prompt
     * tokens at 1.60 and 31 completion tokens at 6.40 USD per million,
     * 0.0002112 USD each. */
    assert_string_equal(json_string_value(json_object_get(key, "balance")),
                        "4.997888");
    assert_string_equal(json_string_value(json_object_get(key, "total_spent")),
                        "0.002112");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(r.body, "journal"), "max_bytes")),
                     1 << 20);
    response_cleanup(&r);
    admin_off(w);
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
        cmocka_unit_test(test_admin_token),
        cmocka_unit_test(test_admin_reset),
        cmocka_unit_test(test_admin_state),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
