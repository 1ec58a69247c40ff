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
#include "dbuf.h"
#include "testutil.h"

/* Every group enabled, with the keys of scripts/good.json. */
static const char *const suite_args[] = {
    "--profile",       "ai-nexus", "--empty-key", "sk-empty", "--rpm", "3",
    "--ratelimit-key", "sk-free",  "--timeout",   "2",        NULL};

/* Runs the good script with bodies cut in pieces of piece bytes and
 * asserts that every check of the catalogue passed, once. */
static void run_good(size_t piece)
{
    char path[1024], why[16384];
    const struct group_def *const *g;
    struct results r;
    size_t n, i, k;
    json_t *good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));

    assert_int_equal(tu_conform(good, suite_args, piece, &r), 0);
    g = conform_groups(&n);
    for (i = 0; i < n; i++)
        for (k = 0; k < g[i]->n_checks; k++)
            if (tu_status(&r, g[i]->checks[k].id) != CHECK_PASS)
                fail_msg("piece %zu: %s did not pass:%s", piece,
                         g[i]->checks[k].id, tu_describe(&r, why, sizeof(why)));
    for (i = 0, k = 0; i < n; i++)
        k += g[i]->n_checks;
    assert_int_equal(r.n, k);
    results_cleanup(&r);
    json_decref(good);
}

/* The good script passes, whole and cut into awkward pieces. */
static void test_good_script_passes(void **state)
{
    (void)state;
    run_good(0);
    run_good(1);
    run_good(7);
}

/* Collects the ids with status st into a sorted, comma-separated list. */
static void ids_with(const struct results *r, enum check_status st,
                     struct dbuf *out)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (r->items[i].status == st)
            dbuf_addf(out, "%s%s", out->len > 0 ? "," : "", r->items[i].id);
}

/* Runs one break case; returns 0, or 1 after printing what differed. */
static int run_case(const char *dir, const char *name, const json_t *good,
                    struct dbuf *covered)
{
    char path[2048];
    const char *args[64];
    struct results r;
    struct dbuf got_fail, got_warn, want_fail, want_warn;
    json_t *brk, *script, *v;
    size_t i, n = 0;
    int bad = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    brk = tu_load(path);
    script = tu_compose(good, brk);
    while (suite_args[n] != NULL) {
        args[n] = suite_args[n];
        n++;
    }
    json_array_foreach(json_object_get(brk, "args"), i, v) if (n < 63)
        args[n++] = json_string_value(v);
    args[n] = NULL;
    dbuf_init(&got_fail, 65536);
    dbuf_init(&got_warn, 65536);
    dbuf_init(&want_fail, 65536);
    dbuf_init(&want_warn, 65536);
    tu_conform(script, args, 0, &r);
    ids_with(&r, CHECK_FAIL, &got_fail);
    ids_with(&r, CHECK_WARN, &got_warn);
    tu_join(json_object_get(brk, "fail"), &want_fail);
    tu_join(json_object_get(brk, "warn"), &want_warn);
    if (strcmp(dbuf_str(&got_fail), dbuf_str(&want_fail)) != 0 ||
        strcmp(dbuf_str(&got_warn), dbuf_str(&want_warn)) != 0) {
        char why[16384];
        print_error("%s: want fail [%s] warn [%s], got fail [%s] warn [%s]%s\n",
                    name, dbuf_str(&want_fail), dbuf_str(&want_warn),
                    dbuf_str(&got_fail), dbuf_str(&got_warn),
                    tu_describe(&r, why, sizeof(why)));
        bad = 1;
    }
    dbuf_addf(covered, ",%s,%s,", dbuf_str(&want_fail), dbuf_str(&want_warn));
    results_cleanup(&r);
    dbuf_cleanup(&got_fail);
    dbuf_cleanup(&got_warn);
    dbuf_cleanup(&want_fail);
    dbuf_cleanup(&want_warn);
    json_decref(script);
    json_decref(brk);
    return bad;
}

/* Every break case fails exactly its checks, and together the cases break
 * every check of the catalogue at least once. */
static void test_breaks(void **state)
{
    char dir[1024], path[1024], *names[512], id[128];
    const struct group_def *const *g;
    struct dbuf covered;
    size_t n, i, k, ng;
    int bad = 0, missing = 0;
    json_t *good;

    (void)state;
    good = tu_load(tu_data("scripts/good.json", path, sizeof(path)));
    n = tu_break_cases(dir, sizeof(dir), names, 512);
    dbuf_init(&covered, 1 << 20);
    for (i = 0; i < n; i++) {
        bad += run_case(dir, names[i], good, &covered);
        free(names[i]);
    }
    g = conform_groups(&ng);
    for (i = 0; i < ng; i++) {
        for (k = 0; k < g[i]->n_checks; k++) {
            snprintf(id, sizeof(id), ",%s,", g[i]->checks[k].id);
            if (strstr(dbuf_str(&covered), id) == NULL) {
                print_error("no break case fails %s\n", g[i]->checks[k].id);
                missing++;
            }
        }
    }
    dbuf_cleanup(&covered);
    json_decref(good);
    print_message("%zu break cases\n", n);
    assert_int_equal(bad, 0);
    assert_int_equal(missing, 0);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_script_passes),
        cmocka_unit_test(test_breaks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
