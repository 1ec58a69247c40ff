/* test_broken_servers: the real nexus-conform binary against hostile
 * servers, each a real nexus-mock over loopback playing a fixture
 * (silent, a stalled, held or endless stream, not HTTP) or no server at
 * all: failed checks or exit 2 in bounded time, never a hang. (Every break
 * case runs over loopback in test_checks.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "testutil.h"

/* Every group enabled, with the keys of the good server
 * (fixtures/faults/servers/good.yaml). */
static const char *const suite_args[] = {
    "--profile", "ai-nexus", "--empty-key",      "sk-empty",
    "--rpm",     "3",        "--ratelimit-key",  "sk-free",
    "--timeout", "1",        "--stream-timeout", "5",
    NULL};

/* What one run of the binary left behind. */
struct run {
    int rc;
    double took;
    json_t *report; /* NULL when no report was written */
    char log[4096];
};

/* Runs nexus-conform with suite_args plus extra (NULL-terminated) against
 * a nexus-mock serving, in this order: the YAML text yaml (NULL: none)
 * written to a file, then fixtures/faults/servers/rel (NULL: none), then
 * rel2 under the source directory (NULL: none). The mock must stop
 * cleanly. */
static void run_against(const char *yaml, const char *rel, const char *rel2,
                        const char *const *extra, struct run *out)
{
    char dir[64], cmd[128];
    const char *src = tu_env("NEXUS_SOURCE_DIR");
    struct tu_job job;
    size_t n = 0, i;
    FILE *f;

    memset(&job, 0, sizeof(job));
    tu_tmpdir(dir, sizeof(dir));
    if (yaml != NULL) {
        snprintf(job.fixtures[n], sizeof(job.fixtures[n]), "%s/front.yaml",
                 dir);
        f = fopen(job.fixtures[n++], "w");
        assert_non_null(f);
        assert_int_equal(fputs(yaml, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
    }
    if (rel != NULL)
        snprintf(job.fixtures[n++], sizeof(job.fixtures[0]),
                 "%s/fixtures/faults/servers/%s", src, rel);
    if (rel2 != NULL)
        snprintf(job.fixtures[n++], sizeof(job.fixtures[0]), "%s/%s", src,
                 rel2);
    assert_true(n >= 1 && n <= 2);
    for (i = 0; suite_args[i] != NULL; i++)
        job.args[i] = suite_args[i];
    while (extra != NULL && *extra != NULL && i < 63)
        job.args[i++] = *extra++;
    job.args[i] = NULL;
    tu_jobs_run(&job, 1, dir);
    assert_int_equal(job.mock_rc, 0);
    out->rc = job.rc;
    out->took = job.took;
    out->report = json_load_file(job.report, 0, NULL);
    out->log[0] = '\0';
    f = fopen(job.log, "r");
    if (f != NULL) {
        out->log[fread(out->log, 1, sizeof(out->log) - 1, f)] = '\0';
        fclose(f);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", dir);
}

/* The message of check id in a report, or "". */
static const char *message_of(const json_t *report, const char *id)
{
    const char *msg = json_string_value(
        json_object_get(tu_report_check(report, id), "message"));

    return msg != NULL ? msg : "";
}

/* A server that accepts and never answers: the checks fail on timeouts,
 * later requests are not even sent, and the run ends in a few seconds. */
static void test_silent_server(void **state)
{
    static const char *const extra[] = {"--model", "fake-model-1", NULL};
    static const char yaml[] =
        "version: 2\n"
        "models:\n"
        "  - {id: fake-model-1, created: 1718000000,\n"
        "     price: {input_per_million: 1, output_per_million: 1}}\n"
        "rules:\n"
        "  - {early: true, match: {method: GET, path: /v1/models},\n"
        "     reply: {status: 200, body: '', fault: {hang: true}}}\n"
        "  - {early: true, match: {method: GET, path: "
        "/v1/models/fake-model-1},\n"
        "     reply: {status: 200, body: '', fault: {hang: true}}}\n"
        "  - {early: true, match: {method: POST, path: "
        "/v1/chat/completions},\n"
        "     reply: {status: 200, body: '', fault: {hang: true}}}\n";
    struct run r;

    (void)state;
    run_against(yaml, NULL, NULL, extra, &r);
    print_message("silent server: exit %d in %.3f s\n", r.rc, r.took);
    assert_int_equal(r.rc, 1);
    assert_non_null(r.report);
    assert_string_equal(tu_report_status(r.report, "models.list"), "fail");
    assert_non_null(strstr(message_of(r.report, "models.list"), "timeout"));
    assert_string_equal(tu_report_status(r.report, "chat.status"), "fail");
    assert_non_null(strstr(message_of(r.report, "stream.status"), "not sent"));
    assert_true(r.took < 10);
    json_decref(r.report);
}

/* Runs the binary against the good server whose plain streamed request
 * gets a 200 event stream with the reply members rest (YAML flow), and
 * asserts that stream.status fails, saying why, in bounded time. The
 * caller frees r->report. */
static void run_stream(const char *what, const char *rest, const char *why,
                       struct run *r)
{
    struct buf yaml;

    buf_init(&yaml, 4096);
    assert_int_equal(buf_appendf(&yaml,
                                 "version: 2\n"
                                 "rules:\n"
                                 "  - name: broken stream\n"
                                 "    early: true\n"
                                 "    match:\n"
                                 "      method: POST\n"
                                 "      path: /v1/chat/completions\n"
                                 "      body: [{contains: '\"stream\":true'},\n"
                                 "             {contains: Say hello},\n"
                                 "             {lacks: include_usage}]\n"
                                 "    reply: {status: 200, content_type: "
                                 "text/event-stream, %s}\n",
                                 rest),
                     0);
    run_against(buf_str(&yaml), "good.yaml", NULL, NULL, r);
    buf_cleanup(&yaml);
    print_message("%s: exit %d in %.3f s\n", what, r->rc, r->took);
    assert_int_equal(r->rc, 1);
    assert_string_equal(tu_report_status(r->report, "stream.status"), "fail");
    assert_non_null(strstr(message_of(r->report, "stream.status"), why));
    assert_true(r->took < 10);
}

/* A stream that starts, then goes quiet without [DONE]: the silence
 * timeout ends it and only stream.status fails. */
static void test_stalled_stream(void **state)
{
    struct run r;

    (void)state;
    run_stream("stalled stream",
               "body: \"data: {\\\"id\\\":\\\"x\\\"}\\n\\n\", "
               "fault: {hold_after_done: true}",
               "timeout", &r);
    assert_string_equal(tu_report_status(r.report, "chat.status"), "pass");
    json_decref(r.report);
}

/* A server that sends every stream whole, [DONE] included, then keeps the
 * connection open, run with --timeout 1: the held connections are judged
 * by stream.closes-after-done alone, which fails (the Node clients wait
 * until the server closes: docs/client-impact.md); stream.status and the
 * usage group's stream pass, and no check is skipped for it. */
static void test_held_after_done(void **state)
{
    json_t *c;
    const char *id, *st;
    struct run r;
    size_t i;
    int bad = 0;

    (void)state;
    run_against(NULL, "good.yaml",
                "conformance/tests/fixtures/held-after-done.yaml", NULL, &r);
    print_message("held after [DONE]: exit %d in %.3f s\n", r.rc, r.took);
    assert_non_null(r.report);
    json_array_foreach(json_object_get(r.report, "checks"), i, c)
    {
        id = json_string_value(json_object_get(c, "id"));
        st = json_string_value(json_object_get(c, "status"));
        if (strcmp(st, strcmp(id, "stream.closes-after-done") == 0
                           ? "fail"
                           : "pass") != 0) {
            print_error("%s: %s: %s\n", id, st,
                        json_string_value(json_object_get(c, "message")));
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    assert_string_equal(tu_report_status(r.report, "stream.status"), "pass");
    assert_string_equal(tu_report_status(r.report, "stream.closes-after-done"),
                        "fail");
    assert_string_equal(message_of(r.report, "stream.closes-after-done"),
                        "plain stream: the stream stayed open more than 1 s "
                        "after [DONE] (--done-grace); the runner then closed "
                        "it");
    assert_non_null(strstr(
        json_string_value(json_object_get(
            tu_report_check(r.report, "stream.closes-after-done"), "impact")),
        "openai-node waits until the server closes the connection "
        "(measured)"));
    assert_int_equal(r.rc, 1);
    assert_true(r.took < 30);
    json_decref(r.report);
}

/* --done-grace sets the grace, longer than --timeout 1 here: the runner
 * waits it out for the held plain stream, and the failure states it. */
static void test_done_grace_flag(void **state)
{
    static const char *const extra[] = {"--done-grace", "1.5", NULL};
    char path[1024];
    json_t *brk =
        tu_load(tu_data("breaks/stream-closes.json", path, sizeof(path)));
    const char *fixture = json_string_value(json_object_get(brk, "fixture"));
    struct run r;

    (void)state;
    assert_non_null(fixture);
    run_against(NULL, fixture, "fixtures/faults/servers/good.yaml", extra, &r);
    print_message("--done-grace 1.5: exit %d in %.3f s\n", r.rc, r.took);
    assert_non_null(r.report);
    assert_int_equal(r.rc, 1);
    assert_string_equal(tu_report_status(r.report, "stream.status"), "pass");
    assert_string_equal(tu_report_status(r.report, "stream.closes-after-done"),
                        "fail");
    assert_non_null(strstr(message_of(r.report, "stream.closes-after-done"),
                           "plain stream: the stream stayed open more than "
                           "1.5 s after [DONE] (--done-grace)"));
    assert_true(r.took > 1.5 && r.took < 30);
    json_decref(r.report);
    json_decref(brk);
}

/* A stream that never ends: the size cap stops it. */
static void test_endless_stream(void **state)
{
    struct run r;

    (void)state;
    run_stream("endless stream",
               "body: '', fault: {endless: \"data: "
               "{\\\"object\\\":\\\"chat.completion.chunk\\\"}\\n\\n\"}",
               "cap", &r);
    json_decref(r.report);
}

/* Bytes that are not HTTP: a failed check whose evidence shows them. */
static void test_garbage_server(void **state)
{
    char *text;
    struct run r;

    (void)state;
    run_against(NULL, "breaks/hostile-garbage.yaml",
                "fixtures/faults/servers/good.yaml", NULL, &r);
    print_message("garbage server: exit %d in %.3f s\n", r.rc, r.took);
    assert_int_equal(r.rc, 1);
    assert_string_equal(tu_report_status(r.report, "models.list"), "fail");
    text = json_dumps(
        json_object_get(tu_report_check(r.report, "models.list"), "evidence"),
        0);
    assert_non_null(text);
    assert_non_null(strstr(text, "\\\\x00\\\\xff\\\\x137\\n\\r\\nhello world"));
    free(text);
    assert_true(r.took < 10);
    json_decref(r.report);
}

/* No server at all: exit 2 and no report. */
static void test_unreachable(void **state)
{
    char log[128], dir[64];
    char *argv[] = {(char *)tu_env("NEXUS_CONFORM_BIN"),
                    "--base-url",
                    "http://127.0.0.1:1/v1",
                    "--api-key",
                    "k",
                    NULL};
    char *bad[] = {(char *)tu_env("NEXUS_CONFORM_BIN"),
                   "--base-url",
                   "http://127.0.0.1:1/v1",
                   "--api-key",
                   "k",
                   "--only",
                   "nothing",
                   NULL};
    char url[1200], said[4096];
    char *long_url[] = {(char *)tu_env("NEXUS_CONFORM_BIN"),
                        "--base-url",
                        url,
                        "--api-key",
                        "k",
                        NULL};
    double took;
    size_t n;
    FILE *f;

    (void)state;
    tu_tmpdir(dir, sizeof(dir));
    snprintf(log, sizeof(log), "%s/log", dir);
    assert_int_equal(testproc_run(argv, log, 30, &took), 2);
    assert_int_equal(testproc_run(bad, log, 30, &took), 2);
    /* A long URL is quoted (cut), not the reason lost. */
    memset(url, 'a', sizeof(url) - 1);
    memcpy(url, "http://127.0.0.1:1/", 19);
    url[sizeof(url) - 1] = '\0';
    assert_int_equal(testproc_run(long_url, log, 30, &took), 2);
    f = fopen(log, "r");
    assert_non_null(f);
    n = fread(said, 1, sizeof(said) - 1, f);
    fclose(f);
    said[n] = '\0';
    if (strstr(said, "nexus-conform: cannot reach http://127.0.0.1:1/aaa") ==
        NULL)
        fail_msg("it said: %s", said);
    remove(log);
    remove(dir);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_server),
        cmocka_unit_test(test_stalled_stream),
        cmocka_unit_test(test_held_after_done),
        cmocka_unit_test(test_done_grace_flag),
        cmocka_unit_test(test_endless_stream),
        cmocka_unit_test(test_garbage_server),
        cmocka_unit_test(test_unreachable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
