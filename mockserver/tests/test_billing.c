/* test_billing: exact integer charging and formatting of money. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "billing.h"

static struct fixtures *two_keys(void)
{
    static struct fx_key keys[2];
    static struct fixtures fx;

    memset(keys, 0, sizeof(keys));
    keys[0].balance = INT64_C(42500000000000); /* 42.50 */
    keys[0].spent = INT64_C(157300000000000);  /* 157.30 */
    keys[1].balance = 0;
    fx.keys = keys;
    fx.nkeys = 2;
    return &fx;
}

static void test_cost_is_exact(void **state)
{
    struct fx_model m = {.price_in = 270000, .price_out = 1100000};

    (void)state;
    /* 0.27 USD and 1.10 USD per million: 25 in + 10 out tokens. */
    assert_int_equal(billing_cost(&m, 25, 10), 25 * 270000 + 10 * 1100000);
    assert_int_equal(billing_cost(&m, 0, 0), 0);
    /* A million input tokens cost exactly the per-million price. */
    assert_int_equal(billing_cost(&m, 1000000, 0), INT64_C(270000000000));
    /* Past the money ceiling the cost is refused, not wrapped. */
    assert_int_equal(billing_cost(&m, UINT64_MAX / 2, 0), -1);
}

static void test_charge_conserves_money(void **state)
{
    struct billing *b = billing_new(two_keys(), 1000);
    struct billing_account a;
    int64_t total = INT64_C(42500000000000) + INT64_C(157300000000000);
    int i;

    (void)state;
    for (i = 0; i < 1000; i++)
        assert_int_equal(billing_charge(b, 0, 17770001, 2000 + i), 0);
    assert_int_equal(billing_get(b, 0, &a), 0);
    assert_int_equal(a.balance + a.spent, total);
    assert_int_equal(a.spent, INT64_C(157300000000000) + 17770001000);
    assert_int_equal(a.last_updated_ms, 2999);
    billing_free(b);
}

static void test_insufficient(void **state)
{
    struct billing *b = billing_new(two_keys(), 1000);
    struct billing_account a;

    (void)state;
    /* Zero balance pays nothing, not even a free request. */
    assert_int_equal(billing_charge(b, 1, 0, 5000), -1);
    assert_int_equal(billing_charge(b, 0, INT64_C(42500000000001), 5000), -1);
    assert_int_equal(billing_charge(b, 0, INT64_C(42500000000000), 5000), 0);
    assert_int_equal(billing_get(b, 0, &a), 0);
    assert_int_equal(a.balance, 0);
    assert_int_equal(billing_charge(b, 0, 1, 6000), -1);
    assert_int_equal(billing_charge(b, 7, 1, 6000), -1);
    assert_int_equal(billing_get(b, 7, &a), -1);
    billing_free(b);
}

static void test_format(void **state)
{
    char out[48];

    (void)state;
    billing_format_usd(INT64_C(42500000000000), out, sizeof(out));
    assert_string_equal(out, "42.5");
    billing_format_usd(0, out, sizeof(out));
    assert_string_equal(out, "0");
    billing_format_usd(1, out, sizeof(out));
    assert_string_equal(out, "0.000000000001");
    billing_format_usd(INT64_C(157300027500000), out, sizeof(out));
    assert_string_equal(out, "157.3000275");
    billing_format_usd(-INT64_C(1500000000000), out, sizeof(out));
    assert_string_equal(out, "-1.5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_is_exact),
        cmocka_unit_test(test_charge_conserves_money),
        cmocka_unit_test(test_insufficient),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
