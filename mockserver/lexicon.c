/* lexicon: xorshift64* randomness, FNV-1a hashing and the word list. */
#include "lexicon.h"

static const char *const words[] = {
    "the",     "mock",   "answers", "every",   "request",
    "with",    "a",      "steady",  "reply",   "so",
    "your",    "tests",  "can",     "trust",   "it",
    "model",   "stream", "tokens",  "arrive",  "in",
    "order",   "and",    "usage",   "adds",    "up",
    "exactly", "client", "retries", "after",   "limits",
    "balance", "falls",  "by",      "cost",    "of",
    "each",    "call",   "this",    "is",      "deterministic",
    "text",    "from",   "nexus",   "server",  "chat",
    "message", "prompt", "we",      "keep",    "same",
    "seed",    "gives",  "words",   "for",     "you",
    "to",      "check",  "when",    "ready",   "here",
    "simple",  "output", "fast",    "offline",
};

#define NWORDS (sizeof(words) / sizeof(words[0]))

uint64_t lexicon_rand(uint64_t *state)
{
    uint64_t s = *state ? *state : 1;

    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    *state = s;
    return s * UINT64_C(0x2545f4914f6cdd1d);
}

const char *lexicon_word(uint64_t *state)
{
    return words[lexicon_rand(state) % NWORDS];
}

uint64_t lexicon_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}
