/* checks_billing: the billing group (AI Nexus profile): GET /balance,
 * what a billed request does to it, and 402 for an empty balance. */
#ifndef CONFORM_CHECKS_BILLING_H
#define CONFORM_CHECKS_BILLING_H

#include "conform.h"

extern const struct group_def group_billing;

#endif
