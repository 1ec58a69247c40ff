/* balance: GET /v1/balance, the AI Nexus account endpoint. */
#include <stdbool.h>
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

/* Returns a JSON real nearest the exact decimal of a pico-USD amount, and
 * raises *digits to the significant digits that decimal needs. */
static json_t *usd_json(int64_t pico, int *digits)
{
    char text[48];
    const char *p;
    int n = 0;
    bool leading = true;

    billing_format_usd(pico, text, sizeof(text));
    for (p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || (leading && *p == '0'))
            continue;
        leading = false;
        n++;
    }
    if (n > *digits)
        *digits = n;
    return json_real(strtod(text, NULL));
}

/* Answers the key's balance, spend and the time of its last charge. */
static void balance_get(struct app *app, struct request *req,
                        struct response *resp)
{
    struct billing_account a;
    struct api_error e;
    char when[32];
    json_t *balance, *spent;
    int digits = 1;

    if (router_admit(app, req, 0, resp) != 0)
        return;
    if (billing_get(app->billing, req->key_index, &a) != 0) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The account for this key could not be read.");
        response_error(resp, &e);
        return;
    }
    iso8601(a.last_updated_ms, when, sizeof(when));
    balance = usd_json(a.balance, &digits);
    spent = usd_json(a.spent, &digits);
    response_json(resp, 200,
                  json_pack("{s:o, s:s, s:o, s:s}", "balance", balance,
                            "currency", "USD", "total_spent", spent,
                            "last_updated", when));
    /* Fifteen significant digits print any amount of up to 15 digits
     * exactly and never add noise; longer amounts (large balances with
     * many decimals) get 16, a double's last reliable digit. One flag
     * covers the whole body, so both amounts share it. */
    resp->json_flags = JSON_REAL_PRECISION(digits > 15 ? 16 : 15);
}

const struct route route_balance = {.method = "GET",
                                    .path = "/v1/balance",
                                    .auth = true,
                                    .handler = balance_get};
