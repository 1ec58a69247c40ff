/* client: the libcurl transport, with timeouts, a size cap and the raw
 * bytes and headers kept for evidence. */
#include "client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct client {
    struct transport base; /* first, so a struct transport * is a client */
    CURL *curl;            /* one handle, so connections are reused */
    char *base_url;
    char *user_agent;
    double timeout_s;
    double stream_timeout_s;
};

/* The state of one exchange, shared by the libcurl callbacks. */
struct exchange {
    struct http_response *resp;
    const struct http_sink *sink;
    struct timespec start;
    double last_byte_ms; /* when bytes last arrived, for the idle limit */
    double idle_limit_ms;
    double limit_ms; /* the whole exchange: --timeout or --stream-timeout */
    bool stream;
    bool idle;
    bool expired;
    bool too_big;
    bool stopped;
    bool bad_headers;
};

/* Milliseconds since start on the monotonic clock. */
static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1000.0 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Keeps the body (up to its cap) and hands it to the sink as it arrives;
 * returning less than asked makes libcurl abort the transfer. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    size_t ret;
    struct exchange *x = ud;
    size_t n = size * nmemb;

    x->last_byte_ms = elapsed_ms(&x->start);
    if (buf_append(&x->resp->body, ptr, n) != 0) {
        x->too_big = true;
        ret = 0;
        goto out;
    }
    if (x->sink != NULL && x->sink->data != NULL &&
        x->sink->data(x->sink->ud, ptr, n, x->last_byte_ms) != 0) {
        x->stopped = true;
        ret = 0;
        goto out;
    }
    ret = n;
out:
    return ret;
}

/* Drops the headers gathered so far: a new status line (after a 1xx
 * response) starts a new header block. */
static void forget_headers(struct http_response *r)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->n_headers = 0;
}

/* Records one header line; values are trimmed of surrounding blanks the
 * way HTTP says they are not part of the value. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    size_t ret;
    struct exchange *x = ud;
    size_t n = size * nmemb, name_len, v0, v1;
    const char *colon;

    x->last_byte_ms = elapsed_ms(&x->start);
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        forget_headers(x->resp);
        ret = n;
        goto out;
    }
    colon = memchr(ptr, ':', n);
    if (colon == NULL) {
        ret = n; /* the blank line that ends the block, or junk */
        goto out;
    }
    name_len = (size_t)(colon - ptr);
    v0 = name_len + 1;
    v1 = n;
    while (v0 < v1 && (ptr[v0] == ' ' || ptr[v0] == '\t'))
        v0++;
    while (v1 > v0 && (ptr[v1 - 1] == '\r' || ptr[v1 - 1] == '\n' ||
                       ptr[v1 - 1] == ' ' || ptr[v1 - 1] == '\t'))
        v1--;
    if (http_response_add_header(x->resp, ptr, name_len, ptr + v0, v1 - v0) !=
        0) {
        x->bad_headers = true;
        ret = 0;
        goto out;
    }
    ret = n;
out:
    return ret;
}

/* Gives the sink its tick while libcurl waits, so a stream can be ended
 * from outside (for instance when a server holds it open after [DONE]),
 * then ends an exchange that has been silent or has lasted too long,
 * unless the sink has its whole body: after that only its grace counts. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    int ret;
    struct exchange *x = ud;
    double now = elapsed_ms(&x->start);
    enum sink_state st = SINK_READING;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (x->sink != NULL && x->sink->tick != NULL)
        st = x->sink->tick(x->sink->ud, now);
    if (st == SINK_STOP) {
        x->stopped = true;
        ret = 1;
        goto out;
    }
    if (st == SINK_READING && now - x->last_byte_ms > x->idle_limit_ms) {
        x->idle = true;
        ret = 1;
        goto out;
    }
    if (st == SINK_READING && now > x->limit_ms) {
        x->expired = true;
        ret = 1;
        goto out;
    }
    ret = 0;
out:
    return ret;
}

/* Maps libcurl's verdict onto the transport's, keeping curl's words. */
static void classify(struct exchange *x, CURLcode rc, const char *errbuf)
{
    struct http_response *r = x->resp;
    const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);

    if (rc == CURLE_OK)
        return;
    if (x->idle) {
        http_response_fail(r, TRANSPORT_TIMEOUT,
                           "no byte for %.0f ms (the --timeout silence limit)",
                           x->idle_limit_ms);
    } else if (x->expired) {
        http_response_fail(r, TRANSPORT_TIMEOUT,
                           "no complete answer within %.0f ms (the --%s "
                           "limit)",
                           x->limit_ms,
                           x->stream ? "stream-timeout" : "timeout");
    } else if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        http_response_fail(r, TRANSPORT_TOO_BIG,
                           "the response passed the cap of %zu bytes",
                           r->body.max);
    } else if (x->stopped) {
        http_response_fail(r, TRANSPORT_STOPPED, "stopped by the runner");
    } else if (x->bad_headers) {
        http_response_fail(r, TRANSPORT_BROKEN,
                           "the response headers passed the runner's limits");
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        http_response_fail(r, TRANSPORT_TIMEOUT, "%s", why);
    } else if (rc == CURLE_COULDNT_CONNECT ||
               rc == CURLE_COULDNT_RESOLVE_HOST ||
               rc == CURLE_COULDNT_RESOLVE_PROXY ||
               rc == CURLE_SSL_CONNECT_ERROR ||
               rc == CURLE_PEER_FAILED_VERIFICATION ||
               rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
        http_response_fail(r, TRANSPORT_UNREACHABLE, "%s", why);
    } else {
        http_response_fail(r, TRANSPORT_BROKEN, "%s", why);
    }
}

/* Sets the options of one request on the reused handle. */
static int configure(struct client *c, const struct http_request *req,
                     struct exchange *x, struct curl_slist *hdrs, char *errbuf)
{
    CURL *h = c->curl;
    int rc = 0;

    curl_easy_reset(h);
    rc |= (int)curl_easy_setopt(h, CURLOPT_URL, x->resp->url);
    rc |= (int)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    rc |= (int)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    rc |= (int)curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    rc |= (int)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    rc |= (int)curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    /* A hostile server may answer with bytes that are not HTTP at all;
     * accepting them as a body keeps them for the evidence. */
    rc |= (int)curl_easy_setopt(h, CURLOPT_HTTP09_ALLOWED, 1L);
    /* With a ticking sink on_progress keeps the limit, since the sink may
     * lift it once its body is whole; libcurl's own would still apply. */
    if (x->sink == NULL || x->sink->tick == NULL)
        rc |= (int)curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)x->limit_ms);
    rc |= (int)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                                (long)(c->timeout_s * 1000.0));
    rc |= (int)curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                                (curl_off_t)x->resp->body.max);
    rc |= (int)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    rc |= (int)curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    rc |= (int)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    rc |= (int)curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    rc |= (int)curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    rc |= (int)curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    rc |= (int)curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (strcmp(req->method, "POST") == 0) {
        rc |= (int)curl_easy_setopt(h, CURLOPT_POST, 1L);
        rc |= (int)curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                                    req->body != NULL ? req->body : "");
        rc |= (int)curl_easy_setopt(
            h, CURLOPT_POSTFIELDSIZE_LARGE,
            (curl_off_t)(req->body != NULL ? req->body_len : 0));
    } else if (strcmp(req->method, "GET") == 0) {
        rc |= (int)curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        rc |= (int)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    return rc == 0 ? 0 : -1;
}

/* Builds the request headers: the ones every official SDK sends. */
static struct curl_slist *request_headers(const struct http_request *req)
{
    struct curl_slist *l = NULL, *next;
    struct buf auth;
    bool ok = true;

    buf_init(&auth, TRANSPORT_AUTH_MAX + 32);
    next = curl_slist_append(l, "Accept: application/json");
    ok = ok && next != NULL;
    l = next != NULL ? next : l;
    /* An empty Expect: stops libcurl from waiting for 100-continue. */
    next = curl_slist_append(l, "Expect:");
    ok = ok && next != NULL;
    l = next != NULL ? next : l;
    if (req->body != NULL) {
        next = curl_slist_append(l, "Content-Type: application/json");
        ok = ok && next != NULL;
        l = next != NULL ? next : l;
    }
    if (req->authorization != NULL) {
        ok = ok &&
             buf_appendf(&auth, "Authorization: %s", req->authorization) == 0;
        next = ok ? curl_slist_append(l, buf_str(&auth)) : NULL;
        ok = ok && next != NULL;
        l = next != NULL ? next : l;
    }
    buf_cleanup(&auth);
    if (!ok) {
        curl_slist_free_all(l);
        l = NULL;
    }
    return l;
}

/* Performs one exchange with libcurl (see struct transport). */
static int client_perform(struct transport *t, const struct http_request *req,
                          struct http_response *resp,
                          const struct http_sink *sink)
{
    struct client *c = (struct client *)t;
    struct exchange x = {
        .resp = resp,
        .sink = sink,
        .idle_limit_ms = c->timeout_s * 1000.0,
        .limit_ms = (req->stream ? c->stream_timeout_s : c->timeout_s) * 1000.0,
        .stream = req->stream};
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct buf url;
    CURLcode rc;
    long status = 0;
    int err = -1;

    buf_init(&url, 8192);
    clock_gettime(CLOCK_MONOTONIC, &x.start);
    if (buf_appends(&url, c->base_url) != 0 ||
        buf_appends(&url, req->path) != 0) {
        http_response_fail(resp, TRANSPORT_BROKEN, "URL too long");
        goto out;
    }
    free(resp->url);
    resp->url = buf_take(&url, NULL);
    hdrs = request_headers(req);
    if (resp->url == NULL || hdrs == NULL ||
        configure(c, req, &x, hdrs, errbuf) != 0) {
        http_response_fail(resp, TRANSPORT_BROKEN, "out of memory");
        goto out;
    }
    rc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    classify(&x, rc, errbuf);
    err = 0;
out:
    resp->elapsed_ms = elapsed_ms(&x.start);
    curl_slist_free_all(hdrs);
    buf_cleanup(&url);
    return err;
}

/* Frees the client and its libcurl handle. */
static void client_free(struct transport *t)
{
    struct client *c = (struct client *)t;

    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c->base_url);
    free(c->user_agent);
    free(c);
}

/* Returns a new transport over libcurl, or NULL with *cause set (free() it). */
struct transport *client_new(const struct client_config *cfg, char **cause)
{
    struct client *c = calloc(1, sizeof(*c));
    struct transport *t = NULL;
    size_t n;

    *cause = NULL;
    if (c == NULL)
        goto out;
    c->base.perform = client_perform;
    c->base.free = client_free;
    c->timeout_s = cfg->timeout_s;
    c->stream_timeout_s = cfg->stream_timeout_s;
    c->curl = curl_easy_init();
    c->base_url = strdup(cfg->base_url);
    c->user_agent = strdup(cfg->user_agent);
    if (c->curl == NULL || c->base_url == NULL || c->user_agent == NULL)
        goto out;
    /* The paths the runner asks for start with '/'. */
    n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/')
        c->base_url[--n] = '\0';
    t = &c->base;
    c = NULL;
out:
    if (t == NULL && *cause == NULL)
        *cause = strdup("cannot start libcurl (out of memory)");
    client_free(c != NULL ? &c->base : NULL);
    return t;
}
