/* test_retries: GET /_nexus/clients' report (retries_report) over journal
 * entries made by hand, with exact numbers: how attempts group into calls,
 * the waits against the advice, backoff, retry counts, the limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retries.h"

/* One attempt as the journal shows it. */
struct attempt {
    int key;  /* key_index; -1: none */
    long t;   /* t_ms: when it arrived */
    long dur; /* timing.total_ms */
    int status;
    const char *outcome; /* NULL: "completed" */
    int count;           /* X-Stainless-Retry-Count; -1: none */
    const char *idem;    /* Idempotency-Key or NULL */
    const char *hash;    /* body_hash; NULL: "h1" */
    const char *ra;      /* the answer's Retry-After, or NULL */
    const char *ra_ms;   /* its retry-after-ms, or NULL */
};

static const struct retries_opts defaults = {2, 120000};

/* The entries of the attempts, with ids in the order given. */
static json_t *entries_of(const struct attempt *a, size_t n)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; i < n; i++) {
        json_t *e = json_pack(
            "{s:I, s:s, s:I, s:s, s:s, s:o, s:s, s:o, s:s, s:o, s:i, s:s, "
            "s:o, s:o, s:o, s:{s:I}}",
            "id", (json_int_t)(i + 1), "request_id", "req_x", "t_ms",
            (json_int_t)a[i].t, "method", "POST", "path",
            "/v1/chat/completions", "key_index",
            a[i].key < 0 ? json_null() : json_integer(a[i].key), "key",
            "sk-ai-...test", "scenario", json_null(), "body_hash",
            a[i].hash ? a[i].hash : "h1", "retry_count",
            a[i].count < 0 ? json_null() : json_integer(a[i].count), "status",
            a[i].status, "outcome", a[i].outcome ? a[i].outcome : "completed",
            "idempotency_key", a[i].idem ? json_string(a[i].idem) : json_null(),
            "retry_after", a[i].ra ? json_string(a[i].ra) : json_null(),
            "retry_after_ms",
            a[i].ra_ms ? json_string(a[i].ra_ms) : json_null(), "timing",
            "total_ms", (json_int_t)a[i].dur);

        assert_non_null(e);
        assert_int_equal(json_array_append_new(arr, e), 0);
    }
    return arr;
}

/* The report over the attempts (new). */
static json_t *report(const struct attempt *a, size_t n,
                      const struct retries_opts *o)
{
    json_t *entries = entries_of(a, n);
    json_t *r = retries_report(entries, o);

    assert_non_null(r);
    json_decref(entries);
    return r;
}

/* Call i of client c of report r. */
static const json_t *call(const json_t *r, size_t c, size_t i)
{
    const json_t *cl = json_array_get(json_object_get(r, "clients"), c);

    return json_array_get(json_object_get(cl, "calls"), i);
}

static json_int_t num(const json_t *o, const char *name)
{
    assert_true(json_is_integer(json_object_get(o, name)));
    return json_integer_value(json_object_get(o, name));
}

static const char *str(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Renders a member compactly, for comparing arrays. */
static void assert_json(const json_t *o, const char *name, const char *want)
{
    char *text =
        json_dumps(json_object_get(o, name), JSON_COMPACT | JSON_ENCODE_ANY);

    assert_non_null(text);
    assert_string_equal(text, want);
    free(text);
}

/* The openai SDK against a server that always answers 500: three attempts,
 * retry counts 0, 1, 2, its backoff (0.5 s and 1 s, less up to a quarter
 * of jitter) growing, stopped at its default limit of 2 retries. */
static void test_sdk_gives_up_at_limit(void **state)
{
    static const struct attempt a[] = {
        {0, 100, 3, 500, NULL, 0, NULL, NULL, NULL, NULL},
        {0, 543, 2, 500, NULL, 1, NULL, NULL, NULL, NULL},
        {0, 1452, 2, 500, NULL, 2, NULL, NULL, NULL, NULL},
    };
    json_t *r = report(a, 3, &defaults);
    const json_t *c = call(r, 0, 0), *cl;

    (void)state;
    assert_int_equal(num(r, "entries"), 3);
    assert_int_equal(num(r, "tolerance_ms"), 2);
    cl = json_array_get(json_object_get(r, "clients"), 0);
    assert_int_equal(num(cl, "key_index"), 0);
    assert_int_equal(num(json_object_get(cl, "summary"), "calls"), 1);
    assert_int_equal(num(json_object_get(cl, "summary"), "attempts"), 3);
    assert_int_equal(num(json_object_get(cl, "summary"), "retried_calls"), 1);
    assert_int_equal(num(json_object_get(cl, "summary"), "gave_up"), 1);
    assert_int_equal(num(c, "attempts"), 3);
    assert_int_equal(num(c, "retries"), 2);
    assert_string_equal(str(c, "outcome"), "gave_up");
    assert_string_equal(str(c, "grouped_by"), "body");
    assert_int_equal(num(c, "final_status"), 500);
    assert_true(json_is_true(json_object_get(c, "stopped_at_limit")));
    assert_true(json_is_false(json_object_get(c, "over_limit")));
    assert_true(json_is_true(json_object_get(c, "backoff_grew")));
    assert_true(json_is_null(json_object_get(c, "honored_retry_after")));
    assert_true(json_is_true(json_object_get(c, "retry_count_consistent")));
    assert_json(c, "retry_count_headers", "[0,1,2]");
    /* From the end of each answer (100 + 3, 543 + 2) to the next. */
    assert_json(c, "waits_ms", "[440,907]");
    assert_json(c, "retried_after_status", "[500,500]");
    json_decref(r);
    /* Told its limit was 3, the same call gave up early. */
    {
        struct retries_opts o = {3, 120000};

        r = report(a, 3, &o);
        assert_true(
            json_is_false(json_object_get(call(r, 0, 0), "stopped_at_limit")));
        json_decref(r);
    }
}

/* A 429 asking for 300 ms: waited 299 ms (within the 2 ms the clocks allow)
 * is honoured, 297 ms is not; the call that then got its 200 succeeded. */
static void test_retry_after_honoured(void **state)
{
    static const struct attempt a[] = {
        {1, 0, 1, 429, NULL, 0, NULL, NULL, "1", "300"},
        {1, 300, 1, 200, NULL, 1, NULL, NULL, NULL, NULL},
        {1, 1000, 1, 429, NULL, 0, NULL, "h2", "1", "300"},
        {1, 1298, 1, 200, NULL, 1, NULL, "h2", NULL, NULL},
        /* retry-after-ms missing: Retry-After's seconds count. */
        {1, 2000, 0, 503, NULL, 0, NULL, "h3", "2", NULL},
        {1, 4000, 0, 200, NULL, 1, NULL, "h3", NULL, NULL},
    };
    json_t *r = report(a, 6, &defaults);
    const json_t *c, *t;

    (void)state;
    c = call(r, 0, 0);
    assert_string_equal(str(c, "outcome"), "succeeded");
    assert_true(json_is_null(json_object_get(c, "stopped_at_limit")));
    assert_true(json_is_true(json_object_get(c, "honored_retry_after")));
    assert_true(json_is_null(json_object_get(c, "backoff_grew")));
    t = json_array_get(json_object_get(c, "tries"), 1);
    assert_int_equal(num(t, "wait_ms"), 299);
    assert_int_equal(num(t, "advised_wait_ms"), 300);
    assert_true(json_is_true(json_object_get(t, "honored")));
    assert_true(json_is_null(json_object_get(
        json_array_get(json_object_get(c, "tries"), 0), "wait_ms")));
    c = call(r, 0, 1);
    t = json_array_get(json_object_get(c, "tries"), 1);
    assert_int_equal(num(t, "wait_ms"), 297);
    assert_true(json_is_false(json_object_get(t, "honored")));
    assert_true(json_is_false(json_object_get(c, "honored_retry_after")));
    c = call(r, 0, 2);
    t = json_array_get(json_object_get(c, "tries"), 1);
    assert_int_equal(num(t, "advised_wait_ms"), 2000);
    assert_int_equal(num(t, "wait_ms"), 2000);
    assert_true(json_is_true(json_object_get(t, "honored")));
    assert_int_equal(
        json_array_size(json_object_get(
            json_array_get(json_object_get(r, "clients"), 0), "calls")),
        3);
    json_decref(r);
}

/* How attempts group: an Idempotency-Key joins whatever the body and the
 * time; a retry count of 0 always starts a call; a success ends one; past
 * the window a failed call is over; keys are separate clients. */
static void test_grouping(void **state)
{
    static const struct attempt a[] = {
        /* Two attempts of one key, bodies differing, 10 minutes apart. */
        {0, 0, 1, 500, NULL, -1, "k-1", "ha", NULL, NULL},
        {0, 600000, 1, 200, NULL, -1, "k-1", "hb", NULL, NULL},
        /* Same body after a failure, but saying it is a first attempt. */
        {0, 10, 1, 500, NULL, 0, NULL, "hc", NULL, NULL},
        {0, 20, 1, 500, NULL, 0, NULL, "hc", NULL, NULL},
        /* Same body after a success: a new call. */
        {0, 30, 1, 200, NULL, -1, NULL, "hd", NULL, NULL},
        {0, 40, 1, 200, NULL, -1, NULL, "hd", NULL, NULL},
        /* Same body after a failure, no headers: a retry... */
        {0, 50, 1, 429, NULL, -1, NULL, "he", NULL, NULL},
        {0, 60, 1, 200, NULL, -1, NULL, "he", NULL, NULL},
        /* ...but not past the window (120 s by default). */
        {0, 70, 1, 500, NULL, -1, NULL, "hf", NULL, NULL},
        {0, 120072, 1, 200, NULL, -1, NULL, "hf", NULL, NULL},
        /* Another key is another client. */
        {2, 80, 1, 500, NULL, 1, NULL, "hc", NULL, NULL},
    };
    json_t *r = report(a, 11, &defaults);
    const json_t *clients = json_object_get(r, "clients"), *cl, *c;
    size_t i;
    /* Calls of client 0 in order of their first attempt's arrival. */
    static const struct {
        json_int_t attempts;
        const char *grouped_by;
        const char *outcome;
    } want[] = {
        {2, "idempotency_key", "succeeded"}, /* t 0, 600000 */
        {1, "body", "gave_up"},              /* t 10 */
        {1, "body", "gave_up"},              /* t 20 */
        {1, "body", "succeeded"},            /* t 30 */
        {1, "body", "succeeded"},            /* t 40 */
        {2, "body", "succeeded"},            /* t 50, 60 */
        {1, "body", "gave_up"},              /* t 70 */
        {1, "body", "succeeded"},            /* t 120072 */
    };

    (void)state;
    assert_int_equal(json_array_size(clients), 2);
    cl = json_array_get(clients, 0);
    assert_int_equal(json_array_size(json_object_get(cl, "calls")), 8);
    for (i = 0; i < 8; i++) {
        c = call(r, 0, i);
        assert_int_equal(num(c, "attempts"), want[i].attempts);
        assert_string_equal(str(c, "grouped_by"), want[i].grouped_by);
        assert_string_equal(str(c, "outcome"), want[i].outcome);
    }
    assert_string_equal(str(call(r, 0, 0), "idempotency_key"), "k-1");
    /* A gap of 120072 - 71 = 120001 ms: one past the window. */
    assert_int_equal(num(json_object_get(cl, "summary"), "attempts"), 10);
    assert_int_equal(num(json_object_get(cl, "summary"), "retried_calls"), 2);
    assert_int_equal(num(json_array_get(clients, 1), "key_index"), 2);
    /* A window of 120001 joins the last two. */
    {
        struct retries_opts o = {2, 120001};

        json_decref(r);
        r = report(a, 11, &o);
        cl = json_array_get(json_object_get(r, "clients"), 0);
        assert_int_equal(json_array_size(json_object_get(cl, "calls")), 7);
    }
    json_decref(r);
}

/* Entries in any order are read in order of arrival; a non-retryable end
 * is a failure; more attempts than the limit allows is over it; backoff
 * that did not grow says so; retry counts that skip are inconsistent. */
static void test_order_failure_over_limit(void **state)
{
    static const struct attempt a[] = {
        {0, 1200, 1, 500, NULL, 3, NULL, NULL, NULL, NULL},
        {0, 0, 1, 500, NULL, 0, NULL, NULL, NULL, NULL},
        {0, 801, 1, 500, NULL, 2, NULL, NULL, NULL, NULL},
        {0, 401, 1, 500, NULL, 1, NULL, NULL, NULL, NULL},
        {0, 1601, 1, 400, NULL, 4, NULL, NULL, NULL, NULL},
        /* A cut connection is retryable: the client gave up after it. */
        {1, 0, 5, 200, "client_gone", 0, NULL, NULL, NULL, NULL},
        {1, 100, 5, 200, "client_gone", 2, NULL, NULL, NULL, NULL},
    };
    json_t *r = report(a, 7, &defaults);
    const json_t *c = call(r, 0, 0);

    (void)state;
    assert_int_equal(num(c, "attempts"), 5);
    assert_json(c, "retry_count_headers", "[0,1,2,3,4]");
    assert_json(c, "waits_ms", "[400,399,398,400]");
    assert_true(json_is_false(json_object_get(c, "backoff_grew")));
    assert_string_equal(str(c, "outcome"), "failed");
    assert_int_equal(num(c, "final_status"), 400);
    assert_true(json_is_null(json_object_get(c, "stopped_at_limit")));
    assert_true(json_is_true(json_object_get(c, "over_limit")));
    c = call(r, 1, 0);
    assert_string_equal(str(c, "outcome"), "gave_up");
    assert_true(json_is_false(json_object_get(c, "stopped_at_limit")));
    assert_true(json_is_false(json_object_get(c, "retry_count_consistent")));
    assert_json(c, "waits_ms", "[95]");
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdk_gives_up_at_limit),
        cmocka_unit_test(test_retry_after_honoured),
        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_order_failure_over_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
