/* reply: deterministic content from a hash of the request, shaped by tools
 * and response_format, then cut by stop sequences and max_tokens exactly as
 * a model would stop. */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonio.h"
#include "jsonw.h"
#include "lexicon.h"
#include "sample.h"
#include "tokenize.h"
#include "utf8.h"

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

    /* Plain ASCII a word at a time, then byte by byte from where it ends
     * (UTF-8 goes as it is too). */
    for (i = utf8_json_plain(s, n); i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

/* Hashes any JSON value into *h by its canonical (sorted, compact) text,
 * streamed through the hash rather than copied out (a message may be
 * megabytes); a string that needs no escape is hashed straight from its
 * bytes. -1 on OOM (sorting keys allocates), *h then meaningless. */
static int hash_json(uint64_t *h, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);

    if (v == NULL) {
        *h = lexicon_hash(*h, "\x1d", 1);
        return 0;
    }
    if (s != NULL && dumps_verbatim(s, n)) {
        *h = lexicon_hash(*h, "\"", 1);
        *h = lexicon_hash(*h, s, n);
        *h = lexicon_hash(*h, "\"", 1);
    } else if (json_dump_callback(v, hash_piece, h,
                                  JSON_COMPACT | JSON_SORT_KEYS |
                                      JSON_ENCODE_ANY) != 0) {
        return -1;
    }
    *h = lexicon_hash(*h, "\x1f", 1);
    return 0;
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

/* Sets *out to the hash of everything that shapes the answer's text but
 * the choice: made once per request, whatever n is. -1 on OOM: a hash
 * that skipped a part would change the answer without a word. */
static int request_hash(const struct chat_request *req, uint64_t *out)
{
    uint64_t h = LEXICON_HASH_INIT;
    int err = -1;
    size_t i;

    h = hash_str(h, req->model);
    for (i = 0; i < req->nmessages; i++) {
        const struct chat_message *m = &req->messages[i];

        h = hash_str(h, m->role);
        h = hash_str(h, m->name);
        if (hash_json(&h, m->content) != 0 || hash_json(&h, m->tool_calls) != 0)
            goto out;
        h = hash_str(h, m->tool_call_id);
    }
    if (hash_json(&h, req->tools) != 0 ||
        hash_json(&h, req->tool_choice) != 0 ||
        hash_json(&h, req->response_format) != 0)
        goto out;
    if (req->has_seed)
        h = hash_le(h, (uint64_t)req->seed, 8);
    *out = h;
    err = 0;
out:
    return err;
}

/* The seed of choice `index`: the request's hash and the index (4 bytes;
 * never 0, which the random source cannot take). */
static uint64_t choice_seed(uint64_t request, unsigned index)
{
    uint64_t h = hash_le(request, index, 4);

    return h ? h : 1;
}

/* Writes one to three sentences of lexicon words into b, each word with
 * the space before it in one append. */
static int write_prose(struct buf *b, uint64_t *state)
{
    unsigned sentences = 1 + (unsigned)(lexicon_rand(state) % 3), s, w;

    for (s = 0; s < sentences; s++) {
        unsigned words = 5 + (unsigned)(lexicon_rand(state) % 8);

        for (w = 0; w < words; w++) {
            size_t len, space = s > 0 || w > 0;
            const char *word = lexicon_word_len(state, &len);
            char *at = buf_extend(b, space + len + (w + 1 == words));

            if (at == NULL)
                return -1;
            if (space)
                *at++ = ' ';
            memcpy(at, word, len);
            if (w == 0)
                at[0] = (char)(word[0] - 'a' + 'A');
            if (w + 1 == words)
                at[len] = '.';
        }
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
    /* Room for the usual prose at once (the most is 36 words); a failure
     * is only a missed hint. */
    buf_grow(&b, 256);
    if (write_prose(&b, &state) == 0)
        text = buf_take(&b, NULL);
    buf_cleanup(&b);
    return text;
}

char *reply_text(const struct chat_request *req, unsigned index)
{
    uint64_t hash;

    if (request_hash(req, &hash) != 0)
        return NULL;
    return prose(choice_seed(hash, index));
}

/* The reasoning a reasoning model shows before the choice whose seed is
 * `seed`: two passages of prose from the seed, salted so they differ from
 * the answer. A new string, or NULL on OOM. */
static char *reasoning_prose(uint64_t seed)
{
    struct buf b;
    uint64_t state = seed ^ UINT64_C(0x7265617330a1c3e5);
    char *text = NULL;

    buf_init(&b, REPLY_MAX_BYTES);
    if (write_prose(&b, &state) == 0 && buf_append(&b, " ", 1) == 0 &&
        write_prose(&b, &state) == 0)
        text = buf_take(&b, NULL);
    buf_cleanup(&b);
    return text;
}

/* Compact JSON text of v (stolen), whole (jsonio.h), or NULL. */
static char *dump_take(json_t *v)
{
    char *text = v ? jsonio_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

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
    json_t *v;
    char *text;

    *paid = false;
    if (schema == NULL)
        return strdup("{}");
    v = sample_from_schema(schema, state, &rich, &fault);
    if (v == NULL && fault.kind == SAMPLE_OOM)
        return NULL;
    if (v != NULL) {
        /* Out of memory here is no reason to answer the smallest value. */
        if ((text = dump_take(v)) == NULL)
            return NULL;
        if (pay_tokens(&rich, text)) {
            *b = rich;
            *paid = true;
            return text;
        }
        free(text);
    }
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

/* What a generated text's tokens are paid from: the choice's budget, and
 * whether the content is paid already (generated JSON). */
struct text_pay {
    const struct chat_request *req;
    struct budget *b;
    bool paid;
};

/* Pays for one token of len bytes: the token and its bytes unless the
 * content is paid already, and its log probabilities. */
static bool pay_token(const struct text_pay *pay, size_t len)
{
    uint64_t alts = pay->req->top_logprobs;
    uint64_t nodes = pay->paid ? 0 : BUDGET_TOKEN_NODES;
    uint64_t bytes = pay->paid ? 0 : len;

    if (pay->req->logprobs) {
        nodes += REPLY_LOGPROB_NODES + len +
                 alts * (REPLY_LOGPROB_NODES + REPLY_WORD_BYTES);
        bytes += REPLY_LOGPROB_BYTES + 4 * len +
                 alts * (REPLY_LOGPROB_BYTES + 4 * REPLY_WORD_BYTES);
    }
    return budget_spend(pay->b, nodes, bytes);
}

/* Gives back what t's text holds past the tokens kept: a stream keeps its
 * reply for its whole life, and the text a max_tokens of 8 keeps is a
 * tenth of the prose written (profile of 2,000 paced streams: with the
 * room for every token's end, about 300 bytes a stream). A shrink that
 * fails keeps the room, which is fine. */
static void text_fit(struct reply_text *t)
{
    char *text = realloc(t->text, t->len + 1);

    if (text != NULL)
        t->text = text;
}

/* Token ends text_take notes on the stack before it knows how many there
 * are: the prose of a reply has at most 36 words and their spaces and full
 * stops. */
#define TEXT_ENDS_NOTED 128

/* Takes text (len bytes of a buffer of at least len + 1) into t, noting
 * its token ends, cut after max tokens or where pay (NULL: nothing to pay)
 * runs out. Returns 1 if it was cut, 0 if it is whole, -1 on OOM; t owns
 * text in every case.
 *
 * The ends go on the stack first and to the heap once, at the count kept
 * (a profile of the chat path showed text_take at 2% of the mock's CPU:
 * the text tokenized twice, to size the array and to fill it, then the
 * array shrunk to what was kept); a text of more tokens than the stack
 * holds is counted first, as before. */
static int text_take(struct reply_text *t, char *text, size_t len, uint64_t max,
                     const struct text_pay *pay)
{
    size_t noted[TEXT_ENDS_NOTED], *ends = noted, cap = TEXT_ENDS_NOTED;
    size_t pos = 0, next;
    int cut = 0;

    text[len] = '\0';
    t->text = text;
    while (pos < len) {
        if (t->ntok >= max) {
            cut = 1;
            break;
        }
        next = tokenize_next(text, len, pos);
        if (pay != NULL && !pay_token(pay, next - pos)) {
            cut = 1;
            break;
        }
        if (t->ntok == cap) { /* more than the stack holds: to the heap */
            cap = (size_t)tokenize_count(text, len);
            ends = malloc(cap * sizeof(*ends));
            if (ends == NULL)
                return -1;
            memcpy(ends, noted, sizeof(noted));
        }
        pos = next;
        ends[t->ntok++] = pos;
    }
    if (ends == noted) {
        t->tok_end = malloc((t->ntok ? t->ntok : 1) * sizeof(*ends));
        if (t->tok_end == NULL)
            return -1;
        memcpy(t->tok_end, noted, t->ntok * sizeof(*ends));
    } else {
        t->tok_end = ends;
        ends = realloc(ends, (t->ntok ? t->ntok : 1) * sizeof(*ends));
        if (ends != NULL)
            t->tok_end = ends;
    }
    t->len = t->ntok ? t->tok_end[t->ntok - 1] : 0;
    text[t->len] = '\0';
    text_fit(t);
    return cut;
}

/* Fills t with text (taken) cut after max tokens (what max_tokens leaves),
 * or where the budget b runs out; a cut makes *finish "length". */
static int cut_tokens(const struct chat_request *req, uint64_t max, char *text,
                      size_t len, struct budget *b, bool paid,
                      struct reply_text *t, const char **finish)
{
    struct text_pay pay = {req, b, paid};
    int rc = text_take(t, text, len, max, &pay);

    if (rc == 1)
        *finish = "length";
    return rc < 0 ? -1 : 0;
}

/* Fills the reasoning of a reasoning model's choice whose seed is `seed`,
 * which max_tokens (*max) bounds first, and takes what it used from *max.
 * When nothing is left for the answer (max_tokens or the budget spent),
 * the choice ends there: content "" and finish_reason "length". Returns 1
 * then, 0 when the answer follows, -1 on OOM. */
static int reason(const struct chat_request *req, uint64_t seed,
                  struct budget *b, struct reply_choice *c, uint64_t *max)
{
    struct text_pay pay = {req, b, false};
    char *text = reasoning_prose(seed), *empty;
    int rc;

    if (text == NULL)
        return -1;
    rc = text_take(&c->reasoning, text, strlen(text), *max, &pay);
    if (rc < 0)
        return -1;
    *max -= c->reasoning.ntok;
    if (rc == 0 && *max > 0)
        return 0;
    empty = strdup("");
    if (empty == NULL || text_take(&c->content, empty, 0, 0, NULL) < 0)
        return -1;
    c->finish_reason = "length";
    return 1;
}

/* Fills a choice whose seed is `seed` within budget b: a reasoning model's
 * reasoning first, then a tool call, structured JSON, or prose, all within
 * max_tokens. */
static int choice_build(const struct chat_request *req, uint64_t seed,
                        struct budget *b, struct reply_choice *c)
{
    const json_t *tool = pick_tool(req);
    uint64_t state = seed;
    uint64_t max = req->has_max_tokens ? (uint64_t)req->max_tokens : UINT64_MAX;
    bool oom, paid;
    char *text;
    int rc;

    if (req->reasoning && (rc = reason(req, seed, b, c, &max)) != 0)
        return rc < 0 ? -1 : 0;

    if (tool != NULL) {
        const json_t *params = json_object_get(tool, "parameters");
        struct reply_tool_call *call = calloc(1, sizeof(*call));
        char id[40];

        if (call == NULL)
            return -1;
        c->tool_calls = call; /* c owns it now */
        c->ntool_calls = 1;
        call->name = strdup(json_string_value(json_object_get(tool, "name")));
        snprintf(id, sizeof(id), "call_%016llx",
                 (unsigned long long)lexicon_rand(&state));
        call->id = strdup(id);
        text = schema_text(params, &state, b, &paid);
        if (call->name == NULL || call->id == NULL || text == NULL) {
            free(text);
            return -1;
        }
        c->finish_reason = "tool_calls";
        return cut_tokens(req, max, text, strlen(text), b, paid,
                          &call->arguments, &c->finish_reason);
    }
    c->finish_reason = "stop";
    text = structured_text(req, seed, b, &oom, &paid);
    if (oom)
        return -1;
    if (text == NULL) {
        paid = false;
        if ((text = prose(seed)) == NULL)
            return -1;
    }
    return cut_tokens(req, max, text, stop_at(req, text, strlen(text)), b, paid,
                      &c->content, &c->finish_reason);
}

/* Returns a completion answering req with n empty choices, or NULL. */
static struct completion *completion_alloc(const struct chat_request *req,
                                           const char *id, int64_t created,
                                           unsigned n)
{
    struct completion *c = calloc(1, sizeof(*c));
    size_t n_id;

    if (c == NULL)
        return NULL;
    /* Cut to the room, as snprintf would, without its formatting (a
     * profile showed the snprintf of the id at 0.3% of the mock's CPU). */
    n_id = strnlen(id, sizeof(c->id) - 1);
    memcpy(c->id, id, n_id);
    c->id[n_id] = '\0';
    c->created = created;
    c->n = n;
    c->include_usage = req->stream && req->include_usage;
    c->logprobs = req->logprobs;
    c->top_logprobs = req->top_logprobs;
    c->model = strdup(req->model);
    c->choices = calloc(n, sizeof(*c->choices));
    if (c->model == NULL || c->choices == NULL) {
        completion_free(c);
        c = NULL;
    }
    return c;
}

/* Counts the completion tokens of every choice: reasoning, content and
 * tool-call arguments. */
static void completion_count(struct completion *c)
{
    unsigned i;
    size_t k;

    c->completion_tokens = 0;
    c->reasoning_tokens = 0;
    for (i = 0; i < c->n; i++) {
        const struct reply_choice *ch = &c->choices[i];

        c->reasoning_tokens += ch->reasoning.ntok;
        c->completion_tokens += ch->reasoning.ntok + ch->content.ntok;
        for (k = 0; k < ch->ntool_calls; k++)
            c->completion_tokens += ch->tool_calls[k].arguments.ntok;
    }
}

/* Sets c's usage (the given one, or counted) and hands c to *out.
 * Returns 0, or -1 when c is NULL (it could not be made). */
static int completion_finish(struct completion *c,
                             const struct chat_request *req,
                             const struct reply_usage *usage,
                             struct completion **out)
{
    if (c == NULL)
        return -1;
    if (usage != NULL) {
        c->prompt_tokens = usage->prompt_tokens;
        c->completion_tokens = usage->completion_tokens;
        c->reasoning_tokens = usage->reasoning_tokens;
    } else {
        completion_count(c);
        c->prompt_tokens =
            req->prompt_tokens ? req->prompt_tokens : tokenize_prompt(req);
    }
    *out = c;
    return 0;
}

int completion_build(const struct chat_request *req, const char *id,
                     int64_t created, struct completion **out)
{
    struct completion *c =
        completion_alloc(req, id, created, req->n ? req->n : 1);
    uint64_t hash;
    struct budget share;
    unsigned i;

    if (c != NULL && request_hash(req, &hash) != 0) {
        completion_free(c);
        c = NULL;
    }
    budget_share(req->limits, req->n ? req->n : 1, &share);
    for (i = 0; c != NULL && i < c->n; i++) {
        struct budget b = share; /* each choice spends its own share */

        if (choice_build(req, choice_seed(hash, i), &b, &c->choices[i]) != 0) {
            completion_free(c);
            c = NULL;
        }
    }
    return completion_finish(c, req, NULL, out);
}

/* Frees what t owns. */
static void text_cleanup(struct reply_text *t)
{
    free(t->text);
    free(t->tok_end);
}

void completion_free(struct completion *c)
{
    unsigned i;

    if (c == NULL)
        return;
    for (i = 0; c->choices != NULL && i < c->n; i++) {
        struct reply_choice *ch = &c->choices[i];
        size_t k;

        text_cleanup(&ch->reasoning);
        text_cleanup(&ch->content);
        for (k = 0; k < ch->ntool_calls; k++) {
            free(ch->tool_calls[k].id);
            free(ch->tool_calls[k].name);
            text_cleanup(&ch->tool_calls[k].arguments);
        }
        free(ch->tool_calls);
        json_decref(ch->deltas);
    }
    free(c->choices);
    free(c->model);
    free(c);
}

json_t *completion_usage_json(const struct completion *c)
{
    json_t *u = json_pack(
        "{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)c->prompt_tokens,
        "completion_tokens", (json_int_t)c->completion_tokens, "total_tokens",
        (json_int_t)(c->prompt_tokens + c->completion_tokens));

    if (u != NULL && c->reasoning_tokens > 0 &&
        json_object_set_new(u, "completion_tokens_details",
                            json_pack("{s:I}", "reasoning_tokens",
                                      (json_int_t)c->reasoning_tokens)) != 0) {
        json_decref(u);
        u = NULL;
    }
    return u;
}

/* Returns a new {"token","logprob","bytes"} object, or NULL on OOM. */
static json_t *logprob_entry(const char *tok, size_t len, double logprob)
{
    json_t *bytes = json_array();
    size_t i;

    for (i = 0; bytes != NULL && i < len; i++)
        if (json_array_append_new(bytes, json_integer((unsigned char)tok[i])) !=
            0) {
            json_decref(bytes);
            bytes = NULL;
        }
    /* Fails on a NULL bytes; takes bytes either way. */
    return json_pack("{s:s%, s:f, s:o}", "token", tok, len, "logprob", logprob,
                     "bytes", bytes);
}

/* Returns the logprob entry of token k of ch, with its alternatives. */
static json_t *token_logprobs(const struct completion *c,
                              const struct reply_choice *ch, size_t k)
{
    const struct reply_text *t = &ch->content;
    size_t from = k ? t->tok_end[k - 1] : 0, len = t->tok_end[k] - from;
    uint64_t state = lexicon_hash(LEXICON_HASH_INIT, t->text + from, len);
    double chosen, alt;
    json_t *entry, *top, *result = NULL;
    unsigned i;

    state = lexicon_hash(state, &k, sizeof(k));
    chosen = -(double)(lexicon_rand(&state) % 512) / 4096.0;
    entry = logprob_entry(t->text + from, len, chosen);
    top = json_array();
    /* entry holds a reference to top; this function keeps its own until
     * out, so that every path frees both. */
    if (entry == NULL || top == NULL ||
        json_object_set(entry, "top_logprobs", top) != 0)
        goto out;
    if (c->top_logprobs > 0 &&
        json_array_append_new(top,
                              logprob_entry(t->text + from, len, chosen)) != 0)
        goto out;
    alt = chosen;
    for (i = 1; i < c->top_logprobs; i++) {
        char word[32];

        snprintf(word, sizeof(word), " %s", lexicon_word(&state));
        alt -= 1.0 + (double)(lexicon_rand(&state) % 4096) / 4096.0;
        if (json_array_append_new(top,
                                  logprob_entry(word, strlen(word), alt)) != 0)
            goto out;
    }
    result = entry; /* the caller's now */
    entry = NULL;
out:
    json_decref(top);
    json_decref(entry);
    return result;
}

json_t *completion_logprobs_json(const struct completion *c,
                                 const struct reply_choice *ch, size_t from,
                                 size_t to)
{
    json_t *content;
    size_t k;

    if (ch->content.text == NULL)
        return json_null();
    content = json_array();
    for (k = from; content != NULL && k < to && k < ch->content.ntok; k++)
        if (json_array_append_new(content, token_logprobs(c, ch, k)) != 0) {
            json_decref(content);
            return NULL;
        }
    return json_pack("{s:o, s:n}", "content", content, "refusal");
}

uint64_t completion_token_bound(const struct chat_request *req)
{
    unsigned n = req->n ? req->n : 1;
    struct budget share;
    uint64_t per_choice;

    /* Every token of a choice is paid from its share of the budget. */
    budget_share(req->limits, n, &share);
    per_choice = share.nodes / BUDGET_TOKEN_NODES;
    if (req->has_max_tokens && req->max_tokens > 0 &&
        (uint64_t)req->max_tokens < per_choice)
        per_choice = (uint64_t)req->max_tokens;
    return per_choice * n;
}

/* The finish reasons a composed reply may give. */
static const char *const finish_reasons[] = {
    "stop", "length", "tool_calls", "content_filter", "function_call",
};

/* The static finish reason a choice spec asks for, or NULL if unknown. */
static const char *finish_reason_of(const struct reply_choice_spec *spec)
{
    size_t i;

    if (spec->finish_reason == NULL)
        return spec->ntool_calls > 0 ? "tool_calls" : "stop";
    for (i = 0; i < sizeof(finish_reasons) / sizeof(finish_reasons[0]); i++)
        if (strcmp(spec->finish_reason, finish_reasons[i]) == 0)
            return finish_reasons[i];
    return NULL;
}

/* Copies s into t, whole, cut into tokens; NULL leaves t absent. */
static int text_copy(struct reply_text *t, const char *s)
{
    char *copy;

    if (s == NULL)
        return 0;
    copy = strdup(s);
    if (copy == NULL)
        return -1;
    return text_take(t, copy, strlen(copy), UINT64_MAX, NULL) < 0 ? -1 : 0;
}

/* Fills call k of choice `index` of c from spec. */
static int call_compose(const struct completion *c, unsigned index, size_t k,
                        const struct reply_call_spec *spec,
                        struct reply_tool_call *call)
{
    char id[40], where[96];
    uint64_t state;

    if (spec->name == NULL)
        return -1;
    if (spec->id == NULL) {
        /* Text, not the numbers' bytes, so every host derives the same. */
        snprintf(where, sizeof(where), "%s/%u/%zu", c->id, index, k);
        state = hash_str(LEXICON_HASH_INIT, where);
        snprintf(id, sizeof(id), "call_%016llx",
                 (unsigned long long)lexicon_rand(&state));
    }
    call->id = strdup(spec->id != NULL ? spec->id : id);
    call->name = strdup(spec->name);
    if (call->id == NULL || call->name == NULL)
        return -1;
    return text_copy(&call->arguments,
                     spec->arguments != NULL ? spec->arguments : "{}");
}

/* Fills choice `index` of c from spec. */
static int choice_compose(const struct completion *c, unsigned index,
                          const struct reply_choice_spec *spec,
                          struct reply_choice *ch)
{
    size_t k;

    ch->finish_reason = finish_reason_of(spec);
    if (ch->finish_reason == NULL ||
        (spec->ntool_calls > 0 && spec->tool_calls == NULL))
        return -1;
    if (text_copy(&ch->reasoning, spec->reasoning) != 0 ||
        text_copy(&ch->content, spec->content) != 0)
        return -1;
    if (spec->ntool_calls > 0) {
        ch->tool_calls = calloc(spec->ntool_calls, sizeof(*ch->tool_calls));
        if (ch->tool_calls == NULL)
            return -1;
        ch->ntool_calls = spec->ntool_calls;
    }
    for (k = 0; k < spec->ntool_calls; k++)
        if (call_compose(c, index, k, &spec->tool_calls[k],
                         &ch->tool_calls[k]) != 0)
            return -1;
    return 0;
}

int completion_compose(const struct chat_request *req, const char *id,
                       int64_t created, const struct reply_choice_spec *choices,
                       unsigned nchoices, const struct reply_usage *usage,
                       struct completion **out)
{
    struct completion *c = NULL;
    unsigned i;

    if (choices != NULL && nchoices > 0 && nchoices <= CHAT_MAX_N)
        c = completion_alloc(req, id, created, nchoices);
    for (i = 0; c != NULL && i < nchoices; i++)
        if (choice_compose(c, i, &choices[i], &c->choices[i]) != 0) {
            completion_free(c);
            c = NULL;
        }
    return completion_finish(c, req, usage, out);
}

void reply_call_write(struct jsonw *w, const struct reply_tool_call *call,
                      const char *args, size_t len)
{
    jsonw_key(w, "id");
    jsonw_string(w, call->id);
    jsonw_key(w, "type");
    jsonw_string(w, "function");
    jsonw_key(w, "function");
    jsonw_object_open(w);
    jsonw_key(w, "name");
    jsonw_string(w, call->name);
    jsonw_key(w, "arguments");
    jsonw_stringn(w, args, len);
    jsonw_object_close(w);
}
