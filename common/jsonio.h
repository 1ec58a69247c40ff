/* jsonio: JSON text in and out through jansson, whole or not at all, with
 * out of memory told apart from bad input (jansson 2.14 hides it on both
 * sides; docs/ARCHITECTURE.md, "Out of memory", says where). */
#ifndef NEXUS_JSONIO_H
#define NEXUS_JSONIO_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "buf.h"

/* Wraps the allocator jansson has (its default, malloc and free, or one
 * set with json_set_alloc_funcs) so that a failed allocation is noted for
 * the thread that made it: what lets jsonio_loadb see the failures
 * jansson's parser does not report. Call it before any thread that uses
 * jansson starts; it may follow other jansson calls (the wrapper allocates
 * with the same allocator), and a second call does nothing. Without it
 * jsonio_loadb still tells the failures jansson does report. Cannot fail. */
void jsonio_init(void);

/* json_loadb that tells running out of memory apart from bad JSON.
 * Returns a new reference to the document, or NULL with err set as
 * json_loadb sets it and *oom saying whether an allocation failed while
 * parsing (the text may then be fine). A document parsed while an
 * allocation failed is dropped (NULL, *oom true): jansson's lexer goes on
 * without the bytes it could not keep. */
json_t *jsonio_loadb(const char *text, size_t len, size_t flags,
                     json_error_t *err, bool *oom);

/* Appends the JSON text of v (json_dumps flags) to b. Returns 0, or -1
 * when any part of it could not be appended (out of memory or past b's
 * cap), b then as it was before the call. json_dumps itself cannot be
 * trusted with this: when the allocation for an object's key fails, it
 * leaves the key out and goes on. */
BUF_MUST_CHECK int jsonio_append(struct buf *b, const json_t *v, size_t flags);

/* json_dumps, whole or not at all: returns the JSON text of v as a new
 * string (free with free()), or NULL when it could not be rendered whole
 * (out of memory, or v not an array or object without JSON_ENCODE_ANY). */
char *jsonio_dumps(const json_t *v, size_t flags);

#endif
