/* jsonw: a small JSON writer for what jansson cannot print: numbers given
 * as exact decimal text (money), which jansson would turn into a double;
 * and for the hot paths where a profile showed jansson's building and
 * rendering most of the cost: the string escaper of the streamed token
 * chunks (sse.c) and the non-streamed chat completion (chat.c). It writes
 * what jansson's compact dump writes, byte for byte. Its tests parse every
 * output back with jansson. */
#ifndef NEXUS_JSONW_H
#define NEXUS_JSONW_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* How deep objects and arrays may nest. */
#define JSONW_MAX_DEPTH 8

/* A writer appending one JSON value to a caller's buffer. A plain data
 * carrier: set it up with jsonw_init. A call that cannot write (the
 * buffer refuses, a string is not UTF-8, a number is not a JSON number,
 * the calls are out of order) marks the writer failed and every later call
 * does nothing; jsonw_finish reports it. */
struct jsonw {
    struct buf *out;                  /* borrowed */
    unsigned depth;                   /* objects and arrays open */
    bool member[JSONW_MAX_DEPTH + 1]; /* a member was written at this depth */
    bool array[JSONW_MAX_DEPTH + 1];  /* the container at this depth is one */
    bool want_value;                  /* a key was written, its value is due */
    bool done;                        /* the top-level value is complete */
    bool failed;
};

/* Starts writing one value into out (appended to what it holds). Cannot
 * fail. */
void jsonw_init(struct jsonw *w, struct buf *out);
/* Opens an object (as the top-level value or a member's value). */
void jsonw_object_open(struct jsonw *w);
/* Closes the innermost object. */
void jsonw_object_close(struct jsonw *w);
/* Opens an array (as the top-level value, a member's value or an element);
 * each value written next is an element, until jsonw_array_close. */
void jsonw_array_open(struct jsonw *w);
/* Closes the innermost array. */
void jsonw_array_close(struct jsonw *w);
/* Writes a member's key; its value must follow. key is UTF-8 text. */
void jsonw_key(struct jsonw *w, const char *key);
/* Writes a string value, escaped. s is NUL-terminated UTF-8 text. */
void jsonw_string(struct jsonw *w, const char *s);
/* Writes a string value of len bytes of s (NULs allowed, as \u0000), or
 * null when s is NULL. */
void jsonw_stringn(struct jsonw *w, const char *s, size_t len);
/* Writes a number value exactly as the text says ("0.00000015"). text
 * must follow the JSON number grammar. */
void jsonw_number(struct jsonw *w, const char *text);
/* Writes an integer value in decimal, as jansson prints a json_int_t. */
void jsonw_int(struct jsonw *w, long long v);
/* Writes null. */
void jsonw_null(struct jsonw *w);
/* Appends the len bytes of s (NULs allowed) escaped as the inside of a
 * JSON string, byte for byte as jansson 2.14's compact dump writes them:
 * '"' and '\\' after a backslash; \b \t \n \f \r as such; the other
 * control characters as \u00XX (upper-case hex); '/', DEL and UTF-8
 * unchanged. Returns 0, or -1 when s is not UTF-8 (nothing appended) or
 * the buffer refuses (part of it may have been appended). */
int jsonw_escape(struct buf *out, const char *s, size_t len);
/* ---- For a renderer that writes the fixed parts of its value as text
 * (the chat answer) and only its variable parts through these: each
 * appends what the writer would write for the value, and returns 0, or -1
 * (the buffer refused, or s is not UTF-8: part of it may have been
 * appended). ---- */

/* Appends len bytes of s as a JSON string, quotes included, or null when
 * s is NULL. */
int jsonw_put_string(struct buf *out, const char *s, size_t len);
/* Appends v in decimal, as jsonw_int writes it. */
int jsonw_put_int(struct buf *out, long long v);
/* Returns 0 when one complete value was written, or -1 (a call failed,
 * or an object is still open); on -1 what was appended is not JSON. */
int jsonw_finish(const struct jsonw *w);

#endif
