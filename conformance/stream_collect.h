/* stream_collect: a sink that feeds a streamed body to the SSE parser as
 * it arrives and keeps every event, parsed, for the stream checks. */
#ifndef CONFORM_STREAM_COLLECT_H
#define CONFORM_STREAM_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "sse_parse.h"
#include "transport.h"

/* One dispatched event, copied out of the parser. */
struct stream_event {
    char *data; /* owned, NUL-terminated */
    size_t data_len;
    char *type; /* owned: the event field, "message" when none */
    bool has_type, has_id, has_retry;
    uint64_t offset, end;
    double at_ms; /* when its last byte arrived, since the request began */
    bool done;    /* the data is exactly [DONE] */
    json_t *json; /* the data parsed (owned), NULL when not JSON or done */
    char json_error[160];
    size_t json_error_offset; /* in the body */
};

struct stream_log {
    struct sse_parser *parser;
    struct stream_event *events;
    size_t n_events, cap_events;
    bool over_limit; /* a line or event passed the parser's limit */
    bool oom;
    bool dropped_tail;      /* the body ended inside an event or line */
    struct sse_stats stats; /* copied by stream_log_finish() */
    bool finished;
    size_t done_index;     /* the first [DONE] event, or SIZE_MAX */
    double done_at_ms;     /* when [DONE] was first noticed, or < 0 */
    double grace_ms;       /* how long to wait for the close after [DONE] */
    bool held_open;        /* stopped: the server kept the stream open */
    size_t events_at_done; /* events when [DONE] arrived */
    double feed_ms;        /* when the bytes being parsed arrived */
    double first_byte_ms;  /* when the body began, or < 0 */
};

/* Prepares a log whose parser refuses lines or events over max_event
 * bytes and which stops the exchange grace_ms after [DONE] if the server
 * has not closed it. From [DONE] on the stream is whole, and only that
 * grace bounds the exchange (see SINK_COMPLETE). Returns 0 or -1 on OOM. */
int stream_log_init(struct stream_log *l, size_t max_event, double grace_ms);
/* Frees everything the log holds. */
void stream_log_cleanup(struct stream_log *l);
/* The sink to pass to the transport. l must outlive the exchange. */
struct http_sink stream_log_sink(struct stream_log *l);
/* Tells the parser the body ended (call once, after the exchange). */
void stream_log_finish(struct stream_log *l);
/* True when the stream came back whole: HTTP 200, and closed by the server,
 * or stopped by the sink when the server held it open after [DONE]. */
bool stream_log_whole(const struct stream_log *l,
                      const struct http_response *r);
/* Feeds bytes that arrived elapsed_ms after the request began, as the sink
 * does (for tests). */
int stream_log_feed(struct stream_log *l, const char *bytes, size_t len,
                    double elapsed_ms);

/* The JSON chunks before [DONE], in order: fills idx with up to max
 * indexes into l->events and returns how many there are. */
size_t stream_log_chunks(const struct stream_log *l, size_t *idx, size_t max);
/* Appends to out the text of member field ("content", "reasoning_content")
 * of the deltas of choice index, concatenated across the chunks. Returns 0
 * or -1 when out is full. */
int stream_log_text(const struct stream_log *l, json_int_t choice,
                    const char *field, struct buf *out);
/* The usage object of the last chunk that carries a non-null one, or
 * NULL. Borrowed from l. */
json_t *stream_log_usage(const struct stream_log *l);
/* Adds to evidence's response the events of the stream, as
 * [{"index","offset","at_ms","data"}] with each data cut to a few hundred
 * bytes: at most a few dozen events, those around the byte focus (or the
 * first ones); "events_total" says how many there were. evidence is
 * borrowed; nothing happens when it has no response. */
void stream_log_add_events(const struct stream_log *l, json_t *evidence,
                           size_t focus);
/* The index of the first error event before [DONE] (data that is an
 * object with an error object and no choices, or an event typed "error"),
 * or SIZE_MAX when there is none. */
size_t stream_log_error_event(const struct stream_log *l);
/* Says in out (size n) what error event i means: a refusal sent after the
 * 200 when no chunk came before it (naming the HTTP status that belongs to
 * its type), or a failure that cut the reply after some chunks. */
void stream_log_describe_error(const struct stream_log *l, size_t i, char *out,
                               size_t n);

#endif
