/* reply: deterministic content from a hash of the request, shaped by tools
 * and response_format, then cut by stop sequences and max_tokens exactly as
 * a model would stop. */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lexicon.h"
#include "sample.h"
#include "tokenize.h"

#define REPLY_MAX_BYTES (256u * 1024u)
/* What log probabilities cost per token, about as they render: the chosen
 * token's entry (an object, its token, logprob, bytes array with one number
 * per byte, and top_logprobs) and each alternative (a word of up to
 * REPLY_WORD_BYTES). */
#define REPLY_LOGPROB_NODES 5u
#define REPLY_LOGPROB_BYTES 48u
#define REPLY_WORD_BYTES 8u

/* Hashes a NUL-terminated string and a separator, so "ab"+"c" != "a"+"bc". */
static uint64_t hash_str(uint64_t h, const char *s)
{
    if (s != NULL)
        h = lexicon_hash(h, s, strlen(s));
    return lexicon_hash(h, "\x1f", 1);
}

/* json_dump_callback sink: hashes each piece into *data. */
static int hash_piece(const char *buffer, size_t size, void *data)
{
    uint64_t *h = data;

    *h = lexicon_hash(*h, buffer, size);
    return 0;
}

/* Does jansson write the string s of n bytes as it is, between quotes? It
 * escapes only '"', '\\' and control characters with these flags. */
static bool dumps_verbatim(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

/* Hashes any JSON value by its canonical (sorted, compact) text, streamed
 * through the hash rather than copied out (a message may be megabytes);
 * a string that needs no escape is hashed straight from its bytes. */
static uint64_t hash_json(uint64_t h, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);

    if (v == NULL)
        return lexicon_hash(h, "\x1d", 1);
    if (s != NULL && dumps_verbatim(s, n)) {
        h = lexicon_hash(h, "\"", 1);
        h = lexicon_hash(h, s, n);
        h = lexicon_hash(h, "\"", 1);
    } else {
        json_dump_callback(v, hash_piece, &h,
                           JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    }
    return lexicon_hash(h, "\x1f", 1);
}

/* Hashes v as n little-endian bytes, so every host hashes the same. */
static uint64_t hash_le(uint64_t h, uint64_t v, unsigned n)
{
    unsigned char le[8];
    unsigned i;

    for (i = 0; i < n && i < sizeof(le); i++)
        le[i] = (unsigned char)(v >> (8 * i));
    return lexicon_hash(h, le, i);
}

/* The hash of everything that shapes the answer's text but the choice:
 * made once per request, whatever n is. */
static uint64_t request_hash(const struct chat_request *req)
{
    uint64_t h = LEXICON_HASH_INIT;
    size_t i;

    h = hash_str(h, req->model);
    for (i = 0; i < req->nmessages; i++) {
        const struct chat_message *m = &req->messages[i];

        h = hash_str(h, m->role);
        h = hash_str(h, m->name);
        h = hash_json(h, m->content);
        h = hash_json(h, m->tool_calls);
        h = hash_str(h, m->tool_call_id);
    }
    h = hash_json(h, req->tools);
    h = hash_json(h, req->tool_choice);
    h = hash_json(h, req->response_format);
    if (req->has_seed)
        h = hash_le(h, (uint64_t)req->seed, 8);
    return h;
}

/* The seed of choice `index`: the request's hash and the index (4 bytes;
 * never 0, which the random source cannot take). */
static uint64_t choice_seed(uint64_t request, unsigned index)
{
    uint64_t h = hash_le(request, index, 4);

    return h ? h : 1;
}

/* Writes one to three sentences of lexicon words into b. */
static int write_prose(struct buf *b, uint64_t *state)
{
    unsigned sentences = 1 + (unsigned)(lexicon_rand(state) % 3), s, w;

    for (s = 0; s < sentences; s++) {
        unsigned words = 5 + (unsigned)(lexicon_rand(state) % 8);

        for (w = 0; w < words; w++) {
            const char *word = lexicon_word(state);

            if ((s > 0 || w > 0) && buf_append(b, " ", 1) != 0)
                return -1;
            if (w == 0) {
                char first = (char)(word[0] - 'a' + 'A');

                if (buf_append(b, &first, 1) != 0 ||
                    buf_appends(b, word + 1) != 0)
                    return -1;
            } else if (buf_appends(b, word) != 0) {
                return -1;
            }
        }
        if (buf_append(b, ".", 1) != 0)
            return -1;
    }
    return 0;
}

/* The prose of the choice whose seed is `seed`, or NULL on OOM. */
static char *prose(uint64_t seed)
{
    struct buf b;
    uint64_t state = seed;
    char *text = NULL;

    buf_init(&b, REPLY_MAX_BYTES);
    if (write_prose(&b, &state) == 0)
        text = buf_take(&b, NULL);
    buf_cleanup(&b);
    return text;
}

char *reply_text(const struct chat_request *req, unsigned index)
{
    return prose(choice_seed(request_hash(req), index));
}

/* Compact JSON text of v (stolen), or NULL. */
static char *dump_take(json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    json_decref(v);
    return text;
}

/* Pays for the tokens of text from b; false (b unchanged) if it cannot. */
static bool pay_tokens(struct budget *b, const char *text)
{
    return budget_spend(
        b, BUDGET_TOKEN_NODES * tokenize_count(text, strlen(text)), 0);
}

/* Compact JSON text of a value of schema ("{}" without one): a rich value
 * when it and its tokens fit b, else the smallest, which validation made
 * sure fits (budget_check_schema counts the same). *paid tells whether the
 * value and its tokens are paid from b already. NULL on OOM. */
static char *schema_text(const json_t *schema, uint64_t *state,
                         struct budget *b, bool *paid)
{
    struct budget rich = *b;
    struct sample_fault fault;
    char *text;

    *paid = false;
    if (schema == NULL)
        return strdup("{}");
    text = dump_take(sample_from_schema(schema, state, &rich, &fault));
    if (text != NULL && pay_tokens(&rich, text)) {
        *b = rich;
        *paid = true;
        return text;
    }
    free(text);
    if (fault.kind == SAMPLE_OOM)
        return NULL;
    text = dump_take(sample_from_schema(schema, NULL, b, &fault));
    *paid = text != NULL && pay_tokens(b, text);
    return text;
}

/* The answer's text when response_format asks for JSON; NULL when it does
 * not (or on OOM, which *oom reports). *paid as for schema_text. */
static char *structured_text(const struct chat_request *req, uint64_t seed,
                             struct budget *b, bool *oom, bool *paid)
{
    const char *type =
        json_string_value(json_object_get(req->response_format, "type"));
    uint64_t state = seed;
    char *text = NULL;

    *oom = false;
    *paid = false;
    if (type == NULL || strcmp(type, "text") == 0)
        return NULL;
    if (strcmp(type, "json_object") == 0) {
        char *words = prose(seed);

        text = words ? dump_take(json_pack("{s:s}", "reply", words)) : NULL;
        free(words);
    } else if (strcmp(type, "json_schema") == 0) {
        const json_t *schema = json_object_get(
            json_object_get(req->response_format, "json_schema"), "schema");

        text = schema_text(schema, &state, b, paid);
    } else {
        return NULL;
    }
    *oom = text == NULL;
    return text;
}

/* The function tool named name, or the first function tool if name is
 * NULL; NULL when there is none. */
static const json_t *find_tool(const json_t *tools, const char *name)
{
    size_t i;
    const json_t *t;

    json_array_foreach(tools, i, t)
    {
        const json_t *fn = json_object_get(t, "function");
        const char *fname = json_string_value(json_object_get(fn, "name"));

        if (fname == NULL)
            continue;
        if (name == NULL || strcmp(name, fname) == 0)
            return fn;
    }
    return NULL;
}

/* The function the answer calls, or NULL for a text answer. */
static const json_t *pick_tool(const struct chat_request *req)
{
    const json_t *tc = req->tool_choice;
    const char *mode = json_string_value(tc);

    if (req->tools == NULL)
        return NULL;
    if (json_is_object(tc)) {
        const char *name = json_string_value(
            json_object_get(json_object_get(tc, "function"), "name"));

        return find_tool(req->tools, name);
    }
    if (mode != NULL && strcmp(mode, "none") == 0)
        return NULL;
    if (mode != NULL && strcmp(mode, "required") == 0)
        return find_tool(req->tools, NULL);
    /* auto: call a tool unless the conversation just got a tool's answer. */
    if (req->nmessages > 0 &&
        strcmp(req->messages[req->nmessages - 1].role, "tool") == 0)
        return NULL;
    return find_tool(req->tools, NULL);
}

/* Where the first stop sequence starts in text, or len if none occurs. */
static size_t stop_at(const struct chat_request *req, const char *text,
                      size_t len)
{
    size_t cut = len, i;

    for (i = 0; i < req->nstop; i++) {
        const char *hit;

        if (req->stop[i][0] == '\0')
            continue;
        hit = strstr(text, req->stop[i]);
        if (hit != NULL && (size_t)(hit - text) < cut)
            cut = (size_t)(hit - text);
    }
    return cut;
}

/* Pays for one token of len bytes from b: the token and its bytes unless
 * the content is paid already (generated JSON), and its log
 * probabilities. */
static bool pay_token(const struct chat_request *req, struct budget *b,
                      size_t len, bool paid)
{
    uint64_t alts = req->top_logprobs;
    uint64_t nodes = paid ? 0 : BUDGET_TOKEN_NODES, bytes = paid ? 0 : len;

    if (req->logprobs) {
        nodes += REPLY_LOGPROB_NODES + len +
                 alts * (REPLY_LOGPROB_NODES + REPLY_WORD_BYTES);
        bytes += REPLY_LOGPROB_BYTES + 4 * len +
                 alts * (REPLY_LOGPROB_BYTES + 4 * REPLY_WORD_BYTES);
    }
    return budget_spend(b, nodes, bytes);
}

/* Fills the choice's text (taken) cut to max_tokens, or where the budget b
 * runs out, noting token ends. */
static int cut_tokens(const struct chat_request *req, char *text, size_t len,
                      struct budget *b, bool paid, struct reply_choice *c)
{
    size_t pos = 0, next, cap = (size_t)tokenize_count(text, len);

    text[len] = '\0';
    c->content = text;
    c->tok_end = malloc((cap ? cap : 1) * sizeof(*c->tok_end));
    if (c->tok_end == NULL)
        return -1;
    while (pos < len) {
        if (req->has_max_tokens && c->ntok >= (uint64_t)req->max_tokens) {
            c->finish_reason = "length";
            break;
        }
        next = tokenize_next(text, len, pos);
        if (!pay_token(req, b, next - pos, paid)) {
            c->finish_reason = "length";
            break;
        }
        pos = next;
        c->tok_end[c->ntok++] = pos;
    }
    c->len = c->ntok ? c->tok_end[c->ntok - 1] : 0;
    text[c->len] = '\0';
    return 0;
}

/* Fills a choice whose seed is `seed` within budget b: a tool call,
 * structured JSON, or prose. */
static int choice_build(const struct chat_request *req, uint64_t seed,
                        struct budget *b, struct reply_choice *c)
{
    const json_t *tool = pick_tool(req);
    uint64_t state = seed;
    bool oom, paid;
    char *text;

    if (tool != NULL) {
        const json_t *params = json_object_get(tool, "parameters");

        c->tool_name = strdup(json_string_value(json_object_get(tool, "name")));
        snprintf(c->tool_call_id, sizeof(c->tool_call_id), "call_%016llx",
                 (unsigned long long)lexicon_rand(&state));
        text = schema_text(params, &state, b, &paid);
        if (c->tool_name == NULL || text == NULL) {
            free(text);
            return -1;
        }
        c->finish_reason = "tool_calls";
        return cut_tokens(req, text, strlen(text), b, paid, c);
    }
    c->finish_reason = "stop";
    text = structured_text(req, seed, b, &oom, &paid);
    if (oom)
        return -1;
    if (text != NULL)
        return cut_tokens(req, text, stop_at(req, text, strlen(text)), b, paid,
                          c);
    if ((text = prose(seed)) == NULL)
        return -1;
    return cut_tokens(req, text, stop_at(req, text, strlen(text)), b, false, c);
}

int completion_build(const struct chat_request *req, const char *id,
                     int64_t created, struct completion **out)
{
    int err = -1;
    unsigned i;
    uint64_t hash;
    struct budget share;
    struct completion *c = calloc(1, sizeof(*c));

    if (c == NULL)
        goto out;
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->created = created;
    c->n = req->n ? req->n : 1;
    c->include_usage = req->stream && req->include_usage;
    c->logprobs = req->logprobs;
    c->top_logprobs = req->top_logprobs;
    c->model = strdup(req->model);
    c->choices = calloc(c->n, sizeof(*c->choices));
    if (c->model == NULL || c->choices == NULL)
        goto out;
    hash = request_hash(req);
    budget_share(req->limits, c->n, &share);
    for (i = 0; i < c->n; i++) {
        struct budget b = share; /* each choice spends its own share */

        if (choice_build(req, choice_seed(hash, i), &b, &c->choices[i]) != 0)
            goto out;
        c->completion_tokens += c->choices[i].ntok;
    }
    c->prompt_tokens = tokenize_prompt(req);
    *out = c;
    c = NULL;
    err = 0;
out:
    completion_free(c);
    return err;
}

void completion_free(struct completion *c)
{
    unsigned i;

    if (c == NULL)
        return;
    for (i = 0; c->choices != NULL && i < c->n; i++) {
        free(c->choices[i].content);
        free(c->choices[i].tok_end);
        free(c->choices[i].tool_name);
    }
    free(c->choices);
    free(c->model);
    free(c);
}

uint64_t completion_token_bound(const struct chat_request *req)
{
    unsigned n = req->n ? req->n : 1;
    struct budget share;
    uint64_t per;

    budget_share(req->limits, n, &share);
    per = share.nodes / BUDGET_TOKEN_NODES;
    if (req->has_max_tokens && (uint64_t)req->max_tokens < per)
        per = (uint64_t)req->max_tokens;
    return per * n;
}

json_t *completion_usage_json(const struct completion *c)
{
    return json_pack("{s:I, s:I, s:I}", "prompt_tokens",
                     (json_int_t)c->prompt_tokens, "completion_tokens",
                     (json_int_t)c->completion_tokens, "total_tokens",
                     (json_int_t)(c->prompt_tokens + c->completion_tokens));
}

/* Returns a new {"token","logprob","bytes"} object. */
static json_t *logprob_entry(const char *tok, size_t len, double logprob)
{
    json_t *bytes = json_array();
    json_t *o;
    size_t i;

    for (i = 0; bytes != NULL && i < len; i++)
        json_array_append_new(bytes, json_integer((unsigned char)tok[i]));
    o = json_pack("{s:s%, s:f, s:o}", "token", tok, len, "logprob", logprob,
                  "bytes", bytes);
    return o;
}

/* Returns the logprob entry of token k of ch, with its alternatives. */
static json_t *token_logprobs(const struct completion *c,
                              const struct reply_choice *ch, size_t k)
{
    size_t from = k ? ch->tok_end[k - 1] : 0, len = ch->tok_end[k] - from;
    uint64_t state = lexicon_hash(LEXICON_HASH_INIT, ch->content + from, len);
    double chosen, alt;
    json_t *entry, *top;
    unsigned i;

    state = lexicon_hash(state, &k, sizeof(k));
    chosen = -(double)(lexicon_rand(&state) % 512) / 4096.0;
    entry = logprob_entry(ch->content + from, len, chosen);
    top = json_array();
    if (entry == NULL || top == NULL ||
        json_object_set_new(entry, "top_logprobs", top) != 0) {
        json_decref(entry);
        return NULL;
    }
    if (c->top_logprobs > 0)
        json_array_append_new(top,
                              logprob_entry(ch->content + from, len, chosen));
    alt = chosen;
    for (i = 1; i < c->top_logprobs; i++) {
        char word[32];

        snprintf(word, sizeof(word), " %s", lexicon_word(&state));
        alt -= 1.0 + (double)(lexicon_rand(&state) % 4096) / 4096.0;
        json_array_append_new(top, logprob_entry(word, strlen(word), alt));
    }
    return entry;
}

json_t *completion_logprobs_json(const struct completion *c,
                                 const struct reply_choice *ch, size_t from,
                                 size_t to)
{
    json_t *content;
    size_t k;

    if (ch->tool_name != NULL)
        return json_null();
    content = json_array();
    for (k = from; content != NULL && k < to && k < ch->ntok; k++)
        if (json_array_append_new(content, token_logprobs(c, ch, k)) != 0) {
            json_decref(content);
            return NULL;
        }
    return json_pack("{s:o, s:n}", "content", content, "refusal");
}
