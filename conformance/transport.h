/* transport: the small interface through which the runner reaches a server,
 * so that every check can run on recorded bytes without a socket. */
#ifndef CONFORM_TRANSPORT_H
#define CONFORM_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The longest Authorization value the runner builds: more than any key a
 * command line or the environment can carry (Linux caps one string at
 * 128 KiB), so a key is never cut. */
#define TRANSPORT_AUTH_MAX ((size_t)1 << 20)

/* What the runner asks for. Every pointer is borrowed from the caller. */
struct http_request {
    const char *method;        /* "GET" or "POST" */
    const char *path;          /* appended to the base URL: "/models" */
    const char *authorization; /* the whole header value, NULL for none */
    const char *body;          /* NULL for no body */
    size_t body_len;
    bool stream; /* the answer is an event stream: the stream timeout
                    applies instead of the request timeout */
};

/* How an exchange ended, as far as the transport can tell. */
enum transport_status {
    TRANSPORT_OK,          /* a complete HTTP response arrived */
    TRANSPORT_UNREACHABLE, /* no connection could be made */
    TRANSPORT_TIMEOUT,     /* the request or stream timeout passed */
    TRANSPORT_TOO_BIG,     /* the response passed the size cap */
    TRANSPORT_STOPPED,     /* the sink asked to stop; bytes so far are kept */
    TRANSPORT_BROKEN,      /* anything else: reset, not HTTP, bad chunking */
    TRANSPORT_SKIPPED      /* not sent: the server stopped answering */
};

struct http_header {
    char *name;
    char *value;
};

/* What came back. Owned by the caller: http_response_init() before use,
 * http_response_cleanup() after. */
struct http_response {
    enum transport_status ts;
    char error[256]; /* the transport's own words when ts != OK */
    long status;     /* 0 when no status line arrived */
    struct http_header *headers;
    size_t n_headers;
    struct buf body; /* the raw bytes, kept for evidence */
    char *url;       /* the URL that was asked */
    double elapsed_ms;
};

/* What a sink's tick asks of the transport. */
enum sink_state {
    SINK_READING,  /* more is due: the request, stream and silence limits
                      apply */
    SINK_COMPLETE, /* the body is whole (a stream's [DONE]), and the sink
                      waits a bounded grace for the close: the transport's
                      time limits no longer apply, so none of them can cut
                      a whole body; the sink stops the exchange itself */
    SINK_STOP      /* end the exchange now (TRANSPORT_STOPPED) */
};

/* Receives the body as it arrives, with the time since the request began
 * when those bytes came (data returns non-zero to stop the exchange:
 * TRANSPORT_STOPPED), and a tick with the time since the request began, at
 * least about once a second while the transport waits. */
struct http_sink {
    int (*data)(void *ud, const char *bytes, size_t len, double elapsed_ms);
    enum sink_state (*tick)(void *ud, double elapsed_ms);
    void *ud;
};

/* A transport implementation embeds this as its first member. */
struct transport {
    /* Performs req and fills resp (already initialised). sink may be NULL.
     * Returns 0, or -1 when nothing could be tried (resp->ts says why). */
    int (*perform)(struct transport *t, const struct http_request *req,
                   struct http_response *resp, const struct http_sink *sink);
    /* Frees the transport. */
    void (*free)(struct transport *t);
};

/* Prepares an empty response whose body keeps at most max_body bytes. */
void http_response_init(struct http_response *r, size_t max_body);
/* Frees what the response holds; it is empty afterwards. */
void http_response_cleanup(struct http_response *r);
/* Appends a header (copied). Returns 0 or -1 on OOM or past max headers. */
int http_response_add_header(struct http_response *r, const char *name,
                             size_t name_len, const char *value,
                             size_t value_len);
/* Returns the value of the first header called name (any case), or NULL.
 * Borrowed from r. */
const char *http_response_header(const struct http_response *r,
                                 const char *name);
/* Records a transport failure with a message. */
void http_response_fail(struct http_response *r, enum transport_status ts,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A short name for ts, e.g. "timeout". */
const char *transport_status_name(enum transport_status ts);

/* Performs req through t (see struct transport). */
int transport_perform(struct transport *t, const struct http_request *req,
                      struct http_response *resp, const struct http_sink *sink);
/* Frees t; NULL is a no-op. */
void transport_free(struct transport *t);

#endif
