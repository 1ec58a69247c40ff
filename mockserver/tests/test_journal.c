/* test_journal: the request journal on its own, with every time given: what
 * an entry holds (headers masked, body cut, retry headers, timing), the
 * byte cap and its eviction, the filters, clearing, and the time format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "journal.h"

/* Headers a fake connection gives, as name/value pairs ending with NULL. */
static void each_header(const void *ctx, journal_header_fn fn, void *arg)
{
    const char *const *h = ctx;

    for (; h[0] != NULL; h += 2)
        fn(arg, h[0], h[1]);
}

static const char *const sdk_headers[] = {
    "Host",
    "127.0.0.1:8080",
    "Authorization",
    "Bearer sk-ai-nexus-test",
    "X-Stainless-Retry-Count",
    "2",
    "Idempotency-Key",
    "stainless-node-retry-42",
    "Accept",
    "application/json",
    "accept",
    "text/plain",
    NULL,
};

/* A routed chat request with id, as the router would open it. */
static void request_init(struct journal_request *r, const char *id,
                         const char *body)
{
    memset(r, 0, sizeof(*r));
    r->request_id = id;
    r->method = "POST";
    r->path = "/v1/chat/completions";
    r->body = body;
    r->body_len = body != NULL ? strlen(body) : 0;
    r->stream = -1;
    r->status = 200;
    r->rule = "generated";
}

/* The log line of a request that completed with status after ms. */
static void line_init(struct log_entry *e, const char *id, int status,
                      double ms)
{
    memset(e, 0, sizeof(*e));
    e->request_id = id;
    e->method = "POST";
    e->path = "/v1/chat/completions";
    e->status = status;
    e->outcome = LOG_COMPLETED;
    e->ms = ms;
}

/* Records one plain request (opened, then closed at now). */
static void record(struct journal *j, const char *id, const char *body,
                   int status, uint64_t now)
{
    struct journal_request r;
    struct log_entry e;

    request_init(&r, id, body);
    r.status = status;
    r.whole_now = true;
    journal_open(j, &r, now);
    line_init(&e, id, status, 0);
    journal_close(j, &e, now, 1748779200000u + now);
}

/* Every entry (not brief), oldest first; *n gets how many matched. */
static json_t *all(struct journal *j, size_t *n)
{
    struct journal_filter f;
    json_t *a;

    memset(&f, 0, sizeof(f));
    f.limit = SIZE_MAX;
    a = journal_query(j, &f, n);
    assert_non_null(a);
    return a;
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

static void test_mask(void **state)
{
    char out[64];
    bool scheme = false;

    (void)state;
    journal_mask("Bearer sk-ai-nexus-test", true, out, sizeof(out));
    assert_string_equal(out, "Bearer sk-ai-...test");
    journal_mask("sk-ai-nexus-test", false, out, sizeof(out));
    assert_string_equal(out, "sk-ai-...test");
    journal_mask("Bearer sk-short1", true, out, sizeof(out));
    assert_string_equal(out, "Bearer sk...t1");
    journal_mask("Bearer abc", true, out, sizeof(out));
    assert_string_equal(out, "Bearer ***");
    journal_mask("Basic", true, out, sizeof(out));
    assert_string_equal(out, "***");
    assert_true(journal_is_secret("AUTHORIZATION", &scheme));
    assert_true(scheme);
    assert_true(journal_is_secret("x-api-key", &scheme));
    assert_false(scheme);
    assert_true(journal_is_secret("X-Nexus-Admin-Token", &scheme));
    assert_false(journal_is_secret("x-stainless-retry-count", &scheme));
}

/* An entry holds the request as routed and its answer as it ended: the
 * fields, masked headers, the retry headers read, the timing from the
 * times given. */
static void test_entry(void **state)
{
    struct journal *j = journal_new(1 << 20, 8192, 1000);
    struct journal_request r;
    struct log_entry e;
    json_t *a, *o, *h, *t;
    size_t n;

    (void)state;
    request_init(&r, "req_1", "{\"model\":\"m\"}");
    r.each_header = each_header;
    r.header_ctx = sdk_headers;
    r.has_key = true;
    r.key_index = 2;
    r.key = "sk-ai-nexus-test";
    r.plan = "paid";
    r.model = "m";
    r.stream = 0;
    r.status = 429;
    r.retry_after = "1";
    r.retry_after_ms = "250";
    r.whole_now = true;
    r.bytes = 321;
    journal_open(j, &r, 1005); /* routed 5 ms after it arrived */
    line_init(&e, "req_1", 429, 15);
    journal_close(j, &e, 1015, 1748779200123u);
    a = all(j, &n);
    assert_int_equal(n, 1);
    o = json_array_get(a, 0);
    assert_int_equal(num(o, "id"), 1);
    assert_string_equal(str(o, "request_id"), "req_1");
    assert_string_equal(str(o, "time"), "2025-06-01T12:00:00.108Z");
    assert_int_equal(num(o, "time_unix_ms"), 1748779200108);
    assert_int_equal(num(o, "t_ms"), 0);
    assert_string_equal(str(o, "method"), "POST");
    assert_string_equal(str(o, "key"), "sk-ai-...test");
    assert_int_equal(num(o, "key_index"), 2);
    assert_string_equal(str(o, "plan"), "paid");
    assert_string_equal(str(o, "model"), "m");
    assert_true(json_is_false(json_object_get(o, "stream")));
    assert_string_equal(str(o, "rule"), "generated");
    assert_int_equal(num(o, "retry_count"), 2);
    assert_string_equal(str(o, "idempotency_key"), "stainless-node-retry-42");
    assert_int_equal(num(o, "status"), 429);
    assert_int_equal(num(o, "response_status"), 429);
    assert_string_equal(str(o, "outcome"), "completed");
    assert_string_equal(str(o, "retry_after"), "1");
    assert_string_equal(str(o, "retry_after_ms"), "250");
    assert_int_equal(num(o, "bytes"), 321);
    assert_true(json_is_null(json_object_get(o, "events")));
    assert_string_equal(str(o, "body"), "{\"model\":\"m\"}");
    assert_int_equal(num(o, "body_bytes"), 13);
    assert_false(json_is_true(json_object_get(o, "body_truncated")));
    h = json_object_get(o, "headers");
    assert_int_equal(json_object_size(h), 5);
    assert_string_equal(str(h, "authorization"), "Bearer sk-ai-...test");
    assert_string_equal(str(h, "x-stainless-retry-count"), "2");
    assert_string_equal(str(h, "accept"), "application/json, text/plain");
    t = json_object_get(o, "timing");
    /* Arrived at 1015 - 15 = 1000; headers and first byte when routed. */
    assert_int_equal(num(t, "headers_ms"), 5);
    assert_int_equal(num(t, "first_byte_ms"), 5);
    assert_int_equal(num(t, "total_ms"), 15);
    json_decref(a);
    journal_free(j);
}

/* A streamed answer: the source's timing, the events and bytes the log
 * line says, and how it ended (the log's 499). */
static void test_stream_timing(void **state)
{
    struct journal *j = journal_new(1 << 20, 8192, 0);
    struct journal_request r;
    struct journal_timing t = {true, 120, true, 340, 777};
    struct log_entry e;
    json_t *a, *o, *tm;
    size_t n;

    (void)state;
    request_init(&r, "req_s", "{}");
    r.stream = 1;
    journal_open(j, &r, 120);
    journal_answer(j, "req_s", &t);
    journal_answer(j, "req_unknown", &t); /* nothing open: ignored */
    line_init(&e, "req_s", 200, 900);
    e.outcome = LOG_CLIENT_GONE;
    e.streamed = true;
    e.events = 7;
    journal_close(j, &e, 1000, 5000);
    a = all(j, &n);
    o = json_array_get(a, 0);
    assert_int_equal(num(o, "status"), 499);
    assert_int_equal(num(o, "response_status"), 200);
    assert_string_equal(str(o, "outcome"), "client_gone");
    assert_int_equal(num(o, "events"), 7);
    assert_int_equal(num(o, "bytes"), 777);
    assert_true(json_is_true(json_object_get(o, "stream")));
    tm = json_object_get(o, "timing");
    assert_int_equal(num(tm, "headers_ms"), 20);
    assert_int_equal(num(tm, "first_byte_ms"), 240);
    assert_int_equal(num(tm, "total_ms"), 900);
    assert_int_equal(num(o, "t_ms"), 100);
    json_decref(a);
    journal_free(j);
}

/* A body longer than the cap is kept up to it, never cutting a UTF-8
 * character, with its whole size and hash. */
static void test_body_cap(void **state)
{
    struct journal *j = journal_new(1 << 20, 8, 0);
    json_t *a, *o;
    size_t n;

    (void)state;
    record(j, "req_1", "h\xc3\xa9llo \xc3\xb6rld", 200, 1);
    record(j, "req_2", "h\xc3\xa9llo \xc3\xb6rld", 200, 2);
    record(j, "req_3", "12345678", 200, 3);
    a = all(j, &n);
    o = json_array_get(a, 0);
    /* 8 bytes end inside the o-umlaut: the 7 before it are kept. */
    assert_string_equal(str(o, "body"), "h\xc3\xa9llo ");
    assert_int_equal(num(o, "body_bytes"), 12);
    assert_true(json_is_true(json_object_get(o, "body_truncated")));
    /* The hash is of the whole body: same bodies, same hash. */
    assert_string_equal(str(o, "body_hash"),
                        str(json_array_get(a, 1), "body_hash"));
    assert_string_not_equal(str(o, "body_hash"),
                            str(json_array_get(a, 2), "body_hash"));
    /* FNV-1a 64 of "12345678". */
    assert_string_equal(str(json_array_get(a, 2), "body_hash"),
                        "173932c41a90a42d");
    assert_false(
        json_is_true(json_object_get(json_array_get(a, 2), "body_truncated")));
    json_decref(a);
    journal_free(j);
}

/* The cap: entries of one size fill it, then each new one evicts exactly
 * the oldest; one larger than the whole cap is dropped. */
static void test_cap_evicts_oldest(void **state)
{
    struct journal *probe = journal_new(1 << 20, 64, 0), *j;
    struct journal_stats st;
    json_t *a;
    size_t one, n;
    char id[16], big[4096];

    (void)state;
    record(probe, "req_00", "{}", 200, 1);
    journal_get_stats(probe, &st);
    one = st.bytes;
    assert_true(one > 0);
    journal_free(probe);
    j = journal_new(3 * one + one / 2, 64, 0);
    for (n = 0; n < 5; n++) {
        snprintf(id, sizeof(id), "req_%02zu", n);
        record(j, id, "{}", 200, n);
    }
    journal_get_stats(j, &st);
    assert_int_equal(st.entries, 3);
    assert_int_equal(st.bytes, 3 * one);
    assert_int_equal(st.evicted, 2);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.last_id, 5);
    a = all(j, &n);
    assert_int_equal(n, 3);
    assert_string_equal(str(json_array_get(a, 0), "request_id"), "req_02");
    assert_int_equal(num(json_array_get(a, 0), "id"), 3);
    assert_string_equal(str(json_array_get(a, 2), "request_id"), "req_04");
    json_decref(a);
    journal_free(j);
    /* Larger than the whole cap: dropped, and nothing evicted for it. */
    j = journal_new(2 * one, sizeof(big), 0);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    record(j, "req_00", "{}", 200, 1);
    record(j, "req_01", big, 200, 2);
    journal_get_stats(j, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.evicted, 0);
    journal_free(j);
}

/* Runs a query with f and returns the request ids it gave, joined by
 * spaces, in out. */
static void ids_of(struct journal *j, const struct journal_filter *f, char *out,
                   size_t outlen, size_t *matched)
{
    json_t *a = journal_query(j, f, matched), *o;
    size_t i, used = 0;

    assert_non_null(a);
    out[0] = '\0';
    json_array_foreach(a, i, o)
    {
        used += (size_t)snprintf(out + used, outlen - used, "%s%s",
                                 used ? " " : "", str(o, "request_id"));
    }
    json_decref(a);
}

static void test_filters(void **state)
{
    struct journal *j = journal_new(1 << 20, 64, 0);
    struct journal_request r;
    struct journal_filter f;
    struct log_entry e;
    char ids[256];
    size_t n;

    (void)state;
    record(j, "req_a", "{}", 200, 10);
    record(j, "req_b", "{}", 429, 20);
    record(j, "req_c", "{}", 402, 30);
    request_init(&r, "req_d", "{}");
    r.path = "/v1/models";
    r.method = "GET";
    r.has_key = true;
    r.key_index = 1;
    r.model = NULL;
    r.rule = "models.list";
    journal_open(j, &r, 40);
    line_init(&e, "req_d", 200, 0);
    e.method = "GET";
    e.path = "/v1/models";
    journal_close(j, &e, 40, 1748779200040u);
    memset(&f, 0, sizeof(f));
    f.limit = SIZE_MAX;
    f.status = 4;
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_b req_c");
    f.status = 402;
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_c");
    f.status = 0;
    f.path = "/v1/*";
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_a req_b req_c req_d");
    f.path = "/v1/models";
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_d");
    f.path = NULL;
    f.rule = "models.list";
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_d");
    f.rule = NULL;
    f.by_key = true;
    f.key_index = 1;
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_d");
    f.by_key = false;
    f.after_id = 2;
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_c req_d");
    f.after_id = 0;
    f.by_time = true;
    f.since_unix_ms = 1748779200030u;
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_c req_d");
    f.by_time = false;
    /* The newest two of the four, still oldest first. */
    f.limit = 2;
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "req_c req_d");
    assert_int_equal(n, 4);
    f.limit = 0;
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_string_equal(ids, "");
    assert_int_equal(n, 4);
    /* Clearing one key's entries leaves the others. */
    assert_int_equal(journal_clear(j, 1), 1);
    assert_int_equal(journal_clear(j, JOURNAL_ALL_KEYS), 3);
    f.limit = SIZE_MAX;
    ids_of(j, &f, ids, sizeof(ids), &n);
    assert_int_equal(n, 0);
    journal_free(j);
}

/* A request never opened (a preflight) is recorded from its log line;
 * one under /_nexus/ is not; one open is in flight until it ends. */
static void test_bare_admin_in_flight(void **state)
{
    struct journal *j = journal_new(1 << 20, 64, 0);
    struct journal_request r;
    struct journal_stats st;
    struct log_entry e;
    json_t *a, *o;
    size_t n;

    (void)state;
    line_init(&e, "req_p", 204, 1);
    e.method = "OPTIONS";
    journal_close(j, &e, 10, 20);
    line_init(&e, "req_n", 200, 1);
    e.method = "GET";
    e.path = "/_nexus/state";
    journal_close(j, &e, 10, 20);
    request_init(&r, "req_open", "{}");
    journal_open(j, &r, 5);
    journal_open(j, &r, 6); /* opened twice: the first stays */
    journal_get_stats(j, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.in_flight, 1);
    a = all(j, &n);
    o = json_array_get(a, 0);
    assert_string_equal(str(o, "method"), "OPTIONS");
    assert_int_equal(num(o, "status"), 204);
    assert_true(json_is_null(json_object_get(o, "key")));
    assert_true(json_is_null(json_object_get(o, "rule")));
    assert_int_equal(json_object_size(json_object_get(o, "headers")), 0);
    json_decref(a);
    journal_free(j); /* frees the entry in flight too */
}

static void test_time(void **state)
{
    char out[40];
    uint64_t ms = 0;

    (void)state;
    journal_format_time(1748779200123u, out, sizeof(out));
    assert_string_equal(out, "2025-06-01T12:00:00.123Z");
    assert_int_equal(journal_parse_time(out, &ms), 0);
    assert_int_equal(ms, 1748779200123u);
    assert_int_equal(journal_parse_time("2025-06-01T12:00:00Z", &ms), 0);
    assert_int_equal(ms, 1748779200000u);
    assert_int_equal(journal_parse_time("2025-06-01 12:00:00Z", &ms), -1);
    assert_int_equal(journal_parse_time("2025-06-01T12:00:00", &ms), -1);
    assert_int_equal(journal_parse_time("2025-13-01T12:00:00Z", &ms), -1);
    assert_int_equal(journal_parse_time("2025-06-01T12:00:00.12Z", &ms), -1);
    assert_int_equal(journal_parse_time("", &ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_entry),
        cmocka_unit_test(test_stream_timing),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_cap_evicts_oldest),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_bare_admin_in_flight),
        cmocka_unit_test(test_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
