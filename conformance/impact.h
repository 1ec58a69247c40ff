/* impact: the catalogue of what a deviation does to real clients, each
 * outcome either measured (docs/client-impact.md, the columns openai,
 * ai-sdk and langchain) or read from public SDK source
 * (docs/client-behaviour.md). Checks name an entry; reports render it. */
#ifndef CONFORM_IMPACT_H
#define CONFORM_IMPACT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"

/* The most client outcomes one entry holds. */
#define IMPACT_MAX_EFFECTS 5

/* One client's outcome. Static strings. */
struct impact_effect {
    /* A column of the matrix ("openai", "ai-sdk", "langchain"): measured;
     * or "openai-python", "openai-go", "openai-java": read from source.
     * NULL ends the list. */
    const char *client;
    const char *effect; /* what its user gets: "throws SyntaxError" */
    const char *from;   /* NULL when measured; else the public source:
                           "openai-python 3.3.1 src/openai/_streaming.py" */
};

/* One consequence of one deviation. Static. */
struct impact {
    const char *id;          /* stable: "stream.done-present/malformed" */
    const char *check;       /* the check whose verdicts carry it, or
                                "group.*" for every check of a group */
    const char *consequence; /* for every user, whatever the client; or
                                NULL */
    struct impact_effect effects[IMPACT_MAX_EFFECTS];
};

enum impact_id {
    IMPACT_NONE = 0,
    IMPACT_MODELS_5XX,
    IMPACT_MODELS_NOT_HTTP,
    IMPACT_MODELS_NOT_LIST,
    IMPACT_MODELS_ID,
    IMPACT_MODELS_CHOSEN,
    IMPACT_MODELS_RETRIEVE,
    IMPACT_CHAT_5XX,
    IMPACT_CHAT_TIMEOUT,
    IMPACT_CHAT_NOT_JSON_LABEL,
    IMPACT_CHAT_NOT_JSON,
    IMPACT_CHAT_ID,
    IMPACT_CHAT_CREATED,
    IMPACT_CHAT_MODEL,
    IMPACT_CHAT_CHOICES,
    IMPACT_CHAT_CHOICES_EMPTY,
    IMPACT_CHAT_ROLE,
    IMPACT_CHAT_ROLE_MISSING,
    IMPACT_CHAT_TOOL_CALLS,
    IMPACT_CHAT_CONTENT,
    IMPACT_CHAT_USAGE_TYPE,
    IMPACT_CHAT_REQUEST_ID,
    IMPACT_STREAM_5XX,
    IMPACT_STREAM_ENDLESS,
    IMPACT_STREAM_NO_EVENTS,
    IMPACT_STREAM_DROPPED,
    IMPACT_STREAM_UTF8,
    IMPACT_STREAM_CR,
    IMPACT_STREAM_MIXED,
    IMPACT_STREAM_EVENT_ONLY,
    IMPACT_STREAM_META_ONLY,
    IMPACT_STREAM_BOM,
    IMPACT_STREAM_ID,
    IMPACT_STREAM_NOT_JSON,
    IMPACT_STREAM_NOT_OBJECT,
    IMPACT_STREAM_ERROR_KEY,
    IMPACT_STREAM_CHUNK_TYPES,
    IMPACT_STREAM_DELTA_CONTENT,
    IMPACT_STREAM_DELTA_TOOL_CALLS,
    IMPACT_STREAM_ROLE,
    IMPACT_STREAM_NO_FINISH,
    IMPACT_STREAM_FINISH_TWICE,
    IMPACT_STREAM_DONE_MALFORMED,
    IMPACT_STREAM_AFTER_DONE,
    IMPACT_STREAM_HELD,
    IMPACT_STREAM_USAGE_TYPE,
    IMPACT_STREAM_NO_USAGE,
    IMPACT_USAGE_MISSING,
    IMPACT_USAGE_TOTAL,
    IMPACT_USAGE_MAX_TOKENS,
    IMPACT_USAGE_LENGTH,
    IMPACT_USAGE_COUNT,
    IMPACT_USAGE_STREAM,
    IMPACT_PARAMS_ACCEPTED,
    IMPACT_PARAMS_422,
    IMPACT_AUTH_ACCEPTED,
    IMPACT_AUTH_STATUS,
    IMPACT_NOTFOUND_400,
    IMPACT_BILLING_SHAPE,
    IMPACT_BILLING_CHARGE,
    IMPACT_BILLING_SERVED,
    IMPACT_RATELIMIT_NEVER,
    IMPACT_RETRY_AFTER_MISSING,
    IMPACT_RETRY_AFTER_MS_ONLY,
    IMPACT_RETRY_AFTER_LONG,
    IMPACT_RATELIMIT_EARLY,
    IMPACT_STREAM_ERROR_EVENT,
    IMPACT_PARAMS_STREAM_ERROR,
    IMPACT_USAGE_UNCOUNTED,
    IMPACT_TOOLS_IGNORED,
    IMPACT_TOOLS_ARGS_OBJECT,
    IMPACT_TOOLS_ARGS_TEXT,
    IMPACT_TOOLS_STREAM_INDEX,
    IMPACT_TOOLS_STREAM_ARGS,
    IMPACT_TOOLS_STREAM_FINISH,
    IMPACT_FORMAT_JSON,
    IMPACT_COUNT
};

/* The entry for id, or NULL for IMPACT_NONE (and out of range). Static. */
const struct impact *impact_get(enum impact_id id);
/* True when im is made for the check called id (its own, or its group's
 * "group.*"). */
bool impact_for(const struct impact *im, const char *id);
/* True when client is a column of the measured matrix. */
bool impact_is_measured(const char *client);
/* The name a report gives client ("the AI SDK" for "ai-sdk"). Static; the
 * client itself when it has no other name. */
const char *impact_client_name(const char *client);
/* Appends the words of the entries (n of them; IMPACT_NONE ones skipped),
 * joined by "; ": "the AI SDK throws X (measured); openai-python raises Y
 * (from source: openai-python 3.3.1 src/openai/_streaming.py)". Appends
 * nothing when they name nothing. Returns 0 or -1 when out is full. */
int impact_describe(const enum impact_id *ids, size_t n, struct buf *out);
/* The entries as JSON: [{"id","check","consequence","effects":[{"client",
 * "effect","measured","from"}]}], IMPACT_NONE ones skipped. New reference,
 * or NULL on OOM. */
json_t *impact_json(const enum impact_id *ids, size_t n);

#endif
