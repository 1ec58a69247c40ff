/* test_conn: what the mock does with connections, as a real process on
 * loopback: clients that leave while their stream waits give back their
 * descriptors at once. Bounded: at most a few hundred sockets, seconds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "clock.h"
#include "testutil.h"

/* A model whose streams wait a minute for their first token. */
static const char slow_fixture[] =
    "version: 1\n"
    "plans:\n"
    "  p: {requests_per_minute: 0}\n"
    "models:\n"
    "  - id: slow\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 1, output_per_million: 2}\n"
    "    stream: {time_to_first_token_ms: 60000, tokens_per_second: 10}\n"
    "keys:\n"
    "  - {key: sk-conn, plan: p, balance: 100}\n";

/* A streamed chat request for the slow model. */
#define SLOW_BODY                                                              \
    "{\"model\":\"slow\",\"stream\":true,\"messages\":[{\"role\":\"user\","    \
    "\"content\":\"x\"}]}"

/* Writes a POST of body to path, as raw HTTP/1.1 with the key, into out. */
static void post_text(char *out, size_t outlen, const char *path,
                      const char *key, const char *body)
{
    int n = snprintf(out, outlen,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     path, key, strlen(body), body);

    assert_true(n > 0 && (size_t)n < outlen);
}

/* Sleeps ms milliseconds. */
static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Waits (at most within_ms) until pid holds at most want descriptors;
 * returns how long that took, or -1 if it never did. */
static long wait_fds(pid_t pid, int want, long within_ms)
{
    uint64_t start = clock_real_ms();

    for (;;) {
        long took = (long)(clock_real_ms() - start);

        if (proc_fd_count(pid) <= want)
            return took;
        if (took > within_ms)
            return -1;
        nap(5);
    }
}

/* Reads from fd until the end of the header block (or 2 s). */
static void read_headers(int fd)
{
    char buf[4096];
    size_t len = 0;
    uint64_t start = clock_real_ms();

    while (len + 1 < sizeof(buf) && clock_real_ms() - start < 2000) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);

        if (n > 0) {
            len += (size_t)n;
            buf[len] = '\0';
            if (strstr(buf, "\r\n\r\n") != NULL)
                break;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            break;
        } else {
            nap(2);
        }
    }
    buf[len] = '\0';
    assert_true(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(buf, "text/event-stream"));
}

/* 100 clients whose streams wait a minute for their first token leave,
 * half with a FIN and half with a reset: within 1.5 s the mock holds no
 * more descriptors than before they came, and nothing was charged. */
static void test_left_streams_release_descriptors(void **state)
{
    enum { N = 100 };
    char *path = temp_fixture(slow_fixture);
    const char *extra[] = {"--fixtures", path, NULL};
    struct testproc p;
    struct http_reply r;
    char *before, text[512];
    int fds[N], i, base;
    long took;

    (void)state;
    assert_non_null(path);
    assert_int_equal(mock_start(&p, extra), 0);
    assert_int_equal(
        http_do(&p, "GET", "/v1/balance", "sk-conn", NULL, NULL, &r), 0);
    before = strdup(r.body);
    http_reply_free(&r);
    /* The balance request's connection is closed by now or soon. */
    nap(100);
    base = proc_fd_count(p.pid);
    assert_true(base > 0);
    post_text(text, sizeof(text), "/v1/chat/completions", "sk-conn", SLOW_BODY);
    for (i = 0; i < N; i++) {
        fds[i] = raw_connect(&p, NULL);
        assert_true(fds[i] >= 0);
        assert_int_equal(raw_send(fds[i], text, strlen(text)), 0);
    }
    for (i = 0; i < N; i++)
        read_headers(fds[i]);
    assert_true(proc_fd_count(p.pid) >= base + N);
    for (i = 0; i < N; i++) {
        if (i % 2 == 0)
            close(fds[i]);
        else
            raw_reset(fds[i]);
    }
    took = wait_fds(p.pid, base, 1500);
    fprintf(stderr, "# %d left streams: descriptors back after %ld ms\n", N,
            took);
    assert_true(took >= 0);
    assert_int_equal(
        http_do(&p, "GET", "/v1/balance", "sk-conn", NULL, NULL, &r), 0);
    assert_string_equal(r.body, before);
    http_reply_free(&r);
    free(before);
    assert_int_equal(testproc_stop(&p), 0);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_left_streams_release_descriptors),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
