/* sample: builds a JSON value that satisfies a JSON Schema, so structured
 * outputs and tool-call arguments come back in the shape the client asked
 * for. Deterministic for a given schema and random state. */
#ifndef NEXUS_SAMPLE_H
#define NEXUS_SAMPLE_H

#include <stdint.h>

#include <jansson.h>

/* Returns a new reference to a value valid against schema (resolving
 * local "$ref"s against root), or NULL on OOM. Handles type (and type
 * lists), properties, required, items, minItems/maxItems, enum, const,
 * anyOf/oneOf/allOf, minimum/maximum and string formats date, date-time,
 * email and uri; anything it does not know gets a string. */
json_t *sample_from_schema(const json_t *schema, const json_t *root,
                           uint64_t *state);

#endif
