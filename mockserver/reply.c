/* reply: deterministic content from a hash of the request, then cut by stop
 * sequences and max_tokens exactly as a model would stop. */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tokenize.h"

#define REPLY_MAX_BYTES (64u * 1024u)

static const char *const lexicon[] = {
    "the",     "mock",   "answers", "every",   "request",
    "with",    "a",      "steady",  "reply",   "so",
    "your",    "tests",  "can",     "trust",   "it",
    "model",   "stream", "tokens",  "arrive",  "in",
    "order",   "and",    "usage",   "adds",    "up",
    "exactly", "client", "retries", "after",   "limits",
    "balance", "falls",  "by",      "cost",    "of",
    "each",    "call",   "this",    "is",      "deterministic",
    "text",    "from",   "nexus",   "server",  "chat",
    "message", "prompt", "we",      "keep",    "same",
    "seed",    "gives",  "words",   "for",     "you",
    "to",      "check",  "when",    "ready",   "here",
    "simple",  "output", "fast",    "offline",
};

#define NLEXICON (sizeof(lexicon) / sizeof(lexicon[0]))

/* FNV-1a over n bytes, continuing from h. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* Hashes a NUL-terminated string and a separator, so "ab"+"c" != "a"+"bc". */
static uint64_t fnv1a_str(uint64_t h, const char *s)
{
    if (s != NULL)
        h = fnv1a(h, s, strlen(s));
    return fnv1a(h, "\x1f", 1);
}

/* Hashes a message's content: a string, or the text of its parts. */
static uint64_t hash_content(uint64_t h, const json_t *content)
{
    size_t i;
    const json_t *part;

    if (json_is_string(content))
        return fnv1a(h, json_string_value(content),
                     json_string_length(content));
    json_array_foreach(content, i, part)
    {
        h = fnv1a_str(h, json_string_value(json_object_get(part, "type")));
        h = fnv1a_str(h, json_string_value(json_object_get(part, "text")));
    }
    return h;
}

/* The seed of choice `index`: model, messages and seed, nothing else. */
static uint64_t request_hash(const struct chat_request *req, unsigned index)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t i;

    h = fnv1a_str(h, req->model);
    for (i = 0; i < req->nmessages; i++) {
        h = fnv1a_str(h, req->messages[i].role);
        h = fnv1a_str(h, req->messages[i].name);
        h = hash_content(h, req->messages[i].content);
        h = fnv1a(h, "\x1e", 1);
    }
    if (req->has_seed)
        h = fnv1a(h, &req->seed, sizeof(req->seed));
    h = fnv1a(h, &index, sizeof(index));
    return h ? h : 1;
}

/* xorshift64*: small, fast and the same on every platform. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(0x2545f4914f6cdd1d);
}

char *reply_text(const struct chat_request *req, unsigned index)
{
    struct buf b;
    uint64_t state = request_hash(req, index);
    unsigned sentences, words, s, w;
    char *text = NULL;

    buf_init(&b, REPLY_MAX_BYTES);
    sentences = 1 + (unsigned)(next_rand(&state) % 3);
    for (s = 0; s < sentences; s++) {
        words = 5 + (unsigned)(next_rand(&state) % 8);
        for (w = 0; w < words; w++) {
            const char *word = lexicon[next_rand(&state) % NLEXICON];

            if ((s > 0 || w > 0) && buf_append(&b, " ", 1) != 0)
                goto out;
            if (w == 0) {
                char first = (char)(word[0] - 'a' + 'A');

                if (buf_append(&b, &first, 1) != 0 ||
                    buf_appends(&b, word + 1) != 0)
                    goto out;
            } else if (buf_appends(&b, word) != 0) {
                goto out;
            }
        }
        if (buf_append(&b, ".", 1) != 0)
            goto out;
    }
    text = buf_take(&b, NULL);
out:
    buf_cleanup(&b);
    return text;
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

/* Fills one choice: the text, cut at a stop sequence, then at max_tokens. */
static int choice_build(const struct chat_request *req, unsigned index,
                        struct reply_choice *c)
{
    size_t len, pos = 0, cap;
    char *text = reply_text(req, index);

    if (text == NULL)
        return -1;
    len = stop_at(req, text, strlen(text));
    text[len] = '\0';
    c->content = text;
    c->finish_reason = "stop";
    cap = (size_t)tokenize_count(text, len);
    c->tok_end = malloc((cap ? cap : 1) * sizeof(*c->tok_end));
    if (c->tok_end == NULL)
        return -1;
    while (pos < len) {
        if (req->has_max_tokens && c->ntok >= (uint64_t)req->max_tokens) {
            c->finish_reason = "length";
            break;
        }
        pos = tokenize_next(text, len, pos);
        c->tok_end[c->ntok++] = pos;
    }
    c->len = c->ntok ? c->tok_end[c->ntok - 1] : 0;
    text[c->len] = '\0';
    return 0;
}

int completion_build(const struct chat_request *req, const char *id,
                     int64_t created, struct completion **out)
{
    int err = -1;
    unsigned i;
    struct completion *c = calloc(1, sizeof(*c));

    if (c == NULL)
        goto out;
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->created = created;
    c->n = req->n ? req->n : 1;
    c->include_usage = req->stream && req->include_usage;
    c->model = strdup(req->model);
    c->choices = calloc(c->n, sizeof(*c->choices));
    if (c->model == NULL || c->choices == NULL)
        goto out;
    for (i = 0; i < c->n; i++) {
        if (choice_build(req, i, &c->choices[i]) != 0)
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
    }
    free(c->choices);
    free(c->model);
    free(c);
}

json_t *completion_usage_json(const struct completion *c)
{
    return json_pack("{s:I, s:I, s:I}", "prompt_tokens",
                     (json_int_t)c->prompt_tokens, "completion_tokens",
                     (json_int_t)c->completion_tokens, "total_tokens",
                     (json_int_t)(c->prompt_tokens + c->completion_tokens));
}
