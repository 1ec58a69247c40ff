/* shape: small readers that say, in words, how a JSON value departs from
 * the shape the OpenAI spec gives it. */
#ifndef CONFORM_SHAPE_H
#define CONFORM_SHAPE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Parses a whole body as JSON. Returns a new reference, or NULL with the
 * parser's words in why and the offending byte in *offset. */
json_t *shape_parse(const char *bytes, size_t len, char *why, size_t n,
                    size_t *offset);
/* "string", "integer", "number", "object", "array", "boolean", "null", or
 * "missing" for NULL. */
const char *shape_type(const json_t *v);
/* True when v is a JSON integer (not 1.0). */
bool shape_is_int(const json_t *v);
/* True when v is an integer or a real. */
bool shape_is_number(const json_t *v);
/* True when v is a non-negative integer. */
bool shape_is_count(const json_t *v);
/* True when body is {"error":{"message":string,"type":string,
 * "param":string|null,"code":string|null}}; otherwise says why. */
bool shape_error_body(const json_t *body, char *why, size_t n);
/* Returns error.<field> of an error body as a string, or NULL. Borrowed. */
const char *shape_error_field(const json_t *body, const char *field);
/* True when the media type of a Content-Type value is type (parameters
 * such as charset ignored, any case). */
bool shape_media_type(const char *content_type, const char *type);
/* True when s is one of the finish_reason values the spec allows. */
bool shape_finish_reason(const char *s);
/* Checks the members a response message and a stream delta share, each
 * where present: content and refusal a string or null, tool_calls an
 * array. Returns true, or false with the member and its type in why. */
bool shape_message_members(const json_t *msg, char *why, size_t n);
/* Checks the optional members a completion and a chunk share, where
 * present: system_fingerprint a string, service_tier a ServiceTier value
 * or null. Returns true, or false saying why. */
bool shape_response_extras(const json_t *obj, char *why, size_t n);
/* Checks a CompletionUsage: an object with integer prompt_tokens,
 * completion_tokens and total_tokens, and *_tokens_details (when present
 * and not null) objects whose known counts are integers. Returns true, or
 * false saying why. */
bool shape_usage(const json_t *usage, char *why, size_t n);

#endif
