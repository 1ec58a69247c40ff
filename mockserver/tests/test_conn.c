/* test_conn: what the mock does with connections, as a real process on
 * loopback: clients that leave while their stream waits give back their
 * descriptors at once; a client that is slow to send its headers or its
 * body, or that stays idle, is closed at its deadline; connections over
 * the limits (in all, and per client address: floods come from
 * 127.0.0.2) are refused at once, with one log line per interval, while
 * other clients are served. Bounded: at most a few hundred sockets, a few
 * seconds each. */
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
        fds[i] = raw_connect(&p);
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

/* A held connection: the start of a request whose headers never end. */
static int hold(const struct testproc *p, const char *from)
{
    static const char start[] = "GET /v1/models HTTP/1.1\r\nHost: x\r\n";
    int fd = raw_connect_from(p, from);

    assert_true(fd >= 0);
    assert_int_equal(raw_send(fd, start, sizeof(start) - 1), 0);
    return fd;
}

/* Asserts that the server closes fd (FIN or reset) without a byte, within
 * within_ms; returns how long it took. */
static uint64_t assert_closed(int fd, int within_ms)
{
    struct raw_reading r;
    uint64_t took;

    assert_int_equal(raw_read_end(fd, within_ms, &r), 0);
    assert_true(r.err == 0 || r.err == ECONNRESET);
    assert_int_equal(r.len, 0);
    took = r.elapsed_ms;
    free(r.data);
    return took;
}

/* Sends a byte on fd every 150 ms until the server closes it (or 5 s);
 * returns how long it stayed open, from the call. */
static uint64_t trickle_until_closed(int fd)
{
    uint64_t start = clock_real_ms();

    while (clock_real_ms() - start < 5000) {
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            break;
        if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
            break;
        nap(150);
    }
    return clock_real_ms() - start;
}

/* Starts the mock with extra arguments, its log in a new temporary file
 * whose path goes to log_path (sizeof >= 32). */
static void start_logged(struct testproc *p, const char *const *extra,
                         char *log_path)
{
    int fd;

    snprintf(log_path, 32, "/tmp/nexus-conn-log-XXXXXX");
    fd = mkstemp(log_path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mock_start_logged(p, extra, log_path), 0);
}

/* The header deadline: a client that sends nothing, one that trickles its
 * headers a byte at a time, and a kept-alive connection that sends no
 * next request are all closed after --header-timeout (1 s here), while a
 * request whose headers come in time is answered. */
static void test_header_deadline(void **state)
{
    static const char *const extra[] = {"--header-timeout", "1", NULL};
    static const char whole[] = "GET /v1/models HTTP/1.1\r\nHost: x\r\n"
                                "Authorization: Bearer sk-ai-nexus-test\r\n"
                                "\r\n";
    struct testproc p;
    struct raw_reading r;
    int silent, slow, kept;
    uint64_t t, t0;

    (void)state;
    assert_int_equal(mock_start(&p, extra), 0);
    t0 = clock_real_ms();
    silent = raw_connect(&p);
    slow = hold(&p, NULL);
    kept = raw_connect(&p);
    assert_true(silent >= 0 && kept >= 0);
    nap(300);
    assert_int_equal(raw_send(kept, whole, sizeof(whole) - 1), 0);
    assert_int_equal(raw_read_end(kept, 500, &r), 0);
    assert_int_equal(r.err, ETIMEDOUT); /* kept alive after its answer */
    assert_int_equal(raw_status(&r), 200);
    free(r.data);
    trickle_until_closed(slow);
    t = clock_real_ms() - t0;
    fprintf(stderr,
            "# header deadline 1 s: a trickling client closed after "
            "%llu ms\n",
            (unsigned long long)t);
    assert_true(t >= 900 && t < 3000);
    assert_closed(silent, 1000);
    /* The kept-alive connection's deadline began with its answer, sent
     * 300 ms after the accept. */
    assert_closed(kept, 3000);
    t = clock_real_ms() - t0;
    assert_true(t >= 1250 && t < 3500);
    close(silent);
    close(slow);
    close(kept);
    assert_int_equal(testproc_stop(&p), 0);
}

/* The body deadline: a body sent a byte at a time is cut after
 * --body-timeout (1 s here), and the request is logged 408. */
static void test_body_deadline(void **state)
{
    static const char *const extra[] = {"--body-timeout", "1", NULL};
    static const char head[] = "POST /v1/chat/completions HTTP/1.1\r\n"
                               "Host: x\r\n"
                               "Authorization: Bearer sk-ai-nexus-test\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 100\r\n\r\n{\"model\"";
    struct testproc p;
    char log_path[32];
    uint64_t t;
    int fd;

    (void)state;
    start_logged(&p, extra, log_path);
    fd = raw_connect(&p);
    assert_true(fd >= 0);
    assert_int_equal(raw_send(fd, head, sizeof(head) - 1), 0);
    t = trickle_until_closed(fd);
    fprintf(stderr, "# body deadline 1 s: a trickled body cut after %llu ms\n",
            (unsigned long long)t);
    assert_true(t >= 900 && t < 3000);
    close(fd);
    assert_int_equal(testproc_stop(&p), 0);
    assert_int_equal(file_lines_with(log_path, "POST /v1/chat/completions 408"),
                     1);
    unlink(log_path);
}

/* The idle timeout is a flag: a connection that goes quiet mid-headers is
 * closed after --idle-timeout (1 s here) though its header deadline is
 * far. */
static void test_idle_timeout(void **state)
{
    static const char *const extra[] = {"--idle-timeout", "1",
                                        "--header-timeout", "60", NULL};
    struct testproc p;
    uint64_t t;
    int fd;

    (void)state;
    assert_int_equal(mock_start(&p, extra), 0);
    fd = hold(&p, NULL);
    t = assert_closed(fd, 4000);
    fprintf(stderr, "# idle timeout 1 s: a quiet client closed after %llu ms\n",
            (unsigned long long)t);
    assert_true(t >= 500);
    close(fd);
    assert_int_equal(testproc_stop(&p), 0);
}

/* The cap per client address: 127.0.0.2 holds its 4 connections and its
 * next ones are refused at once, while 127.0.0.1 is served; once one of
 * the 4 closes, 127.0.0.2 may connect again. One log line says so. */
static void test_per_address_cap(void **state)
{
    static const char *const extra[] = {"--max-connections-per-ip", "4", NULL};
    struct testproc p;
    struct http_reply r;
    char log_path[32];
    int held[4], i, fd;
    uint64_t t;

    (void)state;
    start_logged(&p, extra, log_path);
    for (i = 0; i < 4; i++)
        held[i] = hold(&p, "127.0.0.2");
    nap(100);
    for (i = 0; i < 20; i++) {
        fd = raw_connect_from(&p, "127.0.0.2");
        assert_true(fd >= 0);
        t = assert_closed(fd, 1000);
        assert_true(t < 500);
        close(fd);
    }
    assert_int_equal(
        http_do(&p, "GET", "/v1/models", "sk-ai-nexus-test", NULL, NULL, &r),
        0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    close(held[0]);
    nap(100);
    fd = hold(&p, "127.0.0.2");
    assert_int_equal(raw_send(fd, "\r\n", 2), 0);
    {
        struct raw_reading rr;

        assert_int_equal(raw_read_end(fd, 2000, &rr), 0);
        assert_int_equal(raw_status(&rr), 401); /* served: no key */
        free(rr.data);
    }
    close(fd);
    for (i = 1; i < 4; i++)
        close(held[i]);
    assert_int_equal(testproc_stop(&p), 0);
    /* One line for the burst of 20 refusals, naming the address. */
    assert_int_equal(file_lines_with(log_path, "refusing connections"), 1);
    assert_int_equal(file_lines_with(log_path, "127.0.0.2"), 1);
    unlink(log_path);
}

/* The cap in all: with --max-connections 6 held, the next connections are
 * refused at once rather than left hanging, and one log line says so;
 * once some close, new clients are served. */
static void test_total_cap(void **state)
{
    static const char *const extra[] = {"--max-connections", "6", NULL};
    struct testproc p;
    struct http_reply r;
    char log_path[32];
    int held[6], i, fd;

    (void)state;
    start_logged(&p, extra, log_path);
    for (i = 0; i < 6; i++)
        held[i] = hold(&p, i % 2 ? "127.0.0.2" : NULL);
    nap(100);
    for (i = 0; i < 10; i++) {
        fd = raw_connect(&p);
        assert_true(fd >= 0);
        assert_true(assert_closed(fd, 1000) < 500);
        close(fd);
    }
    close(held[0]);
    close(held[1]);
    nap(100);
    assert_int_equal(
        http_do(&p, "GET", "/v1/models", "sk-ai-nexus-test", NULL, NULL, &r),
        0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    for (i = 2; i < 6; i++)
        close(held[i]);
    assert_int_equal(testproc_stop(&p), 0);
    assert_int_equal(file_lines_with(log_path, "refusing connections"), 1);
    unlink(log_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_left_streams_release_descriptors),
        cmocka_unit_test(test_header_deadline),
        cmocka_unit_test(test_body_deadline),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_per_address_cap),
        cmocka_unit_test(test_total_cap),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
