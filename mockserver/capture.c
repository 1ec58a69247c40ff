/* capture: from routed requests and ended answers to journal entries. */
#include "capture.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "fixtures.h"
#include "journal.h"
#include "jsonio.h"
#include "routes.h"

/* A source wrapped to time its answer for the journal. Owns the wrapped
 * source; the journal is borrowed (it outlives the server). */
struct capture_source {
    struct source inner;
    struct journal *journal;
    char request_id[48];
    enum source_framing framing;
    struct journal_timing t;
};

static uint64_t cap_due_ms(void *self)
{
    struct capture_source *cs = self;

    return cs->inner.ops->due_ms(cs->inner.self);
}

/* Passes the step on, noting when the headers and the first byte leave: a
 * stream's headers left when it was routed and its first byte leaves with
 * its first non-empty piece; a whole answer leaves at once when its source
 * is done; raw bytes of a connection action leave when asked for. */
static enum source_step cap_next(void *self, struct buf *out)
{
    struct capture_source *cs = self;
    enum source_step step = cs->inner.ops->next(cs->inner.self, out);
    uint64_t now = clock_real_ms();
    bool bytes = out->len > 0;

    if (step == SOURCE_DONE && cs->framing == SOURCE_WHOLE) {
        cs->t.has_headers = true;
        cs->t.headers_at = now;
        bytes = cs->t.bytes > 0;
    }
    if (step == SOURCE_PIECE && cs->framing == SOURCE_WHOLE) {
        cs->t.bytes += out->len; /* gathered, not yet sent */
        bytes = false;
    }
    if (bytes && !cs->t.has_first_byte && step != SOURCE_FAIL) {
        cs->t.has_first_byte = true;
        cs->t.first_byte_at = now;
    }
    return step;
}

static void cap_hurry(void *self)
{
    struct capture_source *cs = self;

    cs->inner.ops->hurry(cs->inner.self);
}

/* Tells the journal how the answer went, then ends the wrapped source. */
static void cap_end(void *self, const struct source_end *how)
{
    struct capture_source *cs = self;

    cs->t.bytes = how->bytes;
    if (how->bytes == 0)
        cs->t.has_first_byte = false; /* nothing reached the socket */
    journal_answer(cs->journal, cs->request_id, &cs->t);
    cs->inner.ops->end(cs->inner.self, how);
    free(cs);
}

static const struct source_ops capture_ops = {
    .due_ms = cap_due_ms,
    .next = cap_next,
    .hurry = cap_hurry,
    .end = cap_end,
};

/* Wraps resp's source; leaves it as it is on OOM (the entry then has no
 * timing). */
static void wrap_source(struct journal *j, const struct request *req,
                        struct response *resp, uint64_t now)
{
    struct capture_source *cs = calloc(1, sizeof(*cs));

    if (cs == NULL)
        return;
    cs->inner = resp->source;
    cs->journal = j;
    snprintf(cs->request_id, sizeof(cs->request_id), "%s", req->request_id);
    cs->framing = resp->framing;
    if (resp->framing == SOURCE_STREAMED) {
        /* The server queues a stream's status and headers at once. */
        cs->t.has_headers = true;
        cs->t.headers_at = now;
    }
    resp->source.ops = &capture_ops;
    resp->source.self = cs;
}

/* The bytes of a JSON answer's body as the server sends it (compact, and
 * a newline). */
static uint64_t json_bytes(const struct response *resp)
{
    if (resp->json_text != NULL)
        return resp->json_text_len;
    if (resp->body == NULL)
        return 0;
    return json_dumpb(resp->body, NULL, 0, JSON_COMPACT | resp->json_flags) + 1;
}

/* The key req's Authorization names, or NULL: the router's when it
 * authenticated the request, else looked up (a route without a key). */
static const struct fx_key *request_key(const struct app *app,
                                        const struct request *req)
{
    const char *h = req->authorization;

    if (req->key != NULL)
        return req->key;
    if (app->fx == NULL || h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return fixtures_find_key(app->fx, h);
}

void capture_request(struct app *app, const struct request *req,
                     const struct route *rt, struct response *resp)
{
    struct journal_request jr;
    const struct fx_key *k;
    json_t *body = NULL;
    json_error_t jerr;
    bool oom = false;
    uint64_t now;

    if (app->journal == NULL || req->request_id == NULL ||
        strncmp(req->path, "/_nexus/", 8) == 0)
        return;
    now = clock_real_ms();
    jr = (struct journal_request){.request_id = req->request_id,
                                  .method = req->method,
                                  .path = req->path,
                                  .body = req->body,
                                  .body_len = req->body_len,
                                  .each_header = req->each_header,
                                  .header_ctx = req->header_ctx};
    k = request_key(app, req);
    if (k != NULL) {
        jr.has_key = true;
        jr.key_index = (size_t)(k - app->fx->keys);
        jr.key = k->key;
        jr.plan = app->fx->plans[k->plan].name;
    }
    jr.stream = -1;
    if (req->json != NULL) /* read already (rules, the chat handler) */
        body = json_incref(req->json);
    else if (req->body_len > 0 && !req->body_too_large)
        body = jsonio_loadb(req->body, req->body_len, 0, &jerr, &oom);
    if (json_is_object(body)) {
        const json_t *stream = json_object_get(body, "stream");

        jr.model = json_string_value(json_object_get(body, "model"));
        if (json_is_boolean(stream))
            jr.stream = json_is_true(stream) ? 1 : 0;
    }
    if (req->rule != NULL)
        jr.rule = req->rule;
    else if (rt == &route_chat)
        jr.rule = "generated";
    else if (rt != NULL)
        jr.rule = rt->name;
    jr.scenario = req->scenario;
    jr.status = resp->status;
    jr.retry_after = response_header_get(resp, "retry-after");
    jr.retry_after_ms = response_header_get(resp, "retry-after-ms");
    jr.whole_now = resp->source.ops == NULL;
    if (jr.whole_now)
        jr.bytes = json_bytes(resp);
    journal_open(app->journal, &jr, now);
    if (resp->source.ops != NULL)
        wrap_source(app->journal, req, resp, now);
    json_decref(body);
}

void capture_end(struct app *app, const struct log_entry *e)
{
    if (app->journal == NULL)
        return;
    journal_close(app->journal, e, clock_real_ms(),
                  app->clock != NULL ? clock_wall_ms(app->clock) : 0);
}
