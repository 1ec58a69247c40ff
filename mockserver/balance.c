/* balance: GET /v1/balance, the AI Nexus account endpoint. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "billing.h"
#include "buf.h"
#include "jsonw.h"
#include "router.h"
#include "routes.h"

/* The largest balance body: two amounts, a date and the field names. */
#define BALANCE_BODY_MAX 512

/* Formats unix milliseconds as ISO-8601 UTC with seconds ("...T12:00:00Z"). */
static void iso8601(uint64_t unix_ms, char *out, size_t outlen)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Writes a pico-USD amount as its exact decimal number ("0.00000015",
 * "42.5"), always with a decimal point ("5.0"), so a client reads the
 * ledger's value and the same JSON type whatever the amount. */
static void usd_number(struct jsonw *w, int64_t pico)
{
    char text[48];

    billing_format_usd(pico, text, sizeof(text) - 2);
    if (strchr(text, '.') == NULL)
        memcpy(text + strlen(text), ".0", 3);
    jsonw_number(w, text);
}

/* Renders {"balance","currency","total_spent","last_updated"} into out
 * with jsonw (jansson would print the amounts as doubles: 1.5e-7, or
 * rounded to 16 digits). Returns 0 or -1. */
static int balance_body(const struct billing_account *a, struct buf *out)
{
    struct jsonw w;
    char when[32];

    iso8601(a->last_updated_ms, when, sizeof(when));
    jsonw_init(&w, out);
    jsonw_object_open(&w);
    jsonw_key(&w, "balance");
    usd_number(&w, a->balance);
    jsonw_key(&w, "currency");
    jsonw_string(&w, "USD");
    jsonw_key(&w, "total_spent");
    usd_number(&w, a->spent);
    jsonw_key(&w, "last_updated");
    jsonw_string(&w, when);
    jsonw_object_close(&w);
    if (jsonw_finish(&w) != 0 || buf_append(out, "\n", 1) != 0)
        return -1;
    return 0;
}

/* Answers the key's balance, spend and the time of its last charge. */
static void balance_get(struct app *app, struct request *req,
                        struct response *resp)
{
    struct billing_account a;
    struct api_error e;
    struct buf body;
    char *text = NULL;
    size_t len = 0;

    buf_init(&body, BALANCE_BODY_MAX);
    if (router_admit(app, req, 0, resp) != 0)
        goto out;
    if (billing_get(app->billing, req->key_index, &a) != 0) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The account for this key could not be read.");
        response_error(resp, &e);
        goto out;
    }
    if (balance_body(&a, &body) == 0)
        text = buf_take(&body, &len);
    if (text == NULL) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory answering.");
        response_error(resp, &e);
        goto out;
    }
    response_json_text(resp, 200, text, len);
out:
    buf_cleanup(&body);
}

const struct route route_balance = {.name = "balance",
                                    .method = "GET",
                                    .path = "/v1/balance",
                                    .auth = true,
                                    .handler = balance_get};
