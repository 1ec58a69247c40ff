/* source: the stream-source interface, the only thing the HTTP layer knows
 * about an answer that is produced over time (a paced chat stream, a
 * scripted stream, a fault, a delayed non-streamed answer).
 *
 * A handler puts a source in its response (router.h) instead of a body; the
 * server asks it when the next piece is due, parks the connection until then
 * on its timer (no thread waits), and hands each piece to the client. A
 * source may also act on the connection itself (see enum source_step): close
 * it without an HTTP answer, reset it, or write bytes that are not HTTP. */
#ifndef NEXUS_SOURCE_H
#define NEXUS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* How the pieces go out. */
enum source_framing {
    /* The status and headers go out at once (before the first piece is
     * asked for), then each piece as it comes (chunked): an event stream.
     * Connection actions happen after the headers. */
    SOURCE_STREAMED,
    /* Nothing goes out until the source is done; then the status, headers
     * and every piece as one body with a Content-Length: a delayed answer.
     * Connection actions happen before any byte of HTTP. */
    SOURCE_WHOLE,
};

/* What next() did. */
enum source_step {
    SOURCE_DONE,  /* the answer is complete; out is untouched */
    SOURCE_PIECE, /* out holds the next piece */
    SOURCE_FAIL,  /* cannot go on (out of memory): the connection is cut,
                     or a whole answer becomes a 500 */
    /* Connection-level actions, each final: the server writes out's bytes
     * (none is fine) to the socket as they are, outside any HTTP framing,
     * then closes the socket with a FIN (SOURCE_CLOSE) or resets it with an
     * RST (SOURCE_RESET). Before a reset it waits (parked, at most the
     * connection timeout) until the client has acknowledged every byte
     * sent, so the pieces before the reset arrive; a reset discards what
     * the kernel still holds. */
    SOURCE_CLOSE,
    SOURCE_RESET,
};

/* How an answer ended, told to end() once. At most one flag is set; none
 * means the source itself cut it (a connection action or SOURCE_FAIL). */
struct source_end {
    bool completed;   /* the source said SOURCE_DONE and every byte was
                         handed to the socket */
    bool client_gone; /* the client closed or reset the connection, or
                         stopped reading until the connection timed out */
    bool shutdown;    /* the server stopped before the answer ended */
    uint64_t pieces;  /* whole pieces handed to the socket (events of a
                         stream): a piece still in the server's buffer when
                         the connection broke is not counted; raw bytes of
                         an action are not pieces */
    uint64_t bytes;   /* bytes handed to the socket: pieces (without HTTP
                         framing) and raw bytes */
};

struct source_ops {
    /* When the next piece may be sent, in ms after the answer began; 0 (or
     * any time already past) means now. */
    uint64_t (*due_ms)(void *self);
    /* Appends the next piece (or an action's raw bytes) to out, which is
     * empty, and says what it did. After anything but SOURCE_PIECE, next
     * is not called again. */
    enum source_step (*next)(void *self, struct buf *out);
    /* Drops every remaining wait: the server is shutting down. May be
     * called more than once. */
    void (*hurry)(void *self);
    /* Called exactly once, when the answer is over or will never be sent,
     * saying how it ended; frees self. */
    void (*end)(void *self, const struct source_end *how);
};

/* A source: its operations and its state. Whoever holds it calls end()
 * once or hands it on (to a response, which then owns it). ops == NULL is
 * no source. */
struct source {
    const struct source_ops *ops;
    void *self;
};

#endif
