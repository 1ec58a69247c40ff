/* buf: a growable byte buffer with a hard cap, for all text the mock builds. */
#ifndef NEXUS_BUF_H
#define NEXUS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated while len > 0; owned */
    size_t len;
    size_t cap;
    size_t max; /* appends that would pass this fail */
};

/* Prepares an empty buffer that may grow to max bytes. Cannot fail. */
void buf_init(struct buf *b, size_t max);
/* Releases the storage; the buffer is empty and reusable afterwards. */
void buf_cleanup(struct buf *b);
/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* Appends n bytes. Returns 0, or -1 (buffer unchanged) past max or on OOM. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string; as buf_append. */
int buf_appends(struct buf *b, const char *s);
/* Appends printf-style text; as buf_append. */
int buf_appendf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the bytes (NUL-terminated, never NULL on success) to the caller, who
 * frees them with free(); the buffer is left empty. NULL on OOM. */
char *buf_take(struct buf *b, size_t *len);

#endif
