/* fake_transport: a transport that answers from a script, with no socket,
 * so every check can be tested on recorded bytes. */
#include "fake_transport.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The longest a held-open stream is followed, in simulated time. */
#define HOLD_LIMIT_MS 120000.0
#define TICK_MS 100.0

struct fake {
    struct transport base;
    struct script *script;
    char *prefix;
    size_t piece;
};

/* Keeps and hands on len bytes; returns 0, or 1 when the exchange ends
 * (the response then says why). No time passes for real: *clock_ms is the
 * simulated time since the request began, which each piece after the first
 * advances by delay_ms. */
static int deliver(struct http_response *resp, const struct http_sink *sink,
                   const char *bytes, size_t len, size_t piece,
                   unsigned delay_ms, double *clock_ms)
{
    int ret;
    size_t at = 0, n;

    while (at < len) {
        if (at > 0)
            *clock_ms += delay_ms;
        n = piece != 0 && len - at > piece ? piece : len - at;
        if (buf_append(&resp->body, bytes + at, n) != 0) {
            http_response_fail(resp, TRANSPORT_TOO_BIG,
                               "the response passed the cap of %zu bytes",
                               resp->body.max);
            ret = 1;
            goto out;
        }
        if (sink != NULL && sink->data != NULL &&
            sink->data(sink->ud, bytes + at, n, *clock_ms) != 0) {
            http_response_fail(resp, TRANSPORT_STOPPED,
                               "stopped by the runner");
            ret = 1;
            goto out;
        }
        at += n;
    }
    ret = 0;
out:
    return ret;
}

/* Plays one scripted reply into resp (see struct transport). */
static int fake_perform(struct transport *t, const struct http_request *req,
                        struct http_response *resp,
                        const struct http_sink *sink)
{
    struct fake *f = (struct fake *)t;
    const struct script_reply *r;
    const char *raw;
    struct buf path;
    size_t i, raw_len, piece;
    double ms, clock_ms = 0;

    buf_init(&path, 4096);
    free(resp->url);
    resp->url = NULL;
    if (buf_appends(&path, f->prefix) != 0 ||
        buf_appends(&path, req->path) != 0) {
        http_response_fail(resp, TRANSPORT_BROKEN, "URL too long");
        goto out;
    }
    resp->url = strdup(buf_str(&path));
    raw = script_raw(f->script, &raw_len);
    if (raw != NULL) {
        resp->status = 0; /* what libcurl reports for HTTP/0.9 bytes */
        deliver(resp, sink, raw, raw_len, f->piece, 0, &clock_ms);
        goto out;
    }
    r = script_match(f->script, req->method, buf_str(&path), req->authorization,
                     req->body, req->body_len);
    if (r->unreachable) {
        http_response_fail(resp, TRANSPORT_UNREACHABLE,
                           "Couldn't connect to server (scripted)");
        goto out;
    }
    if (r->stall) {
        http_response_fail(resp, TRANSPORT_TIMEOUT,
                           "Operation timed out (scripted stall)");
        goto out;
    }
    resp->status = r->status;
    for (i = 0; i < r->n_headers; i++)
        if (r->headers[i].value != NULL)
            http_response_add_header(
                resp, r->headers[i].name, strlen(r->headers[i].name),
                r->headers[i].value, strlen(r->headers[i].value));
    piece = r->chunk != 0 ? r->chunk : f->piece;
    clock_ms = r->wait_ms;
    if (deliver(resp, sink, r->body, r->body_len, piece, r->delay_ms,
                &clock_ms) != 0)
        goto out;
    while (r->endless != NULL && r->endless_len > 0)
        if (deliver(resp, sink, r->endless, r->endless_len, piece, r->delay_ms,
                    &clock_ms) != 0)
            goto out;
    for (ms = clock_ms; r->hold_open; ms += TICK_MS) {
        if (ms > HOLD_LIMIT_MS) {
            http_response_fail(resp, TRANSPORT_TIMEOUT,
                               "Operation timed out (scripted hold)");
            goto out;
        }
        if (sink != NULL && sink->tick != NULL &&
            sink->tick(sink->ud, ms) == SINK_STOP) {
            http_response_fail(resp, TRANSPORT_STOPPED,
                               "stopped by the runner");
            goto out;
        }
    }
out:
    resp->elapsed_ms = clock_ms;
    buf_cleanup(&path);
    return 0;
}

/* Frees the fake (not its script). */
static void fake_free(struct transport *t)
{
    struct fake *f = (struct fake *)t;

    free(f->prefix);
    free(f);
}

/* Returns a transport that plays s (borrowed) for paths under prefix
 * ("/v1"), handing bodies to the sink in pieces of piece bytes (0: whole) so
 * that parsers meet every split. */
struct transport *fake_transport_new(struct script *s, const char *prefix,
                                     size_t piece)
{
    struct transport *ret;
    struct fake *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        ret = NULL;
        goto out;
    }
    f->base.perform = fake_perform;
    f->base.free = fake_free;
    f->script = s;
    f->prefix = strdup(prefix);
    f->piece = piece;
    ret = &f->base;
out:
    return ret;
}
