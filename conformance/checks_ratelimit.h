/* checks_ratelimit: the ratelimit group: with --rpm N, a 429 by request
 * N+1, with Retry-After, and x-ratelimit-* headers that agree. */
#ifndef CONFORM_CHECKS_RATELIMIT_H
#define CONFORM_CHECKS_RATELIMIT_H

#include "conform.h"

extern const struct group_def group_ratelimit;

#endif
