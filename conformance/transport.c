/* transport: response bookkeeping shared by every transport implementation. */
#include "transport.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A server that sends more headers than this is hostile, not informative. */
#define MAX_HEADERS 200
#define MAX_HEADER_BYTES 8192

/* Prepares an empty response whose body keeps at most max_body bytes. */
void http_response_init(struct http_response *r, size_t max_body)
{
    memset(r, 0, sizeof(*r));
    r->ts = TRANSPORT_OK;
    buf_init(&r->body, max_body);
}

/* Frees what the response holds; it is empty afterwards. */
void http_response_cleanup(struct http_response *r)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->n_headers = 0;
    buf_cleanup(&r->body);
    free(r->url);
    r->url = NULL;
}

/* Copies len bytes into a fresh NUL-terminated string. */
static char *copy_bytes(const char *s, size_t len)
{
    char *p = malloc(len + 1);

    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* Appends a header (copied). */
int http_response_add_header(struct http_response *r, const char *name,
                             size_t name_len, const char *value,
                             size_t value_len)
{
    int err = -1;
    struct http_header *grown;
    char *n = NULL, *v = NULL;

    if (r->n_headers >= MAX_HEADERS || name_len > MAX_HEADER_BYTES ||
        value_len > MAX_HEADER_BYTES)
        goto out;
    n = copy_bytes(name, name_len);
    v = copy_bytes(value, value_len);
    grown = realloc(r->headers, (r->n_headers + 1) * sizeof(*grown));
    if (n == NULL || v == NULL || grown == NULL)
        goto out;
    r->headers = grown;
    r->headers[r->n_headers].name = n;
    r->headers[r->n_headers].value = v;
    r->n_headers++;
    n = NULL; /* the response owns them now */
    v = NULL;
    err = 0;
out:
    free(n);
    free(v);
    return err;
}

/* Returns the value of the first header called name (any case), or NULL. */
const char *http_response_header(const struct http_response *r,
                                 const char *name)
{
    const char *found = NULL;
    size_t i;

    for (i = 0; i < r->n_headers && found == NULL; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            found = r->headers[i].value;
    return found;
}

/* Records a transport failure with a message. */
void http_response_fail(struct http_response *r, enum transport_status ts,
                        const char *fmt, ...)
{
    va_list ap;

    r->ts = ts;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
}

/* A short name for ts, such as "timeout". */
const char *transport_status_name(enum transport_status ts)
{
    static const char *const names[] = {
        [TRANSPORT_OK] = "ok",
        [TRANSPORT_UNREACHABLE] = "unreachable",
        [TRANSPORT_TIMEOUT] = "timeout",
        [TRANSPORT_TOO_BIG] = "too-big",
        [TRANSPORT_STOPPED] = "stopped",
        [TRANSPORT_BROKEN] = "broken",
        [TRANSPORT_SKIPPED] = "not-sent",
    };

    return (unsigned)ts < sizeof(names) / sizeof(names[0]) ? names[ts]
                                                           : "unknown";
}

/* Performs req through t (see struct transport). */
int transport_perform(struct transport *t, const struct http_request *req,
                      struct http_response *resp, const struct http_sink *sink)
{
    return t->perform(t, req, resp, sink);
}

/* Frees t; NULL is a no-op. */
void transport_free(struct transport *t)
{
    if (t != NULL)
        t->free(t);
}
