/* suggest: "did you mean" for names a user typed: the closest of the names
 * that would have been understood, when it is close enough to be a typo. */
#ifndef NEXUS_SUGGEST_H
#define NEXUS_SUGGEST_H

#include <stddef.h>

/* Returns the one of the n names closest to word by edit distance (an
 * insertion, deletion, substitution or swap of two neighbours each count
 * one), when that distance is at most a third of word's length (at least
 * one); otherwise NULL. Ties go to the earlier name. Borrowed from names.
 * Pure. */
const char *suggest_closest(const char *word, const char *const *names,
                            size_t n);

#endif
