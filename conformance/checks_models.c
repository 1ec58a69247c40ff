/* checks_models: the models group: the model list, its items, the model
 * under test, and GET /models/{id}. */
#include "checks_models.h"

#include <string.h>

#include "buf.h"
#include "evidence.h"
#include "exchange.h"
#include "shape.h"

enum { LIST, ITEMS, CHOSEN, RETRIEVE };

#define API "docs/api.md"

static const struct check_def checks[] = {
    [LIST] = {"models.list", LEVEL_MUST, BASIS_CONTRACT,
              "GET /models MUST answer 200 with the JSON object "
              "{\"object\":\"list\",\"data\":[...]}",
              API "#models", IMPACT_MODELS_NOT_LIST},
    [ITEMS] = {"models.items", LEVEL_MUST, BASIS_CONTRACT,
               "Every item of data MUST carry its id (a non-empty string), "
               "and SHOULD carry object \"model\", created (integer) and "
               "owned_by (string)",
               API "#models", IMPACT_MODELS_ID},
    [CHOSEN] = {"models.chosen", LEVEL_MUST, BASIS_CONTRACT,
                "The model under test MUST be one of the ids GET /models "
                "lists",
                API "#models", IMPACT_MODELS_CHOSEN},
    [RETRIEVE] = {"models.retrieve", LEVEL_MUST, BASIS_CONTRACT,
                  "Where offered, GET /models/{id} MUST answer 200 with "
                  "that Model (same id, object \"model\")",
                  API "#models", IMPACT_MODELS_RETRIEVE},
};

/* How one Model object departs from the spec: FINDING_BREAK when it has no
 * usable id (the contract), FINDING_SPEC for another member. */
static enum finding model_finding(const json_t *m, char *why, size_t n)
{
    enum finding ret = FINDING_BREAK;
    const json_t *v;

    if (!json_is_object(m)) {
        snprintf(why, n, "is a %s, not an object", shape_type(m));
        goto out;
    }
    v = json_object_get(m, "id");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(why, n, "has id %s, not a non-empty string", shape_type(v));
        goto out;
    }
    ret = FINDING_SPEC;
    v = json_object_get(m, "object");
    if (!json_is_string(v) || strcmp(json_string_value(v), "model") != 0) {
        snprintf(why, n, "has object %s, not \"model\"",
                 json_is_string(v) ? json_string_value(v) : shape_type(v));
        goto out;
    }
    v = json_object_get(m, "created");
    if (!shape_is_int(v)) {
        snprintf(why, n, "has created %s, not an integer", shape_type(v));
        goto out;
    }
    v = json_object_get(m, "owned_by");
    if (!json_is_string(v)) {
        snprintf(why, n, "has owned_by %s, not a string", shape_type(v));
        goto out;
    }
    ret = FINDING_NONE;
out:
    return ret;
}

/* What a failed GET /models does to the clients that list models. */
static enum impact_id list_failure_impact(const struct http_response *r)
{
    return r->ts == TRANSPORT_OK && r->status >= 500 ? IMPACT_MODELS_5XX
           : r->ts == TRANSPORT_BROKEN ||
                   (r->ts == TRANSPORT_OK && r->status == 0)
               ? IMPACT_MODELS_NOT_HTTP
               : IMPACT_NONE;
}

/* Judges the list itself; returns its data array (borrowed) or NULL. */
static json_t *judge_list(struct conform *c, json_t *body)
{
    json_t *ret = NULL;
    const struct http_response *r = conform_models_response(c);
    const struct http_request *q = conform_models_request(c);
    const char *ct = http_response_header(r, "Content-Type");
    const enum impact_id not_list = IMPACT_MODELS_NOT_LIST;
    enum impact_id failed;
    json_t *obj, *data;
    char why[256];
    size_t off;

    if (r->ts != TRANSPORT_OK || r->status != 200) {
        failed = list_failure_impact(r);
        conform_finding(c, &checks[LIST], FINDING_BREAK, &failed, 1,
                        evidence_new(q, r, EVIDENCE_NO_FOCUS),
                        "expected HTTP 200, got %s", conform_describe(c, r));
        goto out;
    }
    if (body == NULL) {
        shape_parse(r->body.data, r->body.len, why, sizeof(why), &off);
        conform_violation(c, &checks[LIST], evidence_new(q, r, off),
                          "the body is %s", why);
        goto out;
    }
    obj = json_object_get(body, "object");
    data = json_object_get(body, "data");
    if (!json_is_array(data)) {
        conform_finding(c, &checks[LIST], FINDING_BREAK, &not_list, 1,
                        evidence_new(q, r, EVIDENCE_NO_FOCUS),
                        "expected {\"object\":\"list\",\"data\":[...]}, "
                        "got %s with data %s",
                        json_is_object(body) ? "an object" : shape_type(body),
                        shape_type(data));
        goto out;
    }
    ret = data;
    /* The clients read data; object and the label are the spec's text. */
    if (!json_is_string(obj) || strcmp(json_string_value(obj), "list") != 0)
        conform_finding(c, &checks[LIST], FINDING_SPEC, NULL, 0,
                        evidence_new(q, r, EVIDENCE_NO_FOCUS),
                        "the list has object %s, not \"list\"",
                        json_is_string(obj) ? json_string_value(obj)
                                            : shape_type(obj));
    else if (!shape_media_type(ct, "application/json"))
        conform_finding(c, &checks[LIST], FINDING_SPEC, NULL, 0,
                        evidence_new(q, r, EVIDENCE_NO_FOCUS),
                        "Content-Type is %s, not application/json",
                        ct != NULL ? ct : "missing");
    else
        conform_pass(c, &checks[LIST], evidence_new(q, r, EVIDENCE_NO_FOCUS),
                     "a list of %zu models", json_array_size(data));
out:
    return ret;
}

/* Judges every item (the gravest finding is reported), then whether the
 * model under test is among them. */
static void judge_items(struct conform *c, const json_t *data)
{
    const struct http_response *r = conform_models_response(c);
    const struct http_request *q = conform_models_request(c);
    const char *model = conform_model(c), *id;
    char why[256], worst[300] = "";
    enum finding f, gravest = FINDING_NONE;
    size_t i;
    json_t *m;
    bool listed = false;

    json_array_foreach(data, i, m)
    {
        f = model_finding(m, why, sizeof(why));
        if (f > gravest) {
            gravest = f;
            snprintf(worst, sizeof(worst), "data[%zu] %s", i, why);
        }
        id = json_string_value(json_object_get(m, "id"));
        if (id != NULL && model != NULL && strcmp(id, model) == 0)
            listed = true;
    }
    if (gravest != FINDING_NONE)
        conform_finding(c, &checks[ITEMS], gravest, &checks[ITEMS].impact,
                        gravest == FINDING_BREAK ? 1 : 0,
                        evidence_new(q, r, EVIDENCE_NO_FOCUS), "%s", worst);
    else
        conform_pass(c, &checks[ITEMS], NULL, "%zu models, each well formed",
                     json_array_size(data));
    if (model == NULL)
        conform_violation(c, &checks[CHOSEN],
                          evidence_new(q, r, EVIDENCE_NO_FOCUS),
                          "the list is empty and --model was not given");
    else if (listed)
        conform_pass(c, &checks[CHOSEN], NULL, "%s is listed", model);
    else
        conform_violation(c, &checks[CHOSEN],
                          evidence_new(q, r, EVIDENCE_NO_FOCUS),
                          "%s is not among the %zu listed models", model,
                          json_array_size(data));
}

/* True when the server refused or lost a request for a reason of its own
 * (a 429, a 5xx, no answer), so a check on it could not run. */
static bool refused(const struct exchange *x)
{
    return x->resp.ts != TRANSPORT_OK ||
           (x->resp.status == 429 || x->resp.status >= 500);
}

/* Judges GET /models/{id}, which the AI Nexus reference does not list:
 * there a 404 or 405 means "not offered" rather than a failure. A refusal
 * (a 429, a 5xx, no answer) means the check could not run. */
static void judge_retrieve(struct conform *c)
{
    const char *model = conform_model(c);
    const char *id;
    struct exchange x;
    struct buf path;
    char why[256];
    enum finding f;
    long st;

    exchange_init(&x);
    buf_init(&path, 4096);
    if (model == NULL) {
        conform_skip(c, &checks[RETRIEVE], "no model to retrieve");
        goto out;
    }
    models_path(model, &path);
    exchange_send(c, &x, "GET", buf_str(&path),
                  conform_bearer(c, conform_options(c)->api_key), NULL, NULL,
                  false);
    st = x.resp.status;
    if (x.resp.ts == TRANSPORT_OK && (st == 404 || st == 405 || st == 501) &&
        conform_options(c)->profile == PROFILE_AI_NEXUS) {
        conform_skip(c, &checks[RETRIEVE],
                     "not offered (HTTP %ld); the AI Nexus reference does "
                     "not document GET /models/{id}",
                     st);
        goto out;
    }
    if (refused(&x)) {
        conform_fail(c, &checks[RETRIEVE],
                     exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                     "got %s%s, so the check could not run",
                     conform_describe(c, &x.resp),
                     x.resp.ts == TRANSPORT_OK && st == 429 ? " (rate limited)"
                     : x.resp.ts == TRANSPORT_OK ? " (a server error)"
                                                 : "");
        goto out;
    }
    if (!exchange_status_is(&x, 200)) {
        conform_violation(
            c, &checks[RETRIEVE], exchange_evidence(&x, EVIDENCE_NO_FOCUS),
            "expected HTTP 200, got %s", conform_describe(c, &x.resp));
        goto out;
    }
    if (x.json == NULL) {
        conform_violation(c, &checks[RETRIEVE],
                          exchange_evidence(&x, x.json_error_offset),
                          "the body is %s", x.json_error);
        goto out;
    }
    f = model_finding(x.json, why, sizeof(why));
    if (f == FINDING_BREAK) {
        conform_violation(c, &checks[RETRIEVE],
                          exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                          "the model %s", why);
        goto out;
    }
    id = json_string_value(json_object_get(x.json, "id"));
    if (strcmp(id, model) != 0) {
        conform_violation(c, &checks[RETRIEVE],
                          exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                          "asked for %s, got %s", model, id);
        goto out;
    }
    if (f == FINDING_SPEC)
        conform_finding(c, &checks[RETRIEVE], f, NULL, 0,
                        exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                        "the model %s", why);
    else
        conform_pass(c, &checks[RETRIEVE],
                     exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                     "GET /models/%s answers the model", model);
out:
    buf_cleanup(&path);
    exchange_cleanup(&x);
}

/* Runs the group on the discovery response, then retrieves the model. */
static void run(struct conform *c)
{
    const struct http_response *r = conform_models_response(c);
    char why[256];
    size_t off;
    json_t *body = NULL, *data;

    if (r->ts == TRANSPORT_OK)
        body = shape_parse(r->body.data, r->body.len, why, sizeof(why), &off);
    data = judge_list(c, body);
    if (data != NULL) {
        judge_items(c, data);
    } else {
        conform_skip(c, &checks[ITEMS], "no list to read (see models.list)");
        conform_skip(c, &checks[CHOSEN], "no list to read (see models.list)");
    }
    judge_retrieve(c);
    json_decref(body);
}

const struct group_def group_models = {
    .name = "models",
    .about = "GET /models and GET /models/{id}: the list, its items, the "
             "model under test",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = false,
    .missing = NULL,
    .run = run,
};
