/* admin: /_nexus/ routes for tests and tools, served only with --admin. */
#include "clock.h"
#include "jsonio.h"
#include "router.h"
#include "routes.h"

#define ADMIN_MAX_ADVANCE_MS INT64_C(315360000000)  /* ten years */
#define ADMIN_MAX_OFFSET_MS UINT64_C(3153600000000) /* a century */

/* POST /_nexus/clock {"advance_ms": N}: moves the mock's clock forward,
 * so rate-limit windows can expire without waiting. */
static void admin_clock(struct app *app, struct request *req,
                        struct response *resp)
{
    json_error_t jerr;
    bool oom;
    json_t *body =
        jsonio_loadb(req->body ? req->body : "", req->body_len, 0, &jerr, &oom);
    json_t *adv = json_object_get(body, "advance_ms");
    struct api_error e;

    if (oom) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory reading the request.");
        response_error(resp, &e);
        goto out;
    }
    if (body == NULL) {
        api_error_set(&e, API_ERR_INVALID_JSON, NULL, NULL,
                      "We could not parse the JSON body of your request: %s "
                      "(line %d, column %d).",
                      jerr.text, jerr.line, jerr.column);
        response_error(resp, &e);
        goto out;
    }
    /* Bounded so the shifted clock can never wrap: ten years a call, a
     * century in all. */
    if (!json_is_integer(adv) || json_integer_value(adv) < 0 ||
        json_integer_value(adv) > ADMIN_MAX_ADVANCE_MS ||
        clock_offset_ms(app->clock) >
            ADMIN_MAX_OFFSET_MS - (uint64_t)json_integer_value(adv)) {
        api_error_set(&e, API_ERR_INVALID_REQUEST, "advance_ms",
                      "invalid_value",
                      "Expected a JSON object with an integer 'advance_ms' "
                      "from 0 to %lld, keeping the total shift at most a "
                      "century.",
                      (long long)ADMIN_MAX_ADVANCE_MS);
        response_error(resp, &e);
        goto out;
    }
    clock_advance(app->clock, (uint64_t)json_integer_value(adv));
    response_json(resp, 200,
                  json_pack("{s:I, s:I}", "offset_ms",
                            (json_int_t)clock_offset_ms(app->clock),
                            "now_unix_ms",
                            (json_int_t)clock_wall_ms(app->clock)));
out:
    json_decref(body);
}

const struct route route_admin_clock = {.method = "POST",
                                        .path = "/_nexus/clock",
                                        .admin = true,
                                        .handler = admin_clock};
