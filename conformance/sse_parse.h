/* sse_parse: a byte-exact parser of the WHATWG event-stream format, fed in
 * arbitrary pieces, that also records how the stream was framed. */
#ifndef CONFORM_SSE_PARSE_H
#define CONFORM_SSE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One dispatched event. Strings are NUL-terminated and borrowed: valid only
 * during the callback. */
struct sse_event {
    const char *type; /* the event field, or "message" when none was set */
    bool has_type;    /* an event: field was present */
    const char *data; /* data lines joined by LF, last LF removed */
    size_t data_len;
    const char *last_id; /* the last event ID buffer (may be "") */
    bool has_id;         /* this event carried an id: field */
    bool has_retry;      /* this event carried a valid retry: field */
    uint64_t retry;
    uint64_t offset;     /* byte offset of the event's first line */
    uint64_t end;        /* byte offset just past the CR or LF that ended its
                            blank line; for a CRLF the LF comes at end (see
                            sse_parse.c) */
    unsigned data_lines; /* how many data: lines made it */
};

/* Framing facts gathered over the whole stream, for SHOULD checks. */
struct sse_stats {
    uint64_t bytes;
    unsigned lf, crlf, cr;     /* line endings of each kind */
    unsigned comments;         /* lines starting with ':' */
    unsigned unknown_fields;   /* lines whose field name is not known */
    unsigned empty_dispatches; /* blank lines that dispatched nothing */
    /* Blocks that carried event:, id: or retry: lines but no data: line,
     * so dispatched nothing (counted in empty_dispatches too); some SDKs
     * still emit an empty event for them. meta_event_blocks counts those
     * with an event: line; first_meta_at is where the first one starts. */
    unsigned meta_blocks;
    unsigned meta_event_blocks;
    uint64_t first_meta_at;
    /* id: lines, valid or not, in any block; first_id_at is where the
     * first one starts. */
    unsigned id_fields;
    uint64_t first_id_at;
    bool bom;          /* a UTF-8 BOM opened the stream (stripped) */
    bool invalid_utf8; /* some byte sequence was not UTF-8 */
    unsigned events;
};

/* Called for every event dispatched; return non-zero to stop parsing
 * (sse_parser_feed then returns 1). */
typedef int (*sse_event_fn)(const struct sse_event *ev, void *ud);

struct sse_parser;

/* Returns a new parser that refuses any line or event longer than
 * max_bytes, or NULL on OOM. Free with sse_parser_free. */
struct sse_parser *sse_parser_new(size_t max_bytes, sse_event_fn fn, void *ud);
/* Frees p; NULL is a no-op. */
void sse_parser_free(struct sse_parser *p);
/* Feeds len bytes. Returns 0, 1 if the callback asked to stop, or -1 if a
 * line or event passed max_bytes (the parser then refuses further input). */
int sse_parser_feed(struct sse_parser *p, const char *bytes, size_t len);
/* Ends the stream. Per the spec an event with no blank line after it is not
 * dispatched; returns true if such an incomplete event (or a partial line)
 * was dropped. */
bool sse_parser_finish(struct sse_parser *p);
/* Borrowed view of the statistics so far. */
const struct sse_stats *sse_parser_stats(const struct sse_parser *p);

#endif
