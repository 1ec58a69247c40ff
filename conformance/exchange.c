/* exchange: one request and its answer as the checks see them: the body
 * they sent, the bytes that came back, and those bytes parsed. */
#include "exchange.h"

#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "jsonio.h"
#include "shape.h"

/* Prepares an empty exchange. */
void exchange_init(struct exchange *x)
{
    memset(x, 0, sizeof(*x));
    http_response_init(&x->resp, 0);
}

/* Frees everything the exchange holds; it is empty afterwards. */
void exchange_cleanup(struct exchange *x)
{
    http_response_cleanup(&x->resp);
    free(x->body);
    free(x->auth);
    free(x->path);
    json_decref(x->json);
    exchange_init(x);
}

/* Copies s into a new string, or returns NULL (also for NULL). */
static char *dup_str(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* Sends what x->req describes and parses a plain answer. */
static void send_prepared(struct conform *c, struct exchange *x,
                          const struct http_sink *sink)
{
    http_response_cleanup(&x->resp);
    conform_request(c, &x->req, &x->resp, sink);
    if (!x->req.stream && x->resp.ts == TRANSPORT_OK)
        x->json =
            shape_parse(x->resp.body.data, x->resp.body.len, x->json_error,
                        sizeof(x->json_error), &x->json_error_offset);
}

/* Fills the request fields shared by both ways of sending. */
static void prepare(struct exchange *x, const char *method, const char *path,
                    const char *authorization)
{
    exchange_cleanup(x);
    x->path = dup_str(path);
    x->auth = dup_str(authorization);
    x->req.method = method;
    x->req.path = x->path != NULL ? x->path : "";
    x->req.authorization = x->auth;
}

/* Sends method path with the given Authorization value (NULL: none) and body
 * (stolen; NULL: none; serialised compactly), then parses the answer as JSON
 * unless it is a stream. */
void exchange_send(struct conform *c, struct exchange *x, const char *method,
                   const char *path, const char *authorization, json_t *body,
                   const struct http_sink *sink, bool stream)
{
    prepare(x, method, path, authorization);
    if (body != NULL) {
        x->body = jsonio_dumps(body, JSON_COMPACT);
        x->req.body = x->body;
        x->req.body_len = x->body != NULL ? strlen(x->body) : 0;
        json_decref(body);
    }
    x->req.stream = stream;
    send_prepared(c, x, sink);
}

/* Like exchange_send with a raw body (for malformed JSON). */
void exchange_send_raw(struct conform *c, struct exchange *x,
                       const char *method, const char *path,
                       const char *authorization, const char *raw)
{
    prepare(x, method, path, authorization);
    x->body = dup_str(raw);
    x->req.body = x->body;
    x->req.body_len = x->body != NULL ? strlen(x->body) : 0;
    send_prepared(c, x, NULL);
}

/* Sends body as a stream through log's sink (none when the log could not
 * be made: the bytes are still kept). */
void exchange_send_stream(struct conform *c, struct exchange *x, json_t *body,
                          struct stream_log *log)
{
    struct http_sink sink;

    stream_log_init(log, EXCHANGE_EVENT_MAX,
                    conform_options(c)->done_grace_s * 1000.0);
    sink = stream_log_sink(log);
    exchange_send(c, x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key), body,
                  log->parser != NULL ? &sink : NULL, true);
    stream_log_finish(log);
}

/* Evidence of the exchange with the excerpt around focus. */
json_t *exchange_evidence(const struct exchange *x, size_t focus)
{
    return evidence_new(&x->req, &x->resp, focus);
}

/* True when a complete HTTP response with that status came back. */
bool exchange_status_is(const struct exchange *x, long status)
{
    return x->resp.ts == TRANSPORT_OK && x->resp.status == status;
}

/* What the clients measured do when they get status got where want was
 * due (docs/client-impact.md: params-422, notfound-chat-model). */
static enum impact_id status_impact(long want, long got)
{
    return want == 400 && got == 422   ? IMPACT_PARAMS_422
           : want == 404 && got == 400 ? IMPACT_NOTFOUND_400
           : want == 401               ? IMPACT_AUTH_STATUS
                                       : IMPACT_NONE;
}

/* Records d's verdict on an answer that should be an error. */
bool exchange_expect_refusal(struct conform *c, const struct check_def *d,
                             const struct exchange *x,
                             const struct refusal *want)
{
    bool ret = false;
    char why[256];
    enum impact_id impact;
    long st = x->resp.status;

    if (x->resp.ts != TRANSPORT_OK || st == 0) {
        /* No answer to judge: the check could not run, whatever its
         * level. */
        conform_fail(c, d, exchange_evidence(x, EVIDENCE_NO_FOCUS),
                     "expected HTTP %ld, got %s, so the check could not run",
                     want->status, conform_describe(c, &x->resp));
        goto out;
    }
    if (st >= 200 && st < 300) {
        conform_finding(c, d, want->accepted, &want->impact, 1,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "expected HTTP %ld, got HTTP %ld: the request was "
                        "served",
                        want->status, st);
        goto out;
    }
    if (st != want->status) {
        impact = status_impact(want->status, st);
        conform_finding(c, d, FINDING_BREAK, &impact, 1,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "expected HTTP %ld, got %s", want->status,
                        conform_describe(c, &x->resp));
        goto out;
    }
    ret = true;
    if (x->json == NULL) {
        conform_finding(c, d, FINDING_SPEC, NULL, 0,
                        exchange_evidence(x, x->json_error_offset),
                        "HTTP %ld, but the error body is %s", st,
                        x->json_error);
        goto out;
    }
    if (!shape_error_body(x->json, why, sizeof(why))) {
        conform_finding(c, d, FINDING_SPEC, NULL, 0,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "HTTP %ld, but not the OpenAI error body: %s", st, why);
        goto out;
    }
    conform_pass(c, d, exchange_evidence(x, EVIDENCE_NO_FOCUS),
                 "HTTP %ld with the error body (type %s)", st,
                 shape_error_field(x->json, "type"));
out:
    return ret;
}

/* True when the answer's body is the OpenAI error body. */
bool exchange_has_error_body(const struct exchange *x)
{
    char why[256];

    return x->json != NULL && shape_error_body(x->json, why, sizeof(why));
}

/* exchange_expect_refusal with a 2xx breaking the contract. */
bool exchange_expect_error(struct conform *c, const struct check_def *d,
                           const struct exchange *x, long status)
{
    struct refusal want = {status, FINDING_BREAK, d->impact};

    return exchange_expect_refusal(c, d, x, &want);
}

/* Returns {"model":model,"messages":[{"role":"user","content":text}]} plus,
 * when max_tokens > 0, "max_tokens". */
json_t *chat_body(const char *model, const char *text, long max_tokens)
{
    json_t *body = json_pack("{s:s, s:[{s:s, s:s}]}", "model", model,
                             "messages", "role", "user", "content", text);

    if (body != NULL && max_tokens > 0 &&
        json_object_set_new(body, "max_tokens", json_integer(max_tokens)) !=
            0) {
        json_decref(body);
        body = NULL;
    }
    return body;
}

/* Appends "/models/" and the percent-encoded id to out, so that ids with '/'
 * or ':' stay one path segment. */
int models_path(const char *id, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)id;
    char esc[3];
    int err = buf_appends(out, "/models/");

    for (; *p != '\0' && err == 0; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
            *p == '~') {
            err = buf_append(out, p, 1);
        } else {
            esc[0] = '%';
            esc[1] = hex[*p >> 4];
            esc[2] = hex[*p & 15];
            err = buf_append(out, esc, 3);
        }
    }
    return err;
}
