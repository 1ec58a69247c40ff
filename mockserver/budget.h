/* budget: the most work one request may ask for: the JSON values and bytes
 * its answer is made of and how deep a schema is followed. Each choice gets
 * an equal share; sample.c and reply.c spend it; a client's schema is
 * checked against it at validation, before the request counts anywhere. */
#ifndef NEXUS_BUDGET_H
#define NEXUS_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "errors.h"

/* Defaults of --max-gen-nodes, --max-gen-bytes and --max-schema-depth:
 * about a model's longest answer, and a few milliseconds of work. */
#define BUDGET_DEFAULT_NODES 8192u
#define BUDGET_DEFAULT_BYTES (256u * 1024u)
#define BUDGET_DEFAULT_DEPTH 32u
/* Every token of an answer counts as this many values: streamed, each is
 * one chunk, whatever the values it was generated from. */
#define BUDGET_TOKEN_NODES 1u

/* The limits of one request (all its choices together). A field left 0
 * means its default. */
struct budget_limits {
    uint64_t max_nodes; /* JSON values generated */
    uint64_t max_bytes; /* bytes of content, arguments and log probabilities */
    unsigned max_depth; /* schema levels followed, $ref hops included */
};

/* What is left to spend. Plain data: copy it to try something. */
struct budget {
    uint64_t nodes;
    uint64_t bytes;
    unsigned depth; /* the deepest level a schema may be followed to */
};

/* The defaults, for callers given no limits. */
extern const struct budget_limits budget_defaults;

/* Sets b to one choice's share of lim (NULL, or a field 0: the defaults)
 * when the answer has n choices (0 counts as 1): values and bytes divided
 * by n. */
void budget_share(const struct budget_limits *lim, unsigned n,
                  struct budget *b);
/* Takes nodes and bytes from b. Returns true, or false (b unchanged) when b
 * holds less. */
bool budget_spend(struct budget *b, uint64_t nodes, uint64_t bytes);

/* Checks that the JSON Schema `schema` (NULL: none, which passes) can be
 * answered within lim for an answer of n choices: every keyword can be
 * honoured (a range no value lies in, or a size beyond the budget, cannot)
 * and the smallest value the mock would generate fits one choice's share.
 * `pool` (from budget_share(lim, 1)) is shared by every schema of one
 * request and bounds the checking itself. Returns 0, or -1 with err set: a
 * 400 whose param is `param` followed by the keyword's path inside the
 * schema, code `code`, and a message naming `owner` ("function 'f'"); or a
 * 500 on OOM. */
int budget_check_schema(const json_t *schema, const struct budget_limits *lim,
                        unsigned n, struct budget *pool, const char *param,
                        const char *owner, const char *code,
                        struct api_error *err);

#endif
