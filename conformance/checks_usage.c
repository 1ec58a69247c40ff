/* checks_usage: the usage group: token counts add up, obey max_tokens,
 * grow with the prompt and agree between streamed and plain requests. */
#include "checks_usage.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "evidence.h"
#include "exchange.h"
#include "shape.h"
#include "stream_collect.h"

/* Small enough that any real reply to the prompt below is cut. */
#define SMALL_MAX_TOKENS 3

enum {
    PRESENT,
    TOTAL,
    MAX_TOKENS,
    LENGTH,
    PROMPT_GROWS,
    STREAM_EQUALS,
    COUNTED
};

#define ACCOUNTING "docs/api.md#token-accounting"

static const struct check_def checks[] = {
    [PRESENT] = {"usage.present", LEVEL_MUST, BASIS_CONTRACT,
                 "A chat completion MUST carry usage with prompt_tokens, "
                 "completion_tokens and total_tokens as non-negative "
                 "integers",
                 ACCOUNTING "; docs/api.md#usage", IMPACT_USAGE_MISSING},
    [TOTAL] = {"usage.total", LEVEL_MUST, BASIS_CONTRACT,
               "total_tokens MUST equal prompt_tokens + completion_tokens, "
               "streamed or not",
               ACCOUNTING, IMPACT_USAGE_TOTAL},
    [MAX_TOKENS] = {"usage.max-tokens", LEVEL_MUST, BASIS_CONTRACT,
                    "completion_tokens MUST NOT exceed max_tokens",
                    ACCOUNTING "; docs/api.md#request-parameters",
                    IMPACT_USAGE_MAX_TOKENS},
    [LENGTH] = {"usage.length", LEVEL_SHOULD, BASIS_SPEC,
                "A reply cut by max_tokens SHOULD end with finish_reason "
                "\"length\"",
                "docs/api.md#messages-and-choices", IMPACT_USAGE_LENGTH},
    [PROMPT_GROWS] = {"usage.prompt-grows", LEVEL_MUST, BASIS_CONTRACT,
                      "prompt_tokens MUST grow when the prompt grows",
                      ACCOUNTING, IMPACT_USAGE_COUNT},
    [STREAM_EQUALS] = {"usage.stream-equals", LEVEL_MUST, BASIS_CONTRACT,
                       "For the same deterministic request (temperature 0, "
                       "a seed), the streamed usage MUST equal the "
                       "non-streamed usage; prompt_tokens always",
                       ACCOUNTING "; docs/api.md#usage-in-a-stream",
                       IMPACT_USAGE_STREAM},
    [COUNTED] = {"usage.completion-counted", LEVEL_MUST, BASIS_CONTRACT,
                 "completion_tokens MUST count every token the reply "
                 "carries, reasoning_content included: at least one per "
                 "word; completion_tokens_details.reasoning_tokens, where "
                 "sent, at least one per word of the reasoning and at most "
                 "completion_tokens",
                 ACCOUNTING "; docs/api.md#usage", IMPACT_USAGE_UNCOUNTED},
};

static const char prompt[] =
    "Count from one to fifty in words, separated by commas.";
static const char longer_prompt[] =
    "Count from one to fifty in words, separated by commas. Then count "
    "back from fifty to one, also in words, also separated by commas, and "
    "finish with a short sentence about why counting is useful.";

/* The deterministic request of the group. New reference. */
static json_t *usage_body(const char *model, const char *text, long max)
{
    json_t *body = chat_body(model, text, max);

    if (body != NULL) {
        json_object_set_new(body, "temperature", json_integer(0));
        json_object_set_new(body, "seed", json_integer(42));
    }
    return body;
}

/* The counts of a usage object. */
struct counts {
    json_int_t prompt, completion, total;
    const json_t *reasoning_tokens; /* borrowed from the usage, or NULL */
};

/* Reads usage into *k; says in why what is missing. */
static bool read_usage(const json_t *u, struct counts *k, char *why, size_t n)
{
    bool ret;
    const json_t *p = json_object_get(u, "prompt_tokens");
    const json_t *c = json_object_get(u, "completion_tokens");
    const json_t *t = json_object_get(u, "total_tokens");

    if (!json_is_object(u)) {
        snprintf(why, n, "usage is %s", shape_type(u));
        ret = false;
        goto out;
    }
    if (!shape_is_count(p) || !shape_is_count(c) || !shape_is_count(t)) {
        snprintf(why, n,
                 "prompt_tokens is %s, completion_tokens %s, total_tokens %s "
                 "(want non-negative integers)",
                 shape_type(p), shape_type(c), shape_type(t));
        ret = false;
        goto out;
    }
    k->prompt = json_integer_value(p);
    k->completion = json_integer_value(c);
    k->total = json_integer_value(t);
    k->reasoning_tokens = json_object_get(
        json_object_get(u, "completion_tokens_details"), "reasoning_tokens");
    /* Null is typed optional: not sent (docs/api.md#optional-members). */
    if (json_is_null(k->reasoning_tokens))
        k->reasoning_tokens = NULL;
    ret = true;
out:
    return ret;
}

/* One plain request of the group and what its usage said. */
struct plain {
    struct exchange x;
    struct counts k;
    bool ok;       /* 200 with a readable usage */
    char why[256]; /* when not ok */
};

/* Sends a plain request and reads its usage. */
static void send_plain(struct conform *c, struct plain *p, const char *text,
                       long max)
{
    exchange_init(&p->x);
    exchange_send(c, &p->x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key),
                  usage_body(conform_model(c), text, max), NULL, false);
    if (!exchange_status_is(&p->x, 200))
        snprintf(p->why, sizeof(p->why), "the request got %s",
                 conform_describe(c, &p->x.resp));
    else if (!json_is_object(p->x.json))
        snprintf(p->why, sizeof(p->why), "the body is %s",
                 p->x.json == NULL ? p->x.json_error : shape_type(p->x.json));
    else
        p->ok = read_usage(json_object_get(p->x.json, "usage"), &p->k, p->why,
                           sizeof(p->why));
}

/* The finish_reason of the first choice, or NULL. Borrowed. */
static const char *finish_of(const struct plain *p)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(p->x.json, "choices"), 0),
        "finish_reason"));
}

/* Member field of the first choice's message, as a string, or NULL.
 * Borrowed. */
static const char *message_text(const struct plain *p, const char *field)
{
    return json_string_value(json_object_get(
        json_object_get(
            json_array_get(json_object_get(p->x.json, "choices"), 0),
            "message"),
        field));
}

/* The content of the first choice, or NULL. Borrowed. */
static const char *content_of(const struct plain *p)
{
    return message_text(p, "content");
}

/* Judges usage.total over every usage the group saw. */
static void judge_total(struct conform *c, struct plain *p, size_t n,
                        const struct exchange *sx, const struct counts *sk,
                        bool streamed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i].ok && p[i].k.total != p[i].k.prompt + p[i].k.completion) {
            conform_violation(c, &checks[TOTAL],
                              exchange_evidence(&p[i].x, EVIDENCE_NO_FOCUS),
                              "total_tokens %lld != %lld + %lld",
                              (long long)p[i].k.total, (long long)p[i].k.prompt,
                              (long long)p[i].k.completion);
            goto out;
        }
    }
    if (streamed && sk->total != sk->prompt + sk->completion) {
        conform_violation(
            c, &checks[TOTAL], exchange_evidence(sx, EVIDENCE_NO_FOCUS),
            "streamed total_tokens %lld != %lld + %lld", (long long)sk->total,
            (long long)sk->prompt, (long long)sk->completion);
        goto out;
    }
    if (!p[0].ok)
        conform_skip(c, &checks[TOTAL], "no usage to add up");
    else
        conform_pass(c, &checks[TOTAL], NULL, "%lld = %lld + %lld",
                     (long long)p[0].k.total, (long long)p[0].k.prompt,
                     (long long)p[0].k.completion);
out:
    return;
}

/* Judges the cut request: under max_tokens, and finish_reason length when
 * the uncut reply was longer. */
static void judge_cut(struct conform *c, const struct plain *full,
                      const struct plain *cut)
{
    const char *fin = finish_of(cut);

    if (!cut->ok && !full->ok && exchange_status_is(&cut->x, 200)) {
        conform_skip(c, &checks[MAX_TOKENS],
                     "with max_tokens %d: %s too (see usage.present)",
                     SMALL_MAX_TOKENS, cut->why);
        conform_skip(c, &checks[LENGTH], "no usable cut reply");
        return;
    }
    if (!cut->ok) {
        conform_violation(c, &checks[MAX_TOKENS],
                          exchange_evidence(&cut->x, EVIDENCE_NO_FOCUS),
                          "with max_tokens %d: %s", SMALL_MAX_TOKENS, cut->why);
        conform_skip(c, &checks[LENGTH], "no usable cut reply");
        return;
    }
    if (cut->k.completion > SMALL_MAX_TOKENS)
        conform_violation(c, &checks[MAX_TOKENS],
                          exchange_evidence(&cut->x, EVIDENCE_NO_FOCUS),
                          "max_tokens %d, completion_tokens %lld",
                          SMALL_MAX_TOKENS, (long long)cut->k.completion);
    else
        conform_pass(c, &checks[MAX_TOKENS], NULL,
                     "max_tokens %d, completion_tokens %lld", SMALL_MAX_TOKENS,
                     (long long)cut->k.completion);
    if (!full->ok)
        conform_skip(c, &checks[LENGTH], "the uncut reply has no usage");
    else if (full->k.completion <= SMALL_MAX_TOKENS)
        conform_skip(c, &checks[LENGTH],
                     "the uncut reply is only %lld tokens, nothing to cut",
                     (long long)full->k.completion);
    else if (fin == NULL || strcmp(fin, "length") != 0)
        conform_violation(c, &checks[LENGTH],
                          exchange_evidence(&cut->x, EVIDENCE_NO_FOCUS),
                          "a %lld-token reply cut at %d ends with "
                          "finish_reason %s",
                          (long long)full->k.completion, SMALL_MAX_TOKENS,
                          fin != NULL ? fin : "missing");
    else
        conform_pass(c, &checks[LENGTH], NULL,
                     "cut at %d tokens with finish_reason length",
                     SMALL_MAX_TOKENS);
}

/* Judges the longer prompt against the short one (both cut the same). */
static void judge_grows(struct conform *c, const struct plain *full,
                        const struct plain *cut, const struct plain *longer)
{
    if ((!cut->ok || !longer->ok) && !full->ok &&
        exchange_status_is(&cut->x, 200) &&
        exchange_status_is(&longer->x, 200)) {
        conform_skip(c, &checks[PROMPT_GROWS], "%s too (see usage.present)",
                     cut->ok ? longer->why : cut->why);
    } else if (!cut->ok || !longer->ok) {
        conform_violation(c, &checks[PROMPT_GROWS],
                          exchange_evidence(cut->ok ? &longer->x : &cut->x,
                                            EVIDENCE_NO_FOCUS),
                          "%s", cut->ok ? longer->why : cut->why);
    } else if (longer->k.prompt <= cut->k.prompt) {
        conform_violation(c, &checks[PROMPT_GROWS],
                          exchange_evidence(&longer->x, EVIDENCE_NO_FOCUS),
                          "a prompt of %zu bytes counts %lld tokens, one of "
                          "%zu bytes %lld",
                          sizeof(longer_prompt) - 1,
                          (long long)longer->k.prompt, sizeof(prompt) - 1,
                          (long long)cut->k.prompt);
    } else {
        conform_pass(c, &checks[PROMPT_GROWS], NULL,
                     "%lld tokens, then %lld for the longer prompt",
                     (long long)cut->k.prompt, (long long)longer->k.prompt);
    }
}

/* Judges the streamed usage against the plain one. */
static void judge_equal(struct conform *c, const struct plain *full,
                        const struct exchange *sx, const struct counts *sk,
                        const struct buf *streamed_text)
{
    const char *text = content_of(full);
    bool same_text = text != NULL && strcmp(text, buf_str(streamed_text)) == 0;

    if (!full->ok) {
        conform_skip(c, &checks[STREAM_EQUALS],
                     "the plain request has no "
                     "usage (see usage.present)");
    } else if (sk->prompt != full->k.prompt ||
               (same_text && (sk->completion != full->k.completion ||
                              sk->total != full->k.total))) {
        conform_violation(
            c, &checks[STREAM_EQUALS], exchange_evidence(sx, EVIDENCE_NO_FOCUS),
            "streamed %lld/%lld/%lld, plain %lld/%lld/%lld "
            "(prompt/completion/total)%s",
            (long long)sk->prompt, (long long)sk->completion,
            (long long)sk->total, (long long)full->k.prompt,
            (long long)full->k.completion, (long long)full->k.total,
            same_text ? " for the same reply" : "");
    } else if (!same_text) {
        conform_pass(c, &checks[STREAM_EQUALS], NULL,
                     "prompt_tokens agree (%lld); the replies differ, so "
                     "completion_tokens are not compared",
                     (long long)sk->prompt);
    } else {
        conform_pass(c, &checks[STREAM_EQUALS], NULL,
                     "streamed and plain usage agree: %lld/%lld/%lld",
                     (long long)sk->prompt, (long long)sk->completion,
                     (long long)sk->total);
    }
}

/* The words of s: runs of bytes between blanks. Every mainstream
 * tokenizer splits text at blanks before it merges bytes into tokens, so a
 * text has at least as many tokens as words; NULL has none. */
static json_int_t words(const char *s)
{
    json_int_t n = 0;
    bool in = false;

    for (; s != NULL && *s != '\0'; s++) {
        bool blank = *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r';

        n += !blank && !in;
        in = !blank;
    }
    return n;
}

/* What one reply carried and what its usage counted. */
struct counted {
    const char *label; /* "plain" or "streamed" */
    const char *content, *reasoning;
    json_int_t completion;
    const json_t *reasoning_tokens; /* NULL when not sent */
};

/* Says in why how k undercounts its reply, or returns true. */
static bool counted_ok(const struct counted *k, char *why, size_t n)
{
    json_int_t wc = words(k->content), wr = words(k->reasoning);
    json_int_t rt = json_integer_value(k->reasoning_tokens);
    bool ret = false;

    if (k->completion < wc + wr && wr > 0 && k->completion >= wc)
        snprintf(why, n,
                 "%s reply: completion_tokens %lld for %lld words of "
                 "content and %lld of reasoning_content: the reasoning is "
                 "not counted",
                 k->label, (long long)k->completion, (long long)wc,
                 (long long)wr);
    else if (k->completion < wc + wr)
        snprintf(why, n,
                 "%s reply: completion_tokens %lld for a reply of %lld "
                 "words",
                 k->label, (long long)k->completion, (long long)(wc + wr));
    else if (k->reasoning_tokens != NULL &&
             !shape_is_count(k->reasoning_tokens))
        snprintf(why, n,
                 "%s reply: completion_tokens_details.reasoning_tokens is "
                 "%s",
                 k->label, shape_type(k->reasoning_tokens));
    else if (k->reasoning_tokens != NULL && rt > k->completion)
        snprintf(why, n,
                 "%s reply: reasoning_tokens %lld > completion_tokens %lld",
                 k->label, (long long)rt, (long long)k->completion);
    else if (k->reasoning_tokens != NULL && rt < wr)
        snprintf(why, n,
                 "%s reply: reasoning_tokens %lld for %lld words of "
                 "reasoning_content",
                 k->label, (long long)rt, (long long)wr);
    else
        ret = true;
    return ret;
}

/* Judges usage.completion-counted on the full plain reply and the stream:
 * each must count at least a token per word it carries. */
static void judge_counted(struct conform *c, const struct plain *full,
                          const struct exchange *sx, const struct counts *sk,
                          bool streamed, const struct buf *text,
                          const struct buf *reasoning)
{
    const struct check_def *d = &checks[COUNTED];
    struct counted k[2];
    const struct exchange *xs[2];
    char why[512];
    size_t n = 0, i;

    if (full->ok) {
        k[n].label = "plain";
        k[n].content = content_of(full);
        k[n].reasoning = message_text(full, "reasoning_content");
        k[n].completion = full->k.completion;
        k[n].reasoning_tokens = full->k.reasoning_tokens;
        xs[n++] = &full->x;
    }
    if (streamed) {
        k[n].label = "streamed";
        k[n].content = buf_str(text);
        k[n].reasoning = buf_str(reasoning);
        k[n].completion = sk->completion;
        k[n].reasoning_tokens = sk->reasoning_tokens;
        xs[n++] = sx;
    }
    if (n == 0) {
        conform_skip(c, d,
                     "no usage to compare (see usage.present and "
                     "usage.stream-equals)");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (!counted_ok(&k[i], why, sizeof(why))) {
            conform_violation(c, d, exchange_evidence(xs[i], EVIDENCE_NO_FOCUS),
                              "%s", why);
            goto out;
        }
    }
    conform_pass(c, d, NULL,
                 "completion_tokens %lld for %lld words of content and %lld "
                 "of reasoning_content (%s)",
                 (long long)k[0].completion, (long long)words(k[0].content),
                 (long long)words(k[0].reasoning), k[0].label);
out:
    return;
}

/* Runs the group: the prompt plain, cut, longer and cut, and streamed. */
static void run(struct conform *c)
{
    struct plain p[3];
    struct exchange sx;
    struct stream_log log;
    struct counts sk = {0, 0, 0, NULL};
    struct buf text, reasoning;
    char why[512] = "";
    json_t *body;
    size_t err;
    bool streamed = false;

    memset(p, 0, sizeof(p));
    exchange_init(&sx);
    buf_init(&text, (size_t)1 << 20);
    buf_init(&reasoning, (size_t)1 << 20);
    send_plain(c, &p[0], prompt, 0);
    send_plain(c, &p[1], prompt, SMALL_MAX_TOKENS);
    send_plain(c, &p[2], longer_prompt, SMALL_MAX_TOKENS);

    body = usage_body(conform_model(c), prompt, 0);
    json_object_set_new(body, "stream", json_true());
    json_object_set_new(body, "stream_options",
                        json_pack("{s:b}", "include_usage", 1));
    exchange_send_stream(c, &sx, body, &log);
    err = stream_log_error_event(&log);
    if (stream_log_whole(&log, &sx.resp) && err != SIZE_MAX)
        stream_log_describe_error(&log, err, why, sizeof(why));
    else if (stream_log_whole(&log, &sx.resp) &&
             read_usage(stream_log_usage(&log), &sk, why, sizeof(why))) {
        streamed = true;
        stream_log_text(&log, 0, "content", &text);
        stream_log_text(&log, 0, "reasoning_content", &reasoning);
    }

    if (p[0].ok)
        conform_pass(
            c, &checks[PRESENT], exchange_evidence(&p[0].x, EVIDENCE_NO_FOCUS),
            "prompt/completion/total %lld/%lld/%lld", (long long)p[0].k.prompt,
            (long long)p[0].k.completion, (long long)p[0].k.total);
    else
        conform_violation(c, &checks[PRESENT],
                          exchange_evidence(&p[0].x, EVIDENCE_NO_FOCUS), "%s",
                          p[0].why);
    judge_total(c, p, 3, &sx, &sk, streamed);
    judge_cut(c, &p[0], &p[1]);
    judge_grows(c, &p[0], &p[1], &p[2]);
    if (streamed)
        judge_equal(c, &p[0], &sx, &sk, &text);
    else if (conform_status_of(c, "stream.usage-chunk") == CHECK_FAIL &&
             stream_log_whole(&log, &sx.resp))
        conform_skip(c, &checks[STREAM_EQUALS],
                     "no usage from the stream: %s (see stream.usage-chunk)",
                     why[0] != '\0' ? why : "none");
    else if (!p[0].ok && stream_log_whole(&log, &sx.resp))
        conform_skip(c, &checks[STREAM_EQUALS],
                     "no usage from the stream nor the plain request (see "
                     "usage.present)");
    else
        conform_violation(c, &checks[STREAM_EQUALS],
                          exchange_evidence(&sx, EVIDENCE_NO_FOCUS),
                          "no usage from the stream: %s",
                          why[0] != '\0' ? why : conform_describe(c, &sx.resp));
    judge_counted(c, &p[0], &sx, &sk, streamed, &text, &reasoning);
    exchange_cleanup(&p[0].x);
    exchange_cleanup(&p[1].x);
    exchange_cleanup(&p[2].x);
    exchange_cleanup(&sx);
    stream_log_cleanup(&log);
    buf_cleanup(&text);
    buf_cleanup(&reasoning);
}

const struct group_def group_usage = {
    .name = "usage",
    .about = "Token accounting: arithmetic, max_tokens, prompt growth, "
             "streamed equals plain",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = NULL,
    .run = run,
};
