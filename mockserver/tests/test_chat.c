/* test_chat: the chat stream source, driven through its operations as the
 * HTTP layer drives it, and the money it carries: reserved while it runs,
 * settled when it ends for what it sent, released when it sent
 * nothing. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "billing.h"
#include "buf.h"
#include "chat.h"
#include "clock.h"
#include "fixtures.h"
#include "reply.h"
#include "sse.h"
#include "validate.h"

struct world {
    struct fixtures *fx;
    struct billing *billing;
    struct clock *clock;
    size_t key;
    int64_t total; /* balance + spent of the key, which nothing may change */
};

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    struct fixture_error err;
    struct billing_account a;

    if (w == NULL || fixtures_load_default(&w->fx, &err) != 0)
        return -1;
    w->billing = billing_new(w->fx, 1000);
    w->clock = clock_new();
    w->key =
        (size_t)(fixtures_find_key(w->fx, "sk-ai-nexus-test") - w->fx->keys);
    if (w->billing == NULL || w->clock == NULL ||
        billing_get(w->billing, w->key, &a) != 0)
        return -1;
    w->total = a.balance + a.spent;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    clock_free(w->clock);
    billing_free(w->billing);
    fixtures_free(w->fx);
    free(w);
    return 0;
}

/* A stream source over the streamed reply to "hi" with its cost reserved;
 * *bill is what it is billed. */
static struct source stream_of(struct world *w, struct chat_stream_bill *bill)
{
    const struct fx_model *m = fixtures_find_model(w->fx, "qwen-max");
    static const struct sse_pacing pacing = {100, 10, 0, 0};
    json_t *body = json_loads("{\"model\":\"qwen-max\",\"stream\":true,"
                              "\"messages\":[{\"role\":\"user\","
                              "\"content\":\"hi\"}]}",
                              0, NULL);
    struct chat_request req;
    struct completion *c = NULL;
    struct api_error e;
    struct billing_hold hold;
    struct source src;

    assert_int_equal(validate_chat_request(body, &req, &e), 0);
    assert_int_equal(completion_build(&req, "chatcmpl-t", 1718000000, &c), 0);
    bill->cost = billing_cost(m, c->prompt_tokens, c->completion_tokens);
    bill->prompt_tokens = c->prompt_tokens;
    bill->price_in = m->price_in;
    bill->price_out = m->price_out;
    assert_true(bill->cost > 0);
    assert_int_equal(billing_reserve(w->billing, w->key, bill->cost, &hold), 0);
    assert_int_equal(chat_stream_source(sse_stream_new(c, &pacing), w->billing,
                                        w->clock, &hold, bill, &src),
                     0);
    assert_false(hold.active); /* the source holds the money now */
    chat_request_cleanup(&req);
    json_decref(body);
    return src;
}

/* The key's account, checking that money was neither made nor lost. */
static struct billing_account account(const struct world *w)
{
    struct billing_account a;

    assert_int_equal(billing_get(w->billing, w->key, &a), 0);
    assert_int_equal(a.balance + a.spent, w->total);
    return a;
}

static void test_completed_stream_is_settled(void **state)
{
    struct world *w = *state;
    struct billing_account before = account(w), during, after;
    struct source src;
    struct source_end how;
    struct buf out;
    struct chat_stream_bill bill;
    enum source_step step;

    src = stream_of(w, &bill);
    during = account(w);
    assert_int_equal(during.reserved, before.reserved + bill.cost);
    assert_int_equal(during.spent, before.spent);
    assert_int_equal(src.ops->due_ms(src.self), 100);
    src.ops->hurry(src.self);
    assert_int_equal(src.ops->due_ms(src.self), 0);
    memset(&how, 0, sizeof(how));
    buf_init(&out, 1 << 20);
    while ((step = src.ops->next(src.self, &out)) == SOURCE_PIECE)
        how.pieces++;
    assert_int_equal(step, SOURCE_DONE);
    assert_true(how.pieces > 3);
    assert_non_null(strstr(out.data, "data: [DONE]\n\n"));
    how.completed = true;
    how.bytes = out.len;
    src.ops->end(src.self, &how);
    after = account(w);
    assert_int_equal(after.spent, before.spent + bill.cost);
    assert_int_equal(after.balance, before.balance - bill.cost);
    assert_int_equal(after.reserved, before.reserved);
    assert_true(after.last_updated_ms > 1000);
    buf_cleanup(&out);
}

/* A stream the HTTP layer could not start, or whose client left before
 * the first event, answered nothing and costs nothing. */
static void test_unsent_stream_is_released(void **state)
{
    struct world *w = *state;
    struct billing_account before = account(w), after;
    struct source src;
    struct source_end how;
    struct chat_stream_bill bill;

    src = stream_of(w, &bill);
    memset(&how, 0, sizeof(how));
    how.client_gone = true;
    src.ops->end(src.self, &how);
    after = account(w);
    assert_int_equal(after.spent, before.spent);
    assert_int_equal(after.reserved, before.reserved);
    assert_int_equal(after.last_updated_ms, before.last_updated_ms);
}

/* Makes up to `made` events of a fresh stream (all of them for
 * UINT_MAX), ends it as cut (by the client, or by the shutdown) with
 * `sent` of them handed on, and returns what it was charged. */
static int64_t charge_when_cut(struct world *w, unsigned made, bool shutdown,
                               uint64_t sent, struct chat_stream_bill *bill)
{
    struct billing_account before = account(w), after;
    struct source src = stream_of(w, bill);
    struct source_end how;
    struct buf out;
    unsigned k;

    buf_init(&out, 1 << 20);
    for (k = 0; k < made && src.ops->next(src.self, &out) == SOURCE_PIECE; k++)
        ;
    memset(&how, 0, sizeof(how));
    how.client_gone = !shutdown;
    how.shutdown = shutdown;
    how.pieces = sent;
    how.bytes = out.len;
    src.ops->end(src.self, &how);
    buf_cleanup(&out);
    after = account(w);
    assert_int_equal(after.reserved, before.reserved);
    assert_int_equal(before.balance - after.balance,
                     after.spent - before.spent);
    return after.spent - before.spent;
}

/* A stream cut after some events is charged, as the real APIs charge a
 * client that disconnects, for its prompt and the tokens it delivered:
 * here the role chunk and one token (a third event was made, never handed
 * on). */
static void test_cut_stream_is_charged_for_what_went_out(void **state)
{
    struct chat_stream_bill bill;
    int64_t charged = charge_when_cut(*state, 3, false, 2, &bill);

    assert_int_equal(charged, (int64_t)bill.prompt_tokens * bill.price_in +
                                  bill.price_out);
    assert_true(charged < bill.cost);
}

/* A stream cut by the server's shutdown after every event went out (only
 * the end of its framing lost) costs its whole completion. */
static void test_cut_after_every_event_costs_all(void **state)
{
    struct chat_stream_bill bill;
    int64_t charged = charge_when_cut(*state, UINT_MAX, true, 1000, &bill);

    assert_int_equal(charged, bill.cost);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completed_stream_is_settled),
        cmocka_unit_test(test_unsent_stream_is_released),
        cmocka_unit_test(test_cut_stream_is_charged_for_what_went_out),
        cmocka_unit_test(test_cut_after_every_event_costs_all),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
