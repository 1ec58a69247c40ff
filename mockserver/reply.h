/* reply: the deterministic answer to a chat request: its content per choice,
 * where each choice stops and why, and the usage it costs. */
#ifndef NEXUS_REPLY_H
#define NEXUS_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validate.h"

/* A text cut into tokens: what usage counts and the pieces a stream sends
 * it in. */
struct reply_text {
    char *text; /* owned, NUL-terminated; NULL when absent */
    size_t len;
    size_t *tok_end; /* owned: end offset of each token in text */
    size_t ntok;
};

/* One function tool call. */
struct reply_tool_call {
    char *id;   /* owned */
    char *name; /* owned */
    struct reply_text arguments;
};

struct jsonw;

/* Writes a tool call's members into the object w has open: "id", "type"
 * ("function") and "function" with its name and len bytes of args (the
 * whole arguments, or "" in a stream's call header). */
void reply_call_write(struct jsonw *w, const struct reply_tool_call *call,
                      const char *args, size_t len);

/* One choice: reasoning, message content and tool calls, any of them, in
 * the order a stream sends them. */
struct reply_choice {
    struct reply_text reasoning;        /* text NULL: no reasoning_content */
    struct reply_text content;          /* text NULL: content null */
    struct reply_tool_call *tool_calls; /* owned, ntool_calls of them */
    size_t ntool_calls;
    const char *finish_reason; /* static: "stop", "length", "tool_calls", ... */
    json_t *deltas; /* owned; NULL, or scripted delta objects a stream sends
                       as they are, in place of the role and the pieces
                       (the fields above then say what they add up to) */
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
    uint64_t reasoning_tokens;  /* the part of completion_tokens reasoning */
    bool include_usage;
    bool logprobs;         /* answer log probabilities */
    unsigned top_logprobs; /* alternatives per token */
};

/* Builds the completion for req: the same request (model, messages, seed,
 * tools, response_format) always gets the same content; max_tokens and stop
 * then cut it. When req->reasoning is set, each choice first reasons
 * (reasoning_content, counted in completion_tokens and reasoning_tokens),
 * and max_tokens bounds reasoning and answer together. With tools the answer is
 * a call of the tool tool_choice names ("required": the first function tool;
 * "auto" or absent: the first function tool unless the last message is a tool
 * result; "none": text). response_format json_object answers {"reply": text};
 * json_schema answers a value generated from the schema. Each choice spends an
 * equal share of the generation budget req->limits (validation checked the
 * schemas against it): a generated value richer than the share holds is
 * replaced by the smallest one, and text whose tokens (and log probabilities)
 * the share cannot pay is cut there, with finish_reason "length". The request
 * is hashed once, whatever n is. Returns 0 and a new completion in *out
 * (free with completion_free), or -1 on OOM. */
int completion_build(const struct chat_request *req, const char *id,
                     int64_t created, struct completion **out);
/* Returns the most completion tokens completion_build can answer a
 * validated req with (all choices together): per choice, max_tokens or
 * what its share of the generation budget pays for (every token is paid
 * from it), times n. What the rate limiter reserves before the reply
 * exists. */
uint64_t completion_token_bound(const struct chat_request *req);
/* Frees c; NULL is a no-op. */
void completion_free(struct completion *c);
/* Returns a new reference to the usage object {"prompt_tokens",
 * "completion_tokens","total_tokens"}, with "completion_tokens_details":
 * {"reasoning_tokens"} when there are any, or NULL on OOM. */
json_t *completion_usage_json(const struct completion *c);
/* Returns a new reference to the logprobs object of tokens [from, to) of
 * ch's content: {"content":[{token, logprob, bytes, top_logprobs}],
 * "refusal":null}; null when content is null. NULL on OOM. The numbers are
 * deterministic and exact in binary (multiples of 1/4096). */
json_t *completion_logprobs_json(const struct completion *c,
                                 const struct reply_choice *ch, size_t from,
                                 size_t to);
/* Returns the prose the mock would answer before any cut, for choice
 * `index` of req, as a new string (free with free()) or NULL on OOM. */
char *reply_text(const struct chat_request *req, unsigned index);

/* One tool call of a composed reply. The strings are copied. */
struct reply_call_spec {
    const char *id;        /* NULL: "call_" and 16 hex digits derived from
                              the completion's id and the call's place */
    const char *name;      /* required */
    const char *arguments; /* the JSON text the client gets; NULL: "{}" */
};

/* One choice of a composed reply. The strings are copied. */
struct reply_choice_spec {
    const char *reasoning; /* NULL: no reasoning_content */
    const char *content;   /* NULL: content null */
    const struct reply_call_spec *tool_calls;
    size_t ntool_calls;
    const char *finish_reason; /* NULL: "tool_calls" if there are calls,
                                  else "stop"; otherwise one of "stop",
                                  "length", "tool_calls", "content_filter",
                                  "function_call" */
};

/* Usage a composed reply reports (and is billed for) instead of counting
 * its own. */
struct reply_usage {
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint64_t reasoning_tokens; /* part of completion_tokens */
};

/* Composes the completion answering req from given parts instead of
 * generating it (a scripted reply), so that usage, billing, logprobs and
 * streaming treat it as any other: nchoices choices (1..CHAT_MAX_N) from
 * choices, the model, include_usage and logprobs from req. Its texts are
 * cut into tokens by the mock's tokenizer, whole (max_tokens and stop do
 * not apply); unless usage is given, prompt_tokens counts req as for a
 * generated reply and completion_tokens counts every choice's reasoning,
 * content and arguments. Returns 0 and a new completion in *out (free with
 * completion_free), or -1 on OOM or a spec it cannot honour (a call with
 * no name, an unknown finish_reason, no choices). */
int completion_compose(const struct chat_request *req, const char *id,
                       int64_t created, const struct reply_choice_spec *choices,
                       unsigned nchoices, const struct reply_usage *usage,
                       struct completion **out);

#endif
