/* test_reload: reloading the fixtures of a running nexus-mock over
 * loopback: on SIGHUP and when a file changes (--watch) a valid file replaces
 * the rules (requests in flight finish on the old ones), an invalid one is
 * refused with the loader's file:line:column messages and the running rules
 * stay, and a file whose models, plans or keys changed is refused too (balances
 * carry over). */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

/* The part every version of the fixture shares; the rules follow. */
#define WORLD                                                                  \
    "version: 2\n"                                                             \
    "plans:\n"                                                                 \
    "  p: {requests_per_minute: 1000}\n"                                       \
    "models:\n"                                                                \
    "  - {id: m1, created: 1, price: {input_per_million: 1, "                  \
    "output_per_million: 2}}\n"                                                \
    "keys:\n"                                                                  \
    "  - {key: k1, plan: p, balance: 10}\n"

static const char fixture_a[] =
    WORLD "rules:\n"
          "  - name: which\n"
          "    match: {path: /v1/which}\n"
          "    reply: {status: 418, body: from A, content_type: text/plain}\n"
          "  - name: slow\n"
          "    match: {path: /v1/slow}\n"
          "    reply: {status: 418, body: slow A, content_type: text/plain, "
          "latency_ms: 600}\n";

static const char fixture_b[] =
    WORLD "rules:\n"
          "  - name: which\n"
          "    match: {path: /v1/which}\n"
          "    reply: {status: 418, body: from B, content_type: text/plain}\n"
          "  - name: slow\n"
          "    match: {path: /v1/slow}\n"
          "    reply: {status: 418, body: slow B, content_type: text/plain}\n";

/* Line 11, column 5: a key the rule language does not have. */
static const char fixture_bad[] = WORLD "rules:\n"
                                        "  - name: which\n"
                                        "    match: {path: /v1/which}\n"
                                        "    replyy: {status: 418, body: bad}\n"
                                        "  - name: other\n"
                                        "    match: {pathh: /x}\n"
                                        "    reply: {status: 418}\n";

/* As fixture_b with another balance for k1: not a reloadable change. */
static const char fixture_new_keys[] =
    "version: 2\n"
    "plans:\n"
    "  p: {requests_per_minute: 1000}\n"
    "models:\n"
    "  - {id: m1, created: 1, price: {input_per_million: 1, "
    "output_per_million: 2}}\n"
    "keys:\n"
    "  - {key: k1, plan: p, balance: 99}\n"
    "rules:\n"
    "  - name: which\n"
    "    match: {path: /v1/which}\n"
    "    reply: {status: 418, body: from C, content_type: text/plain}\n";

/* Replaces the file at path with text, atomically (a rename), as editors
 * and deploy tools do. */
static void rewrite(const char *path, const char *text)
{
    char tmp[512];
    FILE *f;

    assert_true(snprintf(tmp, sizeof(tmp), "%s.new", path) < (int)sizeof(tmp));
    f = fopen(tmp, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* The body GET path answers with, which must be a 418 (a rule's). */
static char *answer(const struct testproc *p, const char *path)
{
    struct http_reply r;
    char *body;

    assert_int_equal(http_do(p, "GET", path, "k1", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 418);
    body = strndup(r.body, r.body_len);
    assert_non_null(body);
    http_reply_free(&r);
    return body;
}

/* True when GET path answers body. */
static bool answers(const struct testproc *p, const char *path,
                    const char *body)
{
    char *got = answer(p, path);
    bool same = strcmp(got, body) == 0;

    free(got);
    return same;
}

/* Polls (at most 5 s) until GET path answers body. */
static bool answers_soon(const struct testproc *p, const char *path,
                         const char *body)
{
    int i;

    for (i = 0; i < 500; i++) {
        if (answers(p, path, body))
            return true;
        usleep(10 * 1000);
    }
    return false;
}

/* Polls (at most 5 s) until the log at path holds text. */
static bool log_soon(const char *path, const char *text)
{
    int i;

    for (i = 0; i < 500; i++) {
        if (file_lines_with(path, text) > 0)
            return true;
        usleep(10 * 1000);
    }
    return false;
}

/* A request made on its own thread. */
struct slow_call {
    const struct testproc *p;
    char *body; /* what it answered; free() */
};

static void *slow_thread(void *arg)
{
    struct slow_call *c = arg;
    struct http_reply r;

    if (http_do(c->p, "GET", "/v1/slow", "k1", NULL, NULL, &r) == 0) {
        c->body = strndup(r.body, r.body_len);
        http_reply_free(&r);
    }
    return NULL;
}

/* Starts a logging mock on fixture A in a new temporary file (*path,
 * free()) with the option opt ("--watch" or "--no-watch") and a 50 ms
 * --watch-delay; log_path is a mkstemps template ending in ".log". */
static void start_on_a(struct testproc *p, const char *opt, char *log_path,
                       char **path)
{
    const char *args[] = {"--fixtures", NULL, opt, "--watch-delay", "50", NULL};
    int fd = mkstemps(log_path, 4);

    *path = temp_fixture(fixture_a);
    assert_non_null(*path);
    assert_true(fd >= 0);
    close(fd);
    args[1] = *path;
    assert_int_equal(mock_start_logged(p, args, log_path), 0);
    assert_true(answers(p, "/v1/which", "from A"));
}

static void test_sighup_reloads(void **state)
{
    char log_path[] = "/tmp/nexus-reload-XXXXXX.log";
    char *path;
    struct slow_call slow;
    pthread_t th;
    struct testproc p;
    char expect[600];

    (void)state;
    start_on_a(&p, "--no-watch", log_path, &path);

    /* A slow request in flight keeps the set it started on. */
    slow.p = &p;
    slow.body = NULL;
    assert_int_equal(pthread_create(&th, NULL, slow_thread, &slow), 0);
    usleep(200 * 1000);
    rewrite(path, fixture_b);
    assert_int_equal(kill(p.pid, SIGHUP), 0);
    assert_true(answers_soon(&p, "/v1/which", "from B"));
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_non_null(slow.body);
    assert_string_equal(slow.body, "slow A");
    free(slow.body);
    assert_true(answers(&p, "/v1/slow", "slow B"));
    assert_true(log_soon(log_path, "reloaded the fixtures: 2 rules"));

    /* An invalid file: the loader's message, and B's rules stay. */
    rewrite(path, fixture_bad);
    assert_int_equal(kill(p.pid, SIGHUP), 0);
    assert_true(snprintf(expect, sizeof(expect), "%s:11:5: ", path) <
                (int)sizeof(expect));
    assert_true(log_soon(log_path, expect));
    assert_true(log_soon(log_path, "replyy"));
    /* Every problem, not only the first, as --check lists them. */
    assert_true(snprintf(expect, sizeof(expect),
                         "%s:13:13: unknown key 'pathh' in match; did you "
                         "mean 'path'?",
                         path) < (int)sizeof(expect));
    assert_true(log_soon(log_path, expect));
    assert_true(log_soon(log_path, "reload refused: the fixtures do not load"));
    assert_true(answers(&p, "/v1/which", "from B"));
    assert_true(answers(&p, "/v1/slow", "slow B"));

    /* Changed keys: refused, B's rules stay. */
    rewrite(path, fixture_new_keys);
    assert_int_equal(kill(p.pid, SIGHUP), 0);
    assert_true(
        log_soon(log_path, "reload refused: the fixtures' keys changed"));
    assert_true(answers(&p, "/v1/which", "from B"));

    /* And a valid file again is taken. */
    rewrite(path, fixture_a);
    assert_int_equal(kill(p.pid, SIGHUP), 0);
    assert_true(answers_soon(&p, "/v1/which", "from A"));
    assert_int_equal(testproc_stop(&p), 0);
    unlink(log_path);
    unlink(path);
    free(path);
}

/* Writes text over the file at path in place (truncate, write), as
 * `echo >` does. */
static void overwrite(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* With the watch (the default), a changed file reloads with no signal,
 * whether renamed over the old one or rewritten in place; a bad save is
 * refused and the rules stay. */
static void test_watch_reloads(void **state)
{
    char log_path[] = "/tmp/nexus-reload-XXXXXX.log";
    char *path;
    struct testproc p;

    (void)state;
    start_on_a(&p, "--watch", log_path, &path);
    rewrite(path, fixture_b);
    assert_true(answers_soon(&p, "/v1/which", "from B"));
    assert_true(log_soon(log_path, "a fixture file changed: reloading"));
    overwrite(path, fixture_bad);
    assert_true(log_soon(log_path, "reload refused: the fixtures do not load"));
    assert_true(answers(&p, "/v1/which", "from B"));
    overwrite(path, fixture_a);
    assert_true(answers_soon(&p, "/v1/which", "from A"));
    assert_int_equal(testproc_stop(&p), 0);
    unlink(log_path);
    unlink(path);
    free(path);
}

/* --no-watch: a changed file is not read until SIGHUP. */
static void test_no_watch(void **state)
{
    char log_path[] = "/tmp/nexus-reload-XXXXXX.log";
    char *path;
    struct testproc p;

    (void)state;
    start_on_a(&p, "--no-watch", log_path, &path);
    rewrite(path, fixture_b);
    usleep(500 * 1000); /* ten times the delay the watch would wait */
    assert_true(answers(&p, "/v1/which", "from A"));
    assert_int_equal(kill(p.pid, SIGHUP), 0);
    assert_true(answers_soon(&p, "/v1/which", "from B"));
    assert_int_equal(testproc_stop(&p), 0);
    unlink(log_path);
    unlink(path);
    free(path);
}

/* The body of an admin request, which must answer status. */
static char *admin(const struct testproc *p, const char *method,
                   const char *path, const char *body, long status)
{
    struct http_reply r;
    char *text;

    assert_int_equal(http_do(p, method, path, NULL, body, NULL, &r), 0);
    text = strndup(r.body, r.body_len);
    assert_non_null(text);
    if (r.status != status)
        fprintf(stderr, "%s %s answered %ld: %s\n", method, path, r.status,
                text);
    assert_int_equal(r.status, status);
    http_reply_free(&r);
    return text;
}

/* POST /_nexus/rules adds rules tried before the files' (validated by the
 * loader, its message in a 400), they survive a reload, and DELETE
 * removes one by id or name, or all. */
static void test_runtime_rules(void **state)
{
    char log_path[] = "/tmp/nexus-reload-XXXXXX.log";
    char *path, *body;
    struct testproc p;

    (void)state;
    start_on_a(&p, "--admin", log_path, &path);
    body = admin(&p, "POST", "/_nexus/rules",
                 "[{\"name\":\"first\",\"match\":{\"path\":\"/v1/which\"},"
                 "\"reply\":{\"status\":418,\"body\":\"runtime\","
                 "\"content_type\":\"text/plain\"}},"
                 "{\"match\":{\"path\":\"/v1/new\"},"
                 "\"reply\":{\"status\":418,\"body\":\"new\","
                 "\"content_type\":\"text/plain\"}}]",
                 200);
    assert_string_equal(body, "{\"added\":[{\"id\":1,\"name\":\"first\"},"
                              "{\"id\":2,\"name\":null}]}\n");
    free(body);
    assert_true(answers(&p, "/v1/which", "runtime"));
    assert_true(answers(&p, "/v1/new", "new"));

    /* Refused with the loader's message, pointing into the body. */
    body = admin(&p, "POST", "/_nexus/rules",
                 "{\"match\":{\"path\":\"/x\"},\"replyy\":{}}", 400);
    assert_non_null(strstr(body, "POST /_nexus/rules:1:24: unknown key "
                                 "'replyy' in rule; did you mean 'reply'?"));
    assert_non_null(strstr(body, "\"code\":\"invalid_rules\""));
    free(body);
    body =
        admin(&p, "POST", "/_nexus/rules",
              "{\"match\":{\"path\":\"/x\"},\"reply\":{\"status\":99}}", 400);
    assert_non_null(strstr(body, "POST /_nexus/rules:1:"));
    free(body);

    /* A reload keeps them, before the files' new rules. */
    rewrite(path, fixture_b);
    assert_int_equal(kill(p.pid, SIGHUP), 0);
    assert_true(answers_soon(&p, "/v1/slow", "slow B"));
    assert_true(answers(&p, "/v1/which", "runtime"));

    body = admin(&p, "DELETE", "/_nexus/rules?name=first", NULL, 200);
    assert_string_equal(body, "{\"removed\":1}\n");
    free(body);
    assert_true(answers(&p, "/v1/which", "from B"));
    assert_true(answers(&p, "/v1/new", "new"));
    body = admin(&p, "DELETE", "/_nexus/rules?id=1", NULL, 404);
    free(body);
    body = admin(&p, "DELETE", "/_nexus/rules", NULL, 200);
    assert_string_equal(body, "{\"removed\":1}\n");
    free(body);
    body = admin(&p, "GET", "/_nexus/rules", NULL, 200);
    assert_string_equal(body, "{\"data\":[]}\n");
    free(body);
    assert_int_equal(testproc_stop(&p), 0);
    unlink(log_path);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sighup_reloads),
        cmocka_unit_test(test_watch_reloads),
        cmocka_unit_test(test_no_watch),
        cmocka_unit_test(test_runtime_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
