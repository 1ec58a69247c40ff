/* test_client_retries: GET /_nexus/clients against what the real openai
 * package (tests/clients/drive.mjs) does, over loopback. A real nexus-mock
 * gives the free key's 429 (its window moved to end 5 s later with the
 * admin clock, so the SDK's wait is short), the empty key's 402, and a 429
 * to a client allowed no retry; a server of the mock's own code whose
 * chat route always fails gives a 500 (the SDK's backoff, to its limit)
 * and a 429 asking for 1200 ms. Each time the report must say what the SDK
 * did: attempts, X-Stainless-Retry-Count, the waits against the advice,
 * the backoff, the limit. Needs Node.js 20 (skipped, 77, without node). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "app.h"
#include "clock.h"
#include "fixtures.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "routes.h"
#include "server.h"
#include "testutil.h"

#define FREE_KEY "sk-ai-nexus-free"
#define EMPTY_KEY "sk-ai-nexus-empty"
#define TEST_KEY "sk-ai-nexus-test"
/* How long one drive.mjs run may take in all. */
#define DRIVE_TIMEOUT_S 60
/* How long before the end of its window the free key's 429 comes. */
#define WINDOW_LEFT_MS 5000
/* The chat route of the failing server: 429s ask for this wait. */
#define ASKED_MS 1200

static struct testproc mock;
static char drive_path[1024];

static int start(void **state)
{
    static const char *const extra[] = {"--admin", NULL};

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return mock_start(&mock, extra);
}

static int stop(void **state)
{
    (void)state;
    return testproc_stop(&mock) == 0 ? 0 : -1;
}

static const char *str(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static json_int_t num(const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);

    if (!json_is_integer(v))
        fail_msg("%s is not an integer", name);
    return json_integer_value(v);
}

/* Renders a member compactly, for comparing arrays. */
static void assert_json(const json_t *o, const char *name, const char *want)
{
    char *text =
        json_dumps(json_object_get(o, name), JSON_COMPACT | JSON_ENCODE_ANY);

    assert_non_null(text);
    if (strcmp(text, want) != 0)
        fail_msg("%s is %s, want %s", name, text, want);
    free(text);
}

/* Runs the openai client through the chat scenario against url with key
 * and model, allowing max_retries; returns its one result (new). */
static json_t *sdk_chat(const char *url, const char *key, const char *model,
                        const char *max_retries)
{
    char base[300];
    const char *args[] = {"--client",
                          "openai",
                          "--base-url",
                          base,
                          "--api-key",
                          key,
                          "--model",
                          model,
                          "--scenario",
                          "chat",
                          "--timeout-ms",
                          "10000",
                          "--backoff-ms",
                          "10000",
                          "--max-retries",
                          max_retries,
                          NULL};
    json_t *results, *r;

    snprintf(base, sizeof(base), "%s/v1", url);
    results = drive_run(drive_path, args, DRIVE_TIMEOUT_S);
    assert_non_null(results);
    assert_int_equal(json_array_size(results), 1);
    r = json_incref(json_array_get(results, 0));
    json_decref(results);
    return r;
}

/* GETs path from the server at p and returns its JSON (new). */
static json_t *get(const struct testproc *p, const char *path)
{
    struct http_reply r;
    json_t *j;

    assert_int_equal(http_do(p, "GET", path, NULL, NULL, NULL, &r), 0);
    if (r.status != 200)
        fail_msg("GET %s: %ld %s", path, r.status, r.body);
    j = json_incref(r.json);
    assert_non_null(j);
    http_reply_free(&r);
    return j;
}

/* Waits (at most 5 s) until the journal of p holds n entries that the
 * query selects: the server records a request a moment after its client
 * has read the answer. */
static void wait_recorded(const struct testproc *p, const char *query,
                          json_int_t n)
{
    char path[256];
    json_int_t got = -1;
    int i;

    snprintf(path, sizeof(path), "/_nexus/requests?limit=0&%s", query);
    for (i = 0; i < 500 && got < n; i++) {
        json_t *list = get(p, path);

        got = num(list, "matched");
        json_decref(list);
        if (got < n)
            usleep(10000);
    }
    assert_int_equal(got, n);
}

/* The report's last call of its only client, which the SDK made (new);
 * the client's summary goes to *summary (new) when not NULL. */
static json_t *last_call(const struct testproc *p, const char *query,
                         json_t **summary)
{
    char path[256];
    json_t *rep, *calls, *c;
    const json_t *clients;

    snprintf(path, sizeof(path), "/_nexus/clients?%s", query);
    rep = get(p, path);
    clients = json_object_get(rep, "clients");
    assert_int_equal(json_array_size(clients), 1);
    calls = json_object_get(json_array_get(clients, 0), "calls");
    c = json_incref(json_array_get(calls, json_array_size(calls) - 1));
    if (summary != NULL)
        *summary =
            json_incref(json_object_get(json_array_get(clients, 0), "summary"));
    json_decref(rep);
    return c;
}

/* Spends the free key's window: ten requests (ten calls that succeeded). */
static void fill_free_window(void)
{
    struct http_reply r;
    int i;

    for (i = 0; i < 10; i++) {
        assert_int_equal(http_do(&mock, "POST", "/v1/chat/completions",
                                 FREE_KEY,
                                 "{\"model\":\"deepseek-v4\",\"messages\":[{"
                                 "\"role\":\"user\",\"content\":\"fill\"}]}",
                                 NULL, &r),
                         0);
        assert_int_equal(r.status, 200);
        http_reply_free(&r);
    }
}

/* Moves the mock's clock so the free key's window ends WINDOW_LEFT_MS
 * from now. */
static void window_ends_soon(void)
{
    json_t *st = get(&mock, "/_nexus/state");
    const json_t *rl = json_object_get(
        json_array_get(json_object_get(st, "keys"), 1), "rate_limit");
    json_int_t left = num(rl, "resets_in_ms");
    char body[64];
    struct http_reply r;

    assert_string_equal(
        str(json_array_get(json_object_get(st, "keys"), 1), "key"),
        "sk-ai-...free");
    assert_true(left > WINDOW_LEFT_MS);
    snprintf(body, sizeof(body), "{\"advance_ms\":%lld",
             (long long)(left - WINDOW_LEFT_MS));
    memcpy(body + strlen(body), "}", 2);
    assert_int_equal(
        http_do(&mock, "POST", "/_nexus/clock", NULL, body, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    json_decref(st);
}

/* A 429 asking the SDK to wait until the window ends: it waits that long
 * (retry-after-ms, to the millisecond), retries once with
 * X-Stainless-Retry-Count 1, and gets its answer. */
static void test_429_then_success(void **state)
{
    json_t *r, *c, *summary;
    const json_t *reqs, *t0, *t1;
    json_int_t advised, wait, sdk_wait;

    (void)state;
    fill_free_window();
    window_ends_soon();
    r = sdk_chat(mock.url, FREE_KEY, "deepseek-v4", "2");
    assert_string_equal(str(r, "outcome"), "works");
    reqs = json_object_get(r, "requests");
    assert_int_equal(json_array_size(reqs), 2);
    assert_int_equal(num(json_array_get(reqs, 0), "status"), 429);
    assert_int_equal(num(json_array_get(reqs, 1), "status"), 200);
    wait_recorded(&mock, "key=" FREE_KEY, 12);
    c = last_call(&mock, "key=" FREE_KEY, &summary);
    /* The ten that filled the window, and the SDK's. */
    assert_int_equal(num(summary, "calls"), 11);
    assert_int_equal(num(summary, "attempts"), 12);
    assert_int_equal(num(summary, "retried_calls"), 1);
    assert_int_equal(num(c, "attempts"), 2);
    assert_string_equal(str(c, "outcome"), "succeeded");
    assert_string_equal(str(c, "grouped_by"), "body");
    assert_json(c, "retry_count_headers", "[0,1]");
    assert_true(json_is_true(json_object_get(c, "retry_count_consistent")));
    assert_true(json_is_true(json_object_get(c, "honored_retry_after")));
    assert_true(json_is_null(json_object_get(c, "stopped_at_limit")));
    assert_json(c, "retried_after_status", "[429]");
    t0 = json_array_get(json_object_get(c, "tries"), 0);
    t1 = json_array_get(json_object_get(c, "tries"), 1);
    /* What the mock advised is what the SDK read. */
    assert_string_equal(str(t0, "retry_after_ms"),
                        str(json_array_get(reqs, 0), "retry_after_ms"));
    assert_string_equal(str(t0, "retry_after"),
                        str(json_array_get(reqs, 0), "retry_after"));
    advised = num(t1, "advised_wait_ms");
    assert_int_equal(advised, strtoll(str(t0, "retry_after_ms"), NULL, 10));
    assert_true(advised > 0 && advised <= WINDOW_LEFT_MS);
    wait = num(t1, "wait_ms");
    sdk_wait = json_integer_value(
        json_array_get(json_object_get(r, "retry_waits_ms"), 0));
    fprintf(stderr,
            "# advised %lld ms; the mock measured a wait of %lld ms, the "
            "SDK's fetch %lld ms\n",
            (long long)advised, (long long)wait, (long long)sdk_wait);
    assert_true(wait + 2 >= advised);
    assert_true(wait <= advised + 1000);
    assert_true(wait - sdk_wait <= 100 && sdk_wait - wait <= 100);
    json_decref(summary);
    json_decref(c);
    json_decref(r);
}

/* A 402 is not retried: one attempt, a failure, no limit in play. */
static void test_402_not_retried(void **state)
{
    json_t *r, *c;

    (void)state;
    r = sdk_chat(mock.url, EMPTY_KEY, "deepseek-v4", "2");
    assert_string_equal(str(r, "outcome"), "throws");
    assert_int_equal(num(json_object_get(r, "error"), "status"), 402);
    wait_recorded(&mock, "key=" EMPTY_KEY, 1);
    c = last_call(&mock, "key=" EMPTY_KEY, NULL);
    assert_int_equal(num(c, "attempts"), 1);
    assert_string_equal(str(c, "outcome"), "failed");
    assert_int_equal(num(c, "final_status"), 402);
    assert_true(json_is_null(json_object_get(c, "stopped_at_limit")));
    assert_json(c, "retry_count_headers", "[0]");
    assert_json(c, "waits_ms", "[]");
    json_decref(c);
    json_decref(r);
}

/* A client allowed no retry gives up on its first 429: at its limit when
 * the report is told the limit is 0, early for the default 2. */
static void test_429_without_retries(void **state)
{
    struct http_reply hr;
    json_t *r, *c;

    (void)state;
    assert_int_equal(http_do(&mock, "POST", "/_nexus/reset", NULL,
                             "{\"key\":\"" FREE_KEY "\"}", NULL, &hr),
                     0);
    assert_int_equal(hr.status, 200);
    http_reply_free(&hr);
    fill_free_window();
    r = sdk_chat(mock.url, FREE_KEY, "deepseek-v4", "0");
    assert_string_equal(str(r, "outcome"), "throws");
    assert_int_equal(num(json_object_get(r, "error"), "status"), 429);
    assert_int_equal(json_array_size(json_object_get(r, "requests")), 1);
    wait_recorded(&mock, "key=" FREE_KEY, 11);
    c = last_call(&mock, "key=" FREE_KEY "&max_retries=0", NULL);
    assert_int_equal(num(c, "attempts"), 1);
    assert_string_equal(str(c, "outcome"), "gave_up");
    assert_true(json_is_true(json_object_get(c, "stopped_at_limit")));
    json_decref(c);
    c = last_call(&mock, "key=" FREE_KEY, NULL);
    assert_true(json_is_false(json_object_get(c, "stopped_at_limit")));
    json_decref(c);
    json_decref(r);
}

/* The chat route of the failing server: 500 for the model "fail-500", a
 * 429 asking for ASKED_MS for any other. */
static void failing_chat(struct app *app, struct request *req,
                         struct response *resp)
{
    struct api_error e;
    bool five = req->body != NULL && strstr(req->body, "fail-500") != NULL;

    (void)app;
    api_error_set(&e, five ? API_ERR_SERVER : API_ERR_RATE_REQUESTS, NULL, NULL,
                  "%s", five ? "Always failing." : "Always limited.");
    response_error(resp, &e);
    if (!five) {
        response_header(resp, "retry-after", "1");
        response_header(resp, "retry-after-ms", "%d", ASKED_MS);
    }
}

static const struct route route_failing = {.name = "failing",
                                           .method = "POST",
                                           .path = "/v1/chat/completions",
                                           .handler = failing_chat};
static const struct route *const failing_routes[] = {
    &route_failing, &route_admin_clients, &route_admin_requests};

/* A server of the mock's own code over failing_routes, with a journal. */
struct failing_server {
    struct app app;
    struct fixtures *fx;
    struct server *srv;
    struct testproc as_proc; /* its URL, for http_do; no process */
};

static void failing_start(struct failing_server *f)
{
    struct server_config cfg = test_server_config(2, 100);
    struct fixture_error err;
    char cause[256];

    memset(f, 0, sizeof(*f));
    assert_int_equal(fixtures_load_default(&f->fx, &err), 0);
    f->app.fx = f->fx;
    f->app.clock = clock_new();
    f->app.log = log_new(stderr, LOG_TEXT, true);
    f->app.journal = journal_new(1 << 20, 4096, clock_real_ms());
    f->app.admin = true;
    f->app.max_body = 1 << 20;
    f->app.routes = failing_routes;
    f->app.nroutes = 3;
    assert_int_equal(server_start(&f->app, &cfg, &f->srv, cause, sizeof(cause)),
                     0);
    snprintf(f->as_proc.url, sizeof(f->as_proc.url), "http://127.0.0.1:%u",
             server_port(f->srv));
}

static void failing_stop(struct failing_server *f)
{
    assert_int_equal(server_stop(f->srv, 1000), 0);
    journal_free(f->app.journal);
    log_free(f->app.log);
    clock_free(f->app.clock);
    fixtures_free(f->fx);
}

/* Always 500: the SDK's default limit, 2 retries, so 3 attempts, counted
 * 0, 1, 2; its backoff of 0.5 s then 1 s (each less up to a quarter of
 * jitter) grew; it stopped at its limit. */
static void test_500_backoff_to_the_limit(void **state)
{
    struct failing_server f;
    json_t *r, *c;
    const json_t *waits, *sdk;

    (void)state;
    failing_start(&f);
    r = sdk_chat(f.as_proc.url, TEST_KEY, "fail-500", "2");
    assert_string_equal(str(r, "outcome"), "throws");
    assert_int_equal(num(json_object_get(r, "error"), "status"), 500);
    wait_recorded(&f.as_proc, "", 3);
    c = last_call(&f.as_proc, "", NULL);
    assert_int_equal(num(c, "attempts"), 3);
    assert_string_equal(str(c, "outcome"), "gave_up");
    assert_true(json_is_true(json_object_get(c, "stopped_at_limit")));
    assert_true(json_is_false(json_object_get(c, "over_limit")));
    assert_true(json_is_true(json_object_get(c, "backoff_grew")));
    assert_true(json_is_null(json_object_get(c, "honored_retry_after")));
    assert_json(c, "retry_count_headers", "[0,1,2]");
    assert_json(c, "retried_after_status", "[500,500]");
    waits = json_object_get(c, "waits_ms");
    sdk = json_object_get(r, "retry_waits_ms");
    fprintf(stderr, "# backoff measured by the mock: %lld, %lld ms\n",
            (long long)json_integer_value(json_array_get(waits, 0)),
            (long long)json_integer_value(json_array_get(waits, 1)));
    /* The lower bounds are the SDK's (0.5 s and 1 s less a quarter of
     * jitter); the upper ones and the agreement with the SDK's own clock
     * leave room for a loaded machine (sanitizer builds, parallel legs). */
    assert_in_range(json_integer_value(json_array_get(waits, 0)), 370, 1000);
    assert_in_range(json_integer_value(json_array_get(waits, 1)), 745, 1700);
    assert_true(llabs(json_integer_value(json_array_get(waits, 0)) -
                      json_integer_value(json_array_get(sdk, 0))) <= 250 &&
                llabs(json_integer_value(json_array_get(waits, 1)) -
                      json_integer_value(json_array_get(sdk, 1))) <= 250);
    json_decref(c);
    json_decref(r);
    failing_stop(&f);
}

/* Always 429 asking for 1200 ms (ASKED_MS): the SDK waits what it is asked each
 * time, three attempts, then gives up at its limit. */
static void test_429_retry_after_honoured(void **state)
{
    struct failing_server f;
    json_t *r, *c;
    const json_t *t;
    size_t i;

    (void)state;
    failing_start(&f);
    r = sdk_chat(f.as_proc.url, TEST_KEY, "limited", "2");
    assert_string_equal(str(r, "outcome"), "throws");
    assert_int_equal(num(json_object_get(r, "error"), "status"), 429);
    wait_recorded(&f.as_proc, "", 3);
    c = last_call(&f.as_proc, "", NULL);
    assert_int_equal(num(c, "attempts"), 3);
    assert_true(json_is_true(json_object_get(c, "stopped_at_limit")));
    assert_true(json_is_true(json_object_get(c, "honored_retry_after")));
    assert_json(c, "retry_count_headers", "[0,1,2]");
    json_array_foreach(json_object_get(c, "tries"), i, t)
    {
        if (i == 0)
            continue;
        assert_int_equal(num(t, "advised_wait_ms"), ASKED_MS);
        /* At least what was asked; the SDK's own backoff would have been
         * at most 1000 ms, so honouring and ignoring cannot be confused
         * however slow a loaded machine makes the round trip. */
        assert_in_range(num(t, "wait_ms"), ASKED_MS - 2, ASKED_MS + 1500);
        assert_true(json_is_true(json_object_get(t, "honored")));
    }
    json_decref(c);
    json_decref(r);
    failing_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_429_then_success),
        cmocka_unit_test(test_402_not_retried),
        cmocka_unit_test(test_429_without_retries),
        cmocka_unit_test(test_500_backoff_to_the_limit),
        cmocka_unit_test(test_429_retry_after_honoured),
    };
    int rc =
        drive_prepare("test_client_retries", drive_path, sizeof(drive_path));

    if (rc != 0)
        return rc;
    return cmocka_run_group_tests(tests, start, stop);
}
