/* test_parse: the strict readers of numbers, durations and dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parse.h"

/* Integers: whole strings only. */
static void test_int64(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(parse_int64("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(parse_int64("-7", &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(parse_int64("9223372036854775807", &v), 0);
    assert_int_equal(parse_int64("9223372036854775808", &v), -1);
    assert_int_equal(parse_int64("", &v), -1);
    assert_int_equal(parse_int64(" 1", &v), -1);
    assert_int_equal(parse_int64("+1", &v), -1);
    assert_int_equal(parse_int64("1s", &v), -1);
    assert_int_equal(parse_int64("1.0", &v), -1);
    assert_int_equal(parse_int64(NULL, &v), -1);
}

/* Decimal numbers: no hex, no inf, no nan. */
static void test_double(void **state)
{
    double v;

    (void)state;
    assert_int_equal(parse_double("2.5", &v), 0);
    assert_true(v == 2.5);
    assert_int_equal(parse_double("19700", &v), 0);
    assert_int_equal(parse_double("1e3", &v), 0);
    assert_true(v == 1000);
    assert_int_equal(parse_double("0x10", &v), -1);
    assert_int_equal(parse_double("inf", &v), -1);
    assert_int_equal(parse_double("nan", &v), -1);
    assert_int_equal(parse_double("1e999", &v), -1);
    assert_int_equal(parse_double("", &v), -1);
    assert_int_equal(parse_double("3 ", &v), -1);
}

/* OpenAI-style durations, as x-ratelimit-reset-* carries them. */
static void test_duration(void **state)
{
    static const struct {
        const char *s;
        double ms;
    } ok[] = {
        {"1s", 1000},   {"59.5s", 59500},    {"6m0s", 360000},
        {"20ms", 20},   {"1h2m3s", 3723000}, {"0s", 0},
        {"2m", 120000}, {"1.5", 1500},       {"500us", 0.5},
        {"7ns", 7e-6},  {"1m30.25s", 90250},
    };
    static const char *const bad[] = {"",    "s",   "1",   "1x", "1 s",
                                      "-1s", "1s2", "m1s", ".s", "soon"};
    double v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (parse_duration_ms(ok[i].s, &v) != 0)
            fail_msg("'%s' refused", ok[i].s);
        if (v < ok[i].ms - 1e-9 || v > ok[i].ms + 1e-9)
            fail_msg("'%s' read as %g ms, not %g", ok[i].s, v, ok[i].ms);
    }
    /* "1" alone is one second, so it is fine; the rest are not durations. */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (i != 2 && parse_duration_ms(bad[i], &v) == 0)
            fail_msg("'%s' accepted as %g ms", bad[i], v);
}

/* Retry-After: delay-seconds or an IMF-fixdate relative to now. */
static void test_retry_after(void **state)
{
    /* Sun, 06 Nov 1994 08:49:37 GMT is 784111777. */
    const time_t now = 784111777 - 30;
    double s;

    (void)state;
    assert_int_equal(parse_retry_after("20", now, &s), 0);
    assert_true(s == 20);
    assert_int_equal(parse_retry_after("0", now, &s), 0);
    assert_true(s == 0);
    assert_int_equal(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now, &s), 0);
    assert_true(s == 30);
    assert_int_equal(parse_retry_after("-1", now, &s), -1);
    assert_int_equal(parse_retry_after("1.5", now, &s), -1);
    assert_int_equal(parse_retry_after("soon", now, &s), -1);
    assert_int_equal(
        parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now, &s), -1);
    assert_int_equal(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 UTC", now, &s), -1);
    assert_int_equal(parse_retry_after(NULL, now, &s), -1);
}

/* ISO-8601 in UTC, as GET /balance's last_updated. */
static void test_iso8601(void **state)
{
    double t;

    (void)state;
    assert_int_equal(parse_iso8601_utc("2025-06-17T12:00:00Z", &t), 0);
    assert_true(t == 1750161600.0);
    assert_int_equal(parse_iso8601_utc("2025-06-17T12:00:00.250Z", &t), 0);
    assert_true(t == 1750161600.25);
    assert_int_equal(parse_iso8601_utc("2025-06-17T12:00:00+00:00", &t), 0);
    assert_int_equal(parse_iso8601_utc("2024-02-29T00:00:00Z", &t), 0);
    assert_int_equal(parse_iso8601_utc("2025-02-29T00:00:00Z", &t), -1);
    assert_int_equal(parse_iso8601_utc("2025-06-17T12:00:00+08:00", &t), -1);
    assert_int_equal(parse_iso8601_utc("2025-06-17T12:00:00", &t), -1);
    assert_int_equal(parse_iso8601_utc("2025-06-17 12:00:00Z", &t), -1);
    assert_int_equal(parse_iso8601_utc("2025-13-01T00:00:00Z", &t), -1);
    assert_int_equal(parse_iso8601_utc("2025-06-17T24:00:00Z", &t), -1);
    assert_int_equal(parse_iso8601_utc("2025-06-17T12:00:00.Z", &t), -1);
    assert_int_equal(parse_iso8601_utc(NULL, &t), -1);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64),    cmocka_unit_test(test_double),
        cmocka_unit_test(test_duration), cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_iso8601),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
