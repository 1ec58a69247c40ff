/* test_chat: the chat stream source, driven through its operations as the
 * HTTP layer drives it, and the money it carries: reserved while it runs,
 * settled when it ends having sent something, released when it sent
 * nothing. */
#include <setjmp.h>
#include <stdarg.h>
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
 * *cost is what it costs. */
static struct source stream_of(struct world *w, int64_t *cost)
{
    static const struct sse_pacing pacing = {100, 10};
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
    *cost = billing_cost(fixtures_find_model(w->fx, "qwen-max"),
                         c->prompt_tokens, c->completion_tokens);
    assert_true(*cost > 0);
    assert_int_equal(billing_reserve(w->billing, w->key, *cost, &hold), 0);
    assert_int_equal(chat_stream_source(sse_stream_new(c, &pacing), w->billing,
                                        w->clock, &hold, *cost, &src),
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
    int64_t cost;
    enum source_step step;

    src = stream_of(w, &cost);
    during = account(w);
    assert_int_equal(during.reserved, before.reserved + cost);
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
    assert_int_equal(after.spent, before.spent + cost);
    assert_int_equal(after.balance, before.balance - cost);
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
    int64_t cost;

    src = stream_of(w, &cost);
    memset(&how, 0, sizeof(how));
    how.client_gone = true;
    src.ops->end(src.self, &how);
    after = account(w);
    assert_int_equal(after.spent, before.spent);
    assert_int_equal(after.reserved, before.reserved);
    assert_int_equal(after.last_updated_ms, before.last_updated_ms);
}

/* A stream cut after some events is charged in full, for now (billing what
 * was delivered is the reliability issue's). */
static void test_cut_stream_is_charged(void **state)
{
    struct world *w = *state;
    struct billing_account before = account(w), after;
    struct source src;
    struct source_end how;
    struct buf out;
    int64_t cost;

    src = stream_of(w, &cost);
    buf_init(&out, 1 << 20);
    assert_int_equal(src.ops->next(src.self, &out), SOURCE_PIECE);
    assert_int_equal(src.ops->next(src.self, &out), SOURCE_PIECE);
    memset(&how, 0, sizeof(how));
    how.client_gone = true;
    how.pieces = 2;
    how.bytes = out.len;
    src.ops->end(src.self, &how);
    after = account(w);
    assert_int_equal(after.spent, before.spent + cost);
    assert_int_equal(after.reserved, before.reserved);
    buf_cleanup(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completed_stream_is_settled),
        cmocka_unit_test(test_unsent_stream_is_released),
        cmocka_unit_test(test_cut_stream_is_charged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
