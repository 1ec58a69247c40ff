/* dbuf: a growable byte buffer with a hard cap, always NUL-terminated. */
#include "dbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prepares an empty buffer that refuses to grow past cap bytes. */
void dbuf_init(struct dbuf *b, size_t cap)
{
    b->ptr = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
    b->toobig = false;
}

/* Frees the bytes; the buffer is empty (and reusable) afterwards. */
void dbuf_cleanup(struct dbuf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->alloc = 0;
    b->toobig = false;
}

/* Forgets the content but keeps the memory and the cap. */
void dbuf_reset(struct dbuf *b)
{
    b->len = 0;
    b->toobig = false;
    if (b->ptr != NULL)
        b->ptr[0] = '\0';
}

/* Makes room for need more bytes plus the terminator, doubling so that
 * appends stay amortised constant time. */
static int dbuf_reserve(struct dbuf *b, size_t need)
{
    int err = -1;
    size_t want, n;
    char *p;

    if (need > b->cap - b->len) {
        b->toobig = true;
        goto out;
    }
    want = b->len + need + 1;
    if (want <= b->alloc) {
        err = 0;
        goto out;
    }
    n = b->alloc != 0 ? b->alloc : 64;
    while (n < want)
        n = n > (size_t)-1 / 2 ? want : n * 2;
    if (n > b->cap + 1)
        n = b->cap + 1;
    p = realloc(b->ptr, n);
    if (p == NULL)
        goto out;
    b->ptr = p;
    b->alloc = n;
    err = 0;
out:
    return err;
}

/* Appends len bytes. */
int dbuf_add(struct dbuf *b, const void *bytes, size_t len)
{
    int err = -1;

    if (dbuf_reserve(b, len) != 0)
        goto out;
    if (len > 0)
        memcpy(b->ptr + b->len, bytes, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    err = 0;
out:
    return err;
}

/* Appends a NUL-terminated string, like dbuf_add. */
int dbuf_adds(struct dbuf *b, const char *s)
{
    return dbuf_add(b, s, strlen(s));
}

/* Appends formatted text from a va_list, like dbuf_add. */
int dbuf_vaddf(struct dbuf *b, const char *fmt, va_list ap)
{
    int err = -1;
    int n;
    va_list again;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || dbuf_reserve(b, (size_t)n) != 0)
        goto out;
    if (vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, again) != n)
        goto out;
    b->len += (size_t)n;
    err = 0;
out:
    va_end(again);
    return err;
}

/* Appends formatted text, like dbuf_add. */
int dbuf_addf(struct dbuf *b, const char *fmt, ...)
{
    int err;
    va_list ap;

    va_start(ap, fmt);
    err = dbuf_vaddf(b, fmt, ap);
    va_end(ap);
    return err;
}

/* Returns the content, never NULL ("" when empty). */
const char *dbuf_str(const struct dbuf *b)
{
    return b->ptr != NULL ? b->ptr : "";
}

/* Hands the content to the caller (free() it) and empties the buffer. */
char *dbuf_take(struct dbuf *b)
{
    char *s = b->ptr;

    if (s == NULL)
        s = calloc(1, 1);
    b->ptr = NULL;
    b->len = 0;
    b->alloc = 0;
    b->toobig = false;
    return s;
}
