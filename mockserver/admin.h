/* admin: the policy of the control API (/_nexus/, admin.c and the route
 * files it names in routes.h): where it may be served without a token,
 * and the token check every request to it passes. */
#ifndef NEXUS_ADMIN_H
#define NEXUS_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "errors.h"
#include "router.h"

/* The header that may carry the admin token, besides Authorization:
 * Bearer. */
#define ADMIN_TOKEN_HEADER "X-Nexus-Admin-Token"

/* True when host (as given to --host) is a loopback address only this
 * machine reaches: 127.0.0.0/8, ::1 (bracketed or not), ::ffff:127.x.y.z,
 * or the name "localhost". Any other name or address (0.0.0.0, ::, a
 * hostname) is not: it may be reached from elsewhere. */
bool admin_host_is_loopback(const char *host);
/* The start-up policy: the control API (admin) on a host that is not
 * loopback needs a token. Returns 0 when the mock may start, or -1 with
 * the reason in cause. A token without admin is refused too (it would
 * guard nothing). */
int admin_check_exposure(const char *host, bool admin, const char *token,
                         char *cause, size_t causelen);
/* Checks the token of a request to /_nexus/ when app has one: it must come
 * as "Authorization: Bearer TOKEN" or "X-Nexus-Admin-Token: TOKEN",
 * compared in constant time. Returns 0, or -1 with e set to the 401. */
int admin_authorize(const struct app *app, const struct request *req,
                    struct api_error *e);

/* Reads the query argument name of req as a whole number in [min, max]
 * into *out, leaving *out as it was when the argument is absent. Returns
 * 0, or -1 with e set to the 400 naming it. */
int admin_query_uint(const struct request *req, const char *name,
                     unsigned long long min, unsigned long long max,
                     unsigned long long *out, struct api_error *e);
/* Reads the query argument "key" of req (an API key of the fixture) into
 * *by_key and *key_index; *by_key false when it is absent. Returns 0, or
 * -1 with e set to the 400. */
int admin_query_key(const struct app *app, const struct request *req,
                    bool *by_key, size_t *key_index, struct api_error *e);
/* Answers resp with a 500 saying the server ran out of memory. */
void admin_oom(struct response *resp);

#endif
