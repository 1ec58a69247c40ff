/* checks_chat: the chat group: a plain chat completion, field by field,
 * and n choices. */
#ifndef CONFORM_CHECKS_CHAT_H
#define CONFORM_CHECKS_CHAT_H

#include "conform.h"

extern const struct group_def group_chat;

#endif
