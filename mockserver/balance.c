/* balance: GET /v1/balance, the AI Nexus account endpoint. */
#include <stdlib.h>
#include <time.h>

#include "billing.h"
#include "router.h"
#include "routes.h"

/* Formats unix milliseconds as ISO-8601 UTC with seconds ("...T12:00:00Z"). */
static void iso8601(uint64_t unix_ms, char *out, size_t outlen)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Returns a JSON real holding the exact decimal text of a pico-USD amount. */
static json_t *usd_json(int64_t pico)
{
    char text[48];

    billing_format_usd(pico, text, sizeof(text));
    return json_real(strtod(text, NULL));
}

/* Answers the key's balance, spend and the time of its last charge. */
static void balance_get(struct app *app, struct request *req,
                        struct response *resp)
{
    struct billing_account a;
    struct api_error e;
    char when[32];

    if (router_admit(app, req, 0, resp) != 0)
        return;
    if (billing_get(app->billing, req->key_index, &a) != 0) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The account for this key could not be read.");
        response_error(resp, &e);
        return;
    }
    iso8601(a.last_updated_ms, when, sizeof(when));
    response_json(resp, 200,
                  json_pack("{s:o, s:s, s:o, s:s}", "balance",
                            usd_json(a.balance), "currency", "USD",
                            "total_spent", usd_json(a.spent), "last_updated",
                            when));
    /* 15 significant digits print the exact decimal of any amount we hold
     * below a billion dollars with up to six fraction digits. */
    resp->json_flags = JSON_REAL_PRECISION(15);
}

const struct route route_balance = {.method = "GET",
                                    .path = "/v1/balance",
                                    .auth = true,
                                    .handler = balance_get};
