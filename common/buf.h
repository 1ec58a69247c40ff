/* buf: the one growable byte buffer, with a hard cap, that the mock, the
 * runner and their tests build all text in. */
#ifndef NEXUS_BUF_H
#define NEXUS_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* The compiler makes every caller look at what may fail. */
#define BUF_MUST_CHECK __attribute__((warn_unused_result))

/* A plain data carrier; change it only through the functions below.
 *
 * The contract, for every function that can fail: it returns 0 or -1, and
 * on -1 the buffer is as it was before the call (same bytes, still
 * NUL-terminated, still usable). A refusal because of max also sets toobig,
 * as curl's dynbuf does, so a caller can tell "too big" from "out of
 * memory". */
struct buf {
    char *data;   /* owned; NUL-terminated, or NULL until the first append */
    size_t len;   /* bytes held, the terminator not counted */
    size_t alloc; /* bytes allocated for data */
    size_t max;   /* the most bytes the buffer may hold */
    bool toobig;  /* an append was refused because of max */
};

/* Prepares an empty buffer that will refuse to hold more than max bytes.
 * Cannot fail. */
void buf_init(struct buf *b, size_t max);
/* Frees the bytes; the buffer is empty and reusable (same max). */
void buf_cleanup(struct buf *b);
/* Empties the buffer and clears toobig, keeping the memory. */
void buf_reset(struct buf *b);
/* Appends n bytes (they may hold NULs). -1 past max or on OOM. */
BUF_MUST_CHECK int buf_append(struct buf *b, const void *bytes, size_t n);
/* Makes room for n more bytes, so that appends up to that much do not
 * allocate: a hint from a writer that knows about how much it will write.
 * -1 past max or on OOM (the content unchanged either way), which the
 * appends that follow will report again if it matters. */
int buf_grow(struct buf *b, size_t n);
/* Appends n bytes that the caller then writes: returns where they go
 * (followed by the terminator, already in place), or NULL past max or on
 * OOM, the buffer unchanged. Borrowed: valid until the next call that
 * changes b. */
BUF_MUST_CHECK char *buf_extend(struct buf *b, size_t n);
/* Appends a NUL-terminated string, like buf_append. */
BUF_MUST_CHECK int buf_appends(struct buf *b, const char *s);
/* Appends printf-style text, like buf_append: all of it or nothing. */
BUF_MUST_CHECK int buf_appendf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* buf_appendf with a va_list. */
BUF_MUST_CHECK int buf_vappendf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends printf-style text of at most most bytes, for messages that quote
 * what they were given: a longer text is cut at a UTF-8 character boundary
 * and "..." follows, so up to most + 3 bytes go in. -1 past max or on OOM
 * (the buffer unchanged). */
BUF_MUST_CHECK int buf_appendf_cut(struct buf *b, size_t most, const char *fmt,
                                   ...) __attribute__((format(printf, 3, 4)));
/* buf_appendf_cut with a va_list. */
BUF_MUST_CHECK int buf_vappendf_cut(struct buf *b, size_t most, const char *fmt,
                                    va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Shortens the content to its first len bytes (no-op when len >= b->len). */
void buf_truncate(struct buf *b, size_t len);
/* Returns the content, never NULL ("" when empty). Borrowed: valid until
 * the next call that changes b. */
const char *buf_str(const struct buf *b);
/* Hands the content (NUL-terminated, never NULL on success) to the caller,
 * who frees it with free(), and stores its length in *len when len is not
 * NULL; the buffer is left empty. NULL on OOM (the buffer is then empty
 * too). */
BUF_MUST_CHECK char *buf_take(struct buf *b, size_t *len);

#endif
