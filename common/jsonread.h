/* jsonread: a quick reader for the JSON documents jansson would read, that
 * builds the very tree json_loadb builds (same calls, same order) and
 * leaves everything else to jansson: bad JSON, and what it does not bother
 * with (numbers jansson would refuse or round through a long text, deep
 * nesting, \u0000). The profile that asked for it: json_loadb at 7% of the
 * mock's CPU per chat completion, most of it jansson's lexer, which takes
 * every byte through a stream with its own UTF-8 check and buffer. */
#ifndef NEXUS_JSONREAD_H
#define NEXUS_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* How deep arrays and objects may nest for the quick reader; deeper text
 * goes to jansson (whose own limit is JSON_PARSER_MAX_DEPTH). */
#define JSONREAD_MAX_DEPTH 64

/* Reads the len bytes at text (no NUL needed) as json_loadb(text, len, 0)
 * would: a top-level object or array, then only whitespace. Returns a new
 * reference to the same tree json_loadb returns (*oom false), or NULL with
 * *oom set when an allocation failed (the text may be fine), or NULL with
 * *oom false when the text is left to jansson: not JSON, or JSON the quick
 * reader does not take (see above). */
json_t *jsonread_doc(const char *text, size_t len, bool *oom);

#endif
