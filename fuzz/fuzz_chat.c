/* fuzz_chat: one request body through the whole chat path (parse,
 * validate, build the completion with its tools and response_format
 * schemas, render it as JSON or drain its stream) by router_dispatch
 * against the embedded fixture, with no socket, checking what every client
 * is promised about the answer; and the body read by the quick reader
 * (jsonread) and by jansson, which must agree. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "billing.h"
#include "buf.h"
#include "clock.h"
#include "fixtures.h"
#include "fuzz.h"
#include "jsonio.h"
#include "jsonread.h"
#include "ratelimit.h"
#include "router.h"
#include "source.h"

/* A rendered answer is never this large for a body libFuzzer may pass
 * (-max_len); past it the buffer refuses and the run fails. */
#define RENDER_MAX (64u * 1024 * 1024)

/* The read-only part of the world, loaded on the first input and kept for
 * the life of the process (as the server keeps its fixtures). */
struct world {
    struct fixtures *fx;
    struct clock *clock;
};

/* Returns the world, loading it once; aborts if the embedded fixture does
 * not load, which no input can cause. */
static const struct world *world_get(void)
{
    static struct world w;
    struct fixture_error err;

    if (w.fx == NULL) {
        fuzz_require(fixtures_load_default(&w.fx, &err) == 0,
                     "the embedded fixture loads");
        w.clock = clock_new();
        fuzz_require(w.clock != NULL, "clock_new");
        json_object_seed(1);
    }
    return &w;
}

/* An error answer is {"error":{"message":string,"type":string,...}}. */
static void check_error(const struct response *resp)
{
    json_t *e = json_object_get(resp->body, "error");

    fuzz_require(resp->source.ops == NULL, "an error is not streamed");
    fuzz_require(json_is_string(json_object_get(e, "message")),
                 "an error body has error.message");
    fuzz_require(json_is_string(json_object_get(e, "type")),
                 "an error body has error.type");
}

/* Renders a JSON answer as the server does and parses it back. */
static void check_json(const struct response *resp)
{
    char *text;
    json_t *back;

    fuzz_require(resp->body != NULL || resp->json_text != NULL,
                 "a 200 without a stream has a body");
    if (resp->json_text != NULL) /* rendered already (chat_completion_render) */
        text = strndup(resp->json_text, resp->json_text_len);
    else
        text = jsonio_dumps(resp->body, JSON_COMPACT | resp->json_flags);
    fuzz_require(text != NULL, "the answer renders (jsonio_dumps)");
    back = json_loads(text, 0, NULL);
    fuzz_require(back != NULL, "the rendered answer is JSON");
    fuzz_require(json_is_array(json_object_get(back, "choices")),
                 "a completion has choices");
    json_decref(back);
    free(text);
}

/* Drains a streamed answer piece by piece, as the server does: each piece
 * is "data: <JSON object>\n\n" and the last is "data: [DONE]\n\n". Ends
 * the source (it is the caller's no more). */
static void check_stream(struct response *resp)
{
    static const char done[] = "data: [DONE]\n\n";
    struct source src = resp->source;
    struct source_end how;
    struct buf ev;
    bool ended = false;
    enum source_step step;

    resp->source.ops = NULL;
    memset(&how, 0, sizeof(how));
    buf_init(&ev, RENDER_MAX);
    for (;;) {
        (void)src.ops->due_ms(src.self);
        buf_reset(&ev);
        step = src.ops->next(src.self, &ev);
        fuzz_require(step == SOURCE_PIECE || step == SOURCE_DONE,
                     "the stream renders every event");
        if (step == SOURCE_DONE)
            break;
        how.pieces++;
        how.bytes += ev.len;
        fuzz_require(!ended, "nothing follows data: [DONE]");
        fuzz_require(ev.len > 8 && memcmp(ev.data, "data: ", 6) == 0 &&
                         memcmp(ev.data + ev.len - 2, "\n\n", 2) == 0,
                     "an event is data: ...\\n\\n");
        if (ev.len == sizeof(done) - 1 && memcmp(ev.data, done, ev.len) == 0) {
            ended = true;
        } else {
            json_t *o = json_loadb(ev.data + 6, ev.len - 8, 0, NULL);

            fuzz_require(json_is_object(o), "an event's data is a JSON object");
            json_decref(o);
        }
    }
    fuzz_require(ended, "a stream ends with data: [DONE]");
    how.completed = true;
    src.ops->end(src.self, &how);
    buf_cleanup(&ev);
}

/* The quick reader reads the body into jansson's very tree (the compact
 * dump keeps member order, types and every digit of a real), or leaves it
 * to jansson; it never reads what jansson refuses. */
static void check_reader(const char *body, size_t size)
{
    json_t *want = json_loadb(body, size, 0, NULL);
    bool oom = true;
    json_t *got = jsonread_doc(body, size, &oom);
    char *a = NULL, *b = NULL;

    fuzz_require(!oom, "the quick reader has memory");
    fuzz_require(got == NULL || want != NULL,
                 "the quick reader reads only what jansson reads");
    if (got != NULL) {
        a = json_dumps(want, JSON_COMPACT);
        b = json_dumps(got, JSON_COMPACT);
        fuzz_require(a != NULL && b != NULL && strcmp(a, b) == 0,
                     "the quick reader builds jansson's tree");
    }
    free(a);
    free(b);
    json_decref(want);
    json_decref(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct world *w = world_get();
    struct app app;
    struct request req;
    struct response resp;
    char *body = malloc(size + 1);

    fuzz_require(body != NULL, "malloc");
    /* The server hands handlers a NUL-terminated body. */
    memcpy(body, data, size);
    body[size] = '\0';
    check_reader(body, size);
    /* Fresh accounts and windows each time, so that no input is answered
     * 402 or 429 because of the inputs before it. */
    memset(&app, 0, sizeof(app));
    app.fx = w->fx;
    app.clock = w->clock;
    app.billing = billing_new(w->fx, 0);
    app.rl = ratelimit_new(w->fx->nkeys);
    app.max_body = 4u * 1024 * 1024;
    fuzz_require(app.billing != NULL && app.rl != NULL, "state");
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.authorization = "Bearer sk-ai-nexus-test";
    req.body = body;
    req.body_len = size;
    req.request_id = "req_0123456789abcdef0123456789abcdef";
    response_init(&resp);
    router_dispatch(&app, &req, &resp);
    /* A bad request is a 4xx (402 when the reply costs more than the key
     * holds); a 500 means the mock failed on it. */
    fuzz_require(resp.status == 200 || resp.status == 400 ||
                     resp.status == 402 || resp.status == 404,
                 "the status is 200, 400, 402 or 404 (never a 500)");
    if (resp.status != 200)
        check_error(&resp);
    else if (resp.source.ops != NULL)
        check_stream(&resp);
    else
        check_json(&resp);
    response_cleanup(&resp);
    ratelimit_free(app.rl);
    billing_free(app.billing);
    free(body);
    return 0;
}
