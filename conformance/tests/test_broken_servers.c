/* test_broken_servers: the real nexus-conform binary against deliberately
 * broken servers over loopback: a break in every group fails exactly the
 * checks it names, and hostile servers (silent, endless, not HTTP, gone)
 * give failed checks or exit 2 in bounded time, never a hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "testutil.h"

/* Every group enabled, with the keys of scripts/good.json. */
static const char *const suite_args[] = {
    "--api-key",        TU_KEY,     "--profile", "ai-nexus",
    "--empty-key",      "sk-empty", "--rpm",     "3",
    "--ratelimit-key",  "sk-free",  "--timeout", "1",
    "--stream-timeout", "5",        NULL};

/* What one run of the binary left behind. */
struct run {
    int rc;
    double took;
    json_t *report; /* NULL when no report was written */
    char log[4096];
};

/* Serves script with nexus-fake-server and runs nexus-conform against it
 * with suite_args plus extra (NULL-terminated). */
static void run_against(const json_t *script, const char *const *extra,
                        struct run *out)
{
    char dir[64], script_path[128], json[128], log[128], base[300];
    char *fake_argv[] = {(char *)tu_env("NEXUS_FAKE_BIN"),
                         "--script",
                         script_path,
                         "--port",
                         "0",
                         NULL};
    const char *argv[64];
    FILE *f;
    struct testproc fake;
    int argc = 0, i;

    tu_tmpdir(dir, sizeof(dir));
    snprintf(script_path, sizeof(script_path), "%s/script.json", dir);
    snprintf(json, sizeof(json), "%s/report.json", dir);
    snprintf(log, sizeof(log), "%s/run.log", dir);
    assert_int_equal(json_dump_file(script, script_path, 0), 0);
    assert_int_equal(testproc_start(&fake, fake_argv, NULL), 0);
    snprintf(base, sizeof(base), "%s/v1", fake.url);
    argv[argc++] = tu_env("NEXUS_CONFORM_BIN");
    argv[argc++] = "--base-url";
    argv[argc++] = base;
    argv[argc++] = "--json";
    argv[argc++] = json;
    for (i = 0; suite_args[i] != NULL; i++)
        argv[argc++] = suite_args[i];
    while (extra != NULL && *extra != NULL && argc < 63)
        argv[argc++] = *extra++;
    argv[argc] = NULL;
    out->rc = testproc_run((char *const *)argv, log, 60, &out->took);
    assert_int_equal(testproc_stop(&fake), 0);
    out->report = json_load_file(json, 0, NULL);
    out->log[0] = '\0';
    f = fopen(log, "r");
    if (f != NULL) {
        out->log[fread(out->log, 1, sizeof(out->log) - 1, f)] = '\0';
        fclose(f);
    }
    snprintf(script_path, sizeof(script_path), "rm -rf %s", dir);
    if (system(script_path) != 0)
        print_error("could not remove %s\n", dir);
}

/* Lists the ids of the report with status st, comma-separated. */
static void ids_with(const json_t *report, const char *st, struct buf *out)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(report, "checks"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "status")), st) == 0)
            assert_int_equal(
                buf_appendf(out, "%s%s", out->len > 0 ? "," : "",
                            json_string_value(json_object_get(c, "id"))),
                0);
    }
}

/* Runs one break case over loopback; returns 0 or 1 after saying why. */
static int run_case(const char *dir, const char *name, const json_t *good,
                    unsigned *groups_seen)
{
    int ret;
    static const char *const groups[] = {"models",   "chat",    "stream",
                                         "usage",    "params",  "auth",
                                         "notfound", "billing", "ratelimit"};
    char path[2048];
    const char *extra[32];
    struct buf want_fail, want_warn, got_fail, got_warn;
    json_t *brk, *script, *v;
    struct run r;
    size_t i, n = 0, g;
    int bad = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    brk = tu_load(path);
    if (!json_is_true(json_object_get(brk, "process"))) {
        json_decref(brk);
        ret = 0;
        goto out;
    }
    json_array_foreach(json_object_get(brk, "args"), i, v) if (n < 31)
        extra[n++] = json_string_value(v);
    extra[n] = NULL;
    script = tu_compose(good, brk);
    run_against(script, extra, &r);
    buf_init(&want_fail, 65536);
    buf_init(&want_warn, 65536);
    buf_init(&got_fail, 65536);
    buf_init(&got_warn, 65536);
    tu_join(json_object_get(brk, "fail"), &want_fail);
    tu_join(json_object_get(brk, "warn"), &want_warn);
    ids_with(r.report, "fail", &got_fail);
    ids_with(r.report, "warn", &got_warn);
    if (r.report == NULL || r.rc != (want_fail.len > 0 ? 1 : 0) ||
        strcmp(buf_str(&got_fail), buf_str(&want_fail)) != 0 ||
        strcmp(buf_str(&got_warn), buf_str(&want_warn)) != 0) {
        print_error("%s: exit %d; want fail [%s] warn [%s], got fail [%s] "
                    "warn [%s]\n%s\n",
                    name, r.rc, buf_str(&want_fail), buf_str(&want_warn),
                    buf_str(&got_fail), buf_str(&got_warn), r.log);
        bad = 1;
    }
    for (g = 0; g < 9; g++)
        if (strncmp(buf_str(&want_fail), groups[g], strlen(groups[g])) == 0)
            *groups_seen |= 1U << g;
    print_message("%-32s exit %d in %.3f s\n", name, r.rc, r.took);
    buf_cleanup(&want_fail);
    buf_cleanup(&want_warn);
    buf_cleanup(&got_fail);
    buf_cleanup(&got_warn);
    json_decref(r.report);
    json_decref(script);
    json_decref(brk);
    ret = bad;
out:
    return ret;
}

/* The break cases marked "process": one per group at least, each failing
 * exactly its checks over a real socket. */
static void test_breaks_over_loopback(void **state)
{
    char dir[1024], path[1024], *names[512];
    unsigned seen = 0;
    int bad = 0;
    size_t n, i;
    json_t *good;

    (void)state;
    good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));
    n = tu_break_cases(dir, sizeof(dir), names, 512);
    for (i = 0; i < n; i++) {
        bad += run_case(dir, names[i], good, &seen);
        free(names[i]);
    }
    json_decref(good);
    assert_int_equal(bad, 0);
    assert_int_equal(seen, 0x1ff); /* all nine groups */
}

/* Returns the good script with one route put in front. New reference. */
static json_t *with_route(const char *route_json)
{
    char path[1024];
    json_t *good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));
    json_t *over =
        json_pack("{s:[o]}", "routes", json_loads(route_json, 0, NULL));
    json_t *out = tu_compose(good, over);

    json_decref(good);
    json_decref(over);
    return out;
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
    json_t *script =
        json_loads("{\"routes\":["
                   "{\"method\":\"GET\",\"path\":\"/v1/models\","
                   "\"response\":{\"stall\":true}},"
                   "{\"method\":\"GET\",\"path\":\"/v1/models/fake-model-1\","
                   "\"response\":{\"stall\":true}},"
                   "{\"method\":\"POST\",\"path\":\"/v1/chat/completions\","
                   "\"response\":{\"stall\":true}}]}",
                   0, NULL);
    struct run r;

    (void)state;
    run_against(script, extra, &r);
    print_message("silent server: exit %d in %.3f s\n", r.rc, r.took);
    assert_int_equal(r.rc, 1);
    assert_non_null(r.report);
    assert_string_equal(tu_report_status(r.report, "models.list"), "fail");
    assert_non_null(strstr(message_of(r.report, "models.list"), "timeout"));
    assert_string_equal(tu_report_status(r.report, "chat.status"), "fail");
    assert_non_null(strstr(message_of(r.report, "stream.status"), "not sent"));
    assert_true(r.took < 10);
    json_decref(r.report);
    json_decref(script);
}

/* Runs the binary against the good script whose plain streamed request
 * gets a 200 event stream with the response members rest (JSON), and
 * asserts that stream.status fails, saying why, in bounded time. The
 * caller frees r->report. */
static void run_stream(const char *what, const char *rest, const char *why,
                       struct run *r)
{
    struct buf route;
    json_t *script;

    buf_init(&route, 4096);
    assert_int_equal(
        buf_appendf(&route,
                    "{\"method\":\"POST\",\"path\":\"/v1/chat/completions\","
                    "\"body_has\":[\"\\\"stream\\\":true\",\"Say hello\"],"
                    "\"body_lacks\":[\"include_usage\"],\"response\":{"
                    "\"status\":200,\"headers\":{\"Content-Type\":"
                    "\"text/event-stream\"},%s}}",
                    rest),
        0);
    script = with_route(buf_str(&route));
    buf_cleanup(&route);
    run_against(script, NULL, r);
    json_decref(script);
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
               "\"body\":\"data: {\\\"id\\\":\\\"x\\\"}\\n\\n\","
               "\"hold_open\":true",
               "timeout", &r);
    assert_string_equal(tu_report_status(r.report, "chat.status"), "pass");
    json_decref(r.report);
}

/* Marks every event-stream response of script as held open after its
 * body; returns how many there are. */
static size_t hold_every_stream(json_t *script)
{
    json_t *route, *resp;
    const char *ct;
    size_t i, held = 0;

    json_array_foreach(json_object_get(script, "routes"), i, route)
    {
        resp = json_object_get(route, "response");
        ct = json_string_value(
            json_object_get(json_object_get(resp, "headers"), "Content-Type"));
        if (ct == NULL || strcmp(ct, "text/event-stream") != 0)
            continue;
        assert_int_equal(json_object_set_new(resp, "hold_open", json_true()),
                         0);
        held++;
    }
    return held;
}

/* A server that sends every stream whole, [DONE] included, then keeps the
 * connection open, run with --timeout 1: the held connections are judged
 * by stream.closes-after-done alone, which fails (the Node clients wait
 * until the server closes: docs/client-impact.md); stream.status and the
 * usage group's stream pass, and no check is skipped for it. */
static void test_held_after_done(void **state)
{
    char path[1024];
    json_t *script = tu_load(tu_data("scripts/good.json", path, sizeof(path)));
    json_t *c;
    const char *id, *st;
    struct run r;
    size_t i;
    int bad = 0;

    (void)state;
    assert_int_equal(hold_every_stream(script), 5);
    run_against(script, NULL, &r);
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
    json_decref(script);
}

/* --done-grace sets the grace, longer than --timeout 1 here: the runner
 * waits it out for the held plain stream, and the failure states it. */
static void test_done_grace_flag(void **state)
{
    static const char *const extra[] = {"--done-grace", "1.5", NULL};
    char path[1024];
    json_t *good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));
    json_t *brk =
        tu_load(tu_data("breaks/stream-closes.json", path, sizeof(path)));
    json_t *script = tu_compose(good, brk);
    struct run r;

    (void)state;
    run_against(script, extra, &r);
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
    json_decref(script);
    json_decref(brk);
    json_decref(good);
}

/* A stream that never ends: the size cap stops it. */
static void test_endless_stream(void **state)
{
    struct run r;

    (void)state;
    run_stream("endless stream",
               "\"body\":\"\",\"endless\":\"data: "
               "{\\\"object\\\":\\\"chat.completion.chunk\\\"}\\n\\n\"",
               "cap", &r);
    json_decref(r.report);
}

/* Bytes that are not HTTP: a failed check whose evidence shows them. */
static void test_garbage_server(void **state)
{
    json_t *script =
        json_pack("{s:s}", "raw_hex", "00ff13370a0d0a68656c6c6f20776f726c640a");
    char *text;
    struct run r;

    (void)state;
    run_against(script, NULL, &r);
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
    json_decref(script);
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
        cmocka_unit_test(test_breaks_over_loopback),
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
