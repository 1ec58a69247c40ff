/* sse: the chunk sequence of a streamed chat completion. */
#include "sse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonio.h"
#include "jsonw.h"
#include "tokenize.h"

enum sse_phase { PH_ROLE, PH_TOKENS, PH_FINISH, PH_USAGE, PH_DONE, PH_END };

struct sse_stream {
    struct completion *c;
    struct token_frame *frames; /* owned, one per choice */
    struct sse_pacing pacing;
    bool hurry;
    bool reference; /* render every chunk with jansson */
    enum sse_phase phase;
    unsigned choice;  /* next choice within the phase */
    size_t step;      /* next piece index in PH_TOKENS */
    size_t max_steps; /* the longest choice's piece count */
};

/* What one piece of a choice's stream carries, in the order OpenAI sends
 * them: reasoning tokens, content tokens, then for each tool call its
 * header (id, type, name) and its arguments' tokens. */
enum piece_kind { PIECE_REASONING, PIECE_CONTENT, PIECE_CALL, PIECE_ARGS };

struct piece {
    enum piece_kind kind;
    size_t call; /* PIECE_CALL, PIECE_ARGS: which tool call */
    size_t tok;  /* the token within its text */
};

/* A token chunk of one choice rendered once around its token, so that
 * each token of a long stream is the frame's two halves with the escaped
 * token between them: jansson rendering every chunk whole was most of a
 * long stream's CPU (issue 11's profile). */
struct token_frame {
    char *text;           /* owned; NULL until the choice's first token chunk */
    size_t len;           /* of text */
    size_t cut;           /* where the token's escaped bytes go */
    enum piece_kind kind; /* of the chunks the frame renders */
    size_t call;          /* PIECE_ARGS: which tool call */
};

/* Does tool call k's header go out with the role, as the first thing the
 * choice says? Then it is not a piece of its own. */
static bool call_in_role(const struct reply_choice *ch, size_t k)
{
    return k == 0 && ch->reasoning.ntok == 0 && ch->content.ntok == 0;
}

/* How many pieces a choice streams after its role: its scripted deltas,
 * or its tokens and calls. */
static size_t piece_count(const struct reply_choice *ch)
{
    size_t n = ch->reasoning.ntok + ch->content.ntok, k;

    if (ch->deltas != NULL)
        return json_array_size(ch->deltas);
    for (k = 0; k < ch->ntool_calls; k++)
        n += (call_in_role(ch, k) ? 0 : 1) + ch->tool_calls[k].arguments.ntok;
    return n;
}

/* Finds piece i (< piece_count) of a choice. */
static struct piece piece_at(const struct reply_choice *ch, size_t i)
{
    struct piece p = {PIECE_REASONING, 0, i};
    size_t k;

    if (i < ch->reasoning.ntok)
        return p;
    i -= ch->reasoning.ntok;
    p.kind = PIECE_CONTENT;
    p.tok = i;
    if (i < ch->content.ntok)
        return p;
    i -= ch->content.ntok;
    for (k = 0; k < ch->ntool_calls; k++) {
        p.call = k;
        if (!call_in_role(ch, k)) {
            if (i == 0) {
                p.kind = PIECE_CALL;
                return p;
            }
            i--;
        }
        p.kind = PIECE_ARGS;
        p.tok = i;
        if (i < ch->tool_calls[k].arguments.ntok)
            return p;
        i -= ch->tool_calls[k].arguments.ntok;
    }
    return p; /* not reached for i < piece_count */
}

/* Moves to the next event that exists. */
static void advance(struct sse_stream *s)
{
    for (;;) {
        switch (s->phase) {
        case PH_ROLE:
            /* Scripted deltas say everything themselves, the role too. */
            while (s->choice < s->c->n && s->c->choices[s->choice].deltas)
                s->choice++;
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
            if (s->step < piece_count(&s->c->choices[s->choice]))
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
    s->frames = calloc(c->n > 0 ? c->n : 1, sizeof(*s->frames));
    if (s->frames == NULL) {
        sse_stream_free(s);
        return NULL;
    }
    if (pacing != NULL)
        s->pacing = *pacing;
    for (i = 0; i < c->n; i++)
        if (piece_count(&c->choices[i]) > s->max_steps)
            s->max_steps = piece_count(&c->choices[i]);
    s->phase = PH_ROLE;
    advance(s);
    return s;
}

void sse_stream_free(struct sse_stream *s)
{
    unsigned i;

    if (s == NULL)
        return;
    for (i = 0; s->frames != NULL && i < s->c->n; i++)
        free(s->frames[i].text);
    free(s->frames);
    completion_free(s->c);
    free(s);
}

/* splitmix64 of the seed and a step: the jitter of that step. */
static uint64_t jitter(const struct sse_pacing *p, uint64_t step)
{
    uint64_t x = ((uint64_t)p->seed << 32 | p->seed) + step;

    if (p->jitter_ms == 0)
        return 0;
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return (x ^ (x >> 31)) % ((uint64_t)p->jitter_ms + 1);
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
    return due + jitter(&s->pacing, s->step);
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

/* Returns a new [{"index", "id", "type", "function":{"name",
 * "arguments":""}}]: the header of tool call k. */
static json_t *call_header(const struct reply_choice *ch, size_t k)
{
    const struct reply_tool_call *call = &ch->tool_calls[k];

    return json_pack("[{s:I, s:s, s:s, s:{s:s, s:s}}]", "index", (json_int_t)k,
                     "id", call->id, "type", "function", "function", "name",
                     call->name, "arguments", "");
}

/* The first delta of a choice: the role, content "" (null when the choice
 * has none), and the first tool call's header when the call is the first
 * thing the choice says. */
static json_t *role_delta(const struct reply_choice *ch)
{
    json_t *d =
        json_pack("{s:s, s:o}", "role", "assistant", "content",
                  ch->content.text != NULL ? json_string("") : json_null());

    if (d != NULL && ch->ntool_calls > 0 && call_in_role(ch, 0) &&
        json_object_set_new(d, "tool_calls", call_header(ch, 0)) != 0)
        goto fail;
    if (d != NULL && json_object_set_new(d, "refusal", json_null()) != 0)
        goto fail;
    return d;
fail:
    json_decref(d);
    return NULL;
}

/* Returns a new string of token k of t. */
static json_t *token_json(const struct reply_text *t, size_t k)
{
    size_t from = k ? t->tok_end[k - 1] : 0;

    return json_stringn(t->text + from, t->tok_end[k] - from);
}

/* The text of piece p when it is a token (not a call's header). */
static const struct reply_text *piece_text(const struct reply_choice *ch,
                                           struct piece p)
{
    return p.kind == PIECE_REASONING ? &ch->reasoning
           : p.kind == PIECE_CONTENT ? &ch->content
                                     : &ch->tool_calls[p.call].arguments;
}

/* The delta carrying piece p: a token of reasoning, of content or of a
 * call's arguments (the string token, stolen), or a call's header (token
 * NULL). */
static json_t *piece_delta(const struct reply_choice *ch, struct piece p,
                           json_t *token)
{
    switch (p.kind) {
    case PIECE_REASONING:
        return json_pack("{s:o}", "reasoning_content", token);
    case PIECE_CONTENT:
        return json_pack("{s:o}", "content", token);
    case PIECE_CALL:
        return json_pack("{s:o}", "tool_calls", call_header(ch, p.call));
    default:
        return json_pack("{s:[{s:I, s:{s:o}}]}", "tool_calls", "index",
                         (json_int_t)p.call, "function", "arguments", token);
    }
}

/* The logprobs of piece p: its token's for content when the request asked
 * for them, null otherwise (as a choice without content has null
 * logprobs). NULL on OOM, which must cut the stream: a null here would
 * read as "no log probabilities". */
static json_t *piece_logprobs(const struct completion *c,
                              const struct reply_choice *ch, struct piece p)
{
    if (!c->logprobs || p.kind != PIECE_CONTENT)
        return json_null();
    return completion_logprobs_json(c, ch, p.tok, p.tok + 1);
}

/* Builds the object of the event the stream stands at. */
static json_t *current_event(struct sse_stream *s)
{
    const struct completion *c = s->c;
    const struct reply_choice *ch = NULL;
    struct piece p;
    json_t *o, *logprobs;

    if (s->choice < c->n)
        ch = &c->choices[s->choice];
    switch (s->phase) {
    case PH_ROLE:
        return choice_chunk(c, s->choice, role_delta(ch), NULL, NULL);
    case PH_TOKENS:
        if (ch->deltas != NULL)
            return choice_chunk(
                c, s->choice, json_incref(json_array_get(ch->deltas, s->step)),
                NULL, NULL);
        p = piece_at(ch, s->step);
        logprobs = piece_logprobs(c, ch, p);
        if (logprobs == NULL)
            return NULL;
        return choice_chunk(
            c, s->choice,
            piece_delta(ch, p,
                        p.kind == PIECE_CALL
                            ? NULL
                            : token_json(piece_text(ch, p), p.tok)),
            logprobs, NULL);
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

/* Moves past the event the stream stands at (the usage chunk, [DONE], or
 * one choice's chunk) to the next one. */
static void step_past(struct sse_stream *s)
{
    if (s->phase == PH_DONE) {
        s->phase = PH_END;
    } else if (s->phase == PH_USAGE) {
        s->phase = PH_DONE;
    } else if (s->phase != PH_END) {
        s->choice++;
        advance(s);
    }
}

/* Counts the tokens of a string value, if it is one. */
static uint64_t string_tokens(const json_t *v)
{
    return json_is_string(v)
               ? tokenize_count(json_string_value(v), json_string_length(v))
               : 0;
}

/* The completion tokens a scripted delta carries: its content, its
 * reasoning_content and its tool calls' arguments, as usage counts them. */
static uint64_t delta_tokens(const json_t *delta)
{
    const json_t *call;
    uint64_t n = string_tokens(json_object_get(delta, "content")) +
                 string_tokens(json_object_get(delta, "reasoning_content"));
    size_t i;

    json_array_foreach(json_object_get(delta, "tool_calls"), i, call)
    {
        n += string_tokens(
            json_object_get(json_object_get(call, "function"), "arguments"));
    }
    return n;
}

uint64_t sse_stream_tokens(const struct sse_stream *s, uint64_t events)
{
    struct sse_stream walk = *s; /* a second cursor over the same reply */
    uint64_t tokens = 0, k;

    walk.phase = PH_ROLE;
    walk.choice = 0;
    walk.step = 0;
    advance(&walk);
    for (k = 0; k < events && walk.phase != PH_END; k++) {
        const struct reply_choice *ch = &walk.c->choices[walk.choice];

        if (walk.phase == PH_TOKENS && ch->deltas != NULL)
            tokens += delta_tokens(json_array_get(ch->deltas, walk.step));
        else if (walk.phase == PH_TOKENS &&
                 piece_at(ch, walk.step).kind != PIECE_CALL)
            tokens++;
        step_past(&walk);
    }
    return tokens;
}

/* Is the event the stream stands at a token chunk that a frame renders
 * (a token of reasoning, content or arguments, without log probabilities,
 * of a choice that is not scripted)? Then *p is its piece. */
static bool framed_piece(const struct sse_stream *s, struct piece *p)
{
    const struct reply_choice *ch;

    if (s->reference || s->phase != PH_TOKENS)
        return false;
    ch = &s->c->choices[s->choice];
    if (ch->deltas != NULL)
        return false;
    *p = piece_at(ch, s->step);
    return p->kind != PIECE_CALL &&
           !(s->c->logprobs && p->kind == PIECE_CONTENT);
}

/* Writes a chunk's members up to its one choice's delta, whose value the
 * caller writes next: {"id":..,"object":"chat.completion.chunk",
 * "created":..,"model":..,"choices":[{"index":N,"delta": */
static void chunk_open(struct jsonw *w, const struct completion *c,
                       unsigned index)
{
    jsonw_object_open(w);
    jsonw_key(w, "id");
    jsonw_string(w, c->id);
    jsonw_key(w, "object");
    jsonw_string(w, "chat.completion.chunk");
    jsonw_key(w, "created");
    jsonw_int(w, (long long)c->created);
    jsonw_key(w, "model");
    jsonw_string(w, c->model);
    jsonw_key(w, "choices");
    jsonw_array_open(w);
    jsonw_object_open(w);
    jsonw_key(w, "index");
    jsonw_int(w, index);
    jsonw_key(w, "delta");
}

/* Writes the rest of a chunk after its delta: null logprobs, the finish
 * reason (or null), and "usage":null when the request asked for usage. */
static void chunk_close(struct jsonw *w, const struct completion *c,
                        const char *finish)
{
    jsonw_key(w, "logprobs");
    jsonw_null(w);
    jsonw_key(w, "finish_reason");
    if (finish != NULL)
        jsonw_string(w, finish);
    else
        jsonw_null(w);
    jsonw_object_close(w);
    jsonw_array_close(w);
    if (c->include_usage) {
        jsonw_key(w, "usage");
        jsonw_null(w);
    }
    jsonw_object_close(w);
}

/* Writes [{"index","id","type","function":{"name","arguments":""}}]: the
 * header of tool call k (call_header's JSON). */
static void call_header_write(struct jsonw *w, const struct reply_choice *ch,
                              size_t k)
{
    const struct reply_tool_call *call = &ch->tool_calls[k];

    jsonw_array_open(w);
    jsonw_object_open(w);
    jsonw_key(w, "index");
    jsonw_int(w, (long long)k);
    reply_call_write(w, call, "", 0);
    jsonw_object_close(w);
    jsonw_array_close(w);
}

/* Appends "data: ", the role chunk (role_delta) or the finish chunk of the
 * choice the stream stands at, and the blank line, written straight into
 * out: the same bytes as jansson's dump of current_event, which a profile
 * of 5,000 paced streams showed at 18% of the mock's CPU with the frames'
 * two renders. -1 (out as it was) when a string is not UTF-8 or out
 * refuses. */
static int edge_append(const struct sse_stream *s, struct buf *out)
{
    const struct completion *c = s->c;
    const struct reply_choice *ch = &c->choices[s->choice];
    size_t len = out->len;
    struct jsonw w;

    if (buf_appends(out, "data: ") != 0)
        return -1;
    jsonw_init(&w, out);
    chunk_open(&w, c, s->choice);
    jsonw_object_open(&w);
    if (s->phase == PH_ROLE) {
        jsonw_key(&w, "role");
        jsonw_string(&w, "assistant");
        jsonw_key(&w, "content");
        if (ch->content.text != NULL)
            jsonw_string(&w, "");
        else
            jsonw_null(&w);
        if (ch->ntool_calls > 0 && call_in_role(ch, 0)) {
            jsonw_key(&w, "tool_calls");
            call_header_write(&w, ch, 0);
        }
        jsonw_key(&w, "refusal");
        jsonw_null(&w);
    }
    jsonw_object_close(&w);
    chunk_close(&w, c, s->phase == PH_FINISH ? ch->finish_reason : NULL);
    if (jsonw_finish(&w) != 0 || buf_appends(out, "\n\n") != 0) {
        buf_truncate(out, len);
        return -1;
    }
    return 0;
}

/* Renders frame f for piece p of the choice the stream stands at: the
 * chunk with an empty token, cut where the token goes (just inside the
 * empty string's quotes), written with jsonw, whose bytes are jansson's.
 * -1 on OOM or text that is not UTF-8 (f then as it was). */
static int frame_render(const struct sse_stream *s, struct token_frame *f,
                        struct piece p)
{
    struct buf text;
    struct jsonw w;
    size_t cut = 0, len;
    char *bytes = NULL;
    int err = -1;

    buf_init(&text, SIZE_MAX);
    jsonw_init(&w, &text);
    chunk_open(&w, s->c, s->choice);
    jsonw_object_open(&w);
    if (p.kind == PIECE_ARGS) {
        jsonw_key(&w, "tool_calls");
        jsonw_array_open(&w);
        jsonw_object_open(&w);
        jsonw_key(&w, "index");
        jsonw_int(&w, (long long)p.call);
        jsonw_key(&w, "function");
        jsonw_object_open(&w);
        jsonw_key(&w, "arguments");
    } else {
        jsonw_key(&w,
                  p.kind == PIECE_REASONING ? "reasoning_content" : "content");
    }
    cut = text.len + 1; /* past the opening quote */
    jsonw_string(&w, "");
    if (p.kind == PIECE_ARGS) {
        jsonw_object_close(&w);
        jsonw_object_close(&w);
        jsonw_array_close(&w);
    }
    jsonw_object_close(&w);
    chunk_close(&w, s->c, NULL);
    /* A waiting stream keeps its frame: it holds the text's bytes only, not
     * the room the writer grew it in. */
    if (jsonw_finish(&w) != 0 || (bytes = malloc(text.len + 1)) == NULL)
        goto out;
    len = text.len;
    memcpy(bytes, text.data, len + 1);
    free(f->text);
    f->text = bytes;
    f->len = len;
    f->cut = cut;
    f->kind = p.kind;
    f->call = p.call;
    err = 0;
out:
    buf_cleanup(&text);
    return err;
}

/* Appends the event of token piece p of the choice the stream stands at
 * through the choice's frame, rendering the frame when the piece is of
 * another kind or call than the last. -1 on OOM or past out's cap (out
 * then as it was), which cuts the stream as a failed jansson chunk does. */
static int frame_append(struct sse_stream *s, struct piece p, struct buf *out)
{
    const struct reply_text *t = piece_text(&s->c->choices[s->choice], p);
    struct token_frame *f = &s->frames[s->choice];
    size_t from = p.tok ? t->tok_end[p.tok - 1] : 0, len = out->len;
    int err = -1;

    if ((f->text == NULL || f->kind != p.kind || f->call != p.call) &&
        frame_render(s, f, p) != 0)
        goto out;
    if (buf_appends(out, "data: ") != 0 ||
        buf_append(out, f->text, f->cut) != 0 ||
        jsonw_escape(out, t->text + from, t->tok_end[p.tok] - from) != 0 ||
        buf_append(out, f->text + f->cut, f->len - f->cut) != 0 ||
        buf_appends(out, "\n\n") != 0)
        goto out;
    err = 0;
out:
    if (err != 0)
        buf_truncate(out, len);
    return err;
}

void sse_stream_set_reference(struct sse_stream *s, bool on)
{
    s->reference = on;
}

int sse_stream_next(struct sse_stream *s, struct buf *out)
{
    json_t *ev;
    struct piece p;
    size_t len = out->len;
    int rc = -1;

    if (s->phase == PH_END)
        return 0;
    if (framed_piece(s, &p)) {
        if (frame_append(s, p, out) != 0)
            return -1;
        step_past(s);
        return 1;
    }
    if (s->phase == PH_DONE) {
        if (buf_appends(out, "data: [DONE]\n\n") != 0)
            return -1;
        step_past(s);
        return 1;
    }
    if (!s->reference && (s->phase == PH_ROLE || s->phase == PH_FINISH)) {
        if (edge_append(s, out) != 0)
            return -1;
        step_past(s);
        return 1;
    }
    ev = current_event(s);
    if (ev == NULL)
        return -1;
    /* Rendered whole or not at all (jsonio.h): json_dumps could leave a
     * key out of a chunk. */
    if (buf_appends(out, "data: ") == 0 &&
        jsonio_append(out, ev, JSON_COMPACT) == 0 &&
        buf_appends(out, "\n\n") == 0)
        rc = 1;
    json_decref(ev);
    if (rc != 1) {
        buf_truncate(out, len);
        return -1;
    }
    step_past(s);
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
