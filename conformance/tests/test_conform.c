/* test_conform: the engine's plan: which groups run, which are skipped and
 * why, how a dead or missing server is handled, and what it shows as it
 * goes. All through the fake transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform.h"
#include "fake_transport.h"
#include "fixes.h"
#include "options.h"
#include "testutil.h"

/* The good script (new reference). */
static json_t *good(void)
{
    char path[1024];

    return tu_load(tu_data("scripts/good.json", path, sizeof(path)));
}

/* The message of check id, or "". */
static const char *message(const struct results *r, const char *id)
{
    const char *ret;
    size_t i;

    for (i = 0; i < r->n; i++)
        if (strcmp(r->items[i].id, id) == 0) {
            ret = r->items[i].message;
            goto out;
        }
    ret = "";
out:
    return ret;
}

/* Asserts that every check of group has status st and a message that
 * contains says. */
static void group_is(const struct results *r, const char *group, int st,
                     const char *says)
{
    size_t i, n = 0;

    for (i = 0; i < r->n; i++) {
        if (strcmp(r->items[i].group, group) != 0)
            continue;
        n++;
        if ((int)r->items[i].status != st ||
            strstr(r->items[i].message, says) == NULL)
            fail_msg("%s is %s: %s (want %s, '%s')", r->items[i].id,
                     check_status_name(r->items[i].status), r->items[i].message,
                     check_status_name(st), says);
    }
    assert_true(n > 0);
}

/* With only the key, the openai profile skips billing and rate limits and
 * says what each needs. */
static void test_defaults_skip_with_reasons(void **state)
{
    json_t *s = good();
    struct results r;
    struct results_summary sum;

    (void)state;
    assert_int_equal(tu_conform(s, NULL, 0, &r), 0);
    group_is(&r, "billing", CHECK_SKIP, "--profile ai-nexus");
    group_is(&r, "ratelimit", CHECK_SKIP, "--rpm N and --ratelimit-key");
    group_is(&r, "stream", CHECK_PASS, "");
    sum = results_summarize(&r);
    assert_int_equal(sum.failed, 0);
    assert_int_equal(sum.warned, 0);
    results_cleanup(&r);
    json_decref(s);
}

/* Asserts that no check of group was reported. */
static void group_absent(const struct results *r, const char *group)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (strcmp(r->items[i].group, group) == 0)
            fail_msg("%s reported: %s", r->items[i].id, r->items[i].message);
}

/* --only and --skip leave the other groups out of the report. */
static void test_only_and_skip(void **state)
{
    static const char *const only[] = {"--only", "chat,auth", NULL};
    static const char *const skip[] = {"--skip", "stream,usage", NULL};
    json_t *s = good();
    struct results r;

    (void)state;
    tu_conform(s, only, 0, &r);
    group_is(&r, "chat", CHECK_PASS, "");
    group_is(&r, "auth", CHECK_PASS, "");
    group_absent(&r, "models");
    group_absent(&r, "stream");
    results_cleanup(&r);
    tu_conform(s, skip, 0, &r);
    group_absent(&r, "stream");
    group_absent(&r, "usage");
    group_is(&r, "params", CHECK_PASS, "");
    results_cleanup(&r);
    json_decref(s);
}

/* Billing without --empty-key skips only the 402 checks. */
static void test_billing_without_empty_key(void **state)
{
    static const char *const args[] = {"--profile", "ai-nexus", NULL};
    json_t *s = good();
    struct results r;

    (void)state;
    tu_conform(s, args, 0, &r);
    assert_int_equal(tu_status(&r, "billing.charge"), CHECK_PASS);
    assert_int_equal(tu_status(&r, "billing.insufficient"), CHECK_SKIP);
    assert_non_null(strstr(message(&r, "billing.insufficient"), "--empty-key"));
    assert_int_equal(tu_status(&r, "billing.insufficient-code"), CHECK_SKIP);
    results_cleanup(&r);
    json_decref(s);
}

/* A broken model list with no --model: the groups that need a model are
 * skipped, saying so. */
static void test_no_model(void **state)
{
    json_t *s = good(), *over, *all;
    struct results r;

    (void)state;
    over =
        json_loads("{\"routes\":[{\"method\":\"GET\",\"path\":\"/v1/models\","
                   "\"response\":{\"status\":200,\"json\":{\"object\":"
                   "\"list\",\"data\":[]}}}]}",
                   0, NULL);
    all = tu_compose(s, over);
    assert_int_equal(tu_conform(all, NULL, 0, &r), 0);
    assert_int_equal(tu_status(&r, "models.list"), CHECK_PASS);
    assert_int_equal(tu_status(&r, "models.chosen"), CHECK_FAIL);
    group_is(&r, "chat", CHECK_SKIP, "no model to test");
    group_is(&r, "params", CHECK_SKIP, "no model to test");
    results_cleanup(&r);
    json_decref(all);
    json_decref(over);
    json_decref(s);
}

/* GET /models/{id} is optional for AI Nexus only. */
static void test_retrieve_by_profile(void **state)
{
    static const char *const nexus[] = {"--profile", "ai-nexus", NULL};
    json_t *s = good(), *over, *all;
    struct results r;

    (void)state;
    over = json_loads("{\"routes\":[{\"method\":\"GET\",\"path\":"
                      "\"/v1/models/fake-model-1\",\"response\":{\"status\":"
                      "404,\"body\":\"Not Found\"}}]}",
                      0, NULL);
    all = tu_compose(s, over);
    tu_conform(all, NULL, 0, &r);
    assert_int_equal(tu_status(&r, "models.retrieve"), CHECK_FAIL);
    assert_int_equal(tu_status(&r, "notfound.retrieve"), CHECK_SKIP);
    results_cleanup(&r);
    tu_conform(all, nexus, 0, &r);
    assert_int_equal(tu_status(&r, "models.retrieve"), CHECK_SKIP);
    assert_non_null(strstr(message(&r, "models.retrieve"), "not offered"));
    results_cleanup(&r);
    json_decref(all);
    json_decref(over);
    json_decref(s);
}

/* A server that stops answering costs three timeouts, not one per check. */
static void test_dead_server(void **state)
{
    static const char *const args[] = {"--model", "fake-model-1", NULL};
    json_t *s = json_loads(
        "{\"routes\":[{\"method\":\"GET\",\"path\":\"/v1/models\","
        "\"response\":{\"stall\":true}},{\"method\":\"GET\",\"path\":"
        "\"/v1/models/fake-model-1\",\"response\":{\"stall\":true}},"
        "{\"method\":\"POST\",\"path\":\"/v1/chat/completions\",\"response\":"
        "{\"stall\":true}}]}",
        0, NULL);
    struct results r;

    (void)state;
    tu_conform(s, args, 0, &r);
    assert_int_equal(tu_status(&r, "models.list"), CHECK_FAIL);
    assert_non_null(strstr(message(&r, "models.list"), "timeout"));
    assert_int_equal(tu_status(&r, "chat.status"), CHECK_FAIL);
    assert_non_null(strstr(message(&r, "chat.status"), "timeout"));
    assert_int_equal(tu_status(&r, "chat.n"), CHECK_FAIL);
    assert_non_null(strstr(message(&r, "chat.n"), "not sent"));
    assert_int_equal(tu_status(&r, "auth.missing"), CHECK_FAIL);
    assert_non_null(strstr(message(&r, "auth.missing"), "not sent"));
    results_cleanup(&r);
    json_decref(s);
}

/* No connection at all: the run stops before any check. */
static void test_unreachable(void **state)
{
    json_t *s = json_loads("{\"routes\":[{\"method\":\"GET\",\"path\":"
                           "\"/v1/models\",\"response\":{\"unreachable\":"
                           "true}}]}",
                           0, NULL);
    struct results r;

    (void)state;
    assert_int_equal(tu_conform(s, NULL, 0, &r), -1);
    assert_int_equal(r.n, 0);
    results_cleanup(&r);
    json_decref(s);
}

/* The real environment, as options_parse wants it. */
static const char *real_env(const char *name)
{
    return getenv(name);
}

/* Counts what the observer is shown. */
static void count(const struct check_result *c, void *ud)
{
    size_t *n = ud;

    assert_non_null(c->id);
    (*n)++;
}

/* The observer sees every result as it is recorded; the log sees every
 * exchange. */
static void test_observer_and_log(void **state)
{
    const char *argv[] = {"nexus-conform", "--base-url", "http://x/v1",
                          "--api-key",     TU_KEY,       "--only",
                          "auth"};
    struct options o;
    struct results r;
    struct script *sc;
    struct transport *t;
    struct conform *c;
    char *cause = NULL, *logged = NULL;
    size_t seen = 0, logged_len = 0;
    FILE *log = open_memstream(&logged, &logged_len);
    json_t *s = good();

    (void)state;
    assert_int_equal(
        options_parse(&o, 7, (char *const *)argv, real_env, &cause),
        OPTIONS_RUN);
    results_init(&r);
    sc = script_from_json(s, &cause);
    t = fake_transport_new(sc, "/v1", 0);
    c = conform_new(&o, t, &r);
    conform_observe(c, count, &seen);
    conform_log_to(c, log);
    assert_int_equal(conform_run(c, &cause), 0);
    fclose(log);
    assert_int_equal(seen, r.n);
    assert_string_equal(conform_model(c), "fake-model-1");
    assert_non_null(strstr(logged, "> POST /chat/completions -> ok 401"));
    assert_non_null(strstr(logged, "> GET /models -> ok 200"));
    free(logged);
    conform_free(c);
    transport_free(t);
    script_free(sc);
    results_cleanup(&r);
    json_decref(s);
}

/* A long key (a JWT can be several KiB) is sent whole: the Bearer value is
 * not cut to nothing. */
static void test_long_key(void **state)
{
    const char *argv[] = {"nexus-conform", "--base-url", "http://x/v1",
                          "--api-key", TU_KEY};
    char key[9001];
    struct options o;
    struct results r;
    struct script *sc;
    struct transport *t;
    struct conform *c;
    char *cause = NULL;
    const char *bearer;
    json_t *s = good();

    (void)state;
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_int_equal(
        options_parse(&o, 5, (char *const *)argv, real_env, &cause),
        OPTIONS_RUN);
    results_init(&r);
    sc = script_from_json(s, &cause);
    t = fake_transport_new(sc, "/v1", 0);
    c = conform_new(&o, t, &r);
    bearer = conform_bearer(c, key);
    assert_int_equal(strlen(bearer), strlen("Bearer ") + strlen(key));
    assert_memory_equal(bearer, "Bearer kkk", 10);
    conform_free(c);
    transport_free(t);
    script_free(sc);
    results_cleanup(&r);
    json_decref(s);
}

/* Every check says what to change to pass it, and every fix belongs to a
 * check that exists; a verdict carries its check's fix and level. */
static void test_every_check_has_a_fix(void **state)
{
    const struct group_def *const *g;
    struct results r;
    size_t n, i, k;
    bool found;
    json_t *script = good();
    static const char *const all[] = {
        "--profile", "ai-nexus",        "--empty-key", "sk-empty", "--rpm",
        "3",         "--ratelimit-key", "sk-free",     NULL};

    (void)state;
    g = conform_groups(&n);
    for (i = 0; i < n; i++)
        for (k = 0; k < g[i]->n_checks; k++)
            if (fixes_get(g[i]->checks[k].id) == NULL)
                fail_msg("%s has no fix", g[i]->checks[k].id);
    for (i = 0; i < fixes_count(); i++) {
        found = false;
        for (k = 0; k < n; k++)
            for (size_t j = 0; j < g[k]->n_checks; j++)
                found = found || strcmp(g[k]->checks[j].id, fixes_id(i)) == 0;
        if (!found)
            fail_msg("the fix of %s names no check", fixes_id(i));
    }
    assert_int_equal(tu_conform(script, all, 0, &r), 0);
    for (i = 0; i < r.n; i++) {
        assert_string_equal(r.items[i].fix, fixes_get(r.items[i].id));
        assert_non_null(r.items[i].level);
    }
    results_cleanup(&r);
    json_decref(script);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_skip_with_reasons),
        cmocka_unit_test(test_only_and_skip),
        cmocka_unit_test(test_billing_without_empty_key),
        cmocka_unit_test(test_no_model),
        cmocka_unit_test(test_retrieve_by_profile),
        cmocka_unit_test(test_dead_server),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_observer_and_log),
        cmocka_unit_test(test_long_key),
        cmocka_unit_test(test_every_check_has_a_fix),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
