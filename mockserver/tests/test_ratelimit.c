/* test_ratelimit: fixed windows, refusals, headers' numbers, with an
 * injected clock (plain numbers) so nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"
#include "router.h"

static void test_requests_window(void **state)
{
    struct ratelimit *rl = ratelimit_new(2);
    struct rl_limits lim = {10, 0, 0};
    struct rl_state st;
    uint32_t i;

    (void)state;
    ratelimit_peek(rl, 0, &lim, 5000, &st);
    assert_int_equal(st.remaining_req, 10);
    assert_int_equal(st.reset_req_ms, 0);
    for (i = 0; i < 10; i++) {
        assert_int_equal(ratelimit_admit(rl, 0, &lim, 0, 5000 + i * 100, &st),
                         RL_ADMIT);
        assert_int_equal(st.limit_req, 10);
        assert_int_equal(st.remaining_req, 9 - i);
        assert_int_equal(st.reset_req_ms, 60000 - i * 100);
        assert_false(st.limit_tokens);
    }
    /* The eleventh within the minute is refused and not counted. */
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 0, 20000, &st),
                     RL_REFUSE_REQUESTS);
    assert_int_equal(st.remaining_req, 0);
    assert_int_equal(st.retry_after_ms, 45000);
    /* Another key has its own window. */
    assert_int_equal(ratelimit_admit(rl, 1, &lim, 0, 20000, &st), RL_ADMIT);
    assert_int_equal(st.remaining_req, 9);
    /* One millisecond before the window ends: still refused; at its end,
     * a new window opens. */
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 0, 64999, &st),
                     RL_REFUSE_REQUESTS);
    assert_int_equal(st.retry_after_ms, 1);
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 0, 65000, &st), RL_ADMIT);
    assert_int_equal(st.remaining_req, 9);
    assert_int_equal(st.reset_req_ms, 60000);
    ratelimit_free(rl);
}

static void test_tokens(void **state)
{
    struct ratelimit *rl = ratelimit_new(1);
    struct rl_limits lim = {100, 1000, 0};
    struct rl_state st;

    (void)state;
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 600, 0, &st), RL_ADMIT);
    assert_int_equal(st.remaining_tok, 400);
    assert_int_equal(st.remaining_req, 99);
    assert_int_equal(st.used_tok, 600);
    assert_int_equal(st.used_req, 1);
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 401, 1000, &st),
                     RL_REFUSE_TOKENS);
    assert_int_equal(st.used_tok, 600); /* the refused one is not counted */
    assert_int_equal(st.retry_after_ms, 59000);
    assert_int_equal(st.remaining_req, 99);
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 400, 1000, &st), RL_ADMIT);
    assert_int_equal(st.remaining_tok, 0);
    ratelimit_free(rl);
}

/* Worker threads read the clock before the limiter takes its lock, so an
 * older timestamp can arrive after a newer one opened the window. It must
 * count in that window, not reopen it: rpm=3 admits three, whatever the
 * order of the timestamps. */
static void test_out_of_order_timestamps(void **state)
{
    struct ratelimit *rl = ratelimit_new(1);
    struct rl_limits lim = {3, 0, 0};
    struct rl_state st;
    uint64_t t;
    unsigned admitted = 0;

    (void)state;
    for (t = 60000; t > 59994; t--)
        if (ratelimit_admit(rl, 0, &lim, 0, t, &st) == RL_ADMIT)
            admitted++;
    assert_int_equal(admitted, 3);
    /* The refusal counts from the window's start, never beyond a minute. */
    assert_int_equal(st.retry_after_ms, 60000);
    ratelimit_peek(rl, 0, &lim, 59990, &st);
    assert_int_equal(st.remaining_req, 0);
    assert_int_equal(st.reset_req_ms, 60000);
    /* The window still ends a minute after it opened. */
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 0, 119999, &st),
                     RL_REFUSE_REQUESTS);
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 0, 120000, &st), RL_ADMIT);
    ratelimit_free(rl);
}

/* A reservation counts in full until settled, then only what was used; a
 * hold whose window has ended leaves the next window alone. */
static void test_reserve_settle(void **state)
{
    struct ratelimit *rl = ratelimit_new(1);
    struct rl_limits lim = {100, 1500, 0};
    struct rl_state st;
    struct rl_hold a, b, c;

    (void)state;
    assert_int_equal(ratelimit_reserve(rl, 0, &lim, 1000, 0, &a, &st),
                     RL_ADMIT);
    assert_true(a.active);
    assert_int_equal(st.remaining_tok, 500);
    assert_int_equal(ratelimit_reserve(rl, 0, &lim, 600, 10, &b, &st),
                     RL_REFUSE_TOKENS);
    assert_false(b.active);
    assert_int_equal(st.used_req, 1);
    /* Settled at 100 tokens, reported as of its admission. */
    ratelimit_settle(rl, &lim, &a, 100, a.at_ms, &st);
    assert_false(a.active);
    assert_int_equal(st.remaining_tok, 1400);
    assert_int_equal(st.used_tok, 100);
    assert_int_equal(st.reset_tok_ms, 60000);
    assert_int_equal(ratelimit_reserve(rl, 0, &lim, 600, 20, &b, &st),
                     RL_ADMIT);
    assert_int_equal(st.remaining_tok, 800);
    /* The window ends while b is held: a new one opens, and b's settle
     * takes nothing from it. */
    assert_int_equal(ratelimit_reserve(rl, 0, &lim, 50, 60000, &c, &st),
                     RL_ADMIT);
    assert_int_equal(st.used_tok, 50);
    ratelimit_settle(rl, &lim, &b, 10, b.at_ms, &st);
    assert_int_equal(st.used_tok, 50);
    assert_int_equal(st.used_req, 1);
    /* Using more than reserved counts what was used; an empty hold
     * counts nothing. */
    ratelimit_settle(rl, &lim, &c, 70, c.at_ms, &st);
    assert_int_equal(st.used_tok, 70);
    ratelimit_settle(rl, &lim, &c, 500, 60001, &st);
    ratelimit_peek(rl, 0, &lim, 60001, &st);
    assert_int_equal(st.used_tok, 70);
    ratelimit_free(rl);
}

/* A reset closes the windows (one key's, or every key's); a hold taken
 * before it settles into nothing, even when a new window opened in the
 * same millisecond (it would otherwise take its reservation from a window
 * that never counted it). */
static void test_reset(void **state)
{
    struct ratelimit *rl = ratelimit_new(2);
    struct rl_limits lim = {2, 1000, 0};
    struct rl_state st;
    struct rl_hold a, b;

    (void)state;
    assert_int_equal(ratelimit_reserve(rl, 0, &lim, 400, 1000, &a, &st),
                     RL_ADMIT);
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 0, 1000, &st), RL_ADMIT);
    assert_int_equal(ratelimit_admit(rl, 0, &lim, 0, 1000, &st),
                     RL_REFUSE_REQUESTS);
    assert_int_equal(ratelimit_admit(rl, 1, &lim, 0, 1000, &st), RL_ADMIT);
    assert_int_equal(ratelimit_reset(rl, 0), 1);
    ratelimit_peek(rl, 0, &lim, 1000, &st);
    assert_int_equal(st.used_req, 0);
    assert_int_equal(st.reset_req_ms, 0);
    ratelimit_peek(rl, 1, &lim, 1000, &st);
    assert_int_equal(st.used_req, 1); /* the other key kept its window */
    assert_int_equal(ratelimit_reserve(rl, 0, &lim, 30, 1000, &b, &st),
                     RL_ADMIT);
    ratelimit_settle(rl, &lim, &a, 10, a.at_ms, &st);
    assert_int_equal(st.used_tok, 30);
    ratelimit_settle(rl, &lim, &b, 20, b.at_ms, &st);
    assert_int_equal(st.used_tok, 20);
    assert_int_equal(ratelimit_reset(rl, RATELIMIT_ALL_KEYS), 2);
    ratelimit_peek(rl, 1, &lim, 1000, &st);
    assert_int_equal(st.used_req, 0);
    ratelimit_free(rl);
}

static void test_unlimited(void **state)
{
    struct ratelimit *rl = ratelimit_new(1);
    struct rl_limits lim = {0, 0, 0};
    struct rl_state st;
    int i;

    (void)state;
    for (i = 0; i < 1000; i++)
        assert_int_equal(ratelimit_admit(rl, 0, &lim, 50, 0, &st), RL_ADMIT);
    assert_false(st.limit_requests);
    ratelimit_free(rl);
}

static void test_duration_format(void **state)
{
    char out[32];

    (void)state;
    router_format_duration(0, out, sizeof(out));
    assert_string_equal(out, "0s");
    router_format_duration(20, out, sizeof(out));
    assert_string_equal(out, "20ms");
    router_format_duration(1500, out, sizeof(out));
    assert_string_equal(out, "1.5s");
    router_format_duration(59874, out, sizeof(out));
    assert_string_equal(out, "59.874s");
    router_format_duration(60000, out, sizeof(out));
    assert_string_equal(out, "1m0s");
    router_format_duration(361010, out, sizeof(out));
    assert_string_equal(out, "6m1.01s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_window),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_out_of_order_timestamps),
        cmocka_unit_test(test_reserve_settle),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_duration_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
