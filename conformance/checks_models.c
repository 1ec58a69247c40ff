/* checks_models: the models group: the model list, its items, the model
 * under test, and GET /models/{id}. */
#include "checks_models.h"

#include <string.h>

#include "buf.h"
#include "evidence.h"
#include "exchange.h"
#include "shape.h"

enum { LIST, ITEMS, CHOSEN, RETRIEVE };

static const struct check_def checks[] = {
    [LIST] = {"models.list", LEVEL_MUST,
              "GET /models MUST answer 200 with the JSON object "
              "{\"object\":\"list\",\"data\":[...]}",
              "OpenAI spec: GET /models, ListModelsResponse; AI Nexus "
              "reference: List Models",
              "client.models.list() in every official SDK cannot read the "
              "page"},
    [ITEMS] = {"models.items", LEVEL_MUST,
               "Every item of data MUST carry id (string), object \"model\", "
               "created (integer) and owned_by (string)",
               "OpenAI spec: Model (required: id, object, created, "
               "owned_by)",
               "applications that pick a model from the list read missing or "
               "mistyped fields"},
    [CHOSEN] = {"models.chosen", LEVEL_MUST,
                "The model under test MUST be one of the ids GET /models "
                "lists",
                "AI Nexus reference: Supported Models (use the model ID as "
                "the model parameter)",
                NULL},
    [RETRIEVE] = {"models.retrieve", LEVEL_MUST,
                  "Where offered, GET /models/{id} MUST answer 200 with "
                  "that Model (same id, object \"model\")",
                  "OpenAI spec: GET /models/{model} (retrieveModel), Model",
                  "client.models.retrieve() in every official SDK"},
};

/* Says in why what is wrong with one Model object, or returns true. */
static bool model_ok(const json_t *m, char *why, size_t n)
{
    bool ret;
    const json_t *v;

    if (!json_is_object(m)) {
        snprintf(why, n, "is a %s, not an object", shape_type(m));
        ret = false;
        goto out;
    }
    v = json_object_get(m, "id");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(why, n, "has id %s, not a non-empty string", shape_type(v));
        ret = false;
        goto out;
    }
    v = json_object_get(m, "object");
    if (!json_is_string(v) || strcmp(json_string_value(v), "model") != 0) {
        snprintf(why, n, "has object %s, not \"model\"",
                 json_is_string(v) ? json_string_value(v) : shape_type(v));
        ret = false;
        goto out;
    }
    v = json_object_get(m, "created");
    if (!shape_is_int(v)) {
        snprintf(why, n, "has created %s, not an integer", shape_type(v));
        ret = false;
        goto out;
    }
    v = json_object_get(m, "owned_by");
    if (!json_is_string(v)) {
        snprintf(why, n, "has owned_by %s, not a string", shape_type(v));
        ret = false;
        goto out;
    }
    ret = true;
out:
    return ret;
}

/* Judges the list itself; returns its data array (borrowed) or NULL. */
static json_t *judge_list(struct conform *c, json_t *body)
{
    json_t *ret;
    const struct http_response *r = conform_models_response(c);
    const struct http_request *q = conform_models_request(c);
    const char *ct = http_response_header(r, "Content-Type");
    json_t *obj, *data;
    char why[256];
    size_t off;

    if (r->ts != TRANSPORT_OK || r->status != 200) {
        conform_violation(c, &checks[LIST],
                          evidence_new(q, r, EVIDENCE_NO_FOCUS),
                          "expected HTTP 200, got %s", conform_describe(c, r));
        ret = NULL;
        goto out;
    }
    if (body == NULL) {
        shape_parse(r->body.data, r->body.len, why, sizeof(why), &off);
        conform_violation(c, &checks[LIST], evidence_new(q, r, off),
                          "the body is %s", why);
        ret = NULL;
        goto out;
    }
    obj = json_object_get(body, "object");
    data = json_object_get(body, "data");
    if (!json_is_object(body) || !json_is_string(obj) ||
        strcmp(json_string_value(obj), "list") != 0 || !json_is_array(data)) {
        conform_violation(
            c, &checks[LIST], evidence_new(q, r, EVIDENCE_NO_FOCUS),
            "expected {\"object\":\"list\",\"data\":[...]}, got object %s "
            "and data %s",
            json_is_string(obj) ? json_string_value(obj) : shape_type(obj),
            shape_type(data));
        ret = NULL;
        goto out;
    }
    if (!shape_media_type(ct, "application/json")) {
        conform_violation(c, &checks[LIST],
                          evidence_new(q, r, EVIDENCE_NO_FOCUS),
                          "Content-Type is %s, not application/json",
                          ct != NULL ? ct : "missing");
        ret = data;
        goto out;
    }
    conform_pass(c, &checks[LIST], evidence_new(q, r, EVIDENCE_NO_FOCUS),
                 "a list of %zu models", json_array_size(data));
    ret = data;
out:
    return ret;
}

/* Judges every item, then whether the model under test is among them. */
static void judge_items(struct conform *c, const json_t *data)
{
    const struct http_response *r = conform_models_response(c);
    const struct http_request *q = conform_models_request(c);
    const char *model = conform_model(c), *id;
    char why[256];
    size_t i;
    json_t *m;
    bool bad = false, listed = false;

    json_array_foreach(data, i, m)
    {
        if (!bad && !model_ok(m, why, sizeof(why))) {
            conform_violation(c, &checks[ITEMS],
                              evidence_new(q, r, EVIDENCE_NO_FOCUS),
                              "data[%zu] %s", i, why);
            bad = true;
        }
        id = json_string_value(json_object_get(m, "id"));
        if (id != NULL && model != NULL && strcmp(id, model) == 0)
            listed = true;
    }
    if (!bad)
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

/* Judges GET /models/{id}, which the AI Nexus reference does not list:
 * there a 404 or 405 means "not offered" rather than a failure. */
static void judge_retrieve(struct conform *c)
{
    const char *model = conform_model(c);
    const char *id;
    struct exchange x;
    struct buf path;
    char why[256];
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
    if (!model_ok(x.json, why, sizeof(why))) {
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
    conform_pass(c, &checks[RETRIEVE], exchange_evidence(&x, EVIDENCE_NO_FOCUS),
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
