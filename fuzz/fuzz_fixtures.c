/* fuzz_fixtures: the fixture loader (libyaml, then the fixture language's
 * checks) on arbitrary bytes: it loads them or says where they are wrong;
 * the --check loader, which goes on after each problem, agrees with it on
 * whether they load; a fixture that loads has its rules matched against a
 * few fixed requests and a few made from the input and the fixture's own
 * models and keys (the matcher, regular expressions and JSON pointers
 * included) and their templates rendered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "fixtures.h"
#include "fuzz.h"
#include "rules.h"
#include "template.h"

/* Requests the rules of a loaded fixture are matched against. */
static const char *const requests[] = {
    "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\","
    "\"content\":\"ping\"}]}",
    "{\"model\":\"m\",\"tools\":[{\"type\":\"function\",\"function\":{"
    "\"name\":\"f\"}}],\"messages\":[{\"role\":\"user\",\"content\":[{"
    "\"type\":\"text\",\"text\":\"a\"}]},{\"role\":\"tool\","
    "\"tool_call_id\":\"c\",\"content\":\"r\"}]}",
    "[1, 2, 3]",
    "",
};

/* Header lookup for the match views: every header has the value ctx
 * points to (NULL: none but X-Test, which is "1"). */
static const char *some_header(const void *ctx, const char *name)
{
    if (ctx != NULL)
        return ctx;
    return strcmp(name, "X-Test") == 0 ? "1" : NULL;
}

/* Matches one request (body, parsed or not) against the rules, twice
 * (scenarios step), and renders the template of each rule that answers. */
static void match_one(struct rules *set, const struct match_view *v)
{
    struct rule_hit hit;
    struct template_vars vars = {"last", "m", 1, 1, 0};
    char *text;
    size_t k;

    for (k = 0; k < 2; k++) {
        if (!rules_find(set, v, &hit))
            continue;
        fuzz_require(hit.rule != NULL && hit.count >= 1,
                     "a rule that answers counts");
        if (hit.answer->tmpl != NULL) {
            text = template_render(hit.answer->tmpl, &vars);
            fuzz_require(text != NULL, "a template renders");
            free(text);
        }
    }
}

/* Matches the fixed requests, then requests made from the input: it is
 * the last user message (and a tool's result) of a request to each of
 * the fixture's first models with its first key, streamed or not, and the
 * value of every header; and the input itself is a body. */
static void check_rules(const struct fixtures *fx, const char *input,
                        size_t len)
{
    struct match_view v;
    json_t *json, *text;
    char *body;
    size_t i;

    for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        json = json_loads(requests[i], 0, NULL);
        memset(&v, 0, sizeof(v));
        v.method = i % 2 ? "GET" : "POST";
        v.path = "/v1/chat/completions";
        v.body = requests[i];
        v.body_len = strlen(requests[i]);
        v.json = json;
        v.key = "k";
        v.plan = "p";
        v.header = some_header;
        match_one(fx->rules, &v);
        json_decref(json);
    }
    /* The input as text: the fixture's own strings are often in it. */
    text = json_stringn(input, strnlen(input, len)); /* NULL: not UTF-8 */
    for (i = 0; text != NULL && i < fx->nmodels && i < 3; i++) {
        json = json_pack("{s:s, s:b, s:[{s:s, s:O}, {s:s, s:s, s:O}]}", "model",
                         fx->models[i].id, "stream", (int)(i % 2), "messages",
                         "role", "user", "content", text, "role", "tool",
                         "tool_call_id", "call_1", "content", text);
        body = json != NULL ? json_dumps(json, JSON_COMPACT) : NULL;
        memset(&v, 0, sizeof(v));
        v.method = "POST";
        v.path = "/v1/chat/completions";
        v.body = body;
        v.body_len = body != NULL ? strlen(body) : 0;
        v.json = json;
        v.key = fx->nkeys > 0 ? fx->keys[i % fx->nkeys].key : NULL;
        v.plan =
            fx->nkeys > 0 ? fx->plans[fx->keys[i % fx->nkeys].plan].name : NULL;
        v.header = some_header;
        v.header_ctx = json_string_value(text);
        match_one(fx->rules, &v);
        free(body);
        json_decref(json);
    }
    json_decref(text);
    /* The input as a body, JSON or not. */
    json = json_loadb(input, len, 0, NULL);
    memset(&v, 0, sizeof(v));
    v.method = "POST";
    v.path = "/v1/chat/completions";
    v.body = input;
    v.body_len = len;
    v.json = json;
    match_one(fx->rules, &v);
    json_decref(json);
}

/* A loaded fixture keeps the promises the server relies on. */
static void check_loaded(const struct fixtures *fx, const char *input,
                         size_t len)
{
    struct billing *b;
    size_t i;

    for (i = 0; i < fx->nmodels; i++)
        fuzz_require(fixtures_find_model(fx, fx->models[i].id) != NULL,
                     "every model is found by its id");
    for (i = 0; i < fx->nkeys; i++) {
        fuzz_require(fx->keys[i].plan < fx->nplans, "a key's plan exists");
        fuzz_require(fx->keys[i].balance >= 0 &&
                         fx->keys[i].balance <= FX_MONEY_MAX,
                     "a balance is within 0..FX_MONEY_MAX");
        fuzz_require(fixtures_find_key(fx, fx->keys[i].key) != NULL,
                     "every key is found");
    }
    b = billing_new(fx, 0);
    fuzz_require(b != NULL, "billing opens the fixture's accounts");
    billing_free(b);
    fuzz_require(fx->rules != NULL, "a loaded fixture has a rule set");
    fuzz_require(fx->window_ms > 0, "a rate-limit window is never 0");
    check_rules(fx, input, len);
}

/* The --check loader, which goes on after each problem, agrees with the
 * loader: no problem exactly when the input loads; it writes at most its
 * cap of lines. */
static void check_collecting(const char *data, size_t size, bool loads)
{
    static FILE *sink; /* the lines go nowhere, but through stdio */
    const struct fx_check c = {NULL, 3, false};
    struct fx_check with_sink = c;
    struct fixtures *fx = NULL;
    size_t problems;
    long before, after;

    if (sink == NULL)
        sink = fopen("/dev/null", "w");
    fuzz_require(sink != NULL, "/dev/null opens");
    with_sink.report = sink;
    before = ftell(sink);
    problems = fixtures_check_buffer(data, size, "fuzz.yaml", &with_sink, &fx);
    after = ftell(sink);
    fuzz_require((problems == 0) == loads,
                 "--check finds a problem exactly when the load fails");
    fuzz_require((fx != NULL) == (problems == 0),
                 "--check returns the fixtures exactly when it finds none");
    fuzz_require(problems > 0 || after == before,
                 "--check writes nothing when it finds nothing");
    fixtures_free(fx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, not NUL-terminated, so that reading past the
     * length is caught by ASan. */
    char *copy = malloc(size ? size : 1);
    struct fixtures *fx = NULL;
    struct fixture_error err;

    fuzz_require(copy != NULL, "malloc");
    memcpy(copy, data, size);
    if (fixtures_load_buffer(copy, size, "fuzz.yaml", &fx, &err) == 0) {
        fuzz_require(fx != NULL, "a loaded fixture is returned");
        check_loaded(fx, copy, size);
    } else {
        fuzz_require(fx == NULL, "a failed load returns nothing");
        fuzz_require(memchr(err.message, '\0', sizeof(err.message)) != NULL &&
                         err.message[0] != '\0',
                     "a failed load says why");
        fuzz_require(err.line >= 0 && err.column >= 0,
                     "an error position is not negative");
    }
    check_collecting(copy, size, fx != NULL);
    fixtures_free(fx);
    free(copy);
    return 0;
}
