/* test_admin: where the control API (--admin) may be served without a
 * token. Tests bind loopback only, so the policy is checked here; the
 * token itself, reset and state are in test_router (no socket) and
 * test_control (a real mock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admin.h"

static void test_loopback_hosts(void **state)
{
    static const char *const loopback[] = {
        "127.0.0.1", "127.1.2.3", "localhost",       "LocalHost",
        "::1",       "[::1]",     "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1",
    };
    static const char *const reachable[] = {
        "0.0.0.0",
        "::",
        "[::]",
        "192.168.1.20",
        "10.0.0.1",
        "128.0.0.1",
        "126.255.255.255",
        "::ffff:10.0.0.1",
        "example.com",
        "localhost.example",
        "",
        "[::1",
        "::2",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
        if (!admin_host_is_loopback(loopback[i]))
            fail_msg("%s should be loopback", loopback[i]);
    for (i = 0; i < sizeof(reachable) / sizeof(reachable[0]); i++)
        if (admin_host_is_loopback(reachable[i]))
            fail_msg("%s should not be loopback", reachable[i]);
}

/* --admin where others can reach it needs --admin-token; a token without
 * --admin is refused too. */
static void test_exposure_policy(void **state)
{
    char cause[256];

    (void)state;
    assert_int_equal(
        admin_check_exposure("0.0.0.0", true, NULL, cause, sizeof(cause)), -1);
    assert_non_null(strstr(cause, "--admin-token"));
    assert_non_null(strstr(cause, "'0.0.0.0'"));
    assert_int_equal(
        admin_check_exposure("::", true, NULL, cause, sizeof(cause)), -1);
    assert_int_equal(
        admin_check_exposure("192.168.1.20", true, NULL, cause, sizeof(cause)),
        -1);
    assert_int_equal(
        admin_check_exposure("0.0.0.0", true, "s3cret", cause, sizeof(cause)),
        0);
    assert_int_equal(
        admin_check_exposure("127.0.0.1", true, NULL, cause, sizeof(cause)), 0);
    assert_int_equal(
        admin_check_exposure("localhost", true, NULL, cause, sizeof(cause)), 0);
    assert_int_equal(
        admin_check_exposure("0.0.0.0", false, NULL, cause, sizeof(cause)), 0);
    assert_int_equal(admin_check_exposure("127.0.0.1", false, "s3cret", cause,
                                          sizeof(cause)),
                     -1);
    assert_non_null(strstr(cause, "needs --admin"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_hosts),
        cmocka_unit_test(test_exposure_policy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
