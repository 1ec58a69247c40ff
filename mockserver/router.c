/* router: matching, authentication and the shared gates of every request. */
#include "router.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "answer.h"
#include "capture.h"
#include "clock.h"
#include "fixtures.h"
#include "jsonio.h"
#include "match.h"
#include "ratelimit.h"
#include "routes.h"
#include "rules.h"

static const struct route *const route_table[] = {
    &route_chat,
    &route_models_list,
    &route_models_get,
    &route_balance,
    &route_admin_clock,
    &route_admin_health,
    &route_admin_state,
    &route_admin_reset,
    &route_admin_requests,
    &route_admin_requests_clear,
    &route_admin_clients,
    &route_admin_rules_list,
    &route_admin_rules_add,
    &route_admin_rules_remove,
};

#define NROUTES (sizeof(route_table) / sizeof(route_table[0]))

void response_init(struct response *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 200;
    buf_init(&r->headers, RESPONSE_MAX_HEADERS * (RESPONSE_HEADER_NAME_MAX +
                                                  RESPONSE_HEADER_VALUE_MAX));
    buf_init(&r->omitted, RESPONSE_MAX_HEADERS * RESPONSE_HEADER_NAME_MAX);
}

void response_cleanup(struct response *r)
{
    json_decref(r->body);
    r->body = NULL;
    free(r->json_text);
    r->json_text = NULL;
    buf_cleanup(&r->headers);
    buf_cleanup(&r->omitted);
    r->nheaders = 0;
    if (r->source.ops != NULL) {
        struct source_end how;

        memset(&how, 0, sizeof(how)); /* never sent: cut by the server */
        r->source.ops->end(r->source.self, &how);
        r->source.ops = NULL;
        r->source.self = NULL;
    }
}

void response_header(struct response *r, const char *name, const char *fmt, ...)
{
    va_list ap;
    char value[RESPONSE_HEADER_VALUE_MAX];
    size_t nlen = strnlen(name, RESPONSE_HEADER_NAME_MAX - 1),
           len = r->headers.len;

    if (r->nheaders >= RESPONSE_MAX_HEADERS)
        return;
    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (buf_append(&r->headers, name, nlen) != 0 ||
        buf_append(&r->headers, "", 1) != 0 ||
        buf_append(&r->headers, value, strlen(value) + 1) != 0) {
        buf_truncate(&r->headers, len);
        return;
    }
    r->nheaders++;
}

/* The header after the one at *at in r's packed list (the first when *at
 * is 0): its name and value; false past the last. */
static bool header_next(const struct response *r, size_t *at, const char **name,
                        const char **value)
{
    if (*at >= r->headers.len)
        return false;
    *name = r->headers.data + *at;
    *value = *name + strlen(*name) + 1;
    *at = (size_t)(*value - r->headers.data) + strlen(*value) + 1;
    return true;
}

const char *response_header_get(const struct response *r, const char *name)
{
    const char *n, *v;
    size_t at = 0;

    while (header_next(r, &at, &n, &v))
        if (strcasecmp(n, name) == 0)
            return v;
    return NULL;
}

void response_each_header(const struct response *r,
                          void (*fn)(void *arg, const char *name,
                                     const char *value),
                          void *arg)
{
    const char *n, *v;
    size_t at = 0;

    while (header_next(r, &at, &n, &v))
        fn(arg, n, v);
}

void response_header_omit(struct response *r, const char *name)
{
    size_t len = r->omitted.len;

    if (buf_append(&r->omitted, name,
                   strnlen(name, RESPONSE_HEADER_NAME_MAX - 1)) != 0 ||
        buf_append(&r->omitted, "", 1) != 0)
        buf_truncate(&r->omitted, len);
}

bool response_names_header(const struct response *r, const char *name)
{
    size_t at = 0;

    if (response_header_get(r, name) != NULL)
        return true;
    for (; at < r->omitted.len; at += strlen(r->omitted.data + at) + 1)
        if (strcasecmp(r->omitted.data + at, name) == 0)
            return true;
    return false;
}

void response_json(struct response *r, int status, json_t *body)
{
    json_decref(r->body);
    free(r->json_text);
    r->json_text = NULL;
    r->status = status;
    r->body = body;
}

void response_json_text(struct response *r, int status, char *text, size_t len)
{
    response_json(r, status, NULL);
    r->json_text = text;
    r->json_text_len = text != NULL ? len : 0;
}

void response_error(struct response *r, const struct api_error *e)
{
    response_json(r, api_error_status(e->kind), api_error_body(e));
}

void router_format_duration(uint64_t ms, char *out, size_t outlen)
{
    uint64_t min = ms / 60000, rest = ms % 60000;
    char sec[32];

    if (ms < 1000 && ms > 0) {
        snprintf(out, outlen, "%" PRIu64 "ms", ms);
        return;
    }
    if (rest % 1000 == 0)
        snprintf(sec, sizeof(sec), "%" PRIu64 "s", rest / 1000);
    else {
        size_t n;

        snprintf(sec, sizeof(sec), "%" PRIu64 ".%03" PRIu64, rest / 1000,
                 rest % 1000);
        n = strlen(sec);
        while (sec[n - 1] == '0')
            sec[--n] = '\0';
        snprintf(sec + n, sizeof(sec) - n, "s");
    }
    if (min > 0)
        snprintf(out, outlen, "%" PRIu64 "m%s", min, sec);
    else
        snprintf(out, outlen, "%s", sec);
}

/* Header names of one budget: limit, remaining, reset. */
static const char *const request_headers[] = {"x-ratelimit-limit-requests",
                                              "x-ratelimit-remaining-requests",
                                              "x-ratelimit-reset-requests"};
static const char *const token_headers[] = {"x-ratelimit-limit-tokens",
                                            "x-ratelimit-remaining-tokens",
                                            "x-ratelimit-reset-tokens"};

/* Adds the three headers of one budget. */
static void budget_headers(struct response *r, const char *const names[3],
                           uint32_t limit, uint32_t remaining,
                           uint64_t reset_ms)
{
    char reset[32];

    router_format_duration(reset_ms, reset, sizeof(reset));
    response_header(r, names[0], "%" PRIu32, limit);
    response_header(r, names[1], "%" PRIu32, remaining);
    response_header(r, names[2], "%s", reset);
}

/* Adds the x-ratelimit-* headers describing st. */
static void ratelimit_headers(struct response *r, const struct rl_state *st)
{
    if (st->limit_requests)
        budget_headers(r, request_headers, st->limit_req, st->remaining_req,
                       st->reset_req_ms);
    if (st->limit_tokens)
        budget_headers(r, token_headers, st->limit_tok, st->remaining_tok,
                       st->reset_tok_ms);
    r->ratelimited = true;
}

/* The limits of the plan the request's key is on. */
static struct rl_limits key_limits(const struct app *app,
                                   const struct request *req)
{
    const struct fx_plan *plan = &app->fx->plans[req->key->plan];
    struct rl_limits lim = {plan->requests_per_minute, plan->tokens_per_minute,
                            app->fx->window_ms};

    return lim;
}

struct rl_limits router_key_limits(const struct app *app, size_t key_index)
{
    struct request req;

    memset(&req, 0, sizeof(req));
    req.key = &app->fx->keys[key_index];
    req.key_index = key_index;
    return key_limits(app, &req);
}

int router_reserve(struct app *app, struct request *req, uint64_t tokens,
                   struct rl_hold *hold, struct response *resp)
{
    struct rl_limits lim = key_limits(app, req);
    struct rl_state st;
    struct api_error e;
    enum rl_verdict v;
    uint64_t secs;

    if (!req->rate_counted) {
        memset(hold, 0, sizeof(*hold)); /* the router peeks after */
        return 0;
    }
    v = ratelimit_reserve(app->rl, req->key_index, &lim, tokens,
                          clock_now_ms(app->clock), hold, &st);
    if (v == RL_ADMIT)
        return 0;
    ratelimit_headers(resp, &st);
    secs = (st.retry_after_ms + 999) / 1000;
    if (v == RL_REFUSE_REQUESTS)
        api_error_set(&e, API_ERR_RATE_REQUESTS, NULL, NULL,
                      "Rate limit reached for requests per minute (RPM): "
                      "Limit %" PRIu32 ", Used %" PRIu64
                      ", Requested 1. Please try again in %" PRIu64 "s.",
                      st.limit_req, st.used_req, secs);
    else
        api_error_set(&e, API_ERR_RATE_TOKENS, NULL, NULL,
                      "Rate limit reached for tokens per minute (TPM): "
                      "Limit %" PRIu32 ", Used %" PRIu64 ", Requested %" PRIu64
                      ". Please try again in %" PRIu64 "s.",
                      st.limit_tok, st.used_tok, tokens, secs);
    response_error(resp, &e);
    response_header(resp, "retry-after", "%" PRIu64, secs ? secs : 1);
    response_header(resp, "retry-after-ms", "%" PRIu64, st.retry_after_ms);
    return -1;
}

void router_settle(struct app *app, struct request *req, struct rl_hold *hold,
                   uint64_t tokens, struct response *resp)
{
    struct rl_limits lim = key_limits(app, req);
    struct rl_state st;

    if (!hold->active)
        return; /* nothing was counted: the router peeks after */
    /* The standing as of the admission, so the headers read as if the
     * exact tokens had been counted then. */
    ratelimit_settle(app->rl, &lim, hold, tokens, hold->at_ms, &st);
    ratelimit_headers(resp, &st);
}

int router_admit(struct app *app, struct request *req, uint64_t tokens,
                 struct response *resp)
{
    struct rl_hold hold;

    if (router_reserve(app, req, tokens, &hold, resp) != 0)
        return -1;
    router_settle(app, req, &hold, tokens, resp);
    return 0;
}

/* Does path match the route's path (exactly, or prefix plus one segment)? */
static bool path_matches(const struct route *rt, const char *path)
{
    size_t n = strlen(rt->path);
    const char *rest;

    if (!rt->prefix)
        return strcmp(path, rt->path) == 0;
    if (strncmp(path, rt->path, n) != 0)
        return false;
    rest = path + n;
    return rest[0] != '\0' && strchr(rest, '/') == NULL;
}

/* Finds the route for req; sets *wrong_method when only the method differs,
 * with the methods the path takes in allow ("GET, DELETE"). */
static const struct route *route_find(const struct app *app,
                                      const struct request *req,
                                      bool *wrong_method, char *allow,
                                      size_t allowlen)
{
    const struct route *const *table = app->routes ? app->routes : route_table;
    size_t n = app->routes ? app->nroutes : NROUTES, i, used;

    *wrong_method = false;
    allow[0] = '\0';
    for (i = 0; i < n; i++) {
        const struct route *rt = table[i];

        if ((rt->admin && !app->admin) || !path_matches(rt, req->path))
            continue;
        if (strcmp(rt->method, req->method) == 0)
            return rt;
        *wrong_method = true;
        used = strlen(allow);
        snprintf(allow + used, allowlen - used, "%s%s", used > 0 ? ", " : "",
                 rt->method);
    }
    return NULL;
}

/* The key a Bearer Authorization names, or NULL. */
static const struct fx_key *bearer_key(const struct app *app,
                                       const struct request *req)
{
    const char *h = req->authorization, *key;

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    key = h + 7;
    while (*key == ' ')
        key++;
    return fixtures_find_key(app->fx, key);
}

/* Resolves the Bearer key. Returns 0, or -1 with e filled (401). */
static int authenticate(const struct app *app, struct request *req,
                        struct api_error *e)
{
    const char *h = req->authorization;
    const struct fx_key *k;

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        api_error_set(e, API_ERR_MISSING_KEY, NULL, NULL,
                      "You didn't provide an API key. You need to provide "
                      "your API key in an Authorization header using Bearer "
                      "auth (i.e. Authorization: Bearer YOUR_KEY).");
        return -1;
    }
    k = bearer_key(app, req);
    if (k == NULL) {
        api_error_set(e, API_ERR_INVALID_KEY, NULL, NULL,
                      "Incorrect API key provided. You can find your API "
                      "key in your AI Nexus account settings.");
        return -1;
    }
    req->key = k;
    req->key_index = (size_t)(k - app->fx->keys);
    return 0;
}

struct rules *router_rules(const struct app *app)
{
    if (app->rules != NULL)
        return rules_slot_get(app->rules);
    return app->fx != NULL ? rules_ref(app->fx->rules) : NULL;
}

/* Tells the journal which rule answered req, and its scenario: names
 * borrowed from set, which req holds until it is dispatched. */
static void rule_name(struct request *req, const struct rules *set,
                      const struct rule_hit *hit)
{
    size_t sc = hit->rule->guard.scenario;

    req->rule = hit->rule->name;
    req->scenario =
        sc != SCENARIO_NONE ? scenarios_name(rules_scenarios(set), sc) : NULL;
}

/* Finds the rule that answers req, if any, filling *hit. The body is read
 * as JSON for the conditions on its fields when it is JSON at all, and
 * kept in req->json for the handler; *oom says the body could not be read
 * for lack of memory (the request is then answered 500, not matched on
 * half of it). */
static bool rule_find(const struct app *app, struct request *req,
                      struct rules *set, bool early, struct rule_hit *hit,
                      bool *oom)
{
    const struct fx_key *key = early ? bearer_key(app, req) : req->key;
    struct match_view v;
    json_error_t jerr;
    json_t *json = NULL;
    bool found;

    *oom = false;
    if (set == NULL || rules_count(set) == 0 ||
        (early && !rules_any_early(set)))
        return false;
    memset(&v, 0, sizeof(v));
    /* Read once: the early rules' pass keeps it for the others'. */
    if (req->json != NULL)
        json = req->json;
    else if (req->body_len > 0)
        json = jsonio_loadb(req->body, req->body_len, 0, &jerr, oom);
    if (*oom)
        return false;
    v.method = req->method;
    v.path = req->path;
    v.authorization = req->authorization;
    v.body = req->body;
    v.body_len = req->body_len;
    v.json = json;
    v.key = key != NULL ? key->key : NULL;
    v.plan = key != NULL ? app->fx->plans[key->plan].name : NULL;
    v.header = req->header;
    v.header_ctx = req->header_ctx;
    found = early ? rules_find_early(set, &v, hit) : rules_find(set, &v, hit);
    req->json = json; /* router_dispatch frees it */
    return found;
}

const char *request_query(const struct request *req, const char *name)
{
    if (req->query == NULL)
        return NULL;
    return req->query(req->header_ctx, name);
}

const char *request_header(const struct request *req, const char *name)
{
    if (req->header == NULL)
        return strcasecmp(name, "Authorization") == 0 ? req->authorization
                                                      : NULL;
    return req->header(req->header_ctx, name);
}

void router_dispatch(struct app *app, struct request *req,
                     struct response *resp)
{
    const struct route *rt = NULL;
    struct rules *set = NULL;
    struct rule_hit hit;
    struct api_error e;
    bool wrong_method, oom;
    char allow[64];

    e.kind = API_ERR_NONE;
    if (req->body_too_large) {
        api_error_set(&e, API_ERR_BODY_TOO_LARGE, NULL, NULL,
                      "Request body too large: the limit is %zu bytes.",
                      app->max_body);
        goto out;
    }
    /* The token guards the whole of /_nexus/, so that a caller without it
     * learns nothing of the routes there. */
    if (app->admin && strncmp(req->path, "/_nexus/", 8) == 0 &&
        admin_authorize(app, req, &e) != 0)
        goto out;
    /* Scripted rules answer before any handler, on any path but the admin
     * API's (served or not): the early ones before authentication too, as
     * a plain HTTP server would (no key, no limit, no x-ratelimit-*); a
     * completion rule leaves the answer to the chat handler. */
    set = strncmp(req->path, "/_nexus/", 8) != 0 ? router_rules(app) : NULL;
    if (rule_find(app, req, set, true, &hit, &oom)) {
        rule_name(req, set, &hit);
        answer_status(app, req, &hit, resp);
        goto headers;
    }
    if (oom) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory reading the request.");
        goto out;
    }
    rt = route_find(app, req, &wrong_method, allow, sizeof(allow));
    if (rt != NULL && rt->auth && authenticate(app, req, &e) != 0)
        goto out;
    if (req->key == NULL && (req->key = bearer_key(app, req)) != NULL)
        req->key_index = (size_t)(req->key - app->fx->keys);
    req->rate_counted = fixtures_rate_counted(app->fx, req->method, req->path);
    if (rule_find(app, req, set, false, &hit, &oom)) {
        rule_name(req, set, &hit);
        if (hit.answer->kind == RULE_STATUS) {
            answer_status(app, req, &hit, resp);
            goto headers;
        }
        req->hit = &hit;
    }
    if (oom) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory reading the request.");
        goto out;
    }
    if (rt == NULL && wrong_method) {
        api_error_set(&e, API_ERR_METHOD_NOT_ALLOWED, NULL, NULL,
                      "Invalid method for URL (%s %s).", req->method,
                      req->path);
        response_header(resp, "allow", "%s", allow);
        goto out;
    }
    if (rt == NULL) {
        api_error_set(&e, API_ERR_UNKNOWN_URL, NULL, NULL,
                      "Invalid URL (%s %s).", req->method, req->path);
        goto out;
    }
    rt->handler(app, req, resp);
headers:
    /* The key's standing goes with the answers of the routes that need a
     * key, and with a rule's answer to a request that gave one. */
    if (req->key != NULL && !resp->ratelimited &&
        ((rt != NULL && rt->auth) || req->rule != NULL)) {
        struct rl_limits lim = key_limits(app, req);
        struct rl_state st;

        ratelimit_peek(app->rl, req->key_index, &lim, clock_now_ms(app->clock),
                       &st);
        ratelimit_headers(resp, &st);
    }
out:
    if (e.kind != API_ERR_NONE)
        response_error(resp, &e);
    capture_request(app, req, rt, resp);
    /* The journal has copied the rule's name: the set may go now. */
    req->hit = NULL;
    req->rule = NULL;
    req->scenario = NULL;
    json_decref(req->json);
    req->json = NULL;
    rules_unref(set);
}
