/* params: what a fixture says about request parameters the chat API does
 * not define (fixtures.h, struct fx_params): reject them (OpenAI's 400,
 * the default), drop them, or accept a listed set of vendor parameters
 * (top_k, enable_thinking, ...) of given types. Accepted and ignored ones
 * are removed from the body before validation, which then sees only the
 * parameters it knows. */
#ifndef NEXUS_PARAMS_H
#define NEXUS_PARAMS_H

#include <jansson.h>

#include "errors.h"
#include "fixtures.h"

/* Applies p to body (a request body; anything but an object is left to
 * validation): each top-level parameter the chat API does not define is
 * removed when p accepts it with the right type or p ignores unknown
 * ones, and kept (for validation to refuse) otherwise. Returns 0, or -1
 * with e filled (400 invalid_type naming the parameter) when an accepted
 * parameter has the wrong type. */
int params_apply(const struct fx_params *p, json_t *body, struct api_error *e);

#endif
