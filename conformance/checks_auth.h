/* checks_auth: the auth group: no header, a wrong scheme and an unknown
 * key are each refused with 401 and the error body. */
#ifndef CONFORM_CHECKS_AUTH_H
#define CONFORM_CHECKS_AUTH_H

#include "conform.h"

extern const struct group_def group_auth;

#endif
