/* lexicon: xorshift64* randomness, FNV-1a hashing and the word list. */
#include "lexicon.h"

/* A word and its length, known at compile time. */
struct lexicon_entry {
    const char *text;
    size_t len;
};

#define WORD(w)                                                                \
    {                                                                          \
        w, sizeof(w) - 1                                                       \
    }

static const struct lexicon_entry words[] = {
    WORD("the"),     WORD("mock"),    WORD("answers"), WORD("every"),
    WORD("request"), WORD("with"),    WORD("a"),       WORD("steady"),
    WORD("reply"),   WORD("so"),      WORD("your"),    WORD("tests"),
    WORD("can"),     WORD("trust"),   WORD("it"),      WORD("model"),
    WORD("stream"),  WORD("tokens"),  WORD("arrive"),  WORD("in"),
    WORD("order"),   WORD("and"),     WORD("usage"),   WORD("adds"),
    WORD("up"),      WORD("exactly"), WORD("client"),  WORD("retries"),
    WORD("after"),   WORD("limits"),  WORD("balance"), WORD("falls"),
    WORD("by"),      WORD("cost"),    WORD("of"),      WORD("each"),
    WORD("call"),    WORD("this"),    WORD("is"),      WORD("deterministic"),
    WORD("text"),    WORD("from"),    WORD("nexus"),   WORD("server"),
    WORD("chat"),    WORD("message"), WORD("prompt"),  WORD("we"),
    WORD("keep"),    WORD("same"),    WORD("seed"),    WORD("gives"),
    WORD("words"),   WORD("for"),     WORD("you"),     WORD("to"),
    WORD("check"),   WORD("when"),    WORD("ready"),   WORD("here"),
    WORD("simple"),  WORD("output"),  WORD("fast"),    WORD("offline"),
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
    return words[lexicon_rand(state) % NWORDS].text;
}

const char *lexicon_word_len(uint64_t *state, size_t *len)
{
    const struct lexicon_entry *e = &words[lexicon_rand(state) % NWORDS];

    *len = e->len;
    return e->text;
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
