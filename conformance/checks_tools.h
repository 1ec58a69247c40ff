/* checks_tools: the tools group: a function forced with tool_choice is
 * called, well formed, plain and streamed as OpenAI streams it. */
#ifndef CONFORM_CHECKS_TOOLS_H
#define CONFORM_CHECKS_TOOLS_H

#include "conform.h"

extern const struct group_def group_tools;

#endif
