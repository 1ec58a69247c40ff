/* admin: the /_nexus/ control routes for tests and tools (the clock, health,
 * state, reset), served only with --admin, and the policy that guards
 * them. The journal's routes are in requests.c and retries.c. */
#include "admin.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "billing.h"
#include "clock.h"
#include "fixtures.h"
#include "journal.h"
#include "jsonio.h"
#include "options.h"
#include "ratelimit.h"
#include "routes.h"
#include "rules.h"
#include "scenario.h"

#define ADMIN_MAX_ADVANCE_MS INT64_C(315360000000)  /* ten years */
#define ADMIN_MAX_OFFSET_MS UINT64_C(3153600000000) /* a century */

bool admin_host_is_loopback(const char *host)
{
    char bare[64];
    struct in_addr a4;
    struct in6_addr a6;
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        if (n - 2 >= sizeof(bare))
            return false;
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
        host = bare;
    }
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) != 1)
        return false;
    if (IN6_IS_ADDR_LOOPBACK(&a6))
        return true;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

int admin_check_exposure(const char *host, bool admin, const char *token,
                         char *cause, size_t causelen)
{
    if (token != NULL && !admin) {
        snprintf(cause, causelen,
                 "--admin-token guards the control API: it needs --admin");
        return -1;
    }
    if (admin && token == NULL && !admin_host_is_loopback(host)) {
        snprintf(cause, causelen,
                 "--admin on '%s', which is not a loopback address, needs "
                 "--admin-token TOKEN: anyone who reaches the mock could "
                 "otherwise reset it and read its requests",
                 host);
        return -1;
    }
    return 0;
}

/* Compares a and b in time that depends on their lengths only. */
static bool same_secret(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b), i;
    unsigned char diff = na != nb;

    for (i = 0; i < na; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
    return diff == 0 && nb > 0;
}

int admin_authorize(const struct app *app, const struct request *req,
                    struct api_error *e)
{
    const char *given = request_header(req, ADMIN_TOKEN_HEADER);
    const char *auth = req->authorization;

    if (app->admin_token == NULL)
        return 0;
    if (given == NULL && auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0) {
        given = auth + 7;
        while (*given == ' ')
            given++;
    }
    if (given == NULL) {
        api_error_set(e, API_ERR_MISSING_KEY, NULL, NULL,
                      "The control API needs the admin token: send "
                      "Authorization: Bearer TOKEN or " ADMIN_TOKEN_HEADER
                      ": TOKEN.");
        return -1;
    }
    if (!same_secret(given, app->admin_token)) {
        api_error_set(e, API_ERR_INVALID_KEY, NULL, "invalid_admin_token",
                      "Incorrect admin token for the control API.");
        return -1;
    }
    return 0;
}

int admin_query_uint(const struct request *req, const char *name,
                     unsigned long long min, unsigned long long max,
                     unsigned long long *out, struct api_error *e)
{
    const char *v = request_query(req, name);

    if (v == NULL)
        return 0;
    if (options_parse_uint(v, min, max, out) != 0) {
        api_error_set(e, API_ERR_INVALID_REQUEST, name, "invalid_value",
                      "The query argument '%s' must be a whole number from "
                      "%llu to %llu.",
                      name, min, max);
        return -1;
    }
    return 0;
}

int admin_query_key(const struct app *app, const struct request *req,
                    bool *by_key, size_t *key_index, struct api_error *e)
{
    const char *v = request_query(req, "key");
    const struct fx_key *k;

    *by_key = false;
    if (v == NULL)
        return 0;
    k = fixtures_find_key(app->fx, v);
    if (k == NULL) {
        api_error_set(e, API_ERR_INVALID_REQUEST, "key", "invalid_value",
                      "The query argument 'key' must be one of the fixture's "
                      "API keys.");
        return -1;
    }
    *by_key = true;
    *key_index = (size_t)(k - app->fx->keys);
    return 0;
}

void admin_oom(struct response *resp)
{
    struct api_error e;

    api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                  "The server ran out of memory answering.");
    response_error(resp, &e);
}

/* Reads req's body as a JSON object into *out (new reference); an empty
 * body is an empty object when empty_ok. Returns 0, or -1 with resp set to
 * the 400. */
static int body_object(const struct request *req, bool empty_ok, json_t **out,
                       struct response *resp)
{
    json_error_t jerr;
    struct api_error e;
    bool oom = false;

    *out = NULL;
    if (req->body_len == 0 && empty_ok) {
        *out = json_object();
        if (*out != NULL)
            return 0;
        api_error_set(&e, API_ERR_SERVER, NULL, NULL, "Out of memory.");
        response_error(resp, &e);
        return -1;
    }
    *out =
        jsonio_loadb(req->body ? req->body : "", req->body_len, 0, &jerr, &oom);
    if (*out == NULL && oom) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory reading the request.");
        response_error(resp, &e);
        return -1;
    }
    if (*out == NULL) {
        api_error_set(&e, API_ERR_INVALID_JSON, NULL, NULL,
                      "We could not parse the JSON body of your request: %s "
                      "(line %d, column %d).",
                      jerr.text, jerr.line, jerr.column);
        response_error(resp, &e);
        return -1;
    }
    if (!json_is_object(*out)) {
        api_error_set(&e, API_ERR_INVALID_REQUEST, NULL, "invalid_type",
                      "Expected a JSON object as the body.");
        response_error(resp, &e);
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

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

/* GET /_nexus/health: the mock is up. */
static void admin_health(struct app *app, struct request *req,
                         struct response *resp)
{
    (void)req;
    response_json(resp, 200,
                  json_pack("{s:s, s:s, s:I}", "status", "ok", "version",
                            NEXUS_VERSION, "uptime_ms",
                            (json_int_t)(clock_real_ms() - app->started_ms)));
}

/* The decimal text of a pico-USD amount, as a JSON string (exact, where a
 * JSON number would be read as a double). */
static json_t *usd_string(int64_t pico)
{
    char text[48];

    billing_format_usd(pico, text, sizeof(text));
    return json_string(text);
}

/* A limit as JSON: the number, or null for "no limit" (0). */
static json_t *limit_or_null(bool limited, uint32_t value)
{
    return limited ? json_integer((json_int_t)value) : json_null();
}

/* The state of key i: its account and its rate-limit window. NULL on OOM. */
static json_t *key_state(struct app *app, size_t i, uint64_t now)
{
    const struct fx_key *k = &app->fx->keys[i];
    struct rl_limits lim = router_key_limits(app, i);
    struct billing_account a;
    struct rl_state st;
    char masked[64], when[40];

    memset(&a, 0, sizeof(a));
    billing_get(app->billing, i, &a);
    ratelimit_peek(app->rl, i, &lim, now, &st);
    journal_mask(k->key, false, masked, sizeof(masked));
    journal_format_time(a.last_updated_ms, when, sizeof(when));
    return json_pack(
        "{s:I, s:s, s:s, s:o, s:o, s:o, s:s, s:{s:o, s:o, s:I, s:I, s:o, "
        "s:o, s:I, s:I}}",
        "key_index", (json_int_t)i, "key", masked, "plan",
        app->fx->plans[k->plan].name, "balance", usd_string(a.balance),
        "total_spent", usd_string(a.spent), "reserved", usd_string(a.reserved),
        "last_updated", when, "rate_limit", "requests_per_minute",
        limit_or_null(st.limit_requests, st.limit_req), "tokens_per_minute",
        limit_or_null(st.limit_tokens, st.limit_tok), "used_requests",
        (json_int_t)st.used_req, "used_tokens", (json_int_t)st.used_tok,
        "remaining_requests",
        limit_or_null(st.limit_requests, st.remaining_req), "remaining_tokens",
        limit_or_null(st.limit_tokens, st.remaining_tok), "resets_in_ms",
        (json_int_t)(st.reset_req_ms > st.reset_tok_ms ? st.reset_req_ms
                                                       : st.reset_tok_ms),
        "window_ms", (json_int_t)app->fx->window_ms);
}

/* The journal's figures as JSON; null without a journal. */
static json_t *journal_state(struct journal *j)
{
    struct journal_stats s;

    if (j == NULL)
        return json_null();
    journal_get_stats(j, &s);
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "entries",
        (json_int_t)s.entries, "bytes", (json_int_t)s.bytes, "max_bytes",
        (json_int_t)s.max_bytes, "body_max", (json_int_t)s.body_max,
        "in_flight", (json_int_t)s.in_flight, "evicted", (json_int_t)s.evicted,
        "dropped", (json_int_t)s.dropped, "last_id", (json_int_t)s.last_id);
}

/* The scenarios of the rules in use as JSON: each one's name, state and
 * the calls answered in that state. NULL on OOM. */
static json_t *scenarios_state(struct app *app)
{
    struct rules *set = router_rules(app);
    struct scenarios *sc = set != NULL ? rules_scenarios(set) : NULL;
    json_t *list = json_array();
    size_t i, n = sc != NULL ? scenarios_count(sc) : 0, st;
    uint64_t calls;

    for (i = 0; list != NULL && i < n; i++) {
        scenarios_current(sc, i, &st, &calls);
        if (json_array_append_new(
                list,
                json_pack("{s:s, s:s, s:s, s:I}", "name", scenarios_name(sc, i),
                          "state", scenarios_state_name(sc, i, st), "initial",
                          scenarios_state_name(sc, i, scenarios_initial(sc, i)),
                          "calls", (json_int_t)calls)) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    rules_unref(set);
    return list;
}

/* GET /_nexus/state: every key's balance and rate-limit window, the
 * journal's size and cap, the scenarios' states, the uptime and the
 * clock. */
static void admin_state(struct app *app, struct request *req,
                        struct response *resp)
{
    json_t *keys = json_array(), *body = NULL;
    uint64_t now = clock_now_ms(app->clock), wall = clock_wall_ms(app->clock);
    char when[40];
    struct api_error e;
    size_t i;

    (void)req;
    for (i = 0; keys != NULL && i < app->fx->nkeys; i++)
        if (json_array_append_new(keys, key_state(app, i, now)) != 0) {
            json_decref(keys);
            keys = NULL;
        }
    journal_format_time(wall, when, sizeof(when));
    if (keys != NULL)
        body = json_pack("{s:s, s:I, s:{s:s, s:I, s:I}, s:o, s:o}", "object",
                         "nexus.state", "uptime_ms",
                         (json_int_t)(clock_real_ms() - app->started_ms),
                         "clock", "now", when, "now_unix_ms", (json_int_t)wall,
                         "offset_ms", (json_int_t)clock_offset_ms(app->clock),
                         "keys", keys, "journal", journal_state(app->journal));
    else
        json_decref(keys);
    if (body != NULL &&
        json_object_set_new(body, "scenarios", scenarios_state(app)) != 0) {
        json_decref(body);
        body = NULL;
    }
    if (body == NULL) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL, "Out of memory.");
        response_error(resp, &e);
        return;
    }
    response_json(resp, 200, body);
}

/* What a reset part resets, for every key (key == JOURNAL_ALL_KEYS) or one,
 * at now (unix ms); returns how many things it reset (keys, entries). */
typedef size_t (*reset_fn)(struct app *app, size_t key, uint64_t now);

static size_t reset_balances(struct app *app, size_t key, uint64_t now)
{
    return billing_reset(app->billing, app->fx,
                         key == JOURNAL_ALL_KEYS ? BILLING_ALL_KEYS : key, now);
}

static size_t reset_rate_limits(struct app *app, size_t key, uint64_t now)
{
    (void)now;
    return ratelimit_reset(app->rl,
                           key == JOURNAL_ALL_KEYS ? RATELIMIT_ALL_KEYS : key);
}

static size_t reset_journal(struct app *app, size_t key, uint64_t now)
{
    (void)now;
    return app->journal != NULL ? journal_clear(app->journal, key) : 0;
}

/* Puts every scenario of the rules in use back in its initial state; they
 * belong to no key, so a reset of one key leaves them. */
static size_t reset_scenarios(struct app *app, size_t key, uint64_t now)
{
    struct rules *set = key == JOURNAL_ALL_KEYS ? router_rules(app) : NULL;
    size_t n = 0;

    (void)now;
    if (set != NULL) {
        n = scenarios_count(rules_scenarios(set));
        scenarios_reset(rules_scenarios(set), NULL);
    }
    rules_unref(set);
    return n;
}

/* The parts of the mock's state POST /_nexus/reset knows, in the order it
 * resets them. The extension point for state other modules keep: the
 * fixture language's scenarios join as {"scenarios", reset_scenarios}. */
static const struct {
    const char *name;
    reset_fn reset;
} reset_parts[] = {
    {"balances", reset_balances},
    {"rate_limits", reset_rate_limits},
    {"journal", reset_journal},
    {"scenarios", reset_scenarios},
};

#define NRESET_PARTS (sizeof(reset_parts) / sizeof(reset_parts[0]))

/* Reads the "parts" member of a reset body into want[] (all when absent).
 * Returns 0, or -1 with e set. */
static int reset_want(const json_t *parts, bool want[NRESET_PARTS],
                      struct api_error *e)
{
    size_t i, k;
    const json_t *p;

    for (k = 0; k < NRESET_PARTS; k++)
        want[k] = parts == NULL;
    if (parts == NULL)
        return 0;
    if (!json_is_array(parts) || json_array_size(parts) == 0) {
        api_error_set(e, API_ERR_INVALID_REQUEST, "parts", "invalid_type",
                      "Expected 'parts' to be a non-empty array of: "
                      "balances, rate_limits, journal, scenarios.");
        return -1;
    }
    json_array_foreach(parts, i, p)
    {
        const char *name = json_string_value(p);

        for (k = 0; name != NULL && k < NRESET_PARTS; k++)
            if (strcmp(name, reset_parts[k].name) == 0)
                break;
        if (name == NULL || k == NRESET_PARTS) {
            api_error_set(e, API_ERR_INVALID_REQUEST, "parts", "invalid_value",
                          "parts[%zu] is not one of: balances, rate_limits, "
                          "journal, scenarios.",
                          i);
            return -1;
        }
        want[k] = true;
    }
    return 0;
}

/* POST /_nexus/reset {"scenario": NAME, "parts"?}: puts that one scenario
 * of the rules in use back in its initial state. Scenarios belong to no
 * key, so "key" cannot come with it, and "parts", if given, may name only
 * scenarios. Returns 0, or -1 with e set. */
static int reset_one_scenario(struct app *app, const json_t *body,
                              const json_t *scenario, struct response *resp,
                              struct api_error *e)
{
    const json_t *parts = json_object_get(body, "parts");
    struct rules *set = NULL;
    const char *name = json_string_value(scenario);
    int rc = -1;

    if (json_object_get(body, "key") != NULL) {
        api_error_set(e, API_ERR_INVALID_REQUEST, "key", "invalid_value",
                      "'key' cannot come with 'scenario': scenarios belong "
                      "to no key.");
        goto out;
    }
    if (parts != NULL && (json_array_size(parts) != 1 ||
                          !json_is_string(json_array_get(parts, 0)) ||
                          strcmp(json_string_value(json_array_get(parts, 0)),
                                 "scenarios") != 0)) {
        api_error_set(e, API_ERR_INVALID_REQUEST, "parts", "invalid_value",
                      "With 'scenario', 'parts' may only be [\"scenarios\"].");
        goto out;
    }
    set = router_rules(app);
    if (name == NULL || set == NULL ||
        scenarios_reset(rules_scenarios(set), name) != 0) {
        api_error_set(e, API_ERR_INVALID_REQUEST, "scenario", "invalid_value",
                      "'scenario' must name a scenario of the rules in use "
                      "(GET /_nexus/state lists them).");
        goto out;
    }
    response_json(resp, 200,
                  json_pack("{s:{s:i}, s:n, s:s}", "reset", "scenarios", 1,
                            "key_index", "scenario", name));
    rc = 0;
out:
    rules_unref(set);
    return rc;
}

/* POST /_nexus/reset {"key": KEY?, "parts": [...]?}: puts the balances
 * back to the fixture's, closes the rate-limit windows and empties the
 * journal, for every key or one, every part or those named; with
 * {"scenario": NAME}, only that scenario. */
static void admin_reset(struct app *app, struct request *req,
                        struct response *resp)
{
    json_t *body = NULL, *done = NULL, *v;
    bool want[NRESET_PARTS];
    size_t key = JOURNAL_ALL_KEYS, k;
    const struct fx_key *fk;
    const char *name;
    struct api_error e;
    uint64_t now = clock_wall_ms(app->clock);

    e.kind = API_ERR_NONE;
    if (body_object(req, true, &body, resp) != 0)
        goto out;
    json_object_foreach(body, name, v)
    {
        if (strcmp(name, "key") != 0 && strcmp(name, "parts") != 0 &&
            strcmp(name, "scenario") != 0) {
            api_error_set(&e, API_ERR_INVALID_REQUEST, name,
                          "unknown_parameter",
                          "Unrecognized request argument supplied: %s "
                          "(expected 'key', 'scenario' and 'parts').",
                          name);
            goto out;
        }
    }
    v = json_object_get(body, "scenario");
    if (v != NULL) {
        (void)reset_one_scenario(app, body, v, resp, &e);
        goto out;
    }
    v = json_object_get(body, "key");
    if (v != NULL) {
        fk = json_is_string(v)
                 ? fixtures_find_key(app->fx, json_string_value(v))
                 : NULL;
        if (fk == NULL) {
            api_error_set(&e, API_ERR_INVALID_REQUEST, "key", "invalid_value",
                          "'key' must be one of the fixture's API keys.");
            goto out;
        }
        key = (size_t)(fk - app->fx->keys);
    }
    if (reset_want(json_object_get(body, "parts"), want, &e) != 0)
        goto out;
    done = json_object();
    for (k = 0; done != NULL && k < NRESET_PARTS; k++)
        if (want[k] &&
            json_object_set_new(done, reset_parts[k].name,
                                json_integer((json_int_t)reset_parts[k].reset(
                                    app, key, now))) != 0) {
            json_decref(done);
            done = NULL;
        }
    if (done == NULL) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL, "Out of memory.");
        goto out;
    }
    response_json(resp, 200,
                  json_pack("{s:o, s:o}", "reset", done, "key_index",
                            key == JOURNAL_ALL_KEYS
                                ? json_null()
                                : json_integer((json_int_t)key)));
out:
    if (e.kind != API_ERR_NONE)
        response_error(resp, &e);
    json_decref(body);
}

const struct route route_admin_clock = {.name = "admin.clock",
                                        .method = "POST",
                                        .path = "/_nexus/clock",
                                        .admin = true,
                                        .handler = admin_clock};
const struct route route_admin_health = {.name = "admin.health",
                                         .method = "GET",
                                         .path = "/_nexus/health",
                                         .admin = true,
                                         .handler = admin_health};
const struct route route_admin_state = {.name = "admin.state",
                                        .method = "GET",
                                        .path = "/_nexus/state",
                                        .admin = true,
                                        .handler = admin_state};
const struct route route_admin_reset = {.name = "admin.reset",
                                        .method = "POST",
                                        .path = "/_nexus/reset",
                                        .admin = true,
                                        .handler = admin_reset};
