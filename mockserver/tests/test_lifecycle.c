/* test_lifecycle: nexus-mock's start and stop as a real process: a ready
 * line that cannot be written fails the start; SIGTERM lets what can
 * finish finish and logs what it had to cut, within the promised time;
 * the other signals do what the README says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "testutil.h"

/* A paced model, and a plan with no limits. */
static const char fixture[] =
    "version: 1\n"
    "plans:\n"
    "  open: {requests_per_minute: 0}\n"
    "models:\n"
    "  - id: slow\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 1, output_per_million: 2}\n"
    "    stream: {time_to_first_token_ms: 200, tokens_per_second: 2}\n"
    "keys:\n"
    "  - {key: sk-open, plan: open, balance: 1000}\n";

/* A stream that takes minutes at its pace: SIGTERM hurries it. */
#define SLOW_BODY                                                              \
    "{\"model\":\"slow\",\"stream\":true,\"messages\":"                        \
    "[{\"role\":\"user\",\"content\":\"Tell me a story\"}]}"
/* About 26 MB of stream (an array of 60,000 integers, a chunk a token),
 * far more than the socket buffers hold for a client that does not read;
 * the mock runs with a generation budget that allows it. */
#define HUGE_BODY                                                              \
    "{\"model\":\"slow\",\"stream\":true,\"response_format\":"                 \
    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"big\",\"schema\":"  \
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\","          \
    "\"minItems\":60000,\"items\":{\"type\":\"integer\"}}},"                   \
    "\"required\":[\"a\"]}}},\"messages\":"                                    \
    "[{\"role\":\"user\",\"content\":\"Tell me a long story\"}]}"

/* As start_logged, with --shutdown-grace grace unless grace is NULL. */
static void start_logged_grace(struct testproc *p, char *log_path,
                               char **fixture_path, const char *grace)
{
    const char *extra[] = {"--fixtures",
                           NULL,
                           "--log-format",
                           "json",
                           "--max-gen-nodes",
                           "10000000",
                           "--max-gen-bytes",
                           "268435456",
                           grace ? "--shutdown-grace" : NULL,
                           grace,
                           NULL};
    int fd = mkstemps(log_path, 4);

    assert_true(fd >= 0);
    close(fd);
    *fixture_path = temp_fixture(fixture);
    assert_non_null(*fixture_path);
    extra[1] = *fixture_path;
    assert_int_equal(mock_start_logged(p, extra, log_path), 0);
}

/* Starts the mock on the fixture above with a JSON log at log_path
 * (created); *fixture_path gets the fixture's path (free()). */
static void start_logged(struct testproc *p, char *log_path,
                         char **fixture_path)
{
    start_logged_grace(p, log_path, fixture_path, NULL);
}

/* Sends a POST of body to /v1/chat/completions on a new raw socket with a
 * small receive buffer, announcing body_len bytes (more than body holds:
 * the rest never comes). Returns the socket. */
static int raw_post(const struct testproc *p, const char *body, size_t body_len)
{
    char req[2048];
    int fd = raw_connect(p), n, small = 4096;

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    n = snprintf(req, sizeof(req),
                 "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: Bearer sk-open\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n%s",
                 body_len, body);
    assert_true(n > 0 && (size_t)n < sizeof(req));
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    return fd;
}

/* Reads from fd until the header block has arrived, or the end of the
 * stream when to_end, at most timeout_ms. Returns what was read (free())
 * with its length in *len. */
static char *raw_read(int fd, bool to_end, int timeout_ms, size_t *len)
{
    struct buf b;
    char chunk[65536];
    uint64_t start = clock_real_ms();

    buf_init(&b, (size_t)64 << 20);
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        int left = timeout_ms - (int)(clock_real_ms() - start);
        ssize_t n;

        if (!to_end && b.data != NULL && strstr(b.data, "\r\n\r\n") != NULL)
            break;
        if (left <= 0 || poll(&pf, 1, left) != 1)
            break;
        n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0 || buf_append(&b, chunk, (size_t)n) != 0)
            break;
    }
    return buf_take(&b, len);
}

/* Copies the x-request-id of a raw answer into id (37 bytes). */
static void request_id_of(const char *answer, char *id)
{
    const char *rid = strstr(answer, "x-request-id: ");

    assert_non_null(rid);
    memcpy(id, rid + strlen("x-request-id: "), 36);
    id[36] = '\0';
}

/* Posts body on a new raw connection, reads the head of its answer and
 * copies the answer's x-request-id into id (37 bytes). Returns the socket,
 * left open. */
static int post_for_id(const struct testproc *p, const char *body, char *id)
{
    int fd = raw_post(p, body, strlen(body));
    size_t len;
    char *answer = raw_read(fd, false, 5000, &len);

    request_id_of(answer, id);
    free(answer);
    return fd;
}

/* Sends SIGTERM once the socket buffers had time to fill, and returns how
 * many ms the mock took to exit, which it must do with status 0. */
static uint64_t stop_timed(struct testproc *p)
{
    uint64_t start;
    int status;

    usleep(300 * 1000); /* a huge stream fills the socket buffers */
    start = clock_real_ms();
    status = testproc_stop(p);
    start = clock_real_ms() - start;
    fprintf(stderr, "# exit %d after %llu ms\n", status,
            (unsigned long long)start);
    assert_int_equal(status, 0);
    return start;
}

/* The outcome a request's log line gives, or "(none)". */
static const char *outcome_of(const json_t *line)
{
    const char *o = json_string_value(json_object_get(line, "outcome"));

    return o != NULL ? o : "(none)";
}

/* Counts the log's request lines whose outcome is `outcome`. */
static unsigned count_outcome(const char *log_path, const char *outcome)
{
    FILE *f = fopen(log_path, "r");
    char line[4096];
    unsigned n = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        json_t *o = json_loads(line, 0, NULL);

        if (json_is_string(json_object_get(o, "outcome")) &&
            strcmp(json_string_value(json_object_get(o, "outcome")), outcome) ==
                0)
            n++;
        json_decref(o);
    }
    fclose(f);
    return n;
}

/* Does the file at path hold text? */
static bool log_has(const char *path, const char *text)
{
    size_t len = 0;
    char *all = NULL;
    FILE *f = fopen(path, "r");
    bool found;

    assert_non_null(f);
    assert_true(getdelim(&all, &len, '\0', f) >= 0);
    fclose(f);
    found = strstr(all, text) != NULL;
    free(all);
    return found;
}

/* What the mock's stdout is in run_without_stdout. */
enum stdout_kind {
    STDOUT_CLOSED,   /* no descriptor 1 at all */
    STDOUT_FULL,     /* /dev/full: every write fails (ENOSPC) */
    STDOUT_READONLY, /* opened for reading only: writes fail (EBADF) */
};

/* Starts nexus-mock with stdout as kind says and its stderr into a pipe,
 * and waits at most 5 s for it to exit. Returns its exit status, or -1
 * when it was still running (then it is killed) or died of a signal. Its
 * stderr goes to *err (free()). */
static int run_without_stdout(enum stdout_kind kind, char **err)
{
    const char *bin = getenv("NEXUS_MOCK_BIN");
    int fds[2], status = -1, i;
    struct buf b;
    char chunk[512];
    ssize_t n;
    pid_t pid;

    assert_non_null(bin);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        close(1);
        if (kind == STDOUT_FULL)
            open("/dev/full", O_WRONLY); /* takes descriptor 1 */
        else if (kind == STDOUT_READONLY)
            open("/dev/null", O_RDONLY);
        execl(bin, bin, "--port", "0", "--host", "127.0.0.1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    for (i = 0; i < 500; i++) {
        struct timespec ts = {0, 10 * 1000000L};

        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        nanosleep(&ts, NULL);
    }
    if (i == 500) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        status = -1;
    } else {
        status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    buf_init(&b, 1 << 16);
    while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
        if (buf_append(&b, chunk, (size_t)n) != 0)
            break;
    close(fds[0]);
    *err = buf_take(&b, NULL);
    assert_non_null(*err);
    return status;
}

/* Without a stdout to say where it listens, the mock must not serve
 * silently: it says why on stderr and exits 1 at once. */
static void test_no_stdout_fails_at_start(void **state)
{
    static const enum stdout_kind kinds[] = {STDOUT_CLOSED, STDOUT_FULL,
                                             STDOUT_READONLY};
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        char *err = NULL;
        int status = run_without_stdout(kinds[k], &err);

        fprintf(stderr, "# stdout kind %zu: exit %d, stderr: %s", k, status,
                err);
        assert_int_equal(status, 1);
        assert_non_null(strstr(err, "nexus-mock: "));
        assert_non_null(strstr(err, "stdout"));
        free(err);
    }
}

/* SIGTERM: a paced stream is hurried and completes; a stream whose client
 * does not read, and a request whose body never comes, are cut at the
 * end of the 2 s grace; the mock exits 0 in time, and each request's log
 * line says what happened to it (not the 200 of a status line). */
static void test_sigterm_logs_what_was_cut(void **state)
{
    char log_path[] = "/tmp/nexus-lifecycle-XXXXXX.log";
    char *fixture_path, *answer, *text, paced_id[40], stuck_id[40];
    struct testproc p;
    int paced, stuck, partial;
    uint64_t took;
    size_t len;
    json_t *line;

    (void)state;
    start_logged(&p, log_path, &fixture_path);
    paced = post_for_id(&p, SLOW_BODY, paced_id);
    stuck = post_for_id(&p, HUGE_BODY, stuck_id);
    partial = raw_post(&p, "{\"model\":", 500);
    took = stop_timed(&p);
    /* The 2 s grace, then the cut: well within 3.5 s. */
    assert_true(took >= 1900 && took < 3500);
    /* The stream nobody read was cut by the shutdown, after some events. */
    line = log_find_request(log_path, stuck_id);
    assert_non_null(line);
    text = json_dumps(line, JSON_COMPACT);
    fprintf(stderr, "# %s\n", text);
    free(text);
    assert_int_equal(json_integer_value(json_object_get(line, "status")), 444);
    assert_string_equal(outcome_of(line), "shutdown");
    assert_true(json_integer_value(json_object_get(line, "events")) > 0);
    json_decref(line);
    /* The paced stream was hurried to its end. */
    answer = raw_read(paced, true, 2000, &len);
    assert_true(len > 14);
    assert_non_null(strstr(answer, "data: [DONE]\n\n"));
    free(answer);
    line = log_find_request(log_path, paced_id);
    assert_non_null(line);
    assert_int_equal(json_integer_value(json_object_get(line, "status")), 200);
    assert_string_equal(outcome_of(line), "completed");
    json_decref(line);
    /* So was the request whose body never came; and the count says 2. */
    assert_int_equal(count_outcome(log_path, "shutdown"), 2);
    assert_true(log_has(log_path, "2 requests were cut at shutdown"));
    close(paced);
    close(stuck);
    close(partial);
    unlink(log_path);
    unlink(fixture_path);
    free(fixture_path);
}

/* --shutdown-grace 0: SIGTERM cuts what is in flight at once, and says so
 * in the log, instead of waiting the default 2 s. */
static void test_shutdown_grace_flag(void **state)
{
    char log_path[] = "/tmp/nexus-lifecycle-XXXXXX.log";
    char *fixture_path, stuck_id[40];
    struct testproc p;
    int stuck;
    json_t *line;

    (void)state;
    start_logged_grace(&p, log_path, &fixture_path, "0");
    stuck = post_for_id(&p, HUGE_BODY, stuck_id);
    assert_true(stop_timed(&p) < 1000);
    line = log_find_request(log_path, stuck_id);
    assert_non_null(line);
    assert_int_equal(json_integer_value(json_object_get(line, "status")), 444);
    assert_string_equal(outcome_of(line), "shutdown");
    json_decref(line);
    close(stuck);
    unlink(log_path);
    unlink(fixture_path);
    free(fixture_path);
}

/* Is the mock still answering? */
static bool serving(const struct testproc *p)
{
    struct http_reply r;
    bool ok = http_do(p, "GET", "/v1/models", "sk-open", NULL, NULL, &r) == 0 &&
              r.status == 200;

    if (ok)
        http_reply_free(&r);
    return ok;
}

/* SIGHUP (a reload: test_reload) and SIGUSR1 are logged and the mock
 * serves on; SIGQUIT stops it as SIGTERM does, exiting 0. */
static void test_other_signals(void **state)
{
    char log_path[] = "/tmp/nexus-lifecycle-XXXXXX.log";
    char *fixture_path;
    struct testproc p;
    int i, status = -1;

    (void)state;
    start_logged(&p, log_path, &fixture_path);
    assert_int_equal(kill(p.pid, SIGHUP), 0);
    assert_int_equal(kill(p.pid, SIGUSR1), 0);
    /* SIGHUP reloads the fixture first, which takes a while under ASan. */
    for (i = 0; i < 500 && !log_has(log_path, "received SIGUSR1"); i++)
        usleep(10 * 1000);
    assert_true(serving(&p));
    assert_true(log_has(log_path, "received SIGHUP: reloading the fixtures"));
    assert_true(log_has(log_path, "received SIGUSR1: ignored"));
    assert_int_equal(kill(p.pid, SIGQUIT), 0);
    for (i = 0; i < 500; i++) {
        if (waitpid(p.pid, &status, WNOHANG) == p.pid)
            break;
        usleep(10 * 1000);
    }
    assert_true(i < 500);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    p.pid = 0;
    assert_true(log_has(log_path, "received SIGQUIT"));
    testproc_stop(&p); /* closes what is left of it */
    unlink(log_path);
    unlink(fixture_path);
    free(fixture_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_stdout_fails_at_start),
        cmocka_unit_test(test_sigterm_logs_what_was_cut),
        cmocka_unit_test(test_shutdown_grace_flag),
        cmocka_unit_test(test_other_signals),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);

    return cmocka_run_group_tests(tests, NULL, NULL);
}
