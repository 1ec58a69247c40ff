/* evidence: the request and an excerpt of the response that a check's
 * verdict rests on, as JSON for the reports. */
#include "evidence.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "utf8.h"

/* Enough to show the shape of a body without bloating a report. */
#define EXCERPT_BYTES 2048
#define REQUEST_BYTES 2048

/* Returns the offset of the first byte that does not begin a valid UTF-8
 * sequence, or EVIDENCE_NO_FOCUS when all of bytes is UTF-8. */
size_t evidence_utf8_error(const char *bytes, size_t len)
{
    size_t valid = utf8_valid_prefix(bytes, len);

    return valid < len ? valid : EVIDENCE_NO_FOCUS;
}

/* Returns a JSON string showing bytes[0..len) readably: invalid UTF-8 and
 * control bytes other than TAB, LF and CR become the text \xNN, so that the
 * offending bytes stay visible in every report. */
json_t *evidence_bytes(const char *bytes, size_t len)
{
    const unsigned char *s = (const unsigned char *)bytes;
    json_t *str = NULL;
    struct buf b;
    size_t i = 0, n;
    bool ok = true;

    /* Escaping makes at most four bytes of one. */
    buf_init(&b, len * 4 + 16);
    while (i < len && ok) {
        n = utf8_seq_len(s + i, len - i);
        if (n == 0 ||
            (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') ||
            s[i] == 0x7f) {
            ok = buf_appendf(&b, "\\x%02x", s[i]) == 0;
            i++;
        } else {
            ok = buf_append(&b, s + i, n) == 0;
            i += n;
        }
    }
    if (ok)
        str = json_stringn(buf_str(&b), b.len);
    buf_cleanup(&b);
    return str;
}

/* Returns the excerpt of at most window bytes around focus, marked with
 * "..." where cut. */
json_t *evidence_excerpt(const char *bytes, size_t len, size_t focus,
                         size_t window)
{
    size_t mark;

    return evidence_excerpt_marked(bytes, len, focus, window, &mark);
}

/* The excerpt, and where byte focus begins in its text. */
json_t *evidence_excerpt_marked(const char *bytes, size_t len, size_t focus,
                                size_t window, size_t *mark)
{
    size_t from = 0, to = len;
    json_t *mid = NULL, *out = NULL, *before = NULL;
    struct buf b;

    buf_init(&b, window * 4 + 32);
    if (len > window) {
        if (focus != EVIDENCE_NO_FOCUS && focus < len)
            from = focus > window / 4 ? focus - window / 4 : 0;
        to = from + window < len ? from + window : len;
        /* Do not start or end inside a UTF-8 sequence. */
        while (from > 0 && ((unsigned char)bytes[from] & 0xc0) == 0x80)
            from--;
        while (to < len && ((unsigned char)bytes[to] & 0xc0) == 0x80)
            to++;
    }
    *mark = EVIDENCE_NO_FOCUS;
    mid = evidence_bytes(bytes + from, to - from);
    if (mid == NULL)
        goto out;
    /* The escaped text of the bytes before focus is as long as the part of
     * the excerpt that comes before it. */
    if (focus != EVIDENCE_NO_FOCUS && focus >= from && focus < to) {
        before = evidence_bytes(bytes + from, focus - from);
        if (before != NULL)
            *mark = (from > 0 ? 3 : 0) + json_string_length(before);
    }
    if (from == 0 && to == len) {
        out = mid;
        mid = NULL;
        goto out;
    }
    if ((from > 0 && buf_appends(&b, "...") != 0) ||
        buf_appends(&b, json_string_value(mid)) != 0 ||
        (to < len && buf_appends(&b, "...") != 0))
        goto out;
    out = json_stringn(buf_str(&b), b.len);
out:
    json_decref(mid);
    json_decref(before);
    buf_cleanup(&b);
    return out;
}

/* Writes into out (size n) the Authorization value with the key hidden: the
 * scheme and the key's first four characters stay. */
void evidence_redact(const char *authorization, char *out, size_t n)
{
    const char *sp = strchr(authorization, ' ');
    const char *key = sp != NULL ? sp + 1 : authorization;
    int scheme = sp != NULL ? (int)(sp - authorization) : 0;

    if (scheme > 32)
        scheme = 32;
    snprintf(out, n, "%.*s%s%.4s...(redacted)", scheme, authorization,
             sp != NULL ? " " : "", key);
}

/* Sets ev[key] = value (stolen, even on failure); ev may be NULL. */
void evidence_set(json_t *ev, const char *key, json_t *value)
{
    if (ev == NULL || json_object_set_new(ev, key, value) != 0)
        json_decref(ev == NULL ? value : NULL);
}

/* Returns the response headers as an object; repeated names are joined
 * with ", " as HTTP allows. New reference. */
static json_t *headers_json(const struct http_response *resp)
{
    json_t *o = json_object(), *v;
    const struct http_header *h = resp->headers;
    struct buf joined;
    size_t i, k, need;
    bool ok;

    for (i = 0; o != NULL && i < resp->n_headers; i++) {
        if (json_object_get(o, h[i].name) != NULL)
            continue; /* joined where the name came first */
        /* Sized to the values joined, so that none is ever cut. */
        need = 0;
        for (k = i; k < resp->n_headers; k++)
            if (strcmp(h[k].name, h[i].name) == 0)
                need += strlen(h[k].value) + 2;
        buf_init(&joined, need);
        ok = true;
        for (k = i; k < resp->n_headers && ok; k++)
            if (strcmp(h[k].name, h[i].name) == 0)
                ok = (k == i || buf_appends(&joined, ", ") == 0) &&
                     buf_appends(&joined, h[k].value) == 0;
        v = ok ? evidence_bytes(buf_str(&joined), joined.len) : NULL;
        if (v != NULL)
            json_object_set_new(o, h[i].name, v);
        buf_cleanup(&joined);
    }
    return o;
}

/* Returns what was sent, with the key redacted. New reference. */
static json_t *request_json(const struct http_request *req,
                            const struct http_response *resp)
{
    json_t *o = json_object(), *h = json_object();
    char auth[128];

    if (o == NULL || h == NULL)
        goto out;
    json_object_set_new(o, "method", json_string(req->method));
    if (resp != NULL && resp->url != NULL)
        evidence_set(o, "url", evidence_bytes(resp->url, strlen(resp->url)));
    else
        evidence_set(o, "path", evidence_bytes(req->path, strlen(req->path)));
    if (req->authorization != NULL) {
        evidence_redact(req->authorization, auth, sizeof(auth));
        evidence_set(h, "Authorization", evidence_bytes(auth, strlen(auth)));
    }
    if (req->body != NULL)
        json_object_set_new(h, "Content-Type", json_string("application/json"));
    json_object_set_new(o, "headers", h);
    h = NULL;
    if (req->body != NULL)
        evidence_set(o, "body",
                     evidence_excerpt(req->body, req->body_len,
                                      EVIDENCE_NO_FOCUS, REQUEST_BYTES));
out:
    json_decref(h);
    return o;
}

/* Returns what came back, the excerpt centred on focus. New reference. */
static json_t *response_json(const struct http_response *resp, size_t focus)
{
    json_t *ret;
    json_t *o = json_object();
    size_t mark;

    if (o == NULL) {
        ret = NULL;
        goto out;
    }
    if (resp->ts != TRANSPORT_OK) {
        json_object_set_new(o, "transport",
                            json_string(transport_status_name(resp->ts)));
        evidence_set(o, "error",
                     evidence_bytes(resp->error, strlen(resp->error)));
    }
    if (resp->ts == TRANSPORT_SKIPPED || resp->ts == TRANSPORT_UNREACHABLE) {
        ret = o;
        goto out;
    }
    json_object_set_new(o, "status", json_integer(resp->status));
    json_object_set_new(o, "elapsed_ms", json_real(resp->elapsed_ms));
    json_object_set_new(o, "headers", headers_json(resp));
    json_object_set_new(o, "body_bytes",
                        json_integer((json_int_t)resp->body.len));
    evidence_set(
        o, "body",
        evidence_excerpt_marked(resp->body.data != NULL ? resp->body.data : "",
                                resp->body.len, focus, EXCERPT_BYTES, &mark));
    if (focus != EVIDENCE_NO_FOCUS)
        json_object_set_new(o, "offending_offset",
                            json_integer((json_int_t)focus));
    if (mark != EVIDENCE_NO_FOCUS)
        json_object_set_new(o, "offending_at", json_integer((json_int_t)mark));
    ret = o;
out:
    return ret;
}

/* Returns {"request":{...},"response":{...}} for one exchange, with the body
 * excerpt centred on byte focus (or EVIDENCE_NO_FOCUS). */
json_t *evidence_new(const struct http_request *req,
                     const struct http_response *resp, size_t focus)
{
    json_t *ret;
    json_t *ev = json_object();

    if (ev == NULL) {
        ret = NULL;
        goto out;
    }
    if (req != NULL)
        evidence_set(ev, "request", request_json(req, resp));
    if (resp != NULL)
        evidence_set(ev, "response", response_json(resp, focus));
    ret = ev;
out:
    return ret;
}
