/* test_scenario: states, nth calls and moves of a scenario, reset, and
 * steps counted exactly under concurrent requests. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "scenario.h"

#define THREADS 8
#define PER_THREAD 1000

/* 500 on the first two calls, then success: the retry scenario. */
static void test_fail_twice(void **state)
{
    struct scenarios *s = scenarios_new();
    size_t sc, ok;
    struct scenario_guard first, second, done;
    uint64_t call = 99;

    (void)state;
    assert_non_null(s);
    sc = scenarios_add(s, "flaky");
    assert_int_equal(sc, 0);
    assert_int_equal(scenarios_add(s, "flaky"), 0);
    ok = scenarios_add_state(s, sc, "ok");
    assert_int_equal(ok, 1);
    assert_string_equal(scenarios_state_name(s, sc, 0), SCENARIO_INITIAL);
    first = (struct scenario_guard){sc, 0, 1, SCENARIO_NONE};
    second = (struct scenario_guard){sc, 0, 2, ok};
    done = (struct scenario_guard){sc, ok, 0, SCENARIO_NONE};
    assert_false(scenarios_step(s, &second, &call));
    assert_false(scenarios_step(s, &done, &call));
    assert_true(scenarios_step(s, &first, &call));
    assert_int_equal(call, 1);
    assert_false(scenarios_step(s, &first, &call));
    assert_true(scenarios_step(s, &second, &call));
    assert_int_equal(call, 2);
    /* Moved: the count starts again in the new state. */
    assert_true(scenarios_step(s, &done, &call));
    assert_int_equal(call, 1);
    assert_true(scenarios_step(s, &done, &call));
    assert_int_equal(call, 2);
    /* Reset puts it back in its initial state. */
    assert_int_equal(scenarios_reset(s, "nope"), -1);
    assert_int_equal(scenarios_reset(s, "flaky"), 0);
    assert_false(scenarios_step(s, &done, &call));
    assert_true(scenarios_step(s, &first, &call));
    assert_int_equal(scenarios_reset(s, NULL), 0);
    assert_true(scenarios_step(s, &first, &call));
    scenarios_free(s);
    scenarios_free(NULL);
}

/* A declared initial state is where the scenario starts and returns. */
static void test_initial(void **state)
{
    struct scenarios *s = scenarios_new();
    size_t sc, st, cur;
    uint64_t calls;
    struct scenario_guard any = {0, SCENARIO_NONE, 0, SCENARIO_NONE};
    struct scenario_guard none = {SCENARIO_NONE, 0, 7, 0};
    uint64_t call;

    (void)state;
    assert_non_null(s);
    sc = scenarios_add(s, "a");
    st = scenarios_add_state(s, sc, "waiting");
    scenarios_set_initial(s, sc, st);
    assert_int_equal(scenarios_initial(s, sc), st);
    scenarios_current(s, sc, &cur, &calls);
    assert_int_equal(cur, st);
    assert_int_equal(calls, 0);
    assert_true(scenarios_step(s, &any, &call));
    scenarios_current(s, sc, &cur, &calls);
    assert_int_equal(calls, 1);
    assert_int_equal(scenarios_find(s, "a"), sc);
    assert_int_equal(scenarios_find(s, "b"), SCENARIO_NONE);
    /* A rule without a scenario always steps. */
    assert_true(scenarios_step(s, &none, &call));
    assert_int_equal(call, 0);
    scenarios_free(s);
}

struct race {
    struct scenarios *s;
    bool seen[THREADS * PER_THREAD + 1];
};

/* Steps a counting guard PER_THREAD times. */
static void *step_many(void *arg)
{
    struct race *r = arg;
    struct scenario_guard g = {0, SCENARIO_NONE, 0, SCENARIO_NONE};
    uint64_t call;
    int i;

    for (i = 0; i < PER_THREAD; i++)
        if (scenarios_step(r->s, &g, &call) && call <= THREADS * PER_THREAD)
            r->seen[call] = true;
    return NULL;
}

/* Concurrent steps each get their own call number. */
static void test_concurrent(void **state)
{
    static struct race r;
    pthread_t th[THREADS];
    size_t cur;
    uint64_t calls;
    int i;

    (void)state;
    r.s = scenarios_new();
    assert_non_null(r.s);
    assert_int_equal(scenarios_add(r.s, "x"), 0);
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, step_many, &r), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (i = 1; i <= THREADS * PER_THREAD; i++)
        if (!r.seen[i])
            fail_msg("call %d was never given", i);
    scenarios_current(r.s, 0, &cur, &calls);
    assert_int_equal(calls, THREADS * PER_THREAD);
    scenarios_free(r.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_twice),
        cmocka_unit_test(test_initial),
        cmocka_unit_test(test_concurrent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
