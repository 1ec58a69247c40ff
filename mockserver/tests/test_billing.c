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

/* Reserves cost for key and settles it whole at now_ms. */
static int charge(struct billing *b, size_t key, int64_t cost, uint64_t now)
{
    struct billing_hold h;

    if (billing_reserve(b, key, cost, &h) != 0)
        return -1;
    return billing_settle(b, &h, cost, now) == cost ? 0 : -1;
}

static void test_charge_conserves_money(void **state)
{
    struct billing *b = billing_new(two_keys(), 1000);
    struct billing_account a;
    int64_t total = INT64_C(42500000000000) + INT64_C(157300000000000);
    int i;

    (void)state;
    for (i = 0; i < 1000; i++)
        assert_int_equal(charge(b, 0, 17770001, 2000 + i), 0);
    assert_int_equal(billing_get(b, 0, &a), 0);
    assert_int_equal(a.balance + a.spent, total);
    assert_int_equal(a.spent, INT64_C(157300000000000) + 17770001000);
    assert_int_equal(a.reserved, 0);
    assert_int_equal(a.last_updated_ms, 2999);
    billing_free(b);
}

static void test_insufficient(void **state)
{
    struct billing *b = billing_new(two_keys(), 1000);
    struct billing_account a;
    struct billing_hold h;

    (void)state;
    /* Zero balance pays nothing, not even a free request. */
    assert_int_equal(billing_reserve(b, 1, 0, &h), -1);
    assert_false(h.active);
    assert_int_equal(billing_reserve(b, 0, INT64_C(42500000000001), &h), -1);
    assert_int_equal(billing_reserve(b, 0, -1, &h), -1);
    assert_int_equal(charge(b, 0, INT64_C(42500000000000), 5000), 0);
    assert_int_equal(billing_get(b, 0, &a), 0);
    assert_int_equal(a.balance, 0);
    assert_int_equal(charge(b, 0, 1, 6000), -1);
    assert_int_equal(charge(b, 7, 1, 6000), -1);
    assert_int_equal(billing_get(b, 7, &a), -1);
    billing_free(b);
}

/* Reserved money is withheld from other reservations but shows in neither
 * balance nor spend until settled; released, it was never charged. */
static void test_reserve_settle_release(void **state)
{
    struct billing *b = billing_new(two_keys(), 1000);
    struct billing_account a;
    struct billing_hold h1, h2, h3;

    (void)state;
    assert_int_equal(billing_reserve(b, 0, INT64_C(40000000000000), &h1), 0);
    assert_true(h1.active);
    assert_int_equal(billing_get(b, 0, &a), 0);
    assert_int_equal(a.balance, INT64_C(42500000000000));
    assert_int_equal(a.spent, INT64_C(157300000000000));
    assert_int_equal(a.reserved, INT64_C(40000000000000));
    /* 2.50 left to reserve: 2.50 fits, a cent more does not. */
    assert_int_equal(billing_reserve(b, 0, INT64_C(2510000000000), &h2), -1);
    assert_int_equal(billing_reserve(b, 0, INT64_C(2500000000000), &h2), 0);
    /* Nothing is left, so even a free request is refused. */
    assert_int_equal(billing_reserve(b, 0, 0, &h3), -1);
    /* Released: no charge, last_updated unchanged. */
    billing_release(b, &h1);
    assert_false(h1.active);
    assert_int_equal(billing_get(b, 0, &a), 0);
    assert_int_equal(a.balance, INT64_C(42500000000000));
    assert_int_equal(a.reserved, INT64_C(2500000000000));
    assert_int_equal(a.last_updated_ms, 1000);
    /* Settled for less than held (a cut stream): the rest comes back. */
    assert_int_equal(billing_settle(b, &h2, INT64_C(1000000000000), 7000),
                     INT64_C(1000000000000));
    assert_int_equal(billing_get(b, 0, &a), 0);
    assert_int_equal(a.balance, INT64_C(41500000000000));
    assert_int_equal(a.spent, INT64_C(158300000000000));
    assert_int_equal(a.reserved, 0);
    assert_int_equal(a.last_updated_ms, 7000);
    /* Ended holds are empty: settling or releasing again moves nothing. */
    assert_int_equal(billing_settle(b, &h2, 5, 8000), 0);
    billing_release(b, &h1);
    /* A settle never charges more than was held. */
    assert_int_equal(billing_reserve(b, 0, 100, &h1), 0);
    assert_int_equal(billing_settle(b, &h1, 250, 9000), 100);
    assert_int_equal(billing_get(b, 0, &a), 0);
    assert_int_equal(a.balance + a.spent,
                     INT64_C(42500000000000) + INT64_C(157300000000000));
    assert_int_equal(a.spent, INT64_C(158300000000100));
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
        cmocka_unit_test(test_reserve_settle_release),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
