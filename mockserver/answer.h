/* answer: what a scripted rule answers (rules.h), as a response. A status
 * rule is answered here whole, for the router, before any handler; for a
 * completion rule this gives chat.c the completion, its headers and the
 * delayed body of a slow non-streamed answer. */
#ifndef NEXUS_ANSWER_H
#define NEXUS_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "reply.h"
#include "router.h"
#include "rules.h"
#include "source.h"
#include "validate.h"

/* The Retry-After of a scripted 429 that sets none. */
#define ANSWER_RETRY_AFTER_MS 1000u

/* Answers req with hit's status rule: the rate limiter admits it first
 * (unless the rule says rate_limit: false; its 429 wins), then the rule's
 * error body (or raw body), its headers and Retry-After, after its
 * latency_ms when it has one (a whole answer from a timer: no thread
 * waits). Out of memory answers 500. */
void answer_status(struct app *app, struct request *req,
                   const struct rule_hit *hit, struct response *resp);

/* Composes the completion hit's completion rule answers creq with (body is
 * creq's parsed body): its content (a template rendered with the last user
 * message, the model, the rule's count and the turn), reasoning, tool
 * calls and deltas, for each of creq's n choices. Returns 0 and a new
 * completion in *out, or -1 on OOM. */
int answer_compose(const struct rule_hit *hit, const struct chat_request *creq,
                   const json_t *body, const char *id, int64_t created,
                   struct completion **out);

/* Adds a's extra headers to resp. */
void answer_headers(const struct rule_answer *a, struct response *resp);

/* Puts into *out a source that gives the len bytes at bytes (taken: freed
 * by the source, or here on failure) as one piece once delay_ms have
 * passed since the answer began (at once when hurried), for the WHOLE
 * framing. content_type is copied into the source, and *ctype points at
 * the copy, valid as long as the source. Returns 0, or -1 on OOM with
 * *out empty. */
int answer_delayed(char *bytes, size_t len, uint64_t delay_ms,
                   const char *content_type, struct source *out,
                   const char **ctype);

#endif
