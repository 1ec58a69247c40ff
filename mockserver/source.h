/* source: the stream-source interface, the only thing the HTTP layer knows
 * about an answer that is sent in pieces over time (a paced chat stream, a
 * scripted stream, a fault, a delayed non-streamed answer). */
#ifndef NEXUS_SOURCE_H
#define NEXUS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* How a source's answer ended, told to its end() once. */
struct source_end {
    bool completed;   /* every piece was produced and handed to the socket */
    bool client_gone; /* the client closed or reset the connection */
    bool shutdown;    /* the server was stopping */
    uint64_t pieces;  /* pieces handed to the socket (events of a stream) */
    uint64_t bytes;   /* bytes handed to the socket */
};

/* What the HTTP layer does with a connection-level source (see take). */
enum source_conn {
    SOURCE_CONN_CLOSE, /* close the socket (FIN) without an HTTP answer */
    SOURCE_CONN_RESET, /* reset it (RST) */
};

struct source_ops {
    /* When the next piece may be sent, in ms after the answer began; 0 (or
     * any time already past) means now. */
    uint64_t (*due_ms)(void *self);
    /* Appends the next piece to out. Returns 1 if it did, 0 when the answer
     * is over, -1 to cut the connection (a fault, or out of memory). */
    int (*next)(void *self, struct buf *out);
    /* Drops every remaining wait, e.g. when the server shuts down. */
    void (*hurry)(void *self);
    /* Called exactly once, when the HTTP layer is done with the source,
     * saying how the answer ended; frees self. */
    void (*end)(void *self, const struct source_end *how);
};

/* A source: its operations and its state, owned by whoever holds the
 * source until it is handed to the HTTP layer (which then calls end). */
struct source {
    const struct source_ops *ops;
    void *self;
};

#endif
