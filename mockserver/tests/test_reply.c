/* test_reply: the generated reply's bytes are pinned, so that the README's
 * promise (the same request gives the same content everywhere) is checked:
 * the hash takes seed and choice index as explicit little-endian bytes, so
 * these strings must come out the same on any host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "reply.h"
#include "validate.h"

/* Builds the completion of body (JSON text), asserting success. */
static struct completion *build(const char *text, json_t **body,
                                struct chat_request *req)
{
    struct api_error err;
    struct completion *c = NULL;

    *body = json_loads(text, 0, NULL);
    assert_non_null(*body);
    memset(&err, 0, sizeof(err));
    if (validate_chat_request(*body, req, &err) != 0)
        fail_msg("rejected: %s", err.message);
    assert_int_equal(completion_build(req, "chatcmpl-test", 0, &c), 0);
    return c;
}

/* A known request and seed give known prose, choice by choice. */
static void test_prose_pinned(void **state)
{
    struct chat_request req;
    json_t *body;
    struct completion *c =
        build("{\"model\":\"deepseek-v4\",\"seed\":1234605616436508552,"
              "\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":"
              "\"Pin the bytes\"}]}",
              &body, &req);

    (void)state;
    assert_int_equal(c->n, 2);
    assert_string_equal(c->choices[0].content,
                        "After chat balance so tests we your fast.");
    assert_string_equal(c->choices[1].content,
                        "So answers for is words tokens the keep a exactly "
                        "this each. Tests order message arrive retries "
                        "gives usage we the text. The prompt this exactly "
                        "it fast.");
    completion_free(c);
    chat_request_cleanup(&req);
    json_decref(body);
}

/* Tool arguments and the call id come from the same hash. */
static void test_tool_call_pinned(void **state)
{
    struct chat_request req;
    json_t *body;
    struct completion *c = build(
        "{\"model\":\"deepseek-v4\",\"seed\":-7,\"messages\":[{\"role\":"
        "\"user\",\"content\":\"Weather?\"}],\"tools\":[{\"type\":"
        "\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":"
        "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
        "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7},"
        "\"unit\":{\"enum\":[\"c\",\"f\"]}},\"required\":[\"city\"]}}}]}",
        &body, &req);

    (void)state;
    assert_string_equal(c->choices[0].tool_name, "get_weather");
    assert_string_equal(c->choices[0].tool_call_id, "call_f1c58b87a744c4c3");
    assert_string_equal(c->choices[0].content,
                        "{\"city\":\"is up cost\",\"days\":5,\"unit\":\"f\"}");
    completion_free(c);
    chat_request_cleanup(&req);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prose_pinned),
        cmocka_unit_test(test_tool_call_pinned),
    };
    return cmocka_run_group_tests_name("reply", tests, NULL, NULL);
}
