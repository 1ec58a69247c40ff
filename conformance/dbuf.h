/* dbuf: a growable byte buffer with a hard cap, always NUL-terminated. */
#ifndef CONFORM_DBUF_H
#define CONFORM_DBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* A plain data carrier: ptr is owned by the buffer and freed by
 * dbuf_cleanup(). The bytes may contain NULs; len excludes the terminator. */
struct dbuf {
    char *ptr;
    size_t len;
    size_t alloc;
    size_t cap;  /* the most bytes the buffer may ever hold */
    bool toobig; /* an append was refused because of cap */
};

/* Prepares an empty buffer that refuses to grow past cap bytes. */
void dbuf_init(struct dbuf *b, size_t cap);
/* Frees the bytes; the buffer is empty (and reusable) afterwards. */
void dbuf_cleanup(struct dbuf *b);
/* Forgets the content but keeps the memory and the cap. */
void dbuf_reset(struct dbuf *b);
/* Appends len bytes. Returns 0, or -1 on OOM or when cap would be passed
 * (then nothing is appended and toobig is set). */
int dbuf_add(struct dbuf *b, const void *bytes, size_t len);
/* Appends a NUL-terminated string, like dbuf_add. */
int dbuf_adds(struct dbuf *b, const char *s);
/* Appends formatted text, like dbuf_add. */
int dbuf_addf(struct dbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends formatted text from a va_list, like dbuf_add. */
int dbuf_vaddf(struct dbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Returns the content, never NULL ("" when empty). Borrowed. */
const char *dbuf_str(const struct dbuf *b);
/* Hands the content to the caller (free() it) and empties the buffer.
 * Returns NULL on OOM. */
char *dbuf_take(struct dbuf *b);

#endif
