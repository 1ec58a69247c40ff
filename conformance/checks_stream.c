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

#define SSE                                                                    \
    "WHATWG HTML Living Standard: Server-sent events (event stream "           \
    "interpretation)"
#define CHUNK "OpenAI spec: CreateChatCompletionStreamResponse"

static const struct check_def checks[] = {
    [STATUS] = {"stream.status", LEVEL_MUST,
                "A request with stream true MUST be answered 200 and the "
                "stream MUST end within the stream timeout and size cap, "
                "with no error event in place of the reply",
                "OpenAI spec: POST /chat/completions (stream); AI Nexus "
                "reference: Streaming",
                NULL},
    [CTYPE] = {"stream.content-type", LEVEL_MUST,
               "The answer to stream true MUST have Content-Type "
               "text/event-stream",
               SSE "; Official SDK client behaviour, section 5 scenario 17",
               "all four SDKs yield zero chunks with no error; Node's "
               "ChatCompletionStream throws 'request ended without sending "
               "any chunks'"},
    [FRAMING] = {"stream.framing", LEVEL_MUST,
                 "The body MUST parse as an event stream, every event ended "
                 "by a blank line",
                 SSE,
                 "every SDK silently drops an event with no blank line after "
                 "it"},
    [UTF8] = {"stream.utf8", LEVEL_MUST, "The event stream MUST be UTF-8",
              SSE " (streams are always UTF-8)",
              "Python raises UnicodeDecodeError and ends the stream; the "
              "others substitute U+FFFD"},
    [ENDINGS] =
        {"stream.line-endings", LEVEL_SHOULD,
         "Lines SHOULD all end the same way, in LF or CRLF",
         "Official SDK client behaviour, section 1 and section 5 scenarios 2-3",
         "Go yields no events from bare CR; Python up to 3.3.1 and "
         "Node up to 7.4 hold events with mixed endings until a later "
         "boundary"},
    [HAZARDS] =
        {"stream.sdk-hazards", LEVEL_SHOULD,
         "The stream SHOULD carry no byte order mark, no id:, retry: or "
         "unknown fields, and no block of event:, id: or retry: lines "
         "without data",
         "Official SDK client behaviour, section 1 and section 5 scenarios 6-7",
         NULL /* rule_hazards names the impact of each hazard it finds */},
    [JSON_DATA] = {"stream.json", LEVEL_MUST,
                   "Every data payload before [DONE] MUST be a JSON object",
                   CHUNK,
                   "Python raises JSONDecodeError, Node SyntaxError, Go a "
                   "json error, Java OpenAIInvalidDataException"},
    [NO_ERROR] = {"stream.no-error-key", LEVEL_MUST,
                  "A successful chunk MUST NOT carry an error key, not even "
                  "\"error\": null",
                  "Official SDK client behaviour, section 5 scenario 14",
                  "Go ends the stream with a StreamError and Java throws "
                  "SseException even for \"error\": null"},
    [OBJECT] = {"stream.chunk-object", LEVEL_MUST,
                "Every chunk's object MUST be \"chat.completion.chunk\"",
                CHUNK ".object", NULL},
    [SHAPE] = {"stream.chunk-shape", LEVEL_MUST,
               "Every chunk MUST have id (string), created (integer), model "
               "(string) and choices (array) whose items have index "
               "(integer), delta (object) and finish_reason (null or an "
               "allowed value); where present, delta.role MUST be a string, "
               "delta.content and delta.refusal a string or null, "
               "delta.tool_calls an array, logprobs an object or null, "
               "system_fingerprint a string and service_tier an allowed "
               "value or null",
               CHUNK " (required: choices, created, id, model, object; "
                     "choices[] required: delta, finish_reason, index); "
                     "ChatCompletionStreamResponseDelta; ServiceTier",
               "Node's ChatCompletionStream iterates choices and merges by "
               "index; clients with strict response validation reject a "
               "chunk whose members have the wrong type"},
    [CONSISTENT] = {"stream.chunk-consistent", LEVEL_MUST,
                    "Every chunk MUST share the same id, created and model",
                    CHUNK ".id and .created (each chunk has the same)",
                    "Node's ChatCompletionStream merges only chunks with the "
                    "id it tracks"},
    [FIRST_ROLE] = {"stream.first-role", LEVEL_MUST,
                    "The first delta of each choice MUST carry role "
                    "\"assistant\"",
                    CHUNK
                    "; Official SDK client behaviour, section 1 (Node helper)",
                    "Node's ChatCompletionStream throws 'missing role for "
                    "choice N'"},
    [FINISH_ONCE] = {"stream.finish-once", LEVEL_MUST,
                     "Each choice MUST get exactly one non-null "
                     "finish_reason, and no content after it; with n 2, "
                     "where supported, choices 0 and 1 both",
                     CHUNK ".choices[].finish_reason; "
                           "CreateChatCompletionRequest.n",
                     "Node's ChatCompletionStream throws 'missing "
                     "finish_reason for choice N'"},
    [DONE_PRESENT] = {"stream.done-present", LEVEL_MUST,
                      "The stream MUST end with the event data: [DONE] "
                      "(exactly those six bytes of data)",
                      "OpenAI streaming format; AI Nexus reference: "
                      "Streaming (same format as OpenAI)",
                      "clients that wait for [DONE] hang until the read "
                      "timeout; data: with two spaces before [DONE] fails "
                      "JSON parsing in all four SDKs"},
    [DONE_LAST] =
        {"stream.done-last", LEVEL_MUST,
         "Nothing MUST follow the [DONE] event: no event, no byte",
         "OpenAI streaming format; Official SDK client behaviour, section 1",
         "Python and Node close at [DONE] and never see the rest; "
         "Node 6.x and Java keep reading it"},
    [CLOSES] = {"stream.closes-after-done", LEVEL_SHOULD,
                "The server SHOULD close the stream within the grace after "
                "[DONE] (--done-grace, " OPTIONS_DONE_GRACE_TEXT
                " s by default), which no timeout shortens",
                "Official SDK client behaviour, section 5 scenario 10",
                "Node 6.x and Java block until the server closes or their "
                "read timeout passes"},
    [USAGE_NULL] = {"stream.usage-null", LEVEL_MUST,
                    "With stream_options.include_usage, chunks with choices "
                    "MUST have usage null or absent",
                    CHUNK ".usage; ChatCompletionStreamOptions.include_usage",
                    "Python's helper keeps the usage of the last chunk only"},
    [USAGE_CHUNK] = {"stream.usage-chunk", LEVEL_MUST,
                     "With stream_options.include_usage, one last chunk "
                     "before [DONE] MUST have choices [] and the usage",
                     "OpenAI spec: ChatCompletionStreamOptions.include_usage",
                     "clients lose the token count of streamed requests; "
                     "Node's helper needs id and choices on that chunk"},
    [USAGE_UNASKED] = {"stream.usage-unasked", LEVEL_SHOULD,
                       "Without stream_options.include_usage, no chunk "
                       "SHOULD carry a usage object",
                       CHUNK ".usage (only when include_usage is set); "
                             "ChatCompletionStreamOptions.include_usage",
                       NULL},
    [INCREMENTAL] = {"stream.incremental", LEVEL_SHOULD,
                     "A stream SHOULD deliver its events as they are "
                     "generated, not all at once after the whole reply "
                     "(judged when the stream lasts " INCREMENTAL_MIN_TEXT
                     " s or more)",
                     "OpenAI spec: CreateChatCompletionRequest.stream "
                     "(partial message deltas sent as they become "
                     "available)",
                     NULL},
};

/* One streamed request and what its body held. */
struct streamed {
    struct exchange x;
    struct stream_log log;
    bool include_usage;
    unsigned n;   /* the choices asked for */
    bool usable;  /* complete, so the rules read it */
    bool refused; /* n > 1 answered 400: not supported */
    const char *label;
};

enum verdict { RULE_OK, RULE_BAD, RULE_NA };

/* A rule over one stream: says why it is broken (and where), or not
 * applicable; when it passes it may say what it saw, which then replaces
 * the rule's ok text. */
typedef enum verdict (*rule_fn)(const struct streamed *s, size_t *focus,
                                char *why, size_t n);

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

/* stream.content-type */
static enum verdict rule_ctype(const struct streamed *s, size_t *focus,
                               char *why, size_t n)
{
    enum verdict ret;
    const char *ct = http_response_header(&s->x.resp, "Content-Type");

    (void)focus;
    if (shape_media_type(ct, "text/event-stream")) {
        ret = RULE_OK;
        goto out;
    }
    snprintf(why, n, "Content-Type is %s", ct != NULL ? ct : "missing");
    ret = RULE_BAD;
out:
    return ret;
}

/* stream.framing */
static enum verdict rule_framing(const struct streamed *s, size_t *focus,
                                 char *why, size_t n)
{
    enum verdict ret;
    const struct stream_log *l = &s->log;

    if (l->over_limit) {
        snprintf(why, n,
                 "a line or event is longer than %zu bytes, or "
                 "there are too many events",
                 EXCHANGE_EVENT_MAX);
        ret = RULE_BAD;
        goto out;
    }
    if (l->oom) {
        snprintf(why, n, "the runner ran out of memory reading it");
        ret = RULE_BAD;
        goto out;
    }
    if (l->dropped_tail) {
        *focus = l->n_events > 0 ? (size_t)l->events[l->n_events - 1].end : 0;
        snprintf(why, n,
                 "the body ends inside an event (no blank line "
                 "after the last one), which is then dropped");
        ret = RULE_BAD;
        goto out;
    }
    ret = RULE_OK;
out:
    return ret;
}

/* stream.utf8 */
static enum verdict rule_utf8(const struct streamed *s, size_t *focus,
                              char *why, size_t n)
{
    enum verdict ret;
    size_t at = evidence_utf8_error(s->x.resp.body.data, s->x.resp.body.len);

    if (at == EVIDENCE_NO_FOCUS && !s->log.stats.invalid_utf8) {
        ret = RULE_OK;
        goto out;
    }
    *focus = at != EVIDENCE_NO_FOCUS ? at : 0;
    snprintf(why, n, "invalid UTF-8 at byte %zu", *focus);
    ret = RULE_BAD;
out:
    return ret;
}

/* stream.line-endings */
static enum verdict rule_endings(const struct streamed *s, size_t *focus,
                                 char *why, size_t n)
{
    enum verdict ret;
    const struct sse_stats *st = &s->log.stats;
    const char *b = s->x.resp.body.data;
    size_t i;

    if (st->cr == 0 && (st->lf == 0 || st->crlf == 0)) {
        ret = RULE_OK;
        goto out;
    }
    for (i = 0; i < s->x.resp.body.len && st->cr > 0; i++)
        if (b[i] == '\r' && (i + 1 >= s->x.resp.body.len || b[i + 1] != '\n'))
            break;
    *focus = i < s->x.resp.body.len ? i : 0;
    snprintf(why, n, "%u LF, %u CRLF and %u bare CR line endings", st->lf,
             st->crlf, st->cr);
    ret = RULE_BAD;
out:
    return ret;
}

/* Appends one hazard to the text found and its SDK consequence to impact;
 * both are cut at their size. */
static void add_hazard(char *found, size_t nf, char *impact, size_t ni,
                       const char *what, const char *effect)
{
    size_t lf = strlen(found), li = strlen(impact);

    if (lf < nf)
        snprintf(found + lf, nf - lf, "%s%s", lf > 0 ? "; " : "", what);
    if (li < ni)
        snprintf(impact + li, ni - li, "%s%s", li > 0 ? "; " : "", effect);
}

/* stream.sdk-hazards: every hazard of the stream, then the consequences of
 * those found (and only those); the focus is the first one's byte. */
static enum verdict rule_hazards(const struct streamed *s, size_t *focus,
                                 char *why, size_t n)
{
    const struct stream_log *l = &s->log;
    char found[512] = "", impact[512] = "", what[160];
    size_t i, retries = 0, first_retry = 0;
    bool seen = false;

    if (l->stats.bom) {
        *focus = 0;
        seen = true;
        add_hazard(found, sizeof(found), impact, sizeof(impact),
                   "the stream opens with a UTF-8 byte order mark",
                   "a BOM loses the first event in Python, Go and Java");
    }
    if (l->stats.meta_blocks > 0) {
        if (!seen)
            *focus = (size_t)l->stats.first_meta_at;
        seen = true;
        snprintf(what, sizeof(what),
                 "%u block(s) of event:, id: or retry: lines without data, "
                 "the first at byte %zu",
                 l->stats.meta_blocks, (size_t)l->stats.first_meta_at);
        add_hazard(found, sizeof(found), impact, sizeof(impact), what,
                   l->stats.meta_event_blocks > 0
                       ? "Python raises JSONDecodeError on each such block, "
                         "Node SyntaxError on those with event:"
                       : "Python raises JSONDecodeError on each such block");
    }
    if (l->stats.id_fields > 0) {
        if (!seen)
            *focus = (size_t)l->stats.first_id_at;
        seen = true;
        snprintf(what, sizeof(what), "%u id: line(s), the first at byte %zu",
                 l->stats.id_fields, (size_t)l->stats.first_id_at);
        add_hazard(found, sizeof(found), impact, sizeof(impact), what,
                   "after an id: Python raises JSONDecodeError at any blank "
                   "line that ends no data (after a comment, or an extra "
                   "one)");
    }
    for (i = 0; i < l->n_events; i++)
        if (l->events[i].has_retry && retries++ == 0)
            first_retry = i;
    if (retries > 0) {
        if (!seen)
            *focus = (size_t)l->events[first_retry].offset;
        seen = true;
        snprintf(what, sizeof(what),
                 "%zu event(s) carry a retry: field, the first event %zu",
                 retries, first_retry);
        add_hazard(found, sizeof(found), impact, sizeof(impact), what,
                   "the SDKs ignore retry: on an event with data, but in a "
                   "block without data it makes Python raise "
                   "JSONDecodeError");
    }
    if (l->stats.unknown_fields > 0) {
        seen = true;
        snprintf(what, sizeof(what),
                 "%u line(s) with a field name other than data, event, id "
                 "or retry",
                 l->stats.unknown_fields);
        add_hazard(found, sizeof(found), impact, sizeof(impact), what,
                   "the official SDKs ignore unknown fields (no known "
                   "breakage)");
    }
    if (seen)
        snprintf(why, n, "%s. Impact: %s", found, impact);
    return seen ? RULE_BAD : RULE_OK;
}

/* stream.json */
static enum verdict rule_json(const struct streamed *s, size_t *focus,
                              char *why, size_t n)
{
    enum verdict ret;
    const struct stream_event *e;
    size_t i;

    for (i = 0; i < before_done(s); i++) {
        e = &s->log.events[i];
        if (json_is_object(e->json))
            continue;
        *focus = (size_t)e->offset;
        if (e->json == NULL)
            snprintf(why, n, "event %zu: data is %s", i, e->json_error);
        else
            snprintf(why, n, "event %zu: data is a JSON %s, not an object", i,
                     shape_type(e->json));
        ret = RULE_BAD;
        goto out;
    }
    ret = RULE_OK;
out:
    return ret;
}

/* stream.no-error-key */
static enum verdict rule_no_error(const struct streamed *s, size_t *focus,
                                  char *why, size_t n)
{
    enum verdict ret;
    size_t i;

    for (i = 0; i < before_done(s); i++) {
        if (json_object_get(chunk_at(s, i), "error") != NULL) {
            *focus = (size_t)s->log.events[i].offset;
            snprintf(why, n, "event %zu carries an error key", i);
            ret = RULE_BAD;
            goto out;
        }
    }
    ret = RULE_OK;
out:
    return ret;
}

/* stream.chunk-object */
static enum verdict rule_object(const struct streamed *s, size_t *focus,
                                char *why, size_t n)
{
    enum verdict ret;
    const char *obj;
    json_t *ch;
    size_t i;

    for (i = 0; i < before_done(s); i++) {
        if ((ch = chunk_at(s, i)) == NULL)
            continue;
        obj = json_string_value(json_object_get(ch, "object"));
        if (obj == NULL || strcmp(obj, "chat.completion.chunk") != 0) {
            *focus = (size_t)s->log.events[i].offset;
            snprintf(why, n, "event %zu has object %s", i,
                     obj != NULL ? obj
                                 : shape_type(json_object_get(ch, "object")));
            ret = RULE_BAD;
            goto out;
        }
    }
    ret = RULE_OK;
out:
    return ret;
}

/* Says what is wrong with one chunk's shape, or returns true. */
static bool chunk_shape_ok(const json_t *ch, char *why, size_t n)
{
    bool ret;
    const json_t *choices = json_object_get(ch, "choices"), *c, *fr, *delta, *v;
    char what[160];
    size_t k;

    if (!json_is_string(json_object_get(ch, "id")) ||
        !shape_is_int(json_object_get(ch, "created")) ||
        !json_is_string(json_object_get(ch, "model")) ||
        !json_is_array(choices)) {
        snprintf(why, n, "id is %s, created %s, model %s, choices %s",
                 shape_type(json_object_get(ch, "id")),
                 shape_type(json_object_get(ch, "created")),
                 shape_type(json_object_get(ch, "model")), shape_type(choices));
        ret = false;
        goto out;
    }
    json_array_foreach(choices, k, c)
    {
        fr = json_object_get(c, "finish_reason");
        delta = json_object_get(c, "delta");
        if (!shape_is_int(json_object_get(c, "index")) ||
            !json_is_object(delta) || fr == NULL ||
            !(json_is_null(fr) || shape_finish_reason(json_string_value(fr)))) {
            snprintf(why, n,
                     "choices[%zu] has index %s, delta %s, finish_reason %s%s",
                     k, shape_type(json_object_get(c, "index")),
                     shape_type(delta), shape_type(fr),
                     json_is_string(fr) ? " (not an allowed value)" : "");
            ret = false;
            goto out;
        }
        v = json_object_get(delta, "role");
        if (v != NULL && !json_is_string(v)) {
            snprintf(why, n, "choices[%zu].delta.role is %s, not a string", k,
                     shape_type(v));
            ret = false;
            goto out;
        }
        if (!shape_message_members(delta, what, sizeof(what))) {
            snprintf(why, n, "choices[%zu].delta.%s", k, what);
            ret = false;
            goto out;
        }
        v = json_object_get(c, "logprobs");
        if (v != NULL && !json_is_object(v) && !json_is_null(v)) {
            snprintf(why, n,
                     "choices[%zu].logprobs is %s, not an object or null", k,
                     shape_type(v));
            ret = false;
            goto out;
        }
    }
    ret = shape_response_extras(ch, why, n);
out:
    return ret;
}

/* stream.chunk-shape */
static enum verdict rule_shape(const struct streamed *s, size_t *focus,
                               char *why, size_t n)
{
    enum verdict ret;
    char what[200];
    json_t *ch;
    size_t i;

    for (i = 0; i < before_done(s); i++) {
        if ((ch = chunk_at(s, i)) == NULL || chunk_shape_ok(ch, what, 200))
            continue;
        *focus = (size_t)s->log.events[i].offset;
        snprintf(why, n, "event %zu: %s", i, what);
        ret = RULE_BAD;
        goto out;
    }
    ret = RULE_OK;
out:
    return ret;
}

/* stream.chunk-consistent */
static enum verdict rule_consistent(const struct streamed *s, size_t *focus,
                                    char *why, size_t n)
{
    enum verdict ret;
    static const char *const fields[] = {"id", "created", "model"};
    json_t *first = NULL, *ch;
    size_t i, f;

    for (i = 0; i < before_done(s); i++) {
        if ((ch = chunk_at(s, i)) == NULL)
            continue;
        if (first == NULL) {
            first = ch;
            continue;
        }
        for (f = 0; f < 3; f++) {
            if (json_equal(json_object_get(first, fields[f]),
                           json_object_get(ch, fields[f])))
                continue;
            *focus = (size_t)s->log.events[i].offset;
            snprintf(why, n, "event %zu has another %s than the first chunk", i,
                     fields[f]);
            ret = RULE_BAD;
            goto out;
        }
    }
    ret = RULE_OK;
out:
    return ret;
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
    bool seen[MAX_CHOICES];
    unsigned finishes[MAX_CHOICES];
    size_t bad_event;
    json_int_t bad_index;
    const char *bad;
};

/* Remembers the first delta of each choice and stops at a bad one. */
static bool walk_role(void *ud, size_t event, json_int_t index,
                      const json_t *choice)
{
    bool ret;
    struct choice_walk *w = ud;
    const char *role;

    if (w->seen[index]) {
        ret = true;
        goto out;
    }
    w->seen[index] = true;
    role = json_string_value(
        json_object_get(json_object_get(choice, "delta"), "role"));
    if (role == NULL || strcmp(role, "assistant") != 0) {
        w->bad_event = event;
        w->bad_index = index;
        w->bad = role != NULL ? role : "missing";
        ret = false;
        goto out;
    }
    ret = true;
out:
    return ret;
}

/* stream.first-role */
static enum verdict rule_first_role(const struct streamed *s, size_t *focus,
                                    char *why, size_t n)
{
    enum verdict ret;
    struct choice_walk w;
    size_t k, seen = 0;

    memset(&w, 0, sizeof(w));
    each_choice(s, walk_role, &w);
    if (w.bad != NULL) {
        *focus = (size_t)s->log.events[w.bad_event].offset;
        snprintf(why, n,
                 "the first delta of choice %lld (event %zu) has role "
                 "%s",
                 (long long)w.bad_index, w.bad_event, w.bad);
        ret = RULE_BAD;
        goto out;
    }
    for (k = 0; k < MAX_CHOICES; k++)
        seen += w.seen[k];
    if (seen == 0) {
        snprintf(why, n, "no chunk carries a choice");
        ret = RULE_BAD;
        goto out;
    }
    ret = RULE_OK;
out:
    return ret;
}

/* Counts finish_reasons per choice and stops at content after one. */
static bool walk_finish(void *ud, size_t event, json_int_t index,
                        const json_t *choice)
{
    bool ret;
    struct choice_walk *w = ud;
    const json_t *delta = json_object_get(choice, "delta");
    const json_t *content = json_object_get(delta, "content");
    bool has_content =
        (json_is_string(content) && json_string_length(content) > 0) ||
        json_array_size(json_object_get(delta, "tool_calls")) > 0;

    w->seen[index] = true;
    if (w->finishes[index] > 0 && has_content) {
        w->bad_event = event;
        w->bad_index = index;
        w->bad = "content after its finish_reason";
        ret = false;
        goto out;
    }
    if (json_is_string(json_object_get(choice, "finish_reason")))
        w->finishes[index]++;
    if (w->finishes[index] > 1) {
        w->bad_event = event;
        w->bad_index = index;
        w->bad = "a second finish_reason";
        ret = false;
        goto out;
    }
    ret = true;
out:
    return ret;
}

/* stream.finish-once */
static enum verdict rule_finish_once(const struct streamed *s, size_t *focus,
                                     char *why, size_t n)
{
    enum verdict ret;
    struct choice_walk w;
    size_t k;

    memset(&w, 0, sizeof(w));
    each_choice(s, walk_finish, &w);
    if (w.bad != NULL) {
        *focus = (size_t)s->log.events[w.bad_event].offset;
        snprintf(why, n, "choice %lld gets %s (event %zu)",
                 (long long)w.bad_index, w.bad, w.bad_event);
        ret = RULE_BAD;
        goto out;
    }
    for (k = 0; k < MAX_CHOICES; k++) {
        if (w.seen[k] && w.finishes[k] == 0) {
            snprintf(why, n, "choice %zu never gets a finish_reason", k);
            ret = RULE_BAD;
            goto out;
        }
    }
    /* With n > 1 every choice asked for must come and finish. */
    for (k = 0; s->n > 1 && k < s->n && k < MAX_CHOICES; k++) {
        if (!w.seen[k]) {
            snprintf(why, n, "choice %zu of the %u asked for never comes", k,
                     s->n);
            ret = RULE_BAD;
            goto out;
        }
    }
    ret = RULE_OK;
out:
    return ret;
}

/* stream.done-present */
static enum verdict rule_done_present(const struct streamed *s, size_t *focus,
                                      char *why, size_t n)
{
    enum verdict ret;
    size_t i;

    if (s->log.done_index != SIZE_MAX) {
        ret = RULE_OK;
        goto out;
    }
    for (i = 0; i < s->log.n_events; i++) {
        if (strstr(s->log.events[i].data, "[DONE]") != NULL) {
            *focus = (size_t)s->log.events[i].offset;
            snprintf(why, n, "event %zu has data '%.40s', not exactly [DONE]",
                     i, s->log.events[i].data);
            ret = RULE_BAD;
            goto out;
        }
    }
    *focus = s->x.resp.body.len > 0 ? s->x.resp.body.len - 1 : 0;
    snprintf(why, n, "no [DONE] event in %zu events", s->log.n_events);
    ret = RULE_BAD;
out:
    return ret;
}

/* stream.done-last */
static enum verdict rule_done_last(const struct streamed *s, size_t *focus,
                                   char *why, size_t n)
{
    enum verdict ret;
    const struct stream_log *l = &s->log;
    size_t end;

    if (l->done_index == SIZE_MAX) {
        snprintf(why, n, "no [DONE] (see stream.done-present)");
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
    if (l->done_index + 1 < l->n_events || s->x.resp.body.len > end) {
        *focus = end;
        snprintf(why, n, "%zu event(s) and %zu byte(s) follow [DONE]",
                 l->n_events - l->done_index - 1, s->x.resp.body.len - end);
        ret = RULE_BAD;
        goto out;
    }
    ret = RULE_OK;
out:
    return ret;
}

/* stream.closes-after-done: says the grace it allowed, passed or not. */
static enum verdict rule_closes(const struct streamed *s, size_t *focus,
                                char *why, size_t n)
{
    enum verdict ret;
    (void)focus;
    if (s->log.done_index == SIZE_MAX) {
        snprintf(why, n, "no [DONE] (see stream.done-present)");
        ret = RULE_NA;
        goto out;
    }
    if (!s->log.held_open) {
        snprintf(why, n, "closed within %g s of [DONE] (--done-grace)",
                 s->log.grace_ms / 1000.0);
        ret = RULE_OK;
        goto out;
    }
    snprintf(why, n,
             "the stream stayed open more than %g s after [DONE] "
             "(--done-grace); the runner then closed it",
             s->log.grace_ms / 1000.0);
    ret = RULE_BAD;
out:
    return ret;
}

/* stream.usage-null */
static enum verdict rule_usage_null(const struct streamed *s, size_t *focus,
                                    char *why, size_t n)
{
    enum verdict ret;
    json_t *ch, *u;
    size_t i;

    for (i = 0; i < before_done(s); i++) {
        ch = chunk_at(s, i);
        u = json_object_get(ch, "usage");
        if (json_array_size(json_object_get(ch, "choices")) == 0 || u == NULL ||
            json_is_null(u))
            continue;
        *focus = (size_t)s->log.events[i].offset;
        snprintf(why, n, "event %zu has choices and usage %s", i,
                 shape_type(u));
        ret = RULE_BAD;
        goto out;
    }
    ret = RULE_OK;
out:
    return ret;
}

/* stream.usage-chunk */
static enum verdict rule_usage_chunk(const struct streamed *s, size_t *focus,
                                     char *why, size_t n)
{
    enum verdict ret;
    size_t idx[1], total, i, with_usage = 0, last;
    json_t *ch, *u, *choices;

    total = stream_log_chunks(&s->log, idx, 0);
    if (total == 0) {
        snprintf(why, n, "no chunks");
        ret = RULE_BAD;
        goto out;
    }
    last = 0;
    for (i = 0; i < before_done(s); i++) {
        if ((ch = chunk_at(s, i)) == NULL)
            continue;
        last = i;
        if (json_is_object(json_object_get(ch, "usage")))
            with_usage++;
    }
    ch = chunk_at(s, last);
    u = json_object_get(ch, "usage");
    choices = json_object_get(ch, "choices");
    *focus = (size_t)s->log.events[last].offset;
    if (!json_is_array(choices) || json_array_size(choices) != 0 ||
        !json_is_object(u)) {
        snprintf(why, n, "the last chunk has choices %s%s and usage %s",
                 shape_type(choices),
                 json_array_size(choices) > 0 ? " (not empty)" : "",
                 shape_type(u));
        ret = RULE_BAD;
        goto out;
    }
    if (!shape_is_count(json_object_get(u, "prompt_tokens")) ||
        !shape_is_count(json_object_get(u, "completion_tokens")) ||
        !shape_is_count(json_object_get(u, "total_tokens"))) {
        snprintf(why, n,
                 "the usage lacks non-negative integer prompt_tokens, "
                 "completion_tokens and total_tokens");
        ret = RULE_BAD;
        goto out;
    }
    if (with_usage != 1) {
        snprintf(why, n, "%zu chunks carry a usage object", with_usage);
        ret = RULE_BAD;
        goto out;
    }
    ret = RULE_OK;
out:
    return ret;
}

/* stream.usage-unasked: only the streams made without include_usage. */
static enum verdict rule_usage_unasked(const struct streamed *s, size_t *focus,
                                       char *why, size_t n)
{
    enum verdict ret = RULE_OK;
    json_t *u;
    size_t i;

    for (i = 0; i < before_done(s); i++) {
        u = json_object_get(chunk_at(s, i), "usage");
        if (u == NULL || json_is_null(u))
            continue;
        *focus = (size_t)s->log.events[i].offset;
        snprintf(why, n,
                 "event %zu carries usage %s though include_usage was not "
                 "asked for",
                 i, shape_type(u));
        ret = RULE_BAD;
        break;
    }
    return ret;
}

/* stream.incremental: says when the events came, whatever the verdict. */
static enum verdict rule_incremental(const struct streamed *s, size_t *focus,
                                     char *why, size_t n)
{
    enum verdict ret;
    const struct stream_log *l = &s->log;
    double first, last;
    size_t count = before_done(s) + (l->done_index != SIZE_MAX ? 1 : 0);

    (void)focus;
    if (count == 0) {
        snprintf(why, n, "no events");
        ret = RULE_NA;
        goto out;
    }
    first = l->events[0].at_ms;
    last = l->events[count - 1].at_ms;
    if (last < INCREMENTAL_MIN_MS) {
        snprintf(why, n,
                 "the whole stream came within %.0f ms of the request: no "
                 "wait to hide",
                 last);
        ret = RULE_OK;
        goto out;
    }
    if (count >= 3 && last - first <= BURST_SHARE * last) {
        snprintf(why, n,
                 "all %zu events came in one burst %.0f ms after the "
                 "request (the first at %.0f ms, the last at %.0f ms): the "
                 "reply was held back, then sent at once",
                 count, first, first, last);
        ret = RULE_BAD;
        goto out;
    }
    snprintf(why, n,
             "%zu events came over %.0f ms, the first %.0f ms after the "
             "request",
             count, last - first, first);
    ret = RULE_OK;
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

/* Applies one rule to every usable stream and records its verdict. */
static void judge_rule(struct conform *c, size_t r, struct streamed *s,
                       size_t n_streams)
{
    const struct check_def *d = &checks[rules[r].check];
    char why[1024], na[1024] = "", ok[1024];
    size_t k, focus;
    bool judged = false;
    enum verdict v;

    snprintf(ok, sizeof(ok), "%s", rules[r].ok);
    for (k = 0; k < n_streams; k++) {
        if (!s[k].usable ||
            (rules[r].reads == READS_USAGE && !s[k].include_usage) ||
            (rules[r].reads == READS_NO_USAGE && s[k].include_usage))
            continue;
        focus = EVIDENCE_NO_FOCUS;
        why[0] = '\0';
        v = rules[r].fn(&s[k], &focus, why, sizeof(why));
        if (v == RULE_BAD) {
            conform_violation(c, d, stream_evidence(&s[k], focus),
                              "%s stream: %s", s[k].label, why);
            return;
        }
        if (v == RULE_NA) {
            snprintf(na, sizeof(na), "%s", why);
        } else {
            judged = true;
            if (why[0] != '\0')
                snprintf(ok, sizeof(ok), "%s", why);
        }
    }
    if (judged)
        conform_pass(c, d, NULL, "%s", ok);
    else
        conform_skip(c, d, "%s", na);
}

/* Judges stream.status: the plain and include_usage streams must come back
 * whole; the n=2 one too, unless the server refuses n > 1 with a 400 (not
 * supported). Marks the streams the rules may read, and returns false when
 * the two basic ones are not both there. */
static bool judge_status(struct conform *c, struct streamed *s)
{
    size_t k, err;
    char why[1024];
    bool basic = true;

    for (k = 0; k < N_STREAMS; k++) {
        s[k].refused = s[k].n > 1 && exchange_status_is(&s[k].x, 400);
        s[k].usable =
            !s[k].refused && stream_log_whole(&s[k].log, &s[k].x.resp);
        err = s[k].usable ? stream_log_error_event(&s[k].log) : SIZE_MAX;
        if (err != SIZE_MAX) {
            /* An error event is the one defect: the rules that read chunks
             * would only repeat that the reply is not there. */
            s[k].usable = false;
            stream_log_describe_error(&s[k].log, err, why, sizeof(why));
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
            conform_violation(
                c, &checks[STATUS],
                stream_evidence(&s[k], err != SIZE_MAX
                                           ? (size_t)s[k].log.events[err].offset
                                           : EVIDENCE_NO_FOCUS),
                "%s stream: %s", s[k].label, why);
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
    conform_skip_rest(c, "the stream did not complete (see stream.status)");
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
