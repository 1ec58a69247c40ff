/* test_tokenize: the documented tokenizer rules and prompt counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokenize.h"
#include "validate.h"

/* Splits s into tokens joined by '|' for easy comparison. */
static void split(const char *s, char *out, size_t outlen)
{
    size_t len = strlen(s), pos = 0, o = 0;

    while (pos < len) {
        size_t end = tokenize_next(s, len, pos);

        if (o > 0 && o + 1 < outlen)
            out[o++] = '|';
        while (pos < end && o + 1 < outlen)
            out[o++] = s[pos++];
    }
    out[o] = '\0';
}

/* Checks the split of in, and that counting agrees with it. */
static void assert_split(const char *in, const char *want)
{
    char got[512];
    uint64_t tokens = want[0] ? 1 : 0;
    size_t k;

    split(in, got, sizeof(got));
    assert_string_equal(got, want);
    for (k = 0; want[k] != '\0'; k++)
        tokens += want[k] == '|';
    assert_int_equal(tokenize_count(in, strlen(in)), tokens);
}

static void test_words_and_spaces(void **state)
{
    (void)state;
    assert_split("Hello world", "Hello| world");
    assert_split("Hello, world!", "Hello|,| world|!");
    assert_split("a  b", "a| | b");
    assert_split("a\n\nb", "a|\n\n|b");
    assert_split("  lead", " | lead");
    assert_split("trail ", "trail| ");
    assert_split("", "");
}

static void test_long_runs(void **state)
{
    (void)state;
    assert_split("internationalization", "internatio|nalization");
    assert_split(" abcdefghijkl", " abcdefghij|kl");
    assert_split("1234567", "123|456|7");
    assert_split("abc123", "abc|123");
    assert_split("x 2024", "x| 202|4");
}

static void test_utf8(void **state)
{
    (void)state;
    /* Each CJK character is one token; a space before it is its own. */
    assert_split("\xe4\xbd\xa0\xe5\xa5\xbd", "\xe4\xbd\xa0|\xe5\xa5\xbd");
    assert_split("hi \xf0\x9f\x98\x80", "hi| |\xf0\x9f\x98\x80");
    /* A stray continuation byte and a truncated sequence: one each. */
    assert_split("\x80\xe4\xbd", "\x80|\xe4|\xbd");
}

static void test_prompt_count(void **state)
{
    struct chat_message msgs[2];
    struct chat_request req;
    json_t *c1 = json_string("You are a helpful assistant.");
    json_t *c2 = json_string("Hello!");

    (void)state;
    memset(&req, 0, sizeof(req));
    memset(msgs, 0, sizeof(msgs));
    msgs[0].role = "system";
    msgs[0].content = c1;
    msgs[1].role = "user";
    msgs[1].content = c2;
    msgs[1].name = "bob";
    req.messages = msgs;
    req.nmessages = 2;
    /* 3 priming + (3 + system 1 + 6 text) + (3 + user 1 + 2 text + bob 1 +
     * 1 for the name) = 3 + 10 + 8. */
    assert_int_equal(tokenize_prompt(&req), 21);
    json_decref(c1);
    json_decref(c2);
}

static void test_prompt_parts_and_tools(void **state)
{
    struct chat_message m;
    struct chat_request req;
    json_t *parts = json_pack("[{s:s, s:s}, {s:s, s:{s:s}}]", "type", "text",
                              "text", "two words", "type", "image_url",
                              "image_url", "url", "http://x/y.png");
    json_t *calls =
        json_pack("[{s:s, s:s, s:{s:s, s:s}}]", "id", "c1", "type", "function",
                  "function", "name", "get_weather", "arguments", "{\"a\":1}");

    (void)state;
    memset(&req, 0, sizeof(req));
    memset(&m, 0, sizeof(m));
    m.role = "user";
    m.content = parts;
    m.tool_calls = calls;
    req.messages = &m;
    req.nmessages = 1;
    /* 3 + 3 + user 1 + "two| words" 2 + get|_|weather 3 + {|"|a|"|:|1|} 7 */
    assert_int_equal(tokenize_prompt(&req), 19);
    json_decref(parts);
    json_decref(calls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_and_spaces),
        cmocka_unit_test(test_long_runs),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_prompt_count),
        cmocka_unit_test(test_prompt_parts_and_tools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
