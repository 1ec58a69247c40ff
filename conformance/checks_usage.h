/* checks_usage: the usage group: token counts add up, obey max_tokens,
 * grow with the prompt and agree between streamed and plain requests. */
#ifndef CONFORM_CHECKS_USAGE_H
#define CONFORM_CHECKS_USAGE_H

#include "conform.h"

extern const struct group_def group_usage;

#endif
