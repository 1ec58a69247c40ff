/* shape: small readers that say, in words, how a JSON value departs from
 * the shape the OpenAI spec gives it. */
#include "shape.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Parses a whole body as JSON. */
json_t *shape_parse(const char *bytes, size_t len, char *why, size_t n,
                    size_t *offset)
{
    json_error_t e;
    json_t *v;

    v = json_loadb(bytes != NULL ? bytes : "", len,
                   JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (v == NULL) {
        snprintf(why, n, "not JSON: %s at byte %d", e.text, e.position);
        *offset = e.position > 0 ? (size_t)e.position - 1 : 0;
    }
    return v;
}

/* "string", "integer", "number", "object", "array", "boolean", "null", or
 * "missing" for NULL. */
const char *shape_type(const json_t *v)
{
    static const char *const names[] = {
        [JSON_OBJECT] = "object", [JSON_ARRAY] = "array",
        [JSON_STRING] = "string", [JSON_INTEGER] = "integer",
        [JSON_REAL] = "number",   [JSON_TRUE] = "boolean",
        [JSON_FALSE] = "boolean", [JSON_NULL] = "null",
    };

    return v == NULL ? "missing" : names[json_typeof(v)];
}

/* True when v is a JSON integer (not 1.0). */
bool shape_is_int(const json_t *v)
{
    return v != NULL && json_is_integer(v);
}

/* True when v is an integer or a real. */
bool shape_is_number(const json_t *v)
{
    return v != NULL && json_is_number(v);
}

/* True when v is a non-negative integer. */
bool shape_is_count(const json_t *v)
{
    return shape_is_int(v) && json_integer_value(v) >= 0;
}

/* True when body is {"error":{"message":string,"type":string,
 * "param":string|null,"code":string|null}}; otherwise says why. */
bool shape_error_body(const json_t *body, char *why, size_t n)
{
    static const char *const nullable[] = {"param", "code"};
    json_t *err, *v;
    bool ok = false;
    size_t i;

    if (!json_is_object(body)) {
        snprintf(why, n, "the body is a JSON %s, not an object",
                 shape_type(body));
        goto out;
    }
    err = json_object_get(body, "error");
    if (!json_is_object(err)) {
        snprintf(why, n, "\"error\" is %s, not an object", shape_type(err));
        goto out;
    }
    v = json_object_get(err, "message");
    if (!json_is_string(v)) {
        snprintf(why, n, "error.message is %s, not a string", shape_type(v));
        goto out;
    }
    v = json_object_get(err, "type");
    if (!json_is_string(v)) {
        snprintf(why, n, "error.type is %s, not a string", shape_type(v));
        goto out;
    }
    for (i = 0; i < 2; i++) {
        v = json_object_get(err, nullable[i]);
        if (v == NULL || !(json_is_string(v) || json_is_null(v))) {
            snprintf(why, n, "error.%s is %s, not a string or null",
                     nullable[i], shape_type(v));
            goto out;
        }
    }
    ok = true;
out:
    return ok;
}

/* Returns error.<field> of an error body as a string, or NULL. */
const char *shape_error_field(const json_t *body, const char *field)
{
    json_t *err = json_object_get(body, "error");

    return json_string_value(json_object_get(err, field));
}

/* True when the media type of a Content-Type value is type (parameters such
 * as charset ignored, any case). */
bool shape_media_type(const char *content_type, const char *type)
{
    size_t n = strlen(type);
    const char *rest;
    bool ok = false;

    if (content_type == NULL || strncasecmp(content_type, type, n) != 0)
        goto out;
    rest = content_type + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    ok = *rest == '\0' || *rest == ';';
out:
    return ok;
}

/* True when s is one of the finish_reason values the spec allows. */
bool shape_finish_reason(const char *s)
{
    static const char *const allowed[] = {"stop", "length", "tool_calls",
                                          "content_filter", "function_call"};
    bool found = false;
    size_t i;

    for (i = 0; s != NULL && !found && i < sizeof(allowed) / sizeof(allowed[0]);
         i++)
        found = strcmp(s, allowed[i]) == 0;
    return found;
}

/* True when v is a string or null. */
static bool string_or_null(const json_t *v)
{
    return json_is_string(v) || json_is_null(v);
}

/* Checks the members a response message and a stream delta share. */
bool shape_message_members(const json_t *msg, char *why, size_t n)
{
    static const char *const texts[] = {"content", "refusal"};
    const json_t *v;
    bool ok = false;
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        v = json_object_get(msg, texts[i]);
        if (v != NULL && !string_or_null(v)) {
            snprintf(why, n, "%s is %s, not a string or null", texts[i],
                     shape_type(v));
            goto out;
        }
    }
    v = json_object_get(msg, "tool_calls");
    if (v != NULL && !json_is_array(v)) {
        snprintf(why, n, "tool_calls is %s, not an array", shape_type(v));
        goto out;
    }
    ok = true;
out:
    return ok;
}

/* True when v is null or one of the ServiceTier strings. */
static bool service_tier_ok(const json_t *v)
{
    static const char *const tiers[] = {"auto",  "default",  "flex",
                                        "scale", "priority", "fast"};
    const char *s = json_string_value(v);
    bool found = json_is_null(v);
    size_t i;

    for (i = 0; s != NULL && !found && i < sizeof(tiers) / sizeof(tiers[0]);
         i++)
        found = strcmp(s, tiers[i]) == 0;
    return found;
}

/* Checks the optional members a completion and a chunk share. */
bool shape_response_extras(const json_t *obj, char *why, size_t n)
{
    const json_t *v;
    bool ok = false;

    v = json_object_get(obj, "system_fingerprint");
    if (v != NULL && !json_is_string(v)) {
        snprintf(why, n, "system_fingerprint is %s, not a string",
                 shape_type(v));
        goto out;
    }
    v = json_object_get(obj, "service_tier");
    if (v != NULL && !service_tier_ok(v)) {
        snprintf(why, n,
                 "service_tier is %s%s, not auto, default, flex, scale, "
                 "priority, fast or null",
                 json_is_string(v) ? "" : shape_type(v),
                 json_is_string(v) ? json_string_value(v) : "");
        goto out;
    }
    ok = true;
out:
    return ok;
}

/* Checks that the counts a details object may carry are integers. */
static bool details_ok(const json_t *usage, const char *name,
                       const char *const *counts, size_t ncounts, char *why,
                       size_t n)
{
    const json_t *d = json_object_get(usage, name), *v;
    bool ok = false;
    size_t i;

    if (d == NULL || json_is_null(d)) {
        /* Not in the spec, but common, and it holds no count to misread. */
        ok = true;
        goto out;
    }
    if (!json_is_object(d)) {
        snprintf(why, n, "usage.%s is %s, not an object", name, shape_type(d));
        goto out;
    }
    for (i = 0; i < ncounts; i++) {
        v = json_object_get(d, counts[i]);
        if (v != NULL && !shape_is_int(v)) {
            snprintf(why, n, "usage.%s.%s is %s, not an integer", name,
                     counts[i], shape_type(v));
            goto out;
        }
    }
    ok = true;
out:
    return ok;
}

/* Checks a CompletionUsage. */
bool shape_usage(const json_t *usage, char *why, size_t n)
{
    static const char *const required[] = {"prompt_tokens", "completion_tokens",
                                           "total_tokens"};
    static const char *const completion[] = {
        "accepted_prediction_tokens", "audio_tokens", "reasoning_tokens",
        "text_tokens", "rejected_prediction_tokens"};
    static const char *const prompt[] = {"audio_tokens", "cached_tokens",
                                         "text_tokens", "image_tokens",
                                         "cache_write_tokens"};
    const json_t *v;
    bool ok = false;
    size_t i;

    if (!json_is_object(usage)) {
        snprintf(why, n, "usage is %s, not an object", shape_type(usage));
        goto out;
    }
    for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        v = json_object_get(usage, required[i]);
        if (!shape_is_int(v)) {
            snprintf(why, n, "usage.%s is %s, not an integer", required[i],
                     shape_type(v));
            goto out;
        }
    }
    ok = details_ok(usage, "completion_tokens_details", completion,
                    sizeof(completion) / sizeof(completion[0]), why, n) &&
         details_ok(usage, "prompt_tokens_details", prompt,
                    sizeof(prompt) / sizeof(prompt[0]), why, n);
out:
    return ok;
}
