/* sample: builds a JSON value that satisfies a JSON Schema, so structured
 * outputs and tool-call arguments come back in the shape the client asked
 * for. Deterministic for a given schema, random state and budget; every
 * number a schema carries is range-checked before it is computed with. */
#ifndef NEXUS_SAMPLE_H
#define NEXUS_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "budget.h"

enum sample_fault_kind {
    SAMPLE_OK = 0,
    SAMPLE_EMPTY,  /* a keyword no value can satisfy (minimum > maximum) */
    SAMPLE_BUDGET, /* the value needs more than the budget holds */
    SAMPLE_DEPTH,  /* the schema nests deeper than the budget's depth */
    SAMPLE_CYCLE,  /* a required "$ref" makes the value contain itself */
    SAMPLE_OOM,
};

/* Why no value came out, and where: `where` is the keyword's path inside
 * the schema (".properties.x.maximum"; "" for the schema itself), `why` a
 * sentence for the client. */
struct sample_fault {
    enum sample_fault_kind kind;
    bool placed; /* where is final (internal to sample.c) */
    char where[128];
    char why[200];
};

/* Returns a new reference to a value valid against schema (local "$ref"s
 * resolve against schema itself), or NULL with *fault set. With state NULL
 * the value is the smallest the mock makes (no randomness: required
 * properties only, minItems items, numbers nearest 0), which is what
 * budget_check_schema measures; with a random state it is richer (every
 * property, a few more items, random words and numbers), and below a few
 * levels it is the smallest again. Spends from b. Handles type (and type
 * lists), properties, required, additionalProperties, min/maxProperties,
 * items, min/maxItems, enum, const, anyOf/oneOf (the first), allOf (objects
 * merged), minimum/maximum, exclusive bounds (draft 4 and 6), multipleOf,
 * min/maxLength and the formats date, date-time, email and uri; anything
 * else gets a string. Huge bounds are clamped: values are picked near 0,
 * or near the bound nearer 0, and stay inside. */
json_t *sample_from_schema(const json_t *schema, uint64_t *state,
                           struct budget *b, struct sample_fault *fault);

/* Checks every keyword of every schema inside `schema` (its $defs too,
 * whether used or not) for what cannot be honoured: an empty range, a
 * multipleOf that is not positive, an empty enum, a size beyond b. Spends
 * nothing. Returns 0, or -1 with *fault set. */
int sample_check(const json_t *schema, const struct budget *b,
                 struct sample_fault *fault);

#endif
