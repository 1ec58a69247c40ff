/* sse: renders a completion as the OpenAI chat.completion.chunk event
 * stream, one event at a time, with the pacing each event waits for. */
#ifndef NEXUS_SSE_H
#define NEXUS_SSE_H

#include <stdint.h>

#include "buf.h"
#include "reply.h"

struct sse_pacing {
    uint32_t ttft_ms;        /* before the first event */
    uint32_t tokens_per_sec; /* between content events; 0: no wait */
};

struct sse_stream;

/* Returns a stream over c, which it takes (even on failure), or NULL on
 * OOM. pacing may be NULL (no waits). */
struct sse_stream *sse_stream_new(struct completion *c,
                                  const struct sse_pacing *pacing);
/* Frees s and its completion; NULL is a no-op. */
void sse_stream_free(struct sse_stream *s);
/* How many milliseconds the next event should wait after the previous one
 * was sent (0 once sse_stream_hurry was called). */
uint32_t sse_stream_delay_ms(const struct sse_stream *s);
/* Drops every remaining wait, e.g. when the server shuts down. */
void sse_stream_hurry(struct sse_stream *s);
/* Appends the next event ("data: ...\n\n") to out. Returns 1 if it did, 0
 * when the stream is over (after "data: [DONE]"), -1 on OOM. */
int sse_stream_next(struct sse_stream *s, struct buf *out);

#endif
