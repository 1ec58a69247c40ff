/* reply: the deterministic answer to a chat request: its content per choice,
 * where each choice stops and why, and the usage it costs. */
#ifndef NEXUS_REPLY_H
#define NEXUS_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validate.h"

/* One choice: message text, or (tool_name set) one function tool call
 * whose arguments are the text. */
struct reply_choice {
    char *content; /* owned, NUL-terminated */
    size_t len;
    size_t *tok_end; /* owned: end offset of each token in content */
    size_t ntok;
    const char *finish_reason; /* "stop", "length" or "tool_calls" */
    char *tool_name;           /* owned; NULL for a text answer */
    char tool_call_id[40];
};

/* A finished completion, independent of the request it came from, so a
 * stream can outlive the request body. */
struct completion {
    char id[48];
    char *model; /* owned */
    int64_t created;
    unsigned n;
    struct reply_choice *choices; /* owned, n of them */
    uint64_t prompt_tokens;
    uint64_t completion_tokens; /* summed over the choices */
    bool include_usage;
    bool logprobs;         /* answer log probabilities */
    unsigned top_logprobs; /* alternatives per token */
};

/* Builds the completion for req: the same request (model, messages, seed,
 * tools, response_format) always gets the same content; max_tokens and stop
 * then cut it. With tools the answer is a call of the tool tool_choice
 * names ("required": the first function tool; "auto" or absent: the first
 * function tool unless the last message is a tool result; "none": text).
 * response_format json_object answers {"reply": text}; json_schema answers
 * a value generated from the schema. Each choice spends an equal share of
 * the generation budget req->limits (validation checked the schemas
 * against it): a generated value richer than the share holds is replaced
 * by the smallest one, and text whose tokens (and log probabilities) the
 * share cannot pay is cut there, with finish_reason "length". The request
 * is hashed once, whatever n is. Returns 0 and a new completion in *out
 * (free with completion_free), or -1 on OOM. */
int completion_build(const struct chat_request *req, const char *id,
                     int64_t created, struct completion **out);
/* Returns the most completion tokens (all choices together) the
 * completion of a validated req can hold: max_tokens per choice where set,
 * else what one choice's share of the budget pays for. Known before the
 * completion is built, so that a token limit can reserve it. */
uint64_t completion_token_bound(const struct chat_request *req);
/* Frees c; NULL is a no-op. */
void completion_free(struct completion *c);
/* Returns a new reference to the usage object {"prompt_tokens",
 * "completion_tokens","total_tokens"}, or NULL on OOM. */
json_t *completion_usage_json(const struct completion *c);
/* Returns a new reference to the logprobs object of tokens [from, to) of
 * choice ch: {"content":[{token, logprob, bytes, top_logprobs}],
 * "refusal":null}; null for a tool call. NULL on OOM. The numbers are
 * deterministic and exact in binary (multiples of 1/4096). */
json_t *completion_logprobs_json(const struct completion *c,
                                 const struct reply_choice *ch, size_t from,
                                 size_t to);
/* Returns the prose the mock would answer before any cut, for choice
 * `index` of req, as a new string (free with free()) or NULL on OOM. */
char *reply_text(const struct chat_request *req, unsigned index);

#endif
