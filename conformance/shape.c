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

/* The counts CompletionUsage and its details name. */
static const char *const usage_counts[] = {"prompt_tokens", "completion_tokens",
                                           "total_tokens"};
static const char *const completion_counts[] = {
    "accepted_prediction_tokens", "audio_tokens", "reasoning_tokens",
    "text_tokens", "rejected_prediction_tokens"};
static const char *const prompt_counts[] = {"audio_tokens", "cached_tokens",
                                            "text_tokens", "image_tokens",
                                            "cache_write_tokens"};

/* Notes one count (where.name) of a usage or details object. */
static void count_note(const json_t *v, const char *where, const char *name,
                       enum impact_id breaks, size_t focus,
                       struct finding_worst *w)
{
    if (v == NULL || json_is_integer(v))
        return;
    if (json_is_null(v))
        finding_note(w, FINDING_OPTIONAL, IMPACT_NONE, focus, "%s.%s is null",
                     where, name);
    else if (json_is_real(v))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "%s.%s is %g, a number but not an integer", where, name,
                     json_real_value(v));
    else
        finding_note(w, FINDING_BREAK, breaks, focus,
                     "%s.%s is %s, not a number", where, name, shape_type(v));
}

/* Notes a details object (where.name) and its counts. */
static void details_note(const json_t *usage, const char *where,
                         const char *name, const char *const *counts,
                         size_t ncounts, enum impact_id breaks, size_t focus,
                         struct finding_worst *w)
{
    const json_t *d = json_object_get(usage, name);
    char inner[160];
    size_t i;

    if (d == NULL)
        return;
    if (json_is_null(d)) {
        finding_note(w, FINDING_OPTIONAL, IMPACT_NONE, focus, "%s.%s is null",
                     where, name);
        return;
    }
    if (!json_is_object(d)) {
        finding_note(w, FINDING_BREAK, breaks, focus,
                     "%s.%s is %s, not an object", where, name, shape_type(d));
        return;
    }
    snprintf(inner, sizeof(inner), "%s.%s", where, name);
    for (i = 0; i < ncounts; i++)
        count_note(json_object_get(d, counts[i]), inner, counts[i], breaks,
                   focus, w);
}

/* Notes how a usage member departs from CompletionUsage as clients read
 * it. */
void shape_usage_note(const json_t *usage, const char *where,
                      enum impact_id breaks, size_t focus,
                      struct finding_worst *w)
{
    size_t i;

    if (usage == NULL)
        return;
    if (json_is_null(usage)) {
        finding_note(w, FINDING_OPTIONAL, IMPACT_NONE, focus, "%s is null",
                     where);
        return;
    }
    if (!json_is_object(usage)) {
        finding_note(w, FINDING_BREAK, breaks, focus, "%s is %s, not an object",
                     where, shape_type(usage));
        return;
    }
    for (i = 0; i < sizeof(usage_counts) / sizeof(usage_counts[0]); i++)
        count_note(json_object_get(usage, usage_counts[i]), where,
                   usage_counts[i], breaks, focus, w);
    details_note(usage, where, "completion_tokens_details", completion_counts,
                 sizeof(completion_counts) / sizeof(completion_counts[0]),
                 breaks, focus, w);
    details_note(usage, where, "prompt_tokens_details", prompt_counts,
                 sizeof(prompt_counts) / sizeof(prompt_counts[0]), breaks,
                 focus, w);
}

/* Notes how system_fingerprint and service_tier depart from the spec. */
void shape_extras_note(const json_t *obj, const char *where, size_t focus,
                       struct finding_worst *w)
{
    const json_t *v = json_object_get(obj, "system_fingerprint");

    if (json_is_null(v))
        finding_note(w, FINDING_OPTIONAL, IMPACT_NONE, focus,
                     "%ssystem_fingerprint is null", where);
    else if (v != NULL && !json_is_string(v))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "%ssystem_fingerprint is %s, not a string", where,
                     shape_type(v));
    v = json_object_get(obj, "service_tier");
    if (v != NULL && !service_tier_ok(v))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "%sservice_tier is %s%s, not auto, default, flex, "
                     "scale, priority, fast or null",
                     where, json_is_string(v) ? "" : shape_type(v),
                     json_is_string(v) ? json_string_value(v) : "");
}
