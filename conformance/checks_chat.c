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

#define OBJ "docs/api.md#the-completion-object"
#define CHOICE "docs/api.md#messages-and-choices"
#define SCHEMAS "docs/client-behaviour.md#response-schemas"

static const struct check_def checks[] = {
    [STATUS] = {"chat.status", LEVEL_MUST, BASIS_CONTRACT,
                "POST /chat/completions MUST answer 200 with a JSON object "
                "labelled Content-Type application/json",
                "docs/api.md#chat-completions", IMPACT_NONE},
    [ID] = {"chat.id", LEVEL_MUST, BASIS_CLIENT,
            "id MUST be a string where present, and SHOULD be present and "
            "not empty",
            OBJ "; " SCHEMAS, IMPACT_CHAT_ID},
    [OBJECT] = {"chat.object", LEVEL_SHOULD, BASIS_SPEC,
                "object SHOULD be \"chat.completion\"", OBJ, IMPACT_NONE},
    [CREATED] = {"chat.created", LEVEL_MUST, BASIS_CLIENT,
                 "created MUST be a number where present, and SHOULD be "
                 "present as an integer (Unix seconds)",
                 OBJ "; " SCHEMAS, IMPACT_CHAT_CREATED},
    [MODEL] = {"chat.model", LEVEL_MUST, BASIS_CLIENT,
               "model MUST be a string where present, and SHOULD be present",
               OBJ "; " SCHEMAS, IMPACT_CHAT_MODEL},
    [CHOICES] = {"chat.choices", LEVEL_MUST, BASIS_CLIENT,
                 "choices MUST be a non-empty array of objects, each with a "
                 "message object; each index SHOULD be an integer equal to "
                 "its position",
                 CHOICE "; " SCHEMAS, IMPACT_CHAT_CHOICES},
    [MESSAGE] = {"chat.message", LEVEL_MUST, BASIS_CLIENT,
                 "Each choice's message MUST have role \"assistant\", "
                 "content a string or null, and tool_calls, where present "
                 "and not null, an array; content SHOULD be present, and "
                 "refusal, where present, a string or null",
                 CHOICE "; " SCHEMAS, IMPACT_CHAT_ROLE},
    [FINISH] = {"chat.finish-reason", LEVEL_SHOULD, BASIS_SPEC,
                "Each choice's finish_reason SHOULD be one of stop, length, "
                "tool_calls, content_filter, function_call",
                CHOICE, IMPACT_NONE},
    [NULLABLE] = {"chat.nullable-fields", LEVEL_SHOULD, BASIS_SPEC,
                  "Fields the spec requires but allows to be null "
                  "(choices[].logprobs, message.refusal) SHOULD be present",
                  CHOICE, IMPACT_NONE},
    [FIELD_TYPES] =
        {"chat.field-types", LEVEL_MUST, BASIS_CLIENT,
         "Where present and not null, usage MUST be an object "
         "whose counts and details are numbers and objects, and "
         "SHOULD hold integer counts; system_fingerprint SHOULD "
         "be a string, service_tier one of auto, default, flex, "
         "scale, priority, fast or null, and choices[].logprobs "
         "an object or null",
         "docs/api.md#usage; docs/api.md#optional-members; " SCHEMAS,
         IMPACT_CHAT_USAGE_TYPE},
    [N_CHOICES] = {"chat.n", LEVEL_SHOULD, BASIS_SPEC,
                   "When n > 1 is asked and supported, choices SHOULD hold n "
                   "items with indexes 0..n-1",
                   "docs/api.md#request-parameters", IMPACT_NONE},
    [REQUEST_ID] = {"chat.request-id", LEVEL_SHOULD, BASIS_CLIENT,
                    "Responses SHOULD carry an x-request-id header",
                    "docs/client-behaviour.md#request-ids",
                    IMPACT_CHAT_REQUEST_ID},
    [CREATED_PLAUSIBLE] = {"chat.created-plausible", LEVEL_SHOULD, BASIS_SPEC,
                           "created SHOULD be the Unix time of the answer in "
                           "seconds: within a day of the client's clock, not "
                           "in milliseconds",
                           OBJ, IMPACT_NONE},
    [STOP] = {"chat.stop", LEVEL_MUST, BASIS_CONTRACT,
              "With stop set to a word of the reply to the same request "
              "without stop, the reply MUST end before that word "
              "(finish_reason stop), or the request MUST be refused with "
              "400",
              "docs/api.md#request-parameters; docs/api.md#error-statuses",
              IMPACT_NONE},
};

/* The request every chat check is made on. New reference. */
static json_t *basic_body(const char *model)
{
    return json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:i}", "model", model,
                     "messages", "role", "system", "content",
                     "You are a terse assistant.", "role", "user", "content",
                     "Say hello in five words.", "seed", 42);
}

/* The value of v in words, for messages ("missing" when absent). Free the
 * result with free(); NULL on OOM. */
static char *shown(const json_t *v)
{
    return v != NULL ? jsonio_dumps(v, JSON_ENCODE_ANY) : strdup("missing");
}

/* Judges one top-level member: a value of another JSON type where present
 * breaks the clients (FINDING_BREAK); absent, null or otherwise off the
 * spec's text (ok false) is FINDING_SPEC. */
static void judge_member(struct conform *c, const struct exchange *x, int id,
                         const char *field, bool typed, bool ok,
                         const char *want)
{
    json_t *v = json_object_get(x->json, field);
    char *text = shown(v);
    struct finding_worst w;

    finding_init(&w, EVIDENCE_NO_FOCUS);
    if (v != NULL && !json_is_null(v) && !typed)
        finding_note(&w, FINDING_BREAK, checks[id].impact, EVIDENCE_NO_FOCUS,
                     "%s is %.80s, not %s", field, text ? text : "?", want);
    else if (!ok)
        finding_note(&w, FINDING_SPEC, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "%s is %.80s, not %s", field, text ? text : "?", want);
    conform_judge(
        c, &checks[id], &w,
        w.kind != FINDING_NONE ? exchange_evidence(x, EVIDENCE_NO_FOCUS) : NULL,
        "%s is %.80s", field, text != NULL ? text : "?");
    free(text);
}

/* Judges the top-level members of a completion. */
static void judge_top(struct conform *c, const struct exchange *x)
{
    json_t *id = json_object_get(x->json, "id");
    json_t *obj = json_object_get(x->json, "object");
    json_t *created = json_object_get(x->json, "created");
    json_t *model = json_object_get(x->json, "model");

    judge_member(c, x, ID, "id", json_is_string(id),
                 json_is_string(id) && json_string_length(id) > 0,
                 "a non-empty string");
    judge_member(c, x, OBJECT, "object", true,
                 json_is_string(obj) &&
                     strcmp(json_string_value(obj), "chat.completion") == 0,
                 "\"chat.completion\"");
    judge_member(c, x, CREATED, "created", shape_is_number(created),
                 shape_is_int(created), "an integer");
    judge_member(c, x, MODEL, "model", json_is_string(model),
                 json_is_string(model), "a string");
}

/* Notes in w what is wrong with choices itself and each choice's place. */
static void choices_note(const json_t *choices, struct finding_worst *w)
{
    const json_t *ch, *idx;
    size_t i;

    if (!json_is_array(choices)) {
        finding_note(w, FINDING_BREAK, IMPACT_CHAT_CHOICES, EVIDENCE_NO_FOCUS,
                     "choices is %s, not an array", shape_type(choices));
        return;
    }
    if (json_array_size(choices) == 0) {
        finding_note(w, FINDING_BREAK, IMPACT_CHAT_CHOICES_EMPTY,
                     EVIDENCE_NO_FOCUS, "choices is empty");
        return;
    }
    json_array_foreach(choices, i, ch)
    {
        idx = json_object_get(ch, "index");
        if (!json_is_object(ch))
            finding_note(w, FINDING_BREAK, IMPACT_CHAT_CHOICES,
                         EVIDENCE_NO_FOCUS, "choices[%zu] is %s", i,
                         shape_type(ch));
        else if (!json_is_object(json_object_get(ch, "message")))
            finding_note(w, FINDING_BREAK, IMPACT_CHAT_CHOICES,
                         EVIDENCE_NO_FOCUS, "choices[%zu].message is %s", i,
                         shape_type(json_object_get(ch, "message")));
        else if (!shape_is_int(idx) || json_integer_value(idx) != (json_int_t)i)
            finding_note(w, FINDING_SPEC, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                         "choices[%zu].index is %s%s", i, shape_type(idx),
                         shape_is_int(idx) ? ", not its position" : "");
    }
}

/* Notes in w how choice i's message departs from what the clients read. */
static void message_note(const json_t *msg, size_t i, struct finding_worst *w)
{
    const json_t *role = json_object_get(msg, "role");
    const json_t *content = json_object_get(msg, "content");
    const json_t *v;

    if (role == NULL || json_is_null(role))
        finding_note(w, FINDING_BREAK, IMPACT_CHAT_ROLE_MISSING,
                     EVIDENCE_NO_FOCUS, "choices[%zu].message has no role", i);
    else if (!json_is_string(role) ||
             strcmp(json_string_value(role), "assistant") != 0)
        finding_note(w, FINDING_BREAK, IMPACT_CHAT_ROLE, EVIDENCE_NO_FOCUS,
                     "choices[%zu].message.role is %s%s", i,
                     json_is_string(role) ? "" : shape_type(role),
                     json_is_string(role) ? json_string_value(role) : "");
    v = json_object_get(msg, "tool_calls");
    if (json_is_null(v))
        finding_note(w, FINDING_OPTIONAL, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "choices[%zu].message.tool_calls is null", i);
    else if (v != NULL && !json_is_array(v))
        finding_note(w, FINDING_BREAK, IMPACT_CHAT_TOOL_CALLS,
                     EVIDENCE_NO_FOCUS,
                     "choices[%zu].message.tool_calls is %s, not an array", i,
                     shape_type(v));
    if (json_is_null(json_object_get(msg, "function_call")))
        finding_note(w, FINDING_OPTIONAL, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "choices[%zu].message.function_call is null", i);
    if (content == NULL)
        finding_note(w, FINDING_SPEC, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "choices[%zu].message.content is missing", i);
    else if (!json_is_string(content) && !json_is_null(content))
        finding_note(w, FINDING_BREAK, IMPACT_CHAT_CONTENT, EVIDENCE_NO_FOCUS,
                     "choices[%zu].message.content is %s, not a string or "
                     "null",
                     i, shape_type(content));
    v = json_object_get(msg, "refusal");
    if (v != NULL && !json_is_string(v) && !json_is_null(v))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "choices[%zu].message.refusal is %s, not a string or "
                     "null",
                     i, shape_type(v));
}

/* Judges choices, then each choice's message, finish_reason and the
 * nullable members; the later ones skip when choices cannot be read. */
static void judge_choices(struct conform *c, const struct exchange *x)
{
    json_t *choices = json_object_get(x->json, "choices"), *ch, *msg, *v;
    struct finding_worst place, message, finish, nullable;
    size_t i;

    finding_init(&place, EVIDENCE_NO_FOCUS);
    finding_init(&message, EVIDENCE_NO_FOCUS);
    finding_init(&finish, EVIDENCE_NO_FOCUS);
    finding_init(&nullable, EVIDENCE_NO_FOCUS);
    choices_note(choices, &place);
    conform_judge(c, &checks[CHOICES], &place,
                  place.kind != FINDING_NONE
                      ? exchange_evidence(x, EVIDENCE_NO_FOCUS)
                      : NULL,
                  "%zu choice(s)", json_array_size(choices));
    if (place.kind == FINDING_BREAK) {
        conform_skip(c, &checks[MESSAGE], "no choices (see chat.choices)");
        conform_skip(c, &checks[FINISH], "no choices (see chat.choices)");
        conform_skip(c, &checks[NULLABLE], "no choices (see chat.choices)");
        return;
    }
    json_array_foreach(choices, i, ch)
    {
        msg = json_object_get(ch, "message");
        message_note(msg, i, &message);
        v = json_object_get(ch, "finish_reason");
        if (!shape_finish_reason(json_string_value(v)))
            finding_note(&finish, FINDING_SPEC, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                         "choices[%zu].finish_reason is %s%s", i,
                         json_is_string(v) ? "" : shape_type(v),
                         json_is_string(v) ? json_string_value(v) : "");
        /* Only presence: a wrong type is another check's to judge. */
        if (json_object_get(ch, "logprobs") == NULL)
            finding_note(&nullable, FINDING_SPEC, IMPACT_NONE,
                         EVIDENCE_NO_FOCUS, "choices[%zu].logprobs is missing",
                         i);
        else if (json_object_get(msg, "refusal") == NULL)
            finding_note(&nullable, FINDING_SPEC, IMPACT_NONE,
                         EVIDENCE_NO_FOCUS,
                         "choices[%zu].message.refusal is missing", i);
    }
    conform_judge(c, &checks[MESSAGE], &message,
                  message.kind != FINDING_NONE
                      ? exchange_evidence(x, EVIDENCE_NO_FOCUS)
                      : NULL,
                  "every message is from the assistant, with content");
    conform_judge(c, &checks[FINISH], &finish,
                  finish.kind != FINDING_NONE
                      ? exchange_evidence(x, EVIDENCE_NO_FOCUS)
                      : NULL,
                  "finish_reason %s",
                  json_string_value(json_object_get(json_array_get(choices, 0),
                                                    "finish_reason")));
    conform_judge(c, &checks[NULLABLE], &nullable,
                  nullable.kind != FINDING_NONE
                      ? exchange_evidence(x, EVIDENCE_NO_FOCUS)
                      : NULL,
                  "logprobs and refusal are present");
}

/* Judges the types of the optional and nullable members of a completion:
 * usage, system_fingerprint, service_tier, and each choice's logprobs. */
static void judge_types(struct conform *c, const struct exchange *x)
{
    json_t *choices = json_object_get(x->json, "choices"), *ch, *v;
    struct finding_worst w;
    size_t i;

    finding_init(&w, EVIDENCE_NO_FOCUS);
    shape_usage_note(json_object_get(x->json, "usage"), "usage",
                     IMPACT_CHAT_USAGE_TYPE, EVIDENCE_NO_FOCUS, &w);
    shape_extras_note(x->json, "", EVIDENCE_NO_FOCUS, &w);
    json_array_foreach(choices, i, ch)
    {
        v = json_object_get(ch, "logprobs");
        if (v != NULL && !json_is_object(v) && !json_is_null(v))
            finding_note(&w, FINDING_SPEC, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                         "choices[%zu].logprobs is %s, not an object or null",
                         i, shape_type(v));
    }
    conform_judge(
        c, &checks[FIELD_TYPES], &w,
        w.kind != FINDING_NONE ? exchange_evidence(x, EVIDENCE_NO_FOCUS) : NULL,
        "usage, system_fingerprint, service_tier and logprobs "
        "have their types where present");
}

/* What a failed plain completion does to the clients measured. */
static enum impact_id status_impact(const struct http_response *r)
{
    return r->ts == TRANSPORT_TIMEOUT                  ? IMPACT_CHAT_TIMEOUT
           : r->ts == TRANSPORT_OK && r->status >= 500 ? IMPACT_CHAT_5XX
                                                       : IMPACT_NONE;
}

/* Judges the plain completion: status, then its fields. */
static void judge_basic(struct conform *c, const struct exchange *x)
{
    const char *ct = http_response_header(&x->resp, "Content-Type");
    enum impact_id impact = status_impact(&x->resp);
    int k;

    if (!exchange_status_is(x, 200)) {
        conform_finding(c, &checks[STATUS], FINDING_BREAK, &impact, 1,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "expected HTTP 200, got %s",
                        conform_describe(c, &x->resp));
    } else if (!json_is_object(x->json)) {
        impact = x->json == NULL ? IMPACT_CHAT_NOT_JSON : IMPACT_NONE;
        conform_finding(c, &checks[STATUS], FINDING_BREAK, &impact, 1,
                        exchange_evidence(x, x->json_error_offset),
                        "the body is %s",
                        x->json == NULL ? x->json_error : shape_type(x->json));
    } else if (!shape_media_type(ct, "application/json")) {
        impact = IMPACT_CHAT_NOT_JSON_LABEL;
        conform_finding(c, &checks[STATUS], FINDING_BREAK, &impact, 1,
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
    if (x.resp.ts != TRANSPORT_OK || x.resp.status == 429 ||
        x.resp.status >= 500) {
        conform_fail(c, &checks[N_CHOICES],
                     exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                     "asked for n=2, got %s, so the check could not run",
                     conform_describe(c, &x.resp));
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
        /* Honoured: what the spec says of finish_reason is its text. */
        conform_finding(c, d, FINDING_SPEC, NULL, 0,
                        exchange_evidence(&x, EVIDENCE_NO_FOCUS),
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
