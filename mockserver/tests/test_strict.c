/* test_strict: HTTP that is malformed below the JSON, over a real socket:
 * a NUL decoded in the path, an HTTP/1.1 request without one Host, and a
 * CORS preflight asking for more headers than an answer can echo. Each
 * gets its status and an OpenAI error body, and costs nothing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "buf.h"
#include "options.h"
#include "testutil.h"

#define KEY "sk-ai-nexus-test"
#define HELLO                                                                  \
    "{\"model\":\"deepseek-v4\",\"messages\":[{\"role\":\"user\","             \
    "\"content\":\"Hello!\"}]}"

static struct testproc mock;

static int start(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return mock_start(&mock, NULL);
}

static int stop(void **state)
{
    (void)state;
    return testproc_stop(&mock) == 0 ? 0 : -1;
}

/* Asserts an OpenAI error body of this type and code (NULL: null). */
static void assert_error_body(const char *body, const char *type,
                              const char *code)
{
    json_t *j = json_loads(body, 0, NULL), *e;

    assert_non_null(j);
    e = json_object_get(j, "error");
    assert_int_equal(json_object_size(e), 4);
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    assert_string_equal(json_string_value(json_object_get(e, "type")), type);
    assert_true(json_is_null(json_object_get(e, "param")));
    if (code == NULL)
        assert_true(json_is_null(json_object_get(e, "code")));
    else
        assert_string_equal(json_string_value(json_object_get(e, "code")),
                            code);
    json_decref(j);
}

/* Sends text on a new connection and reads the answer until the server
 * closes (every request here says Connection: close or is refused). */
static void exchange(const char *text, struct raw_reading *r)
{
    int fd = raw_connect(&mock);

    assert_true(fd >= 0);
    assert_int_equal(raw_send(fd, text, strlen(text)), 0);
    assert_int_equal(raw_read_end(fd, 5000, r), 0);
    close(fd);
}

/* The balance of KEY as the endpoint prints it. */
static char *balance_text(void)
{
    struct http_reply r;
    char *text;

    assert_int_equal(http_do(&mock, "GET", "/v1/balance", KEY, NULL, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    text = strdup(r.body);
    http_reply_free(&r);
    return text;
}

/* %00 decodes to a NUL, which would end the path early: GET
 * /v1/balance%00junk is not /v1/balance, and a chat request on such a path
 * is neither answered nor billed. %2500 decodes to the text "%00", which
 * is only an unknown path. */
static void test_nul_in_path(void **state)
{
    struct http_reply r;
    char *before, *after;

    (void)state;
    assert_int_equal(
        http_do(&mock, "GET", "/v1/balance%00junk", KEY, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_error_body(r.body, "invalid_request_error", "invalid_path");
    http_reply_free(&r);
    before = balance_text();
    assert_int_equal(http_do(&mock, "POST", "/v1/chat/completions%00junk", KEY,
                             HELLO, NULL, &r),
                     0);
    assert_int_equal(r.status, 400);
    assert_error_body(r.body, "invalid_request_error", "invalid_path");
    http_reply_free(&r);
    assert_int_equal(
        http_do(&mock, "GET", "/v1/models%00", KEY, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 400);
    http_reply_free(&r);
    after = balance_text();
    assert_string_equal(after, before);
    free(before);
    free(after);
    assert_int_equal(
        http_do(&mock, "GET", "/v1/models%2500", KEY, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 404);
    http_reply_free(&r);
}

/* RFC 9112: an HTTP/1.1 request without a Host header, or any request with
 * two, is answered 400; HTTP/1.0 needs none. */
static void test_host_header(void **state)
{
    struct raw_reading r;

    (void)state;
    exchange("GET /v1/balance HTTP/1.1\r\nAuthorization: Bearer " KEY
             "\r\nConnection: close\r\n\r\n",
             &r);
    assert_int_equal(raw_status(&r), 400);
    assert_non_null(strstr(r.data, "\r\nx-request-id: req_"));
    assert_error_body(raw_body(&r), "invalid_request_error", "invalid_host");
    free(r.data);
    exchange("GET /v1/balance HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
             "Authorization: Bearer " KEY "\r\nConnection: close\r\n\r\n",
             &r);
    assert_int_equal(raw_status(&r), 400);
    assert_error_body(raw_body(&r), "invalid_request_error", "invalid_host");
    free(r.data);
    exchange("GET /v1/balance HTTP/1.0\r\nAuthorization: Bearer " KEY
             "\r\n\r\n",
             &r);
    assert_int_equal(raw_status(&r), 200);
    free(r.data);
    exchange("GET /v1/balance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Authorization: Bearer " KEY "\r\nConnection: close\r\n\r\n",
             &r);
    assert_int_equal(raw_status(&r), 200);
    free(r.data);
}

/* A preflight echoes the headers a browser asks for; one that asks for
 * more than a quarter of --max-headers gets 431 with an error body, not a
 * silent close. */
static void test_preflight_headers(void **state)
{
    static const char head[] =
        "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Origin: http://example.test\r\n"
        "Access-Control-Request-Method: POST\r\n"
        "Connection: close\r\n"
        "Access-Control-Request-Headers: ";
    size_t want = OPTIONS_DEFAULT_MAX_HEADERS / 4 + 512, n = strlen(head), i;
    char *text = malloc(n + want + 8);
    struct raw_reading r;

    (void)state;
    assert_non_null(text);
    memcpy(text, head, n);
    for (i = 0; i < want; i++)
        text[n + i] = (i % 16 == 15) ? ',' : 'x';
    memcpy(text + n + want, "\r\n\r\n", 5);
    exchange(text, &r);
    free(text);
    assert_int_equal(raw_status(&r), 431);
    assert_non_null(strstr(r.data, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    assert_error_body(raw_body(&r), "invalid_request_error",
                      "request_headers_too_large");
    free(r.data);
    exchange("OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Access-Control-Request-Method: POST\r\n"
             "Access-Control-Request-Headers: authorization,x-stainless-os\r\n"
             "Connection: close\r\n\r\n",
             &r);
    assert_int_equal(raw_status(&r), 204);
    assert_non_null(strstr(r.data, "\r\nAccess-Control-Allow-Headers: "
                                   "authorization,x-stainless-os\r\n"));
    free(r.data);
}

/* Sends a chat request (streamed or not) whose head carries an X-Pad
 * header of pad bytes, and reads the answer. */
static void padded_chat(size_t pad, bool stream, struct raw_reading *r)
{
    static const char body[] =
        "{\"model\":\"deepseek-v4\",\"stream\":true,\"messages\":[{"
        "\"role\":\"user\",\"content\":\"Hello!\"}]}";
    static const char plain[] = "{\"model\":\"deepseek-v4\",\"messages\":[{"
                                "\"role\":\"user\",\"content\":\"Hello!\"}]}";
    const char *b = stream ? body : plain;
    struct buf t;
    char *text;
    size_t i;

    buf_init(&t, SIZE_MAX);
    assert_int_equal(buf_appendf(&t,
                                 "POST /v1/chat/completions HTTP/1.1\r\n"
                                 "Host: 127.0.0.1\r\nAuthorization: Bearer " KEY
                                 "\r\nContent-Type: application/json\r\n"
                                 "Content-Length: %zu\r\nConnection: close\r\n"
                                 "X-Pad: ",
                                 strlen(b)),
                     0);
    for (i = 0; i < pad; i++)
        assert_int_equal(buf_append(&t, "x", 1), 0);
    assert_int_equal(buf_appendf(&t, "\r\n\r\n%s", b), 0);
    text = buf_take(&t, NULL);
    assert_non_null(text);
    exchange(text, r);
    free(text);
}

/* The connection's memory (--max-headers) holds the request's head and
 * then the answer's headers: a head that fits but leaves too little room
 * for them gets 431 with an error body, not a close without an answer;
 * a head half that size is served, streamed or not; one past the limit
 * gets the library's own 431. */
static void test_header_room(void **state)
{
    struct raw_reading r;

    (void)state;
    padded_chat(OPTIONS_DEFAULT_MAX_HEADERS - 1536, false, &r);
    assert_int_equal(raw_status(&r), 431);
    assert_non_null(strstr(r.data, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    assert_error_body(raw_body(&r), "invalid_request_error",
                      "request_headers_too_large");
    free(r.data);
    /* Closer to the limit the 431 goes out with the library's headers
     * only, which are all that still fit. */
    padded_chat(OPTIONS_DEFAULT_MAX_HEADERS - 1024, true, &r);
    assert_int_equal(raw_status(&r), 431);
    assert_error_body(raw_body(&r), "invalid_request_error",
                      "request_headers_too_large");
    free(r.data);
    padded_chat(OPTIONS_DEFAULT_MAX_HEADERS / 2, false, &r);
    assert_int_equal(raw_status(&r), 200);
    assert_non_null(strstr(raw_body(&r), "\"object\":\"chat.completion\""));
    free(r.data);
    padded_chat(OPTIONS_DEFAULT_MAX_HEADERS / 2, true, &r);
    assert_int_equal(raw_status(&r), 200);
    assert_non_null(strstr(r.data, "data: [DONE]"));
    free(r.data);
    padded_chat(OPTIONS_DEFAULT_MAX_HEADERS + 1024, false, &r);
    assert_int_equal(raw_status(&r), 431);
    free(r.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_in_path),
        cmocka_unit_test(test_host_header),
        cmocka_unit_test(test_preflight_headers),
        cmocka_unit_test(test_header_room),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
