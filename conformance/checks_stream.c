/* checks_stream: the stream group: SSE framing read byte-exactly, every
 * chunk, [DONE], and the usage chunk of stream_options.include_usage. */
#include "checks_stream.h"

#include <stdint.h>
#include <string.h>

#include "evidence.h"
#include "exchange.h"
#include "shape.h"
#include "stream_collect.h"

/* The spec caps n at 128. */
#define MAX_CHOICES 128
/* The streams the group reads: plain, include_usage, and n=2. */
#define N_STREAMS 3
/* A stream whose last event comes sooner than this after the request has
 * no wait worth hiding, so it cannot be told from a fake one. */
#define INCREMENTAL_MIN_MS 1000.0
#define INCREMENTAL_MIN_TEXT "1"
/* Events that all came within this share of the stream's duration came in
 * one burst: a real model takes longer to write a reply than a reader
 * takes to read it. */
#define BURST_SHARE 0.02

enum {
    STATUS,
    CTYPE,
    FRAMING,
    UTF8,
    ENDINGS,
    HAZARDS,
    JSON_DATA,
    NO_ERROR,
    OBJECT,
    SHAPE,
    CONSISTENT,
    FIRST_ROLE,
    FINISH_ONCE,
    DONE_PRESENT,
    DONE_LAST,
    CLOSES,
    USAGE_NULL,
    USAGE_CHUNK,
    USAGE_UNASKED,
    INCREMENTAL
};

#define WHATWG                                                                 \
    "https://html.spec.whatwg.org/multipage/"                                  \
    "server-sent-events.html#event-stream-interpretation"
#define CHUNKS "docs/api.md#chunks"
#define END "docs/api.md#the-end-of-a-stream"
#define CB "docs/client-behaviour.md"

static const struct check_def checks[] = {
    [STATUS] = {"stream.status", LEVEL_MUST, BASIS_CONTRACT,
                "A request with stream true MUST be answered 200 with an "
                "event stream of at least one event, with no error event in "
                "place of the reply, which MUST end within the stream "
                "timeout and size cap",
                "docs/api.md#streaming", IMPACT_NONE},
    [CTYPE] = {"stream.content-type", LEVEL_SHOULD, BASIS_SPEC,
               "The answer to stream true SHOULD have Content-Type "
               "text/event-stream",
               "docs/api.md#streaming; " WHATWG, IMPACT_NONE},
    [FRAMING] = {"stream.framing", LEVEL_MUST, BASIS_CLIENT,
                 "The body MUST parse as an event stream, every event ended "
                 "by a blank line",
                 WHATWG "; " CB "#the-end-of-a-stream", IMPACT_STREAM_DROPPED},
    [UTF8] = {"stream.utf8", LEVEL_SHOULD, BASIS_SPEC,
              "The event stream SHOULD be UTF-8", WHATWG "; " CB "#utf-8",
              IMPACT_STREAM_UTF8},
    [ENDINGS] = {"stream.line-endings", LEVEL_SHOULD, BASIS_CLIENT,
                 "Lines SHOULD all end the same way, in LF or CRLF",
                 CB "#line-ends", IMPACT_NONE},
    [HAZARDS] = {"stream.sdk-hazards", LEVEL_MUST, BASIS_CLIENT,
                 "The stream MUST NOT hold a block of event: lines without "
                 "data, and SHOULD carry no byte order mark, no id:, retry: "
                 "or unknown fields, and no block of id: or retry: lines "
                 "without data",
                 CB "#blocks-without-data; " CB "#byte-order-mark-and-id",
                 IMPACT_STREAM_EVENT_ONLY},
    [JSON_DATA] = {"stream.json", LEVEL_MUST, BASIS_CLIENT,
                   "Every data payload before [DONE] MUST be a JSON object",
                   CHUNKS, IMPACT_STREAM_NOT_JSON},
    [NO_ERROR] = {"stream.no-error-key", LEVEL_MUST, BASIS_CLIENT,
                  "A successful chunk MUST NOT carry an error key, not even "
                  "\"error\": null",
                  CHUNKS "; " CB "#the-error-key", IMPACT_STREAM_ERROR_KEY},
    [OBJECT] = {"stream.chunk-object", LEVEL_SHOULD, BASIS_SPEC,
                "Every chunk's object SHOULD be \"chat.completion.chunk\"",
                CHUNKS, IMPACT_NONE},
    [SHAPE] = {"stream.chunk-shape", LEVEL_MUST, BASIS_CLIENT,
               "Every chunk MUST have choices (an array) and, where present "
               "and not null, id and model strings, created a number, "
               "finish_reason a string, delta.content a string and "
               "delta.tool_calls an array; it SHOULD have id, created (an "
               "integer) and model, and choices whose items have index, "
               "delta and finish_reason (null or an allowed value), "
               "delta.refusal a string or null, logprobs an object or null, "
               "system_fingerprint a string and service_tier an allowed "
               "value or null",
               CHUNKS "; " CB "#response-schemas", IMPACT_STREAM_CHUNK_TYPES},
    [CONSISTENT] = {"stream.chunk-consistent", LEVEL_SHOULD, BASIS_SPEC,
                    "Every chunk SHOULD share the same id, created and model",
                    CHUNKS, IMPACT_NONE},
    [FIRST_ROLE] = {"stream.first-role", LEVEL_MUST, BASIS_CLIENT,
                    "A delta's role, where present, MUST be \"assistant\", "
                    "and the first delta of each choice SHOULD carry it",
                    CHUNKS "; " CB "#response-schemas", IMPACT_STREAM_ROLE},
    [FINISH_ONCE] = {"stream.finish-once", LEVEL_MUST, BASIS_CLIENT,
                     "Each choice MUST get exactly one non-null "
                     "finish_reason (choice 0 at least); no content SHOULD "
                     "follow it, and with n 2, where supported, choices 0 "
                     "and 1 SHOULD both come",
                     CHUNKS "; " END, IMPACT_STREAM_NO_FINISH},
    [DONE_PRESENT] = {"stream.done-present", LEVEL_MUST, BASIS_CLIENT,
                      "The stream SHOULD end with the event data: [DONE], "
                      "and an event that means [DONE] MUST be exactly those "
                      "six bytes of data",
                      END, IMPACT_STREAM_DONE_MALFORMED},
    [DONE_LAST] = {"stream.done-last", LEVEL_MUST, BASIS_CLIENT,
                   "No event MUST follow the [DONE] event, and no byte "
                   "SHOULD",
                   END, IMPACT_STREAM_AFTER_DONE},
    [CLOSES] = {"stream.closes-after-done", LEVEL_MUST, BASIS_CLIENT,
                "The server MUST close the stream within the grace after "
                "[DONE] (--done-grace, " OPTIONS_DONE_GRACE_TEXT
                " s by default), which no timeout shortens",
                END "; " CB "#the-end-of-a-stream", IMPACT_STREAM_HELD},
    [USAGE_NULL] = {"stream.usage-null", LEVEL_MUST, BASIS_CLIENT,
                    "With stream_options.include_usage, chunks with choices "
                    "MUST have usage null, absent or an object, and SHOULD "
                    "have it null or absent",
                    "docs/api.md#usage-in-a-stream; " CB "#response-schemas",
                    IMPACT_STREAM_USAGE_TYPE},
    [USAGE_CHUNK] = {"stream.usage-chunk", LEVEL_MUST, BASIS_CONTRACT,
                     "With stream_options.include_usage, the stream MUST "
                     "carry the usage, with integer counts, on its last "
                     "chunk before [DONE], which SHOULD have choices []",
                     "docs/api.md#usage-in-a-stream; "
                     "docs/api.md#token-accounting",
                     IMPACT_STREAM_NO_USAGE},
    [USAGE_UNASKED] = {"stream.usage-unasked", LEVEL_SHOULD, BASIS_SPEC,
                       "Without stream_options.include_usage, no chunk "
                       "SHOULD carry a usage object",
                       "docs/api.md#usage-in-a-stream", IMPACT_NONE},
    [INCREMENTAL] = {"stream.incremental", LEVEL_SHOULD, BASIS_CLIENT,
                     "A stream SHOULD deliver its events as they are "
                     "generated, not all at once after the whole reply "
                     "(judged when the stream lasts " INCREMENTAL_MIN_TEXT
                     " s or more)",
                     "docs/api.md#streaming", IMPACT_NONE},
};

/* One streamed request and what its body held. */
struct streamed {
    struct exchange x;
    struct stream_log log;
    bool include_usage;
    unsigned n;   /* the choices asked for */
    bool usable;  /* complete, with events, so the rules read it */
    bool refused; /* n > 1 answered 400: not supported */
    const char *label;
};

/* A rule over one stream notes its findings in w and returns RULE_JUDGED,
 * or says in note why it saw nothing to judge and returns RULE_NA. When it
 * finds nothing it may say in note what it saw, which then replaces the
 * rule's ok text. */
enum verdict { RULE_JUDGED, RULE_NA };
typedef enum verdict (*rule_fn)(const struct streamed *s,
                                struct finding_worst *w, char *note, size_t n);

/* The JSON object of event i, or NULL. Borrowed. */
static json_t *chunk_at(const struct streamed *s, size_t i)
{
    return json_is_object(s->log.events[i].json) ? s->log.events[i].json : NULL;
}

/* How many events precede [DONE] (all of them when it never came). */
static size_t before_done(const struct streamed *s)
{
    return s->log.done_index != SIZE_MAX ? s->log.done_index : s->log.n_events;
}

/* The byte where event i starts, for the evidence. */
static size_t at(const struct streamed *s, size_t i)
{
    return (size_t)s->log.events[i].offset;
}

/* True when data, trimmed of spaces, reads [DONE]: a [DONE] that clients
 * take for the end marker, whether or not it is exact. */
static bool means_done(const char *data)
{
    while (*data == ' ' || *data == '\t')
        data++;
    return strncmp(data, "[DONE]", 6) == 0 &&
           strspn(data + 6, " \t") == strlen(data + 6);
}

/* True when the bytes after the last dispatched event (the ones the parser
 * dropped for want of a blank line) are a data: [DONE] line and nothing
 * more. */
static bool dropped_is_done(const struct streamed *s)
{
    const char *b = s->x.resp.body.data;
    size_t len = s->x.resp.body.len, from = 0, k;

    if (s->log.n_events > 0)
        from = (size_t)s->log.events[s->log.n_events - 1].end;
    while (from < len && (b[from] == '\r' || b[from] == '\n'))
        from++;
    if (len - from < 11 || memcmp(b + from, "data:", 5) != 0)
        return false;
    from += 5;
    if (b[from] == ' ')
        from++;
    if (len - from < 6 || memcmp(b + from, "[DONE]", 6) != 0)
        return false;
    for (k = from + 6; k < len; k++)
        if (b[k] != '\r' && b[k] != '\n')
            return false;
    return true;
}

/* stream.content-type */
static enum verdict rule_ctype(const struct streamed *s,
                               struct finding_worst *w, char *note, size_t n)
{
    const char *ct = http_response_header(&s->x.resp, "Content-Type");

    (void)note;
    (void)n;
    if (!shape_media_type(ct, "text/event-stream"))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "Content-Type is %s; the clients read the event stream "
                     "whatever its label",
                     ct != NULL ? ct : "missing");
    return RULE_JUDGED;
}

/* stream.framing: a dropped [DONE] costs nothing; a dropped chunk is lost
 * to every client. */
static enum verdict rule_framing(const struct streamed *s,
                                 struct finding_worst *w, char *note, size_t n)
{
    const struct stream_log *l = &s->log;
    size_t end = l->n_events > 0 ? (size_t)l->events[l->n_events - 1].end : 0;

    (void)note;
    (void)n;
    if (l->over_limit)
        finding_note(w, FINDING_BREAK, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "a line or event is longer than %zu bytes, or there are "
                     "too many events",
                     EXCHANGE_EVENT_MAX);
    else if (l->oom)
        finding_note(w, FINDING_BREAK, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "the runner ran out of memory reading it");
    else if (l->dropped_tail && dropped_is_done(s))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, end,
                     "the body ends inside an event: data: [DONE] has no "
                     "blank line after it, so it is dropped, which no client "
                     "measured notices");
    else if (l->dropped_tail)
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_DROPPED, end,
                     "the body ends inside an event (no blank line after the "
                     "last one), which is then dropped");
    return RULE_JUDGED;
}

/* stream.utf8 */
static enum verdict rule_utf8(const struct streamed *s, struct finding_worst *w,
                              char *note, size_t n)
{
    size_t bad = evidence_utf8_error(s->x.resp.body.data, s->x.resp.body.len);

    (void)note;
    (void)n;
    if (bad != EVIDENCE_NO_FOCUS || s->log.stats.invalid_utf8)
        finding_note(w, FINDING_SPEC, IMPACT_STREAM_UTF8,
                     bad != EVIDENCE_NO_FOCUS ? bad : 0,
                     "invalid UTF-8 at byte %zu",
                     bad != EVIDENCE_NO_FOCUS ? bad : 0);
    return RULE_JUDGED;
}

/* stream.line-endings */
static enum verdict rule_endings(const struct streamed *s,
                                 struct finding_worst *w, char *note, size_t n)
{
    const struct sse_stats *st = &s->log.stats;
    const char *b = s->x.resp.body.data;
    size_t i;

    (void)note;
    (void)n;
    if (st->cr == 0 && (st->lf == 0 || st->crlf == 0))
        goto out;
    for (i = 0; i < s->x.resp.body.len && st->cr > 0; i++)
        if (b[i] == '\r' && (i + 1 >= s->x.resp.body.len || b[i + 1] != '\n'))
            break;
    finding_note(
        w, FINDING_ADVICE, st->cr > 0 ? IMPACT_STREAM_CR : IMPACT_STREAM_MIXED,
        i < s->x.resp.body.len ? i : 0,
        "%u LF, %u CRLF and %u bare CR line endings", st->lf, st->crlf, st->cr);
out:
    return RULE_JUDGED;
}

/* stream.sdk-hazards: every hazard of the stream, each with the impact of
 * that hazard and of no other; the focus is the first one's byte. */
static enum verdict rule_hazards(const struct streamed *s,
                                 struct finding_worst *w, char *note, size_t n)
{
    const struct stream_log *l = &s->log;
    const struct sse_stats *st = &l->stats;
    size_t i, retries = 0, first_retry = 0;

    (void)note;
    (void)n;
    if (st->bom)
        finding_also(w, FINDING_ADVICE, IMPACT_STREAM_BOM, 0,
                     "the stream opens with a UTF-8 byte order mark");
    if (st->meta_event_blocks > 0)
        finding_also(w, FINDING_BREAK, IMPACT_STREAM_EVENT_ONLY,
                     (size_t)st->first_meta_at,
                     "%u block(s) of event:, id: or retry: lines without "
                     "data, %u of them with event:, the first at byte %zu",
                     st->meta_blocks, st->meta_event_blocks,
                     (size_t)st->first_meta_at);
    else if (st->meta_blocks > 0)
        finding_also(w, FINDING_ADVICE, IMPACT_STREAM_META_ONLY,
                     (size_t)st->first_meta_at,
                     "%u block(s) of id: or retry: lines without data, the "
                     "first at byte %zu",
                     st->meta_blocks, (size_t)st->first_meta_at);
    if (st->id_fields > 0)
        finding_also(w, FINDING_ADVICE, IMPACT_STREAM_ID,
                     (size_t)st->first_id_at,
                     "%u id: line(s), the first at byte %zu", st->id_fields,
                     (size_t)st->first_id_at);
    for (i = 0; i < l->n_events; i++)
        if (l->events[i].has_retry && retries++ == 0)
            first_retry = i;
    if (retries > 0)
        finding_also(w, FINDING_ADVICE, IMPACT_NONE, at(s, first_retry),
                     "%zu event(s) carry a retry: field, the first event %zu "
                     "(the SDKs ignore retry: on an event with data)",
                     retries, first_retry);
    if (st->unknown_fields > 0)
        finding_also(w, FINDING_ADVICE, IMPACT_NONE, 0,
                     "%u line(s) with a field name other than data, event, "
                     "id or retry (the clients ignore them)",
                     st->unknown_fields);
    return RULE_JUDGED;
}

/* stream.json: a [DONE] spelt otherwise is stream.done-present's. */
static enum verdict rule_json(const struct streamed *s, struct finding_worst *w,
                              char *note, size_t n)
{
    const struct stream_event *e;
    size_t i;

    (void)note;
    (void)n;
    for (i = 0; i < before_done(s) && w->kind == FINDING_NONE; i++) {
        e = &s->log.events[i];
        if (json_is_object(e->json) || means_done(e->data))
            continue;
        if (e->json == NULL)
            finding_note(w, FINDING_BREAK, IMPACT_STREAM_NOT_JSON, at(s, i),
                         "event %zu: data is %s", i, e->json_error);
        else
            finding_note(w, FINDING_BREAK, IMPACT_STREAM_NOT_OBJECT, at(s, i),
                         "event %zu: data is a JSON %s, not an object", i,
                         shape_type(e->json));
    }
    return RULE_JUDGED;
}

/* Returns RULE_NA with the reason when the stream has no JSON chunk. */
static enum verdict chunks_seen(const struct streamed *s, char *note, size_t n)
{
    size_t i;

    for (i = 0; i < before_done(s); i++)
        if (chunk_at(s, i) != NULL)
            return RULE_JUDGED;
    snprintf(note, n, "no JSON chunk to read (see stream.json)");
    return RULE_NA;
}

/* stream.no-error-key */
static enum verdict rule_no_error(const struct streamed *s,
                                  struct finding_worst *w, char *note, size_t n)
{
    size_t i;

    for (i = 0; i < before_done(s) && w->kind == FINDING_NONE; i++)
        if (json_object_get(chunk_at(s, i), "error") != NULL)
            finding_note(w, FINDING_BREAK, IMPACT_STREAM_ERROR_KEY, at(s, i),
                         "event %zu carries an error key", i);
    return chunks_seen(s, note, n);
}

/* stream.chunk-object */
static enum verdict rule_object(const struct streamed *s,
                                struct finding_worst *w, char *note, size_t n)
{
    const char *obj;
    json_t *ch;
    size_t i;

    for (i = 0; i < before_done(s) && w->kind == FINDING_NONE; i++) {
        if ((ch = chunk_at(s, i)) == NULL)
            continue;
        obj = json_string_value(json_object_get(ch, "object"));
        if (obj == NULL || strcmp(obj, "chat.completion.chunk") != 0)
            finding_note(
                w, FINDING_SPEC, IMPACT_NONE, at(s, i),
                "event %zu has object %s", i,
                obj != NULL ? obj : shape_type(json_object_get(ch, "object")));
    }
    return chunks_seen(s, note, n);
}

/* Notes in w how one top-level member of chunk ch (event i) departs: of
 * another type where present and not null, the clients break; absent,
 * null or off the spec's text (ok false), it is the spec's text only. */
static void member_note(const json_t *ch, size_t i, size_t focus,
                        const char *field, bool typed, bool ok,
                        const char *want, struct finding_worst *w)
{
    const json_t *v = json_object_get(ch, field);

    if (v != NULL && !json_is_null(v) && !typed)
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_CHUNK_TYPES, focus,
                     "event %zu: %s is %s, not %s", i, field, shape_type(v),
                     want);
    else if (!ok)
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "event %zu: %s is %s, not %s", i, field, shape_type(v),
                     want);
}

/* Notes in w how choice k of chunk i departs from what clients read. */
static void choice_note(const json_t *c, size_t i, size_t k, size_t focus,
                        struct finding_worst *w)
{
    const json_t *fr = json_object_get(c, "finish_reason");
    const json_t *delta = json_object_get(c, "delta"), *v;

    if (fr != NULL && !json_is_null(fr) && !json_is_string(fr))
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_CHUNK_TYPES, focus,
                     "event %zu: choices[%zu].finish_reason is %s", i, k,
                     shape_type(fr));
    else if (fr == NULL)
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "event %zu: choices[%zu] has no finish_reason member", i,
                     k);
    else if (json_is_string(fr) && !shape_finish_reason(json_string_value(fr)))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "event %zu: choices[%zu].finish_reason is %s, not an "
                     "allowed value",
                     i, k, json_string_value(fr));
    if (!shape_is_int(json_object_get(c, "index")))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "event %zu: choices[%zu].index is %s", i, k,
                     shape_type(json_object_get(c, "index")));
    if (!json_is_object(delta)) {
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "event %zu: choices[%zu].delta is %s", i, k,
                     shape_type(delta));
        return;
    }
    v = json_object_get(delta, "content");
    if (v != NULL && !json_is_string(v) && !json_is_null(v))
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_DELTA_CONTENT, focus,
                     "event %zu: choices[%zu].delta.content is %s, not a "
                     "string or null",
                     i, k, shape_type(v));
    v = json_object_get(delta, "tool_calls");
    if (json_is_null(v))
        finding_note(w, FINDING_OPTIONAL, IMPACT_NONE, focus,
                     "event %zu: choices[%zu].delta.tool_calls is null", i, k);
    else if (v != NULL && !json_is_array(v))
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_DELTA_TOOL_CALLS, focus,
                     "event %zu: choices[%zu].delta.tool_calls is %s, not an "
                     "array",
                     i, k, shape_type(v));
    v = json_object_get(delta, "refusal");
    if (v != NULL && !json_is_string(v) && !json_is_null(v))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "event %zu: choices[%zu].delta.refusal is %s", i, k,
                     shape_type(v));
    v = json_object_get(c, "logprobs");
    if (v != NULL && !json_is_object(v) && !json_is_null(v))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, focus,
                     "event %zu: choices[%zu].logprobs is %s, not an object "
                     "or null",
                     i, k, shape_type(v));
}

/* stream.chunk-shape: usage is stream.usage-null's and
 * stream.usage-chunk's to judge, a delta's role stream.first-role's. */
static enum verdict rule_shape(const struct streamed *s,
                               struct finding_worst *w, char *note, size_t n)
{
    const json_t *ch, *choices, *c;
    char where[32];
    size_t i, k;

    for (i = 0; i < before_done(s); i++) {
        if ((ch = chunk_at(s, i)) == NULL)
            continue;
        choices = json_object_get(ch, "choices");
        if (!json_is_array(choices))
            finding_note(w, FINDING_BREAK, IMPACT_STREAM_CHUNK_TYPES, at(s, i),
                         "event %zu: choices is %s, not an array", i,
                         shape_type(choices));
        member_note(ch, i, at(s, i), "id",
                    json_is_string(json_object_get(ch, "id")),
                    json_is_string(json_object_get(ch, "id")), "a string", w);
        member_note(ch, i, at(s, i), "created",
                    shape_is_number(json_object_get(ch, "created")),
                    shape_is_int(json_object_get(ch, "created")), "an integer",
                    w);
        member_note(ch, i, at(s, i), "model",
                    json_is_string(json_object_get(ch, "model")),
                    json_is_string(json_object_get(ch, "model")), "a string",
                    w);
        json_array_foreach(choices, k, c) choice_note(c, i, k, at(s, i), w);
        snprintf(where, sizeof(where), "event %zu: ", i);
        shape_extras_note(ch, where, at(s, i), w);
    }
    return chunks_seen(s, note, n);
}

/* stream.chunk-consistent */
static enum verdict rule_consistent(const struct streamed *s,
                                    struct finding_worst *w, char *note,
                                    size_t n)
{
    static const char *const fields[] = {"id", "created", "model"};
    json_t *first = NULL, *ch;
    size_t i, f;

    for (i = 0; i < before_done(s) && w->kind == FINDING_NONE; i++) {
        if ((ch = chunk_at(s, i)) == NULL)
            continue;
        if (first == NULL) {
            first = ch;
            continue;
        }
        for (f = 0; f < 3 && w->kind == FINDING_NONE; f++)
            if (!json_equal(json_object_get(first, fields[f]),
                            json_object_get(ch, fields[f])))
                finding_note(w, FINDING_SPEC, IMPACT_NONE, at(s, i),
                             "event %zu has another %s than the first "
                             "chunk",
                             i, fields[f]);
    }
    return chunks_seen(s, note, n);
}

/* Calls fn for every choice of every chunk before [DONE]; stops when fn
 * returns false. */
static void each_choice(const struct streamed *s,
                        bool (*fn)(void *ud, size_t event, json_int_t index,
                                   const json_t *choice),
                        void *ud)
{
    json_t *choices, *c;
    size_t i, k;

    for (i = 0; i < before_done(s); i++) {
        choices = json_object_get(chunk_at(s, i), "choices");
        json_array_foreach(choices, k, c)
        {
            json_t *idx = json_object_get(c, "index");
            if (!shape_is_int(idx) || json_integer_value(idx) < 0 ||
                json_integer_value(idx) >= MAX_CHOICES)
                continue;
            if (!fn(ud, i, json_integer_value(idx), c))
                return;
        }
    }
}

/* What the choice walks remember per choice index. */
struct choice_walk {
    const struct streamed *s;
    struct finding_worst *w;
    bool seen[MAX_CHOICES];
    unsigned finishes[MAX_CHOICES];
};

/* Notes a delta role other than assistant anywhere, and a first delta
 * without the role. */
static bool walk_role(void *ud, size_t event, json_int_t index,
                      const json_t *choice)
{
    struct choice_walk *cw = ud;
    const json_t *role =
        json_object_get(json_object_get(choice, "delta"), "role");
    const char *r = json_string_value(role);
    bool first = !cw->seen[index];

    cw->seen[index] = true;
    if (role != NULL && !json_is_null(role) &&
        (r == NULL || (strcmp(r, "assistant") != 0 && r[0] != '\0')))
        finding_note(cw->w, FINDING_BREAK, IMPACT_STREAM_ROLE, at(cw->s, event),
                     "the delta of choice %lld in event %zu has role %s",
                     (long long)index, event, r != NULL ? r : shape_type(role));
    else if (first && (r == NULL || strcmp(r, "assistant") != 0))
        finding_note(cw->w, FINDING_SPEC, IMPACT_NONE, at(cw->s, event),
                     "the first delta of choice %lld (event %zu) has role %s",
                     (long long)index, event,
                     r != NULL ? (r[0] != '\0' ? r : "\"\"") : "missing");
    return true;
}

/* Walks every choice of s with fn, noting in w; returns how many choice
 * indexes came. */
static size_t walk_choices(const struct streamed *s, struct finding_worst *w,
                           bool (*fn)(void *ud, size_t event, json_int_t index,
                                      const json_t *choice),
                           struct choice_walk *cw)
{
    size_t k, seen = 0;

    memset(cw, 0, sizeof(*cw));
    cw->s = s;
    cw->w = w;
    each_choice(s, fn, cw);
    for (k = 0; k < MAX_CHOICES; k++)
        seen += cw->seen[k];
    return seen;
}

/* stream.first-role */
static enum verdict rule_first_role(const struct streamed *s,
                                    struct finding_worst *w, char *note,
                                    size_t n)
{
    struct choice_walk cw;

    if (walk_choices(s, w, walk_role, &cw) > 0)
        return RULE_JUDGED;
    snprintf(note, n, "no chunk carries a choice (see stream.finish-once)");
    return RULE_NA;
}

/* Counts finish_reasons per choice; notes content after one and a second
 * one. Any non-null finish_reason counts: its type is stream.chunk-shape's
 * to judge. */
static bool walk_finish(void *ud, size_t event, json_int_t index,
                        const json_t *choice)
{
    struct choice_walk *cw = ud;
    const json_t *delta = json_object_get(choice, "delta");
    const json_t *content = json_object_get(delta, "content");
    const json_t *fr = json_object_get(choice, "finish_reason");
    bool has_content =
        (json_is_string(content) && json_string_length(content) > 0) ||
        json_array_size(json_object_get(delta, "tool_calls")) > 0;

    cw->seen[index] = true;
    if (cw->finishes[index] > 0 && has_content)
        finding_note(cw->w, FINDING_SPEC, IMPACT_NONE, at(cw->s, event),
                     "choice %lld gets content after its finish_reason "
                     "(event %zu); the clients measured append it",
                     (long long)index, event);
    if (fr != NULL && !json_is_null(fr) && ++cw->finishes[index] == 2)
        finding_note(cw->w, FINDING_BREAK, IMPACT_STREAM_FINISH_TWICE,
                     at(cw->s, event),
                     "choice %lld gets a second finish_reason (event %zu)",
                     (long long)index, event);
    return true;
}

/* stream.finish-once: choice 0 left unfinished breaks a client measured;
 * a later choice, which the clients measured do not read apart, and a
 * choice that never comes are the spec's text. */
static enum verdict rule_finish_once(const struct streamed *s,
                                     struct finding_worst *w, char *note,
                                     size_t n)
{
    enum verdict ret = RULE_JUDGED;
    struct choice_walk cw;
    size_t k;

    if (walk_choices(s, w, walk_finish, &cw) == 0) {
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_NO_FINISH,
                     EVIDENCE_NO_FOCUS, "no chunk carries a choice");
        goto out;
    }
    for (k = 0; k < MAX_CHOICES; k++) {
        if (!cw.seen[k] || cw.finishes[k] > 0)
            continue;
        if (s->log.dropped_tail) {
            /* Its end may be in the event the parser dropped. */
            snprintf(note, n,
                     "choice %zu's end was cut off (see stream.framing)", k);
            ret = w->kind == FINDING_NONE ? RULE_NA : RULE_JUDGED;
            goto out;
        }
        finding_note(w, k == 0 ? FINDING_BREAK : FINDING_SPEC,
                     k == 0 ? IMPACT_STREAM_NO_FINISH : IMPACT_NONE,
                     EVIDENCE_NO_FOCUS, "choice %zu never gets a finish_reason",
                     k);
    }
    /* With n > 1 every choice asked for should come. */
    for (k = 0; s->n > 1 && k < s->n && k < MAX_CHOICES; k++)
        if (!cw.seen[k])
            finding_note(w, FINDING_SPEC, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                         "choice %zu of the %u asked for never comes", k, s->n);
out:
    return ret;
}

/* stream.done-present: a [DONE] spelt otherwise breaks every client; none
 * at all, on a clean end, none. */
static enum verdict rule_done_present(const struct streamed *s,
                                      struct finding_worst *w, char *note,
                                      size_t n)
{
    enum verdict ret = RULE_JUDGED;
    size_t i;

    if (s->log.done_index != SIZE_MAX)
        goto out;
    for (i = 0; i < s->log.n_events; i++) {
        if (strstr(s->log.events[i].data, "[DONE]") != NULL) {
            finding_note(w, FINDING_BREAK, IMPACT_STREAM_DONE_MALFORMED,
                         at(s, i),
                         "event %zu has data '%.40s', not exactly [DONE]", i,
                         s->log.events[i].data);
            goto out;
        }
    }
    if (s->log.dropped_tail) {
        snprintf(note, n,
                 "the stream's last event was dropped (see stream.framing)");
        ret = RULE_NA;
        goto out;
    }
    finding_note(w, FINDING_SPEC, IMPACT_NONE,
                 s->x.resp.body.len > 0 ? s->x.resp.body.len - 1 : 0,
                 "no [DONE] event in %zu events; the stream ends cleanly, "
                 "and the clients measured end with it",
                 s->log.n_events);
out:
    return ret;
}

/* stream.done-last */
static enum verdict rule_done_last(const struct streamed *s,
                                   struct finding_worst *w, char *note,
                                   size_t n)
{
    enum verdict ret = RULE_JUDGED;
    const struct stream_log *l = &s->log;
    size_t end;

    if (l->done_index == SIZE_MAX) {
        snprintf(note, n, "no [DONE] (see stream.done-present)");
        ret = RULE_NA;
        goto out;
    }
    end = (size_t)l->events[l->done_index].end;
    /* The parser dispatches at the CR of a CRLF blank line (sse_parse.h),
     * so the LF that completes it is still part of the [DONE] event. */
    if (end > 0 && end < s->x.resp.body.len &&
        s->x.resp.body.data[end - 1] == '\r' &&
        s->x.resp.body.data[end] == '\n')
        end++;
    if (l->done_index + 1 < l->n_events)
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_AFTER_DONE, end,
                     "%zu event(s) and %zu byte(s) follow [DONE]",
                     l->n_events - l->done_index - 1, s->x.resp.body.len - end);
    else if (s->x.resp.body.len > end)
        finding_note(w, FINDING_SPEC, IMPACT_NONE, end,
                     "%zu byte(s) but no event follow [DONE]",
                     s->x.resp.body.len - end);
out:
    return ret;
}

/* stream.closes-after-done: says the grace it allowed, passed or not. */
static enum verdict rule_closes(const struct streamed *s,
                                struct finding_worst *w, char *note, size_t n)
{
    enum verdict ret = RULE_JUDGED;

    if (s->log.done_index == SIZE_MAX) {
        snprintf(note, n, "no [DONE] (see stream.done-present)");
        ret = RULE_NA;
    } else if (!s->log.held_open) {
        snprintf(note, n, "closed within %g s of [DONE] (--done-grace)",
                 s->log.grace_ms / 1000.0);
    } else {
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_HELD, EVIDENCE_NO_FOCUS,
                     "the stream stayed open more than %g s after [DONE] "
                     "(--done-grace); the runner then closed it",
                     s->log.grace_ms / 1000.0);
    }
    return ret;
}

/* The index of the last chunk before [DONE], or SIZE_MAX. */
static size_t last_chunk(const struct streamed *s)
{
    size_t i, last = SIZE_MAX;

    for (i = 0; i < before_done(s); i++)
        if (chunk_at(s, i) != NULL)
            last = i;
    return last;
}

/* stream.usage-null: the last chunk's usage is stream.usage-chunk's. */
static enum verdict rule_usage_null(const struct streamed *s,
                                    struct finding_worst *w, char *note,
                                    size_t n)
{
    size_t i, last = last_chunk(s), judged = 0;
    json_t *ch, *u;

    for (i = 0; i < before_done(s); i++) {
        ch = chunk_at(s, i);
        if (json_array_size(json_object_get(ch, "choices")) == 0 || i == last)
            continue;
        judged++;
        u = json_object_get(ch, "usage");
        if (u == NULL || json_is_null(u))
            continue;
        if (!json_is_object(u))
            finding_note(w, FINDING_BREAK, IMPACT_STREAM_USAGE_TYPE, at(s, i),
                         "event %zu has choices and usage %s", i,
                         shape_type(u));
        else
            finding_note(w, FINDING_SPEC, IMPACT_NONE, at(s, i),
                         "event %zu has choices and a usage object, as do "
                         "the chunks after it; the clients measured keep "
                         "the last one",
                         i);
    }
    if (judged > 0)
        return RULE_JUDGED;
    snprintf(note, n, "no chunk with choices before the last one");
    return RULE_NA;
}

/* stream.usage-chunk */
static enum verdict rule_usage_chunk(const struct streamed *s,
                                     struct finding_worst *w, char *note,
                                     size_t n)
{
    enum verdict ret = RULE_JUDGED;
    size_t last = last_chunk(s);
    json_t *ch, *u, *choices, *found = stream_log_usage(&s->log);

    if (s->log.dropped_tail) {
        snprintf(note, n,
                 "the stream's last event was dropped (see "
                 "stream.framing)");
        ret = RULE_NA;
        goto out;
    }
    if (last == SIZE_MAX) {
        snprintf(note, n, "no JSON chunk to read (see stream.json)");
        ret = RULE_NA;
        goto out;
    }
    ch = chunk_at(s, last);
    u = json_object_get(ch, "usage");
    choices = json_object_get(ch, "choices");
    if (found == NULL) {
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_NO_USAGE, at(s, last),
                     "no chunk carries a usage object");
        goto out;
    }
    if (!shape_is_count(json_object_get(found, "prompt_tokens")) ||
        !shape_is_count(json_object_get(found, "completion_tokens")) ||
        !shape_is_count(json_object_get(found, "total_tokens"))) {
        finding_note(w, FINDING_BREAK, IMPACT_STREAM_NO_USAGE, at(s, last),
                     "the usage lacks non-negative integer prompt_tokens, "
                     "completion_tokens and total_tokens");
        goto out;
    }
    if (!json_is_object(u))
        finding_note(w, FINDING_SPEC, IMPACT_NONE, at(s, last),
                     "the last chunk has usage %s; an earlier chunk carries "
                     "it",
                     shape_type(u));
    else if (!json_is_array(choices) || json_array_size(choices) != 0)
        finding_note(w, FINDING_SPEC, IMPACT_NONE, at(s, last),
                     "the usage rides on the last chunk, whose choices is "
                     "%s%s, not []; the clients measured read usage from "
                     "any chunk",
                     shape_type(choices),
                     json_array_size(choices) > 0 ? " (not empty)" : "");
out:
    return ret;
}

/* stream.usage-unasked: only the streams made without include_usage. */
static enum verdict rule_usage_unasked(const struct streamed *s,
                                       struct finding_worst *w, char *note,
                                       size_t n)
{
    json_t *u;
    size_t i;

    for (i = 0; i < before_done(s) && w->kind == FINDING_NONE; i++) {
        u = json_object_get(chunk_at(s, i), "usage");
        if (u != NULL && !json_is_null(u))
            finding_note(w, FINDING_SPEC, IMPACT_NONE, at(s, i),
                         "event %zu carries usage %s though include_usage "
                         "was not asked for",
                         i, shape_type(u));
    }
    return chunks_seen(s, note, n);
}

/* stream.incremental: says when the events came, whatever the verdict. A
 * burst is advice: no client measured breaks on it, but its user waits for
 * the whole reply. */
static enum verdict rule_incremental(const struct streamed *s,
                                     struct finding_worst *w, char *note,
                                     size_t n)
{
    enum verdict ret = RULE_JUDGED;
    const struct stream_log *l = &s->log;
    double first, last;
    size_t count = before_done(s) + (l->done_index != SIZE_MAX ? 1 : 0);

    if (count == 0) {
        snprintf(note, n, "no events");
        ret = RULE_NA;
        goto out;
    }
    first = l->events[0].at_ms;
    last = l->events[count - 1].at_ms;
    if (last < INCREMENTAL_MIN_MS)
        snprintf(note, n,
                 "the whole stream came within %.0f ms of the request: no "
                 "wait to hide",
                 last);
    else if (count >= 3 && last - first <= BURST_SHARE * last)
        finding_note(w, FINDING_ADVICE, IMPACT_NONE, EVIDENCE_NO_FOCUS,
                     "all %zu events came in one burst %.0f ms after the "
                     "request (the first at %.0f ms, the last at %.0f ms): "
                     "the reply was held back, then sent at once",
                     count, first, first, last);
    else
        snprintf(note, n,
                 "%zu events came over %.0f ms, the first %.0f ms after the "
                 "request",
                 count, last - first, first);
out:
    return ret;
}

/* Which streams a rule reads. */
enum reads { READS_ALL, READS_USAGE, READS_NO_USAGE };

/* Each rule, the check it decides, and which streams it reads. */
static const struct {
    int check;
    rule_fn fn;
    enum reads reads;
    const char *ok;
} rules[] = {
    {CTYPE, rule_ctype, READS_ALL, "text/event-stream"},
    {FRAMING, rule_framing, READS_ALL, "every event ends with a blank line"},
    {UTF8, rule_utf8, READS_ALL, "valid UTF-8"},
    {ENDINGS, rule_endings, READS_ALL, "consistent line endings"},
    {HAZARDS, rule_hazards, READS_ALL, "no BOM, id:, retry: or unknown fields"},
    {JSON_DATA, rule_json, READS_ALL, "every payload is a JSON object"},
    {NO_ERROR, rule_no_error, READS_ALL, "no error key"},
    {OBJECT, rule_object, READS_ALL, "every chunk is chat.completion.chunk"},
    {SHAPE, rule_shape, READS_ALL, "every chunk is well formed"},
    {CONSISTENT, rule_consistent, READS_ALL, "one id, created and model"},
    {FIRST_ROLE, rule_first_role, READS_ALL, "the first delta has the role"},
    {FINISH_ONCE, rule_finish_once, READS_ALL, "one finish_reason per choice"},
    {DONE_PRESENT, rule_done_present, READS_ALL, "data: [DONE] arrives"},
    {DONE_LAST, rule_done_last, READS_ALL, "nothing after [DONE]"},
    {CLOSES, rule_closes, READS_ALL, "closed within the grace after [DONE]"},
    {USAGE_NULL, rule_usage_null, READS_USAGE,
     "usage is null on content chunks"},
    {USAGE_CHUNK, rule_usage_chunk, READS_USAGE, "one final usage chunk"},
    {USAGE_UNASKED, rule_usage_unasked, READS_NO_USAGE,
     "no usage unless include_usage is asked for"},
    {INCREMENTAL, rule_incremental, READS_ALL, "events came as generated"},
};

/* Sends the basic request as a stream and reads it through the log. The
 * n > 1 stream asks for something else, so that a script (or a cache) that
 * keys on the prompt cannot answer it with the plain stream. */
static void send_stream(struct conform *c, struct streamed *s)
{
    json_t *body = json_pack(
        "{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:i, s:b}", "model",
        conform_model(c), "messages", "role", "system", "content",
        "You are a terse assistant.", "role", "user", "content",
        s->n > 1 ? "Say hi in three words." : "Say hello in five words.",
        "seed", 42, "stream", 1);

    if (s->include_usage && body != NULL)
        json_object_set_new(body, "stream_options",
                            json_pack("{s:b}", "include_usage", 1));
    if (s->n > 1 && body != NULL)
        json_object_set_new(body, "n", json_integer(s->n));
    exchange_send_stream(c, &s->x, body, &s->log);
}

/* The evidence of a stream: the exchange, and its events around focus.
 * New reference. */
static json_t *stream_evidence(const struct streamed *s, size_t focus)
{
    json_t *ev = exchange_evidence(&s->x, focus);

    stream_log_add_events(&s->log, ev, focus);
    return ev;
}

/* Applies one rule to every usable stream and records the gravest finding
 * of all, said of the stream it was found in; a pass needs one stream the
 * rule could judge. */
static void judge_rule(struct conform *c, size_t r, struct streamed *s,
                       size_t n_streams)
{
    const struct check_def *d = &checks[rules[r].check];
    struct finding_worst one, worst;
    char note[512], na[512] = "", ok[512];
    size_t k, which = 0;
    bool judged = false;

    finding_init(&worst, EVIDENCE_NO_FOCUS);
    snprintf(ok, sizeof(ok), "%s", rules[r].ok);
    for (k = 0; k < n_streams; k++) {
        if (!s[k].usable ||
            (rules[r].reads == READS_USAGE && !s[k].include_usage) ||
            (rules[r].reads == READS_NO_USAGE && s[k].include_usage))
            continue;
        finding_init(&one, EVIDENCE_NO_FOCUS);
        note[0] = '\0';
        if (rules[r].fn(&s[k], &one, note, sizeof(note)) == RULE_NA &&
            one.kind == FINDING_NONE) {
            snprintf(na, sizeof(na), "%s", note);
            continue;
        }
        judged = true;
        if (one.kind == FINDING_NONE && note[0] != '\0')
            snprintf(ok, sizeof(ok), "%s", note);
        if (one.kind > worst.kind) {
            worst = one;
            which = k;
            snprintf(worst.why, sizeof(worst.why), "%s stream: %.560s",
                     s[k].label, one.why);
        }
    }
    if (!judged)
        conform_skip(c, d, "%s", na);
    else
        conform_judge(c, d, &worst,
                      worst.kind != FINDING_NONE
                          ? stream_evidence(&s[which], worst.focus)
                          : NULL,
                      "%s", ok);
}

/* What a stream that did not come back whole, or came back with no event,
 * does to the clients measured. */
static enum impact_id status_impact(const struct streamed *s)
{
    const struct http_response *r = &s->x.resp;

    return r->ts == TRANSPORT_OK && r->status >= 500 ? IMPACT_STREAM_5XX
           : r->ts == TRANSPORT_TIMEOUT || r->ts == TRANSPORT_TOO_BIG
               ? IMPACT_STREAM_ENDLESS
           : r->ts == TRANSPORT_OK && r->status == 200 ? IMPACT_STREAM_NO_EVENTS
                                                       : IMPACT_NONE;
}

/* Judges stream.status: the plain and include_usage streams must come back
 * whole, with at least one event; the n=2 one too, unless the server
 * refuses n > 1 with a 400 (not supported). Marks the streams the rules may
 * read, and returns false when the two basic ones are not both there. */
static bool judge_status(struct conform *c, struct streamed *s)
{
    enum impact_id impact;
    const char *ct;
    char why[1024];
    size_t k, err;
    bool basic = true, whole;

    for (k = 0; k < N_STREAMS; k++) {
        s[k].refused = s[k].n > 1 && exchange_status_is(&s[k].x, 400);
        whole = !s[k].refused && stream_log_whole(&s[k].log, &s[k].x.resp);
        s[k].usable = whole && s[k].log.n_events > 0;
        err = s[k].usable ? stream_log_error_event(&s[k].log) : SIZE_MAX;
        impact = status_impact(&s[k]);
        ct = http_response_header(&s[k].x.resp, "Content-Type");
        if (err != SIZE_MAX) {
            /* An error event is the one defect: the rules that read chunks
             * would only repeat that the reply is not there. */
            s[k].usable = false;
            impact = IMPACT_STREAM_ERROR_EVENT;
            stream_log_describe_error(&s[k].log, err, why, sizeof(why));
        } else if (whole) {
            snprintf(why, sizeof(why),
                     "the answer holds no event (Content-Type %s, %zu bytes)",
                     ct != NULL ? ct : "missing", s[k].x.resp.body.len);
        } else {
            snprintf(why, sizeof(why),
                     "expected HTTP 200 and a whole stream, got %s",
                     conform_describe(c, &s[k].x.resp));
        }
        if (s[k].usable || s[k].refused)
            continue;
        if (s[k].n == 1)
            basic = false;
        if (!conform_done(c, &checks[STATUS]))
            conform_finding(
                c, &checks[STATUS], FINDING_BREAK, &impact, 1,
                stream_evidence(&s[k], err != SIZE_MAX
                                           ? (size_t)s[k].log.events[err].offset
                                           : EVIDENCE_NO_FOCUS),
                "%s stream: %.900s", s[k].label, why);
    }
    if (conform_done(c, &checks[STATUS]))
        goto out;
    if (s[2].refused)
        conform_pass(c, &checks[STATUS],
                     exchange_evidence(&s[1].x, EVIDENCE_NO_FOCUS),
                     "plain and include_usage streams complete: %zu and %zu "
                     "bytes; n=2 refused with HTTP 400 (not supported), so "
                     "only n=1 is read",
                     s[0].x.resp.body.len, s[1].x.resp.body.len);
    else
        conform_pass(
            c, &checks[STATUS], exchange_evidence(&s[1].x, EVIDENCE_NO_FOCUS),
            "plain, include_usage and n=2 streams complete: %zu, %zu "
            "and %zu bytes",
            s[0].x.resp.body.len, s[1].x.resp.body.len, s[2].x.resp.body.len);
out:
    return basic;
}

/* Runs the group: a plain stream, one with include_usage, one with n=2. */
static void run(struct conform *c)
{
    struct streamed s[N_STREAMS];
    size_t k, r;

    memset(s, 0, sizeof(s));
    s[0].label = "plain";
    s[0].n = 1;
    s[1].label = "include_usage";
    s[1].n = 1;
    s[1].include_usage = true;
    s[2].label = "n=2";
    s[2].n = 2;
    for (k = 0; k < N_STREAMS; k++) {
        exchange_init(&s[k].x);
        send_stream(c, &s[k]);
    }
    if (judge_status(c, s)) {
        for (r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
            judge_rule(c, r, s, N_STREAMS);
    }
    conform_skip_rest(c, "no whole stream with events to read (see "
                         "stream.status)");
    for (k = 0; k < N_STREAMS; k++) {
        exchange_cleanup(&s[k].x);
        stream_log_cleanup(&s[k].log);
    }
}

const struct group_def group_stream = {
    .name = "stream",
    .about = "POST /chat/completions with stream true: SSE framing, chunks, "
             "[DONE], include_usage",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = NULL,
    .run = run,
};
