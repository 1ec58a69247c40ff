/* test_soak: nexus-mock under a steady mixed load (chat, streams, models,
 * balance, errors, streams cut by their clients) for NEXUS_SOAK_SECONDS
 * (60 by default; scripts/soak MINUTES runs it longer), sampling its
 * resident memory every second. After a warm-up quarter, the samples of
 * the second half of what is left must not sit above those of the first
 * half by more than a generous slack: memory that keeps growing under a
 * steady load is a leak, however slow. Every answer must also be the one
 * expected. Run serially (ctest RUN_SERIAL), not under ASan, whose
 * quarantine grows by design. */
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
#include <curl/curl.h>

#include "clock.h"
#include "testutil.h"

/* Requests in flight at once, and started per second. */
#define SOAK_CLIENTS 8
#define SOAK_RATE 200
/* The most samples kept (a second each): ten hours. */
#define SOAK_MAX_SAMPLES 36000
/* Growth allowed between the two plateaus: this much, or a twentieth of
 * the first plateau, whichever is larger (a steady run here moves by less
 * than 300 KiB). */
#define SOAK_SLACK_KIB 1024

static const char fixture[] =
    "version: 1\n"
    "plans:\n"
    "  open: {requests_per_minute: 0}\n"
    "models:\n"
    "  - id: fast\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 0.01, output_per_million: 0.01}\n"
    "  - id: paced\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 0.01, output_per_million: 0.01}\n"
    "    stream: {time_to_first_token_ms: 20, tokens_per_second: 100}\n"
    "keys:\n"
    "  - {key: sk-soak, plan: open, balance: 8000000}\n";

/* The kinds of request, taken in turn. */
enum kind {
    K_CHAT,
    K_STREAM,
    K_MODELS,
    K_BALANCE,
    K_MODEL,
    K_STREAM_CUT,
    K_CHAT_N,
    K_PACED_CUT,
    K_BAD,
    K_COUNT
};

static const struct {
    const char *name;
    const char *path;
    const char *body; /* NULL: a GET */
    long status;      /* expected, when not cut */
    bool cut;         /* the client leaves at the first bytes of the body */
} kinds[K_COUNT] = {
    [K_CHAT] = {"chat", "/v1/chat/completions",
                "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\","
                "\"content\":\"Tell me a story\"}]}",
                200, false},
    [K_STREAM] = {"stream", "/v1/chat/completions",
                  "{\"model\":\"fast\",\"stream\":true,\"stream_options\":"
                  "{\"include_usage\":true},\"messages\":[{\"role\":\"user\","
                  "\"content\":\"Tell me a story\"}]}",
                  200, false},
    [K_MODELS] = {"models", "/v1/models", NULL, 200, false},
    [K_BALANCE] = {"balance", "/v1/balance", NULL, 200, false},
    [K_MODEL] = {"model", "/v1/models/paced", NULL, 200, false},
    [K_STREAM_CUT] = {"stream cut", "/v1/chat/completions",
                      "{\"model\":\"fast\",\"stream\":true,\"messages\":"
                      "[{\"role\":\"user\",\"content\":\"A long story\"}]}",
                      200, true},
    [K_CHAT_N] = {"chat n=2 logprobs", "/v1/chat/completions",
                  "{\"model\":\"fast\",\"n\":2,\"logprobs\":true,"
                  "\"top_logprobs\":3,\"messages\":[{\"role\":\"user\","
                  "\"content\":\"Hello\"}]}",
                  200, false},
    [K_PACED_CUT] = {"paced stream cut", "/v1/chat/completions",
                     "{\"model\":\"paced\",\"stream\":true,\"messages\":"
                     "[{\"role\":\"user\",\"content\":\"A long story\"}]}",
                     200, true},
    [K_BAD] = {"bad request", "/v1/chat/completions",
               "{\"model\":\"fast\",\"temperature\":9,\"messages\":"
               "[{\"role\":\"user\",\"content\":\"hi\"}]}",
               400, false},
};

/* One request in flight. */
struct slot {
    CURL *easy;
    enum kind kind;
};

/* Body sink: keeps nothing; a cut request leaves at its first bytes. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    const struct slot *s = ud;

    (void)ptr;
    return kinds[s->kind].cut ? 0 : size * nmemb;
}

/* VmRSS of pid in KiB, or -1. */
static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return (x > y) - (x < y);
}

/* The median of n samples (sorted in place). */
static long median(long *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_long);
    return v[n / 2];
}

/* Starts request number seq (its kind taken in turn) in slot s. */
static void slot_start(struct slot *s, CURLM *m, const struct testproc *p,
                       struct curl_slist *hdrs, unsigned long seq)
{
    char url[512];

    s->kind = (enum kind)(seq % K_COUNT);
    s->easy = curl_easy_init();
    assert_non_null(s->easy);
    snprintf(url, sizeof(url), "%s%s", p->url, kinds[s->kind].path);
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, 20L);
    if (kinds[s->kind].body != NULL)
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, kinds[s->kind].body);
    curl_multi_add_handle(m, s->easy);
}

/* Checks a finished request; returns true when it went as expected. */
static bool slot_finish(struct slot *s, CURLM *m, CURLcode rc)
{
    long status = 0;
    bool ok;

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    ok = status == kinds[s->kind].status &&
         rc == (kinds[s->kind].cut ? CURLE_WRITE_ERROR : CURLE_OK);
    if (!ok)
        fprintf(stderr, "# unexpected: %s answered %ld (%s)\n",
                kinds[s->kind].name, status, curl_easy_strerror(rc));
    curl_multi_remove_handle(m, s->easy);
    curl_easy_cleanup(s->easy);
    s->easy = NULL;
    return ok;
}

static void test_memory_plateaus(void **state)
{
    const char *env = getenv("NEXUS_SOAK_SECONDS");
    long seconds = env != NULL ? strtol(env, NULL, 10) : 60;
    const char *extra[] = {"--fixtures", NULL, NULL};
    struct slot slots[SOAK_CLIENTS];
    struct curl_slist *hdrs = NULL;
    struct testproc p;
    char *path;
    long *samples;
    size_t nsamples = 0, warm, half, i;
    unsigned long started = 0, finished = 0, unexpected = 0;
    uint64_t begin, next_sample, end;
    long first, second, slack;
    CURLM *m;
    int running = 0;

    (void)state;
    assert_true(seconds >= 20 && seconds <= SOAK_MAX_SAMPLES);
    samples = calloc(SOAK_MAX_SAMPLES + 1, sizeof(*samples));
    path = temp_fixture(fixture);
    assert_non_null(path);
    extra[1] = path;
    assert_int_equal(mock_start(&p, extra), 0);
    hdrs = curl_slist_append(hdrs, "Authorization: Bearer sk-soak");
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    m = curl_multi_init();
    memset(slots, 0, sizeof(slots));
    begin = clock_real_ms();
    next_sample = begin + 1000;
    end = begin + (uint64_t)seconds * 1000;
    for (;;) {
        uint64_t now = clock_real_ms();
        CURLMsg *msg;
        int left;

        if (now >= next_sample && now < end && nsamples < SOAK_MAX_SAMPLES) {
            samples[nsamples++] = rss_kib(p.pid);
            assert_true(samples[nsamples - 1] > 0);
            next_sample += 1000;
        }
        for (i = 0; now < end && i < SOAK_CLIENTS; i++)
            if (slots[i].easy == NULL &&
                started < (now - begin) * SOAK_RATE / 1000)
                slot_start(&slots[i], m, &p, hdrs, started++);
        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            struct slot *s;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
            if (!slot_finish(s, m, msg->data.result))
                unexpected++;
            finished++;
        }
        if (now >= end && finished == started)
            break;
        assert_true(now < end + 20000);        /* bounded: the load drains */
        curl_multi_poll(m, NULL, 0, 10, NULL); /* waits even when idle */
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    assert_int_equal(testproc_stop(&p), 0);
    warm = nsamples / 4;
    half = (nsamples - warm) / 2;
    fprintf(stderr, "# %ld s, %lu requests (%lu unexpected); RSS KiB:", seconds,
            finished, unexpected);
    for (i = 0; i < nsamples; i++)
        fprintf(stderr, "%s%ld", i % 20 ? " " : "\n#   ", samples[i]);
    first = median(samples + warm, half);
    second = median(samples + warm + half, nsamples - warm - half);
    slack = first / 20 > SOAK_SLACK_KIB ? first / 20 : SOAK_SLACK_KIB;
    fprintf(stderr,
            "\n# after %zu s of warm-up: median %ld KiB, then %ld KiB "
            "(allowed up to %ld)\n",
            warm, first, second, first + slack);
    assert_int_equal(unexpected, 0);
    assert_true(finished >= (unsigned long)seconds * SOAK_RATE / 2);
    assert_true(second <= first + slack);
    unlink(path);
    free(path);
    free(samples);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_plateaus),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
