/* checks_models: the models group: the model list, its items, the model
 * under test, and GET /models/{id}. */
#ifndef CONFORM_CHECKS_MODELS_H
#define CONFORM_CHECKS_MODELS_H

#include "conform.h"

extern const struct group_def group_models;

#endif
