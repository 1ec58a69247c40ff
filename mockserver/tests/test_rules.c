/* test_rules: the first rule that matches answers and counts; a guard
 * that refuses passes the request on; references keep a set alive across
 * a swap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

/* A rule named name matching path (NULL: everything). */
static struct rule *rule_on(const char *name, const char *path)
{
    struct rule *r = rule_new(name);

    assert_non_null(r);
    if (path != NULL)
        assert_int_equal(
            match_rule_add(r->match, MATCH_PATH, MATCH_EQUALS, path), 0);
    return r;
}

/* First match wins and counts; no match is false. */
static void test_first_match(void **state)
{
    struct rules *set = rules_new(NULL);
    struct match_view a = {.method = "GET", .path = "/a"};
    struct match_view b = {.method = "GET", .path = "/b"};
    struct match_view c = {.method = "GET", .path = "/c"};
    struct rule_hit hit;

    (void)state;
    assert_non_null(set);
    assert_int_equal(rules_add(set, rule_on("a", "/a")), 0);
    assert_int_equal(rules_add(set, rule_on("a-or-b", NULL)), 0);
    assert_int_equal(rules_add(set, NULL), -1);
    assert_int_equal(rules_count(set), 2);
    rules_unref(set);
    set = rules_new(NULL);
    assert_int_equal(rules_add(set, rule_on("a", "/a")), 0);
    assert_int_equal(rules_add(set, rule_on("b", "/b")), 0);
    assert_true(rules_find(set, &a, &hit));
    assert_string_equal(hit.rule->name, "a");
    assert_int_equal(hit.count, 1);
    assert_int_equal(hit.call, 0);
    assert_true(rules_find(set, &a, &hit));
    assert_int_equal(hit.count, 2);
    assert_true(rules_find(set, &b, &hit));
    assert_string_equal(hit.rule->name, "b");
    assert_int_equal(hit.count, 1);
    assert_false(rules_find(set, &c, &hit));
    /* Defaults of a new rule: a completion, counted and billed. */
    assert_int_equal(rules_get(set, 0)->answer.kind, RULE_COMPLETION);
    assert_true(rules_get(set, 0)->answer.rate_limited);
    assert_true(rules_get(set, 0)->answer.billed);
    rules_unref(set);
}

/* A scenario guard that refuses lets the next rule answer; one that
 * steps moves the scenario. */
static void test_guards(void **state)
{
    struct scenarios *sc = scenarios_new();
    struct rules *set;
    struct rule *fail2 = rule_on("fail", NULL), *ok = rule_on("ok", NULL);
    struct match_view v = {.method = "POST", .path = "/"};
    struct rule_hit hit;
    size_t s, done;

    (void)state;
    assert_non_null(sc);
    s = scenarios_add(sc, "flaky");
    done = scenarios_add_state(sc, s, "done");
    fail2->guard = (struct scenario_guard){s, 0, 0, SCENARIO_NONE};
    ok->guard = (struct scenario_guard){s, SCENARIO_NONE, 0, SCENARIO_NONE};
    fail2->guard.call = 2;
    fail2->guard.then = done;
    set = rules_new(sc);
    assert_non_null(set);
    assert_int_equal(rules_add(set, fail2), 0);
    assert_int_equal(rules_add(set, ok), 0);
    /* Call 1 of the initial state: the first rule waits for call 2. */
    assert_true(rules_find(set, &v, &hit));
    assert_string_equal(hit.rule->name, "ok");
    assert_int_equal(hit.call, 1);
    assert_true(rules_find(set, &v, &hit));
    assert_string_equal(hit.rule->name, "fail");
    assert_int_equal(hit.call, 2);
    assert_true(rules_find(set, &v, &hit));
    assert_string_equal(hit.rule->name, "ok");
    assert_int_equal(hit.call, 1);
    assert_ptr_equal(rules_scenarios(set), sc);
    rules_unref(set);
}

/* A request's reference outlives a swap; the slot hands out the new set. */
static void test_slot(void **state)
{
    struct rules *one = rules_new(NULL), *two = rules_new(NULL), *held, *now;
    struct rules_slot *slot;

    (void)state;
    assert_non_null(one);
    assert_non_null(two);
    assert_int_equal(rules_add(one, rule_on("old", NULL)), 0);
    assert_int_equal(rules_add(two, rule_on("new", NULL)), 0);
    slot = rules_slot_new(one);
    assert_non_null(slot);
    held = rules_slot_get(slot);
    assert_ptr_equal(held, one);
    rules_slot_set(slot, two);
    now = rules_slot_get(slot);
    assert_ptr_equal(now, two);
    /* The old set is still whole for the request that holds it. */
    assert_string_equal(rules_get(held, 0)->name, "old");
    rules_unref(held);
    rules_unref(now);
    rules_slot_free(slot);
    rules_slot_free(NULL);
    rules_unref(NULL);
    assert_null(rules_ref(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_match),
        cmocka_unit_test(test_guards),
        cmocka_unit_test(test_slot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
