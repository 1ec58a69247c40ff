/* fake_transport: a transport that answers from a script, with no socket,
 * so every check can be tested on recorded bytes. */
#ifndef CONFORM_TEST_FAKE_TRANSPORT_H
#define CONFORM_TEST_FAKE_TRANSPORT_H

#include <stddef.h>

#include "script.h"
#include "transport.h"

/* Returns a transport that plays s (borrowed) for paths under prefix
 * ("/v1"), handing bodies to the sink in pieces of piece bytes (0: whole)
 * so that parsers meet every split. Free with transport_free(). */
struct transport *fake_transport_new(struct script *s, const char *prefix,
                                     size_t piece);

#endif
