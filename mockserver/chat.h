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
/* Appends the non-streamed body answering with c and a newline to out:
 * byte for byte what jansson's compact dump of chat_completion_json(c)
 * writes, without building it (a profile of the chat path: building and
 * dumping the tree was a quarter of the mock's time). Returns 0, or -1
 * with out as it was when it cannot: c asks for log probabilities (left to
 * chat_completion_json), a text is not UTF-8 (which jansson refuses too),
 * or out refuses. c is only read. */
int chat_completion_render(const struct completion *c, struct buf *out);

/* What a stream is billed, copied into the stream so that it does not
 * depend on the fixture it was priced from. Plain data. */
struct chat_stream_bill {
    int64_t cost;           /* pico-USD: the whole completion, reserved */
    uint64_t prompt_tokens; /* as its usage reports them */
    int64_t price_in;       /* pico-USD per prompt token */
    int64_t price_out;      /* pico-USD per completion token */
};

/* Returns in *out a stream source over sse (sse.h) that carries the money
 * held for it. When the HTTP layer ends it, a stream that got every event
 * out is settled for bill->cost (at clock's wall time); one cut after some
 * events (its client gone, the server stopping, a failure) is settled for
 * its prompt tokens plus the completion tokens of the events that went
 * out, at most bill->cost; one that got none out (never started, or its
 * client left first) releases its hold. Takes sse and *hold (emptying it)
 * even on failure, when sse is freed and the hold released; sse may be
 * NULL (a stream that could not be made), which fails. b and clock are
 * borrowed and must outlive the source; bill is copied. Returns 0, or -1
 * with *out empty. */
int chat_stream_source(struct sse_stream *sse, struct billing *b,
                       struct clock *clock, struct billing_hold *hold,
                       const struct chat_stream_bill *bill, struct source *out);

#endif
