/* test_cli: nexus-mock's command line as a user meets it: --check, --help,
 * bad options, the control API refused unguarded off loopback, the body
 * limit, token limits, pacing and graceful stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "clock.h"
#include "testutil.h"

/* Runs nexus-mock with args (NULL-terminated, without argv[0]). */
static int run_mock(const char *const *args, char **out, char **err)
{
    const char *argv[16];
    size_t n = 0;

    argv[n++] = getenv("NEXUS_MOCK_BIN");
    while (*args != NULL && n < 15)
        argv[n++] = *args++;
    argv[n] = NULL;
    return testproc_capture((char *const *)argv, 60, out, err);
}

static void test_check_default(void **state)
{
    static const char *const args[] = {"--check", NULL};
    char *out, *err;

    (void)state;
    assert_int_equal(run_mock(args, &out, &err), 0);
    assert_string_equal(out,
                        "ai-nexus.yaml (embedded): ok: 13 models, 2 plans, "
                        "3 keys, 0 rules\n");
    free(out);
    free(err);
}

static void test_check_errors_name_line_and_column(void **state)
{
    char *path = temp_fixture("version: 1\n"
                              "plans:\n"
                              "  free: {requests_per_minute: 10}\n"
                              "models:\n"
                              "  - id: m\n"
                              "    created: 1\n"
                              "    colour: blue\n");
    const char *args[] = {"--check", "--fixtures", path, NULL};
    char *out, *err, want[512];

    (void)state;
    assert_int_not_equal(run_mock(args, &out, &err), 0);
    snprintf(want, sizeof(want), "%s:7:5: ", path);
    assert_memory_equal(err, want, strlen(want));
    assert_non_null(strstr(err, "colour"));
    /* One line. */
    assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
    free(out);
    free(err);
    unlink(path);
    free(path);
}

/* --check reports every rule no request can reach, one line each, and
 * exits 1. */
static void test_check_reports_shadowed_rules(void **state)
{
    char *path =
        temp_fixture("version: 2\n"
                     "models:\n"
                     "  - {id: m, created: 1, price: {input_per_million: 1, "
                     "output_per_million: 1}}\n"
                     "rules:\n"
                     "  - name: ping\n"
                     "    match: {path: /p, method: GET}\n"
                     "    reply: {status: 418}\n"
                     "  - name: ping-again\n"
                     "    match: {method: GET, path: /p}\n"
                     "    reply: {status: 500}\n"
                     "  - name: other\n"
                     "    match: {path: /q}\n"
                     "    reply: {status: 418}\n"
                     "  - name: all\n"
                     "    reply: {status: 503}\n"
                     "  - name: after-all\n"
                     "    match: {path: /r}\n"
                     "    reply: {status: 418}\n");
    const char *args[] = {"--check", "--fixtures", path, NULL};
    char *out, *err, want[1024];
    int n;

    (void)state;
    assert_int_equal(run_mock(args, &out, &err), 1);
    assert_string_equal(out, "");
    n = snprintf(want, sizeof(want),
                 "%s:8:5: rule 'ping-again' is never tried: rule 'ping' "
                 "(%s:5) comes first and has the same conditions\n"
                 "%s:16:5: rule 'after-all' is never tried: rule 'all' "
                 "(%s:14) comes first and has no conditions, so it answers "
                 "every request\n",
                 path, path, path, path);
    assert_true(n > 0 && n < (int)sizeof(want));
    assert_string_equal(err, want);
    free(out);
    free(err);
    unlink(path);
    free(path);
}

/* A fixture with several distinct mistakes: an unknown key, a bad number,
 * a bad regular expression, a misspelt reply key, an unknown plan, a state
 * no rule leads to, and a rule no request reaches. */
static const char many_problems[] =
    "version: 2\n"
    "plans:\n"
    "  free: {requests_per_minute: 10}\n"
    "models:\n"
    "  - id: m\n"
    "    created: 1\n"
    "    colour: blue\n"
    "    price: {input_per_million: 1, output_per_million: 1}\n"
    "  - id: n\n"
    "    created: -1\n"
    "    price: {input_per_million: 1, output_per_million: 1}\n"
    "keys:\n"
    "  - {key: k1, plan: fre, balance: 1}\n"
    "rules:\n"
    "  - name: a\n"
    "    match: {last_user_message: {regex: \"a(\"}}\n"
    "    reply: {content: x}\n"
    "  - name: b\n"
    "    match: {model: n}\n"
    "    reply: {content: y, finsh_reason: stop}\n"
    "  - name: c\n"
    "    scenario: s\n"
    "    state: nowhere\n"
    "    reply: {content: z}\n"
    "  - name: all\n"
    "    reply: {status: 503}\n"
    "  - name: after\n"
    "    match: {path: /q}\n"
    "    reply: {status: 500}\n";

/* Writes into want the lines the loader reports for many_problems at
 * path: the first n of them (of 6), and the unreachable rule when lint. */
static void many_problems_lines(char *want, size_t size, const char *path,
                                size_t n, bool lint)
{
    static const char *const lines[] = {
        ":7:5: unknown key 'colour' in model (allowed: id, created, "
        "owned_by, price, stream, reasoning, parameters)\n",
        ":10:14: 'created' must not be negative (got '-1')\n",
        ":16:40: 'regex': bad regular expression at offset 2: missing "
        "closing parenthesis\n",
        ":20:25: unknown key 'finsh_reason' in reply; did you mean "
        "'finish_reason'? (allowed: content, template, reasoning_content, "
        "tool_calls, deltas, finish_reason, usage, stream, status, error, "
        "body, json, body_hex, body_template, content_type, retry_after_ms, "
        "headers, latency_ms, "
        "rate_limit, billing, fault)\n",
        ":13:21: key 'k1' uses unknown plan 'fre'; did you mean 'free'?\n",
        ":23:12: no rule leads scenario 's' to state 'nowhere' and it does "
        "not start there\n",
    };
    size_t used = 0, i;
    int w;

    want[0] = '\0';
    for (i = 0; i < n; i++) {
        w = snprintf(want + used, size - used, "%s%s", path, lines[i]);
        assert_true(w > 0 && (size_t)w < size - used);
        used += (size_t)w;
    }
    if (lint) {
        w = snprintf(want + used, size - used,
                     "%s:27:5: rule 'after' is never tried: rule 'all' "
                     "(%s:25) comes first and has no conditions, so it "
                     "answers every request\n",
                     path, path);
        assert_true(w > 0 && (size_t)w < size - used);
    }
}

/* --check reports every problem of a file, not only the first, each as
 * file:line:column, and exits 1; the server refuses to start on the file
 * with the same lines (the loader's, not the unreachable rule, which is
 * legal); --max-problems caps the list and says how many more there are. */
static void test_check_reports_every_problem(void **state)
{
    char *path = temp_fixture(many_problems);
    const char *check[] = {"--check", "--fixtures", path, NULL};
    const char *start[] = {"--port", "0", "--fixtures", path, NULL};
    const char *capped[] = {
        "--check", "--max-problems", "2", "--fixtures", path, NULL};
    char *out, *err, want[4096];
    size_t used;

    (void)state;
    assert_int_equal(run_mock(check, &out, &err), 1);
    assert_string_equal(out, "");
    many_problems_lines(want, sizeof(want), path, 6, true);
    assert_string_equal(err, want);
    free(out);
    free(err);

    assert_int_equal(run_mock(start, &out, &err), 1);
    assert_string_equal(out, "");
    many_problems_lines(want, sizeof(want), path, 6, false);
    assert_string_equal(err, want);
    free(out);
    free(err);

    assert_int_equal(run_mock(capped, &out, &err), 1);
    many_problems_lines(want, sizeof(want), path, 2, false);
    used = strlen(want);
    snprintf(want + used, sizeof(want) - used,
             "%s: 5 more problems not listed (--max-problems 2)\n", path);
    assert_string_equal(err, want);
    free(out);
    free(err);
    unlink(path);
    free(path);
}

static void test_bad_options(void **state)
{
    static const char *const cases[][4] = {
        {"--bogus", NULL},
        {"--port", "70000", NULL},
        {"--log-format", "xml", NULL},
        {"--fixtures", NULL},
        {"--fixtures", "/nonexistent/x.yaml", NULL},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out, *err;

        assert_int_not_equal(run_mock(cases[i], &out, &err), 0);
        /* One line naming the program, or the file with line:column. */
        assert_true(strncmp(err, "nexus-mock: ", 12) == 0 ||
                    strncmp(err, "/nonexistent/x.yaml:", 20) == 0);
        assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
        assert_string_equal(out, "");
        free(out);
        free(err);
    }
}

/* The control API is refused, before anything is bound, where others could
 * reach it without a token; a token needs --admin. One line, exit 2. */
static void test_admin_unguarded(void **state)
{
    static const struct {
        const char *args[8];
        const char *says;
    } cases[] = {
        {{"--admin", "--host", "0.0.0.0", "--port", "0", NULL},
         "nexus-mock: --admin on '0.0.0.0', which is not a loopback address, "
         "needs --admin-token TOKEN"},
        {{"--admin", "--host", "::", "--port", "0", NULL},
         "nexus-mock: --admin on '::'"},
        {{"--admin-token", "x", "--port", "0", NULL},
         "nexus-mock: --admin-token guards the control API: it needs "
         "--admin\n"},
        {{"--admin", "--admin-token", NULL}, "nexus-mock: '--admin-token'"},
        {{"--journal-max-bytes", "1000", NULL},
         "nexus-mock: --journal-max-bytes needs a byte count from 65536"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out, *err;

        assert_int_equal(run_mock(cases[i].args, &out, &err), 2);
        if (strncmp(err, cases[i].says, strlen(cases[i].says)) != 0)
            fail_msg("case %zu said: %s", i, err);
        assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
        assert_string_equal(out, "");
        free(out);
        free(err);
    }
}

static void test_help_and_version(void **state)
{
    static const char *const help[] = {"--help", NULL};
    static const char *const version[] = {"--version", NULL};
    char *out, *err;

    (void)state;
    assert_int_equal(run_mock(help, &out, &err), 0);
    assert_non_null(strstr(out, "--fixtures PATH"));
    free(out);
    free(err);
    assert_int_equal(run_mock(version, &out, &err), 0);
    assert_memory_equal(out, "nexus-mock ", 11);
    free(out);
    free(err);
}

/* The base fixture of test_several_files: a plan, a model, a key. */
static const char base_fixture[] =
    "version: 1\n"
    "plans: {p: {requests_per_minute: 100}}\n"
    "models:\n"
    "  - {id: m1, created: 1, price: {input_per_million: 1, "
    "output_per_million: 1}}\n"
    "keys:\n"
    "  - {key: k1, plan: p, balance: 10}\n";

/* What a second file adds: a model replacing m1, a key, a rule. */
static const char extra_fixture[] =
    "version: 2\n"
    "models:\n"
    "  - {id: m1, created: 2, owned_by: later, price: {input_per_million: "
    "1, output_per_million: 1}}\n"
    "  - {id: m2, created: 3, price: {input_per_million: 1, "
    "output_per_million: 1}}\n"
    "keys:\n"
    "  - {key: k2, plan: p, balance: 5}\n"
    "rules:\n"
    "  - match: {last_user_message: ping}\n"
    "    reply: {content: pong}\n";

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* --fixtures repeated, or a directory of files in name order: a later
 * file extends the earlier (same model id replaced, new ones added, its
 * rules served); a mistake in a later file names that file. */
static void test_several_files(void **state)
{
    char dir[] = "/tmp/nexus-mock-dir-XXXXXX", a[600], b[600], c[600];
    const char *two[] = {"--check", "--fixtures", a, "--fixtures", b, NULL};
    const char *one_dir[] = {"--check", "--fixtures", dir, NULL};
    const char *bad[] = {"--check", "--fixtures", a, "--fixtures", c, NULL};
    const char *serve[] = {"--fixtures", a, "--fixtures", b, NULL};
    struct testproc p;
    struct http_reply r;
    char *out, *err, want[700];
    json_t *models;

    (void)state;
    assert_non_null(mkdtemp(dir));
    write_file(dir, "10-base.yaml", base_fixture);
    write_file(dir, "20-extra.yml", extra_fixture);
    write_file(dir, "notes.txt", "not a fixture");
    snprintf(a, sizeof(a), "%s/10-base.yaml", dir);
    snprintf(b, sizeof(b), "%s/20-extra.yml", dir);
    snprintf(c, sizeof(c), "%s/bad.yaml.txt", dir);
    write_file(dir, "bad.yaml.txt", "version: 2\nrules:\n  - reply: {}\n");
    assert_int_equal(run_mock(two, &out, &err), 0);
    snprintf(want, sizeof(want),
             "%s (and the files after it): ok: 2 models, 1 plan, 2 keys, 1 "
             "rule\n",
             a);
    assert_string_equal(out, want);
    free(out);
    free(err);
    assert_int_equal(run_mock(one_dir, &out, &err), 0);
    snprintf(want, sizeof(want), "%s: ok: 2 models, 1 plan, 2 keys, 1 rule\n",
             dir);
    assert_string_equal(out, want);
    free(out);
    free(err);
    assert_int_not_equal(run_mock(bad, &out, &err), 0);
    snprintf(want, sizeof(want), "%s:3:12: a reply needs", c);
    assert_memory_equal(err, want, strlen(want));
    free(out);
    free(err);
    assert_int_equal(mock_start(&p, serve), 0);
    assert_int_equal(http_do(&p, "GET", "/v1/models", "k2", NULL, NULL, &r), 0);
    models = json_object_get(r.json, "data");
    assert_int_equal(json_array_size(models), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(models, 0), "owned_by")),
                        "later");
    http_reply_free(&r);
    assert_int_equal(http_do(&p, "POST", "/v1/chat/completions", "k1",
                             "{\"model\":\"m2\",\"messages\":[{\"role\":"
                             "\"user\",\"content\":\"ping\"}]}",
                             NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"content\":\"pong\""));
    http_reply_free(&r);
    assert_int_equal(testproc_stop(&p), 0);
    unlink(a);
    unlink(b);
    unlink(c);
    snprintf(want, sizeof(want), "%s/notes.txt", dir);
    unlink(want);
    assert_int_equal(rmdir(dir), 0);
}

static void test_body_limit(void **state)
{
    static const char *const extra[] = {"--max-body", "1024", NULL};
    struct testproc p;
    struct http_reply r;
    char *big = malloc(4096);

    (void)state;
    memset(big, ' ', 4095);
    big[0] = '{';
    big[4094] = '}';
    big[4095] = '\0';
    assert_int_equal(mock_start(&p, extra), 0);
    assert_int_equal(http_do(&p, "POST", "/v1/chat/completions",
                             "sk-ai-nexus-test", big, NULL, &r),
                     0);
    assert_int_equal(r.status, 413);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r.json, "error"), "code")),
                        "request_too_large");
    http_reply_free(&r);
    /* The same server still answers normal requests. */
    assert_int_equal(
        http_do(&p, "GET", "/v1/models", "sk-ai-nexus-test", NULL, NULL, &r),
        0);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    assert_int_equal(testproc_stop(&p), 0);
    free(big);
}

static const char paced_fixture[] =
    "version: 1\n"
    "name: paced\n"
    "plans:\n"
    "  tiny: {requests_per_minute: 100, tokens_per_minute: 40}\n"
    "  slow:\n"
    "    requests_per_minute: 100\n"
    "    stream: {time_to_first_token_ms: 200, tokens_per_second: 10}\n"
    "models:\n"
    "  - id: m1\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 1, output_per_million: 2}\n"
    "keys:\n"
    "  - {key: sk-tiny, plan: tiny, balance: 1}\n"
    "  - {key: sk-slow, plan: slow, balance: 1}\n";

static void test_token_limit(void **state)
{
    char *path = temp_fixture(paced_fixture);
    const char *extra[] = {"--fixtures", path, NULL};
    const char *body = "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\","
                       "\"content\":\"Hi\"}]}";
    struct testproc p;
    struct http_reply r;
    int i, refused = 0;

    (void)state;
    assert_int_equal(mock_start(&p, extra), 0);
    for (i = 0; i < 10 && !refused; i++) {
        char *lim, *rem;

        assert_int_equal(http_do(&p, "POST", "/v1/chat/completions", "sk-tiny",
                                 body, NULL, &r),
                         0);
        lim = http_header(&r, "x-ratelimit-limit-tokens");
        rem = http_header(&r, "x-ratelimit-remaining-tokens");
        assert_string_equal(lim, "40");
        assert_non_null(rem);
        if (r.status == 429) {
            refused = 1;
            assert_string_equal(json_string_value(json_object_get(
                                    json_object_get(r.json, "error"), "type")),
                                "tokens");
        } else {
            assert_int_equal(r.status, 200);
            /* Remaining = 40 minus the total tokens used so far. */
            assert_true(strtol(rem, NULL, 10) < 40);
        }
        free(lim);
        free(rem);
        http_reply_free(&r);
    }
    assert_true(refused);
    assert_int_equal(testproc_stop(&p), 0);
    unlink(path);
    free(path);
}

static void test_pacing_and_graceful_stop(void **state)
{
    char *path = temp_fixture(paced_fixture);
    const char *extra[] = {"--fixtures", path, NULL};
    const char *body = "{\"model\":\"m1\",\"stream\":true,\"messages\":"
                       "[{\"role\":\"user\",\"content\":\"Hi\"}]}";
    struct testproc p;
    struct stream_sink t;
    CURL *c;
    CURLM *m;
    struct curl_slist *h = NULL;
    char url[sizeof(p.url) + 32];
    int running = 1, stopped = 0, status = -1;
    uint64_t begin;

    (void)state;
    assert_int_equal(mock_start(&p, extra), 0);
    memset(&t, 0, sizeof(t));
    snprintf(url, sizeof(url), "%s/v1/chat/completions", p.url);
    c = curl_easy_init();
    h = curl_slist_append(h, "Authorization: Bearer sk-slow");
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    m = curl_multi_init();
    curl_multi_add_handle(m, c);
    begin = t.start_ms = clock_real_ms();
    while (running) {
        curl_multi_perform(m, &running);
        /* Ten tokens a second: stop the server mid-stream, after the role
         * chunk and a couple of tokens. */
        if (!stopped && t.events >= 3) {
            kill(p.pid, SIGTERM);
            stopped = 1;
        }
        curl_multi_wait(m, NULL, 0, 20, NULL);
    }
    /* The first event waited for the time to first token (200 ms). */
    assert_true(t.first_event_ms >= 190);
    assert_true(stopped);
    /* The stream still ended cleanly, hurried, well within 2 s. */
    assert_string_equal(t.tail, "data: [DONE]\n\n");
    assert_true(clock_real_ms() - begin < 2500);
    status = testproc_stop(&p);
    assert_int_equal(status, 0);
    curl_multi_remove_handle(m, c);
    curl_easy_cleanup(c);
    curl_multi_cleanup(m);
    curl_slist_free_all(h);
    unlink(path);
    free(path);
}

static void test_json_log(void **state)
{
    static const char *const extra[] = {"--log-format", "json", NULL};
    char path[] = "/tmp/nexus-mock-log-XXXXXX";
    struct testproc p;
    struct http_reply r;
    char line[1024];
    json_t *req_line = NULL;
    int odd_seen = 0;
    FILE *f;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mock_start_logged(&p, extra, path), 0);
    assert_int_equal(http_do(&p, "GET", "/v1/models/kimi-k2",
                             "sk-ai-nexus-test", NULL, NULL, &r),
                     0);
    /* A path that decodes to a newline and non-UTF-8 bytes cannot forge a
     * line or break the JSON: it is logged percent-encoded. */
    {
        struct http_reply odd;

        assert_int_equal(
            http_do(&p, "GET", "/x%0Afake%FF", NULL, NULL, NULL, &odd), 0);
        http_reply_free(&odd);
    }
    assert_int_equal(testproc_stop(&p), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    /* Every line is one JSON object; one of them is the request. */
    while (fgets(line, sizeof(line), f) != NULL) {
        json_t *o = json_loads(line, 0, NULL);

        assert_non_null(o);
        assert_non_null(json_object_get(o, "time"));
        if (json_is_string(json_object_get(o, "path")) &&
            strcmp(json_string_value(json_object_get(o, "path")),
                   "/x%0Afake%FF") == 0)
            odd_seen++;
        if (json_is_string(json_object_get(o, "path")) &&
            strcmp(json_string_value(json_object_get(o, "path")),
                   "/v1/models/kimi-k2") == 0) {
            assert_null(req_line);
            req_line = json_incref(o);
        }
        json_decref(o);
    }
    fclose(f);
    assert_int_equal(odd_seen, 1);
    assert_non_null(req_line);
    assert_string_equal(json_string_value(json_object_get(req_line, "event")),
                        "request");
    assert_int_equal(json_integer_value(json_object_get(req_line, "status")),
                     200);
    {
        char *rid = http_header(&r, "x-request-id");

        /* "req_" and 32 lower-case hex digits */
        assert_non_null(rid);
        assert_int_equal(strlen(rid), 36);
        assert_int_equal(strncmp(rid, "req_", 4), 0);
        assert_int_equal(strspn(rid + 4, "0123456789abcdef"), 32);
        assert_string_equal(
            json_string_value(json_object_get(req_line, "request_id")), rid);
        free(rid);
    }
    json_decref(req_line);
    http_reply_free(&r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_default),
        cmocka_unit_test(test_check_errors_name_line_and_column),
        cmocka_unit_test(test_check_reports_shadowed_rules),
        cmocka_unit_test(test_check_reports_every_problem),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_admin_unguarded),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_several_files),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_token_limit),
        cmocka_unit_test(test_pacing_and_graceful_stop),
        cmocka_unit_test(test_json_log),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
