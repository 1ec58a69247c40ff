/* tokenize: the mock's documented, deterministic tokenizer, used for usage
 * accounting and for cutting streamed content into token-sized chunks. */
#ifndef NEXUS_TOKENIZE_H
#define NEXUS_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "validate.h"

/* Longest run of ASCII letters that is still one token. */
#define TOKENIZE_WORD_MAX 10
/* Longest run of ASCII digits that is still one token. */
#define TOKENIZE_DIGITS_MAX 3
/* Tokens every message costs on top of its text, as OpenAI counts. */
#define TOKENIZE_PER_MESSAGE 3
/* Tokens a message's name costs on top of the name's text. */
#define TOKENIZE_PER_NAME 1
/* Tokens that prime the assistant's reply, counted once per request. */
#define TOKENIZE_REPLY_PRIMING 3

/* Returns the end (exclusive) of the token that starts at pos < len.
 * The rules, applied at pos in this order:
 *   1. a space followed by an ASCII letter or digit joins that run;
 *   2. a run of ASCII letters is one token, cut every TOKENIZE_WORD_MAX;
 *   3. a run of ASCII digits is one token, cut every TOKENIZE_DIGITS_MAX;
 *   4. a run of whitespace is one token, leaving out a last space that
 *      rule 1 gives to the word after it;
 *   5. anything else is one token per UTF-8 character (a byte that does not
 *      start a valid sequence is a token of its own). */
size_t tokenize_next(const char *s, size_t len, size_t pos);
/* Returns how many tokens s[0..len) holds. */
uint64_t tokenize_count(const char *s, size_t len);
/* Returns the prompt tokens of a validated request: TOKENIZE_REPLY_PRIMING,
 * plus for each message TOKENIZE_PER_MESSAGE, its role, its text content
 * (string, or every text/refusal part), its name (+TOKENIZE_PER_NAME), its
 * tool_call_id and each tool call's function name and arguments. */
uint64_t tokenize_prompt(const struct chat_request *req);

#endif
