/* shape: small readers that say, in words, how a JSON value departs from
 * the shape the OpenAI spec gives it. */
#ifndef CONFORM_SHAPE_H
#define CONFORM_SHAPE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "finding.h"

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
/* Notes in w how a usage member (where is its name in the words, e.g.
 * "usage" or "event 3: usage") departs from CompletionUsage as the clients
 * read it (docs/client-behaviour.md#response-schemas): not an object, or a
 * count or details member that is no number or object, breaks them
 * (FINDING_BREAK with the impact breaks); a count that is a number but not
 * an integer is the spec's text only (FINDING_SPEC); null, for the usage,
 * a details object or a count, is typed optional (FINDING_OPTIONAL).
 * Absent usage notes nothing. focus goes with the finding. */
void shape_usage_note(const json_t *usage, const char *where,
                      enum impact_id breaks, size_t focus,
                      struct finding_worst *w);
/* Notes in w how system_fingerprint and service_tier of obj (a completion
 * or a chunk; where names it in the words) depart from the spec: null
 * system_fingerprint is typed optional (FINDING_OPTIONAL); another type,
 * or a service_tier the spec does not list, is the spec's text only
 * (FINDING_SPEC). */
void shape_extras_note(const json_t *obj, const char *where, size_t focus,
                       struct finding_worst *w);

#endif
