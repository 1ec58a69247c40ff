/* test_checks: every check's logic: the good script passes everything on
 * recorded bytes cut in awkward pieces (the fake transport, no socket),
 * and each case in breaks/ and dialects/, served by a real nexus-mock from
 * its fixture (fixtures/faults/servers/), gets exactly the verdicts it
 * names from the real nexus-conform over loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform.h"
#include "buf.h"
#include "testutil.h"

/* Runs script with args, bodies cut in pieces of piece bytes, and asserts
 * that every check of the catalogue has a verdict, once, and passed;
 * except warned (NULL: none), which must have warned. */
static void run_script_with(const json_t *script, const char *const *args,
                            size_t piece, const char *warned)
{
    char why[16384];
    const struct group_def *const *g;
    struct results r;
    size_t n, i, k;
    const char *id;

    assert_int_equal(tu_conform(script, args, piece, &r), 0);
    g = conform_groups(&n);
    for (i = 0; i < n; i++) {
        for (k = 0; k < g[i]->n_checks; k++) {
            id = g[i]->checks[k].id;
            if (tu_status(&r, id) != (warned != NULL && strcmp(id, warned) == 0
                                          ? CHECK_WARN
                                          : CHECK_PASS))
                fail_msg("piece %zu: %s did not %s:%s", piece, id,
                         warned != NULL && strcmp(id, warned) == 0 ? "warn"
                                                                   : "pass",
                         tu_describe(&r, why, sizeof(why)));
        }
    }
    for (i = 0, k = 0; i < n; i++)
        k += g[i]->n_checks;
    assert_int_equal(r.n, k);
    results_cleanup(&r);
}

/* run_script_with the suite's arguments. */
static void run_script(const json_t *script, size_t piece, const char *warned)
{
    run_script_with(script, tu_suite_args, piece, warned);
}

/* Runs the good script and asserts that every check passed, once. */
static void run_good(size_t piece)
{
    char path[1024];
    json_t *good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));

    run_script(good, piece, NULL);
    json_decref(good);
}

/* The good script passes, whole and cut into awkward pieces, and with
 * --strict: it keeps to the spec's text everywhere. */
static void test_good_script_passes(void **state)
{
    char path[1024];
    const char *args[64];
    json_t *good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));

    (void)state;
    run_good(0);
    run_good(1);
    run_good(7);
    run_script_with(good, tu_case_args(NULL, "--strict", args, 64), 0, NULL);
    json_decref(good);
}

/* Turns the LF line ends of one response's event-stream body into eol.
 * Returns 1 when resp has such a body, else 0. */
static size_t stream_body_eol(json_t *resp, const char *eol)
{
    json_t *headers = json_object_get(resp, "headers");
    const char *ct =
        json_string_value(json_object_get(headers, "Content-Type"));
    const char *body = json_string_value(json_object_get(resp, "body"));
    struct buf b;

    if (ct == NULL || strcmp(ct, "text/event-stream") != 0 || body == NULL)
        return 0;
    buf_init(&b, 1 << 20);
    for (; *body != '\0'; body++)
        assert_int_equal(
            *body == '\n' ? buf_appends(&b, eol) : buf_append(&b, body, 1), 0);
    assert_int_equal(
        json_object_set_new(resp, "body", json_string(buf_str(&b))), 0);
    buf_cleanup(&b);
    return 1;
}

/* Returns the good script with every event-stream body's LF line ends
 * turned into eol. New reference. */
static json_t *good_with_eol(const char *eol)
{
    char path[1024];
    json_t *good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));
    json_t *routes = json_object_get(good, "routes"), *route, *resp;
    size_t i, k, changed = 0;

    json_array_foreach(routes, i, route)
    {
        resp = json_object_get(route, "response");
        if (resp != NULL)
            changed += stream_body_eol(resp, eol);
        json_array_foreach(json_object_get(route, "responses"), k, resp)
            changed += stream_body_eol(resp, eol);
    }
    /* plain, include_usage, n=2, usage, tools */
    assert_int_equal(changed, 5);
    return good;
}

/* A server that ends every line in CRLF is as good as one that uses LF:
 * every check passes, the [DONE] event's CRLF blank line included, whole
 * and with the CR and LF in separate pieces. */
static void test_good_script_crlf(void **state)
{
    json_t *good = good_with_eol("\r\n");

    (void)state;
    run_script(good, 0, NULL);
    run_script(good, 1, NULL);
    run_script(good, 7, NULL);
    json_decref(good);
}

/* Bare CR line ends are legal too: everything passes but the line-endings
 * SHOULD, which warns because Go reads nothing from such a stream. */
static void test_good_script_cr(void **state)
{
    json_t *good = good_with_eol("\r");

    (void)state;
    run_script(good, 0, "stream.line-endings");
    run_script(good, 1, "stream.line-endings");
    run_script(good, 7, "stream.line-endings");
    json_decref(good);
}

/* Collects the ids of the report with status st, comma-separated, in the
 * report's order (the catalogue's). */
static void ids_with(const json_t *report, const char *st, struct buf *out)
{
    const json_t *c;
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

/* What check id says in the report, into out: its message, then
 * ". Impact: " and what it names, when it names something. Returns out's
 * text. */
static const char *said_by(const json_t *report, const char *id,
                           struct buf *out)
{
    const json_t *c = tu_report_check(report, id);
    const char *msg = json_string_value(json_object_get(c, "message"));
    const char *impact = json_string_value(json_object_get(c, "impact"));

    buf_reset(out);
    assert_int_equal(buf_appends(out, msg != NULL ? msg : ""), 0);
    if (impact != NULL)
        assert_int_equal(buf_appendf(out, ". Impact: %s", impact), 0);
    return buf_str(out);
}

/* Checks the case's "says" and "says_not": each listed check's message
 * must contain each string of the first, and none of the second. Returns
 * how many do not. */
static int says_ok(const char *name, const json_t *says, const json_t *says_not,
                   const json_t *report)
{
    const char *id;
    json_t *want, *v;
    size_t i;
    struct buf text;
    int bad = 0;

    buf_init(&text, 1 << 16);
    json_object_foreach((json_t *)says, id, want)
    {
        json_array_foreach(want, i, v)
        {
            if (strstr(said_by(report, id, &text), json_string_value(v)) !=
                NULL)
                continue;
            print_error("%s: the message of %s lacks \"%s\": %s\n", name, id,
                        json_string_value(v), buf_str(&text));
            bad++;
        }
    }
    json_object_foreach((json_t *)says_not, id, want)
    {
        json_array_foreach(want, i, v)
        {
            if (strstr(said_by(report, id, &text), json_string_value(v)) ==
                NULL)
                continue;
            print_error("%s: the message of %s has \"%s\": %s\n", name, id,
                        json_string_value(v), buf_str(&text));
            bad++;
        }
    }
    buf_cleanup(&text);
    return bad;
}

/* True when the JSON list holds the string s. */
static bool listed(const json_t *list, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(list, i,
                       v) if (strcmp(json_string_value(v), s) == 0) return true;
    return false;
}

/* The verdicts a case expects with --strict, in the catalogue's order:
 * what it fails, and what it names in strict_fail, fail; what else it
 * warns still warns. */
static void strict_expectation(const json_t *brk, struct buf *fail,
                               struct buf *warn)
{
    const struct group_def *const *g;
    const json_t *sf = json_object_get(brk, "strict_fail");
    const char *id;
    size_t n, i, k;

    g = conform_groups(&n);
    for (i = 0; i < n; i++) {
        for (k = 0; k < g[i]->n_checks; k++) {
            id = g[i]->checks[k].id;
            if (listed(json_object_get(brk, "fail"), id) || listed(sf, id))
                assert_int_equal(
                    buf_appendf(fail, "%s%s", fail->len > 0 ? "," : "", id), 0);
            else if (listed(json_object_get(brk, "warn"), id))
                assert_int_equal(
                    buf_appendf(warn, "%s%s", warn->len > 0 ? "," : "", id), 0);
        }
    }
}

/* The cases of one kind (tests/breaks or tests/dialects) and their runs
 * against nexus-mock serving their fixtures: jobs[2i] in the default
 * mode, jobs[2i + 1] with --strict. */
struct batch {
    char dir[1024];
    char tmp[64];
    char *names[512];
    json_t *cases[512];
    size_t n;
    struct tu_job *jobs;
};

/* Runs every case of kind in both modes, its fixture in front of the good
 * server's. */
static void batch_run(struct batch *b, const char *kind)
{
    const char *fixture;
    size_t i, m;

    memset(b, 0, sizeof(*b));
    b->n = tu_cases(kind, b->dir, sizeof(b->dir), b->names, 512);
    b->jobs = calloc(2 * b->n + 1, sizeof(*b->jobs));
    assert_non_null(b->jobs);
    for (i = 0; i < b->n; i++) {
        char path[2048];

        snprintf(path, sizeof(path), "%s/%s", b->dir, b->names[i]);
        b->cases[i] = tu_load(path);
        fixture = json_string_value(json_object_get(b->cases[i], "fixture"));
        if (fixture == NULL)
            fail_msg("%s names no fixture", b->names[i]);
        for (m = 0; m < 2; m++) {
            struct tu_job *job = &b->jobs[2 * i + m];
            tu_job_fixtures(job, fixture, "good.yaml");
            tu_case_args(b->cases[i], m == 1 ? "--strict" : NULL, job->args,
                         64);
        }
    }
    tu_tmpdir(b->tmp, sizeof(b->tmp));
    tu_jobs_run(b->jobs, 2 * b->n, b->tmp);
}

/* Frees what batch_run made and removes its reports. */
static void batch_free(struct batch *b)
{
    char cmd[128];
    size_t i;

    for (i = 0; i < b->n; i++) {
        free(b->names[i]);
        json_decref(b->cases[i]);
    }
    free(b->jobs);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", b->tmp);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", b->tmp);
}

/* Prints what every check that failed or warned in the report said. */
static void print_failed(const json_t *report)
{
    const json_t *c;
    const char *st;
    size_t i;

    json_array_foreach(json_object_get(report, "checks"), i, c)
    {
        st = json_string_value(json_object_get(c, "status"));
        if (strcmp(st, "fail") == 0 || strcmp(st, "warn") == 0)
            print_error("  %s %s: %s\n",
                        json_string_value(json_object_get(c, "id")), st,
                        json_string_value(json_object_get(c, "message")));
    }
}

/* Judges one run of case i of b (strict: the --strict run); returns 0, or
 * 1 after printing what differed. */
static int judge_mode(const struct batch *b, size_t i, struct buf *covered,
                      bool strict)
{
    const struct tu_job *job = &b->jobs[2 * i + (strict ? 1 : 0)];
    const json_t *brk = b->cases[i];
    const char *name = b->names[i];
    struct buf got_fail, got_warn, want_fail, want_warn;
    json_t *report = tu_job_report(job);
    int bad = 0;

    if (report == NULL)
        return 1;
    buf_init(&got_fail, 65536);
    buf_init(&got_warn, 65536);
    buf_init(&want_fail, 65536);
    buf_init(&want_warn, 65536);
    ids_with(report, "fail", &got_fail);
    ids_with(report, "warn", &got_warn);
    if (strict) {
        strict_expectation(brk, &want_fail, &want_warn);
    } else {
        tu_join(json_object_get(brk, "fail"), &want_fail);
        tu_join(json_object_get(brk, "warn"), &want_warn);
    }
    if (strcmp(buf_str(&got_fail), buf_str(&want_fail)) != 0 ||
        strcmp(buf_str(&got_warn), buf_str(&want_warn)) != 0 ||
        job->rc != (want_fail.len > 0 ? 1 : 0) || job->mock_rc != 0) {
        print_error("%s%s: want fail [%s] warn [%s], got fail [%s] warn "
                    "[%s] (exit %d, the mock's %d)\n",
                    name, strict ? " --strict" : "", buf_str(&want_fail),
                    buf_str(&want_warn), buf_str(&got_fail), buf_str(&got_warn),
                    job->rc, job->mock_rc);
        print_failed(report);
        bad = 1;
    }
    if (!strict && says_ok(name, json_object_get(brk, "says"),
                           json_object_get(brk, "says_not"), report) != 0)
        bad = 1;
    assert_int_equal(buf_appendf(covered, ",%s,%s,", buf_str(&want_fail),
                                 buf_str(&want_warn)),
                     0);
    buf_cleanup(&got_fail);
    buf_cleanup(&got_warn);
    buf_cleanup(&want_fail);
    buf_cleanup(&want_warn);
    json_decref(report);
    return bad;
}

/* Every break case, served by nexus-mock from its fixture in front of the
 * good server's, fails exactly its checks (over a real socket, in the
 * default mode and with --strict), and together the cases break every
 * check of the catalogue at least once. */
static void test_breaks(void **state)
{
    static struct batch b;
    char id[128];
    const struct group_def *const *g;
    struct buf covered;
    size_t i, k, ng;
    double slowest = 0;
    int bad = 0, missing = 0;

    (void)state;
    batch_run(&b, "breaks");
    buf_init(&covered, 1 << 20);
    for (i = 0; i < b.n; i++) {
        bad += judge_mode(&b, i, &covered, false);
        bad += judge_mode(&b, i, &covered, true);
        if (b.jobs[2 * i].took > slowest)
            slowest = b.jobs[2 * i].took;
    }
    g = conform_groups(&ng);
    for (i = 0; i < ng; i++) {
        for (k = 0; k < g[i]->n_checks; k++) {
            snprintf(id, sizeof(id), ",%s,", g[i]->checks[k].id);
            if (strstr(buf_str(&covered), id) == NULL) {
                print_error("no break case fails %s\n", g[i]->checks[k].id);
                missing++;
            }
        }
    }
    buf_cleanup(&covered);
    print_message("%zu break cases, twice each; the slowest run %.3f s\n", b.n,
                  slowest);
    batch_free(&b);
    assert_int_equal(bad, 0);
    assert_int_equal(missing, 0);
}

/* Every legal dialect of a real server (tests/dialects/), served by
 * nexus-mock from its fixture in front of the good server's, passes with no
 * failure: at most the warnings it names, each for a deviation from the spec's
 * text that the clients measured cope with. */
static void test_dialects(void **state)
{
    static struct batch b;
    struct buf covered;
    size_t i;
    int bad = 0;

    (void)state;
    batch_run(&b, "dialects");
    buf_init(&covered, 1 << 20);
    for (i = 0; i < b.n; i++) {
        if (json_array_size(json_object_get(b.cases[i], "fail")) != 0) {
            print_error("%s: a legal dialect may not expect a failure\n",
                        b.names[i]);
            bad++;
        }
        bad += judge_mode(&b, i, &covered, false);
        bad += judge_mode(&b, i, &covered, true);
    }
    buf_cleanup(&covered);
    print_message("%zu dialects\n", b.n);
    assert_true(b.n >= 7);
    batch_free(&b);
    assert_int_equal(bad, 0);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_script_passes),
        cmocka_unit_test(test_good_script_crlf),
        cmocka_unit_test(test_good_script_cr),
        cmocka_unit_test(test_breaks),
        cmocka_unit_test(test_dialects),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
