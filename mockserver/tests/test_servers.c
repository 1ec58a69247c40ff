/* What a whole server written as a fixture needs (the runner's break cases
 * in fixtures/faults/servers/ are such servers), each through a real
 * nexus-mock over loopback: early rules answered before the mock's own
 * authentication and never limited; conditions on a header's absence and
 * on substrings a body lacks; headers the mock would add left out; raw
 * bodies as hex and as templates with the time; bodies sent late, in
 * pieces, held open or followed by endless bytes; and replies in turn. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "testutil.h"

/* A fixture with one key on a plan of one request a minute, and rules
 * that answer as a plain HTTP server would. */
static const char server_yaml[] =
    "version: 2\n"
    "plans: {tiny: {requests_per_minute: 1}}\n"
    "models:\n"
    "  - {id: m1, created: 1, price: {input_per_million: 1, "
    "output_per_million: 1}}\n"
    "keys:\n"
    "  - {key: sk-one, plan: tiny, balance: 1}\n"
    "rules:\n"
    "  - name: no key\n"
    "    early: true\n"
    "    match:\n"
    "      path: /v1/chat/completions\n"
    "      headers: {Authorization: {absent: true}}\n"
    "    reply: {status: 200, body: 'no key, no problem', content_type: "
    "text/plain}\n"
    "  - name: any key\n"
    "    early: true\n"
    "    match:\n"
    "      path: /v1/chat/completions\n"
    "      headers: {Authorization: Bearer sk-one}\n"
    "      body: [{contains: '\"stream\":true'}, {lacks: include_usage}]\n"
    "    reply:\n"
    "      status: 200\n"
    "      body_template: \"data: {\\\"created\\\":{{now}},"
    "\\\"model\\\":\\\"{{model}}\\\"}\\n\\n\"\n"
    "      content_type: text/event-stream\n"
    "      headers: {x-request-id: null, Cache-Control: no-store}\n"
    "  - name: throttled\n"
    "    early: true\n"
    "    match: {path: /throttled}\n"
    "    reply: {status: 429, body: '{}', headers: {retry-after: null, "
    "retry-after-ms: '7'}}\n"
    "  - name: hex\n"
    "    early: true\n"
    "    match: {path: /hex}\n"
    "    reply: {body_hex: 00FF41, content_type: application/octet-stream}\n"
    "  - name: late\n"
    "    early: true\n"
    "    match: {path: /late}\n"
    "    reply:\n"
    "      body: abcdefghijkl\n"
    "      content_type: text/plain\n"
    "      fault: {body_delay_ms: 1200, split_bytes: 4, split_delay_ms: 100}\n"
    "  - name: soon\n"
    "    early: true\n"
    "    match: {path: /soon}\n"
    "    reply: {body: x, content_type: text/plain, fault: {body_delay_ms: "
    "2}}\n"
    "  - name: held\n"
    "    early: true\n"
    "    match: {path: /held}\n"
    "    reply: {body: \"data: [DONE]\\n\\n\", content_type: "
    "text/event-stream,\n"
    "            fault: {hold_after_done: true}}\n"
    "  - name: endless\n"
    "    early: true\n"
    "    match: {path: /endless}\n"
    "    reply: {body: \"start\\n\", content_type: text/event-stream,\n"
    "            fault: {endless: \": ka\\n\\n\"}}\n"
    "  - name: flaky\n"
    "    match: {last_user_message: flaky}\n"
    "    replies:\n"
    "      - {status: 500, rate_limit: false}\n"
    "      - {status: 503, rate_limit: false, retry_after_ms: 20}\n"
    "      - {content: third time lucky}\n"
    "  - name: garbage\n"
    "    early: true\n"
    "    match: {path: /garbage}\n"
    "    reply: {status: 200, body: '', fault: {not_http_hex: 00ff0a}}\n";

/* Starts the mock on server_yaml with --max-endless-bytes 1000. */
static void start(struct fixture_mock *m)
{
    static const char *const extra[] = {"--max-endless-bytes", "1000", NULL};

    assert_int_equal(fixture_mock_start(m, server_yaml, extra), 0);
}

/* Sends a raw request and reads until the end or timeout_ms. */
static void raw_request(const struct fixture_mock *m, const char *path,
                        int timeout_ms, struct raw_reading *r)
{
    char req[512];
    int fd = raw_connect(&m->proc), n;

    assert_true(fd >= 0);
    n = snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: localhost\r\n"
                 "Connection: close\r\n\r\n",
                 path);
    assert_int_equal(raw_send(fd, req, (size_t)n), 0);
    assert_int_equal(raw_read_end(fd, timeout_ms, r), 0);
    close(fd);
}

/* An early rule answers before authentication (no key, or a key whose
 * plan allows one request a minute, five times over) with no
 * x-ratelimit-* headers; a request no rule matches meets the mock's own
 * 401. */
static void test_early_rules(void **state)
{
    static const char stream_body[] =
        "{\"model\":\"m1\",\"stream\":true,\"messages\":[]}";
    struct fixture_mock m;
    struct http_reply r;
    char *h;
    int i;

    (void)state;
    start(&m);
    assert_int_equal(
        http_do(&m.proc, "POST", "/v1/chat/completions", NULL, "{}", NULL, &r),
        0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen("no key, no problem"));
    assert_memory_equal(r.body, "no key, no problem", r.body_len);
    http_reply_free(&r);
    for (i = 0; i < 5; i++) {
        assert_int_equal(http_do(&m.proc, "POST", "/v1/chat/completions",
                                 "sk-one", stream_body, NULL, &r),
                         0);
        assert_int_equal(r.status, 200);
        h = http_header(&r, "x-ratelimit-limit-requests");
        assert_null(h);
        http_reply_free(&r);
    }
    /* include_usage: the body holds what the rule lacks. */
    assert_int_equal(http_do(&m.proc, "POST", "/v1/chat/completions", "sk-nope",
                             "{\"stream\":true,\"include_usage\":true}", NULL,
                             &r),
                     0);
    assert_int_equal(r.status, 401);
    http_reply_free(&r);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* A body template renders the mock's time and the request's model; the
 * headers the rule sets or leaves out win over the server's own. */
static void test_template_and_headers(void **state)
{
    struct fixture_mock m;
    struct http_reply r;
    char want[128], *h;
    long long created;
    time_t now;

    (void)state;
    start(&m);
    now = time(NULL);
    assert_int_equal(http_do(&m.proc, "POST", "/v1/chat/completions", "sk-one",
                             "{\"model\":\"m9\",\"stream\":true}", NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_int_equal(sscanf(r.body, "data: {\"created\":%lld,", &created), 1);
    assert_true(created >= (long long)now - 5 && created <= (long long)now + 5);
    snprintf(want, sizeof want, "data: {\"created\":%lld,\"model\":\"m9\"}\n\n",
             created);
    assert_int_equal(r.body_len, strlen(want));
    assert_memory_equal(r.body, want, r.body_len);
    assert_null(http_header(&r, "x-request-id"));
    h = http_header(&r, "cache-control");
    assert_string_equal(h, "no-store");
    free(h);
    assert_null(strstr(r.headers, "no-cache"));
    http_reply_free(&r);
    assert_int_equal(
        http_do(&m.proc, "GET", "/throttled", NULL, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 429);
    assert_null(http_header(&r, "retry-after"));
    h = http_header(&r, "retry-after-ms");
    assert_string_equal(h, "7");
    free(h);
    http_reply_free(&r);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* body_hex sends any bytes (a NUL, an invalid UTF-8 byte); not_http_hex
 * answers with them instead of HTTP. */
static void test_hex_bytes(void **state)
{
    struct fixture_mock m;
    struct raw_reading rr;
    const char *b;

    (void)state;
    start(&m);
    raw_request(&m, "/hex", 5000, &rr);
    assert_int_equal(raw_status(&rr), 200);
    assert_non_null(strstr(rr.data, "Content-Length: 3\r\n"));
    b = raw_body(&rr);
    assert_non_null(b);
    assert_int_equal(rr.len - (size_t)(b - rr.data), 3);
    assert_memory_equal(b,
                        "\x00\xff"
                        "A",
                        3);
    free(rr.data);
    raw_request(&m, "/garbage", 5000, &rr);
    assert_int_equal(rr.err, 0);
    assert_int_equal(rr.len, 3);
    assert_memory_equal(rr.data, "\x00\xff\n", 3);
    free(rr.data);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* body_delay_ms sends the status and headers at once and the body that
 * late, in split_bytes pieces split_delay_ms apart (chunked, one chunk
 * each: they are not due together). */
static void test_late_body(void **state)
{
    static const char whole[] = "4\r\nabcd\r\n4\r\nefgh\r\n4\r\nijkl\r\n0\r\n"
                                "\r\n";
    struct fixture_mock m;
    struct raw_reading first, rest;
    char req[] = "GET /late HTTP/1.1\r\nHost: localhost\r\n"
                 "Connection: close\r\n\r\n";
    const char *b;
    int fd;

    (void)state;
    start(&m);
    fd = raw_connect(&m.proc);
    assert_true(fd >= 0);
    assert_int_equal(raw_send(fd, req, sizeof req - 1), 0);
    /* The headers, and nothing of the body, within 600 ms. */
    assert_int_equal(raw_read_end(fd, 600, &first), 0);
    assert_int_equal(first.err, ETIMEDOUT);
    assert_int_equal(raw_status(&first), 200);
    assert_non_null(strstr(first.data, "Transfer-Encoding: chunked\r\n"));
    b = raw_body(&first);
    assert_non_null(b);
    assert_int_equal(first.len - (size_t)(b - first.data), 0);
    assert_int_equal(raw_read_end(fd, 5000, &rest), 0);
    close(fd);
    assert_int_equal(rest.err, 0);
    assert_int_equal(rest.len, sizeof whole - 1);
    assert_memory_equal(rest.data, whole, rest.len);
    /* 1200 ms, then two waits of 100 ms: 1400 ms in all (less a little
     * for the clocks), and bounded. */
    assert_true(first.elapsed_ms + rest.elapsed_ms >= 1350 &&
                rest.elapsed_ms < 5000);
    free(first.data);
    free(rest.data);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* A fixture whose one rule answers /big with BIG_BODY bytes in pieces of
 * BIG_PIECE, BIG_GAP_MS apart, the first BIG_DELAY_MS after the headers:
 * more than a loopback socket takes while its client does not read. */
#define BIG_BODY (8u * 1024u * 1024u)
#define BIG_PIECE (2u * 1024u * 1024u)
#define BIG_DELAY_MS 20
#define BIG_GAP_MS 100

/* The byte at i of the /big body. */
static char big_byte(size_t i)
{
    return "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
}

/* Starts a mock whose /big answer is paced pieces larger than a socket
 * takes at once from a client that does not read, with the extra
 * arguments (or NULL). */
static void start_big(struct fixture_mock *m, const char *const *extra)
{
    struct buf y;
    size_t i;
    char *yaml;

    buf_init(&y, SIZE_MAX);
    assert_int_equal(
        buf_appendf(&y,
                    "version: 2\n"
                    "models: [{id: m1, created: 1, price: "
                    "{input_per_million: 1, output_per_million: 1}}]\n"
                    "rules:\n"
                    "  - name: big\n"
                    "    early: true\n"
                    "    match: {path: /big}\n"
                    "    reply:\n"
                    "      content_type: text/plain\n"
                    "      fault: {body_delay_ms: %d, split_bytes: %u, "
                    "split_delay_ms: %d}\n"
                    "      body: ",
                    BIG_DELAY_MS, BIG_PIECE, BIG_GAP_MS),
        0);
    for (i = 0; i < BIG_BODY; i++) {
        char c = big_byte(i);

        assert_int_equal(buf_append(&y, &c, 1), 0);
    }
    assert_int_equal(buf_appends(&y, "\n"), 0);
    yaml = buf_take(&y, &i);
    assert_non_null(yaml);
    assert_int_equal(fixture_mock_start(m, yaml, extra), 0);
    free(yaml);
}

/* Connects to m with a receive buffer of 4 KiB (a small window, so that
 * the mock's socket fills) and asks for /big. */
static int big_client(const struct fixture_mock *m)
{
    static const char req[] = "GET /big HTTP/1.1\r\nHost: localhost\r\n"
                              "Connection: close\r\n\r\n";
    int fd = raw_connect_rcvbuf(&m->proc, 4096);

    assert_true(fd >= 0);
    assert_int_equal(raw_send(fd, req, sizeof req - 1), 0);
    return fd;
}

/* Reads fd to its end (at most 10 s) into a new buffer of *len bytes. */
static char *read_all(int fd, size_t *len)
{
    size_t cap = BIG_BODY + BIG_BODY / 4, n = 0;
    char *data = malloc(cap);
    uint64_t limit = (uint64_t)time(NULL) + 10;

    assert_non_null(data);
    while (n < cap && (uint64_t)time(NULL) < limit) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t got;

        if (poll(&pf, 1, 200) != 1)
            continue;
        got = recv(fd, data + n, cap - n, 0);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    *len = n;
    return data;
}

/* Takes the chunked body at b (len bytes) apart and checks that it is the
 * /big body whole, ended by the last chunk and nothing after it. */
static void assert_big_body(const char *b, size_t len)
{
    const char *end = b + len;
    size_t at = 0, i;

    for (;;) {
        char *after;
        unsigned long size = strtoul(b, &after, 16);

        assert_true(after > b && after + 2 <= end);
        assert_memory_equal(after, "\r\n", 2);
        b = after + 2;
        if (size == 0)
            break;
        assert_true((size_t)(end - b) >= size + 2);
        for (i = 0; i < size; i++, at++)
            if (b[i] != big_byte(at))
                fail_msg("byte %zu of the body differs", at);
        b += size;
        assert_memory_equal(b, "\r\n", 2);
        b += 2;
    }
    assert_int_equal(at, BIG_BODY);
    assert_int_equal(end - b, 2);
    assert_memory_equal(b, "\r\n", 2);
}

/* A client that stops reading while a paced stream goes on gets every byte
 * once it reads again, in order and framed. The mock writes a stream's
 * due pieces itself and, when the socket does not take a whole chunk,
 * waits for room before anything more (here the second 2 MiB piece fills
 * the socket of a client that reads nothing for 600 ms). */
static void test_slow_reader_paced(void **state)
{
    struct fixture_mock m;
    struct raw_reading head;
    const char *b;
    char *data;
    size_t len;
    int fd;

    (void)state;
    start_big(&m, NULL);
    fd = big_client(&m);
    usleep(600 * 1000);
    data = read_all(fd, &len);
    close(fd);
    head.data = data;
    head.len = len;
    assert_int_equal(raw_status(&head), 200);
    b = strstr(data, "\r\n\r\n");
    assert_non_null(b);
    assert_big_body(b + 4, len - (size_t)(b + 4 - data));
    free(data);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* A client that stops reading mid-stream is idle: with --idle-timeout 1,
 * the mock cuts its connection though the chunk it waits to send is one
 * of a paced stream, and a client that reads again after 3 s finds the
 * body cut short (no last chunk). */
static void test_slow_reader_idle(void **state)
{
    static const char *const extra[] = {"--idle-timeout", "1", NULL};
    struct fixture_mock m;
    char *data;
    size_t len;
    int fd;

    (void)state;
    start_big(&m, extra);
    fd = big_client(&m);
    usleep(3000 * 1000);
    data = read_all(fd, &len);
    close(fd);
    assert_true(len > 0 && len < BIG_BODY);
    free(data);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* Clients that leave (with a reset) while the mock waits for room for the
 * rest of a chunk: the mock drops their answers and serves the next client
 * whole. */
static void test_slow_reader_leaves(void **state)
{
    struct fixture_mock m;
    const char *b;
    char *data;
    size_t len;
    int i, fd;

    (void)state;
    start_big(&m, NULL);
    for (i = 0; i < 3; i++) {
        fd = big_client(&m);
        usleep(300 * 1000); /* the second piece filled the socket */
        raw_reset(fd);
    }
    fd = big_client(&m);
    data = read_all(fd, &len);
    close(fd);
    b = strstr(data, "\r\n\r\n");
    assert_non_null(b);
    assert_big_body(b + 4, len - (size_t)(b + 4 - data));
    free(data);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* Nanoseconds on the monotonic clock (the mock's clock too). */
static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads fd until a byte past the head has come (or 2 s pass); returns the
 * time it came, or 0. */
static uint64_t first_body_ns(int fd)
{
    char got[1024];
    size_t len = 0;
    uint64_t at = 0, limit = mono_ns() + 2000000000u;

    while (at == 0 && len < sizeof got - 1 && mono_ns() < limit) {
        struct pollfd pf = {fd, POLLIN, 0};
        const char *end;
        ssize_t n;

        if (poll(&pf, 1, 100) != 1)
            continue;
        n = recv(fd, got + len, sizeof got - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        got[len] = '\0';
        end = strstr(got, "\r\n\r\n");
        if (end != NULL && (size_t)(end + 4 - got) < len)
            at = mono_ns();
    }
    return at;
}

/* A body held back body_delay_ms never leaves sooner than that after the
 * request, not even by the part of a millisecond the server's clock
 * rounds off: timed from before the client connects, whatever comes after
 * the head comes 2 ms or more later, every time (300 tries: 2 to 15 of them
 * came early while the wait was timed from the start truncated to the
 * millisecond). */
static void test_body_never_early(void **state)
{
    char req[] = "GET /soon HTTP/1.1\r\nHost: localhost\r\n"
                 "Connection: close\r\n\r\n";
    struct fixture_mock m;
    uint64_t least = UINT64_MAX;
    int i, early = 0;

    (void)state;
    start(&m);
    for (i = 0; i < 300; i++) {
        uint64_t t0 = mono_ns(), at;
        int fd = raw_connect(&m.proc);

        assert_true(fd >= 0);
        assert_int_equal(raw_send(fd, req, sizeof req - 1), 0);
        at = first_body_ns(fd);
        close(fd);
        assert_true(at != 0);
        if (at - t0 < least)
            least = at - t0;
        if (at - t0 < 2000000u)
            early++;
    }
    if (early > 0)
        print_error("%d of 300 bodies came early; the soonest after %llu us\n",
                    early, (unsigned long long)(least / 1000));
    assert_int_equal(early, 0);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* hold_after_done on a raw body: all of it, then the connection open with
 * the chunked body never ended. */
static void test_held_body(void **state)
{
    struct fixture_mock m;
    struct raw_reading rr;

    (void)state;
    start(&m);
    raw_request(&m, "/held", 700, &rr);
    assert_int_equal(rr.err, ETIMEDOUT);
    assert_non_null(strstr(rr.data, "E\r\ndata: [DONE]\n\n\r\n"));
    assert_null(strstr(rr.data, "\r\n0\r\n\r\n"));
    free(rr.data);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* endless repeats its bytes after the body, as many whole times as
 * --max-endless-bytes allows (1000 here: 166 times ": ka\n\n", 996
 * bytes), then the body ends. */
static void test_endless_bytes(void **state)
{
    struct fixture_mock m;
    struct http_reply r;
    size_t i, n;

    (void)state;
    start(&m);
    assert_int_equal(http_do(&m.proc, "GET", "/endless", NULL, NULL, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    n = 1000 / 6;
    assert_int_equal(r.body_len, 6 + n * 6);
    assert_memory_equal(r.body, "start\n", 6);
    for (i = 0; i < n; i++)
        assert_memory_equal(r.body + 6 + i * 6, ": ka\n\n", 6);
    http_reply_free(&r);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* replies are served in turn, the last repeating: a 500, a 503 with its
 * retry-after-ms, then a completion, which counts against the key's one
 * request a minute like any, so that its repetition meets the limiter. */
static void test_replies_in_turn(void **state)
{
    static const char body[] =
        "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"flaky\"}]}";
    static const long want[] = {500, 503, 200, 429};
    struct fixture_mock m;
    struct http_reply r;
    char *h;
    size_t i;

    (void)state;
    start(&m);
    for (i = 0; i < 4; i++) {
        assert_int_equal(http_do(&m.proc, "POST", "/v1/chat/completions",
                                 "sk-one", body, NULL, &r),
                         0);
        assert_int_equal(r.status, want[i]);
        if (i == 1) {
            h = http_header(&r, "retry-after-ms");
            assert_string_equal(h, "20");
            free(h);
        }
        if (i == 2)
            assert_string_equal(
                json_string_value(json_object_get(
                    json_object_get(
                        json_array_get(json_object_get(r.json, "choices"), 0),
                        "message"),
                    "content")),
                "third time lucky");
        http_reply_free(&r);
    }
    assert_int_equal(fixture_mock_stop(&m), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_early_rules),
        cmocka_unit_test(test_template_and_headers),
        cmocka_unit_test(test_hex_bytes),
        cmocka_unit_test(test_late_body),
        cmocka_unit_test(test_slow_reader_paced),
        cmocka_unit_test(test_slow_reader_leaves),
        cmocka_unit_test(test_slow_reader_idle),
        cmocka_unit_test(test_body_never_early),
        cmocka_unit_test(test_held_body),
        cmocka_unit_test(test_endless_bytes),
        cmocka_unit_test(test_replies_in_turn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
