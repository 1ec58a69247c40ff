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
    struct budget b;
    struct sample_fault fault;
    json_t *v;

    assert_non_null(schema);
    budget_share(NULL, 1, &b);
    v = sample_from_schema(schema, &state, &b, &fault);
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

/* Generates from schema text with the smallest-value generator (state
 * NULL) or a rich one, within limits; returns the value or NULL, with the
 * fault in *fault. */
static json_t *gen_within(const char *schema_text, bool smallest,
                          uint64_t nodes, unsigned depth,
                          struct sample_fault *fault)
{
    json_t *schema = json_loads(schema_text, 0, NULL);
    struct budget b = {nodes, 1u << 20, depth};
    uint64_t state = 7;
    json_t *v;

    assert_non_null(schema);
    v = sample_from_schema(schema, smallest ? NULL : &state, &b, fault);
    json_decref(schema);
    return v;
}

/* Asserts schema_text generates no value, with fault kind at where. */
static void assert_fault(const char *schema_text, bool smallest, uint64_t nodes,
                         enum sample_fault_kind kind, const char *where)
{
    struct sample_fault fault;
    json_t *v = gen_within(schema_text, smallest, nodes, 32, &fault);

    if (v != NULL)
        fail_msg("%s generated a value", schema_text);
    assert_int_equal(fault.kind, kind);
    assert_string_equal(fault.where, where);
}

/* A required $ref cycle has no finite value: the smallest generator names
 * the $ref at once; the rich one stops within its budget. */
static void test_cycles_end(void **state)
{
    struct sample_fault fault;

    (void)state;
    assert_fault("{\"type\":\"array\",\"minItems\":25,\"items\":"
                 "{\"$ref\":\"#\"}}",
                 true, 100000, SAMPLE_CYCLE, ".items.$ref");
    assert_fault("{\"$defs\":{\"a\":{\"type\":\"object\",\"properties\":"
                 "{\"b\":{\"$ref\":\"#/$defs/a\"}},\"required\":[\"b\"]}},"
                 "\"$ref\":\"#/$defs/a\"}",
                 true, 100000, SAMPLE_CYCLE, ".$defs.a.properties.b.$ref");
    assert_null(gen_within("{\"type\":\"array\",\"minItems\":25,\"items\":"
                           "{\"$ref\":\"#\"}}",
                           false, 100000, 32, &fault));
    assert_true(fault.kind == SAMPLE_BUDGET || fault.kind == SAMPLE_CYCLE);
}

/* The smallest value: required properties only, numbers nearest 0, no
 * items without minItems, "mock" strings; the same every time. */
static void test_smallest_value(void **state)
{
    struct sample_fault fault;
    json_t *v;
    char *text;

    (void)state;
    v = gen_within("{\"type\":\"object\",\"properties\":{\"a\":"
                   "{\"type\":\"integer\",\"minimum\":5},\"b\":"
                   "{\"type\":\"string\"},\"c\":{\"type\":\"array\","
                   "\"minItems\":2,\"items\":{\"type\":[\"string\","
                   "\"null\"]}},\"d\":{\"type\":\"number\",\"maximum\":"
                   "-2.5},\"e\":{\"$ref\":\"#\"}},\"required\":[\"d\","
                   "\"c\",\"a\",\"f\"]}",
                   true, 1000, 32, &fault);
    assert_non_null(v);
    text = json_dumps(v, JSON_COMPACT);
    assert_string_equal(
        text, "{\"d\":-2.5,\"c\":[null,null],\"a\":5,\"f\":\"mock\"}");
    free(text);
    json_decref(v);
    /* Optional recursion ends at once. */
    v = gen_within("{\"type\":\"object\",\"properties\":{\"kids\":"
                   "{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}",
                   true, 1000, 32, &fault);
    assert_int_equal(json_object_size(v), 0);
    json_decref(v);
}

/* The budget bounds the work: a value too large is refused naming the
 * keyword that asked for it, too deep is refused at its depth. */
static void test_budget_bounds(void **state)
{
    struct sample_fault fault;
    json_t *v;

    (void)state;
    assert_fault("{\"type\":\"array\",\"minItems\":3000000}", true, 8192,
                 SAMPLE_BUDGET, ".minItems");
    assert_fault("{\"type\":\"array\",\"minItems\":1000,\"items\":"
                 "{\"type\":\"array\",\"minItems\":1000}}",
                 true, 8192, SAMPLE_BUDGET, ".items.minItems");
    assert_fault("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":"
                 "\"string\",\"minLength\":2000000}}}",
                 false, 8192, SAMPLE_BUDGET, ".properties.x.minLength");
    assert_fault("{\"type\":\"object\",\"minProperties\":100,"
                 "\"additionalProperties\":false}",
                 true, 8192, SAMPLE_EMPTY, ".minProperties");
    v = gen_within("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
                   "\"object\",\"properties\":{\"a\":{\"type\":\"object\","
                   "\"required\":[\"a\"]}},\"required\":[\"a\"]}},"
                   "\"required\":[\"a\"]}",
                   true, 1000, 2, &fault);
    assert_null(v);
    assert_int_equal(fault.kind, SAMPLE_DEPTH);
    /* The innermost "a" is required but not listed: its schema is
     * additionalProperties. */
    assert_string_equal(fault.where,
                        ".properties.a.properties.a.additionalProperties");
}

/* A rich value spends what it makes: never more than the budget. */
static void test_rich_value_spends(void **state)
{
    json_t *schema = json_loads("{\"type\":\"array\",\"minItems\":50,"
                                "\"items\":{\"type\":\"integer\"}}",
                                0, NULL);
    struct budget b = {60, 1u << 20, 32};
    struct sample_fault fault;
    uint64_t seed;

    (void)state;
    for (seed = 1; seed < SEEDS; seed++) {
        uint64_t st = seed;
        struct budget left = b;
        json_t *v = sample_from_schema(schema, &st, &left, &fault);

        /* 50 to 54 items and the array: it fits, or it is refused. */
        if (v != NULL)
            assert_int_equal(b.nodes - left.nodes, json_array_size(v) + 1);
        else
            assert_int_equal(fault.kind, SAMPLE_BUDGET);
        json_decref(v);
    }
    json_decref(schema);
}

/* sample_check names what no value satisfies, wherever it is. */
static void test_check_names_keywords(void **state)
{
    static const struct {
        const char *schema, *where;
    } cases[] = {
        {"{\"type\":\"integer\",\"minimum\":5,\"maximum\":1}", ".maximum"},
        {"{\"$defs\":{\"unused\":{\"type\":\"string\",\"minLength\":3,"
         "\"maxLength\":2}}}",
         ".$defs.unused.maxLength"},
        {"{\"anyOf\":[{\"type\":\"number\"},{\"type\":\"number\","
         "\"multipleOf\":-1}]}",
         ".anyOf[1].multipleOf"},
        {"{\"type\":\"object\",\"required\":[\"a\",\"b\"],"
         "\"maxProperties\":1}",
         ".maxProperties"},
        {"{\"properties\":{\"enum\":{\"enum\":[]}}}", ".properties.enum.enum"},
    };
    struct budget b = {8192, 1u << 18, 32};
    struct sample_fault fault;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *schema = json_loads(cases[i].schema, 0, NULL);

        assert_int_equal(sample_check(schema, &b, &fault), -1);
        assert_int_equal(fault.kind, SAMPLE_EMPTY);
        assert_string_equal(fault.where, cases[i].where);
        json_decref(schema);
    }
    /* Bounds on a type that cannot carry them are not checked, and data
     * (enum, const, default) is not a schema. */
    {
        json_t *schema =
            json_loads("{\"type\":\"string\",\"minimum\":5,\"maximum\":1,"
                       "\"default\":{\"minimum\":5,\"maximum\":1}}",
                       0, NULL);

        assert_int_equal(sample_check(schema, &b, &fault), 0);
        json_decref(schema);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycles_end),
        cmocka_unit_test(test_smallest_value),
        cmocka_unit_test(test_budget_bounds),
        cmocka_unit_test(test_rich_value_spends),
        cmocka_unit_test(test_check_names_keywords),
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
