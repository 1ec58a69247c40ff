/* validate: the tables of chat completion parameters, and the walk over a
 * request body that checks it against them and fills a struct chat_request. */
#include "validate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "buf.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A field may be required, and may accept null in place of its value (the
 * excerpt's "nullable: true" or "anyOf [..., {type: null}]"). */
#define F_REQUIRED 0x1u
#define F_NULLABLE 0x2u

/* Metadata limits from the excerpt's Metadata description. */
#define METADATA_MAX_KEYS 16
#define METADATA_MAX_KEY_LEN 64
#define METADATA_MAX_VALUE_LEN 512

/* Function and response format names: [a-zA-Z0-9_-]{1,64}. */
#define NAME_MAX_LEN 64
#define SAFETY_ID_MAX_LEN 64
#define FUNCTIONS_MAX 128
#define LOGIT_BIAS_MIN (-100)
#define LOGIT_BIAS_MAX 100
#define TOP_LOGPROBS_MAX 20

/* The path is reported as the error's param, so it never needs more room. */
#define VPATH_SIZE sizeof(((struct api_error *)0)->param)

/* State of one validation: where we are in the body, the request being
 * filled, and the facts that the cross-parameter rules need at the end. */
struct vctx {
    struct chat_request *req;
    struct api_error *err;
    char path[VPATH_SIZE];
    size_t len;
    bool logprobs;
    bool has_top_logprobs;
    bool has_stream_options;
    bool has_max_completion_tokens;
    int64_t max_completion_tokens;
    bool has_plain_max_tokens;
    int64_t plain_max_tokens;
    const struct budget_limits *limits; /* NULL: the defaults */
    struct budget pool; /* what checking the schemas may still cost */
};

typedef int (*check_fn)(const json_t *v, struct vctx *c);

/* One property of an object: its name, flags and the check for its value. */
struct field {
    const char *name;
    unsigned flags;
    check_fn check;
};

/* One member of a union chosen by a tag property ("role", "type"). */
struct variant {
    const char *tag;
    const struct field *fields;
    size_t nfields;
};

/* Appends printf-style text to the path, truncating at the param size. */
static void path_appendf(struct vctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void path_appendf(struct vctx *c, const char *fmt, ...)
{
    size_t room = sizeof(c->path) - c->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(c->path + c->len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* Descends into property key; returns the old length for path_pop. */
static size_t path_push_key(struct vctx *c, const char *key)
{
    size_t old = c->len;

    if (old == 0)
        path_appendf(c, "%s", key);
    else
        path_appendf(c, ".%s", key);
    return old;
}

/* Descends into array element i; returns the old length for path_pop. */
static size_t path_push_index(struct vctx *c, size_t i)
{
    size_t old = c->len;

    path_appendf(c, "[%zu]", i);
    return old;
}

/* Climbs back to a length path_push_* returned. */
static void path_pop(struct vctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

/* Records an invalid-request error for the current path; returns -1 so
 * that checks can end with "return fail(...)". */
static int fail(struct vctx *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct vctx *c, const char *code, const char *fmt, ...)
{
    char msg[sizeof(c->err->message)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    api_error_set(c->err, API_ERR_INVALID_REQUEST, c->path, code, "%s", msg);
    return -1;
}

/* Names a JSON value's type the way OpenAI's messages do ("a string"). */
static const char *type_name(const json_t *v)
{
    const char *name = "null";

    if (v == NULL)
        goto out;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        name = "an object";
        break;
    case JSON_ARRAY:
        name = "an array";
        break;
    case JSON_STRING:
        name = "a string";
        break;
    case JSON_INTEGER:
        name = "an integer";
        break;
    case JSON_REAL:
        name = "a decimal";
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        name = "a boolean";
        break;
    case JSON_NULL:
        break;
    }
out:
    return name;
}

/* Fails with invalid_type; expected is a phrase such as "a number". */
static int fail_type(struct vctx *c, const json_t *v, const char *expected)
{
    return fail(c, "invalid_type",
                "Invalid type for '%s': expected %s, but got %s instead.",
                c->path, expected, type_name(v));
}

/* Fails because property key is absent from the object at the path. */
static int fail_missing(struct vctx *c, const char *key)
{
    size_t old = path_push_key(c, key);
    int rc = fail(c, "missing_required_parameter",
                  "Missing required parameter: '%s'.", c->path);

    path_pop(c, old);
    return rc;
}

/* Fails because property key is not in the schema; top-level keys get the
 * wording OpenAI uses for request arguments. */
static int fail_unknown(struct vctx *c, const char *key)
{
    bool top = c->len == 0;
    size_t old = path_push_key(c, key);
    int rc;

    if (top)
        rc = fail(c, "unknown_parameter",
                  "Unrecognized request argument supplied: %s", c->path);
    else
        rc = fail(c, "unknown_parameter", "Unknown parameter: '%s'.", c->path);
    path_pop(c, old);
    return rc;
}

/* Fails with invalid_value, listing the n supported values as
 * "'a', 'b', and 'c'" so the client sees what would have worked. */
static int fail_value(struct vctx *c, const char *got, const char *const *names,
                      size_t n)
{
    struct buf list;
    size_t i;
    int ok = 0;
    int rc;

    buf_init(&list, 256);
    for (i = 0; i < n && ok == 0; i++) {
        const char *sep = ", ";

        if (i == 0)
            sep = "";
        else if (n == 2)
            sep = " and ";
        else if (i + 1 == n)
            sep = ", and ";
        ok = buf_appendf(&list, "%s'%s'", sep, names[i]);
    }
    if (ok == 0 && list.data != NULL)
        rc = fail(c, "invalid_value",
                  "Invalid value: '%.100s'. Supported values are: %s.", got,
                  list.data);
    else
        rc = fail(c, "invalid_value", "Invalid value: '%.100s'.", got);
    buf_cleanup(&list);
    return rc;
}

/* Writes the shortest %g text that reads back as d, so 2.5 prints as "2.5"
 * and 2.0001 as "2.0001" rather than with seventeen digits. */
static void format_double(double d, char *out, size_t size)
{
    int prec;

    snprintf(out, size, "%.17g", d);
    for (prec = 1; prec < 17; prec++) {
        char text[40];

        snprintf(text, sizeof(text), "%.*g", prec, d);
        if (strtod(text, NULL) == d) {
            snprintf(out, size, "%s", text);
            break;
        }
    }
}

/* Writes a JSON number as the client wrote it: integers exactly. */
static void format_number(const json_t *v, char *out, size_t size)
{
    if (json_is_integer(v))
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        format_double(json_number_value(v), out, size);
}

/* Counts the characters (UTF-8 code points) in n bytes of s: the limits
 * in the excerpt are in characters, not bytes. */
static size_t utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    size_t i;

    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

/* Accepts any value; for tags that check_union has already verified. */
static int check_any(const json_t *v, struct vctx *c)
{
    (void)v;
    (void)c;
    return 0;
}

/* Accepts a string. */
static int check_string(const json_t *v, struct vctx *c)
{
    return json_is_string(v) ? 0 : fail_type(c, v, "a string");
}

/* Accepts a boolean. */
static int check_bool(const json_t *v, struct vctx *c)
{
    return json_is_boolean(v) ? 0 : fail_type(c, v, "a boolean");
}

/* Accepts any object: for free-form JSON Schema documents. */
static int check_any_object(const json_t *v, struct vctx *c)
{
    return json_is_object(v) ? 0 : fail_type(c, v, "an object");
}

/* Accepts a string of at most max characters. */
static int check_string_max(const json_t *v, struct vctx *c, size_t max)
{
    int rc = -1;
    size_t n;

    if (check_string(v, c) != 0)
        goto out;
    n = utf8_length(json_string_value(v), json_string_length(v));
    if (n > max) {
        fail(c, "string_above_max_length",
             "Invalid '%s': string too long. Expected a string with maximum "
             "length %zu, but got a string with length %zu instead.",
             c->path, max, n);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Accepts a function or response format name: [a-zA-Z0-9_-]{1,64}. */
static int check_name(const json_t *v, struct vctx *c)
{
    const char *s;
    size_t i, n;
    int rc = -1;

    if (check_string_max(v, c, NAME_MAX_LEN) != 0)
        goto out;
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0) {
        fail(c, "empty_string",
             "Invalid '%s': empty string. Expected a string with minimum "
             "length 1, but got an empty string instead.",
             c->path);
        goto out;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
            fail(c, "invalid_value",
                 "Invalid '%s': string does not match pattern. Expected a "
                 "string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                 c->path);
            goto out;
        }
    }
    rc = 0;
out:
    return rc;
}

/* Accepts one of the NULL-terminated values. */
static int check_enum(const json_t *v, struct vctx *c,
                      const char *const *values)
{
    const char *s;
    size_t i;
    int rc = -1;

    if (check_string(v, c) != 0)
        goto out;
    s = json_string_value(v);
    for (i = 0; values[i] != NULL; i++)
        if (strcmp(s, values[i]) == 0)
            break;
    if (values[i] == NULL) {
        fail_value(c, s, values, i);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Accepts a number (integer or decimal) in [min, max]; stores it in out
 * when out is not NULL. */
static int check_number(const json_t *v, struct vctx *c, double min, double max,
                        double *out)
{
    char got[40], limit[40];
    double d;
    int rc = -1;

    if (!json_is_number(v)) {
        fail_type(c, v, "a number");
        goto out;
    }
    d = json_number_value(v);
    format_number(v, got, sizeof(got));
    if (d < min) {
        format_double(min, limit, sizeof(limit));
        fail(c, "decimal_below_min_value",
             "Invalid '%s': decimal below minimum value. Expected a value >= "
             "%s, but got %s instead.",
             c->path, limit, got);
        goto out;
    }
    if (d > max) {
        format_double(max, limit, sizeof(limit));
        fail(c, "decimal_above_max_value",
             "Invalid '%s': decimal above maximum value. Expected a value <= "
             "%s, but got %s instead.",
             c->path, limit, got);
        goto out;
    }
    if (out != NULL)
        *out = d;
    rc = 0;
out:
    return rc;
}

/* Accepts a JSON integer in [min, max] (5.0 is a decimal, not an integer);
 * stores it in out when out is not NULL. */
static int check_integer(const json_t *v, struct vctx *c, int64_t min,
                         int64_t max, int64_t *out)
{
    int64_t i;
    int rc = -1;

    if (!json_is_integer(v)) {
        fail_type(c, v, "an integer");
        goto out;
    }
    i = (int64_t)json_integer_value(v);
    if (i < min) {
        fail(c, "integer_below_min_value",
             "Invalid '%s': integer below minimum value. Expected a value >= "
             "%" PRId64 ", but got %" PRId64 " instead.",
             c->path, min, i);
        goto out;
    }
    if (i > max) {
        fail(c, "integer_above_max_value",
             "Invalid '%s': integer above maximum value. Expected a value <= "
             "%" PRId64 ", but got %" PRId64 " instead.",
             c->path, max, i);
        goto out;
    }
    if (out != NULL)
        *out = (int64_t)i;
    rc = 0;
out:
    return rc;
}

/* Accepts an array of min..max items, each passing item. */
static int check_array(const json_t *v, struct vctx *c, size_t min, size_t max,
                       check_fn item)
{
    size_t i, n, old;
    int rc = -1;

    if (!json_is_array(v)) {
        fail_type(c, v, "an array");
        goto out;
    }
    n = json_array_size(v);
    if (n == 0 && min > 0) {
        fail(c, "empty_array",
             "Invalid '%s': empty array. Expected an array with minimum "
             "length %zu, but got an empty array instead.",
             c->path, min);
        goto out;
    }
    if (n < min) {
        fail(c, "array_below_min_length",
             "Invalid '%s': array too short. Expected an array with minimum "
             "length %zu, but got an array with length %zu instead.",
             c->path, min, n);
        goto out;
    }
    if (n > max) {
        fail(c, "array_above_max_length",
             "Invalid '%s': array too long. Expected an array with maximum "
             "length %zu, but got an array with length %zu instead.",
             c->path, max, n);
        goto out;
    }
    for (i = 0; i < n; i++) {
        old = path_push_index(c, i);
        rc = item(json_array_get(v, i), c);
        path_pop(c, old);
        if (rc != 0)
            goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Finds key among the fields, or returns NULL. */
static const struct field *field_find(const struct field *fields, size_t n,
                                      const char *key)
{
    const struct field *found = NULL;
    size_t i;

    for (i = 0; i < n && found == NULL; i++)
        if (strcmp(fields[i].name, key) == 0)
            found = &fields[i];
    return found;
}

/* Checks one field of obj: absent is fine unless required, null is fine
 * when nullable, anything else goes to the field's check. */
static int check_field(const json_t *obj, const struct field *f, struct vctx *c)
{
    const json_t *v = json_object_get(obj, f->name);
    size_t old;
    int rc = 0;

    if (v == NULL) {
        if (f->flags & F_REQUIRED)
            rc = fail_missing(c, f->name);
        goto out;
    }
    if (json_is_null(v) && (f->flags & F_NULLABLE))
        goto out;
    old = path_push_key(c, f->name);
    rc = f->check(v, c);
    path_pop(c, old);
out:
    return rc;
}

/* Checks that v is an object whose keys are all among the fields (OpenAI
 * rejects unknown properties rather than ignoring them), then each field in
 * table order, so the first error reported is deterministic. */
static int check_object(const json_t *v, struct vctx *c,
                        const struct field *fields, size_t n)
{
    const char *key;
    json_t *val;
    size_t i;
    int rc = -1;

    if (!json_is_object(v)) {
        fail_type(c, v, "an object");
        goto out;
    }
    /* jansson's iteration wants a mutable object; it is only read here. */
    json_object_foreach((json_t *)v, key, val)
    {
        if (field_find(fields, n, key) == NULL) {
            fail_unknown(c, key);
            goto out;
        }
    }
    for (i = 0; i < n; i++)
        if (check_field(v, &fields[i], c) != 0)
            goto out;
    rc = 0;
out:
    return rc;
}

/* Defines fn as a checker that hands its value to helper with args. */
#define CHECKER_OF(fn, helper, ...)                                            \
    static int fn(const json_t *v, struct vctx *c)                             \
    {                                                                          \
        return helper(v, c, __VA_ARGS__);                                      \
    }

/* Defines fn as a checker of objects described by the field table. */
#define OBJECT_CHECKER(fn, table)                                              \
    CHECKER_OF(fn, check_object, table, COUNT(table))

/* Finds the variant whose tag the value tag names and stores its index;
 * reports the supported tags when there is none. */
static int variant_find(const json_t *tag, struct vctx *c,
                        const struct variant *vars, size_t n, size_t *index)
{
    const char *names[8];
    const char *s;
    size_t i;
    int rc = -1;

    if (check_string(tag, c) != 0)
        goto out;
    s = json_string_value(tag);
    for (i = 0; i < n; i++)
        if (strcmp(s, vars[i].tag) == 0)
            break;
    if (i == n) {
        for (i = 0; i < n && i < COUNT(names); i++)
            names[i] = vars[i].tag;
        fail_value(c, s, names, i);
        goto out;
    }
    *index = i;
    rc = 0;
out:
    return rc;
}

/* Checks an object that is one of several shapes told apart by the string
 * property tagkey; stores the matching variant in chosen when not NULL. */
static int check_union(const json_t *v, struct vctx *c, const char *tagkey,
                       const struct variant *vars, size_t n,
                       const struct variant **chosen)
{
    const json_t *tag;
    size_t i = 0, old;
    int rc = -1;

    if (!json_is_object(v)) {
        fail_type(c, v, "an object");
        goto out;
    }
    tag = json_object_get(v, tagkey);
    if (tag == NULL) {
        fail_missing(c, tagkey);
        goto out;
    }
    old = path_push_key(c, tagkey);
    rc = variant_find(tag, c, vars, n, &i);
    path_pop(c, old);
    if (rc != 0)
        goto out;
    rc = check_object(v, c, vars[i].fields, vars[i].nfields);
    if (rc == 0 && chosen != NULL)
        *chosen = &vars[i];
out:
    return rc;
}

/* ---- Enumerations, as listed in the OpenAPI excerpt ---- */

static const char *const service_tiers[] = {
    "auto", "default", "flex", "scale", "priority", "fast", NULL,
};
static const char *const reasoning_efforts[] = {
    "none", "minimal", "low", "medium", "high", "xhigh", "max", NULL,
};
static const char *const low_medium_high[] = {"low", "medium", "high", NULL};
static const char *const modality_values[] = {"text", "audio", NULL};
static const char *const cache_retentions[] = {"in_memory", "24h", NULL};
static const char *const cache_ttls[] = {"30m", NULL};
static const char *const cache_modes[] = {"implicit", "explicit", NULL};
static const char *const breakpoint_modes[] = {"explicit", NULL};
static const char *const audio_formats[] = {
    "wav", "aac", "mp3", "flac", "opus", "pcm16", NULL,
};
static const char *const input_audio_formats[] = {"wav", "mp3", NULL};
static const char *const image_details[] = {"auto", "low", "high", NULL};
static const char *const tool_choice_modes[] = {"none", "auto", "required",
                                                NULL};
static const char *const allowed_tools_modes[] = {"auto", "required", NULL};
static const char *const function_call_modes[] = {"none", "auto", NULL};
static const char *const grammar_syntaxes[] = {"lark", "regex", NULL};
static const char *const moderation_modes[] = {"score", "block", NULL};
static const char *const location_types[] = {"approximate", NULL};

/* Accepts a service_tier value. */
CHECKER_OF(check_service_tier, check_enum, service_tiers)

/* Accepts a reasoning_effort value. */
CHECKER_OF(check_reasoning_effort, check_enum, reasoning_efforts)

/* Accepts low, medium or high (verbosity, search_context_size). */
CHECKER_OF(check_low_medium_high, check_enum, low_medium_high)

/* Accepts one output modality. */
CHECKER_OF(check_modality, check_enum, modality_values)

/* Accepts a prompt_cache_retention value. */
CHECKER_OF(check_cache_retention, check_enum, cache_retentions)

/* Accepts a prompt_cache_options.ttl value. */
CHECKER_OF(check_cache_ttl, check_enum, cache_ttls)

/* Accepts a prompt_cache_options.mode value. */
CHECKER_OF(check_cache_mode, check_enum, cache_modes)

/* Accepts a prompt_cache_breakpoint.mode value. */
CHECKER_OF(check_breakpoint_mode, check_enum, breakpoint_modes)

/* Accepts an audio output format. */
CHECKER_OF(check_audio_format, check_enum, audio_formats)

/* Accepts an input_audio format. */
CHECKER_OF(check_input_audio_format, check_enum, input_audio_formats)

/* Accepts an image_url detail. */
CHECKER_OF(check_image_detail, check_enum, image_details)

/* Accepts an allowed_tools mode. */
CHECKER_OF(check_allowed_tools_mode, check_enum, allowed_tools_modes)

/* Accepts a custom tool grammar syntax. */
CHECKER_OF(check_grammar_syntax, check_enum, grammar_syntaxes)

/* Accepts a moderation mode. */
CHECKER_OF(check_moderation_mode, check_enum, moderation_modes)

/* Accepts the web search location type. */
CHECKER_OF(check_location_type, check_enum, location_types)

/* ---- Message content parts ---- */

static const struct field breakpoint_fields[] = {
    {"mode", F_REQUIRED, check_breakpoint_mode},
};

/* Accepts a prompt_cache_breakpoint object. */
OBJECT_CHECKER(check_breakpoint, breakpoint_fields)

static const struct field text_part_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"text", F_REQUIRED, check_string},
    {"prompt_cache_breakpoint", 0, check_breakpoint},
};

static const struct field image_url_fields[] = {
    {"url", F_REQUIRED, check_string},
    {"detail", 0, check_image_detail},
};

/* Accepts an image_url object. */
OBJECT_CHECKER(check_image_url, image_url_fields)

static const struct field image_part_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"image_url", F_REQUIRED, check_image_url},
    {"prompt_cache_breakpoint", 0, check_breakpoint},
};

static const struct field input_audio_fields[] = {
    {"data", F_REQUIRED, check_string},
    {"format", F_REQUIRED, check_input_audio_format},
};

/* Accepts an input_audio object. */
OBJECT_CHECKER(check_input_audio, input_audio_fields)

static const struct field audio_part_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"input_audio", F_REQUIRED, check_input_audio},
    {"prompt_cache_breakpoint", 0, check_breakpoint},
};

static const struct field file_fields[] = {
    {"filename", 0, check_string},
    {"file_data", 0, check_string},
    {"file_id", 0, check_string},
};

/* Accepts a file object. */
OBJECT_CHECKER(check_file, file_fields)

static const struct field file_part_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"file", F_REQUIRED, check_file},
    {"prompt_cache_breakpoint", 0, check_breakpoint},
};

static const struct field refusal_part_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"refusal", F_REQUIRED, check_string},
};

/* System, developer and tool messages (and predictions) take text only. */
static const struct variant text_parts[] = {
    {"text", text_part_fields, COUNT(text_part_fields)},
};

static const struct variant user_parts[] = {
    {"text", text_part_fields, COUNT(text_part_fields)},
    {"image_url", image_part_fields, COUNT(image_part_fields)},
    {"input_audio", audio_part_fields, COUNT(audio_part_fields)},
    {"file", file_part_fields, COUNT(file_part_fields)},
};

static const struct variant assistant_parts[] = {
    {"text", text_part_fields, COUNT(text_part_fields)},
    {"refusal", refusal_part_fields, COUNT(refusal_part_fields)},
};

/* Accepts a text content part. */
static int check_text_part(const json_t *v, struct vctx *c)
{
    return check_union(v, c, "type", text_parts, COUNT(text_parts), NULL);
}

/* Accepts a user content part. */
static int check_user_part(const json_t *v, struct vctx *c)
{
    return check_union(v, c, "type", user_parts, COUNT(user_parts), NULL);
}

/* Accepts an assistant content part. */
static int check_assistant_part(const json_t *v, struct vctx *c)
{
    return check_union(v, c, "type", assistant_parts, COUNT(assistant_parts),
                       NULL);
}

/* Accepts content as a string or a non-empty array of parts. */
static int check_content(const json_t *v, struct vctx *c, check_fn part)
{
    int rc = 0;

    if (json_is_array(v))
        rc = check_array(v, c, 1, SIZE_MAX, part);
    else if (!json_is_string(v))
        rc = fail_type(c, v, "a string or an array");
    return rc;
}

/* Accepts content made of text only. */
CHECKER_OF(check_text_content, check_content, check_text_part)

/* Accepts user content. */
CHECKER_OF(check_user_content, check_content, check_user_part)

/* Accepts assistant content. */
CHECKER_OF(check_assistant_content, check_content, check_assistant_part)

/* ---- Tool calls an assistant message reports ---- */

static const struct field called_function_fields[] = {
    {"name", F_REQUIRED, check_string},
    {"arguments", F_REQUIRED, check_string},
};

/* Accepts {name, arguments}, both strings. */
OBJECT_CHECKER(check_called_function, called_function_fields)

static const struct field called_custom_fields[] = {
    {"name", F_REQUIRED, check_string},
    {"input", F_REQUIRED, check_string},
};

/* Accepts {name, input}, both strings. */
OBJECT_CHECKER(check_called_custom, called_custom_fields)

static const struct field function_call_made_fields[] = {
    {"id", F_REQUIRED, check_string},
    {"type", F_REQUIRED, check_any},
    {"function", F_REQUIRED, check_called_function},
};

static const struct field custom_call_made_fields[] = {
    {"id", F_REQUIRED, check_string},
    {"type", F_REQUIRED, check_any},
    {"custom", F_REQUIRED, check_called_custom},
};

static const struct variant tool_call_kinds[] = {
    {"function", function_call_made_fields, COUNT(function_call_made_fields)},
    {"custom", custom_call_made_fields, COUNT(custom_call_made_fields)},
};

/* Accepts one entry of an assistant message's tool_calls. */
static int check_tool_call(const json_t *v, struct vctx *c)
{
    return check_union(v, c, "type", tool_call_kinds, COUNT(tool_call_kinds),
                       NULL);
}

/* Accepts an assistant message's tool_calls. */
static int check_tool_calls(const json_t *v, struct vctx *c)
{
    return check_array(v, c, 0, SIZE_MAX, check_tool_call);
}

static const struct field audio_ref_fields[] = {
    {"id", F_REQUIRED, check_string},
};

/* Accepts {id}: a previous audio response or a custom voice. */
OBJECT_CHECKER(check_audio_ref, audio_ref_fields)

/* ---- Messages, one shape per role ---- */

/* System and developer messages have the same shape. */
static const struct field system_fields[] = {
    {"role", F_REQUIRED, check_any},
    {"content", F_REQUIRED, check_text_content},
    {"name", 0, check_string},
};

static const struct field user_fields[] = {
    {"role", F_REQUIRED, check_any},
    {"content", F_REQUIRED, check_user_content},
    {"name", 0, check_string},
};

static const struct field assistant_fields[] = {
    {"role", F_REQUIRED, check_any},
    {"content", F_NULLABLE, check_assistant_content},
    {"refusal", F_NULLABLE, check_string},
    {"name", 0, check_string},
    {"audio", F_NULLABLE, check_audio_ref},
    {"tool_calls", 0, check_tool_calls},
    {"function_call", F_NULLABLE, check_called_function},
};

static const struct field tool_fields[] = {
    {"role", F_REQUIRED, check_any},
    {"content", F_REQUIRED, check_text_content},
    {"tool_call_id", F_REQUIRED, check_string},
};

/* The deprecated function role: content is required but may be null. */
static const struct field function_fields[] = {
    {"role", F_REQUIRED, check_any},
    {"content", F_REQUIRED | F_NULLABLE, check_string},
    {"name", F_REQUIRED, check_string},
};

static const struct variant message_roles[] = {
    {"system", system_fields, COUNT(system_fields)},
    {"user", user_fields, COUNT(user_fields)},
    {"assistant", assistant_fields, COUNT(assistant_fields)},
    {"tool", tool_fields, COUNT(tool_fields)},
    {"developer", system_fields, COUNT(system_fields)},
    {"function", function_fields, COUNT(function_fields)},
};

/* Tells whether v holds a non-null property key. */
static bool has_value(const json_t *v, const char *key)
{
    const json_t *p = json_object_get(v, key);

    return p != NULL && !json_is_null(p);
}

/* Tells whether an assistant message says anything: without content it
 * must carry what a previous response put in its place (tool calls, a
 * function call, a refusal or an audio reference). */
static bool assistant_has_payload(const json_t *m)
{
    return has_value(m, "content") ||
           json_array_size(json_object_get(m, "tool_calls")) > 0 ||
           has_value(m, "function_call") || has_value(m, "refusal") ||
           has_value(m, "audio");
}

/* Accepts one message in the shape its role requires. */
static int check_message(const json_t *v, struct vctx *c)
{
    const struct variant *role = NULL;
    int rc = -1;

    if (check_union(v, c, "role", message_roles, COUNT(message_roles), &role) !=
        0)
        goto out;
    if (strcmp(role->tag, "assistant") == 0 && !assistant_has_payload(v)) {
        fail_missing(c, "content");
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Copies the borrowed pointers the later stages need out of a message
 * that check_message accepted. */
static void message_fill(const json_t *m, struct chat_message *out)
{
    const json_t *content = json_object_get(m, "content");
    const json_t *calls = json_object_get(m, "tool_calls");

    out->role = json_string_value(json_object_get(m, "role"));
    out->name = json_string_value(json_object_get(m, "name"));
    out->content = json_is_null(content) ? NULL : content;
    out->tool_calls = json_is_array(calls) ? calls : NULL;
    out->tool_call_id = json_string_value(json_object_get(m, "tool_call_id"));
}

/* Accepts the messages array and hands req a filled array of them. */
static int check_messages(const json_t *v, struct vctx *c)
{
    struct chat_message *msgs = NULL;
    size_t i, n;
    int rc = -1;

    if (check_array(v, c, 1, SIZE_MAX, check_message) != 0)
        goto out;
    n = json_array_size(v);
    msgs = calloc(n, sizeof(*msgs));
    if (msgs == NULL) {
        api_error_set(c->err, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory.");
        goto out;
    }
    for (i = 0; i < n; i++)
        message_fill(json_array_get(v, i), &msgs[i]);
    c->req->messages = msgs; /* req owns it now */
    c->req->nmessages = n;
    msgs = NULL;
    rc = 0;
out:
    free(msgs);
    return rc;
}

/* ---- Tools and tool choice ---- */

static const struct field function_object_fields[] = {
    {"name", F_REQUIRED, check_name},
    {"description", 0, check_string},
    {"parameters", 0, check_any_object},
    {"strict", F_NULLABLE, check_bool},
};

/* Accepts a FunctionObject. */
OBJECT_CHECKER(check_function_object, function_object_fields)

static const struct field grammar_fields[] = {
    {"definition", F_REQUIRED, check_string},
    {"syntax", F_REQUIRED, check_grammar_syntax},
};

/* Accepts a custom tool grammar. */
OBJECT_CHECKER(check_grammar, grammar_fields)

static const struct field format_text_fields[] = {
    {"type", F_REQUIRED, check_any},
};

static const struct field format_grammar_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"grammar", F_REQUIRED, check_grammar},
};

static const struct variant custom_formats[] = {
    {"text", format_text_fields, COUNT(format_text_fields)},
    {"grammar", format_grammar_fields, COUNT(format_grammar_fields)},
};

/* Accepts a custom tool's input format. */
static int check_custom_format(const json_t *v, struct vctx *c)
{
    return check_union(v, c, "type", custom_formats, COUNT(custom_formats),
                       NULL);
}

static const struct field custom_tool_fields[] = {
    {"name", F_REQUIRED, check_string},
    {"description", 0, check_string},
    {"format", 0, check_custom_format},
};

/* Accepts a custom tool definition. */
OBJECT_CHECKER(check_custom_tool, custom_tool_fields)

static const struct field function_tool_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"function", F_REQUIRED, check_function_object},
};

static const struct field custom_tool_entry_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"custom", F_REQUIRED, check_custom_tool},
};

static const struct variant tool_kinds[] = {
    {"function", function_tool_fields, COUNT(function_tool_fields)},
    {"custom", custom_tool_entry_fields, COUNT(custom_tool_entry_fields)},
};

/* Accepts one entry of tools. */
static int check_tool(const json_t *v, struct vctx *c)
{
    return check_union(v, c, "type", tool_kinds, COUNT(tool_kinds), NULL);
}

/* Checks a schema the reply is generated from against the budget. */
static int check_schema(const json_t *schema, struct vctx *c, const char *kind,
                        const json_t *name, const char *code)
{
    char owner[96];

    snprintf(owner, sizeof(owner), "%s '%s'", kind,
             json_string_value(name) ? json_string_value(name) : "");
    return budget_check_schema(schema, c->limits, c->req->n, &c->pool, c->path,
                               owner, code, c->err);
}

/* Accepts the tools array, then checks each function's parameters. */
static int check_tools(const json_t *v, struct vctx *c)
{
    const json_t *tool, *fn;
    size_t i, old;
    int rc = check_array(v, c, 0, SIZE_MAX, check_tool);

    json_array_foreach(v, i, tool)
    {
        if (rc != 0)
            break;
        fn = json_object_get(tool, "function");
        old = path_push_index(c, i);
        path_appendf(c, ".function.parameters");
        rc = check_schema(json_object_get(fn, "parameters"), c, "function",
                          json_object_get(fn, "name"),
                          "invalid_function_parameters");
        path_pop(c, old);
    }
    return rc;
}

static const struct field named_fields[] = {
    {"name", F_REQUIRED, check_string},
};

/* Accepts {name}: a tool or function chosen by name. */
OBJECT_CHECKER(check_named, named_fields)

/* Accepts an allowed_tools entry: any object describing a tool. */
static int check_allowed_tools_list(const json_t *v, struct vctx *c)
{
    return check_array(v, c, 0, SIZE_MAX, check_any_object);
}

static const struct field allowed_tools_fields[] = {
    {"mode", F_REQUIRED, check_allowed_tools_mode},
    {"tools", F_REQUIRED, check_allowed_tools_list},
};

/* Accepts the allowed_tools object of tool_choice. */
OBJECT_CHECKER(check_allowed_tools, allowed_tools_fields)

static const struct field choice_allowed_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"allowed_tools", F_REQUIRED, check_allowed_tools},
};

static const struct field choice_function_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"function", F_REQUIRED, check_named},
};

static const struct field choice_custom_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"custom", F_REQUIRED, check_named},
};

static const struct variant tool_choices[] = {
    {"allowed_tools", choice_allowed_fields, COUNT(choice_allowed_fields)},
    {"function", choice_function_fields, COUNT(choice_function_fields)},
    {"custom", choice_custom_fields, COUNT(choice_custom_fields)},
};

/* Accepts tool_choice: a mode string or an object naming the tools. */
static int check_tool_choice(const json_t *v, struct vctx *c)
{
    int rc;

    if (json_is_string(v))
        rc = check_enum(v, c, tool_choice_modes);
    else if (json_is_object(v))
        rc = check_union(v, c, "type", tool_choices, COUNT(tool_choices), NULL);
    else
        rc = fail_type(c, v, "a string or an object");
    return rc;
}

/* Accepts the deprecated function_call: "none", "auto" or {name}. */
static int check_function_call(const json_t *v, struct vctx *c)
{
    int rc;

    if (json_is_string(v))
        rc = check_enum(v, c, function_call_modes);
    else if (json_is_object(v))
        rc = check_named(v, c);
    else
        rc = fail_type(c, v, "a string or an object");
    return rc;
}

static const struct field function_def_fields[] = {
    {"name", F_REQUIRED, check_name},
    {"description", 0, check_string},
    {"parameters", 0, check_any_object},
};

/* Accepts one entry of the deprecated functions. */
OBJECT_CHECKER(check_function_def, function_def_fields)

/* Accepts the deprecated functions array (1..128 entries). */
static int check_functions(const json_t *v, struct vctx *c)
{
    return check_array(v, c, 1, FUNCTIONS_MAX, check_function_def);
}

/* ---- Output shaping ---- */

static const struct field json_schema_fields[] = {
    {"name", F_REQUIRED, check_name},
    {"description", 0, check_string},
    {"schema", 0, check_any_object},
    {"strict", F_NULLABLE, check_bool},
};

/* Accepts response_format.json_schema. */
OBJECT_CHECKER(check_json_schema, json_schema_fields)

static const struct field format_plain_fields[] = {
    {"type", F_REQUIRED, check_any},
};

static const struct field format_schema_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"json_schema", F_REQUIRED, check_json_schema},
};

static const struct variant response_formats[] = {
    {"text", format_plain_fields, COUNT(format_plain_fields)},
    {"json_schema", format_schema_fields, COUNT(format_schema_fields)},
    {"json_object", format_plain_fields, COUNT(format_plain_fields)},
};

/* Accepts response_format, then checks a json_schema's schema. */
static int check_response_format(const json_t *v, struct vctx *c)
{
    const json_t *js = json_object_get(v, "json_schema");
    int rc = check_union(v, c, "type", response_formats,
                         COUNT(response_formats), NULL);
    size_t old;

    if (rc == 0 && js != NULL) {
        old = path_push_key(c, "json_schema.schema");
        rc = check_schema(json_object_get(js, "schema"), c, "response_format",
                          json_object_get(js, "name"), "invalid_value");
        path_pop(c, old);
    }
    return rc;
}

/* Accepts a voice: a built-in or custom name, or {id}. */
static int check_voice(const json_t *v, struct vctx *c)
{
    int rc = 0;

    if (json_is_object(v))
        rc = check_audio_ref(v, c);
    else if (!json_is_string(v))
        rc = fail_type(c, v, "a string or an object");
    return rc;
}

static const struct field audio_fields[] = {
    {"voice", F_REQUIRED, check_voice},
    {"format", F_REQUIRED, check_audio_format},
};

/* Accepts the audio output parameters. */
OBJECT_CHECKER(check_audio, audio_fields)

static const struct field prediction_fields[] = {
    {"type", F_REQUIRED, check_any},
    {"content", F_REQUIRED, check_text_content},
};

static const struct variant predictions[] = {
    {"content", prediction_fields, COUNT(prediction_fields)},
};

/* Accepts a predicted output. */
static int check_prediction(const json_t *v, struct vctx *c)
{
    return check_union(v, c, "type", predictions, COUNT(predictions), NULL);
}

static const struct field cache_options_fields[] = {
    {"ttl", 0, check_cache_ttl},
    {"mode", 0, check_cache_mode},
};

/* Accepts prompt_cache_options. */
OBJECT_CHECKER(check_cache_options, cache_options_fields)

static const struct field moderation_config_fields[] = {
    {"mode", F_REQUIRED, check_moderation_mode},
};

/* Accepts a moderation input or output configuration. */
OBJECT_CHECKER(check_moderation_config, moderation_config_fields)

static const struct field moderation_policy_fields[] = {
    {"input", F_NULLABLE, check_moderation_config},
    {"output", F_NULLABLE, check_moderation_config},
};

/* Accepts a moderation policy. */
OBJECT_CHECKER(check_moderation_policy, moderation_policy_fields)

static const struct field moderation_fields[] = {
    {"model", F_REQUIRED, check_string},
    {"policy", F_NULLABLE, check_moderation_policy},
};

/* Accepts the moderation parameter. */
OBJECT_CHECKER(check_moderation, moderation_fields)

static const struct field location_fields[] = {
    {"country", 0, check_string},
    {"region", 0, check_string},
    {"city", 0, check_string},
    {"timezone", 0, check_string},
};

/* Accepts an approximate location. */
OBJECT_CHECKER(check_location, location_fields)

static const struct field user_location_fields[] = {
    {"type", F_REQUIRED, check_location_type},
    {"approximate", F_REQUIRED, check_location},
};

/* Accepts web_search_options.user_location. */
OBJECT_CHECKER(check_user_location, user_location_fields)

static const struct field web_search_fields[] = {
    {"user_location", F_NULLABLE, check_user_location},
    {"search_context_size", 0, check_low_medium_high},
};

/* Accepts web_search_options. */
OBJECT_CHECKER(check_web_search, web_search_fields)

/* Accepts metadata: at most 16 string values, keys up to 64 characters
 * and values up to 512. */
static int check_metadata(const json_t *v, struct vctx *c)
{
    const char *key;
    json_t *val;
    size_t n, old;
    int rc = -1;

    if (check_any_object(v, c) != 0)
        goto out;
    n = json_object_size(v);
    if (n > METADATA_MAX_KEYS) {
        fail(c, "object_above_max_properties",
             "Invalid '%s': too many properties. Expected an object with at "
             "most %d properties, but got an object with %zu properties "
             "instead.",
             c->path, METADATA_MAX_KEYS, n);
        goto out;
    }
    json_object_foreach((json_t *)v, key, val)
    {
        size_t keylen = utf8_length(key, strlen(key));

        if (keylen > METADATA_MAX_KEY_LEN) {
            fail(c, "invalid_value",
                 "Invalid '%s': keys must be at most %d characters long, but "
                 "got a key with length %zu.",
                 c->path, METADATA_MAX_KEY_LEN, keylen);
            goto out;
        }
        old = path_push_key(c, key);
        rc = check_string_max(val, c, METADATA_MAX_VALUE_LEN);
        path_pop(c, old);
        if (rc != 0)
            goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Accepts logit_bias: token ids mapped to integers in -100..100. */
static int check_logit_bias(const json_t *v, struct vctx *c)
{
    const char *key;
    json_t *val;
    size_t old;
    int rc = -1;

    if (check_any_object(v, c) != 0)
        goto out;
    json_object_foreach((json_t *)v, key, val)
    {
        old = path_push_key(c, key);
        rc = check_integer(val, c, LOGIT_BIAS_MIN, LOGIT_BIAS_MAX, NULL);
        path_pop(c, old);
        if (rc != 0)
            goto out;
    }
    rc = 0;
out:
    return rc;
}

/* ---- Top-level parameters that fill the request ---- */

/* Accepts model: a non-empty string. */
static int check_model(const json_t *v, struct vctx *c)
{
    int rc = -1;

    if (check_string(v, c) != 0)
        goto out;
    if (json_string_length(v) == 0) {
        fail(c, "empty_string",
             "Invalid '%s': empty string. Expected a string with minimum "
             "length 1, but got an empty string instead.",
             c->path);
        goto out;
    }
    c->req->model = json_string_value(v);
    rc = 0;
out:
    return rc;
}

/* Accepts temperature in 0..2. */
static int check_temperature(const json_t *v, struct vctx *c)
{
    int rc = check_number(v, c, 0, 2, &c->req->temperature);

    c->req->has_temperature = rc == 0;
    return rc;
}

/* Accepts top_p in 0..1. */
static int check_top_p(const json_t *v, struct vctx *c)
{
    int rc = check_number(v, c, 0, 1, &c->req->top_p);

    c->req->has_top_p = rc == 0;
    return rc;
}

/* Accepts frequency_penalty or presence_penalty in -2..2. */
static int check_penalty(const json_t *v, struct vctx *c)
{
    return check_number(v, c, -2, 2, NULL);
}

/* Accepts max_tokens: an integer >= 1. */
static int check_max_tokens(const json_t *v, struct vctx *c)
{
    int rc = check_integer(v, c, 1, INT64_MAX, &c->plain_max_tokens);

    c->has_plain_max_tokens = rc == 0;
    return rc;
}

/* Accepts max_completion_tokens: an integer >= 1. */
static int check_max_completion_tokens(const json_t *v, struct vctx *c)
{
    int rc = check_integer(v, c, 1, INT64_MAX, &c->max_completion_tokens);

    c->has_max_completion_tokens = rc == 0;
    return rc;
}

/* Accepts n in 1..CHAT_MAX_N. */
static int check_n(const json_t *v, struct vctx *c)
{
    int64_t n = 1;
    int rc = check_integer(v, c, 1, CHAT_MAX_N, &n);

    c->req->n = (unsigned)n;
    return rc;
}

/* Accepts seed: any 64-bit integer. */
static int check_seed(const json_t *v, struct vctx *c)
{
    int rc = check_integer(v, c, INT64_MIN, INT64_MAX, &c->req->seed);

    c->req->has_seed = rc == 0;
    return rc;
}

/* Accepts logprobs, remembering it for top_logprobs. */
static int check_logprobs(const json_t *v, struct vctx *c)
{
    c->logprobs = json_is_true(v);
    c->req->logprobs = c->logprobs;
    return check_bool(v, c);
}

/* Accepts top_logprobs in 0..20; logprobs is checked at the end. */
static int check_top_logprobs(const json_t *v, struct vctx *c)
{
    int64_t n = 0;
    int rc = check_integer(v, c, 0, TOP_LOGPROBS_MAX, &n);

    c->has_top_logprobs = true;
    c->req->top_logprobs = (unsigned)n;
    return rc;
}

/* Accepts user: a string. */
static int check_user(const json_t *v, struct vctx *c)
{
    int rc = check_string(v, c);

    c->req->user = json_string_value(v);
    return rc;
}

/* Accepts safety_identifier: a string of at most 64 characters. */
static int check_safety_identifier(const json_t *v, struct vctx *c)
{
    return check_string_max(v, c, SAFETY_ID_MAX_LEN);
}

/* Accepts stream. */
static int check_stream(const json_t *v, struct vctx *c)
{
    c->req->stream = json_is_true(v);
    return check_bool(v, c);
}

/* Accepts stream_options.include_usage. */
static int check_include_usage(const json_t *v, struct vctx *c)
{
    c->req->include_usage = json_is_true(v);
    return check_bool(v, c);
}

static const struct field stream_options_fields[] = {
    {"include_usage", 0, check_include_usage},
    {"include_obfuscation", 0, check_bool},
};

/* Accepts stream_options; whether stream is on is checked at the end. */
static int check_stream_options(const json_t *v, struct vctx *c)
{
    c->has_stream_options = true;
    return check_object(v, c, stream_options_fields,
                        COUNT(stream_options_fields));
}

/* Accepts one stop sequence. */
static int check_stop_item(const json_t *v, struct vctx *c)
{
    return check_string(v, c);
}

/* Accepts stop: a string or 1..CHAT_MAX_STOP strings, copied into req. */
static int check_stop(const json_t *v, struct vctx *c)
{
    size_t i;
    int rc = -1;

    if (json_is_string(v)) {
        c->req->stop[0] = json_string_value(v);
        c->req->nstop = 1;
    } else if (json_is_array(v)) {
        if (check_array(v, c, 1, CHAT_MAX_STOP, check_stop_item) != 0)
            goto out;
        for (i = 0; i < json_array_size(v); i++)
            c->req->stop[i] = json_string_value(json_array_get(v, i));
        c->req->nstop = json_array_size(v);
    } else {
        fail_type(c, v, "a string or an array");
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Accepts the output modalities. */
static int check_modalities(const json_t *v, struct vctx *c)
{
    return check_array(v, c, 0, SIZE_MAX, check_modality);
}

/* Every property of CreateChatCompletionRequest in the excerpt, with those
 * inherited from CreateModelResponseProperties and ModelResponseProperties:
 * model and messages first, then alphabetical. */
static const struct field request_fields[] = {
    {"model", F_REQUIRED, check_model},
    {"messages", F_REQUIRED, check_messages},
    {"audio", F_NULLABLE, check_audio},
    {"frequency_penalty", F_NULLABLE, check_penalty},
    {"function_call", 0, check_function_call},
    {"functions", 0, check_functions},
    {"logit_bias", F_NULLABLE, check_logit_bias},
    {"logprobs", F_NULLABLE, check_logprobs},
    {"max_completion_tokens", F_NULLABLE, check_max_completion_tokens},
    {"max_tokens", F_NULLABLE, check_max_tokens},
    {"metadata", F_NULLABLE, check_metadata},
    {"modalities", F_NULLABLE, check_modalities},
    {"moderation", F_NULLABLE, check_moderation},
    {"n", F_NULLABLE, check_n},
    {"parallel_tool_calls", 0, check_bool},
    {"prediction", F_NULLABLE, check_prediction},
    {"presence_penalty", F_NULLABLE, check_penalty},
    {"prompt_cache_key", F_NULLABLE, check_string},
    {"prompt_cache_options", 0, check_cache_options},
    {"prompt_cache_retention", F_NULLABLE, check_cache_retention},
    {"reasoning_effort", F_NULLABLE, check_reasoning_effort},
    {"response_format", 0, check_response_format},
    {"safety_identifier", F_NULLABLE, check_safety_identifier},
    {"seed", F_NULLABLE, check_seed},
    {"service_tier", F_NULLABLE, check_service_tier},
    {"stop", F_NULLABLE, check_stop},
    {"store", F_NULLABLE, check_bool},
    {"stream", F_NULLABLE, check_stream},
    {"stream_options", F_NULLABLE, check_stream_options},
    {"temperature", F_NULLABLE, check_temperature},
    {"tool_choice", 0, check_tool_choice},
    {"tools", 0, check_tools},
    {"top_logprobs", F_NULLABLE, check_top_logprobs},
    {"top_p", F_NULLABLE, check_top_p},
    {"user", 0, check_user},
    {"verbosity", F_NULLABLE, check_low_medium_high},
    {"web_search_options", 0, check_web_search},
};

/* Applies the rules that tie parameters together, once each is valid on
 * its own, and settles max_tokens. */
static int check_cross(struct vctx *c)
{
    int rc = -1;

    if (c->has_top_logprobs && !c->logprobs) {
        api_error_set(c->err, API_ERR_INVALID_REQUEST, "top_logprobs",
                      "invalid_value",
                      "Invalid value for 'top_logprobs': 'logprobs' must be "
                      "set to true when 'top_logprobs' is used.");
        goto out;
    }
    if (c->has_stream_options && !c->req->stream) {
        api_error_set(c->err, API_ERR_INVALID_REQUEST, "stream_options",
                      "invalid_value",
                      "The 'stream_options' parameter is only allowed when "
                      "'stream' is enabled.");
        goto out;
    }
    /* max_completion_tokens replaces the deprecated max_tokens. */
    if (c->has_max_completion_tokens) {
        c->req->has_max_tokens = true;
        c->req->max_tokens = c->max_completion_tokens;
    } else if (c->has_plain_max_tokens) {
        c->req->has_max_tokens = true;
        c->req->max_tokens = c->plain_max_tokens;
    }
    rc = 0;
out:
    return rc;
}

/* Puts req in its default state: no messages, n = 1, everything off. */
static void chat_request_reset(struct chat_request *req)
{
    memset(req, 0, sizeof(*req));
    req->n = 1;
}

/* v, or NULL when v is JSON null. */
static const json_t *nonnull(const json_t *v)
{
    return json_is_null(v) ? NULL : v;
}

int validate_chat_request(const json_t *body, struct chat_request *req,
                          struct api_error *err)
{
    return validate_chat_request_within(body, NULL, req, err);
}

int validate_chat_request_within(const json_t *body,
                                 const struct budget_limits *limits,
                                 struct chat_request *req,
                                 struct api_error *err)
{
    struct vctx c;
    int rc = -1;

    chat_request_reset(req);
    memset(&c, 0, sizeof(c));
    c.req = req;
    c.err = err;
    c.limits = limits;
    budget_share(limits, 1, &c.pool);
    if (!json_is_object(body)) {
        api_error_set(err, API_ERR_INVALID_REQUEST, NULL, "invalid_type",
                      "The request body must be a JSON object, but got %s "
                      "instead.",
                      type_name(body));
        goto out;
    }
    if (check_object(body, &c, request_fields, COUNT(request_fields)) != 0)
        goto out;
    if (check_cross(&c) != 0)
        goto out;
    req->tools = json_array_size(json_object_get(body, "tools")) > 0
                     ? json_object_get(body, "tools")
                     : NULL;
    req->tool_choice = nonnull(json_object_get(body, "tool_choice"));
    req->response_format = nonnull(json_object_get(body, "response_format"));
    req->limits = limits;
    rc = 0;
out:
    if (rc != 0) {
        /* A half-filled request must not reach anyone. */
        chat_request_cleanup(req);
        chat_request_reset(req);
    }
    return rc;
}

void chat_request_cleanup(struct chat_request *req)
{
    free(req->messages);
    req->messages = NULL;
    req->nmessages = 0;
}
