/* answer: status answers, composed completions and the delayed source. */
#include "answer.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "errors.h"
#include "jsonio.h"
#include "match.h"
#include "template.h"

/* A whole answer that waits: its bytes, when they are due, and its media
 * type. */
struct delayed {
    char *bytes; /* owned */
    size_t len;
    uint64_t due_ms;
    bool sent;
    char *content_type; /* owned */
};

static uint64_t delayed_due(void *self)
{
    struct delayed *d = self;

    return d->sent ? 0 : d->due_ms;
}

static enum source_step delayed_next(void *self, struct buf *out)
{
    struct delayed *d = self;

    if (d->sent)
        return SOURCE_DONE;
    d->sent = true;
    return buf_append(out, d->bytes, d->len) == 0 ? SOURCE_PIECE : SOURCE_FAIL;
}

static void delayed_hurry(void *self)
{
    struct delayed *d = self;

    d->due_ms = 0;
}

static void delayed_end(void *self, const struct source_end *how)
{
    struct delayed *d = self;

    (void)how;
    free(d->bytes);
    free(d->content_type);
    free(d);
}

static const struct source_ops delayed_ops = {
    .due_ms = delayed_due,
    .next = delayed_next,
    .hurry = delayed_hurry,
    .end = delayed_end,
};

int answer_delayed(char *bytes, size_t len, uint64_t delay_ms,
                   const char *content_type, struct source *out,
                   const char **ctype)
{
    int err = -1;
    struct delayed *d = calloc(1, sizeof(*d));

    memset(out, 0, sizeof(*out));
    if (d == NULL)
        goto out;
    d->content_type = strdup(content_type);
    if (d->content_type == NULL)
        goto out;
    d->bytes = bytes; /* the source owns them now */
    bytes = NULL;
    d->len = len;
    d->due_ms = delay_ms;
    out->ops = &delayed_ops;
    out->self = d;
    *ctype = d->content_type;
    d = NULL;
    err = 0;
out:
    if (d != NULL)
        free(d->content_type);
    free(d);
    free(bytes);
    return err;
}

void answer_headers(const struct rule_answer *a, struct response *resp)
{
    size_t i;

    for (i = 0; i < a->nheaders; i++) {
        if (a->headers[i].value != NULL)
            response_header(resp, a->headers[i].name, "%s",
                            a->headers[i].value);
        else
            response_header_omit(resp, a->headers[i].name);
    }
}

/* Counts the messages of body (a chat request, parsed) whose role is
 * user: the conversation's turn. */
static uint64_t turn_of_json(const json_t *body)
{
    const json_t *m;
    uint64_t n = 0;
    size_t i;

    json_array_foreach(json_object_get(body, "messages"), i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        n += role != NULL && strcmp(role, "user") == 0;
    }
    return n;
}

/* Renders a's body template for req: a new string of *len bytes, or NULL
 * on OOM. The request's values come from its body when it is JSON. */
static char *status_render(const struct app *app, const struct request *req,
                           const struct rule_hit *hit, size_t *len)
{
    json_error_t jerr;
    bool oom = false;
    json_t *body = req->body_len > 0
                       ? jsonio_loadb(req->body, req->body_len, 0, &jerr, &oom)
                       : NULL;
    char *last = match_message_text(match_last_user(body));
    struct template_vars v = {
        .last_user_message = last,
        .model = json_string_value(json_object_get(body, "model")),
        .count = hit->count,
        .turn = turn_of_json(body),
        .now = (int64_t)(clock_wall_ms(app->clock) / 1000),
    };
    char *text = oom ? NULL : template_render(hit->answer->body_tmpl, &v);

    free(last);
    json_decref(body);
    if (text != NULL)
        *len = strlen(text);
    return text;
}

/* Returns the bytes of status answer a: its raw body (rendered when it is
 * a template), or its error body as the server prints JSON (compact, with
 * a newline); a new string of *len bytes, or NULL on OOM. */
static char *status_bytes(const struct app *app, const struct request *req,
                          const struct rule_hit *hit, size_t *len)
{
    const struct rule_answer *a = hit->answer;
    json_t *body;
    char *text, *full;

    if (a->body_tmpl != NULL)
        return status_render(app, req, hit, len);
    if (a->has_body) {
        text = malloc(a->body_len + 1);
        if (text != NULL) {
            memcpy(text, a->body, a->body_len);
            text[a->body_len] = '\0';
            *len = a->body_len;
        }
        return text;
    }
    body = api_error_body_for(a->status, a->error_message, a->error_type,
                              a->error_code, a->error_param);
    text = body != NULL ? jsonio_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL)
        return NULL;
    *len = strlen(text);
    full = realloc(text, *len + 2);
    if (full == NULL) {
        free(text);
        return NULL;
    }
    full[(*len)++] = '\n';
    full[*len] = '\0';
    return full;
}

/* True when a's headers name the header name, to send or to leave out. */
static bool names_header(const struct rule_answer *a, const char *name)
{
    size_t i;

    for (i = 0; i < a->nheaders; i++)
        if (strcasecmp(a->headers[i].name, name) == 0)
            return true;
    return false;
}

void answer_status(struct app *app, struct request *req,
                   const struct rule_hit *hit, struct response *resp)
{
    const struct rule_answer *a = hit->answer;
    uint64_t retry =
        a->has_retry_after ? a->retry_after_ms : ANSWER_RETRY_AFTER_MS;
    struct api_error e;
    struct fault f = a->fault; /* borrows a's bytes; not cleaned up */
    char *bytes;
    size_t len = 0;
    const char *ctype = NULL;

    if (a->rate_limited && req->key != NULL &&
        router_admit(app, req, 0, resp) != 0)
        return; /* the limiter's own 429 */
    bytes = status_bytes(app, req, hit, &len);
    if (bytes == NULL ||
        answer_delayed(bytes, len, a->latency_ms,
                       a->content_type != NULL ? a->content_type
                                               : "application/json",
                       &resp->source, &ctype) != 0) {
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory answering.");
        response_error(resp, &e);
        return;
    }
    resp->status = a->status;
    resp->content_type = ctype;
    /* A body fault sends the headers first and the body chunked. */
    resp->framing = fault_streams_body(&f) ? SOURCE_STREAMED : SOURCE_WHOLE;
    f.endless_max = app->max_endless_bytes;
    /* On OOM the answer goes out without its fault. */
    (void)fault_wrap(&f, &resp->source, &resp->framing);
    answer_headers(a, resp);
    if ((a->has_retry_after || a->status == 429) &&
        !names_header(a, "retry-after") && !names_header(a, "retry-after-ms")) {
        response_header(resp, "retry-after", "%" PRIu64, (retry + 999) / 1000);
        response_header(resp, "retry-after-ms", "%" PRIu64, retry);
    }
}

/* Counts the user messages of creq: the conversation's turn. */
static uint64_t turn_of(const struct chat_request *creq)
{
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < creq->nmessages; i++)
        n += strcmp(creq->messages[i].role, "user") == 0;
    return n;
}

/* Renders a's template for this request; a new string, or NULL on OOM. */
static char *render(const struct rule_hit *hit, const struct chat_request *creq,
                    const json_t *body, int64_t created)
{
    char *last = match_message_text(match_last_user(body));
    struct template_vars v = {last, creq->model, hit->count, turn_of(creq),
                              created};
    char *text = template_render(hit->answer->tmpl, &v);

    free(last);
    return text;
}

int answer_compose(const struct rule_hit *hit, const struct chat_request *creq,
                   const json_t *body, const char *id, int64_t created,
                   struct completion **out)
{
    int err = -1;
    const struct rule_answer *a = hit->answer;
    struct reply_call_spec *calls = NULL;
    struct reply_choice_spec *choices = NULL;
    unsigned n = creq->n ? creq->n : 1, i;
    char *content = NULL;
    size_t k;

    *out = NULL;
    calls = calloc(a->ncalls + 1, sizeof(*calls));
    choices = calloc(n, sizeof(*choices));
    if (calls == NULL || choices == NULL)
        goto out;
    if (a->tmpl != NULL && (content = render(hit, creq, body, created)) == NULL)
        goto out;
    for (k = 0; k < a->ncalls; k++) {
        calls[k].id = a->calls[k].id;
        calls[k].name = a->calls[k].name;
        calls[k].arguments = a->calls[k].arguments;
    }
    for (i = 0; i < n; i++) {
        choices[i].reasoning = a->reasoning;
        choices[i].content = content != NULL ? content : a->content;
        choices[i].tool_calls = calls;
        choices[i].ntool_calls = a->ncalls;
        choices[i].finish_reason = a->finish_reason;
    }
    if (completion_compose(creq, id, created, choices, n,
                           a->has_usage ? &a->usage : NULL, out) != 0)
        goto out;
    /* Each stream gets its own copy: jansson's counts are not atomic. */
    for (i = 0; a->deltas != NULL && i < n; i++)
        if (((*out)->choices[i].deltas = json_deep_copy(a->deltas)) == NULL)
            goto out;
    err = 0;
out:
    if (err != 0) {
        completion_free(*out);
        *out = NULL;
    }
    free(content);
    free(calls);
    free(choices);
    return err;
}
