/* checks_notfound: the notfound group: an unknown model gets 404 with the
 * error body, in chat and in GET /models/{id}. */
#ifndef CONFORM_CHECKS_NOTFOUND_H
#define CONFORM_CHECKS_NOTFOUND_H

#include "conform.h"

extern const struct group_def group_notfound;

#endif
