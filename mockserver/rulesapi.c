/* rulesapi: the control API's runtime rules (with --admin):
 *   GET    /_nexus/rules               the rules added at runtime
 *   POST   /_nexus/rules               adds a rule or a list of rules,
 *                                      validated as the fixture loader does
 *   DELETE /_nexus/rules[?id=N|name=X] removes them all, or one
 * The rules live in live.c; runtime rules are tried before the files'. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "admin.h"
#include "live.h"
#include "router.h"
#include "routes.h"

/* The name the loader gives the body in its messages. */
#define RULES_DOC_NAME "POST /_nexus/rules"

/* Answers 500 when the app keeps no live rules (only tests serve so).
 * Returns true when it did. */
static bool no_live(const struct app *app, struct response *resp)
{
    struct api_error e;

    if (app->live != NULL)
        return false;
    api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                  "This server keeps no runtime rules.");
    response_error(resp, &e);
    return true;
}

/* Fills e from a rebuild that failed (rc -1 or -3). */
static void rebuild_error(int rc, const struct live_error *err,
                          struct api_error *e)
{
    if (rc == -3)
        api_error_set(e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory rebuilding the rules.");
    else if (err->changed != NULL)
        api_error_set(e, API_ERR_INVALID_REQUEST, NULL, "fixtures_changed",
                      "The fixture files' %s changed since the mock started; "
                      "restart it to apply them. The rules are unchanged.",
                      err->changed);
    else
        api_error_set(e, API_ERR_INVALID_REQUEST, NULL, "invalid_rules",
                      "%s:%d:%d: %s", err->load.file, err->load.line,
                      err->load.column, err->load.message);
}

static void rules_list(struct app *app, struct request *req,
                       struct response *resp)
{
    json_t *list;

    (void)req;
    if (no_live(app, resp))
        return;
    list = live_list(app->live);
    if (list == NULL) {
        admin_oom(resp);
        return;
    }
    response_json(resp, 200, json_pack("{s:o}", "data", list));
}

static void rules_add(struct app *app, struct request *req,
                      struct response *resp)
{
    struct live_error err;
    struct api_error e;
    json_t *added = NULL;
    int rc;

    if (no_live(app, resp))
        return;
    rc = live_add(app->live, RULES_DOC_NAME, req->body ? req->body : "",
                  req->body_len, &added, &err);
    e.kind = API_ERR_NONE;
    if (rc == -2)
        api_error_set(&e, API_ERR_INVALID_JSON, NULL, NULL,
                      "The body must be JSON: a rule or an array of rules, "
                      "as under 'rules' in a fixture.");
    else if (rc != 0)
        rebuild_error(rc, &err, &e);
    if (e.kind != API_ERR_NONE)
        response_error(resp, &e);
    else
        response_json(resp, 200, json_pack("{s:o}", "added", added));
}

static void rules_remove(struct app *app, struct request *req,
                         struct response *resp)
{
    struct live_error err;
    struct api_error e;
    unsigned long long id = 0;
    const char *name = request_query(req, "name");
    long removed = 0;

    e.kind = API_ERR_NONE;
    if (no_live(app, resp))
        return;
    if (admin_query_uint(req, "id", 1, UINT64_MAX, &id, &e) != 0)
        goto out;
    if (id != 0 && name != NULL) {
        api_error_set(&e, API_ERR_INVALID_REQUEST, NULL, "invalid_value",
                      "Give 'id' or 'name', not both.");
        goto out;
    }
    removed = live_remove(app->live, id, name, &err);
    if (removed < 0) {
        rebuild_error((int)removed, &err, &e);
        goto out;
    }
    if (removed == 0 && (id != 0 || name != NULL)) {
        api_error_set(&e, API_ERR_UNKNOWN_URL, NULL, "rule_not_found",
                      "No runtime rule has that %s.", id != 0 ? "id" : "name");
        goto out;
    }
    response_json(resp, 200,
                  json_pack("{s:I}", "removed", (json_int_t)removed));
out:
    if (e.kind != API_ERR_NONE)
        response_error(resp, &e);
}

const struct route route_admin_rules_list = {.name = "admin.rules.list",
                                             .method = "GET",
                                             .path = "/_nexus/rules",
                                             .admin = true,
                                             .handler = rules_list};
const struct route route_admin_rules_add = {.name = "admin.rules.add",
                                            .method = "POST",
                                            .path = "/_nexus/rules",
                                            .admin = true,
                                            .handler = rules_add};
const struct route route_admin_rules_remove = {.name = "admin.rules.remove",
                                               .method = "DELETE",
                                               .path = "/_nexus/rules",
                                               .admin = true,
                                               .handler = rules_remove};
