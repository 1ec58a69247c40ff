/* sse: renders a completion as the OpenAI chat.completion.chunk event
 * stream, one event at a time, with the pacing each event waits for. */
#ifndef NEXUS_SSE_H
#define NEXUS_SSE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "reply.h"
#include "source.h"

struct sse_pacing {
    uint32_t ttft_ms;        /* before the first event */
    uint32_t tokens_per_sec; /* between content events; 0: no wait */
    uint32_t jitter_ms;      /* each token step up to this much later */
    uint32_t seed;           /* chooses the jitter: the same seed, the same
                                delays */
};

struct sse_stream;

/* Returns a stream over c, which it takes (even on failure), or NULL on
 * OOM. pacing may be NULL (no waits). */
struct sse_stream *sse_stream_new(struct completion *c,
                                  const struct sse_pacing *pacing);
/* Frees s and its completion; NULL is a no-op. */
void sse_stream_free(struct sse_stream *s);
/* When the next event may be sent, in milliseconds after the stream began:
 * the role chunks and the first token at ttft_ms, token step k (all
 * choices' k-th tokens) at ttft_ms + k * 1000 / tokens_per_sec, anything
 * else at once (0); with jitter_ms, step k comes a further 0..jitter_ms
 * ms later, picked from the seed and k. Always 0 once sse_stream_hurry was
 * called. Counting
 * from the start, not from the previous event, keeps the rate exact over a
 * long stream and for rates above 1000 tokens per second. */
uint64_t sse_stream_due_ms(const struct sse_stream *s);
/* Drops every remaining wait, e.g. when the server shuts down. */
void sse_stream_hurry(struct sse_stream *s);
/* Appends the next event ("data: ...\n\n") to out. Returns 1 if it did, 0
 * when the stream is over (after "data: [DONE]"), -1 on OOM. */
int sse_stream_next(struct sse_stream *s, struct buf *out);
/* With on, renders every event with jansson, the token chunks too, which
 * otherwise come from a frame rendered once per choice (sse.c): the
 * reference those must equal byte for byte, for tests and benchmarks. */
void sse_stream_set_reference(struct sse_stream *s, bool on);
/* Returns the completion tokens (reasoning, content and tool-call
 * argument tokens; a call's header, the role, finish, usage and [DONE]
 * events carry none) in the stream's first `events` events, wherever the
 * stream stands: what a client that got only those was given. */
uint64_t sse_stream_tokens(const struct sse_stream *s, uint64_t events);
/* The stream as a source (source.h) that takes s: its end() frees s. NULL
 * gives no source (ops NULL). */
struct source sse_stream_source(struct sse_stream *s);

#endif
