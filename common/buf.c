/* buf: a growable byte buffer with a hard cap, left as it was on failure. */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* The first allocation; doubling from here keeps appends amortised O(1). */
#define BUF_FIRST_ALLOC 64

/* Prepares an empty buffer that will refuse to hold more than max bytes. */
void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
    b->toobig = false;
}

/* Frees the bytes; the buffer is empty and reusable. */
void buf_cleanup(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->toobig = false;
}

/* Empties the buffer and clears toobig, keeping the memory. */
void buf_reset(struct buf *b)
{
    b->len = 0;
    b->toobig = false;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Makes room for n more bytes plus the terminator, never allocating more
 * than max + 1 bytes. Changes nothing but the allocation (and toobig). */
static int buf_reserve(struct buf *b, size_t n)
{
    int err = -1;
    size_t want, grown;
    char *p;

    if (n > b->max - b->len) {
        b->toobig = true;
        goto out;
    }
    if (b->len + n == SIZE_MAX) /* max is SIZE_MAX: no room for the NUL */
        goto out;
    want = b->len + n + 1;
    if (want <= b->alloc) {
        err = 0;
        goto out;
    }
    grown = b->alloc != 0 ? b->alloc : BUF_FIRST_ALLOC;
    while (grown < want)
        grown = grown > SIZE_MAX / 2 ? want : grown * 2;
    if (b->max < SIZE_MAX && grown > b->max + 1)
        grown = b->max + 1;
    p = realloc(b->data, grown);
    if (p == NULL)
        goto out;
    if (b->data == NULL)
        p[0] = '\0';
    b->data = p;
    b->alloc = grown;
    err = 0;
out:
    return err;
}

/* Appends n bytes. */
int buf_append(struct buf *b, const void *bytes, size_t n)
{
    int err = -1;

    if (buf_reserve(b, n) != 0)
        goto out;
    if (n > 0)
        memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
    err = 0;
out:
    return err;
}

/* Makes room for n more bytes. */
int buf_grow(struct buf *b, size_t n)
{
    return buf_reserve(b, n);
}

/* Appends n bytes the caller writes at the returned place. */
char *buf_extend(struct buf *b, size_t n)
{
    char *at = NULL;

    if (buf_reserve(b, n) != 0)
        goto out;
    at = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
out:
    return at;
}

/* Appends a NUL-terminated string. */
int buf_appends(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

/* Appends printf-style text from a va_list: measured first, so that the
 * buffer grows once and a refusal leaves it untouched. */
int buf_vappendf(struct buf *b, const char *fmt, va_list ap)
{
    int err = -1;
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0)
        goto out;
    if (vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again) != n) {
        b->data[b->len] = '\0'; /* what was written past len is dropped */
        goto out;
    }
    b->len += (size_t)n;
    err = 0;
out:
    va_end(again);
    return err;
}

/* Appends printf-style text. */
int buf_appendf(struct buf *b, const char *fmt, ...)
{
    int err;
    va_list ap;

    va_start(ap, fmt);
    err = buf_vappendf(b, fmt, ap);
    va_end(ap);
    return err;
}

/* Appends printf-style text cut to most bytes at a character boundary. */
int buf_vappendf_cut(struct buf *b, size_t most, const char *fmt, va_list ap)
{
    int err = -1;
    va_list again;
    size_t keep;
    bool cut;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0)
        goto out;
    cut = (size_t)n > most;
    keep = cut ? most : (size_t)n;
    if (buf_reserve(b, cut ? keep + 3 : keep) != 0)
        goto out;
    if (vsnprintf(b->data + b->len, keep + 1, fmt, again) != n) {
        b->data[b->len] = '\0';
        goto out;
    }
    if (cut) {
        keep = utf8_trim_partial(b->data + b->len, keep);
        memcpy(b->data + b->len + keep, "...", 4);
        keep += 3;
    }
    b->len += keep;
    err = 0;
out:
    va_end(again);
    return err;
}

/* Appends printf-style text cut to most bytes. */
int buf_appendf_cut(struct buf *b, size_t most, const char *fmt, ...)
{
    int err;
    va_list ap;

    va_start(ap, fmt);
    err = buf_vappendf_cut(b, most, fmt, ap);
    va_end(ap);
    return err;
}

/* Shortens the content to its first len bytes. */
void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

/* Returns the content, never NULL. */
const char *buf_str(const struct buf *b)
{
    return b->data != NULL ? b->data : "";
}

/* Hands the content to the caller and empties the buffer. */
char *buf_take(struct buf *b, size_t *len)
{
    char *s = b->data;
    size_t n = b->len;

    if (s == NULL) {
        s = calloc(1, 1);
        n = 0;
    }
    if (len != NULL)
        *len = s != NULL ? n : 0;
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->toobig = false;
    return s;
}
