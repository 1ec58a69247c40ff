/* The faults library (fixtures/faults/): every file loads and documents
 * itself, and each fault gives its exact bytes or connection behaviour to
 * a raw client of a real nexus-mock over loopback. */
#include <dirent.h>
#include <errno.h>
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

#include "buf.h"
#include "fixtures.h"
#include "rules.h"
#include "testutil.h"

/* The files of the library, each tested below. */
#define FAULT_FILES 20

static const char error_json[] =
    "{\"error\":{\"message\":\"The server had an error while processing your "
    "request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,"
    "\"code\":\"server_error\"}}";

/* A raw client's view of one streamed request to a fault. */
struct seen {
    struct raw_reading r;
    int status;
    struct buf body; /* the body without its chunked framing */
    bool terminated; /* the last chunk (0) came */
    size_t chunks;   /* how many chunks came */
    bool split_char; /* some chunk ended inside a UTF-8 character */
};

/* Puts into path the library file named name. */
static void fault_path(char *path, size_t size, const char *name)
{
    const char *dir = getenv("NEXUS_SOURCE_DIR");
    int n;

    if (dir == NULL || dir[0] == '\0') {
        print_message("NEXUS_SOURCE_DIR is not set; skipping\n");
        skip();
    }
    n = snprintf(path, size, "%s/fixtures/faults%s%s", dir, name ? "/" : "",
                 name ? name : "");
    assert_true(n > 0 && (size_t)n < size);
}

/* Reads the chunked body at p (len bytes) into s. */
static void dechunk(const char *p, size_t len, struct seen *s)
{
    const char *end = p + len;
    char *after;
    unsigned long n;

    while (p < end) {
        n = strtoul(p, &after, 16);
        if (after == p || after + 2 > end || after[0] != '\r')
            break;
        p = after + 2;
        if (n == 0) {
            s->terminated = true;
            break;
        }
        if (n > (unsigned long)(end - p))
            n = (unsigned long)(end - p); /* a cut chunk: what came */
        assert_int_equal(buf_append(&s->body, p, n), 0);
        s->chunks++;
        if (((unsigned char)p[n - 1] & 0xC0) == 0xC0)
            s->split_char = true;
        p += n;
        if (p + 2 <= end)
            p += 2;
    }
}

/* Starts a mock on the library file name, sends it a streamed chat request
 * (stream says so) and reads until the end or timeout_ms; wait_ms more
 * are read after a first quiet timeout_ms when wait_ms > 0. */
static void run(const char *name, bool stream, int timeout_ms, int wait_ms,
                struct seen *s)
{
    char path[4096], req[1024];
    const char *extra[] = {"--fixtures", path, NULL};
    const char *body = stream ? "{\"model\":\"fault-chat\",\"stream\":true,"
                                "\"messages\":[{\"role\":\"user\","
                                "\"content\":\"hi\"}]}"
                              : "{\"model\":\"fault-chat\",\"messages\":[{"
                                "\"role\":\"user\",\"content\":\"hi\"}]}";
    struct testproc mock;
    struct raw_reading more;
    const char *b;
    int fd, n;

    memset(s, 0, sizeof(*s));
    buf_init(&s->body, (size_t)1 << 20);
    fault_path(path, sizeof path, name);
    assert_int_equal(mock_start(&mock, extra), 0);
    fd = raw_connect(&mock);
    assert_true(fd >= 0);
    n = snprintf(req, sizeof req,
                 "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                 "Authorization: Bearer sk-fault\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n"
                 "\r\n%s",
                 strlen(body), body);
    assert_true(n > 0 && (size_t)n < sizeof req);
    assert_int_equal(raw_send(fd, req, (size_t)n), 0);
    assert_int_equal(raw_read_end(fd, timeout_ms, &s->r), 0);
    if (wait_ms > 0) {
        assert_int_equal(s->r.len, 0); /* nothing within timeout_ms */
        free(s->r.data);
        assert_int_equal(raw_read_end(fd, wait_ms, &more), 0);
        s->r = more;
    }
    close(fd);
    assert_int_equal(testproc_stop(&mock), 0);
    s->status = raw_status(&s->r);
    b = raw_body(&s->r);
    if (b != NULL && strstr(s->r.data, "Transfer-Encoding: chunked") != NULL)
        dechunk(b, s->r.len - (size_t)(b - s->r.data), s);
    else if (b != NULL)
        assert_int_equal(
            buf_append(&s->body, b, s->r.len - (size_t)(b - s->r.data)), 0);
}

static void seen_free(struct seen *s)
{
    free(s->r.data);
    buf_cleanup(&s->body);
}

static bool ends_with(const struct buf *b, const char *tail)
{
    size_t n = strlen(tail);

    return b->len >= n && memcmp(b->data + b->len - n, tail, n) == 0;
}

/* Every file of fixtures/faults loads, names its rule after itself and
 * opens with its documentation ("# NAME: ..."). */
static void test_every_file_loads(void **state)
{
    char dir[4096], path[4096 + 256], head[512];
    struct fixture_error err;
    struct fixtures *fx;
    struct dirent *e;
    DIR *d;
    FILE *f;
    size_t len;
    int files = 0;

    (void)state;
    fault_path(dir, sizeof dir, NULL);
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (fixtures_load_file(path, &fx, &err) != 0)
            fail_msg("%s:%d:%d: %s", err.file, err.line, err.column,
                     err.message);
        assert_int_equal(rules_count(fx->rules), 1);
        assert_int_equal(
            strncmp(rules_get(fx->rules, 0)->name, e->d_name, len - 5), 0);
        assert_true(fault_any(&rules_get(fx->rules, 0)->answer.fault));
        fixtures_free(fx);
        f = fopen(path, "r");
        assert_non_null(f);
        assert_non_null(fgets(head, sizeof head, f));
        fclose(f);
        assert_int_equal(strncmp(head, "# ", 2), 0);
        assert_int_equal(strncmp(head + 2, e->d_name, len - 5), 0);
        assert_int_equal(strncmp(head + 2 + len - 5, ": ", 2), 0);
        files++;
    }
    closedir(d);
    assert_int_equal(files, FAULT_FILES);
}

static void test_close_before_headers(void **state)
{
    struct seen s;

    (void)state;
    run("close-before-headers.yaml", true, 5000, 0, &s);
    assert_int_equal(s.r.err, 0); /* a FIN */
    assert_int_equal(s.r.len, 0); /* and not one byte */
    seen_free(&s);
}

static void test_not_http(void **state)
{
    struct seen s;

    (void)state;
    run("not-http.yaml", true, 5000, 0, &s);
    assert_int_equal(s.r.err, 0);
    assert_string_equal(s.r.data, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    seen_free(&s);
}

static void test_reset_after_events(void **state)
{
    struct seen s;

    (void)state;
    run("reset-after-events.yaml", true, 5000, 0, &s);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.r.err, ECONNRESET);
    assert_false(s.terminated);
    assert_int_equal(text_count(buf_str(&s.body), "data: "), 2);
    assert_true(ends_with(&s.body, "\"content\":\"H\xc3\xa9llo\"},"
                                   "\"logprobs\":null,\"finish_reason\":null}"
                                   "]}\n\n"));
    seen_free(&s);
}

static void test_close_inside_event(void **state)
{
    struct seen s;

    (void)state;
    run("close-inside-event.yaml", true, 5000, 0, &s);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.r.err, 0);
    assert_false(s.terminated);
    assert_int_equal(text_count(buf_str(&s.body), "\n\n"), 2);
    /* 20 bytes of the third event, then the FIN. */
    assert_true(ends_with(&s.body, "H\xc3\xa9llo\"},\"logprobs\":null,"
                                   "\"finish_reason\":null}]}\n\n"
                                   "data: {\"id\":\"chatcmp"));
    seen_free(&s);
}

static void test_hang(void **state)
{
    struct seen s;

    (void)state;
    run("hang.yaml", true, 800, 0, &s);
    assert_int_equal(s.r.err, ETIMEDOUT); /* still open */
    assert_int_equal(s.r.len, 0);
    seen_free(&s);
}

static void test_headers_then_silence(void **state)
{
    struct seen s;

    (void)state;
    run("headers-then-silence.yaml", true, 800, 0, &s);
    assert_int_equal(s.r.err, ETIMEDOUT);
    assert_int_equal(s.status, 200);
    assert_non_null(strstr(s.r.data, "Content-Type: text/event-stream"));
    assert_int_equal(s.body.len, 0);
    seen_free(&s);
}

static void test_slow_headers(void **state)
{
    struct seen s;

    (void)state;
    /* Nothing in the first second, then all of it with its length. */
    run("slow-headers.yaml", true, 1000, 5000, &s);
    assert_int_equal(s.status, 200);
    assert_non_null(strstr(s.r.data, "Content-Length: "));
    assert_int_equal(text_count(buf_str(&s.body), "data: "), 5);
    assert_true(ends_with(&s.body, "data: [DONE]\n\n"));
    seen_free(&s);
}

static void test_malformed_event(void **state)
{
    struct seen s;
    const char *second;

    (void)state;
    run("malformed-event.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    second = strstr(buf_str(&s.body), "\n\ndata: ");
    assert_non_null(second);
    /* The second event lost its closing brace; the others kept theirs. */
    assert_non_null(strstr(second, "\"finish_reason\":null}]\n\n"));
    assert_int_equal(text_count(buf_str(&s.body), "}]}\n\n"), 3);
    assert_true(ends_with(&s.body, "data: [DONE]\n\n"));
    seen_free(&s);
}

/* The error object after two events, then a clean end without [DONE]. */
static void expect_error(const char *file, const char *prefix)
{
    struct seen s;
    char tail[512];

    run(file, true, 5000, 0, &s);
    assert_int_equal(s.status, 200);
    assert_true(s.terminated);
    snprintf(tail, sizeof tail, "}]}\n\n%sdata: %s\n\n", prefix, error_json);
    assert_true(ends_with(&s.body, tail));
    assert_int_equal(text_count(buf_str(&s.body), "data: "), 3);
    assert_null(strstr(buf_str(&s.body), "[DONE]"));
    seen_free(&s);
}

static void test_error_after_200(void **state)
{
    (void)state;
    expect_error("error-after-200.yaml", "");
}

static void test_error_event_after_200(void **state)
{
    (void)state;
    expect_error("error-event-after-200.yaml", "event: error\n");
}

static void test_done_missing(void **state)
{
    struct seen s;

    (void)state;
    run("done-missing.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    assert_null(strstr(buf_str(&s.body), "[DONE]"));
    assert_true(ends_with(&s.body, "\"finish_reason\":\"stop\"}]}\n\n"));
    seen_free(&s);
}

static void test_done_twice(void **state)
{
    struct seen s;

    (void)state;
    run("done-twice.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    assert_true(ends_with(&s.body, "}]}\n\ndata: [DONE]\n\ndata: [DONE]\n\n"));
    assert_int_equal(text_count(buf_str(&s.body), "[DONE]"), 2);
    seen_free(&s);
}

static void test_done_extra(void **state)
{
    struct seen s;
    const char *done, *last;

    (void)state;
    run("done-extra.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    done = strstr(buf_str(&s.body), "data: [DONE]\n\n");
    assert_non_null(done);
    /* After [DONE] comes a copy of the event before it: the finish chunk. */
    last = done + strlen("data: [DONE]\n\n");
    assert_non_null(strstr(last, "\"finish_reason\":\"stop\"}]}\n\n"));
    assert_int_equal(text_count(buf_str(&s.body), last), 2);
    seen_free(&s);
}

static void test_held_after_done(void **state)
{
    struct seen s;

    (void)state;
    run("held-after-done.yaml", true, 800, 0, &s);
    assert_int_equal(s.r.err, ETIMEDOUT);
    assert_false(s.terminated);
    assert_true(ends_with(&s.body, "\"finish_reason\":\"stop\"}]}\n\n"
                                   "data: [DONE]\n\n"));
    seen_free(&s);
}

static void test_line_ends_cr(void **state)
{
    struct seen s;

    (void)state;
    run("line-ends-cr.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    assert_null(memchr(s.body.data, '\n', s.body.len));
    assert_int_equal(text_count(buf_str(&s.body), "\r\rdata: "), 4);
    assert_true(ends_with(&s.body, "}]}\r\rdata: [DONE]\r\r"));
    seen_free(&s);
}

static void test_line_ends_mixed(void **state)
{
    struct seen s;

    (void)state;
    run("line-ends-mixed.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    /* Ten line ends in turn: \r\n, \n, \r, \r\n, ... */
    assert_int_equal(
        strncmp(strstr(buf_str(&s.body), "}]}"), "}]}\r\n\ndata", 10), 0);
    assert_true(ends_with(&s.body, "}]}\r\n\ndata: [DONE]\r\r\n"));
    seen_free(&s);
}

/* The data of each event in b as an SSE reader splits it (a line ends at
 * CRLF, CR or LF; a CR right before a LF is one line end, CRLF; a blank
 * line ends an event) into out (at most size bytes with its NUL): the
 * events' data joined by '|', an event's data lines by '\n'. Returns how
 * many events had data. */
static int sse_events(const struct buf *b, char *out, size_t size)
{
    const char *p = b->data, *end = b->data + b->len, *eol;
    size_t used = 0, n;
    bool data = false;
    int events = 0;

    out[0] = '\0';
    while (p < end) {
        for (eol = p; eol < end && *eol != '\r' && *eol != '\n'; eol++)
            ;
        n = (size_t)(eol - p);
        if (n == 0 && data) {
            events++;
            data = false;
        } else if (n > 6 && strncmp(p, "data: ", 6) == 0) {
            if (used + 1 + (n - 6) < size) {
                if (used > 0)
                    out[used++] = data ? '\n' : '|';
                memcpy(out + used, p + 6, n - 6);
                used += n - 6;
                out[used] = '\0';
            }
            data = true;
        }
        p = eol;
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++; /* after a CR: the LF of a CRLF */
    }
    return events;
}

/* Mixed line ends change only the line ends: read by the SSE rules, the
 * stream is the five events of the clean one, each data line whole JSON
 * (a bare CR followed by a LF would read as one CRLF and join the two
 * events around it). */
static void test_line_ends_mixed_events(void **state)
{
    struct seen s;
    char data[4096];
    const char *p;
    int events;

    (void)state;
    run("line-ends-mixed.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    events = sse_events(&s.body, data, sizeof data);
    if (events != 5)
        fail_msg("%d events, want 5: %s", events, data);
    /* Every event's data is one line: one object or [DONE]. */
    assert_null(strchr(data, '\n'));
    for (p = data; (p = strchr(p, '|')) != NULL; p++)
        assert_true(p[-1] == '}' && (p[1] == '{' || p[1] == '['));
    assert_true(strlen(data) > 14 &&
                strcmp(data + strlen(data) - 7, "|[DONE]") == 0);
    seen_free(&s);
}

static void test_bom(void **state)
{
    struct seen s;

    (void)state;
    run("bom.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    assert_int_equal(memcmp(s.body.data,
                            "\xef\xbb\xbf"
                            "data: {\"id\":",
                            15),
                     0);
    assert_int_equal(text_count(buf_str(&s.body), "\xef\xbb\xbf"), 1);
    seen_free(&s);
}

static void test_keep_alive_comments(void **state)
{
    struct seen s;

    (void)state;
    run("keep-alive-comments.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    assert_int_equal(text_count(buf_str(&s.body), ": keep-alive\n\ndata: "), 5);
    assert_int_equal(text_count(buf_str(&s.body), "data: "), 5);
    assert_true(ends_with(&s.body, ": keep-alive\n\ndata: [DONE]\n\n"));
    seen_free(&s);
}

static void test_fields(void **state)
{
    struct seen s;

    (void)state;
    run("fields.yaml", true, 5000, 0, &s);
    assert_true(s.terminated);
    assert_int_equal(strncmp(buf_str(&s.body),
                             "event: ping\nid: 0\nretry: 3000\n\n"
                             "event: message\nid: 1\ndata: {",
                             54),
                     0);
    assert_int_equal(text_count(buf_str(&s.body), "event: message\nid: "), 5);
    assert_true(ends_with(&s.body, "event: message\nid: 5\ndata: [DONE]\n\n"));
    seen_free(&s);
}

static void test_split_writes(void **state)
{
    struct seen s;

    (void)state;
    run("split-writes.yaml", true, 10000, 0, &s);
    assert_true(s.terminated);
    /* Writes of 7 bytes, 10 ms apart; a slow machine may merge a few that
     * fell due together, never cut one. */
    assert_true(s.chunks >= s.body.len / 7 / 2);
    assert_true(s.split_char); /* a write ends inside é or ö */
    assert_non_null(strstr(buf_str(&s.body), "\"content\":\"H\xc3\xa9llo\""));
    assert_non_null(strstr(buf_str(&s.body), "\"content\":\" w\xc3\xb6rld\""));
    assert_true(ends_with(&s.body, "}]}\n\ndata: [DONE]\n\n"));
    seen_free(&s);
}

/* A fault on a rule that a non-streamed request reaches acts on the whole
 * answer: hang.yaml matches either. */
static void test_hang_unstreamed(void **state)
{
    struct seen s;

    (void)state;
    run("hang.yaml", false, 800, 0, &s);
    assert_int_equal(s.r.err, ETIMEDOUT);
    assert_int_equal(s.r.len, 0);
    seen_free(&s);
}

/* A status reply carries a fault too: its whole answer comes late. */
static void test_status_reply_fault(void **state)
{
    static const char yaml[] =
        "version: 2\n"
        "models:\n"
        "  - {id: m, created: 1735689600, price: "
        "{input_per_million: 1, output_per_million: 1}}\n"
        "rules:\n"
        "  - reply:\n"
        "      status: 503\n"
        "      fault: {headers_delay_ms: 700}\n";
    static const char req[] = "GET /v1/anything HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n";
    struct fixture_mock m;
    struct raw_reading r;
    int fd;

    (void)state;
    assert_int_equal(fixture_mock_start(&m, yaml, NULL), 0);
    fd = raw_connect(&m.proc);
    assert_true(fd >= 0);
    assert_int_equal(raw_send(fd, req, sizeof req - 1), 0);
    assert_int_equal(raw_read_end(fd, 400, &r), 0);
    assert_int_equal(r.len, 0); /* nothing yet */
    free(r.data);
    assert_int_equal(raw_read_end(fd, 5000, &r), 0);
    assert_int_equal(raw_status(&r), 503);
    assert_non_null(strstr(raw_body(&r), "\"service_unavailable\""));
    free(r.data);
    close(fd);
    assert_int_equal(fixture_mock_stop(&m), 0);
}

/* The loader refuses a key that needs another, and an unknown one. */
static void expect_refused(const char *fault, const char *message)
{
    char yaml[512];
    struct fixture_error err;
    struct fixtures *fx = NULL;
    int n = snprintf(yaml, sizeof yaml,
                     "version: 2\nrules:\n  - reply:\n      content: hi\n"
                     "      fault: %s\n",
                     fault);

    assert_true(n > 0 && (size_t)n < sizeof yaml);
    assert_int_equal(fixtures_load_buffer(yaml, (size_t)n, "f.yaml", &fx, &err),
                     -1);
    assert_null(fx);
    if (strstr(err.message, message) == NULL)
        fail_msg("got '%s', wanted '%s'", err.message, message);
}

static void test_loader_checks(void **state)
{
    (void)state;
    expect_refused("{close_after_bytes: 3}",
                   "'close_after_bytes' needs 'close_after_events'");
    expect_refused("{error_event: true}",
                   "'error_event' needs 'error_after_events'");
    expect_refused("{split_delay_ms: 3}",
                   "'split_delay_ms' needs 'split_bytes'");
    expect_refused("{malformed_event: 0}", "counts events from 1");
    expect_refused("{done: twise}", "did you mean 'twice'");
    expect_refused("{line_ends: crlf, bomb: true}", "did you mean 'bom'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_file_loads),
        cmocka_unit_test(test_close_before_headers),
        cmocka_unit_test(test_not_http),
        cmocka_unit_test(test_reset_after_events),
        cmocka_unit_test(test_close_inside_event),
        cmocka_unit_test(test_hang),
        cmocka_unit_test(test_hang_unstreamed),
        cmocka_unit_test(test_headers_then_silence),
        cmocka_unit_test(test_slow_headers),
        cmocka_unit_test(test_malformed_event),
        cmocka_unit_test(test_error_after_200),
        cmocka_unit_test(test_error_event_after_200),
        cmocka_unit_test(test_done_missing),
        cmocka_unit_test(test_done_twice),
        cmocka_unit_test(test_done_extra),
        cmocka_unit_test(test_held_after_done),
        cmocka_unit_test(test_line_ends_cr),
        cmocka_unit_test(test_line_ends_mixed),
        cmocka_unit_test(test_line_ends_mixed_events),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_keep_alive_comments),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_split_writes),
        cmocka_unit_test(test_status_reply_fault),
        cmocka_unit_test(test_loader_checks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
