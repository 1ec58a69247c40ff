/* test_lang_stream: scripted replies streamed by a real nexus-mock over
 * loopback, as OpenAI streams them: content in token pieces, one and
 * parallel tool calls (index on every delta, id and name on the first,
 * arguments split), exact scripted deltas, reasoning before content, a
 * reasoning model's generated reasoning within max_tokens, and pacing. */
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

#include "buf.h"
#include "clock.h"
#include "testutil.h"
#include "tokenize.h"

#define CHAT "/v1/chat/completions"
#define USER(text) "\"messages\":[{\"role\":\"user\",\"content\":\"" text "\"}]"
#define TOOL                                                                   \
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"                \
    "\"get_weather\",\"parameters\":{\"type\":\"object\"}}}]"

static const char stream_fixture[] =
    "version: 2\n"
    "plans: {p: {requests_per_minute: 1000}}\n"
    "models:\n"
    "  - {id: m1, created: 1, price: {input_per_million: 1, "
    "output_per_million: 2}}\n"
    "  - {id: r1, created: 1, reasoning: true,\n"
    "     price: {input_per_million: 1, output_per_million: 2}}\n"
    "keys:\n"
    "  - {key: k1, plan: p, balance: 10}\n"
    "rules:\n"
    "  - name: hello\n"
    "    match: {last_user_message: hello}\n"
    "    reply: {content: 'Hello, world!'}\n"
    "  - name: weather-call\n"
    "    match:\n"
    "      tool: get_weather\n"
    "      tool_result: false\n"
    "      last_user_message: {contains: weather}\n"
    "    reply:\n"
    "      tool_calls:\n"
    "        - {id: call_1, name: get_weather, arguments: {city: Paris}}\n"
    "  - name: parallel\n"
    "    match: {tool: get_weather, last_user_message: {contains: both}}\n"
    "    reply:\n"
    "      tool_calls:\n"
    "        - {id: call_a, name: get_weather, arguments: {city: Paris}}\n"
    "        - {id: call_b, name: get_weather, arguments: {city: Tokyo}}\n"
    "  - name: after-tool\n"
    "    match:\n"
    "      tool_result: {tool_call_id: call_1, content: {contains: sunny}}\n"
    "    reply: {content: It is sunny in Paris.}\n"
    "  - name: exact-deltas\n"
    "    match: {last_user_message: deltas}\n"
    "    reply:\n"
    "      deltas:\n"
    "        - {role: assistant, content: ''}\n"
    "        - {content: Hel}\n"
    "        - {content: lo}\n"
    "  - name: thinks\n"
    "    match: {last_user_message: think}\n"
    "    reply:\n"
    "      reasoning_content: Let me see.\n"
    "      content: Yes.\n"
    "      finish_reason: length\n"
    "      usage: {prompt_tokens: 10, completion_tokens: 20, "
    "reasoning_tokens: 15}\n"
    "  - name: slow\n"
    "    match: {last_user_message: slow}\n"
    "    reply:\n"
    "      content: one two three four\n"
    "      stream: {time_to_first_token_ms: 200, tokens_per_second: 20}\n";

static struct fixture_mock fm;

static int start(void **state)
{
    (void)state;
    return fixture_mock_start(&fm, stream_fixture, NULL);
}

static int stop(void **state)
{
    (void)state;
    return fixture_mock_stop(&fm);
}

/* The events of a streamed reply: each data line's JSON, in order, after
 * checking the framing ("data: ...\n\n" each, "data: [DONE]" last). */
struct events {
    json_t *v[1024];
    size_t n;
};

/* Posts body (a chat request) and returns its stream's events. */
static void stream(const char *body, struct events *ev)
{
    struct http_reply r;
    const char *p, *end;
    size_t len;

    memset(ev, 0, sizeof(*ev));
    assert_int_equal(http_do(&fm.proc, "POST", CHAT, "k1", body, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    for (p = r.body; (end = strstr(p, "\n\n")) != NULL; p = end + 2) {
        assert_memory_equal(p, "data: ", 6);
        len = (size_t)(end - p - 6);
        if (len == 6 && memcmp(p + 6, "[DONE]", 6) == 0) {
            assert_string_equal(end + 2, ""); /* nothing after [DONE] */
            http_reply_free(&r);
            return;
        }
        assert_true(ev->n < 1024);
        ev->v[ev->n] = json_loadb(p + 6, len, 0, NULL);
        assert_non_null(ev->v[ev->n]);
        ev->n++;
    }
    fail_msg("the stream did not end with [DONE]");
}

static void events_free(struct events *ev)
{
    size_t i;

    for (i = 0; i < ev->n; i++)
        json_decref(ev->v[i]);
}

/* The delta of event i (its one choice), and the choice itself. */
static json_t *choice_of(const struct events *ev, size_t i)
{
    return json_array_get(json_object_get(ev->v[i], "choices"), 0);
}

static json_t *delta_of(const struct events *ev, size_t i)
{
    return json_object_get(choice_of(ev, i), "delta");
}

/* The finish_reason of event i, or NULL. */
static const char *finish_of(const struct events *ev, size_t i)
{
    return json_string_value(
        json_object_get(choice_of(ev, i), "finish_reason"));
}

/* Joins the string field name of every delta into out. */
static void join(const struct events *ev, const char *name, struct buf *out)
{
    const json_t *v;
    size_t i;

    buf_reset(out);
    for (i = 0; i < ev->n; i++) {
        v = json_object_get(delta_of(ev, i), name);
        if (json_is_string(v))
            assert_int_equal(
                buf_append(out, json_string_value(v), json_string_length(v)),
                0);
    }
}

/* The non-streamed reply to body, as JSON (caller decrefs). */
static json_t *complete(const char *body)
{
    struct http_reply r;
    json_t *j;

    assert_int_equal(http_do(&fm.proc, "POST", CHAT, "k1", body, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    j = json_incref(r.json);
    http_reply_free(&r);
    return j;
}

/* The message of choice 0 of a completion. */
static json_t *message_of(json_t *completion)
{
    return json_object_get(
        json_array_get(json_object_get(completion, "choices"), 0), "message");
}

/* Scripted content streams in the tokenizer's pieces after the role. */
static void test_content(void **state)
{
    static const char *const pieces[] = {"Hello", ",", " world", "!"};
    struct events ev;
    size_t i;

    (void)state;
    stream("{\"model\":\"m1\",\"stream\":true," USER("hello") "}", &ev);
    assert_int_equal(ev.n, 6);
    assert_string_equal(
        json_string_value(json_object_get(delta_of(&ev, 0), "role")),
        "assistant");
    for (i = 0; i < 4; i++)
        assert_string_equal(
            json_string_value(json_object_get(delta_of(&ev, i + 1), "content")),
            pieces[i]);
    assert_int_equal(json_object_size(delta_of(&ev, 5)), 0);
    assert_string_equal(finish_of(&ev, 5), "stop");
    events_free(&ev);
}

/* Checks one tool_calls delta: index always; id, type and name exactly
 * when it is the call's first delta; arguments appended to args[index]. */
static void check_call_delta(const json_t *call, bool *seen, struct buf *args,
                             const char *const *ids)
{
    json_int_t index = json_integer_value(json_object_get(call, "index"));
    const json_t *fn = json_object_get(call, "function");
    const char *piece = json_string_value(json_object_get(fn, "arguments"));

    assert_true(json_is_integer(json_object_get(call, "index")));
    assert_true(index >= 0 && index < 2);
    if (!seen[index]) {
        assert_string_equal(json_string_value(json_object_get(call, "id")),
                            ids[index]);
        assert_string_equal(json_string_value(json_object_get(call, "type")),
                            "function");
        assert_string_equal(json_string_value(json_object_get(fn, "name")),
                            "get_weather");
        seen[index] = true;
    } else {
        assert_null(json_object_get(call, "id"));
        assert_null(json_object_get(fn, "name"));
    }
    assert_non_null(piece);
    assert_int_equal(buf_appends(&args[index], piece), 0);
}

/* Walks the tool-call deltas of a stream, checking each. */
static void check_calls(const struct events *ev, size_t ncalls,
                        const char *const *ids, const char *const *want)
{
    bool seen[2] = {false, false};
    struct buf args[2];
    const json_t *calls;
    size_t i, k;

    buf_init(&args[0], 4096);
    buf_init(&args[1], 4096);
    for (i = 0; i < ev->n; i++) {
        calls = json_object_get(delta_of(ev, i), "tool_calls");
        if (calls == NULL)
            continue;
        assert_int_equal(json_array_size(calls), 1);
        check_call_delta(json_array_get(calls, 0), seen, args, ids);
    }
    for (k = 0; k < ncalls; k++) {
        assert_true(seen[k]);
        assert_string_equal(buf_str(&args[k]), want[k]);
    }
    assert_string_equal(finish_of(ev, ev->n - 1), "tool_calls");
    buf_cleanup(&args[0]);
    buf_cleanup(&args[1]);
}

/* One tool call, streamed and not. */
static void test_tool_call(void **state)
{
    static const char *const ids[] = {"call_1"};
    static const char *const want[] = {"{\"city\":\"Paris\"}"};
    struct events ev;
    json_t *c, *call;

    (void)state;
    stream("{\"model\":\"m1\",\"stream\":true," TOOL
           "," USER("what is the weather?") "}",
           &ev);
    /* The call comes first: its header rides with the role. */
    assert_string_equal(
        json_string_value(json_object_get(delta_of(&ev, 0), "role")),
        "assistant");
    assert_true(json_is_null(json_object_get(delta_of(&ev, 0), "content")));
    check_calls(&ev, 1, ids, want);
    events_free(&ev);
    c = complete("{\"model\":\"m1\"," TOOL "," USER("weather?") "}");
    call = json_array_get(json_object_get(message_of(c), "tool_calls"), 0);
    assert_string_equal(json_string_value(json_object_get(call, "id")),
                        "call_1");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(call, "function"), "arguments")),
                        want[0]);
    assert_true(json_is_null(json_object_get(message_of(c), "content")));
    json_decref(c);
}

/* Two calls at once: each its own index, header and arguments. */
static void test_parallel_calls(void **state)
{
    static const char *const ids[] = {"call_a", "call_b"};
    static const char *const want[] = {"{\"city\":\"Paris\"}",
                                       "{\"city\":\"Tokyo\"}"};
    struct events ev;

    (void)state;
    stream("{\"model\":\"m1\",\"stream\":true," TOOL
           "," USER("both cities, please") "}",
           &ev);
    check_calls(&ev, 2, ids, want);
    events_free(&ev);
}

/* A tool's result, by its call id and content, chooses the next reply. */
static void test_tool_result(void **state)
{
    json_t *c;

    (void)state;
    c = complete(
        "{\"model\":\"m1\"," TOOL ",\"messages\":[{\"role\":\"user\","
        "\"content\":\"weather?\"},{\"role\":\"assistant\",\"content\":null,"
        "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
        "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
        "\"sunny, 21C\"}]}");
    assert_string_equal(
        json_string_value(json_object_get(message_of(c), "content")),
        "It is sunny in Paris.");
    json_decref(c);
}

/* Asserts that event i's delta is exactly the JSON text want. */
static void delta_is(const struct events *ev, size_t i, const char *want)
{
    char *got = json_dumps(delta_of(ev, i), JSON_COMPACT);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* Scripted deltas are sent exactly (no role added); not streamed, they add
 * up to the message. */
static void test_exact_deltas(void **state)
{
    struct events ev;
    json_t *c;

    (void)state;
    stream("{\"model\":\"m1\",\"stream\":true," USER("deltas") "}", &ev);
    assert_int_equal(ev.n, 4);
    delta_is(&ev, 0, "{\"role\":\"assistant\",\"content\":\"\"}");
    delta_is(&ev, 1, "{\"content\":\"Hel\"}");
    delta_is(&ev, 2, "{\"content\":\"lo\"}");
    delta_is(&ev, 3, "{}");
    assert_string_equal(finish_of(&ev, 3), "stop");
    events_free(&ev);
    c = complete("{\"model\":\"m1\"," USER("deltas") "}");
    assert_string_equal(
        json_string_value(json_object_get(message_of(c), "content")), "Hello");
    json_decref(c);
}

/* Scripted reasoning streams before the content; the usage override is
 * what the usage chunk reports, reasoning tokens included. */
static void test_scripted_reasoning(void **state)
{
    struct events ev;
    struct buf b;
    char *usage;
    size_t i, first_content = 0, last_reasoning = 0;

    (void)state;
    buf_init(&b, 4096);
    stream("{\"model\":\"m1\",\"stream\":true,\"stream_options\":{"
           "\"include_usage\":true}," USER("think") "}",
           &ev);
    for (i = 0; i < ev.n; i++) {
        if (json_object_get(delta_of(&ev, i), "reasoning_content"))
            last_reasoning = i;
        if (first_content == 0 &&
            json_string_length(json_object_get(delta_of(&ev, i), "content")))
            first_content = i;
    }
    assert_true(last_reasoning > 0 && last_reasoning < first_content);
    join(&ev, "reasoning_content", &b);
    assert_string_equal(buf_str(&b), "Let me see.");
    join(&ev, "content", &b);
    assert_string_equal(buf_str(&b), "Yes.");
    assert_string_equal(finish_of(&ev, ev.n - 2), "length");
    usage = json_dumps(json_object_get(ev.v[ev.n - 1], "usage"), JSON_COMPACT);
    assert_string_equal(usage, "{\"prompt_tokens\":10,\"completion_tokens\":20,"
                               "\"total_tokens\":30,"
                               "\"completion_tokens_details\":{"
                               "\"reasoning_tokens\":15}}");
    free(usage);
    events_free(&ev);
    buf_cleanup(&b);
}

/* A reasoning model reasons before it answers, streamed as not, and counts
 * the reasoning in completion_tokens and reasoning_tokens. */
static void test_reasoning_model(void **state)
{
    json_t *c = complete("{\"model\":\"r1\"," USER("why is the sky blue") "}");
    const char *reasoning =
        json_string_value(json_object_get(message_of(c), "reasoning_content"));
    const char *content =
        json_string_value(json_object_get(message_of(c), "content"));
    json_t *usage = json_object_get(c, "usage");
    uint64_t rt, ct;
    struct events ev;
    struct buf b;

    (void)state;
    assert_non_null(reasoning);
    assert_non_null(content);
    rt = tokenize_count(reasoning, strlen(reasoning));
    ct = tokenize_count(content, strlen(content));
    assert_true(rt > 0 && ct > 0);
    assert_int_equal(
        json_integer_value(json_object_get(usage, "completion_tokens")),
        rt + ct);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(usage, "completion_tokens_details"),
                         "reasoning_tokens")),
                     rt);
    buf_init(&b, 1 << 16);
    stream("{\"model\":\"r1\",\"stream\":true," USER("why is the sky blue") "}",
           &ev);
    join(&ev, "reasoning_content", &b);
    assert_string_equal(buf_str(&b), reasoning);
    join(&ev, "content", &b);
    assert_string_equal(buf_str(&b), content);
    events_free(&ev);
    buf_cleanup(&b);
    json_decref(c);
}

/* max_tokens bounds reasoning and answer together: spent on reasoning, it
 * leaves content "" with finish_reason "length". */
static void test_reasoning_within_max_tokens(void **state)
{
    json_t *c = complete(
        "{\"model\":\"r1\",\"max_tokens\":3," USER("why is the sky blue") "}");
    json_t *usage = json_object_get(c, "usage");

    (void)state;
    assert_string_equal(
        json_string_value(json_object_get(message_of(c), "content")), "");
    assert_int_equal(tokenize_count(json_string_value(json_object_get(
                                        message_of(c), "reasoning_content")),
                                    strlen(json_string_value(json_object_get(
                                        message_of(c), "reasoning_content")))),
                     3);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(c, "choices"), 0), "finish_reason")),
        "length");
    assert_int_equal(
        json_integer_value(json_object_get(usage, "completion_tokens")), 3);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(usage, "completion_tokens_details"),
                         "reasoning_tokens")),
                     3);
    json_decref(c);
}

/* A reply's own pacing: four tokens at 20 per second after 200 ms take at
 * least 350 ms, and end (a generous bound) well within 5 s. */
static void test_slow_stream(void **state)
{
    uint64_t t0 = clock_real_ms(), ms;
    struct events ev;
    struct buf b;

    (void)state;
    buf_init(&b, 4096);
    stream("{\"model\":\"m1\",\"stream\":true," USER("slow") "}", &ev);
    ms = clock_real_ms() - t0;
    join(&ev, "content", &b);
    assert_string_equal(buf_str(&b), "one two three four");
    assert_true(ms >= 350 && ms < 5000);
    events_free(&ev);
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content),
        cmocka_unit_test(test_tool_call),
        cmocka_unit_test(test_parallel_calls),
        cmocka_unit_test(test_tool_result),
        cmocka_unit_test(test_exact_deltas),
        cmocka_unit_test(test_scripted_reasoning),
        cmocka_unit_test(test_reasoning_model),
        cmocka_unit_test(test_reasoning_within_max_tokens),
        cmocka_unit_test(test_slow_stream),
    };

    return cmocka_run_group_tests(tests, start, stop);
}
