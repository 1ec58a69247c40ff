/* utf8: the one UTF-8 validator (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), for whole strings and for streams. */
#ifndef NEXUS_UTF8_H
#define NEXUS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The state of a check fed one byte at a time, so that a sequence split
 * across reads is judged whole. A plain data carrier: set it up with
 * utf8_stream_init. */
struct utf8_stream {
    unsigned need;    /* continuation bytes still owed */
    unsigned char lo; /* the range the next one must fall in (narrower */
    unsigned char hi; /* after E0, ED, F0 and F4) */
};

/* Starts a check: no sequence open. Cannot fail. */
void utf8_stream_init(struct utf8_stream *u);
/* Advances the check by the byte c. Returns false when c shows the stream
 * is not UTF-8: it broke an open sequence (c is then read afresh, as the
 * start of the next one) or it cannot start one. */
bool utf8_stream_step(struct utf8_stream *u, unsigned char c);
/* Ends the stream. Returns false when it stopped inside a sequence; the
 * check is ready for a new stream either way. */
bool utf8_stream_end(struct utf8_stream *u);

/* Length (1-4) of the valid sequence at the start of the avail bytes at s,
 * or 0 when they do not start one (a stray or cut-off byte, an overlong
 * form, a surrogate, a code point above U+10FFFF) or avail is 0. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);
/* How many of the n bytes at s, from the start, are whole valid
 * sequences: n when all of them are, else the offset of the first bad
 * byte. */
size_t utf8_valid_prefix(const char *s, size_t n);
/* How many of the n bytes at s, from the start, are printable ASCII other
 * than '"' and '\\' (0x20-0x7F but those two): the text a JSON string
 * holds as it is, which no writer escapes and no reader decodes or checks.
 * n when all of them are. Looks at 8 bytes a step. */
size_t utf8_json_plain(const char *s, size_t n);
/* True when the n bytes at s are all valid UTF-8. */
bool utf8_valid(const char *s, size_t n);
/* How many of the n bytes at s to keep so that a cut after them does not
 * leave a multi-byte character incomplete at the end (what a bounded copy
 * that stopped mid-character needs): n, or the offset of that character's
 * first byte. */
size_t utf8_trim_partial(const char *s, size_t n);
/* Makes the NUL-terminated s valid UTF-8 in place, for display: each byte
 * that starts no valid sequence becomes '?', so the length stays. */
void utf8_scrub(char *s);
/* Returns a copy of the n bytes at s made valid UTF-8 for display: each
 * byte that starts no valid sequence becomes U+FFFD. NUL-terminated (the
 * copy may hold NULs from s); its length goes to *len when len is not NULL.
 * The caller frees it; NULL on OOM. */
char *utf8_scrub_dup(const char *s, size_t n, size_t *len);

#endif
