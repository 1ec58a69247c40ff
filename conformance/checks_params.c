/* checks_params: the params group: each invalid input gets 400 with the
 * error body, whose param names the field. */
#include "checks_params.h"

#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "exchange.h"
#include "jsonio.h"
#include "shape.h"
#include "stream_collect.h"

#define REQ "OpenAI spec: CreateChatCompletionRequest"
#define NX "; AI Nexus reference: Error Codes (400)"
#define BAD "Python and Node raise BadRequestError only for 400"

enum {
    TEMPERATURE,
    TOP_P,
    FREQUENCY,
    PRESENCE,
    MAX_ZERO,
    MAX_NEGATIVE,
    MAX_STRING,
    MESSAGES_MISSING,
    MESSAGES_EMPTY,
    MESSAGES_NOT_ARRAY,
    ROLE,
    MODEL_MISSING,
    STOP,
    MALFORMED,
    STREAM_INVALID,
    PARAM_NAMED,
    N_CHECKS
};

static const struct check_def checks[] = {
    [TEMPERATURE] = {"params.temperature", LEVEL_MUST,
                     "temperature 2.5 MUST be refused with 400 and the error "
                     "body",
                     REQ ".temperature (0..2)" NX, BAD},
    [TOP_P] = {"params.top-p", LEVEL_MUST,
               "top_p 1.5 MUST be refused with 400 and the error body",
               REQ ".top_p (0..1)" NX, BAD},
    [FREQUENCY] = {"params.frequency-penalty", LEVEL_MUST,
                   "frequency_penalty 2.5 MUST be refused with 400 and the "
                   "error body",
                   REQ ".frequency_penalty (-2..2)" NX, BAD},
    [PRESENCE] = {"params.presence-penalty", LEVEL_MUST,
                  "presence_penalty -2.5 MUST be refused with 400 and the "
                  "error body",
                  REQ ".presence_penalty (-2..2)" NX, BAD},
    [MAX_ZERO] = {"params.max-tokens-zero", LEVEL_MUST,
                  "max_tokens 0 MUST be refused with 400 and the error body",
                  REQ ".max_tokens (integer >= 1)" NX, BAD},
    [MAX_NEGATIVE] = {"params.max-tokens-negative", LEVEL_MUST,
                      "max_tokens -5 MUST be refused with 400 and the error "
                      "body",
                      REQ ".max_tokens (integer >= 1)" NX, BAD},
    [MAX_STRING] = {"params.max-tokens-string", LEVEL_MUST,
                    "max_tokens \"8\" (a string) MUST be refused with 400 and "
                    "the error body",
                    REQ ".max_tokens (integer)" NX, BAD},
    [MESSAGES_MISSING] = {"params.messages-missing", LEVEL_MUST,
                          "A request without messages MUST be refused with "
                          "400 and the error body",
                          REQ " (required: model, messages)" NX, BAD},
    [MESSAGES_EMPTY] = {"params.messages-empty", LEVEL_MUST,
                        "messages [] MUST be refused with 400 and the error "
                        "body",
                        REQ ".messages (minItems 1)" NX, BAD},
    [MESSAGES_NOT_ARRAY] = {"params.messages-not-array", LEVEL_MUST,
                            "messages \"Hi\" (not an array) MUST be refused "
                            "with 400 and the error body",
                            REQ ".messages (array)" NX, BAD},
    [ROLE] = {"params.role-invalid", LEVEL_MUST,
              "A message with role \"wizard\" MUST be refused with 400 and "
              "the error body",
              "OpenAI spec: ChatCompletionRequestMessage (role: developer, "
              "system, user, assistant, tool)" NX,
              BAD},
    [MODEL_MISSING] = {"params.model-missing", LEVEL_MUST,
                       "A request without model MUST be refused with 400 and "
                       "the error body",
                       REQ " (required: model, messages)" NX, BAD},
    [STOP] = {"params.stop-too-many", LEVEL_MUST,
              "Five stop sequences MUST be refused with 400 and the error "
              "body",
              "OpenAI spec: StopConfiguration (maxItems 4)" NX, BAD},
    [MALFORMED] = {"params.malformed-json", LEVEL_MUST,
                   "A body that is not JSON MUST be refused with 400 and the "
                   "error body",
                   "OpenAI spec: POST /chat/completions (application/json "
                   "body)" NX,
                   BAD},
    [STREAM_INVALID] = {"params.stream-invalid", LEVEL_MUST,
                        "temperature 2.5 with stream true MUST be refused "
                        "with the same 400 and error body, before any "
                        "event, not with 200 and an error event",
                        REQ ".temperature (0..2); "
                            "CreateChatCompletionRequest.stream" NX,
                        "openai and LangChain throw a bare APIError with no "
                        "status instead of BadRequestError 400, and the AI "
                        "SDK yields an error part instead of APICallError "
                        "400: the caller cannot tell a bad request"},
    [PARAM_NAMED] = {"params.param-named", LEVEL_SHOULD,
                     "The error's param SHOULD name the invalid field",
                     "OpenAI spec: Error.param",
                     "err.param (Python, Node, Java) and Error.Param (Go) do "
                     "not tell the caller what to fix"},
};

/* How to spoil the valid body, and which field the error should name. */
static const struct {
    int check;
    const char *field; /* the param to expect; NULL: any */
    const char *set;   /* JSON to set field to; NULL: remove it */
    const char *raw;   /* a raw body instead of a spoiled one */
} cases[] = {
    {TEMPERATURE, "temperature", "2.5", NULL},
    {TOP_P, "top_p", "1.5", NULL},
    {FREQUENCY, "frequency_penalty", "2.5", NULL},
    {PRESENCE, "presence_penalty", "-2.5", NULL},
    {MAX_ZERO, "max_tokens", "0", NULL},
    {MAX_NEGATIVE, "max_tokens", "-5", NULL},
    {MAX_STRING, "max_tokens", "\"8\"", NULL},
    {MESSAGES_MISSING, "messages", NULL, NULL},
    {MESSAGES_EMPTY, "messages", "[]", NULL},
    {MESSAGES_NOT_ARRAY, "messages", "\"Hi\"", NULL},
    {ROLE, "messages", "[{\"role\":\"wizard\",\"content\":\"Hi\"}]", NULL},
    {MODEL_MISSING, "model", NULL, NULL},
    {STOP, "stop", "[\"a\",\"b\",\"c\",\"d\",\"e\"]", NULL},
    {MALFORMED, NULL, NULL, "{\"model\": \"x\", \"messages\": [{\"role\": "},
};

/* True when param names field: equal, or field followed by '.' or '['
 * ("messages[0].role", OpenAI's "messages.[0].role"). */
static bool names_field(const char *param, const char *field)
{
    size_t n;

    if (field == NULL)
        return true;
    if (param == NULL)
        return false;
    n = strlen(field);
    return strncmp(param, field, n) == 0 &&
           (param[n] == '\0' || param[n] == '.' || param[n] == '[');
}

/* Builds the spoiled body of case k as text. Returns a new string. */
static char *spoiled_body(struct conform *c, size_t k)
{
    json_t *body = chat_body(conform_model(c), "Hi", 8), *v;
    char *text = NULL;

    if (body == NULL)
        goto out;
    if (cases[k].set == NULL) {
        json_object_del(body, cases[k].field);
    } else {
        v = json_loads(cases[k].set, JSON_DECODE_ANY, NULL);
        if (json_object_set_new(body, cases[k].field, v) != 0)
            goto out;
    }
    text = jsonio_dumps(body, JSON_COMPACT);
out:
    json_decref(body);
    return text;
}

/* Sends temperature 2.5 with stream true and judges the answer: the 400
 * of the plain request, not a 200 followed by an error event. Judged only
 * when the plain request was refused, since a server that accepts 2.5
 * anyway has one defect, which params.temperature reports. */
static void judge_stream_invalid(struct conform *c, bool plain_refused)
{
    const struct check_def *d = &checks[STREAM_INVALID];
    struct exchange x;
    struct stream_log log;
    json_t *body = chat_body(conform_model(c), "Hi", 8), *ev;
    char why[512];
    size_t err;

    exchange_init(&x);
    if (!plain_refused) {
        json_decref(body);
        conform_skip(c, d,
                     "temperature 2.5 is not refused without stream either "
                     "(see params.temperature)");
        goto out;
    }
    json_object_set_new(body, "temperature", json_real(2.5));
    json_object_set_new(body, "stream", json_true());
    exchange_send_stream(c, &x, body, &log);
    if (!exchange_status_is(&x, 200)) {
        /* A refused stream is parsed as JSON, as a plain answer is. */
        x.json = shape_parse(x.resp.body.data, x.resp.body.len, x.json_error,
                             sizeof(x.json_error), &x.json_error_offset);
        exchange_expect_error(c, d, &x, 400);
    } else if ((err = stream_log_error_event(&log)) != SIZE_MAX) {
        stream_log_describe_error(&log, err, why, sizeof(why));
        ev = exchange_evidence(&x, (size_t)log.events[err].offset);
        stream_log_add_events(&log, ev, (size_t)log.events[err].offset);
        conform_violation(c, d, ev, "%s", why);
    } else {
        ev = exchange_evidence(&x, EVIDENCE_NO_FOCUS);
        stream_log_add_events(&log, ev, EVIDENCE_NO_FOCUS);
        conform_violation(c, d, ev,
                          "HTTP 200 and a stream of %zu events: temperature "
                          "2.5 is refused without stream, accepted with it",
                          log.n_events);
    }
    stream_log_cleanup(&log);
out:
    exchange_cleanup(&x);
}

/* Runs the group: every case, then the verdict on param. */
static void run(struct conform *c)
{
    const char *auth, *param;
    struct exchange x;
    char misses[1024] = "", *text;
    size_t k, judged = 0, named = 0, len;
    json_t *first_miss = NULL;

    exchange_init(&x);
    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        text = cases[k].raw != NULL ? NULL : spoiled_body(c, k);
        auth = conform_bearer(c, conform_options(c)->api_key);
        exchange_send_raw(c, &x, "POST", "/chat/completions", auth,
                          cases[k].raw != NULL ? cases[k].raw
                          : text != NULL       ? text
                                               : "");
        free(text);
        if (!exchange_expect_error(c, &checks[cases[k].check], &x, 400) ||
            cases[k].field == NULL)
            continue;
        judged++;
        param = shape_error_field(x.json, "param");
        if (names_field(param, cases[k].field)) {
            named++;
            continue;
        }
        if (first_miss == NULL)
            first_miss = exchange_evidence(&x, EVIDENCE_NO_FOCUS);
        len = strlen(misses);
        snprintf(misses + len, sizeof(misses) - len, "%s%s: param %s",
                 len > 0 ? "; " : "", cases[k].field,
                 param != NULL ? param : "null");
    }
    exchange_cleanup(&x);
    judge_stream_invalid(c, conform_passed(c, &checks[TEMPERATURE]));
    if (judged == 0)
        conform_skip(c, &checks[PARAM_NAMED],
                     "no 400 with an error body to "
                     "read");
    else if (named < judged)
        conform_violation(c, &checks[PARAM_NAMED], first_miss,
                          "%zu of %zu errors do not name the field: %s",
                          judged - named, judged, misses);
    else
        conform_pass(c, &checks[PARAM_NAMED], NULL,
                     "all %zu errors name their field", judged);
    if (named == judged || judged == 0)
        json_decref(first_miss);
}

const struct group_def group_params = {
    .name = "params",
    .about = "Invalid inputs: 400 with the error body, param naming the "
             "field",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = NULL,
    .run = run,
};
