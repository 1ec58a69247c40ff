/* chat: POST /v1/chat/completions, JSON or streamed. Checks run in the
 * documented order: (auth in the router) validation, model lookup, rate
 * limit, balance. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "clock.h"
#include "fixtures.h"
#include "reply.h"
#include "router.h"
#include "routes.h"
#include "sse.h"
#include "validate.h"

/* Returns a new reference to the non-streamed chat.completion object. */
static json_t *completion_json(const struct completion *c)
{
    json_t *choices = json_array();
    json_t *o = NULL;
    unsigned i;

    if (choices == NULL)
        goto out;
    for (i = 0; i < c->n; i++) {
        const struct reply_choice *ch = &c->choices[i];
        json_t *message, *item;

        if (ch->tool_name != NULL)
            message = json_pack(
                "{s:s, s:n, s:[{s:s, s:s, s:{s:s, s:s%}}], s:n}", "role",
                "assistant", "content", "tool_calls", "id", ch->tool_call_id,
                "type", "function", "function", "name", ch->tool_name,
                "arguments", ch->content, ch->len, "refusal");
        else
            message = json_pack("{s:s, s:s%, s:n}", "role", "assistant",
                                "content", ch->content, ch->len, "refusal");
        item =
            json_pack("{s:I, s:o, s:o, s:s}", "index", (json_int_t)i, "message",
                      message, "logprobs",
                      c->logprobs ? completion_logprobs_json(c, ch, 0, ch->ntok)
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

/* The pacing of a stream: the plan's settings win over the model's. */
static struct sse_pacing pacing_for(const struct fx_model *m,
                                    const struct fx_plan *plan)
{
    struct sse_pacing p = {m->pacing.ttft_ms, m->pacing.tokens_per_sec};

    if (plan->pacing.has_ttft)
        p.ttft_ms = plan->pacing.ttft_ms;
    if (plan->pacing.has_tps)
        p.tokens_per_sec = plan->pacing.tokens_per_sec;
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

/* Sets e from a parser error: \u0000 inside a string, or not JSON. */
static void parse_error(const json_error_t *jerr, struct api_error *e)
{
    if (json_error_code(jerr) == json_error_null_character)
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

/* Parses the body; returns a new reference or NULL with e set (400).
 *
 * A number too large for the parser is valid JSON out of range, so it is
 * reported like any other out-of-range value: every such number is clamped
 * in a copy of the body (same length, so positions hold) and that copy is
 * read again and validated. */
static json_t *parse_body(const struct request *req, struct api_error *e)
{
    const char *text = req->body ? req->body : "";
    json_error_t jerr;
    json_t *body = json_loadb(text, req->body_len, 0, &jerr);
    json_t *clamped = NULL;
    struct big_number first = {0, false, false};
    char *copy = NULL;

    if (body != NULL)
        return body;
    if (json_error_code(&jerr) != json_error_numeric_overflow) {
        parse_error(&jerr, e);
        goto out;
    }
    copy = malloc(req->body_len ? req->body_len : 1);
    if (copy == NULL) {
        api_error_set(e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory reading the request.");
        goto out;
    }
    memcpy(copy, text, req->body_len);
    if (clamp_numbers(copy, req->body_len, &first) == 0) {
        parse_error(&jerr, e); /* the scan disagrees: report as it is */
        goto out;
    }
    clamped = json_loadb(copy, req->body_len, 0, &jerr);
    if (clamped == NULL)
        parse_error(&jerr, e); /* the number was not the only problem */
    else
        report_big_numbers(text, clamped, &first, e);
out:
    free(copy);
    json_decref(clamped);
    return NULL;
}

/* Answers one chat completion request. */
static void chat_handle(struct app *app, struct request *req,
                        struct response *resp)
{
    struct chat_request creq;
    struct completion *c = NULL;
    const struct fx_model *m;
    struct api_error e;
    json_t *body;
    char id[64];
    int64_t cost;
    struct sse_pacing pacing;

    memset(&creq, 0, sizeof(creq));
    body = parse_body(req, &e);
    if (body == NULL)
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
    snprintf(id, sizeof(id), "chatcmpl-%s",
             strncmp(req->request_id, "req_", 4) == 0 ? req->request_id + 4
                                                      : req->request_id);
    if (completion_build(&creq, id, (int64_t)(clock_wall_ms(app->clock) / 1000),
                         &c) != 0) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory building the reply.");
        goto fail;
    }
    if (router_admit(app, req, c->prompt_tokens + c->completion_tokens, resp) !=
        0)
        goto out;
    cost = billing_cost(m, c->prompt_tokens, c->completion_tokens);
    if (cost < 0 || billing_charge(app->billing, req->key_index, cost,
                                   clock_wall_ms(app->clock)) != 0) {
        api_error_set(&e, API_ERR_INSUFFICIENT_FUNDS, NULL, NULL,
                      "Insufficient balance: this request costs more than "
                      "the account holds. Top up your account to continue.");
        goto fail;
    }
    if (!creq.stream) {
        response_json(resp, 200, completion_json(c));
        goto out;
    }
    pacing = pacing_for(m, &app->fx->plans[req->key->plan]);
    resp->status = 200;
    resp->stream = sse_stream_new(c, &pacing);
    c = NULL;
    if (resp->stream == NULL) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory starting the stream.");
        goto fail;
    }
    goto out;
fail:
    response_error(resp, &e);
out:
    completion_free(c);
    chat_request_cleanup(&creq);
    json_decref(body);
}

const struct route route_chat = {.method = "POST",
                                 .path = "/v1/chat/completions",
                                 .auth = true,
                                 .handler = chat_handle};
