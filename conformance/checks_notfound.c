/* checks_notfound: the notfound group: an unknown model gets 404 with the
 * error body, in chat and in GET /models/{id}. */
#include "checks_notfound.h"

#include <string.h>

#include "buf.h"
#include "evidence.h"
#include "exchange.h"
#include "shape.h"

enum { CHAT, CODE, RETRIEVE };

static const struct check_def checks[] = {
    [CHAT] = {"notfound.chat-model", LEVEL_MUST, BASIS_CONTRACT,
              "A chat completion for an unknown model MUST be refused with "
              "404, and SHOULD carry the error body",
              "docs/api.md#error-statuses", IMPACT_NONE},
    [CODE] = {"notfound.code", LEVEL_SHOULD, BASIS_CLIENT,
              "The 404 for an unknown model SHOULD have code "
              "\"model_not_found\"",
              "docs/api.md#the-error-body", IMPACT_NONE},
    [RETRIEVE] = {"notfound.retrieve", LEVEL_SHOULD, BASIS_SPEC,
                  "Where GET /models/{id} is offered, an unknown id SHOULD "
                  "get 404 and the error body",
                  "docs/api.md#models", IMPACT_NONE},
};

static const char unknown_model[] = "nexus-conform-no-such-model";

/* What a refusal with status st means, for the message: "" when the status
 * names no reason the runner knows. */
static const char *status_reason(long st)
{
    if (st == 429)
        return " (rate limited)";
    if (st >= 500)
        return " (a server error)";
    return "";
}

/* Judges the unknown model in GET /models/{id}, if that is offered: only
 * 404, 405 and 501 for the model under test mean "not offered" (as in
 * models.retrieve); any other failure, a 429 from a rate-limited key
 * included, fails the check, as it fails every check whose request it
 * refuses (with no impact: the rule was not seen broken). */
static void judge_retrieve(struct conform *c)
{
    struct exchange x;
    struct buf path;
    const char *auth;
    long st;

    exchange_init(&x);
    buf_init(&path, 4096);
    models_path(conform_model(c), &path);
    auth = conform_bearer(c, conform_options(c)->api_key);
    exchange_send(c, &x, "GET", buf_str(&path), auth, NULL, NULL, false);
    st = x.resp.status;
    if (x.resp.ts == TRANSPORT_OK && (st == 404 || st == 405 || st == 501)) {
        conform_skip(c, &checks[RETRIEVE],
                     "GET /models/{id} is not offered (the model under test "
                     "got HTTP %ld)",
                     st);
        goto out;
    }
    if (!exchange_status_is(&x, 200)) {
        /* One defect, one failure: models.retrieve already failed on it. */
        if (conform_status_of(c, "models.retrieve") == CHECK_FAIL)
            conform_skip(c, &checks[RETRIEVE],
                         "GET /models/{id} got %s%s again (see "
                         "models.retrieve): an unknown id was not tried",
                         conform_describe(c, &x.resp),
                         x.resp.ts == TRANSPORT_OK ? status_reason(st) : "");
        else
            conform_fail(c, &checks[RETRIEVE],
                         exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                         "GET /models/{id} for the model under test got "
                         "%s%s, so the check could not run: an unknown id "
                         "was not tried",
                         conform_describe(c, &x.resp),
                         x.resp.ts == TRANSPORT_OK ? status_reason(st) : "");
        goto out;
    }
    buf_reset(&path);
    models_path(unknown_model, &path);
    exchange_send(c, &x, "GET", buf_str(&path),
                  conform_bearer(c, conform_options(c)->api_key), NULL, NULL,
                  false);
    exchange_expect_error(c, &checks[RETRIEVE], &x, 404);
out:
    buf_cleanup(&path);
    exchange_cleanup(&x);
}

/* Runs the group: chat with an unknown model, then GET /models/{id}. */
static void run(struct conform *c)
{
    struct exchange x;
    const char *code;

    exchange_init(&x);
    exchange_send(c, &x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key),
                  chat_body(unknown_model, "Hi", 8), NULL, false);
    if (exchange_expect_error(c, &checks[CHAT], &x, 404) &&
        exchange_has_error_body(&x)) {
        code = shape_error_field(x.json, "code");
        if (code != NULL && strcmp(code, "model_not_found") == 0)
            conform_pass(c, &checks[CODE], NULL, "code model_not_found");
        else
            conform_violation(c, &checks[CODE],
                              exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                              "code is %s", code != NULL ? code : "null");
    } else {
        conform_skip(c, &checks[CODE],
                     "no 404 error body (see "
                     "notfound.chat-model)");
    }
    exchange_cleanup(&x);
    judge_retrieve(c);
}

const struct group_def group_notfound = {
    .name = "notfound",
    .about = "404 with the error body for an unknown model",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = NULL,
    .run = run,
};
