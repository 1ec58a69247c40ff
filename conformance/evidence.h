/* evidence: the request and an excerpt of the response that a check's
 * verdict rests on, as JSON for the reports. */
#ifndef CONFORM_EVIDENCE_H
#define CONFORM_EVIDENCE_H

#include <stddef.h>

#include <jansson.h>

#include "transport.h"

/* No offending byte: the excerpt starts at the beginning of the body. */
#define EVIDENCE_NO_FOCUS ((size_t)-1)

/* Returns {"request":{...},"response":{...}} for one exchange, with the
 * body excerpt centred on byte focus (or EVIDENCE_NO_FOCUS), and then
 * "offending_offset" (the byte in the whole body) and "offending_at" (where
 * its text begins in the excerpt string). The API key is redacted. New
 * reference, or NULL on OOM; resp may be NULL. */
json_t *evidence_new(const struct http_request *req,
                     const struct http_response *resp, size_t focus);
/* Returns a JSON string showing bytes[0..len) readably: invalid UTF-8 and
 * control bytes other than TAB, LF and CR become the text \xNN, so that
 * the offending bytes stay visible in every report. New reference. */
json_t *evidence_bytes(const char *bytes, size_t len);
/* Returns the excerpt of at most window bytes around focus, marked with
 * "..." where cut. New reference. */
json_t *evidence_excerpt(const char *bytes, size_t len, size_t focus,
                         size_t window);
/* Like evidence_excerpt, and sets *mark to where the text of byte focus
 * begins in the excerpt's string (in bytes), or EVIDENCE_NO_FOCUS when the
 * excerpt does not hold it. */
json_t *evidence_excerpt_marked(const char *bytes, size_t len, size_t focus,
                                size_t window, size_t *mark);
/* Returns the offset of the first byte that does not begin a valid UTF-8
 * sequence, or EVIDENCE_NO_FOCUS when all of bytes is UTF-8. */
size_t evidence_utf8_error(const char *bytes, size_t len);
/* Writes into out (size n) the Authorization value with the key hidden:
 * the scheme and the key's first four characters stay. */
void evidence_redact(const char *authorization, char *out, size_t n);
/* Sets ev[key] = value (stolen, even on failure); ev may be NULL. */
void evidence_set(json_t *ev, const char *key, json_t *value);

#endif
