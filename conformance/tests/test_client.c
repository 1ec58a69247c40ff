/* test_client: the libcurl transport over loopback, against a nexus-mock
 * playing a fixture of odd answers: raw bytes and headers kept, bodies handed
 * on as they arrive, and every limit (size, request time, stream silence)
 * enforced until the sink has its whole body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "client.h"
#include "buf.h"
#include "testutil.h"

/* The server every test here is served: nexus-mock playing these early
 * rules (answered before its own authentication, as a plain server
 * would), then the one that wants the long Authorization below, then a
 * 404 for anything else. */
static const char fixture_yaml[] =
    "version: 2\n"
    "models:\n"
    "  - {id: m, created: 1, price: {input_per_million: 1, "
    "output_per_million: 1}}\n"
    "rules:\n"
    "  - early: true\n"
    "    match: {method: POST, path: /v1/echo, body: {contains: hello},\n"
    "            headers: {Authorization: Bearer k}}\n"
    "    reply: {status: 201, body_hex: 00ff0d0a41,\n"
    "            headers: {X-Thing: '  spaced  ', x-request-id: req-1}}\n"
    "  - early: true\n"
    "    match: {method: GET, path: /v1/pieces}\n"
    "    reply: {body: \"data: one\\n\\ndata: two\\n\\n\",\n"
    "            fault: {split_bytes: 3, split_delay_ms: 5}}\n"
    "  - early: true\n"
    "    match: {method: GET, path: /v1/big}\n"
    "    reply: {body: '', fault: {endless: '0123456789'}}\n"
    "  - early: true\n"
    "    match: {method: GET, path: /v1/stall}\n"
    "    reply: {body: '', fault: {hang: true}}\n"
    "  - early: true\n"
    "    match: {method: GET, path: /v1/quiet}\n"
    "    reply: {body: \"data: x\\n\\n\", fault: {hold_after_done: true}}\n"
    "  - early: true\n"
    "    match: {method: GET, path: /v1/slow}\n"
    "    reply: {body: \"data: 0123456789012345678901234567890123456789"
    "\\n\\n\",\n"
    "            fault: {split_bytes: 1, split_delay_ms: 50}}\n"
    "  - early: true\n"
    "    match: {method: GET, path: /v1/late}\n"
    "    reply: {body: \"data: x\\n\\ndata: y\\n\\n\", "
    "fault: {body_delay_ms: 300}}\n"
    "  - early: true\n"
    "    match: {method: GET, path: /v1/whoami,\n"
    "            headers: {Authorization: '%s'}}\n"
    "    reply: {body: you, content_type: text/plain}\n"
    "  - early: true\n"
    "    reply: {status: 404, body: '{}'}\n";

/* An Authorization value longer than 8 KiB (a JWT can be): one rule of the
 * fixture wants it (the mock, whose default --max-headers is 8 KiB, is
 * given room for it). */
static char long_bearer[9001];

struct fixture {
    struct testproc server;
    char base[300];
    char dir[64];
};

/* Starts nexus-mock on the fixture above. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[128];
    char *argv[] = {(char *)tu_env("NEXUS_MOCK_BIN"),
                    "--port",
                    "0",
                    "--quiet",
                    "--no-watch",
                    "--shutdown-grace",
                    "0",
                    "--max-headers",
                    "65536",
                    "--fixtures",
                    path,
                    NULL};
    FILE *out;

    memset(long_bearer, 'k', sizeof(long_bearer) - 1);
    memcpy(long_bearer, "Bearer ", 7);
    long_bearer[sizeof(long_bearer) - 1] = '\0';
    tu_tmpdir(f->dir, sizeof(f->dir));
    snprintf(path, sizeof(path), "%s/server.yaml", f->dir);
    out = fopen(path, "w");
    assert_non_null(out);
    assert_true(fprintf(out, fixture_yaml, long_bearer) > 0);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(testproc_start(&f->server, argv, NULL), 0);
    snprintf(f->base, sizeof(f->base), "%s/v1/", f->server.url);
    remove(path);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    *state = f;
    return 0;
}

/* Stops the server. */
static int teardown(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(testproc_stop(&f->server), 0);
    remove(f->dir);
    curl_global_cleanup();
    free(f);
    return 0;
}

/* Makes a client for the fixture's server. */
static struct transport *client(const struct fixture *f, double timeout,
                                double stream_timeout)
{
    struct client_config cc = {.base_url = f->base,
                               .timeout_s = timeout,
                               .stream_timeout_s = stream_timeout,
                               .user_agent = "test"};
    char *cause = NULL;
    struct transport *t = client_new(&cc, &cause);

    assert_non_null(t);
    assert_null(cause);
    return t;
}

/* Collects what a sink is handed. */
struct collected {
    struct buf bytes;
    unsigned calls;
    unsigned stop_after; /* 0: never stop */
    double first_ms, last_ms;
    bool backwards; /* a piece said it came before the one before it */
};

/* A sink data callback that keeps the bytes, counts the calls and keeps
 * when the first and the last piece came. */
static int collect(void *ud, const char *bytes, size_t len, double elapsed_ms)
{
    struct collected *c = ud;
    bool full = buf_append(&c->bytes, bytes, len) != 0;

    if (c->calls == 0)
        c->first_ms = elapsed_ms;
    else if (elapsed_ms < c->last_ms)
        c->backwards = true;
    c->last_ms = elapsed_ms;
    c->calls++;
    return full || (c->stop_after != 0 && c->calls >= c->stop_after);
}

/* The key, the body and the path reach the server; the answer comes back
 * byte for byte with its headers. */
static void test_exchange(void **state)
{
    struct fixture *f = *state;
    struct transport *t = client(f, 5, 5);
    struct http_request req = {.method = "POST",
                               .path = "/echo",
                               .authorization = "Bearer k",
                               .body = "{\"say\":\"hello\"}",
                               .body_len = 15};
    struct http_response resp;

    http_response_init(&resp, 1 << 20);
    transport_perform(t, &req, &resp, NULL);
    assert_int_equal(resp.ts, TRANSPORT_OK);
    assert_int_equal(resp.status, 201);
    assert_int_equal(resp.body.len, 5);
    assert_memory_equal(resp.body.data, "\x00\xff\r\nA", 5);
    assert_string_equal(http_response_header(&resp, "x-thing"), "spaced");
    assert_string_equal(http_response_header(&resp, "X-REQUEST-ID"), "req-1");
    assert_non_null(strstr(resp.url, "/v1/echo"));
    assert_null(strstr(resp.url, "//echo"));
    http_response_cleanup(&resp);
    /* Without the key the script has no route: its 404. */
    req.authorization = NULL;
    http_response_init(&resp, 1 << 20);
    transport_perform(t, &req, &resp, NULL);
    assert_int_equal(resp.status, 404);
    http_response_cleanup(&resp);
    transport_free(t);
}

/* A body written in pieces reaches the sink in pieces, all of it, each
 * with the time it came. */
static void test_pieces(void **state)
{
    struct fixture *f = *state;
    struct transport *t = client(f, 5, 5);
    struct http_request req = {
        .method = "GET", .path = "/pieces", .stream = true};
    struct collected c = {.stop_after = 0};
    struct http_sink sink = {.data = collect, .ud = &c};
    struct http_response resp;

    buf_init(&c.bytes, 1 << 20);
    http_response_init(&resp, 1 << 20);
    transport_perform(t, &req, &resp, &sink);
    assert_int_equal(resp.ts, TRANSPORT_OK);
    assert_string_equal(buf_str(&c.bytes), "data: one\n\ndata: two\n\n");
    assert_string_equal(buf_str(&resp.body), "data: one\n\ndata: two\n\n");
    assert_true(c.calls > 1);
    /* Eight pieces 5 ms apart: the sink is told when each came. */
    assert_false(c.backwards);
    assert_true(c.last_ms - c.first_ms >= 20);
    http_response_cleanup(&resp);
    /* The sink may end the exchange early. */
    buf_reset(&c.bytes);
    c.calls = 0;
    c.stop_after = 1;
    http_response_init(&resp, 1 << 20);
    transport_perform(t, &req, &resp, &sink);
    assert_int_equal(resp.ts, TRANSPORT_STOPPED);
    assert_int_equal(c.calls, 1);
    http_response_cleanup(&resp);
    /* A body held back 300 ms after the headers is said to come no
     * sooner. */
    buf_reset(&c.bytes);
    c.calls = 0;
    c.stop_after = 0;
    req.path = "/late";
    http_response_init(&resp, 1 << 20);
    transport_perform(t, &req, &resp, &sink);
    assert_int_equal(resp.ts, TRANSPORT_OK);
    assert_string_equal(buf_str(&c.bytes), "data: x\n\ndata: y\n\n");
    assert_true(c.first_ms >= 300);
    assert_true(c.last_ms <= resp.elapsed_ms);
    http_response_cleanup(&resp);
    buf_cleanup(&c.bytes);
    transport_free(t);
}

/* An endless body stops at the cap. */
static void test_size_cap(void **state)
{
    struct fixture *f = *state;
    struct transport *t = client(f, 5, 5);
    struct http_request req = {.method = "GET", .path = "/big"};
    struct http_response resp;

    http_response_init(&resp, 100000);
    transport_perform(t, &req, &resp, NULL);
    assert_int_equal(resp.ts, TRANSPORT_TOO_BIG);
    assert_true(resp.body.len <= 100000);
    assert_non_null(strstr(resp.error, "100000"));
    http_response_cleanup(&resp);
    transport_free(t);
}

/* A request that is never answered ends at the request timeout; a stream
 * that goes quiet ends at the silence limit, well before its own. */
static void test_timeouts(void **state)
{
    struct fixture *f = *state;
    struct transport *t = client(f, 0.3, 20);
    struct http_request stall = {.method = "GET", .path = "/stall"};
    struct http_request quiet = {
        .method = "GET", .path = "/quiet", .stream = true};
    struct http_response resp;

    http_response_init(&resp, 1 << 20);
    transport_perform(t, &stall, &resp, NULL);
    assert_int_equal(resp.ts, TRANSPORT_TIMEOUT);
    assert_true(resp.elapsed_ms < 2000);
    http_response_cleanup(&resp);
    http_response_init(&resp, 1 << 20);
    transport_perform(t, &quiet, &resp, NULL);
    assert_int_equal(resp.ts, TRANSPORT_TIMEOUT);
    assert_string_equal(buf_str(&resp.body), "data: x\n\n");
    assert_non_null(strstr(resp.error, "no byte"));
    assert_true(resp.elapsed_ms < 3000);
    http_response_cleanup(&resp);
    transport_free(t);
}

/* A sink whose body is whole from its first tick, and which stops the
 * exchange once grace_ms have passed. */
struct whole {
    double grace_ms;
    unsigned ticks;
};

/* The tick of struct whole. */
static enum sink_state whole_tick(void *ud, double elapsed_ms)
{
    struct whole *w = ud;

    w->ticks++;
    return elapsed_ms > w->grace_ms ? SINK_STOP : SINK_COMPLETE;
}

/* A sink tick that always wants more. */
static enum sink_state reading_tick(void *ud, double elapsed_ms)
{
    (void)ud;
    (void)elapsed_ms;
    return SINK_READING;
}

/* Once the sink has its whole body, neither the silence limit nor the
 * stream timeout cuts the exchange: the sink's own grace ends it. */
static void test_complete_lifts_limits(void **state)
{
    struct fixture *f = *state;
    struct transport *t = client(f, 0.3, 0.5);
    struct http_request quiet = {
        .method = "GET", .path = "/quiet", .stream = true};
    struct whole w = {.grace_ms = 1500};
    struct http_sink sink = {.tick = whole_tick, .ud = &w};
    struct http_response resp;

    http_response_init(&resp, 1 << 20);
    transport_perform(t, &quiet, &resp, &sink);
    assert_int_equal(resp.ts, TRANSPORT_STOPPED);
    assert_string_equal(buf_str(&resp.body), "data: x\n\n");
    assert_true(resp.elapsed_ms > 1500);
    assert_true(resp.elapsed_ms < 5000);
    assert_true(w.ticks > 1);
    http_response_cleanup(&resp);
    transport_free(t);
}

/* A sink that is still reading leaves every limit in force: silence ends
 * a quiet stream, and the stream timeout one that trickles. */
static void test_reading_keeps_limits(void **state)
{
    struct fixture *f = *state;
    struct transport *t = client(f, 0.3, 0.8);
    struct http_request quiet = {
        .method = "GET", .path = "/quiet", .stream = true};
    struct http_request slow = {
        .method = "GET", .path = "/slow", .stream = true};
    struct http_sink sink = {.tick = reading_tick};
    struct http_response resp;

    http_response_init(&resp, 1 << 20);
    transport_perform(t, &quiet, &resp, &sink);
    assert_int_equal(resp.ts, TRANSPORT_TIMEOUT);
    assert_non_null(strstr(resp.error, "--timeout silence limit"));
    assert_true(resp.elapsed_ms < 3000);
    http_response_cleanup(&resp);
    http_response_init(&resp, 1 << 20);
    transport_perform(t, &slow, &resp, &sink);
    assert_int_equal(resp.ts, TRANSPORT_TIMEOUT);
    assert_non_null(strstr(resp.error, "--stream-timeout"));
    assert_true(resp.body.len > 0 && resp.body.len < 48);
    assert_true(resp.elapsed_ms > 800 && resp.elapsed_ms < 2000);
    http_response_cleanup(&resp);
    transport_free(t);
}

/* A long Authorization value is sent whole. */
static void test_long_authorization(void **state)
{
    struct fixture *f = *state;
    struct transport *t = client(f, 5, 5);
    struct http_request req = {
        .method = "GET", .path = "/whoami", .authorization = long_bearer};
    struct http_response resp;

    http_response_init(&resp, 1 << 20);
    transport_perform(t, &req, &resp, NULL);
    if (resp.ts != TRANSPORT_OK)
        fail_msg("transport: %s", resp.error);
    assert_int_equal(resp.status, 200);
    assert_string_equal(buf_str(&resp.body), "you");
    http_response_cleanup(&resp);
    transport_free(t);
}

/* Nobody listening: unreachable, at once. */
static void test_unreachable(void **state)
{
    struct fixture f = {.base = "http://127.0.0.1:1/v1"};
    struct transport *t = client(&f, 5, 5);
    struct http_request req = {.method = "GET", .path = "/models"};
    struct http_response resp;

    (void)state;
    http_response_init(&resp, 1 << 20);
    transport_perform(t, &req, &resp, NULL);
    assert_int_equal(resp.ts, TRANSPORT_UNREACHABLE);
    http_response_cleanup(&resp);
    transport_free(t);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_complete_lifts_limits),
        cmocka_unit_test(test_reading_keeps_limits),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_long_authorization),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
