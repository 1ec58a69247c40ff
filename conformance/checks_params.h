/* checks_params: the params group: each invalid input gets 400 with the
 * error body, whose param names the field. */
#ifndef CONFORM_CHECKS_PARAMS_H
#define CONFORM_CHECKS_PARAMS_H

#include "conform.h"

extern const struct group_def group_params;

#endif
