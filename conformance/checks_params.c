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

/* Where the rules come from: the parameters as docs/api.md states them
 * (the AI Nexus table, and the OpenAI ranges it adopts), and the status the
 * error table gives an invalid parameter. */
#define SRC "docs/api.md#request-parameters; docs/api.md#error-statuses"

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

/* Each refusal rests on the error table (400 for invalid parameters):
 * another status fails. Serving the request fails where the AI Nexus
 * reference itself makes the input invalid, and warns where only the
 * OpenAI spec bounds it (see cases[] below). */
static const struct check_def checks[] = {
    [TEMPERATURE] = {"params.temperature", LEVEL_MUST, BASIS_CONTRACT,
                     "temperature 2.5 (outside 0..2) MUST be refused with "
                     "400 and SHOULD carry the error body",
                     SRC, IMPACT_PARAMS_ACCEPTED},
    [TOP_P] = {"params.top-p", LEVEL_MUST, BASIS_CONTRACT,
               "top_p 1.5 (outside 0..1) SHOULD be refused, and a refusal "
               "MUST be 400; it SHOULD carry the error body",
               SRC, IMPACT_PARAMS_ACCEPTED},
    [FREQUENCY] = {"params.frequency-penalty", LEVEL_MUST, BASIS_CONTRACT,
                   "frequency_penalty 2.5 (outside -2..2) MUST be refused "
                   "with 400 and SHOULD carry the error body",
                   SRC, IMPACT_PARAMS_ACCEPTED},
    [PRESENCE] = {"params.presence-penalty", LEVEL_MUST, BASIS_CONTRACT,
                  "presence_penalty -2.5 (outside -2..2) MUST be refused with "
                  "400 and SHOULD carry the error body",
                  SRC, IMPACT_PARAMS_ACCEPTED},
    [MAX_ZERO] = {"params.max-tokens-zero", LEVEL_MUST, BASIS_CONTRACT,
                  "max_tokens 0 SHOULD be refused, and a refusal MUST be "
                  "400; it SHOULD carry the error body",
                  SRC, IMPACT_PARAMS_ACCEPTED},
    [MAX_NEGATIVE] = {"params.max-tokens-negative", LEVEL_MUST, BASIS_CONTRACT,
                      "max_tokens -5 SHOULD be refused, and a refusal MUST "
                      "be 400; it SHOULD carry the error body",
                      SRC, IMPACT_PARAMS_ACCEPTED},
    [MAX_STRING] = {"params.max-tokens-string", LEVEL_MUST, BASIS_CONTRACT,
                    "max_tokens \"8\" (a string, not an integer) MUST be "
                    "refused with 400 and SHOULD carry the error body",
                    SRC, IMPACT_PARAMS_ACCEPTED},
    [MESSAGES_MISSING] = {"params.messages-missing", LEVEL_MUST, BASIS_CONTRACT,
                          "A request without messages (required) MUST be "
                          "refused with 400 and SHOULD carry the error body",
                          SRC, IMPACT_PARAMS_ACCEPTED},
    [MESSAGES_EMPTY] = {"params.messages-empty", LEVEL_MUST, BASIS_CONTRACT,
                        "messages [] SHOULD be refused, and a refusal MUST "
                        "be 400; it SHOULD carry the error body",
                        SRC, IMPACT_PARAMS_ACCEPTED},
    [MESSAGES_NOT_ARRAY] = {"params.messages-not-array", LEVEL_MUST,
                            BASIS_CONTRACT,
                            "messages \"Hi\" (not an array) MUST be refused "
                            "with 400 and SHOULD carry the error body",
                            SRC, IMPACT_PARAMS_ACCEPTED},
    [ROLE] = {"params.role-invalid", LEVEL_MUST, BASIS_CONTRACT,
              "A message with role \"wizard\" SHOULD be refused, and a "
              "refusal MUST be 400; it SHOULD carry the error body",
              SRC, IMPACT_PARAMS_ACCEPTED},
    [MODEL_MISSING] = {"params.model-missing", LEVEL_MUST, BASIS_CONTRACT,
                       "A request without model (required) MUST be refused "
                       "with 400 and SHOULD carry the error body",
                       SRC, IMPACT_PARAMS_ACCEPTED},
    [STOP] = {"params.stop-too-many", LEVEL_MUST, BASIS_CONTRACT,
              "Five stop sequences (the spec allows 4) SHOULD be refused, "
              "and a refusal MUST be 400; it SHOULD carry the error body",
              SRC, IMPACT_PARAMS_ACCEPTED},
    [MALFORMED] = {"params.malformed-json", LEVEL_MUST, BASIS_CONTRACT,
                   "A body that is not JSON MUST be refused with 400 and "
                   "SHOULD carry the error body",
                   SRC, IMPACT_PARAMS_ACCEPTED},
    [STREAM_INVALID] = {"params.stream-invalid", LEVEL_MUST, BASIS_CONTRACT,
                        "temperature 2.5 with stream true MUST be refused "
                        "with the same 400 as without stream, before any "
                        "event, not with 200 and an error event",
                        SRC "; docs/api.md#streaming",
                        IMPACT_PARAMS_STREAM_ERROR},
    [PARAM_NAMED] = {"params.param-named", LEVEL_SHOULD, BASIS_CLIENT,
                     "The error's param SHOULD name the invalid field",
                     "docs/api.md#the-error-body", IMPACT_NONE},
};

/* How to spoil the valid body, which field the error should name, and how
 * grave serving it is: FINDING_BREAK where docs/api.md's AI Nexus facts
 * make the input invalid (a range or type the reference states, a required
 * member, a body that is not JSON), FINDING_SPEC where only the OpenAI
 * spec does. */
static const struct {
    int check;
    const char *field; /* the param to expect; NULL: any */
    const char *set;   /* JSON to set field to; NULL: remove it */
    const char *raw;   /* a raw body instead of a spoiled one */
    enum finding accepted;
} cases[] = {
    {TEMPERATURE, "temperature", "2.5", NULL, FINDING_BREAK},
    {TOP_P, "top_p", "1.5", NULL, FINDING_SPEC},
    {FREQUENCY, "frequency_penalty", "2.5", NULL, FINDING_BREAK},
    {PRESENCE, "presence_penalty", "-2.5", NULL, FINDING_BREAK},
    {MAX_ZERO, "max_tokens", "0", NULL, FINDING_SPEC},
    {MAX_NEGATIVE, "max_tokens", "-5", NULL, FINDING_SPEC},
    {MAX_STRING, "max_tokens", "\"8\"", NULL, FINDING_BREAK},
    {MESSAGES_MISSING, "messages", NULL, NULL, FINDING_BREAK},
    {MESSAGES_EMPTY, "messages", "[]", NULL, FINDING_SPEC},
    {MESSAGES_NOT_ARRAY, "messages", "\"Hi\"", NULL, FINDING_BREAK},
    {ROLE, "messages", "[{\"role\":\"wizard\",\"content\":\"Hi\"}]", NULL,
     FINDING_SPEC},
    {MODEL_MISSING, "model", NULL, NULL, FINDING_BREAK},
    {STOP, "stop", "[\"a\",\"b\",\"c\",\"d\",\"e\"]", NULL, FINDING_SPEC},
    {MALFORMED, NULL, NULL,
     "{\"model\": \"x\", \"messages\": [{\"role\": ", FINDING_BREAK},
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
    const enum impact_id accepted = IMPACT_PARAMS_ACCEPTED;
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
        conform_finding(c, d, FINDING_BREAK, &accepted, 1, ev,
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
    struct refusal want = {400, FINDING_BREAK, IMPACT_PARAMS_ACCEPTED};

    exchange_init(&x);
    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        text = cases[k].raw != NULL ? NULL : spoiled_body(c, k);
        auth = conform_bearer(c, conform_options(c)->api_key);
        exchange_send_raw(c, &x, "POST", "/chat/completions", auth,
                          cases[k].raw != NULL ? cases[k].raw
                          : text != NULL       ? text
                                               : "");
        free(text);
        want.accepted = cases[k].accepted;
        if (!exchange_expect_refusal(c, &checks[cases[k].check], &x, &want) ||
            !exchange_has_error_body(&x) || cases[k].field == NULL)
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
