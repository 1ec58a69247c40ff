/* fuzz_fixtures: the fixture loader (libyaml, then the fixture language's
 * checks) on arbitrary bytes: it loads them or says where they are wrong;
 * a fixture that loads has its rules matched against a few requests (the
 * matcher, regular expressions and JSON pointers included) and their
 * templates rendered. */
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

/* Header lookup for the match views: one header. */
static const char *one_header(const void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "X-Test") == 0 ? "1" : NULL;
}

/* Matches each request against the rules, twice (scenarios step), and
 * renders the template of each rule that answers. */
static void check_rules(struct rules *set)
{
    struct match_view v;
    struct rule_hit hit;
    struct template_vars vars = {"last", "m", 1, 1, 0};
    json_t *json;
    char *text;
    size_t i, k;

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
        v.header = one_header;
        for (k = 0; k < 2; k++) {
            if (!rules_find(set, &v, &hit))
                continue;
            fuzz_require(hit.count >= 1, "a rule that answers counts");
            if (hit.answer->tmpl != NULL) {
                text = template_render(hit.answer->tmpl, &vars);
                fuzz_require(text != NULL, "a template renders");
                free(text);
            }
        }
        json_decref(json);
    }
}

/* A loaded fixture keeps the promises the server relies on. */
static void check_loaded(const struct fixtures *fx)
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
    check_rules(fx->rules);
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
        check_loaded(fx);
    } else {
        fuzz_require(fx == NULL, "a failed load returns nothing");
        fuzz_require(memchr(err.message, '\0', sizeof(err.message)) != NULL &&
                         err.message[0] != '\0',
                     "a failed load says why");
        fuzz_require(err.line >= 0 && err.column >= 0,
                     "an error position is not negative");
    }
    fixtures_free(fx);
    free(copy);
    return 0;
}
