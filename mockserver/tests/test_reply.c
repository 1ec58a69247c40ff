/* test_reply: completions composed from given parts (a scripted reply),
 * through the real renderers: the exact JSON body and the exact stream; and
 * generated ones, whose bytes are pinned, so that the README's promise (the
 * same request gives the same content everywhere) is checked: the hash
 * takes seed and choice index as explicit little-endian bytes, so these
 * strings must come out the same on any host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "chat.h"
#include "reply.h"
#include "sse.h"
#include "tokenize.h"
#include "validate.h"

static const struct reply_call_spec two_calls[] = {
    {"call_a", "get_weather", "{\"a\":1}"},
    {"call_b", "get_time", "{}"},
};

/* Reasoning, content and two tool calls in one choice. */
static const struct reply_choice_spec full_choice = {
    .reasoning = "Two calls.",
    .content = "Checking.",
    .tool_calls = two_calls,
    .ntool_calls = 2,
};

/* A request with no messages (3 prompt tokens: the reply's priming). */
static struct chat_request request(bool stream, bool logprobs)
{
    struct chat_request req;

    memset(&req, 0, sizeof(req));
    req.model = "deepseek-r2";
    req.stream = stream;
    req.include_usage = stream;
    req.logprobs = logprobs;
    req.n = 1;
    return req;
}

static struct completion *compose(const struct chat_request *req,
                                  const struct reply_choice_spec *choices,
                                  unsigned n, const struct reply_usage *usage)
{
    struct completion *c = NULL;

    assert_int_equal(completion_compose(req, "chatcmpl-x", 1718000000, choices,
                                        n, usage, &c),
                     0);
    assert_non_null(c);
    return c;
}

/* The compact JSON text of c's body (caller frees). */
static char *body_of(const struct completion *c)
{
    json_t *o = chat_completion_json(c);
    char *text;

    assert_non_null(o);
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static void test_json_body(void **state)
{
    struct chat_request req = request(false, false);
    struct completion *c = compose(&req, &full_choice, 1, NULL);
    char *body = body_of(c);

    (void)state;
    assert_string_equal(
        body,
        "{\"id\":\"chatcmpl-x\",\"object\":\"chat.completion\",\"created\":"
        "1718000000,\"model\":\"deepseek-r2\",\"choices\":[{\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"content\":\"Checking.\","
        "\"reasoning_content\":\"Two calls.\",\"tool_calls\":[{\"id\":"
        "\"call_a\",\"type\":\"function\",\"function\":{\"name\":"
        "\"get_weather\",\"arguments\":\"{\\\"a\\\":1}\"}},{\"id\":\"call_b\","
        "\"type\":\"function\",\"function\":{\"name\":\"get_time\","
        "\"arguments\":\"{}\"}}],\"refusal\":null},\"logprobs\":null,"
        "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":3,"
        "\"completion_tokens\":14,\"total_tokens\":17,"
        "\"completion_tokens_details\":{\"reasoning_tokens\":3}}}");
    free(body);
    completion_free(c);
}

#define EVENT(choices)                                                         \
    "data: {\"id\":\"chatcmpl-x\",\"object\":\"chat.completion.chunk\","       \
    "\"created\":1718000000,\"model\":\"deepseek-r2\",\"choices\":" choices    \
    ",\"usage\":null}\n\n"
#define DELTA(delta)                                                           \
    EVENT("[{\"index\":0,\"delta\":" delta ",\"logprobs\":null,"               \
          "\"finish_reason\":null}]")
#define ARGS(index, piece)                                                     \
    DELTA("{\"tool_calls\":[{\"index\":" index ",\"function\":{"               \
          "\"arguments\":\"" piece "\"}}]}")

/* The events of the stream of full_choice, with the usage chunk. */
static const char *const full_stream[] = {
    DELTA("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}"),
    DELTA("{\"reasoning_content\":\"Two\"}"),
    DELTA("{\"reasoning_content\":\" calls\"}"),
    DELTA("{\"reasoning_content\":\".\"}"),
    DELTA("{\"content\":\"Checking\"}"),
    DELTA("{\"content\":\".\"}"),
    DELTA("{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":"
          "\"function\",\"function\":{\"name\":\"get_weather\","
          "\"arguments\":\"\"}}]}"),
    ARGS("0", "{"),
    ARGS("0", "\\\""),
    ARGS("0", "a"),
    ARGS("0", "\\\""),
    ARGS("0", ":"),
    ARGS("0", "1"),
    ARGS("0", "}"),
    DELTA("{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":"
          "\"function\",\"function\":{\"name\":\"get_time\","
          "\"arguments\":\"\"}}]}"),
    ARGS("1", "{"),
    ARGS("1", "}"),
    EVENT("[{\"index\":0,\"delta\":{},\"logprobs\":null,"
          "\"finish_reason\":\"tool_calls\"}]"),
    "data: {\"id\":\"chatcmpl-x\",\"object\":\"chat.completion.chunk\","
    "\"created\":1718000000,\"model\":\"deepseek-r2\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":14,"
    "\"total_tokens\":17,\"completion_tokens_details\":{"
    "\"reasoning_tokens\":3}}}\n\n",
    "data: [DONE]\n\n",
};

/* Renders a whole stream over c (taken) into one string (caller frees). */
static char *render(struct completion *c)
{
    struct sse_stream *s = sse_stream_new(c, NULL);
    struct buf b;
    int rc;

    assert_non_null(s);
    buf_init(&b, 1 << 20);
    while ((rc = sse_stream_next(s, &b)) == 1)
        ;
    assert_int_equal(rc, 0);
    sse_stream_free(s);
    return buf_take(&b, NULL);
}

/* As OpenAI streams them: reasoning_content deltas, then content, then per
 * call its header (index, id, type, name) and its arguments in pieces,
 * each delta naming the call's index. */
static void test_stream_bytes(void **state)
{
    struct chat_request req = request(true, false);
    char *out = render(compose(&req, &full_choice, 1, NULL));
    struct buf want;
    size_t i;

    (void)state;
    buf_init(&want, 1 << 20);
    for (i = 0; i < sizeof(full_stream) / sizeof(full_stream[0]); i++)
        assert_int_equal(buf_appends(&want, full_stream[i]), 0);
    assert_string_equal(out, want.data);
    buf_cleanup(&want);
    free(out);
}

/* Calls and nothing before them: the first call's header goes out with the
 * role, as for a generated tool call; ids not given are derived from the
 * completion's id and the call's place, the same every time. */
static void test_calls_only_and_derived_ids(void **state)
{
    static const struct reply_call_spec calls[] = {
        {NULL, "f", NULL},
        {NULL, "g", "{}"},
    };
    const struct reply_choice_spec spec = {.tool_calls = calls,
                                           .ntool_calls = 2};
    struct chat_request req = request(true, false);
    struct completion *c = compose(&req, &spec, 1, NULL);
    struct completion *again = compose(&req, &spec, 1, NULL);
    const char *id0 = c->choices[0].tool_calls[0].id;
    const char *id1 = c->choices[0].tool_calls[1].id;
    char *out;

    (void)state;
    assert_int_equal(strlen(id0), 21);
    assert_memory_equal(id0, "call_", 5);
    assert_string_not_equal(id0, id1);
    assert_string_equal(id0, again->choices[0].tool_calls[0].id);
    assert_string_equal(c->choices[0].finish_reason, "tool_calls");
    assert_null(c->choices[0].content.text);
    assert_string_equal(c->choices[0].tool_calls[0].arguments.text, "{}");
    completion_free(again);
    out = render(c);
    assert_non_null(strstr(out,
                           "\"delta\":{\"role\":\"assistant\",\"content\":null,"
                           "\"tool_calls\":[{\"index\":0,\"id\":\"call_"));
    assert_non_null(strstr(out, "{\"tool_calls\":[{\"index\":1,\"id\":"));
    free(out);
}

/* Given usage is what the body reports (and what billing charges);
 * logprobs cover the content as for a generated reply. */
static void test_usage_override_and_logprobs(void **state)
{
    const struct reply_choice_spec spec = {.content = "Hello there",
                                           .finish_reason = "length"};
    const struct reply_usage usage = {100, 50, 0};
    struct chat_request req = request(false, true);
    struct completion *c = compose(&req, &spec, 1, &usage);
    json_t *body = chat_completion_json(c), *choice, *lp;

    (void)state;
    assert_non_null(body);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(body, "usage"), "total_tokens")),
                     150);
    assert_null(json_object_get(json_object_get(body, "usage"),
                                "completion_tokens_details"));
    choice = json_array_get(json_object_get(body, "choices"), 0);
    assert_string_equal(
        json_string_value(json_object_get(choice, "finish_reason")), "length");
    lp = json_object_get(json_object_get(choice, "logprobs"), "content");
    assert_int_equal(json_array_size(lp), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(lp, 1), "token")),
        " there");
    json_decref(body);
    completion_free(c);
}

/* What cannot be honoured is refused, with nothing to free. */
static void test_refused_specs(void **state)
{
    static const struct reply_call_spec nameless = {"call_x", NULL, "{}"};
    const struct reply_choice_spec bad_finish = {.content = "x",
                                                 .finish_reason = "done"};
    const struct reply_choice_spec bad_call = {.tool_calls = &nameless,
                                               .ntool_calls = 1};
    const struct reply_choice_spec no_calls = {.ntool_calls = 1};
    struct chat_request req = request(false, false);
    struct completion *c = NULL;

    (void)state;
    assert_int_equal(
        completion_compose(&req, "id", 0, &bad_finish, 1, NULL, &c), -1);
    assert_int_equal(completion_compose(&req, "id", 0, &bad_call, 1, NULL, &c),
                     -1);
    assert_int_equal(completion_compose(&req, "id", 0, &no_calls, 1, NULL, &c),
                     -1);
    assert_int_equal(
        completion_compose(&req, "id", 0, &bad_finish, 0, NULL, &c), -1);
    assert_null(c);
}

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
    assert_string_equal(c->choices[0].content.text,
                        "After chat balance so tests we your fast.");
    assert_string_equal(c->choices[1].content.text,
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
    assert_string_equal(c->choices[0].tool_calls[0].name, "get_weather");
    assert_string_equal(c->choices[0].tool_calls[0].id,
                        "call_f1c58b87a744c4c3");
    assert_string_equal(c->choices[0].tool_calls[0].arguments.text,
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
        assert_int_equal(c->choices[i].content.ntok, 0);
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
    assert_string_equal(c->choices[0].content.text, want);
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

/* The prompt is counted once: a count the handler made (for the rate
 * limit) is the reply's, and without one the reply counts it. */
static void test_prompt_counted_once(void **state)
{
    static const char text[] = "{\"model\":\"m\",\"messages\":[{\"role\":"
                               "\"user\",\"content\":\"Hello there!\"}]}";
    struct built b;
    struct completion *again = NULL;

    (void)state;
    build(&b, text, NULL);
    assert_int_equal(b.c->prompt_tokens, tokenize_prompt(&b.req));
    b.req.prompt_tokens = 777; /* not what counting gives: proves it is used */
    assert_int_equal(completion_build(&b.req, "chatcmpl-test", 0, &again), 0);
    assert_int_equal(again->prompt_tokens, 777);
    completion_free(again);
    built_free(&b);
}

/* Asserts that chat_completion_render writes what jansson's compact dump
 * of chat_completion_json writes, and a newline, after what out held. */
static void assert_render_parity(const struct completion *c)
{
    json_t *o = chat_completion_json(c);
    char *want = json_dumps(o, JSON_COMPACT);
    struct buf out;

    assert_non_null(want);
    buf_init(&out, SIZE_MAX);
    assert_int_equal(buf_appends(&out, "before"), 0);
    assert_int_equal(chat_completion_render(c, &out), 0);
    assert_int_equal(out.len, 6 + strlen(want) + 1);
    assert_memory_equal(out.data + 6, want, strlen(want));
    assert_int_equal(out.data[out.len - 1], '\n');
    buf_cleanup(&out);
    free(want);
    json_decref(o);
}

/* The rendered body (the chat path's answer) is the jansson body, byte for
 * byte: composed replies with every member and awkward text, and generated
 * ones of every kind. */
static void test_render_parity(void **state)
{
    static const struct reply_call_spec odd_calls[] = {
        {"call_\"q\"", "f\\n", "{\"s\":\"\\u0001\"}"},
        {NULL, "g", NULL},
    };
    static const struct reply_choice_spec odd[] = {
        {.content = "quote \" backslash \\ nl \n tab \t cr \r bs \b ff \f "
                    "ctl \x01\x1f del \x7f slash / utf8 \xc3\xa9 "
                    "\xf0\x9f\x98\x80"},
        {.content = NULL, .finish_reason = "content_filter"},
        {.reasoning = "",
         .content = "",
         .tool_calls = odd_calls,
         .ntool_calls = 2,
         .finish_reason = "length"},
    };
    static const struct reply_usage big = {9007199254740993ull,
                                           4611686018427387904ull, 0};
    static const char *const generated[] = {
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"Tell me a story.\"}]}",
        "{\"model\":\"m\",\"n\":4,\"max_tokens\":5,\"messages\":[{\"role\":"
        "\"user\",\"content\":\"hi\"}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"Weather?\"}],\"tools\":[{\"type\":\"function\",\"function\":{"
        "\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
        "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":["
        "\"city\"]}}}]}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"hi\"}],\"response_format\":{\"type\":\"json_object\"}}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"hi\"}],\"response_format\":{\"type\":\"json_schema\","
        "\"json_schema\":{\"name\":\"s\",\"schema\":{\"type\":\"object\","
        "\"properties\":{\"t\":{\"type\":\"string\"},\"n\":{\"type\":"
        "\"array\",\"items\":{\"type\":\"number\"}}}}}}}",
        "{\"model\":\"m\",\"stop\":[\"e\"],\"messages\":[{\"role\":"
        "\"user\",\"content\":\"hi\"}]}",
    };
    struct chat_request req = request(false, false);
    struct completion *c;
    struct built b;
    size_t i;

    (void)state;
    c = compose(&req, &full_choice, 1, NULL);
    assert_render_parity(c);
    completion_free(c);
    c = compose(&req, odd, 3, &big);
    assert_render_parity(c);
    completion_free(c);
    for (i = 0; i < sizeof(generated) / sizeof(generated[0]); i++) {
        build(&b, generated[i], NULL);
        assert_render_parity(b.c);
        completion_free(b.c);
        /* The same request by a model that reasons first. */
        b.req.reasoning = true;
        assert_int_equal(completion_build(&b.req, "chatcmpl-test", -5, &b.c),
                         0);
        assert_render_parity(b.c);
        built_free(&b);
    }
}

/* What the renderer leaves to jansson: log probabilities, and text that
 * is not UTF-8 (which jansson refuses too). out is left as it was. */
static void test_render_declines(void **state)
{
    static const struct reply_choice_spec bad = {.content = "a\xff"};
    struct chat_request req = request(false, true);
    struct completion *c = compose(&req, &full_choice, 1, NULL);
    struct buf out;

    (void)state;
    buf_init(&out, SIZE_MAX);
    assert_int_equal(buf_appends(&out, "x"), 0);
    assert_int_equal(chat_completion_render(c, &out), -1);
    assert_string_equal(buf_str(&out), "x");
    completion_free(c);
    req = request(false, false);
    if (completion_compose(&req, "chatcmpl-x", 1, &bad, 1, NULL, &c) == 0) {
        assert_int_equal(chat_completion_render(c, &out), -1);
        assert_string_equal(buf_str(&out), "x");
        assert_null(chat_completion_json(c));
        completion_free(c);
    }
    buf_cleanup(&out);
}

/* A buffer too small for the answer, by any number of bytes, refuses it
 * and keeps what it held; one just large enough takes it whole. */
static void test_render_capped(void **state)
{
    struct chat_request req = request(false, false);
    struct completion *c = compose(&req, &full_choice, 1, NULL);
    struct buf out;
    size_t whole, cap;
    char *want;

    (void)state;
    buf_init(&out, SIZE_MAX);
    assert_int_equal(chat_completion_render(c, &out), 0);
    whole = out.len;
    want = buf_take(&out, NULL);
    assert_non_null(want);
    for (cap = 1; cap <= whole + 1; cap++) {
        buf_init(&out, cap);
        assert_int_equal(buf_appends(&out, "x"), 0);
        assert_int_equal(chat_completion_render(c, &out),
                         cap == whole + 1 ? 0 : -1);
        assert_int_equal(out.len, cap == whole + 1 ? whole + 1 : 1);
        assert_int_equal(out.data[0], 'x');
        if (cap == whole + 1)
            assert_memory_equal(out.data + 1, want, whole);
        buf_cleanup(&out);
    }
    free(want);
    completion_free(c);
}

/* Asserts that t holds the first ntok tokens of text (n bytes) with the
 * token ends the tokenizer gives. */
static void assert_tokens(const struct reply_text *t, const char *text,
                          size_t n, size_t ntok)
{
    size_t pos = 0, k;

    assert_int_equal(t->ntok, ntok);
    for (k = 0; k < ntok; k++) {
        pos = tokenize_next(text, n, pos);
        assert_int_equal(t->tok_end[k], pos);
    }
    assert_int_equal(t->len, pos);
    assert_memory_equal(t->text, text, pos);
    assert_int_equal(t->text[pos], '\0');
}

/* Texts of more tokens than text_take notes on the stack keep every token
 * end: a composed reply whole, and tool-call arguments cut by max_tokens
 * past that count; a short one is whole too. */
static void test_long_text_token_ends(void **state)
{
    struct reply_choice_spec spec = {0};
    struct chat_request req = request(false, false);
    struct completion *c, *whole;
    json_t *tools, *props = json_object();
    const struct reply_text *args, *full;
    char text[3000];
    size_t n = 0, k;

    (void)state;
    for (k = 0; k < 300; k++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%zu,",
                              k % 2 ? " word" : " 12", k);
    spec.content = text;
    c = compose(&req, &spec, 1, NULL);
    assert_tokens(&c->choices[0].content, text, n,
                  (size_t)tokenize_count(text, n));
    assert_true(c->choices[0].content.ntok > 600);
    completion_free(c);
    spec.content = "Short, whole.";
    c = compose(&req, &spec, 1, NULL);
    assert_tokens(&c->choices[0].content, spec.content, 13, 4);
    completion_free(c);

    for (k = 0; k < 60; k++) {
        char name[16];

        snprintf(name, sizeof(name), "field_%zu", k);
        assert_int_equal(json_object_set_new(
                             props, name, json_pack("{s:s}", "type", "string")),
                         0);
    }
    tools = json_pack("[{s:s, s:{s:s, s:{s:s, s:o}}}]", "type", "function",
                      "function", "name", "fill", "parameters", "type",
                      "object", "properties", props);
    assert_non_null(tools);
    req.tools = tools;
    assert_int_equal(completion_build(&req, "chatcmpl-x", 1, &whole), 0);
    full = &whole->choices[0].tool_calls[0].arguments;
    assert_tokens(full, full->text, full->len,
                  (size_t)tokenize_count(full->text, full->len));
    assert_true(full->ntok > 200);
    req.has_max_tokens = true;
    req.max_tokens = 150;
    assert_int_equal(completion_build(&req, "chatcmpl-x", 1, &c), 0);
    args = &c->choices[0].tool_calls[0].arguments;
    assert_string_equal(c->choices[0].finish_reason, "length");
    assert_int_equal(args->ntok, 150);
    assert_memory_equal(args->tok_end, full->tok_end, 150 * sizeof(size_t));
    assert_int_equal(args->len, full->tok_end[149]);
    assert_memory_equal(args->text, full->text, args->len);
    completion_free(c);
    completion_free(whole);
    json_decref(tools);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_stream_bytes),
        cmocka_unit_test(test_calls_only_and_derived_ids),
        cmocka_unit_test(test_usage_override_and_logprobs),
        cmocka_unit_test(test_refused_specs),
        cmocka_unit_test(test_prose_pinned),
        cmocka_unit_test(test_tool_call_pinned),
        cmocka_unit_test(test_logprobs_within_budget),
        cmocka_unit_test(test_n128_prose_whole),
        cmocka_unit_test(test_rich_value_gives_way),
        cmocka_unit_test(test_token_bound_max_tokens),
        cmocka_unit_test(test_prompt_counted_once),
        cmocka_unit_test(test_render_parity),
        cmocka_unit_test(test_render_declines),
        cmocka_unit_test(test_long_text_token_ends),
        cmocka_unit_test(test_render_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
