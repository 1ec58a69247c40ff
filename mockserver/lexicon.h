/* lexicon: the deterministic random source and word list the mock writes
 * its replies with; the same seed always gives the same words. */
#ifndef NEXUS_LEXICON_H
#define NEXUS_LEXICON_H

#include <stddef.h>
#include <stdint.h>

/* Advances *state (never 0) and returns the next 64 random bits. */
uint64_t lexicon_rand(uint64_t *state);
/* Returns a word of the lexicon (lower case ASCII, static). */
const char *lexicon_word(uint64_t *state);
/* lexicon_word, with the word's length in *len (the same word for the same
 * state). */
const char *lexicon_word_len(uint64_t *state, size_t *len);
/* FNV-1a over n bytes, continuing from h (start from LEXICON_HASH_INIT). */
uint64_t lexicon_hash(uint64_t h, const void *p, size_t n);

#define LEXICON_HASH_INIT UINT64_C(0xcbf29ce484222325)

#endif
