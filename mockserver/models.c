/* models: GET /v1/models and GET /v1/models/{id}. */
#include <string.h>

#include "fixtures.h"
#include "router.h"
#include "routes.h"

/* Returns a new reference to the OpenAI model object for m. */
static json_t *model_json(const struct fx_model *m)
{
    return json_pack("{s:s, s:s, s:I, s:s}", "id", m->id, "object", "model",
                     "created", (json_int_t)m->created, "owned_by",
                     m->owned_by);
}

/* Lists every model of the fixture, in fixture order. */
static void models_list(struct app *app, struct request *req,
                        struct response *resp)
{
    json_t *data = json_array();
    json_t *body = NULL;
    size_t i;

    if (router_admit(app, req, 0, resp) != 0)
        goto out;
    for (i = 0; data != NULL && i < app->fx->nmodels; i++)
        if (json_array_append_new(data, model_json(&app->fx->models[i])) != 0)
            goto out;
    body = json_pack("{s:s, s:o}", "object", "list", "data", data);
    data = NULL;
    response_json(resp, 200, body);
out:
    json_decref(data);
}

/* Answers one model, or 404 model_not_found. */
static void models_get(struct app *app, struct request *req,
                       struct response *resp)
{
    const char *id = req->path + strlen(route_models_get.path);
    const struct fx_model *m;
    struct api_error e;

    /* The model is looked up before the rate limit, as for chat. */
    m = fixtures_find_model(app->fx, id);
    if (m == NULL) {
        api_error_set(&e, API_ERR_MODEL_NOT_FOUND, "model", NULL,
                      "The model '%s' does not exist or you do not have "
                      "access to it.",
                      id);
        response_error(resp, &e);
    } else if (router_admit(app, req, 0, resp) == 0) {
        response_json(resp, 200, model_json(m));
    }
}

const struct route route_models_list = {.name = "models.list",
                                        .method = "GET",
                                        .path = "/v1/models",
                                        .auth = true,
                                        .handler = models_list};

const struct route route_models_get = {.name = "models.get",
                                       .method = "GET",
                                       .path = "/v1/models/",
                                       .prefix = true,
                                       .auth = true,
                                       .handler = models_get};
