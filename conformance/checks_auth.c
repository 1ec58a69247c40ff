/* checks_auth: the auth group: no header, a wrong scheme and an unknown
 * key are each refused with 401 and the error body. */
#include "checks_auth.h"

#include "buf.h"
#include "exchange.h"

enum { MISSING, SCHEME, UNKNOWN };

#define SRC "docs/api.md#authentication; docs/api.md#error-statuses"

static const struct check_def checks[] = {
    [MISSING] = {"auth.missing", LEVEL_MUST, BASIS_CONTRACT,
                 "A request without Authorization MUST be refused with 401, "
                 "and SHOULD carry the error body",
                 SRC, IMPACT_AUTH_ACCEPTED},
    [SCHEME] = {"auth.wrong-scheme", LEVEL_MUST, BASIS_CONTRACT,
                "Authorization with a scheme other than Bearer MUST be "
                "refused with 401, and SHOULD carry the error body",
                SRC, IMPACT_AUTH_ACCEPTED},
    [UNKNOWN] = {"auth.unknown-key", LEVEL_MUST, BASIS_CONTRACT,
                 "An unknown key MUST be refused with 401, and SHOULD carry "
                 "the error body",
                 SRC, IMPACT_AUTH_ACCEPTED},
};

/* A key no server should know, shaped like a real one. */
static const char unknown_key[] = "Bearer sk-nexus-conform-unknown-0000000000";

/* Runs the group: the same valid request three times, badly signed. */
static void run(struct conform *c)
{
    struct exchange x;
    struct buf basic;
    const char *model = conform_model(c);

    exchange_init(&x);
    buf_init(&basic, TRANSPORT_AUTH_MAX);
    exchange_send(c, &x, "POST", "/chat/completions", NULL,
                  chat_body(model, "Hi", 8), NULL, false);
    exchange_expect_error(c, &checks[MISSING], &x, 401);
    if (buf_appendf(&basic, "Basic %s", conform_options(c)->api_key) == 0) {
        exchange_send(c, &x, "POST", "/chat/completions", buf_str(&basic),
                      chat_body(model, "Hi", 8), NULL, false);
        exchange_expect_error(c, &checks[SCHEME], &x, 401);
    } else {
        conform_skip(c, &checks[SCHEME], "out of memory");
    }
    exchange_send(c, &x, "POST", "/chat/completions", unknown_key,
                  chat_body(model, "Hi", 8), NULL, false);
    exchange_expect_error(c, &checks[UNKNOWN], &x, 401);
    buf_cleanup(&basic);
    exchange_cleanup(&x);
}

const struct group_def group_auth = {
    .name = "auth",
    .about = "401 with the error body for no key, a wrong scheme, an "
             "unknown key",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = NULL,
    .run = run,
};
