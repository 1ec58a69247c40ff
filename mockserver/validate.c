/* validate: the chat completions table: every parameter of a request
 * body, as vschema (the toolkit) walks it, filling a struct chat_request. */
#include "validate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "vschema.h"

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

/* What the chat checks fill as the walk goes (its c->user): the request,
 * and the facts that the cross-parameter rules need at the end. */
struct chat_vstate {
    struct chat_request *req;
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

/* Accepts a function or response format name: [a-zA-Z0-9_-]{1,64}. */
static int check_name(const json_t *v, struct vschema *c)
{
    const char *s;
    size_t i, n;
    int rc = -1;

    if (vschema_string_max(v, c, NAME_MAX_LEN) != 0)
        goto out;
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0) {
        vschema_fail(
            c, "empty_string",
            "Invalid '%s': empty string. Expected a string with minimum "
            "length 1, but got an empty string instead.",
            c->path);
        goto out;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
            vschema_fail(
                c, "invalid_value",
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
VSCHEMA_CHECKER_OF(check_service_tier, vschema_enum, service_tiers)

/* Accepts a reasoning_effort value. */
VSCHEMA_CHECKER_OF(check_reasoning_effort, vschema_enum, reasoning_efforts)

/* Accepts low, medium or high (verbosity, search_context_size). */
VSCHEMA_CHECKER_OF(check_low_medium_high, vschema_enum, low_medium_high)

/* Accepts one output modality. */
VSCHEMA_CHECKER_OF(check_modality, vschema_enum, modality_values)

/* Accepts a prompt_cache_retention value. */
VSCHEMA_CHECKER_OF(check_cache_retention, vschema_enum, cache_retentions)

/* Accepts a prompt_cache_options.ttl value. */
VSCHEMA_CHECKER_OF(check_cache_ttl, vschema_enum, cache_ttls)

/* Accepts a prompt_cache_options.mode value. */
VSCHEMA_CHECKER_OF(check_cache_mode, vschema_enum, cache_modes)

/* Accepts a prompt_cache_breakpoint.mode value. */
VSCHEMA_CHECKER_OF(check_breakpoint_mode, vschema_enum, breakpoint_modes)

/* Accepts an audio output format. */
VSCHEMA_CHECKER_OF(check_audio_format, vschema_enum, audio_formats)

/* Accepts an input_audio format. */
VSCHEMA_CHECKER_OF(check_input_audio_format, vschema_enum, input_audio_formats)

/* Accepts an image_url detail. */
VSCHEMA_CHECKER_OF(check_image_detail, vschema_enum, image_details)

/* Accepts an allowed_tools mode. */
VSCHEMA_CHECKER_OF(check_allowed_tools_mode, vschema_enum, allowed_tools_modes)

/* Accepts a custom tool grammar syntax. */
VSCHEMA_CHECKER_OF(check_grammar_syntax, vschema_enum, grammar_syntaxes)

/* Accepts a moderation mode. */
VSCHEMA_CHECKER_OF(check_moderation_mode, vschema_enum, moderation_modes)

/* Accepts the web search location type. */
VSCHEMA_CHECKER_OF(check_location_type, vschema_enum, location_types)

/* ---- Message content parts ---- */

static const struct vschema_field breakpoint_fields[] = {
    {"mode", VSCHEMA_REQUIRED, check_breakpoint_mode},
};

/* Accepts a prompt_cache_breakpoint object. */
VSCHEMA_OBJECT_CHECKER(check_breakpoint, breakpoint_fields)

static const struct vschema_field text_part_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"text", VSCHEMA_REQUIRED, vschema_string},
    {"prompt_cache_breakpoint", 0, check_breakpoint},
};

static const struct vschema_field image_url_fields[] = {
    {"url", VSCHEMA_REQUIRED, vschema_string},
    {"detail", 0, check_image_detail},
};

/* Accepts an image_url object. */
VSCHEMA_OBJECT_CHECKER(check_image_url, image_url_fields)

static const struct vschema_field image_part_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"image_url", VSCHEMA_REQUIRED, check_image_url},
    {"prompt_cache_breakpoint", 0, check_breakpoint},
};

static const struct vschema_field input_audio_fields[] = {
    {"data", VSCHEMA_REQUIRED, vschema_string},
    {"format", VSCHEMA_REQUIRED, check_input_audio_format},
};

/* Accepts an input_audio object. */
VSCHEMA_OBJECT_CHECKER(check_input_audio, input_audio_fields)

static const struct vschema_field audio_part_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"input_audio", VSCHEMA_REQUIRED, check_input_audio},
    {"prompt_cache_breakpoint", 0, check_breakpoint},
};

static const struct vschema_field file_fields[] = {
    {"filename", 0, vschema_string},
    {"file_data", 0, vschema_string},
    {"file_id", 0, vschema_string},
};

/* Accepts a file object. */
VSCHEMA_OBJECT_CHECKER(check_file, file_fields)

static const struct vschema_field file_part_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"file", VSCHEMA_REQUIRED, check_file},
    {"prompt_cache_breakpoint", 0, check_breakpoint},
};

static const struct vschema_field refusal_part_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"refusal", VSCHEMA_REQUIRED, vschema_string},
};

/* System, developer and tool messages (and predictions) take text only. */
static const struct vschema_variant text_parts[] = {
    {"text", text_part_fields, VSCHEMA_COUNT(text_part_fields)},
};

static const struct vschema_variant user_parts[] = {
    {"text", text_part_fields, VSCHEMA_COUNT(text_part_fields)},
    {"image_url", image_part_fields, VSCHEMA_COUNT(image_part_fields)},
    {"input_audio", audio_part_fields, VSCHEMA_COUNT(audio_part_fields)},
    {"file", file_part_fields, VSCHEMA_COUNT(file_part_fields)},
};

static const struct vschema_variant assistant_parts[] = {
    {"text", text_part_fields, VSCHEMA_COUNT(text_part_fields)},
    {"refusal", refusal_part_fields, VSCHEMA_COUNT(refusal_part_fields)},
};

/* Accepts a text content part. */
static int check_text_part(const json_t *v, struct vschema *c)
{
    return vschema_union(v, c, "type", text_parts, VSCHEMA_COUNT(text_parts),
                         NULL);
}

/* Accepts a user content part. */
static int check_user_part(const json_t *v, struct vschema *c)
{
    return vschema_union(v, c, "type", user_parts, VSCHEMA_COUNT(user_parts),
                         NULL);
}

/* Accepts an assistant content part. */
static int check_assistant_part(const json_t *v, struct vschema *c)
{
    return vschema_union(v, c, "type", assistant_parts,
                         VSCHEMA_COUNT(assistant_parts), NULL);
}

/* Accepts content as a string or a non-empty array of parts. */
static int check_content(const json_t *v, struct vschema *c,
                         vschema_check_fn part)
{
    int rc = 0;

    if (json_is_array(v))
        rc = vschema_array(v, c, 1, SIZE_MAX, part);
    else if (!json_is_string(v))
        rc = vschema_fail_type(c, v, "a string or an array");
    return rc;
}

/* Accepts content made of text only. */
VSCHEMA_CHECKER_OF(check_text_content, check_content, check_text_part)

/* Accepts user content. */
VSCHEMA_CHECKER_OF(check_user_content, check_content, check_user_part)

/* Accepts assistant content. */
VSCHEMA_CHECKER_OF(check_assistant_content, check_content, check_assistant_part)

/* ---- Tool calls an assistant message reports ---- */

static const struct vschema_field called_function_fields[] = {
    {"name", VSCHEMA_REQUIRED, vschema_string},
    {"arguments", VSCHEMA_REQUIRED, vschema_string},
};

/* Accepts {name, arguments}, both strings. */
VSCHEMA_OBJECT_CHECKER(check_called_function, called_function_fields)

static const struct vschema_field called_custom_fields[] = {
    {"name", VSCHEMA_REQUIRED, vschema_string},
    {"input", VSCHEMA_REQUIRED, vschema_string},
};

/* Accepts {name, input}, both strings. */
VSCHEMA_OBJECT_CHECKER(check_called_custom, called_custom_fields)

static const struct vschema_field function_call_made_fields[] = {
    {"id", VSCHEMA_REQUIRED, vschema_string},
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"function", VSCHEMA_REQUIRED, check_called_function},
};

static const struct vschema_field custom_call_made_fields[] = {
    {"id", VSCHEMA_REQUIRED, vschema_string},
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"custom", VSCHEMA_REQUIRED, check_called_custom},
};

static const struct vschema_variant tool_call_kinds[] = {
    {"function", function_call_made_fields,
     VSCHEMA_COUNT(function_call_made_fields)},
    {"custom", custom_call_made_fields, VSCHEMA_COUNT(custom_call_made_fields)},
};

/* Accepts one entry of an assistant message's tool_calls. */
static int check_tool_call(const json_t *v, struct vschema *c)
{
    return vschema_union(v, c, "type", tool_call_kinds,
                         VSCHEMA_COUNT(tool_call_kinds), NULL);
}

/* Accepts an assistant message's tool_calls. */
static int check_tool_calls(const json_t *v, struct vschema *c)
{
    return vschema_array(v, c, 0, SIZE_MAX, check_tool_call);
}

static const struct vschema_field audio_ref_fields[] = {
    {"id", VSCHEMA_REQUIRED, vschema_string},
};

/* Accepts {id}: a previous audio response or a custom voice. */
VSCHEMA_OBJECT_CHECKER(check_audio_ref, audio_ref_fields)

/* ---- Messages, one shape per role ---- */

/* System and developer messages have the same shape. */
static const struct vschema_field system_fields[] = {
    {"role", VSCHEMA_REQUIRED, vschema_any},
    {"content", VSCHEMA_REQUIRED, check_text_content},
    {"name", 0, vschema_string},
};

static const struct vschema_field user_fields[] = {
    {"role", VSCHEMA_REQUIRED, vschema_any},
    {"content", VSCHEMA_REQUIRED, check_user_content},
    {"name", 0, vschema_string},
};

static const struct vschema_field assistant_fields[] = {
    {"role", VSCHEMA_REQUIRED, vschema_any},
    {"content", VSCHEMA_NULLABLE, check_assistant_content},
    {"refusal", VSCHEMA_NULLABLE, vschema_string},
    {"name", 0, vschema_string},
    {"audio", VSCHEMA_NULLABLE, check_audio_ref},
    {"tool_calls", 0, check_tool_calls},
    {"function_call", VSCHEMA_NULLABLE, check_called_function},
};

static const struct vschema_field tool_fields[] = {
    {"role", VSCHEMA_REQUIRED, vschema_any},
    {"content", VSCHEMA_REQUIRED, check_text_content},
    {"tool_call_id", VSCHEMA_REQUIRED, vschema_string},
};

/* The deprecated function role: content is required but may be null. */
static const struct vschema_field function_fields[] = {
    {"role", VSCHEMA_REQUIRED, vschema_any},
    {"content", VSCHEMA_REQUIRED | VSCHEMA_NULLABLE, vschema_string},
    {"name", VSCHEMA_REQUIRED, vschema_string},
};

static const struct vschema_variant message_roles[] = {
    {"system", system_fields, VSCHEMA_COUNT(system_fields)},
    {"user", user_fields, VSCHEMA_COUNT(user_fields)},
    {"assistant", assistant_fields, VSCHEMA_COUNT(assistant_fields)},
    {"tool", tool_fields, VSCHEMA_COUNT(tool_fields)},
    {"developer", system_fields, VSCHEMA_COUNT(system_fields)},
    {"function", function_fields, VSCHEMA_COUNT(function_fields)},
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
static int check_message(const json_t *v, struct vschema *c)
{
    const struct vschema_variant *role = NULL;
    int rc = -1;

    if (vschema_union(v, c, "role", message_roles, VSCHEMA_COUNT(message_roles),
                      &role) != 0)
        goto out;
    if (strcmp(role->tag, "assistant") == 0 && !assistant_has_payload(v)) {
        vschema_fail_missing(c, "content");
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Copies the borrowed pointers the later stages need out of a message
 * that check_message accepted (out zeroed): one walk over its few members
 * rather than a lookup of each of the five (a profile of a two-message
 * request showed the lookups under check_messages at 0.6% of the mock's
 * CPU). */
static void message_fill(const json_t *m, struct chat_message *out)
{
    const char *key;
    json_t *v;

    /* jansson's iteration wants a mutable object; it is only read here. */
    json_object_foreach((json_t *)m, key, v)
    {
        if (strcmp(key, "role") == 0)
            out->role = json_string_value(v);
        else if (strcmp(key, "name") == 0)
            out->name = json_string_value(v);
        else if (strcmp(key, "content") == 0)
            out->content = json_is_null(v) ? NULL : v;
        else if (strcmp(key, "tool_calls") == 0)
            out->tool_calls = json_is_array(v) ? v : NULL;
        else if (strcmp(key, "tool_call_id") == 0)
            out->tool_call_id = json_string_value(v);
    }
}

/* Accepts the messages array and hands req a filled array of them. */
static int check_messages(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    struct chat_message *msgs = NULL;
    size_t i, n;
    int rc = -1;

    if (vschema_array(v, c, 1, SIZE_MAX, check_message) != 0)
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
    st->req->messages = msgs; /* req owns it now */
    st->req->nmessages = n;
    msgs = NULL;
    rc = 0;
out:
    free(msgs);
    return rc;
}

/* ---- Tools and tool choice ---- */

static const struct vschema_field function_object_fields[] = {
    {"name", VSCHEMA_REQUIRED, check_name},
    {"description", 0, vschema_string},
    {"parameters", 0, vschema_any_object},
    {"strict", VSCHEMA_NULLABLE, vschema_bool},
};

/* Accepts a FunctionObject. */
VSCHEMA_OBJECT_CHECKER(check_function_object, function_object_fields)

static const struct vschema_field grammar_fields[] = {
    {"definition", VSCHEMA_REQUIRED, vschema_string},
    {"syntax", VSCHEMA_REQUIRED, check_grammar_syntax},
};

/* Accepts a custom tool grammar. */
VSCHEMA_OBJECT_CHECKER(check_grammar, grammar_fields)

static const struct vschema_field format_text_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
};

static const struct vschema_field format_grammar_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"grammar", VSCHEMA_REQUIRED, check_grammar},
};

static const struct vschema_variant custom_formats[] = {
    {"text", format_text_fields, VSCHEMA_COUNT(format_text_fields)},
    {"grammar", format_grammar_fields, VSCHEMA_COUNT(format_grammar_fields)},
};

/* Accepts a custom tool's input format. */
static int check_custom_format(const json_t *v, struct vschema *c)
{
    return vschema_union(v, c, "type", custom_formats,
                         VSCHEMA_COUNT(custom_formats), NULL);
}

static const struct vschema_field custom_tool_fields[] = {
    {"name", VSCHEMA_REQUIRED, vschema_string},
    {"description", 0, vschema_string},
    {"format", 0, check_custom_format},
};

/* Accepts a custom tool definition. */
VSCHEMA_OBJECT_CHECKER(check_custom_tool, custom_tool_fields)

static const struct vschema_field function_tool_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"function", VSCHEMA_REQUIRED, check_function_object},
};

static const struct vschema_field custom_tool_entry_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"custom", VSCHEMA_REQUIRED, check_custom_tool},
};

static const struct vschema_variant tool_kinds[] = {
    {"function", function_tool_fields, VSCHEMA_COUNT(function_tool_fields)},
    {"custom", custom_tool_entry_fields,
     VSCHEMA_COUNT(custom_tool_entry_fields)},
};

/* Accepts one entry of tools. */
static int check_tool(const json_t *v, struct vschema *c)
{
    return vschema_union(v, c, "type", tool_kinds, VSCHEMA_COUNT(tool_kinds),
                         NULL);
}

/* Checks a schema the reply is generated from against the budget. */
static int check_schema(const json_t *schema, struct vschema *c,
                        const char *kind, const json_t *name, const char *code)
{
    struct chat_vstate *st = c->user;
    char owner[96];

    snprintf(owner, sizeof(owner), "%s '%s'", kind,
             json_string_value(name) ? json_string_value(name) : "");
    return budget_check_schema(schema, st->limits, st->req->n, &st->pool,
                               c->path, owner, code, c->err);
}

/* Accepts the tools array, then checks each function's parameters. */
static int check_tools(const json_t *v, struct vschema *c)
{
    const json_t *tool, *fn;
    size_t i, old;
    int rc = vschema_array(v, c, 0, SIZE_MAX, check_tool);

    json_array_foreach(v, i, tool)
    {
        if (rc != 0)
            break;
        fn = json_object_get(tool, "function");
        old = vschema_push_index(c, i);
        vschema_push_key(c, "function.parameters");
        rc = check_schema(json_object_get(fn, "parameters"), c, "function",
                          json_object_get(fn, "name"),
                          "invalid_function_parameters");
        vschema_pop(c, old);
    }
    return rc;
}

static const struct vschema_field named_fields[] = {
    {"name", VSCHEMA_REQUIRED, vschema_string},
};

/* Accepts {name}: a tool or function chosen by name. */
VSCHEMA_OBJECT_CHECKER(check_named, named_fields)

/* Accepts an allowed_tools entry: any object describing a tool. */
static int check_allowed_tools_list(const json_t *v, struct vschema *c)
{
    return vschema_array(v, c, 0, SIZE_MAX, vschema_any_object);
}

static const struct vschema_field allowed_tools_fields[] = {
    {"mode", VSCHEMA_REQUIRED, check_allowed_tools_mode},
    {"tools", VSCHEMA_REQUIRED, check_allowed_tools_list},
};

/* Accepts the allowed_tools object of tool_choice. */
VSCHEMA_OBJECT_CHECKER(check_allowed_tools, allowed_tools_fields)

static const struct vschema_field choice_allowed_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"allowed_tools", VSCHEMA_REQUIRED, check_allowed_tools},
};

static const struct vschema_field choice_function_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"function", VSCHEMA_REQUIRED, check_named},
};

static const struct vschema_field choice_custom_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"custom", VSCHEMA_REQUIRED, check_named},
};

static const struct vschema_variant tool_choices[] = {
    {"allowed_tools", choice_allowed_fields,
     VSCHEMA_COUNT(choice_allowed_fields)},
    {"function", choice_function_fields, VSCHEMA_COUNT(choice_function_fields)},
    {"custom", choice_custom_fields, VSCHEMA_COUNT(choice_custom_fields)},
};

/* Accepts tool_choice: a mode string or an object naming the tools. */
static int check_tool_choice(const json_t *v, struct vschema *c)
{
    int rc;

    if (json_is_string(v))
        rc = vschema_enum(v, c, tool_choice_modes);
    else if (json_is_object(v))
        rc = vschema_union(v, c, "type", tool_choices,
                           VSCHEMA_COUNT(tool_choices), NULL);
    else
        rc = vschema_fail_type(c, v, "a string or an object");
    return rc;
}

/* Accepts the deprecated function_call: "none", "auto" or {name}. */
static int check_function_call(const json_t *v, struct vschema *c)
{
    int rc;

    if (json_is_string(v))
        rc = vschema_enum(v, c, function_call_modes);
    else if (json_is_object(v))
        rc = check_named(v, c);
    else
        rc = vschema_fail_type(c, v, "a string or an object");
    return rc;
}

static const struct vschema_field function_def_fields[] = {
    {"name", VSCHEMA_REQUIRED, check_name},
    {"description", 0, vschema_string},
    {"parameters", 0, vschema_any_object},
};

/* Accepts one entry of the deprecated functions. */
VSCHEMA_OBJECT_CHECKER(check_function_def, function_def_fields)

/* Accepts the deprecated functions array (1..128 entries). */
static int check_functions(const json_t *v, struct vschema *c)
{
    return vschema_array(v, c, 1, FUNCTIONS_MAX, check_function_def);
}

/* ---- Output shaping ---- */

static const struct vschema_field json_schema_fields[] = {
    {"name", VSCHEMA_REQUIRED, check_name},
    {"description", 0, vschema_string},
    {"schema", 0, vschema_any_object},
    {"strict", VSCHEMA_NULLABLE, vschema_bool},
};

/* Accepts response_format.json_schema. */
VSCHEMA_OBJECT_CHECKER(check_json_schema, json_schema_fields)

static const struct vschema_field format_plain_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
};

static const struct vschema_field format_schema_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"json_schema", VSCHEMA_REQUIRED, check_json_schema},
};

static const struct vschema_variant response_formats[] = {
    {"text", format_plain_fields, VSCHEMA_COUNT(format_plain_fields)},
    {"json_schema", format_schema_fields, VSCHEMA_COUNT(format_schema_fields)},
    {"json_object", format_plain_fields, VSCHEMA_COUNT(format_plain_fields)},
};

/* Accepts response_format, then checks a json_schema's schema. */
static int check_response_format(const json_t *v, struct vschema *c)
{
    const json_t *js = json_object_get(v, "json_schema");
    int rc = vschema_union(v, c, "type", response_formats,
                           VSCHEMA_COUNT(response_formats), NULL);
    size_t old;

    if (rc == 0 && js != NULL) {
        old = vschema_push_key(c, "json_schema.schema");
        rc = check_schema(json_object_get(js, "schema"), c, "response_format",
                          json_object_get(js, "name"), "invalid_value");
        vschema_pop(c, old);
    }
    return rc;
}

/* Accepts a voice: a built-in or custom name, or {id}. */
static int check_voice(const json_t *v, struct vschema *c)
{
    int rc = 0;

    if (json_is_object(v))
        rc = check_audio_ref(v, c);
    else if (!json_is_string(v))
        rc = vschema_fail_type(c, v, "a string or an object");
    return rc;
}

static const struct vschema_field audio_fields[] = {
    {"voice", VSCHEMA_REQUIRED, check_voice},
    {"format", VSCHEMA_REQUIRED, check_audio_format},
};

/* Accepts the audio output parameters. */
VSCHEMA_OBJECT_CHECKER(check_audio, audio_fields)

static const struct vschema_field prediction_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"content", VSCHEMA_REQUIRED, check_text_content},
};

static const struct vschema_variant predictions[] = {
    {"content", prediction_fields, VSCHEMA_COUNT(prediction_fields)},
};

/* Accepts a predicted output. */
static int check_prediction(const json_t *v, struct vschema *c)
{
    return vschema_union(v, c, "type", predictions, VSCHEMA_COUNT(predictions),
                         NULL);
}

static const struct vschema_field cache_options_fields[] = {
    {"ttl", 0, check_cache_ttl},
    {"mode", 0, check_cache_mode},
};

/* Accepts prompt_cache_options. */
VSCHEMA_OBJECT_CHECKER(check_cache_options, cache_options_fields)

static const struct vschema_field moderation_config_fields[] = {
    {"mode", VSCHEMA_REQUIRED, check_moderation_mode},
};

/* Accepts a moderation input or output configuration. */
VSCHEMA_OBJECT_CHECKER(check_moderation_config, moderation_config_fields)

static const struct vschema_field moderation_policy_fields[] = {
    {"input", VSCHEMA_NULLABLE, check_moderation_config},
    {"output", VSCHEMA_NULLABLE, check_moderation_config},
};

/* Accepts a moderation policy. */
VSCHEMA_OBJECT_CHECKER(check_moderation_policy, moderation_policy_fields)

static const struct vschema_field moderation_fields[] = {
    {"model", VSCHEMA_REQUIRED, vschema_string},
    {"policy", VSCHEMA_NULLABLE, check_moderation_policy},
};

/* Accepts the moderation parameter. */
VSCHEMA_OBJECT_CHECKER(check_moderation, moderation_fields)

static const struct vschema_field location_fields[] = {
    {"country", 0, vschema_string},
    {"region", 0, vschema_string},
    {"city", 0, vschema_string},
    {"timezone", 0, vschema_string},
};

/* Accepts an approximate location. */
VSCHEMA_OBJECT_CHECKER(check_location, location_fields)

static const struct vschema_field user_location_fields[] = {
    {"type", VSCHEMA_REQUIRED, check_location_type},
    {"approximate", VSCHEMA_REQUIRED, check_location},
};

/* Accepts web_search_options.user_location. */
VSCHEMA_OBJECT_CHECKER(check_user_location, user_location_fields)

static const struct vschema_field web_search_fields[] = {
    {"user_location", VSCHEMA_NULLABLE, check_user_location},
    {"search_context_size", 0, check_low_medium_high},
};

/* Accepts web_search_options. */
VSCHEMA_OBJECT_CHECKER(check_web_search, web_search_fields)

/* Accepts a metadata value: a string of at most 512 characters. */
VSCHEMA_CHECKER_OF(check_metadata_value, vschema_string_max,
                   METADATA_MAX_VALUE_LEN)

/* Accepts a logit_bias value: an integer in -100..100. */
VSCHEMA_CHECKER_OF(check_bias_value, vschema_integer, LOGIT_BIAS_MIN,
                   LOGIT_BIAS_MAX, NULL)

/* Accepts metadata: at most 16 string values, keys up to 64 characters
 * and values up to 512. */
static int check_metadata(const json_t *v, struct vschema *c)
{
    const char *key;
    json_t *val;
    size_t n;
    int rc = -1;

    if (vschema_any_object(v, c) != 0)
        goto out;
    n = json_object_size(v);
    if (n > METADATA_MAX_KEYS) {
        vschema_fail(
            c, "object_above_max_properties",
            "Invalid '%s': too many properties. Expected an object with at "
            "most %d properties, but got an object with %zu properties "
            "instead.",
            c->path, METADATA_MAX_KEYS, n);
        goto out;
    }
    json_object_foreach((json_t *)v, key, val)
    {
        size_t keylen = vschema_chars(key, strlen(key));

        if (keylen > METADATA_MAX_KEY_LEN) {
            vschema_fail(
                c, "invalid_value",
                "Invalid '%s': keys must be at most %d characters long, but "
                "got a key with length %zu.",
                c->path, METADATA_MAX_KEY_LEN, keylen);
            goto out;
        }
        if (vschema_check_key(val, c, key, check_metadata_value) != 0)
            goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Accepts logit_bias: token ids mapped to integers in -100..100. */
static int check_logit_bias(const json_t *v, struct vschema *c)
{
    const char *key;
    json_t *val;
    int rc = -1;

    if (vschema_any_object(v, c) != 0)
        goto out;
    json_object_foreach((json_t *)v, key, val)
    {
        if (vschema_check_key(val, c, key, check_bias_value) != 0)
            goto out;
    }
    rc = 0;
out:
    return rc;
}

/* ---- Top-level parameters that fill the request ---- */

/* Accepts model: a non-empty string. */
static int check_model(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int rc = -1;

    if (vschema_string(v, c) != 0)
        goto out;
    if (json_string_length(v) == 0) {
        vschema_fail(
            c, "empty_string",
            "Invalid '%s': empty string. Expected a string with minimum "
            "length 1, but got an empty string instead.",
            c->path);
        goto out;
    }
    st->req->model = json_string_value(v);
    rc = 0;
out:
    return rc;
}

/* Accepts temperature in 0..2. */
static int check_temperature(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int rc = vschema_number(v, c, 0, 2, &st->req->temperature);

    st->req->has_temperature = rc == 0;
    return rc;
}

/* Accepts top_p in 0..1. */
static int check_top_p(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int rc = vschema_number(v, c, 0, 1, &st->req->top_p);

    st->req->has_top_p = rc == 0;
    return rc;
}

/* Accepts frequency_penalty or presence_penalty in -2..2. */
static int check_penalty(const json_t *v, struct vschema *c)
{
    return vschema_number(v, c, -2, 2, NULL);
}

/* Accepts max_tokens: an integer >= 1. */
static int check_max_tokens(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int rc = vschema_integer(v, c, 1, INT64_MAX, &st->plain_max_tokens);

    st->has_plain_max_tokens = rc == 0;
    return rc;
}

/* Accepts max_completion_tokens: an integer >= 1. */
static int check_max_completion_tokens(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int rc = vschema_integer(v, c, 1, INT64_MAX, &st->max_completion_tokens);

    st->has_max_completion_tokens = rc == 0;
    return rc;
}

/* Accepts n in 1..CHAT_MAX_N. */
static int check_n(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int64_t n = 1;
    int rc = vschema_integer(v, c, 1, CHAT_MAX_N, &n);

    st->req->n = (unsigned)n;
    return rc;
}

/* Accepts seed: any 64-bit integer. */
static int check_seed(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int rc = vschema_integer(v, c, INT64_MIN, INT64_MAX, &st->req->seed);

    st->req->has_seed = rc == 0;
    return rc;
}

/* Accepts logprobs, remembering it for top_logprobs. */
static int check_logprobs(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    st->logprobs = json_is_true(v);
    st->req->logprobs = st->logprobs;
    return vschema_bool(v, c);
}

/* Accepts top_logprobs in 0..20; logprobs is checked at the end. */
static int check_top_logprobs(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int64_t n = 0;
    int rc = vschema_integer(v, c, 0, TOP_LOGPROBS_MAX, &n);

    st->has_top_logprobs = true;
    st->req->top_logprobs = (unsigned)n;
    return rc;
}

/* Accepts user: a string. */
static int check_user(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    int rc = vschema_string(v, c);

    st->req->user = json_string_value(v);
    return rc;
}

/* Accepts safety_identifier: a string of at most 64 characters. */
static int check_safety_identifier(const json_t *v, struct vschema *c)
{
    return vschema_string_max(v, c, SAFETY_ID_MAX_LEN);
}

/* Accepts stream. */
static int check_stream(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    st->req->stream = json_is_true(v);
    return vschema_bool(v, c);
}

/* Accepts stream_options.include_usage. */
static int check_include_usage(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    st->req->include_usage = json_is_true(v);
    return vschema_bool(v, c);
}

static const struct vschema_field stream_options_fields[] = {
    {"include_usage", 0, check_include_usage},
    {"include_obfuscation", 0, vschema_bool},
};

/* Accepts stream_options; whether stream is on is checked at the end. */
static int check_stream_options(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    st->has_stream_options = true;
    return vschema_object(v, c, stream_options_fields,
                          VSCHEMA_COUNT(stream_options_fields));
}

/* Accepts one stop sequence. */
static int check_stop_item(const json_t *v, struct vschema *c)
{
    return vschema_string(v, c);
}

/* Accepts stop: a string or 1..CHAT_MAX_STOP strings, copied into req. */
static int check_stop(const json_t *v, struct vschema *c)
{
    struct chat_vstate *st = c->user;
    size_t i;
    int rc = -1;

    if (json_is_string(v)) {
        st->req->stop[0] = json_string_value(v);
        st->req->nstop = 1;
    } else if (json_is_array(v)) {
        if (vschema_array(v, c, 1, CHAT_MAX_STOP, check_stop_item) != 0)
            goto out;
        for (i = 0; i < json_array_size(v); i++)
            st->req->stop[i] = json_string_value(json_array_get(v, i));
        st->req->nstop = json_array_size(v);
    } else {
        vschema_fail_type(c, v, "a string or an array");
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Accepts the output modalities. */
static int check_modalities(const json_t *v, struct vschema *c)
{
    return vschema_array(v, c, 0, SIZE_MAX, check_modality);
}

/* Every property of CreateChatCompletionRequest in the excerpt, with those
 * inherited from CreateModelResponseProperties and ModelResponseProperties:
 * model and messages first, then alphabetical. */
static const struct vschema_field request_fields[] = {
    {"model", VSCHEMA_REQUIRED, check_model},
    {"messages", VSCHEMA_REQUIRED, check_messages},
    {"audio", VSCHEMA_NULLABLE, check_audio},
    {"frequency_penalty", VSCHEMA_NULLABLE, check_penalty},
    {"function_call", 0, check_function_call},
    {"functions", 0, check_functions},
    {"logit_bias", VSCHEMA_NULLABLE, check_logit_bias},
    {"logprobs", VSCHEMA_NULLABLE, check_logprobs},
    {"max_completion_tokens", VSCHEMA_NULLABLE, check_max_completion_tokens},
    {"max_tokens", VSCHEMA_NULLABLE, check_max_tokens},
    {"metadata", VSCHEMA_NULLABLE, check_metadata},
    {"modalities", VSCHEMA_NULLABLE, check_modalities},
    {"moderation", VSCHEMA_NULLABLE, check_moderation},
    {"n", VSCHEMA_NULLABLE, check_n},
    {"parallel_tool_calls", 0, vschema_bool},
    {"prediction", VSCHEMA_NULLABLE, check_prediction},
    {"presence_penalty", VSCHEMA_NULLABLE, check_penalty},
    {"prompt_cache_key", VSCHEMA_NULLABLE, vschema_string},
    {"prompt_cache_options", 0, check_cache_options},
    {"prompt_cache_retention", VSCHEMA_NULLABLE, check_cache_retention},
    {"reasoning_effort", VSCHEMA_NULLABLE, check_reasoning_effort},
    {"response_format", 0, check_response_format},
    {"safety_identifier", VSCHEMA_NULLABLE, check_safety_identifier},
    {"seed", VSCHEMA_NULLABLE, check_seed},
    {"service_tier", VSCHEMA_NULLABLE, check_service_tier},
    {"stop", VSCHEMA_NULLABLE, check_stop},
    {"store", VSCHEMA_NULLABLE, vschema_bool},
    {"stream", VSCHEMA_NULLABLE, check_stream},
    {"stream_options", VSCHEMA_NULLABLE, check_stream_options},
    {"temperature", VSCHEMA_NULLABLE, check_temperature},
    {"tool_choice", 0, check_tool_choice},
    {"tools", 0, check_tools},
    {"top_logprobs", VSCHEMA_NULLABLE, check_top_logprobs},
    {"top_p", VSCHEMA_NULLABLE, check_top_p},
    {"user", 0, check_user},
    {"verbosity", VSCHEMA_NULLABLE, check_low_medium_high},
    {"web_search_options", 0, check_web_search},
};

/* Applies the rules that tie parameters together, once each is valid on
 * its own, and settles max_tokens. */
static int check_cross(struct chat_vstate *st, struct api_error *err)
{
    int rc = -1;

    if (st->has_top_logprobs && !st->logprobs) {
        api_error_set(err, API_ERR_INVALID_REQUEST, "top_logprobs",
                      "invalid_value",
                      "Invalid value for 'top_logprobs': 'logprobs' must be "
                      "set to true when 'top_logprobs' is used.");
        goto out;
    }
    if (st->has_stream_options && !st->req->stream) {
        api_error_set(err, API_ERR_INVALID_REQUEST, "stream_options",
                      "invalid_value",
                      "The 'stream_options' parameter is only allowed when "
                      "'stream' is enabled.");
        goto out;
    }
    /* max_completion_tokens replaces the deprecated max_tokens. */
    if (st->has_max_completion_tokens) {
        st->req->has_max_tokens = true;
        st->req->max_tokens = st->max_completion_tokens;
    } else if (st->has_plain_max_tokens) {
        st->req->has_max_tokens = true;
        st->req->max_tokens = st->plain_max_tokens;
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
    struct chat_vstate st;
    int rc = -1;

    chat_request_reset(req);
    memset(&st, 0, sizeof(st));
    st.req = req;
    st.limits = limits;
    budget_share(limits, 1, &st.pool);
    if (vschema_validate(body, request_fields, VSCHEMA_COUNT(request_fields),
                         err, &st) != 0)
        goto out;
    if (check_cross(&st, err) != 0)
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

bool validate_chat_knows(const char *name)
{
    size_t i;

    for (i = 0; i < VSCHEMA_COUNT(request_fields); i++)
        if (strcmp(request_fields[i].name, name) == 0)
            return true;
    return false;
}

void chat_request_cleanup(struct chat_request *req)
{
    free(req->messages);
    req->messages = NULL;
    req->nmessages = 0;
}
