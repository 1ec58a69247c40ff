/* test_sample: the schema instance generator on the bounds clients really
 * send (Zod's safe-integer range, 1e300, exclusive bounds, multipleOf,
 * lengths), each over many seeds: every value must lie inside its schema. */
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sample.h"

#define SEEDS 64

/* Generates from schema (JSON text) with random state `seed`; a new
 * reference, asserted non-NULL. */
static json_t *gen(const char *schema_text, uint64_t seed)
{
    json_t *schema = json_loads(schema_text, 0, NULL);
    uint64_t state = seed * 2654435761u + 1;
    json_t *v;

    assert_non_null(schema);
    v = sample_from_schema(schema, schema, &state);
    json_decref(schema);
    if (v == NULL)
        fail_msg("no value for %s", schema_text);
    return v;
}

/* Generates a number from schema text for every seed and asserts it lies
 * in [lo, hi] (open where the flags say), integral if asked. */
static void assert_numbers(const char *schema, double lo, bool lo_open,
                           double hi, bool hi_open, bool integral)
{
    uint64_t seed;

    for (seed = 0; seed < SEEDS; seed++) {
        json_t *v = gen(schema, seed);
        double x = json_number_value(v);

        if (!json_is_number(v) || !isfinite(x) || x < lo || x > hi ||
            (lo_open && x == lo) || (hi_open && x == hi) ||
            (integral && x != floor(x)))
            fail_msg("%s gave %.17g (seed %llu)", schema, x,
                     (unsigned long long)seed);
        if (integral && fabs(x) < 9007199254740992.0)
            assert_true(json_is_integer(v));
        json_decref(v);
    }
}

/* Defect: a bound beyond int64 was converted to an integer (undefined
 * behaviour, 0 in practice) and divided by: SIGFPE. */
static void test_integer_bound_beyond_int64(void **state)
{
    (void)state;
    assert_numbers("{\"type\":\"integer\",\"maximum\":1e300}", 0, false, 100,
                   false, true);
    assert_numbers("{\"type\":\"integer\",\"minimum\":1e300}", 1e300, false,
                   INFINITY, false, true);
    assert_numbers("{\"type\":\"integer\",\"maximum\":-1e300}", -INFINITY,
                   false, -1e300, false, true);
    assert_numbers("{\"type\":\"integer\",\"minimum\":-1e300,"
                   "\"maximum\":1e300}",
                   0, false, 100, false, true);
}

/* Defect: a span beyond the largest double made an infinite value (500). */
static void test_number_span_beyond_double(void **state)
{
    (void)state;
    assert_numbers("{\"type\":\"number\",\"minimum\":-1.7e308,"
                   "\"maximum\":1.7e308}",
                   0, false, 100, false, false);
    assert_numbers("{\"type\":\"number\",\"minimum\":1.7e308}", 1.7e308, false,
                   1.7976931348623157e308, false, false);
}

/* Zod's .int() emits the safe-integer range. */
static void test_zod_safe_integers(void **state)
{
    (void)state;
    assert_numbers("{\"type\":\"integer\",\"minimum\":-9007199254740991,"
                   "\"maximum\":9007199254740991}",
                   0, false, 100, false, true);
    assert_numbers("{\"type\":\"integer\",\"minimum\":9007199254740000,"
                   "\"maximum\":9007199254740991}",
                   9007199254740000.0, false, 9007199254740991.0, false, true);
}

/* Exclusive bounds (draft 6 numbers and draft 4 booleans) are honoured. */
static void test_exclusive_bounds(void **state)
{
    (void)state;
    assert_numbers("{\"type\":\"number\",\"exclusiveMinimum\":0,"
                   "\"exclusiveMaximum\":1}",
                   0, true, 1, true, false);
    assert_numbers("{\"type\":\"integer\",\"exclusiveMinimum\":4,"
                   "\"exclusiveMaximum\":6}",
                   5, false, 5, false, true);
    assert_numbers("{\"type\":\"integer\",\"minimum\":4,\"maximum\":6,"
                   "\"exclusiveMinimum\":true,\"exclusiveMaximum\":true}",
                   5, false, 5, false, true);
    assert_numbers("{\"type\":\"number\",\"exclusiveMinimum\":1e300}", 1e300,
                   true, INFINITY, false, false);
}

/* multipleOf is honoured for integers and numbers. */
static void test_multiple_of(void **state)
{
    uint64_t seed;

    (void)state;
    assert_numbers("{\"type\":\"integer\",\"minimum\":20,\"maximum\":30,"
                   "\"multipleOf\":7}",
                   21, false, 28, false, true);
    for (seed = 0; seed < SEEDS; seed++) {
        json_t *v = gen("{\"type\":\"number\",\"minimum\":1,\"maximum\":2,"
                        "\"multipleOf\":0.25}",
                        seed);
        double x = json_number_value(v);

        assert_true(x >= 1 && x <= 2 && x * 4 == floor(x * 4));
        json_decref(v);
    }
}

/* String lengths are honoured (counted in characters). */
static void test_string_lengths(void **state)
{
    uint64_t seed;

    (void)state;
    for (seed = 0; seed < SEEDS; seed++) {
        json_t *a = gen("{\"type\":\"string\",\"minLength\":30}", seed);
        json_t *b = gen("{\"type\":\"string\",\"maxLength\":3}", seed);
        json_t *c = gen("{\"type\":\"string\",\"minLength\":5,"
                        "\"maxLength\":5}",
                        seed);

        assert_true(json_string_length(a) >= 30);
        assert_true(json_string_length(b) <= 3);
        assert_int_equal(json_string_length(c), 5);
        json_decref(a);
        json_decref(b);
        json_decref(c);
    }
}

/* minProperties is honoured. */
static void test_min_properties(void **state)
{
    uint64_t seed;

    (void)state;
    for (seed = 0; seed < SEEDS; seed++) {
        json_t *v = gen("{\"type\":\"object\",\"minProperties\":2}", seed);

        assert_true(json_is_object(v));
        assert_true(json_object_size(v) >= 2);
        json_decref(v);
    }
}

/* Asserts every value down a chain of "a" members is an object. */
static void assert_objects_down(const json_t *v)
{
    while (v != NULL) {
        assert_true(json_is_object(v));
        v = json_object_get(v, "a");
    }
}

/* A recursive schema is cut where the value may end, never with a null
 * the schema does not allow. */
static void test_recursion_ends_validly(void **state)
{
    uint64_t seed;

    (void)state;
    for (seed = 0; seed < SEEDS; seed++) {
        json_t *v = gen("{\"type\":\"object\",\"properties\":{\"a\":"
                        "{\"$ref\":\"#\"}}}",
                        seed);

        assert_objects_down(v);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_bound_beyond_int64),
        cmocka_unit_test(test_number_span_beyond_double),
        cmocka_unit_test(test_zod_safe_integers),
        cmocka_unit_test(test_exclusive_bounds),
        cmocka_unit_test(test_multiple_of),
        cmocka_unit_test(test_string_lengths),
        cmocka_unit_test(test_min_properties),
        cmocka_unit_test(test_recursion_ends_validly),
    };
    return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}
