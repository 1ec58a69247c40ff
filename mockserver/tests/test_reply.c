/* test_reply: the generated reply's bytes are pinned, so that the README's
 * promise (the same request gives the same content everywhere) is checked:
 * the hash takes seed and choice index as explicit little-endian bytes, so
 * these strings must come out the same on any host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "reply.h"
#include "validate.h"

/* A request and the completion built for it. */
struct built {
    json_t *body;
    struct chat_request req;
    struct completion *c;
};

/* Validates text within lim (NULL: the defaults) and builds its
 * completion, asserting both succeed. */
static struct completion *build(struct built *b, const char *text,
                                const struct budget_limits *lim)
{
    struct api_error err;

    b->c = NULL;
    b->body = json_loads(text, 0, NULL);
    assert_non_null(b->body);
    memset(&err, 0, sizeof(err));
    if (validate_chat_request_within(b->body, lim, &b->req, &err) != 0)
        fail_msg("rejected: %s", err.message);
    assert_int_equal(completion_build(&b->req, "chatcmpl-test", 0, &b->c), 0);
    return b->c;
}

/* Frees what build made. */
static void built_free(struct built *b)
{
    completion_free(b->c);
    chat_request_cleanup(&b->req);
    json_decref(b->body);
}

/* A known request and seed give known prose, choice by choice. */
static void test_prose_pinned(void **state)
{
    struct built b;
    struct completion *c =
        build(&b,
              "{\"model\":\"deepseek-v4\",\"seed\":1234605616436508552,"
              "\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":"
              "\"Pin the bytes\"}]}",
              NULL);

    (void)state;
    assert_int_equal(c->n, 2);
    assert_string_equal(c->choices[0].content,
                        "After chat balance so tests we your fast.");
    assert_string_equal(c->choices[1].content,
                        "So answers for is words tokens the keep a exactly "
                        "this each. Tests order message arrive retries "
                        "gives usage we the text. The prompt this exactly "
                        "it fast.");
    built_free(&b);
}

/* Tool arguments and the call id come from the same hash. */
static void test_tool_call_pinned(void **state)
{
    struct built b;
    struct completion *c = build(
        &b,
        "{\"model\":\"deepseek-v4\",\"seed\":-7,\"messages\":[{\"role\":"
        "\"user\",\"content\":\"Weather?\"}],\"tools\":[{\"type\":"
        "\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":"
        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
        "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7},"
        "\"unit\":{\"enum\":[\"c\",\"f\"]}},\"required\":[\"city\"]}}}]}",
        NULL);

    (void)state;
    assert_string_equal(c->choices[0].tool_name, "get_weather");
    assert_string_equal(c->choices[0].tool_call_id, "call_f1c58b87a744c4c3");
    assert_string_equal(c->choices[0].content,
                        "{\"city\":\"is up cost\",\"days\":5,\"unit\":\"f\"}");
    built_free(&b);
}

/* n=128 with 20 log probabilities per token cost 180 ms: each choice now
 * pays its tokens' log probabilities from its share and stops where the
 * share runs out, as at max_tokens. */
static void test_logprobs_within_budget(void **state)
{
    struct built b;
    struct completion *c = build(
        &b,
        "{\"model\":\"m\",\"n\":128,\"logprobs\":true,\"top_logprobs\":20,"
        "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        NULL);
    unsigned i;

    (void)state;
    assert_int_equal(c->n, 128);
    for (i = 0; i < c->n; i++) {
        assert_string_equal(c->choices[i].finish_reason, "length");
        /* 8192 / 128 = 64 values a choice; a token with 20 alternatives
         * takes more than 200. */
        assert_int_equal(c->choices[i].ntok, 0);
    }
    assert_true(c->completion_tokens <= completion_token_bound(&b.req));
    built_free(&b);
}

/* Plain n=128 prose fits its shares whole. */
static void test_n128_prose_whole(void **state)
{
    struct built b;
    struct completion *c =
        build(&b,
              "{\"model\":\"m\",\"n\":128,\"messages\":[{\"role\":\"user\","
              "\"content\":\"hi\"}]}",
              NULL);
    unsigned i;

    (void)state;
    for (i = 0; i < c->n; i++)
        assert_string_equal(c->choices[i].finish_reason, "stop");
    assert_true(c->completion_tokens <= completion_token_bound(&b.req));
    assert_int_equal(completion_token_bound(&b.req), 128 * (8192 / 128));
    built_free(&b);
}

/* A value richer than the budget holds gives way to the smallest, whole. */
static void test_rich_value_gives_way(void **state)
{
    static const struct budget_limits lim = {1000, 1u << 20, 32};
    struct built b;
    struct completion *c = build(
        &b,
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"hi\"}],\"response_format\":{\"type\":\"json_schema\","
        "\"json_schema\":{\"name\":\"s\",\"schema\":{\"type\":\"array\","
        "\"minItems\":100,\"maxItems\":100,\"items\":{\"type\":\"object\","
        "\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":"
        "\"string\"}}}}}}}",
        &lim);
    char want[512];
    size_t i, len = 0;

    (void)state;
    want[len++] = '[';
    for (i = 0; i < 100; i++)
        len += (size_t)snprintf(want + len, sizeof(want) - len, "%s{}",
                                i ? "," : "");
    snprintf(want + len, sizeof(want) - len, "]");
    assert_string_equal(c->choices[0].content, want);
    assert_string_equal(c->choices[0].finish_reason, "stop");
    assert_int_equal(completion_token_bound(&b.req), 1000);
    built_free(&b);
}

/* max_tokens bounds the reservation when it is the smaller. */
static void test_token_bound_max_tokens(void **state)
{
    struct built b;
    struct completion *c = build(
        &b,
        "{\"model\":\"m\",\"n\":3,\"max_tokens\":5,\"messages\":[{\"role\":"
        "\"user\",\"content\":\"hi\"}]}",
        NULL);

    (void)state;
    assert_int_equal(completion_token_bound(&b.req), 15);
    assert_int_equal(c->completion_tokens, 15);
    built_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prose_pinned),
        cmocka_unit_test(test_tool_call_pinned),
        cmocka_unit_test(test_logprobs_within_budget),
        cmocka_unit_test(test_n128_prose_whole),
        cmocka_unit_test(test_rich_value_gives_way),
        cmocka_unit_test(test_token_bound_max_tokens),
    };
    return cmocka_run_group_tests_name("reply", tests, NULL, NULL);
}
