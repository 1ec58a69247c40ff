/* fault: server defects a rule's answer can carry (the `fault:` key of a
 * reply, docs/fixtures.md "Faults"). A fault wraps the stream source the
 * answer would give and transforms its pieces (events), or acts on the
 * connection instead, so it composes with any scripted or generated
 * content. Every fault is deterministic: the same request, the same bytes
 * and the same actions. */
#ifndef NEXUS_FAULT_H
#define NEXUS_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* What happens to the stream's [DONE] event. */
enum fault_done {
    FAULT_DONE_NORMAL,
    FAULT_DONE_MISSING, /* never sent; the stream just ends */
    FAULT_DONE_TWICE,   /* sent twice */
    FAULT_DONE_EXTRA,   /* followed by one more chunk event */
};

/* How line ends are written. */
enum fault_line_ends {
    FAULT_LF, /* as the stream has them */
    FAULT_CR,
    FAULT_CRLF,
    FAULT_MIXED, /* \r\n, \r and \n in turn */
};

/* A rule's fault: plain data, read-only once the rule is in a set. A
 * zeroed struct is no fault. The has_ flags say a count was given (0 is a
 * meaningful count). */
struct fault {
    bool close_before_headers; /* FIN before any byte of HTTP */
    char *not_http;            /* owned; these bytes, then a FIN, instead of
                                  HTTP; NULL: none */
    size_t not_http_len;
    bool hang;                 /* nothing at all, until the client leaves */
    uint32_t headers_delay_ms; /* the status and headers (and the whole
                                  body) come this late */
    bool has_reset;
    uint32_t reset_after_events; /* RST after this many events */
    bool has_close;
    uint32_t close_after_events; /* FIN inside the next event, after */
    uint32_t close_after_bytes;  /* this many of its bytes */
    bool has_silence;
    uint32_t silence_after_events; /* nothing more after this many events,
                                      the connection kept open */
    uint32_t malformed_event;      /* this event (from 1) loses its JSON's
                                      last '}'; 0: none */
    bool has_error;
    uint32_t error_after_events; /* an error object after this many events,
                                    then the stream ends (no [DONE]) */
    bool error_event;            /* as `event: error` instead of OpenAI's
                                    `data: {"error":...}` */
    enum fault_done done;
    bool hold_after_done; /* the connection held open after [DONE] */
    enum fault_line_ends line_ends;
    bool bom;                /* a UTF-8 byte order mark before everything */
    bool comments;           /* a ": keep-alive" comment before each event */
    bool fields;             /* event:, id: and retry: fields on each event,
                                and a block of them with no data first */
    uint32_t split_bytes;    /* each event written in pieces of this many
                                bytes (cutting UTF-8 characters); 0: whole */
    uint32_t split_delay_ms; /* between those pieces */
    uint32_t body_delay_ms;  /* the status and headers at once, then the
                                first byte of the body this late */
    char *endless;           /* owned; after the body, these bytes again and
                                again until the client goes; NULL: none */
    size_t endless_len;
    uint64_t endless_max; /* the most bytes of endless one answer sends
                             (set per answer from --max-endless-bytes;
                             0: none at all) */
};

/* True when f makes a raw status body go out chunked, its headers first:
 * a wait before the body, pieces with waits, the connection held open or
 * bytes repeated after it. */
bool fault_streams_body(const struct fault *f);

/* Frees what f owns (not f). */
void fault_cleanup(struct fault *f);

/* True when f changes anything. */
bool fault_any(const struct fault *f);

/* Wraps *src (an answer's source) in one that carries out f (copied), and
 * sets *framing to SOURCE_WHOLE when f acts before the headers (closes,
 * not-HTTP bytes, a hang, slow headers). Returns 0, or -1 on OOM with *src
 * and *framing unchanged (the answer then goes out without its fault). */
int fault_wrap(const struct fault *f, struct source *src,
               enum source_framing *framing);

#endif
