/* server: libmicrohttpd glue: body intake, dispatch, response rendering and
 * the timer that resumes paced streams without holding a worker thread. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "router.h"
#include "sse.h"

/* Memory per connection for the request line and headers: twice the
 * library's default, room for any real client's headers, while thousands of
 * idle streams stay cheap (each connection holds this much). */
#define SERVER_HEADER_MEMORY (64u * 1024u)

/* Read-size hint for stream responses. */
#define STREAM_BLOCK 16384

struct stream_ctx;

/* Min-heap of streams waiting for their next event, ordered by due time. */
struct timer_heap {
    struct stream_ctx **items;
    size_t n, cap;
};

struct server {
    struct app *app;
    struct MHD_Daemon *daemon;
    unsigned port;
    pthread_t timer_thread;
    bool timer_started;
    pthread_mutex_t lock; /* guards heap, draining, stop_timer */
    pthread_cond_t cond;
    struct timer_heap heap;
    bool draining;
    bool stop_timer;
    atomic_uint inflight;
    atomic_uint_fast64_t next_id;
    uint64_t id_seed;
};

/* Per-request state, from the first callback to completion. */
struct conn_state {
    struct buf body;
    bool too_large;
    char request_id[40];
    char method[16];
    char path[256];
    int status;
    uint64_t start_ms;
};

/* A streamed response: the event source and the bytes not yet sent. */
struct stream_ctx {
    struct server *srv;
    struct MHD_Connection *conn;
    struct sse_stream *sse;
    struct buf pending;
    size_t off;
    uint64_t start; /* real ms when the response was queued */
    uint64_t due;   /* real ms at which the next event may go */
};

/* splitmix64: spreads a counter into well-mixed bits for request ids. */
static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Writes a fresh "req_" + 32 hex digits id. */
static void make_request_id(struct server *s, char *out, size_t outlen)
{
    uint64_t n = atomic_fetch_add(&s->next_id, 1);
    uint64_t a = mix64(s->id_seed ^ n), b = mix64(a ^ n);

    snprintf(out, outlen, "req_%016" PRIx64 "%016" PRIx64, a, b);
}

/* Heap helpers: swap, sift up, sift down. */
static void heap_swap(struct timer_heap *h, size_t i, size_t j)
{
    struct stream_ctx *t = h->items[i];

    h->items[i] = h->items[j];
    h->items[j] = t;
}

static int heap_push(struct timer_heap *h, struct stream_ctx *sc)
{
    size_t i;

    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 64;
        struct stream_ctx **p = realloc(h->items, ncap * sizeof(*p));

        if (p == NULL)
            return -1;
        h->items = p;
        h->cap = ncap;
    }
    i = h->n++;
    h->items[i] = sc;
    while (i > 0 && h->items[(i - 1) / 2]->due > h->items[i]->due) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static struct stream_ctx *heap_pop(struct timer_heap *h)
{
    struct stream_ctx *top;
    size_t i = 0;

    if (h->n == 0)
        return NULL;
    top = h->items[0];
    h->items[0] = h->items[--h->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < h->n && h->items[l]->due < h->items[m]->due)
            m = l;
        if (r < h->n && h->items[r]->due < h->items[m]->due)
            m = r;
        if (m == i)
            break;
        heap_swap(h, i, m);
        i = m;
    }
    return top;
}

/* Resumes streams as their waits end; everything at once when draining. */
static void *timer_main(void *arg)
{
    struct server *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stop_timer) {
        uint64_t now = clock_real_ms();

        if (s->heap.n > 0 && (s->draining || s->heap.items[0]->due <= now)) {
            struct stream_ctx *sc = heap_pop(&s->heap);

            MHD_resume_connection(sc->conn);
            continue;
        }
        if (s->heap.n == 0) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else {
            uint64_t due = s->heap.items[0]->due;
            struct timespec ts;

            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += (time_t)((due - now) / 1000);
            ts.tv_nsec += (long)((due - now) % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Parks the stream's connection until due; false if it must not wait. */
static bool stream_park(struct stream_ctx *sc)
{
    struct server *s = sc->srv;
    bool parked = false;

    pthread_mutex_lock(&s->lock);
    if (s->draining)
        goto out;
    MHD_suspend_connection(sc->conn);
    if (heap_push(&s->heap, sc) != 0) {
        MHD_resume_connection(sc->conn);
        goto out;
    }
    pthread_cond_signal(&s->cond);
    parked = true;
out:
    pthread_mutex_unlock(&s->lock);
    return parked;
}

/* Copies pending bytes into MHD's buffer. */
static ssize_t stream_copy(struct stream_ctx *sc, char *out, size_t max)
{
    size_t n = sc->pending.len - sc->off;

    if (n > max)
        n = max;
    memcpy(out, sc->pending.data + sc->off, n);
    sc->off += n;
    if (sc->off == sc->pending.len) {
        buf_reset(&sc->pending);
        sc->off = 0;
    }
    return (ssize_t)n;
}

/* MHD content reader: hands out one event at a time, suspending the
 * connection while the stream's pacing says to wait. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream_ctx *sc = cls;
    int rc;

    (void)pos;
    if (sc->off < sc->pending.len)
        return stream_copy(sc, out, max);
    sc->due = sc->start + sse_stream_due_ms(sc->sse);
    if (sc->due > clock_real_ms() && stream_park(sc))
        return 0;
    rc = sse_stream_next(sc->sse, &sc->pending);
    if (rc == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (rc < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return stream_copy(sc, out, max);
}

/* Frees a stream once MHD is done with its response. */
static void stream_free(void *cls)
{
    struct stream_ctx *sc = cls;

    sse_stream_free(sc->sse);
    buf_cleanup(&sc->pending);
    free(sc);
}

/* Hurries the stream if the server is shutting down, so it ends at once. */
static void stream_check_drain(struct stream_ctx *sc)
{
    bool draining;

    pthread_mutex_lock(&sc->srv->lock);
    draining = sc->srv->draining;
    pthread_mutex_unlock(&sc->srv->lock);
    if (draining)
        sse_stream_hurry(sc->sse);
}

/* MHD content reader wrapper that applies shutdown hurry first. */
static ssize_t stream_read_outer(void *cls, uint64_t pos, char *out, size_t max)
{
    stream_check_drain(cls);
    return stream_read(cls, pos, out, max);
}

/* Builds the MHD response for a stream; takes resp->stream. */
static struct MHD_Response *stream_response(struct server *s,
                                            struct MHD_Connection *conn,
                                            struct response *resp)
{
    struct stream_ctx *sc = calloc(1, sizeof(*sc));
    struct MHD_Response *r;

    if (sc == NULL)
        return NULL;
    sc->srv = s;
    sc->conn = conn;
    sc->sse = resp->stream;
    sc->start = clock_real_ms();
    buf_init(&sc->pending, (size_t)1 << 26);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                          stream_read_outer, sc, stream_free);
    if (r == NULL) {
        free(sc);
        return NULL;
    }
    resp->stream = NULL; /* the stream context owns it now */
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    return r;
}

/* Builds the MHD response for a JSON (or empty) body. */
static struct MHD_Response *json_response(const struct response *resp)
{
    struct MHD_Response *r;
    char *text;
    size_t len;

    if (resp->body == NULL)
        return MHD_create_response_from_buffer(0, (void *)"",
                                               MHD_RESPMEM_PERSISTENT);
    text = json_dumps(resp->body, JSON_COMPACT | resp->json_flags);
    if (text == NULL)
        return NULL;
    len = strlen(text);
    /* json_dumps leaves room for nothing more; add the newline by copy. */
    {
        char *full = realloc(text, len + 2);

        if (full == NULL) {
            free(text);
            return NULL;
        }
        full[len] = '\n';
        full[len + 1] = '\0';
        text = full;
    }
    r = MHD_create_response_from_buffer(len + 1, text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    return r;
}

/* Answers a CORS preflight so browser clients can call the mock. */
static enum MHD_Result answer_preflight(struct MHD_Connection *conn,
                                        struct conn_state *cs)
{
    const char *want = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, "Access-Control-Request-Headers");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Allow-Methods",
                            "GET, POST, OPTIONS");
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            want ? want : "Authorization, Content-Type");
    MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
    MHD_add_response_header(r, "x-request-id", cs->request_id);
    cs->status = MHD_HTTP_NO_CONTENT;
    ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return ret;
}

/* Routes the finished request and queues its response. */
static enum MHD_Result answer(struct server *s, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              struct conn_state *cs)
{
    struct request req;
    struct response resp;
    struct MHD_Response *r = NULL;
    struct api_error e;
    enum MHD_Result ret = MHD_NO;
    size_t i;

    if (strcmp(method, "OPTIONS") == 0)
        return answer_preflight(conn, cs);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = url;
    req.authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    req.body = cs->body.data;
    req.body_len = cs->body.len;
    req.body_too_large = cs->too_large;
    req.request_id = cs->request_id;
    response_init(&resp);
    router_dispatch(s->app, &req, &resp);
    if (resp.status >= 400 && resp.body == NULL) {
        /* An error whose body could not be built still gets one. */
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server could not build the error response.");
        response_error(&resp, &e);
    }
    if (resp.stream != NULL)
        r = stream_response(s, conn, &resp);
    else
        r = json_response(&resp);
    if (r == NULL) {
        /* Out of memory: answer a bare 500 rather than drop the client. */
        api_error_set(&e, API_ERR_SERVER, NULL, NULL, "Out of memory.");
        response_cleanup(&resp);
        response_init(&resp);
        response_error(&resp, &e);
        r = json_response(&resp);
        if (r == NULL)
            goto out;
    }
    for (i = 0; i < resp.nheaders; i++)
        MHD_add_response_header(r, resp.headers[i].name, resp.headers[i].value);
    MHD_add_response_header(r, "x-request-id", cs->request_id);
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Expose-Headers",
                            "x-request-id, retry-after, retry-after-ms, "
                            "x-ratelimit-limit-requests, "
                            "x-ratelimit-remaining-requests, "
                            "x-ratelimit-reset-requests, "
                            "x-ratelimit-limit-tokens, "
                            "x-ratelimit-remaining-tokens, "
                            "x-ratelimit-reset-tokens");
    cs->status = resp.status;
    ret = MHD_queue_response(conn, (unsigned)resp.status, r);
out:
    if (r != NULL)
        MHD_destroy_response(r);
    response_cleanup(&resp);
    return ret;
}

/* Is the declared Content-Length over the limit? */
static bool declared_too_large(struct MHD_Connection *conn, size_t max)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    char *end;
    unsigned long long v;

    if (cl == NULL)
        return false;
    errno = 0;
    v = strtoull(cl, &end, 10);
    return errno == ERANGE || (end != cl && v > max);
}

/* MHD access handler: accumulates the body under its cap, then answers. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct server *s = cls;
    struct conn_state *cs = *con_cls;

    (void)version;
    if (cs == NULL) {
        cs = calloc(1, sizeof(*cs));
        if (cs == NULL)
            return MHD_NO;
        buf_init(&cs->body, s->app->max_body);
        make_request_id(s, cs->request_id, sizeof(cs->request_id));
        snprintf(cs->method, sizeof(cs->method), "%s", method);
        snprintf(cs->path, sizeof(cs->path), "%s", url);
        cs->start_ms = clock_real_ms();
        atomic_fetch_add(&s->inflight, 1);
        *con_cls = cs;
        /* A body declared too large is refused before it is read. */
        if (declared_too_large(conn, s->app->max_body)) {
            cs->too_large = true;
            return answer(s, conn, url, method, cs);
        }
        return MHD_YES;
    }
    if (*data_size > 0) {
        if (!cs->too_large && buf_append(&cs->body, data, *data_size) != 0)
            cs->too_large = true;
        *data_size = 0;
        return MHD_YES;
    }
    if (cs->status != 0)
        return MHD_YES; /* already answered (413 before the body) */
    return answer(s, conn, url, method, cs);
}

/* MHD completion hook: logs the request and frees its state. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct conn_state *cs = *con_cls;

    (void)conn;
    if (cs == NULL)
        return;
    log_request(s->app->log, cs->request_id, cs->method, cs->path,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? cs->status
                : cs->status                               ? cs->status
                                                           : 499,
                (double)(clock_real_ms() - cs->start_ms));
    buf_cleanup(&cs->body);
    atomic_fetch_sub(&s->inflight, 1);
    free(cs);
    *con_cls = NULL;
}

/* Resolves host into a socket address for MHD. Returns 0 or -1. */
static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss,
                   char *cause, size_t causelen)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(portstr, sizeof(portstr), "%u", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(cause, causelen, "cannot resolve host '%s': %s", host,
                 gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int server_start(struct app *app, const struct server_config *cfg,
                 struct server **out, char *cause, size_t causelen)
{
    struct server *s = calloc(1, sizeof(*s));
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;

    if (s == NULL) {
        snprintf(cause, causelen, "out of memory");
        return -1;
    }
    s->app = app;
    pthread_mutex_init(&s->lock, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    atomic_init(&s->inflight, 0);
    atomic_init(&s->next_id, 1);
    if (getrandom(&s->id_seed, sizeof(s->id_seed), 0) !=
        (ssize_t)sizeof(s->id_seed))
        s->id_seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
    if (resolve(cfg->host, cfg->port, &ss, cause, causelen) != 0)
        goto fail;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (pthread_create(&s->timer_thread, NULL, timer_main, s) != 0) {
        snprintf(cause, causelen, "cannot start the timer thread");
        goto fail;
    }
    s->timer_started = true;
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_HEADER_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(cause, causelen, "cannot listen on %s port %u: %s", cfg->host,
                 cfg->port, errno ? strerror(errno) : "libmicrohttpd refused");
        goto fail;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return 0;
fail:
    server_stop(s, 0);
    return -1;
}

unsigned server_port(const struct server *s)
{
    return s->port;
}

unsigned server_stop(struct server *s, unsigned grace_ms)
{
    unsigned left = 0;
    uint64_t deadline;
    MHD_socket lsock;

    if (s == NULL)
        return 0;
    if (s->daemon != NULL) {
        lsock = MHD_quiesce_daemon(s->daemon);
        if (lsock != MHD_INVALID_SOCKET)
            close(lsock);
    }
    pthread_mutex_lock(&s->lock);
    s->draining = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    deadline = clock_real_ms() + grace_ms;
    while ((left = atomic_load(&s->inflight)) > 0 &&
           clock_real_ms() < deadline) {
        struct timespec ts = {0, 5 * 1000000L};

        nanosleep(&ts, NULL);
    }
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon);
    if (s->timer_started) {
        pthread_mutex_lock(&s->lock);
        s->stop_timer = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->timer_thread, NULL);
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->heap.items);
    free(s);
    return left;
}
