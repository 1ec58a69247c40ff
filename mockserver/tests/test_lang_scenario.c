/* test_lang_scenario: scenarios through a real nexus-mock over loopback:
 * fail twice then succeed, a 429 whose own Retry-After makes a retry take
 * milliseconds, and a scenario stepped by concurrent requests one at a
 * time. */
#include <pthread.h>
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
#define SAY(text)                                                              \
    "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"" text   \
    "\"}]}"
#define RACERS 8

static const char scenario_fixture[] =
    "version: 2\n"
    "plans: {p: {requests_per_minute: 1000}}\n"
    "models:\n"
    "  - {id: m1, created: 1, price: {input_per_million: 1, "
    "output_per_million: 2}}\n"
    "keys:\n"
    "  - {key: k1, plan: p, balance: 10}\n"
    "scenarios:\n"
    "  limited: {initial: limited}\n"
    "rules:\n"
    "  - name: flaky-1\n"
    "    scenario: flaky\n"
    "    state: started\n"
    "    call: 1\n"
    "    match: {last_user_message: retry}\n"
    "    reply: {status: 500}\n"
    "  - name: flaky-2\n"
    "    scenario: flaky\n"
    "    state: started\n"
    "    call: 2\n"
    "    then: recovered\n"
    "    match: {last_user_message: retry}\n"
    "    reply: {status: 500}\n"
    "  - name: flaky-ok\n"
    "    scenario: flaky\n"
    "    state: recovered\n"
    "    match: {last_user_message: retry}\n"
    "    reply: {content: third time lucky}\n"
    "  - name: limited\n"
    "    scenario: limited\n"
    "    state: limited\n"
    "    then: open\n"
    "    match: {last_user_message: limit}\n"
    "    reply: {status: 429, retry_after_ms: 50}\n"
    "  - name: open\n"
    "    scenario: limited\n"
    "    state: open\n"
    "    match: {last_user_message: limit}\n"
    "    reply: {content: let through}\n"
    "  - name: first\n"
    "    scenario: race\n"
    "    state: started\n"
    "    call: 1\n"
    "    then: taken\n"
    "    match: {last_user_message: race}\n"
    "    reply: {content: first}\n"
    "  - name: later\n"
    "    match: {last_user_message: race}\n"
    "    reply: {content: later}\n";

static struct fixture_mock fm;

static int start(void **state)
{
    static const char *const extra[] = {"--admin", NULL};

    (void)state;
    return fixture_mock_start(&fm, scenario_fixture, extra);
}

static int stop(void **state)
{
    (void)state;
    return fixture_mock_stop(&fm);
}

/* Sends body as k1 and returns the status; *content gets choice 0's
 * content (a new string) when it has one. */
static long say(const char *body, char **content, struct http_reply *r)
{
    const char *c;

    assert_int_equal(http_do(&fm.proc, "POST", CHAT, "k1", body, NULL, r), 0);
    c = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(r->json, "choices"), 0),
                        "message"),
        "content"));
    if (content != NULL)
        *content = c != NULL ? strdup(c) : NULL;
    return r->status;
}

/* 500, 500, then success, and success from then on. */
static void test_fail_twice(void **state)
{
    struct http_reply r;
    char *content;
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        assert_int_equal(say(SAY("retry"), NULL, &r), 500);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(r.json, "error"), "type")),
                            "server_error");
        http_reply_free(&r);
    }
    for (i = 0; i < 2; i++) {
        assert_int_equal(say(SAY("retry"), &content, &r), 200);
        assert_string_equal(content, "third time lucky");
        free(content);
        http_reply_free(&r);
    }
}

/* A scripted 429 carries its own Retry-After (rounded up to whole
 * seconds) and retry-after-ms, the rate-limit error body, and lets the
 * retry through. */
static void test_429_then_success(void **state)
{
    struct http_reply r;
    char *content, *h;

    (void)state;
    assert_int_equal(say(SAY("limit"), NULL, &r), 429);
    h = http_header(&r, "retry-after");
    assert_string_equal(h, "1");
    free(h);
    h = http_header(&r, "retry-after-ms");
    assert_string_equal(h, "50");
    free(h);
    assert_string_equal(
        r.body, "{\"error\":{\"message\":\"Rate limit reached for requests. "
                "Please try again later.\",\"type\":\"requests\",\"param\":"
                "null,\"code\":\"rate_limit_exceeded\"}}\n");
    http_reply_free(&r);
    assert_int_equal(say(SAY("limit"), &content, &r), 200);
    assert_string_equal(content, "let through");
    free(content);
    http_reply_free(&r);
}

/* What one racer got. */
struct racer {
    char *content;
};

static void *race(void *arg)
{
    struct racer *rc = arg;
    struct http_reply r;

    if (say(SAY("race"), &rc->content, &r) != 200) {
        free(rc->content);
        rc->content = NULL;
    }
    http_reply_free(&r);
    return NULL;
}

/* Concurrent requests step the scenario one at a time: exactly one gets
 * the first call. */
static void test_concurrent_step(void **state)
{
    struct racer racers[RACERS];
    pthread_t th[RACERS];
    int i, first = 0, later = 0;

    (void)state;
    memset(racers, 0, sizeof(racers));
    for (i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &racers[i]), 0);
    for (i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < RACERS; i++) {
        assert_non_null(racers[i].content);
        first += strcmp(racers[i].content, "first") == 0;
        later += strcmp(racers[i].content, "later") == 0;
        free(racers[i].content);
    }
    assert_int_equal(first, 1);
    assert_int_equal(later, RACERS - 1);
}

/* The control API: GET /_nexus/state shows each scenario's state and
 * calls, POST /_nexus/reset puts the scenarios back where they started
 * (not for one key), and the journal names the rule and scenario that
 * answered. Runs after test_fail_twice, so flaky has recovered. */
static void test_control_api(void **state)
{
    struct http_reply r;
    json_t *sc, *entry;
    size_t i;
    const char *name;

    (void)state;
    assert_int_equal(
        http_do(&fm.proc, "GET", "/_nexus/state", NULL, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    json_array_foreach(json_object_get(r.json, "scenarios"), i, sc)
    {
        name = json_string_value(json_object_get(sc, "name"));
        if (strcmp(name, "flaky") == 0) {
            assert_string_equal(json_string_value(json_object_get(sc, "state")),
                                "recovered");
            assert_string_equal(
                json_string_value(json_object_get(sc, "initial")), "started");
            assert_int_equal(json_integer_value(json_object_get(sc, "calls")),
                             2);
        }
    }
    assert_int_equal(json_array_size(json_object_get(r.json, "scenarios")), 3);
    http_reply_free(&r);
    assert_int_equal(http_do(&fm.proc, "POST", "/_nexus/reset", NULL,
                             "{\"key\":\"k1\",\"parts\":[\"scenarios\"]}", NULL,
                             &r),
                     0);
    assert_string_equal(r.body,
                        "{\"reset\":{\"scenarios\":0},\"key_index\":0}\n");
    http_reply_free(&r);
    assert_int_equal(say(SAY("retry"), NULL, &r), 200);
    http_reply_free(&r);
    assert_int_equal(http_do(&fm.proc, "POST", "/_nexus/reset", NULL,
                             "{\"parts\":[\"scenarios\"]}", NULL, &r),
                     0);
    assert_string_equal(r.body,
                        "{\"reset\":{\"scenarios\":3},\"key_index\":null}\n");
    http_reply_free(&r);
    assert_int_equal(say(SAY("retry"), NULL, &r), 500);
    http_reply_free(&r);
    assert_int_equal(http_do(&fm.proc, "GET",
                             "/_nexus/requests?rule=flaky-1&limit=1", NULL,
                             NULL, NULL, &r),
                     0);
    entry = json_array_get(json_object_get(r.json, "data"), 0);
    assert_non_null(entry);
    assert_string_equal(json_string_value(json_object_get(entry, "rule")),
                        "flaky-1");
    assert_string_equal(json_string_value(json_object_get(entry, "scenario")),
                        "flaky");
    assert_int_equal(json_integer_value(json_object_get(entry, "status")), 500);
    http_reply_free(&r);
}

/* POST /_nexus/reset {"scenario": NAME} puts that one scenario back where
 * it started and leaves the others; an unknown name, a key with it, or a
 * part other than scenarios is a 400 naming the parameter. Runs after
 * test_control_api: flaky has answered call 1 since the full reset. */
static void test_reset_one_scenario(void **state)
{
    static const struct {
        const char *body, *param;
    } bad[] = {
        {"{\"scenario\":\"flakey\"}", "scenario"},
        {"{\"scenario\":7}", "scenario"},
        {"{\"scenario\":\"flaky\",\"key\":\"k1\"}", "key"},
        {"{\"scenario\":\"flaky\",\"parts\":[\"journal\"]}", "parts"},
    };
    struct http_reply r;
    size_t i;

    (void)state;
    assert_int_equal(say(SAY("limit"), NULL, &r), 429);
    http_reply_free(&r);
    assert_int_equal(http_do(&fm.proc, "POST", "/_nexus/reset", NULL,
                             "{\"scenario\":\"flaky\"}", NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"reset\":{\"scenarios\":1},\"key_index\":"
                                "null,\"scenario\":\"flaky\"}\n");
    http_reply_free(&r);
    /* flaky starts again with call 1 (a 500); limited stays open. */
    assert_int_equal(say(SAY("retry"), NULL, &r), 500);
    http_reply_free(&r);
    assert_int_equal(say(SAY("retry"), NULL, &r), 500);
    http_reply_free(&r);
    assert_int_equal(say(SAY("limit"), NULL, &r), 200);
    http_reply_free(&r);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(http_do(&fm.proc, "POST", "/_nexus/reset", NULL,
                                 bad[i].body, NULL, &r),
                         0);
        assert_int_equal(r.status, 400);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(r.json, "error"), "param")),
                            bad[i].param);
        http_reply_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_twice),
        cmocka_unit_test(test_429_then_success),
        cmocka_unit_test(test_concurrent_step),
        cmocka_unit_test(test_control_api),
        cmocka_unit_test(test_reset_one_scenario),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
