/* test_streams: thousands of concurrent paced streams against one mock,
 * which must serve them all on its fixed pool of threads (suspend/resume
 * with a timer, never a blocked worker). Bounded: 2000 streams, 30 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "clock.h"
#include "testutil.h"

#define STREAMS 2000

/* A number field of the mock's /proc status ("Threads:", "VmHWM:"). */
static long status_of(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t n = strlen(field);
    FILE *f;
    long v = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, field, n) == 0)
            v = strtol(line + n, NULL, 10);
    fclose(f);
    return v;
}

static void test_many_paced_streams(void **state)
{
    static const char fixture[] =
        "version: 1\n"
        "plans:\n"
        "  load: {requests_per_minute: 0}\n"
        "models:\n"
        "  - id: m1\n"
        "    created: 1700000000\n"
        "    price: {input_per_million: 0.1, output_per_million: 0.1}\n"
        "    stream: {time_to_first_token_ms: 300, tokens_per_second: 25}\n"
        "keys:\n"
        "  - {key: sk-load, plan: load, balance: 1000}\n";
    char *path = NULL;
    const char *extra[] = {"--fixtures", NULL, "--threads", "2", NULL};
    const char *body = "{\"model\":\"m1\",\"stream\":true,\"messages\":"
                       "[{\"role\":\"user\",\"content\":\"load\"}]}";
    struct testproc p;
    struct rlimit rl;
    struct curl_slist *h = NULL;
    struct stream_sink *sinks;
    CURL **easy;
    CURLM *m;
    char url[sizeof(p.url) + 32];
    int running = 1, i, max_threads = 0, done = 0;
    uint64_t begin;
    CURLMsg *msg;
    int left;

    (void)state;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max < STREAMS + 200)
        skip();
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    path = temp_fixture(fixture);
    assert_non_null(path);
    extra[1] = path;
    sinks = calloc(STREAMS, sizeof(*sinks));
    easy = calloc(STREAMS, sizeof(*easy));
    m = curl_multi_init();
    assert_int_equal(mock_start(&p, extra), 0);
    snprintf(url, sizeof(url), "%s/v1/chat/completions", p.url);
    h = curl_slist_append(h, "Authorization: Bearer sk-load");
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)STREAMS);
    for (i = 0; i < STREAMS; i++) {
        easy[i] = curl_easy_init();
        curl_easy_setopt(easy[i], CURLOPT_URL, url);
        curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(easy[i], CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, stream_sink_write);
        curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, &sinks[i]);
        curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(easy[i], CURLOPT_FORBID_REUSE, 1L);
        curl_multi_add_handle(m, easy[i]);
    }
    begin = clock_real_ms();
    while (running) {
        int t;

        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK)
                done++;
        t = (int)status_of(p.pid, "Threads:");
        if (t > max_threads)
            max_threads = t;
        curl_multi_wait(m, NULL, 0, 50, NULL);
    }
    fprintf(stderr,
            "# %d/%d paced streams completed in %llu ms; mock threads at "
            "most %d, peak memory %ld KiB\n",
            done, STREAMS, (unsigned long long)(clock_real_ms() - begin),
            max_threads, status_of(p.pid, "VmHWM:"));
    assert_int_equal(done, STREAMS);
    for (i = 0; i < STREAMS; i++) {
        assert_true(sinks[i].events >= 3);
        assert_string_equal(sinks[i].tail, "data: [DONE]\n\n");
    }
    /* main + timer + 2 workers (+ MHD's listen thread): nothing per
     * connection. */
    assert_true(max_threads > 0 && max_threads <= 6);
    for (i = 0; i < STREAMS; i++) {
        curl_multi_remove_handle(m, easy[i]);
        curl_easy_cleanup(easy[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(h);
    assert_int_equal(testproc_stop(&p), 0);
    unlink(path);
    free(path);
    free(sinks);
    free(easy);
}

/* One paced stream over HTTP/1.1 and over HTTP/1.0, read raw to the end:
 * every header goes out although the server frees its copies of them once
 * they are written (a waiting stream keeps none), the HTTP/1.1 answer is
 * chunked and the HTTP/1.0 one is not (it goes through libmicrohttpd's
 * own block, which a chunked stream does not get), and both carry every
 * event: the role, 3 tokens, the finish and [DONE]. */
static void test_stream_heads(void **state)
{
    static const char fixture[] =
        "version: 1\n"
        "plans:\n"
        "  load: {requests_per_minute: 0}\n"
        "models:\n"
        "  - id: m1\n"
        "    created: 1700000000\n"
        "    price: {input_per_million: 0.1, output_per_million: 0.1}\n"
        "    stream: {time_to_first_token_ms: 20, tokens_per_second: 100}\n"
        "keys:\n"
        "  - {key: sk-load, plan: load, balance: 1000}\n";
    static const char body[] =
        "{\"model\":\"m1\",\"stream\":true,\"max_tokens\":3,\"messages\":"
        "[{\"role\":\"user\",\"content\":\"heads\"}]}";
    static const char *const versions[] = {"HTTP/1.1", "HTTP/1.0"};
    static const char *const heads[] = {
        "\r\nContent-Type: text/event-stream\r\n",
        "\r\nCache-Control: no-cache\r\n", "\r\nx-request-id: req_",
        "\r\nAccess-Control-Allow-Origin: *\r\n",
        "\r\nAccess-Control-Expose-Headers: x-request-id, retry-after, "};
    struct fixture_mock fm;
    size_t v, k;

    (void)state;
    assert_int_equal(fixture_mock_start(&fm, fixture, NULL), 0);
    for (v = 0; v < 2; v++) {
        char req[512];
        struct raw_reading r;
        const char *b;
        int fd = raw_connect(&fm.proc), n;

        assert_true(fd >= 0);
        n = snprintf(req, sizeof(req),
                     "POST /v1/chat/completions %s\r\nHost: x\r\n"
                     "Authorization: Bearer sk-load\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     versions[v], strlen(body), body);
        assert_int_equal(raw_send(fd, req, (size_t)n), 0);
        assert_int_equal(raw_read_end(fd, 10000, &r), 0);
        close(fd);
        assert_int_equal(r.err, 0);
        assert_int_equal(raw_status(&r), 200);
        for (k = 0; k < sizeof(heads) / sizeof(heads[0]); k++)
            if (strstr(r.data, heads[k]) == NULL)
                fail_msg("%s: no '%s' in:\n%s", versions[v], heads[k], r.data);
        assert_int_equal(strstr(r.data, "\r\nTransfer-Encoding: chunked\r\n") !=
                             NULL,
                         v == 0);
        b = raw_body(&r);
        assert_non_null(b);
        assert_int_equal(text_count(b, "data: "), 6);
        assert_int_equal(text_count(b, "\"delta\":{\"content\":"), 3);
        assert_non_null(strstr(b, "data: [DONE]\n\n"));
        if (v == 1) /* not chunked: the body ends with the last event */
            assert_string_equal(b + strlen(b) - 14, "data: [DONE]\n\n");
        free(r.data);
    }
    assert_int_equal(fixture_mock_stop(&fm), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_paced_streams),
        cmocka_unit_test(test_stream_heads),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
