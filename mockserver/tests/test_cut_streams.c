/* test_cut_streams: a stream whose client leaves part way is billed for
 * what it delivered (its prompt tokens plus the completion tokens of the
 * events handed to the socket), to the last pico-USD, and its log line
 * says it was cut and how many events went out; its journal entry
 * (GET /_nexus/requests) says the same. Real nexus-mock, raw sockets
 * closed with a FIN and with an RST. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "testutil.h"

/* One model, streamed at 20 tokens a second to the paced plan and at once
 * to the fast one; the same request gets the same content on both. */
static const char fixture[] =
    "version: 1\n"
    "plans:\n"
    "  paced: {requests_per_minute: 0, stream: {tokens_per_second: 20}}\n"
    "  fast: {requests_per_minute: 0, stream: {tokens_per_second: 0}}\n"
    "models:\n"
    "  - id: m1\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 1.5, output_per_million: 2.25}\n"
    "keys:\n"
    "  - {key: sk-paced, plan: paced, balance: 100}\n"
    "  - {key: sk-fast, plan: fast, balance: 100}\n";

/* pico-USD per token at the prices above. */
#define PRICE_IN INT64_C(1500000)
#define PRICE_OUT INT64_C(2250000)

#define BODY                                                                   \
    "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":30,"                     \
    "\"stream_options\":{\"include_usage\":true},\"messages\":"                \
    "[{\"role\":\"user\",\"content\":\"Tell me a long story\"}]}"

/* Events the client reads before it leaves: the role and three tokens. */
#define READ_EVENTS 4

static struct testproc mock;
static char *fixture_path;
static char log_path[] = "/tmp/nexus-cut-streams-XXXXXX.log";

/* The whole stream, read from the fast plan. */
static struct {
    unsigned nevents;
    uint64_t tokens_through[64]; /* completion tokens in events 1..k */
    int64_t prompt_tokens;
    int64_t completion_tokens;
} full;

/* Counts the completion tokens one event carries: a non-empty piece of
 * content, reasoning or tool-call arguments. */
static unsigned event_tokens(const char *data, size_t len)
{
    json_t *o = json_loadb(data, len, 0, NULL);
    json_t *delta = json_object_get(
        json_array_get(json_object_get(o, "choices"), 0), "delta");
    json_t *call = json_array_get(json_object_get(delta, "tool_calls"), 0);
    const char *parts[3] = {
        json_string_value(json_object_get(delta, "content")),
        json_string_value(json_object_get(delta, "reasoning_content")),
        json_string_value(
            json_object_get(json_object_get(call, "function"), "arguments")),
    };
    unsigned n = 0, i;

    for (i = 0; i < 3; i++)
        if (parts[i] != NULL && parts[i][0] != '\0')
            n++;
    json_decref(o);
    return n;
}

/* Reads the whole stream from the fast plan, counting tokens per event. */
static void read_full_stream(void)
{
    struct http_reply r;
    const char *p, *end;
    json_t *usage = NULL;

    assert_int_equal(http_do(&mock, "POST", "/v1/chat/completions", "sk-fast",
                             BODY, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    memset(&full, 0, sizeof(full));
    for (p = r.body; (end = strstr(p, "\n\n")) != NULL; p = end + 2) {
        assert_memory_equal(p, "data: ", 6);
        assert_true(full.nevents + 1 < 64);
        full.tokens_through[full.nevents + 1] =
            full.tokens_through[full.nevents] +
            event_tokens(p + 6, (size_t)(end - p - 6));
        full.nevents++;
        if (strncmp(p, "data: {", 7) == 0 && strstr(p, "\"usage\":{") != NULL &&
            strstr(p, "\"usage\":{") < end) {
            json_t *o = json_loadb(p + 6, (size_t)(end - p - 6), 0, NULL);

            usage = json_incref(json_object_get(o, "usage"));
            json_decref(o);
        }
    }
    assert_non_null(usage);
    full.prompt_tokens =
        json_integer_value(json_object_get(usage, "prompt_tokens"));
    full.completion_tokens =
        json_integer_value(json_object_get(usage, "completion_tokens"));
    json_decref(usage);
    http_reply_free(&r);
    /* role, one event per token, finish, usage, [DONE] */
    assert_true(full.completion_tokens > READ_EVENTS + 4);
    assert_int_equal(full.nevents, full.completion_tokens + 4);
    assert_int_equal(full.tokens_through[full.nevents], full.completion_tokens);
}

static int start(void **state)
{
    const char *extra[] = {"--fixtures", NULL,      "--log-format",
                           "json",       "--admin", NULL};
    int fd = mkstemps(log_path, 4);

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    fixture_path = temp_fixture(fixture);
    if (fixture_path == NULL || fd < 0)
        return -1;
    close(fd);
    extra[1] = fixture_path;
    return mock_start_logged(&mock, extra, log_path);
}

static int stop(void **state)
{
    int rc = testproc_stop(&mock);

    (void)state;
    unlink(fixture_path);
    free(fixture_path);
    unlink(log_path);
    return rc == 0 ? 0 : -1;
}

/* Sends the stream request on a raw socket, reads until at least
 * `events` whole events have arrived, then leaves: a FIN, or an RST when
 * reset. The request id goes to id. Returns how many events were read:
 * they come 50 ms apart, but a reader slowed by a loaded machine may get
 * two in one read. */
static unsigned read_then_leave(unsigned events, bool reset, char *id,
                                size_t idlen)
{
    char req[1024], data[65536];
    size_t len = 0;
    unsigned seen = 0;
    const char *body, *p, *rid;
    int fd = raw_connect(&mock), n;

    assert_true(fd >= 0);
    n = snprintf(req, sizeof(req),
                 "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: Bearer sk-paced\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n%s",
                 strlen(BODY), BODY);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    while (seen < events) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t got;

        assert_int_equal(poll(&pf, 1, 5000), 1);
        got = recv(fd, data + len, sizeof(data) - len - 1, 0);
        assert_true(got > 0);
        len += (size_t)got;
        data[len] = '\0';
        body = strstr(data, "\r\n\r\n");
        seen = 0;
        for (p = body; p != NULL && (p = strstr(p + 1, "\n\n")) != NULL;)
            seen++;
    }
    assert_true(seen >= events && seen < events + 3);
    assert_memory_equal(data, "HTTP/1.1 200", 12);
    rid = strstr(data, "x-request-id: ");
    assert_non_null(rid);
    rid += strlen("x-request-id: ");
    assert_true(idlen > 36);
    memcpy(id, rid, 36);
    id[36] = '\0';
    if (reset)
        raw_reset(fd);
    else
        close(fd);
    return seen;
}

/* Waits (at most 5 s) for the stream's log line. */
static json_t *wait_log(const char *id)
{
    json_t *line = NULL;
    int i;

    for (i = 0; i < 500 && line == NULL; i++) {
        struct timespec ts = {0, 10 * 1000000L};

        line = log_find_request(log_path, id);
        if (line == NULL)
            nanosleep(&ts, NULL);
    }
    assert_non_null(line);
    return line;
}

/* What the stream costs when its first `events` events went out. */
static int64_t charge_for(unsigned events)
{
    return full.prompt_tokens * PRICE_IN +
           (int64_t)full.tokens_through[events] * PRICE_OUT;
}

/* Waits (at most 5 s) until the key's balance moves from b0. */
static void wait_charge(const char *key, int64_t b0, int64_t *b1, int64_t *s1)
{
    int i;

    for (i = 0; i < 500; i++) {
        struct timespec ts = {0, 10 * 1000000L};

        assert_int_equal(balance_pico(&mock, key, b1, s1), 0);
        if (*b1 != b0)
            return;
        nanosleep(&ts, NULL);
    }
    fail_msg("the balance of %s did not move", key);
}

/* Checks that the journal entry of request id agrees with its log line,
 * and says it was a stream answered 200 by the generator; returns the
 * entry (new reference). */
static json_t *journal_of(const char *id, const json_t *line)
{
    json_t *entry = journal_wait(&mock, NULL, id);
    const json_t *timing = json_object_get(entry, "timing");
    char why[128];

    assert_non_null(entry);
    if (!journal_agrees(entry, line, why, sizeof(why)))
        fail_msg("journal and log disagree on %s: %s", id, why);
    assert_true(json_is_true(json_object_get(entry, "stream")));
    assert_int_equal(
        json_integer_value(json_object_get(entry, "response_status")), 200);
    assert_string_equal(json_string_value(json_object_get(entry, "rule")),
                        "generated");
    assert_string_equal(json_string_value(json_object_get(entry, "key")),
                        "sk...ed");
    /* The headers, then the first event, then the end, in that order. */
    assert_true(json_is_integer(json_object_get(timing, "headers_ms")));
    assert_true(json_is_integer(json_object_get(timing, "first_byte_ms")));
    assert_true(json_integer_value(json_object_get(timing, "headers_ms")) <=
                json_integer_value(json_object_get(timing, "first_byte_ms")));
    assert_true(json_integer_value(json_object_get(timing, "first_byte_ms")) <=
                json_integer_value(json_object_get(timing, "total_ms")));
    return entry;
}

/* One cut stream: the client reads READ_EVENTS events (or, on a slow
 * machine, one or two more) and leaves. */
static void cut_stream(bool reset)
{
    int64_t b0, s0, b1, s1, charged;
    json_t *line, *entry;
    char id[64], *text;
    json_int_t events;
    unsigned read;

    read_full_stream();
    assert_int_equal(balance_pico(&mock, "sk-paced", &b0, &s0), 0);
    read = read_then_leave(READ_EVENTS, reset, id, sizeof(id));
    wait_charge("sk-paced", b0, &b1, &s1);
    charged = b0 - b1;
    fprintf(stderr,
            "# %s after %u events: charged %lld pico-USD; the whole "
            "stream costs %lld, its first %u events %lld\n",
            reset ? "RST" : "FIN", read, (long long)charged,
            (long long)charge_for(full.nevents), read,
            (long long)charge_for(read));
    /* Billed for the events that went out: those read, and with a FIN
     * possibly one more, written before the server learnt the client had
     * gone. Money is conserved. */
    assert_int_equal(s1 - s0, charged);
    if (reset || charged != charge_for(read + 1))
        assert_int_equal(charged, charge_for(read));
    assert_true(charged < charge_for(full.nevents));
    /* Logged as cut by its client, with how many events went out. */
    line = wait_log(id);
    text = json_dumps(line, JSON_COMPACT);
    fprintf(stderr, "# %s\n", text);
    free(text);
    assert_int_equal(json_integer_value(json_object_get(line, "status")), 499);
    events = json_integer_value(json_object_get(line, "events"));
    assert_true(events == read || events == read + 1);
    assert_int_equal(charged, charge_for((unsigned)events));
    assert_string_equal(json_string_value(json_object_get(line, "outcome")),
                        "client_gone");
    entry = journal_of(id, line);
    assert_true(json_integer_value(json_object_get(entry, "bytes")) > 0);
    json_decref(entry);
    json_decref(line);
}

static void test_fin_bills_what_was_delivered(void **state)
{
    (void)state;
    cut_stream(false);
}

static void test_rst_bills_what_was_delivered(void **state)
{
    (void)state;
    cut_stream(true);
}

/* A stream read to its end is charged in full and logged as completed,
 * with all its events. */
static void test_completed_stream_in_full(void **state)
{
    int64_t b0, s0, b1, s1;
    struct http_reply r;
    json_t *line, *entry;
    char *id;

    (void)state;
    read_full_stream();
    assert_int_equal(balance_pico(&mock, "sk-paced", &b0, &s0), 0);
    assert_int_equal(http_do(&mock, "POST", "/v1/chat/completions", "sk-paced",
                             BODY, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    id = http_header(&r, "x-request-id");
    assert_non_null(id);
    wait_charge("sk-paced", b0, &b1, &s1);
    assert_int_equal(b0 - b1, charge_for(full.nevents));
    assert_int_equal(s1 - s0, b0 - b1);
    line = wait_log(id);
    assert_int_equal(json_integer_value(json_object_get(line, "status")), 200);
    assert_int_equal(json_integer_value(json_object_get(line, "events")),
                     full.nevents);
    assert_string_equal(json_string_value(json_object_get(line, "outcome")),
                        "completed");
    /* The journal has the bytes the client read (the events, without the
     * chunked framing). */
    entry = journal_of(id, line);
    assert_int_equal(json_integer_value(json_object_get(entry, "bytes")),
                     r.body_len);
    json_decref(entry);
    json_decref(line);
    free(id);
    http_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fin_bills_what_was_delivered),
        cmocka_unit_test(test_rst_bills_what_was_delivered),
        cmocka_unit_test(test_completed_stream_in_full),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
