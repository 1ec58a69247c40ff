/* test_sse: the exact bytes of streamed chat completions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "reply.h"
#include "sse.h"
#include "validate.h"

/* Makes a choice holding text with the given token ends. */
static void set_choice(struct reply_choice *ch, const char *text,
                       const size_t *ends, size_t n, const char *finish)
{
    ch->content.text = strdup(text);
    ch->content.len = strlen(text);
    ch->content.tok_end = malloc((n ? n : 1) * sizeof(size_t));
    memcpy(ch->content.tok_end, ends, n * sizeof(size_t));
    ch->content.ntok = n;
    ch->finish_reason = finish;
}

/* A completion with one or two choices, fixed id and created. */
static struct completion *make(unsigned n, bool usage)
{
    static const size_t ends0[] = {2, 8};
    static const size_t ends1[] = {3};
    struct completion *c = calloc(1, sizeof(*c));

    snprintf(c->id, sizeof(c->id), "chatcmpl-x");
    c->model = strdup("deepseek-v4");
    c->created = 1718000000;
    c->n = n;
    c->choices = calloc(n, sizeof(*c->choices));
    set_choice(&c->choices[0], "Hi there", ends0, 2, "stop");
    if (n > 1)
        set_choice(&c->choices[1], "Yes", ends1, 1, "length");
    c->prompt_tokens = 9;
    c->completion_tokens = n > 1 ? 3 : 2;
    c->include_usage = usage;
    return c;
}

/* Renders the whole stream into one string (caller frees). */
static char *render(struct sse_stream *s)
{
    struct buf b;
    int rc;

    buf_init(&b, 1 << 20);
    while ((rc = sse_stream_next(s, &b)) == 1)
        ;
    assert_int_equal(rc, 0);
    return buf_take(&b, NULL);
}

#define HEAD                                                                   \
    "data: {\"id\":\"chatcmpl-x\",\"object\":\"chat.completion.chunk\","       \
    "\"created\":1718000000,\"model\":\"deepseek-v4\",\"choices\":"

static void test_single_choice_bytes(void **state)
{
    struct sse_stream *s = sse_stream_new(make(1, false), NULL);
    char *out = render(s);

    (void)state;
    assert_string_equal(
        out, HEAD
        "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\","
        "\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n" HEAD
        "[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"logprobs\":null,"
        "\"finish_reason\":null}]}\n\n" HEAD
        "[{\"index\":0,\"delta\":{\"content\":\" there\"},\"logprobs\":"
        "null,\"finish_reason\":null}]}\n\n" HEAD
        "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":"
        "\"stop\"}]}\n\n"
        "data: [DONE]\n\n");
    free(out);
    sse_stream_free(s);
}

static void test_usage_chunk_bytes(void **state)
{
    struct sse_stream *s = sse_stream_new(make(1, true), NULL);
    char *out = render(s);
    const char *usage =
        HEAD "[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"
             "\"total_tokens\":11}}\n\ndata: [DONE]\n\n";

    (void)state;
    /* Every chunk carries "usage":null; the last one carries the usage. */
    assert_non_null(strstr(out, "\"finish_reason\":null}],\"usage\":null}"));
    assert_non_null(
        strstr(out, "\"finish_reason\":\"stop\"}],\"usage\":null}"));
    assert_true(strlen(out) > strlen(usage));
    assert_string_equal(out + strlen(out) - strlen(usage), usage);
    free(out);
    sse_stream_free(s);
}

static void test_two_choices_interleave(void **state)
{
    struct sse_stream *s = sse_stream_new(make(2, false), NULL);
    char *out = render(s);
    const char *order[] = {
        "\"index\":0,\"delta\":{\"role\"",
        "\"index\":1,\"delta\":{\"role\"",
        "\"index\":0,\"delta\":{\"content\":\"Hi\"",
        "\"index\":1,\"delta\":{\"content\":\"Yes\"",
        "\"index\":0,\"delta\":{\"content\":\" there\"",
        "\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"",
        "\"index\":1,\"delta\":{},\"logprobs\":null,\"finish_reason\":"
        "\"length\"",
        "data: [DONE]\n\n"};
    const char *at = out;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *hit = strstr(at, order[i]);

        assert_non_null(hit);
        at = hit + 1;
    }
    free(out);
    sse_stream_free(s);
}

static void test_pacing_due_times(void **state)
{
    struct sse_pacing p = {250, 20, 0, 0};
    struct sse_stream *s = sse_stream_new(make(2, false), &p);
    struct buf b;

    (void)state;
    buf_init(&b, 1 << 16);
    assert_int_equal(sse_stream_due_ms(s), 250); /* role of choice 0 */
    assert_int_equal(sse_stream_next(s, &b), 1);
    assert_int_equal(sse_stream_due_ms(s), 250); /* role of choice 1 */
    assert_int_equal(sse_stream_next(s, &b), 1);
    assert_int_equal(sse_stream_due_ms(s), 250); /* first tokens: at ttft */
    assert_int_equal(sse_stream_next(s, &b), 1);
    assert_int_equal(sse_stream_due_ms(s), 250); /* choice 1, same step */
    assert_int_equal(sse_stream_next(s, &b), 1);
    assert_int_equal(sse_stream_due_ms(s), 300); /* step 1: 1000/20 later */
    assert_int_equal(sse_stream_next(s, &b), 1);
    assert_int_equal(sse_stream_due_ms(s), 0); /* finish chunks: at once */
    sse_stream_hurry(s);
    assert_int_equal(sse_stream_due_ms(s), 0);
    buf_cleanup(&b);
    sse_stream_free(s);
}

static void test_pacing_fast_rates(void **state)
{
    struct sse_pacing p = {0, 3000, 0, 0};
    struct completion *c = make(1, false);
    struct sse_stream *s;
    struct buf b;
    unsigned k;

    (void)state;
    /* A 3000-token choice: step k is due at k/3 ms, exactly. */
    free(c->choices[0].content.tok_end);
    c->choices[0].content.tok_end = calloc(3000, sizeof(size_t));
    for (k = 0; k < 3000; k++)
        c->choices[0].content.tok_end[k] = k < 8 ? k + 1 : 8;
    c->choices[0].content.ntok = 3000;
    s = sse_stream_new(c, &p);
    buf_init(&b, 1 << 24);
    assert_int_equal(sse_stream_next(s, &b), 1); /* role */
    for (k = 0; k < 3000; k++) {
        assert_int_equal(sse_stream_due_ms(s), (uint64_t)k * 1000 / 3000);
        assert_int_equal(sse_stream_next(s, &b), 1);
    }
    assert_int_equal(sse_stream_due_ms(s), 0);
    buf_cleanup(&b);
    sse_stream_free(s);
}

/* Fills t with text cut into tokens at ends. */
static void set_text(struct reply_text *t, const char *text, const size_t *ends,
                     size_t n)
{
    t->text = strdup(text);
    t->len = strlen(text);
    t->tok_end = malloc(n * sizeof(size_t));
    memcpy(t->tok_end, ends, n * sizeof(size_t));
    t->ntok = n;
}

/* The tokens a client was given in the first k events: counted from the
 * stream's start whatever it has sent, for every k up to past its end. */
static void test_tokens_in_events(void **state)
{
    /* Two choices: role, role, "Hi", "Yes", " there", finish, finish,
     * usage, [DONE]. */
    static const uint64_t two[] = {0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3};
    /* A reasoning token, then a tool call (its header a piece of its own,
     * carrying no token) with two argument tokens: role, reasoning,
     * header, args, args, finish, [DONE]. */
    static const uint64_t call[] = {0, 0, 1, 1, 2, 3, 3, 3, 3};
    static const size_t one[] = {5}, args[] = {5, 9};
    struct sse_stream *s = sse_stream_new(make(2, true), NULL);
    struct completion *c = make(1, false);
    struct buf b;
    uint64_t k;

    (void)state;
    buf_init(&b, 1 << 20);
    for (k = 0; k < sizeof(two) / sizeof(two[0]); k++) {
        assert_int_equal(sse_stream_tokens(s, k), two[k]);
        if (k < 9)
            assert_int_equal(sse_stream_next(s, &b), 1);
    }
    assert_int_equal(sse_stream_next(s, &b), 0);
    assert_int_equal(sse_stream_tokens(s, 4), 2);
    sse_stream_free(s);
    free(c->choices[0].content.text);
    free(c->choices[0].content.tok_end);
    memset(&c->choices[0].content, 0, sizeof(c->choices[0].content));
    set_text(&c->choices[0].reasoning, "think", one, 1);
    c->choices[0].tool_calls = calloc(1, sizeof(struct reply_tool_call));
    c->choices[0].ntool_calls = 1;
    c->choices[0].tool_calls[0].id = strdup("call_1");
    c->choices[0].tool_calls[0].name = strdup("f");
    set_text(&c->choices[0].tool_calls[0].arguments, "{\"a\":1}", args, 2);
    s = sse_stream_new(c, NULL);
    for (k = 0; k < sizeof(call) / sizeof(call[0]); k++)
        assert_int_equal(sse_stream_tokens(s, k), call[k]);
    buf_cleanup(&b);
    sse_stream_free(s);
}

/* The due times of the token steps of a stream over c with pacing p. */
static void token_dues(struct completion *c, const struct sse_pacing *p,
                       uint64_t *due, size_t n)
{
    struct sse_stream *s = sse_stream_new(c, p);
    struct buf b;
    size_t k;

    buf_init(&b, 1 << 16);
    assert_int_equal(sse_stream_next(s, &b), 1); /* role */
    for (k = 0; k < n; k++) {
        due[k] = sse_stream_due_ms(s);
        assert_int_equal(sse_stream_next(s, &b), 1);
    }
    buf_cleanup(&b);
    sse_stream_free(s);
}

/* Jitter delays each token step by 0..jitter_ms, the same for the same
 * seed and different for another; no jitter, no delay. */
static void test_pacing_jitter(void **state)
{
    struct sse_pacing p = {100, 10, 40, 7};
    uint64_t a[2], b[2], c[2], none[2];
    uint64_t base[2] = {100, 200};
    int k, differ = 0;

    (void)state;
    token_dues(make(1, false), &p, a, 2);
    token_dues(make(1, false), &p, b, 2);
    p.seed = 8;
    token_dues(make(1, false), &p, c, 2);
    p.jitter_ms = 0;
    token_dues(make(1, false), &p, none, 2);
    for (k = 0; k < 2; k++) {
        assert_int_equal(a[k], b[k]);
        assert_true(a[k] >= base[k] && a[k] <= base[k] + 40);
        assert_true(c[k] >= base[k] && c[k] <= base[k] + 40);
        assert_int_equal(none[k], base[k]);
        differ += a[k] != c[k];
    }
    assert_true(differ > 0);
}

/* Scripted deltas go out as they are, one event each, in place of the
 * role and the tokens, then the finish chunk; their tokens are what a
 * cut stream counts. */
static void test_deltas(void **state)
{
    struct completion *c = make(1, false);
    struct sse_stream *s;
    char *out;

    (void)state;
    c->choices[0].deltas = json_loads(
        "[{\"role\":\"assistant\",\"content\":\"Hi th\"},{\"content\":\"ere\","
        "\"x\":1},{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
        "\"{}\"}}]}]",
        0, NULL);
    assert_non_null(c->choices[0].deltas);
    s = sse_stream_new(c, NULL);
    assert_int_equal(sse_stream_tokens(s, 1), 2); /* "Hi", " th" */
    assert_int_equal(sse_stream_tokens(s, 3), 5); /* "ere", "{", "}" */
    out = render(s);
    assert_string_equal(
        out,
        HEAD "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
             "\"Hi th\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n" HEAD
             "[{\"index\":0,\"delta\":{\"content\":\"ere\",\"x\":1},"
             "\"logprobs\":null,\"finish_reason\":null}]}\n\n" HEAD
             "[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
             "\"function\":{\"arguments\":\"{}\"}}]},\"logprobs\":null,"
             "\"finish_reason\":null}]}\n\n" HEAD
             "[{\"index\":0,\"delta\":{},\"logprobs\":null,"
             "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    free(out);
    sse_stream_free(s);
}

/* Streams a and b (both taken) side by side, b with every event rendered
 * by jansson, and asserts that each event is the same bytes both ways.
 * Returns how many events carried a token (the frames' work). */
static size_t assert_same_stream(struct completion *a, struct completion *b)
{
    struct sse_stream *fast = sse_stream_new(a, NULL);
    struct sse_stream *ref = sse_stream_new(b, NULL);
    struct buf x, y;
    size_t events = 0, tokens;
    int rc;

    assert_non_null(fast);
    assert_non_null(ref);
    sse_stream_set_reference(ref, true);
    buf_init(&x, 1 << 20);
    buf_init(&y, 1 << 20);
    do {
        buf_reset(&x);
        buf_reset(&y);
        rc = sse_stream_next(fast, &x);
        assert_int_equal(sse_stream_next(ref, &y), rc);
        assert_true(rc >= 0);
        if (x.len != y.len || memcmp(x.data, y.data, x.len) != 0)
            fail_msg("event %zu differs:\n%.*s\njansson:\n%.*s", events,
                     (int)x.len, x.data, (int)y.len, y.data);
        events += (size_t)rc;
    } while (rc == 1);
    tokens = (size_t)sse_stream_tokens(fast, events);
    buf_cleanup(&x);
    buf_cleanup(&y);
    sse_stream_free(fast);
    sse_stream_free(ref);
    return tokens;
}

/* Every control character but NUL, quotes, backslashes, '/', DEL and
 * multibyte UTF-8 (2, 3 and 4 bytes, and U+2028). */
static const char nasty[] =
    "\x01\x02\x03\x04\x05\x06\x07\b\t\n\x0b\f\r\x0e\x0f\x10\x11\x12"
    "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f \"q\" \\b\\ "
    "a/b \x7f caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 "
    "\xe2\x80\xa8 end\\";

/* Composes the same completion for req twice and compares their streams;
 * returns the token events. */
static size_t compose_both(const struct chat_request *req,
                           const struct reply_choice_spec *choices, unsigned n)
{
    struct completion *a = NULL, *b = NULL;

    assert_int_equal(completion_compose(req, "chatcmpl-\"q\"/\x01", 1718000000,
                                        choices, n, NULL, &a),
                     0);
    assert_int_equal(completion_compose(req, "chatcmpl-\"q\"/\x01", 1718000000,
                                        choices, n, NULL, &b),
                     0);
    return assert_same_stream(a, b);
}

/* Token chunks come from frames rendered once per choice, role and finish
 * chunks from jsonw (the reference stream renders all through jansson); every
 * event of composed replies with reasoning, content and tool calls full of
 * escapes, with and without usage and log probabilities, one and two choices,
 * is byte for byte what jansson renders. */
static void test_frames_match_jansson_composed(void **state)
{
    static const struct reply_call_spec calls[] = {
        {"call_\"1\"", "get_\\weather", "{\"q\":\"a\\\"b\\\\c\\n\\u0001/\"}"},
        {NULL, "f", nasty},
        {"call_3", "g", NULL},
    };
    const struct reply_choice_spec choices[] = {
        {.reasoning = nasty,
         .content = nasty,
         .tool_calls = calls,
         .ntool_calls = 3},
        {.content = "short"},
        {.tool_calls = calls, .ntool_calls = 2},
        {.reasoning = "only thinking \\ \"", .content = NULL},
        {.content = ""},
    };
    struct chat_request req;
    unsigned mode;

    (void)state;
    memset(&req, 0, sizeof(req));
    req.model = "m\"o\\d/\xc3\xa9l\t";
    for (mode = 0; mode < 8; mode++) {
        req.include_usage = mode & 1;
        req.logprobs = (mode & 2) != 0;
        req.top_logprobs = req.logprobs ? 2 : 0;
        req.n = (mode & 4) ? 5 : 1;
        assert_true(compose_both(&req, choices, req.n) > 100);
        /* The calls' header first, in the role chunk. */
        assert_true(compose_both(&req, &choices[2], 1) > 5);
        assert_true(compose_both(&req, &choices[3], 1) > 3);
    }
}

/* The same for generated replies: prose, a tool call and structured
 * output, streamed with n = 2 and usage. */
static void test_frames_match_jansson_generated(void **state)
{
    static const char *const bodies[] = {
        "{\"model\":\"m\",\"stream\":true,\"n\":2,\"stream_options\":"
        "{\"include_usage\":true},\"messages\":[{\"role\":\"user\","
        "\"content\":\"tell me\"}]}",
        "{\"model\":\"m\",\"stream\":true,\"n\":2,\"messages\":[{\"role\":"
        "\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\","
        "\"properties\":{\"s\":{\"type\":\"string\"},\"a\":{\"type\":"
        "\"array\",\"minItems\":3,\"items\":{\"type\":\"integer\"}}},"
        "\"required\":[\"s\",\"a\"]}}}]}",
        "{\"model\":\"m\",\"stream\":true,\"logprobs\":true,\"messages\":"
        "[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{"
        "\"type\":\"json_schema\",\"json_schema\":{\"name\":\"s\","
        "\"schema\":{\"type\":\"object\",\"properties\":{\"t\":{\"type\":"
        "\"string\",\"minLength\":40}},\"required\":[\"t\"]}}}}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        json_t *body = json_loads(bodies[i], 0, NULL);
        struct chat_request req;
        struct api_error err;
        struct completion *a = NULL, *b = NULL;

        assert_non_null(body);
        memset(&err, 0, sizeof(err));
        if (validate_chat_request_within(body, NULL, &req, &err) != 0)
            fail_msg("rejected: %s", err.message);
        req.reasoning = i == 0;
        assert_int_equal(completion_build(&req, "chatcmpl-g", 7, &a), 0);
        assert_int_equal(completion_build(&req, "chatcmpl-g", 7, &b), 0);
        assert_true(assert_same_stream(a, b) > 5);
        chat_request_cleanup(&req);
        json_decref(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_choice_bytes),
        cmocka_unit_test(test_usage_chunk_bytes),
        cmocka_unit_test(test_two_choices_interleave),
        cmocka_unit_test(test_pacing_due_times),
        cmocka_unit_test(test_pacing_fast_rates),
        cmocka_unit_test(test_tokens_in_events),
        cmocka_unit_test(test_pacing_jitter),
        cmocka_unit_test(test_deltas),
        cmocka_unit_test(test_frames_match_jansson_composed),
        cmocka_unit_test(test_frames_match_jansson_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
