/* test_server: the HTTP layer's source seam over real sockets. A server
 * started on 127.0.0.1 port 0 with a route table of its own (test routes,
 * compiled only here) answers from scripted sources; a raw socket client
 * checks what goes over the wire: a close without an answer (EOF, no byte),
 * a reset before the headers or after N pieces (ECONNRESET), bytes that are
 * not HTTP, and a delayed whole answer that holds no worker thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "app.h"
#include "clock.h"
#include "log.h"
#include "router.h"
#include "server.h"
#include "source.h"
#include "testutil.h"

/* One step of a scripted source. */
struct step {
    uint32_t due_ms; /* after the answer began */
    enum source_step what;
    const char *bytes; /* appended to out */
};

/* A scripted source: its steps in order; with no steps, 4 KiB pieces due
 * at once forever (a client that does not read fills every buffer). */
struct script {
    const struct step *steps;
    size_t n, i;
    bool hurried;
};

/* What end() calls were seen, across the server's threads. */
static struct {
    pthread_mutex_t lock;
    unsigned ends;
    unsigned hurries;
    struct source_end how; /* the last one */
} seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {false, false, false, 0, 0}};

static uint64_t script_due(void *self)
{
    struct script *sc = self;

    if (sc->hurried || sc->steps == NULL || sc->i >= sc->n)
        return 0;
    return sc->steps[sc->i].due_ms;
}

static enum source_step script_next(void *self, struct buf *out)
{
    struct script *sc = self;
    const struct step *st;

    if (sc->steps == NULL)
        return buf_appendf(out, "%4096s", "") == 0 ? SOURCE_PIECE : SOURCE_FAIL;
    if (sc->i >= sc->n)
        return SOURCE_DONE;
    st = &sc->steps[sc->i++];
    if (st->bytes != NULL && buf_appends(out, st->bytes) != 0)
        return SOURCE_FAIL;
    return st->what;
}

static void script_hurry(void *self)
{
    struct script *sc = self;

    sc->hurried = true;
    pthread_mutex_lock(&seen.lock);
    seen.hurries++;
    pthread_mutex_unlock(&seen.lock);
}

static void script_end(void *self, const struct source_end *how)
{
    pthread_mutex_lock(&seen.lock);
    seen.ends++;
    seen.how = *how;
    pthread_mutex_unlock(&seen.lock);
    free(self);
}

static const struct source_ops script_ops = {script_due, script_next,
                                             script_hurry, script_end};

/* The cases the test routes serve, by the last path segment. */
struct scripted {
    const char *name;
    enum source_framing framing;
    const char *content_type;
    const struct step *steps;
    size_t n;
};

static const struct step close_steps[] = {{0, SOURCE_CLOSE, NULL}};
static const struct step reset_steps[] = {{0, SOURCE_RESET, NULL}};
static const struct step raw_steps[] = {
    {0, SOURCE_CLOSE, "SSH-2.0-not-http\r\n\x01\x02garbage"}};
static const struct step reset_mid_steps[] = {
    {0, SOURCE_PIECE, "data: 1\n\n"},
    {0, SOURCE_PIECE, "data: 2\n\n"},
    {0, SOURCE_PIECE, "data: 3\n\n"},
    {0, SOURCE_RESET, NULL},
};
static const struct step raw_mid_steps[] = {
    {0, SOURCE_PIECE, "data: 1\n\n"},
    {0, SOURCE_CLOSE, "\x01\x02 not a chunk"},
};
static const struct step raw_first_steps[] = {
    {0, SOURCE_CLOSE, "\x01\x02 not a chunk"},
};
static const struct step delayed_steps[] = {
    {300, SOURCE_PIECE, "{\"ok\":"},
    {300, SOURCE_PIECE, "true}"},
};
static const struct step slow_stream_steps[] = {
    {0, SOURCE_PIECE, "data: 1\n\n"},
    {60000, SOURCE_PIECE, "data: 2\n\n"},
};
static const struct step slow_whole_steps[] = {
    {60000, SOURCE_PIECE, "{}"},
};
static const struct step trickle_steps[] = {
    {0, SOURCE_PIECE, "data: 1\n\n"},     {20, SOURCE_PIECE, "data: 2\n\n"},
    {40, SOURCE_PIECE, "data: 3\n\n"},    {60, SOURCE_PIECE, "data: 4\n\n"},
    {80, SOURCE_PIECE, "data: 5\n\n"},    {100, SOURCE_PIECE, "data: 6\n\n"},
    {120, SOURCE_PIECE, "data: 7\n\n"},   {140, SOURCE_PIECE, "data: 8\n\n"},
    {1000, SOURCE_PIECE, "data: 9\n\n"},  {1020, SOURCE_PIECE, "data: 10\n\n"},
    {1040, SOURCE_PIECE, "data: 11\n\n"}, {1060, SOURCE_PIECE, "data: 12\n\n"},
};

#define CASE(name, framing, type, steps)                                       \
    {                                                                          \
        name, framing, type, steps, sizeof(steps) / sizeof(steps[0])           \
    }

static const struct scripted cases[] = {
    CASE("close", SOURCE_WHOLE, "application/json", close_steps),
    CASE("reset", SOURCE_WHOLE, "application/json", reset_steps),
    CASE("raw", SOURCE_WHOLE, "application/json", raw_steps),
    CASE("reset-mid", SOURCE_STREAMED, "text/event-stream", reset_mid_steps),
    CASE("raw-mid", SOURCE_STREAMED, "text/event-stream", raw_mid_steps),
    CASE("raw-first", SOURCE_STREAMED, "text/event-stream", raw_first_steps),
    CASE("delayed", SOURCE_WHOLE, "application/json", delayed_steps),
    CASE("slow-stream", SOURCE_STREAMED, "text/event-stream",
         slow_stream_steps),
    CASE("slow-whole", SOURCE_WHOLE, "application/json", slow_whole_steps),
    CASE("trickle", SOURCE_STREAMED, "text/event-stream", trickle_steps),
    {"forever", SOURCE_STREAMED, "text/event-stream", NULL, 0},
};

/* The test routes' handler: answers /t/NAME from cases[NAME]. */
static void scripted_handle(struct app *app, struct request *req,
                            struct response *resp)
{
    const char *name = req->path + strlen("/t/");
    struct script *sc;
    size_t i;

    (void)app;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(cases[i].name, name) == 0)
            break;
    sc = calloc(1, sizeof(*sc));
    if (i == sizeof(cases) / sizeof(cases[0]) || sc == NULL) {
        free(sc);
        resp->status = 404;
        return;
    }
    sc->steps = cases[i].steps;
    sc->n = cases[i].n;
    resp->source.ops = &script_ops;
    resp->source.self = sc;
    resp->content_type = cases[i].content_type;
    resp->framing = cases[i].framing;
}

static const struct route route_scripted = {
    .method = "GET", .path = "/t/", .prefix = true, .handler = scripted_handle};
static const struct route *const test_routes[] = {&route_scripted};

/* A running server over the test routes. */
struct world {
    struct app app;
    struct server *srv;
    unsigned port;
};

/* Starts a server with the given worker threads. Returns 0 or -1. */
static int world_start(struct world *w, unsigned threads)
{
    struct server_config cfg = test_server_config(threads, 1000);
    char cause[256];

    memset(w, 0, sizeof(*w));
    w->app.log = log_new(stderr, LOG_TEXT, true);
    w->app.max_body = 1024;
    w->app.routes = test_routes;
    w->app.nroutes = 1;
    if (w->app.log == NULL ||
        server_start(&w->app, &cfg, &w->srv, cause, sizeof(cause)) != 0)
        return -1;
    w->port = server_port(w->srv);
    pthread_mutex_lock(&seen.lock);
    seen.ends = 0;
    seen.hurries = 0;
    memset(&seen.how, 0, sizeof(seen.how));
    pthread_mutex_unlock(&seen.lock);
    return 0;
}

/* Stops the server (grace_ms for what is in flight) and frees the world;
 * returns server_stop's count of requests cut. */
static unsigned world_stop(struct world *w, unsigned grace_ms)
{
    unsigned left = server_stop(w->srv, grace_ms);

    log_free(w->app.log);
    return left;
}

/* Connects to the server and sends GET path; keep says whether to ask for
 * a kept-alive connection. Returns the socket. */
static int client_get(const struct world *w, const char *path, bool keep)
{
    struct sockaddr_in sa;
    char req[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0), n;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)w->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", path,
                 keep ? "" : "Connection: close\r\n");
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    return fd;
}

/* What a client read until the connection ended. */
struct reading {
    char data[8192];
    size_t len;
    int err;             /* 0: EOF; an errno; ETIMEDOUT: still open */
    uint64_t elapsed_ms; /* from the call to the end */
};

/* Reads from fd until what came holds needle (never, when NULL), the
 * connection ends (EOF or an error), or timeout_ms pass. */
static void client_read_until(int fd, struct reading *r, const char *needle,
                              int timeout_ms)
{
    uint64_t start = clock_real_ms();

    memset(r, 0, sizeof(*r));
    r->err = ETIMEDOUT;
    while (needle == NULL || strstr(r->data, needle) == NULL) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = timeout_ms - (int)(clock_real_ms() - start);
        ssize_t n;

        if (left <= 0 || poll(&p, 1, left) != 1)
            break;
        n = recv(fd, r->data + r->len, sizeof(r->data) - r->len - 1, 0);
        if (n <= 0) {
            r->err = n == 0 ? 0 : errno;
            break;
        }
        r->len += (size_t)n;
        r->data[r->len] = '\0';
    }
    r->elapsed_ms = clock_real_ms() - start;
}

/* Reads from fd until EOF, an error, or timeout_ms without an end. */
static void client_read(int fd, struct reading *r, int timeout_ms)
{
    client_read_until(fd, r, NULL, timeout_ms);
}

/* Waits (bounded) until end() was called `want` times; returns the count. */
static unsigned wait_ends(unsigned want)
{
    uint64_t deadline = clock_real_ms() + 2000;
    unsigned n;

    for (;;) {
        struct timespec ts = {0, 2 * 1000000L};

        pthread_mutex_lock(&seen.lock);
        n = seen.ends;
        pthread_mutex_unlock(&seen.lock);
        if (n >= want || clock_real_ms() > deadline)
            break;
        nanosleep(&ts, NULL);
    }
    nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL); /* no second */
    pthread_mutex_lock(&seen.lock);
    n = seen.ends;
    pthread_mutex_unlock(&seen.lock);
    return n;
}

/* Checks the one end() seen: the flag set (or none) and the counts. */
static void assert_end(const char *flag, uint64_t pieces, uint64_t bytes)
{
    struct source_end how;

    assert_int_equal(wait_ends(1), 1);
    pthread_mutex_lock(&seen.lock);
    how = seen.how;
    pthread_mutex_unlock(&seen.lock);
    assert_int_equal(how.completed, strcmp(flag, "completed") == 0);
    assert_int_equal(how.client_gone, strcmp(flag, "client_gone") == 0);
    assert_int_equal(how.shutdown, strcmp(flag, "shutdown") == 0);
    assert_int_equal(how.pieces, pieces);
    assert_int_equal(how.bytes, bytes);
}

/* A close without an answer: the client reads EOF and not one byte. */
static void test_close_before_headers(void **state)
{
    struct world w;
    struct reading r;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/close", true);
    client_read(fd, &r, 2000);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.len, 0);
    close(fd);
    assert_end("cut", 0, 0);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* A reset before the headers: the client's read fails with ECONNRESET,
 * with not one byte before it. */
static void test_reset_before_headers(void **state)
{
    struct world w;
    struct reading r;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/reset", true);
    client_read(fd, &r, 2000);
    assert_int_equal(r.err, ECONNRESET);
    assert_int_equal(r.len, 0);
    close(fd);
    assert_end("cut", 0, 0);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* Bytes that are not HTTP, then a close: the client reads exactly them. */
static void test_raw_bytes_then_close(void **state)
{
    static const char want[] = "SSH-2.0-not-http\r\n\x01\x02garbage";
    struct world w;
    struct reading r;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/raw", true);
    client_read(fd, &r, 2000);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.len, sizeof(want) - 1);
    assert_memory_equal(r.data, want, sizeof(want) - 1);
    close(fd);
    assert_end("cut", 0, sizeof(want) - 1);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* Where the chunked body starts in a reading, after the header block. */
static const char *body_of(const struct reading *r)
{
    const char *p = strstr(r->data, "\r\n\r\n");

    assert_non_null(p);
    return p + 4;
}

/* A reset after three pieces of a stream: the client gets the headers and
 * the three pieces, then ECONNRESET, never the last piece. The three are
 * due at once, so they leave in one chunk (one write). */
static void test_reset_mid_stream(void **state)
{
    struct world w;
    struct reading r;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/reset-mid", true);
    client_read(fd, &r, 2000);
    assert_int_equal(r.err, ECONNRESET);
    assert_true(strncmp(r.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(r.data, "\r\nContent-Type: text/event-stream\r\n"));
    assert_non_null(strstr(r.data, "\r\nTransfer-Encoding: chunked\r\n"));
    assert_string_equal(body_of(&r),
                        "1B\r\ndata: 1\n\ndata: 2\n\ndata: 3\n\n\r\n");
    close(fd);
    assert_end("cut", 3, 27);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* Raw bytes in the middle of a stream, then a close: they come after the
 * first chunk as they are, then EOF without the last chunk. */
static void test_raw_bytes_mid_stream(void **state)
{
    static const char want[] = "9\r\ndata: 1\n\n\r\n\x01\x02 not a chunk";
    struct world w;
    struct reading r;
    const char *body;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/raw-mid", true);
    client_read(fd, &r, 2000);
    assert_int_equal(r.err, 0);
    body = body_of(&r);
    assert_int_equal(r.len - (size_t)(body - r.data), sizeof(want) - 1);
    assert_memory_equal(body, want, sizeof(want) - 1);
    close(fd);
    assert_end("cut", 1, 9 + 14);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* A streamed answer's headers are out before its first piece is asked
 * for: raw bytes as the first step come right after them. */
static void test_raw_bytes_after_headers(void **state)
{
    static const char want[] = "\x01\x02 not a chunk";
    struct world w;
    struct reading r;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/raw-first", true);
    client_read(fd, &r, 2000);
    assert_int_equal(r.err, 0);
    assert_true(strncmp(r.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_string_equal(body_of(&r), want);
    close(fd);
    assert_end("cut", 0, sizeof(want) - 1);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* A whole answer after 300 ms: nothing at all before (not even headers),
 * then a plain JSON answer with a Content-Length; and with one worker
 * thread, 16 of them at once all finish in about 300 ms, so no thread is
 * held while they wait. */
static void test_delayed_whole_answer(void **state)
{
    enum { N = 16 };
    struct world w;
    struct reading r;
    int fds[N], i;
    uint64_t begin, took;

    (void)state;
    assert_int_equal(world_start(&w, 1), 0);
    begin = clock_real_ms();
    for (i = 0; i < N; i++)
        fds[i] = client_get(&w, "/t/delayed", false);
    {
        struct pollfd p = {fds[0], POLLIN, 0};

        assert_int_equal(poll(&p, 1, 150), 0); /* headers wait too */
    }
    for (i = 0; i < N; i++) {
        client_read(fds[i], &r, 3000);
        assert_int_equal(r.err, 0);
        assert_true(strncmp(r.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
        assert_non_null(
            strstr(r.data, "\r\nContent-Type: application/json\r\n"));
        assert_non_null(strstr(r.data, "\r\nContent-Length: 11\r\n"));
        assert_string_equal(body_of(&r), "{\"ok\":true}");
        close(fds[i]);
    }
    took = clock_real_ms() - begin;
    fprintf(stderr, "# %d delayed answers (300 ms) on 1 thread: %llu ms\n", N,
            (unsigned long long)took);
    assert_true(took >= 290);
    assert_true(took < 1500); /* one at a time would take 4800 ms */
    assert_int_equal(wait_ends(N), N);
    assert_true(seen.how.completed);
    assert_int_equal(seen.how.pieces, 2);
    assert_int_equal(seen.how.bytes, 11);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* Shutdown drops every wait: a stream and a whole answer due in a minute
 * both complete at once, and the sources hear completed. */
static void test_shutdown_hurries(void **state)
{
    struct world w;
    struct reading r;
    int fd_stream, fd_whole;
    uint64_t begin;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd_stream = client_get(&w, "/t/slow-stream", false);
    fd_whole = client_get(&w, "/t/slow-whole", false);
    client_read(fd_stream, &r, 200); /* headers and the first piece */
    assert_int_equal(r.err, ETIMEDOUT);
    assert_non_null(strstr(r.data, "9\r\ndata: 1\n\n\r\n"));
    begin = clock_real_ms();
    assert_int_equal(world_stop(&w, 2000), 0);
    assert_true(clock_real_ms() - begin < 1000);
    client_read(fd_stream, &r, 1000);
    assert_int_equal(r.err, 0);
    assert_string_equal(r.data, "9\r\ndata: 2\n\n\r\n0\r\n\r\n");
    client_read(fd_whole, &r, 1000);
    assert_int_equal(r.err, 0);
    assert_string_equal(body_of(&r), "{}");
    close(fd_stream);
    close(fd_whole);
    assert_int_equal(seen.ends, 2);
    assert_int_equal(seen.hurries, 2);
    assert_true(seen.how.completed);
}

/* An answer still going when the grace ends is cut, and its source hears
 * shutdown with what was handed on. */
static void test_shutdown_cuts(void **state)
{
    struct world w;
    struct reading r;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/forever", true);
    client_read(fd, &r, 100); /* then stop reading: buffers fill */
    assert_int_equal(world_stop(&w, 100), 1);
    close(fd);
    assert_int_equal(seen.ends, 1);
    assert_true(seen.how.shutdown);
    assert_false(seen.how.completed || seen.how.client_gone);
    assert_true(seen.how.pieces > 0);
    assert_int_equal(seen.how.bytes, seen.how.pieces * 4096);
}

/* A client that leaves mid-stream: its source hears client_gone, with the
 * pieces handed on before the server noticed. */
static void test_client_gone(void **state)
{
    struct world w;
    struct reading r;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/trickle", true);
    /* The first piece (alone in its chunk, or with the next ones when the
     * server was slow enough to find them due together). */
    client_read_until(fd, &r, "data: 1\n\n", 2000);
    assert_non_null(strstr(r.data, "\r\ndata: 1\n\n"));
    close(fd);
    assert_int_equal(wait_ends(1), 1);
    assert_true(seen.how.client_gone);
    assert_false(seen.how.completed || seen.how.shutdown);
    assert_true(seen.how.pieces >= 1 && seen.how.pieces < 12);
    assert_int_equal(seen.how.bytes, seen.how.pieces * 9);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* Reads a slow stream's headers and first piece, then leaves (with a FIN,
 * or with a reset): the server must notice while the stream waits a
 * minute for its next piece, not when that piece falls due, and its
 * source hears client_gone with the one piece handed on. */
static void leave_parked_stream(bool reset)
{
    struct world w;
    struct reading r;
    uint64_t left_at;
    int fd;

    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/slow-stream", true);
    client_read(fd, &r, 200);
    assert_int_equal(r.err, ETIMEDOUT);
    assert_non_null(strstr(r.data, "9\r\ndata: 1\n\n\r\n"));
    left_at = clock_real_ms();
    if (reset)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0},
                   sizeof(struct linger));
    close(fd);
    assert_end("client_gone", 1, 9);
    fprintf(stderr, "# parked stream left (%s): ended after %llu ms\n",
            reset ? "RST" : "FIN",
            (unsigned long long)(clock_real_ms() - left_at));
    assert_true(clock_real_ms() - left_at < 1000);
    assert_int_equal(world_stop(&w, 1000), 0);
}

static void test_client_gone_while_parked(void **state)
{
    (void)state;
    leave_parked_stream(false);
}

static void test_client_reset_while_parked(void **state)
{
    (void)state;
    leave_parked_stream(true);
}

/* A whole answer due in a minute whose client leaves first: ended at once,
 * client_gone, nothing handed on. */
static void test_client_gone_before_whole_answer(void **state)
{
    struct world w;
    struct reading r;
    uint64_t left_at;
    int fd;

    (void)state;
    assert_int_equal(world_start(&w, 2), 0);
    fd = client_get(&w, "/t/slow-whole", true);
    client_read(fd, &r, 200);
    assert_int_equal(r.len, 0);
    left_at = clock_real_ms();
    close(fd);
    assert_end("client_gone", 0, 0);
    assert_true(clock_real_ms() - left_at < 1000);
    assert_int_equal(world_stop(&w, 1000), 0);
}

/* A source the server never takes is ended once, with no flag. */
static void test_response_cleanup_ends_source(void **state)
{
    struct response resp;
    struct script *sc = calloc(1, sizeof(*sc));

    (void)state;
    assert_non_null(sc);
    pthread_mutex_lock(&seen.lock);
    seen.ends = 0;
    pthread_mutex_unlock(&seen.lock);
    response_init(&resp);
    resp.source.ops = &script_ops;
    resp.source.self = sc;
    response_cleanup(&resp);
    response_cleanup(&resp);
    assert_int_equal(seen.ends, 1);
    assert_false(seen.how.completed || seen.how.client_gone ||
                 seen.how.shutdown);
    assert_null(resp.source.ops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_before_headers),
        cmocka_unit_test(test_reset_before_headers),
        cmocka_unit_test(test_raw_bytes_then_close),
        cmocka_unit_test(test_reset_mid_stream),
        cmocka_unit_test(test_raw_bytes_mid_stream),
        cmocka_unit_test(test_raw_bytes_after_headers),
        cmocka_unit_test(test_delayed_whole_answer),
        cmocka_unit_test(test_shutdown_hurries),
        cmocka_unit_test(test_shutdown_cuts),
        cmocka_unit_test(test_client_gone),
        cmocka_unit_test(test_client_gone_while_parked),
        cmocka_unit_test(test_client_reset_while_parked),
        cmocka_unit_test(test_client_gone_before_whole_answer),
        cmocka_unit_test(test_response_cleanup_ends_source),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
