/* test_money: what /v1/balance prints, read by a client as text: every
 * amount the ledger holds as an exact decimal (up to 12 places, no
 * exponent), before and after charges, and parsed back by jansson to the
 * same number. Drives a real nexus-mock over loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "testutil.h"

/* Balances a double cannot hold, or prints in exponent form. */
static const char fixture[] =
    "version: 1\n"
    "plans:\n"
    "  open: {requests_per_minute: 0}\n"
    "models:\n"
    "  - id: m1\n"
    "    created: 1700000000\n"
    "    price: {input_per_million: 0.123457, output_per_million: 1.5}\n"
    "keys:\n"
    "  - {key: sk-tiny, plan: open, balance: 0.00000015, total_spent: "
    "0.000000000001}\n"
    "  - {key: sk-huge, plan: open, balance: 8999999.123456789011, "
    "total_spent: 0.000000000001}\n"
    "  - {key: sk-round, plan: open, balance: 5, total_spent: 0}\n";

static struct testproc mock;
static char *fixture_path;

static int start(void **state)
{
    const char *extra[] = {"--fixtures", NULL, NULL};

    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    fixture_path = temp_fixture(fixture);
    if (fixture_path == NULL)
        return -1;
    extra[1] = fixture_path;
    return mock_start(&mock, extra);
}

static int stop(void **state)
{
    int rc = testproc_stop(&mock);

    (void)state;
    unlink(fixture_path);
    free(fixture_path);
    return rc == 0 ? 0 : -1;
}

/* The text of the number after "name": in body, copied into out. */
static void number_text(const char *body, const char *name, char *out,
                        size_t outlen)
{
    char key[64];
    const char *p;
    size_t n = 0;

    snprintf(key, sizeof(key), "\"%s\":", name);
    p = strstr(body, key);
    assert_non_null(p);
    p += strlen(key);
    while (p[n] != '\0' && strchr("+-0123456789.eE", p[n]) != NULL)
        n++;
    assert_true(n > 0 && n < outlen);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* GETs the key's balance; checks that each amount is printed as the exact
 * decimal expected and that jansson reads the same number back. */
static void expect_balance(const char *key, const char *balance,
                           const char *spent)
{
    struct http_reply r;
    char text[64];

    assert_int_equal(http_do(&mock, "GET", "/v1/balance", key, NULL, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    number_text(r.body, "balance", text, sizeof(text));
    assert_string_equal(text, balance);
    assert_true(json_number_value(json_object_get(r.json, "balance")) ==
                strtod(balance, NULL));
    number_text(r.body, "total_spent", text, sizeof(text));
    assert_string_equal(text, spent);
    assert_true(json_number_value(json_object_get(r.json, "total_spent")) ==
                strtod(spent, NULL));
    assert_string_equal(json_string_value(json_object_get(r.json, "currency")),
                        "USD");
    assert_int_equal(json_object_size(r.json), 4);
    http_reply_free(&r);
}

/* Amounts print as the ledger holds them: no exponent, no rounding. */
static void test_exact_decimals(void **state)
{
    (void)state;
    expect_balance("sk-tiny", "0.00000015", "0.000000000001");
    expect_balance("sk-huge", "8999999.123456789011", "0.000000000001");
    /* A whole amount keeps a decimal point, so it stays a fraction type
     * for clients that tell integers from reals. */
    expect_balance("sk-round", "5.0", "0.0");
}

/* After a charge, the printed amounts are the ledger's to the last
 * pico-USD: the drop is exactly the cost of the usage reported. */
static void test_exact_after_charge(void **state)
{
    static const char body[] =
        "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"Hello there\"}]}";
    struct http_reply r;
    json_t *usage;
    int64_t before, spent, cost, after, spent_after;

    (void)state;
    assert_int_equal(balance_pico(&mock, "sk-huge", &before, &spent), 0);
    assert_int_equal(http_do(&mock, "POST", "/v1/chat/completions", "sk-huge",
                             body, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    usage = json_object_get(r.json, "usage");
    /* 0.123457 and 1.5 USD per million tokens, in pico-USD per token. */
    cost = json_integer_value(json_object_get(usage, "prompt_tokens")) *
               INT64_C(123457) +
           json_integer_value(json_object_get(usage, "completion_tokens")) *
               INT64_C(1500000);
    assert_true(cost > 0);
    http_reply_free(&r);
    assert_int_equal(balance_pico(&mock, "sk-huge", &after, &spent_after), 0);
    assert_int_equal(before - after, cost);
    assert_int_equal(spent_after - spent, cost);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_decimals),
        cmocka_unit_test(test_exact_after_charge),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
