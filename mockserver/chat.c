/* chat: POST /v1/chat/completions, JSON or streamed. Checks run in the
 * documented order: (auth in the router) validation, model lookup, rate
 * limit, balance. */
#include "chat.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "billing.h"
#include "clock.h"
#include "fixtures.h"
#include "jsonio.h"
#include "jsonw.h"
#include "params.h"
#include "ratelimit.h"
#include "reply.h"
#include "router.h"
#include "routes.h"
#include "rules.h"
#include "sse.h"
#include "tokenize.h"
#include "validate.h"

/* Returns a new reference to a text as JSON: a string, or null when absent. */
static json_t *text_json(const struct reply_text *t)
{
    return t->text != NULL ? json_stringn(t->text, t->len) : json_null();
}

/* Returns a new reference to the tool_calls array of a message. */
static json_t *tool_calls_json(const struct reply_choice *ch)
{
    json_t *calls = json_array();
    size_t k;

    for (k = 0; calls != NULL && k < ch->ntool_calls; k++) {
        const struct reply_tool_call *call = &ch->tool_calls[k];

        if (json_array_append_new(
                calls,
                json_pack("{s:s, s:s, s:{s:s, s:o}}", "id", call->id, "type",
                          "function", "function", "name", call->name,
                          "arguments", text_json(&call->arguments))) != 0) {
            json_decref(calls);
            calls = NULL;
        }
    }
    return calls;
}

/* Returns a new reference to a choice's message: role, content,
 * reasoning_content (if any), tool_calls (if any), refusal. */
static json_t *message_json(const struct reply_choice *ch)
{
    json_t *m = json_pack("{s:s, s:o}", "role", "assistant", "content",
                          text_json(&ch->content));

    if (m != NULL && ch->reasoning.text != NULL &&
        json_object_set_new(m, "reasoning_content",
                            text_json(&ch->reasoning)) != 0)
        goto fail;
    if (m != NULL && ch->ntool_calls > 0 &&
        json_object_set_new(m, "tool_calls", tool_calls_json(ch)) != 0)
        goto fail;
    if (m != NULL && json_object_set_new(m, "refusal", json_null()) != 0)
        goto fail;
    return m;
fail:
    json_decref(m);
    return NULL;
}

json_t *chat_completion_json(const struct completion *c)
{
    json_t *choices = json_array();
    json_t *o = NULL;
    unsigned i;

    if (choices == NULL)
        goto out;
    for (i = 0; i < c->n; i++) {
        const struct reply_choice *ch = &c->choices[i];
        json_t *item = json_pack(
            "{s:I, s:o, s:o, s:s}", "index", (json_int_t)i, "message",
            message_json(ch), "logprobs",
            c->logprobs ? completion_logprobs_json(c, ch, 0, ch->content.ntok)
                        : json_null(),
            "finish_reason", ch->finish_reason);

        if (json_array_append_new(choices, item) != 0)
            goto out;
    }
    o = json_pack("{s:s, s:s, s:I, s:s, s:o, s:o}", "id", c->id, "object",
                  "chat.completion", "created", (json_int_t)c->created, "model",
                  c->model, "choices", choices, "usage",
                  completion_usage_json(c));
    choices = NULL;
out:
    json_decref(choices);
    return o;
}

/* Appends the literal text lit (a string constant) to out. */
#define PUT_TEXT(out, lit) buf_append(out, lit, sizeof(lit) - 1)

/* Appends the NUL-terminated s as a JSON string. */
static int put_str(struct buf *out, const char *s)
{
    return jsonw_put_string(out, s, strlen(s));
}

/* Appends a choice's message as message_json builds it; the fixed parts as
 * text. Returns 0, or -1 (out refused, or a text is not UTF-8). */
static int message_render(struct buf *out, const struct reply_choice *ch)
{
    int err = 0;
    size_t k;

    err |= PUT_TEXT(out, "{\"role\":\"assistant\",\"content\":");
    err |= jsonw_put_string(out, ch->content.text, ch->content.len);
    if (ch->reasoning.text != NULL) {
        err |= PUT_TEXT(out, ",\"reasoning_content\":");
        err |= jsonw_put_string(out, ch->reasoning.text, ch->reasoning.len);
    }
    if (ch->ntool_calls > 0) {
        err |= PUT_TEXT(out, ",\"tool_calls\":[");
        for (k = 0; k < ch->ntool_calls; k++) {
            const struct reply_tool_call *call = &ch->tool_calls[k];
            struct jsonw w;

            /* A call is rare on this path: its object goes through the
             * writer it shares with the stream's call header. */
            if (k > 0)
                err |= PUT_TEXT(out, ",");
            jsonw_init(&w, out);
            jsonw_object_open(&w);
            reply_call_write(&w, call, call->arguments.text,
                             call->arguments.len);
            jsonw_object_close(&w);
            err |= jsonw_finish(&w);
        }
        err |= PUT_TEXT(out, "]");
    }
    err |= PUT_TEXT(out, ",\"refusal\":null}");
    return err != 0 ? -1 : 0;
}

/* Appends the usage object as completion_usage_json builds it. */
static int usage_render(struct buf *out, const struct completion *c)
{
    int err = 0;

    err |= PUT_TEXT(out, "{\"prompt_tokens\":");
    err |= jsonw_put_int(out, (long long)c->prompt_tokens);
    err |= PUT_TEXT(out, ",\"completion_tokens\":");
    err |= jsonw_put_int(out, (long long)c->completion_tokens);
    err |= PUT_TEXT(out, ",\"total_tokens\":");
    err |= jsonw_put_int(out,
                         (long long)(c->prompt_tokens + c->completion_tokens));
    if (c->reasoning_tokens > 0) {
        err |= PUT_TEXT(out, ",\"completion_tokens_details\":{"
                             "\"reasoning_tokens\":");
        err |= jsonw_put_int(out, (long long)c->reasoning_tokens);
        err |= PUT_TEXT(out, "}");
    }
    err |= PUT_TEXT(out, "}");
    return err != 0 ? -1 : 0;
}

/* The answer is written as text around its variable parts (jsonw's
 * escaping and numbers): a profile showed the writer's calls, about 40 for
 * a short answer, at 5% of the mock's CPU. It writes what jansson's compact
 * dump of chat_completion_json writes (test_reply's parity test). */
int chat_completion_render(const struct completion *c, struct buf *out)
{
    size_t len = out->len;
    int err = 0;
    unsigned i;

    if (c->logprobs)
        return -1;
    err |= PUT_TEXT(out, "{\"id\":");
    err |= put_str(out, c->id);
    err |= PUT_TEXT(out, ",\"object\":\"chat.completion\",\"created\":");
    err |= jsonw_put_int(out, (long long)c->created);
    err |= PUT_TEXT(out, ",\"model\":");
    err |= put_str(out, c->model);
    err |= PUT_TEXT(out, ",\"choices\":[");
    for (i = 0; i < c->n; i++) {
        err |= i > 0 ? PUT_TEXT(out, ",{\"index\":")
                     : PUT_TEXT(out, "{\"index\":");
        err |= jsonw_put_int(out, (long long)i);
        err |= PUT_TEXT(out, ",\"message\":");
        err |= message_render(out, &c->choices[i]);
        err |= PUT_TEXT(out, ",\"logprobs\":null,\"finish_reason\":");
        err |= put_str(out, c->choices[i].finish_reason);
        err |= PUT_TEXT(out, "}");
    }
    err |= PUT_TEXT(out, "],\"usage\":");
    err |= usage_render(out, c);
    err |= PUT_TEXT(out, "}\n");
    if (err == 0)
        return 0;
    buf_truncate(out, len); /* what was written is not JSON */
    return -1;
}

/* Overrides p with the fields o sets. */
static void pacing_apply(struct sse_pacing *p, const struct fx_pacing *o)
{
    if (o->has_ttft)
        p->ttft_ms = o->ttft_ms;
    if (o->has_tps)
        p->tokens_per_sec = o->tokens_per_sec;
    if (o->has_jitter)
        p->jitter_ms = o->jitter_ms;
    if (o->has_seed)
        p->seed = o->seed;
}

/* The pacing of a stream: a scripted answer's settings win over the
 * plan's, which win over the model's, field by field. */
static struct sse_pacing pacing_for(const struct fx_model *m,
                                    const struct fx_plan *plan,
                                    const struct rule_answer *a)
{
    struct sse_pacing p;

    memset(&p, 0, sizeof(p));
    pacing_apply(&p, &m->pacing);
    pacing_apply(&p, &plan->pacing);
    if (a != NULL)
        pacing_apply(&p, &a->pacing);
    return p;
}

/* Finds the object key whose value ends at pos in body (the number jansson
 * refused), copying it into key. Returns 0, or -1 when the number is not an
 * object member's value. */
static int key_before(const char *body, size_t pos, char *key, size_t keylen)
{
    size_t end, start;

    while (pos > 0 && strchr(" \t\r\n:,{}[]\"", body[pos - 1]) == NULL)
        pos--; /* back over the number itself */
    while (pos > 0 && strchr(" \t\r\n", body[pos - 1]) != NULL)
        pos--;
    if (pos == 0 || body[--pos] != ':')
        return -1;
    while (pos > 0 && strchr(" \t\r\n", body[pos - 1]) != NULL)
        pos--;
    if (pos == 0 || body[pos - 1] != '"')
        return -1;
    end = --pos;
    for (start = end; start > 0; start--)
        if (body[start - 1] == '"' && (start < 2 || body[start - 2] != '\\'))
            break;
    if (start == 0 || end - start >= keylen ||
        memchr(body + start, '\\', end - start) != NULL)
        return -1;
    memcpy(key, body + start, end - start);
    key[end - start] = '\0';
    return 0;
}

/* A number in the body that the parser refuses: an integer beyond int64 or
 * a real beyond double, found in the text itself. */
struct big_number {
    size_t end; /* just past its last character */
    bool integer, negative;
};

/* Does the number text s (NUL-terminated) convert, whole, only out of
 * range? The conversions and checks jansson makes: strtoll's ERANGE for
 * integers, an infinite strtod for reals (underflow is fine). */
static bool number_overflows(const char *s, bool integer)
{
    char *end;
    double d;

    errno = 0;
    if (integer) {
        (void)strtoll(s, &end, 10);
        return *end == '\0' && errno == ERANGE;
    }
    d = strtod(s, &end);
    return *end == '\0' && errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
}

/* Is text[0..n) a number as JSON writes one: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
 * (any other token is left to the parser to refuse)? */
static bool json_number_text(const char *text, size_t n)
{
    size_t i = text[0] == '-' ? 1 : 0, digits;

    for (digits = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++)
        digits++;
    if (digits == 0 || (digits > 1 && text[i - digits] == '0'))
        return false;
    if (i < n && text[i] == '.') {
        for (i++, digits = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++)
            digits++;
        if (digits == 0)
            return false;
    }
    if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        i++;
        if (i < n && (text[i] == '+' || text[i] == '-'))
            i++;
        for (digits = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++)
            digits++;
        if (digits == 0)
            return false;
    }
    return i == n;
}

/* Checks the number token text[0..n) and, when the parser would refuse it,
 * overwrites it with the parser's largest value of its sign, padded with
 * spaces to its length: every later line and column stays where it was. */
static bool clamp_number(char *text, size_t n, bool *integer)
{
    char small[64], *copy;
    const char *repl;
    bool big = false;

    *integer = memchr(text, '.', n) == NULL && memchr(text, 'e', n) == NULL &&
               memchr(text, 'E', n) == NULL;
    if (!json_number_text(text, n))
        return false;
    copy = n < sizeof(small) ? small : malloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, text, n);
        copy[n] = '\0';
        big = number_overflows(copy, *integer);
    }
    if (copy != small)
        free(copy);
    if (!big)
        return false;
    repl = *integer ? (text[0] == '-' ? "-9223372036854775808"
                                      : "9223372036854775807")
                    : (text[0] == '-' ? "-1e308" : "1e308");
    /* An overflowing integer has at least 19 digits, a real at least 5
     * characters ("9e308"): the stand-in always fits. */
    memset(text, ' ', n);
    memcpy(text, repl, strlen(repl));
    return true;
}

/* Clamps, in place, every number of the JSON text that the parser refuses
 * (scanning outside strings). Returns how many; the first is *first. */
static size_t clamp_numbers(char *text, size_t len, struct big_number *first)
{
    size_t i = 0, count = 0, start;
    bool integer;

    while (i < len) {
        if (text[i] == '"') {
            for (i++; i < len && text[i] != '"'; i++)
                if (text[i] == '\\')
                    i++;
            i++;
            continue;
        }
        if (text[i] != '-' && (text[i] < '0' || text[i] > '9')) {
            i++;
            continue;
        }
        start = i;
        while (i < len && strchr("0123456789+-.eE", text[i]) != NULL &&
               text[i] != '\0')
            i++;
        if (clamp_number(text + start, i - start, &integer) && count++ == 0) {
            first->end = i;
            first->integer = integer;
            first->negative = text[start] == '-';
        }
    }
    return count;
}

/* Sets e from a parser error: out of memory (a 500: the body may be
 * fine), \u0000 inside a string, or not JSON. */
static void parse_error(const json_error_t *jerr, bool oom, struct api_error *e)
{
    if (oom)
        api_error_set(e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory reading the request.");
    else if (json_error_code(jerr) == json_error_null_character)
        api_error_set(e, API_ERR_INVALID_JSON, NULL, NULL,
                      "Strings in the request must not contain \\u0000 "
                      "(line %d, column %d).",
                      jerr->line, jerr->column);
    else
        api_error_set(e, API_ERR_INVALID_JSON, NULL, NULL,
                      "We could not parse the JSON body of your request: %s "
                      "(line %d, column %d). The body must be a JSON object.",
                      jerr->text, jerr->line, jerr->column);
}

/* Reports the numbers beyond the parser of a body that is otherwise JSON
 * (clamped: the body with each replaced by the parser's largest value).
 * Validation of the clamped body names the first problem by its full path;
 * if it finds none, the first number is named by its key. */
static void report_big_numbers(const char *text, const json_t *clamped,
                               const struct big_number *first,
                               struct api_error *e)
{
    struct chat_request creq;
    char key[128];
    bool named;

    if (validate_chat_request(clamped, &creq, e) != 0) {
        /* A range error there names the field; its message would quote the
         * clamped stand-in, not what the client sent. */
        if (e->code != NULL && (strstr(e->code, "_max_value") != NULL ||
                                strstr(e->code, "_min_value") != NULL)) {
            char param[sizeof(e->param)];

            memcpy(param, e->param, sizeof(param));
            api_error_set(e, API_ERR_INVALID_REQUEST, param, e->code,
                          "Invalid '%s': the number is outside the range "
                          "this API accepts.",
                          param);
        }
        goto out;
    }
    named = key_before(text, first->end, key, sizeof(key)) == 0;
    api_error_set(e, API_ERR_INVALID_REQUEST, named ? key : NULL,
                  first->integer ? (first->negative ? "integer_below_min_value"
                                                    : "integer_above_max_value")
                  : first->negative ? "decimal_below_min_value"
                                    : "decimal_above_max_value",
                  "Invalid '%s': the number is outside the range this API "
                  "accepts.",
                  named ? key : "number");
out:
    chat_request_cleanup(&creq);
}

/* Parses the body, or takes a reference to the router's reading of it
 * (rules loaded: their conditions read it first); returns a new reference
 * or NULL with e set (400).
 *
 * A number too large for the parser is valid JSON out of range, so it is
 * reported like any other out-of-range value: every such number is clamped
 * in a copy of the body (same length, so positions hold) and that copy is
 * read again and validated. */
static json_t *parse_body(const struct request *req, struct api_error *e)
{
    const char *text = req->body ? req->body : "";
    json_error_t jerr;
    bool oom;
    json_t *body, *clamped = NULL;
    struct big_number first = {0, false, false};
    char *copy = NULL;

    if (req->json != NULL)
        return json_incref(req->json);
    body = jsonio_loadb(text, req->body_len, 0, &jerr, &oom);
    if (body != NULL)
        return body;
    if (oom || json_error_code(&jerr) != json_error_numeric_overflow) {
        parse_error(&jerr, oom, e);
        goto out;
    }
    copy = malloc(req->body_len ? req->body_len : 1);
    if (copy == NULL) {
        parse_error(&jerr, true, e);
        goto out;
    }
    memcpy(copy, text, req->body_len);
    if (clamp_numbers(copy, req->body_len, &first) == 0) {
        parse_error(&jerr, false, e); /* the scan disagrees: as it is */
        goto out;
    }
    clamped = jsonio_loadb(copy, req->body_len, 0, &jerr, &oom);
    if (clamped == NULL)
        parse_error(&jerr, oom, e); /* not only the number was wrong */
    else
        report_big_numbers(text, clamped, &first, e);
out:
    free(copy);
    json_decref(clamped);
    return NULL;
}

/* A streamed answer as the HTTP layer sees it: the paced chunk stream (as
 * sse.c's source), and the money reserved for it until it ends. */
struct chat_stream {
    struct source events;
    struct sse_stream *sse; /* borrowed from events, which frees it */
    struct billing *billing;
    struct clock *clock;
    struct billing_hold hold;
    struct chat_stream_bill bill;
};

static uint64_t chat_stream_due_ms(void *self)
{
    struct chat_stream *cs = self;

    return cs->events.ops->due_ms(cs->events.self);
}

static enum source_step chat_stream_next(void *self, struct buf *out)
{
    struct chat_stream *cs = self;

    return cs->events.ops->next(cs->events.self, out);
}

static void chat_stream_hurry(void *self)
{
    struct chat_stream *cs = self;

    cs->events.ops->hurry(cs->events.self);
}

/* What a stream that ended as `how` is charged: its whole cost once every
 * event went out; otherwise, as the real APIs bill a client that
 * disconnects, its prompt tokens and the completion tokens of the events
 * handed to the socket (never more than the whole). */
static int64_t chat_stream_charge(const struct chat_stream *cs,
                                  const struct source_end *how)
{
    struct fx_model prices; /* billing_cost reads only the prices */
    int64_t part;

    if (how->completed || cs->sse == NULL)
        return cs->bill.cost; /* a whole answer that went out is paid */
    memset(&prices, 0, sizeof(prices));
    prices.price_in = cs->bill.price_in;
    prices.price_out = cs->bill.price_out;
    part = billing_cost(&prices, cs->bill.prompt_tokens,
                        sse_stream_tokens(cs->sse, how->pieces));
    return part < 0 || part > cs->bill.cost ? cs->bill.cost : part;
}

/* Settles the stream's money for what went out if any event did, or
 * releases it if none did (the server could not start it, or the client
 * left first), then frees the stream. */
static void chat_stream_end(void *self, const struct source_end *how)
{
    struct chat_stream *cs = self;

    if (how->pieces > 0)
        billing_settle(cs->billing, &cs->hold, chat_stream_charge(cs, how),
                       clock_wall_ms(cs->clock));
    else
        billing_release(cs->billing, &cs->hold);
    cs->events.ops->end(cs->events.self, how);
    free(cs);
}

static const struct source_ops chat_stream_ops = {
    .due_ms = chat_stream_due_ms,
    .next = chat_stream_next,
    .hurry = chat_stream_hurry,
    .end = chat_stream_end,
};

/* Wraps events (taken) in a source that carries the money held for it, as
 * chat_stream_source describes; sse is the chat stream events reads from,
 * or NULL for a whole answer (answer_delayed), which is paid in full once
 * any of it went out. */
static int paid_source(struct source events, struct sse_stream *sse,
                       struct billing *b, struct clock *clock,
                       struct billing_hold *hold,
                       const struct chat_stream_bill *bill, struct source *out)
{
    struct chat_stream *cs = NULL;
    struct source_end never;

    memset(out, 0, sizeof(*out));
    if (events.ops != NULL)
        cs = calloc(1, sizeof(*cs));
    if (cs == NULL) {
        memset(&never, 0, sizeof(never));
        if (events.ops != NULL)
            events.ops->end(events.self, &never);
        billing_release(b, hold);
        return -1;
    }
    cs->events = events;
    cs->sse = sse;
    cs->billing = b;
    cs->clock = clock;
    cs->hold = *hold;
    cs->bill = *bill;
    memset(hold, 0, sizeof(*hold)); /* the stream holds the money now */
    out->ops = &chat_stream_ops;
    out->self = cs;
    return 0;
}

int chat_stream_source(struct sse_stream *sse, struct billing *b,
                       struct clock *clock, struct billing_hold *hold,
                       const struct chat_stream_bill *bill, struct source *out)
{
    return paid_source(sse_stream_source(sse), sse, b, clock, hold, bill, out);
}

/* About how many bytes chat_completion_render writes for c: the fixed
 * members and the texts, unescaped. */
static size_t render_size_hint(const struct completion *c)
{
    size_t n = 256 + strlen(c->id) + strlen(c->model);
    unsigned i;

    for (i = 0; i < c->n; i++)
        n += 160 + c->choices[i].content.len + c->choices[i].reasoning.len;
    return n;
}

/* Puts the body answering with c into resp as text rendered at once
 * (chat_completion_render). Returns 0, or -1 when it cannot be rendered so
 * (resp untouched): the caller builds it with jansson. */
static int chat_answer_now(const struct completion *c, struct response *resp)
{
    struct buf text;
    char *bytes;
    size_t len;

    buf_init(&text, SIZE_MAX);
    /* Sized once for the usual answer rather than grown from 64 bytes by
     * doubling (four reallocs for a short one); a failure here is only a
     * missed hint, the render grows the buffer itself. */
    buf_grow(&text, render_size_hint(c));
    if (chat_completion_render(c, &text) != 0 ||
        (bytes = buf_take(&text, &len)) == NULL) {
        buf_cleanup(&text);
        return -1;
    }
    response_json_text(resp, 200, bytes, len);
    return 0;
}

/* Puts the answer to *c into resp: the JSON body (settling the hold), a
 * stream source that takes *c (leaving it NULL) and the hold, settled when
 * the stream ends, or for a scripted answer with a latency the body behind
 * a delayed source that carries the hold the same way. a is the scripted
 * answer, or NULL. Returns 0, or -1 (out of memory) with nothing answered
 * and no money charged: what is left of the hold is the caller's to
 * release. */
static int chat_answer(struct app *app, const struct request *req,
                       const struct fx_model *m, bool stream,
                       const struct rule_answer *a, struct completion **c,
                       struct billing_hold *hold, int64_t cost,
                       struct response *resp)
{
    struct sse_pacing pacing;
    struct chat_stream_bill bill;
    struct source delayed;
    json_t *body;
    char *text;

    bill.cost = cost;
    bill.prompt_tokens = (*c)->prompt_tokens;
    bill.price_in = m->price_in;
    bill.price_out = m->price_out;
    if (!stream &&
        (a == NULL || (a->latency_ms == 0 && !fault_any(&a->fault))) &&
        chat_answer_now(*c, resp) == 0) {
        billing_settle(app->billing, hold, cost, clock_wall_ms(app->clock));
        return 0;
    }
    if (!stream) {
        body = chat_completion_json(*c);
        if (body == NULL)
            return -1;
        if (a == NULL || (a->latency_ms == 0 && !fault_any(&a->fault))) {
            response_json(resp, 200, body);
            billing_settle(app->billing, hold, cost, clock_wall_ms(app->clock));
            return 0;
        }
        text = jsonio_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (text == NULL || answer_delayed(text, strlen(text), a->latency_ms,
                                           "application/json", &delayed,
                                           &resp->content_type) != 0)
            return -1;
        if (paid_source(delayed, NULL, app->billing, app->clock, hold, &bill,
                        &resp->source) != 0)
            return -1;
        resp->framing = SOURCE_WHOLE;
        /* On OOM the answer goes out without its fault. */
        (void)fault_wrap(&a->fault, &resp->source, &resp->framing);
        return 0;
    }
    pacing = pacing_for(m, &app->fx->plans[req->key->plan], a);
    if (chat_stream_source(sse_stream_new(*c, &pacing), app->billing,
                           app->clock, hold, &bill, &resp->source) != 0) {
        *c = NULL;
        return -1;
    }
    *c = NULL;
    resp->status = 200;
    resp->content_type = "text/event-stream";
    if (a != NULL) /* on OOM the answer goes out without its fault */
        (void)fault_wrap(&a->fault, &resp->source, &resp->framing);
    return 0;
}

/* Makes the completion: the scripted rule's, or a generated one. */
static int chat_build(const struct request *req,
                      const struct chat_request *creq, const json_t *body,
                      const char *id, int64_t created, struct completion **c)
{
    if (req->hit != NULL)
        return answer_compose(req->hit, creq, body, id, created, c);
    return completion_build(creq, id, created, c);
}

/* Writes the completion's id for the request id rid into id (size bytes):
 * "chatcmpl-" and rid without its "req_", cut to the room as snprintf
 * would cut it (a profile showed that snprintf at 0.4% of the mock's
 * CPU). */
static void chat_id(const char *rid, char *id, size_t size)
{
    static const char prefix[] = "chatcmpl-";
    size_t n;

    if (strncmp(rid, "req_", 4) == 0)
        rid += 4;
    n = strnlen(rid, size - sizeof(prefix));
    memcpy(id, prefix, sizeof(prefix) - 1);
    memcpy(id + sizeof(prefix) - 1, rid, n);
    id[sizeof(prefix) - 1 + n] = '\0';
}

/* Answers one chat completion request. The rate limit admits it before the
 * reply is generated, reserving its prompt tokens and the most the reply
 * can use; the exact tokens replace the reservation once the reply exists.
 * Its cost is then reserved from the balance (or 402) and settled when the
 * answer is made, or released when none is. A scripted answer (req->hit)
 * goes the same way, unless its rule exempts it from the rate limit or
 * from billing. */
static void chat_handle(struct app *app, struct request *req,
                        struct response *resp)
{
    const struct rule_answer *a = req->hit != NULL ? req->hit->answer : NULL;
    struct chat_request creq;
    struct completion *c = NULL;
    const struct fx_model *m;
    struct api_error e;
    struct rl_hold admitted;
    struct billing_hold hold;
    json_t *body;
    char id[64];
    int64_t cost = 0;
    int built;

    memset(&creq, 0, sizeof(creq));
    memset(&hold, 0, sizeof(hold));
    memset(&admitted, 0, sizeof(admitted));
    body = parse_body(req, &e);
    if (body == NULL)
        goto fail;
    if (req->json == NULL) /* for the journal, which reads model and stream */
        req->json = json_incref(body);
    /* The fixture's policy on parameters the API does not define, for the
     * model asked for (validation reports a missing or unknown one). */
    m = fixtures_find_model(app->fx,
                            json_string_value(json_object_get(body, "model")));
    if (params_apply(fixtures_params_for(app->fx, m), body, &e) != 0)
        goto fail;
    if (validate_chat_request_within(body, &app->gen, &creq, &e) != 0)
        goto fail;
    m = fixtures_find_model(app->fx, creq.model);
    if (m == NULL) {
        api_error_set(&e, API_ERR_MODEL_NOT_FOUND, "model", NULL,
                      "The model '%s' does not exist or you do not have "
                      "access to it.",
                      creq.model);
        goto fail;
    }
    creq.reasoning = m->reasoning;
    if (a == NULL || a->rate_limited) {
        creq.prompt_tokens = tokenize_prompt(&creq); /* the reply's too */
        if (router_reserve(app, req,
                           creq.prompt_tokens + completion_token_bound(&creq),
                           &admitted, resp) != 0)
            goto out;
    }
    chat_id(req->request_id, id, sizeof(id));
    built = chat_build(req, &creq, body, id,
                       (int64_t)(clock_wall_ms(app->clock) / 1000), &c);
    router_settle(app, req, &admitted,
                  built == 0 ? c->prompt_tokens + c->completion_tokens : 0,
                  resp);
    if (built != 0) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory building the reply.");
        goto fail;
    }
    if (a == NULL || a->billed) {
        cost = billing_cost(m, c->prompt_tokens, c->completion_tokens);
        if (cost < 0 ||
            billing_reserve(app->billing, req->key_index, cost, &hold) != 0) {
            api_error_set(&e, API_ERR_INSUFFICIENT_FUNDS, NULL, NULL,
                          "Insufficient balance: this request costs more "
                          "than the account holds. Top up your account to "
                          "continue.");
            goto fail;
        }
    }
    if (a != NULL)
        answer_headers(a, resp);
    if (chat_answer(app, req, m, creq.stream, a, &c, &hold, cost, resp) != 0) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory answering.");
        goto fail;
    }
    goto out;
fail:
    response_error(resp, &e);
out:
    billing_release(app->billing, &hold); /* a no-op once settled */
    completion_free(c);
    chat_request_cleanup(&creq);
    json_decref(body);
}

const struct route route_chat = {.name = "chat.completions",
                                 .method = "POST",
                                 .path = "/v1/chat/completions",
                                 .auth = true,
                                 .handler = chat_handle};
