/* stream_collect: a sink that feeds a streamed body to the SSE parser as
 * it arrives and keeps every event, parsed, for the stream checks. */
#include "stream_collect.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "shape.h"

/* More events than this is a flood, not a chat completion. */
#define MAX_EVENTS 200000
/* What the evidence keeps of a stream's events: how many, and how much of
 * each one's data. */
#define EVIDENCE_EVENTS 48
#define EVIDENCE_EVENT_DATA 320

/* Copies len bytes into a new NUL-terminated string. */
static char *copy_bytes(const char *s, size_t len)
{
    char *p = malloc(len + 1);

    if (p != NULL) {
        if (len > 0)
            memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* Keeps one dispatched event; returns non-zero to stop on a flood. */
static int on_event(const struct sse_event *ev, void *ud)
{
    int ret;
    struct stream_log *l = ud;
    struct stream_event *e, *grown;
    size_t off, cap;

    if (l->n_events >= MAX_EVENTS) {
        l->over_limit = true;
        ret = 1;
        goto out;
    }
    if (l->n_events == l->cap_events) {
        cap = l->cap_events != 0 ? l->cap_events * 2 : 64;
        grown = realloc(l->events, cap * sizeof(*grown));
        if (grown == NULL) {
            l->oom = true;
            ret = 1;
            goto out;
        }
        l->events = grown;
        l->cap_events = cap;
    }
    e = &l->events[l->n_events];
    memset(e, 0, sizeof(*e));
    e->data = copy_bytes(ev->data, ev->data_len);
    e->type = copy_bytes(ev->type, strlen(ev->type));
    if (e->data == NULL || e->type == NULL) {
        free(e->data);
        free(e->type);
        l->oom = true;
        ret = 1;
        goto out;
    }
    l->n_events++;
    e->data_len = ev->data_len;
    e->has_type = ev->has_type;
    e->has_id = ev->has_id;
    e->has_retry = ev->has_retry;
    e->offset = ev->offset;
    e->end = ev->end;
    e->at_ms = l->feed_ms;
    e->done = ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0;
    if (e->done && l->done_index == SIZE_MAX) {
        l->done_index = l->n_events - 1;
        l->events_at_done = l->n_events;
    }
    if (!e->done && l->done_index == SIZE_MAX) {
        e->json = shape_parse(e->data, e->data_len, e->json_error,
                              sizeof(e->json_error), &off);
        /* The data begins after "data:" on the event's first line; the
         * offset points at the line, close enough to show the bytes. */
        e->json_error_offset = (size_t)e->offset;
    }
    ret = 0;
out:
    return ret;
}

/* Prepares a log whose parser refuses lines or events over max_event bytes
 * and which stops the exchange grace_ms after [DONE] if the server has not
 * closed it. */
int stream_log_init(struct stream_log *l, size_t max_event, double grace_ms)
{
    memset(l, 0, sizeof(*l));
    l->done_index = SIZE_MAX;
    l->done_at_ms = -1;
    l->first_byte_ms = -1;
    l->grace_ms = grace_ms;
    l->parser = sse_parser_new(max_event, on_event, l);
    return l->parser != NULL ? 0 : -1;
}

/* Frees everything the log holds. */
void stream_log_cleanup(struct stream_log *l)
{
    size_t i;

    for (i = 0; i < l->n_events; i++) {
        free(l->events[i].data);
        free(l->events[i].type);
        json_decref(l->events[i].json);
    }
    free(l->events);
    sse_parser_free(l->parser);
    memset(l, 0, sizeof(*l));
}

/* Feeds bytes that arrived elapsed_ms after the request began. */
int stream_log_feed(struct stream_log *l, const char *bytes, size_t len,
                    double elapsed_ms)
{
    if (l->first_byte_ms < 0 && len > 0)
        l->first_byte_ms = elapsed_ms;
    l->feed_ms = elapsed_ms;
    /* After a failure keep reading anyway: the transport still caps the
     * size, and the bytes stay in the evidence. */
    if (!l->over_limit && !l->oom && sse_parser_feed(l->parser, bytes, len) < 0)
        l->over_limit = true;
    return 0;
}

/* The sink's data callback. */
static int sink_data(void *ud, const char *bytes, size_t len, double elapsed_ms)
{
    return stream_log_feed(ud, bytes, len, elapsed_ms);
}

/* The sink's tick: the stream is whole at [DONE], after which the server
 * has grace_ms to close, whatever the transport's limits. */
static enum sink_state sink_tick(void *ud, double elapsed_ms)
{
    enum sink_state ret;
    struct stream_log *l = ud;

    if (l->done_index == SIZE_MAX) {
        ret = SINK_READING;
        goto out;
    }
    if (l->done_at_ms < 0)
        l->done_at_ms = elapsed_ms;
    if (elapsed_ms - l->done_at_ms > l->grace_ms) {
        l->held_open = true;
        ret = SINK_STOP;
        goto out;
    }
    ret = SINK_COMPLETE;
out:
    return ret;
}

/* The sink to pass to the transport. */
struct http_sink stream_log_sink(struct stream_log *l)
{
    struct http_sink s = {.data = sink_data, .tick = sink_tick, .ud = l};

    return s;
}

/* True when the stream came back whole: 200, and ended by the server, or
 * by the sink when the server held it open after [DONE]. */
bool stream_log_whole(const struct stream_log *l, const struct http_response *r)
{
    return r->status == 200 && l->parser != NULL &&
           (r->ts == TRANSPORT_OK ||
            (r->ts == TRANSPORT_STOPPED && l->held_open));
}

/* Tells the parser the body ended (call once, after the exchange). */
void stream_log_finish(struct stream_log *l)
{
    if (l->finished)
        return;
    l->finished = true;
    if (!l->over_limit && !l->oom)
        l->dropped_tail = sse_parser_finish(l->parser);
    l->stats = *sse_parser_stats(l->parser);
}

/* The JSON chunks before [DONE], in order: fills idx with up to max indexes
 * into l->events and returns how many there are. */
size_t stream_log_chunks(const struct stream_log *l, size_t *idx, size_t max)
{
    size_t i, n = 0;

    for (i = 0; i < l->n_events && i < l->done_index; i++)
        if (json_is_object(l->events[i].json)) {
            if (n < max)
                idx[n] = i;
            n++;
        }
    return n;
}

/* Appends to out the text of member field of the deltas of choice index,
 * concatenated across the chunks. */
int stream_log_text(const struct stream_log *l, json_int_t choice,
                    const char *field, struct buf *out)
{
    json_t *choices, *ch, *content;
    size_t i, k;
    int err = 0;

    for (i = 0; i < l->n_events && i < l->done_index && err == 0; i++) {
        choices = json_object_get(l->events[i].json, "choices");
        json_array_foreach(choices, k, ch)
        {
            if (json_integer_value(json_object_get(ch, "index")) != choice)
                continue;
            content = json_object_get(json_object_get(ch, "delta"), field);
            if (json_is_string(content) &&
                buf_append(out, json_string_value(content),
                           json_string_length(content)) != 0)
                err = -1;
        }
    }
    return err;
}

/* The usage object of the last chunk that carries a non-null one, or NULL. */
json_t *stream_log_usage(const struct stream_log *l)
{
    json_t *found = NULL, *u;
    size_t i;

    for (i = 0; i < l->n_events && i < l->done_index; i++) {
        u = json_object_get(l->events[i].json, "usage");
        if (json_is_object(u))
            found = u;
    }
    return found;
}

/* The index of the first error event before [DONE], or SIZE_MAX. */
size_t stream_log_error_event(const struct stream_log *l)
{
    const struct stream_event *e;
    size_t i, ret = SIZE_MAX;

    for (i = 0; i < l->n_events && i < l->done_index; i++) {
        e = &l->events[i];
        if (strcmp(e->type, "error") == 0 ||
            (json_is_object(json_object_get(e->json, "error")) &&
             json_object_get(e->json, "choices") == NULL)) {
            ret = i;
            break;
        }
    }
    return ret;
}

/* The HTTP status that OpenAI gives an error of this type, or 0. */
static int status_of_type(const char *type)
{
    static const struct {
        const char *type;
        int status;
    } table[] = {
        {"invalid_request_error", 400},
        {"authentication_error", 401},
        {"permission_error", 403},
        {"not_found_error", 404},
        {"insufficient_quota", 402},
        {"rate_limit_error", 429},
        {"requests", 429},
        {"tokens", 429},
        {"server_error", 500},
        {"api_error", 500},
    };
    size_t i;
    int ret = 0;

    for (i = 0; type != NULL && i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].type, type) == 0)
            ret = table[i].status;
    return ret;
}

/* Says what error event i means. */
void stream_log_describe_error(const struct stream_log *l, size_t i, char *out,
                               size_t n)
{
    const struct stream_event *e = &l->events[i];
    const json_t *err = json_object_get(e->json, "error");
    const char *type = json_string_value(json_object_get(err, "type"));
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    size_t k, chunks = 0;
    char what[400];
    int status = status_of_type(type);

    for (k = 0; k < i; k++)
        if (json_object_get(l->events[k].json, "choices") != NULL)
            chunks++;
    snprintf(what, sizeof(what), "type %s, code %s: \"%.200s\"",
             type != NULL ? type : "missing", code != NULL ? code : "null",
             msg != NULL           ? msg
             : json_is_object(err) ? ""
                                   : e->data);
    if (chunks == 0 && status != 0)
        snprintf(out, n,
                 "HTTP 200, then an error event (event %zu) before any chunk "
                 "(%s): a refusal, which belongs in the status line (HTTP "
                 "%d for %s)",
                 i, what, status, type);
    else if (chunks == 0)
        snprintf(out, n,
                 "HTTP 200, then an error event (event %zu) before any chunk "
                 "(%s): a refusal, which belongs in an HTTP error status",
                 i, what);
    else
        snprintf(out, n,
                 "the stream failed after %zu chunk(s): an error event (event "
                 "%zu, %s) cut the reply",
                 chunks, i, what);
}

/* The events around the focus, each with its offset, time and data. */
void stream_log_add_events(const struct stream_log *l, json_t *evidence,
                           size_t focus)
{
    json_t *resp = json_object_get(evidence, "response"), *list, *e;
    size_t i, at = 0, from = 0, to;

    if (!json_is_object(resp) || l->n_events == 0)
        return;
    if (focus != EVIDENCE_NO_FOCUS)
        while (at + 1 < l->n_events && l->events[at + 1].offset <= focus)
            at++;
    if (at > EVIDENCE_EVENTS / 2)
        from = at - EVIDENCE_EVENTS / 2;
    to = from + EVIDENCE_EVENTS < l->n_events ? from + EVIDENCE_EVENTS
                                              : l->n_events;
    list = json_array();
    for (i = from; list != NULL && i < to; i++) {
        e = json_pack("{s:I, s:I, s:I, s:f}", "index", (json_int_t)i, "offset",
                      (json_int_t)l->events[i].offset, "end",
                      (json_int_t)l->events[i].end, "at_ms",
                      l->events[i].at_ms);
        evidence_set(e, "data",
                     evidence_excerpt(l->events[i].data, l->events[i].data_len,
                                      EVIDENCE_NO_FOCUS, EVIDENCE_EVENT_DATA));
        if (e == NULL || json_array_append_new(list, e) != 0)
            break;
    }
    evidence_set(resp, "events", list);
    evidence_set(resp, "events_total", json_integer((json_int_t)l->n_events));
    if (l->first_byte_ms >= 0)
        evidence_set(resp, "first_byte_ms", json_real(l->first_byte_ms));
}
