/* validate: checks a chat completion request body against the documented
 * parameters and turns it into a plain struct the handler can trust. */
#ifndef NEXUS_VALIDATE_H
#define NEXUS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "budget.h"
#include "errors.h"

#define CHAT_MAX_STOP 4
#define CHAT_MAX_N 128

/* One message as the tokenizer sees it: pointers borrow from the request
 * body (valid while the body json_t lives). */
struct chat_message {
    const char *role;
    const char *name;         /* NULL if absent */
    const json_t *content;    /* string, array of parts, or NULL */
    const json_t *tool_calls; /* assistant tool_calls array or NULL */
    const char *tool_call_id; /* tool messages */
};

/* A validated request. Strings borrow from the body passed to
 * validate_chat_request; messages is owned (free with
 * chat_request_cleanup). */
struct chat_request {
    const char *model;
    struct chat_message *messages;
    size_t nmessages;
    bool stream;
    bool include_usage;  /* stream_options.include_usage */
    bool has_max_tokens; /* max_tokens or max_completion_tokens given */
    int64_t max_tokens;
    unsigned n; /* 1..CHAT_MAX_N */
    const char *stop[CHAT_MAX_STOP];
    size_t nstop;
    bool has_seed;
    int64_t seed;
    bool has_temperature;
    double temperature;
    bool has_top_p;
    double top_p;
    const char *user;      /* NULL if absent */
    bool logprobs;         /* return log probabilities of the tokens */
    unsigned top_logprobs; /* alternatives per token, 0..20 */
    /* Borrowed from the body; NULL when absent or null. */
    const json_t *tools;           /* non-empty array */
    const json_t *tool_choice;     /* string or object */
    const json_t *response_format; /* object */
    /* Not from the body: set by the handler when the model reasons, so
     * that the reply thinks (reasoning_content) before it answers. */
    bool reasoning;
    /* The generation budget the request was validated against (borrowed;
     * NULL: the defaults): completion_build spends within it. */
    const struct budget_limits *limits;
    /* Not from the body: tokenize_prompt's count once the handler made it
     * (for the rate limit's reservation), so that the reply does not count
     * the prompt again; 0: not counted yet. */
    uint64_t prompt_tokens;
};

/* Validates body (any JSON value) as a chat completion request. Returns 0
 * and fills req, or -1 and fills err (kind API_ERR_INVALID_REQUEST, param
 * naming the offending field, e.g. "messages[1].role"). */
int validate_chat_request(const json_t *body, struct chat_request *req,
                          struct api_error *err);
/* True when name is a top-level parameter of the chat request schema. */
bool validate_chat_knows(const char *name);
/* As validate_chat_request, with the tool and response_format schemas
 * checked against limits (NULL: the defaults; borrowed, and kept in req,
 * so it must outlive req): what no value satisfies, or what the budget
 * cannot hold, is a 400 naming the keyword
 * ("tools[0].function.parameters.properties.x.maximum"). */
int validate_chat_request_within(const json_t *body,
                                 const struct budget_limits *limits,
                                 struct chat_request *req,
                                 struct api_error *err);
/* Frees what validate_chat_request allocated in req. */
void chat_request_cleanup(struct chat_request *req);

#endif
