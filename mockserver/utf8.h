/* utf8: the one UTF-8 validator the mock uses, for tokens and for client
 * text that must be made safe to put in a JSON body. */
#ifndef NEXUS_UTF8_H
#define NEXUS_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at the start of the avail bytes
 * at s, or 0 when they do not start one (stray or cut-off bytes, overlong
 * forms, surrogates, code points above U+10FFFF). avail must be > 0. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);
/* Drops a multi-byte sequence that a cut left incomplete at the end of s
 * (a bounded copy stopping mid-character). */
void utf8_trim_partial(char *s);
/* Makes the NUL-terminated s valid UTF-8 in place: each byte that starts
 * no valid sequence becomes '?'. */
void utf8_scrub(char *s);

#endif
