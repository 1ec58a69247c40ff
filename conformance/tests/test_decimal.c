/* test_decimal: amounts print as written, and differences exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decimal.h"

/* Asserts the shortest decimal of v. */
static void shortest_is(double v, const char *want)
{
    char out[DECIMAL_MAX];

    assert_int_equal(decimal_shortest(v, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

/* Asserts a - b. */
static void sub_is(double a, double b, const char *want)
{
    char out[DECIMAL_MAX];

    assert_int_equal(decimal_sub(a, b, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

/* A double prints as the decimal it was read from, in plain notation. */
static void test_shortest(void **state)
{
    (void)state;
    shortest_is(22.69, "22.69");
    shortest_is(0.1, "0.1");
    shortest_is(42.5, "42.5");
    shortest_is(3e-11, "0.00000000003");
    shortest_is(100000, "100000");
    shortest_is(8999999, "8999999");
    shortest_is(-0.25, "-0.25");
    shortest_is(0, "0");
    shortest_is(1e21, "1000000000000000000000");
    shortest_is(0.1 + 0.2, "0.30000000000000004");
}

/* Differences are exact on the decimals, not on the binary doubles. */
static void test_sub(void **state)
{
    (void)state;
    sub_is(22.69, 22.68, "0.01");
    sub_is(157.30, 157.29, "0.01");
    sub_is(100000, 99999.99999999997, "0.00000000003");
    sub_is(8999999, 8999999, "0");
    sub_is(1.5, 2, "-0.5");
    sub_is(-1.25, 0.75, "-2");
    sub_is(0.000001, 0.0000009, "0.0000001");
    sub_is(99.99, -0.01, "100");
    sub_is(42.5, 42.49999997, "0.00000003");
}

/* Too small a buffer, or a value that is not finite, is an error. */
static void test_limits(void **state)
{
    char out[4];
    char big[DECIMAL_MAX];

    (void)state;
    assert_int_equal(decimal_shortest(22.69, out, sizeof(out)), -1);
    assert_int_equal(decimal_shortest(1.0 / 0.0, big, sizeof(big)), -1);
    assert_string_equal(big, "?");
    /* 1e300 - 1e-300 needs 600 digits: the double difference, shortest. */
    assert_int_equal(decimal_sub(1e300, 1e-300, big, sizeof(big)), -1);
    assert_string_equal(big, "1e+300");
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shortest),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
