/* checks_format: the format group: response_format json_object and
 * json_schema are honoured (the reply parses, and fits the schema) or
 * refused. */
#ifndef CONFORM_CHECKS_FORMAT_H
#define CONFORM_CHECKS_FORMAT_H

#include "conform.h"

extern const struct group_def group_format;

#endif
