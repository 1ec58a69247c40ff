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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_paced_streams),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
