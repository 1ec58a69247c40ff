/* checks_format: the format group: response_format json_object and
 * json_schema are honoured (the reply parses, and fits the schema) or
 * refused. */
#include "checks_format.h"

#include <string.h>

#include "evidence.h"
#include "exchange.h"
#include "shape.h"

enum { FMT_OBJECT, FMT_SCHEMA };

static const struct check_def checks[] = {
    [FMT_OBJECT] = {"format.json-object", LEVEL_MUST, BASIS_CLIENT,
                    "With response_format json_object the reply's content "
                    "MUST parse as one JSON object, or the request MUST be "
                    "refused with 400",
                    "docs/api.md#response-format; "
                    "docs/client-behaviour.md#tools",
                    IMPACT_FORMAT_JSON},
    [FMT_SCHEMA] = {"format.json-schema", LEVEL_SHOULD, BASIS_SPEC,
                    "With response_format json_schema (strict) the reply's "
                    "content SHOULD parse and fit the schema sent, or the "
                    "request SHOULD be refused with 400",
                    "docs/api.md#response-format", IMPACT_NONE},
};

/* The schema json_schema sends: two members, both required, no other. */
static const char schema_text[] =
    "{\"type\":\"object\",\"properties\":{\"greeting\":{\"type\":\"string\"},"
    "\"words\":{\"type\":\"integer\"}},\"required\":[\"greeting\",\"words\"],"
    "\"additionalProperties\":false}";

/* The request of check k. New reference. */
static json_t *format_body(const char *model, int k)
{
    json_t *format;

    if (k == FMT_OBJECT)
        format = json_pack("{s:s}", "type", "json_object");
    else
        format = json_pack("{s:s, s:{s:s, s:b, s:o}}", "type", "json_schema",
                           "json_schema", "name", "greeting", "strict", 1,
                           "schema", json_loads(schema_text, 0, NULL));
    return json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:o}", "model", model,
                     "messages", "role", "system", "content",
                     "You answer in JSON only.", "role", "user", "content",
                     k == FMT_OBJECT
                         ? "Give a JSON object with one key, greeting, whose "
                           "value is a short greeting."
                         : "Greet me, and say how many words your greeting "
                           "has.",
                     "response_format", format);
}

/* True when v is of the JSON Schema type name. */
static bool type_is(const json_t *v, const char *name)
{
    return (strcmp(name, "object") == 0 && json_is_object(v)) ||
           (strcmp(name, "array") == 0 && json_is_array(v)) ||
           (strcmp(name, "string") == 0 && json_is_string(v)) ||
           (strcmp(name, "integer") == 0 && shape_is_int(v)) ||
           (strcmp(name, "number") == 0 && json_is_number(v)) ||
           (strcmp(name, "boolean") == 0 && json_is_boolean(v)) ||
           (strcmp(name, "null") == 0 && json_is_null(v));
}

/* Says in why where v does not fit schema, or returns true. Knows the
 * keywords of the schema above: type, properties, required and
 * additionalProperties false. */
static bool fits(const json_t *schema, const json_t *v, const char *at,
                 char *why, size_t n)
{
    const char *type = json_string_value(json_object_get(schema, "type"));
    const json_t *props = json_object_get(schema, "properties"), *req, *sub;
    const char *key;
    char path[128];
    size_t i;
    bool ok = false;

    if (type != NULL && !type_is(v, type)) {
        snprintf(why, n, "%s is %s, not %s", at, shape_type(v), type);
        goto out;
    }
    json_array_foreach(json_object_get(schema, "required"), i, req)
    {
        if (json_object_get(v, json_string_value(req)) == NULL) {
            snprintf(why, n, "%s lacks the required member %s", at,
                     json_string_value(req));
            goto out;
        }
    }
    json_object_foreach((json_t *)v, key, sub)
    {
        snprintf(path, sizeof(path), "%s.%s", at, key);
        if (json_object_get(props, key) != NULL) {
            if (!fits(json_object_get(props, key), sub, path, why, n))
                goto out;
        } else if (json_is_false(
                       json_object_get(schema, "additionalProperties"))) {
            snprintf(why, n, "%s is not in the schema", path);
            goto out;
        }
    }
    ok = true;
out:
    return ok;
}

/* Sends the request of check k and judges its reply. */
static void judge(struct conform *c, int k)
{
    const struct check_def *d = &checks[k];
    struct exchange x;
    json_t *parsed = NULL, *schema = NULL;
    const char *content;
    char why[256];
    json_error_t e;

    exchange_init(&x);
    exchange_send(c, &x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key),
                  format_body(conform_model(c), k), NULL, false);
    if (exchange_status_is(&x, 400)) {
        /* Refused: the format is not supported, and the body says so. */
        exchange_expect_error(c, d, &x, 400);
        goto out;
    }
    content = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(x.json, "choices"), 0),
                        "message"),
        "content"));
    if (!exchange_status_is(&x, 200) || content == NULL) {
        conform_fail(c, d, exchange_evidence(&x, x.json_error_offset),
                     "the request got %s and no reply text, so the check "
                     "could not run",
                     conform_describe(c, &x.resp));
        goto out;
    }
    parsed = json_loads(content, JSON_DECODE_ANY, &e);
    schema = json_loads(schema_text, 0, NULL);
    if (!json_is_object(parsed)) {
        conform_violation(c, d, exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                          "the content \"%.120s\" is %s%s", content,
                          parsed != NULL ? "JSON, but not an object"
                                         : "not JSON: ",
                          parsed != NULL ? "" : e.text);
    } else if (k == FMT_SCHEMA &&
               !fits(schema, parsed, "content", why, sizeof(why))) {
        conform_violation(c, d, exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                          "the content \"%.120s\" does not fit the schema: "
                          "%s",
                          content, why);
    } else {
        conform_pass(c, d, exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                     "the content is %s: %.120s",
                     k == FMT_SCHEMA ? "JSON that fits the schema"
                                     : "a JSON object",
                     content);
    }
out:
    json_decref(parsed);
    json_decref(schema);
    exchange_cleanup(&x);
}

/* Runs the group: json_object, then json_schema. */
static void run(struct conform *c)
{
    judge(c, FMT_OBJECT);
    judge(c, FMT_SCHEMA);
}

const struct group_def group_format = {
    .name = "format",
    .about = "response_format json_object and json_schema: honoured or "
             "refused",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = NULL,
    .run = run,
};
