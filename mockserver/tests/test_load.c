/* test_load: load and faults at once, against one mock on loopback, then
 * SIGTERM. At the same time: 64 concurrent clients make 640 billed
 * requests (127.0.0.3); 40 streams are cut by their clients after their
 * first event, half with a FIN, half with a reset, and slow clients send
 * their requests in pieces, read their answers slowly, or never finish
 * their headers (127.0.0.4); a flood from 127.0.0.2 goes 50 connections
 * past its cap; and a well-behaved client on 127.0.0.1 asks for its
 * balance again and again. Afterwards: the ledger is exact, every
 * descriptor is given back, the well-behaved client never waited past
 * its bound, and SIGTERM with streams in flight exits 0 in time (under
 * ASan/LSan, with nothing leaked: testproc turns a report into exit 86).
 * Bounded: about 300 sockets and 20 s; run alone (RUN_SERIAL). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "testutil.h"

#define BILLED_CLIENTS 64
#define BILLED_REQUESTS 640
#define CUT_STREAMS 40
#define SLOW_SENDERS 10
#define SLOW_READERS 10
#define SLOWLORIS 20
#define PER_IP 100
#define FLOOD (PER_IP + 50)
/* The longest the well-behaved client may wait for an answer: generous,
 * for a sanitizer build on a shared 2-core machine; a hung server or a
 * client starved by the flood takes far longer. */
#define PROBE_BOUND_MS 2000
/* The promise: in-flight requests finish within 2 s of SIGTERM; the rest
 * is the sanitizer's exit. */
#define STOP_BOUND_MS 3000

/* USD per million tokens in the fixture, as pico-USD per token. */
#define PICO_IN 100000
#define PICO_OUT 200000

static const char fixture[] =
    "version: 1\n"
    "plans:\n"
    "  load: {requests_per_minute: 0}\n"
    "models:\n"
    "  - id: fast\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 0.1, output_per_million: 0.2}\n"
    "  - id: paced\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 0.1, output_per_million: 0.2}\n"
    "    stream: {time_to_first_token_ms: 50, tokens_per_second: 20}\n"
    "keys:\n"
    "  - {key: sk-billed, plan: load, balance: 100}\n"
    "  - {key: sk-cut, plan: load, balance: 100}\n"
    "  - {key: sk-probe, plan: load, balance: 100}\n"
    "  - {key: sk-ref, plan: load, balance: 100}\n";

#define PACED_MESSAGES                                                         \
    "\"messages\":[{\"role\":\"user\",\"content\":\"cut me\"}]"
#define PACED_BODY "{\"model\":\"paced\",\"stream\":true," PACED_MESSAGES "}"
/* The same request not streamed: the same usage, in its body. */
#define PACED_WHOLE "{\"model\":\"paced\"," PACED_MESSAGES "}"

static struct testproc mock;

/* Sleeps ms milliseconds. */
static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* A key's balance and total spent, in pico-USD, exactly as printed. */
static void ledger(const char *key, int64_t *balance, int64_t *spent)
{
    assert_int_equal(balance_pico(&mock, key, balance, spent), 0);
}

/* The cost of a usage object, in pico-USD, or -1 when it is not one.
 * (No assertion here: the load threads call it.) */
static int64_t cost_of(json_t *usage)
{
    json_int_t p = json_integer_value(json_object_get(usage, "prompt_tokens"));
    json_int_t c =
        json_integer_value(json_object_get(usage, "completion_tokens"));

    if (p <= 0 || c <= 0)
        return -1;
    return (int64_t)p * PICO_IN + (int64_t)c * PICO_OUT;
}

/* The cost of the usage a chat answer reports (its body's, or a stream's
 * usage chunk), or -1 when it reports none. */
static int64_t answer_cost(const char *body)
{
    const char *line;
    json_t *j = json_loads(body, 0, NULL);
    int64_t cost = -1;

    if (j != NULL) {
        cost = cost_of(json_object_get(j, "usage"));
        json_decref(j);
        return cost;
    }
    for (line = body; (line = strstr(line, "data: {")) != NULL; line++) {
        const char *end = strstr(line, "\n\n");

        j = end ? json_loadb(line + 6, (size_t)(end - line - 6), 0, NULL)
                : NULL;
        if (json_is_object(json_object_get(j, "usage")))
            cost = cost_of(json_object_get(j, "usage"));
        json_decref(j);
    }
    return cost;
}

/* The well-behaved client: asks for its balance from 127.0.0.1 until told
 * to stop, keeping the longest wait and any failure. */
struct probe {
    atomic_bool stop;
    unsigned answered, failed;
    uint64_t longest_ms;
};

static void *probe_main(void *arg)
{
    struct probe *pr = arg;

    while (!atomic_load(&pr->stop)) {
        struct http_reply r;
        uint64_t t = clock_real_ms();
        int rc =
            http_do(&mock, "GET", "/v1/balance", "sk-probe", NULL, NULL, &r);

        t = clock_real_ms() - t;
        if (t > pr->longest_ms)
            pr->longest_ms = t;
        if (rc == 0 && r.status == 200)
            pr->answered++;
        else
            pr->failed++;
        if (rc == 0)
            http_reply_free(&r);
        nap(10);
    }
    return NULL;
}

/* The billed load: BILLED_REQUESTS chat requests, BILLED_CLIENTS at a time
 * from 127.0.0.3, half of them streamed; sums what their usage costs. */
struct billed {
    int64_t cost;
    unsigned ok, bad;
    /* The handles, their bodies and requests, the next request's number. */
    CURLM *m;
    CURL *easy[BILLED_CLIENTS];
    struct buf bodies[BILLED_CLIENTS];
    char posts[BILLED_CLIENTS][256];
    char url[sizeof(mock.url) + 32];
    struct curl_slist *headers;
    int next;
};

/* libcurl write callback into a struct buf. */
static size_t append_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    return buf_append(ud, ptr, size * nmemb) == 0 ? size * nmemb : 0;
}

/* Starts the next request on handle i. */
static void billed_start(struct billed *b, int i)
{
    int n = b->next++;

    snprintf(b->posts[i], sizeof(b->posts[i]),
             "{\"model\":\"fast\",\"max_tokens\":%d,\"messages\":"
             "[{\"role\":\"user\",\"content\":\"load %d\"}]%s}",
             8 + n % 40, n,
             n % 2 ? ",\"stream\":true,\"stream_options\":"
                     "{\"include_usage\":true}"
                   : "");
    buf_reset(&b->bodies[i]);
    curl_easy_reset(b->easy[i]);
    curl_easy_setopt(b->easy[i], CURLOPT_URL, b->url);
    curl_easy_setopt(b->easy[i], CURLOPT_INTERFACE, "host!127.0.0.3");
    curl_easy_setopt(b->easy[i], CURLOPT_HTTPHEADER, b->headers);
    curl_easy_setopt(b->easy[i], CURLOPT_POSTFIELDS, b->posts[i]);
    curl_easy_setopt(b->easy[i], CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(b->easy[i], CURLOPT_WRITEDATA, &b->bodies[i]);
    curl_easy_setopt(b->easy[i], CURLOPT_TIMEOUT, 30L);
    curl_multi_add_handle(b->m, b->easy[i]);
}

/* Counts a finished request on handle i and starts the next, if any. */
static void billed_done(struct billed *b, int i, CURLcode result)
{
    long status = 0;
    int64_t cost = -1;

    curl_easy_getinfo(b->easy[i], CURLINFO_RESPONSE_CODE, &status);
    if (result == CURLE_OK && status == 200)
        cost = answer_cost(buf_str(&b->bodies[i]));
    if (cost > 0) {
        b->cost += cost;
        b->ok++;
    } else {
        b->bad++;
    }
    curl_multi_remove_handle(b->m, b->easy[i]);
    if (b->next < BILLED_REQUESTS)
        billed_start(b, i);
}

static void *billed_main(void *arg)
{
    struct billed *b = arg;
    int running = 1, i, left;
    CURLMsg *msg;

    b->m = curl_multi_init();
    snprintf(b->url, sizeof(b->url), "%s/v1/chat/completions", mock.url);
    b->headers = curl_slist_append(NULL, "Authorization: Bearer sk-billed");
    b->headers =
        curl_slist_append(b->headers, "Content-Type: application/json");
    for (i = 0; i < BILLED_CLIENTS; i++) {
        b->easy[i] = curl_easy_init();
        buf_init(&b->bodies[i], (size_t)1 << 20);
        billed_start(b, i);
    }
    while (running || b->next < BILLED_REQUESTS) {
        curl_multi_perform(b->m, &running);
        while ((msg = curl_multi_info_read(b->m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            for (i = 0; b->easy[i] != msg->easy_handle; i++)
                ;
            billed_done(b, i, msg->data.result);
            running = 1;
        }
        curl_multi_wait(b->m, NULL, 0, 50, NULL);
    }
    for (i = 0; i < BILLED_CLIENTS; i++) {
        curl_easy_cleanup(b->easy[i]);
        buf_cleanup(&b->bodies[i]);
    }
    curl_multi_cleanup(b->m);
    curl_slist_free_all(b->headers);
    return NULL;
}

/* The faulty and slow clients, all from 127.0.0.4. */
struct faults {
    unsigned cut, slow_sent, slow_read, loris_closed;
};

/* Writes a POST of body on key as raw HTTP/1.1 into out (512 bytes). */
static void post_text(char out[512], const char *key, const char *body)
{
    snprintf(out, 512,
             "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
             "Authorization: Bearer %s\r\n"
             "Content-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             key, strlen(body), body);
}

/* Reads fd until text (shorter than 64 bytes) arrives, the connection
 * ends, or 5 s pass; returns whether the text came. */
static bool read_until(int fd, const char *text)
{
    char buf[4096 + 64];
    size_t keep = 0, n_text = strlen(text);
    uint64_t start = clock_real_ms();

    while (clock_real_ms() - start < 5000) {
        struct pollfd pf = {fd, POLLIN, 0};
        ssize_t n;

        if (poll(&pf, 1, 100) != 1)
            continue;
        n = recv(fd, buf + keep, sizeof(buf) - 1 - keep, 0);
        if (n <= 0)
            return false;
        keep += (size_t)n;
        buf[keep] = '\0';
        if (strstr(buf, text) != NULL)
            return true;
        /* Keep the tail, where the text may have begun. */
        if (keep > n_text) {
            memmove(buf, buf + keep - n_text, n_text);
            keep = n_text;
        }
    }
    return false;
}

/* Does the server end fd's connection (FIN or reset) within ms? */
static bool ends_within(int fd, int ms)
{
    struct raw_reading r;
    bool ended;

    if (raw_read_end(fd, ms, &r) != 0)
        return false;
    ended = r.err != ETIMEDOUT;
    free(r.data);
    return ended;
}

/* Reads the slow readers' streams together, 4 KB from each every 5 ms,
 * until each ends (or 10 s pass); closes them and returns how many ended
 * cleanly with their last chunk. */
static unsigned read_slowly(int fds[SLOW_READERS])
{
    struct {
        char tail[8];
        bool done;
    } st[SLOW_READERS];
    uint64_t start = clock_real_ms();
    unsigned ended = 0, open = 0;
    int i;

    memset(st, 0, sizeof(st));
    for (i = 0; i < SLOW_READERS; i++)
        open += fds[i] >= 0;
    while (open > 0 && clock_real_ms() - start < 10000) {
        nap(5);
        for (i = 0; i < SLOW_READERS; i++) {
            char chunk[4096];
            ssize_t n;

            if (fds[i] < 0 || st[i].done)
                continue;
            n = recv(fds[i], chunk, sizeof(chunk), MSG_DONTWAIT);
            if (n > 0 && (size_t)n >= 7) {
                memcpy(st[i].tail, chunk + n - 7, 7);
            } else if (n > 0) {
                memmove(st[i].tail, st[i].tail + n, 7 - (size_t)n);
                memcpy(st[i].tail + 7 - n, chunk, (size_t)n);
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                st[i].done = true;
                open--;
                ended += n == 0 && memcmp(st[i].tail, "\r\n0\r\n\r\n", 7) == 0;
            }
        }
    }
    for (i = 0; i < SLOW_READERS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return ended;
}

static void *faults_main(void *arg)
{
    struct faults *fl = arg;
    char text[512];
    int loris[SLOWLORIS], slow[SLOW_SENDERS], readers[SLOW_READERS], i, fd;
    uint64_t loris_start;

    /* Never-ending headers: the header deadline closes them. */
    loris_start = clock_real_ms();
    for (i = 0; i < SLOWLORIS; i++) {
        loris[i] = raw_connect_from(&mock, "127.0.0.4");
        if (loris[i] >= 0 &&
            raw_send(loris[i], "GET /v1/models HTTP/1.1\r\nHo", 27) != 0) {
            close(loris[i]);
            loris[i] = -1;
        }
    }
    /* Streams cut after their first event. */
    post_text(text, "sk-cut", PACED_BODY);
    for (i = 0; i < CUT_STREAMS; i++) {
        fd = raw_connect_from(&mock, "127.0.0.4");
        if (fd < 0)
            continue;
        if (raw_send(fd, text, strlen(text)) == 0 && read_until(fd, "data: {"))
            fl->cut++;
        if (i % 2)
            raw_reset(fd);
        else
            close(fd);
    }
    /* Slow readers: a large stream each (16 choices with log
     * probabilities, some 200 KB), read 4 KB at a time every 5 ms, so
     * that the server waits on them. (Their receive buffers stay at 64
     * KiB: below the loopback MSS, TCP itself stalls on a small window.) */
    post_text(text, "sk-ref",
              "{\"model\":\"fast\",\"stream\":true,\"n\":16,"
              "\"logprobs\":true,\"top_logprobs\":5,\"messages\":"
              "[{\"role\":\"user\",\"content\":\"slow\"}]}");
    for (i = 0; i < SLOW_READERS; i++) {
        int rcvbuf = 65536;

        readers[i] = raw_connect_from(&mock, "127.0.0.4");
        if (readers[i] < 0)
            continue;
        setsockopt(readers[i], SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (raw_send(readers[i], text, strlen(text)) != 0) {
            close(readers[i]);
            readers[i] = -1;
        }
    }
    /* Slow senders: a request in four pieces over 600 ms, within the
     * header deadline. */
    for (i = 0; i < SLOW_SENDERS; i++)
        slow[i] = raw_connect_from(&mock, "127.0.0.4");
    {
        static const char *const pieces[] = {
            "GET /v1/mod", "els HTTP/1.1\r\nHost: x\r\n",
            "Authorization: Bearer sk-ref\r\n", "Connection: close\r\n\r\n"};
        size_t k;

        for (k = 0; k < 4; k++) {
            for (i = 0; i < SLOW_SENDERS; i++)
                if (slow[i] >= 0 &&
                    raw_send(slow[i], pieces[k], strlen(pieces[k])) != 0) {
                    close(slow[i]);
                    slow[i] = -1;
                }
            nap(200);
        }
    }
    for (i = 0; i < SLOW_SENDERS; i++) {
        struct raw_reading r;

        if (slow[i] < 0)
            continue;
        if (raw_read_end(slow[i], 5000, &r) == 0) {
            if (r.err == 0 && raw_status(&r) == 200)
                fl->slow_sent++;
            free(r.data);
        }
        close(slow[i]);
    }
    fl->slow_read = read_slowly(readers);
    for (i = 0; i < SLOWLORIS; i++) {
        int left =
            5000 - (int)(clock_real_ms() - loris_start); /* deadline: 2 s */

        if (loris[i] < 0)
            continue;
        if (ends_within(loris[i], left > 0 ? left : 1))
            fl->loris_closed++;
        close(loris[i]);
    }
    return NULL;
}

/* Opens FLOOD connections from 127.0.0.2 at once: PER_IP are held, the
 * others must be refused at once (EOF with no byte within 500 ms).
 * Returns how many were refused; held[] gets the held ones (-1 for the
 * refused). */
static int flood(int held[FLOOD])
{
    uint64_t start;
    int i, refused = 0;

    for (i = 0; i < FLOOD; i++) {
        held[i] = raw_connect_from(&mock, "127.0.0.2");
        assert_true(held[i] >= 0);
    }
    start = clock_real_ms();
    while (clock_real_ms() - start < 500) {
        struct pollfd pf[FLOOD];

        for (i = 0; i < FLOOD; i++) {
            pf[i].fd = held[i];
            pf[i].events = POLLIN;
        }
        if (poll(pf, FLOOD, 50) <= 0)
            continue;
        for (i = 0; i < FLOOD; i++) {
            char c;

            if (held[i] < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (recv(held[i], &c, 1, MSG_DONTWAIT) <= 0) {
                close(held[i]);
                held[i] = -1;
                refused++;
            }
        }
    }
    return refused;
}

static void test_load_and_faults(void **state)
{
    char *path = temp_fixture(fixture);
    char log_path[] = "/tmp/nexus-load-log-XXXXXX";
    const char *extra[] = {"--fixtures",
                           path,
                           "--max-connections",
                           "400",
                           "--max-connections-per-ip",
                           "100",
                           "--header-timeout",
                           "2",
                           NULL};
    struct probe pr;
    struct billed bl;
    struct faults fl;
    pthread_t probe_t, billed_t, faults_t;
    int64_t b0, s0, b1, s1, cb0, cs0, cb1, cs1, pb0, ps0, pb1, ps1, full;
    int held[FLOOD], refused, i, base, fd;
    int inflight[8];
    char text[512];
    struct http_reply r;
    uint64_t t;
    int log_fd = mkstemp(log_path);

    (void)state;
    assert_non_null(path);
    assert_true(log_fd >= 0);
    close(log_fd);
    memset(&pr, 0, sizeof(pr));
    memset(&bl, 0, sizeof(bl));
    memset(&fl, 0, sizeof(fl));
    assert_int_equal(mock_start_logged(&mock, extra, log_path), 0);
    /* A cut stream costs at most what the whole stream costs. */
    assert_int_equal(http_do(&mock, "POST", "/v1/chat/completions", "sk-ref",
                             PACED_WHOLE, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    full = answer_cost(r.body);
    http_reply_free(&r);
    assert_true(full > 0);
    ledger("sk-billed", &b0, &s0);
    ledger("sk-cut", &cb0, &cs0);
    ledger("sk-probe", &pb0, &ps0);
    nap(100);
    base = proc_fd_count(mock.pid);
    assert_true(base > 0);

    assert_int_equal(pthread_create(&probe_t, NULL, probe_main, &pr), 0);
    assert_int_equal(pthread_create(&billed_t, NULL, billed_main, &bl), 0);
    assert_int_equal(pthread_create(&faults_t, NULL, faults_main, &fl), 0);
    refused = flood(held);
    pthread_join(billed_t, NULL);
    pthread_join(faults_t, NULL);
    /* The held flood is closed by the header deadline (2 s). */
    for (i = 0; i < FLOOD; i++) {
        if (held[i] < 0)
            continue;
        assert_true(ends_within(held[i], 4000));
        close(held[i]);
    }
    atomic_store(&pr.stop, true);
    pthread_join(probe_t, NULL);

    fprintf(stderr,
            "# billed %u ok, %u failed; cut %u/%d; slow senders %u/%d, slow "
            "readers %u/%d; slowloris closed %u/%d; flood refused %d/%d; "
            "probe %u answered, %u failed, longest %llu ms\n",
            bl.ok, bl.bad, fl.cut, CUT_STREAMS, fl.slow_sent, SLOW_SENDERS,
            fl.slow_read, SLOW_READERS, fl.loris_closed, SLOWLORIS, refused,
            FLOOD, pr.answered, pr.failed, (unsigned long long)pr.longest_ms);
    assert_int_equal(bl.ok, BILLED_REQUESTS);
    assert_int_equal(bl.bad, 0);
    assert_int_equal(fl.cut, CUT_STREAMS);
    assert_int_equal(fl.slow_sent, SLOW_SENDERS);
    assert_int_equal(fl.slow_read, SLOW_READERS);
    assert_int_equal(fl.loris_closed, SLOWLORIS);
    assert_int_equal(refused, FLOOD - PER_IP);
    assert_true(pr.answered > 10);
    assert_int_equal(pr.failed, 0);
    assert_true(pr.longest_ms < PROBE_BOUND_MS);

    /* Every descriptor is given back once the clients are gone. */
    t = clock_real_ms();
    while (proc_fd_count(mock.pid) > base && clock_real_ms() - t < 3000)
        nap(10);
    fprintf(stderr, "# descriptors: %d before, %d after\n", base,
            proc_fd_count(mock.pid));
    assert_true(proc_fd_count(mock.pid) <= base);

    /* The ledger: each key's balance + spent is what it was; the billed
     * key spent exactly what its answers' usage costs; the cut streams at
     * most what they would have cost whole; the probe nothing. */
    ledger("sk-billed", &b1, &s1);
    ledger("sk-cut", &cb1, &cs1);
    ledger("sk-probe", &pb1, &ps1);
    fprintf(stderr,
            "# spent: billed %lld pico-USD (answers' usage: %lld), cut "
            "streams %lld (whole: at most %lld)\n",
            (long long)(s1 - s0), (long long)bl.cost, (long long)(cs1 - cs0),
            (long long)(full * CUT_STREAMS));
    assert_true(b0 + s0 == b1 + s1);
    assert_true(s1 - s0 == bl.cost);
    assert_true(cb0 + cs0 == cb1 + cs1);
    assert_true(cs1 - cs0 >= 0 && cs1 - cs0 <= full * CUT_STREAMS);
    assert_true(pb1 == pb0 && ps1 == ps0);

    /* SIGTERM with paced streams in flight: they are hurried to their end
     * and the mock exits 0 within the promise. */
    post_text(text, "sk-ref", PACED_BODY);
    for (i = 0; i < 8; i++) {
        inflight[i] = raw_connect(&mock);
        assert_true(inflight[i] >= 0);
        assert_int_equal(raw_send(inflight[i], text, strlen(text)), 0);
        assert_true(read_until(inflight[i], "data: {"));
    }
    t = clock_real_ms();
    assert_int_equal(testproc_stop(&mock), 0);
    t = clock_real_ms() - t;
    fprintf(stderr, "# SIGTERM with 8 streams in flight: exit 0 in %llu ms\n",
            (unsigned long long)t);
    assert_true(t < STOP_BOUND_MS);
    for (i = 0; i < 8; i++) {
        fd = inflight[i];
        assert_true(ends_within(fd, 1000));
        close(fd);
    }
    /* Refusals were logged, one line per 10 s at most. */
    i = file_lines_with(log_path, "refusing connections");
    assert_true(i >= 1 && i <= 2);
    unlink(log_path);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_and_faults),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
