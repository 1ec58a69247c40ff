/* test_control: the control API of a real nexus-mock over loopback: the
 * journal of what clients sent (headers masked, body, key, model, rule,
 * retry headers, status, bytes, timing) agreeing with the request log, its
 * filters and clearing, its byte cap and body cap (the flags), reset and
 * state, health, and the admin token. (test_cli checks the refusal to
 * start the API unguarded off loopback; test_admin the policy.) */
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

#include "testutil.h"

#define KEY "sk-ai-nexus-test"
#define FREE_KEY "sk-ai-nexus-free"
#define CHAT                                                                   \
    "{\"model\":\"deepseek-v4\",\"messages\":[{\"role\":\"user\","             \
    "\"content\":\"Hello!\"}]}"
#define STREAM                                                                 \
    "{\"model\":\"qwen-max\",\"stream\":true,\"messages\":[{\"role\":"         \
    "\"user\",\"content\":\"Hi\"}]}"

static struct testproc mock;
static char log_path[] = "/tmp/nexus-control-XXXXXX.log";

static int start(void **state)
{
    const char *extra[] = {"--admin", "--log-format", "json", NULL};
    int fd = mkstemps(log_path, 4);

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (fd < 0)
        return -1;
    close(fd);
    return mock_start_logged(&mock, extra, log_path);
}

static int stop(void **state)
{
    int rc = testproc_stop(&mock);

    (void)state;
    unlink(log_path);
    return rc == 0 ? 0 : -1;
}

/* Empties the journal and puts every balance and window back. */
static int reset_all(void **state)
{
    struct http_reply r;
    int ok;

    (void)state;
    ok = http_do(&mock, "POST", "/_nexus/reset", NULL, NULL, NULL, &r) == 0 &&
         r.status == 200;
    http_reply_free(&r);
    return ok ? 0 : -1;
}

static const char *str(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static json_int_t num(const json_t *o, const char *name)
{
    assert_true(json_is_integer(json_object_get(o, name)));
    return json_integer_value(json_object_get(o, name));
}

/* GETs path (the control API) and returns its JSON (new), asserting the
 * status. */
static json_t *get(const char *path, long status)
{
    struct http_reply r;
    json_t *j;

    assert_int_equal(http_do(&mock, "GET", path, NULL, NULL, NULL, &r), 0);
    if (r.status != status)
        fail_msg("GET %s: %ld, want %ld: %s", path, r.status, status, r.body);
    j = json_incref(r.json);
    assert_non_null(j);
    http_reply_free(&r);
    return j;
}

/* Makes one request, asserting its status, and waits until the journal
 * has it (the server records a request a moment after its client has read
 * the answer, so without the wait the next request could end first);
 * returns its request id (free). */
static char *call(const char *method, const char *path, const char *key,
                  const char *body, const char *header, long status,
                  size_t *body_len)
{
    struct http_reply r;
    json_t *entry;
    char *id;

    assert_int_equal(http_do(&mock, method, path, key, body, header, &r), 0);
    assert_int_equal(r.status, status);
    id = http_header(&r, "x-request-id");
    assert_non_null(id);
    if (body_len != NULL)
        *body_len = r.body_len;
    http_reply_free(&r);
    entry = journal_wait(&mock, NULL, id);
    assert_non_null(entry);
    json_decref(entry);
    return id;
}

/* The journal entry of id, checked against its log line; new reference. */
static json_t *entry_of(const char *id)
{
    json_t *entry = journal_wait(&mock, NULL, id), *line = NULL;
    char why[128];
    int i;

    assert_non_null(entry);
    for (i = 0; i < 200 && line == NULL; i++) {
        line = log_find_request(log_path, id);
        if (line == NULL)
            usleep(10000);
    }
    assert_non_null(line);
    if (!journal_agrees(entry, line, why, sizeof(why)))
        fail_msg("journal and log disagree on %s: %s", id, why);
    json_decref(line);
    return entry;
}

/* What a client sent and got is in the journal: a chat completion, a
 * stream, a model list, an unknown path, a 401 with an unknown key. */
static void test_entries(void **state)
{
    size_t len = 0, slen = 0;
    char *id = call("POST", "/v1/chat/completions", KEY, CHAT,
                    "Idempotency-Key: idem-1", 200, &len);
    char *sid = call("POST", "/v1/chat/completions", KEY, STREAM,
                     "X-Stainless-Retry-Count: 3", 200, &slen);
    char *mid = call("GET", "/v1/models", KEY, NULL, NULL, 200, NULL);
    char *nid = call("GET", "/v1/nothing", KEY, NULL, NULL, 404, NULL);
    char *uid =
        call("GET", "/v1/models", "sk-unknown-key-123", NULL, NULL, 401, NULL);
    json_t *e, *h, *list;

    (void)state;
    e = entry_of(id);
    assert_string_equal(str(e, "method"), "POST");
    assert_string_equal(str(e, "path"), "/v1/chat/completions");
    assert_string_equal(str(e, "body"), CHAT);
    assert_int_equal(num(e, "body_bytes"), strlen(CHAT));
    assert_string_equal(str(e, "key"), "sk-ai-...test");
    assert_int_equal(num(e, "key_index"), 2);
    assert_string_equal(str(e, "plan"), "paid");
    assert_string_equal(str(e, "model"), "deepseek-v4");
    assert_true(json_is_null(json_object_get(e, "stream")));
    assert_string_equal(str(e, "rule"), "generated");
    assert_string_equal(str(e, "idempotency_key"), "idem-1");
    assert_true(json_is_null(json_object_get(e, "retry_count")));
    assert_int_equal(num(e, "status"), 200);
    assert_string_equal(str(e, "outcome"), "completed");
    assert_int_equal(num(e, "bytes"), len);
    h = json_object_get(e, "headers");
    assert_string_equal(str(h, "authorization"), "Bearer sk-ai-...test");
    assert_string_equal(str(h, "content-type"), "application/json");
    assert_string_equal(str(h, "idempotency-key"), "idem-1");
    assert_int_equal(num(json_object_get(e, "timing"), "headers_ms"),
                     num(json_object_get(e, "timing"), "first_byte_ms"));
    json_decref(e);
    e = entry_of(sid);
    assert_true(json_is_true(json_object_get(e, "stream")));
    assert_int_equal(num(e, "retry_count"), 3);
    assert_int_equal(num(e, "bytes"), slen);
    assert_true(num(e, "events") > 3);
    assert_string_equal(str(e, "model"), "qwen-max");
    json_decref(e);
    e = entry_of(mid);
    assert_string_equal(str(e, "rule"), "models.list");
    assert_string_equal(str(e, "body"), "");
    json_decref(e);
    e = entry_of(nid);
    assert_true(json_is_null(json_object_get(e, "rule")));
    assert_int_equal(num(e, "status"), 404);
    json_decref(e);
    e = entry_of(uid);
    assert_int_equal(num(e, "status"), 401);
    assert_true(json_is_null(json_object_get(e, "key")));
    assert_string_equal(str(json_object_get(e, "headers"), "authorization"),
                        "Bearer sk-unk...-123");
    json_decref(e);
    /* Newest last, ids in order; the control API's own requests are not
     * there. */
    list = get("/_nexus/requests", 200);
    assert_int_equal(num(list, "matched"), 5);
    assert_int_equal(num(list, "returned"), 5);
    assert_true(json_is_false(json_object_get(list, "truncated")));
    assert_string_equal(
        str(json_array_get(json_object_get(list, "data"), 0), "request_id"),
        id);
    assert_string_equal(
        str(json_array_get(json_object_get(list, "data"), 4), "request_id"),
        uid);
    json_decref(list);
    free(id);
    free(sid);
    free(mid);
    free(nid);
    free(uid);
}

/* The request ids a listing returned, joined by spaces, as "a b c" of the
 * given ids' letters. */
static void listing(const char *query, char *const ids[], const char *letters,
                    const char *want)
{
    char path[256], got[64];
    json_t *list;
    const json_t *e;
    size_t i, k, n = 0;

    snprintf(path, sizeof(path), "/_nexus/requests?%s", query);
    list = get(path, 200);
    json_array_foreach(json_object_get(list, "data"), i, e)
    {
        for (k = 0; letters[k] != '\0'; k++)
            if (strcmp(str(e, "request_id"), ids[k]) == 0)
                break;
        assert_true(letters[k] != '\0' && n + 1 < sizeof(got));
        got[n++] = letters[k];
    }
    got[n] = '\0';
    if (strcmp(got, want) != 0)
        fail_msg("%s: %s, want %s", query, got, want);
    json_decref(list);
}

/* The filters, each alone, over five requests; then DELETE, by key and
 * in all; bad filters are 400s naming the argument. */
static void test_filters_and_delete(void **state)
{
    char *ids[5], *allow;
    char path[128];
    json_t *list, *first;
    struct http_reply r;
    size_t i;
    static const char *const bad[] = {
        "limit=abc",  "limit=100001", "status=99", "status=6xx",
        "key=sk-nop", "since=later",  "brief=yes",
    };

    (void)state;
    ids[0] = call("POST", "/v1/chat/completions", KEY, CHAT, NULL, 200, NULL);
    ids[1] = call("POST", "/v1/chat/completions", KEY, STREAM, NULL, 200, NULL);
    ids[2] = call("GET", "/v1/models", FREE_KEY, NULL, NULL, 200, NULL);
    ids[3] = call("POST", "/v1/chat/completions", "sk-ai-nexus-empty", CHAT,
                  NULL, 402, NULL);
    ids[4] = call("GET", "/v1/models/nope", KEY, NULL, NULL, 404, NULL);
    listing("path=/v1/chat/completions", ids, "abcde", "abd");
    listing("path=/v1/models*", ids, "abcde", "ce");
    listing("method=GET", ids, "abcde", "ce");
    listing("model=qwen-max", ids, "abcde", "b");
    listing("key=" FREE_KEY, ids, "abcde", "c");
    listing("rule=models.get", ids, "abcde", "e");
    listing("status=4xx", ids, "abcde", "de");
    listing("status=402", ids, "abcde", "d");
    listing("limit=2", ids, "abcde", "de");
    listing("limit=0", ids, "abcde", "");
    list = get("/_nexus/requests?limit=1&brief=true", 200);
    first = json_array_get(json_object_get(list, "data"), 0);
    assert_null(json_object_get(first, "headers"));
    assert_null(json_object_get(first, "body"));
    assert_int_equal(num(list, "matched"), 5);
    assert_true(json_is_true(json_object_get(list, "truncated")));
    json_decref(list);
    list = get("/_nexus/requests?limit=1", 200);
    first = json_array_get(json_object_get(list, "data"), 0);
    snprintf(path, sizeof(path), "since=%lld", (long long)num(first, "id") - 2);
    listing(path, ids, "abcde", "de");
    snprintf(path, sizeof(path), "request_id=%s", ids[1]);
    listing(path, ids, "abcde", "b");
    json_decref(list);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/_nexus/requests?%s", bad[i]);
        list = get(path, 400);
        assert_string_equal(str(json_object_get(list, "error"), "code"),
                            "invalid_value");
        json_decref(list);
    }
    assert_int_equal(http_do(&mock, "DELETE", "/_nexus/requests?key=" FREE_KEY,
                             NULL, NULL, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_int_equal(num(r.json, "deleted"), 1);
    http_reply_free(&r);
    listing("", ids, "abcde", "abde");
    assert_int_equal(
        http_do(&mock, "DELETE", "/_nexus/requests", NULL, NULL, NULL, &r), 0);
    assert_int_equal(num(r.json, "deleted"), 4);
    http_reply_free(&r);
    listing("", ids, "abcde", "");
    assert_int_equal(
        http_do(&mock, "PUT", "/_nexus/requests", NULL, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 405);
    allow = http_header(&r, "allow");
    assert_string_equal(allow, "GET, DELETE");
    free(allow);
    http_reply_free(&r);
    for (i = 0; i < 5; i++)
        free(ids[i]);
}

/* The free key's 11th request gets 429; the journal keeps the Retry-After
 * and retry-after-ms it was given; state shows the spent window; a reset
 * of the key's window lets the next through; a full reset gives the
 * balance back. */
static void test_reset_and_state(void **state)
{
    struct http_reply r;
    json_t *st, *e, *key;
    char *id, *ra, *ram;
    int i;

    (void)state;
    for (i = 0; i < 10; i++)
        free(call("POST", "/v1/chat/completions", FREE_KEY, CHAT, NULL, 200,
                  NULL));
    assert_int_equal(http_do(&mock, "POST", "/v1/chat/completions", FREE_KEY,
                             CHAT, NULL, &r),
                     0);
    assert_int_equal(r.status, 429);
    id = http_header(&r, "x-request-id");
    ra = http_header(&r, "retry-after");
    ram = http_header(&r, "retry-after-ms");
    http_reply_free(&r);
    e = entry_of(id);
    assert_string_equal(str(e, "retry_after"), ra);
    assert_string_equal(str(e, "retry_after_ms"), ram);
    json_decref(e);
    st = get("/_nexus/state", 200);
    key = json_array_get(json_object_get(st, "keys"), 1);
    assert_string_equal(str(key, "key"), "sk-ai-...free");
    assert_int_equal(num(json_object_get(key, "rate_limit"), "used_requests"),
                     10);
    /* Ten answers, each 9 prompt tokens at 0.27 and 9 completion tokens at
     * 1.10 USD per million: 0.00001233 USD. */
    assert_string_equal(str(key, "balance"), "4.9998767");
    assert_int_equal(num(json_object_get(st, "journal"), "entries"), 11);
    assert_int_equal(num(json_object_get(st, "journal"), "in_flight"), 0);
    assert_true(num(st, "uptime_ms") > 0);
    json_decref(st);
    assert_int_equal(http_do(&mock, "POST", "/_nexus/reset", NULL,
                             "{\"key\":\"" FREE_KEY
                             "\",\"parts\":[\"rate_limits\"]}",
                             NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    free(call("POST", "/v1/chat/completions", FREE_KEY, CHAT, NULL, 200, NULL));
    assert_int_equal(
        http_do(&mock, "POST", "/_nexus/reset", NULL, NULL, NULL, &r), 0);
    assert_int_equal(num(json_object_get(r.json, "reset"), "journal"), 12);
    http_reply_free(&r);
    st = get("/_nexus/state", 200);
    key = json_array_get(json_object_get(st, "keys"), 1);
    assert_string_equal(str(key, "balance"), "5");
    assert_string_equal(str(key, "total_spent"), "0");
    assert_int_equal(num(json_object_get(key, "rate_limit"), "used_requests"),
                     0);
    json_decref(st);
    st = get("/_nexus/health", 200);
    assert_string_equal(str(st, "status"), "ok");
    json_decref(st);
    free(id);
    free(ra);
    free(ram);
}

/* Starts a second mock with extra arguments; stop it with testproc_stop. */
static void start_other(struct testproc *p, const char *const *extra)
{
    assert_int_equal(mock_start(p, extra), 0);
}

/* With --admin-token every /_nexus/ request carries the token: 401 with
 * an OpenAI error body otherwise; the API is unchanged. */
static void test_token(void **state)
{
    static const char *const extra[] = {"--admin", "--admin-token",
                                        "t0ken-for-tests", NULL};
    struct testproc p;
    struct http_reply r;

    (void)state;
    start_other(&p, extra);
    assert_int_equal(http_do(&p, "GET", "/_nexus/state", NULL, NULL, NULL, &r),
                     0);
    assert_int_equal(r.status, 401);
    assert_string_equal(str(json_object_get(r.json, "error"), "type"),
                        "invalid_request_error");
    http_reply_free(&r);
    assert_int_equal(
        http_do(&p, "GET", "/_nexus/state", "wrong-token", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 401);
    assert_string_equal(str(json_object_get(r.json, "error"), "code"),
                        "invalid_admin_token");
    http_reply_free(&r);
    assert_int_equal(
        http_do(&p, "GET", "/_nexus/state", "t0ken-for-tests", NULL, NULL, &r),
        0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    assert_int_equal(http_do(&p, "GET", "/_nexus/health", NULL, NULL,
                             "X-Nexus-Admin-Token: t0ken-for-tests", &r),
                     0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    assert_int_equal(http_do(&p, "GET", "/v1/models", KEY, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    assert_int_equal(testproc_stop(&p), 0);
}

/* --journal-max-bytes bounds the journal: past it the oldest entries go,
 * counted; --journal-body-max cuts each body. */
static void test_caps(void **state)
{
    static const char *const extra[] = {"--admin", "--journal-max-bytes",
                                        "65536",   "--journal-body-max",
                                        "16",      NULL};
    struct testproc p;
    struct http_reply r;
    const json_t *j, *first;
    int i;

    (void)state;
    start_other(&p, extra);
    for (i = 0; i < 200; i++) {
        assert_int_equal(
            http_do(&p, "POST", "/v1/chat/completions", KEY, CHAT, NULL, &r),
            0);
        assert_int_equal(r.status, 200);
        http_reply_free(&r);
    }
    /* The last answer may be recorded a moment after the client has it. */
    for (i = 0;; i++) {
        assert_int_equal(
            http_do(&p, "GET", "/_nexus/state", NULL, NULL, NULL, &r), 0);
        j = json_object_get(r.json, "journal");
        if (num(j, "last_id") == 200 || i == 200)
            break;
        http_reply_free(&r);
        usleep(10000);
    }
    assert_int_equal(num(j, "last_id"), 200);
    assert_int_equal(num(j, "entries") + num(j, "evicted"), 200);
    assert_true(num(j, "evicted") > 0);
    assert_true(num(j, "bytes") <= 65536);
    assert_int_equal(num(j, "max_bytes"), 65536);
    assert_int_equal(num(j, "body_max"), 16);
    assert_int_equal(num(j, "dropped"), 0);
    http_reply_free(&r);
    assert_int_equal(
        http_do(&p, "GET", "/_nexus/requests?limit=1", NULL, NULL, NULL, &r),
        0);
    first = json_array_get(json_object_get(r.json, "data"), 0);
    assert_int_equal(num(first, "id"), 200);
    assert_string_equal(str(first, "body"), "{\"model\":\"deepse");
    assert_int_equal(num(first, "body_bytes"), strlen(CHAT));
    assert_true(json_is_true(json_object_get(first, "body_truncated")));
    http_reply_free(&r);
    assert_int_equal(testproc_stop(&p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_entries, reset_all),
        cmocka_unit_test_setup(test_filters_and_delete, reset_all),
        cmocka_unit_test_setup(test_reset_and_state, reset_all),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_caps),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
