/* fixes: for every check, what a server's maintainer changes to pass it,
 * in one sentence: the reports print it under each failure and warning. */
#ifndef CONFORM_FIXES_H
#define CONFORM_FIXES_H

#include <stddef.h>

/* Returns the fix of the check called id, or NULL when it has none.
 * Static storage. */
const char *fixes_get(const char *id);
/* The id of fix number i, for i < fixes_count() (so tests can find fixes
 * of checks that no longer exist). Static storage. */
const char *fixes_id(size_t i);
/* How many checks have a fix. */
size_t fixes_count(void);

#endif
