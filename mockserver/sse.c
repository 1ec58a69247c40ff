/* sse: the chunk sequence of a streamed chat completion. */
#include "sse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

enum sse_phase { PH_ROLE, PH_TOKENS, PH_FINISH, PH_USAGE, PH_DONE, PH_END };

struct sse_stream {
    struct completion *c;
    struct sse_pacing pacing;
    bool hurry;
    enum sse_phase phase;
    unsigned choice;  /* next choice within the phase */
    size_t step;      /* next token index in PH_TOKENS */
    size_t max_steps; /* the longest choice's token count */
};

/* Moves to the next event that exists. */
static void advance(struct sse_stream *s)
{
    for (;;) {
        switch (s->phase) {
        case PH_ROLE:
            if (s->choice < s->c->n)
                return;
            s->phase = PH_TOKENS;
            s->choice = 0;
            s->step = 0;
            break;
        case PH_TOKENS:
            if (s->choice >= s->c->n) {
                s->choice = 0;
                s->step++;
            }
            if (s->step >= s->max_steps) {
                s->phase = PH_FINISH;
                s->choice = 0;
                break;
            }
            if (s->step < s->c->choices[s->choice].ntok)
                return;
            s->choice++;
            break;
        case PH_FINISH:
            if (s->choice < s->c->n)
                return;
            s->phase = s->c->include_usage ? PH_USAGE : PH_DONE;
            return;
        default:
            return;
        }
    }
}

struct sse_stream *sse_stream_new(struct completion *c,
                                  const struct sse_pacing *pacing)
{
    struct sse_stream *s = calloc(1, sizeof(*s));
    unsigned i;

    if (s == NULL) {
        completion_free(c);
        return NULL;
    }
    s->c = c;
    if (pacing != NULL)
        s->pacing = *pacing;
    for (i = 0; i < c->n; i++)
        if (c->choices[i].ntok > s->max_steps)
            s->max_steps = c->choices[i].ntok;
    s->phase = PH_ROLE;
    advance(s);
    return s;
}

void sse_stream_free(struct sse_stream *s)
{
    if (s == NULL)
        return;
    completion_free(s->c);
    free(s);
}

uint64_t sse_stream_due_ms(const struct sse_stream *s)
{
    uint64_t due = s->pacing.ttft_ms;

    if (s->hurry)
        return 0;
    if (s->phase == PH_ROLE)
        return due;
    if (s->phase != PH_TOKENS)
        return 0;
    if (s->pacing.tokens_per_sec > 0)
        due += (uint64_t)s->step * 1000u / s->pacing.tokens_per_sec;
    return due;
}

void sse_stream_hurry(struct sse_stream *s)
{
    s->hurry = true;
}

/* Returns a new chunk object holding the given choices array (stolen). */
static json_t *chunk_new(const struct completion *c, json_t *choices)
{
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:s, s:o}", "id", c->id, "object",
                  "chat.completion.chunk", "created", (json_int_t)c->created,
                  "model", c->model, "choices", choices);

    if (o != NULL && c->include_usage &&
        json_object_set_new(o, "usage", json_null()) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* Returns a new one-choice chunk with the given delta and logprobs (both
 * stolen; NULL logprobs means null). */
static json_t *choice_chunk(const struct completion *c, unsigned index,
                            json_t *delta, json_t *logprobs, const char *finish)
{
    json_t *choice =
        json_pack("[{s:I, s:o, s:o, s:o}]", "index", (json_int_t)index, "delta",
                  delta, "logprobs", logprobs ? logprobs : json_null(),
                  "finish_reason", finish ? json_string(finish) : json_null());

    return choice ? chunk_new(c, choice) : NULL;
}

/* The first delta of a choice: the role, and the call for a tool call. */
static json_t *role_delta(const struct reply_choice *ch)
{
    if (ch->tool_name != NULL)
        return json_pack("{s:s, s:n, s:[{s:i, s:s, s:s, s:{s:s, s:s}}], s:n}",
                         "role", "assistant", "content", "tool_calls", "index",
                         0, "id", ch->tool_call_id, "type", "function",
                         "function", "name", ch->tool_name, "arguments", "",
                         "refusal");
    return json_pack("{s:s, s:s, s:n}", "role", "assistant", "content", "",
                     "refusal");
}

/* The delta carrying token k: content, or a piece of the arguments. */
static json_t *token_delta(const struct reply_choice *ch, size_t k)
{
    size_t from = k ? ch->tok_end[k - 1] : 0, len = ch->tok_end[k] - from;

    if (ch->tool_name != NULL)
        return json_pack("{s:[{s:i, s:{s:s%}}]}", "tool_calls", "index", 0,
                         "function", "arguments", ch->content + from, len);
    return json_pack("{s:s%}", "content", ch->content + from, len);
}

/* Builds the object of the event the stream stands at. */
static json_t *current_event(struct sse_stream *s)
{
    const struct completion *c = s->c;
    const struct reply_choice *ch = NULL;
    json_t *o;

    if (s->choice < c->n)
        ch = &c->choices[s->choice];
    switch (s->phase) {
    case PH_ROLE:
        return choice_chunk(c, s->choice, role_delta(ch), NULL, NULL);
    case PH_TOKENS:
        return choice_chunk(
            c, s->choice, token_delta(ch, s->step),
            c->logprobs ? completion_logprobs_json(c, ch, s->step, s->step + 1)
                        : NULL,
            NULL);
    case PH_FINISH:
        return choice_chunk(c, s->choice, json_object(), NULL,
                            ch->finish_reason);
    case PH_USAGE:
        o = chunk_new(c, json_array());
        if (o != NULL &&
            json_object_set_new(o, "usage", completion_usage_json(c)) != 0) {
            json_decref(o);
            o = NULL;
        }
        return o;
    default:
        return NULL;
    }
}

int sse_stream_next(struct sse_stream *s, struct buf *out)
{
    json_t *ev;
    char *text;
    int rc = -1;

    if (s->phase == PH_END)
        return 0;
    if (s->phase == PH_DONE) {
        if (buf_appends(out, "data: [DONE]\n\n") != 0)
            return -1;
        s->phase = PH_END;
        return 1;
    }
    ev = current_event(s);
    if (ev == NULL)
        return -1;
    text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (text == NULL)
        return -1;
    if (buf_appends(out, "data: ") == 0 && buf_appends(out, text) == 0 &&
        buf_appends(out, "\n\n") == 0)
        rc = 1;
    free(text);
    if (rc != 1)
        return -1;
    if (s->phase == PH_USAGE)
        s->phase = PH_DONE;
    else
        s->choice++;
    advance(s);
    return 1;
}

/* The stream as a source (source.h): the HTTP layer's view of it. */
static uint64_t sse_source_due(void *self)
{
    return sse_stream_due_ms(self);
}

static enum source_step sse_source_next(void *self, struct buf *out)
{
    int rc = sse_stream_next(self, out);

    return rc > 0 ? SOURCE_PIECE : rc == 0 ? SOURCE_DONE : SOURCE_FAIL;
}

static void sse_source_hurry(void *self)
{
    sse_stream_hurry(self);
}

static void sse_source_end(void *self, const struct source_end *how)
{
    (void)how;
    sse_stream_free(self);
}

static const struct source_ops sse_source_ops = {
    sse_source_due, sse_source_next, sse_source_hurry, sse_source_end};

struct source sse_stream_source(struct sse_stream *s)
{
    struct source src = {s != NULL ? &sse_source_ops : NULL, s};

    return src;
}
