/* checks_stream: the stream group: SSE framing read byte-exactly, every
 * chunk, [DONE], and the usage chunk of stream_options.include_usage. */
#ifndef CONFORM_CHECKS_STREAM_H
#define CONFORM_CHECKS_STREAM_H

#include "conform.h"

extern const struct group_def group_stream;

#endif
