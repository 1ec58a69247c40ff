/* test_checks: every check's logic on recorded bytes, through the fake
 * transport (no socket): the good script passes everything, and each case
 * in breaks/ fails exactly the checks it names. */
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

/* Collects the ids with status st into a sorted, comma-separated list. */
static void ids_with(const struct results *r, enum check_status st,
                     struct buf *out)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (r->items[i].status == st)
            assert_int_equal(buf_appendf(out, "%s%s", out->len > 0 ? "," : "",
                                         r->items[i].id),
                             0);
}

/* The message of check id in r, or "" when it has none. */
static const char *message_of(const struct results *r, const char *id)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (strcmp(r->items[i].id, id) == 0)
            return r->items[i].message != NULL ? r->items[i].message : "";
    return "";
}

/* What check id says in r, into out: its message, then ". Impact: " and
 * what it names, when it names something. Returns out's text. */
static const char *said_by(const struct results *r, const char *id,
                           struct buf *out)
{
    size_t i;

    buf_reset(out);
    assert_int_equal(buf_appends(out, message_of(r, id)), 0);
    for (i = 0; i < r->n; i++)
        if (strcmp(r->items[i].id, id) == 0 && r->items[i].impact != NULL)
            assert_int_equal(
                buf_appendf(out, ". Impact: %s", r->items[i].impact), 0);
    return buf_str(out);
}

/* Checks the case's "says" and "says_not": each listed check's message
 * must contain each string of the first, and none of the second. Returns
 * how many do not. */
static int says_ok(const char *name, const json_t *says, const json_t *says_not,
                   const struct results *r)
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
            if (strstr(said_by(r, id, &text), json_string_value(v)) != NULL)
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
            if (strstr(said_by(r, id, &text), json_string_value(v)) == NULL)
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

/* Runs one break case, with --strict when strict; returns 0, or 1 after
 * printing what differed. */
static int run_case_mode(const char *dir, const char *name, const json_t *good,
                         struct buf *covered, bool strict)
{
    char path[2048];
    const char *args[64];
    struct results r;
    struct buf got_fail, got_warn, want_fail, want_warn;
    json_t *brk, *script;
    int bad = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    brk = tu_load(path);
    script = tu_compose(good, brk);
    tu_case_args(brk, strict ? "--strict" : NULL, args, 64);
    buf_init(&got_fail, 65536);
    buf_init(&got_warn, 65536);
    buf_init(&want_fail, 65536);
    buf_init(&want_warn, 65536);
    tu_conform(script, args, 0, &r);
    ids_with(&r, CHECK_FAIL, &got_fail);
    ids_with(&r, CHECK_WARN, &got_warn);
    if (strict) {
        strict_expectation(brk, &want_fail, &want_warn);
    } else {
        tu_join(json_object_get(brk, "fail"), &want_fail);
        tu_join(json_object_get(brk, "warn"), &want_warn);
    }
    if (strcmp(buf_str(&got_fail), buf_str(&want_fail)) != 0 ||
        strcmp(buf_str(&got_warn), buf_str(&want_warn)) != 0) {
        char why[16384];
        print_error("%s%s: want fail [%s] warn [%s], got fail [%s] warn "
                    "[%s]%s\n",
                    name, strict ? " --strict" : "", buf_str(&want_fail),
                    buf_str(&want_warn), buf_str(&got_fail), buf_str(&got_warn),
                    tu_describe(&r, why, sizeof(why)));
        bad = 1;
    }
    if (!strict && says_ok(name, json_object_get(brk, "says"),
                           json_object_get(brk, "says_not"), &r) != 0)
        bad = 1;
    assert_int_equal(buf_appendf(covered, ",%s,%s,", buf_str(&want_fail),
                                 buf_str(&want_warn)),
                     0);
    results_cleanup(&r);
    buf_cleanup(&got_fail);
    buf_cleanup(&got_warn);
    buf_cleanup(&want_fail);
    buf_cleanup(&want_warn);
    json_decref(script);
    json_decref(brk);
    return bad;
}

/* Runs one case in the default mode, then with --strict. */
static int run_case(const char *dir, const char *name, const json_t *good,
                    struct buf *covered)
{
    return run_case_mode(dir, name, good, covered, false) +
           run_case_mode(dir, name, good, covered, true);
}

/* Every break case fails exactly its checks, and together the cases break
 * every check of the catalogue at least once. */
static void test_breaks(void **state)
{
    char dir[1024], path[1024], *names[512], id[128];
    const struct group_def *const *g;
    struct buf covered;
    size_t n, i, k, ng;
    int bad = 0, missing = 0;
    json_t *good;

    (void)state;
    good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));
    n = tu_break_cases(dir, sizeof(dir), names, 512);
    buf_init(&covered, 1 << 20);
    for (i = 0; i < n; i++) {
        bad += run_case(dir, names[i], good, &covered);
        free(names[i]);
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
    json_decref(good);
    print_message("%zu break cases\n", n);
    assert_int_equal(bad, 0);
    assert_int_equal(missing, 0);
}

/* Every legal dialect of a real server (tests/dialects/) passes with no
 * failure: at most the warnings it names, each for a deviation from the
 * spec's text that the clients measured cope with. */
static void test_dialects(void **state)
{
    char dir[1024], path[2048], *names[128];
    struct buf covered;
    size_t n, i;
    int bad = 0;
    json_t *good, *brk;

    (void)state;
    good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));
    n = tu_cases("dialects", dir, sizeof(dir), names, 128);
    buf_init(&covered, 1 << 20);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        brk = tu_load(path);
        if (json_array_size(json_object_get(brk, "fail")) != 0) {
            print_error("%s: a legal dialect may not expect a failure\n",
                        names[i]);
            bad++;
        }
        json_decref(brk);
        bad += run_case(dir, names[i], good, &covered);
        free(names[i]);
    }
    buf_cleanup(&covered);
    json_decref(good);
    print_message("%zu dialects\n", n);
    assert_true(n >= 7);
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
