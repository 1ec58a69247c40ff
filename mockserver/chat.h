/* chat: POST /v1/chat/completions (the route is in routes.h): the body it
 * renders, and the stream source that carries a streamed answer's money to
 * its end. */
#ifndef NEXUS_CHAT_H
#define NEXUS_CHAT_H

#include <stdint.h>

#include <jansson.h>

#include "billing.h"
#include "source.h"

struct clock;
struct completion;
struct sse_stream;

/* Returns a new reference to the chat.completion object answering with c
 * (the non-streamed body), or NULL on OOM. c is only read. */
json_t *chat_completion_json(const struct completion *c);

/* Returns in *out a stream source over sse (sse.h) that carries the money
 * held for it: when the HTTP layer ends it, a stream that got any event
 * out is settled for cost (at clock's wall time) and one that got none
 * (never started, or its client left first) releases its hold. Takes sse
 * and *hold (emptying it) even on failure, when sse is freed and the hold
 * released; sse may be NULL (a stream that could not be made), which
 * fails. b and clock are borrowed and must outlive the source. Returns 0,
 * or -1 with *out empty. */
int chat_stream_source(struct sse_stream *sse, struct billing *b,
                       struct clock *clock, struct billing_hold *hold,
                       int64_t cost, struct source *out);

#endif
