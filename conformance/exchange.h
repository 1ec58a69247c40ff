/* exchange: one request and its answer as the checks see them: the body
 * they sent, the bytes that came back, and those bytes parsed. */
#ifndef CONFORM_EXCHANGE_H
#define CONFORM_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "conform.h"
#include "buf.h"
#include "stream_collect.h"
#include "transport.h"

/* The longest line or event a stream may have: no chat chunk comes near
 * it; a longer one is a broken server. */
#define EXCHANGE_EVENT_MAX ((size_t)1 << 20)

struct exchange {
    struct http_request req;
    struct http_response resp;
    char *body;   /* owned: what req.body points at */
    char *auth;   /* owned: what req.authorization points at */
    char *path;   /* owned: what req.path points at */
    json_t *json; /* the response body parsed, or NULL */
    char json_error[200];
    size_t json_error_offset;
};

/* Prepares an empty exchange. */
void exchange_init(struct exchange *x);
/* Frees everything the exchange holds; it is empty afterwards. */
void exchange_cleanup(struct exchange *x);
/* Sends method path with the given Authorization value (NULL: none) and
 * body (stolen; NULL: none; serialised compactly), then parses the answer
 * as JSON unless it is a stream. */
void exchange_send(struct conform *c, struct exchange *x, const char *method,
                   const char *path, const char *authorization, json_t *body,
                   const struct http_sink *sink, bool stream);
/* Like exchange_send with a raw body (for malformed JSON). */
void exchange_send_raw(struct conform *c, struct exchange *x,
                       const char *method, const char *path,
                       const char *authorization, const char *raw);
/* Prepares log and sends body (stolen) with stream true and the main key
 * to POST /chat/completions, every event read into log, which the caller
 * cleans up with stream_log_cleanup(). */
void exchange_send_stream(struct conform *c, struct exchange *x, json_t *body,
                          struct stream_log *log);
/* Evidence of the exchange with the excerpt around focus. New reference. */
json_t *exchange_evidence(const struct exchange *x, size_t focus);
/* True when a complete HTTP response with that status came back. */
bool exchange_status_is(const struct exchange *x, long status);
/* What a check that provokes an error expects, and how grave each way of
 * missing it is (docs/conformance.md, "The policy"). */
struct refusal {
    long status;           /* the status the contract gives */
    enum finding accepted; /* a 2xx answer: FINDING_BREAK where the
                              contract makes the input invalid,
                              FINDING_SPEC where only the spec does */
    enum impact_id impact; /* what accepting does */
};

/* Records d as passed when the answer has the status and the OpenAI error
 * body. Otherwise: another error status breaks the contract's status table
 * (a failure, with what the clients measured do with that status); a 2xx
 * is want->accepted; the right status without the error body is a
 * deviation from the spec's text that the clients cope with (they raise
 * the same error). Returns true when the status was right. */
bool exchange_expect_refusal(struct conform *c, const struct check_def *d,
                             const struct exchange *x,
                             const struct refusal *want);
/* True when the answer's body is the OpenAI error body. */
bool exchange_has_error_body(const struct exchange *x);
/* exchange_expect_refusal with a 2xx breaking the contract, and d's
 * impact for it. */
bool exchange_expect_error(struct conform *c, const struct check_def *d,
                           const struct exchange *x, long status);

/* Returns {"model":model,"messages":[{"role":"user","content":text}]}
 * plus, when max_tokens > 0, "max_tokens". New reference or NULL. */
json_t *chat_body(const char *model, const char *text, long max_tokens);
/* Appends "/models/" and the percent-encoded id to out, so that ids with
 * '/' or ':' stay one path segment. Returns 0 or -1 when out is full. */
int models_path(const char *id, struct buf *out);

#endif
