/* checks_chat: the chat group: a plain chat completion, field by field,
 * and n choices. */
#include "checks_chat.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evidence.h"
#include "exchange.h"
#include "jsonio.h"
#include "shape.h"

enum {
    STATUS,
    ID,
    OBJECT,
    CREATED,
    MODEL,
    CHOICES,
    MESSAGE,
    FINISH,
    NULLABLE,
    FIELD_TYPES,
    N_CHOICES,
    REQUEST_ID,
    CREATED_PLAUSIBLE,
    STOP
};

#define SPEC "OpenAI spec: CreateChatCompletionResponse"

static const struct check_def checks[] = {
    [STATUS] = {"chat.status", LEVEL_MUST,
                "POST /chat/completions MUST answer 200 with a JSON object "
                "(Content-Type application/json)",
                "OpenAI spec: POST /chat/completions (createChatCompletion); "
                "AI Nexus reference: Chat Completions",
                "Python hands a str to user code for a body that is not "
                "JSON ('str' object has no attribute 'choices'); Go fails "
                "with 'expected destination type'; Java raises "
                "OpenAIInvalidDataException"},
    [ID] = {"chat.id", LEVEL_MUST, "id MUST be a non-empty string",
            SPEC ".id (required)", NULL},
    [OBJECT] = {"chat.object", LEVEL_MUST, "object MUST be \"chat.completion\"",
                SPEC ".object (required)", NULL},
    [CREATED] = {"chat.created", LEVEL_MUST,
                 "created MUST be an integer (Unix seconds)",
                 SPEC ".created (required, integer)", NULL},
    [MODEL] = {"chat.model", LEVEL_MUST, "model MUST be a string",
               SPEC ".model (required)", NULL},
    [CHOICES] = {"chat.choices", LEVEL_MUST,
                 "choices MUST be a non-empty array of objects whose index "
                 "is an integer equal to its position",
                 SPEC ".choices (required: index, message, finish_reason)",
                 "code that reads choices[0] fails"},
    [MESSAGE] = {"chat.message", LEVEL_MUST,
                 "Each choice's message MUST have role \"assistant\" and "
                 "content present as a string or null; refusal, where "
                 "present, MUST be a string or null and tool_calls an array",
                 "OpenAI spec: ChatCompletionResponseMessage (required: role, "
                 "content, refusal; refusal string or null; tool_calls "
                 "array)",
                 "code that reads choices[0].message.content fails"},
    [FINISH] = {"chat.finish-reason", LEVEL_MUST,
                "Each choice's finish_reason MUST be one of stop, length, "
                "tool_calls, content_filter, function_call",
                SPEC ".choices[].finish_reason (required, enum)",
                "Python's parse helpers act on length and content_filter; "
                "other values fall through every SDK's typed enums"},
    [NULLABLE] = {"chat.nullable-fields", LEVEL_SHOULD,
                  "Fields the spec requires but allows to be null "
                  "(choices[].logprobs, message.refusal) SHOULD be present",
                  SPEC ".choices[].logprobs; ChatCompletionResponseMessage."
                       "refusal (required, nullable)",
                  "clients with strict response validation (Python's "
                  "_strict_response_validation) reject the response"},
    [FIELD_TYPES] = {"chat.field-types", LEVEL_MUST,
                     "Where present, choices[].logprobs MUST be an object "
                     "or null, system_fingerprint a string, service_tier "
                     "one of auto, default, flex, scale, priority, fast or "
                     "null, and usage an object with integer prompt_tokens, "
                     "completion_tokens and total_tokens (and integer "
                     "counts in its *_tokens_details)",
                     SPEC " (choices[].logprobs, system_fingerprint, "
                          "service_tier: ServiceTier); CompletionUsage",
                     "clients with strict response validation (Python's "
                     "_strict_response_validation) reject the response; "
                     "code that reads the field gets a value of the wrong "
                     "type"},
    [N_CHOICES] = {"chat.n", LEVEL_MUST,
                   "When n > 1 is asked and supported, choices MUST hold n "
                   "items with indexes 0..n-1",
                   "OpenAI spec: CreateChatCompletionRequest.n; "
                   "CreateChatCompletionResponse.choices",
                   NULL},
    [REQUEST_ID] = {"chat.request-id", LEVEL_SHOULD,
                    "Responses SHOULD carry an x-request-id header",
                    "Official SDK client behaviour, "
                    "section 4 (every SDK exposes x-request-id)",
                    "err.request_id (Python), requestID (Node) and "
                    "requestId() (Java) come back empty"},
    [CREATED_PLAUSIBLE] = {"chat.created-plausible", LEVEL_SHOULD,
                           "created SHOULD be the Unix time of the answer in "
                           "seconds: within a day of the client's clock, not "
                           "in milliseconds",
                           SPEC ".created (The Unix timestamp (in seconds))",
                           NULL},
    [STOP] = {"chat.stop", LEVEL_MUST,
              "With stop set to a word of the reply to the same request "
              "without stop, the reply MUST end before that word "
              "(finish_reason stop), or the request MUST be refused with "
              "400 and the error body",
              "AI Nexus reference: Parameters (stop: stop sequences); "
              "OpenAI spec: CreateChatCompletionRequest.stop",
              NULL},
};

/* The request every chat check is made on. New reference. */
static json_t *basic_body(const char *model)
{
    return json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:i}", "model", model,
                     "messages", "role", "system", "content",
                     "You are a terse assistant.", "role", "user", "content",
                     "Say hello in five words.", "seed", 42);
}

/* Checks one field of the top-level object and records its verdict. */
static void judge_field(struct conform *c, const struct exchange *x, int id,
                        const char *field, bool ok, const char *want)
{
    json_t *v = json_object_get(x->json, field);
    char *shown = jsonio_dumps(v, JSON_ENCODE_ANY);

    if (ok)
        conform_pass(c, &checks[id], NULL, "%s is %.80s", field,
                     shown != NULL ? shown : "?");
    else
        conform_violation(c, &checks[id],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "%s is %.80s, not %s", field,
                          shown != NULL ? shown : "missing", want);
    free(shown);
}

/* Judges the top-level fields of a completion. */
static void judge_top(struct conform *c, const struct exchange *x)
{
    json_t *id = json_object_get(x->json, "id");
    json_t *obj = json_object_get(x->json, "object");

    judge_field(c, x, ID, "id",
                json_is_string(id) && json_string_length(id) > 0,
                "a non-empty string");
    judge_field(c, x, OBJECT, "object",
                json_is_string(obj) &&
                    strcmp(json_string_value(obj), "chat.completion") == 0,
                "\"chat.completion\"");
    judge_field(c, x, CREATED, "created",
                shape_is_int(json_object_get(x->json, "created")),
                "an integer");
    judge_field(c, x, MODEL, "model",
                json_is_string(json_object_get(x->json, "model")), "a string");
}

/* Says in why what is wrong with choices, or returns true. */
static bool choices_ok(const json_t *choices, char *why, size_t n)
{
    bool ret;
    const json_t *ch, *idx;
    size_t i;

    if (!json_is_array(choices) || json_array_size(choices) == 0) {
        snprintf(why, n, "choices is %s%s", shape_type(choices),
                 json_is_array(choices) ? " and empty" : "");
        ret = false;
        goto out;
    }
    for (i = 0; i < json_array_size(choices); i++) {
        ch = json_array_get(choices, i);
        idx = json_object_get(ch, "index");
        if (!json_is_object(ch)) {
            snprintf(why, n, "choices[%zu] is %s", i, shape_type(ch));
            ret = false;
            goto out;
        }
        if (!shape_is_int(idx) || json_integer_value(idx) != (json_int_t)i) {
            snprintf(why, n, "choices[%zu].index is %s%s", i, shape_type(idx),
                     shape_is_int(idx) ? ", not its position" : "");
            ret = false;
            goto out;
        }
        if (!json_is_object(json_object_get(ch, "message"))) {
            snprintf(why, n, "choices[%zu].message is %s", i,
                     shape_type(json_object_get(ch, "message")));
            ret = false;
            goto out;
        }
    }
    ret = true;
out:
    return ret;
}

/* Judges message, finish_reason and the nullable fields of each choice. */
static void judge_choices(struct conform *c, const struct exchange *x)
{
    json_t *choices = json_object_get(x->json, "choices"), *ch, *msg, *v;
    char why[256] = "", bad_msg[256] = "", bad_fin[256] = "", bad_nul[256] = "";
    char what[160];
    size_t i;

    if (!choices_ok(choices, why, sizeof(why))) {
        conform_violation(c, &checks[CHOICES],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS), "%s", why);
    } else {
        conform_pass(c, &checks[CHOICES], NULL, "%zu choice(s)",
                     json_array_size(choices));
    }
    if (!json_is_array(choices) || json_array_size(choices) == 0) {
        conform_skip(c, &checks[MESSAGE], "no choices (see chat.choices)");
        conform_skip(c, &checks[FINISH], "no choices (see chat.choices)");
        conform_skip(c, &checks[NULLABLE], "no choices (see chat.choices)");
        return;
    }
    json_array_foreach(choices, i, ch)
    {
        msg = json_object_get(ch, "message");
        v = json_object_get(msg, "role");
        if (bad_msg[0] == '\0' &&
            (!json_is_string(v) ||
             strcmp(json_string_value(v), "assistant") != 0))
            snprintf(bad_msg, sizeof(bad_msg),
                     "choices[%zu].message.role is %s%s", i,
                     json_is_string(v) ? "" : shape_type(v),
                     json_is_string(v) ? json_string_value(v) : "");
        v = json_object_get(msg, "content");
        if (bad_msg[0] == '\0' && !json_is_string(v) && !json_is_null(v))
            snprintf(bad_msg, sizeof(bad_msg),
                     "choices[%zu].message.content is %s", i, shape_type(v));
        if (bad_msg[0] == '\0' &&
            !shape_message_members(msg, what, sizeof(what)))
            snprintf(bad_msg, sizeof(bad_msg), "choices[%zu].message.%s", i,
                     what);
        v = json_object_get(ch, "finish_reason");
        if (bad_fin[0] == '\0' && !shape_finish_reason(json_string_value(v)))
            snprintf(bad_fin, sizeof(bad_fin),
                     "choices[%zu].finish_reason is %s%s", i,
                     json_is_string(v) ? "" : shape_type(v),
                     json_is_string(v) ? json_string_value(v) : "");
        v = json_object_get(ch, "logprobs");
        if (bad_nul[0] == '\0' && v == NULL)
            snprintf(bad_nul, sizeof(bad_nul),
                     "choices[%zu].logprobs is missing", i);
        /* Only presence: a wrong type is chat.message's to judge. */
        if (bad_nul[0] == '\0' && json_object_get(msg, "refusal") == NULL)
            snprintf(bad_nul, sizeof(bad_nul),
                     "choices[%zu].message.refusal is missing", i);
    }
    if (bad_msg[0] != '\0')
        conform_violation(c, &checks[MESSAGE],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS), "%s",
                          bad_msg);
    else
        conform_pass(c, &checks[MESSAGE], NULL,
                     "every message is from the assistant, with content");
    if (bad_fin[0] != '\0')
        conform_violation(c, &checks[FINISH],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS), "%s",
                          bad_fin);
    else
        conform_pass(c, &checks[FINISH], NULL, "finish_reason %s",
                     json_string_value(json_object_get(
                         json_array_get(choices, 0), "finish_reason")));
    if (bad_nul[0] != '\0')
        conform_violation(c, &checks[NULLABLE],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS), "%s",
                          bad_nul);
    else
        conform_pass(c, &checks[NULLABLE], NULL,
                     "logprobs and refusal are present");
}

/* Judges the types of the optional and nullable members of a completion:
 * system_fingerprint, service_tier, usage, and each choice's logprobs. */
static void judge_types(struct conform *c, const struct exchange *x)
{
    json_t *choices = json_object_get(x->json, "choices"), *ch, *v;
    char why[256] = "", what[200];
    size_t i;

    if (!shape_response_extras(x->json, what, sizeof(what)))
        snprintf(why, sizeof(why), "%s", what);
    v = json_object_get(x->json, "usage");
    if (why[0] == '\0' && v != NULL && !shape_usage(v, what, sizeof(what)))
        snprintf(why, sizeof(why), "%s", what);
    json_array_foreach(choices, i, ch)
    {
        v = json_object_get(ch, "logprobs");
        if (why[0] == '\0' && v != NULL && !json_is_object(v) &&
            !json_is_null(v))
            snprintf(why, sizeof(why),
                     "choices[%zu].logprobs is %s, not an object or null", i,
                     shape_type(v));
    }
    if (why[0] != '\0')
        conform_violation(c, &checks[FIELD_TYPES],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS), "%s", why);
    else
        conform_pass(c, &checks[FIELD_TYPES], NULL,
                     "logprobs, system_fingerprint, service_tier and usage "
                     "have their types where present");
}

/* Judges the plain completion: status, then its fields. */
static void judge_basic(struct conform *c, const struct exchange *x)
{
    const char *ct = http_response_header(&x->resp, "Content-Type");
    int k;

    if (!exchange_status_is(x, 200)) {
        conform_violation(
            c, &checks[STATUS], exchange_evidence(x, EVIDENCE_NO_FOCUS),
            "expected HTTP 200, got %s", conform_describe(c, &x->resp));
    } else if (!json_is_object(x->json)) {
        conform_violation(
            c, &checks[STATUS], exchange_evidence(x, x->json_error_offset),
            "the body is %s",
            x->json == NULL ? x->json_error : shape_type(x->json));
    } else if (!shape_media_type(ct, "application/json")) {
        conform_violation(c, &checks[STATUS],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "Content-Type is %s, not application/json",
                          ct != NULL ? ct : "missing");
    } else {
        conform_pass(c, &checks[STATUS],
                     exchange_evidence(x, EVIDENCE_NO_FOCUS),
                     "HTTP 200, %zu bytes of JSON", x->resp.body.len);
    }
    if (exchange_status_is(x, 200) && json_is_object(x->json)) {
        judge_top(c, x);
        judge_choices(c, x);
        judge_types(c, x);
        return;
    }
    for (k = ID; k <= FIELD_TYPES; k++)
        conform_skip(c, &checks[k], "no completion to read (see chat.status)");
}

/* Judges x-request-id on any HTTP answer to the plain completion. */
static void judge_request_id(struct conform *c, const struct exchange *x)
{
    const char *id = http_response_header(&x->resp, "x-request-id");

    if (x->resp.ts != TRANSPORT_OK || x->resp.status == 0)
        conform_skip(c, &checks[REQUEST_ID], "no HTTP response to read");
    else if (id != NULL)
        conform_pass(c, &checks[REQUEST_ID], NULL, "x-request-id: %s", id);
    else
        conform_violation(c, &checks[REQUEST_ID],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "no x-request-id header");
}

/* Asks for two choices; a 400 means n > 1 is not supported. */
static void judge_n(struct conform *c)
{
    struct exchange x;
    json_t *body = basic_body(conform_model(c)), *choices, *ch;
    size_t i;
    bool ok;

    exchange_init(&x);
    json_object_set_new(body, "n", json_integer(2));
    exchange_send(c, &x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key), body, NULL,
                  false);
    if (exchange_status_is(&x, 400)) {
        /* Refused, and saying so with the error body, is honest. */
        exchange_expect_error(c, &checks[N_CHOICES], &x, 400);
        goto out;
    }
    if (!exchange_status_is(&x, 200) || !json_is_object(x.json)) {
        conform_violation(
            c, &checks[N_CHOICES], exchange_evidence(&x, x.json_error_offset),
            "asked for n=2, got %s%s%s", conform_describe(c, &x.resp),
            x.json == NULL && x.resp.ts == TRANSPORT_OK ? ": " : "",
            x.json == NULL && x.resp.ts == TRANSPORT_OK ? x.json_error : "");
        goto out;
    }
    choices = json_object_get(x.json, "choices");
    ok = json_array_size(choices) == 2;
    json_array_foreach(choices, i, ch)
    {
        if (json_integer_value(json_object_get(ch, "index")) != (json_int_t)i ||
            !shape_is_int(json_object_get(ch, "index")))
            ok = false;
    }
    if (ok)
        conform_pass(c, &checks[N_CHOICES],
                     exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                     "n=2 gives choices 0 and 1");
    else
        conform_violation(
            c, &checks[N_CHOICES], exchange_evidence(&x, EVIDENCE_NO_FOCUS),
            "asked for n=2, got %zu choice(s)%s", json_array_size(choices),
            json_array_size(choices) == 2 ? " with indexes other than 0 and 1"
                                          : "");
out:
    exchange_cleanup(&x);
}

/* A day: a server clock further off than this is wrong, not drifting. */
#define CLOCK_SLACK_S 86400.0

/* Judges created against the client's clock, now (Unix seconds). */
static void judge_created_plausible(struct conform *c, const struct exchange *x,
                                    double now)
{
    const struct check_def *d = &checks[CREATED_PLAUSIBLE];
    const json_t *v = json_object_get(x->json, "created");
    double t = json_number_value(v), off;
    static const struct {
        double scale;
        const char *unit;
    } units[] = {
        {1e3, "milliseconds"}, {1e6, "microseconds"}, {1e9, "nanoseconds"}};
    size_t i;

    if (!exchange_status_is(x, 200) || !json_is_object(x->json)) {
        conform_skip(c, d, "no completion to read (see chat.status)");
        goto out;
    }
    if (!json_is_number(v)) {
        conform_skip(c, d, "created is not a number (see chat.created)");
        goto out;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        off = t / units[i].scale - now;
        if (off > -CLOCK_SLACK_S && off < CLOCK_SLACK_S) {
            conform_violation(c, d, exchange_evidence(x, EVIDENCE_NO_FOCUS),
                              "created is %.0f, the client's clock in %s "
                              "(%.0f s off once divided by %.0f), not "
                              "seconds",
                              t, units[i].unit, off, units[i].scale);
            goto out;
        }
    }
    off = t - now;
    if (off <= -CLOCK_SLACK_S || off >= CLOCK_SLACK_S)
        conform_violation(c, d, exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "created is %.0f, %.1f days %s the client's clock "
                          "(%.0f)",
                          t, (off < 0 ? -off : off) / 86400.0,
                          off < 0 ? "behind" : "ahead of", now);
    else
        conform_pass(c, d, NULL,
                     "created is %.0f, %.0f s from the client's "
                     "clock",
                     t, off);
out:
    return;
}

/* The content of choice 0 of a completion, or NULL. Borrowed. */
static const char *content_of(const json_t *completion)
{
    return json_string_value(json_object_get(
        json_object_get(
            json_array_get(json_object_get(completion, "choices"), 0),
            "message"),
        "content"));
}

/* Picks as the stop sequence the second word of text (its first bytes up
 * to a blank, after the first blank run) into out. Returns false when text
 * has no second word. */
static bool second_word(const char *text, char *out, size_t n)
{
    const char *p = text, *end;

    while (*p != '\0' && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    for (end = p; *end != '\0' && *end != ' ' && *end != '\n'; end++)
        ;
    snprintf(out, n, "%.*s", (int)(end - p), p);
    return end > p && (size_t)(end - p) < n;
}

/* The request of the stop check, on a prompt of its own, so that what
 * answers the basic request (broken or not) does not answer this one.
 * New reference. */
static json_t *stop_body(const char *model)
{
    return json_pack("{s:s, s:[{s:s, s:s}], s:i, s:i}", "model", model,
                     "messages", "role", "user", "content",
                     "Name the colours of the rainbow, separated by commas.",
                     "temperature", 0, "seed", 42);
}

/* Sends the stop request plain, then again with stop set to the second
 * word of that reply: honoured, the reply ends before it; refused, a
 * 400. */
static void judge_stop(struct conform *c)
{
    const struct check_def *d = &checks[STOP];
    const char *before, *after, *fin, *hit;
    char word[64];
    struct exchange plain, x;
    json_t *body;

    exchange_init(&plain);
    exchange_init(&x);
    exchange_send(c, &plain, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key),
                  stop_body(conform_model(c)), NULL, false);
    before = content_of(plain.json);
    if (!exchange_status_is(&plain, 200) || before == NULL) {
        conform_fail(c, d, exchange_evidence(&plain, EVIDENCE_NO_FOCUS),
                     "the request without stop got %s and no reply text, so "
                     "the check could not run",
                     conform_describe(c, &plain.resp));
        goto out;
    }
    if (!second_word(before, word, sizeof(word))) {
        conform_skip(c, d,
                     "the reply without stop, \"%.80s\", has no second "
                     "word to stop at",
                     before);
        goto out;
    }
    body = stop_body(conform_model(c));
    json_object_set_new(body, "stop", json_string(word));
    exchange_send(c, &x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key), body, NULL,
                  false);
    if (exchange_status_is(&x, 400)) {
        /* Refused: stop is not supported, and the error body says so. */
        exchange_expect_error(c, d, &x, 400);
        goto out;
    }
    after = content_of(x.json);
    fin = json_string_value(
        json_object_get(json_array_get(json_object_get(x.json, "choices"), 0),
                        "finish_reason"));
    if (!exchange_status_is(&x, 200) || after == NULL) {
        conform_violation(c, d, exchange_evidence(&x, x.json_error_offset),
                          "with stop \"%s\": got %s, and no reply text", word,
                          conform_describe(c, &x.resp));
        goto out;
    }
    hit = strstr(after, word);
    if (hit != NULL)
        conform_violation(c, d, exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                          "with stop \"%s\" the reply still holds it at "
                          "byte %zu: \"%.120s\" (finish_reason %s)",
                          word, (size_t)(hit - after), after,
                          fin != NULL ? fin : "missing");
    else if (fin == NULL || strcmp(fin, "stop") != 0)
        conform_violation(c, d, exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                          "with stop \"%s\" the reply \"%.120s\" ends with "
                          "finish_reason %s, not stop",
                          word, after, fin != NULL ? fin : "missing");
    else
        conform_pass(c, d, exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                     "stop \"%s\": \"%.80s\" became \"%.80s\"", word, before,
                     after);
out:
    exchange_cleanup(&plain);
    exchange_cleanup(&x);
}

/* Runs the group: one plain completion, then n=2, then stop. */
static void run(struct conform *c)
{
    struct exchange x;

    exchange_init(&x);
    exchange_send(c, &x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key),
                  basic_body(conform_model(c)), NULL, false);
    judge_basic(c, &x);
    judge_created_plausible(c, &x, (double)time(NULL));
    judge_n(c);
    judge_request_id(c, &x);
    judge_stop(c);
    exchange_cleanup(&x);
}

const struct group_def group_chat = {
    .name = "chat",
    .about = "POST /chat/completions without streaming: the response field "
             "by field, and n choices",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = NULL,
    .run = run,
};
